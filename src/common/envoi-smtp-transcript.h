/* envoi-smtp-transcript.h: the SMTP dialogue as a person may see it, credentials removed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-smtp-error.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_SMTP_TRANSCRIPT (envoi_smtp_transcript_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiSmtpTranscript, envoi_smtp_transcript, ENVOI, SMTP_TRANSCRIPT, GObject)

typedef enum
{
  ENVOI_SMTP_TRANSCRIPT_INFO,    /* a note from the client ("* Connected to …") */
  ENVOI_SMTP_TRANSCRIPT_CLIENT,  /* command lines we sent ("C: …") */
  ENVOI_SMTP_TRANSCRIPT_SERVER,  /* reply lines we received ("S: …") */
} EnvoiSmtpTranscriptKind;

/* The transcript removes, from every line it records: the whole of any AUTH exchange after
 * the mechanism name, and each of @login and @secret in plain, base64 (at any alignment) and
 * URL-encoded form. It also follows the dialogue: the current stage, the last reply (QUIT and
 * its reply aside: they never tell how things went), and what the server offered in its last
 * EHLO reply. All functions are thread-safe. */
EnvoiSmtpTranscript *envoi_smtp_transcript_new               (const char              *login,
                                                              const char              *secret);
void                 envoi_smtp_transcript_add               (EnvoiSmtpTranscript     *self,
                                                              EnvoiSmtpTranscriptKind  kind,
                                                              const char              *data,
                                                              gsize                    length);
char                *envoi_smtp_transcript_redact            (EnvoiSmtpTranscript     *self,
                                                              const char              *text);
char                *envoi_smtp_transcript_dup_text          (EnvoiSmtpTranscript     *self);
EnvoiSmtpStage       envoi_smtp_transcript_get_stage         (EnvoiSmtpTranscript     *self);
char                *envoi_smtp_transcript_dup_last_reply    (EnvoiSmtpTranscript     *self);
char                *envoi_smtp_transcript_dup_greeting      (EnvoiSmtpTranscript     *self);
char               **envoi_smtp_transcript_dup_capabilities  (EnvoiSmtpTranscript     *self);
gboolean             envoi_smtp_transcript_get_starttls_offered (EnvoiSmtpTranscript  *self);

G_END_DECLS

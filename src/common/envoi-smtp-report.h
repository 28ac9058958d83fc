/* envoi-smtp-report.h: what one SMTP operation saw, success or failure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-smtp-transcript.h"

G_BEGIN_DECLS

/* What one operation (a test or a send) saw, success or failure: an immutable value. */
typedef struct _EnvoiSmtpReport EnvoiSmtpReport;

#define ENVOI_TYPE_SMTP_REPORT (envoi_smtp_report_get_type ())

GType               envoi_smtp_report_get_type                (void) G_GNUC_CONST;
EnvoiSmtpReport    *envoi_smtp_report_ref                     (EnvoiSmtpReport *self);
void                envoi_smtp_report_unref                   (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_transcript          (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_greeting            (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_last_reply          (EnvoiSmtpReport *self);
const char * const *envoi_smtp_report_get_capabilities        (EnvoiSmtpReport *self);
const char * const *envoi_smtp_report_get_auth_mechanisms     (EnvoiSmtpReport *self);
guint64             envoi_smtp_report_get_size_limit          (EnvoiSmtpReport *self);
gboolean            envoi_smtp_report_get_starttls_offered    (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_pin     (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_subject (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_issuer  (EnvoiSmtpReport *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiSmtpReport, envoi_smtp_report_unref)

/* For EnvoiSmtpClient: what @transcript saw, and the certificate it read, if any. */
EnvoiSmtpReport    *_envoi_smtp_report_new                    (EnvoiSmtpTranscript *transcript,
                                                               const char          *certificate_pin,
                                                               const char          *certificate_subject,
                                                               const char          *certificate_issuer);

G_END_DECLS

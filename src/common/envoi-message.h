/* envoi-message.h: building messages (with GMime) and preparing them for SMTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

struct _GMimeMessage;

void     envoi_message_init                (void);
char    *envoi_message_make_message_id     (const char    *sender_address);
GBytes  *envoi_message_build               (EnvoiAccount        *account,
                                            const char * const  *to,
                                            const char          *subject,
                                            const char          *body,
                                            GError             **error);
GBytes  *envoi_message_build_test          (EnvoiAccount  *account,
                                            const char    *recipient,
                                            GError       **error);
GBytes  *envoi_message_normalize_crlf      (GBytes        *message);

/* Prepares a submitted message for the spool: parses it (GMime), adds Date and Message-ID when
 * missing, adds From when missing (from @envelope_from and @full_name), removes Bcc, and collects
 * the recipients from To, Cc and Bcc when @extract_recipients. Returns the bytes to transmit. */
GBytes  *envoi_message_prepare             (GBytes        *raw,
                                            const char    *envelope_from,
                                            const char    *full_name,
                                            gboolean       extract_recipients,
                                            char         **header_from,
                                            GStrv         *extracted,
                                            GError       **error);

/* SMTP allows 998 octets a line (RFC 5321 4.5.3.1.6): the longest line of @message, CR and LF
 * not counted. */
gsize    envoi_message_longest_line        (GBytes        *message);

/* Re-encodes every part of @message whose content has a line longer than
 * SMTP allows, so that the decoded content stays the same: quoted-printable for text,
 * base64 for anything else. A message that is not MIME becomes MIME (MIME-Version, and
 * text/plain in UTF-8 when its text is UTF-8). A header with a line that long is formatted
 * afresh, which folds it where it can. Returns how many parts and headers were changed. */
guint    envoi_message_encode_long_lines   (struct _GMimeMessage *message);

G_END_DECLS

/* envoi-message.h: building messages (with GMime) and preparing them for SMTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

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

G_END_DECLS

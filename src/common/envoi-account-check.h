/* envoi-account-check.h: the settings the sender uses, checked where it reads them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

/* Checks every setting of @account that the sender puts on the wire (addresses, server names,
 * ports, the HTTP service's address) with the validators of the account dialog
 * (envoi-validate.c): settings can be written with gsettings or straight into the settings
 * file, past the dialog. The GError (ENVOI_VALIDATE_ERROR) names the setting and its value,
 * on one line: "The server name “…” is not valid: …". */
gboolean  envoi_account_check_settings (EnvoiAccount  *account,
                                        GError       **error);

/* Only the account's own address: an account without one accepts no mail. */
gboolean  envoi_account_check_address  (EnvoiAccount  *account,
                                        GError       **error);

/* An envelope address about to be handed to libcurl: nothing that could end or split an SMTP
 * command or an HTTP header (CR, LF, other control characters, angle brackets, commas). */
gboolean  envoi_account_check_envelope_address (const char *address);

/* The same for a whole envelope, as the SMTP and HTTP clients hand it to libcurl: the last
 * guard, whatever the caller checked. An empty @from is the null sender. The GError is
 * ENVOI_SMTP_ERROR_SENDER_REJECTED or _RECIPIENT_REJECTED: the message cannot go as it is. */
gboolean  envoi_account_check_envelope (const char          *from,
                                        const char * const  *recipients,
                                        GError             **error);

G_END_DECLS

/* envoi-account-import.h: an account brought in from elsewhere (GOA, msmtp), with its password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-account-store.h"

G_BEGIN_DECLS

/* Adds a copy of @values to @store under a new id (made from its address, else its host),
 * then, when @password is neither NULL nor empty, stores it as the account's SMTP secret. The
 * account stays added when the keyring refuses the password: the error says why. */
void          envoi_account_import_async  (EnvoiAccountStore    *store,
                                           EnvoiAccount         *values,
                                           const char           *password,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
/* Returns the added account, or NULL with an error; @password_imported (may be NULL) says
 * whether the keyring holds its password. */
EnvoiAccount *envoi_account_import_finish (GAsyncResult         *result,
                                           gboolean             *password_imported,
                                           GError              **error);

G_END_DECLS

/* envoi-account-saver.h: saving one account, its secrets in the keyring before its settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-goa.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_ACCOUNT_SAVER (envoi_account_saver_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAccountSaver, envoi_account_saver, ENVOI, ACCOUNT_SAVER, GObject)

/* @previous: the account as it was (unsaved defaults for a new one) */
EnvoiAccountSaver *envoi_account_saver_new             (EnvoiAccountStore  *store,
                                                        EnvoiAccount       *account,
                                                        EnvoiAccount       *previous,
                                                        gboolean            is_new);
/* @typed: (nullable): a new secret for @service
 * @saved: (nullable): what the keyring holds for @service under @previous */
void               envoi_account_saver_set_secret      (EnvoiAccountSaver  *self,
                                                        EnvoiService        service,
                                                        const char         *typed,
                                                        const char         *saved);
/* @goa_account: (nullable): a GOA password account to copy the SMTP password from */
void               envoi_account_saver_set_goa_password_account (EnvoiAccountSaver *self,
                                                                 EnvoiGoaAccount   *goa_account);
void               envoi_account_saver_save_async      (EnvoiAccountSaver  *self,
                                                        GCancellable       *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer            user_data);
gboolean           envoi_account_saver_save_finish     (EnvoiAccountSaver  *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);

G_END_DECLS

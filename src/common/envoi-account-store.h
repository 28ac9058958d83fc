/* envoi-account-store.h: the list of accounts and the default one, in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

#define ENVOI_APP_SCHEMA_ID "io.github.envoimail.Envoi"

#define ENVOI_TYPE_ACCOUNT_STORE (envoi_account_store_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAccountStore, envoi_account_store, ENVOI, ACCOUNT_STORE, GObject)

/* A GListModel of EnvoiAccount in display order. It follows the `accounts` and
 * `default-account` keys and each account's keys live, so several processes stay in step. */
EnvoiAccountStore *envoi_account_store_new                 (void);
GSettings         *envoi_account_store_get_settings        (EnvoiAccountStore *self);
EnvoiAccount      *envoi_account_store_lookup              (EnvoiAccountStore *self,
                                                            const char        *id);
EnvoiAccount      *envoi_account_store_find_by_address     (EnvoiAccountStore *self,
                                                            const char        *address);
EnvoiAccount      *envoi_account_store_get_default         (EnvoiAccountStore *self);
const char        *envoi_account_store_get_default_id      (EnvoiAccountStore *self);
void               envoi_account_store_set_default         (EnvoiAccountStore *self,
                                                            const char        *id);
char              *envoi_account_store_make_id             (EnvoiAccountStore *self,
                                                            const char        *address);
void               envoi_account_store_add                 (EnvoiAccountStore *self,
                                                            EnvoiAccount      *account);
void               envoi_account_store_remove              (EnvoiAccountStore *self,
                                                            const char        *id);

G_END_DECLS

/* envoi-account-import.c: an account brought in from elsewhere (GOA, msmtp), with its password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The last step both importers share: the account joins the store, then its password goes
 * to the keyring. Apart from the store because the sender daemon links the store and must
 * not link libsecret.
 */

#define G_LOG_DOMAIN "envoi-account-import"

#include "config.h"

#include "envoi-account-import.h"
#include "envoi-secret.h"

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiAccount *account = g_object_get_data (G_OBJECT (task), "account");
  GError *error = NULL;

  if (!envoi_secret_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_object_set_data (G_OBJECT (task), "password-imported", GINT_TO_POINTER (TRUE));
  g_task_return_pointer (task, g_object_ref (account), g_object_unref);
}

void
envoi_account_import_async (EnvoiAccountStore   *store,
                            EnvoiAccount        *values,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autofree char *id = NULL;
  const char *address;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));
  g_return_if_fail (ENVOI_IS_ACCOUNT (values));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_account_import_async);

  address = envoi_account_get_address (values);
  id = envoi_account_store_make_id (store, *address != '\0' ? address
                                                            : envoi_account_get_host (values));
  account = envoi_account_copy_as (values, id);
  envoi_account_store_add (store, account);

  if (password == NULL || *password == '\0')
    {
      g_task_return_pointer (task, g_steal_pointer (&account), g_object_unref);
      return;
    }

  g_object_set_data_full (G_OBJECT (task), "account", g_object_ref (account), g_object_unref);
  envoi_secret_store_async (account, ENVOI_SERVICE_SMTP, password, cancellable,
                            store_cb, g_steal_pointer (&task));
}

EnvoiAccount *
envoi_account_import_finish (GAsyncResult  *result,
                             gboolean      *password_imported,
                             GError       **error)
{
  EnvoiAccount *account;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  account = g_task_propagate_pointer (G_TASK (result), error);
  if (account != NULL && password_imported != NULL)
    *password_imported = g_object_get_data (G_OBJECT (result), "password-imported") != NULL;
  return account;
}

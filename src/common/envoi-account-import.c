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

typedef struct
{
  EnvoiAccount *account;   /* the added one */
  gboolean      password_imported;
} ImportData;

static void
import_data_free (ImportData *data)
{
  g_clear_object (&data->account);
  g_free (data);
}

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImportData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!envoi_secret_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data->password_imported = TRUE;
  g_task_return_boolean (task, TRUE);
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
  g_autofree char *id = NULL;
  const char *address;
  ImportData *data;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));
  g_return_if_fail (ENVOI_IS_ACCOUNT (values));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_account_import_async);
  data = g_new0 (ImportData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) import_data_free);

  address = envoi_account_get_address (values);
  id = envoi_account_store_make_id (store, *address != '\0' ? address
                                                            : envoi_account_get_host (values));
  data->account = envoi_account_copy_as (values, id);
  envoi_account_store_add (store, data->account);

  if (password == NULL || *password == '\0')
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  envoi_secret_store_async (data->account, ENVOI_SERVICE_SMTP, password, cancellable,
                            store_cb, g_steal_pointer (&task));
}

EnvoiAccount *
envoi_account_import_finish (GAsyncResult  *result,
                             gboolean      *password_imported,
                             GError       **error)
{
  ImportData *data;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  data = g_task_get_task_data (G_TASK (result));
  if (password_imported != NULL)
    *password_imported = data->password_imported;
  return g_object_ref (data->account);
}

/* envoi-secret.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-secret"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-secret.h"

G_DEFINE_QUARK (envoi-secret-error-quark, envoi_secret_error)

typedef struct
{
  char       *account_id;
  char       *host;
  char       *user;
  int         port;
  EnvoiService service;
  char       *secret;
} SecretOp;

static void
secret_op_free (SecretOp *op)
{
  g_free (op->account_id);
  g_free (op->host);
  g_free (op->user);
  envoi_secret_free (op->secret);
  g_free (op);
}

const SecretSchema *
envoi_secret_get_schema (void)
{
  static const SecretSchema schema = {
    ENVOI_SECRET_SCHEMA_NAME, SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "port", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { NULL, 0 },
    }
  };

  return &schema;
}

const char *
envoi_service_to_string (EnvoiService service)
{
  switch (service)
    {
    case ENVOI_SERVICE_SMTP:
      return "smtp";
    case ENVOI_SERVICE_POP3:
      return "pop3";
    case ENVOI_SERVICE_IMAP:
      return "imap";
    case ENVOI_SERVICE_HTTP:
      return "http";
    default:
      g_return_val_if_reached ("smtp");
    }
}

void
envoi_secret_free (char *secret)
{
  if (secret != NULL)
    {
      explicit_bzero (secret, strlen (secret));
      g_free (secret);
    }
}

/* A hint that tells which secret is saved without revealing it: the last four characters,
 * or nothing of it at all when it is too short to spare them. */
char *
envoi_secret_mask (const char *secret)
{
  glong length;
  const char *tail;

  g_return_val_if_fail (secret != NULL, NULL);

  length = g_utf8_strlen (secret, -1);
  if (length < 12)
    return g_strdup ("••••••••");

  tail = g_utf8_offset_to_pointer (secret, length - 4);
  return g_strconcat ("••••", tail, NULL);
}

/* libsecret reports a missing bus or Secret Service as a D-Bus or I/O error; a locked
 * collection that could not be unlocked as SECRET_ERROR_IS_LOCKED. Say which, in words. */
static GError *
translate_error (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  if (error->domain == SECRET_ERROR && error->code == SECRET_ERROR_IS_LOCKED)
    return g_error_new_literal (ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_LOCKED,
                                _("The keyring is locked. Unlock it and try again."));

  if (error->domain == G_IO_ERROR ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED))
    return g_error_new_literal (ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_NO_SERVICE,
                                _("No keyring is available to keep the password. Start a "
                                  "keyring service such as GNOME Keyring and try again."));

  return g_error_new (ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_FAILED,
                      _("The keyring refused the request: %s"), error->message);
}

/* What the Secret Service answers about an item deleted while it was being read. */
static gboolean
error_is_vanished_item (const GError *error)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    return FALSE;

  if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT))
    return TRUE;

  remote = g_dbus_error_get_remote_error (error);
  return g_strcmp0 (remote, "org.freedesktop.Secret.Error.NoSuchObject") == 0;
}

static SecretOp *
secret_op_new (EnvoiAccount *account,
               EnvoiService  service)
{
  SecretOp *op = g_new0 (SecretOp, 1);

  op->account_id = g_strdup (envoi_account_get_id (account));
  op->service = service;
  op->user = g_strdup (envoi_account_get_login (account));

  switch (service)
    {
    case ENVOI_SERVICE_POP3:
      op->host = g_strdup (envoi_account_get_pop_host (account));
      op->port = envoi_account_get_pop_port (account);
      break;

    case ENVOI_SERVICE_IMAP:
      op->host = g_strdup (envoi_account_get_imap_host (account));
      op->port = envoi_account_get_imap_port (account);
      break;

    case ENVOI_SERVICE_HTTP:
      {
        /* The API's host, so that the item says where the key is for. */
        g_autofree char *url = envoi_account_dup_http_url (account);
        g_autoptr(GUri) uri = url != NULL ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;

        op->host = g_strdup (uri != NULL && g_uri_get_host (uri) != NULL ? g_uri_get_host (uri) : "");
        op->port = uri != NULL && g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443;
      }
      break;

    case ENVOI_SERVICE_SMTP:
    default:
      op->host = g_strdup (envoi_account_get_host (account));
      op->port = envoi_account_get_port (account);
      break;
    }

  return op;
}

static GHashTable *
secret_op_attributes (SecretOp *op,
                      gboolean  full)
{
  GHashTable *attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  g_hash_table_insert (attributes, (char *) "account", g_strdup (op->account_id));
  g_hash_table_insert (attributes, (char *) "service",
                       g_strdup (envoi_service_to_string (op->service)));
  if (full)
    {
      g_hash_table_insert (attributes, (char *) "host", g_strdup (op->host));
      g_hash_table_insert (attributes, (char *) "user", g_strdup (op->user));
      g_hash_table_insert (attributes, (char *) "port", g_strdup_printf ("%d", op->port));
    }

  return attributes;
}

static gboolean
attributes_equal (GHashTable *a,
                  GHashTable *b)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;

  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, g_hash_table_lookup (b, key)) != 0)
      return FALSE;

  return TRUE;
}

/* Store: the new item first, then the account's older items for that service, so that a
 * refused store leaves the previous password in place. */

static void
store_delete_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  guint *pending = g_task_get_task_data (task);

  if (!secret_item_delete_finish (SECRET_ITEM (source), result, &error))
    g_warning ("Could not remove an older keyring item: %s", error->message);

  if (--(*pending) == 0)
    g_task_return_boolean (task, TRUE);
}

static void
store_search_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) stored = NULL;
  GList *items;
  guint *pending;
  SecretOp *op = g_object_get_data (G_OBJECT (task), "op");

  items = secret_password_search_finish (result, &error);
  if (error != NULL)
    {
      /* The new password is in place; an older item left behind is only untidy. */
      g_warning ("Could not look for older keyring items: %s", error->message);
      g_task_return_boolean (task, TRUE);
      return;
    }

  stored = secret_op_attributes (op, TRUE);
  pending = g_new0 (guint, 1);
  *pending = 1;
  g_task_set_task_data (task, pending, g_free);

  for (GList *l = items; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_retrievable_get_attributes (l->data);

      g_hash_table_remove (attributes, "xdg:schema");
      if (attributes_equal (attributes, stored) || !SECRET_IS_ITEM (l->data))
        continue;

      (*pending)++;
      secret_item_delete (l->data, g_task_get_cancellable (task),
                          store_delete_cb, g_object_ref (task));
    }

  g_list_free_full (items, g_object_unref);

  if (--(*pending) == 0)
    g_task_return_boolean (task, TRUE);
}

static void
store_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  SecretOp *op = g_object_get_data (G_OBJECT (task), "op");

  if (!secret_password_store_finish (result, &error))
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  attributes = secret_op_attributes (op, FALSE);
  secret_password_searchv (envoi_secret_get_schema (), attributes, SECRET_SEARCH_ALL,
                           g_task_get_cancellable (task), store_search_cb, g_object_ref (task));
}

void
envoi_secret_store_async (EnvoiAccount        *account,
                          EnvoiService         service,
                          const char          *secret,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;
  SecretOp *op;

  g_return_if_fail (ENVOI_IS_ACCOUNT (account));
  g_return_if_fail (secret != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_secret_store_async);

  op = secret_op_new (account, service);
  g_object_set_data_full (G_OBJECT (task), "op", op, (GDestroyNotify) secret_op_free);
  attributes = secret_op_attributes (op, TRUE);

  /* Translators: the label of the password in the keyring, e.g. "Envoi: alice@example.com (smtp)" */
  label = g_strdup_printf (_("Envoi: %s (%s)"),
                           *envoi_account_get_address (account) != '\0'
                             ? envoi_account_get_address (account) : op->account_id,
                           envoi_service_to_string (service));

  secret_password_storev (envoi_secret_get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                          label, secret, cancellable, store_cb, g_steal_pointer (&task));
}

gboolean
envoi_secret_store_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Search: the first item that matches, read. A search that may unlock tells "locked" apart
 * from "nothing stored"; an item deleted between the search and the read was not there. */

static void
search_retrieve_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SecretValue) value = NULL;
  const char *text;

  value = secret_retrievable_retrieve_secret_finish (SECRET_RETRIEVABLE (source), result, &error);

  /* An item deleted between the search and the read was simply not there. */
  if (error_is_vanished_item (error))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  if (error != NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  if (value == NULL || (text = secret_value_get_text (value)) == NULL)
    {
      g_task_return_new_error (task, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_LOCKED,
                               _("The keyring is locked. Unlock it and try again."));
      return;
    }

  g_task_return_pointer (task, g_strdup (text), (GDestroyNotify) envoi_secret_free);
}

static void
search_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;
  GList *items;

  items = secret_password_search_finish (result, &error);
  if (error_is_vanished_item (error))
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  if (error != NULL)
    {
      g_debug ("Searching the keyring failed: %s %d", g_quark_to_string (error->domain), error->code);
      g_task_return_error (task, translate_error (error));
      return;
    }

  if (items == NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  /* Found without unlocking (envoi_secret_lookup_no_prompt_async): the keyring is locked. A
   * search that may unlock has unlocked it by now, or left it locked, which says the same. */
  if (SECRET_IS_ITEM (items->data) && secret_item_get_locked (items->data))
    {
      g_list_free_full (items, g_object_unref);
      g_task_return_new_error (task, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_LOCKED,
                               _("The keyring is locked. Unlock it and try again."));
      return;
    }

  cancellable = g_task_get_cancellable (task);
  secret_retrievable_retrieve_secret (items->data, cancellable,
                                      search_retrieve_cb, g_steal_pointer (&task));
  g_list_free_full (items, g_object_unref);
}

static void
search_with_flags (const SecretSchema  *schema,
                   GHashTable          *attributes,
                   SecretSearchFlags    flags,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_secret_search_async);

  secret_password_searchv (schema, attributes, flags, cancellable,
                           search_cb, g_steal_pointer (&task));
}

/**
 * envoi_secret_search_async:
 * @schema: the schema of the items; with %SECRET_SCHEMA_DONT_MATCH_NAME, any item that has
 *   the attributes
 * @attributes: (element-type utf8 utf8): what to look for
 *
 * The one way Envoi reads a secret from the keyring (a search rather than
 * secret_password_lookup(): the lookup path of libsecret 0.20 leaks the reply it reads,
 * valgrind says, the search path does not). It may unlock the keyring. Returns the first
 * matching item's secret, or %NULL without an error when none is stored or the item vanished
 * while it was read; ENVOI_SECRET_ERROR_LOCKED when the keyring stays locked, and the other
 * ENVOI_SECRET_ERRORs when there is no keyring or it refuses. Free with envoi_secret_free().
 */
void
envoi_secret_search_async (const SecretSchema  *schema,
                           GHashTable          *attributes,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (schema != NULL);
  g_return_if_fail (attributes != NULL);

  search_with_flags (schema, attributes, SECRET_SEARCH_UNLOCK, cancellable, callback, user_data);
}

char *
envoi_secret_search_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Lookup: by account and service only, so an item stored before the host changed is found. */
static void
lookup_with_flags (EnvoiAccount        *account,
                   EnvoiService         service,
                   SecretSearchFlags    flags,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GHashTable) attributes = NULL;
  SecretOp *op = secret_op_new (account, service);

  attributes = secret_op_attributes (op, FALSE);
  secret_op_free (op);

  search_with_flags (envoi_secret_get_schema (), attributes, flags, cancellable,
                     callback, user_data);
}

void
envoi_secret_lookup_async (EnvoiAccount        *account,
                           EnvoiService         service,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  lookup_with_flags (account, service, SECRET_SEARCH_UNLOCK, cancellable, callback, user_data);
}

void
envoi_secret_lookup_no_prompt_async (EnvoiAccount        *account,
                                     EnvoiService         service,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  lookup_with_flags (account, service, SECRET_SEARCH_NONE, cancellable, callback, user_data);
}

char *
envoi_secret_lookup_finish (GAsyncResult  *result,
                            GError       **error)
{
  return envoi_secret_search_finish (result, error);
}

static void
clear_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* FALSE without an error only means there was nothing to clear. */
  if (!secret_password_clear_finish (result, &error) && error != NULL)
    g_task_return_error (task, translate_error (error));
  else
    g_task_return_boolean (task, TRUE);
}

void
envoi_secret_clear_async (const char          *account_id,
                          int                  service,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  g_return_if_fail (account_id != NULL && *account_id != '\0');

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_secret_clear_async);

  /* libsecret keeps the table for the whole operation: it must own its strings. */
  attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (attributes, (char *) "account", g_strdup (account_id));
  if (service >= 0)
    g_hash_table_insert (attributes, (char *) "service",
                         g_strdup (envoi_service_to_string ((EnvoiService) service)));

  secret_password_clearv (envoi_secret_get_schema (), attributes, cancellable,
                          clear_cb, g_steal_pointer (&task));
}

gboolean
envoi_secret_clear_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* envoi-account-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-account-store"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-account-private.h"
#include "envoi-account-store.h"

typedef struct
{
  EnvoiAccount *account;
  GSettings    *settings;
} Entry;

struct _EnvoiAccountStore
{
  GObject    parent_instance;

  GSettings *settings;
  GPtrArray *entries;   /* Entry*, in the order of the `accounts` key */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (EnvoiAccountStore, envoi_account_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_DEFAULT_ID,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
entry_free (Entry *entry)
{
  g_signal_handlers_disconnect_by_data (entry->settings, entry->account);
  g_clear_object (&entry->settings);
  g_clear_object (&entry->account);
  g_free (entry);
}

static void
account_settings_changed_cb (GSettings    *settings,
                             const char   *key,
                             EnvoiAccount *account)
{
  _envoi_account_load_from (account, settings);
}

static Entry *
entry_new (const char *id)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->account = envoi_account_new (id);
  entry->settings = envoi_account_create_settings (id);
  _envoi_account_load_from (entry->account, entry->settings);
  g_signal_connect_object (entry->settings, "changed",
                           G_CALLBACK (account_settings_changed_cb), entry->account, 0);

  return entry;
}

static gboolean
id_is_valid (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 64)
    return FALSE;

  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;

  return TRUE;
}

static guint
find_entry (EnvoiAccountStore *self,
            const char        *id)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (g_strcmp0 (envoi_account_get_id (entry->account), id) == 0)
        return i;
    }

  return G_MAXUINT;
}

/* Follows the `accounts` key: keeps the objects of accounts that stay, so views holding
 * them do not flicker, and reports the change as one items-changed. */
static void
sync_accounts (EnvoiAccountStore *self)
{
  g_auto(GStrv) ids = g_settings_get_strv (self->settings, "accounts");
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint old_len = self->entries->len;

  for (guint i = 0; ids[i] != NULL; i++)
    {
      guint position;

      if (!id_is_valid (ids[i]))
        {
          g_warning ("Ignoring the account “%s”: an identifier is made of a-z, 0-9 and “-”",
                     ids[i]);
          continue;
        }

      if (!g_hash_table_add (seen, ids[i]))
        continue;

      position = find_entry (self, ids[i]);
      if (position != G_MAXUINT)
        g_ptr_array_add (entries, g_ptr_array_steal_index (self->entries, position));
      else
        g_ptr_array_add (entries, entry_new (ids[i]));
    }

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  self->entries = g_steal_pointer (&entries);

  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len, self->entries->len);
}

static void
settings_changed_cb (EnvoiAccountStore *self,
                     const char        *key)
{
  if (g_strcmp0 (key, "accounts") == 0)
    sync_accounts (self);
  else if (g_strcmp0 (key, "default-account") == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_ID]);
}

static GType
envoi_account_store_get_item_type (GListModel *model)
{
  return ENVOI_TYPE_ACCOUNT;
}

static guint
envoi_account_store_get_n_items (GListModel *model)
{
  return ENVOI_ACCOUNT_STORE (model)->entries->len;
}

static gpointer
envoi_account_store_get_item (GListModel *model,
                              guint       position)
{
  EnvoiAccountStore *self = ENVOI_ACCOUNT_STORE (model);

  if (position >= self->entries->len)
    return NULL;

  return g_object_ref (((Entry *) g_ptr_array_index (self->entries, position))->account);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = envoi_account_store_get_item_type;
  iface->get_n_items = envoi_account_store_get_n_items;
  iface->get_item = envoi_account_store_get_item;
}

static void
envoi_account_store_dispose (GObject *object)
{
  EnvoiAccountStore *self = (EnvoiAccountStore *)object;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (envoi_account_store_parent_class)->dispose (object);
}

static void
envoi_account_store_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  EnvoiAccountStore *self = ENVOI_ACCOUNT_STORE (object);

  switch (prop_id)
    {
    case PROP_DEFAULT_ID:
      g_value_set_string (value, envoi_account_store_get_default_id (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_account_store_class_init (EnvoiAccountStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_account_store_dispose;
  object_class->get_property = envoi_account_store_get_property;

  /* The identifier of the account that sends by default: never empty while any exists. */
  properties[PROP_DEFAULT_ID] =
    g_param_spec_string ("default-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
envoi_account_store_init (EnvoiAccountStore *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->settings = g_settings_new (ENVOI_APP_SCHEMA_ID);

  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  sync_accounts (self);
}

EnvoiAccountStore *
envoi_account_store_new (void)
{
  return g_object_new (ENVOI_TYPE_ACCOUNT_STORE, NULL);
}

GSettings *
envoi_account_store_get_settings (EnvoiAccountStore *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (self), NULL);

  return self->settings;
}

/* Returns: (transfer none) (nullable) */
EnvoiAccount *
envoi_account_store_lookup (EnvoiAccountStore *self,
                            const char        *id)
{
  guint position;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (self), NULL);

  position = find_entry (self, id);
  if (position == G_MAXUINT)
    return NULL;

  return ((Entry *) g_ptr_array_index (self->entries, position))->account;
}

/* Returns: (transfer none) (nullable): the account whose address matches, ignoring case. */
EnvoiAccount *
envoi_account_store_find_by_address (EnvoiAccountStore *self,
                                     const char        *address)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (self), NULL);

  if (address == NULL || *address == '\0')
    return NULL;

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (g_ascii_strcasecmp (envoi_account_get_address (entry->account), address) == 0)
        return entry->account;
    }

  return NULL;
}

/* The `default-account` key when it names an existing account, else the first account. */
const char *
envoi_account_store_get_default_id (EnvoiAccountStore *self)
{
  g_autofree char *id = NULL;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (self), NULL);

  id = g_settings_get_string (self->settings, "default-account");
  if (envoi_account_store_lookup (self, id) != NULL)
    return envoi_account_get_id (envoi_account_store_lookup (self, id));

  if (self->entries->len > 0)
    return envoi_account_get_id (((Entry *) g_ptr_array_index (self->entries, 0))->account);

  return NULL;
}

/* Returns: (transfer none) (nullable) */
EnvoiAccount *
envoi_account_store_get_default (EnvoiAccountStore *self)
{
  const char *id = envoi_account_store_get_default_id (self);

  return id != NULL ? envoi_account_store_lookup (self, id) : NULL;
}

void
envoi_account_store_set_default (EnvoiAccountStore *self,
                                 const char        *id)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (self));
  g_return_if_fail (envoi_account_store_lookup (self, id) != NULL);

  g_settings_set_string (self->settings, "default-account", id);
}

/* A readable identifier from the address (“alice-example-com”), unique in the store. */
char *
envoi_account_store_make_id (EnvoiAccountStore *self,
                             const char        *address)
{
  g_autoptr(GString) base = g_string_new (NULL);
  g_autofree char *id = NULL;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (self), NULL);

  for (const char *p = address ? address : ""; *p != '\0' && base->len < 40; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (base, g_ascii_tolower (*p));
      else if (base->len > 0 && base->str[base->len - 1] != '-')
        g_string_append_c (base, '-');
    }
  while (base->len > 0 && base->str[base->len - 1] == '-')
    g_string_truncate (base, base->len - 1);
  if (base->len == 0)
    g_string_append (base, "account");

  id = g_strdup (base->str);
  for (guint n = 2; envoi_account_store_lookup (self, id) != NULL; n++)
    {
      g_free (id);
      id = g_strdup_printf ("%s-%u", base->str, n);
    }

  return g_steal_pointer (&id);
}

/* Saves the account's settings, then lists it: a listed account is always complete. */
void
envoi_account_store_add (EnvoiAccountStore *self,
                         EnvoiAccount      *account)
{
  g_auto(GStrv) ids = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *id;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  id = envoi_account_get_id (account);
  g_return_if_fail (id_is_valid (id));

  envoi_account_save (account);

  if (envoi_account_store_lookup (self, id) != NULL)
    return;

  ids = g_settings_get_strv (self->settings, "accounts");
  g_strv_builder_addv (builder, (const char **) ids);
  g_strv_builder_add (builder, id);
  g_strfreev (ids);
  ids = g_strv_builder_end (builder);

  g_settings_set_strv (self->settings, "accounts", (const char * const *) ids);
}

/* Unlists the account and resets its keys. Its keyring items are the caller's to clear,
 * asynchronously (envoi_secret_clear_async()). */
void
envoi_account_store_remove (EnvoiAccountStore *self,
                            const char        *id)
{
  g_auto(GStrv) ids = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GSettings) batch = NULL;
  g_autofree char *default_id = NULL;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (self));
  g_return_if_fail (id != NULL);

  ids = g_settings_get_strv (self->settings, "accounts");
  for (guint i = 0; ids[i] != NULL; i++)
    if (g_strcmp0 (ids[i], id) != 0)
      g_strv_builder_add (builder, ids[i]);
  g_strfreev (ids);
  ids = g_strv_builder_end (builder);

  /* Both keys change together. Delay-apply mode cannot be left once entered, so it is taken on
   * an object of its own: the store's stays immediate for every later add and change. */
  batch = g_settings_new (ENVOI_APP_SCHEMA_ID);
  g_settings_delay (batch);
  g_settings_set_strv (batch, "accounts", (const char * const *) ids);
  default_id = g_settings_get_string (batch, "default-account");
  if (g_strcmp0 (default_id, id) == 0)
    g_settings_reset (batch, "default-account");
  g_settings_apply (batch);

  if (id_is_valid (id))
    envoi_account_reset_settings (id);
}

/* envoi-keyring-watch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include "envoi-keyring-watch.h"
#include "envoi-secret.h"  /* the schema's name only: nothing of libsecret is linked */

#define SECRETS_NAME          "org.freedesktop.secrets"
#define COLLECTION_INTERFACE  "org.freedesktop.Secret.Collection"
#define ITEM_INTERFACE        "org.freedesktop.Secret.Item"
#define PROPERTIES_INTERFACE  "org.freedesktop.DBus.Properties"
#define DEFAULT_COLLECTION    "/org/freedesktop/secrets/aliases/default"
#define POLL_MS               1000
/* A default collection found unlocked right away may not be the one that holds the item:
 * that is said at most this often, so that such an account does not spin. */
#define UNSEEN_UNLOCK_SECONDS 60

struct _EnvoiKeyringWatch
{
  GObject          parent_instance;

  GDBusConnection *connection;
  GCancellable    *cancellable;
  guint            item_created_id;
  guint            item_changed_id;
  guint            properties_id;
  guint            name_id;
  guint            unlocks;
  guint            poll_id;
  gboolean         poll_seen_locked;
  gint64           last_unseen_unlock;
};

G_DEFINE_FINAL_TYPE (EnvoiKeyringWatch, envoi_keyring_watch, G_TYPE_OBJECT)

enum
{
  ITEM_CHANGED,
  UNLOCKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
emit_unlocked (EnvoiKeyringWatch *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
  self->unlocks++;
  g_signal_emit (self, signals[UNLOCKED], 0);
}

static void
locked_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(EnvoiKeyringWatch) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_monotonic_time ();

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL || self->poll_id == 0)
    return;

  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return;

  if (g_variant_get_boolean (value))
    self->poll_seen_locked = TRUE;
  else if (self->poll_seen_locked ||
           now - self->last_unseen_unlock > UNSEEN_UNLOCK_SECONDS * G_USEC_PER_SEC)
    {
      if (!self->poll_seen_locked)
        self->last_unseen_unlock = now;
      emit_unlocked (self);
    }
}

static gboolean
poll_cb (gpointer user_data)
{
  EnvoiKeyringWatch *self = user_data;

  g_dbus_connection_call (self->connection, SECRETS_NAME, DEFAULT_COLLECTION,
                          PROPERTIES_INTERFACE, "Get",
                          g_variant_new ("(ss)", COLLECTION_INTERFACE, "Locked"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000,
                          self->cancellable, locked_cb, g_object_ref (self));

  return G_SOURCE_CONTINUE;
}

static void
attributes_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EnvoiKeyringWatch) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) attributes = NULL;
  g_autoptr(GError) error = NULL;
  const char *account_id = NULL;
  const char *schema = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply == NULL)
    {
      /* Gone already, or not readable: say so without an account. */
      g_debug ("Could not read a keyring item's attributes: %s", error->message);
      g_signal_emit (self, signals[ITEM_CHANGED], 0, NULL);
      return;
    }

  g_variant_get (reply, "(v)", &attributes);
  if (!g_variant_is_of_type (attributes, G_VARIANT_TYPE ("a{ss}")) ||
      !g_variant_lookup (attributes, "account", "&s", &account_id))
    return;
  if (g_variant_lookup (attributes, "xdg:schema", "&s", &schema) &&
      !g_str_equal (schema, ENVOI_SECRET_SCHEMA_NAME))
    return;

  g_signal_emit (self, signals[ITEM_CHANGED], 0, account_id);
}

static void
item_signal_cb (GDBusConnection *connection,
                const char      *sender_name,
                const char      *object_path,
                const char      *interface_name,
                const char      *signal_name,
                GVariant        *parameters,
                gpointer         user_data)
{
  EnvoiKeyringWatch *self = user_data;
  const char *item = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(o)")))
    return;
  g_variant_get (parameters, "(&o)", &item);

  /* The attributes are not secret: they can be read even from a locked collection. */
  g_dbus_connection_call (connection, SECRETS_NAME, item, PROPERTIES_INTERFACE, "Get",
                          g_variant_new ("(ss)", ITEM_INTERFACE, "Attributes"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000,
                          self->cancellable, attributes_cb, g_object_ref (self));
}

static void
properties_signal_cb (GDBusConnection *connection,
                      const char      *sender_name,
                      const char      *object_path,
                      const char      *interface_name,
                      const char      *signal_name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  EnvoiKeyringWatch *self = user_data;
  g_autoptr(GVariant) changed = NULL;
  const char *interface = NULL;
  gboolean locked = TRUE;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;

  g_variant_get (parameters, "(&s@a{sv}@as)", &interface, &changed, NULL);
  if (g_str_equal (interface, COLLECTION_INTERFACE) &&
      g_variant_lookup (changed, "Locked", "b", &locked) && !locked)
    emit_unlocked (self);
}

/* A keyring daemon taking the name is a login (or `gnome-keyring-daemon --replace --unlock`):
 * its collections may be unlocked without any signal of theirs. */
static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *name_owner,
                  gpointer         user_data)
{
  EnvoiKeyringWatch *self = user_data;

  emit_unlocked (self);
}

static void
envoi_keyring_watch_dispose (GObject *object)
{
  EnvoiKeyringWatch *self = ENVOI_KEYRING_WATCH (object);

  g_cancellable_cancel (self->cancellable);
  if (self->connection != NULL)
    {
      g_dbus_connection_signal_unsubscribe (self->connection, self->item_created_id);
      g_dbus_connection_signal_unsubscribe (self->connection, self->item_changed_id);
      g_dbus_connection_signal_unsubscribe (self->connection, self->properties_id);
      self->item_created_id = self->item_changed_id = self->properties_id = 0;
    }
  g_clear_handle_id (&self->name_id, g_bus_unwatch_name);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_object (&self->connection);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (envoi_keyring_watch_parent_class)->dispose (object);
}

static void
envoi_keyring_watch_class_init (EnvoiKeyringWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_keyring_watch_dispose;

  signals[ITEM_CHANGED] = g_signal_new ("item-changed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[UNLOCKED] = g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass),
                                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                    G_TYPE_NONE, 0);
}

static void
envoi_keyring_watch_init (EnvoiKeyringWatch *self)
{
  self->cancellable = g_cancellable_new ();
}

EnvoiKeyringWatch *
envoi_keyring_watch_new (GDBusConnection *connection)
{
  EnvoiKeyringWatch *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);

  self = g_object_new (ENVOI_TYPE_KEYRING_WATCH, NULL);
  self->connection = g_object_ref (connection);

  /* Any sender: the match rules name the well-known name's signals only by interface, and a
   * stray signal costs one more try at most. */
  self->item_created_id =
    g_dbus_connection_signal_subscribe (connection, NULL, COLLECTION_INTERFACE, "ItemCreated",
                                        NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        item_signal_cb, self, NULL);
  self->item_changed_id =
    g_dbus_connection_signal_subscribe (connection, NULL, COLLECTION_INTERFACE, "ItemChanged",
                                        NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        item_signal_cb, self, NULL);
  self->properties_id =
    g_dbus_connection_signal_subscribe (connection, NULL, PROPERTIES_INTERFACE,
                                        "PropertiesChanged", NULL, COLLECTION_INTERFACE,
                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                        properties_signal_cb, self, NULL);
  self->name_id = g_bus_watch_name_on_connection (connection, SECRETS_NAME,
                                                  G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                  name_appeared_cb, NULL, self, NULL);

  return self;
}

guint
envoi_keyring_watch_get_unlocks (EnvoiKeyringWatch *self)
{
  g_return_val_if_fail (ENVOI_IS_KEYRING_WATCH (self), 0);

  return self->unlocks;
}

/* gnome-keyring says nothing when PAM unlocks it (a login, the screen unlocked) or when a new
 * daemon takes over unlocked: while a message waits, the default collection is asked. */
void
envoi_keyring_watch_wait_for_unlock (EnvoiKeyringWatch *self)
{
  g_return_if_fail (ENVOI_IS_KEYRING_WATCH (self));

  if (self->poll_id != 0)
    return;

  self->poll_seen_locked = FALSE;
  self->poll_id = g_timeout_add (POLL_MS, poll_cb, self);
}

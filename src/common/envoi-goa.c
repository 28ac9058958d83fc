/* envoi-goa.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-goa"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-account-import.h"
#include "envoi-account-store.h"
#include "envoi-goa.h"
#include "envoi-secret.h"

#define GOA_NAME            "org.gnome.OnlineAccounts"
#define GOA_MANAGER_PATH    "/org/gnome/OnlineAccounts"
#define GOA_ACCOUNT_IFACE   "org.gnome.OnlineAccounts.Account"
#define GOA_MAIL_IFACE      "org.gnome.OnlineAccounts.Mail"
#define GOA_OAUTH2_IFACE    "org.gnome.OnlineAccounts.OAuth2Based"
#define GOA_PASSWORD_IFACE  "org.gnome.OnlineAccounts.PasswordBased"

/* GOA may have to reach the provider to refresh a token. */
#define CALL_TIMEOUT_MS     60000

G_DEFINE_QUARK (envoi-goa-error-quark, envoi_goa_error)

G_DEFINE_BOXED_TYPE (EnvoiGoaAccount, envoi_goa_account, envoi_goa_account_ref, envoi_goa_account_unref)

static void
goa_account_clear (EnvoiGoaAccount *self)
{
  g_free (self->id);
  g_free (self->object_path);
  g_free (self->provider_type);
  g_free (self->provider_name);
  g_free (self->presentation_identity);
  g_free (self->email_address);
  g_free (self->name);
  g_free (self->smtp_host);
  g_free (self->smtp_user_name);
}

EnvoiGoaAccount *
envoi_goa_account_ref (EnvoiGoaAccount *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
envoi_goa_account_unref (EnvoiGoaAccount *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, (GDestroyNotify) goa_account_clear);
}

const char *
envoi_goa_account_id_from_provider (const char *provider)
{
  if (provider == NULL || !g_str_has_prefix (provider, ENVOI_GOA_PROVIDER_PREFIX))
    return NULL;

  provider += strlen (ENVOI_GOA_PROVIDER_PREFIX);
  return *provider != '\0' ? provider : NULL;
}

/* GOA not there at all (not installed, not running and not activatable, no bus). */
static gboolean
error_is_absent (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* GOA_ERROR_NOT_AUTHORIZED, as GOA names it on the bus. */
static gboolean
error_is_not_authorized (const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (name, "org.gnome.OnlineAccounts.Error.NotAuthorized") == 0;
}

static GError *
translate_error (GError *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || error->domain == ENVOI_GOA_ERROR)
    return error;

  if (error_is_absent (error))
    {
      g_error_free (error);
      return g_error_new_literal (ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_RUNNING,
                                  _("GNOME Online Accounts is not running."));
    }

  g_dbus_error_strip_remote_error (error);
  message = g_strdup (error->message);
  g_error_free (error);
  /* Translators: %s is the error GNOME Online Accounts reported. */
  return g_error_new (ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_FAILED,
                      _("GNOME Online Accounts reported an error: %s"), message);
}

/* ---- the account list --------------------------------------------------------------------- */

static const char *
lookup_string (GVariant   *properties,
               const char *name)
{
  const char *value = NULL;

  if (properties == NULL || !g_variant_lookup (properties, name, "&s", &value))
    return "";
  return value;
}

static gboolean
lookup_boolean (GVariant   *properties,
                const char *name,
                gboolean    fallback)
{
  gboolean value;

  if (properties == NULL || !g_variant_lookup (properties, name, "b", &value))
    return fallback;
  return value;
}

/* "host", "host:port", "[v6]" or "[v6]:port", as GOA keeps SmtpHost. */
static gboolean
split_host (const char  *text,
            char       **host,
            guint16     *port)
{
  const char *colon;
  guint64 number = 0;

  *port = 0;
  if (*text == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL)
        return FALSE;
      *host = g_strndup (text + 1, close - text - 1);
      colon = close[1] == ':' ? close + 1 : NULL;
    }
  else if ((colon = strchr (text, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    *host = g_strndup (text, colon - text);
  else
    {
      *host = g_strdup (text);
      colon = NULL;
    }

  if (colon != NULL)
    {
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &number, NULL))
        {
          g_clear_pointer (host, g_free);
          return FALSE;
        }
      *port = (guint16) number;
    }

  return **host != '\0';
}

static EnvoiGoaAccount *
account_from_interfaces (const char *object_path,
                         GVariant   *interfaces)
{
  g_autoptr(GVariant) account = g_variant_lookup_value (interfaces, GOA_ACCOUNT_IFACE, NULL);
  g_autoptr(GVariant) mail = g_variant_lookup_value (interfaces, GOA_MAIL_IFACE, NULL);
  g_autoptr(GVariant) oauth2 = g_variant_lookup_value (interfaces, GOA_OAUTH2_IFACE, NULL);
  g_autoptr(GVariant) password = g_variant_lookup_value (interfaces, GOA_PASSWORD_IFACE, NULL);
  g_autofree char *host = NULL;
  EnvoiGoaAccount *self;
  gboolean use_ssl, use_tls;
  guint16 port;

  if (account == NULL || mail == NULL)
    return NULL;
  if (lookup_boolean (account, "MailDisabled", FALSE))
    return NULL;
  if (!lookup_boolean (mail, "SmtpSupported", TRUE))
    return NULL;
  if (!split_host (lookup_string (mail, "SmtpHost"), &host, &port))
    return NULL;

  self = g_atomic_rc_box_new0 (EnvoiGoaAccount);
  self->id = g_strdup (lookup_string (account, "Id"));
  self->object_path = g_strdup (object_path);
  self->provider_type = g_strdup (lookup_string (account, "ProviderType"));
  self->provider_name = g_strdup (lookup_string (account, "ProviderName"));
  self->presentation_identity = g_strdup (lookup_string (account, "PresentationIdentity"));
  self->attention_needed = lookup_boolean (account, "AttentionNeeded", FALSE);
  self->email_address = g_strdup (lookup_string (mail, "EmailAddress"));
  self->name = g_strdup (lookup_string (mail, "Name"));
  self->smtp_host = g_steal_pointer (&host);
  self->smtp_user_name = g_strdup (lookup_string (mail, "SmtpUserName"));
  self->smtp_use_auth = lookup_boolean (mail, "SmtpUseAuth", TRUE);
  self->oauth2 = oauth2 != NULL;
  self->password_based = password != NULL;

  use_ssl = lookup_boolean (mail, "SmtpUseSsl", FALSE);
  use_tls = lookup_boolean (mail, "SmtpUseTls", FALSE);
  if (use_ssl)
    self->smtp_security = ENVOI_SECURITY_TLS;
  else if (use_tls)
    self->smtp_security = ENVOI_SECURITY_STARTTLS;
  else
    self->smtp_security = ENVOI_SECURITY_NONE;

  if (port == 0)
    port = use_ssl ? 465 : use_tls ? 587 : 25;
  self->smtp_port = port;

  return self;
}

static gint
compare_accounts (gconstpointer a,
                  gconstpointer b)
{
  const EnvoiGoaAccount *x = *(EnvoiGoaAccount * const *) a;
  const EnvoiGoaAccount *y = *(EnvoiGoaAccount * const *) b;

  return g_strcmp0 (x->presentation_identity, y->presentation_identity);
}

static GPtrArray *
accounts_from_reply (GVariant *reply)
{
  GPtrArray *accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_goa_account_unref);
  g_autoptr(GVariantIter) iter = NULL;
  const char *object_path;
  GVariant *interfaces;

  g_variant_get (reply, "(a{oa{sa{sv}}})", &iter);
  while (g_variant_iter_next (iter, "{&o@a{sa{sv}}}", &object_path, &interfaces))
    {
      EnvoiGoaAccount *account = account_from_interfaces (object_path, interfaces);

      if (account != NULL)
        g_ptr_array_add (accounts, account);
      g_variant_unref (interfaces);
    }

  g_ptr_array_sort (accounts, compare_accounts);
  return accounts;
}

static void
call_managed_objects (GDBusConnection     *bus,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  /* GOA is started on demand, as every GOA client does. */
  g_dbus_connection_call (bus, GOA_NAME, GOA_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                          "GetManagedObjects", NULL, G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                          G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, cancellable, callback, user_data);
}

/* Runs `next` with the bus (the session's when `bus` is NULL), or returns the error. */
typedef void (*WithBus) (GTask *task, GDBusConnection *bus);

static void
with_bus_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GDBusConnection) bus = NULL;
  GError *error = NULL;
  WithBus next = g_object_get_data (G_OBJECT (task), "with-bus");

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  g_object_set_data_full (G_OBJECT (task), "bus", g_object_ref (bus), g_object_unref);
  next (task, bus);
}

static void
with_bus (GTask           *task,
          GDBusConnection *bus,
          WithBus          next)
{
  if (bus != NULL)
    {
      g_object_set_data_full (G_OBJECT (task), "bus", g_object_ref (bus), g_object_unref);
      next (task, bus);
      return;
    }

  g_object_set_data (G_OBJECT (task), "with-bus", next);
  g_bus_get (G_BUS_TYPE_SESSION, g_task_get_cancellable (task), with_bus_cb, g_object_ref (task));
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (error_is_absent (error))
        {
          g_debug ("No GNOME Online Accounts: %s", error->message);
          g_error_free (error);
          g_task_return_pointer (task,
                                 g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_goa_account_unref),
                                 (GDestroyNotify) g_ptr_array_unref);
        }
      else
        g_task_return_error (task, translate_error (error));
      return;
    }

  g_task_return_pointer (task, accounts_from_reply (reply), (GDestroyNotify) g_ptr_array_unref);
}

static void
list_with_bus (GTask           *task,
               GDBusConnection *bus)
{
  call_managed_objects (bus, g_task_get_cancellable (task), list_cb, g_object_ref (task));
}

static void
list_bus_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;

  /* No session bus at all: no GOA either. */
  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_debug ("No session bus, so no GNOME Online Accounts: %s", error->message);
      g_task_return_pointer (task,
                             g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_goa_account_unref),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  list_with_bus (task, bus);
}

void
envoi_goa_list_accounts_async (GDBusConnection     *bus,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_goa_list_accounts_async);

  if (bus != NULL)
    list_with_bus (task, bus);
  else
    g_bus_get (G_BUS_TYPE_SESSION, cancellable, list_bus_cb, g_steal_pointer (&task));
}

GPtrArray *
envoi_goa_list_accounts_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- import ------------------------------------------------------------------------------- */

EnvoiAccount *
envoi_goa_account_to_envoi (EnvoiGoaAccount *goa_account)
{
  EnvoiAccount *account;
  EnvoiAuthMethod method;

  g_return_val_if_fail (goa_account != NULL, NULL);

  if (goa_account->oauth2)
    method = ENVOI_AUTH_METHOD_XOAUTH2;
  else if (!goa_account->smtp_use_auth)
    method = ENVOI_AUTH_METHOD_NONE;
  else
    method = ENVOI_AUTH_METHOD_AUTOMATIC;

  account = envoi_account_new ("");
  g_object_set (account,
                "address", goa_account->email_address,
                "display-name", goa_account->name,
                "host", goa_account->smtp_host,
                "port", (guint) goa_account->smtp_port,
                "security", goa_account->smtp_security,
                "auth-method", method,
                "username", goa_account->smtp_user_name,
                NULL);

  if (goa_account->oauth2)
    {
      g_autofree char *provider = g_strconcat (ENVOI_GOA_PROVIDER_PREFIX, goa_account->id, NULL);

      g_object_set (account, "provider", provider, NULL);
    }

  return account;
}

typedef struct
{
  EnvoiGoaAccount   *goa_account;
  EnvoiAccountStore *store;
  EnvoiAccount      *account;
  gboolean           password_imported;
} ImportData;

static void
import_data_free (ImportData *data)
{
  envoi_goa_account_unref (data->goa_account);
  g_clear_object (&data->store);
  g_clear_object (&data->account);
  g_free (data);
}

static void
import_added_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImportData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->account = envoi_account_import_finish (result, &data->password_imported, &error);
  if (data->account == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* Takes @task. */
static void
import_add (GTask      *task,
            const char *password)
{
  ImportData *data = g_task_get_task_data (task);
  g_autoptr(EnvoiAccount) values = envoi_goa_account_to_envoi (data->goa_account);

  envoi_account_import_async (data->store, values, password, g_task_get_cancellable (task),
                              import_added_cb, task);
}

static void
import_password_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(EnvoiSecretString) password = NULL;
  GError *error = NULL;

  password = envoi_goa_get_password_finish (result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  import_add (g_steal_pointer (&task), password);
}

static void
password_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  const char *password = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  g_variant_get (reply, "(&s)", &password);
  g_task_return_pointer (task, *password != '\0' ? g_strdup (password) : NULL,
                         (GDestroyNotify) envoi_secret_free);
}

static void
password_with_bus (GTask           *task,
                   GDBusConnection *bus)
{
  EnvoiGoaAccount *goa_account = g_task_get_task_data (task);

  g_dbus_connection_call (bus, GOA_NAME, goa_account->object_path, GOA_PASSWORD_IFACE,
                          "GetPassword", g_variant_new ("(s)", "smtp-password"),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
                          g_task_get_cancellable (task), password_cb, g_object_ref (task));
}

void
envoi_goa_get_password_async (GDBusConnection     *bus,
                              EnvoiGoaAccount     *goa_account,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (goa_account != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_goa_get_password_async);
  g_task_set_task_data (task, envoi_goa_account_ref (goa_account),
                        (GDestroyNotify) envoi_goa_account_unref);

  if (!goa_account->password_based)
    {
      /* Translators: %s names the online account, e.g. "alice@example.com". */
      g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_SUPPORTED,
                               _("Envoi cannot sign in with the online account “%s”: it has neither a password nor an OAuth 2 sign-in."),
                               goa_account->presentation_identity);
      return;
    }

  with_bus (task, bus, password_with_bus);
}

char *
envoi_goa_get_password_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
envoi_goa_import_async (GDBusConnection     *bus,
                        EnvoiGoaAccount     *goa_account,
                        EnvoiAccountStore   *store,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ImportData *data;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (goa_account != NULL);
  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_goa_import_async);
  data = g_new0 (ImportData, 1);
  data->goa_account = envoi_goa_account_ref (goa_account);
  data->store = g_object_ref (store);
  g_task_set_task_data (task, data, (GDestroyNotify) import_data_free);

  if (goa_account->oauth2 || !goa_account->smtp_use_auth)
    {
      import_add (g_steal_pointer (&task), NULL);
      return;
    }

  envoi_goa_get_password_async (bus, goa_account, cancellable, import_password_cb,
                                g_steal_pointer (&task));
}

EnvoiAccount *
envoi_goa_import_finish (GAsyncResult  *result,
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

/* ---- access tokens ------------------------------------------------------------------------ */

typedef struct
{
  char            *goa_account_id;
  char            *rejected_token;
  EnvoiGoaAccount *goa_account;
} TokenData;

typedef struct
{
  char   *token;
  char   *identity;
  gint32  expires_in;   /* seconds, as GOA said; 0 if unknown */
} TokenResult;

static void
token_data_free (TokenData *data)
{
  g_free (data->goa_account_id);
  envoi_secret_free (data->rejected_token);
  g_clear_pointer (&data->goa_account, envoi_goa_account_unref);
  g_free (data);
}

static void
token_result_free (TokenResult *result)
{
  envoi_secret_free (result->token);
  g_free (result->identity);
  g_free (result);
}

static GError *
sign_in_needed (EnvoiGoaAccount *goa_account)
{
  /* Translators: %s names the online account, e.g. "alice@gmail.com". */
  return g_error_new (ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_SIGN_IN_NEEDED,
                      _("The sign-in of “%s” has expired or was revoked. Sign in again in Settings → Online Accounts."),
                      goa_account->presentation_identity);
}

static void
token_get_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  TokenData *data = g_task_get_task_data (task);
  TokenResult *token_result;
  GError *error = NULL;
  const char *token = NULL;
  gint32 expires_in = 0;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      /* Not authorized: no credentials, or the refresh was refused. Anything else (offline,
       * the provider unreachable while refreshing) may pass: say so, and try again later. */
      if (error_is_not_authorized (error))
        {
          g_debug ("GetAccessToken failed: %s", error->message);
          g_error_free (error);
          g_task_return_error (task, sign_in_needed (data->goa_account));
        }
      else if (g_dbus_error_is_remote_error (error))
        {
          g_autofree char *message = NULL;

          g_dbus_error_strip_remote_error (error);
          message = g_strdup (error->message);
          g_error_free (error);
          /* Translators: the first %s names the online account, e.g. "alice@gmail.com";
           * the second is the error GNOME Online Accounts reported. */
          g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_FAILED,
                                   _("GNOME Online Accounts could not renew the sign-in of “%s”: %s"),
                                   data->goa_account->presentation_identity, message);
        }
      else
        g_task_return_error (task, translate_error (error));
      return;
    }

  g_variant_get (reply, "(&si)", &token, &expires_in);
  if (*token == '\0'
      || (data->rejected_token != NULL && strcmp (token, data->rejected_token) == 0))
    {
      g_task_return_error (task, sign_in_needed (data->goa_account));
      return;
    }

  token_result = g_new0 (TokenResult, 1);
  token_result->token = g_strdup (token);
  token_result->identity = g_strdup (data->goa_account->presentation_identity);
  token_result->expires_in = expires_in;
  g_task_return_pointer (task, token_result, (GDestroyNotify) token_result_free);
}

static void
token_ensure_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  TokenData *data = g_task_get_task_data (task);
  GError *error = NULL;

  /* GOA answers org.gnome.OnlineAccounts.Error.NotAuthorized when the sign-in is gone. Its
   * other failures say nothing about the sign-in: GOA 3.46 checks an OAuth 2 account by asking
   * the provider who the token belongs to, over the network, so offline (or with the provider
   * down) EnsureCredentials fails with a resolver or "Failed" error while the stored token is
   * still good. Then GetAccessToken decides. */
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (error_is_not_authorized (error))
        {
          g_debug ("EnsureCredentials failed: %s", error->message);
          g_error_free (error);
          g_task_return_error (task, sign_in_needed (data->goa_account));
          return;
        }
      if (!g_dbus_error_is_remote_error (error))
        {
          g_task_return_error (task, translate_error (error));
          return;
        }

      g_debug ("EnsureCredentials failed, asking for the token anyway: %s", error->message);
      g_error_free (error);
    }

  g_dbus_connection_call (G_DBUS_CONNECTION (source), GOA_NAME, data->goa_account->object_path,
                          GOA_OAUTH2_IFACE, "GetAccessToken", NULL, G_VARIANT_TYPE ("(si)"),
                          G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          token_get_cb, g_object_ref (task));
}

static void
token_list_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  TokenData *data = g_task_get_task_data (task);
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, translate_error (error));
      return;
    }

  accounts = accounts_from_reply (reply);
  for (guint i = 0; i < accounts->len; i++)
    {
      EnvoiGoaAccount *account = g_ptr_array_index (accounts, i);

      if (g_strcmp0 (account->id, data->goa_account_id) == 0)
        data->goa_account = envoi_goa_account_ref (account);
    }

  if (data->goa_account == NULL)
    {
      g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NO_ACCOUNT,
                               _("The online account this account signs in with was removed from Settings → Online Accounts."));
      return;
    }

  if (!data->goa_account->oauth2)
    {
      g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_SUPPORTED,
                               _("The online account “%s” does not sign in with OAuth 2."),
                               data->goa_account->presentation_identity);
      return;
    }

  g_dbus_connection_call (G_DBUS_CONNECTION (source), GOA_NAME, data->goa_account->object_path,
                          GOA_ACCOUNT_IFACE, "EnsureCredentials", NULL, G_VARIANT_TYPE ("(i)"),
                          G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, g_task_get_cancellable (task),
                          token_ensure_cb, g_object_ref (task));
}

static void
token_with_bus (GTask           *task,
                GDBusConnection *bus)
{
  call_managed_objects (bus, g_task_get_cancellable (task), token_list_cb, g_object_ref (task));
}

void
envoi_goa_get_access_token_async (GDBusConnection     *bus,
                                  const char          *goa_account_id,
                                  const char          *rejected_token,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  TokenData *data;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (goa_account_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_goa_get_access_token_async);
  data = g_new0 (TokenData, 1);
  data->goa_account_id = g_strdup (goa_account_id);
  data->rejected_token = g_strdup (rejected_token);
  g_task_set_task_data (task, data, (GDestroyNotify) token_data_free);

  with_bus (task, bus, token_with_bus);
}

char *
envoi_goa_get_access_token_finish (GAsyncResult  *result,
                                   char         **identity,
                                   GError       **error)
{
  return envoi_goa_get_access_token_finish_full (result, identity, NULL, error);
}

/* As envoi_goa_get_access_token_finish(), and `expires_in` (may be NULL) receives the token's
 * life in seconds as GOA said, 0 if unknown. */
char *
envoi_goa_get_access_token_finish_full (GAsyncResult  *result,
                                        char         **identity,
                                        gint          *expires_in,
                                        GError       **error)
{
  TokenResult *token_result;
  char *token;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  token_result = g_task_propagate_pointer (G_TASK (result), error);
  if (token_result == NULL)
    return NULL;

  if (identity != NULL)
    *identity = g_steal_pointer (&token_result->identity);
  if (expires_in != NULL)
    *expires_in = token_result->expires_in;
  token = g_steal_pointer (&token_result->token);
  token_result_free (token_result);
  return token;
}

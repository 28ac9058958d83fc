/* envoi-account-saver.c: saving one account, its secrets in the keyring before its settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The keyring comes first, so that a refused password leaves the settings as they were. The
 * secrets are stored one by one, the SMTP one first; each one stored remembers what it
 * replaced, so that when a later one is refused the earlier ones go back and nothing is
 * half-saved. The password of a GOA password account is asked of GOA before anything is
 * stored.
 */

#define G_LOG_DOMAIN "envoi-account-saver"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account-saver.h"
#include "envoi-secret.h"

#define N_SERVICES (ENVOI_SERVICE_HTTP + 1)

typedef struct
{
  EnvoiService  service;
  char         *secret;
} PendingSecret;

struct _EnvoiAccountSaver
{
  GObject            parent_instance;

  EnvoiAccountStore *store;
  EnvoiAccount      *account;              /* as it is saved */
  EnvoiAccount      *previous;             /* as it was: stored secrets go back under it */
  gboolean           is_new;
  char              *typed[N_SERVICES];    /* by EnvoiService: a new secret, or NULL */
  char              *saved[N_SERVICES];    /* by EnvoiService: what the keyring held, or NULL */
  EnvoiGoaAccount   *goa_account;          /* the SMTP password is copied from it */
  gboolean           started;
  GQueue             secrets_to_store;     /* PendingSecret, stored one by one before settings */
  GQueue             secrets_stored;       /* PendingSecret: what each stored one replaced */
};

G_DEFINE_FINAL_TYPE (EnvoiAccountSaver, envoi_account_saver, G_TYPE_OBJECT)

static void
pending_secret_free (gpointer data)
{
  PendingSecret *pending = data;

  envoi_secret_free (pending->secret);
  g_free (pending);
}

static void
queue_secret (EnvoiAccountSaver *self,
              EnvoiService       service,
              const char        *secret)
{
  PendingSecret *pending = g_new0 (PendingSecret, 1);

  pending->service = service;
  pending->secret = g_strdup (secret);
  g_queue_push_tail (&self->secrets_to_store, pending);
}

/* Its provider is "goa:<id>": GOA keeps the sign-in, the keyring nothing. */
static gboolean
signs_in_with_goa (EnvoiAccount *account)
{
  return envoi_goa_account_id_from_provider (envoi_account_get_provider (account)) != NULL;
}

static gboolean
secret_attributes_changed (EnvoiAccount *a,
                           EnvoiAccount *b)
{
  return g_strcmp0 (envoi_account_get_host (a), envoi_account_get_host (b)) != 0 ||
         envoi_account_get_port (a) != envoi_account_get_port (b) ||
         g_strcmp0 (envoi_account_get_login (a), envoi_account_get_login (b)) != 0;
}

/* The SMTP password to store, or NULL. */
static const char *
smtp_secret (EnvoiAccountSaver *self)
{
  const char *typed = self->typed[ENVOI_SERVICE_SMTP];
  const char *saved = self->saved[ENVOI_SERVICE_SMTP];

  if (signs_in_with_goa (self->account) || self->goa_account != NULL)
    return NULL;   /* GOA keeps the sign-in, or gives its password before the others */
  if (envoi_account_get_auth_method (self->account) == ENVOI_AUTH_METHOD_NONE)
    return NULL;
  if (typed != NULL)
    return typed;
  if (saved != NULL && secret_attributes_changed (self->account, self->previous))
    return saved;   /* the item follows the new server and login */

  return NULL;
}

static const char *
mailbox_host (EnvoiAccount *account,
              EnvoiService  service)
{
  return service == ENVOI_SERVICE_POP3 ? envoi_account_get_pop_host (account)
                                       : envoi_account_get_imap_host (account);
}

static guint16
mailbox_port (EnvoiAccount *account,
              EnvoiService  service)
{
  return service == ENVOI_SERVICE_POP3 ? envoi_account_get_pop_port (account)
                                       : envoi_account_get_imap_port (account);
}

/* A mailbox server's own password: the one typed, else the stored one when the item must
 * follow a new server or login (its attributes name them, for msmtp). */
static void
queue_mailbox_secret (EnvoiAccountSaver *self,
                      EnvoiService       service)
{
  EnvoiAccount *account = self->account;
  EnvoiAccount *previous = self->previous;
  const char *typed = self->typed[service];
  const char *saved = self->saved[service];

  if (typed != NULL)
    {
      queue_secret (self, service, typed);
      return;
    }

  if (saved != NULL &&
      (g_strcmp0 (mailbox_host (account, service), mailbox_host (previous, service)) != 0 ||
       mailbox_port (account, service) != mailbox_port (previous, service) ||
       g_strcmp0 (envoi_account_get_login (account), envoi_account_get_login (previous)) != 0))
    queue_secret (self, service, saved);
}

static void
sender_bus_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree char *account_id = user_data;
  g_autoptr(GDBusConnection) bus = g_bus_get_finish (result, NULL);

  /* Not started if it is not running: a sender that starts looks the password up anyway. */
  if (bus != NULL)
    g_dbus_connection_call (bus, SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                            "io.github.envoimail.Envoi.Sender1", "ResumeAccount",
                            g_variant_new ("(s)", account_id), NULL,
                            G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

/* A password was stored: the background sender forgets the one it holds and, if the account
 * is paused (a refused login), tries it again now, even if no setting changed. */
static void
tell_sender (EnvoiAccount *account)
{
  g_bus_get (G_BUS_TYPE_SESSION, NULL, sender_bus_cb, g_strdup (envoi_account_get_id (account)));
}

/* Every secret is written: the settings follow. */
static void
finish_save (GTask *task)
{
  EnvoiAccountSaver *self = g_task_get_source_object (task);
  EnvoiAccount *account = self->account;
  gboolean stored = !g_queue_is_empty (&self->secrets_stored);

  g_queue_clear_full (&self->secrets_stored, pending_secret_free);
  if (self->is_new)
    envoi_account_store_add (self->store, account);
  else
    envoi_account_save (account);
  if (stored)
    tell_sender (account);

  /* No login, or one through GOA: no password is kept. */
  if ((envoi_account_get_auth_method (account) == ENVOI_AUTH_METHOD_NONE ||
       signs_in_with_goa (account)) &&
      self->saved[ENVOI_SERVICE_SMTP] != NULL)
    envoi_secret_clear_async (envoi_account_get_id (account), ENVOI_SERVICE_SMTP, NULL, NULL, NULL);

  g_task_return_boolean (task, TRUE);
}

/* A later secret was refused: the ones already stored go back to what they replaced (stored
 * under the account as it was), or are cleared when there was none, so nothing is half-saved.
 * Best effort: the keyring that just refused may refuse this too, and the toast says so. */
static void
roll_back_secrets (EnvoiAccountSaver *self)
{
  PendingSecret *stored;

  while ((stored = g_queue_pop_head (&self->secrets_stored)) != NULL)
    {
      if (stored->secret != NULL && !self->is_new)
        envoi_secret_store_async (self->previous, stored->service, stored->secret, NULL,
                                  NULL, NULL);
      else
        envoi_secret_clear_async (envoi_account_get_id (self->account), stored->service,
                                  NULL, NULL, NULL);
      pending_secret_free (stored);
    }
}

static void store_secret_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data);

/* Stores the next queued secret, or saves the settings once every one is stored. */
static void
store_next_secret (GTask *task)
{
  EnvoiAccountSaver *self = g_task_get_source_object (task);
  PendingSecret *pending = g_queue_pop_head (&self->secrets_to_store);

  if (pending == NULL)
    {
      finish_save (task);
      return;
    }

  envoi_secret_store_async (self->account, pending->service, pending->secret,
                            g_task_get_cancellable (task), store_secret_cb, g_object_ref (task));

  /* Remember what this one replaces, in case a later one is refused. */
  envoi_secret_free (pending->secret);
  pending->secret = g_strdup (self->saved[pending->service]);
  g_queue_push_tail (&self->secrets_stored, pending);
}

static void
store_secret_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiAccountSaver *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  PendingSecret *refused;

  if (envoi_secret_store_finish (result, &error))
    {
      store_next_secret (task);
      return;
    }

  /* The one refused wrote nothing; the ones before it are put back. */
  refused = g_queue_pop_tail (&self->secrets_stored);
  if (refused != NULL)
    pending_secret_free (refused);
  roll_back_secrets (self);
  g_queue_clear_full (&self->secrets_to_store, pending_secret_free);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Translators: %s says why the keyring refused the password */
  g_task_return_new_error (task, error->domain, error->code,
                           _("Nothing was saved: the password could not be stored. %s"),
                           error->message);
}

/* The password of an online account, copied from GOA: stored first, then the others. */
static void
goa_password_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiAccountSaver *self = g_task_get_source_object (task);
  g_autoptr(EnvoiSecretString) password = NULL;
  g_autoptr(GError) error = NULL;

  password = envoi_goa_get_password_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (error != NULL)
    {
      g_queue_clear_full (&self->secrets_to_store, pending_secret_free);
      /* Translators: %s says why GNOME Online Accounts gave no password */
      g_task_return_new_error (task, error->domain, error->code,
                               _("Nothing was saved: the password could not be copied from "
                                 "GNOME Online Accounts. %s"), error->message);
      return;
    }

  if (password != NULL)
    {
      PendingSecret *pending = g_new0 (PendingSecret, 1);

      pending->service = ENVOI_SERVICE_SMTP;
      pending->secret = g_strdup (password);
      g_queue_push_head (&self->secrets_to_store, pending);
    }
  store_next_secret (task);
}

static void
envoi_account_saver_finalize (GObject *object)
{
  EnvoiAccountSaver *self = ENVOI_ACCOUNT_SAVER (object);

  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_object (&self->previous);
  for (guint i = 0; i < N_SERVICES; i++)
    {
      g_clear_pointer (&self->typed[i], envoi_secret_free);
      g_clear_pointer (&self->saved[i], envoi_secret_free);
    }
  g_clear_pointer (&self->goa_account, envoi_goa_account_unref);
  g_queue_clear_full (&self->secrets_to_store, pending_secret_free);
  g_queue_clear_full (&self->secrets_stored, pending_secret_free);

  G_OBJECT_CLASS (envoi_account_saver_parent_class)->finalize (object);
}

static void
envoi_account_saver_class_init (EnvoiAccountSaverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_account_saver_finalize;
}

static void
envoi_account_saver_init (EnvoiAccountSaver *self)
{
  g_queue_init (&self->secrets_to_store);
  g_queue_init (&self->secrets_stored);
}

/* @account is saved as given: added to @store when @is_new, else written over its settings.
 * Stored secrets that it makes stale follow it from @previous. */
EnvoiAccountSaver *
envoi_account_saver_new (EnvoiAccountStore *store,
                         EnvoiAccount      *account,
                         EnvoiAccount      *previous,
                         gboolean           is_new)
{
  EnvoiAccountSaver *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (previous), NULL);

  self = g_object_new (ENVOI_TYPE_ACCOUNT_SAVER, NULL);
  self->store = g_object_ref (store);
  self->account = g_object_ref (account);
  self->previous = g_object_ref (previous);
  self->is_new = is_new;

  return self;
}

/* What the form holds for @service: a secret typed, stored when the account uses that service,
 * and the one in the keyring, which follows a changed server or login and is put back if a
 * later secret is refused. */
void
envoi_account_saver_set_secret (EnvoiAccountSaver *self,
                                EnvoiService       service,
                                const char        *typed,
                                const char        *saved)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_SAVER (self));
  g_return_if_fail ((guint) service < N_SERVICES);
  g_return_if_fail (!self->started);

  envoi_secret_free (self->typed[service]);
  self->typed[service] = g_strdup (typed);
  envoi_secret_free (self->saved[service]);
  self->saved[service] = g_strdup (saved);
}

/* The SMTP password is asked of GOA on Save, not typed: GOA may have changed it since. */
void
envoi_account_saver_set_goa_password_account (EnvoiAccountSaver *self,
                                              EnvoiGoaAccount   *goa_account)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_SAVER (self));
  g_return_if_fail (!self->started);

  g_clear_pointer (&self->goa_account, envoi_goa_account_unref);
  if (goa_account != NULL)
    self->goa_account = envoi_goa_account_ref (goa_account);
}

/* Cancelling puts back what was stored, as a refusal does; once the settings are written the
 * save has happened and no longer counts as cancelled. Saves once. */
void
envoi_account_saver_save_async (EnvoiAccountSaver   *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  EnvoiAccount *account;
  const char *secret;

  g_return_if_fail (ENVOI_IS_ACCOUNT_SAVER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (!self->started);

  self->started = TRUE;
  account = self->account;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_account_saver_save_async);
  /* Cancelled before the settings are written, the steps below say so themselves. */
  g_task_set_check_cancellable (task, FALSE);

  /* Every secret first, the SMTP one then the others: a refused one saves nothing. */
  secret = smtp_secret (self);
  if (secret != NULL)
    queue_secret (self, ENVOI_SERVICE_SMTP, secret);
  if (envoi_account_get_pop_before_smtp (account))
    queue_mailbox_secret (self, ENVOI_SERVICE_POP3);
  if (*envoi_account_get_imap_host (account) != '\0')
    queue_mailbox_secret (self, ENVOI_SERVICE_IMAP);
  if (self->typed[ENVOI_SERVICE_HTTP] != NULL)
    queue_secret (self, ENVOI_SERVICE_HTTP, self->typed[ENVOI_SERVICE_HTTP]);

  if (self->goa_account != NULL &&
      envoi_account_get_auth_method (account) != ENVOI_AUTH_METHOD_NONE)
    {
      envoi_goa_get_password_async (NULL, self->goa_account, cancellable, goa_password_cb,
                                    g_steal_pointer (&task));
      return;
    }

  store_next_secret (task);
}

/* Returns whether the account was saved. A refused secret or GOA password is an error whose
 * message says that nothing was saved, and why. */
gboolean
envoi_account_saver_save_finish (EnvoiAccountSaver  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_SAVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_account_saver_save_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

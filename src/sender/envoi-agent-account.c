/* envoi-agent-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-transport"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-agent-account.h"
#include "envoi-agent-goa.h"
#include "envoi-goa.h"
#include "envoi-http-transport.h"
#include "envoi-mailbox-client.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"

/* A POP3 login opens the SMTP server to this address for a while (typically 5 to 30 minutes):
 * log in again before each SMTP session, and within a reused one after this long. */
#define POP_BEFORE_SMTP_SECONDS (4 * 60)

struct _EnvoiAgentAccount
{
  GObject          parent_instance;

  EnvoiAccount    *account;
  EnvoiSmtpClient *client;      /* reused for every message until reset */
  guint            generation;  /* bumped by reset: a late secret lookup is thrown away */
  guint            busy : 1;    /* a send that may look up, log in or copy is under way */
  guint            halted : 1;  /* a send failed: the waiting ones go back unattempted */

  /* Pipelining (issue 20): while the account has a client that needs nothing else, each send
   * goes straight to the client's worker, which runs them back to back over one connection;
   * the others wait here for the sends before them to end. */
  guint            in_pipeline; /* sends handed to the client's worker */
  GQueue           waiting;     /* GTask, oldest first */

  /* POP-before-SMTP, the IMAP sent copy and the HTTP transport (issue 8). */
  EnvoiHttpTransport *http;     /* instead of client when the account sends over HTTP */
  EnvoiMailboxClient *imap;     /* reused for every sent copy until reset */
  gint64              pop_valid_until;
};

G_DEFINE_FINAL_TYPE (EnvoiAgentAccount, envoi_agent_account, G_TYPE_OBJECT)

typedef struct
{
  char      *envelope_from;
  GStrv      recipients;
  GBytes    *message;
  guint      generation;
  gboolean   fallback;    /* looking up the SMTP password for POP3 or IMAP */
  const struct _SecretStep *step;  /* the keyring lookup under way, see lookup_secret() */
  char      *reply;       /* the server's last reply, once sent */
  GError    *copy_error;  /* the message was sent, but its copy could not be saved */
  gboolean   pipelined;   /* handed straight to the client's worker */
} SendData;

static void
send_data_free (gpointer data)
{
  SendData *send = data;

  g_free (send->envelope_from);
  g_strfreev (send->recipients);
  g_bytes_unref (send->message);
  g_free (send->reply);
  g_clear_error (&send->copy_error);
  g_free (send);
}

static void kick (EnvoiAgentAccount *self);

/* The account is free again before the caller hears of the result, so that it may go on. */
static void
return_result (GTask  *task,
               GError *error)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  SendData *send = g_task_get_task_data (task);

  if (send->pipelined)
    self->in_pipeline--;
  else
    self->busy = FALSE;
  /* The sender decides on a failure before anything after it is tried. */
  if (error != NULL)
    self->halted = TRUE;

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_strdup (send->reply != NULL ? send->reply : ""), g_free);

  kick (self);
}

static void delivered (GTask *task,
                       char  *reply);

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_smtp_client_send_finish (ENVOI_SMTP_CLIENT (source), result, &error);
  g_assert (reply != NULL || error != NULL);
  if (error != NULL)
    return_result (task, g_steal_pointer (&error));
  else
    delivered (g_steal_pointer (&task), g_steal_pointer (&reply));
}

static void
start_send (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  g_assert (self->client != NULL);

  envoi_smtp_client_send_async (self->client,
                                send->envelope_from,
                                (const char * const *) send->recipients,
                                send->message,
                                g_task_get_cancellable (task),
                                send_cb,
                                task);
}


/* ---- POP-before-SMTP, the IMAP sent copy and the HTTP transport (issue 8) ------------------ */

/* A copy that could not be stored is reported by the daemon (journal, delivery log, desktop
 * notification), but the message was delivered: that stays so. */
static void
report_copy_failure (GTask        *task,
                     const GError *error)
{
  SendData *send = g_task_get_task_data (task);

  g_clear_error (&send->copy_error);
  send->copy_error = g_error_copy (error);
}

static void
copy_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = NULL;

  folder = envoi_mailbox_client_append_sent_finish (ENVOI_MAILBOX_CLIENT (source), result, &error);
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    report_copy_failure (task, error);
  else if (folder != NULL)
    g_debug ("Saved a copy in %s", folder);

  return_result (task, NULL);
}

static void
start_copy (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  envoi_mailbox_client_append_sent_async (self->imap, send->message, g_task_get_cancellable (task),
                                          copy_cb, task);
}


static void start_http_send (GTask *task);
static void start_first (GTask *task);
static void pop_login_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* ---- the keyring: one lookup for every step that needs a password --------------------------- */

/* What a send does once the keyring has answered for @service; @then takes the task. */
typedef struct _SecretStep
{
  EnvoiService   service;
  gboolean       smtp_fallback;  /* no password of its own: the SMTP one (POP3, IMAP) */
  gboolean       optional;       /* failing loses the sent copy only, not the message (IMAP) */
  void         (*then) (GTask *task, const char *secret);
} SecretStep;

static void
secret_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);
  /* Taken before the task is handed on: argument order is unspecified in C. */
  GCancellable *cancellable = g_task_get_cancellable (task);
  const SecretStep *step = send->step;

  secret = envoi_secret_lookup_finish (result, &error);
  if (error != NULL && step->optional)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        report_copy_failure (task, error);
      return_result (task, NULL);
      return;
    }
  if (error != NULL)
    {
      return_result (task, g_steal_pointer (&error));
      return;
    }

  /* The settings changed while the keyring answered: that answer may be for the old ones. */
  if (send->generation != self->generation)
    {
      send->generation = self->generation;
      send->fallback = FALSE;
      envoi_secret_lookup_no_prompt_async (self->account, step->service, cancellable, secret_cb,
                                           g_steal_pointer (&task));
      return;
    }

  if (secret == NULL && step->smtp_fallback && !send->fallback)
    {
      send->fallback = TRUE;
      envoi_secret_lookup_no_prompt_async (self->account, ENVOI_SERVICE_SMTP, cancellable,
                                           secret_cb, g_steal_pointer (&task));
      return;
    }

  step->then (g_steal_pointer (&task), secret);
}

/* Takes the caller's reference to @task. */
static void
lookup_secret (GTask            *task,
               const SecretStep *step)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  send->step = step;
  send->fallback = FALSE;
  envoi_secret_lookup_no_prompt_async (self->account, step->service, cancellable, secret_cb, task);
}

/* The sends queued on it stop at a failure: see envoi_smtp_client_set_halt_after_failure(). */
static EnvoiSmtpClient *
new_client (EnvoiAgentAccount *self,
            const char        *secret)
{
  EnvoiSmtpClient *client = envoi_smtp_client_new (self->account, secret);

  envoi_smtp_client_set_halt_after_failure (client, TRUE);

  return client;
}

static void
smtp_secret_ready (GTask      *task,
                   const char *secret)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  if (self->client == NULL)
    self->client = new_client (self, secret);
  start_send (task);
}

static void
copy_secret_ready (GTask      *task,
                   const char *secret)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  if (self->imap == NULL)
    self->imap = envoi_mailbox_client_new (self->account, ENVOI_SERVICE_IMAP, secret);
  start_copy (task);
}

static void
http_secret_ready (GTask      *task,
                   const char *secret)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  if (self->http == NULL)
    self->http = envoi_http_transport_new (self->account, secret);
  start_http_send (task);
}

static void
pop_secret_ready (GTask      *task,
                  const char *secret)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(EnvoiMailboxClient) pop = envoi_mailbox_client_new (self->account,
                                                                 ENVOI_SERVICE_POP3, secret);

  envoi_mailbox_client_login_async (pop, cancellable, pop_login_cb, task);
}

static const SecretStep smtp_step = { ENVOI_SERVICE_SMTP, FALSE, FALSE, smtp_secret_ready };
static const SecretStep copy_step = { ENVOI_SERVICE_IMAP, TRUE, TRUE, copy_secret_ready };
static const SecretStep http_step = { ENVOI_SERVICE_HTTP, FALSE, FALSE, http_secret_ready };
static const SecretStep pop_step = { ENVOI_SERVICE_POP3, TRUE, FALSE, pop_secret_ready };

/* ---- end of the keyring part -------------------------------------------------------------- */

/* The message is delivered: store the sent copy if the account wants one, then say so.
 * Takes the caller's reference to @task, and @reply. */
static void
delivered (GTask *task,
           char  *reply)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);
  const char *imap_host = envoi_account_get_imap_host (self->account);

  send->reply = reply;

  if (!envoi_account_get_save_sent_copy (self->account) || imap_host == NULL || *imap_host == '\0')
    {
      return_result (task, NULL);
      g_object_unref (task);
      return;
    }

  send->fallback = FALSE;
  if (self->imap != NULL)
    start_copy (task);
  else
    lookup_secret (task, &copy_step);
}

static void
http_send_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_http_transport_send_finish (ENVOI_HTTP_TRANSPORT (source), result, &error);
  if (error != NULL)
    return_result (task, g_steal_pointer (&error));
  else
    delivered (g_steal_pointer (&task), g_steal_pointer (&reply));
}

static void
start_http_send (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  envoi_http_transport_send_async (self->http, send->envelope_from,
                                   (const char * const *) send->recipients, send->message,
                                   g_task_get_cancellable (task), http_send_cb, task);
}


static void start_smtp (GTask *task);

static void
pop_login_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  if (!envoi_mailbox_client_login_finish (ENVOI_MAILBOX_CLIENT (source), result, &error))
    {
      /* The SMTP server would refuse for the same reason: let the sender treat it as such
       * (a refused login pauses the account, an unreachable server is retried). */
      if (error->domain == ENVOI_MAILBOX_ERROR)
        {
          GError *smtp_error = g_error_new_literal (ENVOI_SMTP_ERROR,
                                                    envoi_mailbox_error_to_smtp_class (error),
                                                    error->message);

          return_result (task, smtp_error);
        }
      else
        return_result (task, g_steal_pointer (&error));
      return;
    }

  self->pop_valid_until = g_get_monotonic_time () + POP_BEFORE_SMTP_SECONDS * G_USEC_PER_SEC;
  start_smtp (g_steal_pointer (&task));
}


/* ---- end of the issue 8 block ------------------------------------------------------------- */

/* ---- OAuth 2 through GNOME Online Accounts (issue 9) --------------------------------------- */

/* The sender pauses an account on the SMTP errors that say its sign-in is wrong: GOA's failures
 * are put in those terms, with GOA's message, which says what to do.
 *   - SIGN_IN_NEEDED (GOA says not authorized, or the server refused a fresh token), NO_ACCOUNT
 *     (the online account was removed) and NOT_SUPPORTED (it no longer sends mail, or no longer
 *     signs in with OAuth 2) need the person: retrying changes nothing until they sign in again
 *     or choose another account, so they pause it like a refused password.
 *   - NOT_RUNNING and FAILED (GOA could not renew the token for another reason, typically no
 *     network) may pass by themselves: GOA is started on demand and may be restarting, the
 *     network may come back. They stay in the GOA domain, which the sender retries later. */
static GError *
goa_error_for_sender (GError *error)
{
  GError *smtp_error;

  if (error->domain != ENVOI_GOA_ERROR
      || error->code == ENVOI_GOA_ERROR_NOT_RUNNING
      || error->code == ENVOI_GOA_ERROR_FAILED)
    return error;

  smtp_error = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED, error->message);
  g_error_free (error);
  return smtp_error;
}

static void
goa_send_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(EnvoiSmtpClient) session = NULL;
  g_autofree char *reply = NULL;
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);
  GError *error = NULL;

  reply = envoi_agent_goa_send_finish (result, &session, &error);
  if (reply == NULL)
    {
      g_clear_object (&self->client);
      return_result (task, goa_error_for_sender (error));
      return;
    }

  /* The next message reuses the session unless the settings changed meanwhile. */
  if (send->generation == self->generation)
    g_set_object (&self->client, session);
  delivered (g_steal_pointer (&task), g_steal_pointer (&reply));
}

/* An account whose provider is "goa:<id>": no password in the keyring, a token from GOA for
 * each session (see envoi_agent_goa_send_async). */
static void
start_goa_send (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  envoi_agent_goa_send_async (NULL, self->account, self->client, send->envelope_from,
                        (const char * const *) send->recipients, send->message,
                        g_task_get_cancellable (task), goa_send_cb, task);
}

/* ---- end of the issue 9 block ------------------------------------------------------------- */

static void
envoi_agent_account_dispose (GObject *object)
{
  EnvoiAgentAccount *self = ENVOI_AGENT_ACCOUNT (object);

  /* Every waiting send holds a reference: none is left. */
  g_assert (g_queue_is_empty (&self->waiting));
  g_clear_object (&self->client);
  g_clear_object (&self->http);
  g_clear_object (&self->imap);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (envoi_agent_account_parent_class)->dispose (object);
}

static void
envoi_agent_account_class_init (EnvoiAgentAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_agent_account_dispose;
}

static void
envoi_agent_account_init (EnvoiAgentAccount *self)
{
  g_queue_init (&self->waiting);
}

EnvoiAgentAccount *
envoi_agent_account_new (EnvoiAccount *account)
{
  EnvoiAgentAccount *self;

  g_return_val_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_AGENT_ACCOUNT, NULL);
  self->account = account != NULL ? g_object_ref (account) : NULL;

  return self;
}

EnvoiAccount *
envoi_agent_account_get_account (EnvoiAgentAccount *self)
{
  g_return_val_if_fail (ENVOI_IS_AGENT_ACCOUNT (self), NULL);

  return self->account;
}

void
envoi_agent_account_set_account (EnvoiAgentAccount *self,
                                 EnvoiAccount      *account)
{
  g_return_if_fail (ENVOI_IS_AGENT_ACCOUNT (self));
  g_return_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account));

  /* A new settings generation need not be a new server or login: only a real change starts
   * afresh. */
  if (self->account != NULL && account != NULL && envoi_account_equal (self->account, account))
    return;
  if (g_set_object (&self->account, account))
    envoi_agent_account_reset (self);
}

void
envoi_agent_account_reset (EnvoiAgentAccount *self)
{
  g_return_if_fail (ENVOI_IS_AGENT_ACCOUNT (self));

  /* A send in flight keeps its own reference to the old client until it ends. */
  g_clear_object (&self->client);
  g_clear_object (&self->http);
  g_clear_object (&self->imap);
  self->pop_valid_until = 0;
  self->generation++;
}

void
envoi_agent_account_send_async (EnvoiAgentAccount   *self,
                                const char          *envelope_from,
                                const char * const  *recipients,
                                GBytes              *message,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *send;

  g_return_if_fail (ENVOI_IS_AGENT_ACCOUNT (self));
  g_return_if_fail (self->account != NULL);
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_agent_account_send_async);

  send = g_new0 (SendData, 1);
  send->envelope_from = g_strdup (envelope_from);
  send->recipients = g_strdupv ((char **) recipients);
  send->message = g_bytes_ref (message);
  send->generation = self->generation;
  g_task_set_task_data (task, send, send_data_free);

  g_queue_push_tail (&self->waiting, g_steal_pointer (&task));
  kick (self);
}

/* Only the plain case is pipelined: an SMTP session already open, no POP3 login, no OAuth 2
 * token to fetch, no sent copy to save after each message. */
static gboolean
can_pipeline (EnvoiAgentAccount *self)
{
  const char *imap_host = envoi_account_get_imap_host (self->account);

  return self->client != NULL
         && envoi_account_get_transport (self->account) == ENVOI_TRANSPORT_SMTP
         && !envoi_account_get_pop_before_smtp (self->account)
         && envoi_goa_account_id_from_provider (envoi_account_get_provider (self->account)) == NULL
         && (!envoi_account_get_save_sent_copy (self->account) || imap_host == NULL || *imap_host == '\0');
}

/* Starts what may start: every waiting send the client can take at once, or the next one
 * alone once nothing is under way. After a failure, what waited goes back unattempted. */
static void
kick (EnvoiAgentAccount *self)
{
  if (self->halted)
    {
      if (self->busy || self->in_pipeline > 0)
        return;
      self->halted = FALSE;
      while (!g_queue_is_empty (&self->waiting))
        {
          g_autoptr(GTask) task = g_queue_pop_head (&self->waiting);

          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "Not attempted: a message sent before it failed");
        }
      return;
    }

  while (!self->busy && !self->halted && !g_queue_is_empty (&self->waiting))
    {
      GTask *task;

      if (can_pipeline (self))
        {
          SendData *send;

          task = g_queue_pop_head (&self->waiting);
          send = g_task_get_task_data (task);
          send->pipelined = TRUE;
          self->in_pipeline++;
          start_send (task);
          continue;
        }
      if (self->in_pipeline > 0)
        return;

      task = g_queue_pop_head (&self->waiting);
      self->busy = TRUE;
      start_first (task);
    }
}

/* Takes the caller's reference to @task. */
static void
start_first (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);

  if (envoi_account_get_transport (self->account) != ENVOI_TRANSPORT_SMTP)
    {
      if (self->http != NULL)
        start_http_send (task);
      else
        lookup_secret (task, &http_step);
    }
  else if (envoi_account_get_pop_before_smtp (self->account)
           && (self->client == NULL || g_get_monotonic_time () >= self->pop_valid_until))
    lookup_secret (task, &pop_step);
  else
    start_smtp (task);
}

static void
start_smtp (GTask *task)
{
  EnvoiAgentAccount *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  send->fallback = FALSE;
  if (envoi_goa_account_id_from_provider (envoi_account_get_provider (self->account)) != NULL)
    start_goa_send (task);
  else if (self->client != NULL)
    start_send (task);
  else if (envoi_account_get_auth_method (self->account) == ENVOI_AUTH_METHOD_NONE)
    {
      self->client = new_client (self, NULL);
      start_send (task);
    }
  else
    lookup_secret (task, &smtp_step);
}

char *
envoi_agent_account_send_finish (EnvoiAgentAccount  *self,
                                 GAsyncResult       *result,
                                 GError            **copy_error,
                                 GError            **error)
{
  SendData *send;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  send = g_task_get_task_data (G_TASK (result));
  if (copy_error != NULL && send->copy_error != NULL)
    *copy_error = g_error_copy (send->copy_error);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* envoi-agent.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "envoi-agent.h"
#include "envoi-agent-channel.h"
#include "envoi-agent-protocol.h"
#include "envoi-smtp-error.h"

#define AGENT_NAME                  "envoi-sender-transport"
#define DEFAULT_IDLE_TIMEOUT_SECONDS 20

/* One started agent process and the channel to it. A new one replaces it when it exits; what
 * was sent through it holds a reference until its answer comes. */
typedef struct
{
  gatomicrefcount    ref_count;
  EnvoiAgent        *agent;        /* not a reference: the agent outlives its links */
  GSubprocess       *process;
  EnvoiAgentChannel *channel;
  GHashTable        *pending;      /* serial → GTask of a send without an answer yet */
  GHashTable        *generations;  /* account id → the settings generation it was sent */
  guint              dead : 1;
} Link;

struct _EnvoiAgent
{
  GObject  parent_instance;

  char    *path;
  Link    *link;          /* the running agent, or NULL */
  guint32  last_serial;
  guint    in_flight;     /* sends without an answer yet */
  guint    idle_timeout;  /* seconds */
  guint    idle_id;
};

G_DEFINE_FINAL_TYPE (EnvoiAgent, envoi_agent, G_TYPE_OBJECT)

enum {
  SENT_COPY_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static Link *
link_ref (Link *link)
{
  g_atomic_ref_count_inc (&link->ref_count);

  return link;
}

static void
link_unref (Link *link)
{
  if (!g_atomic_ref_count_dec (&link->ref_count))
    return;

  g_assert (link->dead);
  g_assert (g_hash_table_size (link->pending) == 0);
  g_clear_pointer (&link->pending, g_hash_table_unref);
  g_clear_pointer (&link->generations, g_hash_table_unref);
  g_clear_object (&link->channel);
  g_clear_object (&link->process);
  g_free (link);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Link, link_unref)

typedef struct
{
  Link    *link;
  guint32  serial;
  char    *account_id;
  gulong   cancelled_id;
} SendData;

static void
send_data_free (gpointer data)
{
  SendData *send = data;

  g_clear_pointer (&send->link, link_unref);
  g_free (send->account_id);
  g_free (send);
}

/* What a send that the agent never answered becomes: a temporary failure, so that the message
 * stays queued and is sent again (it may have reached the server: at least once, never lost). */
static GError *
agent_stopped_error (const GError *cause)
{
  if (cause != NULL)
    g_debug ("The delivery agent did not answer: %s", cause->message);

  return g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE,
                              _("The sending process stopped before the server confirmed the message. It will be sent again."));
}

static void update_idle (EnvoiAgent *self);

/* The send's task, no longer pending: the caller returns it. */
static GTask *
take_pending (Link    *link,
              guint32  serial)
{
  gpointer task = NULL;
  SendData *send;

  if (!g_hash_table_steal_extended (link->pending, GUINT_TO_POINTER (serial), NULL, &task))
    return NULL;

  send = g_task_get_task_data (task);
  if (send->cancelled_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (task), send->cancelled_id);
  send->cancelled_id = 0;
  link->agent->in_flight--;

  return task;
}

static int
compare_serials (gconstpointer a,
                 gconstpointer b)
{
  guint32 x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);

  /* Serials wrap around: the order is that of their distance. */
  return (gint32) (x - y) < 0 ? -1 : x != y;
}

static void
link_die (Link         *link,
          const GError *error)
{
  EnvoiAgent *self = link->agent;
  GHashTable *accounts;
  GList *serials;

  if (link->dead)
    return;

  link->dead = TRUE;
  if (self->link == link)
    self->link = NULL;

  /* The agent sees the socket close and exits, if it has not already. */
  g_signal_handlers_disconnect_by_data (link->channel, link);
  envoi_agent_channel_close (link->channel);

  /* The agent sends each account's messages in the order given: the oldest one of an account
   * may have reached the server, and is a temporary failure; those behind it were not
   * attempted, and go back to the queue as they were. */
  serials = g_list_sort (g_hash_table_get_keys (link->pending), compare_serials);
  /* Copies: a task's data goes with the task, at the end of each turn. */
  accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (GList *l = serials; l != NULL; l = l->next)
    {
      g_autoptr(GTask) task = take_pending (link, GPOINTER_TO_UINT (l->data));
      SendData *send = g_task_get_task_data (task);

      if (g_hash_table_add (accounts, g_strdup (send->account_id)))
        g_task_return_error (task, agent_stopped_error (error));
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 "Not attempted: the sending process stopped before");
    }
  g_hash_table_unref (accounts);
  g_list_free (serials);

  update_idle (self);
  link_unref (link);  /* the reference of being alive */
}

static void
answer (Link         *link,
        guint32       serial,
        const char   *reply,
        GError       *error)
{
  g_autoptr(GTask) task = take_pending (link, serial);
  SendData *send;

  if (task == NULL)
    {
      g_debug ("The delivery agent answered send %u, which it was not given", serial);
      g_clear_error (&error);
      return;
    }

  send = g_task_get_task_data (task);
  if (error == NULL)
    {
      g_debug ("Sent: %s", reply);
      /* The server's last reply: the delivery history keeps it. */
      g_task_return_pointer (task, g_strdup (reply != NULL ? reply : ""), g_free);
    }
  else
    {
      /* Whatever became of the settings, the next send carries them again. */
      g_hash_table_remove (link->generations, send->account_id);
      g_task_return_error (task, error);
    }

  update_idle (link->agent);
}

static void
frame_cb (EnvoiAgentChannel *channel,
          const char        *kind,
          GVariant          *body,
          int                fd,
          gpointer           user_data)
{
  Link *link = user_data;
  const char *text, *account_id;
  guint32 serial;

  if (g_str_equal (kind, ENVOI_AGENT_SENT)
      && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_SENT_TYPE)))
    {
      g_variant_get (body, "(u&s)", &serial, &text);
      answer (link, serial, text, NULL);
    }
  else if (g_str_equal (kind, ENVOI_AGENT_FAILED)
           && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_FAILED_TYPE)))
    {
      GError *error = envoi_agent_failure_from_variant (body, &serial);

      answer (link, serial, NULL, error);
    }
  else if (g_str_equal (kind, ENVOI_AGENT_UNKNOWN_SETTINGS)
           && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_UNKNOWN_SETTINGS_TYPE)))
    {
      /* Settings that the agent did not have (it never should): the next attempt has them. */
      g_variant_get (body, "(u)", &serial);
      answer (link, serial, NULL, agent_stopped_error (NULL));
    }
  else if (g_str_equal (kind, ENVOI_AGENT_COPY_FAILED)
           && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_COPY_FAILED_TYPE)))
    {
      g_variant_get (body, "(&s&s)", &account_id, &text);
      g_signal_emit (link->agent, signals[SENT_COPY_FAILED], 0, account_id, text);
    }
  else
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                             "An unknown frame, %s", kind);

      /* Both ends ship together: this is a broken agent, whose answers cannot be trusted. */
      g_warning ("The delivery agent sent an unknown frame, %s %s", kind,
                 g_variant_get_type_string (body));
      link_die (link, error);
    }
}

static void
closed_cb (EnvoiAgentChannel *channel,
           const GError      *error,
           gpointer           user_data)
{
  link_die (user_data, error);
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(Link) link = user_data;
  GSubprocess *process = G_SUBPROCESS (source);

  if (!g_subprocess_wait_finish (process, result, NULL))
    return;

  if (g_subprocess_get_if_signaled (process))
    g_message ("The delivery agent was killed by signal %d", g_subprocess_get_term_sig (process));
  else if (g_subprocess_get_exit_status (process) != 0)
    g_message ("The delivery agent exited with status %d", g_subprocess_get_exit_status (process));
  else
    g_debug ("The delivery agent exited");

  link_die (link, NULL);
}

/* Starts an agent with one end of a socket pair. Frames can be sent at once: they wait in the
 * socket until the agent reads them. */
static Link *
link_start (EnvoiAgent  *self,
            GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  EnvoiAgentChannel *channel;
  Link *link;
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "socketpair: %s", g_strerror (saved_errno));
      return NULL;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_fd (launcher, sv[1], ENVOI_AGENT_SOCKET_FD);
  process = g_subprocess_launcher_spawn (launcher, error, self->path, NULL);
  g_clear_object (&launcher);  /* closes our copy of the agent's end */
  if (process == NULL)
    {
      close (sv[0]);
      return NULL;
    }
  if (!(channel = envoi_agent_channel_new (sv[0], error)))
    {
      g_subprocess_force_exit (process);
      return NULL;
    }

  link = g_new0 (Link, 1);
  g_atomic_ref_count_init (&link->ref_count);  /* alive, until link_die() */
  link->agent = self;
  link->process = g_steal_pointer (&process);
  link->channel = channel;
  link->pending = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  link->generations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect (channel, "frame", G_CALLBACK (frame_cb), link);
  g_signal_connect (channel, "closed", G_CALLBACK (closed_cb), link);

  g_debug ("Started the delivery agent, pid %s", g_subprocess_get_identifier (link->process));
  g_subprocess_wait_async (link->process, NULL, exited_cb, link_ref (link));

  return link;
}

static gboolean
idle_cb (gpointer user_data)
{
  EnvoiAgent *self = user_data;

  self->idle_id = 0;
  if (self->link != NULL && self->in_flight == 0)
    {
      g_debug ("No message for %u s: stopping the delivery agent", self->idle_timeout);
      link_die (self->link, NULL);
    }

  return G_SOURCE_REMOVE;
}

static void
update_idle (EnvoiAgent *self)
{
  g_clear_handle_id (&self->idle_id, g_source_remove);
  if (self->link != NULL && self->in_flight == 0)
    self->idle_id = g_timeout_add_seconds (self->idle_timeout, idle_cb, self);
}

/* Runs where the cancellable is cancelled: the daemon's main thread, as everything here. The
 * agent stops the send and answers it as cancelled. */
static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  SendData *send = user_data;

  if (!send->link->dead)
    envoi_agent_channel_send (send->link->channel, ENVOI_AGENT_CANCEL,
                              g_variant_new (ENVOI_AGENT_CANCEL_TYPE, send->serial), -1);
}

static void
envoi_agent_finalize (GObject *object)
{
  EnvoiAgent *self = ENVOI_AGENT (object);

  if (self->link != NULL)
    link_die (self->link, NULL);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_free (self->path);

  G_OBJECT_CLASS (envoi_agent_parent_class)->finalize (object);
}

static void
envoi_agent_class_init (EnvoiAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_agent_finalize;

  signals[SENT_COPY_FAILED] =
    g_signal_new ("sent-copy-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
envoi_agent_init (EnvoiAgent *self)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = exe != NULL ? g_path_get_dirname (exe) : NULL;
  const char *timeout = g_getenv ("ENVOI_TRANSPORT_IDLE_TIMEOUT");

  /* Installed side by side in libexecdir; in the build tree as well. */
  if (dir != NULL)
    self->path = g_build_filename (dir, AGENT_NAME, NULL);
  if (self->path == NULL || !g_file_test (self->path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_free (self->path);
      self->path = g_build_filename (LIBEXECDIR, AGENT_NAME, NULL);
    }

  self->idle_timeout = timeout != NULL ? MAX (1, atoi (timeout)) : DEFAULT_IDLE_TIMEOUT_SECONDS;
}

EnvoiAgent *
envoi_agent_get_default (void)
{
  static EnvoiAgent *agent;

  if (agent == NULL)
    agent = g_object_new (ENVOI_TYPE_AGENT, NULL);

  return agent;
}

void
envoi_agent_send_async (EnvoiAgent          *self,
                        EnvoiAccount        *account,
                        guint                generation,
                        const char          *envelope_from,
                        const char * const  *recipients,
                        int                  message_fd,
                        goffset              offset,
                        gsize                length,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  const char *account_id;
  GVariant *settings;
  SendData *send;
  Link *link;

  g_return_if_fail (ENVOI_IS_AGENT (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));
  g_return_if_fail (generation != 0);
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message_fd >= 0);
  g_return_if_fail (offset >= 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_agent_send_async);

  if (self->link == NULL && !(self->link = link_start (self, &error)))
    {
      close (message_fd);
      g_warning ("Could not start %s: %s", self->path, error->message);
      g_task_return_new_error (task, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE,
                               _("Could not start the sending process: %s"), error->message);
      return;
    }
  link = self->link;
  account_id = envoi_account_get_id (account);

  send = g_new0 (SendData, 1);
  send->link = link_ref (link);
  send->account_id = g_strdup (account_id);
  if (++self->last_serial == 0)
    self->last_serial = 1;
  send->serial = self->last_serial;
  g_task_set_task_data (task, send, send_data_free);

  /* The settings go once per change and per agent, not with every message: the agent keeps
   * them. Frames arrive in order, so the agent has them before the next send. */
  if (GPOINTER_TO_UINT (g_hash_table_lookup (link->generations, account_id)) == generation)
    settings = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  else
    {
      settings = envoi_agent_account_to_variant (account);
      g_hash_table_insert (link->generations, g_strdup (account_id), GUINT_TO_POINTER (generation));
    }

  envoi_agent_channel_send (link->channel, ENVOI_AGENT_SEND,
                            g_variant_new ("(usu@a{sv}s^astt)", send->serial, account_id,
                                           generation, settings, envelope_from, recipients,
                                           (guint64) offset, (guint64) length),
                            message_fd);

  self->in_flight++;
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_hash_table_insert (link->pending, GUINT_TO_POINTER (send->serial), g_object_ref (task));
  if (cancellable != NULL)
    send->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), send, NULL);
}

gboolean
envoi_agent_send_finish (EnvoiAgent    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return envoi_agent_send_finish_with_reply (self, result, NULL, error);
}

gboolean
envoi_agent_send_finish_with_reply (EnvoiAgent    *self,
                                    GAsyncResult  *result,
                                    char         **reply,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return envoi_agent_propagate_reply (G_TASK (result), reply, error);
}

/**
 * envoi_agent_propagate_reply:
 * @task: a send's task, whose result is the server's reply (a string)
 * @reply: (out) (optional): that reply
 *
 * The end of envoi_agent_send_finish_with_reply(), for those that hand its result on.
 */
gboolean
envoi_agent_propagate_reply (GTask   *task,
                             char   **reply,
                             GError **error)
{
  g_autofree char *text = NULL;

  if (!(text = g_task_propagate_pointer (task, error)))
    return FALSE;
  if (reply != NULL)
    *reply = g_steal_pointer (&text);

  return TRUE;
}

void
envoi_agent_reset (EnvoiAgent *self,
                   const char *account_id)
{
  g_return_if_fail (ENVOI_IS_AGENT (self));
  g_return_if_fail (account_id != NULL);

  /* None running, nothing to forget. */
  if (self->link != NULL)
    envoi_agent_channel_send (self->link->channel, ENVOI_AGENT_RESET,
                              g_variant_new (ENVOI_AGENT_RESET_TYPE, account_id), -1);
}

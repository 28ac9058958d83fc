/* envoi-agent.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"
#define _GNU_SOURCE  /* memfd_create */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gunixfdlist.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "envoi-agent.h"
#include "envoi-agent-protocol.h"
#include "envoi-smtp-error.h"
#include "envoi-transport-dbus.h"

#define AGENT_NAME                  "envoi-sender-transport"
#define DEFAULT_IDLE_TIMEOUT_SECONDS 20

/* One started agent process and the connection to it. A new one replaces it when it exits;
 * what was sent through it holds a reference until its answer comes. */
typedef struct
{
  gatomicrefcount      ref_count;
  EnvoiAgent          *agent;        /* not a reference: the agent outlives its links */
  GSubprocess         *process;
  GDBusConnection     *connection;   /* NULL until the handshake is done */
  EnvoiDBusTransport1 *proxy;        /* NULL until ready */
  GQueue               waiting;      /* GTask: sends made before it was ready */
  GHashTable          *generations;  /* account id → the settings generation it was sent */
  guint                dead : 1;
} Link;

struct _EnvoiAgent
{
  GObject  parent_instance;

  char    *path;
  Link    *link;          /* the running agent, or NULL */
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
  g_assert (g_queue_is_empty (&link->waiting));
  g_clear_pointer (&link->generations, g_hash_table_unref);
  g_clear_object (&link->proxy);
  g_clear_object (&link->connection);
  g_clear_object (&link->process);
  g_free (link);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Link, link_unref)

typedef struct
{
  Link          *link;
  char          *account_id;
  EnvoiAccount  *account;
  guint          generation;
  char          *envelope_from;
  GStrv          recipients;
  int            fd;          /* the message, a sealed memfd */
} SendData;

static void
send_data_free (gpointer data)
{
  SendData *send = data;

  g_clear_pointer (&send->link, link_unref);
  g_free (send->account_id);
  g_clear_object (&send->account);
  g_free (send->envelope_from);
  g_strfreev (send->recipients);
  if (send->fd >= 0)
    close (send->fd);
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
static void call_send (Link  *link,
                       GTask *task);

static void
link_die (Link         *link,
          const GError *error)
{
  EnvoiAgent *self = link->agent;
  GTask *task;

  if (link->dead)
    return;

  link->dead = TRUE;
  if (self->link == link)
    self->link = NULL;

  while ((task = g_queue_pop_head (&link->waiting)) != NULL)
    {
      self->in_flight--;
      g_task_return_error (task, agent_stopped_error (error));
      g_object_unref (task);
    }

  if (link->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (link->connection, link);
      if (!g_dbus_connection_is_closed (link->connection))
        g_dbus_connection_close (link->connection, NULL, NULL, NULL);
    }
  if (link->proxy != NULL)
    g_signal_handlers_disconnect_by_data (link->proxy, self);

  update_idle (self);
  link_unref (link);  /* the reference of being alive */
}

static void
sent_copy_failed_cb (EnvoiDBusTransport1 *proxy,
                     const char          *account_id,
                     const char          *reason,
                     gpointer             user_data)
{
  EnvoiAgent *self = user_data;

  g_signal_emit (self, signals[SENT_COPY_FAILED], 0, account_id, reason);
}

static void
closed_cb (GDBusConnection *connection,
           gboolean         remote_peer_vanished,
           GError          *error,
           gpointer         user_data)
{
  link_die (user_data, error);
}

static void
proxy_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(Link) link = user_data;
  g_autoptr(GError) error = NULL;
  GTask *task;

  link->proxy = envoi_dbus_transport1_proxy_new_finish (result, &error);
  if (link->proxy == NULL)
    {
      g_warning ("Could not talk to the delivery agent: %s", error->message);
      link_die (link, error);
      return;
    }
  if (link->dead)
    return;

  /* A big message to a slow server takes its time: the agent has its own timeouts. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (link->proxy), G_MAXINT);
  g_signal_connect (link->proxy, "sent-copy-failed", G_CALLBACK (sent_copy_failed_cb), link->agent);

  while ((task = g_queue_pop_head (&link->waiting)) != NULL)
    call_send (link, task);
}

static void
connection_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(Link) link = user_data;
  g_autoptr(GError) error = NULL;

  link->connection = g_dbus_connection_new_finish (result, &error);
  if (link->connection == NULL)
    {
      g_warning ("Could not connect to the delivery agent: %s", error->message);
      link_die (link, error);
      return;
    }
  if (link->dead)
    return;

  g_signal_connect (link->connection, "closed", G_CALLBACK (closed_cb), link);
  envoi_dbus_transport1_proxy_new (link->connection,
                                   G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                   G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                   NULL, ENVOI_AGENT_OBJECT_PATH, NULL,
                                   proxy_cb, link_ref (link));
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

/* Starts an agent with one end of a socket pair; the handshake and the rest are async. */
static Link *
link_start (EnvoiAgent  *self,
            GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
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
  if (process == NULL || !(socket = g_socket_new_from_fd (sv[0], error)))
    {
      close (sv[0]);
      return NULL;
    }
  stream = g_socket_connection_factory_create_connection (socket);

  link = g_new0 (Link, 1);
  g_atomic_ref_count_init (&link->ref_count);  /* alive, until link_die() */
  link->agent = self;
  link->process = g_steal_pointer (&process);
  g_queue_init (&link->waiting);
  link->generations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_debug ("Started the delivery agent, pid %s", g_subprocess_get_identifier (link->process));
  g_subprocess_wait_async (link->process, NULL, exited_cb, link_ref (link));
  g_dbus_connection_new (G_IO_STREAM (stream), NULL,
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                         NULL, NULL, connection_cb, link_ref (link));

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

static void
cancel_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!envoi_dbus_transport1_call_cancel_finish (ENVOI_DBUS_TRANSPORT1 (source), result, &error))
    g_debug ("Could not cancel in the delivery agent: %s", error->message);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiAgent *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *remote_name = NULL;
  g_autofree char *reply = NULL;

  self->in_flight--;

  if (envoi_dbus_transport1_call_send_finish (ENVOI_DBUS_TRANSPORT1 (source), &reply, NULL,
                                              result, &error))
    {
      g_debug ("Sent: %s", reply);
      g_task_return_boolean (task, TRUE);
      update_idle (self);
      return;
    }

  /* Whatever became of the settings, the next send carries them again. */
  g_hash_table_remove (send->link->generations, send->account_id);
  remote_name = g_dbus_error_get_remote_error (error);

  if (g_strcmp0 (remote_name, ENVOI_AGENT_ERROR_UNKNOWN_SETTINGS) == 0)
    {
      /* Settings that the agent did not have (it never should): the next attempt has them. */
      g_task_return_error (task, agent_stopped_error (error));
    }
  else if (remote_name != NULL)
    {
      /* The agent's own error, domain and code as it had them. */
      g_dbus_error_strip_remote_error (error);
      g_task_return_error (task, g_steal_pointer (&error));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* D-Bus does not carry a cancellation: the agent must be told to stop. */
      if (!send->link->dead)
        envoi_dbus_transport1_call_cancel (send->link->proxy, send->account_id, NULL,
                                           cancel_cb, NULL);
      g_task_return_error (task, g_steal_pointer (&error));
    }
  else
    g_task_return_error (task, agent_stopped_error (error));

  update_idle (self);
}

static void
call_send (Link  *link,
           GTask *task)
{
  SendData *send = g_task_get_task_data (task);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new_from_array (&send->fd, 1);
  GVariant *account;

  /* The settings go once per change and per agent, not with every message: the agent keeps
   * them. A connection delivers in order, so the agent has them before the next send. */
  if (GPOINTER_TO_UINT (g_hash_table_lookup (link->generations, send->account_id)) == send->generation)
    account = g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
  else
    {
      account = envoi_agent_account_to_variant (send->account);
      g_hash_table_insert (link->generations, g_strdup (send->account_id),
                           GUINT_TO_POINTER (send->generation));
    }

  send->fd = -1;  /* the list has it */
  send->link = link_ref (link);
  envoi_dbus_transport1_call_send (link->proxy, send->account_id, send->generation, account,
                                   send->envelope_from,
                                   (const char * const *) send->recipients,
                                   g_variant_new_handle (0), fds,
                                   g_task_get_cancellable (task), send_cb, task);
}

/* The message in a sealed memfd: the agent maps it, nothing is written to disk. */
static int
message_fd (GBytes  *message,
            GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  int fd = memfd_create ("envoi-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  if (fd < 0)
    goto fail;

  while (size > 0)
    {
      gssize written = write (fd, data, size);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        goto fail;
      data += written;
      size -= written;
    }

  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    goto fail;

  return fd;

fail:
  {
    int saved_errno = errno;

    if (fd >= 0)
      close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "Could not pass the message to the delivery agent: %s", g_strerror (saved_errno));
    return -1;
  }
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
  envoi_agent_register_errors ();
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
                        GBytes              *message,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SendData *send;

  g_return_if_fail (ENVOI_IS_AGENT (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));
  g_return_if_fail (generation != 0);
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_agent_send_async);

  send = g_new0 (SendData, 1);
  send->fd = -1;
  g_task_set_task_data (task, send, send_data_free);
  send->account_id = g_strdup (envoi_account_get_id (account));
  send->account = g_object_ref (account);
  send->generation = generation;
  send->envelope_from = g_strdup (envelope_from);
  send->recipients = g_strdupv ((char **) recipients);

  if ((send->fd = message_fd (message, &error)) < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->link == NULL && !(self->link = link_start (self, &error)))
    {
      g_warning ("Could not start %s: %s", self->path, error->message);
      g_task_return_new_error (task, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE,
                               _("Could not start the sending process: %s"), error->message);
      return;
    }

  self->in_flight++;
  g_clear_handle_id (&self->idle_id, g_source_remove);

  if (self->link->proxy != NULL)
    call_send (self->link, g_steal_pointer (&task));
  else
    g_queue_push_tail (&self->link->waiting, g_steal_pointer (&task));
}

gboolean
envoi_agent_send_finish (EnvoiAgent    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reset_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!envoi_dbus_transport1_call_reset_finish (ENVOI_DBUS_TRANSPORT1 (source), result, &error))
    g_debug ("Could not reset in the delivery agent: %s", error->message);
}

void
envoi_agent_reset (EnvoiAgent *self,
                   const char *account_id)
{
  g_return_if_fail (ENVOI_IS_AGENT (self));
  g_return_if_fail (account_id != NULL);

  /* An agent still starting knows nothing yet; none running, nothing to forget. */
  if (self->link != NULL && self->link->proxy != NULL)
    envoi_dbus_transport1_call_reset (self->link->proxy, account_id, NULL, reset_cb, NULL);
}

/* envoi-sender-transport.c: the delivery agent of envoi-sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sender keeps the queue and decides; this process sends. It holds everything that talks
 * to mail servers (libcurl and its TLS, Kerberos and LDAP libraries, the keyring, GOA), so that
 * the daemon, which mostly waits, maps none of it. postfix has the same shape: qmgr and smtp.
 *
 * It is started by envoi-sender only, with one end of a socket pair as file descriptor
 * ENVOI_AGENT_SOCKET_FD, and serves io.github.envoimail.Envoi.Transport1 over it (peer-to-peer
 * D-Bus). It ends when that socket closes: the daemon closes it after a while without messages,
 * and the kernel closes it when the daemon dies (PR_SET_PDEATHSIG makes sure as well).
 */

#define G_LOG_DOMAIN "envoi-transport"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib-unix.h>
#include <gio/gunixfdlist.h>

#include <locale.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "envoi-agent-account.h"
#include "envoi-agent-protocol.h"
#include "envoi-transport-dbus.h"

typedef struct
{
  GMainLoop           *loop;
  EnvoiDBusTransport1 *skeleton;
  GHashTable          *accounts;       /* account id → EnvoiAgentAccount */
  GHashTable          *generations;    /* account id → generation of its settings there */
  GHashTable          *cancellables;   /* account id → GCancellable of its Send under way */
} Agent;

typedef struct
{
  Agent                 *agent;
  GDBusMethodInvocation *invocation;   /* completing it frees it */
  char                  *account_id;
  GCancellable          *cancellable;
} Sending;

static void
sending_free (Sending *sending)
{
  g_assert (sending->invocation == NULL);

  /* Only its own entry: a Cancel then a new Send may have replaced it meanwhile. */
  if (g_hash_table_lookup (sending->agent->cancellables, sending->account_id) == sending->cancellable)
    g_hash_table_remove (sending->agent->cancellables, sending->account_id);
  g_object_unref (sending->cancellable);
  g_free (sending->account_id);
  g_free (sending);
}

static GBytes *
read_message (GUnixFDList  *fd_list,
              GVariant     *handle,
              GError      **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  int fd;

  if (fd_list == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No message was passed");
      return NULL;
    }

  fd = g_unix_fd_list_get (fd_list, g_variant_get_handle (handle), error);
  if (fd < 0)
    return NULL;

  mapped = g_mapped_file_new_from_fd (fd, FALSE, error);
  close (fd);
  if (mapped == NULL)
    return NULL;

  return g_mapped_file_get_bytes (mapped);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sending *sending = user_data;
  g_autoptr(GError) copy_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_agent_account_send_finish (ENVOI_AGENT_ACCOUNT (source), result, &copy_error, &error);

  /* Before the reply, on the same connection: the daemon hears of it first. */
  if (copy_error != NULL)
    envoi_dbus_transport1_emit_sent_copy_failed (sending->agent->skeleton, sending->account_id,
                                                 copy_error->message);

  if (reply != NULL)
    envoi_dbus_transport1_complete_send (sending->agent->skeleton,
                                         g_steal_pointer (&sending->invocation), NULL, reply);
  else
    g_dbus_method_invocation_return_gerror (g_steal_pointer (&sending->invocation), error);

  sending_free (sending);
}

/* The account's settings: those sent with this message, else the last ones, which the daemon
 * says are still current (@generation). */
static EnvoiAgentAccount *
lookup_account (Agent       *agent,
                const char  *account_id,
                guint        generation,
                GVariant    *account_variant,
                GError     **error)
{
  g_autoptr(EnvoiAccount) account = NULL;
  EnvoiAgentAccount *sender = g_hash_table_lookup (agent->accounts, account_id);

  if (g_variant_n_children (account_variant) == 0)
    {
      if (sender == NULL
          || GPOINTER_TO_UINT (g_hash_table_lookup (agent->generations, account_id)) != generation)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "No settings of generation %u for account %s", generation, account_id);
          return NULL;
        }
      return sender;
    }

  if (!(account = envoi_agent_account_from_variant (account_variant, error)))
    return NULL;
  if (g_strcmp0 (envoi_account_get_id (account), account_id) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The settings are not those of account %s", account_id);
      return NULL;
    }

  if (sender == NULL)
    {
      sender = envoi_agent_account_new (account);
      g_hash_table_insert (agent->accounts, g_strdup (account_id), sender);
    }
  else
    envoi_agent_account_set_account (sender, account);
  g_hash_table_insert (agent->generations, g_strdup (account_id), GUINT_TO_POINTER (generation));

  return sender;
}

static gboolean
handle_send_cb (EnvoiDBusTransport1   *skeleton,
                GDBusMethodInvocation *invocation,
                GUnixFDList           *fd_list,
                const char            *account_id,
                guint                  generation,
                GVariant              *account_variant,
                const char            *envelope_from,
                const char * const    *recipients,
                GVariant              *handle,
                gpointer               user_data)
{
  Agent *agent = user_data;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiAgentAccount *sender;
  Sending *sending;

  /* The settings first, even if this message goes no further: the next one may come without. */
  if (!(sender = lookup_account (agent, account_id, generation, account_variant, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_dbus_method_invocation_return_dbus_error (invocation, ENVOI_AGENT_ERROR_UNKNOWN_SETTINGS,
                                                    error->message);
      else
        g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (!(message = read_message (fd_list, handle, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (g_hash_table_contains (agent->cancellables, account_id))
    {
      g_dbus_method_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_BUSY,
                                             "A message of account %s is being sent", account_id);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  sending = g_new0 (Sending, 1);
  sending->agent = agent;
  sending->invocation = invocation;
  sending->account_id = g_strdup (account_id);
  sending->cancellable = g_cancellable_new ();
  g_hash_table_insert (agent->cancellables, g_strdup (account_id), g_object_ref (sending->cancellable));

  envoi_agent_account_send_async (sender, envelope_from, recipients, message,
                                  sending->cancellable, send_cb, sending);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_reset_cb (EnvoiDBusTransport1   *skeleton,
                 GDBusMethodInvocation *invocation,
                 const char            *account_id,
                 gpointer               user_data)
{
  Agent *agent = user_data;
  EnvoiAgentAccount *sender = g_hash_table_lookup (agent->accounts, account_id);

  if (sender != NULL)
    envoi_agent_account_reset (sender);
  envoi_dbus_transport1_complete_reset (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_cancel_cb (EnvoiDBusTransport1   *skeleton,
                  GDBusMethodInvocation *invocation,
                  const char            *account_id,
                  gpointer               user_data)
{
  Agent *agent = user_data;
  GCancellable *cancellable = g_hash_table_lookup (agent->cancellables, account_id);

  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  envoi_dbus_transport1_complete_cancel (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
closed_cb (GDBusConnection *connection,
           gboolean         remote_peer_vanished,
           GError          *error,
           gpointer         user_data)
{
  Agent *agent = user_data;

  g_debug ("The sender closed the connection: exiting");
  g_main_loop_quit (agent->loop);
}

static gboolean
quit_cb (gpointer user_data)
{
  Agent *agent = user_data;

  g_main_loop_quit (agent->loop);

  return G_SOURCE_CONTINUE;
}

static GDBusConnection *
connect_to_sender (GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();

  if (!(socket = g_socket_new_from_fd (ENVOI_AGENT_SOCKET_FD, error)))
    return NULL;
  stream = g_socket_connection_factory_create_connection (socket);

  return g_dbus_connection_new_sync (G_IO_STREAM (stream), guid,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
                                     G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
                                     NULL, NULL, error);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  Agent agent = { 0 };

  /* Never outlive the daemon, even if the socket stayed open somewhere. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("ENVOI_LOCALEDIR") ? g_getenv ("ENVOI_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc > 1 || !(connection = connect_to_sender (&error)))
    {
      g_printerr ("envoi-sender-transport: %s\n", _("This program is started by envoi-sender only."));
      if (error != NULL)
        g_debug ("%s", error->message);
      return 64;
    }

  envoi_agent_register_errors ();

  agent.loop = g_main_loop_new (NULL, FALSE);
  agent.accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  agent.generations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  agent.cancellables = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  agent.skeleton = envoi_dbus_transport1_skeleton_new ();
  g_signal_connect (agent.skeleton, "handle-send", G_CALLBACK (handle_send_cb), &agent);
  g_signal_connect (agent.skeleton, "handle-reset", G_CALLBACK (handle_reset_cb), &agent);
  g_signal_connect (agent.skeleton, "handle-cancel", G_CALLBACK (handle_cancel_cb), &agent);
  g_signal_connect (connection, "closed", G_CALLBACK (closed_cb), &agent);
  g_unix_signal_add (SIGTERM, quit_cb, &agent);
  g_unix_signal_add (SIGINT, quit_cb, &agent);

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (agent.skeleton), connection,
                                         ENVOI_AGENT_OBJECT_PATH, &error))
    {
      g_printerr ("envoi-sender-transport: %s\n", error->message);
      return 71;
    }
  g_dbus_connection_start_message_processing (connection);

  g_main_loop_run (agent.loop);

  /* Whatever is under way stops here: the daemon has already counted it as not sent. */
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (agent.skeleton));
  g_clear_object (&agent.skeleton);
  g_clear_pointer (&agent.cancellables, g_hash_table_unref);
  g_clear_pointer (&agent.accounts, g_hash_table_unref);
  g_clear_pointer (&agent.generations, g_hash_table_unref);
  g_clear_pointer (&agent.loop, g_main_loop_unref);

  return 0;
}

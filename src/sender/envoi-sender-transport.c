/* envoi-sender-transport.c: the delivery agent of envoi-sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sender keeps the queue and decides; this process sends. It holds everything that talks
 * to mail servers (libcurl and its TLS, Kerberos and LDAP libraries, the keyring, GOA), so that
 * the daemon, which mostly waits, maps none of it. postfix has the same shape: qmgr and smtp.
 *
 * It is started by envoi-sender only, with one end of a socket pair as file descriptor
 * ENVOI_AGENT_SOCKET_FD, and answers the frames that envoi-agent-protocol.h describes on it. It
 * ends when that socket closes: the daemon closes it after a while without messages, and the
 * kernel closes it when the daemon dies (PR_SET_PDEATHSIG makes sure as well).
 */

#define G_LOG_DOMAIN "envoi-transport"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib-unix.h>

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "envoi-agent-account.h"
#include "envoi-agent-channel.h"
#include "envoi-agent-protocol.h"
#include "envoi-reason.h"
#include "envoi-startup.h"

typedef struct
{
  GMainLoop         *loop;
  EnvoiAgentChannel *channel;
  GHashTable        *accounts;       /* account id → EnvoiAgentAccount */
  GHashTable        *generations;    /* account id → generation of its settings there */
  GHashTable        *sendings;       /* serial → Sending under way, for cancelling */
} Agent;

typedef struct
{
  Agent        *agent;
  guint32       serial;
  char         *account_id;
  GCancellable *cancellable;
} Sending;

static void
sending_free (Sending *sending)
{
  g_hash_table_remove (sending->agent->sendings, GUINT_TO_POINTER (sending->serial));
  g_object_unref (sending->cancellable);
  g_free (sending->account_id);
  g_free (sending);
}

static void
send_failure (Agent        *agent,
              guint32       serial,
              const GError *error)
{
  envoi_agent_channel_send (agent->channel, ENVOI_AGENT_FAILED,
                            envoi_agent_failure_to_variant (serial, error), -1);
}

/* Up to this size the message is read at once (a page-cache copy, cheaper than mapping and
 * unmapping it in a threaded process); beyond, it is mapped, so that the main loop never waits
 * for the disk: the pages are read as libcurl's thread sends them. */
#define READ_AT_ONCE_MAX (256 * 1024)

static GBytes *
map_message (int       fd,
             guint64   offset,
             guint64   length,
             GError  **error)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) all = NULL;

  if (!(mapped = g_mapped_file_new_from_fd (fd, FALSE, error)))
    return NULL;
  all = g_mapped_file_get_bytes (mapped);
  if (offset + length > g_bytes_get_size (all))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "Could not read the message: the file is shorter than said");
      return NULL;
    }

  return g_bytes_new_from_bytes (all, offset, length);
}

/* The queue file is the daemon's: the agent only reads the message's bytes in it. */
static GBytes *
read_message (int       fd,
              guint64   offset,
              guint64   length,
              GError  **error)
{
  g_autofree guint8 *data = NULL;
  gsize done = 0;

  if (fd < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "No message was passed");
      return NULL;
    }
  if (length > G_MAXSIZE || offset > G_MAXINT64 - length)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "The message is too long");
      return NULL;
    }
  if (length > READ_AT_ONCE_MAX)
    return map_message (fd, offset, length, error);

  data = g_malloc (MAX (length, 1));
  while (done < length)
    {
      gssize n = pread (fd, data + done, length - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = n < 0 ? errno : EIO;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Could not read the message: %s",
                       n < 0 ? g_strerror (saved_errno) : "the file is shorter than said");
          return NULL;
        }
      done += n;
    }

  return g_bytes_new_take (g_steal_pointer (&data), length);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sending *sending = user_data;
  Agent *agent = sending->agent;
  g_autoptr(GError) copy_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_agent_account_send_finish (ENVOI_AGENT_ACCOUNT (source), result, &copy_error, &error);

  /* Before the answer, on the same socket: the daemon hears of it first. */
  /* A server's words go into GVariant strings: valid UTF-8, one line. */
  if (copy_error != NULL)
    {
      g_autofree char *reason = envoi_reason_sanitize (copy_error->message);

      envoi_agent_channel_send (agent->channel, ENVOI_AGENT_COPY_FAILED,
                                g_variant_new (ENVOI_AGENT_COPY_FAILED_TYPE, sending->account_id,
                                               reason), -1);
    }

  if (reply != NULL)
    {
      g_autofree char *clean = envoi_reason_sanitize (reply);

      envoi_agent_channel_send (agent->channel, ENVOI_AGENT_SENT,
                                g_variant_new (ENVOI_AGENT_SENT_TYPE, sending->serial, clean), -1);
    }
  else
    send_failure (agent, sending->serial, error);

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

static void
handle_send (Agent    *agent,
             GVariant *body,
             int       fd)
{
  g_autoptr(GVariant) account_variant = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **recipients = NULL;
  const char *account_id, *envelope_from;
  guint64 offset, length;
  guint32 serial, generation;
  EnvoiAgentAccount *sender;
  Sending *sending;

  g_variant_get (body, "(u&su@a{sv}&s^a&stt)", &serial, &account_id, &generation,
                 &account_variant, &envelope_from, &recipients, &offset, &length);

  /* The settings first, even if this message goes no further: the next one may come without. */
  if (!(sender = lookup_account (agent, account_id, generation, account_variant, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        envoi_agent_channel_send (agent->channel, ENVOI_AGENT_UNKNOWN_SETTINGS,
                                  g_variant_new (ENVOI_AGENT_UNKNOWN_SETTINGS_TYPE, serial), -1);
      else
        send_failure (agent, serial, error);
      return;
    }

  if (!(message = read_message (fd, offset, length, &error)))
    {
      send_failure (agent, serial, error);
      return;
    }

  /* Several sends of one account may be under way: the account runs them in order. */
  if (g_hash_table_contains (agent->sendings, GUINT_TO_POINTER (serial)))
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "Send %u is already under way", serial);
      send_failure (agent, serial, error);
      return;
    }

  sending = g_new0 (Sending, 1);
  sending->agent = agent;
  sending->serial = serial;
  sending->account_id = g_strdup (account_id);
  sending->cancellable = g_cancellable_new ();
  g_hash_table_insert (agent->sendings, GUINT_TO_POINTER (serial), sending);

  envoi_agent_account_send_async (sender, envelope_from, recipients, message,
                                  sending->cancellable, send_cb, sending);
}

static void
frame_cb (EnvoiAgentChannel *channel,
          const char        *kind,
          GVariant          *body,
          int                fd,
          gpointer           user_data)
{
  Agent *agent = user_data;

  if (g_str_equal (kind, ENVOI_AGENT_SEND)
      && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_SEND_TYPE)))
    {
      handle_send (agent, body, fd);
    }
  else if (g_str_equal (kind, ENVOI_AGENT_RESET)
           && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_RESET_TYPE)))
    {
      const char *account_id;
      EnvoiAgentAccount *sender;

      g_variant_get (body, "(&s)", &account_id);
      if ((sender = g_hash_table_lookup (agent->accounts, account_id)) != NULL)
        envoi_agent_account_reset (sender);
    }
  else if (g_str_equal (kind, ENVOI_AGENT_CANCEL)
           && g_variant_is_of_type (body, G_VARIANT_TYPE (ENVOI_AGENT_CANCEL_TYPE)))
    {
      Sending *sending;
      guint32 serial;

      /* A send already answered is not there any more: nothing to stop. */
      g_variant_get (body, "(u)", &serial);
      if ((sending = g_hash_table_lookup (agent->sendings, GUINT_TO_POINTER (serial))) != NULL)
        g_cancellable_cancel (sending->cancellable);
    }
  else
    {
      /* Both ends ship together: a frame this end does not know is a broken daemon. */
      g_warning ("An unknown frame, %s %s: exiting", kind, g_variant_get_type_string (body));
      g_main_loop_quit (agent->loop);
    }
}

static void
closed_cb (EnvoiAgentChannel *channel,
           const GError      *error,
           gpointer           user_data)
{
  Agent *agent = user_data;

  if (error != NULL)
    g_warning ("The connection to the sender failed: %s", error->message);
  g_debug ("The sender closed the connection: exiting");
  g_main_loop_quit (agent->loop);
}

static void
cancel_sending (gpointer key,
                gpointer value,
                gpointer user_data)
{
  Sending *sending = value;

  g_cancellable_cancel (sending->cancellable);
}

/* Only wakes the loop up, so that the wait at exit sees its deadline. */
static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  Agent *agent = user_data;

  g_main_loop_quit (agent->loop);

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  Agent agent = { 0 };
  gint64 deadline;
  guint wake_id;

  /* Never outlive the daemon, even if the socket stayed open somewhere. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);

  envoi_startup_init ();

  if (argc > 1 || !(agent.channel = envoi_agent_channel_new (ENVOI_AGENT_SOCKET_FD, &error)))
    {
      g_printerr ("envoi-sender-transport: %s\n", _("This program is started by envoi-sender only."));
      if (error != NULL)
        g_debug ("%s", error->message);
      return 64;
    }

  agent.loop = g_main_loop_new (NULL, FALSE);
  agent.accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  agent.generations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  agent.sendings = g_hash_table_new (NULL, NULL);
  g_signal_connect (agent.channel, "frame", G_CALLBACK (frame_cb), &agent);
  g_signal_connect (agent.channel, "closed", G_CALLBACK (closed_cb), &agent);
  g_unix_signal_add (SIGTERM, quit_cb, &agent);
  g_unix_signal_add (SIGINT, quit_cb, &agent);

  g_main_loop_run (agent.loop);

  /* Whatever is under way stops here: the daemon has already counted it as not sent. Cancelling
   * takes milliseconds; the bound is for a server that never answers. */
  g_signal_handlers_disconnect_by_data (agent.channel, &agent);
  envoi_agent_channel_close (agent.channel);
  g_hash_table_foreach (agent.sendings, cancel_sending, NULL);
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  wake_id = g_timeout_add (100, wake_cb, NULL);
  while (g_hash_table_size (agent.sendings) > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);
  g_clear_object (&agent.channel);
  g_clear_pointer (&agent.accounts, g_hash_table_unref);
  g_clear_pointer (&agent.generations, g_hash_table_unref);
  g_clear_pointer (&agent.sendings, g_hash_table_unref);
  g_clear_pointer (&agent.loop, g_main_loop_unref);

  return 0;
}

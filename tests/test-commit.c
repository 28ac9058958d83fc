/* test-commit.c: the group commit of the real envoi-sender, killed in the middle of a burst
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Submissions that arrive together share one directory fsync (EnvoiQueueCommit), and each is
 * answered only once its message is durable. Here 500 D-Bus Submit calls and a few dozen
 * submissions over envoi-sendmail's socket are in flight at once; the daemon is SIGKILLed when
 * some have been answered, and every message that got its id must then be in the spool, whole:
 * a reply sent before its file was written and renamed into place would name a message that
 * is not there. No timing is asserted: the kill happens on a reply, and a burst that the daemon
 * finished before the kill landed is run again. A SIGKILL cannot tell whether the fsyncs came
 * before the reply (the page cache outlives the process), only that the file was complete and
 * renamed into place; the order of the fsyncs is EnvoiQueueCommit's, read there.
 *
 * The daemon is started by D-Bus activation from the build tree (a .service file in
 * $XDG_DATA_HOME/dbus-1/services); its account points at a port where nothing listens, so
 * that nothing leaves the spool by being delivered.
 */

#define _GNU_SOURCE  /* memfd_create, F_ADD_SEALS */

#include "config.h"

#include <gio/gunixfdlist.h>
#include <gio/gunixfdmessage.h>
#include <glib/gstdio.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-queue.h"
#include "envoi-runtime.h"
#include "envoi-sender-dbus.h"
#include "envoi-submit-protocol.h"
#include "envoi-test-helpers.h"

#define WAIT_SECONDS 120
#define BURST 500
#define SOCKET_CLIENTS 32
/* Each case runs this many bursts at least (a reply sent too early is caught when the kill
 * lands before the daemon made up for it), and again, up to ATTEMPTS, until a kill lands while
 * some submissions are still unanswered. */
#define MIN_ATTEMPTS 3
#define ATTEMPTS 6

static struct
{
  GDBusConnection   *bus;
  EnvoiAccountStore *store;
} h;

typedef gboolean (*Condition) (gpointer data);

/* Polls: never a timing assertion, only a bound so that a broken daemon fails, not hangs. */
static gboolean
wait_until (Condition condition,
            gpointer  data)
{
  gint64 end = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10 * 1000);
    }

  return TRUE;
}

static gboolean
socket_ready (gpointer data)
{
  g_autofree char *path = envoi_submit_socket_path ();

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Started by D-Bus activation, as envoi-sendmail would; returns its pid. */
static guint32
start_daemon (void)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 pid;

  reply = g_dbus_connection_call_sync (h.bus, SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
  pid = envoi_test_sender_pid ();
  g_assert_cmpuint (pid, !=, 0);
  g_assert_true (wait_until (socket_ready, NULL));

  return pid;
}

static void
write_service_file (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "dbus-1", "services", NULL);
  g_autofree char *path = g_build_filename (dir, SENDER_BUS_NAME ".service", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* The bus daemon's environment is not ours: pass what the daemon needs on its command line. */
  contents = g_strdup_printf ("[D-BUS Service]\n"
                              "Name=%s\n"
                              "Exec=/usr/bin/env G_DEBUG=fatal-criticals GSETTINGS_BACKEND=keyfile "
                              "GSETTINGS_SCHEMA_DIR=%s XDG_CONFIG_HOME=%s XDG_DATA_HOME=%s "
                              "XDG_STATE_HOME=%s XDG_RUNTIME_DIR=%s ENVOI_SENDER_IDLE_TIMEOUT=60 %s\n",
                              SENDER_BUS_NAME, envoi_test_env ("GSETTINGS_SCHEMA_DIR"),
                              g_get_user_config_dir (), g_get_user_data_dir (),
                              g_get_user_state_dir (), g_get_user_runtime_dir (),
                              envoi_test_env ("ENVOI_SENDER_PATH"));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  /* A sender that another program of the session started would answer in its place. */
  envoi_test_stop_sender_service ();
  reply = g_dbus_connection_call_sync (h.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ReloadConfig", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

/* No daemon, an empty spool and state; one account whose server never answers (port 9, the
 * discard port, where nothing listens here): what is queued stays queued. */
static void
reset (void)
{
  g_autofree char *queue = envoi_queue_default_directory ();
  g_autofree char *state = g_build_filename (g_get_user_state_dir (), "envoi", NULL);
  g_autoptr(EnvoiAccount) account = envoi_account_new ("burst");
  g_autofree char *command = NULL;
  g_autofree char *socket_path = envoi_submit_socket_path ();

  envoi_test_signal_sender (SIGTERM, WAIT_SECONDS);
  /* What a killed daemon left, lest it be taken for the next one's. */
  g_unlink (socket_path);
  command = g_strdup_printf ("rm -rf '%s' '%s'", queue, state);
  g_assert_cmpint (system (command), ==, 0);

  g_object_set (account,
                "address", "burst@example.org",
                "host", "127.0.0.1",
                "port", (guint) 9,
                "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_NONE,
                "hourly-limit", (guint) 1,
                NULL);
  if (envoi_account_store_lookup (h.store, "burst") == NULL)
    envoi_account_store_add (h.store, account);
  g_settings_sync ();
}

static char *
message_text (guint attempt,
              guint i)
{
  return g_strdup_printf ("From: Burst <burst@example.org>\nSubject: burst %u\n"
                          "X-Burst: %u-%u\n\nmessage %u of attempt %u\n", i, attempt, i, i, attempt);
}

static int
message_memfd (const char *text)
{
  int fd = memfd_create ("message", MFD_CLOEXEC | MFD_ALLOW_SEALING);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  g_assert_cmpint (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), ==, 0);

  return fd;
}

typedef struct
{
  guint       attempt;
  guint32     pid;
  guint       kill_after;   /* SIGKILL on this many successful replies */
  gboolean    killed;
  guint       pending;
  guint       failed;
  GHashTable *answered;     /* id → the X-Burst value of its message */
} Burst;

/* A success: the message is the spool's from now on. @index is the message's number. */
static void
answered (Burst      *burst,
          const char *id,
          guint       index)
{
  g_assert_true (envoi_queue_id_is_valid (id));
  g_assert_false (g_hash_table_contains (burst->answered, id));
  g_hash_table_insert (burst->answered, g_strdup (id),
                       g_strdup_printf ("%u-%u", burst->attempt, index));

  /* Right away, before anything else runs here: the replies already on their way are the only
   * ones that can still arrive. */
  if (!burst->killed && g_hash_table_size (burst->answered) >= burst->kill_after)
    {
      g_assert_cmpint (kill (burst->pid, SIGKILL), ==, 0);
      burst->killed = TRUE;
    }
}

typedef struct
{
  Burst *burst;
  guint  index;
} Call;

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree Call *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  call->burst->pending--;
  if (envoi_dbus_sender1_call_submit_finish (ENVOI_DBUS_SENDER1 (source), &id, NULL, result, &error))
    answered (call->burst, id, call->index);
  else
    {
      /* Only the daemon's death may fail a call: the bus's NoReply, or no daemon at all. */
      g_assert_true (call->burst->killed);
      call->burst->failed++;
    }
}

typedef struct
{
  Burst   *burst;
  guint    index;
  GSocket *socket;
  GSource *source;
} Client;

static gboolean
client_cb (GSocket      *socket,
           GIOCondition  condition,
           gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  char buffer[4096];
  gboolean ok = FALSE;
  guint32 code;
  const char *text;
  gssize n;

  n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;

  client->burst->pending--;
  if (n > 0)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (buffer, n);

      reply = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (ENVOI_SUBMIT_REPLY_TYPE),
                                                            bytes, FALSE));
      g_variant_get (reply, "(bu&s)", &ok, &code, &text);
      g_assert_true (ok || client->burst->killed);
      if (ok)
        answered (client->burst, text, client->index);
    }
  if (!ok)
    {
      /* Hung up on without an answer: only the daemon's death may do that. */
      g_assert_true (client->burst->killed);
      client->burst->failed++;
    }

  g_socket_close (socket, NULL);
  g_clear_pointer (&client->source, g_source_unref);
  g_object_unref (client->socket);
  g_free (client);

  return G_SOURCE_REMOVE;
}

/* One request over envoi-sendmail's socket (envoi-submit-protocol.h): the greeting read, the
 * options and a sealed memfd sent; the answer is read by client_cb(). */
static void
submit_over_socket (Burst *burst,
                    guint  index)
{
  g_autofree char *path = envoi_submit_socket_path ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocketControlMessage) message = g_unix_fd_message_new ();
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = message_text (burst->attempt, index);
  const char *to[] = { "someone@example.net", NULL };
  GSocketControlMessage *messages[1];
  GOutputVector vector;
  GVariantBuilder builder;
  Client *client;
  char greeting[256];
  int fd;

  client = g_new0 (Client, 1);
  client->burst = burst;
  client->index = index;
  client->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_SEQPACKET,
                                 G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_socket_connect (client->socket, address, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_receive (client->socket, greeting, sizeof greeting, NULL, &error), >, 0);
  g_assert_no_error (error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE (ENVOI_SUBMIT_REQUEST_TYPE));
  g_variant_builder_add (&builder, "{sv}", "recipients", g_variant_new_strv (to, -1));
  options = g_variant_ref_sink (g_variant_builder_end (&builder));
  vector.buffer = g_variant_get_data (options);
  vector.size = g_variant_get_size (options);
  fd = message_memfd (text);
  g_assert_true (g_unix_fd_message_append_fd (G_UNIX_FD_MESSAGE (message), fd, &error));
  close (fd);
  messages[0] = message;
  g_socket_send_message (client->socket, NULL, &vector, 1, messages, 1, G_SOCKET_MSG_NONE, NULL,
                         &error);
  g_assert_no_error (error);

  g_socket_set_blocking (client->socket, FALSE);
  client->source = g_socket_create_source (client->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (client->source, (GSourceFunc) (void (*) (void)) client_cb, client, NULL);
  g_source_attach (client->source, NULL);
  burst->pending++;
}

static gboolean
burst_done (gpointer data)
{
  return ((Burst *) data)->pending == 0;
}

/* Every answered message is in the spool, whole: its file is there under its final name and
 * holds the message that was submitted. */
static void
assert_answered_on_disk (Burst *burst)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (NULL, &error);
  GHashTableIter iter;
  gpointer id, burst_value;

  g_assert_no_error (error);
  g_hash_table_iter_init (&iter, burst->answered);
  while (g_hash_table_iter_next (&iter, &id, &burst_value))
    {
      g_autoptr(EnvoiQueueEntry) entry = NULL;
      g_autoptr(GBytes) message = NULL;
      g_autofree char *header = g_strdup_printf ("\nX-Burst: %s", (char *) burst_value);
      g_autofree char *text = NULL;
      const char *found;

      entry = envoi_queue_load (queue, id, &error);
      if (entry == NULL)
        g_test_message ("answered as %s, not in the spool: %s", (char *) id, error->message);
      g_assert_no_error (error);
      message = envoi_queue_read_message (queue, entry, &error);
      g_assert_no_error (error);
      text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
      found = strstr (text, header);
      g_assert_nonnull (found);
      found += strlen (header);
      g_assert_true (*found == '\r' || *found == '\n');
    }
}

/* @n D-Bus calls and SOCKET_CLIENTS socket submissions at once; SIGKILL on the @kill_after-th
 * success. Runs again until the kill lands while some are still unanswered. */
static void
burst_and_kill (guint n,
                guint kill_after)
{
  gboolean mid_burst = FALSE;

  for (guint attempt = 0; attempt < MIN_ATTEMPTS || (attempt < ATTEMPTS && !mid_burst); attempt++)
    {
      g_autoptr(EnvoiDBusSender1) proxy = NULL;
      g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr(GError) error = NULL;
      Burst burst = { attempt, 0, kill_after, FALSE, 0, 0, ids };
      g_autofree char *queue = NULL;

      reset ();
      burst.pid = start_daemon ();

      /* No auto-start: a call that reaches the bus after the kill fails instead of starting a
       * new daemon. */
      proxy = envoi_dbus_sender1_proxy_new_sync (h.bus,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 SENDER_BUS_NAME, SENDER_OBJECT_PATH, NULL, &error);
      g_assert_no_error (error);
      g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);

      for (guint i = 0; i < SOCKET_CLIENTS; i++)
        submit_over_socket (&burst, n + i);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
          g_autofree char *text = message_text (attempt, i);
          const char *to[] = { "someone@example.net", NULL };
          GVariantBuilder options;
          Call *call = g_new0 (Call, 1);
          int fd = message_memfd (text);

          g_assert_cmpint (g_unix_fd_list_append (fds, fd, &error), ==, 0);
          close (fd);
          g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add (&options, "{sv}", "recipients", g_variant_new_strv (to, -1));
          call->burst = &burst;
          call->index = i;
          burst.pending++;
          envoi_dbus_sender1_call_submit (proxy, g_variant_new_handle (0),
                                          g_variant_builder_end (&options), fds, NULL,
                                          submitted_cb, call);
        }

      g_assert_true (wait_until (burst_done, &burst));
      g_assert_true (burst.killed);
      g_assert_true (wait_until (envoi_test_sender_gone, GUINT_TO_POINTER (burst.pid)));

      g_test_message ("attempt %u: %u answered, %u unanswered when the daemon was killed",
                      attempt, g_hash_table_size (ids), burst.failed);
      assert_answered_on_disk (&burst);
      mid_burst |= burst.failed > 0;
    }

  /* At least one of the kills landed in the middle of the burst. */
  g_assert_true (mid_burst);
}

/* A SIGKILL during a burst of 500 concurrent submissions loses no message that was answered. */
static void
test_killed_in_burst (void)
{
  burst_and_kill (BURST, BURST / 5);
}

/* Killed right after the first answer: that message (and any other answered by then) is on
 * disk, so no answer went before its message was written and renamed into place. */
static void
test_killed_after_first_reply (void)
{
  burst_and_kill (BURST, 1);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  /* Shared with the daemon: the keyfile in the session's XDG_CONFIG_HOME. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);

  g_test_init (&argc, &argv, NULL);
  envoi_runtime_init ();

  /* Registers the queue's D-Bus error names, so remote errors come back in its domain. */
  (void) envoi_queue_error_quark ();

  envoi_test_env ("ENVOI_TEST_DIR");
  h.bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_assert_nonnull (h.bus);
  h.store = envoi_account_store_new ();
  write_service_file ();

  g_test_add_func ("/envoi/commit/killed-in-burst", test_killed_in_burst);
  g_test_add_func ("/envoi/commit/killed-after-first-reply", test_killed_after_first_reply);

  status = g_test_run ();

  envoi_test_signal_sender (SIGTERM, WAIT_SECONDS);
  g_clear_object (&h.store);
  g_clear_object (&h.bus);

  return status;
}

/* envoi-sendmail-helper.c: envoi-sendmail's full path (libexecdir)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sendmail (envoi-sendmail.c) links GLib alone and hands the message to a running daemon
 * over its submit socket. Everything else it leaves to this program, run in its place with the
 * same arguments: -bp, -q, --help, --version, usage errors, and above all a daemon that is not
 * running. Then the message is written into the spool by this process itself, durably, before
 * it exits 0 (postfix's maildrop shape), then a running daemon is nudged through its datagram
 * socket, or started by D-Bus activation. With ENVOI_SENDMAIL_VIA_DBUS=1 the message goes
 * through the daemon's Submit method instead.
 */

#define _GNU_SOURCE  /* memfd_create */
#define G_LOG_DOMAIN "envoi-sendmail"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gunixfdlist.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "envoi-account-store.h"
#include "envoi-history.h"
#include "envoi-queue.h"
#include "envoi-reason.h"
#include "envoi-runtime.h"
#include "envoi-sender-dbus.h"
#include "envoi-sender-service.h"
#include "envoi-sendmail-options.h"
#include "envoi-startup.h"
#include "envoi-size-limit.h"

#define EX_OK          ENVOI_EX_OK
#define EX_USAGE       ENVOI_EX_USAGE
#define EX_DATAERR     ENVOI_EX_DATAERR
#define EX_UNAVAILABLE ENVOI_EX_UNAVAILABLE
#define EX_IOERR       ENVOI_EX_IOERR
#define EX_TEMPFAIL    ENVOI_EX_TEMPFAIL
#define EX_CONFIG      ENVOI_EX_CONFIG

static int
exit_code_for (const GError *error)
{
  if (error->domain == ENVOI_QUEUE_ERROR)
    return envoi_sendmail_exit_code (error->code);

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED))
    return EX_UNAVAILABLE;

  return EX_TEMPFAIL;
}

static int
usage (void)
{
  g_printerr ("%s\n", _("usage: envoi-sendmail --history [--search text] [-n count]"));
  return envoi_sendmail_fail (EX_USAGE, "%s",
                              _("usage: envoi-sendmail [-t] [-i] [-f sender] [-F name] [--account id] [-bm|-bp|-q] [recipient…]"));
}

/* Reads the message; without -i a line holding a single dot ends it, as with sendmail. */
static GBytes *
read_message (gboolean   ignore_dots,
              guint64    max_size,
              int       *code)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();

  switch (envoi_sendmail_read_message (stdin, ignore_dots, max_size, data))
    {
    case ENVOI_SENDMAIL_READ_FAILED:
      *code = envoi_sendmail_fail (EX_IOERR, _("Could not read the message: %s"), g_strerror (errno));
      return NULL;
    case ENVOI_SENDMAIL_READ_TOO_LARGE:
      {
        g_autofree char *reason = envoi_size_limit_describe (max_size);

        *code = envoi_sendmail_fail (EX_DATAERR, "%s", reason);
        return NULL;
      }
    case ENVOI_SENDMAIL_READ_OK:
    default:
      return g_byte_array_free_to_bytes (g_steal_pointer (&data));
    }
}

/* Tells a running daemon to look at the spool. FALSE when none is listening. */
static gboolean
nudge_daemon (void)
{
  g_autofree char *path = envoi_sender_nudge_socket_path ();
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd;
  ssize_t sent;

  if (strlen (path) >= sizeof address.sun_path)
    return FALSE;
  strcpy (address.sun_path, path);

  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return FALSE;
  sent = sendto (fd, "q", 1, 0, (struct sockaddr *) &address, sizeof address);
  close (fd);

  /* A full socket buffer means the daemon has nudges it has not read yet: enough. */
  return sent == 1 || errno == EAGAIN;
}

static gboolean
ping_daemon (GDBusConnection  *bus,
             GError          **error)
{
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_sync (bus, SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 25000, NULL, error);

  return reply != NULL;
}

/* Starts the daemon by D-Bus activation: a Ping to its name does. From the build tree nothing
 * is installed for the bus to activate, so the build's own sender is started instead and waited
 * for (this program only waits; no main loop to keep running). */
static gboolean
start_daemon (GError **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  g_autoptr(GError) local_error = NULL;
  gint64 deadline;

  if (bus == NULL)
    return FALSE;

  if (ping_daemon (bus, &local_error))
    return TRUE;

  if (!g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      envoi_startup_get_build_sender () == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!envoi_startup_spawn_build_sender (error))
    return FALSE;

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      g_clear_error (&local_error);
      if (ping_daemon (bus, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
        break;
      g_usleep (50 * 1000);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static EnvoiDBusSender1 *
get_proxy (GError **error)
{
  /* The bus activates an installed sender on the first call; the build tree's is started. */
  if (envoi_startup_get_build_sender () != NULL && !start_daemon (error))
    return NULL;

  return envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                    G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                    G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                                    SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                    NULL, error);
}

static int
submit_over_dbus (EnvoiSendmailOptions *options,
                  GBytes               *message)
{
  g_autoptr(EnvoiDBusSender1) proxy = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  gsize length;
  const guint8 *data = g_bytes_get_data (message, &length);
  int fd;
  int index;

  fd = memfd_create ("envoi-message", MFD_CLOEXEC);
  if (fd < 0 || write (fd, data, length) != (ssize_t) length || lseek (fd, 0, SEEK_SET) != 0)
    return envoi_sendmail_fail (EX_TEMPFAIL, _("Could not pass the message on: %s"), g_strerror (errno));

  fd_list = g_unix_fd_list_new ();
  index = g_unix_fd_list_append (fd_list, fd, &error);
  close (fd);
  if (index < 0)
    return envoi_sendmail_fail (EX_TEMPFAIL, "%s", error->message);

  if (!(proxy = get_proxy (&error)) ||
      !envoi_dbus_sender1_call_submit_sync (proxy, g_variant_new_handle (index),
                                            envoi_sendmail_options_to_variant (options), fd_list,
                                            &id, NULL, NULL, &error))
    {
      g_dbus_error_strip_remote_error (error);
      return envoi_sendmail_fail (exit_code_for (error), "%s", error->message);
    }

  return EX_OK;
}

static gboolean
schemas_installed (void)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, ENVOI_APP_SCHEMA_ID, TRUE);

  return schema != NULL;
}

static int
submit (EnvoiSendmailOptions *options)
{
  g_autoptr(EnvoiAccountStore) store = NULL;
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  guint64 max_size;
  int code = EX_OK;

  /* Without them GSettings aborts: say what is wrong instead. */
  if (!schemas_installed ())
    return envoi_sendmail_fail (EX_CONFIG, "%s", _("Envoi’s settings schemas are not installed"));

  store = envoi_account_store_new ();
  if (g_list_model_get_n_items (G_LIST_MODEL (store)) == 0)
    return envoi_sendmail_fail (EX_CONFIG, "%s", _("No mail account is set up: add one in Envoi"));

  max_size = g_settings_get_uint (envoi_account_store_get_settings (store), "max-message-size");
  if (!(message = read_message (options->ignore_dots, max_size, &code)))
    return code;

  if (!options->extract && options->recipients->len == 0)
    return envoi_sendmail_fail (EX_DATAERR, "%s", _("No recipients given: name them, or use -t to take them from the message"));

  if (g_strcmp0 (g_getenv ("ENVOI_SENDMAIL_VIA_DBUS"), "1") == 0)
    return submit_over_dbus (options, message);

  g_ptr_array_add (options->recipients, NULL);
  if (!(queue = envoi_queue_new (NULL, &error)) ||
      !(id = envoi_queue_submit (queue, store, message, options->account, options->from,
                                 options->full_name,
                                 (const char * const *) options->recipients->pdata,
                                 options->extract, max_size, &error)))
    return envoi_sendmail_fail (exit_code_for (error), "%s", error->message);
  g_ptr_array_remove_index (options->recipients, options->recipients->len - 1);

  /* Queued and durable: from here on the message will go, whatever happens to the nudge.
   * With no session bus at all nobody is logged in (a nightly job): the sender starts at the
   * next login, as the spool holds mail, and that is no news for the job's output. */
  if (nudge_daemon ())
    return EX_OK;

  if (!envoi_runtime_session_bus_exists ())
    g_debug ("No session bus: the message waits for the next login");
  else if (!start_daemon (&error))
    {
      g_dbus_error_strip_remote_error (error);
      g_printerr ("envoi-sendmail: %s\n",
                  _("The message is queued, but the background sender could not be started"));
      g_debug ("%s", error->message);
    }

  return EX_OK;
}

static void
print_message (const char         *id,
               gint64              queued,
               const char         *state,
               const char         *account,
               const char         *from,
               const char * const *recipients,
               const char         *last_error)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (queued);
  g_autofree char *stamp = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");
  g_autofree char *joined = g_strjoinv (", ", (char **) recipients);
  /* One line each, whatever the spool or a server put in them. */
  g_autofree char *to = envoi_reason_sanitize (joined);
  g_autofree char *clean_account = envoi_reason_sanitize (account);
  g_autofree char *clean_from = envoi_reason_sanitize (from);
  g_autofree char *reason = envoi_reason_sanitize (last_error != NULL ? last_error : "");

  g_print ("%s  %s  %-13s %s  <%s> → %s\n", id, stamp, state, clean_account, clean_from, to);
  if (*reason != '\0')
    g_print ("    %s\n", reason);
}

/* Nobody logged in (no session bus, as over ssh without a user session): the spool as it is on
 * disk, with the states written there, rather than starting a sender that could not send. */
static int
list_spool (void)
{
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  if (!(queue = envoi_queue_new (NULL, &error)))
    return envoi_sendmail_fail (exit_code_for (error), "%s", error->message);

  entries = envoi_queue_list (queue);
  for (guint i = 0; i < entries->len; i++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (entries, i);

      print_message (envoi_queue_entry_get_id (entry),
                     envoi_queue_entry_get_queued (entry) / G_USEC_PER_SEC,
                     envoi_queue_state_to_string (envoi_queue_entry_get_state (entry)),
                     envoi_queue_entry_get_account_id (entry),
                     envoi_queue_entry_get_from (entry),
                     envoi_queue_entry_get_recipients (entry),
                     envoi_queue_entry_get_last_error (entry));
    }

  if (entries->len == 0)
    g_print ("%s\n", _("The mail queue is empty"));

  return EX_OK;
}

static int
list_queue (void)
{
  g_autoptr(EnvoiDBusSender1) proxy = NULL;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *id, *account, *state, *from, *last_error;
  g_autofree const char **recipients = NULL;
  gint64 next, queued;
  guint attempts;
  guint count = 0;

  if (!envoi_runtime_session_bus_exists ())
    return list_spool ();

  if (!(proxy = get_proxy (&error)) ||
      !envoi_dbus_sender1_call_list_sync (proxy, &messages, NULL, &error))
    {
      g_dbus_error_strip_remote_error (error);
      return envoi_sendmail_fail (exit_code_for (error), "%s", error->message);
    }

  g_variant_iter_init (&iter, messages);
  while (g_variant_iter_next (&iter, "(&s&s&suxx&s^a&s&s)", &id, &account, &state, &attempts,
                              &next, &queued, &from, &recipients, &last_error))
    {
      print_message (id, queued, state, account, from, recipients, last_error);
      g_clear_pointer (&recipients, g_free);
      count++;
    }

  if (count == 0)
    g_print ("%s\n", _("The mail queue is empty"));

  return EX_OK;
}

/* One line per record, newest first, read from the history file itself: the daemon need not
 * run (SQLite lets a reader in beside it). */
static int
print_history (EnvoiSendmailOptions *options)
{
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;

  if (!(records = envoi_history_read (NULL, 0, options->history_count, options->search, &error)))
    return envoi_sendmail_fail (EX_TEMPFAIL, "%s", error->message);

  for (guint i = 0; i < records->len; i++)
    {
      EnvoiHistoryRecord *record = records->pdata[i];
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (record->time);
      g_autofree char *stamp = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");
      g_autofree char *to = g_strjoinv (", ", record->recipients);

      g_print ("%s  %s  %-9s %s  <%s> → %s  “%s”  <%s>  %s\n", stamp, record->queue_id,
               record->outcome, record->account_id, record->from, to, record->subject,
               record->message_id, record->reply);
    }

  if (records->len == 0 && (options->search == NULL || *options->search == '\0'))
    g_print ("%s\n", _("The delivery history is empty"));

  return EX_OK;
}

static int
flush_queue (void)
{
  g_autoptr(EnvoiDBusSender1) proxy = NULL;
  g_autoptr(GError) error = NULL;

  if (!(proxy = get_proxy (&error)) ||
      !envoi_dbus_sender1_call_flush_sync (proxy, NULL, &error))
    {
      g_dbus_error_strip_remote_error (error);
      return envoi_sendmail_fail (exit_code_for (error), "%s", error->message);
    }

  return EX_OK;
}

/* The first lines of this main() are those of envoi-sendmail.c's, on purpose: envoi-sendmail
 * links GLib alone (it starts once per message, from scripts), and this helper links GIO and the
 * D-Bus proxy; each main() stays whole in its own program. Change both together. */
int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  EnvoiSendmailOptions options = { .mode = ENVOI_SENDMAIL_MODE_SEND, .recipients = recipients };
  g_autofree char *message = NULL;

  envoi_startup_init ();

  /* Registers the daemon's D-Bus error names: its errors come back in the queue's domain. */
  (void) envoi_queue_error_quark ();

  switch (envoi_sendmail_parse_options (argc, argv, &options, &message))
    {
    case ENVOI_SENDMAIL_PARSE_HELP:
      usage ();
      return EX_OK;
    case ENVOI_SENDMAIL_PARSE_VERSION:
      g_print ("envoi-sendmail %s\n", PACKAGE_VERSION);
      return EX_OK;
    case ENVOI_SENDMAIL_PARSE_BAD_USAGE:
      return message != NULL ? envoi_sendmail_fail (EX_USAGE, "%s", message) : usage ();
    case ENVOI_SENDMAIL_PARSE_OK:
    default:
      break;
    }

  switch (options.mode)
    {
    case ENVOI_SENDMAIL_MODE_LIST:
      return list_queue ();
    case ENVOI_SENDMAIL_MODE_FLUSH:
      return flush_queue ();
    case ENVOI_SENDMAIL_MODE_HISTORY:
      return print_history (&options);
    case ENVOI_SENDMAIL_MODE_SEND:
    default:
      return submit (&options);
    }
}

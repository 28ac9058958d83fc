/* envoi-test-helpers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>

#include "envoi-test-helpers.h"

/* The session (tests/session.sh) must provide the variable: a missing one is a broken harness,
 * never a reason to skip. */
const char *
envoi_test_env (const char *variable)
{
  const char *value = g_getenv (variable);

  if (value == NULL || *value == '\0')
    g_error ("%s is not set: run the tests through tests/session.sh (make check)", variable);

  return value;
}

guint16
envoi_test_env_port (const char *variable)
{
  guint64 port = 0;

  if (!g_ascii_string_to_unsigned (envoi_test_env (variable), 10, 1, G_MAXUINT16, &port, NULL))
    g_error ("%s is not a port number", variable);

  return (guint16) port;
}

/* Pass as the callback with `&result` as user data, then envoi_test_wait (&result). */
void
envoi_test_async_result_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

GAsyncResult *
envoi_test_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

/* ---- waiting ------------------------------------------------------------------------------ */

#define WAKE_MS 10

static gboolean
never (gpointer data)
{
  return FALSE;
}

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the default main context until @condition holds or the clock reaches @end. */
static gboolean
run_until (EnvoiTestCondition condition,
           gpointer           data,
           gint64             end)
{
  /* Something wakes the loop when nothing else does: the condition may not be the loop's. */
  guint wake = g_timeout_add (WAKE_MS, wake_cb, NULL);
  gboolean met;

  while (!(met = condition (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);

  return met;
}

gboolean
envoi_test_wait_until (EnvoiTestCondition condition,
                       gpointer           data,
                       guint              seconds)
{
  return run_until (condition, data, g_get_monotonic_time () + seconds * G_USEC_PER_SEC);
}

void
envoi_test_spin (guint milliseconds)
{
  run_until (never, NULL, g_get_monotonic_time () + milliseconds * (gint64) 1000);
}

static gboolean
is_cleared (gpointer data)
{
  gpointer *slot = data;

  return *slot == NULL;
}

void
envoi_test_wait_cleared (gpointer *slot,
                         guint     seconds)
{
  envoi_test_wait_until (is_cleared, slot, seconds);
  g_assert_null (*slot);
}

/* Makes the session bus start the build tree's envoi-sender on demand, with the session's
 * directories and the keyfile settings backend (the bus daemon's environment is not ours). */
void
envoi_test_install_sender_service (const char *daemon_path)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "dbus-1", "services", NULL);
  g_autofree char *path = g_build_filename (dir, "io.github.envoimail.Envoi.Sender.service", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  contents = g_strdup_printf ("[D-BUS Service]\n"
                              "Name=io.github.envoimail.Envoi.Sender\n"
                              "Exec=/usr/bin/env G_DEBUG=fatal-criticals GSETTINGS_BACKEND=keyfile GSETTINGS_SCHEMA_DIR=%s "
                              "XDG_CONFIG_HOME=%s XDG_DATA_HOME=%s XDG_STATE_HOME=%s "
                              "XDG_RUNTIME_DIR=%s ENVOI_SMTP_CA_FILE=%s %s\n",
                              envoi_test_env ("GSETTINGS_SCHEMA_DIR"), g_get_user_config_dir (),
                              g_get_user_data_dir (), g_get_user_state_dir (),
                              g_get_user_runtime_dir (), envoi_test_env ("ENVOI_SMTP_CA_FILE"),
                              daemon_path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  /* A sender that an earlier test or program of the session started (the real app under
   * AT-SPI starts one, with its own environment) would answer in place of the one this file
   * describes until it left when idle: the next call starts this one. */
  envoi_test_stop_sender_service ();

  /* The bus reads the new file now rather than on its next scan. */
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ReloadConfig", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

guint32
envoi_test_sender_pid (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  g_assert_nonnull (bus);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", "io.github.envoimail.Envoi.Sender"),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);

  return pid;
}

gboolean
envoi_test_sender_gone (gpointer pid)
{
  return envoi_test_sender_pid () == 0 && kill (GPOINTER_TO_UINT (pid), 0) != 0;
}

void
envoi_test_signal_sender (int   signal_number,
                          guint seconds)
{
  guint32 pid = envoi_test_sender_pid ();

  if (pid == 0)
    return;

  g_assert_cmpint (kill (pid, signal_number), ==, 0);
  g_assert_true (envoi_test_wait_until (envoi_test_sender_gone, GUINT_TO_POINTER (pid), seconds));
}

void
envoi_test_stop_sender_service (void)
{
  guint32 pid = envoi_test_sender_pid ();

  if (pid == 0)
    return;
  kill (pid, SIGTERM);
  for (guint i = 0; i < 500 && kill (pid, 0) == 0; i++)
    g_usleep (10 * 1000);
}

char *
envoi_test_lookup_secret (EnvoiAccount *account,
                          EnvoiService  service)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *secret;

  envoi_secret_lookup_async (account, service, NULL, envoi_test_async_result_cb, &result);
  secret = envoi_secret_lookup_finish (envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  return secret;
}

void
envoi_test_release_fifo (const char *path)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  int fd;

  while ((fd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
    {
      g_assert_cmpint (errno, ==, ENXIO);
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  close (fd);
  g_assert_cmpint (g_unlink (path), ==, 0);
}

guint
envoi_test_count_files (const char *dir,
                        const char *suffix)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint count = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      if (suffix == NULL || g_str_has_suffix (name, suffix))
        count++;
    }

  return count;
}

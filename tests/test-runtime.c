/* test-runtime.c: the runtime directory and session bus every program uses, and the guard of the
 * start at login
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi_runtime_init() decides once per process, so each case runs in a subprocess of its own,
 * with the environment it needs set there before anything asks GLib.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "envoi-autostart.h"
#include "envoi-runtime.h"

static void
run_in_subprocess (const char *path)
{
  g_test_trap_subprocess (path, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* What the environment says is kept. */
static void
test_keeps_environment (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("XDG_RUNTIME_DIR", "/nonexistent/runtime", TRUE);
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:abstract=/tmp/dbus-xyz,guid=0123", TRUE);
      envoi_runtime_init ();
      g_assert_cmpstr (g_getenv ("XDG_RUNTIME_DIR"), ==, "/nonexistent/runtime");
      g_assert_cmpstr (g_getenv ("DBUS_SESSION_BUS_ADDRESS"), ==, "unix:abstract=/tmp/dbus-xyz,guid=0123");
      g_assert_cmpstr (envoi_runtime_dir (), ==, "/nonexistent/runtime");
      /* Not a path: assumed to be there. */
      g_assert_true (envoi_runtime_session_bus_exists ());
      return;
    }
  run_in_subprocess ("/envoi/runtime/keeps-environment");
}

/* No bus address: the one at <runtime>/bus, escaped, whether it is there or not. */
static void
test_bus_in_runtime_dir (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = g_dir_make_tmp ("envoi runtime-XXXXXX", NULL);
      g_autofree char *bus = g_build_filename (dir, "bus", NULL);
      g_autofree char *expected = NULL;
      g_autofree char *escaped_dir = g_uri_escape_string (dir, "/", FALSE);
      g_autofree char *socket = NULL;

      g_assert_nonnull (dir);
      g_setenv ("XDG_RUNTIME_DIR", dir, TRUE);
      g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
      envoi_runtime_init ();

      expected = g_strdup_printf ("unix:path=%s/bus", escaped_dir);
      g_assert_cmpstr (g_getenv ("DBUS_SESSION_BUS_ADDRESS"), ==, expected);
      g_assert_nonnull (strstr (expected, "%20"));
      g_assert_false (envoi_runtime_session_bus_exists ());

      g_assert_true (g_file_set_contents (bus, "", 0, NULL));
      g_assert_true (envoi_runtime_session_bus_exists ());

      socket = envoi_runtime_socket_path ("sender.submit");
      g_assert_true (g_str_has_prefix (socket, dir));
      g_assert_true (g_str_has_suffix (socket, "/envoi/sender.submit"));

      g_unlink (bus);
      g_rmdir (dir);
      return;
    }
  run_in_subprocess ("/envoi/runtime/bus-in-runtime-dir");
}

/* cron: neither variable. /run/user/<uid> when fit, else GLib's own fallback; a bus address is
 * always set, so that GLib never autolaunches one. */
static void
test_bare_environment (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *systemd_dir = envoi_runtime_systemd_dir ();
      g_autofree char *bus = NULL;
      const char *address;

      g_unsetenv ("XDG_RUNTIME_DIR");
      g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
      envoi_runtime_init ();

      if (systemd_dir != NULL)
        g_assert_cmpstr (g_getenv ("XDG_RUNTIME_DIR"), ==, systemd_dir);
      else
        g_assert_null (g_getenv ("XDG_RUNTIME_DIR"));

      address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
      g_assert_nonnull (address);
      bus = g_build_filename (envoi_runtime_dir (), "bus", NULL);
      g_assert_true (g_str_has_prefix (address, "unix:path="));
      g_assert_true (g_str_has_suffix (address, "/bus"));
      g_assert_cmpint (envoi_runtime_session_bus_exists (), ==, g_file_test (bus, G_FILE_TEST_EXISTS));
      return;
    }
  run_in_subprocess ("/envoi/runtime/bare-environment");
}

/* /run/user/<uid> only when it is a directory of the user's, mode 0700. */
static void
test_systemd_dir_checks (void)
{
  g_autofree char *path = g_strdup_printf ("/run/user/%u", (guint) getuid ());
  g_autofree char *dir = envoi_runtime_systemd_dir ();
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    g_assert_null (dir);
  else if (S_ISDIR (st.st_mode) && st.st_uid == getuid () && (st.st_mode & 07777) == 0700)
    g_assert_cmpstr (dir, ==, path);
  else
    g_assert_null (dir);
}

/* The guard of `envoi-sender --if-queued`: a committed message that may still go, not a
 * temporary file, nor one that failed for good. */
static void
test_spool_guard (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *data = g_dir_make_tmp ("envoi-data-XXXXXX", NULL);
      g_autofree char *spool = g_build_filename (data, "envoi", "queue", NULL);
      g_autofree char *tmp = g_build_filename (spool, ".tmp-0123", NULL);
      g_autofree char *env = g_build_filename (spool, "0123-ab.env", NULL);
      g_autofree char *msg = g_build_filename (spool, "0123-ab.msg", NULL);

      g_setenv ("XDG_DATA_HOME", data, TRUE);
      g_assert_false (envoi_autostart_spool_holds_mail ());

      g_assert_cmpint (g_mkdir_with_parents (spool, 0700), ==, 0);
      g_assert_false (envoi_autostart_spool_holds_mail ());
      g_assert_true (g_file_set_contents (tmp, "x", 1, NULL));
      g_assert_true (g_file_set_contents (env, "x", 1, NULL));
      g_assert_false (envoi_autostart_spool_holds_mail ());
      g_assert_true (g_file_set_contents (msg, "x", 1, NULL));
      g_assert_true (envoi_autostart_spool_holds_mail ());
      g_assert_true (g_file_set_contents (env, "[State]\nstate=failed\n", -1, NULL));
      g_assert_false (envoi_autostart_spool_holds_mail ());
      g_assert_true (g_file_set_contents (env, "[State]\nstate=deferred\n", -1, NULL));
      g_assert_true (envoi_autostart_spool_holds_mail ());

      g_unlink (msg);
      g_unlink (env);
      g_unlink (tmp);
      return;
    }
  run_in_subprocess ("/envoi/autostart/spool-guard");
}

/* The Background portal: autostart of the guarded sender while mail waits, dropped after. */
static void
test_portal_options (void)
{
  g_autoptr(GVariant) on = g_variant_ref_sink (envoi_autostart_portal_options ("why", TRUE));
  g_autoptr(GVariant) off = g_variant_ref_sink (envoi_autostart_portal_options ("why", FALSE));
  g_autofree const char **commandline = NULL;
  g_autofree char *sender = g_build_filename (LIBEXECDIR, "envoi-sender", NULL);
  gboolean autostart = FALSE;
  const char *reason = NULL;

  g_assert_true (g_variant_lookup (on, "autostart", "b", &autostart));
  g_assert_true (autostart);
  g_assert_true (g_variant_lookup (on, "reason", "&s", &reason));
  g_assert_cmpstr (reason, ==, "why");
  g_assert_true (g_variant_lookup (on, "commandline", "^a&s", &commandline));
  g_assert_cmpuint (g_strv_length ((char **) commandline), ==, 2);
  g_assert_cmpstr (commandline[0], ==, sender);
  g_assert_cmpstr (commandline[1], ==, "--if-queued");

  g_assert_true (g_variant_lookup (off, "autostart", "b", &autostart));
  g_assert_false (autostart);
  g_assert_false (g_variant_lookup (off, "commandline", "^a&s", NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/runtime/keeps-environment", test_keeps_environment);
  g_test_add_func ("/envoi/runtime/bus-in-runtime-dir", test_bus_in_runtime_dir);
  g_test_add_func ("/envoi/runtime/bare-environment", test_bare_environment);
  g_test_add_func ("/envoi/runtime/systemd-dir-checks", test_systemd_dir_checks);
  g_test_add_func ("/envoi/autostart/spool-guard", test_spool_guard);
  g_test_add_func ("/envoi/autostart/portal-options", test_portal_options);

  return g_test_run ();
}

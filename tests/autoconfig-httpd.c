/* autoconfig-httpd.c: starting tests/autoconfig-httpd.py from a test binary
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <unistd.h>

#include "autoconfig-httpd.h"
#include "envoi-test-helpers.h"

/* Starts the server in the session's scratch directory and reads what it wrote to env. */
void
autoconfig_httpd_start (AutoconfigHttpd *httpd)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "autoconfig-httpd.py", NULL);
  g_autofree char *name = g_strdup_printf ("autoconfig-httpd-%d", (int) getpid ());
  g_autofree char *dir = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *env_path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  dir = g_build_filename (envoi_test_env ("ENVOI_TEST_DIR"), name, NULL);
  /* Its stdin is a pipe: when this process ends, however it ends, the server sees EOF and goes. */
  httpd->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, "/usr/bin/python3",
                                     script, "--dir", dir, NULL);
  g_assert_no_error (error);

  ready = g_build_filename (dir, "ready", NULL);
  while (!g_file_test (ready, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }

  env_path = g_build_filename (dir, "env", NULL);
  g_assert_true (g_file_get_contents (env_path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *value = strchr (lines[i], '=');

      if (value == NULL)
        continue;
      *value++ = '\0';
      if (g_str_equal (lines[i], "AUTOCONFIG_HTTPS_PORT"))
        httpd->https_port = g_strdup (value);
      else if (g_str_equal (lines[i], "AUTOCONFIG_HTTP_PORT"))
        httpd->http_port = g_strdup (value);
      else if (g_str_equal (lines[i], "AUTOCONFIG_CA_FILE"))
        httpd->ca_file = g_strdup (value);
      else if (g_str_equal (lines[i], "AUTOCONFIG_LOG"))
        httpd->log = g_strdup (value);
    }
  g_assert_nonnull (httpd->https_port);
  g_assert_nonnull (httpd->http_port);
  g_assert_nonnull (httpd->ca_file);
  g_assert_nonnull (httpd->log);
}

void
autoconfig_httpd_stop (AutoconfigHttpd *httpd)
{
  g_subprocess_force_exit (httpd->process);
  g_subprocess_wait (httpd->process, NULL, NULL);
  g_clear_object (&httpd->process);
  g_clear_pointer (&httpd->https_port, g_free);
  g_clear_pointer (&httpd->http_port, g_free);
  g_clear_pointer (&httpd->ca_file, g_free);
  g_clear_pointer (&httpd->log, g_free);
}

/* CONNECT_TO entries sending every HTTPS and HTTP request to the server. */
GStrv
autoconfig_httpd_connect_to (AutoconfigHttpd *httpd)
{
  GStrv entries = g_new0 (char *, 3);

  entries[0] = g_strdup_printf (":443:127.0.0.1:%s", httpd->https_port);
  entries[1] = g_strdup_printf (":80:127.0.0.1:%s", httpd->http_port);
  return entries;
}

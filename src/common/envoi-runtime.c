/* envoi-runtime.c: the user's runtime directory and session bus, for every Envoi program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-runtime"

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-runtime.h"

#define BUS_PREFIX "unix:path="

char *
envoi_runtime_systemd_dir (void)
{
  g_autofree char *path = g_strdup_printf ("/run/user/%u", (guint) getuid ());
  struct stat st;

  if (lstat (path, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid () ||
      (st.st_mode & 07777) != 0700)
    return NULL;

  return g_steal_pointer (&path);
}

static gboolean
is_unset (const char *variable)
{
  const char *value = g_getenv (variable);

  return value == NULL || *value == '\0';
}

/* D-Bus address escaping: bytes outside [-0-9A-Za-z_/.\*] as %XX. */
static char *
bus_address_for (const char *runtime_dir)
{
  g_autofree char *path = g_build_filename (runtime_dir, "bus", NULL);
  GString *address = g_string_new (BUS_PREFIX);

  for (const char *p = path; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("-_/.\\*", *p) != NULL)
        g_string_append_c (address, *p);
      else
        g_string_append_printf (address, "%%%02X", (guint) (guchar) *p);
    }

  return g_string_free (address, FALSE);
}

void
envoi_runtime_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;

  if (is_unset ("XDG_RUNTIME_DIR"))
    {
      g_autofree char *dir = envoi_runtime_systemd_dir ();

      if (dir != NULL)
        g_setenv ("XDG_RUNTIME_DIR", dir, TRUE);
      /* Otherwise GLib's own fallback (the cache directory), for every program alike. */
    }

  if (is_unset ("DBUS_SESSION_BUS_ADDRESS"))
    {
      g_autofree char *address = bus_address_for (g_get_user_runtime_dir ());

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
    }
}

const char *
envoi_runtime_dir (void)
{
  envoi_runtime_init ();

  return g_get_user_runtime_dir ();
}

char *
envoi_runtime_socket_path (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_build_filename (envoi_runtime_dir (), "envoi", name, NULL);
}

gboolean
envoi_runtime_session_bus_exists (void)
{
  const char *address;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  envoi_runtime_init ();
  address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  if (address == NULL || !g_str_has_prefix (address, BUS_PREFIX) || strchr (address, ';') != NULL)
    return TRUE;

  /* unix:path=/run/user/1000/bus,guid=…: the path ends at the first comma. */
  address += strlen (BUS_PREFIX);
  escaped = g_strndup (address, strcspn (address, ","));
  path = g_uri_unescape_string (escaped, NULL);
  if (path == NULL)
    return TRUE;

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

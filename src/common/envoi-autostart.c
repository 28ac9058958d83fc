/* envoi-autostart.c: starting the background sender at login while mail waits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Outside Flatpak, meson installs a systemd user unit (ConditionDirectoryNotEmpty= on the
 * spool) and an XDG autostart entry, both running `envoi-sender --if-queued`. Inside, nothing
 * installed there is seen by the session: the Background portal writes the autostart entry
 * instead, asked for by the sender while its queue holds mail and dropped when it is empty.
 */

#define G_LOG_DOMAIN "envoi-autostart"

#include "config.h"

#include <string.h>

#include "envoi-autostart.h"
#include "envoi-queue.h"
#include "envoi-queue-entry.h"

/* A message that failed for good keeps its file for the window to show, with state=failed in
 * its ID.env (a state change always writes that file): nothing to send at login. */
static gboolean
has_failed (const char *directory,
            const char *msg_name)
{
  g_autofree char *id = g_strndup (msg_name, strlen (msg_name) - strlen (".msg"));
  g_autofree char *env_name = g_strconcat (id, ".env", NULL);
  g_autofree char *path = g_build_filename (directory, env_name, NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *state = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  state = g_key_file_get_string (keyfile, "State", "state", NULL);

  return g_strcmp0 (state, envoi_queue_state_to_string (ENVOI_QUEUE_STATE_FAILED)) == 0;
}

gboolean
envoi_autostart_spool_holds_mail (void)
{
  g_autofree char *directory = envoi_queue_default_directory ();
  g_autoptr(GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (name[0] != '.' && g_str_has_suffix (name, ".msg") && !has_failed (directory, name))
        return TRUE;
    }

  return FALSE;
}

/* Asked after every delivery: looked up once, as a sandbox does not come or go. */
gboolean
envoi_autostart_is_sandboxed (void)
{
  static gsize sandboxed;

  if (g_once_init_enter (&sandboxed))
    g_once_init_leave (&sandboxed, g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS) ? 2 : 1);

  return sandboxed == 2;
}

GVariant *
envoi_autostart_portal_options (const char *reason,
                                gboolean    autostart)
{
  g_autofree char *sender = g_build_filename (LIBEXECDIR, "envoi-sender", NULL);
  const char *commandline[] = { sender, "--if-queued", NULL };
  GVariantBuilder options;

  g_return_val_if_fail (reason != NULL, NULL);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "reason", g_variant_new_string (reason));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (autostart));
  if (autostart)
    g_variant_builder_add (&options, "{sv}", "commandline", g_variant_new_strv (commandline, -1));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  return g_variant_builder_end (&options);
}

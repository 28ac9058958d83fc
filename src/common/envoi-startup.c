/* envoi-startup.c: what every Envoi program does first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every program of Envoi starts the same way: when it runs from the build tree (`make run`, or
 * `_build/src/sender/envoi-sendmail` typed by hand) it uses that tree's settings schemas and
 * translations, so that nothing has to be installed to try it; then it sets up the locale.
 * An installed program never looks at the build tree: only a program whose own directory is
 * one of this build's program directories does.
 *
 * GLib alone: envoi-sendmail, which links nothing of GIO, calls it too.
 */

#define G_LOG_DOMAIN "envoi-startup"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <locale.h>
#include <unistd.h>

#include "envoi-runtime.h"
#include "envoi-startup.h"

/* The directory of the running program, if it is one of this build tree's program directories. */
static gboolean
running_from_build_tree (void)
{
  static const char * const program_dirs[] = { "src/app", "src/sender", NULL };
  static gsize checked;
  static gboolean result;

  if (g_once_init_enter (&checked))
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      g_autofree char *dir = exe != NULL ? g_path_get_dirname (exe) : NULL;

      for (guint i = 0; dir != NULL && program_dirs[i] != NULL; i++)
        {
          g_autofree char *build_dir = g_build_filename (ENVOI_BUILD_ROOT, program_dirs[i], NULL);

          if (g_str_equal (dir, build_dir))
            result = TRUE;
        }
      g_once_init_leave (&checked, 1);
    }

  return result;
}

/* Puts the build tree's compiled schemas first on GSettings' path, unless they already are. */
static void
use_build_tree_schemas (void)
{
  g_autofree char *schemas = g_build_filename (ENVOI_BUILD_ROOT, "data", NULL);
  const char *current = g_getenv ("GSETTINGS_SCHEMA_DIR");
  g_auto(GStrv) dirs = NULL;
  g_autofree char *value = NULL;

  if (current != NULL && *current != '\0')
    {
      dirs = g_strsplit (current, G_SEARCHPATH_SEPARATOR_S, -1);
      if (g_strv_contains ((const char * const *) dirs, schemas))
        return;
      value = g_strjoin (G_SEARCHPATH_SEPARATOR_S, schemas, current, NULL);
    }
  else
    value = g_steal_pointer (&schemas);

  g_setenv ("GSETTINGS_SCHEMA_DIR", value, TRUE);
}

/**
 * envoi_startup_init:
 *
 * First in every main(), before any thread starts: finds the user's runtime directory and
 * session bus when the environment does not say (envoi_runtime_init(): cron, ssh, a timer);
 * uses the build tree's schemas and translations when the program runs from it (the
 * environment is set, so that whatever the program starts does the same); then sets up the
 * locale and Envoi's translation domain. `ENVOI_LOCALEDIR`, when set, names the catalogues.
 */
void
envoi_startup_init (void)
{
  envoi_runtime_init ();
  envoi_startup_init_locale ();
}

/**
 * envoi_startup_init_deferred:
 *
 * envoi_startup_init() for a program that usually says nothing, envoi-sendmail: finds the
 * runtime directory and the session bus now, and leaves the build tree, the locale and the
 * translations to envoi_startup_init_locale(), which it must call before it shows a message,
 * translates a string, or starts another program. Reading the locale's files costs a
 * submission about as much as all the rest of its own work.
 */
void
envoi_startup_init_deferred (void)
{
  envoi_runtime_init ();
}

/**
 * envoi_startup_init_locale:
 *
 * The second half of envoi_startup_init(): the build tree's schemas and translations when
 * the program runs from it, then the locale and Envoi's translation domain. Runs once, before
 * any thread starts; keeps `errno`, so that an error path may call it before g_strerror().
 */
void
envoi_startup_init_locale (void)
{
  static gboolean done;
  const char *localedir;
  int saved_errno = errno;

  if (done)
    return;
  done = TRUE;

  if (running_from_build_tree ())
    {
      g_autofree char *po = g_build_filename (ENVOI_BUILD_ROOT, "po", NULL);

      use_build_tree_schemas ();
      g_setenv ("ENVOI_LOCALEDIR", po, FALSE);
    }

  localedir = g_getenv ("ENVOI_LOCALEDIR");
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  errno = saved_errno;
}

/**
 * envoi_startup_get_build_sender:
 *
 * Returns: (nullable): the build tree's envoi-sender when this program runs from the build tree,
 *   where D-Bus cannot activate it because nothing is installed; %NULL when installed.
 */
const char *
envoi_startup_get_build_sender (void)
{
  static char *path;

  if (!running_from_build_tree ())
    return NULL;

  if (g_once_init_enter (&path))
    g_once_init_leave (&path, g_build_filename (ENVOI_BUILD_ROOT, "src", "sender",
                                                "envoi-sender", NULL));

  return path;
}

/* Its own session: a Ctrl+C meant for the program that started it does not reach it. */
static void
new_session (gpointer user_data)
{
  setsid ();
}

/**
 * envoi_startup_spawn_build_sender:
 * @error: return location for a #GError
 *
 * Starts the build tree's sender in the background, detached, with this program's environment
 * (which envoi_startup_init() pointed at the build tree). It claims the bus name itself, and
 * leaves when idle as it does once installed; a second one started while the first still runs
 * finds the name taken and leaves at once.
 *
 * Returns: %TRUE if it was started; %FALSE with @error when this program is installed or the
 *   sender could not be started.
 */
gboolean
envoi_startup_spawn_build_sender (GError **error)
{
  const char *sender = envoi_startup_get_build_sender ();
  const char *argv[] = { NULL, NULL };

  if (sender == NULL)
    {
      g_set_error_literal (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                           "Not running from the build tree");
      return FALSE;
    }

  argv[0] = sender;
  return g_spawn_async (NULL, (char **) argv, NULL,
                        G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDOUT_TO_DEV_NULL |
                        G_SPAWN_STDERR_TO_DEV_NULL,
                        new_session, NULL, NULL, error);
}

/* main.c: the envoi settings application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

#include "envoi-application.h"
#include "envoi-runtime.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EnvoiApplication) app = NULL;
  const char *localedir = g_getenv ("ENVOI_LOCALEDIR");

  /* ENVOI_LOCALEDIR lets `make run` and the tests use the catalogues of the build tree. */
  envoi_runtime_init ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = envoi_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}

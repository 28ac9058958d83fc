/* main.c: the envoi settings application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "envoi-application.h"
#include "envoi-startup.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EnvoiApplication) app = NULL;

  /* From the build tree (`make run`) the tree's schemas and catalogues, then the locale. */
  envoi_startup_init ();

  app = envoi_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}

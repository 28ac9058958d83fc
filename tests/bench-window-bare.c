/* bench-window-bare.c: the floor of the window start-up bench (tests/bench-window.sh)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bare libadwaita application: an empty AdwApplicationWindow of the size of Envoi's main
 * window (src/app/envoi-window.ui), presented on "activate". Exits 0 at its first painted frame
 * (tests/bench-window-frame.h), 1 if it never paints.
 */

#include <adwaita.h>

#include "bench-window-frame.h"

static int
painted_cb (GtkWindow *window)
{
  return 0;
}

static void
activate_cb (GApplication *app,
             gpointer      user_data)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (app));

  gtk_window_set_default_size (GTK_WINDOW (window), 680, 620);
  gtk_window_present (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AdwApplication) app = NULL;

  app = adw_application_new ("io.github.envoimail.Envoi.BenchBare", G_APPLICATION_DEFAULT_FLAGS);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), NULL);
  bench_window_watch (GTK_APPLICATION (app), painted_cb);

  return g_application_run (G_APPLICATION (app), argc, argv);
}

/* bench-window-envoi.c: Envoi's side of the window start-up bench (tests/bench-window.sh)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts the real EnvoiApplication exactly as `envoi` does (src/app/main.c) and exits 0 at the
 * first painted frame of its first window (tests/bench-window-frame.h, the criterion the bare
 * libadwaita window is measured by), 1 if it never paints. So that the figure is the accounts
 * view's and not an error page's, the window must be an EnvoiWindow showing its accounts: if
 * not, it says so and exits 2.
 */

#include "config.h"

#include "envoi-application.h"
#include "envoi-startup.h"
#include "envoi-window.h"

#include "bench-window-frame.h"

static int
painted_cb (GtkWindow *window)
{
  GtkStack *stack;
  const char *page;

  if (!ENVOI_IS_WINDOW (window))
    {
      g_printerr ("bench-window-envoi: the first window is a %s, not the main window\n",
                  G_OBJECT_TYPE_NAME (window));
      return 2;
    }

  stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (window), ENVOI_TYPE_WINDOW,
                                                    "stack"));
  page = gtk_stack_get_visible_child_name (stack);
  if (g_strcmp0 (page, "accounts") != 0)
    {
      g_printerr ("bench-window-envoi: the main window shows \"%s\", not its accounts\n",
                  page != NULL ? page : "(nothing)");
      return 2;
    }

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EnvoiApplication) app = NULL;

  /* What src/app/main.c does, then the watch. */
  envoi_startup_init ();

  app = envoi_application_new ();
  bench_window_watch (GTK_APPLICATION (app), painted_cb);

  return g_application_run (G_APPLICATION (app), argc, argv);
}

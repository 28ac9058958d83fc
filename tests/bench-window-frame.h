/* bench-window-frame.h: when a window has started up, for tests/bench-window.sh
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one criterion both window start-up programs use (bench-window-bare.c, the floor, and
 * bench-window-envoi.c, Envoi's main window): a window has started up when its surface's frame
 * clock has finished painting a frame ("after-paint") while the surface is mapped, that is
 * when the window's first frame is on the screen. Watched from the window's "map", so that
 * nothing is added to the window itself. Both programs then exit at once, without tearing
 * anything down: the script times each process from its start to its exit.
 *
 * A window that never paints must not hang the bench: after BENCH_WINDOW_TIMEOUT_S seconds the
 * program says so and exits 1.
 */

#pragma once

#include <gtk/gtk.h>

#define BENCH_WINDOW_TIMEOUT_S 20

/* Called once, at the first painted frame; returns the exit status. */
typedef int (*BenchWindowPainted) (GtkWindow *window);

static BenchWindowPainted bench_window_painted;

static void
bench_window_after_paint_cb (GdkFrameClock *clock,
                             GtkWindow     *window)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (window));

  /* A frame of a surface not yet on the screen draws nothing: wait for the next one. */
  if (surface == NULL || !gdk_surface_get_mapped (surface))
    return;

  fflush (stdout);
  exit (bench_window_painted (window));
}

static void
bench_window_map_cb (GtkWidget *widget,
                     gpointer   user_data)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (widget));

  g_signal_connect_object (gdk_surface_get_frame_clock (surface), "after-paint",
                           G_CALLBACK (bench_window_after_paint_cb), widget, 0);
}

static gboolean
bench_window_timeout_cb (gpointer user_data)
{
  g_printerr ("%s: no window painted a frame within %d s\n", g_get_prgname (),
              BENCH_WINDOW_TIMEOUT_S);
  exit (1);
}

static void
bench_window_added_cb (GtkApplication *app,
                       GtkWindow      *window,
                       gpointer        user_data)
{
  static gboolean seen;

  if (seen)
    return;
  seen = TRUE;
  g_signal_connect (window, "map", G_CALLBACK (bench_window_map_cb), NULL);
}

/* Before g_application_run(): watches the first window @app adds; @painted says what to do
 * once it has painted, and returns the exit status. */
static void
bench_window_watch (GtkApplication     *app,
                    BenchWindowPainted  painted)
{
  bench_window_painted = painted;
  g_signal_connect (app, "window-added", G_CALLBACK (bench_window_added_cb), NULL);
  g_timeout_add_seconds (BENCH_WINDOW_TIMEOUT_S, bench_window_timeout_cb, NULL);
}

/* envoi-background.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Inside Flatpak, a process of the app that has no window may be stopped unless the user let the
 * app run in the background. The background sender is such a process, so the window asks the
 * Background portal once, with the reason in words. Outside a sandbox nothing is asked: the
 * sender is a plain D-Bus-activated service there.
 */

#define G_LOG_DOMAIN "envoi-background"

#include "config.h"

#include <gdk/x11/gdkx.h>
#include <glib/gi18n-lib.h>

#include "envoi-autostart.h"
#include "envoi-background.h"

gboolean
envoi_background_is_sandboxed (void)
{
  return envoi_autostart_is_sandboxed ();
}

/* The options of RequestBackground: the reason shown to the person, and autostart only while
 * mail waits in the queue, as the sender itself asks (each request replaces the last one's
 * autostart); otherwise the session bus starts the sender when a program submits mail. */
GVariant *
envoi_background_request_options (void)
{
  return envoi_autostart_portal_options (_("Envoi sends the mail of other programs in the "
                                           "background, also when its window is closed."),
                                         envoi_background_is_sandboxed () &&
                                         envoi_autostart_spool_holds_mail ());
}

static char *
parent_window_handle (GtkWindow *window)
{
#ifdef GDK_WINDOWING_X11
  GdkSurface *surface = window != NULL ? gtk_native_get_surface (GTK_NATIVE (window)) : NULL;

  if (surface != NULL && GDK_IS_X11_SURFACE (surface))
    return g_strdup_printf ("x11:%lx", (unsigned long) gdk_x11_surface_get_xid (surface));
#endif

  /* Wayland handles need an async export; the portal accepts an empty parent. */
  return g_strdup ("");
}

static void
request_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Could not ask to run in the background: %s", error->message);
}

void
envoi_background_request (GtkWindow    *window,
                          GCancellable *cancellable)
{
  g_autofree char *parent = NULL;
  GDBusConnection *bus;

  if (!envoi_background_is_sandboxed ())
    return;

  bus = g_application_get_dbus_connection (g_application_get_default ());
  if (bus == NULL)
    return;

  parent = parent_window_handle (window);
  g_dbus_connection_call (bus,
                          "org.freedesktop.portal.Desktop",
                          "/org/freedesktop/portal/desktop",
                          "org.freedesktop.portal.Background",
                          "RequestBackground",
                          g_variant_new ("(s@a{sv})", parent,
                                         envoi_background_request_options ()),
                          G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, request_cb, NULL);
}

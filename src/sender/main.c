/* main.c: envoi-sender, the background sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib-unix.h>
#include <unistd.h>

#include "envoi-autostart.h"
#include "envoi-runtime.h"
#include "envoi-sender-service.h"
#include "envoi-startup.h"

/* Whether a sender already runs on the session bus (it watches the spool itself). */
static gboolean
sender_running (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  gboolean owned = FALSE;

  if (bus == NULL)
    return FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", SENDER_BUS_NAME),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &owned);

  return owned;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_debug ("Terminated: exiting");
  g_application_quit (G_APPLICATION (user_data));

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EnvoiSenderService) service = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean replace = FALSE;
  gboolean version = FALSE;
  gboolean if_queued = FALSE;
  const GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, N_("Replace a running sender"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version and exit"), NULL },
    { "if-queued", 0, 0, G_OPTION_ARG_NONE, &if_queued,
      N_("Exit at once unless mail waits in the queue (for the start at login)"), NULL },
    { NULL }
  };

  /* GLib 2.74's slice allocator keeps every freed block for reuse and never gives it back:
   * after announcing ten thousand state changes the daemon would stay that large. GLib reads
   * G_SLICE when it loads, so the choice takes one exec at startup (GLib ≥ 2.76 ignores it). */
  if (g_getenv ("G_SLICE") == NULL)
    {
      g_setenv ("G_SLICE", "always-malloc", TRUE);
      execv ("/proc/self/exe", argv);
      g_unsetenv ("G_SLICE");  /* no /proc: carry on as we are */
    }

  envoi_startup_init ();

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _("Sends the mail queued by envoi-sendmail and other programs."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("envoi-sender: %s\n", error->message);
      return 64;
    }

  if (version)
    {
      g_print ("envoi-sender %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* At login (the XDG autostart entry, the systemd user unit): only when mail waited while
   * the user was away, and only if no sender runs already. */
  if (if_queued && (!envoi_autostart_spool_holds_mail () || sender_running ()))
    return 0;

  service = envoi_sender_service_new (replace);
  g_unix_signal_add (SIGTERM, quit_cb, service);
  g_unix_signal_add (SIGINT, quit_cb, service);

  /* At login the bus may have started one meanwhile (a program submitted mail): that one sends. */
  if (if_queued && !g_application_register (G_APPLICATION (service), NULL, &error))
    {
      if (sender_running ())
        return 0;
      g_printerr ("envoi-sender: %s\n", error->message);
      return 1;
    }

  return g_application_run (G_APPLICATION (service), 1, argv);
}

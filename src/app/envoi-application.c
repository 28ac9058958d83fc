/* envoi-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-application"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-application.h"
#include "envoi-window.h"

struct _EnvoiApplication
{
  AdwApplication     parent_instance;

  EnvoiAccountStore *store;
};

G_DEFINE_FINAL_TYPE (EnvoiApplication, envoi_application, ADW_TYPE_APPLICATION)

static void
envoi_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (envoi_window_new (GTK_APPLICATION (app),
                                           envoi_application_get_account_store (ENVOI_APPLICATION (app))));

  gtk_window_present (window);
}

static void
envoi_application_startup (GApplication *app)
{
  EnvoiApplication *self = ENVOI_APPLICATION (app);

  G_APPLICATION_CLASS (envoi_application_parent_class)->startup (app);

  /* Settings are read only once the display is up: a schema error is a setup problem. */
  self->store = envoi_account_store_new ();
}

static void
envoi_application_dispose (GObject *object)
{
  EnvoiApplication *self = ENVOI_APPLICATION (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (envoi_application_parent_class)->dispose (object);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  static const char *developers[] = { "The Envoi authors", NULL };
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (app),
                        "application-name", "Envoi",
                        "application-icon", APPLICATION_ID,
                        "developer-name", "The Envoi authors",
                        "version", PACKAGE_VERSION,
                        "website", PACKAGE_WEBSITE,
                        "issue-url", PACKAGE_WEBSITE "/issues",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", developers,
                        /* Translators: replace with your names, one per line, e.g.
                         * "Jane Doe <jane@example.com>" */
                        "translator-credits", _("translator-credits"),
                        "copyright", "© 2026 The Envoi authors",
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
};

static void
envoi_application_class_init (EnvoiApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = envoi_application_dispose;

  app_class->activate = envoi_application_activate;
  app_class->startup = envoi_application_startup;
}

static void
envoi_application_init (EnvoiApplication *self)
{
  static const char *quit_accels[] = { "<Control>q", NULL };

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
}

EnvoiApplication *
envoi_application_new (void)
{
  return g_object_new (ENVOI_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/envoimail/Envoi",
                       NULL);
}

EnvoiAccountStore *
envoi_application_get_account_store (EnvoiApplication *self)
{
  g_return_val_if_fail (ENVOI_IS_APPLICATION (self), NULL);

  return self->store;
}

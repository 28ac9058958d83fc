/* test-window.c: the main window against the real background sender, activated on the
 * session bus: a message the server refuses shows with its reason, and Cancel removes it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-application.h"
#include "envoi-history-view.h"
#include "envoi-sender-dbus.h"
#include "envoi-test-helpers.h"
#include "envoi-window.h"

static GtkWidget *
template_child (GtkWidget  *window,
                const char *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (window, ENVOI_TYPE_WINDOW, name));
}

static const char *
first_queue_subtitle (GtkWidget *window)
{
  GtkWidget *row = gtk_widget_get_first_child (template_child (window, "queue_list"));

  return row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
}

static gboolean
refused_message_shown (gpointer window)
{
  const char *subtitle = first_queue_subtitle (window);

  return subtitle != NULL && strstr (subtitle, "Not delivered") != NULL;
}

static gboolean
queue_empty_shown (gpointer window)
{
  const char *description = adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (template_child (window, "queue_group")));

  return gtk_widget_get_first_child (template_child (window, "queue_list")) == NULL &&
         g_strcmp0 (description, "Every message has been sent.") == 0;
}

static gboolean
usage_shown (gpointer window)
{
  GtkWidget *row = gtk_widget_get_first_child (template_child (window, "account_list"));
  const char *subtitle = row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;

  return subtitle != NULL && strstr (subtitle, "this hour") != NULL;
}

static char *
submit (EnvoiDBusSender1 *sender)
{
  const char *message = "From: ops@example.com\r\nTo: nobody@example.org\r\n"
                        "Subject: refused\r\n\r\nThis one bounces.\r\n";
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GVariantBuilder options;
  char *id = NULL;
  int fd;

  fd = g_file_open_tmp ("envoi-message-XXXXXX", &path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (write (fd, message, strlen (message)), ==, (gssize) strlen (message));
  lseek (fd, 0, SEEK_SET);
  g_unix_fd_list_append (fds, fd, &error);
  g_assert_no_error (error);
  close (fd);
  g_unlink (path);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "account", g_variant_new_string ("refused"));
  g_variant_builder_add (&options, "{sv}", "extract-recipients", g_variant_new_boolean (TRUE));
  envoi_dbus_sender1_call_submit_sync (sender, g_variant_new_handle (0),
                                       g_variant_builder_end (&options), fds, &id, NULL, NULL,
                                       &error);
  g_assert_no_error (error);
  return id;
}

/* Runs in "activate", inside g_application_run(): the application's whole life, startup to
 * shutdown, as when it is started for real, so that the ASan pass sees what it leaves. */
static void
queue_shows_refusal_and_cancel (EnvoiApplication *app)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("refused");
  g_autoptr(EnvoiDBusSender1) sender = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  GtkWidget *window;
  GtkWidget *row;

  /* Not the window that activating makes by default: this one. */
  g_signal_stop_emission_by_name (app, "activate");

  g_object_set (account,
                "address", "ops@example.com",
                "host", "127.0.0.1",
                "port", (guint) envoi_test_env_port ("ENVOI_TEST_SMTP_RCPT550_PORT"),
                "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_NONE,
                NULL);
  envoi_account_store_add (envoi_application_get_account_store (app), account);

  window = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), envoi_application_get_account_store (app)));
  gtk_window_present (GTK_WINDOW (window));

  /* The window asked the sender (starting it) for the queue and the account's usage. */
  g_assert_true (envoi_test_wait_until (queue_empty_shown, window, 30));
  g_assert_true (envoi_test_wait_until (usage_shown, window, 30));

  sender = envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                                      SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                      NULL, &error);
  g_assert_no_error (error);
  id = submit (sender);

  /* 550 fails the message at once: the window shows it, the reason and the two buttons. */
  g_assert_true (envoi_test_wait_until (refused_message_shown, window, 30));
  g_assert_nonnull (strstr (first_queue_subtitle (window), "550"));
  /* What the message is: its Subject, read by the sender (Describe), and when it was queued. */
  g_assert_nonnull (strstr (first_queue_subtitle (window), "“refused” · queued "));
  row = gtk_widget_get_first_child (template_child (window, "queue_list"));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==,
                   "nobody@example.org");

  gtk_widget_activate_action (window, "window.cancel-message", "s", id);
  g_assert_true (envoi_test_wait_until (queue_empty_shown, window, 30));

  /* The last window gone, g_application_run() returns. */
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_queue_shows_refusal_and_cancel (void)
{
  g_autoptr(EnvoiApplication) app = envoi_application_new ();

  envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));

  g_signal_connect (app, "activate", G_CALLBACK (queue_shows_refusal_and_cancel), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
}

/* The history view */

static GtkWidget *
view_child (EnvoiHistoryView *view,
            const char       *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (view), ENVOI_TYPE_HISTORY_VIEW, name));
}

static guint
history_rows (EnvoiHistoryView *view)
{
  guint n = 0;

  for (GtkWidget *row = gtk_widget_get_first_child (view_child (view, "list"));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    n++;

  return n;
}

static gboolean
one_row (gpointer view)
{
  return !envoi_history_view_get_loading (view) && history_rows (view) == 1;
}

static gboolean
two_rows (gpointer view)
{
  return !envoi_history_view_get_loading (view) && history_rows (view) == 2;
}

static gboolean
three_rows (gpointer view)
{
  return !envoi_history_view_get_loading (view) && history_rows (view) == 3;
}

static gboolean
no_results (gpointer view)
{
  return !envoi_history_view_get_loading (view) &&
         g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (view_child (view, "stack"))), "no-results") == 0;
}

/* The button of @action in @widget's subtree, if any. */
static GtkWidget *
find_action_button (GtkWidget  *widget,
                    const char *action)
{
  if (GTK_IS_BUTTON (widget) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static GtkWidget *
nth_row (EnvoiHistoryView *view,
         guint             n)
{
  GtkWidget *row = gtk_widget_get_first_child (view_child (view, "list"));

  while (row != NULL && n-- > 0)
    row = gtk_widget_get_next_sibling (row);

  return row;
}

/* After the first test: its refused (then cancelled) message is in the history (searched for by
 * its recipient: the session's other tests may have left records of their own). A second one,
 * still queued as failed, offers Send Again, which sends it again (and it fails again); the
 * first says why it cannot. The search filters as one types. */
static void
history_view (EnvoiApplication *app)
{
  g_autoptr(EnvoiDBusSender1) sender = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  EnvoiHistoryView *view;
  GtkWidget *window;
  GtkWidget *button;
  GtkWidget *row;

  /* Not the window that activating makes by default: this one. */
  g_signal_stop_emission_by_name (app, "activate");

  window = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), envoi_application_get_account_store (app)));
  view = envoi_window_show_history (ENVOI_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));

  /* Other tests of the session may have left records: only this test's recipient counts. */
  envoi_history_view_set_search (view, "nobody@example.org");
  g_assert_true (envoi_test_wait_until (one_row, view, 30));
  row = nth_row (view, 0);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "refused");
  g_assert_nonnull (strstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row)), "To nobody@example.org · "));
  g_assert_null (find_action_button (row, "history.send-again"));

  sender = envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                                      SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                      NULL, &error);
  g_assert_no_error (error);
  id = submit (sender);

  /* HistoryAdded brings it in, newest first; still queued, it can be sent again. */
  g_assert_true (envoi_test_wait_until (two_rows, view, 30));
  button = find_action_button (nth_row (view, 0), "history.send-again");
  g_assert_nonnull (button);
  g_assert_cmpstr (g_variant_get_string (gtk_actionable_get_action_target_value (GTK_ACTIONABLE (button)), NULL), ==, id);
  g_assert_null (find_action_button (nth_row (view, 1), "history.send-again"));

  envoi_history_view_set_search (view, "no-such-recipient");
  g_assert_true (envoi_test_wait_until (no_results, view, 30));
  envoi_history_view_set_search (view, "NOBODY@");
  g_assert_true (envoi_test_wait_until (two_rows, view, 30));

  /* Sent again: refused again, a third record. The rows were made anew by the search. */
  button = find_action_button (nth_row (view, 0), "history.send-again");
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (envoi_test_wait_until (three_rows, view, 30));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_history_view (void)
{
  g_autoptr(EnvoiApplication) app = envoi_application_new ();

  /* Its own name: the first test's application may still hold the bus name and object. */
  g_application_set_application_id (G_APPLICATION (app), "io.github.envoimail.Envoi.HistoryTest");
  g_signal_connect (app, "activate", G_CALLBACK (history_view), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
}

/* Pages not on the first screen are made when first shown */

static gboolean
history_loaded (gpointer view)
{
  const char *page = gtk_stack_get_visible_child_name (GTK_STACK (view_child (view, "stack")));

  return !envoi_history_view_get_loading (view) &&
         (g_strcmp0 (page, "list") == 0 || g_strcmp0 (page, "empty") == 0);
}

/* The window opens on its accounts without the History view or the empty page's icon (their
 * cost is the start-up's, tests/bench-window.sh); the view switcher's switch to History makes
 * the view, which has the sender and queries it; the last account removed, the empty page
 * shows with its icon. */
static void
pages_made_when_shown (EnvoiApplication *app)
{
  EnvoiAccountStore *store = envoi_application_get_account_store (app);
  g_autoptr(EnvoiAccount) account = envoi_account_new ("lazypages");
  AdwStatusPage *empty_page;
  GtkWidget *window;
  GtkWidget *view;

  g_signal_stop_emission_by_name (app, "activate");

  g_object_set (account, "address", "lazy@example.com", "host", "127.0.0.1", NULL);
  envoi_account_store_add (store, account);

  window = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), store));
  gtk_window_present (GTK_WINDOW (window));
  empty_page = ADW_STATUS_PAGE (template_child (window, "empty_page"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (template_child (window, "stack"))), ==, "accounts");
  g_assert_null (adw_bin_get_child (ADW_BIN (template_child (window, "history_bin"))));
  g_assert_null (adw_status_page_get_icon_name (empty_page));

  /* Once the sender answered the window (its proxy is ready), what the switcher does. */
  g_assert_true (envoi_test_wait_until (usage_shown, window, 30));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (template_child (window, "view_stack")), "history");
  view = adw_bin_get_child (ADW_BIN (template_child (window, "history_bin")));
  g_assert_true (ENVOI_IS_HISTORY_VIEW (view));
  g_assert_true (envoi_history_view_get_loading (ENVOI_HISTORY_VIEW (view)));
  g_assert_true (envoi_test_wait_until (history_loaded, view, 30));
  g_assert_true (envoi_window_show_history (ENVOI_WINDOW (window)) == ENVOI_HISTORY_VIEW (view));

  while (g_list_model_get_n_items (G_LIST_MODEL (store)) > 0)
    {
      g_autoptr(EnvoiAccount) first = g_list_model_get_item (G_LIST_MODEL (store), 0);

      envoi_account_store_remove (store, envoi_account_get_id (first));
    }
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (template_child (window, "stack"))), ==, "empty");
  g_assert_cmpstr (adw_status_page_get_icon_name (empty_page), ==, "io.github.envoimail.Envoi-symbolic");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_pages_made_when_shown (void)
{
  g_autoptr(EnvoiApplication) app = envoi_application_new ();

  envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));

  g_application_set_application_id (G_APPLICATION (app), "io.github.envoimail.Envoi.PagesTest");
  g_signal_connect (app, "activate", G_CALLBACK (pages_made_when_shown), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  /* Shared with the activated sender through the session's keyfile. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/envoi/window/queue-shows-refusal-and-cancel",
                   test_queue_shows_refusal_and_cancel);
  g_test_add_func ("/envoi/window/history-view", test_history_view);
  g_test_add_func ("/envoi/window/pages-made-when-shown", test_pages_made_when_shown);

  return g_test_run ();
}

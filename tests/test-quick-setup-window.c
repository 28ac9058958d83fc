/* test-quick-setup-window.c: the first view of "Add Account" in a real window under Xvfb, with
 * the ISPDB of tests/autoconfig-httpd.py (the `ispdb-url` setting points at it) and the
 * session's SMTP listeners and keyring: each way it can end, and what is kept and saved.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "autoconfig-httpd.h"
#include "envoi-account-dialog.h"
#include "envoi-quick-setup-window.h"
#include "envoi-secret.h"
#include "envoi-test-goa.h"
#include "envoi-test-helpers.h"

static AutoconfigHttpd httpd;
static EnvoiAccountStore *store;

static gpointer
child (EnvoiQuickSetupWindow *window,
       const char            *name)
{
  return gtk_widget_get_template_child (GTK_WIDGET (window), ENVOI_TYPE_QUICK_SETUP_WINDOW, name);
}

static const char *
text_of (EnvoiQuickSetupWindow *window,
         const char            *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (child (window, row)));
}

static const char *
page_of (EnvoiQuickSetupWindow *window)
{
  return gtk_stack_get_visible_child_name (GTK_STACK (child (window, "stack")));
}

static gboolean
problem_shown (EnvoiQuickSetupWindow *window)
{
  return gtk_widget_get_visible (GTK_WIDGET (child (window, "problem_box")));
}

/* A new window with the fields typed, Continue pressed (Enter in the password row). */
static EnvoiQuickSetupWindow *
start (const char *address,
       const char *password)
{
  EnvoiQuickSetupWindow *window = envoi_quick_setup_window_new (NULL, store);
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  gtk_window_present (GTK_WINDOW (window));
  /* A button activates only once realized, as a person sees it. */
  while (!gtk_widget_get_mapped (GTK_WIDGET (child (window, "continue_button"))))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  gtk_editable_set_text (GTK_EDITABLE (child (window, "name_row")), "Test Person");
  gtk_editable_set_text (GTK_EDITABLE (child (window, "address_row")), address);
  gtk_editable_set_text (GTK_EDITABLE (child (window, "password_row")), password);
  /* Enter in any field presses Continue: it is the window's default and every row
   * activates the default. (Pressed here through its action: a button's own activation runs
   * on a timer that a loaded machine makes unreliable.) */
  g_assert_true (gtk_window_get_default_widget (GTK_WINDOW (window)) ==
                 GTK_WIDGET (child (window, "continue_button")));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (child (window, "continue_button"))));
  g_assert_true (adw_entry_row_get_activates_default (child (window, "name_row")));
  g_assert_true (adw_entry_row_get_activates_default (child (window, "address_row")));
  g_assert_true (adw_entry_row_get_activates_default (child (window, "password_row")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "setup.continue", NULL));
  g_assert_cmpstr (page_of (window), ==, "progress");
  return window;
}

static gboolean
form_shows_problem (gpointer window)
{
  return g_str_equal (page_of (window), "form") && problem_shown (window);
}

static void
wait_until_form_shows_problem (EnvoiQuickSetupWindow *window)
{
  g_assert_true (envoi_test_wait_until (form_shows_problem, window, 60));
}

static void
assert_nothing_saved (void)
{
  g_autoptr(EnvoiAccount) probe = envoi_account_new ("envoi-test-quick-test");
  g_autofree char *secret = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_object_set (probe, "host", "localhost", "address", "envoi-test@quick.test", NULL);
  secret = envoi_test_lookup_secret (probe, ENVOI_SERVICE_SMTP);
  g_assert_null (secret);
}

static void
test_wrong_password (void)
{
  EnvoiQuickSetupWindow *window = start ("envoi-test@quick.test", "not-the-password");

  wait_until_form_shows_problem (window);
  g_assert_cmpstr (gtk_label_get_text (child (window, "problem_title")), ==,
                   "User name or password not accepted");
  g_assert_nonnull (strstr (gtk_label_get_text (child (window, "problem_message")), "535"));
  g_assert_nonnull (strstr (gtk_label_get_text (child (window, "problem_hint")), "password"));
  /* What was typed stays, the cursor goes to the password. */
  g_assert_cmpstr (text_of (window, "address_row"), ==, "envoi-test@quick.test");
  g_assert_cmpstr (text_of (window, "password_row"), ==, "not-the-password");
  g_assert_cmpstr (text_of (window, "name_row"), ==, "Test Person");
  g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)),
                                         GTK_WIDGET (child (window, "password_row"))));
  assert_nothing_saved ();
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A certificate of its own: its key is shown; trusting it signs in and saves the account
 * with that key pinned. */
static void
test_untrusted_certificate (void)
{
  EnvoiQuickSetupWindow *window = start ("envoi-test@quickuntrusted.test", ENVOI_TEST_PASSWORD);
  const char *pin = envoi_test_env ("ENVOI_TEST_SMTP_UNTRUSTED_PIN");
  gint64 deadline;
  EnvoiAccount *saved;
  g_autofree char *id = NULL;

  wait_until_form_shows_problem (window);
  g_assert_cmpstr (gtk_label_get_text (child (window, "problem_title")), ==, "Certificate not trusted");
  g_assert_cmpstr (gtk_label_get_text (child (window, "fingerprint_label")), ==, pin);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (window, "trust_button"))));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "setup.trust", NULL));
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!g_str_equal (page_of (window), "ready"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_false (problem_shown (window) && g_str_equal (page_of (window), "form"));
      envoi_test_spin (5);
    }
  saved = envoi_quick_setup_window_get_account (window);
  g_assert_cmpstr (envoi_account_get_pinned_key (saved), ==, pin);
  id = g_strdup (envoi_account_get_id (saved));
  g_assert_cmpstr (envoi_account_get_pinned_key (envoi_account_store_lookup (store, id)), ==, pin);
  gtk_window_destroy (GTK_WINDOW (window));
  envoi_account_store_remove (store, id);
  {
    g_autoptr(GAsyncResult) result = NULL;

    envoi_secret_clear_async (id, ENVOI_SERVICE_SMTP, NULL, envoi_test_async_result_cb, &result);
    g_assert_true (envoi_secret_clear_finish (envoi_test_wait (&result), NULL));
  }
}

/* Nothing found: Set Up Manually is the way on, and it carries what was typed. */
static void
test_nothing_found_then_manual (void)
{
  EnvoiQuickSetupWindow *window = start ("someone@nothing-here.test", "typed-password");
  GListModel *toplevels = gtk_window_get_toplevels ();
  EnvoiAccountDialog *dialog = NULL;
  g_autoptr(EnvoiAccount) built = NULL;
  g_autofree char *secret = NULL;

  wait_until_form_shows_problem (window);
  g_assert_cmpstr (gtk_label_get_text (child (window, "problem_title")), ==, "No Settings Found");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (child (window, "manual_button")),
                                           "suggested-action"));
  assert_nothing_saved ();

  g_object_ref (window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "setup.manual", NULL));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_object_unref (window);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (ENVOI_IS_ACCOUNT_DIALOG (item))
        dialog = ENVOI_ACCOUNT_DIALOG (item);
    }
  g_assert_nonnull (dialog);
  built = envoi_account_dialog_build_account (dialog);
  g_assert_cmpstr (envoi_account_get_address (built), ==, "someone@nothing-here.test");
  g_assert_cmpstr (envoi_account_get_display_name (built), ==, "Test Person");
  secret = envoi_account_dialog_dup_secret (dialog);
  g_assert_cmpstr (secret, ==, "typed-password");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Cancel while signing in to a server that never answers: back to the fields, as typed, with
 * no failure shown and nothing saved. */
static void
test_cancel (void)
{
  EnvoiQuickSetupWindow *window = start ("envoi-test@quickstall.test", ENVOI_TEST_PASSWORD);
  EnvoiQuickSetup *setup = envoi_quick_setup_window_get_setup (window);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (envoi_quick_setup_get_step (setup) != ENVOI_QUICK_SETUP_STEP_SIGNING_IN)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  g_assert_cmpstr (gtk_label_get_text (child (window, "status_label")), ==,
                   "Signing in to localhost…");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "setup.cancel", NULL));
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (envoi_quick_setup_is_running (setup))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  g_assert_cmpstr (page_of (window), ==, "form");
  g_assert_false (problem_shown (window));
  g_assert_cmpstr (text_of (window, "address_row"), ==, "envoi-test@quickstall.test");
  g_assert_cmpstr (text_of (window, "password_row"), ==, ENVOI_TEST_PASSWORD);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Closed while signing in: the run is cancelled and ends without touching the window (a
 * critical would end this test), and nothing is saved. */
static void
test_close_while_running (void)
{
  EnvoiQuickSetupWindow *window = start ("envoi-test@quickstall.test", ENVOI_TEST_PASSWORD);
  g_autoptr(EnvoiQuickSetup) setup = g_object_ref (envoi_quick_setup_window_get_setup (window));
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (envoi_quick_setup_get_step (setup) != ENVOI_QUICK_SETUP_STEP_SIGNING_IN)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  gtk_window_destroy (GTK_WINDOW (window));
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (envoi_quick_setup_is_running (setup))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_IDLE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
}

/* Signed in: saved (settings and keyring), and the window says where mail goes. */
static void
test_ready (void)
{
  EnvoiQuickSetupWindow *window = start ("envoi-test@quick.test", ENVOI_TEST_PASSWORD);
  gint64 started = g_get_monotonic_time ();
  gint64 deadline = started + 30 * G_USEC_PER_SEC;
  g_autofree char *secret = NULL;
  EnvoiAccount *saved;

  while (!g_str_equal (page_of (window), "ready"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_false (problem_shown (window));
      envoi_test_spin (5);
    }
  /* tests/bench-quick-setup.sh (make bench) reads this line. */
  g_test_message ("Continue to Ready: %.0f ms", (g_get_monotonic_time () - started) / 1000.0);
  saved = envoi_quick_setup_window_get_account (window);
  g_assert_nonnull (saved);
  g_assert_cmpstr (envoi_account_get_id (saved), ==, "envoi-test-quick-test");
  g_assert_nonnull (envoi_account_store_lookup (store, "envoi-test-quick-test"));
  g_assert_cmpstr (envoi_account_get_host (envoi_account_store_lookup (store, "envoi-test-quick-test")),
                   ==, "localhost");
  secret = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);
  g_assert_cmpstr (adw_status_page_get_description (child (window, "ready_page")), ==,
                   "Ready: mail is sent through localhost (SSL/TLS)");

  /* Send Test Email: one message to the account's own address, through that server. */
  {
    g_autofree char *dir = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"), "tls", NULL);
    guint before = envoi_test_count_files (dir, ".eml");

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "setup.send-test", NULL));
    deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (g_strcmp0 (gtk_label_get_text (child (window, "test_label")),
                      "A test email was sent to envoi-test@quick.test.") != 0)
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        envoi_test_spin (5);
      }
    g_assert_cmpuint (envoi_test_count_files (dir, ".eml"), ==, before + 1);
  }
  gtk_window_destroy (GTK_WINDOW (window));
  envoi_account_store_remove (store, "envoi-test-quick-test");
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    envoi_secret_clear_async ("envoi-test-quick-test", ENVOI_SERVICE_SMTP, NULL,
                              envoi_test_async_result_cb, &result);
    g_assert_true (envoi_secret_clear_finish (envoi_test_wait (&result), &error));
    g_assert_no_error (error);
  }
}

static const char *
goa_row_title (EnvoiQuickSetupWindow *window,
               int                    index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (child (window, "goa_list"), index);

  g_assert_nonnull (row);
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));
}

/* The online accounts of Settings, the one whose address is typed first; choosing a password
 * one adds it with GOA's server and password, no password typed. */
static void
test_online_accounts (void)
{
  EnvoiQuickSetupWindow *window;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  g_autofree char *secret = NULL;
  EnvoiAccount *saved;

  if (!envoi_test_goa_available ())
    {
      g_test_skip ("goa-daemon is not installed");
      return;
    }
  envoi_test_goa_clear ();
  envoi_test_goa_add_password_account ("account_1700000300_0", "envoi-test", "alice@example.fr",
                                       envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"),
                                       ENVOI_TEST_PASSWORD);
  envoi_test_goa_add_oauth2_account ("account_1700000300_1", "google", "bob@gmail.com",
                                     "ya29.unused", NULL, 3600);
  envoi_test_goa_start ();

  window = envoi_quick_setup_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  while (gtk_list_box_get_row_at_index (child (window, "goa_list"), 1) == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (5);
    }
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (child (window, "goa_group"))));
  g_assert_cmpstr (goa_row_title (window, 0), ==, "alice@example.fr");

  gtk_editable_set_text (GTK_EDITABLE (child (window, "address_row")), "bob@gmail.com");
  envoi_test_spin (5);
  g_assert_cmpstr (goa_row_title (window, 0), ==, "bob@gmail.com");
  gtk_editable_set_text (GTK_EDITABLE (child (window, "address_row")), "alice@example.fr");
  envoi_test_spin (5);
  g_assert_cmpstr (goa_row_title (window, 0), ==, "alice@example.fr");

  g_signal_emit_by_name (child (window, "goa_list"), "row-activated",
                         gtk_list_box_get_row_at_index (child (window, "goa_list"), 0));
  while (!g_str_equal (page_of (window), "ready"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_false (problem_shown (window));
      envoi_test_spin (5);
    }
  saved = envoi_quick_setup_window_get_account (window);
  g_assert_cmpstr (envoi_account_get_address (saved), ==, "alice@example.fr");
  g_assert_cmpuint (envoi_account_get_port (saved), ==,
                    envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"));
  secret = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);
  envoi_account_store_remove (store, envoi_account_get_id (saved));
  gtk_window_destroy (GTK_WINDOW (window));
  envoi_test_goa_stop ();
  envoi_test_goa_clear ();
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *url = NULL;
  int ret;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  autoconfig_httpd_start (&httpd);
  settings = g_settings_new ("io.github.envoimail.Envoi");
  url = g_strdup_printf ("http://127.0.0.1:%s/v1.1/", httpd.http_port);
  g_settings_set_string (settings, "ispdb-url", url);
  store = envoi_account_store_new ();

  g_test_add_func ("/envoi/quick-setup-window/wrong-password", test_wrong_password);
  g_test_add_func ("/envoi/quick-setup-window/nothing-found-then-manual",
                   test_nothing_found_then_manual);
  g_test_add_func ("/envoi/quick-setup-window/untrusted-certificate", test_untrusted_certificate);
  g_test_add_func ("/envoi/quick-setup-window/cancel", test_cancel);
  g_test_add_func ("/envoi/quick-setup-window/close-while-running", test_close_while_running);
  g_test_add_func ("/envoi/quick-setup-window/ready", test_ready);
  g_test_add_func ("/envoi/quick-setup-window/online-accounts", test_online_accounts);

  ret = g_test_run ();
  g_clear_object (&store);
  autoconfig_httpd_stop (&httpd);
  return ret;
}

/* test-goa-choice.c: the online accounts of GNOME Online Accounts in the account dialog, with
 * the real goa-daemon on the session bus (tests/envoi-test-goa.c), the session's keyring and
 * SMTP listeners, and tests/xoauth2-smtpd.py, which checks the bearer token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "envoi-account-dialog.h"
#include "envoi-goa-choice.h"
#include "envoi-preset-catalog.h"
#include "envoi-secret.h"
#include "envoi-test-goa.h"
#include "envoi-test-helpers.h"
#include "envoi-test-panel.h"
#include "envoi-test-result-view.h"

#define PASSWORD_ID    "account_1700000100_0"
#define OAUTH_ID       "account_1700000100_1"
#define OAUTH_ADDRESS  "dialog-oauth@gmail.com"
#define OAUTH_TOKEN    ENVOI_TEST_OAUTH_TOKEN "-dialog"
#define TEST_ADDRESS   ENVOI_TEST_USER "@example.com"

static EnvoiAccountStore *store;

/* ---- helpers ------------------------------------------------------------------------------ */

static GtkWidget *
child (gpointer    dialog,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   ENVOI_TYPE_ACCOUNT_DIALOG, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static const char *
text (gpointer    dialog,
      const char *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (child (dialog, row)));
}

static void
type (gpointer    dialog,
      const char *row,
      const char *value)
{
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, row)), value);
}

/* The reason shown under a row: the label of the message row that follows it. */
static const char *
reason (gpointer    dialog,
        const char *row)
{
  GtkWidget *message_row = gtk_widget_get_next_sibling (child (dialog, row));

  if (!gtk_widget_get_visible (message_row))
    return "";
  return gtk_label_get_text (GTK_LABEL (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (message_row))));
}

static gboolean
shows_label (GtkWidget  *widget,
             const char *value)
{
  if (!gtk_widget_get_visible (widget))
    return FALSE;
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), value) == 0)
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (shows_label (c, value))
      return TRUE;
  return FALSE;
}

static EnvoiAccountDialog *
open_dialog (EnvoiAccount *account)
{
  EnvoiAccountDialog *dialog = envoi_account_dialog_new (NULL, store, account);
  EnvoiGoaChoice *choice = envoi_account_dialog_get_goa_choice (dialog);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  gtk_window_present (GTK_WINDOW (dialog));
  while (envoi_goa_choice_is_listing (choice) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (envoi_goa_choice_is_listing (choice));
  envoi_account_dialog_validate_now (dialog);
  return dialog;
}

/* The position of the online account @id in the Provider list; its label names it. */
static guint
find_goa (EnvoiAccountDialog *dialog,
          const char         *id,
          const char         *identity)
{
  EnvoiGoaChoice *choice = envoi_account_dialog_get_goa_choice (dialog);
  GListModel *model = adw_combo_row_get_model (ADW_COMBO_ROW (child (dialog, "provider_row")));

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      EnvoiGoaAccount *account = envoi_goa_choice_get_account (choice, i);

      if (account != NULL && g_strcmp0 (account->id, id) == 0)
        {
          const char *label = gtk_string_list_get_string (GTK_STRING_LIST (model), i);

          /* After Custom and every preset, and labelled as an online account. */
          g_assert_cmpuint (i, >, g_list_model_get_n_items (envoi_preset_catalog_get_builtin ()));
          g_assert_nonnull (strstr (label, identity));
          g_assert_nonnull (strstr (label, "(Online Accounts)"));
          return i;
        }
    }

  g_error ("the online account %s is not in the Provider list", id);
}

static void
save_and_wait (EnvoiAccountDialog *dialog)
{
  GtkWidget *widget = GTK_WIDGET (dialog);

  g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *) &widget);
  gtk_widget_activate_action (widget, "dialog.save", NULL);
  envoi_test_wait_cleared ((gpointer *) &widget, 30);
}

static gboolean
panel_done (gpointer panel)
{
  return envoi_test_panel_get_state (panel) != ENVOI_TEST_PANEL_RUNNING;
}

static EnvoiTestPanelState
run_panel (EnvoiAccountDialog *dialog,
           const char         *action)
{
  EnvoiTestPanel *panel = ENVOI_TEST_PANEL (child (dialog, "test_panel"));

  gtk_widget_activate_action (GTK_WIDGET (panel), action, NULL);
  envoi_test_wait_until (panel_done, panel, 60);
  return envoi_test_panel_get_state (panel);
}

static gboolean
folder_has_subject (const char *dir,
                    const char *needle)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;

      if (g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (listing != NULL && g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

/* ---- a password account: the form is filled, the password copied on Save ----------------- */

static void
test_password_account (void)
{
  g_autofree char *port = g_strdup_printf ("%u", envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"));
  g_autofree char *plain = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"), "plain", NULL);
  g_autoptr(EnvoiAccount) saved = NULL;
  g_autofree char *secret = NULL;
  EnvoiAccountDialog *dialog;
  guint position, before;

  dialog = open_dialog (NULL);
  position = find_goa (dialog, PASSWORD_ID, TEST_ADDRESS);
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "provider_row")), position);
  envoi_account_dialog_validate_now (dialog);

  /* Everything GOA knows of the server is in the form... */
  g_assert_cmpstr (text (dialog, "address_row"), ==, TEST_ADDRESS);
  g_assert_cmpstr (text (dialog, "name_row"), ==, "Envoi Tester");
  g_assert_cmpstr (text (dialog, "host_row"), ==, "127.0.0.1");
  g_assert_cmpstr (text (dialog, "port_row"), ==, port);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, "security_row"))), ==,
                    ENVOI_SECURITY_NONE);
  g_assert_cmpstr (text (dialog, "username_row"), ==, ENVOI_TEST_USER);
  /* ...and the password, which stays in GOA until Save, is not asked for. */
  g_assert_cmpstr (text (dialog, "password_row"), ==, "");
  g_assert_nonnull (strstr (reason (dialog, "password_row"), "copied from GNOME Online Accounts"));
  g_assert_false (gtk_widget_get_visible (child (dialog, "goa_row")));
  g_assert_cmpint (envoi_account_dialog_get_state (dialog), ==, ENVOI_FORM_EDITING);
  /* GOA gave the server: "Find Settings" has nothing left to find, and returns with Custom. */
  g_assert_false (gtk_widget_get_visible (child (dialog, "autoconfig_row")));
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "provider_row")), 0);
  envoi_account_dialog_validate_now (dialog);
  g_assert_true (gtk_widget_get_visible (child (dialog, "autoconfig_row")));
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "provider_row")), position);
  envoi_account_dialog_validate_now (dialog);

  /* Before Save the test send asks GOA for the password, and nothing is stored by it. */
  before = count_files (plain);
  g_assert_cmpint (run_panel (dialog, "test-panel.send-test"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_cmpuint (count_files (plain), >, before);
  g_assert_null (envoi_account_store_lookup (store, "envoi-test-example-com"));

  save_and_wait (dialog);
  saved = g_object_ref (envoi_account_store_lookup (store, "envoi-test-example-com"));
  g_assert_nonnull (saved);
  g_assert_cmpstr (envoi_account_get_provider (saved), ==, "");
  g_assert_cmpstr (envoi_account_get_host (saved), ==, "127.0.0.1");
  secret = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);

  /* The saved account sends through the session's server with the copied password. */
  dialog = open_dialog (saved);
  for (gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
       strstr (reason (dialog, "password_row"), "••••") == NULL && g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, TRUE);
  before = count_files (plain);
  g_assert_cmpint (run_panel (dialog, "test-panel.send-test"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_cmpuint (count_files (plain), >, before);
  g_assert_true (folder_has_subject (plain, TEST_ADDRESS));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* ---- an OAuth 2 account: a sign-in through GOA, no password ------------------------------- */

static void
test_oauth_account (void)
{
  const char *accepted[] = { OAUTH_TOKEN, NULL };
  g_autofree char *dir = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *port = NULL;
  g_autofree char *secret = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(EnvoiAccount) built = NULL;
  g_autoptr(EnvoiAccount) saved = NULL;
  EnvoiAccountDialog *dialog;
  EnvoiTestPanel *panel;
  guint position;
  guint16 server_port;

  server = envoi_test_xoauth2_start (OAUTH_ADDRESS, accepted, FALSE, &dir, &server_port);
  messages = g_build_filename (dir, "messages", NULL);

  dialog = open_dialog (NULL);
  position = find_goa (dialog, OAUTH_ID, OAUTH_ADDRESS);
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "provider_row")), position);
  envoi_account_dialog_validate_now (dialog);

  /* OAuth 2 through GOA: no password row, a row that says whose sign-in it is. */
  g_assert_cmpstr (text (dialog, "address_row"), ==, OAUTH_ADDRESS);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, "auth_row"))), ==,
                    ENVOI_AUTH_METHOD_XOAUTH2);
  g_assert_false (gtk_widget_get_visible (child (dialog, "password_row")));
  g_assert_true (gtk_widget_get_visible (child (dialog, "goa_row")));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (dialog, "goa_row"))),
                            OAUTH_ADDRESS));
  built = envoi_account_dialog_build_account (dialog);
  g_assert_cmpstr (envoi_account_get_provider (built), ==, "goa:" OAUTH_ID);
  g_assert_cmpint (envoi_account_dialog_get_state (dialog), ==, ENVOI_FORM_EDITING);

  /* The test send asks GOA for the token and says whose it is. GOA's server for Gmail is
   * out of reach here: the local one that checks the token stands in for it. */
  port = g_strdup_printf ("%u", server_port);
  type (dialog, "host_row", "127.0.0.1");
  type (dialog, "port_row", port);
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "security_row")), ENVOI_SECURITY_NONE);
  envoi_account_dialog_validate_now (dialog);
  panel = ENVOI_TEST_PANEL (child (dialog, "test_panel"));
  g_assert_cmpint (run_panel (dialog, "test-panel.send-test"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_true (shows_label (GTK_WIDGET (panel), "Signed in as"));
  g_assert_true (shows_label (GTK_WIDGET (panel), OAUTH_ADDRESS));
  tokens = envoi_test_xoauth2_tokens (dir);
  g_assert_cmpstr (tokens, ==, OAUTH_ADDRESS " " OAUTH_TOKEN "\n");
  g_assert_cmpuint (count_files (messages), ==, 1);

  /* Saved: only the GOA account id; no password in the keyring. */
  save_and_wait (dialog);
  saved = g_object_ref (envoi_account_store_lookup (store, "dialog-oauth-gmail-com"));
  g_assert_cmpstr (envoi_account_get_provider (saved), ==, "goa:" OAUTH_ID);
  g_assert_cmpint (envoi_account_get_auth_method (saved), ==, ENVOI_AUTH_METHOD_XOAUTH2);
  secret = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  g_assert_null (secret);

  /* Reopened, it is that online account again. */
  dialog = open_dialog (saved);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, "provider_row"))), ==,
                    find_goa (dialog, OAUTH_ID, OAUTH_ADDRESS));
  g_assert_true (gtk_widget_get_visible (child (dialog, "goa_row")));
  g_assert_false (gtk_widget_get_visible (child (dialog, "password_row")));
  g_assert_cmpstr (reason (dialog, "goa_row"), ==, "");
  g_assert_false (envoi_account_dialog_is_modified (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));

  envoi_test_xoauth2_stop (server);
}

/* ---- an account whose online account was removed ------------------------------------------ */

static void
test_removed_account (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("gone");
  g_autoptr(EnvoiAccount) built = NULL;
  EnvoiAccountDialog *dialog;
  EnvoiTestPanel *panel;

  g_object_set (account, "address", "gone@gmail.com", "provider", "goa:account_removed_0",
                "host", "127.0.0.1", "port", 2525, "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_XOAUTH2, NULL);
  dialog = open_dialog (account);

  /* It says so where the sign-in would be, and what to do; the account keeps its sign-in. */
  g_assert_true (gtk_widget_get_visible (child (dialog, "goa_row")));
  g_assert_nonnull (strstr (reason (dialog, "goa_row"), "no longer has “gone@gmail.com”"));
  g_assert_nonnull (strstr (reason (dialog, "goa_row"), "Settings → Online Accounts"));
  built = envoi_account_dialog_build_account (dialog);
  g_assert_cmpstr (envoi_account_get_provider (built), ==, "goa:account_removed_0");

  /* The test says it too, with the fix. */
  panel = ENVOI_TEST_PANEL (child (dialog, "test_panel"));
  g_assert_cmpint (run_panel (dialog, "test-panel.test-connection"), ==, ENVOI_TEST_PANEL_FAILED);
  g_assert_true (shows_label (GTK_WIDGET (panel), "Online account not found"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (panel), ENVOI_TYPE_TEST_PANEL, "result_box")), ENVOI_TYPE_TEST_RESULT_VIEW, "result_hint"))),
                            "Settings → Online Accounts"));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A goa-daemon started earlier on the session's bus (a dialog of another test asked for it)
 * may answer until the one started with --replace has taken the name: wait for our accounts. */
static void
wait_for_accounts (void)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GPtrArray) accounts = NULL;
      guint found = 0;

      envoi_goa_list_accounts_async (NULL, NULL, envoi_test_async_result_cb, &result);
      accounts = envoi_goa_list_accounts_finish (envoi_test_wait (&result), NULL);
      for (guint i = 0; accounts != NULL && i < accounts->len; i++)
        {
          EnvoiGoaAccount *account = g_ptr_array_index (accounts, i);

          if (g_str_equal (account->id, PASSWORD_ID) || g_str_equal (account->id, OAUTH_ID))
            found++;
        }
      if (found == 2)
        return;
      g_usleep (100 * 1000);
    }

  g_error ("goa-daemon does not list the test's accounts");
}

static void
skip_without_goa (void)
{
  g_test_skip ("goa-daemon is not installed (build-aux/install-deps.sh test installs it)");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  if (!envoi_test_goa_available ())
    {
      g_test_add_func ("/envoi/goa-choice/no-goa-daemon", skip_without_goa);
      return g_test_run ();
    }

  envoi_test_goa_clear ();
  envoi_test_goa_add_password_account (PASSWORD_ID, ENVOI_TEST_USER, TEST_ADDRESS,
                                       envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"),
                                       ENVOI_TEST_PASSWORD);
  envoi_test_goa_add_oauth2_account (OAUTH_ID, "google", OAUTH_ADDRESS, OAUTH_TOKEN, NULL, 3600);
  envoi_test_goa_start ();
  wait_for_accounts ();

  store = envoi_account_store_new ();
  g_test_add_func ("/envoi/goa-choice/password-account", test_password_account);
  g_test_add_func ("/envoi/goa-choice/oauth-account", test_oauth_account);
  g_test_add_func ("/envoi/goa-choice/removed-account", test_removed_account);

  status = g_test_run ();
  envoi_test_goa_stop ();
  envoi_test_goa_clear ();
  g_clear_object (&store);
  return status;
}

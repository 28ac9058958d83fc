/* test-dialog-nokeyring.c: saving when the keyring refuses writes nothing at all
 *
 * The session bus of this program is a private one with no Secret Service on it, so every
 * keyring call fails the way it does on a desktop without gnome-keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "envoi-account-dialog.h"
#include "envoi-preset-catalog.h"
#include "envoi-test-helpers.h"

static EnvoiAccountStore *store;

static GtkWidget *
child (gpointer    dialog,
       const char *name)
{
  return GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   ENVOI_TYPE_ACCOUNT_DIALOG, name));
}

static void
type (gpointer    dialog,
      const char *row,
      const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, row)), text);
}

static void
test_refused_password_saves_nothing (void)
{
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  g_autoptr(GSettings) app_settings = g_settings_new ("io.github.envoimail.Envoi");
  g_autoptr(GSettings) account_settings = envoi_account_create_settings ("alice-example-com");
  g_auto(GStrv) ids = NULL;
  g_autofree char *host = NULL;
  GtkWidget *overlay;
  gint64 deadline;

  gtk_window_present (GTK_WINDOW (dialog));
  type (dialog, "address_row", "alice@example.com");
  type (dialog, "host_row", "smtp.example.com");
  type (dialog, "password_row", ENVOI_TEST_PASSWORD);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)) == ENVOI_FORM_SAVING &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  /* The dialog stays open, in its error state, with what it typed, and says why... */
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_ERROR);
  g_assert_true (gtk_widget_get_visible (dialog));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (dialog, "password_row"))), ==,
                   ENVOI_TEST_PASSWORD);
  overlay = child (dialog, "toast_overlay");
  g_assert_nonnull (overlay);
  g_assert_true (gtk_widget_get_sensitive (child (dialog, "save_button")));

  /* ...and no setting was written: no account listed, no key of its own set. */
  ids = g_settings_get_strv (app_settings, "accounts");
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  host = g_settings_get_string (account_settings, "host");
  g_assert_cmpstr (host, ==, "");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* No GNOME Online Accounts on the bus either: the Provider list is Custom and the presets,
 * and nothing says anything about it. */
static void
test_no_online_accounts (void)
{
  EnvoiAccountDialog *dialog = envoi_account_dialog_new (NULL, store, NULL);
  EnvoiGoaChoice *choice = envoi_account_dialog_get_goa_choice (dialog);
  GListModel *providers = adw_combo_row_get_model (ADW_COMBO_ROW (child (GTK_WIDGET (dialog), "provider_row")));
  GtkWidget *message_row = gtk_widget_get_next_sibling (child (GTK_WIDGET (dialog), "provider_row"));
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_true (envoi_goa_choice_is_listing (choice));
  while (envoi_goa_choice_is_listing (choice) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (envoi_goa_choice_is_listing (choice));

  g_assert_cmpuint (g_list_model_get_n_items (providers), ==,
                    1 + g_list_model_get_n_items (envoi_preset_catalog_get_builtin ()));
  g_assert_false (gtk_widget_get_visible (message_row));
  g_assert_false (gtk_widget_get_visible (child (GTK_WIDGET (dialog), "goa_row")));
  g_assert_cmpint (envoi_account_dialog_get_state (dialog), ==, ENVOI_FORM_INVALID);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A bus of our own, with nothing on it: no Secret Service, and none can be activated. */
static GSubprocess *
start_empty_bus (void)
{
  const char *config =
    "<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>"
    "<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
    "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
    "<allow own=\"*\"/></policy></busconfig>";
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "envoi-emptybus-XXXXXX", NULL);
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  GSubprocess *bus;
  int fd;

  fd = g_mkstemp (path);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, config, -1, NULL));

  bus = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                          &error, "dbus-daemon", "--nofork", "--print-address=1",
                          "--config-file", path, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_unlink (path);

  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  return bus;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GSubprocess) bus = NULL;
  int ret;

  /* Before GTK or libsecret connect to the session's bus. */
  bus = start_empty_bus ();
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  store = envoi_account_store_new ();
  g_test_add_func ("/envoi/dialog/refused-password-saves-nothing",
                   test_refused_password_saves_nothing);
  g_test_add_func ("/envoi/dialog/no-online-accounts", test_no_online_accounts);

  ret = g_test_run ();
  g_clear_object (&store);
  g_subprocess_force_exit (bus);
  return ret;
}

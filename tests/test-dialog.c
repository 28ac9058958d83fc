/* test-dialog.c: the account dialog and window, in a real window under Xvfb, saving into
 * GSettings and the session's real gnome-keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "envoi-account-dialog.h"
#include "envoi-application.h"
#include "envoi-background.h"
#include "envoi-delivery-group.h"
#include "envoi-incoming-group.h"
#include "envoi-msmtp-transfer.h"
#include "envoi-preset.h"
#include "envoi-preset-catalog.h"
#include "envoi-secret.h"
#include "envoi-test-helpers.h"
#include "envoi-window.h"

static EnvoiAccountStore *store;

static GtkWidget *
child (gpointer    dialog,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   ENVOI_TYPE_ACCOUNT_DIALOG, name);

  /* The Delivery page's rows are its group's. */
  if (object == NULL)
    object = gtk_widget_get_template_child (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                                                      ENVOI_TYPE_ACCOUNT_DIALOG,
                                                                                      "delivery_group")),
                                            ENVOI_TYPE_DELIVERY_GROUP, name);
  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
type (gpointer    dialog,
      const char *row,
      const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, row)), text);
}

static const char *
text (gpointer    dialog,
      const char *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (child (dialog, row)));
}

/* The reason shown under a row: the label of the message row that follows it. */
static const char *
reason (gpointer    dialog,
        const char *row)
{
  GtkWidget *message_row = gtk_widget_get_next_sibling (child (dialog, row));

  g_assert_true (GTK_IS_LIST_BOX_ROW (message_row));
  if (!gtk_widget_get_visible (message_row))
    return NULL;

  return gtk_label_get_text (GTK_LABEL (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (message_row))));
}

static gboolean
can_save (gpointer dialog)
{
  gboolean enabled = FALSE;

  /* The action's state is the button's sensitivity. */
  enabled = gtk_widget_get_sensitive (child (dialog, "save_button"));
  return enabled;
}

static gboolean
saved_secret_shown (gpointer dialog)
{
  const char *shown = reason (dialog, "password_row");

  return shown != NULL && strstr (shown, "••••") != NULL;
}

static void
wait_for_saved_secret (gpointer dialog)
{
  envoi_test_wait_until (saved_secret_shown, dialog, 10);
}

static void
reset_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);
  g_auto(GStrv) ids = g_settings_get_strv (settings, "accounts");

  for (guint i = 0; ids[i] != NULL; i++)
    envoi_account_store_remove (store, ids[i]);
  g_settings_reset (settings, "default-account");
}

static void
fill_valid (gpointer dialog)
{
  type (dialog, "address_row", "alice@example.com");
  type (dialog, "name_row", "Alice Martin");
  type (dialog, "host_row", "smtp.example.com");
  type (dialog, "port_row", "587");
  type (dialog, "password_row", ENVOI_TEST_PASSWORD);
  envoi_account_dialog_validate_now (dialog);
}

static void
test_new_dialog_starts_invalid (void)
{
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));

  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_INVALID);
  g_assert_false (can_save (dialog));

  /* A fresh form is not scolded for being empty... */
  g_assert_null (reason (dialog, "address_row"));
  g_assert_null (reason (dialog, "host_row"));
  g_assert_null (reason (dialog, "password_row"));

  /* ...until Save is attempted: then every missing field says what it needs. */
  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  g_assert_nonnull (strstr (reason (dialog, "address_row"), "Enter an email address"));
  g_assert_nonnull (strstr (reason (dialog, "host_row"), "Enter the name of the server"));
  g_assert_nonnull (strstr (reason (dialog, "password_row"), "Enter the password"));
  g_assert_true (gtk_widget_has_css_class (child (dialog, "address_row"), "error"));

  fill_valid (dialog);
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);
  g_assert_true (can_save (dialog));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_validation_cases (void)
{
  static const struct {
    const char *row;
    const char *input;
    const char *reason_part;   /* NULL: accepted */
  } cases[] = {
    { "address_row", "alice", "@" },
    { "address_row", "alice@example.com\r\nBcc: x@example.org", "Line breaks" },
    { "address_row", "Alice <alice@example.com>", "angle brackets" },
    { "address_row", "alice@example.com", NULL },
    { "name_row", "Alice\nBcc: x@example.org", "Line breaks" },
    { "name_row", "山田 太郎", NULL },
    { "reply_to_row", "not-an-address", "@" },
    { "reply_to_row", "", NULL },
    { "host_row", "", "Enter the name of the server" },
    { "host_row", "smtp example.com", "spaces" },
    { "host_row", "smtp.example.com:587", "port in its own field" },
    { "host_row", "smtp.example.com", NULL },
    { "port_row", "0", "1 to 65535" },
    { "port_row", "70000", "1 to 65535" },
    { "port_row", "abc", "1 to 65535" },
    { "port_row", "465", NULL },
    { "bcc_row", "archive", "@" },
    { "bcc_row", "archive@example.com", NULL },
    { "notify_row", "ops@example.com, nope", "“nope”" },
    { "notify_row", "ops@example.com, dev@example.org", NULL },
  };
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));

  gtk_window_present (GTK_WINDOW (dialog));
  fill_valid (dialog);

  /* Nothing is said while typing goes on; the reason comes after a pause. */
  type (dialog, "address_row", "alice");
  g_assert_null (reason (dialog, "address_row"));
  for (gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
       reason (dialog, "address_row") == NULL && g_get_monotonic_time () < end;)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (reason (dialog, "address_row"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *shown;

      g_test_message ("%s = “%s”", cases[i].row, cases[i].input);
      type (dialog, cases[i].row, cases[i].input);
      envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
      shown = reason (dialog, cases[i].row);

      if (cases[i].reason_part != NULL)
        {
          g_assert_nonnull (shown);
          g_assert_nonnull (strstr (shown, cases[i].reason_part));
          g_assert_true (gtk_widget_has_css_class (child (dialog, cases[i].row), "error"));
          g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                           ENVOI_FORM_INVALID);
          g_assert_false (can_save (dialog));
        }
      else
        {
          g_assert_false (gtk_widget_has_css_class (child (dialog, cases[i].row), "error"));
          g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                           ENVOI_FORM_EDITING);
        }
    }

  /* Limits: hourly above daily is refused beside the daily row. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (dialog, "hourly_spin")), 600);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_nonnull (strstr (reason (dialog, "daily_row"), "hourly limit"));
  g_assert_false (can_save (dialog));
  gtk_widget_activate_action (child (dialog, "delivery_group"), "delivery.reset-limits", NULL);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (child (dialog, "hourly_spin"))), ==, 50);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (child (dialog, "daily_spin"))), ==, 500);
  g_assert_null (reason (dialog, "daily_row"));

  /* A password in clear text to a remote host is refused until explicitly allowed. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "security_row")), ENVOI_SECURITY_NONE);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_nonnull (strstr (reason (dialog, "security_row"), "clear text"));
  g_assert_true (gtk_widget_get_visible (child (dialog, "plaintext_row")));
  g_assert_false (can_save (dialog));
  gtk_switch_set_active (GTK_SWITCH (child (dialog, "plaintext_switch")), TRUE);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (can_save (dialog));
  g_assert_nonnull (strstr (reason (dialog, "security_row"), "anyone"));

  /* On this computer, no such question. */
  gtk_switch_set_active (GTK_SWITCH (child (dialog, "plaintext_switch")), FALSE);
  type (dialog, "host_row", "localhost");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_false (gtk_widget_get_visible (child (dialog, "plaintext_row")));
  g_assert_true (can_save (dialog));

  /* Verification off warns. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "security_row")), ENVOI_SECURITY_TLS);
  gtk_switch_set_active (GTK_SWITCH (child (dialog, "verify_switch")), FALSE);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_nonnull (strstr (reason (dialog, "verify_row"), "fingerprint"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_security_moves_port (void)
{
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  AdwComboRow *security = ADW_COMBO_ROW (child (dialog, "security_row"));

  type (dialog, "port_row", "587");
  adw_combo_row_set_selected (security, ENVOI_SECURITY_TLS);
  g_assert_cmpstr (text (dialog, "port_row"), ==, "465");
  adw_combo_row_set_selected (security, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpstr (text (dialog, "port_row"), ==, "587");

  /* A port typed by hand stays. */
  type (dialog, "port_row", "2525");
  adw_combo_row_set_selected (security, ENVOI_SECURITY_TLS);
  g_assert_cmpstr (text (dialog, "port_row"), ==, "2525");

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_presets_fill_the_form (void)
{
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  AdwComboRow *provider = ADW_COMBO_ROW (child (dialog, "provider_row"));
  guint n = g_list_model_get_n_items (presets);

  g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (provider)), ==, n + 1);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);
      EnvoiPresetServer *server = envoi_preset_get_outgoing_server (preset);
      const char * const *domains = envoi_preset_get_domains (preset);
      g_autofree char *address = g_strdup_printf ("jean.dupont@%s",
                                                  domains[0] != NULL ? domains[0] : "example.com");
      g_autofree char *port = g_strdup_printf ("%u", envoi_preset_server_get_port (server));
      g_autofree char *host = NULL;
      g_autofree char *username = NULL;

      g_test_message ("preset %s", envoi_preset_get_id (preset));
      type (dialog, "address_row", address);
      adw_combo_row_set_selected (provider, i + 1);
      if (envoi_preset_server_needs_host_part (server))
        {
          g_assert_true (gtk_widget_get_visible (child (dialog, "host_part_row")));
          type (dialog, "host_part_row", "example-part");
        }
      else
        {
          g_assert_false (gtk_widget_get_visible (child (dialog, "host_part_row")));
        }

      host = envoi_preset_server_dup_hostname_for (server, address, "example-part", NULL);
      username = envoi_preset_server_dup_username_for (server, address, NULL);
      if (g_strcmp0 (username, address) == 0)
        g_clear_pointer (&username, g_free);

      g_assert_cmpstr (text (dialog, "host_row"), ==, host);
      g_assert_cmpstr (text (dialog, "port_row"), ==, port);
      g_assert_cmpint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, "security_row"))), ==,
                       envoi_preset_server_get_security (server));
      g_assert_cmpint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, "auth_row"))), ==,
                       envoi_preset_server_get_auth_method (server));
      g_assert_cmpstr (text (dialog, "username_row"), ==, username != NULL ? username : "");

      /* The provider's note is shown beside the choice. */
      if (envoi_preset_get_note (preset) != NULL && *envoi_preset_get_note (preset) != '\0')
        g_assert_nonnull (strstr (reason (dialog, "provider_row"), envoi_preset_get_note (preset)));
    }

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* For assertions: the value lives as long as @settings (the ASan run checks for leaks). */
static const char *
settings_string (GSettings  *settings,
                 const char *key)
{
  char *value = g_settings_get_string (settings, key);

  g_object_set_data_full (G_OBJECT (settings), key, value, g_free);
  return value;
}

static guint16
settings_port (GSettings *settings)
{
  g_autoptr(GVariant) value = g_settings_get_value (settings, "port");

  return g_variant_get_uint16 (value);
}

static void
test_save_reopen_round_trip (void)
{
  GtkWidget *dialog;
  EnvoiAccount *saved;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *security = NULL;
  const char *id;

  reset_settings ();
  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));

  fill_valid (dialog);
  type (dialog, "username_row", "alice");
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "security_row")), ENVOI_SECURITY_TLS);
  type (dialog, "notify_row", "ops@example.com, dev@example.org");
  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  saved = envoi_account_store_lookup (store, "alice-example-com");
  g_assert_nonnull (saved);
  id = envoi_account_get_id (saved);

  /* Exactly these keys, readable by gsettings; the password only in the keyring. */
  settings = envoi_account_create_settings (id);
  g_assert_cmpstr (settings_string (settings, "host"), ==, "smtp.example.com");
  g_assert_cmpuint (settings_port (settings), ==, 465);
  security = g_settings_get_string (settings, "security");
  g_assert_cmpstr (security, ==, "tls");
  g_assert_cmpstr (settings_string (settings, "username"), ==, "alice");
  g_assert_cmpstr (settings_string (settings, "display-name"), ==, "Alice Martin");
  secret = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);

  /* Reopen: the form shows what was saved, and a masked hint of the password. */
  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, saved));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_cmpstr (text (dialog, "address_row"), ==, "alice@example.com");
  g_assert_cmpstr (text (dialog, "host_row"), ==, "smtp.example.com");
  g_assert_cmpstr (text (dialog, "port_row"), ==, "465");
  g_assert_cmpstr (text (dialog, "notify_row"), ==, "ops@example.com, dev@example.org");
  g_assert_cmpstr (text (dialog, "password_row"), ==, "");
  wait_for_saved_secret (dialog);
  g_assert_nonnull (strstr (reason (dialog, "password_row"), "••••p4ss"));
  g_assert_false (can_save (dialog));   /* nothing changed yet */

  /* Cancel leaves everything as it was. */
  type (dialog, "host_row", "smtp.example.net");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (can_save (dialog));
  gtk_widget_activate_action (dialog, "dialog.cancel", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);
  g_assert_cmpstr (settings_string (settings, "host"), ==, "smtp.example.com");
  g_assert_cmpstr (envoi_account_get_host (saved), ==, "smtp.example.com");

  /* An edit without a new password moves the keyring item along with the server. */
  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, saved));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  wait_for_saved_secret (dialog);
  type (dialog, "host_row", "smtp.example.net");
  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);
  g_assert_cmpstr (settings_string (settings, "host"), ==, "smtp.example.net");
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *by_host = secret_password_lookup_sync (envoi_secret_get_schema (), NULL, &error,
                                                            "host", "smtp.example.net",
                                                            "service", "smtp", "user", "alice",
                                                            NULL);
    g_assert_cmpstr (by_host, ==, ENVOI_TEST_PASSWORD);
  }
}

/* The Secret Service refuses the IMAP password: its CreateItem call goes out without the secret,
 * and the real keyring answers InvalidArgs (libsecret would take UnknownMethod for a missing
 * collection and ask to create one). Runs in GDBus's thread. */
static GDBusMessage *
refuse_imap_item_filter (GDBusConnection *connection,
                         GDBusMessage    *message,
                         gboolean         incoming,
                         gpointer         user_data)
{
  GVariant *body = g_dbus_message_get_body (message);
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) attributes = NULL;
  const char *service = NULL;
  GDBusMessage *refused;

  if (incoming || body == NULL ||
      g_strcmp0 (g_dbus_message_get_member (message), "CreateItem") != 0)
    return message;

  properties = g_variant_get_child_value (body, 0);
  attributes = g_variant_lookup_value (properties, "org.freedesktop.Secret.Item.Attributes",
                                       G_VARIANT_TYPE ("a{ss}"));
  if (attributes == NULL || !g_variant_lookup (attributes, "service", "&s", &service) ||
      g_strcmp0 (service, "imap") != 0)
    return message;

  refused = g_dbus_message_copy (message, NULL);
  g_dbus_message_set_body (refused, g_variant_new_tuple (&properties, 1));
  g_object_unref (message);
  return refused;
}

/* A secret refused after another was stored: the one stored goes back to what it replaced, and
 * no setting is written. */
static void
test_refused_secret_puts_back_the_others (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(EnvoiAccount) account = envoi_account_new ("dora-example-com");
  g_autoptr(EnvoiSecretString) smtp = NULL;
  g_autoptr(EnvoiSecretString) imap = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiAccount *saved;
  GtkWidget *dialog;
  GtkWidget *incoming;
  guint filter;
  gint64 deadline;

  reset_settings ();
  g_object_set (account, "address", "dora@example.com", "host", "smtp.example.com", NULL);
  envoi_secret_store_async (account, ENVOI_SERVICE_SMTP, "old-" ENVOI_TEST_PASSWORD, NULL,
                            envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);
  envoi_account_store_add (store, account);
  saved = envoi_account_store_lookup (store, "dora-example-com");

  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, saved));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  wait_for_saved_secret (dialog);
  incoming = child (dialog, "incoming_group");
  type (dialog, "password_row", "new-" ENVOI_TEST_PASSWORD);
  gtk_editable_set_text (GTK_EDITABLE (gtk_widget_get_template_child (incoming,
                                                                      ENVOI_TYPE_INCOMING_GROUP,
                                                                      "imap_host_row")),
                         "imap.example.com");
  gtk_editable_set_text (GTK_EDITABLE (gtk_widget_get_template_child (incoming,
                                                                      ENVOI_TYPE_INCOMING_GROUP,
                                                                      "imap_password_row")),
                         "imap-" ENVOI_TEST_PASSWORD);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  /* The SMTP password is stored first, then the IMAP one is refused. */
  filter = g_dbus_connection_add_filter (bus, refuse_imap_item_filter, NULL, NULL);
  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (dialog != NULL &&
         envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)) == ENVOI_FORM_SAVING &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_dbus_connection_remove_filter (bus, filter);

  g_assert_nonnull (dialog);
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_ERROR);
  g_assert_cmpstr (envoi_account_get_imap_host (saved), ==, "");

  /* Putting it back is not waited for by the dialog: wait for the keyring here. */
  for (gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC; g_get_monotonic_time () < end;)
    {
      g_clear_pointer (&smtp, envoi_secret_free);
      smtp = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
      if (g_strcmp0 (smtp, "old-" ENVOI_TEST_PASSWORD) == 0)
        break;
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_cmpstr (smtp, ==, "old-" ENVOI_TEST_PASSWORD);
  imap = envoi_test_lookup_secret (saved, ENVOI_SERVICE_IMAP);
  g_assert_null (imap);

  /* Nothing left behind: the tests that follow count the store's accounts. */
  gtk_window_destroy (GTK_WINDOW (dialog));
  envoi_account_store_remove (store, "dora-example-com");
  g_clear_object (&result);
  envoi_secret_clear_async ("dora-example-com", -1, NULL, envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_clear_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);
}

static void
test_closing_with_changes_asks (void)
{
  g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);
  g_auto(GStrv) accounts_before = g_settings_get_strv (settings, "accounts");
  g_auto(GStrv) accounts_after = NULL;
  guint accounts_in_store = g_list_model_get_n_items (G_LIST_MODEL (store));
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  GListModel *toplevels = gtk_window_get_toplevels ();
  g_autoptr(EnvoiAccount) bob = envoi_account_new ("bob-example-com");
  g_autoptr(EnvoiSecretString) secret = NULL;
  guint before;

  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  /* A form that could be saved, so that a discard that saves would show. */
  fill_valid (dialog);
  type (dialog, "address_row", "bob@example.com");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));

  before = g_list_model_get_n_items (toplevels);
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_nonnull (dialog);   /* still open: a question was asked */
  g_assert_cmpuint (g_list_model_get_n_items (toplevels), ==, before + 1);

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window))
        {
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (window), "discard");
          break;
        }
    }

  envoi_test_wait_cleared ((gpointer *) &dialog, 10);

  /* The settings and the keyring are as they were before the dialog opened. */
  accounts_after = g_settings_get_strv (settings, "accounts");
  g_assert_cmpstrv (accounts_after, accounts_before);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, accounts_in_store);
  g_assert_null (envoi_account_store_lookup (store, "bob-example-com"));
  secret = envoi_test_lookup_secret (bob, ENVOI_SERVICE_SMTP);
  g_assert_null (secret);
}

static void
respond_to_message_dialog (const char *response)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window))
        {
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (window), response);
          gtk_window_destroy (GTK_WINDOW (window));
          return;
        }
    }

  g_assert_not_reached ();
}

/* The window: the list, the default, and removing an account with its keyring item. Runs in
 * "activate", inside g_application_run(): the application's whole life, startup to shutdown, as
 * when it is started for real, so that the ASan pass sees what it leaves. */
static void
window_remove_clears_keyring (EnvoiApplication *app)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  EnvoiAccountStore *app_store;
  GtkWidget *window;
  GtkWidget *list;

  /* Not the window that activating makes by default: this one. */
  g_signal_stop_emission_by_name (app, "activate");
  app_store = envoi_application_get_account_store (app);

  window = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), envoi_application_get_account_store (app)));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (gtk_widget_get_template_child (window, ENVOI_TYPE_WINDOW, "stack"))), ==, "empty");

  account = envoi_account_new ("carol-example-com");
  g_object_set (account, "address", "carol@example.com", "host", "smtp.example.com", NULL);
  envoi_secret_store_async (account, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD, NULL,
                            envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  envoi_account_store_add (app_store, account);

  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (gtk_widget_get_template_child (window, ENVOI_TYPE_WINDOW, "stack"))), ==, "accounts");
  list = GTK_WIDGET (gtk_widget_get_template_child (window, ENVOI_TYPE_WINDOW, "account_list"));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (gtk_widget_get_first_child (list))), ==,
                   "carol@example.com");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (gtk_widget_get_first_child (list))), ==,
                   "smtp.example.com:587 · STARTTLS");

  /* Cancelling the question keeps it; confirming removes the account and its password. */
  gtk_widget_activate_action (window, "window.remove-account", "s", "carol-example-com");
  respond_to_message_dialog ("cancel");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (app_store)), ==, 1);

  gtk_widget_activate_action (window, "window.remove-account", "s", "carol-example-com");
  respond_to_message_dialog ("remove");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (app_store)), ==, 0);

  for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
       g_get_monotonic_time () < end;)
    {
      g_clear_pointer (&secret, envoi_secret_free);
      secret = envoi_test_lookup_secret (account, ENVOI_SERVICE_SMTP);
      if (secret == NULL)
        break;
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_null (secret);

  /* The last window gone, g_application_run() returns. */
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_remove_clears_keyring (void)
{
  g_autoptr(EnvoiApplication) app = envoi_application_new ();

  reset_settings ();
  g_signal_connect (app, "activate", G_CALLBACK (window_remove_clears_keyring), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
}

static GtkWindow *
wait_for_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
        {
          g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

          if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (GTK_WIDGET (window)))
            return GTK_WINDOW (window);
        }
      g_main_context_iteration (NULL, FALSE);
    }

  g_error ("No %s window appeared", g_type_name (type));
}

/* Import from msmtp and export for it, as the window does once a file is chosen. */
static void
test_msmtp_import_export (void)
{
  const char *rc =
    "defaults\nauth on\ntls on\n\n"
    "account relay\nhost smtp.example.net\nport 587\nfrom relay@example.net\nuser relay\n"
    "passwordeval cat /nonexistent/secret\n";
  g_autofree char *dir = g_dir_make_tmp ("envoi-msmtp-XXXXXX", NULL);
  g_autofree char *rc_path = g_build_filename (dir, "msmtprc", NULL);
  g_autofree char *out_path = g_build_filename (dir, "msmtprc-relay-example-net", NULL);
  g_autofree char *exported = NULL;
  g_autoptr(GFile) rc_file = g_file_new_for_path (rc_path);
  g_autoptr(GFile) out_file = g_file_new_for_path (out_path);
  GtkWidget *parent = gtk_window_new ();
  GtkWindow *report;
  EnvoiAccount *imported;
  GStatBuf st;

  reset_settings ();
  g_assert_true (g_file_set_contents (rc_path, rc, -1, NULL));
  gtk_window_present (GTK_WINDOW (parent));

  envoi_msmtp_transfer_import_file (GTK_WINDOW (parent), store, rc_file, NULL);

  /* The report names what did not come over: passwordeval is never run. */
  report = wait_for_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (report)), ==,
                   "1 Account Imported");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (report)), "passwordeval"));
  gtk_window_destroy (report);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  imported = envoi_account_store_find_by_address (store, "relay@example.net");
  g_assert_nonnull (imported);
  g_assert_cmpstr (envoi_account_get_host (imported), ==, "smtp.example.net");
  g_assert_cmpstr (envoi_account_get_username (imported), ==, "relay");

  envoi_msmtp_transfer_export_file (GTK_WINDOW (parent), imported, out_file, NULL);
  report = wait_for_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (report)), ==,
                   "Exported for msmtp");
  gtk_window_destroy (report);

  /* Only its owner can read it, and it holds the server but no password. */
  g_assert_true (g_file_get_contents (out_path, &exported, NULL, NULL));
  g_assert_cmpint (g_stat (out_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_regex_match_simple ("^host\\s+smtp\\.example\\.net$", exported,
                                      G_REGEX_MULTILINE, 0));
  g_assert_false (g_regex_match_simple ("^password", exported, G_REGEX_MULTILINE, 0));

  gtk_window_destroy (GTK_WINDOW (parent));
  g_unlink (out_path);
  g_unlink (rc_path);
  g_rmdir (dir);
}

/* The Background portal is asked only inside Flatpak, with a reason and no autostart. */
static void
test_background_request (void)
{
  g_autoptr(GVariant) options = envoi_background_request_options ();
  gboolean autostart = TRUE;
  const char *reason = NULL;

  g_assert_false (envoi_background_is_sandboxed ());
  g_assert_true (g_variant_lookup (options, "autostart", "b", &autostart));
  g_assert_false (autostart);
  g_assert_true (g_variant_lookup (options, "reason", "&s", &reason));
  g_assert_nonnull (strstr (reason, "background"));

  /* Outside a sandbox it asks nothing (and needs no window). */
  envoi_background_request (NULL, NULL);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  store = envoi_account_store_new ();

  g_test_add_func ("/envoi/dialog/new-starts-invalid", test_new_dialog_starts_invalid);
  g_test_add_func ("/envoi/dialog/validation-cases", test_validation_cases);
  g_test_add_func ("/envoi/dialog/security-moves-port", test_security_moves_port);
  g_test_add_func ("/envoi/dialog/presets-fill-the-form", test_presets_fill_the_form);
  g_test_add_func ("/envoi/dialog/save-reopen-round-trip", test_save_reopen_round_trip);
  g_test_add_func ("/envoi/dialog/refused-secret-puts-back-the-others",
                   test_refused_secret_puts_back_the_others);
  g_test_add_func ("/envoi/dialog/closing-with-changes-asks", test_closing_with_changes_asks);
  g_test_add_func ("/envoi/window/remove-clears-keyring", test_window_remove_clears_keyring);
  g_test_add_func ("/envoi/window/msmtp-import-export", test_msmtp_import_export);
  g_test_add_func ("/envoi/window/background-request", test_background_request);

  ret = g_test_run ();
  g_clear_object (&store);
  return ret;
}

/* test-test-panel.c: the account dialog's test panel, end to end, in a real window under Xvfb,
 * against the real SMTP listeners of tests/smtpd.py
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <adwaita.h>

#include "envoi-account-dialog.h"
#include "envoi-message.h"
#include "envoi-smtp-error.h"
#include "envoi-test-helpers.h"
#include "envoi-test-panel.h"
#include "envoi-test-result-view.h"

#define ADDRESS   "panel@example.org"
#define RECIPIENT "someone@example.net"

/* A run against a local listener ends well within this; the stall listener never does. */
#define RUN_TIMEOUT_MS 20000

static EnvoiAccountStore *store;

/* ---- helpers ------------------------------------------------------------------------------ */

static GtkWidget *
dialog_child (EnvoiAccountDialog *dialog,
              const char         *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   ENVOI_TYPE_ACCOUNT_DIALOG, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

/* A widget of the panel, or of the result view inside it, by id. */
static GtkWidget *
panel_child (EnvoiTestPanel *panel,
             const char     *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (panel),
                                                   ENVOI_TYPE_TEST_PANEL, name);

  if (object == NULL)
    object = gtk_widget_get_template_child (panel_child (panel, "result_box"),
                                            ENVOI_TYPE_TEST_RESULT_VIEW, name);
  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
type (EnvoiAccountDialog *dialog,
      const char         *row,
      const char         *text)
{
  gtk_editable_set_text (GTK_EDITABLE (dialog_child (dialog, row)), text);
}

static void
type_port (EnvoiAccountDialog *dialog,
           const char         *variable)
{
  g_autofree char *port = g_strdup_printf ("%u", envoi_test_env_port (variable));

  type (dialog, "port_row", port);
}

static void
choose (EnvoiAccountDialog *dialog,
        const char         *row,
        guint               position)
{
  adw_combo_row_set_selected (ADW_COMBO_ROW (dialog_child (dialog, row)), position);
}

static void
press (GtkWidget *button)
{
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static gboolean
panel_done (gpointer panel)
{
  return envoi_test_panel_get_state (panel) != ENVOI_TEST_PANEL_RUNNING;
}

/* Runs the main loop until the panel leaves the running state; returns how long it took. */
static gint64
wait_until_done (EnvoiTestPanel *panel,
                 guint           timeout_ms)
{
  gint64 start = g_get_monotonic_time ();

  if (!envoi_test_wait_until (panel_done, panel, (timeout_ms + 999) / 1000))
    g_error ("the test panel still runs after %u ms", timeout_ms);

  return g_get_monotonic_time () - start;
}

static const char *
label_text (EnvoiTestPanel *panel,
            const char     *name)
{
  GtkWidget *label = panel_child (panel, name);

  if (!gtk_widget_get_visible (label))
    return "";
  return gtk_label_get_text (GTK_LABEL (label));
}

/* Whether a visible label under @widget shows exactly @text. */
static gboolean
shows_label (GtkWidget  *widget,
             const char *text)
{
  if (!gtk_widget_get_visible (widget))
    return FALSE;

  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_label (child, text))
      return TRUE;

  return FALSE;
}

/* The fix button whose visible label (mnemonic aside) is @label, or NULL. */
static GtkWidget *
find_fix (EnvoiTestPanel *panel,
          const char     *label)
{
  GtkWidget *fixes = panel_child (panel, "fixes_box");

  if (!gtk_widget_get_visible (fixes))
    return NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (fixes); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));
      g_autofree char *plain = NULL;

      pango_parse_markup (gtk_button_get_label (GTK_BUTTON (button)), -1, '_', NULL, &plain,
                          NULL, NULL);
      if (g_strcmp0 (plain, label) == 0)
        return button;
    }

  return NULL;
}

static char *
transcript (EnvoiTestPanel *panel)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (panel_child (panel, "transcript_view")));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* Never the password, in clear, in base64, or inside the PLAIN blob. */
static void
assert_no_canary (EnvoiTestPanel *panel)
{
  g_autofree char *text = transcript (panel);
  g_autofree char *b64 = g_base64_encode ((const guchar *) ENVOI_TEST_PASSWORD,
                                          strlen (ENVOI_TEST_PASSWORD));

  g_test_message ("transcript:\n%s", text);
  g_assert_null (strstr (text, ENVOI_TEST_PASSWORD));
  g_assert_null (strstr (text, "Canary"));
  g_assert_null (strstr (text, b64));
  g_assert_null (strstr (text, "AGVudm9pLXRlc3QAQ2FuYXJ5"));
}

static const char *
error_title (EnvoiSmtpError code)
{
  g_autoptr(GError) error = g_error_new_literal (ENVOI_SMTP_ERROR, code, "");

  return envoi_smtp_error_get_title (error);
}

/* The envelopes the listener stored, in arrival order. */
static guint
count_messages (const char *listener)
{
  g_autofree char *folder = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"),
                                              listener, NULL);
  guint n = 0;

  for (;;)
    {
      g_autofree char *name = g_strdup_printf ("%u.eml", n + 1);
      g_autofree char *path = g_build_filename (folder, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return n;
      n++;
    }
}

static char *
read_envelope (const char *listener,
               guint       n)
{
  g_autofree char *name = g_strdup_printf ("%u.envelope", n);
  g_autofree char *path = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"),
                                            listener, name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

/* A new account's dialog, shown, filled in for the STARTTLS listener. */
static EnvoiAccountDialog *
make_dialog (EnvoiTestPanel **out_panel)
{
  EnvoiAccountDialog *dialog = envoi_account_dialog_new (NULL, store, NULL);

  gtk_window_present (GTK_WINDOW (dialog));

  type (dialog, "address_row", ADDRESS);
  type (dialog, "name_row", "Panel Test");
  type (dialog, "host_row", "localhost");
  choose (dialog, "security_row", ENVOI_SECURITY_STARTTLS);
  type_port (dialog, "ENVOI_TEST_SMTP_STARTTLS_PORT");
  choose (dialog, "auth_row", ENVOI_AUTH_METHOD_AUTOMATIC);
  type (dialog, "username_row", ENVOI_TEST_USER);
  type (dialog, "password_row", ENVOI_TEST_PASSWORD);
  envoi_account_dialog_validate_now (dialog);
  g_assert_cmpint (envoi_account_dialog_get_state (dialog), ==, ENVOI_FORM_EDITING);

  *out_panel = ENVOI_TEST_PANEL (dialog_child (dialog, "test_panel"));
  /* The panel is this dialog's, and the dialog answers its requests for a run. */
  g_assert_true (gtk_widget_is_ancestor (GTK_WIDGET (*out_panel), GTK_WIDGET (dialog)));
  g_assert_true (g_signal_has_handler_pending (*out_panel,
                                               g_signal_lookup ("run-requested",
                                                                ENVOI_TYPE_TEST_PANEL),
                                               0, FALSE));
  g_assert_cmpint (envoi_test_panel_get_state (*out_panel), ==, ENVOI_TEST_PANEL_IDLE);
  g_assert_false (gtk_widget_get_visible (panel_child (*out_panel, "result_box")));

  return dialog;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_send_starttls (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  guint before = count_messages ("starttls");
  g_autofree char *envelope = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *copied = NULL;
  g_autofree char *shown = NULL;
  GdkClipboard *clipboard;

  /* An empty recipient means the account's own address, and the hint says so. */
  g_assert_nonnull (strstr (label_text (panel, "recipient_hint"), ADDRESS));

  press (panel_child (panel, "send_button"));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_RUNNING);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (panel_child (panel, "action_stack"))),
                   ==, "running");
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (panel_child (panel, "spinner"))));
  g_assert_true (gtk_widget_is_sensitive (panel_child (panel, "cancel_button")));

  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_test_message ("result: %s / %s / %s", label_text (panel, "result_title"),
                  label_text (panel, "result_explanation"), label_text (panel, "result_message"));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==, "Test email sent");
  g_assert_nonnull (strstr (label_text (panel, "result_explanation"), ADDRESS));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Server’s reply"));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (panel_child (panel, "action_stack"))),
                   ==, "buttons");
  g_assert_false (gtk_spinner_get_spinning (GTK_SPINNER (panel_child (panel, "spinner"))));

  /* It arrived, to the account's address. */
  g_assert_cmpuint (count_messages ("starttls"), ==, before + 1);
  envelope = read_envelope ("starttls", before + 1);
  g_assert_nonnull (strstr (envelope, "MAIL FROM:<" ADDRESS ">"));
  g_assert_nonnull (strstr (envelope, "RCPT TO:<" ADDRESS ">"));

  /* The transcript is there, copyable, and clean. */
  g_assert_true (gtk_widget_get_visible (panel_child (panel, "details_expander")));
  gtk_expander_set_expanded (GTK_EXPANDER (panel_child (panel, "details_expander")), TRUE);
  g_assert_true (gtk_widget_is_sensitive (panel_child (panel, "copy_button")));
  clipboard = gtk_widget_get_clipboard (GTK_WIDGET (panel));
  gdk_clipboard_set_text (clipboard, "not the transcript");
  g_assert_true (gtk_widget_activate_action (panel_child (panel, "copy_button"),
                                             "test-result.copy-transcript", NULL));
  assert_no_canary (panel);

  /* What the clipboard holds is the redacted transcript shown. */
  gdk_clipboard_read_text_async (clipboard, NULL, envoi_test_async_result_cb, &result);
  copied = gdk_clipboard_read_text_finish (clipboard, envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  shown = transcript (panel);
  g_assert_cmpstr (copied, ==, shown);
  g_assert_nonnull (strstr (copied, "EHLO"));
  g_assert_nonnull (strstr (copied, "[credentials removed]"));
  g_assert_null (strstr (copied, ENVOI_TEST_PASSWORD));

  /* Nothing was saved by testing. */
  g_assert_null (envoi_account_store_find_by_address (store, ADDRESS));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_connection_reports_offers (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);

  press (panel_child (panel, "test_button"));
  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==, "Connection works");

  /* What the server offers: its login methods, the size limit and STARTTLS. */
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Login methods"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "PLAIN, LOGIN") ||
                 shows_label (panel_child (panel, "facts_box"), "LOGIN, PLAIN"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Largest message"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "STARTTLS"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Offered"));
  assert_no_canary (panel);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_untrusted_then_trusted (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  const char *pin = envoi_test_env ("ENVOI_TEST_SMTP_UNTRUSTED_PIN");
  g_autoptr(EnvoiAccount) before_fix = NULL;
  g_autoptr(EnvoiAccount) after_fix = NULL;
  g_autofree char *envelope = NULL;
  guint before = count_messages ("untrusted");
  GtkWidget *trust;

  choose (dialog, "security_row", ENVOI_SECURITY_TLS);
  type_port (dialog, "ENVOI_TEST_SMTP_UNTRUSTED_PORT");
  gtk_editable_set_text (GTK_EDITABLE (panel_child (panel, "recipient_row")), RECIPIENT);

  press (panel_child (panel, "send_button"));
  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_FAILED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==,
                   error_title (ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED));
  g_assert_cmpstr (label_text (panel, "result_explanation"), !=, "");
  g_assert_cmpstr (label_text (panel, "result_hint"), !=, "");

  /* The fingerprint, subject and issuer are shown before anything is trusted. */
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Fingerprint"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), pin));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Subject"));
  g_assert_true (shows_label (panel_child (panel, "facts_box"), "Issuer"));
  trust = find_fix (panel, "Trust This Certificate");
  g_assert_nonnull (trust);
  before_fix = envoi_account_dialog_build_account (dialog);
  g_assert_cmpstr (envoi_account_get_pinned_key (before_fix), ==, "");
  g_assert_false (gtk_widget_get_visible (dialog_child (dialog, "pinned_row")));
  g_assert_cmpuint (count_messages ("untrusted"), ==, before);
  assert_no_canary (panel);

  /* Trusting pins exactly that key in the form, for Save to keep. */
  press (trust);
  after_fix = envoi_account_dialog_build_account (dialog);
  g_assert_cmpstr (envoi_account_get_pinned_key (after_fix), ==, pin);
  g_assert_true (gtk_widget_get_visible (dialog_child (dialog, "pinned_row")));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_IDLE);
  g_assert_null (find_fix (panel, "Trust This Certificate"));

  press (panel_child (panel, "send_button"));
  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_test_message ("result: %s / %s", label_text (panel, "result_title"),
                  label_text (panel, "result_message"));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==, "Test email sent");
  g_assert_cmpuint (count_messages ("untrusted"), ==, before + 1);
  envelope = read_envelope ("untrusted", before + 1);
  g_assert_nonnull (strstr (envelope, "RCPT TO:<" RECIPIENT ">"));
  assert_no_canary (panel);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_wrong_password (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);

  type (dialog, "password_row", "not-the-password");
  press (panel_child (panel, "test_button"));
  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_FAILED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==,
                   error_title (ENVOI_SMTP_ERROR_AUTH_FAILED));
  g_assert_cmpstr (label_text (panel, "result_hint"), !=, "");
  g_assert_true (gtk_widget_has_css_class (panel_child (panel, "result_icon"), "error"));
  g_assert_null (find_fix (panel, "Trust This Certificate"));
  assert_no_canary (panel);
  {
    g_autofree char *text = transcript (panel);

    g_assert_null (strstr (text, "not-the-password"));
  }

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_cancel_stall (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  gint64 took;

  type_port (dialog, "ENVOI_TEST_SMTP_STALL_PORT");
  press (panel_child (panel, "test_button"));
  envoi_test_spin (300);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_RUNNING);

  press (panel_child (panel, "cancel_button"));
  took = wait_until_done (panel, 5000);
  g_test_message ("cancelled after %" G_GINT64_FORMAT " µs", took);
  g_assert_cmpint (took, <, 500 * 1000);

  /* Neutral, not an error. */
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_CANCELLED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==, "Test cancelled");
  g_assert_false (gtk_widget_has_css_class (panel_child (panel, "result_icon"), "error"));
  g_assert_false (gtk_widget_get_visible (panel_child (panel, "fixes_box")));
  assert_no_canary (panel);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_close_cancels (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);

  type_port (dialog, "ENVOI_TEST_SMTP_STALL_PORT");
  g_object_ref (panel);
  press (panel_child (panel, "send_button"));
  envoi_test_spin (200);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_RUNNING);

  /* Closing the dialog ends the run at once. */
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpint (wait_until_done (panel, 5000), <, 500 * 1000);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_CANCELLED);
  g_object_unref (panel);
}

static void
test_invalid_recipient (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  GtkWidget *row = panel_child (panel, "recipient_row");

  gtk_editable_set_text (GTK_EDITABLE (row), "not an address");
  press (panel_child (panel, "send_button"));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_FAILED);
  g_assert_cmpstr (label_text (panel, "result_title"), ==, "The recipient is not valid");
  g_assert_true (gtk_widget_has_css_class (row, "error"));

  gtk_editable_set_text (GTK_EDITABLE (row), RECIPIENT);
  g_assert_false (gtk_widget_has_css_class (row, "error"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_tls_mismatch_offers_starttls (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  g_autoptr(EnvoiAccount) fixed = NULL;
  GtkWidget *fix;

  /* Implicit TLS spoken to a STARTTLS port: the handshake fails. */
  choose (dialog, "security_row", ENVOI_SECURITY_TLS);
  type_port (dialog, "ENVOI_TEST_SMTP_STARTTLS_PORT");
  press (panel_child (panel, "test_button"));
  wait_until_done (panel, RUN_TIMEOUT_MS);
  g_test_message ("result: %s / %s", label_text (panel, "result_title"),
                  label_text (panel, "result_message"));
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_FAILED);

  fix = find_fix (panel, "Use STARTTLS on Port 587");
  g_assert_nonnull (fix);
  press (fix);
  fixed = envoi_account_dialog_build_account (dialog);
  g_assert_cmpint (envoi_account_get_security (fixed), ==, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpuint (envoi_account_get_port (fixed), ==, 587);
  g_assert_cmpint (envoi_test_panel_get_state (panel), ==, ENVOI_TEST_PANEL_IDLE);
  assert_no_canary (panel);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* Every control has an accessible name; buttons carry their label and a mnemonic. */
static void
test_accessible_names (void)
{
  EnvoiTestPanel *panel;
  EnvoiAccountDialog *dialog = make_dialog (&panel);
  const char *buttons[] = { "test_button", "send_button", "cancel_button", "copy_button" };

  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    {
      GtkButton *button = GTK_BUTTON (panel_child (panel, buttons[i]));

      g_assert_true (gtk_button_get_use_underline (button));
      g_assert_nonnull (strchr (gtk_button_get_label (button), '_'));
    }
  g_assert_true (gtk_expander_get_use_underline (GTK_EXPANDER (panel_child (panel, "details_expander"))));
  g_assert_true (adw_preferences_row_get_use_underline (ADW_PREFERENCES_ROW (panel_child (panel, "recipient_row"))));

  gtk_window_destroy (GTK_WINDOW (dialog));
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
  envoi_message_init ();

  store = envoi_account_store_new ();

  g_test_add_func ("/envoi/test-panel/send-starttls", test_send_starttls);
  g_test_add_func ("/envoi/test-panel/connection-reports-offers", test_connection_reports_offers);
  g_test_add_func ("/envoi/test-panel/untrusted-then-trusted", test_untrusted_then_trusted);
  g_test_add_func ("/envoi/test-panel/wrong-password", test_wrong_password);
  g_test_add_func ("/envoi/test-panel/tls-mismatch-offers-starttls",
                   test_tls_mismatch_offers_starttls);
  g_test_add_func ("/envoi/test-panel/cancel-stall", test_cancel_stall);
  g_test_add_func ("/envoi/test-panel/close-cancels", test_close_cancels);
  g_test_add_func ("/envoi/test-panel/invalid-recipient", test_invalid_recipient);
  g_test_add_func ("/envoi/test-panel/accessible-names", test_accessible_names);

  ret = g_test_run ();
  g_clear_object (&store);
  return ret;
}

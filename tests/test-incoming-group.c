/* test-incoming-group.c: the account dialog's sending-method and mailbox-server groups, in a
 * real window under Xvfb: saved into GSettings and the session's real gnome-keyring, checked
 * row by row, and tried from the test panel against a real dovecot (tests/dovecot.py) and a
 * local HTTPS server (tests/http-sink.py)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <adwaita.h>

#include "envoi-account-dialog.h"
#include "envoi-incoming-group.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"
#include "envoi-test-helpers.h"
#include "envoi-test-panel.h"
#include "envoi-test-result-view.h"
#include "envoi-transport-group.h"

#define RUN_TIMEOUT_MS 30000

static struct
{
  EnvoiAccountStore *store;
  GSubprocess       *dovecot;
  char              *dovecot_dir;
  GHashTable        *env;        /* what dovecot.py wrote */
  GSubprocess       *sink;
  char              *sink_dir;
  guint              sink_port;
} h;

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *
dovecot_env (const char *name)
{
  const char *value = g_hash_table_lookup (h.env, name);

  if (value == NULL)
    g_error ("dovecot.py did not set %s", name);
  return value;
}

static char *
port_text (const char *name)
{
  return g_strdup (dovecot_env (name));
}

/* A row of the dialog, or of one of its groups, its test panel or the panel's result, by id. */
static GtkWidget *
find (gpointer    dialog,
      const char *name)
{
  const struct { const char *group; GType (*type) (void); } owners[] = {
    { NULL, envoi_account_dialog_get_type },
    { "transport_group", envoi_transport_group_get_type },
    { "incoming_group", envoi_incoming_group_get_type },
    { "test_panel", envoi_test_panel_get_type },
    { "result_box", envoi_test_result_view_get_type },
  };

  for (guint i = 0; i < G_N_ELEMENTS (owners); i++)
    {
      GtkWidget *owner = GTK_WIDGET (dialog);
      GObject *object;

      if (owners[i].group != NULL)
        owner = find (dialog, owners[i].group);
      object = gtk_widget_get_template_child (owner, owners[i].type (), name);
      if (object != NULL)
        return GTK_WIDGET (object);
    }

  g_error ("no row %s", name);
}

static void
type (gpointer    dialog,
      const char *row,
      const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (find (dialog, row)), text);
}

static const char *
text (gpointer    dialog,
      const char *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (find (dialog, row)));
}

static void
choose (gpointer    dialog,
        const char *row,
        guint       position)
{
  adw_combo_row_set_selected (ADW_COMBO_ROW (find (dialog, row)), position);
}

static void
turn_on (gpointer    dialog,
         const char *name)
{
  gtk_switch_set_active (GTK_SWITCH (find (dialog, name)), TRUE);
}

/* The reason shown under a row: the label of the message row that follows it. */
static const char *
reason (gpointer    dialog,
        const char *row)
{
  GtkWidget *message_row = gtk_widget_get_next_sibling (find (dialog, row));

  g_assert_true (GTK_IS_LIST_BOX_ROW (message_row));
  if (!gtk_widget_get_visible (message_row))
    return NULL;

  return gtk_label_get_text (GTK_LABEL (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (message_row))));
}

static gboolean
is_invalid (gpointer    dialog,
            const char *row)
{
  return gtk_widget_has_css_class (find (dialog, row), "error");
}

/* Lets the keyring lookups of a new dialog answer. */
static void
settle (gpointer dialog)
{
  envoi_test_spin (300);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
}

typedef struct
{
  gpointer    dialog;
  const char *row;
} Hint;

/* Whether @row says its secret is saved; if not yet, the dialog looks again. */
static gboolean
hint_shown (gpointer data)
{
  Hint *hint = data;
  const char *shown = reason (hint->dialog, hint->row);

  if (shown != NULL && strstr (shown, "••••") != NULL)
    return TRUE;
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (hint->dialog));
  return FALSE;
}

static void
wait_for_hint (gpointer    dialog,
               const char *row)
{
  Hint hint = { dialog, row };

  envoi_test_wait_until (hint_shown, &hint, 10);
}

static guint
settings_port (GSettings  *settings,
               const char *key)
{
  g_autoptr(GVariant) value = g_settings_get_value (settings, key);

  return g_variant_get_uint16 (value);
}

static void
reset_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);
  g_auto(GStrv) ids = g_settings_get_strv (settings, "accounts");

  for (guint i = 0; ids[i] != NULL; i++)
    envoi_account_store_remove (h.store, ids[i]);
}

static GtkWidget *
new_dialog (void)
{
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, h.store, NULL));

  gtk_window_present (GTK_WINDOW (dialog));
  settle (dialog);
  return dialog;
}

/* Every label's text in the panel's result card, one per line. */
static void
collect_labels (GtkWidget *widget,
                GString   *out)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, out);
}

static char *
result_text (gpointer dialog)
{
  GString *out = g_string_new (NULL);

  collect_labels (find (dialog, "result_box"), out);
  return g_string_free (out, FALSE);
}

static gboolean
panel_done (gpointer panel)
{
  return envoi_test_panel_get_state (panel) != ENVOI_TEST_PANEL_RUNNING;
}

static EnvoiTestPanelState
run (gpointer    dialog,
     const char *button)
{
  EnvoiTestPanel *panel = ENVOI_TEST_PANEL (find (dialog, "test_panel"));
  GtkWidget *widget = find (dialog, button);

  g_assert_true (gtk_widget_get_visible (widget));
  g_assert_true (gtk_widget_is_sensitive (widget));
  g_signal_emit_by_name (widget, "clicked");
  if (!envoi_test_wait_until (panel_done, panel, RUN_TIMEOUT_MS / 1000))
    g_error ("the test panel still runs after %u ms", RUN_TIMEOUT_MS);
  {
    g_autofree char *shown = result_text (dialog);

    g_test_message ("%s", shown);
  }
  return envoi_test_panel_get_state (panel);
}

static char *
dovecot_log (void)
{
  char *contents = NULL;

  if (!g_file_get_contents (dovecot_env ("ENVOI_TEST_DOVECOT_LOG"), &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

/* ---- saving ------------------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  GtkWidget *dialog;
  EnvoiAccount *saved;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(EnvoiSecretString) pop = NULL;
  g_autoptr(EnvoiSecretString) imap = NULL;
  g_autoptr(EnvoiSecretString) smtp = NULL;
  g_autofree char *pop_host = NULL;
  g_autofree char *security = NULL;

  reset_settings ();
  dialog = new_dialog ();
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);

  type (dialog, "address_row", "claire@example.fr");
  type (dialog, "host_row", "smtp.example.fr");
  type (dialog, "port_row", "587");
  type (dialog, "password_row", "smtp-" ENVOI_TEST_PASSWORD);
  turn_on (dialog, "pop_switch");
  type (dialog, "pop_host_row", "POP.example.fr");
  choose (dialog, "pop_security_row", ENVOI_SECURITY_STARTTLS);   /* 995 moves to 110 */
  type (dialog, "pop_password_row", "pop-" ENVOI_TEST_POP_PASSWORD);
  type (dialog, "imap_host_row", "imap.example.fr");
  type (dialog, "imap_password_row", "imap-" ENVOI_TEST_IMAP_PASSWORD);
  turn_on (dialog, "save_copy_switch");
  type (dialog, "sent_folder_row", "Éléments envoyés");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpstr (text (dialog, "pop_port_row"), ==, "110");
  g_assert_cmpstr (text (dialog, "imap_port_row"), ==, "993");   /* SSL/TLS by default */
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);

  saved = envoi_account_store_lookup (h.store, "claire-example-fr");
  g_assert_nonnull (saved);
  settings = envoi_account_create_settings (envoi_account_get_id (saved));
  g_assert_true (g_settings_get_boolean (settings, "pop-before-smtp"));
  pop_host = g_settings_get_string (settings, "pop-host");
  g_assert_cmpstr (pop_host, ==, "pop.example.fr");
  g_assert_cmpuint (settings_port (settings, "pop-port"), ==, 110);
  security = g_settings_get_string (settings, "pop-security");
  g_assert_cmpstr (security, ==, "starttls");
  g_assert_cmpuint (settings_port (settings, "imap-port"), ==, 993);
  g_assert_true (g_settings_get_boolean (settings, "save-sent-copy"));
  {
    g_autofree char *folder = g_settings_get_string (settings, "sent-folder");

    g_assert_cmpstr (folder, ==, "Éléments envoyés");
  }

  /* Each password in its own keyring item, none in the settings. */
  smtp = envoi_test_lookup_secret (saved, ENVOI_SERVICE_SMTP);
  pop = envoi_test_lookup_secret (saved, ENVOI_SERVICE_POP3);
  imap = envoi_test_lookup_secret (saved, ENVOI_SERVICE_IMAP);
  g_assert_cmpstr (smtp, ==, "smtp-" ENVOI_TEST_PASSWORD);
  g_assert_cmpstr (pop, ==, "pop-" ENVOI_TEST_POP_PASSWORD);
  g_assert_cmpstr (imap, ==, "imap-" ENVOI_TEST_IMAP_PASSWORD);

  /* Reopened: the values, and a masked hint of each stored password. */
  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, h.store, saved));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (find (dialog, "pop_switch"))));
  g_assert_cmpstr (text (dialog, "pop_host_row"), ==, "pop.example.fr");
  g_assert_cmpstr (text (dialog, "imap_host_row"), ==, "imap.example.fr");
  g_assert_cmpstr (text (dialog, "sent_folder_row"), ==, "Éléments envoyés");
  wait_for_hint (dialog, "pop_password_row");
  wait_for_hint (dialog, "imap_password_row");
  g_assert_nonnull (strstr (reason (dialog, "pop_password_row"), "••••nvoi"));
  g_assert_nonnull (strstr (reason (dialog, "imap_password_row"), "••••nvoi"));
  g_assert_false (envoi_account_dialog_is_modified (ENVOI_ACCOUNT_DIALOG (dialog)));
  gtk_widget_activate_action (dialog, "dialog.cancel", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);
}

static void
test_http_round_trip (void)
{
  GtkWidget *dialog;
  EnvoiAccount *saved;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(EnvoiSecretString) key = NULL;
  g_autofree char *transport = NULL;
  g_autofree char *region = NULL;
  g_autofree char *domain = NULL;

  reset_settings ();
  dialog = new_dialog ();
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);

  type (dialog, "address_row", "news@mg.example.org");
  choose (dialog, "transport_row", ENVOI_TRANSPORT_HTTP_MAILGUN);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));

  /* No SMTP server or login is asked for: those groups are hidden. */
  g_assert_false (gtk_widget_get_visible (find (dialog, "server_group")));
  g_assert_false (gtk_widget_get_visible (find (dialog, "auth_group")));
  g_assert_true (gtk_widget_get_visible (find (dialog, "domain_row")));
  g_assert_false (gtk_widget_get_visible (find (dialog, "url_row")));
  g_assert_false (gtk_widget_get_visible (find (dialog, "test_button")));
  g_assert_true (gtk_widget_get_visible (find (dialog, "http_note")));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_INVALID);

  type (dialog, "domain_row", "mg.example.org");
  choose (dialog, "region_row", ENVOI_MAILGUN_REGION_EU);
  type (dialog, "key_row", "key-" ENVOI_TEST_API_KEY);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);

  saved = envoi_account_store_lookup (h.store, "news-mg-example-org");
  g_assert_nonnull (saved);
  settings = envoi_account_create_settings (envoi_account_get_id (saved));
  transport = g_settings_get_string (settings, "transport");
  region = g_settings_get_string (settings, "mailgun-region");
  domain = g_settings_get_string (settings, "mailgun-domain");
  g_assert_cmpstr (transport, ==, "http-mailgun");
  g_assert_cmpstr (region, ==, "eu");
  g_assert_cmpstr (domain, ==, "mg.example.org");
  key = envoi_test_lookup_secret (saved, ENVOI_SERVICE_HTTP);
  g_assert_cmpstr (key, ==, "key-" ENVOI_TEST_API_KEY);

  dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, h.store, saved));
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (find (dialog, "transport_row"))), ==,
                    ENVOI_TRANSPORT_HTTP_MAILGUN);
  wait_for_hint (dialog, "key_row");
  g_assert_nonnull (strstr (reason (dialog, "key_row"), "••••nvoi"));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);
  gtk_widget_activate_action (dialog, "dialog.cancel", NULL);
  envoi_test_wait_cleared ((gpointer *) &dialog, 10);
}

/* ---- validation --------------------------------------------------------------------------- */

static void
test_validation (void)
{
  static const struct
  {
    const char *row;
    const char *typed;
    const char *says;   /* NULL: valid */
  } table[] = {
    { "pop_host_row", "pop example.fr", "host" },
    { "pop_host_row", "pop.example.fr", NULL },
    { "pop_port_row", "70000", "port" },
    { "pop_port_row", "995", NULL },
    { "imap_host_row", "imap.example.fr:993", "port" },
    { "imap_host_row", "imap.example.fr", NULL },
    { "imap_port_row", "abc", "port" },
    { "imap_port_row", "993", NULL },
    { "sent_folder_row", "Sent\nItems", "line" },
    { "sent_folder_row", "Sent Items", NULL },
  };
  GtkWidget *dialog;

  reset_settings ();
  dialog = new_dialog ();
  type (dialog, "address_row", "alice@example.com");
  type (dialog, "host_row", "smtp.example.com");
  type (dialog, "port_row", "587");
  type (dialog, "password_row", ENVOI_TEST_PASSWORD);
  turn_on (dialog, "pop_switch");
  turn_on (dialog, "save_copy_switch");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));

  /* Not reached yet: Save stays off, but the row is not scolded. */
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_INVALID);
  g_assert_false (is_invalid (dialog, "pop_host_row"));

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree char *lower = NULL;

      g_test_message ("%s: %s", table[i].row, table[i].typed);
      type (dialog, table[i].row, table[i].typed);
      envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
      g_assert_cmpint (is_invalid (dialog, table[i].row), ==, table[i].says != NULL);
      if (table[i].says != NULL)
        {
          lower = g_utf8_strdown (reason (dialog, table[i].row), -1);
          g_test_message ("says: %s", lower);
          g_assert_nonnull (strstr (lower, table[i].says));
        }
    }
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  /* A password in clear text is refused across the network, accepted on this computer. */
  choose (dialog, "pop_security_row", ENVOI_SECURITY_NONE);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (is_invalid (dialog, "pop_security_row"));
  g_assert_nonnull (strstr (reason (dialog, "pop_security_row"), "clear text"));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_INVALID);
  type (dialog, "pop_host_row", "127.0.0.1");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_false (is_invalid (dialog, "pop_security_row"));

  /* A copy needs an IMAP server. */
  type (dialog, "imap_host_row", "");
  turn_on (dialog, "save_copy_switch");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (is_invalid (dialog, "save_copy_row"));
  g_assert_false (gtk_widget_get_visible (find (dialog, "imap_port_row")));
  type (dialog, "imap_host_row", "imap.example.com");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_false (is_invalid (dialog, "save_copy_row"));

  /* The generic POST: HTTPS, or plain HTTP to this computer only; a key is needed. */
  choose (dialog, "transport_row", ENVOI_TRANSPORT_HTTP_POST);
  gtk_widget_activate_action (dialog, "dialog.save", NULL);   /* every reason speaks */
  /* The group first asks the keyring for a saved key; the reason comes once it has answered
   * (slow under the sanitizers). */
  for (gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
       (reason (dialog, "key_row") == NULL || strstr (reason (dialog, "key_row"), "API key") == NULL) &&
       g_get_monotonic_time () < end;)
    {
      g_main_context_iteration (NULL, FALSE);
      envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
    }
  g_assert_nonnull (strstr (reason (dialog, "key_row"), "API key"));
  type (dialog, "url_row", "http://mail.example.com/send");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (is_invalid (dialog, "url_row"));
  g_assert_nonnull (strstr (reason (dialog, "url_row"), "HTTPS"));
  type (dialog, "url_row", "ftp://mail.example.com/");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_true (is_invalid (dialog, "url_row"));
  type (dialog, "url_row", "https://mail.example.com/send");
  type (dialog, "key_row", "a\nb");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_false (is_invalid (dialog, "url_row"));
  g_assert_true (is_invalid (dialog, "key_row"));
  type (dialog, "key_row", ENVOI_TEST_API_KEY);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* ---- the test panel against real servers --------------------------------------------------- */

/* The popauth listener relays only after a POP3 login logged past this point. */
static void
mark_popauth (void)
{
  g_autofree char *log = dovecot_log ();
  g_autofree char *path = g_build_filename (h.dovecot_dir, "popauth-from", NULL);
  g_autofree char *offset = g_strdup_printf ("%zu", strlen (log));

  g_assert_true (g_file_set_contents (path, offset, -1, NULL));
}

static GtkWidget *
popauth_dialog (const char *pop_password)
{
  GtkWidget *dialog = new_dialog ();
  g_autofree char *smtp_port = port_text ("ENVOI_TEST_POPAUTH_PORT");
  g_autofree char *pop_port = port_text ("ENVOI_TEST_POP3_PORT");

  type (dialog, "address_row", "envoi-test@example.org");
  type (dialog, "username_row", ENVOI_TEST_USER);
  type (dialog, "host_row", "127.0.0.1");
  choose (dialog, "security_row", ENVOI_SECURITY_NONE);
  type (dialog, "port_row", smtp_port);
  choose (dialog, "auth_row", ENVOI_AUTH_METHOD_NONE);
  turn_on (dialog, "pop_switch");
  type (dialog, "pop_host_row", "127.0.0.1");
  choose (dialog, "pop_security_row", ENVOI_SECURITY_NONE);
  type (dialog, "pop_port_row", pop_port);
  type (dialog, "pop_password_row", pop_password);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);
  return dialog;
}

static void
test_panel_pop_before_smtp (void)
{
  GtkWidget *dialog;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *shown = NULL;

  reset_settings ();
  mark_popauth ();
  before = dovecot_log ();
  dialog = popauth_dialog (ENVOI_TEST_POP_PASSWORD);

  /* The POP3 login first, then the SMTP server relays: both steps are shown. */
  g_assert_cmpint (run (dialog, "send_button"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  after = dovecot_log ();
  g_assert_nonnull (strstr (after + strlen (before),
                            "pop3-login: Info: Login: user=<" ENVOI_TEST_USER ">"));
  shown = result_text (dialog);
  g_assert_nonnull (strstr (shown, "Test email sent"));
  g_assert_nonnull (strstr (shown, "POP3 login"));
  g_assert_nonnull (strstr (shown, "Logged in to 127.0.0.1 before sending."));
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (find (dialog, "transcript_view")));
    GtkTextIter start, end;
    g_autofree char *transcript = NULL;

    gtk_text_buffer_get_bounds (buffer, &start, &end);
    transcript = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    g_assert_nonnull (strstr (transcript, "POP3:"));
    g_assert_nonnull (strstr (transcript, "SMTP:"));
    g_assert_null (strstr (transcript, ENVOI_TEST_POP_PASSWORD));
  }

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_panel_pop_wrong_password (void)
{
  GtkWidget *dialog;
  g_autofree char *shown = NULL;

  reset_settings ();
  mark_popauth ();
  dialog = popauth_dialog ("not-the-password");

  g_assert_cmpint (run (dialog, "send_button"), ==, ENVOI_TEST_PANEL_FAILED);
  shown = result_text (dialog);
  g_assert_nonnull (strstr (shown, "The POP3 login before sending failed"));
  g_assert_nonnull (strstr (shown, "nothing was sent over SMTP"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_panel_imap (void)
{
  GtkWidget *dialog;
  g_autofree char *imap_port = port_text ("ENVOI_TEST_IMAP_PORT");
  g_autofree char *shown = NULL;

  reset_settings ();
  dialog = new_dialog ();
  type (dialog, "address_row", "envoi-test@example.org");
  type (dialog, "username_row", ENVOI_TEST_USER);
  type (dialog, "host_row", "smtp.example.org");
  type (dialog, "port_row", "587");
  type (dialog, "password_row", "the-smtp-password");
  g_assert_false (gtk_widget_get_visible (find (dialog, "imap_button")));
  type (dialog, "imap_host_row", "127.0.0.1");
  choose (dialog, "imap_security_row", ENVOI_SECURITY_NONE);
  type (dialog, "imap_port_row", imap_port);
  type (dialog, "imap_password_row", ENVOI_TEST_IMAP_PASSWORD);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));

  /* Its own password, not the SMTP one; the folders listed and the \Sent one named. */
  g_assert_cmpint (run (dialog, "imap_button"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  shown = result_text (dialog);
  g_assert_nonnull (strstr (shown, "IMAP works"));
  g_assert_nonnull (strstr (shown, "INBOX"));
  g_assert_nonnull (strstr (shown, "Sent folder"));
  g_assert_nonnull (strstr (shown, dovecot_env ("ENVOI_TEST_DOVECOT_SENT")));
  g_clear_pointer (&shown, g_free);

  /* Without its own password the SMTP one is tried, and refused. */
  type (dialog, "imap_password_row", "");
  g_assert_cmpint (run (dialog, "imap_button"), ==, ENVOI_TEST_PANEL_FAILED);
  shown = result_text (dialog);
  g_assert_nonnull (strstr (shown, "The IMAP test failed"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_panel_http_send (void)
{
  GtkWidget *dialog;
  g_autofree char *url = g_strdup_printf ("https://localhost:%u/post/ok", h.sink_port);
  g_autofree char *shown = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *meta_path = g_build_filename (h.sink_dir, "1.meta", NULL);

  reset_settings ();
  dialog = new_dialog ();
  type (dialog, "address_row", "envoi-test@example.org");
  choose (dialog, "transport_row", ENVOI_TRANSPORT_HTTP_POST);
  type (dialog, "url_row", url);
  type (dialog, "key_row", ENVOI_TEST_API_KEY);
  type (dialog, "recipient_row", "someone@example.net");
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_EDITING);

  g_assert_cmpint (run (dialog, "send_button"), ==, ENVOI_TEST_PANEL_SUCCEEDED);
  shown = result_text (dialog);
  g_assert_nonnull (strstr (shown, "Test email sent"));
  g_assert_nonnull (strstr (shown, "200"));
  g_assert_true (g_file_get_contents (meta_path, &meta, NULL, NULL));
  g_assert_nonnull (strstr (meta, "path /post/ok"));
  g_assert_nonnull (strstr (meta, "someone@example.net"));
  g_clear_pointer (&shown, g_free);

  /* A wrong key is the provider's refusal, shown as a failed login. */
  type (dialog, "key_row", "wrong-key");
  g_assert_cmpint (run (dialog, "send_button"), ==, ENVOI_TEST_PANEL_FAILED);

  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* ---- harness ------------------------------------------------------------------------------- */

static GSubprocess *
start_script (const char  *name,
              const char  *dir)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, name, NULL);
  g_autofree char *cert = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.pem", NULL);
  g_autofree char *key = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.key", NULL);
  g_autofree char *ready = g_build_filename (dir, "ready", NULL);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  /* Silenced: a server left running after a failed test must not hold the test's output. */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error, "/usr/bin/python3", script,
                              "--dir", dir, "--cert", cert, "--key", key, NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 800 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (25 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));

  return process;
}

static void
start_servers (void)
{
  g_autofree char *env_path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *port_path = NULL;
  g_autofree char *port = NULL;
  g_auto(GStrv) lines = NULL;

  h.dovecot_dir = g_build_filename (envoi_test_env ("ENVOI_TEST_DIR"), "dovecot-incoming-group", NULL);
  h.dovecot = start_script ("dovecot.py", h.dovecot_dir);
  env_path = g_build_filename (h.dovecot_dir, "env", NULL);
  g_assert_true (g_file_get_contents (env_path, &contents, NULL, NULL));
  h.env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (lines[i], "=", 2);

      if (g_strv_length (kv) == 2)
        g_hash_table_insert (h.env, g_strdup (kv[0]), g_shell_unquote (kv[1], NULL));
    }

  /* The sink's certificate is from the session's test CA. */
  envoi_test_env (ENVOI_SMTP_CA_FILE_ENV);
  h.sink_dir = g_build_filename (envoi_test_env ("ENVOI_TEST_DIR"), "http-sink-incoming-group", NULL);
  h.sink = start_script ("http-sink.py", h.sink_dir);
  port_path = g_build_filename (h.sink_dir, "port", NULL);
  g_assert_true (g_file_get_contents (port_path, &port, NULL, NULL));
  h.sink_port = (guint) g_ascii_strtoull (port, NULL, 10);
}

static void
stop (GSubprocess **process)
{
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  h.store = envoi_account_store_new ();
  start_servers ();

  g_test_add_func ("/envoi/incoming-group/round-trip", test_round_trip);
  g_test_add_func ("/envoi/incoming-group/http-round-trip", test_http_round_trip);
  g_test_add_func ("/envoi/incoming-group/validation", test_validation);
  g_test_add_func ("/envoi/incoming-group/panel-pop-before-smtp", test_panel_pop_before_smtp);
  g_test_add_func ("/envoi/incoming-group/panel-pop-wrong-password", test_panel_pop_wrong_password);
  g_test_add_func ("/envoi/incoming-group/panel-imap", test_panel_imap);
  g_test_add_func ("/envoi/incoming-group/panel-http-send", test_panel_http_send);

  status = g_test_run ();

  stop (&h.dovecot);
  stop (&h.sink);
  g_clear_object (&h.store);
  g_hash_table_unref (h.env);
  g_free (h.dovecot_dir);
  g_free (h.sink_dir);

  return status;
}

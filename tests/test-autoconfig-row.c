/* test-autoconfig-row.c: “Find Settings” in a real account dialog under Xvfb: the form fills
 * only when the person confirms, then the server's EHLO picks the login method. Against
 * tests/autoconfig-httpd.py and the session's SMTP listeners.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

#include "autoconfig-httpd.h"
#include "envoi-account-dialog.h"
#include "envoi-autoconfig-row.h"
#include "envoi-test-helpers.h"

static AutoconfigHttpd httpd;
static EnvoiAccountStore *store;

/* A resolver with no records at all: no DNS server exists on these machines. */
#define TEST_TYPE_EMPTY_RESOLVER (test_empty_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestEmptyResolver, test_empty_resolver, TEST, EMPTY_RESOLVER, GResolver)

struct _TestEmptyResolver
{
  GResolver parent_instance;
};

G_DEFINE_FINAL_TYPE (TestEmptyResolver, test_empty_resolver, G_TYPE_RESOLVER)

static void
empty_lookup_records_async (GResolver           *resolver,
                            const char          *rrname,
                            GResolverRecordType  type,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "No DNS record for “%s”", rrname);
}

static GList *
empty_lookup_records_finish (GResolver     *resolver,
                             GAsyncResult  *result,
                             GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_empty_resolver_class_init (TestEmptyResolverClass *klass)
{
  G_RESOLVER_CLASS (klass)->lookup_records_async = empty_lookup_records_async;
  G_RESOLVER_CLASS (klass)->lookup_records_finish = empty_lookup_records_finish;
}

static void
test_empty_resolver_init (TestEmptyResolver *self)
{
}

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

static guint
selected (gpointer    dialog,
          const char *row)
{
  return adw_combo_row_get_selected (ADW_COMBO_ROW (child (dialog, row)));
}

typedef struct
{
  EnvoiAutoconfigRow      *row;
  EnvoiAutoconfigRowState  state;
} Awaited;

static gboolean
in_state (gpointer data)
{
  Awaited *awaited = data;

  return envoi_autoconfig_row_get_state (awaited->row) == awaited->state;
}

static void
wait_for_state (EnvoiAutoconfigRow      *row,
                EnvoiAutoconfigRowState  state)
{
  Awaited awaited = { row, state };

  g_assert_true (envoi_test_wait_until (in_state, &awaited, 30));
}

/* A new-account dialog whose row asks only the local server. */
static EnvoiAccountDialog *
make_dialog (EnvoiAutoconfigRow **row)
{
  EnvoiAccountDialog *dialog = envoi_account_dialog_new (NULL, store, NULL);
  g_auto(GStrv) connect_to = autoconfig_httpd_connect_to (&httpd);
  g_autoptr(GResolver) resolver = g_object_new (TEST_TYPE_EMPTY_RESOLVER, NULL);
  const char *no_hosts[] = { NULL };

  *row = ENVOI_AUTOCONFIG_ROW (child (dialog, "autoconfig_row"));
  g_object_set (envoi_autoconfig_row_get_autoconfig (*row),
                "connect-to", connect_to,
                "ca-file", httpd.ca_file,
                "ispdb-url", "https://ispdb.test/v1.1/",
                "resolver", resolver,
                "probe-hosts", no_hosts,
                "stage-timeout", 5u,
                NULL);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
test_fills_only_after_confirmation (void)
{
  EnvoiAutoconfigRow *row = NULL;
  EnvoiAccountDialog *dialog = make_dialog (&row);
  guint16 tls_port = envoi_test_env_port ("ENVOI_TEST_SMTP_TLS_PORT");
  g_autofree char *port = g_strdup_printf ("%u", tls_port);
  g_autofree char *expected = NULL;
  const char *subtitle;

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (row)));
  g_assert_cmpint (envoi_autoconfig_row_get_state (row), ==, ENVOI_AUTOCONFIG_ROW_IDLE);

  /* A complete address and an empty server: the search starts on its own after a pause. */
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, "address_row")), "jane@widget.test");
  wait_for_state (row, ENVOI_AUTOCONFIG_ROW_SEARCHING);
  wait_for_state (row, ENVOI_AUTOCONFIG_ROW_FOUND);

  expected = g_strdup_printf ("localhost, port %u, SSL/TLS\n"
                              "Found on the configuration server of widget.test", tls_port);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, expected);

  /* Found, shown, and the form is untouched. */
  envoi_test_spin (300);
  g_assert_cmpstr (text (dialog, "host_row"), ==, "");
  g_assert_cmpstr (text (dialog, "port_row"), ==, "587");
  g_assert_cmpuint (selected (dialog, "security_row"), ==, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpuint (selected (dialog, "auth_row"), ==, ENVOI_AUTH_METHOD_AUTOMATIC);

  /* “Use These Settings”. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (row), "autoconfig.use", NULL));
  g_assert_cmpstr (text (dialog, "host_row"), ==, "localhost");
  g_assert_cmpstr (text (dialog, "port_row"), ==, port);
  g_assert_cmpuint (selected (dialog, "security_row"), ==, ENVOI_SECURITY_TLS);
  g_assert_cmpstr (text (dialog, "username_row"), ==, "");

  /* Then the server's EHLO picks the login method, and the row says so. */
  wait_for_state (row, ENVOI_AUTOCONFIG_ROW_APPLIED);
  g_assert_cmpuint (selected (dialog, "auth_row"), ==, ENVOI_AUTH_METHOD_PLAIN);
  subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Filled in with localhost, port %u, SSL/TLS. The server offers ",
                              tls_port);
  g_assert_true (g_str_has_prefix (subtitle, expected));
  g_assert_true (g_str_has_suffix (subtitle, "; the method is set to PLAIN."));
  g_assert_nonnull (strstr (subtitle, "PLAIN"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_hostile_answer_leaves_form (void)
{
  EnvoiAutoconfigRow *row = NULL;
  EnvoiAccountDialog *dialog = make_dialog (&row);

  gtk_editable_set_text (GTK_EDITABLE (child (dialog, "address_row")), "a@socket.test");
  wait_for_state (row, ENVOI_AUTOCONFIG_ROW_FAILED);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "No settings were found for socket.test. The answer from "
                   "autoconfig.socket.test cannot be used: Line 10: The connection security "
                   "“TLS1.3” is unknown (expected SSL, STARTTLS or plain).");
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (row), "autoconfig.use", NULL) &&
                  *text (dialog, "host_row") != '\0');
  g_assert_cmpstr (text (dialog, "host_row"), ==, "");
  g_assert_cmpstr (text (dialog, "port_row"), ==, "587");

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_cancel_leaves_form (void)
{
  EnvoiAutoconfigRow *row = NULL;
  EnvoiAccountDialog *dialog = make_dialog (&row);

  /* The server field is not empty: nothing starts on its own; the button does. */
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, "host_row")), "smtp.typed.test");
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, "address_row")), "a@slow.test");
  envoi_test_spin (1500);
  g_assert_cmpint (envoi_autoconfig_row_get_state (row), ==, ENVOI_AUTOCONFIG_ROW_IDLE);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (row), "autoconfig.find", NULL));
  g_assert_cmpint (envoi_autoconfig_row_get_state (row), ==, ENVOI_AUTOCONFIG_ROW_SEARCHING);
  envoi_test_spin (200);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (row), "autoconfig.cancel", NULL));
  g_assert_cmpint (envoi_autoconfig_row_get_state (row), ==, ENVOI_AUTOCONFIG_ROW_IDLE);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "Stopped. The form was left as it was.");
  envoi_test_spin (300);
  g_assert_cmpint (envoi_autoconfig_row_get_state (row), ==, ENVOI_AUTOCONFIG_ROW_IDLE);
  g_assert_cmpstr (text (dialog, "host_row"), ==, "smtp.typed.test");

  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_hidden_when_editing (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("existing");
  EnvoiAccountDialog *dialog;

  g_object_set (account, "address", "a@good.test", "host", "smtp.good.test", NULL);
  dialog = envoi_account_dialog_new (NULL, store, account);
  g_assert_false (gtk_widget_get_visible (child (dialog, "autoconfig_row")));
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

  autoconfig_httpd_start (&httpd);
  store = envoi_account_store_new ();

  g_test_add_func ("/envoi/autoconfig-row/fills-only-after-confirmation",
                   test_fills_only_after_confirmation);
  g_test_add_func ("/envoi/autoconfig-row/hostile-answer-leaves-form",
                   test_hostile_answer_leaves_form);
  g_test_add_func ("/envoi/autoconfig-row/cancel-leaves-form", test_cancel_leaves_form);
  g_test_add_func ("/envoi/autoconfig-row/hidden-when-editing", test_hidden_when_editing);

  ret = g_test_run ();
  g_clear_object (&store);
  autoconfig_httpd_stop (&httpd);
  return ret;
}

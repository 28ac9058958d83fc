/* screenshot-tool.c: renders Envoi's windows in a given state to PNG files, for looking at
 * every screen in every language (tests/take-screenshots.sh)
 *
 *   screenshot-tool SCENE OUTPUT.png
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <locale.h>

#include "autoconfig-httpd.h"
#include "envoi-account-dialog.h"
#include "envoi-application.h"
#include "envoi-history.h"
#include "envoi-incoming-group.h"
#include "envoi-preset-catalog.h"
#include "envoi-preset-catalog.h"
#include "envoi-quick-setup-window.h"
#include "envoi-sender-dbus.h"
#include "envoi-test-goa.h"
#include "envoi-test-gui.h"
#include "envoi-test-helpers.h"
#include "envoi-test-panel.h"
#include "envoi-transport-group.h"
#include "envoi-window.h"

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static void
save_png (GtkWidget  *window,
          const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    g_error ("Could not write %s", path);
}

static void
type (gpointer    dialog,
      const char *row,
      const char *text)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG, row);

  gtk_editable_set_text (GTK_EDITABLE (object), text);
}

/* One page of the editor: account, server, mailboxes, delivery, test. */
static void
show_page (gpointer    dialog,
           const char *name)
{
  GObject *stack = gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG,
                                                  "view_stack");

  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (stack), name);
}

/* A row of one of the dialog's groups. */
static GObject *
group_child (gpointer    dialog,
             const char *group,
             GType       group_type,
             const char *row)
{
  GObject *owner = gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG, group);

  return gtk_widget_get_template_child (GTK_WIDGET (owner), group_type, row);
}

static void
type_in_group (gpointer    dialog,
               const char *group,
               GType       group_type,
               const char *row,
               const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (group_child (dialog, group, group_type, row)), text);
}

static void
select_preset (gpointer    dialog,
               const char *id)
{
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  AdwComboRow *row = ADW_COMBO_ROW (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                                   ENVOI_TYPE_ACCOUNT_DIALOG,
                                                                   "provider_row"));

  for (guint i = 0; i < g_list_model_get_n_items (presets); i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);

      if (g_str_equal (envoi_preset_get_id (preset), id))
        adw_combo_row_set_selected (row, i + 1);
    }
}

static void
add_account (EnvoiAccountStore *store,
             const char        *id,
             const char        *address,
             const char        *name,
             const char        *host,
             guint              port,
             EnvoiSecurity      security)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new (id);

  g_object_set (account, "address", address, "display-name", name, "host", host,
                "port", port, "security", security, NULL);
  envoi_account_store_add (store, account);
}

/* Hands a message to the real sender, which the session bus starts from the build tree. */
static void
submit_message (const char *account_id,
                const char *to)
{
  g_autoptr(EnvoiDBusSender1) sender = NULL;
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *message = g_strdup_printf ("To: %s\r\nSubject: Rapport\r\n\r\nBonjour.\r\n", to);
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  GVariantBuilder options;
  int fd;

  sender = envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_NONE,
                                                      SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                      NULL, &error);
  if (sender == NULL)
    g_error ("%s", error->message);

  fd = g_file_open_tmp ("envoi-shot-XXXXXX", &path, &error);
  if (fd < 0 || write (fd, message, strlen (message)) != (gssize) strlen (message))
    g_error ("Could not write the message");
  lseek (fd, 0, SEEK_SET);
  g_unix_fd_list_append (fds, fd, NULL);
  close (fd);
  g_unlink (path);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "account", g_variant_new_string (account_id));
  g_variant_builder_add (&options, "{sv}", "extract-recipients", g_variant_new_boolean (TRUE));
  if (!envoi_dbus_sender1_call_submit_sync (sender, g_variant_new_handle (0),
                                            g_variant_builder_end (&options), fds, &id, NULL,
                                            NULL, &error))
    g_error ("%s", error->message);
}

/* A history as a week of scripts leaves it, written where the sender reads it. */
static void
fill_history (void)
{
  g_autoptr(EnvoiHistory) history = envoi_history_new (NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  static const struct
  {
    gint64      age;
    const char *outcome;
    const char *to;
    const char *subject;
    const char *reply;
  } records[] = {
    { 3 * 86400, "sent", "equipe@example.fr", "Rapport hebdomadaire", "250 2.0.0 Ok: queued as 4XkLmQ1" },
    { 26 * 3600, "cancelled", "test@example.org", "Test", "" },
    { 5 * 3600, "failed", "personne@example.org", "Facture 2026-118",
      "The server refused the recipient: 550 5.1.1 <personne@example.org>: Recipient address rejected" },
    { 3 * 3600, "sent", "admin@example.jp", "バックアップ報告 — nas01", "250 2.0.0 Ok: queued as 4XkN2Zp" },
    { 40 * 60, "expired", "alerts@example.net", "Disk almost full on nas01",
      "Gave up after 12 attempts: Could not connect to mx.example.net: Connection refused" },
    { 4 * 60, "sent", "jean.dupont@example.fr", "Sauvegarde terminée", "250 2.0.0 Ok: queued as 4XkP7Rt" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (records); i++)
    {
      g_autoptr(EnvoiHistoryRecord) record = envoi_history_record_new ();
      const char *to[] = { records[i].to, NULL };

      record->time = now - records[i].age;
      g_free (record->queue_id);
      record->queue_id = g_strdup_printf ("0662%04u0000000-00000%03u", i, i);
      g_free (record->account_id);
      record->account_id = g_strdup ("work");
      g_free (record->outcome);
      record->outcome = g_strdup (records[i].outcome);
      g_free (record->from);
      record->from = g_strdup ("jean.dupont@example.fr");
      g_strfreev (record->recipients);
      record->recipients = g_strdupv ((char **) to);
      g_free (record->subject);
      record->subject = g_strdup (records[i].subject);
      g_free (record->message_id);
      record->message_id = g_strdup_printf ("%u.17650%u@nas01.example.fr", 4100 + i, i);
      record->size = 1800 + 733 * i;
      record->attempts = g_str_equal (records[i].outcome, "expired") ? 12 : 1;
      g_free (record->reply);
      record->reply = g_strdup (records[i].reply);
      envoi_history_add_async (history, record, -1, 0, 0, NULL, NULL);
    }
  envoi_history_flush (history);
}

static void
quick_type (GtkWidget  *window,
            const char *row,
            const char *text)
{
  GObject *object = gtk_widget_get_template_child (window, ENVOI_TYPE_QUICK_SETUP_WINDOW, row);

  gtk_editable_set_text (GTK_EDITABLE (object), text);
}

/* Waits (at most 30 s) until the quick setup shows @page, and for "form" its problem. */
static void
quick_wait_for (GtkWidget  *window,
                const char *page)
{
  GtkStack *stack = GTK_STACK (gtk_widget_get_template_child (window, ENVOI_TYPE_QUICK_SETUP_WINDOW, "stack"));
  GtkWidget *problem = GTK_WIDGET (gtk_widget_get_template_child (window, ENVOI_TYPE_QUICK_SETUP_WINDOW, "problem_box"));
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      if (g_str_equal (gtk_stack_get_visible_child_name (stack), page) &&
          (!g_str_equal (page, "form") || gtk_widget_get_visible (problem)))
        return;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  g_error ("The quick setup never showed its %s page", page);
}

/* The first view of Add Account: as typed with online accounts below; signing in (to a
 * server that never answers); refused (a wrong password); ready. The ISPDB is
 * tests/autoconfig-httpd.py on loopback, the servers the session's. */
static GtkWidget *
quick_setup_scene (EnvoiAccountStore *store,
                   const char        *scene,
                   AutoconfigHttpd   *httpd)
{
  GtkWidget *window;

  if (g_str_equal (scene, "quick-first"))
    {
      envoi_test_goa_clear ();
      envoi_test_goa_add_oauth2_account ("account_1700000200_1", "google",
                                         "jean.dupont@gmail.com", "ya29.unused", NULL, 3600);
      envoi_test_goa_add_password_account ("account_1700000200_0", "jean.dupont",
                                           "jean.dupont@example.fr", 587, "unused");
      envoi_test_goa_start ();
    }
  else
    {
      g_autoptr(GSettings) settings = g_settings_new ("io.github.envoimail.Envoi");
      g_autofree char *url = NULL;

      autoconfig_httpd_start (httpd);
      url = g_strdup_printf ("http://127.0.0.1:%s/v1.1/", httpd->http_port);
      g_settings_set_string (settings, "ispdb-url", url);
    }

  window = GTK_WIDGET (envoi_quick_setup_window_new (NULL, store));
  gtk_window_present (GTK_WINDOW (window));
  quick_type (window, "name_row", "Jean Dupont");
  if (g_str_equal (scene, "quick-first"))
    {
      quick_type (window, "address_row", "jean.dupont@example.fr");
      quick_type (window, "password_row", "abcd efgh ijkl mnop");
      envoi_test_spin (1500);
      return window;
    }

  quick_type (window, "address_row", g_str_equal (scene, "quick-progress")
                                     ? "envoi-test@quickstall.test"
                                     : g_str_equal (scene, "quick-untrusted")
                                     ? "envoi-test@quickuntrusted.test" : "envoi-test@quick.test");
  quick_type (window, "password_row", g_str_equal (scene, "quick-ready")
                                      ? ENVOI_TEST_PASSWORD : "abcd efgh ijkl mnop");
  gtk_widget_activate_action (window, "setup.continue", NULL);
  if (g_str_equal (scene, "quick-progress"))
    {
      GtkLabel *status = GTK_LABEL (gtk_widget_get_template_child (window, ENVOI_TYPE_QUICK_SETUP_WINDOW, "status_label"));
      gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

      /* "Signing in to localhost…", in any language. */
      while (strstr (gtk_label_get_text (status), "localhost") == NULL &&
             g_get_monotonic_time () < end)
        g_main_context_iteration (NULL, TRUE);
    }
  else if (g_str_equal (scene, "quick-failure") || g_str_equal (scene, "quick-untrusted"))
    quick_wait_for (window, "form");
  else
    quick_wait_for (window, "ready");
  return window;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(EnvoiApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiAccountStore *store;
  GtkWidget *shown = NULL;
  AutoconfigHttpd httpd = { NULL, };
  const char *scene;
  const char *localedir = g_getenv ("ENVOI_LOCALEDIR");

  if (argc != 3)
    {
      g_printerr ("usage: %s main-empty|main-accounts|main-queue|dialog-window|dialog-new|dialog-preset|dialog-invalid"
                  "|dialog-incoming|dialog-http|dialog-goa|dialog-page-account|dialog-page-server"
                  "|dialog-page-pop|dialog-page-imap|dialog-page-delivery|dialog-page-test|dialog-test-untrusted|history-empty|history-filled|history-expanded"
                  "|history-searched|quick-first|quick-progress|quick-failure"
                  "|quick-untrusted|quick-ready OUTPUT.png\n", argv[0]);
      return 64;
    }
  scene = argv[1];
  /* tests/autoconfig-httpd.c finds its script through GTest (G_TEST_SRCDIR); nothing else here
   * is a test, so log levels stay as they were. */
  if (g_str_has_prefix (scene, "quick"))
    {
      GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);

      g_test_init (&argc, &argv, NULL);
      g_log_set_always_fatal (fatal);
    }

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* The queue scene shares its settings with the real sender through the session's keyfile. */
  g_setenv ("GSETTINGS_BACKEND", g_str_equal (scene, "main-queue") ? "keyfile" : "memory", TRUE);

  gtk_init ();
  adw_init ();

  app = envoi_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  /* Non-unique, so the primary instance: registering runs "startup". */
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("%s", error->message);
  store = envoi_application_get_account_store (app);

  if (g_str_has_prefix (scene, "quick"))
    {
      shown = quick_setup_scene (store, scene, &httpd);
    }
  else if (g_str_has_prefix (scene, "main"))
    {
      if (g_str_equal (scene, "main-queue"))
        {
          g_autoptr(EnvoiAccount) refused = envoi_account_new ("refused");

          envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));
          g_object_set (refused, "address", "rapports@example.fr", "display-name", "Rapports",
                        "host", "127.0.0.1",
                        "port", (guint) envoi_test_env_port ("ENVOI_TEST_SMTP_RCPT550_PORT"),
                        "security", ENVOI_SECURITY_NONE,
                        "auth-method", ENVOI_AUTH_METHOD_NONE, NULL);
          envoi_account_store_add (store, refused);
          add_account (store, "work", "jean.dupont@example.fr", "Jean Dupont",
                       "127.0.0.1", envoi_test_env_port ("ENVOI_TEST_SMTP_RCPT451_PORT"),
                       ENVOI_SECURITY_NONE);
          g_object_set (envoi_account_store_lookup (store, "work"),
                        "auth-method", ENVOI_AUTH_METHOD_NONE, NULL);
          envoi_account_save (envoi_account_store_lookup (store, "work"));
          submit_message ("refused", "personne@example.org");
          submit_message ("work", "equipe@example.fr");
          envoi_test_spin (2000);
        }
      else if (g_str_equal (scene, "main-accounts"))
        {
          /* The sender running, as people have it: an empty queue, not "not installed". */
          envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));
          add_account (store, "work", "jean.dupont@example.fr", "Jean Dupont",
                       "smtp.example.fr", 587, ENVOI_SECURITY_STARTTLS);
          add_account (store, "alerts", "alerts@example.jp", "", "smtp.fastmail.com", 465,
                       ENVOI_SECURITY_TLS);
          add_account (store, "relay", "backup@nas.example.org", "山田 太郎", "", 587,
                       ENVOI_SECURITY_STARTTLS);
        }
      shown = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), envoi_application_get_account_store (app)));
    }
  else if (g_str_has_prefix (scene, "history"))
    {
      EnvoiHistoryView *view;

      envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));
      if (!g_str_equal (scene, "history-empty"))
        fill_history ();
      add_account (store, "work", "jean.dupont@example.fr", "Jean Dupont",
                   "smtp.example.fr", 587, ENVOI_SECURITY_STARTTLS);
      shown = GTK_WIDGET (envoi_window_new (GTK_APPLICATION (app), envoi_application_get_account_store (app)));
      view = envoi_window_show_history (ENVOI_WINDOW (shown));
      gtk_window_present (GTK_WINDOW (shown));
      envoi_test_spin (1000);
      if (g_str_equal (scene, "history-expanded"))
        envoi_history_view_expand_first (view);
      else if (g_str_equal (scene, "history-searched"))
        envoi_history_view_set_search (view, "example.org");
    }
  else
    {
      EnvoiAccountDialog *dialog;

      /* Two online accounts in GOA, the real goa-daemon serving them. */
      if (g_str_equal (scene, "dialog-goa"))
        {
          envoi_test_goa_clear ();
          envoi_test_goa_add_password_account ("account_1700000200_0", "jean.dupont",
                                               "jean.dupont@example.fr", 587, "unused");
          envoi_test_goa_add_oauth2_account ("account_1700000200_1", "google",
                                             "jean.dupont@gmail.com", "ya29.unused", NULL, 3600);
          envoi_test_goa_start ();
        }
      dialog = envoi_account_dialog_new (NULL, store, NULL);

      /* Every scene is the size people get: each page of the editor fits it
       * (tests/test-dialog-pages.c). "dialog-page-NAME" is a whole account, on page NAME. */
      if (g_str_equal (scene, "dialog-window"))
        scene = "dialog-preset";
      if (g_str_has_prefix (scene, "dialog-page-"))
        {
          GType incoming = ENVOI_TYPE_INCOMING_GROUP;

          type (dialog, "address_row", "jean.dupont@example.fr");
          type (dialog, "name_row", "Jean Dupont");
          type (dialog, "reply_to_row", "contact@example.fr");
          type (dialog, "host_row", "smtp.example.fr");
          type (dialog, "port_row", "587");
          type (dialog, "password_row", "abcd efgh ijkl mnop");
          envoi_test_type_in_delivery (dialog, "bcc_row", "archives@example.fr");
          envoi_test_type_in_delivery (dialog, "notify_row", "admin@example.fr");
          gtk_switch_set_active (GTK_SWITCH (group_child (dialog, "incoming_group", incoming, "pop_switch")), TRUE);
          type_in_group (dialog, "incoming_group", incoming, "pop_host_row", "pop.example.fr");
          type_in_group (dialog, "incoming_group", incoming, "imap_host_row", "imap.example.fr");
          gtk_switch_set_active (GTK_SWITCH (group_child (dialog, "incoming_group", incoming, "save_copy_switch")), TRUE);
          type_in_group (dialog, "incoming_group", incoming, "sent_folder_row", "Éléments envoyés");
          show_page (dialog, scene + strlen ("dialog-page-"));
        }
      else if (g_str_equal (scene, "dialog-test-untrusted"))
        {
          /* The connection test against the session's self-signed listener, on the Test page. */
          g_autofree char *port = g_strdup_printf ("%u", envoi_test_env_port ("ENVOI_TEST_SMTP_UNTRUSTED_PORT"));
          GObject *panel = gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG,
                                                          "test_panel");

          type (dialog, "address_row", "jean.dupont@example.fr");
          type (dialog, "name_row", "Jean Dupont");
          type (dialog, "host_row", "localhost");
          adw_combo_row_set_selected (ADW_COMBO_ROW (gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG, "security_row")),
                                      ENVOI_SECURITY_TLS);
          type (dialog, "port_row", port);
          type (dialog, "username_row", ENVOI_TEST_USER);
          type (dialog, "password_row", ENVOI_TEST_PASSWORD);
          envoi_account_dialog_validate_now (dialog);
          show_page (dialog, "test");
          gtk_window_present (GTK_WINDOW (dialog));
          gtk_widget_activate_action (GTK_WIDGET (panel), "test-panel.test-connection", NULL);
          for (gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
               g_get_monotonic_time () < end &&
               envoi_test_panel_get_state (ENVOI_TEST_PANEL (panel)) != ENVOI_TEST_PANEL_FAILED;)
            g_main_context_iteration (NULL, FALSE);
        }
      else if (g_str_equal (scene, "dialog-preset"))
        {
          type (dialog, "address_row", "jean.dupont@gmail.com");
          type (dialog, "name_row", "Jean Dupont");
          select_preset (dialog, "gmail");
          type (dialog, "password_row", "abcd efgh ijkl mnop");
        }
      else if (g_str_equal (scene, "dialog-invalid"))
        {
          type (dialog, "address_row", "jean.dupont");
          type (dialog, "name_row", "Jean Dupont");
          type (dialog, "host_row", "smtp.example.fr:587");
          type (dialog, "port_row", "70000");
          adw_combo_row_set_selected (ADW_COMBO_ROW (gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG, "security_row")),
                                      ENVOI_SECURITY_NONE);
          envoi_test_type_in_delivery (dialog, "notify_row", "ops@example.fr, nobody");
          /* A Save attempt: every reason shows, and the pages with one are marked. */
          gtk_widget_activate_action (GTK_WIDGET (dialog), "dialog.save", NULL);
          show_page (dialog, "server");
        }
      else if (g_str_equal (scene, "dialog-incoming"))
        {
          GType incoming = ENVOI_TYPE_INCOMING_GROUP;

          type (dialog, "address_row", "jean.dupont@example.fr");
          type (dialog, "name_row", "Jean Dupont");
          type (dialog, "host_row", "smtp.example.fr");
          type (dialog, "port_row", "587");
          type (dialog, "password_row", "abcd efgh ijkl mnop");
          gtk_switch_set_active (GTK_SWITCH (group_child (dialog, "incoming_group", incoming, "pop_switch")), TRUE);
          type_in_group (dialog, "incoming_group", incoming, "pop_host_row", "pop.example.fr");
          type_in_group (dialog, "incoming_group", incoming, "imap_host_row", "imap.example.fr");
          /* A clear-text POP3 login across the network: the reason shows under the row. */
          adw_combo_row_set_selected (ADW_COMBO_ROW (group_child (dialog, "incoming_group", incoming, "pop_security_row")),
                                      ENVOI_SECURITY_NONE);
          gtk_switch_set_active (GTK_SWITCH (group_child (dialog, "incoming_group", incoming, "save_copy_switch")), TRUE);
          type_in_group (dialog, "incoming_group", incoming, "sent_folder_row", "Éléments envoyés");
          show_page (dialog, "pop");
        }
      else if (g_str_equal (scene, "dialog-http"))
        {
          GType transport = ENVOI_TYPE_TRANSPORT_GROUP;

          type (dialog, "address_row", "lettre@mg.example.fr");
          type (dialog, "name_row", "Lettre d’information");
          adw_combo_row_set_selected (ADW_COMBO_ROW (group_child (dialog, "transport_group", transport, "transport_row")),
                                      ENVOI_TRANSPORT_HTTP_MAILGUN);
          type_in_group (dialog, "transport_group", transport, "domain_row", "mg.example.fr");
          adw_combo_row_set_selected (ADW_COMBO_ROW (group_child (dialog, "transport_group", transport, "region_row")),
                                      ENVOI_MAILGUN_REGION_EU);
          type_in_group (dialog, "transport_group", transport, "key_row", "key-0123456789abcdef");
          show_page (dialog, "server");
        }
      else if (g_str_equal (scene, "dialog-goa"))
        {
          EnvoiGoaChoice *choice = envoi_account_dialog_get_goa_choice (dialog);
          AdwComboRow *row = ADW_COMBO_ROW (gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG, "provider_row"));

          for (gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
               envoi_goa_choice_is_listing (choice) && g_get_monotonic_time () < end;)
            g_main_context_iteration (NULL, TRUE);
          for (guint i = 0; i < g_list_model_get_n_items (adw_combo_row_get_model (row)); i++)
            {
              EnvoiGoaAccount *account = envoi_goa_choice_get_account (choice, i);

              if (account != NULL && account->oauth2)
                adw_combo_row_set_selected (row, i);
            }
        }
      envoi_account_dialog_validate_now (dialog);
      shown = GTK_WIDGET (dialog);
    }

  gtk_window_present (GTK_WINDOW (shown));
  envoi_test_spin (1500);
  save_png (shown, argv[2]);
  gtk_window_destroy (GTK_WINDOW (shown));
  if (g_str_equal (scene, "dialog-goa") || g_str_equal (scene, "quick-first"))
    envoi_test_goa_stop ();
  if (httpd.process != NULL)
    autoconfig_httpd_stop (&httpd);

  return 0;
}

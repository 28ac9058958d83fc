/* test-goa.c: GNOME Online Accounts for real (goa-daemon on the session bus), and XOAUTH2
 * against a local SMTP server that checks the bearer token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-goa.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"
#include "envoi-test-helpers.h"

#define GOA_DAEMON "/usr/libexec/goa-daemon"
#define GOA_ID     "account_1700000000_0"
#define GOOD_TOKEN "ya29.fresh-token-for-envoi"
#define STALE_TOKEN "ya29.expired-token-for-envoi"
#define OAUTH_USER "oauth-user@example.com"

/* ---- helpers ------------------------------------------------------------------------------ */

static GSubprocess *
start_xoauth2_server (const char *dir,
                      guint16    *port)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "xoauth2-smtpd.py", NULL);
  g_autofree char *ready = g_build_filename (dir, "ready", NULL);
  g_autofree char *port_file = g_build_filename (dir, "port", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *server;

  /* A run before this one in the same session left its files: wait for this server's own. */
  g_unlink (ready);
  g_unlink (port_file);
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                             &error, "/usr/bin/python3", script,
                             "--dir", dir, "--user", OAUTH_USER, "--accept", GOOD_TOKEN, NULL);
  g_assert_no_error (error);
  for (guint i = 0; i < 200 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (50 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (port_file, &text, NULL, NULL));
  *port = (guint16) g_ascii_strtoull (text, NULL, 10);
  return server;
}

static GBytes *
make_message (const char *subject)
{
  g_autofree char *text = g_strdup_printf ("From: %s\r\nTo: to@example.net\r\nSubject: %s\r\n"
                                           "\r\nhello\r\n", OAUTH_USER, subject);

  return g_bytes_new (text, strlen (text));
}

static char *
send_with (EnvoiAccount  *account,
           const char    *secret,
           const char    *subject,
           GError       **error)
{
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, secret);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) message = make_message (subject);
  const char *recipients[] = { "to@example.net", NULL };

  envoi_smtp_client_send_async (client, envoi_account_get_address (account), recipients, message,
                                NULL, envoi_test_async_result_cb, &result);
  return envoi_smtp_client_send_finish (client, envoi_test_wait (&result), error);
}

static gboolean
folder_has_subject (const char *dir,
                    const char *subject)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;

      if (g_str_has_suffix (name, ".eml") && g_file_get_contents (path, &contents, NULL, NULL)
          && strstr (contents, subject) != NULL)
        return TRUE;
    }

  return FALSE;
}

static GPtrArray *
list_accounts (GDBusConnection *bus)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *accounts;

  envoi_goa_list_accounts_async (bus, NULL, envoi_test_async_result_cb, &result);
  accounts = envoi_goa_list_accounts_finish (envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (accounts);
  return accounts;
}

/* ---- XOAUTH2 ------------------------------------------------------------------------------ */

static void
test_xoauth2_bearer (void)
{
  /* A directory of this run's own: a session may run the suite twice (plain and sanitized). */
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "xoauth2-bearer-XXXXXX", NULL);
  g_autofree char *tokens_path = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(EnvoiAccount) account = envoi_account_new ("xoauth2");
  g_autoptr(GError) error = NULL;
  guint16 port;

  g_assert_cmpint (g_mkdir_with_parents (g_get_user_cache_dir (), 0700), ==, 0);
  g_assert_nonnull (g_mkdtemp (dir));
  tokens_path = g_build_filename (dir, "tokens", NULL);
  messages = g_build_filename (dir, "messages", NULL);

  server = start_xoauth2_server (dir, &port);
  g_object_set (account,
                "address", OAUTH_USER,
                "host", "127.0.0.1",
                "port", (guint) port,
                "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_XOAUTH2,
                NULL);

  reply = send_with (account, GOOD_TOKEN, "bearer-accepted", &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_true (folder_has_subject (messages, "bearer-accepted"));

  /* An expired token: the server's 334 JSON challenge, then 535, is an authentication failure. */
  g_clear_pointer (&reply, g_free);
  reply = send_with (account, STALE_TOKEN, "bearer-refused", &error);
  g_assert_null (reply);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
  g_assert_true (envoi_smtp_error_should_pause_account (error));
  g_assert_false (folder_has_subject (messages, "bearer-refused"));

  /* The server saw exactly those two tokens, for that user. */
  g_assert_true (g_file_get_contents (tokens_path, &tokens, NULL, NULL));
  g_assert_cmpstr (tokens, ==, OAUTH_USER " " GOOD_TOKEN "\n" OAUTH_USER " " STALE_TOKEN "\n");

  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
}

/* ---- GOA absent --------------------------------------------------------------------------- */

static void
test_absent (void)
{
  g_autoptr(GTestDBus) dbus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *session = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));

  /* A bus with no service files at all: GOA can be neither found nor started. */
  g_test_dbus_up (dbus);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session, TRUE);
  bus = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (dbus),
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, &error);
  g_assert_no_error (error);

  accounts = list_accounts (bus);
  g_assert_cmpuint (accounts->len, ==, 0);

  g_dbus_connection_close_sync (bus, NULL, NULL);
  g_test_dbus_down (dbus);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session, TRUE);
}

/* ---- the real goa-daemon ------------------------------------------------------------------ */

static GSubprocess *goa_daemon;

/* GOA's own keyring item for a password account: its schema, "<provider>:gen<n>:<id>", and a
 * serialized a{sv} of the passwords. */
static void
store_goa_credentials (const char *id,
                       const char *password)
{
  static const SecretSchema goa_schema = {
    "org.gnome.OnlineAccounts", SECRET_SCHEMA_DONT_MATCH_NAME,
    {
      { "goa-identity", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) credentials = NULL;
  g_autofree char *identity = g_strdup_printf ("imap_smtp:gen0:%s", id);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_builder_add (builder, "{sv}", "imap-password", g_variant_new_string (password));
  g_variant_builder_add (builder, "{sv}", "smtp-password", g_variant_new_string (password));
  credentials = g_variant_ref_sink (g_variant_builder_end (builder));
  text = g_variant_print (credentials, TRUE);

  secret_password_store_sync (&goa_schema, SECRET_COLLECTION_DEFAULT,
                              "GOA imap_smtp credentials for identity", text, NULL, &error,
                              "goa-identity", identity, NULL);
  g_assert_no_error (error);
  explicit_bzero (text, strlen (text));
}

static void
start_goa_daemon (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "goa-1.0", NULL);
  g_autofree char *path = g_build_filename (dir, "accounts.conf", NULL);
  g_autofree char *conf = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  gboolean owned = FALSE;

  conf = g_strdup_printf ("[Account %s]\n"
                          "Provider=imap_smtp\n"
                          "Identity=" ENVOI_TEST_USER "\n"
                          "PresentationIdentity=" ENVOI_TEST_USER "@example.com\n"
                          "Enabled=true\n"
                          "MailEnabled=true\n"
                          "EmailAddress=" ENVOI_TEST_USER "@example.com\n"
                          "Name=Envoi Tester\n"
                          "ImapHost=127.0.0.1:1\n"
                          "ImapUserName=" ENVOI_TEST_USER "\n"
                          "ImapUseSsl=false\n"
                          "ImapUseTls=false\n"
                          "ImapAcceptSslErrors=false\n"
                          "SmtpHost=127.0.0.1:%u\n"
                          "SmtpUseAuth=true\n"
                          "SmtpUserName=" ENVOI_TEST_USER "\n"
                          "SmtpAuthLogin=false\n"
                          "SmtpAuthPlain=true\n"
                          "SmtpUseSsl=false\n"
                          "SmtpUseTls=false\n"
                          "SmtpAcceptSslErrors=false\n",
                          GOA_ID, envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, conf, -1, &error);
  g_assert_no_error (error);
  store_goa_credentials (GOA_ID, ENVOI_TEST_PASSWORD);

  goa_daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                 &error, GOA_DAEMON, "--replace", NULL);
  g_assert_no_error (error);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 200 && !owned; i++)
    {
      g_autoptr(GVariant) reply = NULL;

      reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameHasOwner",
                                           g_variant_new ("(s)", "org.gnome.OnlineAccounts"),
                                           G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                           NULL, NULL);
      if (reply != NULL)
        g_variant_get (reply, "(b)", &owned);
      if (!owned)
        g_usleep (50 * 1000);
    }
  g_assert_true (owned);
}

static void
test_daemon (void)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *plain = NULL;
  EnvoiGoaAccount *goa;
  gboolean imported = FALSE;

  if (!g_file_test (GOA_DAEMON, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("goa-daemon is not installed (build-aux/install-deps.sh test installs it)");
      return;
    }

  start_goa_daemon ();

  /* Listing. */
  accounts = list_accounts (NULL);
  g_assert_cmpuint (accounts->len, ==, 1);
  goa = g_ptr_array_index (accounts, 0);
  g_assert_cmpstr (goa->id, ==, GOA_ID);
  g_assert_cmpstr (goa->provider_type, ==, "imap_smtp");
  g_assert_cmpstr (goa->presentation_identity, ==, ENVOI_TEST_USER "@example.com");
  g_assert_cmpstr (goa->email_address, ==, ENVOI_TEST_USER "@example.com");
  g_assert_cmpstr (goa->smtp_host, ==, "127.0.0.1");
  g_assert_cmpuint (goa->smtp_port, ==, envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"));
  g_assert_cmpstr (goa->smtp_user_name, ==, ENVOI_TEST_USER);
  g_assert_cmpint (goa->smtp_security, ==, ENVOI_SECURITY_NONE);
  g_assert_true (goa->password_based);
  g_assert_false (goa->oauth2);

  /* Import: server, user, and the password into Envoi's own keyring item. */
  envoi_goa_import_async (NULL, goa, store, NULL, envoi_test_async_result_cb, &result);
  account = envoi_goa_import_finish (envoi_test_wait (&result), &imported, &error);
  g_assert_no_error (error);
  g_assert_true (imported);
  g_assert_nonnull (envoi_account_store_lookup (store, envoi_account_get_id (account)));
  g_assert_cmpstr (envoi_account_get_host (account), ==, "127.0.0.1");
  g_assert_cmpstr (envoi_account_get_username (account), ==, ENVOI_TEST_USER);
  g_assert_cmpstr (envoi_account_get_display_name (account), ==, "Envoi Tester");
  g_assert_cmpstr (envoi_account_get_provider (account), ==, "");
  g_clear_object (&result);

  envoi_secret_lookup_async (account, ENVOI_SERVICE_SMTP, NULL, envoi_test_async_result_cb, &result);
  secret = envoi_secret_lookup_finish (envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);

  /* A send through the session's SMTP server with the imported account. */
  reply = send_with (account, secret, "imported-from-goa", &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  plain = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"), "plain", NULL);
  g_assert_true (folder_has_subject (plain, "imported-from-goa"));

  /* A password account has no token to give. */
  g_clear_object (&result);
  envoi_goa_get_access_token_async (NULL, GOA_ID, NULL, NULL, envoi_test_async_result_cb, &result);
  g_assert_null (envoi_goa_get_access_token_finish (envoi_test_wait (&result), NULL, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_clear_object (&result);
  envoi_goa_get_access_token_async (NULL, "account_removed", NULL, NULL,
                                    envoi_test_async_result_cb, &result);
  g_assert_null (envoi_goa_get_access_token_finish (envoi_test_wait (&result), NULL, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NO_ACCOUNT);

  g_subprocess_send_signal (goa_daemon, SIGTERM);
  g_subprocess_wait (goa_daemon, NULL, NULL);
  g_clear_object (&goa_daemon);
}

static void
test_provider_id (void)
{
  g_assert_cmpstr (envoi_goa_account_id_from_provider ("goa:account_1_0"), ==, "account_1_0");
  g_assert_null (envoi_goa_account_id_from_provider ("goa:"));
  g_assert_null (envoi_goa_account_id_from_provider ("gmail"));
  g_assert_null (envoi_goa_account_id_from_provider (""));
  g_assert_null (envoi_goa_account_id_from_provider (NULL));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/goa/provider-id", test_provider_id);
  g_test_add_func ("/envoi/goa/xoauth2-bearer", test_xoauth2_bearer);
  g_test_add_func ("/envoi/goa/absent", test_absent);
  g_test_add_func ("/envoi/goa/daemon-password-account", test_daemon);

  status = g_test_run ();
  if (goa_daemon != NULL)
    g_subprocess_force_exit (goa_daemon);
  return status;
}

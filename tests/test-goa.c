/* test-goa.c: GNOME Online Accounts for real (goa-daemon on the session bus), and XOAUTH2
 * against a local SMTP server that checks the bearer token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-agent-goa.h"
#include "envoi-goa.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"
#include "envoi-test-goa.h"
#include "envoi-test-helpers.h"

#define GOA_ID     "account_1700000000_0"
#define GOOD_TOKEN ENVOI_TEST_OAUTH_TOKEN "-fresh"
#define STALE_TOKEN ENVOI_TEST_OAUTH_TOKEN "-expired"
#define OAUTH_USER "oauth-user@example.com"
#define MICROSOFT_ID "account_1700000300_0"
#define MICROSOFT_USER "envoi.tester@outlook.com"

/* ---- helpers ------------------------------------------------------------------------------ */

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
  g_autofree char *dir = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(EnvoiAccount) account = envoi_account_new ("xoauth2");
  g_autoptr(GError) error = NULL;
  const char *accepted[] = { GOOD_TOKEN, NULL };
  guint16 port;

  server = envoi_test_xoauth2_start (OAUTH_USER, accepted, FALSE, &dir, &port);
  messages = g_build_filename (dir, "messages", NULL);
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
  tokens = envoi_test_xoauth2_tokens (dir);
  g_assert_cmpstr (tokens, ==, OAUTH_USER " " GOOD_TOKEN "\n" OAUTH_USER " " STALE_TOKEN "\n");

  envoi_test_xoauth2_stop (server);
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

  if (!envoi_test_goa_available ())
    {
      g_test_skip ("goa-daemon is not installed (build-aux/install-deps.sh test installs it)");
      return;
    }

  envoi_test_goa_clear ();
  envoi_test_goa_add_password_account (GOA_ID, ENVOI_TEST_USER, ENVOI_TEST_USER "@example.com",
                                       envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"),
                                       ENVOI_TEST_PASSWORD);
  envoi_test_goa_start ();

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

  secret = envoi_test_lookup_secret (account, ENVOI_SERVICE_SMTP);
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

  envoi_test_goa_stop ();
}

/* ---- an OAuth 2 account of the real goa-daemon, offline ----------------------------------- */

#define OAUTH_ID       "account_1700000000_1"
#define OAUTH_PROVIDER "google"
#define TOKEN_A        ENVOI_TEST_OAUTH_TOKEN "-goa-a"
#define TOKEN_B        ENVOI_TEST_OAUTH_TOKEN "-goa-b"

static char *
get_token (const char  *rejected,
           char       **identity,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_goa_get_access_token_async (NULL, OAUTH_ID, rejected, NULL, envoi_test_async_result_cb, &result);
  return envoi_goa_get_access_token_finish (envoi_test_wait (&result), identity, error);
}

static EnvoiGoaAccount *
find_account (GPtrArray  *accounts,
              const char *id)
{
  for (guint i = 0; i < accounts->len; i++)
    {
      EnvoiGoaAccount *account = g_ptr_array_index (accounts, i);

      if (g_str_equal (account->id, id))
        return account;
    }

  g_assert_not_reached ();
}

/* What GOA does without network, and what Envoi makes of it. */
static void
test_daemon_oauth2 (void)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *identity = NULL;
  g_autofree char *remote_error = NULL;
  char *token;
  EnvoiGoaAccount *goa;

  if (!envoi_test_goa_available ())
    {
      g_test_skip ("goa-daemon is not installed (build-aux/install-deps.sh test installs it)");
      return;
    }

  envoi_test_goa_clear ();
  envoi_test_goa_add_oauth2_account (OAUTH_ID, OAUTH_PROVIDER, OAUTH_USER, TOKEN_A, "refresh-1", 3600);
  envoi_test_goa_add_oauth2_account (MICROSOFT_ID, "windows_live", MICROSOFT_USER, TOKEN_B,
                                     "refresh-2", 3600);
  envoi_test_goa_start ();

  /* Google and Microsoft: both OAuth 2, each with its provider's SMTP server. */
  accounts = list_accounts (NULL);
  g_assert_cmpuint (accounts->len, ==, 2);
  goa = find_account (accounts, OAUTH_ID);
  g_assert_cmpstr (goa->provider_type, ==, "google");
  g_assert_true (goa->oauth2);
  g_assert_cmpstr (goa->smtp_host, ==, "smtp.gmail.com");
  goa = find_account (accounts, MICROSOFT_ID);
  g_assert_cmpstr (goa->provider_type, ==, "windows_live");
  g_assert_true (goa->oauth2);
  g_assert_false (goa->password_based);
  g_assert_cmpstr (goa->smtp_host, ==, "smtp-mail.outlook.com");
  g_assert_cmpuint (goa->smtp_port, ==, 587);
  g_assert_cmpint (goa->smtp_security, ==, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpstr (goa->smtp_user_name, ==, MICROSOFT_USER);

  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autofree char *microsoft_identity = NULL;

    envoi_goa_get_access_token_async (NULL, MICROSOFT_ID, NULL, NULL, envoi_test_async_result_cb,
                                      &result);
    token = envoi_goa_get_access_token_finish (envoi_test_wait (&result), &microsoft_identity,
                                               &error);
    g_assert_no_error (error);
    g_assert_cmpstr (token, ==, TOKEN_B);
    g_assert_cmpstr (microsoft_identity, ==, MICROSOFT_USER);
    envoi_secret_free (token);
  }

  /* EnsureCredentials asks Google who the token belongs to: offline it fails, but not with
   * NotAuthorized, so GOA does not ask for attention — and Envoi asks for the token anyway. */
  error = envoi_test_goa_ensure_credentials (OAUTH_ID);
  g_assert_nonnull (error);
  remote_error = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote_error, !=, "org.gnome.OnlineAccounts.Error.NotAuthorized");
  g_clear_error (&error);
  g_assert_false (envoi_test_goa_attention_needed (OAUTH_ID));

  token = get_token (NULL, &identity, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, TOKEN_A);
  g_assert_cmpstr (identity, ==, OAUTH_USER);
  envoi_secret_free (token);

  /* The server refused it and GOA has nothing newer: sign in again, not a loop. */
  g_assert_null (get_token (TOKEN_A, NULL, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_SIGN_IN_NEEDED);
  g_assert_nonnull (strstr (error->message, OAUTH_USER));
  g_clear_error (&error);

  /* GOA reads its keyring item at each request: what its refresh stores is handed out next. */
  envoi_test_goa_set_oauth2_token (OAUTH_ID, OAUTH_PROVIDER, TOKEN_B, "refresh-1", 3600);
  token = get_token (TOKEN_A, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, TOKEN_B);
  envoi_secret_free (token);

  /* Expired, with a refresh token: GOA must reach Google to refresh, and cannot. That is not a
   * revoked sign-in: a failure to try again later. */
  envoi_test_goa_set_oauth2_token (OAUTH_ID, OAUTH_PROVIDER, TOKEN_A, "refresh-1", -60);
  g_assert_null (get_token (NULL, NULL, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, OAUTH_USER));
  g_clear_error (&error);
  g_assert_false (envoi_test_goa_attention_needed (OAUTH_ID));

  /* No credentials at all (revoked, or the keyring item lost): GOA says NotAuthorized. */
  envoi_test_goa_forget_credentials (OAUTH_ID, OAUTH_PROVIDER);
  g_assert_null (get_token (NULL, NULL, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_SIGN_IN_NEEDED);
  g_assert_nonnull (strstr (error->message, "Online Accounts"));
  g_clear_error (&error);
  g_assert_true (envoi_test_goa_attention_needed (OAUTH_ID));

  envoi_test_goa_stop ();
  envoi_test_goa_clear ();
}

/* A send when nothing owns GOA's name and nothing can start it. */
static void
test_send_not_running (void)
{
  g_autoptr(GTestDBus) dbus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(EnvoiAccount) account = envoi_account_new ("oauth");
  g_autoptr(EnvoiSmtpClient) session = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) message = make_message ("not-running");
  g_autoptr(GError) error = NULL;
  g_autofree char *session_address = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));
  const char *recipients[] = { "to@example.net", NULL };

  g_test_dbus_up (dbus);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session_address, TRUE);
  bus = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (dbus),
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, &error);
  g_assert_no_error (error);

  g_object_set (account, "address", OAUTH_USER, "host", "127.0.0.1", "port", 1u,
                "auth-method", ENVOI_AUTH_METHOD_XOAUTH2, "provider", "goa:" OAUTH_ID, NULL);
  envoi_agent_goa_send_async (bus, account, NULL, OAUTH_USER, recipients, message, NULL,
                              envoi_test_async_result_cb, &result);
  g_assert_null (envoi_agent_goa_send_finish (envoi_test_wait (&result), &session, &error));
  g_assert_error (error, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_RUNNING);
  g_assert_null (session);

  g_dbus_connection_close_sync (bus, NULL, NULL);
  g_test_dbus_down (dbus);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", session_address, TRUE);
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
  /* Before anything keeps the session bus open (libsecret does, for good): g_test_dbus_down()
   * waits for it to close. */
  g_test_add_func ("/envoi/goa/send-not-running", test_send_not_running);
  g_test_add_func ("/envoi/goa/daemon-password-account", test_daemon);
  g_test_add_func ("/envoi/goa/daemon-oauth2-offline", test_daemon_oauth2);

  status = g_test_run ();
  envoi_test_goa_stop ();
  return status;
}

/* test-secret.c: passwords in the real gnome-keyring of the test session, and nowhere else
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-msmtp.h"
#include "envoi-secret.h"
#include "envoi-test-helpers.h"

static EnvoiAccount *
make_account (const char *id,
              const char *host)
{
  EnvoiAccount *account = envoi_account_new (id);

  g_object_set (account,
                "address", "alice@example.com",
                "host", host,
                "port", 465,
                "username", "alice",
                "imap-host", "imap.example.com",
                NULL);
  return account;
}

static gboolean
store (EnvoiAccount  *account,
       EnvoiService   service,
       const char    *secret,
       GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_secret_store_async (account, service, secret, NULL, envoi_test_async_result_cb, &result);
  return envoi_secret_store_finish (envoi_test_wait (&result), error);
}

static char *
lookup (EnvoiAccount  *account,
        EnvoiService   service,
        GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_secret_lookup_async (account, service, NULL, envoi_test_async_result_cb, &result);
  return envoi_secret_lookup_finish (envoi_test_wait (&result), error);
}

static gboolean
clear (const char  *id,
       int          service,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_secret_clear_async (id, service, NULL, envoi_test_async_result_cb, &result);
  return envoi_secret_clear_finish (envoi_test_wait (&result), error);
}

static guint
count_items (const char *id)
{
  g_autoptr(GError) error = NULL;
  GList *items;
  guint n;

  items = secret_password_search_sync (envoi_secret_get_schema (), SECRET_SEARCH_ALL, NULL,
                                       &error, "account", id, NULL);
  g_assert_no_error (error);
  n = g_list_length (items);
  g_list_free_full (items, g_object_unref);
  return n;
}

static void
test_store_lookup_clear (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("keyring-a", "smtp.example.com");
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autoptr(EnvoiSecretString) imap = NULL;
  g_autofree char *msmtp_view = NULL;

  g_assert_true (store (account, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD, &error));
  g_assert_no_error (error);
  g_assert_true (store (account, ENVOI_SERVICE_IMAP, "imap-secret-パス", &error));
  g_assert_no_error (error);

  secret = lookup (account, ENVOI_SERVICE_SMTP, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, ENVOI_TEST_PASSWORD);
  imap = lookup (account, ENVOI_SERVICE_IMAP, &error);
  g_assert_cmpstr (imap, ==, "imap-secret-パス");

  /* The attributes msmtp looks up (host, service, user) find the same item. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    envoi_msmtp_lookup_password_async ("smtp.example.com", "alice", NULL,
                                       envoi_test_async_result_cb, &result);
    msmtp_view = envoi_msmtp_lookup_password_finish (envoi_test_wait (&result), &error);
    g_assert_no_error (error);
  }
  g_assert_cmpstr (msmtp_view, ==, ENVOI_TEST_PASSWORD);

  /* Storing after the host changed replaces the item instead of adding a second one. */
  g_object_set (account, "host", "smtp.example.net", NULL);
  g_assert_true (store (account, ENVOI_SERVICE_SMTP, "second-password", &error));
  g_assert_cmpuint (count_items ("keyring-a"), ==, 2);   /* smtp + imap */
  g_clear_pointer (&secret, envoi_secret_free);
  secret = lookup (account, ENVOI_SERVICE_SMTP, &error);
  g_assert_cmpstr (secret, ==, "second-password");

  g_assert_true (clear ("keyring-a", ENVOI_SERVICE_SMTP, &error));
  g_assert_no_error (error);
  g_clear_pointer (&secret, envoi_secret_free);
  secret = lookup (account, ENVOI_SERVICE_SMTP, &error);
  g_assert_no_error (error);
  g_assert_null (secret);
  g_assert_cmpuint (count_items ("keyring-a"), ==, 1);

  /* Clearing every service of the account, then clearing again, is fine. */
  g_assert_true (clear ("keyring-a", -1, &error));
  g_assert_cmpuint (count_items ("keyring-a"), ==, 0);
  g_assert_true (clear ("keyring-a", -1, &error));
  g_assert_no_error (error);
}

static void
test_accounts_are_separate (void)
{
  g_autoptr(EnvoiAccount) a = make_account ("keyring-b", "smtp.example.com");
  g_autoptr(EnvoiAccount) b = make_account ("keyring-c", "smtp.example.com");
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;

  g_assert_true (store (a, ENVOI_SERVICE_SMTP, "for-b", &error));
  secret = lookup (b, ENVOI_SERVICE_SMTP, &error);
  g_assert_no_error (error);
  g_assert_null (secret);

  g_assert_true (clear ("keyring-c", -1, &error));
  g_clear_pointer (&secret, envoi_secret_free);
  secret = lookup (a, ENVOI_SERVICE_SMTP, &error);
  g_assert_cmpstr (secret, ==, "for-b");
  g_assert_true (clear ("keyring-b", -1, &error));
}

static void
test_mask (void)
{
  g_autofree char *long_mask = envoi_secret_mask ("abcd-efgh-z789");
  g_autofree char *short_mask = envoi_secret_mask ("hunter2");
  g_autofree char *utf8_mask = envoi_secret_mask ("パスワードはとても長いです");

  g_assert_cmpstr (long_mask, ==, "••••z789");
  g_assert_cmpstr (short_mask, ==, "••••••••");
  g_assert_cmpstr (utf8_mask, ==, "••••長いです");
}

/* Runs in a child process whose session bus has no Secret Service at all. */
static void
test_no_service_child (void)
{
  const char *config =
    "<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>"
    "<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
    "<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
    "<allow own=\"*\"/></policy></busconfig>";
  g_autofree char *config_path = g_build_filename (g_get_tmp_dir (), "envoi-nosecrets.XXXXXX", NULL);
  g_autoptr(GSubprocess) bus = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *address = NULL;
  g_autoptr(EnvoiAccount) account = make_account ("keyring-none", "smtp.example.com");
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  int fd;

  fd = g_mkstemp (config_path);
  g_assert_cmpint (fd, >=, 0);
  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));
  close (fd);

  bus = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "dbus-daemon",
                          "--nofork", "--print-address=1", "--config-file", config_path, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);

  g_assert_false (store (account, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD, &error));
  g_assert_error (error, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_NO_SERVICE);
  g_printerr ("store: %s\n", error->message);
  g_clear_error (&error);

  secret = lookup (account, ENVOI_SERVICE_SMTP, &error);
  g_assert_null (secret);
  g_assert_error (error, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_NO_SERVICE);

  g_subprocess_force_exit (bus);
  g_unlink (config_path);
}

/* Runs in a child process with no session bus to reach. */
static void
test_no_bus_child (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("keyring-none", "smtp.example.com");
  g_autoptr(GError) error = NULL;

  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/envoi-bus", TRUE);
  g_unsetenv ("DISPLAY");

  g_assert_false (store (account, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD, &error));
  g_assert_error (error, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_NO_SERVICE);
  g_printerr ("store: %s\n", error->message);
}

/* With no keyring, the password must not have gone anywhere else: no plaintext fallback. */
static void
assert_canary_absent (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return;

  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      /* Only regular files: another test's FIFO would block a read forever. */
      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        assert_canary_absent (path);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR) &&
               g_file_get_contents (path, &contents, &length, NULL))
        g_assert_null (g_strstr_len (contents, length, ENVOI_TEST_PASSWORD));
    }
}

static void
test_no_service (void)
{
  g_test_trap_subprocess ("/envoi/secret/no-service/subprocess/secret-service", 20 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*No keyring is available*");

  g_test_trap_subprocess ("/envoi/secret/no-service/subprocess/bus", 20 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*No keyring is available*");

  assert_canary_absent (g_get_home_dir ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/secret/store-lookup-clear", test_store_lookup_clear);
  g_test_add_func ("/envoi/secret/accounts-are-separate", test_accounts_are_separate);
  g_test_add_func ("/envoi/secret/mask", test_mask);
  g_test_add_func ("/envoi/secret/no-service", test_no_service);
  g_test_add_func ("/envoi/secret/no-service/subprocess/secret-service", test_no_service_child);
  g_test_add_func ("/envoi/secret/no-service/subprocess/bus", test_no_bus_child);

  return g_test_run ();
}

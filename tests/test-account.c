/* test-account.c: accounts to GSettings and back, and the account list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "envoi-account.h"
#include "envoi-account-store.h"

static void
reset_app_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);

  g_settings_reset (settings, "accounts");
  g_settings_reset (settings, "default-account");
}

static void
test_defaults (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("fresh");
  g_autoptr(EnvoiAccount) loaded = envoi_account_load ("fresh");

  /* The object's defaults are the schema's defaults. */
  g_assert_true (envoi_account_equal (account, loaded));
  g_assert_cmpuint (envoi_account_get_port (account), ==, 587);
  g_assert_cmpint (envoi_account_get_security (account), ==, ENVOI_SECURITY_STARTTLS);
  g_assert_true (envoi_account_get_verify_certificate (account));
  g_assert_false (envoi_account_get_allow_plaintext_password (account));
  g_assert_cmpint (envoi_account_get_auth_method (account), ==, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_assert_cmpuint (envoi_account_get_hourly_limit (account), ==, 50);
  g_assert_cmpuint (envoi_account_get_daily_limit (account), ==, 500);
  g_assert_cmpuint (envoi_account_get_imap_port (account), ==, 993);
  g_assert_cmpint (envoi_account_get_pop_security (account), ==, ENVOI_SECURITY_TLS);
}

static void
test_round_trip (void)
{
  const char *notify[] = { "ops@example.com", "山田@example.jp", NULL };
  g_autoptr(EnvoiAccount) account = envoi_account_new ("work");
  g_autoptr(EnvoiAccount) loaded = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *host = NULL;
  g_autofree char *security = NULL;
  g_autofree char *auth = NULL;
  g_autoptr(GVariant) port = NULL;
  g_auto(GStrv) stored_notify = NULL;

  g_object_set (account,
                "address", "alice@example.com",
                "display-name", "Élodie 山田",
                "reply-to", "replies@example.com",
                "bcc", "archive@example.com",
                "notify-addresses", notify,
                "provider", "fastmail",
                "host", "smtp.fastmail.com",
                "port", 465,
                "security", ENVOI_SECURITY_TLS,
                "verify-certificate", FALSE,
                "pinned-key", "sha256//AAAA",
                "allow-plaintext-password", TRUE,
                "auth-method", ENVOI_AUTH_METHOD_CRAM_MD5,
                "username", "alice",
                "hourly-limit", 20,
                "daily-limit", 200,
                "timeout", 45,
                "pop-before-smtp", TRUE,
                "pop-host", "pop.example.com",
                "pop-port", 110,
                "pop-security", ENVOI_SECURITY_STARTTLS,
                "imap-host", "imap.example.com",
                "imap-port", 143,
                "imap-security", ENVOI_SECURITY_NONE,
                "save-sent-copy", TRUE,
                "sent-folder", "Envoyés",
                NULL);
  envoi_account_save (account);

  loaded = envoi_account_load ("work");
  g_assert_true (envoi_account_equal (account, loaded));
  g_assert_cmpstr (envoi_account_get_display_name (loaded), ==, "Élodie 山田");
  g_assert_cmpstr (envoi_account_get_login (loaded), ==, "alice");

  /* The keys, read the way an admin's script would, carry exactly these names and nicks. */
  settings = envoi_account_create_settings ("work");
  host = g_settings_get_string (settings, "host");
  g_assert_cmpstr (host, ==, "smtp.fastmail.com");
  port = g_settings_get_value (settings, "port");
  g_assert_cmpuint (g_variant_get_uint16 (port), ==, 465);
  security = g_settings_get_string (settings, "security");
  g_assert_cmpstr (security, ==, "tls");
  auth = g_settings_get_string (settings, "auth-method");
  g_assert_cmpstr (auth, ==, "cram-md5");
  stored_notify = g_settings_get_strv (settings, "notify-addresses");
  g_assert_cmpstrv (stored_notify, notify);
  g_assert_cmpuint (g_settings_get_uint (settings, "daily-limit"), ==, 200);

  /* A copy is independent: editing it leaves the original alone. */
  {
    g_autoptr(EnvoiAccount) copy = envoi_account_copy (loaded);

    g_assert_true (envoi_account_equal (copy, loaded));
    g_object_set (copy, "host", "smtp.example.net", NULL);
    g_assert_false (envoi_account_equal (copy, loaded));
    g_assert_cmpstr (envoi_account_get_host (loaded), ==, "smtp.fastmail.com");
  }

  envoi_account_reset_settings ("work");
  g_clear_object (&loaded);
  loaded = envoi_account_load ("work");
  g_assert_cmpstr (envoi_account_get_host (loaded), ==, "");
  g_assert_cmpuint (envoi_account_get_port (loaded), ==, 587);
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_notify_on_change_only (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("n");
  guint count = 0;

  g_signal_connect (account, "notify::host", G_CALLBACK (notify_count_cb), &count);
  g_object_set (account, "host", "a.example", NULL);
  g_object_set (account, "host", "a.example", NULL);
  g_assert_cmpuint (count, ==, 1);
}

static void
test_login_and_loopback (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("l");
  static const struct { const char *host; gboolean loopback; } hosts[] = {
    { "localhost", TRUE }, { "127.0.0.1", TRUE }, { "127.8.9.1", TRUE }, { "::1", TRUE },
    { "mail.localhost", TRUE }, { "smtp.example.com", FALSE }, { "192.0.2.1", FALSE },
    { "localhost.example.com", FALSE },
  };

  g_object_set (account, "address", "bob@example.com", NULL);
  g_assert_cmpstr (envoi_account_get_login (account), ==, "bob@example.com");
  g_object_set (account, "username", "apikey", NULL);
  g_assert_cmpstr (envoi_account_get_login (account), ==, "apikey");

  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_object_set (account, "host", hosts[i].host, NULL);
      g_assert_cmpint (envoi_account_is_loopback (account), ==, hosts[i].loopback);
    }
}

static void
test_store (void)
{
  g_autoptr(EnvoiAccountStore) store = NULL;
  g_autoptr(EnvoiAccount) first = NULL;
  g_autoptr(EnvoiAccount) second = NULL;
  g_autoptr(GSettings) first_settings = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *id3 = NULL;

  reset_app_settings ();
  store = envoi_account_store_new ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_assert_null (envoi_account_store_get_default (store));

  id1 = envoi_account_store_make_id (store, "Alice.Martin@Example.com");
  g_assert_cmpstr (id1, ==, "alice-martin-example-com");
  first = envoi_account_new (id1);
  g_object_set (first, "address", "alice.martin@example.com", "host", "smtp.example.com", NULL);
  envoi_account_store_add (store, first);

  id2 = envoi_account_store_make_id (store, "alice.martin@example.com");
  g_assert_cmpstr (id2, ==, "alice-martin-example-com-2");
  second = envoi_account_new (id2);
  g_object_set (second, "address", "ops@example.org", NULL);
  envoi_account_store_add (store, second);

  id3 = envoi_account_store_make_id (store, "山田@例え.jp");
  g_assert_cmpstr (id3, ==, "jp");

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);
  g_assert_cmpstr (envoi_account_store_get_default_id (store), ==, id1);
  g_assert_cmpstr (envoi_account_get_host (envoi_account_store_lookup (store, id1)), ==,
                   "smtp.example.com");
  g_assert_true (envoi_account_store_find_by_address (store, "OPS@example.org") ==
                 envoi_account_store_lookup (store, id2));
  g_assert_null (envoi_account_store_find_by_address (store, "nobody@example.org"));

  envoi_account_store_set_default (store, id2);
  g_assert_cmpstr (envoi_account_store_get_default_id (store), ==, id2);

  /* The store follows the settings: a change from elsewhere reaches its account object. */
  first_settings = envoi_account_create_settings (id1);
  g_settings_set_string (first_settings, "host", "smtp.example.net");
  g_assert_cmpstr (envoi_account_get_host (envoi_account_store_lookup (store, id1)), ==,
                   "smtp.example.net");

  /* Removing the default falls back to the first remaining; the keys are reset. */
  envoi_account_store_remove (store, id2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  g_assert_cmpstr (envoi_account_store_get_default_id (store), ==, id1);
  {
    g_autoptr(EnvoiAccount) gone = envoi_account_load (id2);

    g_assert_cmpstr (envoi_account_get_address (gone), ==, "");
  }

  /* An account added after a removal is written at once, as any other: another reader of the
   * settings (the sender, the next start) sees it. */
  {
    g_autoptr(EnvoiAccount) third = envoi_account_new ("third-example-org");
    g_autoptr(GSettings) reader = g_settings_new (ENVOI_APP_SCHEMA_ID);
    g_auto(GStrv) listed = NULL;

    g_object_set (third, "address", "third@example.org", NULL);
    envoi_account_store_add (store, third);
    g_settings_sync ();
    listed = g_settings_get_strv (reader, "accounts");
    g_assert_true (g_strv_contains ((const char * const *) listed, "third-example-org"));
    g_assert_cmpuint (g_strv_length (listed), ==, 2);
  }
}

static void
test_store_ignores_bad_ids (void)
{
  g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);
  const char *ids[] = { "good", "Bad Id", "good", "../evil", "", NULL };
  g_autoptr(EnvoiAccountStore) store = NULL;

  g_settings_set_strv (settings, "accounts", ids);
  g_test_expect_message ("envoi-account-store", G_LOG_LEVEL_WARNING, "*Bad Id*");
  g_test_expect_message ("envoi-account-store", G_LOG_LEVEL_WARNING, "*../evil*");
  g_test_expect_message ("envoi-account-store", G_LOG_LEVEL_WARNING, "*“”*");
  store = envoi_account_store_new ();
  g_test_assert_expected_messages ();

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  reset_app_settings ();
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/account/defaults", test_defaults);
  g_test_add_func ("/envoi/account/round-trip", test_round_trip);
  g_test_add_func ("/envoi/account/notify-on-change-only", test_notify_on_change_only);
  g_test_add_func ("/envoi/account/login-and-loopback", test_login_and_loopback);
  g_test_add_func ("/envoi/account/store", test_store);
  g_test_add_func ("/envoi/account/store-ignores-bad-ids", test_store_ignores_bad_ids);

  return g_test_run ();
}

/* test-msmtp.c: msmtp configuration in and out, hostile files, the real keyring and real msmtp
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-msmtp.h"
#include "envoi-secret.h"
#include "envoi-test-helpers.h"

/* A password that is not the canary: files holding it are hostile input, left on purpose. */
#define FILE_PASSWORD "file-line-secret-4821"

static EnvoiMsmtpConfig *
parse_text (const char  *text,
            GError     **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  return envoi_msmtp_config_parse (bytes, error);
}

static EnvoiMsmtpConfig *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  EnvoiMsmtpConfig *config = parse_text (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

static int
find_account (EnvoiMsmtpConfig *config,
              const char       *name)
{
  for (guint i = 0; i < envoi_msmtp_config_get_n_accounts (config); i++)
    if (g_strcmp0 (envoi_msmtp_config_get_account_name (config, i), name) == 0)
      return (int) i;

  return -1;
}

static gboolean
strv_contains_substring (const char * const *strv,
                         const char         *needle)
{
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    if (strstr (strv[i], needle) != NULL)
      return TRUE;

  return FALSE;
}

static char *
write_temp (const char *name,
            const char *data,
            gssize      length)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "msmtp-tests", NULL);
  g_autoptr(GError) error = NULL;
  char *path;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = g_build_filename (dir, name, NULL);
  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
  return path;
}

static EnvoiMsmtpConfig *
load_path (const char  *path,
           GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;

  envoi_msmtp_config_load_async (file, NULL, envoi_test_async_result_cb, &result);
  return envoi_msmtp_config_load_finish (envoi_test_wait (&result), error);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static void
test_parse_example (void)
{
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  EnvoiAccount *account;
  int i;

  config = parse_ok ("# Example for a user configuration file ~/.msmtprc\n"
                     "defaults\n"
                     "port 587\n"
                     "tls on\n"
                     "tls_starttls on\n"
                     "logfile ~/.msmtp.log\n"
                     "\n"
                     "account freemail\n"
                     "  host smtp.freemail.example\r\n"
                     "\tfrom joe_smith@freemail.example\n"
                     "auth on\n"
                     "user joe.smith\n"
                     "\n"
                     "account work : freemail\n"
                     "host mail.work.example\n"
                     "from_full_name \"Joe Smith\"\n"
                     "auth login\n"
                     "\n"
                     "account default : work\n");

  g_assert_cmpuint (envoi_msmtp_config_get_n_accounts (config), ==, 2);
  g_assert_cmpstr (envoi_msmtp_config_get_default_name (config), ==, "work");
  g_assert_cmpstr (envoi_msmtp_config_get_warnings (config)[0], ==, NULL);

  i = find_account (config, "freemail");
  g_assert_cmpint (i, >=, 0);
  account = envoi_msmtp_config_get_account (config, i);
  g_assert_cmpstr (envoi_account_get_host (account), ==, "smtp.freemail.example");
  g_assert_cmpuint (envoi_account_get_port (account), ==, 587);
  g_assert_cmpint (envoi_account_get_security (account), ==, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpint (envoi_account_get_auth_method (account), ==, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_assert_cmpstr (envoi_account_get_username (account), ==, "joe.smith");
  g_assert_cmpstr (envoi_account_get_address (account), ==, "joe_smith@freemail.example");
  g_assert_false (envoi_msmtp_config_has_file_password (config, i));

  /* Inherits from freemail, overrides host and auth. */
  i = find_account (config, "work");
  account = envoi_msmtp_config_get_account (config, i);
  g_assert_cmpstr (envoi_account_get_host (account), ==, "mail.work.example");
  g_assert_cmpuint (envoi_account_get_port (account), ==, 587);
  g_assert_cmpint (envoi_account_get_auth_method (account), ==, ENVOI_AUTH_METHOD_LOGIN);
  g_assert_cmpstr (envoi_account_get_username (account), ==, "joe.smith");
  g_assert_cmpstr (envoi_account_get_display_name (account), ==, "Joe Smith");
}

static void
test_parse_security (void)
{
  const struct {
    const char    *lines;
    EnvoiSecurity  security;
    guint          port;
  } cases[] = {
    { "", ENVOI_SECURITY_NONE, 25 },
    { "tls off\n", ENVOI_SECURITY_NONE, 25 },
    { "tls\n", ENVOI_SECURITY_STARTTLS, 25 },
    { "tls on\n", ENVOI_SECURITY_STARTTLS, 25 },
    { "tls on\ntls_starttls on\nport 587\n", ENVOI_SECURITY_STARTTLS, 587 },
    { "tls on\ntls_starttls off\n", ENVOI_SECURITY_TLS, 465 },
    { "tls on\ntls_starttls off\nport 2465\n", ENVOI_SECURITY_TLS, 2465 },
    { "tls off\ntls_starttls off\n", ENVOI_SECURITY_NONE, 25 },
    { "tls on\nport 99999\n", ENVOI_SECURITY_STARTTLS, 25 },
    { "tls on\nport 0\n", ENVOI_SECURITY_STARTTLS, 25 },
    { "tls on\nport 5x\n", ENVOI_SECURITY_STARTTLS, 25 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("account a\nhost smtp.example.com\n%s",
                                               cases[i].lines);
      g_autoptr(EnvoiMsmtpConfig) config = parse_ok (text);
      EnvoiAccount *account = envoi_msmtp_config_get_account (config, 0);

      g_test_message ("case %u: %s", i, cases[i].lines);
      g_assert_cmpint (envoi_account_get_security (account), ==, cases[i].security);
      g_assert_cmpuint (envoi_account_get_port (account), ==, cases[i].port);
    }
}

static void
test_parse_auth (void)
{
  const struct {
    const char      *value;
    EnvoiAuthMethod  method;
    const char      *warning;
  } cases[] = {
    { NULL, ENVOI_AUTH_METHOD_NONE, NULL },
    { "off", ENVOI_AUTH_METHOD_NONE, NULL },
    { "", ENVOI_AUTH_METHOD_AUTOMATIC, NULL },
    { "on", ENVOI_AUTH_METHOD_AUTOMATIC, NULL },
    { "plain", ENVOI_AUTH_METHOD_PLAIN, NULL },
    { "login", ENVOI_AUTH_METHOD_LOGIN, NULL },
    { "cram-md5", ENVOI_AUTH_METHOD_CRAM_MD5, NULL },
    { "ntlm", ENVOI_AUTH_METHOD_NTLM, NULL },
    { "xoauth2", ENVOI_AUTH_METHOD_XOAUTH2, "OAuth 2" },
    { "oauthbearer", ENVOI_AUTH_METHOD_XOAUTH2, "OAuth 2" },
    { "scram-sha-256", ENVOI_AUTH_METHOD_AUTOMATIC, "scram-sha-256" },
    { "gssapi", ENVOI_AUTH_METHOD_AUTOMATIC, "gssapi" },
    { "bogus", ENVOI_AUTH_METHOD_AUTOMATIC, "not valid" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(EnvoiMsmtpConfig) config = NULL;
      EnvoiAccount *account;

      text = g_strdup_printf ("account a\nhost smtp.example.com\ntls on\nuser bob\n%s%s\n",
                              cases[i].value != NULL ? "auth " : "",
                              cases[i].value != NULL ? cases[i].value : "");
      config = parse_ok (text);
      account = envoi_msmtp_config_get_account (config, 0);
      g_test_message ("auth %s", cases[i].value);
      g_assert_cmpint (envoi_account_get_auth_method (account), ==, cases[i].method);
      if (cases[i].warning != NULL)
        g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, 0),
                                                cases[i].warning));
      else
        g_assert_cmpstr (envoi_msmtp_config_get_account_warnings (config, 0)[0], ==, NULL);
    }
}

static void
test_parse_quoting (void)
{
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  EnvoiAccount *account;

  config = parse_ok ("account q\n"
                     "host \"smtp.example.com\"\n"
                     "user \"name with \\\"quotes\\\" and \\\\ back\"   \n"
                     "from \"unterminated@example.com\n"
                     "from_full_name \"A\" trailing\n"
                     "auth on\n"
                     "tls on\n");
  account = envoi_msmtp_config_get_account (config, 0);
  g_assert_cmpstr (envoi_account_get_host (account), ==, "smtp.example.com");
  g_assert_cmpstr (envoi_account_get_username (account), ==, "name with \"quotes\" and \\ back");
  g_assert_cmpstr (envoi_account_get_address (account), ==, "");
  g_assert_cmpstr (envoi_account_get_display_name (account), ==, "");
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_warnings (config), "Line 4"));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_warnings (config), "Line 5"));
}

static void
test_parse_inheritance (void)
{
  g_autoptr(GString) text = g_string_new ("defaults\ntls on\n");
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  const char * const *warnings;
  EnvoiAccount *account;
  const guint depth = 5000;

  /* A chain 5000 deep, each level overriding the port; a self-reference and a loop attempt
   * (parents must come first, so neither can loop); a second definition; an unknown parent. */
  g_string_append (text, "account a0\nhost smtp.example.com\nport 1000\n");
  for (guint i = 1; i < depth; i++)
    g_string_append_printf (text, "account a%u : a%u\nport %u\n", i, i - 1, 1000 + i);
  g_string_append (text, "account self : self\nhost self.example.com\n");
  g_string_append (text, "account loop1 : loop2\nhost loop.example.com\n");
  g_string_append (text, "account loop2 : loop1\n");
  g_string_append (text, "account a0\nhost again.example.com\n");
  g_string_append (text, "account many : a1, a2 , ,a3, missing\n");

  config = parse_ok (text->str);
  warnings = envoi_msmtp_config_get_warnings (config);

  account = envoi_msmtp_config_get_account (config, find_account (config, "a4999"));
  g_assert_cmpstr (envoi_account_get_host (account), ==, "smtp.example.com");
  g_assert_cmpuint (envoi_account_get_port (account), ==, 1000 + depth - 1);
  g_assert_cmpint (envoi_account_get_security (account), ==, ENVOI_SECURITY_STARTTLS);

  account = envoi_msmtp_config_get_account (config, find_account (config, "self"));
  g_assert_cmpstr (envoi_account_get_host (account), ==, "self.example.com");
  g_assert_true (strv_contains_substring (warnings, "“self” inherits from “self”"));

  account = envoi_msmtp_config_get_account (config, find_account (config, "loop2"));
  g_assert_cmpstr (envoi_account_get_host (account), ==, "loop.example.com");
  g_assert_true (strv_contains_substring (warnings, "“loop1” inherits from “loop2”"));

  g_assert_true (strv_contains_substring (warnings, "“a0” is defined twice"));
  account = envoi_msmtp_config_get_account (config, find_account (config, "a0"));
  g_assert_cmpstr (envoi_account_get_host (account), ==, "smtp.example.com");

  account = envoi_msmtp_config_get_account (config, find_account (config, "many"));
  g_assert_cmpuint (envoi_account_get_port (account), ==, 1003);
  g_assert_true (strv_contains_substring (warnings, "“missing”"));
}

static void
test_parse_warnings (void)
{
  g_autofree char *marker = g_build_filename (g_get_user_cache_dir (), "passwordeval-ran", NULL);
  g_autofree char *text = NULL;
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  const char * const *warnings;
  int i;

  /* Were anything run, the marker would exist afterwards. */
  text = g_strdup_printf ("eval touch %s\n"
                          "account evil\n"
                          "host smtp.example.com\n"
                          "tls on\n"
                          "auth on\n"
                          "user eve\n"
                          "passwordeval \"touch %s; echo pw\"\n"
                          "tls_fingerprint 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\n"
                          "tls_trust_file /home/eve/ca.pem\n"
                          "proxy_host 127.0.0.1\n"
                          "frobnicate yes\n"
                          "user bell\a\n"
                          "from %%U@example.com\n"
                          "\xff\xfe not utf-8\n"
                          "# \xff a comment in Latin-1 is no problem\n"
                          "account plain\n"
                          "host smtp.example.org\n"
                          "auth plain\n"
                          "user pat@example.org\n"
                          "password " FILE_PASSWORD "\n",
                          marker, marker);
  config = parse_ok (text);
  warnings = envoi_msmtp_config_get_warnings (config);

  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  g_assert_true (strv_contains_substring (warnings, "Line 1: “eval”"));
  g_assert_true (strv_contains_substring (warnings, "“frobnicate”"));
  g_assert_true (strv_contains_substring (warnings, "Line 12"));
  g_assert_true (strv_contains_substring (warnings, "Line 14 is not valid UTF-8"));
  g_assert_false (strv_contains_substring (warnings, "Line 15"));

  i = find_account (config, "evil");
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "passwordeval"));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "certificate fingerprint"));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "proxy_host"));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "%U@example.com"));
  g_assert_false (envoi_msmtp_config_has_file_password (config, i));
  /* The fingerprint is not a key pin: nothing is pinned, the certificate is still checked. */
  g_assert_cmpstr (envoi_account_get_pinned_key (envoi_msmtp_config_get_account (config, i)), ==, "");
  g_assert_true (envoi_account_get_verify_certificate (envoi_msmtp_config_get_account (config, i)));

  i = find_account (config, "plain");
  g_assert_true (envoi_msmtp_config_has_file_password (config, i));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "without encryption"));
  g_assert_true (strv_contains_substring (envoi_msmtp_config_get_account_warnings (config, i),
                                          "“password” line"));
  g_assert_cmpstr (envoi_account_get_address (envoi_msmtp_config_get_account (config, i)), ==,
                   "pat@example.org");
}

static void
test_hostile_errors (void)
{
  const struct {
    const char *text;
    gsize       length;
    int         code;
  } cases[] = {
    { "", 0, ENVOI_MSMTP_ERROR_NO_ACCOUNTS },
    { "# only comments\n\n", 17, ENVOI_MSMTP_ERROR_NO_ACCOUNTS },
    { "account x\nport 25\n", 18, ENVOI_MSMTP_ERROR_NO_ACCOUNTS },
    { "account x\nhost -bad host-\n", 26, ENVOI_MSMTP_ERROR_NO_ACCOUNTS },
    { "account x\nhost smtp.example.com\0\n", 33, ENVOI_MSMTP_ERROR_NOT_TEXT },
    { "\x7f" "ELF\x02\x01\x01\0\0\0", 10, ENVOI_MSMTP_ERROR_NOT_TEXT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (cases[i].text, cases[i].length);
      g_autoptr(GError) error = NULL;
      g_autoptr(EnvoiMsmtpConfig) config = envoi_msmtp_config_parse (bytes, &error);

      g_assert_null (config);
      g_assert_error (error, ENVOI_MSMTP_ERROR, cases[i].code);
      g_assert_nonnull (error->message);
    }
}

static void
test_hostile_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  g_autoptr(GString) big = g_string_new ("account big\nhost smtp.example.com\n");
  g_autofree char *path = NULL;
  g_autofree char *binary = NULL;
  GRand *rand = g_rand_new_with_seed (9);

  /* Over the cap: refused before it is read. */
  while (big->len <= ENVOI_MSMTP_MAX_FILE_SIZE)
    g_string_append (big, "# padding padding padding padding padding padding padding padding\n");
  path = write_temp ("huge", big->str, big->len);
  config = load_path (path, &error);
  g_assert_null (config);
  g_assert_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_clear_pointer (&path, g_free);

  /* Just under it, and every line something wrong: the warnings stop at a bound. */
  g_string_assign (big, "account big\nhost smtp.example.com\n");
  while (big->len < ENVOI_MSMTP_MAX_FILE_SIZE - 100)
    g_string_append (big, "unknown_command value\n");
  path = write_temp ("nearly-huge", big->str, big->len);
  config = load_path (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((GStrv) envoi_msmtp_config_get_warnings (config)), <=, 50);
  g_clear_object (&config);
  g_clear_pointer (&path, g_free);

  /* A binary file. */
  binary = g_malloc (4096);
  for (guint i = 0; i < 4096; i++)
    binary[i] = (char) g_rand_int_range (rand, 0, 256);
  binary[17] = '\0';
  path = write_temp ("binary", binary, 4096);
  config = load_path (path, &error);
  g_assert_null (config);
  g_assert_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NOT_TEXT);
  g_clear_error (&error);
  g_clear_pointer (&path, g_free);

  /* Not files at all, and no file. */
  config = load_path (g_get_user_cache_dir (), &error);
  g_assert_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NOT_REGULAR);
  g_clear_error (&error);
  config = load_path ("/dev/zero", &error);
  g_assert_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NOT_REGULAR);
  g_clear_error (&error);
  config = load_path ("/nonexistent/msmtprc", &error);
  g_assert_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "/nonexistent/msmtprc"));
  g_clear_error (&error);

  /* Random text made of msmtp's own words: whatever comes out, nothing crashes. */
  for (guint round = 0; round < 300; round++)
    {
      static const char *words[] = { "account", "defaults", "host", "port", "tls", "auth",
                                     "user", "from", "password", "passwordeval", ":", ",",
                                     "\"", "\\", "on", "off", "a", "b", "smtp.example.com",
                                     "\n", "\n", "\n", " ", "\t", "#", "\xc3", "\xa9", "\r" };
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(GBytes) bytes = NULL;

      for (guint w = 0; w < 200; w++)
        g_string_append (text, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      bytes = g_bytes_new (text->str, text->len);
      config = envoi_msmtp_config_parse (bytes, &error);
      g_assert_true ((config == NULL) != (error == NULL));
      g_clear_object (&config);
      g_clear_error (&error);
    }

  g_rand_free (rand);
}

static void
test_find_user_config (void)
{
  g_autofree char *rc = g_build_filename (g_get_home_dir (), ".msmtprc", NULL);
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "msmtp", NULL);
  g_autofree char *xdg = g_build_filename (dir, "config", NULL);
  g_autoptr(GFile) found = NULL;
  g_autoptr(GFile) expected = NULL;

  g_unlink (rc);
  g_unlink (xdg);
  g_assert_null (envoi_msmtp_find_user_config ());

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (xdg, "account x\nhost smtp.example.com\n", -1, NULL));
  found = envoi_msmtp_find_user_config ();
  expected = g_file_new_for_path (xdg);
  g_assert_true (g_file_equal (found, expected));
  g_clear_object (&found);
  g_clear_object (&expected);

  /* msmtp reads ~/.msmtprc first. */
  g_assert_true (g_file_set_contents (rc, "account y\nhost smtp.example.org\n", -1, NULL));
  found = envoi_msmtp_find_user_config ();
  expected = g_file_new_for_path (rc);
  g_assert_true (g_file_equal (found, expected));

  g_unlink (rc);
  g_unlink (xdg);
}

/* ---- the keyring -------------------------------------------------------------------------- */

/* What msmtp's documentation tells people to do. */
static void
secret_tool_store (const char *host,
                   const char *user,
                   const char *password)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) input = g_bytes_new (password, strlen (password));
  g_autoptr(GError) error = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error,
                              "secret-tool", "store", "--label=msmtp", "host", host,
                              "service", "smtp", "user", user, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate (process, input, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
}

/* gnome-keyring's own interface: a collection made and unlocked with a password, no prompt. */
#define KEYRING_INTERNAL "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"
#define LOCKED_HOST      "locked.example.net"
#define LOCKED_USER      "locked-user"

static GVariant *
secrets_call (GDBusConnection    *bus,
              const char         *path,
              const char         *interface,
              const char         *method,
              GVariant           *parameters,
              const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.secrets", path, interface, method,
                                       parameters, reply_type, G_DBUS_CALL_FLAGS_NONE, 10000,
                                       NULL, &error);
  g_assert_no_error (error);
  return reply;
}

/* The master password of a throw-away collection, as a Secret struct of a "plain" session. */
static GVariant *
master_secret (const char *session)
{
  static const char password[] = "envoi-locked-collection";

  return g_variant_new ("(o@ay@ays)", session,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "", 0, 1),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, password,
                                                   strlen (password), 1),
                        "text/plain");
}

/* An item msmtp would read, in a collection of its own that is then locked. The keyring can
 * prompt for nothing here: this process holds the prompter's name and answers nothing, so an
 * unlock is refused at once, as when nobody is there to type the password. */
static void
test_lookup_locked (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) opened = NULL;
  g_autoptr(GVariant) created = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  const char *session;
  const char *collection;
  const char *locked[2] = { NULL, NULL };
  guint owner;

  owner = g_bus_own_name_on_connection (bus, "org.gnome.keyring.SystemPrompter",
                                        G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);

  opened = secrets_call (bus, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
                         "OpenSession", g_variant_new ("(sv)", "plain", g_variant_new_string ("")),
                         G_VARIANT_TYPE ("(vo)"));
  g_variant_get (opened, "(v&o)", NULL, &session);
  {
    GVariantBuilder properties;

    g_variant_builder_init (&properties, G_VARIANT_TYPE ("a{sv}"));
    g_variant_builder_add (&properties, "{sv}", "org.freedesktop.Secret.Collection.Label",
                           g_variant_new_string ("Envoi locked test"));
    created = secrets_call (bus, "/org/freedesktop/secrets", KEYRING_INTERNAL,
                            "CreateWithMasterPassword",
                            g_variant_new ("(a{sv}@(oayays))", &properties,
                                           master_secret (session)),
                            G_VARIANT_TYPE ("(o)"));
  }
  g_variant_get (created, "(&o)", &collection);

  secret_password_store_sync (envoi_secret_get_schema (), collection, "msmtp", "the-password",
                              NULL, &error,
                              "account", "locked", "service", "smtp",
                              "host", LOCKED_HOST, "user", LOCKED_USER, "port", "587", NULL);
  g_assert_no_error (error);

  /* Unlocked, msmtp's password is there. */
  envoi_msmtp_lookup_password_async (LOCKED_HOST, LOCKED_USER, NULL,
                                     envoi_test_async_result_cb, &result);
  password = envoi_msmtp_lookup_password_finish (envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "the-password");
  g_clear_object (&result);
  g_clear_pointer (&password, envoi_secret_free);

  locked[0] = collection;
  reply = secrets_call (bus, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
                        "Lock", g_variant_new ("(^ao)", locked), G_VARIANT_TYPE ("(aoo)"));

  /* Locked, the error says so and how to mend it, as every keyring read of Envoi does (the
   * copy msmtp.c had of the search called it a failure to read). */
  envoi_msmtp_lookup_password_async (LOCKED_HOST, LOCKED_USER, NULL,
                                     envoi_test_async_result_cb, &result);
  password = envoi_msmtp_lookup_password_finish (envoi_test_wait (&result), &error);
  g_assert_null (password);
  g_assert_error (error, ENVOI_SECRET_ERROR, ENVOI_SECRET_ERROR_LOCKED);

  g_clear_pointer (&reply, g_variant_unref);
  reply = secrets_call (bus, "/org/freedesktop/secrets", KEYRING_INTERNAL,
                        "UnlockWithMasterPassword",
                        g_variant_new ("(o@(oayays))", collection, master_secret (session)),
                        NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = secrets_call (bus, collection, "org.freedesktop.Secret.Collection", "Delete", NULL,
                        G_VARIANT_TYPE ("(o)"));
  g_bus_unown_name (owner);
}

static EnvoiAccount *
import (EnvoiMsmtpConfig  *config,
        guint              index,
        EnvoiAccountStore *store,
        gboolean          *password_imported)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiAccount *account;

  envoi_msmtp_config_import_async (config, index, store, NULL, envoi_test_async_result_cb, &result);
  account = envoi_msmtp_config_import_finish (config, envoi_test_wait (&result),
                                              password_imported, &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);
  return account;
}

static void
assert_settings_free_of (const char *id,
                         const char *secret)
{
  g_autoptr(GSettings) settings = envoi_account_create_settings (id);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_settings_get_value (settings, keys[i]);
      g_autofree char *printed = g_variant_print (value, FALSE);

      g_assert_null (strstr (printed, secret));
    }
}

static void
test_import_keyring (void)
{
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(EnvoiAccount) listed = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  gboolean imported = FALSE;

  secret_tool_store ("smtp.keyring.example", "kim", "keyring-secret-1234");
  config = parse_ok ("account k\nhost smtp.keyring.example\ntls on\nauth on\nuser kim\n"
                     "from kim@keyring.example\n"
                     "account nothing-stored\nhost smtp.keyring.example\ntls on\nauth on\nuser nobody\n");

  account = import (config, 0, store, &imported);
  g_assert_true (imported);
  g_assert_cmpstr (envoi_account_get_id (account), ==, "kim-keyring-example");
  g_assert_true (envoi_account_store_lookup (store, envoi_account_get_id (account)) != NULL);
  listed = envoi_account_load (envoi_account_get_id (account));
  g_assert_cmpstr (envoi_account_get_host (listed), ==, "smtp.keyring.example");
  g_assert_cmpstr (envoi_account_get_username (listed), ==, "kim");
  secret = envoi_test_lookup_secret (account, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, "keyring-secret-1234");
  g_clear_object (&account);

  /* Nothing in the keyring: imported all the same, without a password. */
  account = import (config, 1, store, &imported);
  g_assert_false (imported);
  g_assert_null (envoi_test_lookup_secret (account, ENVOI_SERVICE_SMTP));
}

static void
test_import_password_line (void)
{
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();
  g_autoptr(EnvoiMsmtpConfig) config = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean imported = FALSE;

  path = write_temp ("with-password",
                     "account p\nhost smtp.line.example\ntls on\nauth on\nuser lee@line.example\n"
                     "password \"" FILE_PASSWORD "\"\n", -1);
  config = load_path (path, &error);
  g_assert_no_error (error);
  g_unlink (path);

  account = import (config, 0, store, &imported);
  g_assert_true (imported);
  secret = envoi_test_lookup_secret (account, ENVOI_SERVICE_SMTP);
  g_assert_cmpstr (secret, ==, FILE_PASSWORD);
  assert_settings_free_of (envoi_account_get_id (account), FILE_PASSWORD);
}

/* ---- export ------------------------------------------------------------------------------- */

static void
test_export_round_trip (void)
{
  const struct {
    EnvoiSecurity    security;
    EnvoiAuthMethod  auth;
    guint            port;
    gboolean         verify;
    const char      *pin;
  } cases[] = {
    { ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_AUTOMATIC, 587, TRUE, "" },
    { ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_PLAIN, 465, TRUE, "" },
    { ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE, 25, TRUE, "" },
    { ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_CRAM_MD5, 465, FALSE, "" },
    { ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_LOGIN, 2587, TRUE,
      "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
    { ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_XOAUTH2, 587, TRUE, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EnvoiAccount) account = envoi_account_new ("round-trip");
      g_autoptr(EnvoiMsmtpConfig) config = NULL;
      g_autofree char *text = NULL;
      EnvoiAccount *back;

      g_object_set (account,
                    "address", "rita@example.com",
                    "username", "rita \"the\" sender",
                    "host", "smtp.example.com",
                    "port", cases[i].port,
                    "security", cases[i].security,
                    "auth-method", cases[i].auth,
                    "verify-certificate", cases[i].verify,
                    "pinned-key", cases[i].pin,
                    NULL);
      text = envoi_msmtp_export (account, NULL);
      g_test_message ("%s", text);
      g_assert_null (strstr (text, "\npassword"));

      config = parse_ok (text);
      g_assert_cmpuint (envoi_msmtp_config_get_n_accounts (config), ==, 1);
      g_assert_cmpstr (envoi_msmtp_config_get_account_name (config, 0), ==, "round-trip");
      back = envoi_msmtp_config_get_account (config, 0);
      g_assert_cmpstr (envoi_account_get_host (back), ==, "smtp.example.com");
      g_assert_cmpuint (envoi_account_get_port (back), ==, cases[i].port);
      g_assert_cmpint (envoi_account_get_security (back), ==, cases[i].security);
      g_assert_cmpint (envoi_account_get_auth_method (back), ==, cases[i].auth);
      g_assert_cmpstr (envoi_account_get_address (back), ==, "rita@example.com");
      g_assert_cmpint (envoi_account_get_verify_certificate (back), ==, cases[i].verify);
      if (cases[i].auth != ENVOI_AUTH_METHOD_NONE)
        g_assert_cmpstr (envoi_account_get_username (back), ==, "rita \"the\" sender");
      if (*cases[i].pin != '\0')
        g_assert_nonnull (strstr (text, "# Envoi trusts this server by its public key"));
    }
}

static void
test_export_file_mode (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("mode");
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "exported-msmtprc", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_object_set (account, "host", "smtp.example.com", "address", "m@example.com", NULL);
  g_assert_true (envoi_msmtp_export_to_file (account, file, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_unlink (path);
}

/* Envoi's account, exported, used by the real msmtp: it must find Envoi's keyring item and
 * deliver through the session's SMTP listener. */
static void
test_export_real_msmtp (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("msmtp-real");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) input = NULL;
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "msmtp-real-rc", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *eml = NULL;
  g_autofree char *subject = NULL;
  g_autoptr(GDir) listing = NULL;
  gboolean found = FALSE;
  const char *name;

  if (!g_file_test ("/usr/bin/msmtp", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("msmtp is not installed (build-aux/install-deps.sh test installs it)");
      return;
    }

  g_object_set (account,
                "address", "export@example.com",
                "username", ENVOI_TEST_USER,
                "host", "127.0.0.1",
                "port", (guint) envoi_test_env_port ("ENVOI_TEST_SMTP_PLAIN_PORT"),
                "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_PLAIN,
                NULL);
  envoi_secret_store_async (account, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD, NULL,
                            envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);

  g_assert_true (envoi_msmtp_export_to_file (account, file, NULL, &error));
  g_assert_no_error (error);

  subject = g_strdup_printf ("exported-%u", g_random_int ());
  {
    g_autofree char *message = g_strdup_printf ("From: export@example.com\r\n"
                                                "To: someone@example.net\r\n"
                                                "Subject: %s\r\n\r\nvia msmtp\r\n", subject);
    input = g_bytes_new (message, strlen (message));
  }
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                              | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              "/usr/bin/msmtp", "-C", path, "-a", "msmtp-real",
                              "someone@example.net", NULL);
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GBytes) err = NULL;

    g_subprocess_communicate (process, input, NULL, &out, &err, &error);
    g_assert_no_error (error);
    stdout_text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));
    stderr_text = g_strndup (g_bytes_get_data (err, NULL), g_bytes_get_size (err));
  }
  g_test_message ("msmtp: %s%s", stdout_text, stderr_text);
  g_assert_true (g_subprocess_get_successful (process));

  dir = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"), "plain", NULL);
  listing = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while (!found && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *full = NULL;
      g_autofree char *contents = NULL;

      if (!g_str_has_suffix (name, ".eml"))
        continue;
      full = g_build_filename (dir, name, NULL);
      if (g_file_get_contents (full, &contents, NULL, NULL) && strstr (contents, subject) != NULL)
        found = TRUE;
    }
  g_assert_true (found);
  /* The exported file stays for the secret canary scan at the end of the session. */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/msmtp/parse-example", test_parse_example);
  g_test_add_func ("/envoi/msmtp/parse-security", test_parse_security);
  g_test_add_func ("/envoi/msmtp/parse-auth", test_parse_auth);
  g_test_add_func ("/envoi/msmtp/parse-quoting", test_parse_quoting);
  g_test_add_func ("/envoi/msmtp/parse-inheritance", test_parse_inheritance);
  g_test_add_func ("/envoi/msmtp/parse-warnings", test_parse_warnings);
  g_test_add_func ("/envoi/msmtp/hostile-errors", test_hostile_errors);
  g_test_add_func ("/envoi/msmtp/hostile-files", test_hostile_files);
  g_test_add_func ("/envoi/msmtp/find-user-config", test_find_user_config);
  g_test_add_func ("/envoi/msmtp/import-keyring", test_import_keyring);
  g_test_add_func ("/envoi/msmtp/import-password-line", test_import_password_line);
  g_test_add_func ("/envoi/msmtp/lookup-locked", test_lookup_locked);
  g_test_add_func ("/envoi/msmtp/export-round-trip", test_export_round_trip);
  g_test_add_func ("/envoi/msmtp/export-file-mode", test_export_file_mode);
  g_test_add_func ("/envoi/msmtp/export-real-msmtp", test_export_real_msmtp);

  return g_test_run ();
}

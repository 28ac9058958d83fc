/* envoi-test-goa.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "envoi-test-goa.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <string.h>

#define GOA_NAME "org.gnome.OnlineAccounts"
#define GOA_ACCOUNTS_PATH "/org/gnome/OnlineAccounts/Accounts/"

static GSubprocess *goa_daemon;

/* GOA's keyring schema: it matches items by goa-identity alone. */
static const SecretSchema goa_schema = {
  GOA_NAME, SECRET_SCHEMA_DONT_MATCH_NAME,
  {
    { "goa-identity", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  }
};

/* GOA 3.46 bumps a provider's generation when its scopes change; old items are ignored. Seen
 * with dbus-monitor: goa-daemon searches "google:gen11:<id>" and "windows_live:gen4:<id>". */
static char *
goa_identity (const char *provider,
              const char *id)
{
  guint generation = 0;

  if (g_str_equal (provider, "google"))
    generation = 11;
  else if (g_str_equal (provider, "windows_live"))
    generation = 4;
  else
    g_assert_cmpstr (provider, ==, "imap_smtp");

  return g_strdup_printf ("%s:gen%u:%s", provider, generation, id);
}

static char *
accounts_conf_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "goa-1.0", "accounts.conf", NULL);
}

static GKeyFile *
load_accounts (void)
{
  g_autofree char *path = accounts_conf_path ();
  GKeyFile *key_file = g_key_file_new ();

  g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, NULL);
  return key_file;
}

static void
save_accounts (GKeyFile *key_file)
{
  g_autofree char *path = accounts_conf_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_key_file_save_to_file (key_file, path, &error);
  g_assert_no_error (error);
}

static void
store_credentials (const char *provider,
                   const char *id,
                   GVariant   *credentials)
{
  g_autofree char *identity = goa_identity (provider, id);
  g_autofree char *label = g_strdup_printf ("GOA %s credentials for identity %s", provider, id);
  g_autofree char *text = g_variant_print (credentials, TRUE);
  g_autoptr(GError) error = NULL;

  g_variant_unref (g_variant_ref_sink (credentials));
  secret_password_store_sync (&goa_schema, SECRET_COLLECTION_DEFAULT, label, text, NULL, &error,
                              "goa-identity", identity, NULL);
  g_assert_no_error (error);
  explicit_bzero (text, strlen (text));
}

gboolean
envoi_test_goa_available (void)
{
  return g_file_test (ENVOI_TEST_GOA_DAEMON, G_FILE_TEST_IS_EXECUTABLE);
}

void
envoi_test_goa_add_password_account (const char *id,
                                     const char *user,
                                     const char *address,
                                     guint16     smtp_port,
                                     const char *password)
{
  g_autoptr(GKeyFile) key_file = load_accounts ();
  g_autofree char *group = g_strconcat ("Account ", id, NULL);
  g_autofree char *smtp_host = g_strdup_printf ("127.0.0.1:%u", smtp_port);
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  struct { const char *key, *value; } keys[] = {
    { "Provider", "imap_smtp" },
    { "Identity", user },
    { "PresentationIdentity", address },
    { "Enabled", "true" },
    { "MailEnabled", "true" },
    { "EmailAddress", address },
    { "Name", "Envoi Tester" },
    { "ImapHost", "127.0.0.1:1" },
    { "ImapUserName", user },
    { "ImapUseSsl", "false" },
    { "ImapUseTls", "false" },
    { "ImapAcceptSslErrors", "false" },
    { "SmtpHost", smtp_host },
    { "SmtpUseAuth", "true" },
    { "SmtpUserName", user },
    { "SmtpAuthLogin", "false" },
    { "SmtpAuthPlain", "true" },
    { "SmtpUseSsl", "false" },
    { "SmtpUseTls", "false" },
    { "SmtpAcceptSslErrors", "false" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_key_file_set_string (key_file, group, keys[i].key, keys[i].value);
  save_accounts (key_file);

  g_variant_builder_add (builder, "{sv}", "imap-password", g_variant_new_string (password));
  g_variant_builder_add (builder, "{sv}", "smtp-password", g_variant_new_string (password));
  store_credentials ("imap_smtp", id, g_variant_builder_end (builder));
}

void
envoi_test_goa_add_oauth2_account (const char *id,
                                   const char *provider,
                                   const char *address,
                                   const char *access_token,
                                   const char *refresh_token,
                                   gint64      expires_in)
{
  g_autoptr(GKeyFile) key_file = load_accounts ();
  g_autofree char *group = g_strconcat ("Account ", id, NULL);

  /* The mail settings of Google and Microsoft are GOA's own (smtp.gmail.com…): the test's Envoi
   * account points at the local server instead. */
  g_key_file_set_string (key_file, group, "Provider", provider);
  g_key_file_set_string (key_file, group, "Identity", address);
  g_key_file_set_string (key_file, group, "PresentationIdentity", address);
  g_key_file_set_string (key_file, group, "Enabled", "true");
  g_key_file_set_string (key_file, group, "MailEnabled", "true");
  save_accounts (key_file);

  envoi_test_goa_set_oauth2_token (id, provider, access_token, refresh_token, expires_in);
}

void
envoi_test_goa_set_oauth2_token (const char *id,
                                 const char *provider,
                                 const char *access_token,
                                 const char *refresh_token,
                                 gint64      expires_in)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
  gint64 expires_at = g_get_real_time () + expires_in * G_USEC_PER_SEC;

  g_variant_builder_add (builder, "{sv}", "access_token", g_variant_new_string (access_token));
  g_variant_builder_add (builder, "{sv}", "access_token_expires_at", g_variant_new_int64 (expires_at));
  if (refresh_token != NULL)
    g_variant_builder_add (builder, "{sv}", "refresh_token", g_variant_new_string (refresh_token));
  store_credentials (provider, id, g_variant_builder_end (builder));
}

void
envoi_test_goa_forget_credentials (const char *id,
                                   const char *provider)
{
  g_autofree char *identity = goa_identity (provider, id);
  g_autoptr(GError) error = NULL;

  secret_password_clear_sync (&goa_schema, NULL, &error, "goa-identity", identity, NULL);
  g_assert_no_error (error);
}

void
envoi_test_goa_clear (void)
{
  g_autoptr(GKeyFile) key_file = load_accounts ();
  g_autofree char *path = accounts_conf_path ();
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *provider = g_key_file_get_string (key_file, groups[i], "Provider", NULL);

      if (g_str_has_prefix (groups[i], "Account ") && provider != NULL)
        envoi_test_goa_forget_credentials (groups[i] + strlen ("Account "), provider);
    }
  g_unlink (path);
}

/* Whether GOA's name belongs to @pid: right after --replace the daemon it replaces (one a
 * dialog started by activation, say) may still answer for a moment, with its own accounts. */
static gboolean
goa_owned_by (GDBusConnection *bus,
              const char      *pid)
{
  g_autoptr(GVariant) owner = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *unique_name;
  guint32 owner_pid;

  owner = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", GOA_NAME), G_VARIANT_TYPE ("(s)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (owner == NULL)
    return FALSE;

  g_variant_get (owner, "(&s)", &unique_name);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", unique_name), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply == NULL)
    return FALSE;

  g_variant_get (reply, "(u)", &owner_pid);
  return owner_pid == g_ascii_strtoull (pid, NULL, 10);
}

void
envoi_test_goa_start (void)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  gboolean owned = FALSE;

  envoi_test_goa_stop ();
  goa_daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                 &error, ENVOI_TEST_GOA_DAEMON, "--replace", NULL);
  g_assert_no_error (error);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 200; i++)
    {
      owned = goa_owned_by (bus, g_subprocess_get_identifier (goa_daemon));
      if (owned)
        break;
      g_usleep (50 * 1000);
    }
  g_assert_true (owned);
}

void
envoi_test_goa_stop (void)
{
  if (goa_daemon == NULL)
    return;

  g_subprocess_send_signal (goa_daemon, SIGTERM);
  g_subprocess_wait (goa_daemon, NULL, NULL);
  g_clear_object (&goa_daemon);
}

static GVariant *
call_account (const char          *id,
              const char          *interface,
              const char          *method,
              GVariant            *parameters,
              const GVariantType  *reply_type,
              GError             **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autofree char *path = g_strconcat (GOA_ACCOUNTS_PATH, id, NULL);

  g_assert_nonnull (bus);
  return g_dbus_connection_call_sync (bus, GOA_NAME, path, interface, method, parameters,
                                      reply_type, G_DBUS_CALL_FLAGS_NONE, 60000, NULL, error);
}

GError *
envoi_test_goa_ensure_credentials (const char *id)
{
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = call_account (id, GOA_NAME ".Account", "EnsureCredentials", NULL,
                        G_VARIANT_TYPE ("(i)"), &error);
  return error;
}

gboolean
envoi_test_goa_attention_needed (const char *id)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;

  reply = call_account (id, "org.freedesktop.DBus.Properties", "Get",
                        g_variant_new ("(ss)", GOA_NAME ".Account", "AttentionNeeded"),
                        G_VARIANT_TYPE ("(v)"), &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return g_variant_get_boolean (value);
}

/* ---- tests/xoauth2-smtpd.py --------------------------------------------------------------- */

/* The tokens the test server is given and keeps, in ROT13: not one of the canary's forms. */
static char *
rot13 (const char *text)
{
  char *out = g_strdup (text);

  for (char *c = out; *c != '\0'; c++)
    {
      if (g_ascii_isalpha (*c))
        {
          char base = g_ascii_islower (*c) ? 'a' : 'A';

          *c = (char) (base + (*c - base + 13) % 26);
        }
    }

  return out;
}

GSubprocess *
envoi_test_xoauth2_start (const char          *user,
                          const char * const  *accepted,
                          gboolean             hold_rejections,
                          char               **dir,
                          guint16             *port)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "xoauth2-smtpd.py", NULL);
  g_autofree char *ready = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GPtrArray) encoded = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GSubprocess *server;

  *dir = g_build_filename (g_get_user_cache_dir (), "xoauth2-XXXXXX", NULL);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_cache_dir (), 0700), ==, 0);
  g_assert_nonnull (g_mkdtemp (*dir));
  ready = g_build_filename (*dir, "ready", NULL);
  port_file = g_build_filename (*dir, "port", NULL);

  g_ptr_array_add (argv, (char *) "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (char *) "--dir");
  g_ptr_array_add (argv, *dir);
  g_ptr_array_add (argv, (char *) "--user");
  g_ptr_array_add (argv, (char *) user);
  for (guint i = 0; accepted[i] != NULL; i++)
    {
      g_ptr_array_add (argv, (char *) "--accept");
      g_ptr_array_add (encoded, rot13 (accepted[i]));
      g_ptr_array_add (argv, g_ptr_array_index (encoded, encoded->len - 1));
    }
  if (hold_rejections)
    g_ptr_array_add (argv, (char *) "--hold-rejections");
  g_ptr_array_add (argv, NULL);

  server = g_subprocess_newv ((const char * const *) argv->pdata,
                              G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 200 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (50 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (port_file, &text, NULL, NULL));
  *port = (guint16) g_ascii_strtoull (text, NULL, 10);
  return server;
}

char *
envoi_test_xoauth2_tokens (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "tokens", NULL);
  g_autofree char *tokens = NULL;

  if (!g_file_get_contents (path, &tokens, NULL, NULL))
    return g_strdup ("");
  return rot13 (tokens);
}

gboolean
envoi_test_xoauth2_is_held (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "held", NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

void
envoi_test_xoauth2_release (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "release", NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, "", 0, &error);
  g_assert_no_error (error);
}

void
envoi_test_xoauth2_stop (GSubprocess *server)
{
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
}

/* test-presets.c: the built-in provider presets and the clientConfig parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-presets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-preset-parser.h"
#include "envoi-preset-catalog.h"
#include "envoi-test-helpers.h"

/* "host:port:security ..." in document order, security as in the settings schema. */
static char *
servers_to_string (GPtrArray *servers)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < servers->len; i++)
    {
      EnvoiPresetServer *server = g_ptr_array_index (servers, i);
      EnvoiSecurity security = envoi_preset_server_get_security (server);

      g_string_append_printf (out, "%s%s:%u:%s", i > 0 ? " " : "",
                              envoi_preset_server_get_hostname (server),
                              envoi_preset_server_get_port (server),
                              security == ENVOI_SECURITY_TLS ? "tls"
                              : security == ENVOI_SECURITY_STARTTLS ? "starttls" : "none");
    }

  return g_string_free (out, FALSE);
}

static GPtrArray *
parse_string (const char  *xml,
              GError     **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (xml, strlen (xml));

  return envoi_preset_parse_bytes (bytes, NULL, error);
}

#define DOC_HEAD "<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\">\n<emailProvider id=\"example\">\n"
#define DOC_TAIL "</emailProvider>\n</clientConfig>\n"
#define SMTP(host, port, socket) \
  "<outgoingServer type=\"smtp\"><hostname>" host "</hostname><port>" port "</port>" \
  "<socketType>" socket "</socketType><username>%EMAILADDRESS%</username>" \
  "<authentication>password-cleartext</authentication></outgoingServer>\n"

/* Every built-in preset, as PROVIDERS.md says. */
typedef struct
{
  const char          *id;
  EnvoiPresetCategory  category;
  const char          *outgoing;
  EnvoiUsernameRule    rule;
  const char          *username;   /* for LITERAL */
  const char          *incoming;
  gboolean             unverified;
  gboolean             pinned;
} PresetCase;

#define MAILBOX ENVOI_PRESET_CATEGORY_MAILBOX
#define SERVICE ENVOI_PRESET_CATEGORY_SERVICE
#define ADDRESS ENVOI_USERNAME_RULE_ADDRESS
#define LOCAL   ENVOI_USERNAME_RULE_LOCAL_PART
#define LITERAL ENVOI_USERNAME_RULE_LITERAL
#define TOKEN   ENVOI_USERNAME_RULE_TOKEN
#define ASK     ENVOI_USERNAME_RULE_ASK

static const PresetCase preset_cases[] = {
  { "gmail", MAILBOX, "smtp.gmail.com:465:tls smtp.gmail.com:587:starttls", ADDRESS, NULL, "" },
  { "outlook", MAILBOX, "smtp-mail.outlook.com:587:starttls", ADDRESS, NULL, "" },
  { "microsoft-365", MAILBOX, "smtp.office365.com:587:starttls", ADDRESS, NULL, "" },
  { "yahoo", MAILBOX, "smtp.mail.yahoo.com:465:tls", ADDRESS, NULL, "" },
  { "yahoo-japan", MAILBOX, "smtp.mail.yahoo.co.jp:465:tls", LOCAL, NULL, "", TRUE },
  { "icloud", MAILBOX, "smtp.mail.me.com:587:starttls", ADDRESS, NULL, "" },
  { "fastmail", MAILBOX, "smtp.fastmail.com:465:tls", ADDRESS, NULL, "" },
  { "gmx-net", MAILBOX, "mail.gmx.net:465:tls mail.gmx.net:587:starttls", ADDRESS, NULL, "" },
  { "gmx-com", MAILBOX, "mail.gmx.com:465:tls mail.gmx.com:587:starttls", ADDRESS, NULL, "" },
  { "ovh", MAILBOX, "ssl0.ovh.net:587:starttls ssl0.ovh.net:465:tls", ADDRESS, NULL,
    "ssl0.ovh.net:993:tls" },
  { "gandi", MAILBOX, "mail.gandi.net:587:starttls mail.gandi.net:465:tls", ADDRESS, NULL,
    "mail.gandi.net:993:tls" },
  { "zoho-eu", MAILBOX, "smtp.zoho.eu:587:starttls smtp.zoho.eu:465:tls", ADDRESS, NULL,
    "imap.zoho.eu:993:tls" },
  { "zoho-global", MAILBOX, "smtp.zoho.com:587:starttls smtp.zoho.com:465:tls", ADDRESS, NULL,
    "" },
  { "infomaniak", MAILBOX, "mail.infomaniak.com:587:starttls mail.infomaniak.com:465:tls",
    ADDRESS, NULL, "mail.infomaniak.com:993:tls" },
  { "proton-bridge", MAILBOX, "127.0.0.1:1025:starttls", ADDRESS, NULL,
    "127.0.0.1:1143:starttls", FALSE, TRUE },
  { "orange", MAILBOX, "smtp.orange.fr:465:tls", ADDRESS, NULL, "" },
  { "free", MAILBOX, "smtp.free.fr:465:tls", LOCAL, NULL, "" },
  { "laposte", MAILBOX, "smtp.laposte.net:465:tls", LOCAL, NULL, "", TRUE },
  { "sfr", MAILBOX, "smtp.sfr.fr:465:tls", ADDRESS, NULL, "" },
  { "sakura", MAILBOX,
    "%HOSTPART%.sakura.ne.jp:587:starttls %HOSTPART%.sakura.ne.jp:465:tls", ADDRESS, NULL, "",
    TRUE },
  { "onamae", MAILBOX, "smtp.%EMAILDOMAIN%:587:starttls smtp.%EMAILDOMAIN%:465:tls", ADDRESS,
    NULL, "" },

  { "sendgrid", SERVICE,
    "smtp.sendgrid.net:587:starttls smtp.sendgrid.net:465:tls smtp.sendgrid.net:2525:starttls "
    "smtp.sendgrid.net:25:starttls", LITERAL, "apikey", "" },
  { "mailgun-us", SERVICE,
    "smtp.mailgun.org:587:starttls smtp.mailgun.org:465:tls smtp.mailgun.org:2525:starttls "
    "smtp.mailgun.org:25:starttls", ASK, NULL, "" },
  { "mailgun-eu", SERVICE,
    "smtp.eu.mailgun.org:587:starttls smtp.eu.mailgun.org:465:tls "
    "smtp.eu.mailgun.org:2525:starttls smtp.eu.mailgun.org:25:starttls", ASK, NULL, "" },
  { "postmark", SERVICE,
    "smtp.postmarkapp.com:587:starttls smtp.postmarkapp.com:2525:starttls "
    "smtp.postmarkapp.com:25:starttls", TOKEN, NULL, "" },
  { "resend", SERVICE,
    "smtp.resend.com:465:tls smtp.resend.com:587:starttls smtp.resend.com:2465:tls "
    "smtp.resend.com:2587:starttls smtp.resend.com:25:starttls", LITERAL, "resend", "" },
  { "brevo", SERVICE,
    "smtp-relay.brevo.com:587:starttls smtp-relay.brevo.com:465:tls "
    "smtp-relay.brevo.com:2525:starttls", ASK, NULL, "" },
};

/* Amazon SES: one preset per region, and one where the user types the region. */
static const char * const ses_regions[] = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
  "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
  "%HOSTPART%",
};

static void
check_preset (const PresetCase *expected)
{
  EnvoiPreset *preset = envoi_preset_catalog_lookup_id (expected->id);
  g_autofree char *outgoing = NULL;
  g_autofree char *incoming = NULL;
  GPtrArray *servers;
  const char *url;

  g_test_message ("preset %s", expected->id);
  g_assert_nonnull (preset);
  g_assert_cmpstr (envoi_preset_get_id (preset), ==, expected->id);
  g_assert_cmpint (envoi_preset_get_category (preset), ==, expected->category);
  g_assert_cmpint (envoi_preset_get_unverified (preset), ==, expected->unverified);
  g_assert_cmpuint (envoi_preset_get_problems (preset)->len, ==, 0);

  servers = envoi_preset_get_outgoing_servers (preset);
  outgoing = servers_to_string (servers);
  g_assert_cmpstr (outgoing, ==, expected->outgoing);
  incoming = servers_to_string (envoi_preset_get_incoming_servers (preset));
  g_assert_cmpstr (incoming, ==, expected->incoming);

  for (guint i = 0; i < servers->len; i++)
    {
      EnvoiPresetServer *server = g_ptr_array_index (servers, i);

      g_assert_cmpint (envoi_preset_server_get_service (server), ==, ENVOI_SERVICE_SMTP);
      g_assert_cmpint (envoi_preset_server_get_username_rule (server), ==, expected->rule);
      g_assert_cmpint (envoi_preset_server_get_pinned (server), ==, expected->pinned);
      g_assert_false (envoi_preset_server_get_pop_before_smtp (server));
      g_assert_true (envoi_preset_server_supports_auth_method (server,
                                                               ENVOI_AUTH_METHOD_AUTOMATIC));
      if (expected->rule == LITERAL)
        g_assert_cmpstr (envoi_preset_server_get_username (server), ==, expected->username);
      else if (expected->rule == ADDRESS)
        g_assert_cmpstr (envoi_preset_server_get_username (server), ==, "%EMAILADDRESS%");
      else if (expected->rule == LOCAL)
        g_assert_cmpstr (envoi_preset_server_get_username (server), ==, "%EMAILLOCALPART%");
      else
        g_assert_null (envoi_preset_server_get_username (server));
    }

  /* Users of these must know what to type for the password. */
  if (expected->rule == ASK)
    {
      g_assert_nonnull (envoi_preset_get_username_hint (preset));
      g_assert_nonnull (envoi_preset_get_password_hint (preset));
    }
  if (expected->rule == TOKEN || expected->rule == LITERAL)
    g_assert_nonnull (envoi_preset_get_password_hint (preset));
  if (expected->unverified)
    g_assert_nonnull (strstr (envoi_preset_get_note (preset),
                              "check the provider’s help page"));
  if (expected->pinned)
    g_assert_true (envoi_preset_server_get_pinned (envoi_preset_get_incoming_server
                                                     (preset, ENVOI_SERVICE_IMAP)));

  url = envoi_preset_get_documentation_url (preset);
  g_assert_nonnull (url);
  g_assert_true (g_str_has_prefix (url, "https://"));
  g_assert_nonnull (envoi_preset_get_display_name (preset));
  g_assert_nonnull (envoi_preset_get_short_name (preset));
}

static void
test_builtin_each (void)
{
  g_autoptr(GHashTable) checked = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  guint n_items = g_list_model_get_n_items (presets);

  for (guint i = 0; i < G_N_ELEMENTS (preset_cases); i++)
    {
      check_preset (&preset_cases[i]);
      g_hash_table_add (checked, (gpointer) preset_cases[i].id);
    }

  for (guint i = 0; i < G_N_ELEMENTS (ses_regions); i++)
    {
      const char *region = ses_regions[i];
      gboolean other = g_str_equal (region, "%HOSTPART%");
      g_autofree char *id = other ? g_strdup ("amazon-ses") : g_strconcat ("amazon-ses-", region,
                                                                            NULL);
      g_autofree char *host = g_strdup_printf ("email-smtp.%s.amazonaws.com", region);
      g_autofree char *servers = g_strdup_printf ("%1$s:587:starttls %1$s:465:tls "
                                                  "%1$s:2587:starttls %1$s:2465:tls "
                                                  "%1$s:25:starttls", host);
      PresetCase expected = { id, SERVICE, servers, ASK, NULL, "" };
      EnvoiPreset *preset;

      check_preset (&expected);
      preset = envoi_preset_catalog_lookup_id (id);
      g_assert_cmpint (envoi_preset_server_needs_host_part (envoi_preset_get_outgoing_server
                                                              (preset)), ==, other);
      g_hash_table_add (checked, id);
      g_ptr_array_add (owned, g_steal_pointer (&id));
    }

  /* No preset goes untested. */
  g_assert_cmpuint (n_items, ==, g_hash_table_size (checked));
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);

      g_assert_true (g_hash_table_contains (checked, envoi_preset_get_id (preset)));
    }
}

static void
test_builtin_files (void)
{
  /* Every file of data/providers/ is in the resource, and every id is its file's name. */
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "..", "data", "providers",
                                                     NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  const char *name;
  guint n_files = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *id = NULL;

      if (!g_str_has_suffix (name, ".xml") || g_str_has_suffix (name, ".gresource.xml"))
        continue;

      n_files++;
      id = g_strndup (name, strlen (name) - strlen (".xml"));
      g_assert_nonnull (envoi_preset_catalog_lookup_id (id));
    }

  g_assert_cmpuint (n_files, ==, g_list_model_get_n_items (presets));
}

static void
test_builtin_order (void)
{
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  guint n_items = g_list_model_get_n_items (presets);

  g_assert_cmpuint (n_items, >, 40);
  g_assert_true (presets == envoi_preset_catalog_get_builtin ());

  for (guint i = 1; i < n_items; i++)
    {
      g_autoptr(EnvoiPreset) a = g_list_model_get_item (presets, i - 1);
      g_autoptr(EnvoiPreset) b = g_list_model_get_item (presets, i);

      g_assert_cmpint (envoi_preset_get_category (a), <=, envoi_preset_get_category (b));
      if (envoi_preset_get_category (a) == envoi_preset_get_category (b))
        g_assert_cmpint (g_utf8_collate (envoi_preset_get_display_name (a),
                                         envoi_preset_get_display_name (b)), <=, 0);
    }
}

static void
test_builtin_ids_and_domains (void)
{
  g_autoptr(GHashTable) domains = g_hash_table_new (g_str_hash, g_str_equal);
  GListModel *presets = envoi_preset_catalog_get_builtin ();

  for (guint i = 0; i < g_list_model_get_n_items (presets); i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);
      const char * const *list = envoi_preset_get_domains (preset);
      const char *id = envoi_preset_get_id (preset);

      /* Ids are stored in the account's `provider` key: [a-z0-9-]+ */
      for (const char *p = id; *p != '\0'; p++)
        g_assert_true (g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-');

      /* A domain belongs to one preset only. */
      for (guint j = 0; list[j] != NULL; j++)
        {
          g_test_message ("%s: %s", id, list[j]);
          g_assert_false (g_hash_table_contains (domains, list[j]));
          g_hash_table_add (domains, (gpointer) list[j]);
          g_assert_true (envoi_preset_catalog_lookup_domain (list[j]) == preset);
        }
    }
}

static void
test_builtin_translatable (void)
{
  const char * const *strings = envoi_preset_catalog_get_translatable_strings ();
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);
  GListModel *presets = envoi_preset_catalog_get_builtin ();

  for (guint i = 0; strings[i] != NULL; i++)
    g_hash_table_add (listed, (gpointer) strings[i]);

  /* The tests run in the C locale: the getters give the English text back. */
  for (guint i = 0; i < g_list_model_get_n_items (presets); i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);
      const char *texts[] = {
        envoi_preset_get_display_name (preset),
        envoi_preset_get_short_name (preset),
        envoi_preset_get_note (preset),
        envoi_preset_get_password_hint (preset),
        envoi_preset_get_username_hint (preset),
        envoi_preset_get_documentation_description (preset),
      };

      for (guint j = 0; j < G_N_ELEMENTS (texts); j++)
        {
          if (texts[j] == NULL)
            continue;
          if (!g_hash_table_contains (listed, texts[j]))
            g_error ("Preset %s: add N_(\"%s\") to translatable_strings in envoi-preset-catalog.c",
                     envoi_preset_get_id (preset), texts[j]);
          g_hash_table_add (used, (gpointer) texts[j]);
        }
    }

  /* And none is left over from a preset that changed. */
  for (guint i = 0; strings[i] != NULL; i++)
    if (!g_hash_table_contains (used, strings[i]))
      g_error ("“%s” is listed in envoi-preset-catalog.c but no preset uses it", strings[i]);
}

static void
test_lookup_domain (void)
{
  static const struct {
    const char *domain;
    const char *id;
  } cases[] = {
    { "gmail.com", "gmail" },
    { "googlemail.com", "gmail" },
    { "GMail.COM", "gmail" },
    { "gmail.com.", "gmail" },
    { "outlook.com", "outlook" },
    { "hotmail.com", "outlook" },
    { "hotmail.fr", "outlook" },
    { "live.jp", "outlook" },
    { "yahoo.com", "yahoo" },
    { "yahoo.fr", "yahoo" },
    { "yahoo.co.jp", "yahoo-japan" },
    { "icloud.com", "icloud" },
    { "me.com", "icloud" },
    { "fastmail.com", "fastmail" },
    { "gmx.net", "gmx-net" },
    { "gmx.de", "gmx-net" },
    { "gmx.com", "gmx-com" },
    { "gmx.fr", "gmx-com" },
    { "zohomail.eu", "zoho-eu" },
    { "zoho.com", "zoho-global" },
    { "ik.me", "infomaniak" },
    { "proton.me", "proton-bridge" },
    { "pm.me", "proton-bridge" },
    { "orange.fr", "orange" },
    { "wanadoo.fr", "orange" },
    { "free.fr", "free" },
    { "laposte.net", "laposte" },
    { "sfr.fr", "sfr" },
    { "neuf.fr", "sfr" },
    { "club-internet.fr", "sfr" },
    { "example.com", NULL },
    { "sub.gmail.com", NULL },
    { "gmail.co", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      EnvoiPreset *preset = envoi_preset_catalog_lookup_domain (cases[i].domain);

      g_test_message ("domain “%s”", cases[i].domain);
      g_assert_cmpstr (preset != NULL ? envoi_preset_get_id (preset) : NULL, ==, cases[i].id);
    }
}

static void
test_lookup_address (void)
{
  static const struct {
    const char *address;
    const char *id;
  } cases[] = {
    { "jean.dupont@wanadoo.fr", "orange" },
    { "Taro.Yamada@Yahoo.co.jp", "yahoo-japan" },
    { "odd\"@\"local@gmail.com", "gmail" },
    { "someone@gmx.com", "gmx-com" },
    { "someone@example.org", NULL },
    { "no-at-sign", NULL },
    { "@gmail.com", NULL },
    { "user@", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      EnvoiPreset *preset = envoi_preset_catalog_lookup_address (cases[i].address);

      g_test_message ("address “%s”", cases[i].address);
      g_assert_cmpstr (preset != NULL ? envoi_preset_get_id (preset) : NULL, ==, cases[i].id);
    }

  g_assert_null (envoi_preset_catalog_lookup_id ("custom"));
  g_assert_null (envoi_preset_catalog_lookup_id (""));
}

static void
test_expand (void)
{
  static const struct {
    const char *template_;
    const char *address;
    const char *host_part;
    const char *expected;   /* NULL: error */
    int         code;
  } cases[] = {
    { "%EMAILADDRESS%", "jean.dupont@orange.fr", NULL, "jean.dupont@orange.fr" },
    { "%EMAILLOCALPART%", "taro@yahoo.co.jp", NULL, "taro" },
    { "smtp.%EMAILDOMAIN%", "hanako@example.jp", NULL, "smtp.example.jp" },
    { "%EMAILLOCALPART%+x@%EMAILDOMAIN%", "a@b@c.example", NULL, "a@b+x@c.example" },
    { "apikey", NULL, NULL, "apikey" },
    { "resend", "ignored@example.com", NULL, "resend" },
    { "%UNKNOWN%-%", NULL, NULL, "%UNKNOWN%-%" },
    { "", NULL, NULL, "" },
    { "%HOSTPART%.sakura.ne.jp", NULL, "example", "example.sakura.ne.jp" },
    { "email-smtp.%HOSTPART%.amazonaws.com", NULL, "eu-west-3",
      "email-smtp.eu-west-3.amazonaws.com" },
    { "%EMAILADDRESS%", "no-at-sign", NULL, NULL, ENVOI_PRESET_ERROR_INVALID_ADDRESS },
    { "%EMAILADDRESS%", "@example.com", NULL, NULL, ENVOI_PRESET_ERROR_INVALID_ADDRESS },
    { "%EMAILDOMAIN%", "user@", NULL, NULL, ENVOI_PRESET_ERROR_INVALID_ADDRESS },
    { "%EMAILLOCALPART%", "us er@example.com", NULL, NULL, ENVOI_PRESET_ERROR_INVALID_ADDRESS },
    { "%EMAILLOCALPART%", NULL, NULL, NULL, ENVOI_PRESET_ERROR_INVALID_ADDRESS },
    { "%HOSTPART%.sakura.ne.jp", NULL, NULL, NULL, ENVOI_PRESET_ERROR_MISSING_HOST_PART },
    { "%HOSTPART%.sakura.ne.jp", NULL, "", NULL, ENVOI_PRESET_ERROR_MISSING_HOST_PART },
    { "%HOSTPART%.sakura.ne.jp", NULL, "evil.com/", NULL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "%HOSTPART%.sakura.ne.jp", NULL, "a b", NULL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "%HOSTPART%.sakura.ne.jp", NULL, "-x", NULL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "%HOSTPART%.sakura.ne.jp", NULL, "x.", NULL, ENVOI_PRESET_ERROR_INVALID_VALUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *result = NULL;

      g_test_message ("template “%s”", cases[i].template_);
      result = envoi_preset_expand (cases[i].template_, cases[i].address, cases[i].host_part,
                                    &error);
      if (cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (result, ==, cases[i].expected);
        }
      else
        {
          g_assert_error (error, ENVOI_PRESET_ERROR, cases[i].code);
          g_assert_null (result);
        }
    }
}

static void
test_expand_server (void)
{
  g_autoptr(GError) error = NULL;
  EnvoiPresetServer *server;
  char *text;

  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("free"));
  text = envoi_preset_server_dup_username_for (server, "jean@free.fr", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "jean");
  g_free (text);

  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("gmail"));
  text = envoi_preset_server_dup_username_for (server, "a.b@gmail.com", &error);
  g_assert_cmpstr (text, ==, "a.b@gmail.com");
  g_free (text);
  g_assert_true (envoi_preset_server_supports_auth_method (server, ENVOI_AUTH_METHOD_XOAUTH2));
  g_assert_cmpint (envoi_preset_server_get_auth_method (server), ==, ENVOI_AUTH_METHOD_AUTOMATIC);

  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("sendgrid"));
  text = envoi_preset_server_dup_username_for (server, "me@example.com", &error);
  g_assert_cmpstr (text, ==, "apikey");
  g_free (text);

  /* The user types these: nothing to propose. */
  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("postmark"));
  text = envoi_preset_server_dup_username_for (server, "me@example.com", &error);
  g_assert_cmpstr (text, ==, "");
  g_free (text);

  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("onamae"));
  g_assert_false (envoi_preset_server_needs_host_part (server));
  text = envoi_preset_server_dup_hostname_for (server, "hanako@example.jp", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "smtp.example.jp");
  g_free (text);

  server = envoi_preset_get_outgoing_server (envoi_preset_catalog_lookup_id ("sakura"));
  g_assert_true (envoi_preset_server_needs_host_part (server));
  text = envoi_preset_server_dup_hostname_for (server, "me@example.jp", NULL, &error);
  g_assert_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MISSING_HOST_PART);
  g_assert_null (text);
  g_clear_error (&error);
  text = envoi_preset_server_dup_hostname_for (server, "me@example.jp", "example", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "example.sakura.ne.jp");
  g_free (text);
}

/* A token-as-login service: the token logs in as both, and never lands in the settings. */
static void
test_token_login (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("token");
  const char *token = "server-token-0123";

  g_object_set (account, "address", "ops@example.com", "provider", "postmark", NULL);
  g_assert_cmpstr (envoi_account_get_username (account), ==, "");
  g_assert_true (envoi_preset_catalog_get_login (account, token) == token);

  /* A user name typed by hand wins; without a token there is nothing to borrow. */
  g_object_set (account, "username", "explicit", NULL);
  g_assert_cmpstr (envoi_preset_catalog_get_login (account, token), ==, "explicit");
  g_object_set (account, "username", "", NULL);
  g_assert_cmpstr (envoi_preset_catalog_get_login (account, NULL), ==, "ops@example.com");

  /* Other presets log in with the address as usual. */
  g_object_set (account, "provider", "gmail", NULL);
  g_assert_cmpstr (envoi_preset_catalog_get_login (account, token), ==, "ops@example.com");
}

static void
test_rank (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  g_autoptr(GPtrArray) ranked = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *ovh = NULL;

  presets = parse_string (DOC_HEAD
                          SMTP ("mx.example.com", "25", "plain")
                          SMTP ("mx.example.com", "587", "STARTTLS")
                          SMTP ("mx.example.com", "465", "SSL")
                          SMTP ("mx.example.com", "2525", "STARTTLS")
                          SMTP ("mx.example.com", "2465", "SSL")
                          DOC_TAIL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (presets->len, ==, 1);

  before = servers_to_string (envoi_preset_get_outgoing_servers (presets->pdata[0]));
  g_assert_cmpstr (before, ==, "mx.example.com:25:none mx.example.com:587:starttls "
                   "mx.example.com:465:tls mx.example.com:2525:starttls mx.example.com:2465:tls");
  ranked = envoi_preset_rank_servers (envoi_preset_get_outgoing_servers (presets->pdata[0]));
  after = servers_to_string (ranked);
  g_assert_cmpstr (after, ==, "mx.example.com:465:tls mx.example.com:2465:tls "
                   "mx.example.com:587:starttls mx.example.com:2525:starttls "
                   "mx.example.com:25:none");
  g_clear_pointer (&ranked, g_ptr_array_unref);

  ranked = envoi_preset_rank_servers (envoi_preset_get_outgoing_servers
                                        (envoi_preset_catalog_lookup_id ("ovh")));
  ovh = servers_to_string (ranked);
  g_assert_cmpstr (ovh, ==, "ssl0.ovh.net:465:tls ssl0.ovh.net:587:starttls");
}

static void
test_parse_full (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  g_autofree char *outgoing = NULL;
  g_autofree char *incoming = NULL;
  EnvoiPreset *preset;
  EnvoiPresetServer *server;
  GPtrArray *servers;
  const GError *problem;
  const char * const *domains;

  presets = parse_string (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE clientConfig>\n"
    "<clientConfig version=\"1.1\" xmlns:e=\"" ENVOI_PRESET_NAMESPACE "\""
    " xmlns:x=\"https://example.com/other\">\n"
    "  <emailProvider id=\"example.com\">\n"
    "    <domain>Example.COM</domain>\n"
    "    <domain>example.net</domain>\n"
    "    <domain>example.com</domain>\n"
    "    <displayName>Example &amp; Co\n      Mail</displayName>\n"
    "    <incomingServer type=\"exchange\"><hostname>ews.example.com</hostname></incomingServer>\n"
    "    <incomingServer type=\"pop3\"><hostname>pop.example.com</hostname><port>995</port>"
    "<socketType>SSL</socketType><username>%EMAILLOCALPART%</username>"
    "<authentication>password-cleartext</authentication><pop3><leaveMessagesOnServer>true"
    "</leaveMessagesOnServer></pop3></incomingServer>\n"
    "    <incomingServer type=\"imap\"><hostname>imap.example.com</hostname><port>143</port>"
    "<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username></incomingServer>\n"
    "    <outgoingServer type=\"smtp\"><hostname>smtp.example.com</hostname><port>587</port>"
    "<socketType>TLS1.3</socketType></outgoingServer>\n"
    "    <outgoingServer type=\"smtp\">\n"
    "      <hostname> smtp.example.com </hostname><port> 587 </port>"
    "<socketType>STARTTLS</socketType>\n"
    "      <username>user-%EMAILLOCALPART%</username>\n"
    "      <authentication>GSSAPI</authentication>\n"
    "      <authentication>password-encrypted</authentication>\n"
    "      <authentication>OAuth2</authentication>\n"
    "      <authentication>NTLM</authentication>\n"
    "      <x:extra><hostname>evil.example</hostname></x:extra>\n"
    "      <addThisServer>true</addThisServer>\n"
    "    </outgoingServer>\n"
    "    <outgoingServer type=\"smtp\"><hostname>smtp.example.com</hostname><port>25</port>"
    "<socketType>plain</socketType><username>relay</username>"
    "<authentication>smtp-after-pop</authentication></outgoingServer>\n"
    "    <outgoingServer type=\"smtp\"><hostname>10.0.0.1</hostname><port>25</port>"
    "<socketType>plain</socketType>"
    "<authentication>client-IP-address</authentication></outgoingServer>\n"
    "    <outgoingServer type=\"smtp\"><hostname>bad port.example.com</hostname><port>0</port>"
    "<socketType>SSL</socketType></outgoingServer>\n"
    "    <documentation url=\"javascript:alert(1)\"><descr>Evil</descr></documentation>\n"
    "    <documentation url=\"https://example.com/help\">\n"
    "      <descr lang=\"fr\">Aide</descr><descr lang=\"en\">Help</descr>\n"
    "    </documentation>\n"
    "    <enable visiturl=\"https://example.com/enable\"><instruction>Enable</instruction>"
    "</enable>\n"
    "    <e:category>service</e:category>\n"
    "    <e:note>Be\n       nice.</e:note>\n"
    "    <e:future-element>ignored</e:future-element>\n"
    "  </emailProvider>\n"
    "</clientConfig>\n", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (presets->len, ==, 1);
  preset = presets->pdata[0];

  g_assert_cmpstr (envoi_preset_get_id (preset), ==, "example.com");
  g_assert_cmpstr (envoi_preset_get_display_name (preset), ==, "Example & Co Mail");
  g_assert_cmpstr (envoi_preset_get_short_name (preset), ==, "Example & Co Mail");
  domains = envoi_preset_get_domains (preset);
  g_assert_cmpuint (g_strv_length ((char **) domains), ==, 2);
  g_assert_cmpstr (domains[0], ==, "example.com");
  g_assert_cmpstr (domains[1], ==, "example.net");
  g_assert_true (envoi_preset_has_domain (preset, "EXAMPLE.NET."));
  g_assert_cmpint (envoi_preset_get_category (preset), ==, ENVOI_PRESET_CATEGORY_SERVICE);
  g_assert_cmpstr (envoi_preset_get_note (preset), ==, "Be nice.");
  g_assert_cmpstr (envoi_preset_get_documentation_url (preset), ==, "https://example.com/help");
  g_assert_cmpstr (envoi_preset_get_documentation_description (preset), ==, "Help");
  g_assert_null (envoi_preset_get_password_hint (preset));
  g_assert_false (envoi_preset_get_unverified (preset));

  servers = envoi_preset_get_outgoing_servers (preset);
  outgoing = servers_to_string (servers);
  g_assert_cmpstr (outgoing, ==, "smtp.example.com:587:starttls smtp.example.com:25:none "
                   "10.0.0.1:25:none");
  incoming = servers_to_string (envoi_preset_get_incoming_servers (preset));
  g_assert_cmpstr (incoming, ==, "pop.example.com:995:tls imap.example.com:143:starttls");

  server = servers->pdata[0];
  g_assert_cmpint (envoi_preset_server_get_username_rule (server), ==,
                   ENVOI_USERNAME_RULE_TEMPLATE);
  g_assert_cmpint (envoi_preset_server_get_auth_method (server), ==, ENVOI_AUTH_METHOD_CRAM_MD5);
  g_assert_true (envoi_preset_server_supports_auth_method (server, ENVOI_AUTH_METHOD_XOAUTH2));
  g_assert_true (envoi_preset_server_supports_auth_method (server, ENVOI_AUTH_METHOD_NTLM));
  g_assert_false (envoi_preset_server_supports_auth_method (server, ENVOI_AUTH_METHOD_PLAIN));
  g_assert_false (envoi_preset_server_get_pop_before_smtp (server));

  server = servers->pdata[1];
  g_assert_cmpint (envoi_preset_server_get_username_rule (server), ==, ENVOI_USERNAME_RULE_LITERAL);
  g_assert_cmpstr (envoi_preset_server_get_username (server), ==, "relay");
  g_assert_true (envoi_preset_server_get_pop_before_smtp (server));
  g_assert_cmpint (envoi_preset_server_get_auth_method (server), ==, ENVOI_AUTH_METHOD_NONE);

  server = servers->pdata[2];
  g_assert_cmpint (envoi_preset_server_get_username_rule (server), ==, ENVOI_USERNAME_RULE_ASK);
  g_assert_cmpint (envoi_preset_server_get_auth_method (server), ==, ENVOI_AUTH_METHOD_NONE);

  g_assert_nonnull (envoi_preset_get_incoming_server (preset, ENVOI_SERVICE_POP3));
  server = envoi_preset_get_incoming_server (preset, ENVOI_SERVICE_IMAP);
  g_assert_cmpint (envoi_preset_server_get_auth_method (server), ==,
                   ENVOI_AUTH_METHOD_AUTOMATIC);

  /* What was skipped, in order: the socket type, the bad server name, the javascript: link. */
  g_assert_cmpuint (envoi_preset_get_problems (preset)->len, ==, 3);
  problem = envoi_preset_get_problems (preset)->pdata[0];
  g_assert_error ((GError *) problem, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_UNKNOWN_SOCKET_TYPE);
  g_assert_nonnull (strstr (problem->message, "TLS1.3"));
  problem = envoi_preset_get_problems (preset)->pdata[1];
  g_assert_error ((GError *) problem, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_INVALID_VALUE);
  problem = envoi_preset_get_problems (preset)->pdata[2];
  g_assert_error ((GError *) problem, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_INVALID_VALUE);
}

static void
test_parse_hostile (void)
{
  static const struct {
    const char *name;
    const char *xml;
    int         code;
  } cases[] = {
    { "not xml", "this is not xml", ENVOI_PRESET_ERROR_MALFORMED },
    { "truncated", "<clientConfig><emailProvider id=\"x\">", ENVOI_PRESET_ERROR_MALFORMED },
    { "mismatched", "<clientConfig><a></b></clientConfig>", ENVOI_PRESET_ERROR_MALFORMED },
    { "bad utf-8", "<clientConfig>\xff\xfe</clientConfig>", ENVOI_PRESET_ERROR_MALFORMED },
    { "entity", "<!DOCTYPE c [<!ENTITY a \"aaaaaaaa\">]><clientConfig>&a;&a;</clientConfig>",
      ENVOI_PRESET_ERROR_MALFORMED },
    { "html", "<html><body>Not found</body></html>", ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG },
    { "envoi root", "<e:clientConfig xmlns:e=\"" ENVOI_PRESET_NAMESPACE "\"/>",
      ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG },
    { "no provider", "<clientConfig version=\"1.1\"/>", ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG },
    { "no id", "<clientConfig><emailProvider>" SMTP ("a.example", "587", "STARTTLS")
      "</emailProvider></clientConfig>", ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "empty id", "<clientConfig><emailProvider id=\"\">" SMTP ("a.example", "587", "STARTTLS")
      "</emailProvider></clientConfig>", ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "id with space", "<clientConfig><emailProvider id=\"a b\">"
      SMTP ("a.example", "587", "STARTTLS") "</emailProvider></clientConfig>",
      ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "no server", DOC_HEAD "<domain>example.com</domain>" DOC_TAIL,
      ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER },
    { "only imap", DOC_HEAD "<incomingServer type=\"imap\"><hostname>i.example</hostname>"
      "<port>993</port><socketType>SSL</socketType></incomingServer>" DOC_TAIL,
      ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER },
    { "only exchange", DOC_HEAD "<outgoingServer type=\"exchange\"><hostname>e.example"
      "</hostname><port>443</port><socketType>SSL</socketType></outgoingServer>" DOC_TAIL,
      ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER },
    { "no hostname", DOC_HEAD "<outgoingServer type=\"smtp\"><port>587</port>"
      "<socketType>STARTTLS</socketType></outgoingServer>" DOC_TAIL,
      ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "empty hostname", DOC_HEAD SMTP ("", "587", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "no port", DOC_HEAD "<outgoingServer type=\"smtp\"><hostname>a.example</hostname>"
      "<socketType>STARTTLS</socketType></outgoingServer>" DOC_TAIL,
      ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "no socket type", DOC_HEAD "<outgoingServer type=\"smtp\"><hostname>a.example"
      "</hostname><port>587</port></outgoingServer>" DOC_TAIL,
      ENVOI_PRESET_ERROR_MISSING_FIELD },
    { "port text", DOC_HEAD SMTP ("a.example", "smtp", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "port 0", DOC_HEAD SMTP ("a.example", "0", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "port 65536", DOC_HEAD SMTP ("a.example", "65536", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "port negative", DOC_HEAD SMTP ("a.example", "-25", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "port huge", DOC_HEAD SMTP ("a.example", "99999999999999999999999", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "port hex", DOC_HEAD SMTP ("a.example", "0x24b", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_PORT },
    { "socket type", DOC_HEAD SMTP ("a.example", "587", "TLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_UNKNOWN_SOCKET_TYPE },
    { "hostname space", DOC_HEAD SMTP ("smtp example.com", "587", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "hostname url", DOC_HEAD SMTP ("smtp.example.com/x", "587", "STARTTLS") DOC_TAIL,
      ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "username space", DOC_HEAD "<outgoingServer type=\"smtp\"><hostname>a.example"
      "</hostname><port>587</port><socketType>SSL</socketType><username>a b</username>"
      "</outgoingServer>" DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "username rule", "<clientConfig xmlns:envoi=\"" ENVOI_PRESET_NAMESPACE "\">"
      "<emailProvider id=\"x\"><outgoingServer type=\"smtp\"><hostname>a.example</hostname>"
      "<port>587</port><socketType>SSL</socketType><envoi:username-rule>guess"
      "</envoi:username-rule></outgoingServer>" DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "pinned", "<clientConfig xmlns:envoi=\"" ENVOI_PRESET_NAMESPACE "\">"
      "<emailProvider id=\"x\"><outgoingServer type=\"smtp\"><hostname>a.example</hostname>"
      "<port>587</port><socketType>SSL</socketType><envoi:pinned>yes</envoi:pinned>"
      "</outgoingServer>" DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "domain", DOC_HEAD "<domain>bad domain</domain>" SMTP ("a.example", "587", "SSL")
      DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "domain placeholder", DOC_HEAD "<domain>%EMAILDOMAIN%</domain>"
      SMTP ("a.example", "587", "SSL") DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "category", "<clientConfig xmlns:envoi=\"" ENVOI_PRESET_NAMESPACE "\">"
      "<emailProvider id=\"x\">" SMTP ("a.example", "587", "SSL")
      "<envoi:category>spam</envoi:category>" DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
    { "unverified", "<clientConfig xmlns:envoi=\"" ENVOI_PRESET_NAMESPACE "\">"
      "<emailProvider id=\"x\">" SMTP ("a.example", "587", "SSL")
      "<envoi:unverified>maybe</envoi:unverified>" DOC_TAIL, ENVOI_PRESET_ERROR_INVALID_VALUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) presets = NULL;

      g_test_message ("hostile document: %s", cases[i].name);
      presets = parse_string (cases[i].xml, &error);
      g_assert_error (error, ENVOI_PRESET_ERROR, cases[i].code);
      g_assert_null (presets);
      g_assert_cmpstr (error->message, !=, "");
    }
}

static void
check_error (GString    *xml,
             int         code)
{
  g_autoptr(GBytes) bytes = g_bytes_new (xml->str, xml->len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = envoi_preset_parse_bytes (bytes, NULL, &error);

  g_assert_error (error, ENVOI_PRESET_ERROR, code);
  g_assert_null (presets);
}

static void
test_parse_limits (void)
{
  g_autoptr(GString) xml = g_string_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  static const char nul_doc[] = "<clientConfig>\0</clientConfig>";

  /* Empty, and with a NUL byte. */
  bytes = g_bytes_new ("", 0);
  g_assert_null (envoi_preset_parse_bytes (bytes, NULL, &error));
  g_assert_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MALFORMED);
  g_clear_error (&error);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = g_bytes_new (nul_doc, sizeof nul_doc - 1);
  g_assert_null (envoi_preset_parse_bytes (bytes, NULL, &error));
  g_assert_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MALFORMED);

  /* Over 1 MiB, refused before parsing even if well-formed. */
  g_string_append (xml, DOC_HEAD SMTP ("a.example", "587", "SSL") "<!-- ");
  while (xml->len <= ENVOI_PRESET_MAX_DOCUMENT_SIZE)
    g_string_append (xml, "padding padding padding padding ");
  g_string_append (xml, "-->" DOC_TAIL);
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  /* Deep nesting. */
  g_string_assign (xml, DOC_HEAD SMTP ("a.example", "587", "SSL"));
  for (guint i = 0; i < 10000; i++)
    g_string_append (xml, "<x>");
  for (guint i = 0; i < 10000; i++)
    g_string_append (xml, "</x>");
  g_string_append (xml, DOC_TAIL);
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  /* Too many servers, providers, domains; a text too long. */
  g_string_assign (xml, DOC_HEAD);
  for (guint i = 0; i < 100; i++)
    g_string_append (xml, SMTP ("a.example", "587", "SSL"));
  g_string_append (xml, DOC_TAIL);
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  g_string_assign (xml, "<clientConfig>");
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (xml, "<emailProvider id=\"p%u\">%s</emailProvider>", i,
                            SMTP ("a.example", "587", "SSL"));
  g_string_append (xml, "</clientConfig>");
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  g_string_assign (xml, DOC_HEAD SMTP ("a.example", "587", "SSL"));
  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (xml, "<domain>d%u.example</domain>", i);
  g_string_append (xml, DOC_TAIL);
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  g_string_assign (xml, DOC_HEAD SMTP ("a.example", "587", "SSL") "<displayName>");
  for (guint i = 0; i < 2000; i++)
    g_string_append (xml, "long ");
  g_string_append (xml, "</displayName>" DOC_TAIL);
  check_error (xml, ENVOI_PRESET_ERROR_TOO_LARGE);

  /* Many ignored elements side by side are fine. */
  g_string_assign (xml, DOC_HEAD SMTP ("a.example", "587", "SSL"));
  for (guint i = 0; i < 10000; i++)
    g_string_append (xml, "<unknown a=\"1\"><deeper/></unknown>");
  g_string_append (xml, DOC_TAIL);
  g_clear_pointer (&bytes, g_bytes_unref);
  g_clear_error (&error);
  bytes = g_bytes_new (xml->str, xml->len);
  {
    g_autoptr(GPtrArray) presets = envoi_preset_parse_bytes (bytes, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (presets->len, ==, 1);
  }
}

static void
test_parse_garbage (void)
{
  /* Random bytes and random cuts of a real document never crash. */
  g_autoptr(GBytes) gmail = g_resources_lookup_data (ENVOI_PRESET_CATALOG_RESOURCE_PATH "gmail.xml",
                                                     G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  gsize size = 0;
  const guint8 *data;
  GRand *rand = g_rand_new_with_seed (20240501);

  g_assert_nonnull (gmail);
  data = g_bytes_get_data (gmail, &size);

  for (guint i = 0; i < 2000; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (data, size);
      gsize cut = g_rand_int_range (rand, 0, size);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) presets = NULL;

      for (guint j = 0; j < 4; j++)
        copy[g_rand_int_range (rand, 0, size)] = g_rand_int_range (rand, 1, 256);
      bytes = g_bytes_new (copy, i % 2 == 0 ? cut : size);
      presets = envoi_preset_parse_bytes (bytes, NULL, &error);
      g_assert_true ((presets == NULL) == (error != NULL));
      if (error != NULL)
        g_assert_true (error->domain == ENVOI_PRESET_ERROR);
    }

  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/presets/builtin/each", test_builtin_each);
  g_test_add_func ("/envoi/presets/builtin/files", test_builtin_files);
  g_test_add_func ("/envoi/presets/builtin/order", test_builtin_order);
  g_test_add_func ("/envoi/presets/builtin/ids-and-domains", test_builtin_ids_and_domains);
  g_test_add_func ("/envoi/presets/builtin/translatable", test_builtin_translatable);
  g_test_add_func ("/envoi/presets/lookup/domain", test_lookup_domain);
  g_test_add_func ("/envoi/presets/lookup/address", test_lookup_address);
  g_test_add_func ("/envoi/presets/expand", test_expand);
  g_test_add_func ("/envoi/presets/expand-server", test_expand_server);
  g_test_add_func ("/envoi/presets/token-login", test_token_login);
  g_test_add_func ("/envoi/presets/rank", test_rank);
  g_test_add_func ("/envoi/presets/parse/full", test_parse_full);
  g_test_add_func ("/envoi/presets/parse/hostile", test_parse_hostile);
  g_test_add_func ("/envoi/presets/parse/limits", test_parse_limits);
  g_test_add_func ("/envoi/presets/parse/garbage", test_parse_garbage);

  return g_test_run ();
}

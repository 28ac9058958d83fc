/* test-autoconfig.c: the settings-finding chain, against a real local web server
 * (tests/autoconfig-httpd.py, HTTP and HTTPS with a throw-away CA), the session's real SMTP
 * listeners (tests/smtpd.py) and, for MX and SRV, a GResolver that answers from a table:
 * there is no DNS server to ask on these machines, and GResolver is the seam Envoi's code
 * uses, so the parsing, ordering and fallbacks after it are the real ones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "autoconfig-httpd.h"
#include "envoi-autoconfig.h"
#include "envoi-test-helpers.h"

static AutoconfigHttpd httpd;

/* ---- a resolver that answers from a table ------------------------------------------------- */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver   parent_instance;
  GHashTable *records;   /* "TYPE name" -> GPtrArray of GVariant */
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static char *
record_key (const char           *rrname,
            GResolverRecordType   type)
{
  return g_strdup_printf ("%d %s", type, rrname);
}

static void
test_resolver_add (TestResolver        *self,
                   const char          *rrname,
                   GResolverRecordType  type,
                   GVariant            *record)
{
  g_autofree char *key = record_key (rrname, type);
  GPtrArray *list = g_hash_table_lookup (self->records, key);

  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
      g_hash_table_insert (self->records, g_steal_pointer (&key), list);
    }
  g_ptr_array_add (list, g_variant_ref_sink (record));
}

static GList *
test_resolver_lookup_records (GResolver            *resolver,
                              const char           *rrname,
                              GResolverRecordType   type,
                              GCancellable         *cancellable,
                              GError              **error)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  g_autofree char *key = record_key (rrname, type);
  GPtrArray *list = g_hash_table_lookup (self->records, key);
  GList *records = NULL;

  if (list == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   "No DNS record of the requested type for “%s”", rrname);
      return NULL;
    }

  for (guint i = list->len; i > 0; i--)
    records = g_list_prepend (records, g_variant_ref (g_ptr_array_index (list, i - 1)));
  return records;
}

typedef struct
{
  char                *rrname;
  GResolverRecordType  type;
} RecordsQuery;

static void
records_query_free (gpointer data)
{
  RecordsQuery *query = data;

  g_free (query->rrname);
  g_free (query);
}

static void
lookup_records_thread (GTask        *task,
                       gpointer      source,
                       gpointer      data,
                       GCancellable *cancellable)
{
  RecordsQuery *query = data;
  GError *error = NULL;
  GList *records;

  records = test_resolver_lookup_records (source, query->rrname, query->type, cancellable, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, records, NULL);
}

static void
test_resolver_lookup_records_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GResolverRecordType  type,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  RecordsQuery *query = g_new0 (RecordsQuery, 1);

  query->rrname = g_strdup (rrname);
  query->type = type;
  g_task_set_task_data (task, query, records_query_free);
  g_task_run_in_thread (task, lookup_records_thread);
}

static GList *
test_resolver_lookup_records_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_finalize (GObject *object)
{
  g_hash_table_unref (TEST_RESOLVER (object)->records);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_records = test_resolver_lookup_records;
  resolver_class->lookup_records_async = test_resolver_lookup_records_async;
  resolver_class->lookup_records_finish = test_resolver_lookup_records_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  self->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
}

static GResolver *
make_resolver (void)
{
  TestResolver *resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);

  test_resolver_add (resolver, "mx.test", G_RESOLVER_RECORD_MX,
                     g_variant_new ("(qs)", 20, "backup.elsewhere.test"));
  test_resolver_add (resolver, "mx.test", G_RESOLVER_RECORD_MX,
                     g_variant_new ("(qs)", 10, "mx1.eu.mailhost.test"));
  test_resolver_add (resolver, "_submissions._tcp.srv.test", G_RESOLVER_RECORD_SRV,
                     g_variant_new ("(qqqs)", 20, 0, 1465, "backup.srv.test."));
  test_resolver_add (resolver, "_submissions._tcp.srv.test", G_RESOLVER_RECORD_SRV,
                     g_variant_new ("(qqqs)", 10, 0, 465, "mail.srv.test."));
  test_resolver_add (resolver, "_submission._tcp.srv587.test", G_RESOLVER_RECORD_SRV,
                     g_variant_new ("(qqqs)", 0, 1, 587, "smtp.srv587.test."));
  test_resolver_add (resolver, "_submissions._tcp.srvdot.test", G_RESOLVER_RECORD_SRV,
                     g_variant_new ("(qqqs)", 0, 0, 0, "."));
  test_resolver_add (resolver, "_submissions._tcp.plainthensrv.test", G_RESOLVER_RECORD_SRV,
                     g_variant_new ("(qqqs)", 0, 0, 465, "smtp.plainthensrv.test."));

  return G_RESOLVER (resolver);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static const char * const no_hosts[] = { NULL };

/* A chain whose every request goes to the local server, over the exact production URLs. */
static EnvoiAutoconfig *
make_autoconfig (void)
{
  g_auto(GStrv) connect_to = autoconfig_httpd_connect_to (&httpd);
  g_autoptr(GResolver) resolver = make_resolver ();
  EnvoiAutoconfig *autoconfig = envoi_autoconfig_new ();

  g_object_set (autoconfig,
                "ispdb-url", "https://ispdb.test/v1.1/",
                "connect-to", connect_to,
                "ca-file", httpd.ca_file,
                "resolver", resolver,
                "probe-hosts", no_hosts,
                "stage-timeout", 5u,
                NULL);
  return autoconfig;
}

static EnvoiAutoconfigResult *
lookup (EnvoiAutoconfig  *autoconfig,
        const char       *address,
        GPtrArray       **problems,
        GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  EnvoiAutoconfigResult *found;

  envoi_autoconfig_lookup_async (autoconfig, address, NULL, envoi_test_async_result_cb, &result);
  found = envoi_autoconfig_lookup_finish (autoconfig, envoi_test_wait (&result), error);
  if (problems != NULL)
    *problems = g_ptr_array_ref (envoi_autoconfig_lookup_get_problems (autoconfig, result));
  return found;
}

static void
assert_result (EnvoiAutoconfigResult *result,
               EnvoiAutoconfigSource  source,
               const char            *domain,
               const char            *hostname,
               guint16                port,
               EnvoiSecurity          security,
               EnvoiAuthMethod        auth,
               const char            *username,
               EnvoiAutoconfigFlags   flags,
               const char            *description)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (result);
  g_assert_cmpint (envoi_autoconfig_result_get_source (result), ==, source);
  g_assert_cmpstr (envoi_autoconfig_result_get_domain (result), ==, domain);
  g_assert_cmpstr (envoi_autoconfig_result_get_hostname (result), ==, hostname);
  g_assert_cmpuint (envoi_autoconfig_result_get_port (result), ==, port);
  g_assert_cmpint (envoi_autoconfig_result_get_security (result), ==, security);
  g_assert_cmpint (envoi_autoconfig_result_get_auth_method (result), ==, auth);
  g_assert_cmpstr (envoi_autoconfig_result_get_username (result), ==, username);
  g_assert_cmpint (envoi_autoconfig_result_get_flags (result), ==, flags);
  text = envoi_autoconfig_result_dup_description (result);
  g_assert_cmpstr (text, ==, description);
}

static void
assert_problem (GPtrArray  *problems,
                guint       index,
                gint        code,
                const char *message)
{
  GError *problem;

  g_assert_cmpuint (problems->len, >, index);
  problem = g_ptr_array_index (problems, index);
  g_assert_error (problem, ENVOI_AUTOCONFIG_ERROR, code);
  g_assert_cmpstr (problem->message, ==, message);
}

static gboolean
was_requested (const char *line)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (httpd.log, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  return g_strv_contains ((const char * const *) lines, line);
}

static gboolean
was_host_requested (const char *host)
{
  g_autofree char *contents = NULL;
  g_autofree char *prefix = g_strconcat (host, " ", NULL);
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (httpd.log, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return TRUE;
  return FALSE;
}

/* ---- pure parts --------------------------------------------------------------------------- */

static void
test_registrable_domain (void)
{
  static const struct {
    const char *host;
    const char *expected;
  } cases[] = {
    { "mx1.eu.mailhost.test", "mailhost.test" },
    { "aspmx.l.google.com", "google.com" },
    { "mx01.mail.example.co.uk", "example.co.uk" },
    { "MX.Example.COM.", "example.com" },
    { "example.com", "example.com" },
    { "co.uk", NULL },
    { "com", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *domain = envoi_autoconfig_registrable_domain (cases[i].host);

      g_test_message ("%s", cases[i].host);
      g_assert_cmpstr (domain, ==, cases[i].expected);
    }
}

static void
test_choose_auth (void)
{
  static const char * const plain_login[] = { "LOGIN", "PLAIN", NULL };
  static const char * const cram[] = { "CRAM-MD5", "LOGIN", NULL };
  static const char * const oauth_plain[] = { "XOAUTH2", "PLAIN", NULL };
  static const char * const oauth[] = { "XOAUTH2", "OAUTHBEARER", NULL };
  static const char * const gssapi[] = { "GSSAPI", NULL };
  static const char * const none[] = { NULL };
  static const struct {
    EnvoiAuthMethod     preferred;
    const char * const *offered;
    EnvoiAuthMethod     expected;
  } cases[] = {
    { ENVOI_AUTH_METHOD_AUTOMATIC, plain_login, ENVOI_AUTH_METHOD_PLAIN },
    { ENVOI_AUTH_METHOD_LOGIN, plain_login, ENVOI_AUTH_METHOD_LOGIN },
    { ENVOI_AUTH_METHOD_CRAM_MD5, plain_login, ENVOI_AUTH_METHOD_PLAIN },
    { ENVOI_AUTH_METHOD_CRAM_MD5, cram, ENVOI_AUTH_METHOD_CRAM_MD5 },
    { ENVOI_AUTH_METHOD_AUTOMATIC, cram, ENVOI_AUTH_METHOD_LOGIN },
    { ENVOI_AUTH_METHOD_XOAUTH2, oauth_plain, ENVOI_AUTH_METHOD_XOAUTH2 },
    { ENVOI_AUTH_METHOD_AUTOMATIC, oauth, ENVOI_AUTH_METHOD_XOAUTH2 },
    { ENVOI_AUTH_METHOD_AUTOMATIC, gssapi, ENVOI_AUTH_METHOD_AUTOMATIC },
    { ENVOI_AUTH_METHOD_PLAIN, none, ENVOI_AUTH_METHOD_NONE },
    { ENVOI_AUTH_METHOD_AUTOMATIC, NULL, ENVOI_AUTH_METHOD_NONE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (envoi_autoconfig_choose_auth_method (cases[i].preferred, cases[i].offered),
                     ==, cases[i].expected);
}

static void
test_production_defaults (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = envoi_autoconfig_new ();
  g_autofree char *ispdb_url = NULL;
  g_auto(GStrv) hosts = NULL;
  g_auto(GStrv) ports = NULL;
  g_auto(GStrv) connect_to = NULL;
  g_autofree char *ca = NULL;
  g_autoptr(GResolver) resolver = NULL;
  g_autoptr(GResolver) default_resolver = g_resolver_get_default ();
  const char *expected_hosts[] = { "smtp.%s", "mail.%s", "%s", NULL };
  const char *expected_ports[] = { "465:tls", "587:starttls", "25:starttls", NULL };
  guint stage = 0, total = 0, probe = 0;

  g_object_get (autoconfig, "ispdb-url", &ispdb_url, "probe-hosts", &hosts,
                "probe-ports", &ports, "connect-to", &connect_to, "ca-file", &ca,
                "resolver", &resolver, "stage-timeout", &stage, "total-timeout", &total,
                "probe-timeout", &probe, NULL);
  /* From the `ispdb-url` setting, whose default is Thunderbird's ISPDB. */
  g_assert_cmpstr (ispdb_url, ==, "https://autoconfig.thunderbird.net/v1.1/");
  g_assert_true (g_strv_equal ((const char * const *) hosts, expected_hosts));
  g_assert_true (g_strv_equal ((const char * const *) ports, expected_ports));
  g_assert_null (connect_to);
  g_assert_null (ca);
  g_assert_true (resolver == default_resolver);
  g_assert_cmpuint (stage, ==, 10);
  g_assert_cmpuint (total, ==, 60);
  g_assert_cmpuint (probe, ==, 5);
}

static void
test_ispdb_url_setting (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.envoimail.Envoi");
  g_autoptr(EnvoiAutoconfig) autoconfig = NULL;
  g_autofree char *url = NULL;

  g_settings_set_string (settings, "ispdb-url", "https://ispdb.example.org/v1.1/");
  autoconfig = envoi_autoconfig_new ();
  g_object_get (autoconfig, "ispdb-url", &url, NULL);
  g_assert_cmpstr (url, ==, "https://ispdb.example.org/v1.1/");
  g_settings_reset (settings, "ispdb-url");
}

/* ---- each stage --------------------------------------------------------------------------- */

static void
test_invalid_address (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = lookup (autoconfig, "no-domain@", NULL, &error);

  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ADDRESS);
  g_assert_cmpstr (error->message, ==, "“no-domain@” is not an email address with a domain");
}

static void
test_preset (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "someone@Gmail.com", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_PRESET, "gmail.com", "smtp.gmail.com", 465,
                 ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found in Envoi’s list of providers for gmail.com");
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_null (envoi_autoconfig_result_get_url (result));
  /* Nothing went to the network. */
  g_assert_false (was_host_requested ("autoconfig.gmail.com"));
}

static void
test_autoconfig_host (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  g_autofree char *summary = NULL;
  GPtrArray *servers;

  result = lookup (autoconfig, "jane@good.test", &problems, &error);
  g_assert_no_error (error);
  /* The document lists STARTTLS first; SSL ranks first. The user name is the local part. */
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG, "good.test", "ssl.good.test", 465,
                 ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC, "jane",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found on the configuration server of good.test");
  g_assert_cmpstr (envoi_autoconfig_result_get_url (result), ==,
                   "https://autoconfig.good.test/mail/config-v1.1.xml?emailaddress=jane%40good.test");
  servers = envoi_autoconfig_result_get_servers (result);
  g_assert_cmpuint (servers->len, ==, 2);
  g_assert_cmpint (envoi_preset_server_get_security (g_ptr_array_index (servers, 1)), ==,
                   ENVOI_SECURITY_STARTTLS);
  summary = envoi_autoconfig_result_dup_summary (result);
  g_assert_cmpstr (summary, ==, "ssl.good.test, port 465, SSL/TLS");
  g_assert_cmpuint (problems->len, ==, 0);
  g_assert_true (was_requested ("autoconfig.good.test /mail/config-v1.1.xml?emailaddress=jane%40good.test"));
}

static void
test_well_known (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "a@wellknown.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_WELL_KNOWN, "wellknown.test",
                 "mail.wellknown.test", 587, ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_XOAUTH2,
                 "", ENVOI_AUTOCONFIG_FLAG_NONE, "Found on the web site of wellknown.test");
  g_assert_cmpuint (problems->len, ==, 1);
  assert_problem (problems, 0, ENVOI_AUTOCONFIG_ERROR_HTTP_STATUS,
                  "autoconfig.wellknown.test answered with HTTP status 404");
}

static void
test_ispdb (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "a@ispdb-only.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_ISPDB, "ispdb-only.test",
                 "smtp.ispdb-only.test", 465, ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_CRAM_MD5,
                 "", ENVOI_AUTOCONFIG_FLAG_NONE, "Found in the Mozilla ISPDB for ispdb-only.test");
  g_assert_cmpstr (envoi_autoconfig_result_get_url (result), ==,
                   "https://ispdb.test/v1.1/ispdb-only.test");
  g_assert_cmpuint (problems->len, ==, 2);
  assert_problem (problems, 1, ENVOI_AUTOCONFIG_ERROR_HTTP_STATUS,
                  "ispdb-only.test answered with HTTP status 404");
}

static void
test_mx (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  /* The best MX is mx1.eu.mailhost.test (preference 10): the ISPDB is asked for mailhost.test. */
  result = lookup (autoconfig, "a@mx.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_ISPDB_MX, "mailhost.test",
                 "smtp.mailhost.test", 465, ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC,
                 "", ENVOI_AUTOCONFIG_FLAG_OTHER_DOMAIN,
                 "Found in the Mozilla ISPDB for mailhost.test, which handles the mail of mx.test");
  warnings = envoi_autoconfig_result_dup_warnings (result);
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (warnings, 0), ==,
                   "These are the settings of mailhost.test, not of mx.test. Use them only if "
                   "mailhost.test handles your mail.");
  g_assert_cmpuint (problems->len, ==, 3);
  g_assert_true (was_requested ("ispdb.test /v1.1/mailhost.test"));
}

static void
test_srv_submissions (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  GPtrArray *servers;

  result = lookup (autoconfig, "a@srv.test", &problems, &error);
  g_assert_no_error (error);
  /* Priority 10 before 20; the trailing dot of the target is dropped. */
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_SRV, "srv.test", "mail.srv.test", 465,
                 ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found in the DNS SRV records of srv.test");
  servers = envoi_autoconfig_result_get_servers (result);
  g_assert_cmpuint (servers->len, ==, 2);
  g_assert_cmpstr (envoi_preset_server_get_hostname (g_ptr_array_index (servers, 1)), ==,
                   "backup.srv.test");
  g_assert_cmpuint (envoi_preset_server_get_port (g_ptr_array_index (servers, 1)), ==, 1465);
  assert_problem (problems, problems->len - 1, ENVOI_AUTOCONFIG_ERROR_NO_RECORDS,
                  "No mail server (MX) of srv.test was found: No DNS record of the requested "
                  "type for “srv.test”");
}

static void
test_srv_submission (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "a@srv587.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_SRV, "srv587.test", "smtp.srv587.test", 587,
                 ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found in the DNS SRV records of srv587.test");
  assert_problem (problems, problems->len - 1, ENVOI_AUTOCONFIG_ERROR_NO_RECORDS,
                  "No _submissions._tcp record of srv587.test was found: No DNS record of the "
                  "requested type for “_submissions._tcp.srv587.test”");
}

static void
test_srv_no_service (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "a@srvdot.test", &problems, &error);
  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "No settings were found for srvdot.test.");
  g_assert_cmpuint (problems->len, ==, 6);
  assert_problem (problems, 4, ENVOI_AUTOCONFIG_ERROR_NO_RECORDS,
                  "The _submissions._tcp record of srvdot.test says there is no such service");
}

/* The probe stage against the session's real aiosmtpd listeners. */
static void
test_probe (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  g_autofree char *tls = g_strdup_printf ("%u:tls", envoi_test_env_port ("ENVOI_TEST_SMTP_TLS_PORT"));
  g_autofree char *starttls = g_strdup_printf ("%u:starttls",
                                               envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"));
  const char *hosts[] = { "localhost", NULL };
  const char *ports[] = { starttls, tls, NULL };
  GPtrArray *servers;

  g_object_set (autoconfig, "probe-hosts", hosts, "probe-ports", ports, NULL);
  result = lookup (autoconfig, "a@probe.test", &problems, &error);
  g_assert_no_error (error);
  /* Both answered; implicit TLS ranks first. */
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_PROBE, "probe.test", "localhost",
                 envoi_test_env_port ("ENVOI_TEST_SMTP_TLS_PORT"), ENVOI_SECURITY_TLS,
                 ENVOI_AUTH_METHOD_AUTOMATIC, "", ENVOI_AUTOCONFIG_FLAG_NONE,
                 "Found by trying localhost");
  servers = envoi_autoconfig_result_get_servers (result);
  g_assert_cmpuint (servers->len, ==, 2);
  g_assert_cmpuint (envoi_preset_server_get_port (g_ptr_array_index (servers, 1)), ==,
                    envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"));
}

static void
test_probe_skips_servers_without_tls (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  g_autofree char *nostarttls = g_strdup_printf ("%u:starttls",
                                                 envoi_test_env_port ("ENVOI_TEST_SMTP_NOSTARTTLS_PORT"));
  g_autofree char *starttls = g_strdup_printf ("%u:starttls",
                                               envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"));
  const char *hosts[] = { "localhost", NULL };
  const char *ports[] = { nostarttls, starttls, NULL };

  g_object_set (autoconfig, "probe-hosts", hosts, "probe-ports", ports, NULL);
  result = lookup (autoconfig, "a@probe.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_PROBE, "probe.test", "localhost",
                 envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"), ENVOI_SECURITY_STARTTLS,
                 ENVOI_AUTH_METHOD_AUTOMATIC, "", ENVOI_AUTOCONFIG_FLAG_NONE,
                 "Found by trying localhost");
  g_assert_cmpuint (envoi_autoconfig_result_get_servers (result)->len, ==, 1);
}

static void
test_probe_nothing (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  g_autofree char *nostarttls = g_strdup_printf ("%u:starttls",
                                                 envoi_test_env_port ("ENVOI_TEST_SMTP_NOSTARTTLS_PORT"));
  g_autofree char *untrusted = g_strdup_printf ("%u:tls",
                                                envoi_test_env_port ("ENVOI_TEST_SMTP_UNTRUSTED_PORT"));
  const char *hosts[] = { "localhost", NULL };
  const char *ports[] = { nostarttls, untrusted, NULL };

  g_object_set (autoconfig, "probe-hosts", hosts, "probe-ports", ports, NULL);
  result = lookup (autoconfig, "a@probe.test", &problems, &error);
  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "No settings were found for probe.test.");
  assert_problem (problems, problems->len - 1, ENVOI_AUTOCONFIG_ERROR_NO_SERVER,
                  "No mail server answered at localhost");
}

/* ---- hostile and broken answers ----------------------------------------------------------- */

static void
assert_not_found (const char *address,
                  gint        code,
                  const char *problem,
                  const char *message)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, address, &problems, &error);
  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, message);
  /* The chain went on after the bad answer: every later stage was asked. */
  g_assert_cmpuint (problems->len, ==, 6);
  assert_problem (problems, 0, code, problem);
}

static void
test_malformed (void)
{
  assert_not_found ("a@malformed.test", ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,
                    "The answer from autoconfig.malformed.test cannot be used: The configuration "
                    "document is not well-formed XML: Error on line 5 char 2: Document ended "
                    "unexpectedly inside the close tag for element “outgoingServer”",
                    "No settings were found for malformed.test. The answer from "
                    "autoconfig.malformed.test cannot be used: The configuration document is not "
                    "well-formed XML: Error on line 5 char 2: Document ended unexpectedly inside "
                    "the close tag for element “outgoingServer”.");
}

/* How much of a streamed answer the server got out before the client hung up: what the client
 * read, plus what the sockets' buffers took (a few MiB at most on loopback). The answers are
 * 10 MiB (huge) and 64 MiB (chunked): a client that read on past the limit takes them whole. */
static guint64
streamed_to_client (const char *host)
{
  g_autofree char *needle = g_strdup_printf ("%s streamed ", host);
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      g_autofree char *contents = NULL;
      const char *at;

      g_assert_true (g_file_get_contents (httpd.log, &contents, NULL, NULL));
      if ((at = g_strrstr (contents, needle)) != NULL)
        return g_ascii_strtoull (at + strlen (needle), NULL, 10);
      g_usleep (10 * 1000);
    }
  g_assert_not_reached ();
}

static void
test_too_large (void)
{
  guint64 streamed;

  assert_not_found ("a@huge.test", ENVOI_AUTOCONFIG_ERROR_TOO_LARGE,
                    "The answer from autoconfig.huge.test is larger than 1 MiB, so it was not read",
                    "No settings were found for huge.test. The answer from autoconfig.huge.test "
                    "is larger than 1 MiB, so it was not read.");
  streamed = streamed_to_client ("autoconfig.huge.test");
  g_test_message ("huge: %" G_GUINT64_FORMAT " bytes left the server", streamed);
  g_assert_cmpuint (streamed, <, 10 * 1024 * 1024);
}

static void
test_too_large_without_length (void)
{
  guint64 streamed;

  assert_not_found ("a@chunked.test", ENVOI_AUTOCONFIG_ERROR_TOO_LARGE,
                    "The answer from autoconfig.chunked.test is larger than 1 MiB, so it was not read",
                    "No settings were found for chunked.test. The answer from "
                    "autoconfig.chunked.test is larger than 1 MiB, so it was not read.");
  streamed = streamed_to_client ("autoconfig.chunked.test");
  g_test_message ("chunked: %" G_GUINT64_FORMAT " bytes left the server", streamed);
  g_assert_cmpuint (streamed, <, ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE + 16 * 1024 * 1024);
}

static void
test_unknown_socket_type (void)
{
  assert_not_found ("a@socket.test", ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,
                    "The answer from autoconfig.socket.test cannot be used: Line 10: The "
                    "connection security “TLS1.3” is unknown (expected SSL, STARTTLS or plain)",
                    "No settings were found for socket.test. The answer from "
                    "autoconfig.socket.test cannot be used: Line 10: The connection security "
                    "“TLS1.3” is unknown (expected SSL, STARTTLS or plain).");
}

static void
test_cross_domain_redirect (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  /* autoconfig.redirect.test sends the request to autoconfig.evil.test, whose answer would
   * be a plain server: it is never asked, and the ISPDB answers instead. */
  result = lookup (autoconfig, "a@redirect.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_ISPDB, "redirect.test", "smtp.redirect.test",
                 587, ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found in the Mozilla ISPDB for redirect.test");
  assert_problem (problems, 0, ENVOI_AUTOCONFIG_ERROR_REDIRECTED,
                  "autoconfig.redirect.test redirected to autoconfig.evil.test, outside "
                  "redirect.test; the redirect was not followed");
  g_assert_false (was_host_requested ("autoconfig.evil.test"));
}

static void
test_same_domain_redirect (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  result = lookup (autoconfig, "a@hop.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG, "hop.test", "smtp.hop.test", 465,
                 ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_NONE, "Found on the configuration server of hop.test");
  g_assert_cmpstr (envoi_autoconfig_result_get_url (result), ==,
                   "https://hop.test/.well-known/autoconfig/mail/config-v1.1.xml");
  g_assert_cmpuint (problems->len, ==, 0);
}

static void
test_slow_stage (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  g_object_set (autoconfig, "stage-timeout", 1u, NULL);
  result = lookup (autoconfig, "a@slow.test", &problems, &error);
  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "No settings were found for slow.test. "
                                       "autoconfig.slow.test did not answer within 1 second.");
  assert_problem (problems, 0, ENVOI_AUTOCONFIG_ERROR_TIMEOUT,
                  "autoconfig.slow.test did not answer within 1 second");
  g_assert_cmpuint (problems->len, ==, 6);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
}

static void
test_total_timeout (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  g_object_set (autoconfig, "stage-timeout", 20u, "total-timeout", 1u, NULL);
  result = lookup (autoconfig, "a@slow.test", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "No settings were found for slow.test within 1 second.");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;
  gint64 start = g_get_monotonic_time ();

  g_object_set (autoconfig, "stage-timeout", 20u, NULL);
  envoi_autoconfig_lookup_async (autoconfig, "a@slow.test", cancellable,
                                 envoi_test_async_result_cb, &async_result);
  g_timeout_add (300, cancel_cb, cancellable);
  result = envoi_autoconfig_lookup_finish (autoconfig, envoi_test_wait (&async_result), &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

/* ---- security is never downgraded silently ------------------------------------------------ */

static void
test_plain_http_plain_server (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  g_object_set (autoconfig, "ispdb-url", "http://ispdb.test/v1.1/", NULL);
  result = lookup (autoconfig, "a@plainonly.test", &problems, &error);
  g_assert_no_error (error);
  /* Kept aside while the rest of the chain found nothing better, then returned, flagged. */
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_ISPDB, "plainonly.test", "smtp.plainonly.test",
                 25, ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_AUTOMATIC, "",
                 ENVOI_AUTOCONFIG_FLAG_INSECURE_TRANSPORT | ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED,
                 "Found in the Mozilla ISPDB for plainonly.test");
  g_assert_cmpuint (problems->len, ==, 5);
  warnings = envoi_autoconfig_result_dup_warnings (result);
  g_assert_cmpuint (warnings->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (warnings, 0), ==,
                   "They came over an unencrypted connection and could have been changed on "
                   "the way.");
  g_assert_cmpstr (g_ptr_array_index (warnings, 1), ==,
                   "This server offers no encryption: your password and mail would cross the "
                   "network in clear text.");
}

static void
test_encrypted_beats_plain (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(EnvoiAutoconfigResult) result = NULL;

  /* The ISPDB has only a plain server; SRV, later in the chain, has TLS: SRV wins. */
  result = lookup (autoconfig, "a@plainthensrv.test", &problems, &error);
  g_assert_no_error (error);
  assert_result (result, ENVOI_AUTOCONFIG_SOURCE_SRV, "plainthensrv.test",
                 "smtp.plainthensrv.test", 465, ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_AUTOMATIC,
                 "", ENVOI_AUTOCONFIG_FLAG_NONE, "Found in the DNS SRV records of plainthensrv.test");
  g_assert_true (was_requested ("ispdb.test /v1.1/plainthensrv.test"));
}

static void
test_check_server (void)
{
  g_autoptr(EnvoiAutoconfig) autoconfig = make_autoconfig ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  const char * const *mechanisms;

  envoi_autoconfig_check_server_async (autoconfig, "localhost",
                                       envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"),
                                       ENVOI_SECURITY_STARTTLS, NULL,
                                       envoi_test_async_result_cb, &result);
  report = envoi_autoconfig_check_server_finish (autoconfig, envoi_test_wait (&result), &error);
  g_assert_no_error (error);
  mechanisms = envoi_smtp_report_get_auth_mechanisms (report);
  g_assert_nonnull (mechanisms);
  g_assert_true (g_strv_contains (mechanisms, "PLAIN"));
  g_assert_true (g_strv_contains (mechanisms, "LOGIN"));
  g_assert_cmpint (envoi_autoconfig_choose_auth_method (ENVOI_AUTH_METHOD_AUTOMATIC, mechanisms),
                   ==, ENVOI_AUTH_METHOD_PLAIN);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("LANGUAGE", "en", TRUE);
  g_test_init (&argc, &argv, NULL);

  autoconfig_httpd_start (&httpd);

  g_test_add_func ("/envoi/autoconfig/registrable-domain", test_registrable_domain);
  g_test_add_func ("/envoi/autoconfig/choose-auth", test_choose_auth);
  g_test_add_func ("/envoi/autoconfig/production-defaults", test_production_defaults);
  g_test_add_func ("/envoi/autoconfig/ispdb-url-setting", test_ispdb_url_setting);
  g_test_add_func ("/envoi/autoconfig/invalid-address", test_invalid_address);
  g_test_add_func ("/envoi/autoconfig/preset", test_preset);
  g_test_add_func ("/envoi/autoconfig/autoconfig-host", test_autoconfig_host);
  g_test_add_func ("/envoi/autoconfig/well-known", test_well_known);
  g_test_add_func ("/envoi/autoconfig/ispdb", test_ispdb);
  g_test_add_func ("/envoi/autoconfig/mx", test_mx);
  g_test_add_func ("/envoi/autoconfig/srv-submissions", test_srv_submissions);
  g_test_add_func ("/envoi/autoconfig/srv-submission", test_srv_submission);
  g_test_add_func ("/envoi/autoconfig/srv-no-service", test_srv_no_service);
  g_test_add_func ("/envoi/autoconfig/probe", test_probe);
  g_test_add_func ("/envoi/autoconfig/probe-skips-servers-without-tls",
                   test_probe_skips_servers_without_tls);
  g_test_add_func ("/envoi/autoconfig/probe-nothing", test_probe_nothing);
  g_test_add_func ("/envoi/autoconfig/check-server", test_check_server);
  g_test_add_func ("/envoi/autoconfig/hostile/malformed", test_malformed);
  g_test_add_func ("/envoi/autoconfig/hostile/too-large", test_too_large);
  g_test_add_func ("/envoi/autoconfig/hostile/too-large-without-length",
                   test_too_large_without_length);
  g_test_add_func ("/envoi/autoconfig/hostile/unknown-socket-type", test_unknown_socket_type);
  g_test_add_func ("/envoi/autoconfig/hostile/cross-domain-redirect", test_cross_domain_redirect);
  g_test_add_func ("/envoi/autoconfig/same-domain-redirect", test_same_domain_redirect);
  g_test_add_func ("/envoi/autoconfig/hostile/slow-stage", test_slow_stage);
  g_test_add_func ("/envoi/autoconfig/total-timeout", test_total_timeout);
  g_test_add_func ("/envoi/autoconfig/cancel", test_cancel);
  g_test_add_func ("/envoi/autoconfig/plain-http-plain-server", test_plain_http_plain_server);
  g_test_add_func ("/envoi/autoconfig/encrypted-beats-plain", test_encrypted_beats_plain);

  ret = g_test_run ();

  autoconfig_httpd_stop (&httpd);
  return ret;
}

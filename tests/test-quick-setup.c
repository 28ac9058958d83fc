/* test-quick-setup.c: the chain behind "Add Account" in two fields, without GTK: the settings
 * from a real local web server (tests/autoconfig-httpd.py: HTTPS with a throw-away CA, the
 * production URLs through CONNECT_TO), the sign-in against the session's real SMTP listeners
 * (tests/smtpd.py), and cancelling in the middle of either.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "autoconfig-httpd.h"
#include "envoi-account-store.h"
#include "envoi-preset-catalog.h"
#include "envoi-quick-setup.h"
#include "envoi-test-helpers.h"

static AutoconfigHttpd httpd;

/* ---- a resolver without records: no DNS server is reachable on these machines ------------- */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver parent_instance;
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
test_resolver_lookup_records_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GResolverRecordType  record_type,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "No record for %s", rrname);
}

static GList *
test_resolver_lookup_records_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_records_async = test_resolver_lookup_records_async;
  resolver_class->lookup_records_finish = test_resolver_lookup_records_finish;
}

static void
test_resolver_init (TestResolver *self)
{
}

/* ---- helpers ------------------------------------------------------------------------------ */

static const char * const no_hosts[] = { NULL };

static EnvoiQuickSetup *
make_setup (void)
{
  g_auto(GStrv) connect_to = autoconfig_httpd_connect_to (&httpd);
  g_autoptr(GResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(EnvoiAutoconfig) autoconfig = envoi_autoconfig_new ();

  g_object_set (autoconfig,
                "ispdb-url", "https://ispdb.test/v1.1/",
                "connect-to", connect_to,
                "ca-file", httpd.ca_file,
                "resolver", resolver,
                "probe-hosts", no_hosts,
                "stage-timeout", 5u,
                NULL);
  return envoi_quick_setup_new (autoconfig);
}

/* Every step and status the chain went through, in order. */
typedef struct
{
  GPtrArray *steps;     /* GUINT_TO_POINTER (EnvoiQuickSetupStep) */
  GPtrArray *statuses;  /* char * */
} Seen;

static void
step_cb (EnvoiQuickSetup *setup,
         GParamSpec      *pspec,
         Seen            *seen)
{
  g_ptr_array_add (seen->steps, GUINT_TO_POINTER (envoi_quick_setup_get_step (setup)));
}

static void
status_cb (EnvoiQuickSetup *setup,
           GParamSpec      *pspec,
           Seen            *seen)
{
  if (envoi_quick_setup_get_status (setup) != NULL)
    g_ptr_array_add (seen->statuses, g_strdup (envoi_quick_setup_get_status (setup)));
}

static void
watch (EnvoiQuickSetup *setup,
       Seen            *seen)
{
  seen->steps = g_ptr_array_new ();
  seen->statuses = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (setup, "notify::step", G_CALLBACK (step_cb), seen);
  g_signal_connect (setup, "notify::status", G_CALLBACK (status_cb), seen);
}

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->steps, g_ptr_array_unref);
  g_clear_pointer (&seen->statuses, g_ptr_array_unref);
}

static EnvoiAccount *
run (EnvoiQuickSetup  *setup,
     const char       *address,
     const char       *password,
     GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_quick_setup_run_async (setup, address, "Test Person", password, NULL,
                               envoi_test_async_result_cb, &result);
  g_assert_true (envoi_quick_setup_is_running (setup));
  return envoi_quick_setup_run_finish (setup, envoi_test_wait (&result), error);
}

/* Nothing is ever saved by the chain: no account in the settings. */
static void
assert_nothing_saved (void)
{
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
}

static guint
count_log_lines (void)
{
  g_autofree char *contents = NULL;
  guint lines = 0;

  g_assert_true (g_file_get_contents (httpd.log, &contents, NULL, NULL));
  for (const char *p = contents; *p != '\0'; p++)
    lines += *p == '\n';
  return lines;
}

static gboolean
log_mentions (const char *host)
{
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (httpd.log, &contents, NULL, NULL));
  return strstr (contents, host) != NULL;
}

/* How many of this process's TCP connections to loopback @port are established
 * (/proc/net/tcp and tcp6: "sl local rem st …", ports in hex). */
static guint
count_established (guint16 port)
{
  const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
  g_autoptr(GHashTable) own = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint count = 0;

  /* Only this process's own connections: other tests of the session may use the same server
   * at the same time. A socket's inode ties /proc/net/tcp to our descriptors. */
  while (fds != NULL && (name = g_dir_read_name (fds)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:["))
        g_hash_table_add (own, g_strndup (target + 8, strlen (target) - 9));
    }

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *contents = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_file_get_contents (files[f], &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr(GPtrArray) words = g_ptr_array_new ();
          const char *colon;

          for (guint j = 0; fields[j] != NULL; j++)
            if (*fields[j] != '\0')
              g_ptr_array_add (words, fields[j]);
          /* sl local remote state … inode (the tenth word) */
          if (words->len < 10 || g_strcmp0 (g_ptr_array_index (words, 3), "01") != 0 ||
              !g_hash_table_contains (own, g_ptr_array_index (words, 9)))
            continue;
          colon = strrchr (g_ptr_array_index (words, 2), ':');
          if (colon != NULL && g_ascii_strtoull (colon + 1, NULL, 16) == port)
            count++;
        }
    }
  return count;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_signs_in (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) steps = NULL;
  Seen seen;

  watch (setup, &seen);
  account = run (setup, "envoi-test@quick.test", ENVOI_TEST_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_nonnull (account);

  /* The server the ISPDB named, with the login its template made. */
  g_assert_cmpstr (envoi_account_get_id (account), ==, "");
  g_assert_cmpstr (envoi_account_get_address (account), ==, "envoi-test@quick.test");
  g_assert_cmpstr (envoi_account_get_display_name (account), ==, "Test Person");
  g_assert_cmpstr (envoi_account_get_host (account), ==, "localhost");
  g_assert_cmpuint (envoi_account_get_port (account), ==,
                    envoi_test_env_port ("ENVOI_TEST_SMTP_TLS_PORT"));
  g_assert_cmpint (envoi_account_get_security (account), ==, ENVOI_SECURITY_TLS);
  g_assert_cmpstr (envoi_account_get_login (account), ==, ENVOI_TEST_USER);
  g_assert_cmpstr (envoi_preset_get_id (envoi_quick_setup_get_preset (setup)), ==, "quick.test");

  /* Visible steps, in words. */
  g_assert_cmpuint (seen.steps->len, ==, 3);
  g_assert_cmpuint (GPOINTER_TO_UINT (seen.steps->pdata[0]), ==, ENVOI_QUICK_SETUP_STEP_LOOKING_UP);
  g_assert_cmpuint (GPOINTER_TO_UINT (seen.steps->pdata[1]), ==, ENVOI_QUICK_SETUP_STEP_SIGNING_IN);
  g_assert_cmpuint (GPOINTER_TO_UINT (seen.steps->pdata[2]), ==, ENVOI_QUICK_SETUP_STEP_READY);
  g_assert_cmpuint (seen.statuses->len, ==, 2);
  g_assert_cmpstr (seen.statuses->pdata[0], ==, "Looking up quick.test…");
  g_assert_cmpstr (seen.statuses->pdata[1], ==, "Signing in to localhost…");
  g_assert_false (envoi_quick_setup_is_running (setup));
  assert_nothing_saved ();
  seen_clear (&seen);
}

static void
test_wrong_password (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  account = run (setup, "envoi-test@quick.test", "not-the-password", &error);
  g_assert_null (account);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_FAILED);
  /* The account tried is kept, for the hint. */
  g_assert_cmpstr (envoi_account_get_host (envoi_quick_setup_get_account (setup)), ==, "localhost");
  assert_nothing_saved ();
}

/* The most secure server does not answer (a closed port): the next one is tried. */
static void
test_falls_back (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  Seen seen;

  watch (setup, &seen);
  account = run (setup, "envoi-test@quickfallback.test", ENVOI_TEST_PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_cmpint (envoi_account_get_security (account), ==, ENVOI_SECURITY_STARTTLS);
  g_assert_cmpuint (envoi_account_get_port (account), ==,
                    envoi_test_env_port ("ENVOI_TEST_SMTP_STARTTLS_PORT"));
  /* Two sign-ins: SSL/TLS on port 1 first, then STARTTLS. */
  g_assert_cmpuint (seen.statuses->len, ==, 2);
  seen_clear (&seen);
}

static void
test_nothing_found (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  account = run (setup, "someone@nothing-here.test", ENVOI_TEST_PASSWORD, &error);
  g_assert_null (account);
  g_assert_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND);
  g_assert_null (envoi_quick_setup_get_account (setup));
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_FAILED);
}

/* Cancelled while the domain's configuration server takes 30 s to answer: it ends at once,
 * as cancelled (no failure to show), and no later stage asks anything. */
static void
test_cancel_lookup (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  gint64 cancelled_at;
  guint requests;

  envoi_quick_setup_run_async (setup, "envoi-test@slow.test", NULL, ENVOI_TEST_PASSWORD,
                               cancellable, envoi_test_async_result_cb, &result);
  while (!log_mentions ("autoconfig.slow.test"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (20);
    }
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_LOOKING_UP);

  requests = count_log_lines ();
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  account = envoi_quick_setup_run_finish (setup, envoi_test_wait (&result), &error);
  g_assert_null (account);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_IDLE);
  g_assert_false (envoi_quick_setup_is_running (setup));

  /* Nothing goes on behind: no further request, no sign-in. */
  envoi_test_spin (1000);
  g_assert_cmpuint (count_log_lines (), ==, requests);
  g_assert_null (envoi_quick_setup_get_account (setup));
  assert_nothing_saved ();
}

/* Cancelled while signing in to a server that never answers: it ends at once and its
 * connection is closed. */
static void
test_cancel_sign_in (void)
{
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port = envoi_test_env_port ("ENVOI_TEST_SMTP_STALL_PORT");
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  gint64 cancelled_at;

  g_assert_cmpuint (count_established (port), ==, 0);
  envoi_quick_setup_run_async (setup, "envoi-test@quickstall.test", NULL, ENVOI_TEST_PASSWORD,
                               cancellable, envoi_test_async_result_cb, &result);
  while (envoi_quick_setup_get_step (setup) != ENVOI_QUICK_SETUP_STEP_SIGNING_IN ||
         count_established (port) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_null (result);
      envoi_test_spin (20);
    }
  g_assert_cmpstr (envoi_quick_setup_get_status (setup), ==, "Signing in to localhost…");

  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  account = envoi_quick_setup_run_finish (setup, envoi_test_wait (&result), &error);
  g_assert_null (account);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (envoi_quick_setup_get_step (setup), ==, ENVOI_QUICK_SETUP_STEP_IDLE);

  /* The connection does not outlive the cancellation. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (count_established (port) != 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      envoi_test_spin (20);
    }
  assert_nothing_saved ();
}

/* A refused password gets the advice of a built-in preset; other failures, and presets that
 * came from the network, the connection test's hint. */
static void
test_hints (void)
{
  g_autoptr(EnvoiPreset) gmail = envoi_preset_catalog_lookup_id ("gmail");
  g_autoptr(GError) auth = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED, "x");
  g_autoptr(GError) app = g_error_new_literal (ENVOI_SMTP_ERROR,
                                               ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED, "x");
  g_autoptr(GError) refused = g_error_new_literal (ENVOI_SMTP_ERROR,
                                                   ENVOI_SMTP_ERROR_CONNECTION_REFUSED, "x");
  g_autofree char *generic_auth = envoi_smtp_error_dup_hint (auth, NULL);
  g_autofree char *generic_refused = envoi_smtp_error_dup_hint (refused, NULL);
  g_autofree char *hint = NULL;
  g_autoptr(EnvoiQuickSetup) setup = make_setup ();
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (gmail);
  hint = envoi_quick_setup_dup_hint_for (gmail, auth, NULL);
  g_assert_cmpstr (hint, ==, "Check the password. This provider needs: "
                             "An app password (16 letters) from your Google Account.");
  g_clear_pointer (&hint, g_free);
  hint = envoi_quick_setup_dup_hint_for (gmail, app, NULL);
  g_assert_nonnull (strstr (hint, "An app password (16 letters)"));
  g_clear_pointer (&hint, g_free);
  hint = envoi_quick_setup_dup_hint_for (gmail, refused, NULL);
  g_assert_cmpstr (hint, ==, generic_refused);
  g_clear_pointer (&hint, g_free);
  hint = envoi_quick_setup_dup_hint_for (NULL, auth, NULL);
  g_assert_cmpstr (hint, ==, generic_auth);
  g_clear_pointer (&hint, g_free);

  /* Settings from the ISPDB: the generic advice, with the account tried. */
  account = run (setup, "envoi-test@quick.test", "not-the-password", &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
  hint = envoi_quick_setup_dup_hint (setup, error);
  g_assert_cmpstr (hint, ==, generic_auth);
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

  g_test_add_func ("/envoi/quick-setup/signs-in", test_signs_in);
  g_test_add_func ("/envoi/quick-setup/wrong-password", test_wrong_password);
  g_test_add_func ("/envoi/quick-setup/falls-back", test_falls_back);
  g_test_add_func ("/envoi/quick-setup/nothing-found", test_nothing_found);
  g_test_add_func ("/envoi/quick-setup/cancel-lookup", test_cancel_lookup);
  g_test_add_func ("/envoi/quick-setup/cancel-sign-in", test_cancel_sign_in);
  g_test_add_func ("/envoi/quick-setup/hints", test_hints);

  ret = g_test_run ();
  autoconfig_httpd_stop (&httpd);
  return ret;
}

/* test-test-run.c: the account test run without a display, against the real listeners of
 * tests/smtpd.py. It links src/common alone: no GTK.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "envoi-account.h"
#include "envoi-message.h"
#include "envoi-smtp-error.h"
#include "envoi-test-helpers.h"
#include "envoi-test-run.h"

#define SENDER    "sender@example.org"
#define RECIPIENT "rcpt@example.net"

static EnvoiAccount *
make_account (const char *port_variable)
{
  EnvoiAccount *account = envoi_account_new ("test-run");

  g_object_set (account,
                "host", "localhost",
                "port", (guint) envoi_test_env_port (port_variable),
                "security", ENVOI_SECURITY_STARTTLS,
                "auth-method", ENVOI_AUTH_METHOD_AUTOMATIC,
                "username", ENVOI_TEST_USER,
                "address", SENDER,
                "timeout", 10u,
                NULL);

  return account;
}

typedef struct
{
  GArray *steps;
} StepLog;

static void
step_cb (EnvoiTestRun *run,
         GParamSpec   *pspec,
         StepLog      *log)
{
  EnvoiTestRunStep step = envoi_test_run_get_step (run);

  g_array_append_val (log->steps, step);
}

/* Runs @run to its end; returns whether it worked. */
static gboolean
run_to_end (EnvoiTestRun  *run,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_test_run_run_async (run, cancellable, envoi_test_async_result_cb, &result);
  envoi_test_wait (&result);

  return envoi_test_run_run_finish (run, result, error);
}

static void
assert_no_canary (EnvoiTestRun *run)
{
  g_autofree char *transcript = envoi_test_run_dup_transcript (run);

  g_assert_null (strstr (transcript, ENVOI_TEST_PASSWORD));
}

/* A connection test: greeting, STARTTLS, login; the report says what the server offered. */
static void
test_connection (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT");
  g_autoptr(EnvoiTestRun) run = envoi_test_run_new (ENVOI_TEST_RUN_CONNECTION, account);
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  StepLog log = { g_array_new (FALSE, FALSE, sizeof (EnvoiTestRunStep)) };

  envoi_test_run_set_secret (run, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD);
  g_signal_connect (run, "notify::step", G_CALLBACK (step_cb), &log);

  g_assert_true (run_to_end (run, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (envoi_test_run_get_step (run), ==, ENVOI_TEST_RUN_STEP_SMTP);
  g_assert_cmpuint (log.steps->len, ==, 1);
  g_assert_nonnull (envoi_test_run_get_report (run));
  g_assert_true (envoi_smtp_report_get_starttls_offered (envoi_test_run_get_report (run)));
  g_assert_true (g_strv_contains (envoi_smtp_report_get_auth_mechanisms (envoi_test_run_get_report (run)),
                                  "PLAIN"));
  g_assert_null (envoi_test_run_get_reply (run));

  transcript = envoi_test_run_dup_transcript (run);
  g_test_message ("transcript:\n%s", transcript);
  g_assert_nonnull (strstr (transcript, "STARTTLS"));
  assert_no_canary (run);

  g_array_unref (log.steps);
}

/* A test email: the server's reply, and the recipient the run checked. */
static void
test_send (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT");
  g_autoptr(EnvoiTestRun) run = envoi_test_run_new (ENVOI_TEST_RUN_SEND, account);
  g_autoptr(GError) error = NULL;

  envoi_test_run_set_secret (run, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD);
  envoi_test_run_set_recipient (run, "  " RECIPIENT " ");

  g_assert_true (run_to_end (run, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (envoi_test_run_get_recipient (run), ==, RECIPIENT);
  g_assert_nonnull (envoi_test_run_get_reply (run));
  g_assert_true (g_str_has_prefix (envoi_test_run_get_reply (run), "250"));
  assert_no_canary (run);
}

/* A wrong password stops the run at the SMTP step with the SMTP client's error. */
static void
test_wrong_password (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT");
  g_autoptr(EnvoiTestRun) run = envoi_test_run_new (ENVOI_TEST_RUN_CONNECTION, account);
  g_autoptr(GError) error = NULL;

  envoi_test_run_set_secret (run, ENVOI_SERVICE_SMTP, "not-the-password");

  g_assert_false (run_to_end (run, NULL, &error));
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
  g_assert_cmpint (envoi_test_run_get_step (run), ==, ENVOI_TEST_RUN_STEP_SMTP);
  g_assert_nonnull (envoi_test_run_get_report (run));
}

/* A server that never answers: a cancel ends the run as cancelled, soon. */
static void
test_cancel (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STALL_PORT");
  g_autoptr(EnvoiTestRun) run = envoi_test_run_new (ENVOI_TEST_RUN_CONNECTION, account);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  envoi_test_run_set_secret (run, ENVOI_SERVICE_SMTP, ENVOI_TEST_PASSWORD);
  envoi_test_run_run_async (run, cancellable, envoi_test_async_result_cb, &result);
  /* Connected, and waiting for a greeting that never comes. */
  for (guint i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  g_assert_null (result);

  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  envoi_test_wait (&result);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_false (envoi_test_run_run_finish (run, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* What cannot be tried is said before anything is started. */
static void
test_refusals (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT");
  g_autoptr(EnvoiAccount) http = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT");
  g_autoptr(EnvoiTestRun) connection = NULL;
  g_autoptr(EnvoiTestRun) imap = NULL;
  g_autoptr(EnvoiTestRun) send = NULL;
  g_autoptr(GError) error = NULL;

  g_object_set (http, "transport", ENVOI_TRANSPORT_HTTP_MAILGUN, NULL);
  connection = envoi_test_run_new (ENVOI_TEST_RUN_CONNECTION, http);
  g_assert_false (envoi_test_run_check (connection, &error));
  g_assert_error (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_CONNECTION_TEST);
  g_clear_error (&error);
  g_assert_false (run_to_end (connection, NULL, &error));
  g_assert_error (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_CONNECTION_TEST);
  g_assert_cmpint (envoi_test_run_get_step (connection), ==, ENVOI_TEST_RUN_STEP_NONE);
  g_clear_error (&error);

  imap = envoi_test_run_new (ENVOI_TEST_RUN_IMAP, account);
  g_assert_false (envoi_test_run_check (imap, &error));
  g_assert_error (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_IMAP_SERVER);
  g_clear_error (&error);

  send = envoi_test_run_new (ENVOI_TEST_RUN_SEND, account);
  envoi_test_run_set_recipient (send, "not an address");
  g_assert_false (envoi_test_run_check (send, &error));
  g_assert_error (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_INVALID_RECIPIENT);
  g_clear_error (&error);

  /* Nothing typed: the account's own address. */
  envoi_test_run_set_recipient (send, "");
  g_assert_true (envoi_test_run_check (send, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (envoi_test_run_get_recipient (send), ==, SENDER);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  envoi_message_init ();

  g_test_add_func ("/envoi/test-run/connection", test_connection);
  g_test_add_func ("/envoi/test-run/send", test_send);
  g_test_add_func ("/envoi/test-run/wrong-password", test_wrong_password);
  g_test_add_func ("/envoi/test-run/cancel", test_cancel);
  g_test_add_func ("/envoi/test-run/refusals", test_refusals);

  return g_test_run ();
}

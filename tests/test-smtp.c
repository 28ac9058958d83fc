/* test-smtp.c: the SMTP client against the real listeners of tests/smtpd.py
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <gmime/gmime.h>

#include "envoi-account.h"
#include "envoi-message.h"
#include "envoi-smtp-client.h"
#include "envoi-smtp-error.h"
#include "envoi-smtp-transcript.h"
#include "envoi-test-helpers.h"

#define SENDER    "sender@example.org"
#define RECIPIENT "rcpt@example.net"

/* ---- helpers ------------------------------------------------------------------------------ */

static EnvoiAccount *
make_account (const char      *port_variable,
              EnvoiSecurity    security,
              EnvoiAuthMethod  method)
{
  EnvoiAccount *account = envoi_account_new ("smtp-test");

  g_object_set (account,
                "host", "localhost",
                "port", (guint) envoi_test_env_port (port_variable),
                "security", security,
                "auth-method", method,
                "username", ENVOI_TEST_USER,
                "address", SENDER,
                "timeout", 10u,
                NULL);

  return account;
}

static void
assert_no_canary (EnvoiSmtpReport *report)
{
  g_autofree char *b64 = g_base64_encode ((const guchar *) ENVOI_TEST_PASSWORD, strlen (ENVOI_TEST_PASSWORD));
  const char *transcript;

  g_assert_nonnull (report);
  transcript = envoi_smtp_report_get_transcript (report);
  g_assert_nonnull (transcript);
  g_test_message ("transcript:\n%s", transcript);
  g_assert_null (strstr (transcript, ENVOI_TEST_PASSWORD));
  g_assert_null (strstr (transcript, "Canary"));
  g_assert_null (strstr (transcript, b64));
  /* The PLAIN blob of the canary ("\0user\0password"), the way curl sends it. */
  g_assert_null (strstr (transcript, "AGVudm9pLXRlc3QAQ2FuYXJ5"));
}

/* Runs a connection test; returns the report (success or not) and sets @error. */
static EnvoiSmtpReport *
run_test (EnvoiSmtpClient  *client,
          GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  EnvoiSmtpReport *report;
  EnvoiSmtpReport *returned;

  envoi_smtp_client_test_async (client, NULL, envoi_test_async_result_cb, &result);
  envoi_test_wait (&result);
  returned = envoi_smtp_client_test_finish (client, result, error);
  report = envoi_smtp_client_get_report (client, result);
  g_assert_nonnull (report);
  if (returned != NULL)
    {
      g_assert_true (returned == report);
      envoi_smtp_report_unref (returned);
    }
  assert_no_canary (report);

  return envoi_smtp_report_ref (report);
}

static char *
run_send (EnvoiSmtpClient  *client,
          GBytes           *message,
          const char       *recipient,
          EnvoiSmtpReport **out_report,
          GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  const char *recipients[] = { recipient, NULL };
  EnvoiSmtpReport *report;
  char *reply;

  envoi_smtp_client_send_async (client, SENDER, recipients, message, NULL,
                                envoi_test_async_result_cb, &result);
  envoi_test_wait (&result);
  reply = envoi_smtp_client_send_finish (client, result, error);
  report = envoi_smtp_client_get_report (client, result);
  assert_no_canary (report);
  if (out_report != NULL)
    *out_report = envoi_smtp_report_ref (report);

  return reply;
}

static GBytes *
simple_message (const char *subject)
{
  g_autofree char *text = g_strdup_printf ("From: <" SENDER ">\nTo: <" RECIPIENT ">\n"
                                           "Subject: %s\n\nHello.\n.\nA lone dot above.\n",
                                           subject);

  gsize length = strlen (text);

  return g_bytes_new_take (g_steal_pointer (&text), length);
}

static char *
read_server_log (void)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (envoi_test_env ("ENVOI_TEST_SMTP_LOG"), &contents, NULL, &error);
  g_assert_no_error (error);

  return contents;
}

/* The log is the session's, shared by every test (and test binary) that uses a listener: a
 * test looks only at what came after its mark_server_log(). */
static guint server_log_mark;

static void
mark_server_log (void)
{
  g_autofree char *log = read_server_log ();

  server_log_mark = 0;
  for (const char *c = log; *c != '\0'; c++)
    server_log_mark += *c == '\n';
}

/* Lines of the server log for one listener, since the mark. */
static GPtrArray *
server_log_lines (const char *listener)
{
  g_autofree char *log = read_server_log ();
  g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
  g_autofree char *prefix = g_strconcat (listener, " ", NULL);
  GPtrArray *matching = g_ptr_array_new_with_free_func (g_free);
  gsize i;

  for (i = 0; lines[i] != NULL; i++)
    if (i >= server_log_mark && g_str_has_prefix (lines[i], prefix))
      g_ptr_array_add (matching, g_strdup (lines[i]));

  return matching;
}

/* Whether one connection to @listener, since the mark, sent both @first and later @then (each
 * the start of a command line): one SMTP session, not lines of different ones. */
static gboolean
server_session_has (const char *listener,
                    const char *first,
                    const char *then)
{
  g_autoptr(GPtrArray) lines = server_log_lines (listener);
  g_autoptr(GHashTable) seen_first = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < lines->len; i++)
    {
      g_auto(GStrv) words = g_strsplit (g_ptr_array_index (lines, i), " >> ", 2);
      const char *connection = words[0];

      if (words[1] == NULL)
        continue;
      if (g_ascii_strncasecmp (words[1], first, strlen (first)) == 0)
        g_hash_table_add (seen_first, g_strdup (connection));
      else if (g_ascii_strncasecmp (words[1], then, strlen (then)) == 0 &&
               g_hash_table_contains (seen_first, connection))
        return TRUE;
    }

  return FALSE;
}

static gboolean
server_log_has (const char *listener,
                const char *command)
{
  g_autoptr(GPtrArray) lines = server_log_lines (listener);
  guint i;

  for (i = 0; i < lines->len; i++)
    {
      const char *line = strstr (g_ptr_array_index (lines, i), " >> ");

      if (line != NULL && g_ascii_strncasecmp (line + 4, command, strlen (command)) == 0)
        return TRUE;
    }

  return FALSE;
}

/* The stored message (and its envelope) of @listener whose text contains @needle. */
static char *
find_stored_message (const char  *listener,
                     const char  *needle,
                     char       **envelope)
{
  g_autofree char *folder = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_MESSAGES"), listener, NULL);
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *contents = NULL;

      if (!g_str_has_suffix (name, ".eml"))
        continue;
      path = g_build_filename (folder, name, NULL);
      g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
      if (strstr (contents, needle) != NULL)
        {
          if (envelope != NULL)
            {
              g_autofree char *base = g_strndup (path, strlen (path) - strlen (".eml"));
              g_autofree char *envelope_path = g_strconcat (base, ".envelope", NULL);

              g_assert_true (g_file_get_contents (envelope_path, envelope, NULL, NULL));
            }
          return g_steal_pointer (&contents);
        }
    }

  return NULL;
}

/* ---- pure functions ----------------------------------------------------------------------- */

static void
test_parse_reply (void)
{
  static const struct {
    const char *reply;
    gboolean ok;
    guint code;
    const char *status;
    const char *text;
  } rows[] = {
    { "250 OK", TRUE, 250, NULL, "OK" },
    { "535 5.7.8 Authentication credentials invalid", TRUE, 535, "5.7.8", "Authentication credentials invalid" },
    { "550-5.7.30 Basic authentication is not supported\r\n550 5.7.30 for this client", TRUE, 550, "5.7.30",
      "Basic authentication is not supported for this client" },
    { "421", TRUE, 421, NULL, "" },
    { "452 4.5.3 Too many recipients\r\n", TRUE, 452, "4.5.3", "Too many recipients" },
    { "334 ", TRUE, 334, NULL, "" },
    { "250 5.7 is not a status", TRUE, 250, NULL, "5.7 is not a status" },
    { "", FALSE, 0, NULL, NULL },
    { "hello", FALSE, 0, NULL, NULL },
    { "25", FALSE, 0, NULL, NULL },
    { "2500 x", FALSE, 0, NULL, NULL },
    { "099 nope", FALSE, 0, NULL, NULL },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *status = NULL;
      g_autofree char *text = NULL;
      guint code = 0;
      gboolean ok = envoi_smtp_parse_reply (rows[i].reply, &code, &status, &text);

      g_test_message ("row %zu: %s", i, rows[i].reply);
      g_assert_cmpint (ok, ==, rows[i].ok);
      if (!ok)
        continue;
      g_assert_cmpuint (code, ==, rows[i].code);
      g_assert_cmpstr (status, ==, rows[i].status);
      g_assert_cmpstr (text, ==, rows[i].text);
    }

  g_assert_false (envoi_smtp_parse_reply (NULL, NULL, NULL, NULL));
}

static void
test_classify_reply (void)
{
  static const struct {
    EnvoiSmtpStage stage;
    const char *reply;
    EnvoiSmtpError expected;
  } rows[] = {
    { ENVOI_SMTP_STAGE_AUTH, "535 5.7.8 Authentication credentials invalid", ENVOI_SMTP_ERROR_AUTH_FAILED },
    { ENVOI_SMTP_STAGE_AUTH, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER },
    { ENVOI_SMTP_STAGE_AUTH, "550 5.7.30 Basic authentication is not supported for Client Submission.", ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER },
    { ENVOI_SMTP_STAGE_AUTH, "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor", ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED },
    { ENVOI_SMTP_STAGE_AUTH, "535-5.7.8 Username and Password not accepted.", ENVOI_SMTP_ERROR_AUTH_FAILED },
    { ENVOI_SMTP_STAGE_AUTH, "504 5.5.4 Unrecognized authentication type", ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED },
    { ENVOI_SMTP_STAGE_AUTH, "534 5.7.9 Authentication mechanism is too weak", ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED },
    { ENVOI_SMTP_STAGE_AUTH, "454 4.7.0 Temporary authentication failure", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_AUTH, "454 4.7.0 Too many login attempts, rate limit", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_GREETING, "421 4.3.2 Service not available", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_GREETING, "554 No SMTP service here", ENVOI_SMTP_ERROR_CONNECTION_REFUSED },
    { ENVOI_SMTP_STAGE_MAIL, "553 5.7.1 Sender address rejected: not owned by user", ENVOI_SMTP_ERROR_SENDER_REJECTED },
    { ENVOI_SMTP_STAGE_MAIL, "530 5.7.0 Authentication required", ENVOI_SMTP_ERROR_AUTH_REQUIRED },
    { ENVOI_SMTP_STAGE_MAIL, "530 5.7.0 Must issue a STARTTLS command first", ENVOI_SMTP_ERROR_TLS_REQUIRED },
    { ENVOI_SMTP_STAGE_MAIL, "552 5.3.4 Message size exceeds fixed limit", ENVOI_SMTP_ERROR_MESSAGE_REJECTED },
    { ENVOI_SMTP_STAGE_MAIL, "550 5.4.5 Daily user sending quota exceeded.", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED },
    { ENVOI_SMTP_STAGE_MAIL, "451 4.3.0 Mail server temporarily rejected message.", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_RCPT, "550 5.1.1 No such user here", ENVOI_SMTP_ERROR_RECIPIENT_REJECTED },
    { ENVOI_SMTP_STAGE_RCPT, "451 4.3.0 Temporary local problem", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_RCPT, "452 4.5.3 Too many recipients", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED },
    { ENVOI_SMTP_STAGE_RCPT, "452 4.2.2 Mailbox full", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_RCPT, "450 4.7.28 Our system has detected an unusual rate of unsolicited mail", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED },
    { ENVOI_SMTP_STAGE_RCPT, "554 5.7.1 Relay access denied", ENVOI_SMTP_ERROR_RECIPIENT_REJECTED },
    { ENVOI_SMTP_STAGE_RCPT, "550 5.7.1 Sending rate limit exceeded for this user", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED },
    { ENVOI_SMTP_STAGE_END_OF_DATA, "554 5.2.0 STOREDRV.Submission.Exception:MessageSubmissionExceededException", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED },
    { ENVOI_SMTP_STAGE_END_OF_DATA, "554 5.7.1 Message rejected as spam", ENVOI_SMTP_ERROR_MESSAGE_REJECTED },
    { ENVOI_SMTP_STAGE_DATA, "552 5.3.4 Message size exceeds fixed limit", ENVOI_SMTP_ERROR_MESSAGE_REJECTED },
    { ENVOI_SMTP_STAGE_END_OF_DATA, "421 4.4.2 Timeout", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE },
    { ENVOI_SMTP_STAGE_STARTTLS, "502 5.5.1 Unrecognized command", ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED },
    { ENVOI_SMTP_STAGE_EHLO, "501 5.5.4 Syntax", ENVOI_SMTP_ERROR_PROTOCOL },
    { ENVOI_SMTP_STAGE_RCPT, "250 OK", ENVOI_SMTP_ERROR_PROTOCOL },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *status = NULL;
      g_autofree char *text = NULL;
      guint code = 0;

      g_test_message ("row %zu: %s", i, rows[i].reply);
      g_assert_true (envoi_smtp_parse_reply (rows[i].reply, &code, &status, &text));
      g_assert_cmpint (envoi_smtp_classify_reply (rows[i].stage, code, status, text), ==, rows[i].expected);
    }

  /* No reply at all: the network, whatever the stage. */
  g_assert_cmpint (envoi_smtp_classify_reply (ENVOI_SMTP_STAGE_RCPT, 0, NULL, NULL), ==,
                   ENVOI_SMTP_ERROR_CONNECTION_LOST);
  /* Garbage in, a class out (this is what the fuzzer will hammer). */
  g_assert_cmpint (envoi_smtp_classify_reply (ENVOI_SMTP_STAGE_MAIL, 999, "9.9.9", ""), ==,
                   ENVOI_SMTP_ERROR_PROTOCOL);
}

static void
test_error_texts (void)
{
  g_autoptr(EnvoiAccount) tls587 = envoi_account_new ("hint");
  g_autoptr(EnvoiAccount) starttls465 = envoi_account_new ("hint2");
  int code;

  for (code = ENVOI_SMTP_ERROR_FAILED; code <= ENVOI_SMTP_ERROR_PROTOCOL; code++)
    {
      g_autoptr(GError) error = g_error_new_literal (ENVOI_SMTP_ERROR, code, "x");
      g_autofree char *hint = envoi_smtp_error_dup_hint (error, NULL);

      g_assert_cmpuint (strlen (envoi_smtp_error_get_title (error)), >, 5);
      g_assert_cmpuint (strlen (envoi_smtp_error_get_explanation (error)), >, 20);
      g_assert_cmpuint (strlen (hint), >, 20);
      /* Nothing is both "retry later" and "stop until the settings change". */
      g_assert_false (envoi_smtp_error_is_temporary (error) && envoi_smtp_error_should_pause_account (error));
    }

  {
    g_autoptr(GError) limit = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED, "x");
    g_autoptr(GError) auth = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED, "x");
    g_autoptr(GError) cert = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED, "x");
    g_autoptr(GError) rcpt = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_RECIPIENT_REJECTED, "x");
    g_autoptr(GError) tls = g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED, "x");
    g_autofree char *hint587 = NULL;
    g_autofree char *hint465 = NULL;

    g_assert_true (envoi_smtp_error_is_temporary (limit));
    g_assert_false (envoi_smtp_error_should_pause_account (limit));
    g_assert_true (envoi_smtp_error_should_pause_account (auth));
    g_assert_true (envoi_smtp_error_should_pause_account (cert));
    g_assert_false (envoi_smtp_error_is_temporary (rcpt));
    g_assert_false (envoi_smtp_error_should_pause_account (rcpt));

    /* Implicit TLS on a STARTTLS port and the reverse: the hint names the pair to try. */
    g_object_set (tls587, "host", "smtp.example.com", "port", 587u, "security", ENVOI_SECURITY_TLS, NULL);
    g_object_set (starttls465, "host", "smtp.example.com", "port", 465u, "security", ENVOI_SECURITY_STARTTLS, NULL);
    hint587 = envoi_smtp_error_dup_hint (tls, tls587);
    hint465 = envoi_smtp_error_dup_hint (tls, starttls465);
    g_assert_nonnull (strstr (hint587, "587"));
    g_assert_nonnull (strstr (hint587, "STARTTLS"));
    g_assert_nonnull (strstr (hint465, "465"));
    g_assert_nonnull (strstr (hint465, "SSL/TLS"));
  }
}

/* No 4 characters in a row of the password's base64, wherever it sits in an encoded blob: for
 * each alignment, the characters that depend on the password's bits alone (its "core"). */
static void
assert_no_password_base64 (const char *text)
{
  gsize n = strlen (ENVOI_TEST_PASSWORD);

  for (gsize k = 0; k < 3; k++)
    {
      g_autofree guchar *buffer = g_malloc0 (k + n);
      g_autofree char *encoded = NULL;
      gsize start = (8 * k + 5) / 6;       /* the first character made of the password's bits */
      gsize end = 8 * (k + n) / 6;        /* after the last one */

      memcpy (buffer + k, ENVOI_TEST_PASSWORD, n);
      encoded = g_base64_encode (buffer, k + n);
      for (gsize i = start; i + 4 <= end; i++)
        {
          g_autofree char *run = g_strndup (encoded + i, 4);

          if (strstr (text, run) != NULL)
            g_error ("“%s” (alignment %" G_GSIZE_FORMAT ") survives in: %s", run, k, text);
        }
    }
}

static void
test_transcript_redaction (void)
{
  g_autoptr(EnvoiSmtpTranscript) transcript = envoi_smtp_transcript_new (ENVOI_TEST_USER, ENVOI_TEST_PASSWORD);
  g_autofree char *plain = NULL;
  g_autofree char *user64 = g_base64_encode ((const guchar *) ENVOI_TEST_USER, strlen (ENVOI_TEST_USER));
  g_autofree char *pass64 = g_base64_encode ((const guchar *) ENVOI_TEST_PASSWORD, strlen (ENVOI_TEST_PASSWORD));
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;
  g_autofree char *escaped = g_uri_escape_string (ENVOI_TEST_PASSWORD "/ü", NULL, FALSE);
  g_autofree char *embedded = NULL;
  g_autofree char *redacted = NULL;
  g_autofree char *greeting = NULL;
  g_auto(GStrv) capabilities = NULL;
  int offset;

  {
    char blob[128];
    gsize n = 0;

    blob[n++] = '\0';
    memcpy (blob + n, ENVOI_TEST_USER, strlen (ENVOI_TEST_USER));
    n += strlen (ENVOI_TEST_USER);
    blob[n++] = '\0';
    memcpy (blob + n, ENVOI_TEST_PASSWORD, strlen (ENVOI_TEST_PASSWORD));
    n += strlen (ENVOI_TEST_PASSWORD);
    plain = g_base64_encode ((const guchar *) blob, n);
  }

#define ADD(kind, s) envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_##kind, s, strlen (s))
  ADD (SERVER, "220 localhost ESMTP\r\n");
  ADD (CLIENT, "EHLO localhost\r\n");
  /* A reply split across callbacks. */
  ADD (SERVER, "250-localhost\r\n250-SIZE 1000\r\n250-STAR");
  ADD (SERVER, "TTLS\r\n250 AUTH PLAIN LOGIN\r\n");
  line = g_strdup_printf ("AUTH PLAIN %s\r\n", plain);
  ADD (CLIENT, line);
  ADD (SERVER, "535 5.7.8 Authentication failed\r\n");
  ADD (CLIENT, "AUTH LOGIN\r\n");
  ADD (SERVER, "334 VXNlcm5hbWU6\r\n");
  ADD (CLIENT, user64);
  ADD (CLIENT, "\r\n");
  ADD (SERVER, "334 UGFzc3dvcmQ6\r\n");
  g_free (line);
  line = g_strdup_printf ("%s\r\n", pass64);
  ADD (CLIENT, line);
  ADD (SERVER, "235 2.7.0 OK\r\n");
  ADD (CLIENT, "MAIL FROM:<" ENVOI_TEST_USER "@example.org>\r\n");
  ADD (INFO, "a note with " ENVOI_TEST_PASSWORD " in it\n");
  g_free (line);
  line = g_strdup_printf ("url %s\n", escaped);
  ADD (INFO, line);
#undef ADD

  text = envoi_smtp_transcript_dup_text (transcript);
  g_test_message ("%s", text);
  g_assert_null (strstr (text, ENVOI_TEST_PASSWORD));
  g_assert_null (strstr (text, ENVOI_TEST_USER));
  g_assert_null (strstr (text, plain));
  g_assert_null (strstr (text, user64));
  g_assert_null (strstr (text, pass64));
  g_assert_null (strstr (text, escaped));
  assert_no_password_base64 (text);
  /* What is not secret stays readable. */
  g_assert_nonnull (strstr (text, "C: AUTH PLAIN [credentials removed]\n"));
  g_assert_nonnull (strstr (text, "C: AUTH LOGIN\n"));
  g_assert_nonnull (strstr (text, "S: 334 VXNlcm5hbWU6\n"));
  g_assert_nonnull (strstr (text, "S: 535 5.7.8 Authentication failed\n"));
  g_assert_nonnull (strstr (text, "C: MAIL FROM:<"));
  g_assert_nonnull (strstr (text, "S: 235 2.7.0 OK\n"));

  /* The password's base64 inside any larger blob, at every alignment. */
  for (offset = 0; offset < 3; offset++)
    {
      char buffer[128] = "xyz";
      g_autofree char *encoded = NULL;

      memcpy (buffer + offset, ENVOI_TEST_PASSWORD, strlen (ENVOI_TEST_PASSWORD));
      memcpy (buffer + offset + strlen (ENVOI_TEST_PASSWORD), "tail", 4);
      encoded = g_base64_encode ((const guchar *) buffer, offset + strlen (ENVOI_TEST_PASSWORD) + 4);
      g_free (embedded);
      embedded = g_strdup_printf ("prefix %s suffix", encoded);
      g_free (redacted);
      redacted = envoi_smtp_transcript_redact (transcript, embedded);
      g_assert_cmpstr (redacted, !=, embedded);
      /* The middle of the blob is gone: at most 8 characters of it remain on each side. */
      g_assert_null (strstr (redacted, encoded));
      assert_no_password_base64 (redacted);
    }

  g_assert_cmpint (envoi_smtp_transcript_get_stage (transcript), ==, ENVOI_SMTP_STAGE_MAIL);
  greeting = envoi_smtp_transcript_dup_greeting (transcript);
  g_assert_cmpstr (greeting, ==, "220 localhost ESMTP");
  capabilities = envoi_smtp_transcript_dup_capabilities (transcript);
  g_assert_nonnull (capabilities);
  g_assert_true (g_strv_contains ((const char * const *) capabilities, "AUTH PLAIN LOGIN"));
  g_assert_true (envoi_smtp_transcript_get_starttls_offered (transcript));
}

/* ---- against the real listeners ----------------------------------------------------------- */

static void
test_connect_plain (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  const char * const *mechanisms;

  mark_server_log ();
  report = run_test (client, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (envoi_smtp_report_get_greeting (report), "220 "));
  mechanisms = envoi_smtp_report_get_auth_mechanisms (report);
  g_assert_true (g_strv_contains (mechanisms, "PLAIN"));
  g_assert_true (g_strv_contains (mechanisms, "LOGIN"));
  g_assert_cmpuint (envoi_smtp_report_get_size_limit (report), ==, 33554432);
  g_assert_false (envoi_smtp_report_get_starttls_offered (report));
  g_assert_nonnull (strstr (envoi_smtp_report_get_transcript (report), "C: AUTH PLAIN"));
  g_assert_nonnull (strstr (envoi_smtp_report_get_transcript (report), "C: [credentials removed]\n"));
  g_assert_nonnull (strstr (envoi_smtp_report_get_transcript (report), "S: 235 "));
  /* The server saw the explicit EHLO name and a proper goodbye, in this test's session (other
   * tests use the listener too, at the same time). */
  g_assert_true (server_session_has ("plain", "EHLO localhost", "AUTH PLAIN"));
  g_assert_true (server_session_has ("plain", "AUTH PLAIN", "QUIT"));
}

static void
test_connect_starttls (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = run_test (client, &error);

  g_assert_no_error (error);
  g_assert_true (envoi_smtp_report_get_starttls_offered (report));
  /* AUTH is only offered after the upgrade: the report holds the second EHLO. */
  g_assert_true (g_strv_contains (envoi_smtp_report_get_auth_mechanisms (report), "PLAIN"));
  g_assert_true (g_str_has_prefix (envoi_smtp_report_get_certificate_pin (report), "sha256//"));
  g_assert_nonnull (strstr (envoi_smtp_report_get_certificate_issuer (report), "Envoi Test CA"));
}

static void
test_send_starttls (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = simple_message ("starttls-send-1");
  g_autofree char *reply = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *envelope = NULL;

  reply = run_send (client, message, RECIPIENT, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (reply, "250 2.0.0 OK: queued as starttls-"));

  stored = find_stored_message ("starttls", "starttls-send-1", &envelope);
  g_assert_nonnull (stored);
  g_assert_cmpstr (envelope, ==, "MAIL FROM:<" SENDER ">\nRCPT TO:<" RECIPIENT ">\n");
  /* Bare LFs became CRLF, and the lone dot survived dot-stuffing. */
  g_assert_nonnull (strstr (stored, "Hello.\r\n.\r\nA lone dot above.\r\n"));
}

static void
test_send_tls_reuses_connection (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_TLS_PORT", ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_LOGIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) earlier = server_log_lines ("tls");
  g_autofree char *first_connection = NULL;
  guint mails = 0;
  guint i;
  int n;

  /* Only what this test sends counts: earlier tests used the listener too. */
  for (n = 0; n < 3; n++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *subject = g_strdup_printf ("tls-reuse-%d", n);
      g_autoptr(GBytes) message = simple_message (subject);
      g_autofree char *reply = run_send (client, message, RECIPIENT, NULL, &error);
      g_autofree char *stored = NULL;

      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (reply, "250 "));
      stored = find_stored_message ("tls", subject, NULL);
      g_assert_nonnull (stored);
    }

  /* Three MAIL FROMs, one connection, one login. */
  lines = server_log_lines ("tls");
  for (i = earlier->len; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      g_auto(GStrv) words = g_strsplit (line, " ", 4);

      if (g_str_has_prefix (words[3], "MAIL FROM"))
        {
          mails++;
          if (first_connection == NULL)
            first_connection = g_strdup (words[1]);
          g_assert_cmpstr (words[1], ==, first_connection);
        }
    }
  g_assert_cmpuint (mails, ==, 3);
  g_assert_true (server_log_has ("tls", "AUTH LOGIN"));
}

static void
test_connect_open_no_auth (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_OPEN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;

  mark_server_log ();
  report = run_test (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((char **) envoi_smtp_report_get_auth_mechanisms (report)), ==, 0);
  /* The test asks whether the sender would be accepted, then takes it back. */
  g_assert_true (server_session_has ("open", "MAIL FROM:<" SENDER ">", "RSET"));
  g_assert_true (server_session_has ("open", "RSET", "QUIT"));
  g_assert_false (server_log_has ("open", "AUTH"));
}

static void
test_auth_required (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = run_test (client, &error);

  /* Authentication "none" on a server that wants a login: caught by the test, not later. */
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_REQUIRED);
  g_assert_nonnull (strstr (error->message, "530"));
  g_assert_true (envoi_smtp_error_should_pause_account (error));
}

static void
test_tls_on_starttls_port (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STARTTLS_PORT", ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = run_test (client, &error);
  g_autofree char *hint = NULL;

  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED);
  hint = envoi_smtp_error_dup_hint (error, account);
  g_test_message ("%s / %s", error->message, hint);
  g_assert_nonnull (strstr (hint, "STARTTLS"));
}

static void
test_wrong_password (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, "Wrong-Password-1234");
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = run_test (client, &error);

  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
  g_assert_nonnull (strstr (error->message, "535 5.7.8"));
  g_assert_true (envoi_smtp_error_should_pause_account (error));
  g_assert_false (envoi_smtp_error_is_temporary (error));
  g_assert_null (strstr (envoi_smtp_report_get_transcript (report), "Wrong-Password-1234"));
  g_assert_nonnull (strstr (envoi_smtp_report_get_transcript (report), "S: 535 5.7.8"));
}

static void
test_untrusted_then_pinned (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_UNTRUSTED_PORT", ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_PLAIN);
  const char *pin = envoi_test_env ("ENVOI_TEST_SMTP_UNTRUSTED_PIN");
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);

  mark_server_log ();
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED);
  g_assert_true (envoi_smtp_error_should_pause_account (error));
  /* The fingerprint, as the server's key really hashes (openssl computed it). */
  g_assert_cmpstr (envoi_smtp_report_get_certificate_pin (report), ==, pin);
  g_assert_nonnull (strstr (error->message, pin));
  g_assert_nonnull (strstr (envoi_smtp_report_get_certificate_subject (report), "Envoi Self-Signed"));
  g_assert_nonnull (envoi_smtp_report_get_certificate_issuer (report));
  /* No credentials went to the untrusted server. */
  g_assert_false (server_log_has ("untrusted", "AUTH"));

  /* Trust that one key: verification of the chain is off, the pin is the check. */
  g_clear_error (&error);
  g_clear_pointer (&report, envoi_smtp_report_unref);
  g_clear_object (&client);
  g_object_set (account, "pinned-key", pin, NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  mark_server_log ();
  report = run_test (client, &error);
  g_assert_no_error (error);
  g_assert_true (server_session_has ("untrusted", "EHLO", "AUTH PLAIN"));

  /* A wrong pin is refused, even though nothing else is checked. */
  g_clear_error (&error);
  g_clear_pointer (&report, envoi_smtp_report_unref);
  g_clear_object (&client);
  g_object_set (account, "pinned-key", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED);
  g_assert_cmpstr (envoi_smtp_report_get_certificate_pin (report), ==, pin);
}

static void
test_name_mismatch (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_MISMATCH_PORT", ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;

  mark_server_log ();
  report = run_test (client, &error);

  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH);
  g_assert_nonnull (strstr (error->message, "wrong.invalid"));
  g_assert_false (server_log_has ("mismatch", "AUTH"));
}

static void
test_starttls_not_offered (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_NOSTARTTLS_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autoptr(GBytes) message = simple_message ("must-not-be-sent");
  g_autofree char *reply = NULL;

  mark_server_log ();
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED);
  g_clear_error (&error);
  reply = run_send (client, message, RECIPIENT, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED);

  /* The listener offered AUTH in clear; the server's own log proves we never used it. */
  g_assert_true (server_log_has ("nostarttls", "EHLO"));
  g_assert_false (server_log_has ("nostarttls", "AUTH"));
  g_assert_false (server_log_has ("nostarttls", "MAIL"));
}

static void
test_connection_refused (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  guint16 port;

  /* A port that nothing listens on: bind one, note it, close it. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  g_object_set (account, "host", "127.0.0.1", "port", (guint) port, NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_REFUSED);
  g_assert_true (envoi_smtp_error_is_temporary (error));
}

static void
test_host_not_found (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;

  g_object_set (account, "host", "no-such-host.invalid", NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_HOST_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no-such-host.invalid"));
}

static void
test_plaintext_password_refused (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  gint64 start;

  /* TEST-NET-1: never reachable; the refusal must come before any connection attempt. */
  g_object_set (account, "host", "192.0.2.1", NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  start = g_get_monotonic_time ();
  report = run_test (client, &error);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);
  g_assert_cmpstr (envoi_smtp_report_get_transcript (report), ==, "");
  g_assert_true (envoi_smtp_error_should_pause_account (error));
}

static void
test_stall_timeout (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STALL_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  gint64 start, elapsed;

  g_object_set (account, "timeout", 5u, NULL);  /* the smallest the schema allows */
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  start = g_get_monotonic_time ();
  report = run_test (client, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TIMEOUT);
  g_assert_true (envoi_smtp_error_is_temporary (error));
  g_test_message ("timed out after %" G_GINT64_FORMAT " ms", elapsed / 1000);
  g_assert_cmpint (elapsed, >=, 4 * G_USEC_PER_SEC);
  g_assert_cmpint (elapsed, <, 8 * G_USEC_PER_SEC);
}

typedef struct
{
  GCancellable *cancellable;
  gint64 cancelled_at;
} CancelData;

static gboolean
cancel_cb (gpointer user_data)
{
  CancelData *data = user_data;

  data->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (data->cancellable);

  return G_SOURCE_REMOVE;
}

static void
test_stall_cancel (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_STALL_PORT", ENVOI_SECURITY_STARTTLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) send_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = simple_message ("never");
  const char *recipients[] = { RECIPIENT, NULL };
  CancelData data = { cancellable, 0 };
  g_autofree char *reply = NULL;
  gint64 latency;

  /* A long timeout: only the cancel can end these quickly. */
  g_object_set (account, "timeout", 60u, NULL);
  client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  envoi_smtp_client_test_async (client, cancellable, envoi_test_async_result_cb, &result);
  g_timeout_add (300, cancel_cb, &data);
  envoi_test_wait (&result);
  latency = g_get_monotonic_time () - data.cancelled_at;
  g_test_message ("test operation: cancel took %" G_GINT64_FORMAT " µs", latency);
  g_assert_null (envoi_smtp_client_test_finish (client, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (data.cancelled_at, >, 0);
  g_assert_cmpint (latency, <, 100 * 1000);

  /* The same for a send, on the shared connection handle. */
  g_clear_error (&error);
  g_cancellable_reset (cancellable);
  data.cancelled_at = 0;
  envoi_smtp_client_send_async (client, SENDER, recipients, message, cancellable,
                                envoi_test_async_result_cb, &send_result);
  g_timeout_add (300, cancel_cb, &data);
  envoi_test_wait (&send_result);
  latency = g_get_monotonic_time () - data.cancelled_at;
  g_test_message ("send: cancel took %" G_GINT64_FORMAT " µs", latency);
  reply = envoi_smtp_client_send_finish (client, send_result, &error);
  g_assert_null (reply);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (latency, <, 100 * 1000);
}

static void
test_greeting_421 (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_GREET421_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = run_test (client, &error);

  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE);
  g_assert_nonnull (strstr (error->message, "421 4.3.2"));
  g_assert_true (envoi_smtp_error_is_temporary (error));
}

static void
check_rcpt_failure (const char     *port_variable,
                    EnvoiSmtpError  expected,
                    const char     *reply_fragment,
                    gboolean        temporary)
{
  g_autoptr(EnvoiAccount) account = make_account (port_variable, ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = simple_message ("rejected");
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autofree char *reply = run_send (client, message, RECIPIENT, &report, &error);

  g_assert_null (reply);
  g_test_message ("%s", error->message);
  g_assert_error (error, ENVOI_SMTP_ERROR, (int) expected);
  g_assert_nonnull (strstr (error->message, reply_fragment));
  g_assert_nonnull (strstr (envoi_smtp_report_get_last_reply (report), reply_fragment));
  g_assert_cmpint (envoi_smtp_error_is_temporary (error), ==, temporary);
}

static void
test_rcpt_451 (void)
{
  check_rcpt_failure ("ENVOI_TEST_SMTP_RCPT451_PORT", ENVOI_SMTP_ERROR_TEMPORARY_FAILURE, "451 4.3.0", TRUE);
}

static void
test_rcpt_550 (void)
{
  check_rcpt_failure ("ENVOI_TEST_SMTP_RCPT550_PORT", ENVOI_SMTP_ERROR_RECIPIENT_REJECTED, "550 5.1.1", FALSE);
}

static void
test_rcpt_452_limit (void)
{
  check_rcpt_failure ("ENVOI_TEST_SMTP_RCPT452_PORT", ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED, "452 4.5.3", TRUE);
}

static void
test_data_552 (void)
{
  check_rcpt_failure ("ENVOI_TEST_SMTP_DATA552_PORT", ENVOI_SMTP_ERROR_MESSAGE_REJECTED, "552 5.3.4", FALSE);
}

/* Sends queued together, the first one failing: with halt-after-failure (the delivery agent's
 * pipelining) those queued before the failure come back cancelled, never attempted, so that the
 * caller decides first; one queued after the failure is attempted. Without it (the default) each
 * is tried. The first send carries a large body that the server refuses only after DATA, so
 * the other two are queued long before it fails. */
static void
run_halt_after_failure (gboolean halt)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_DATA552_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_NONE);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, NULL);
  GAsyncResult *results[3] = { NULL, };
  g_autoptr(GString) big = g_string_new ("Subject: halt-big\n\n");
  g_autoptr(GBytes) big_message = NULL;
  g_autoptr(GBytes) message = simple_message ("halt");
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  const char *recipients[] = { RECIPIENT, NULL };
  guint datas = 0;

  for (guint i = 0; i < 40000; i++)
    g_string_append (big, "a line of a body long enough to take a while to upload\n");
  big_message = g_bytes_new (big->str, big->len);

  envoi_smtp_client_set_halt_after_failure (client, halt);
  mark_server_log ();
  envoi_smtp_client_send_async (client, SENDER, recipients, big_message, NULL,
                                envoi_test_async_result_cb, &results[0]);
  envoi_smtp_client_send_async (client, SENDER, recipients, message, NULL,
                                envoi_test_async_result_cb, &results[1]);
  envoi_smtp_client_send_async (client, SENDER, recipients, message, NULL,
                                envoi_test_async_result_cb, &results[2]);
  for (guint i = 0; i < 3; i++)
    envoi_test_wait (&results[i]);

  g_assert_null (envoi_smtp_client_send_finish (client, results[0], &error));
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MESSAGE_REJECTED);
  for (guint i = 1; i < 3; i++)
    {
      g_clear_error (&error);
      g_assert_null (envoi_smtp_client_send_finish (client, results[i], &error));
      if (halt)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      else
        g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MESSAGE_REJECTED);
    }

  /* Queued after the failure: tried. */
  g_clear_error (&error);
  reply = run_send (client, message, RECIPIENT, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MESSAGE_REJECTED);

  lines = server_log_lines ("data552");
  for (guint i = 0; i < lines->len; i++)
    datas += g_str_has_suffix (g_ptr_array_index (lines, i), " >> DATA");
  g_assert_cmpuint (datas, ==, halt ? 2 : 4);

  for (guint i = 0; i < 3; i++)
    g_clear_object (&results[i]);
}

static void
test_send_halt_after_failure (void)
{
  run_halt_after_failure (TRUE);
}

static void
test_send_no_halt_by_default (void)
{
  run_halt_after_failure (FALSE);
}

static void
test_japanese_round_trip (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_PLAIN_PORT", ENVOI_SECURITY_NONE, ENVOI_AUTH_METHOD_AUTOMATIC);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *body = NULL;
  const char *name = "山田 太郎";
  const char *subject = "送信テスト：日本語の件名です（Envoi）";
  const char *to[] = { "花子 <" RECIPIENT ">", NULL };
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *parsed;
  InternetAddress *from;

  g_object_set (account, "display-name", name, NULL);
  message = envoi_message_build (account, to, subject, "本文です。\n", &error);
  g_assert_no_error (error);

  reply = run_send (client, message, RECIPIENT, NULL, &error);
  g_assert_no_error (error);

  /* Find it by its Message-ID, then let GMime decode what the server stored. */
  {
    GMimeMessage *sent;

    stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
    parser = g_mime_parser_new_with_stream (stream);
    sent = g_mime_parser_construct_message (parser, NULL);
    message_id = g_strdup (g_mime_message_get_message_id (sent));
    g_object_unref (sent);
    g_object_unref (parser);
    g_object_unref (stream);
  }
  stored = find_stored_message ("plain", message_id, NULL);
  g_assert_nonnull (stored);
  /* On the wire, encoded words only. */
  g_assert_null (strstr (stored, subject));
  g_assert_null (strstr (stored, name));

  stream = g_mime_stream_mem_new_with_buffer (stored, strlen (stored));
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, subject);
  from = internet_address_list_get_address (g_mime_message_get_from (parsed), 0);
  g_assert_cmpstr (internet_address_get_name (from), ==, name);
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (g_mime_message_get_to (parsed), 0)), ==, "花子");
  body = g_mime_text_part_get_text (GMIME_TEXT_PART (g_mime_message_get_mime_part (parsed)));
  g_assert_cmpstr (body, ==, "本文です。\r\n");
  g_object_unref (parsed);
  g_object_unref (parser);
  g_object_unref (stream);
}

static void
test_send_test_message (void)
{
  g_autoptr(EnvoiAccount) account = make_account ("ENVOI_TEST_SMTP_TLS_PORT", ENVOI_SECURITY_TLS, ENVOI_AUTH_METHOD_PLAIN);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (account, ENVOI_TEST_PASSWORD);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = envoi_message_build_test (account, NULL, &error);
  g_autofree char *reply = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *envelope = NULL;
  g_autofree char *port_line = g_strdup_printf ("port %u", (guint) envoi_test_env_port ("ENVOI_TEST_SMTP_TLS_PORT"));

  g_assert_no_error (error);
  reply = run_send (client, message, SENDER, NULL, &error);
  g_assert_no_error (error);
  stored = find_stored_message ("tls", port_line, &envelope);
  g_assert_nonnull (stored);
  g_assert_nonnull (strstr (stored, "Subject: Test message from Envoi\r\n"));
  g_assert_nonnull (strstr (envelope, "RCPT TO:<" SENDER ">"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  envoi_message_init ();

  g_test_add_func ("/envoi/smtp/parse-reply", test_parse_reply);
  g_test_add_func ("/envoi/smtp/classify-reply", test_classify_reply);
  g_test_add_func ("/envoi/smtp/error-texts", test_error_texts);
  g_test_add_func ("/envoi/smtp/transcript-redaction", test_transcript_redaction);
  g_test_add_func ("/envoi/smtp/connect/plain", test_connect_plain);
  g_test_add_func ("/envoi/smtp/connect/starttls", test_connect_starttls);
  g_test_add_func ("/envoi/smtp/send/starttls", test_send_starttls);
  g_test_add_func ("/envoi/smtp/send/tls-reuses-connection", test_send_tls_reuses_connection);
  g_test_add_func ("/envoi/smtp/send/test-message", test_send_test_message);
  g_test_add_func ("/envoi/smtp/send/japanese", test_japanese_round_trip);
  g_test_add_func ("/envoi/smtp/connect/open-no-auth", test_connect_open_no_auth);
  g_test_add_func ("/envoi/smtp/error/wrong-password", test_wrong_password);
  g_test_add_func ("/envoi/smtp/error/auth-required", test_auth_required);
  g_test_add_func ("/envoi/smtp/error/tls-on-starttls-port", test_tls_on_starttls_port);
  g_test_add_func ("/envoi/smtp/error/untrusted-then-pinned", test_untrusted_then_pinned);
  g_test_add_func ("/envoi/smtp/error/name-mismatch", test_name_mismatch);
  g_test_add_func ("/envoi/smtp/error/starttls-not-offered", test_starttls_not_offered);
  g_test_add_func ("/envoi/smtp/error/connection-refused", test_connection_refused);
  g_test_add_func ("/envoi/smtp/error/host-not-found", test_host_not_found);
  g_test_add_func ("/envoi/smtp/error/plaintext-password-refused", test_plaintext_password_refused);
  g_test_add_func ("/envoi/smtp/error/stall-timeout", test_stall_timeout);
  g_test_add_func ("/envoi/smtp/error/stall-cancel", test_stall_cancel);
  g_test_add_func ("/envoi/smtp/error/greeting-421", test_greeting_421);
  g_test_add_func ("/envoi/smtp/error/rcpt-451", test_rcpt_451);
  g_test_add_func ("/envoi/smtp/error/rcpt-550", test_rcpt_550);
  g_test_add_func ("/envoi/smtp/error/rcpt-452-limit", test_rcpt_452_limit);
  g_test_add_func ("/envoi/smtp/error/data-552", test_data_552);
  g_test_add_func ("/envoi/smtp/send/halt-after-failure", test_send_halt_after_failure);
  g_test_add_func ("/envoi/smtp/send/no-halt-by-default", test_send_no_halt_by_default);

  return g_test_run ();
}

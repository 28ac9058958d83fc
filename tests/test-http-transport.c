/* test-http-transport.c: the HTTP transport against a local HTTPS server (tests/http-sink.py)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-http-transport.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"
#include "envoi-test-helpers.h"

static struct
{
  char        *dir;
  GSubprocess *sink;
  guint        port;
} h;

static const char message_text[] =
  "From: Envoi Test <envoi-test@example.org>\n"
  "To: someone@example.net\n"
  "Subject: =?UTF-8?B?44OG44K544OI?=\n"
  "Message-ID: <http-test@example.org>\n"
  "\n"
  "Bonjour,\n"
  ".a line with a dot\n";

static const char *recipients[] = { "someone@example.net", "archive@example.org", NULL };

static EnvoiAccount *
http_account (EnvoiTransport  transport,
              const char     *path)
{
  EnvoiAccount *account = envoi_account_new ("http");
  g_autofree char *base = g_strdup_printf ("https://localhost:%u%s", h.port, path);

  g_object_set (account,
                "address", "envoi-test@example.org",
                "transport", transport,
                "http-url", base,
                "mailgun-domain", "mg.example.org",
                NULL);
  return account;
}

static char *
send_message (EnvoiAccount  *account,
              const char    *key,
              char         **transcript,
              GError       **error)
{
  g_autoptr(EnvoiHttpTransport) transport = envoi_http_transport_new (account, key);
  g_autoptr(GBytes) message = g_bytes_new_static (message_text, strlen (message_text));
  g_autoptr(GAsyncResult) result = NULL;
  char *reply;

  envoi_http_transport_send_async (transport, "envoi-test@example.org", recipients, message, NULL,
                                   envoi_test_async_result_cb, &result);
  reply = envoi_http_transport_send_finish (transport, envoi_test_wait (&result), error);
  if (transcript != NULL)
    *transcript = g_strdup (envoi_http_transport_get_transcript (transport, result));
  return reply;
}

/* The last request the sink stored: its body and its meta lines. */
static guint
last_stored (char **body,
             char **meta)
{
  guint n = 0;

  for (guint i = 1; ; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%u.meta", h.dir, i);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        break;
      n = i;
    }
  if (n > 0)
    {
      g_autofree char *b = g_strdup_printf ("%s/%u.body", h.dir, n);
      g_autofree char *m = g_strdup_printf ("%s/%u.meta", h.dir, n);

      g_assert_true (g_file_get_contents (b, body, NULL, NULL));
      g_assert_true (g_file_get_contents (m, meta, NULL, NULL));
    }
  return n;
}

static const char *
crlf_message (void)
{
  static char *crlf;

  if (crlf == NULL)
    {
      g_auto(GStrv) lines = g_strsplit (message_text, "\n", -1);

      crlf = g_strjoinv ("\r\n", lines);
    }
  return crlf;
}

static void
test_url (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("url");
  g_autofree char *none = NULL;
  g_autofree char *us = NULL;
  g_autofree char *eu = NULL;
  g_autofree char *post = NULL;

  none = envoi_account_dup_http_url (account);
  g_assert_null (none);
  g_object_set (account, "transport", ENVOI_TRANSPORT_HTTP_MAILGUN, "mailgun-domain", "mg.example.org", NULL);
  us = envoi_account_dup_http_url (account);
  g_assert_cmpstr (us, ==, "https://api.mailgun.net/v3/mg.example.org/messages.mime");
  g_object_set (account, "mailgun-region", ENVOI_MAILGUN_REGION_EU, NULL);
  eu = envoi_account_dup_http_url (account);
  g_assert_cmpstr (eu, ==, "https://api.eu.mailgun.net/v3/mg.example.org/messages.mime");
  g_object_set (account, "transport", ENVOI_TRANSPORT_HTTP_POST, "http-url", "https://h.example/in", NULL);
  post = envoi_account_dup_http_url (account);
  g_assert_cmpstr (post, ==, "https://h.example/in");
}

static void
test_mailgun_success (void)
{
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_MAILGUN, "");
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  g_autofree char *reply = send_message (account, ENVOI_TEST_API_KEY, &transcript, &error);
  g_autofree char *body = NULL;
  g_autofree char *meta = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (reply, "HTTP 200 "));
  g_assert_nonnull (strstr (reply, "Queued"));
  g_assert_cmpuint (last_stored (&body, &meta), >, 0);
  g_assert_nonnull (strstr (meta, "path /v3/mg.example.org/messages.mime\n"));
  g_assert_nonnull (strstr (meta, "to someone@example.net\n"));
  g_assert_nonnull (strstr (meta, "to archive@example.org\n"));
  g_assert_cmpstr (body, ==, crlf_message ());

  g_test_message ("%s", transcript);
  g_assert_nonnull (strstr (transcript, "Authorization: (removed)"));
  g_assert_null (strstr (transcript, ENVOI_TEST_API_KEY));
  g_assert_null (strstr (reply, ENVOI_TEST_API_KEY));
}

static void
test_post_success (void)
{
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, "/post/ok");
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  g_autofree char *reply = send_message (account, ENVOI_TEST_API_KEY, &transcript, &error);
  g_autofree char *body = NULL;
  g_autofree char *meta = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (reply, "HTTP 200"));
  g_assert_cmpuint (last_stored (&body, &meta), >, 0);
  g_assert_nonnull (strstr (meta, "path /post/ok\n"));
  g_assert_nonnull (strstr (meta, "type message/rfc822\n"));
  g_assert_nonnull (strstr (meta, "from envoi-test@example.org\n"));
  g_assert_nonnull (strstr (meta, "rcpt someone@example.net\nrcpt archive@example.org\n"));
  g_assert_cmpstr (body, ==, crlf_message ());
  g_assert_null (strstr (transcript, ENVOI_TEST_API_KEY));
}

/* An envelope with CR/LF would become header lines of its own ("X-Envoi-Rcpt-To: a\r\nX-Evil:
 * 1"): refused before libcurl, and nothing reaches the server. */
static void
test_envelope_injection (void)
{
  const char *hostile[][3] = {
    { "someone@example.net\r\nX-Injected: 1", NULL, NULL },
    { "someone@example.net", "archive@example.org\nX-Injected: 1", NULL },
    { "some\x1bone@example.net", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, "/post/ok");
      g_autoptr(EnvoiHttpTransport) transport = envoi_http_transport_new (account, ENVOI_TEST_API_KEY);
      g_autoptr(GBytes) message = g_bytes_new_static (message_text, strlen (message_text));
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *body = NULL;
      g_autofree char *meta = NULL;
      g_autofree char *reply = NULL;
      guint before = last_stored (&body, &meta);

      envoi_http_transport_send_async (transport, "envoi-test@example.org", hostile[i], message,
                                       NULL, envoi_test_async_result_cb, &result);
      reply = envoi_http_transport_send_finish (transport, envoi_test_wait (&result), &error);
      g_assert_null (reply);
      g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_RECIPIENT_REJECTED);
      g_assert_null (strchr (error->message, '\n'));
      g_assert_null (strchr (error->message, '\x1b'));

      g_clear_pointer (&body, g_free);
      g_clear_pointer (&meta, g_free);
      g_assert_cmpuint (last_stored (&body, &meta), ==, before);
    }
}

static void
test_unauthorized (void)
{
  const EnvoiTransport transports[] = { ENVOI_TRANSPORT_HTTP_MAILGUN, ENVOI_TRANSPORT_HTTP_POST };

  for (guint i = 0; i < G_N_ELEMENTS (transports); i++)
    {
      g_autoptr(EnvoiAccount) account = http_account (transports[i], i == 0 ? "" : "/post/ok");
      g_autoptr(GError) error = NULL;
      g_autofree char *transcript = NULL;
      g_autofree char *reply = send_message (account, "Wrong-Api-Key", &transcript, &error);

      g_assert_null (reply);
      g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED);
      g_assert_nonnull (strstr (error->message, "HTTP 401"));
      /* The sender pauses the account until its settings (or key) change. */
      g_assert_true (envoi_smtp_error_should_pause_account (error));
      g_assert_null (strstr (transcript, "Wrong-Api-Key"));
    }
}

static void
test_temporary_then_success (gconstpointer data)
{
  const char *path = data;
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, path);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = send_message (account, ENVOI_TEST_API_KEY, NULL, &error);
  g_autofree char *second = NULL;
  g_autofree char *body = NULL;
  g_autofree char *meta = NULL;
  guint before = last_stored (&body, &meta);

  g_assert_null (first);
  if (g_str_equal (path, "/post/429-once"))
    g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED);
  else
    g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE);
  /* The sender keeps the message and tries again later. */
  g_assert_true (envoi_smtp_error_is_temporary (error));
  g_assert_false (envoi_smtp_error_should_pause_account (error));
  g_clear_error (&error);
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&meta, g_free);

  second = send_message (account, ENVOI_TEST_API_KEY, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (second, "HTTP 200"));
  g_assert_cmpuint (last_stored (&body, &meta), ==, before + 1);
  g_assert_cmpstr (body, ==, crlf_message ());
}

static void
test_rejected (void)
{
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, "/post/400");
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = send_message (account, ENVOI_TEST_API_KEY, NULL, &error);

  g_assert_null (reply);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MESSAGE_REJECTED);
  g_assert_false (envoi_smtp_error_is_temporary (error));
  g_assert_nonnull (strstr (error->message, "bad message"));
}

static void
test_plain_http_refused (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("plain");
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  g_object_set (account, "transport", ENVOI_TRANSPORT_HTTP_POST,
                "http-url", "http://mail.example.invalid/in", NULL);
  reply = send_message (account, ENVOI_TEST_API_KEY, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED);
}

/* The daemon end to end: an account that sends over HTTP, its key in the keyring, a message from
 * envoi-sendmail; the delivery agent looks the key up and posts the message to the sink. */
static gboolean
sink_has (gpointer data)
{
  g_autofree char *body = NULL;
  g_autofree char *meta = NULL;

  return last_stored (&body, &meta) > 0 && strstr (body, data) != NULL;
}

static void
test_sender_delivers (void)
{
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, "/post/ok");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSubprocess) sendmail = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *subject = g_strdup_printf ("through-the-agent-%" G_GINT64_FORMAT,
                                              g_get_real_time ());
  g_autofree char *text = g_strdup_printf ("To: someone@example.net\nSubject: %s\n\nhello\n",
                                           subject);
  g_autofree char *body = NULL;
  g_autofree char *meta = NULL;
  gboolean arrived = FALSE;

  envoi_secret_store_async (account, ENVOI_SERVICE_HTTP, ENVOI_TEST_API_KEY, NULL,
                            envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);
  envoi_account_store_add (store, account);
  g_settings_sync ();

  sendmail = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error,
                               envoi_test_env ("ENVOI_SENDMAIL_PATH"), "-t", "--account",
                               envoi_account_get_id (account), NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (sendmail, text, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (sendmail), ==, 0);

  for (guint i = 0; i < 60 * 50 && !(arrived = sink_has (subject)); i++)
    g_usleep (20 * 1000);
  g_assert_true (arrived);
  last_stored (&body, &meta);
  g_assert_nonnull (strstr (meta, "path /post/ok"));
  g_assert_nonnull (strstr (meta, "someone@example.net"));

  envoi_test_stop_sender_service ();
}

/* Whether any request the sink stored holds @text. */
static gboolean
sink_stored (const char *text)
{
  for (guint i = 1; ; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%u.body", h.dir, i);
      g_autofree char *body = NULL;

      if (!g_file_get_contents (path, &body, NULL, NULL))
        return FALSE;
      if (strstr (body, text) != NULL)
        return TRUE;
    }
}

static char *
list_queue (void)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              envoi_test_env ("ENVOI_SENDMAIL_PATH"), "-bp", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);

  return out;
}

/* A 503 whose body is not UTF-8 and holds an ESC: the reason keeps the server's words, made
 * valid and one line, from the agent through D-Bus to envoi-sendmail -bp; then it goes. */
static void
test_sender_reply_encoding (void)
{
  g_autoptr(EnvoiAccountStore) store = envoi_account_store_new ();
  g_autoptr(EnvoiAccount) account = http_account (ENVOI_TRANSPORT_HTTP_POST, "/post/503-badutf8-once");
  GSettings *settings = envoi_account_store_get_settings (store);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSubprocess) sendmail = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *subject = g_strdup_printf ("bad-encoding-%" G_GINT64_FORMAT, g_get_real_time ());
  g_autofree char *text = g_strdup_printf ("To: someone@example.net\nSubject: %s\n\nhello\n", subject);
  g_autofree char *listing = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean arrived = FALSE;

  envoi_secret_store_async (account, ENVOI_SERVICE_HTTP, ENVOI_TEST_API_KEY, NULL,
                            envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);
  g_settings_set_uint (settings, "retry-initial-delay", 3600);
  envoi_account_store_add (store, account);
  g_settings_sync ();

  sendmail = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error,
                               envoi_test_env ("ENVOI_SENDMAIL_PATH"), "-t", "--account",
                               envoi_account_get_id (account), NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (sendmail, text, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (sendmail), ==, 0);

  for (guint i = 0; i < 30 * 10; i++)
    {
      g_free (listing);
      listing = list_queue ();
      if (strstr (listing, "HTTP 503") != NULL)
        break;
      g_usleep (100 * 1000);
    }
  g_test_message ("%s", listing);
  g_assert_nonnull (strstr (listing, "deferred"));
  g_assert_true (g_utf8_validate (listing, -1, NULL));
  g_assert_nonnull (strstr (listing, "HTTP 503 {\"error\": \"overloaded \xef\xbf\xbd\xef\xbf\xbd caf\xef\xbf\xbd \\x1b[31m\"}"));
  g_assert_null (strchr (listing, '\x1b'));
  /* Other tests of the session may have left messages (the first to go then gets the 503):
   * every line is an entry or, just after it, the entry's one-line reason. */
  lines = g_strsplit (listing, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      if (g_str_has_prefix (lines[i], "    "))
        {
          g_assert_cmpuint (i, >, 0);
          g_assert_true (g_ascii_isxdigit (lines[i - 1][0]));
          continue;
        }
      g_assert_true (g_ascii_isxdigit (lines[i][0]));
    }

  /* Flushed, it goes: the second answer is 200. */
  g_clear_object (&sendmail);
  sendmail = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                               envoi_test_env ("ENVOI_SENDMAIL_PATH"), "-q", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (sendmail, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 30 * 50 && !(arrived = sink_stored (subject)); i++)
    g_usleep (20 * 1000);
  g_assert_true (arrived);

  g_settings_reset (settings, "retry-initial-delay");
  g_settings_sync ();
  envoi_test_stop_sender_service ();
}

static void
start_sink (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "http-sink.py", NULL);
  g_autofree char *cert = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.pem", NULL);
  g_autofree char *key = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.key", NULL);
  g_autofree char *ready = NULL;
  g_autofree char *port_path = NULL;
  g_autofree char *port = NULL;
  g_autoptr(GError) error = NULL;

  h.dir = g_build_filename (envoi_test_env ("ENVOI_TEST_DIR"), "http-sink", NULL);
  h.sink = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "/usr/bin/python3", script,
                             "--dir", h.dir, "--cert", cert, "--key", key, NULL);
  g_assert_no_error (error);

  ready = g_build_filename (h.dir, "ready", NULL);
  for (guint i = 0; i < 400 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (25 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));

  port_path = g_build_filename (h.dir, "port", NULL);
  g_assert_true (g_file_get_contents (port_path, &port, NULL, NULL));
  h.port = (guint) g_ascii_strtoull (port, NULL, 10);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  /* The sink's certificate is from the session's test CA. */
  envoi_test_env (ENVOI_SMTP_CA_FILE_ENV);
  start_sink ();
  /* Shared with the daemon: the keyfile in the session's XDG_CONFIG_HOME. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  envoi_test_install_sender_service (envoi_test_env ("ENVOI_SENDER_PATH"));

  g_test_add_func ("/envoi/http/url", test_url);
  g_test_add_func ("/envoi/http/mailgun-success", test_mailgun_success);
  g_test_add_func ("/envoi/http/post-success", test_post_success);
  g_test_add_func ("/envoi/http/unauthorized", test_unauthorized);
  g_test_add_func ("/envoi/http/hostile/envelope-injection", test_envelope_injection);
  g_test_add_data_func ("/envoi/http/429-then-success", "/post/429-once", test_temporary_then_success);
  g_test_add_data_func ("/envoi/http/500-then-success", "/post/500-once", test_temporary_then_success);
  g_test_add_func ("/envoi/http/rejected", test_rejected);
  g_test_add_func ("/envoi/http/plain-http-refused", test_plain_http_refused);
  g_test_add_func ("/envoi/http/sender-delivers", test_sender_delivers);
  g_test_add_func ("/envoi/http/hostile/sender-reply-encoding", test_sender_reply_encoding);

  status = g_test_run ();

  g_subprocess_send_signal (h.sink, SIGTERM);
  g_subprocess_wait (h.sink, NULL, NULL);
  g_clear_object (&h.sink);
  g_free (h.dir);

  return status;
}

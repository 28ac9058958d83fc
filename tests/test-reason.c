/* test-reason.c: reasons made one line, libcurl failures classified, settings checked
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pure parts of the hostile-settings work (#23); the sender tests drive them end to end
 * against tests/sender-smtpd.py's hostile listener.
 */

#include "config.h"

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-curl-error.h"
#include "envoi-reason.h"
#include "envoi-validate.h"

static void
test_sanitize (void)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "", "" },
    { "250 2.0.0 OK", "250 2.0.0 OK" },
    { "caf\xc3\xa9 \xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "caf\xc3\xa9 \xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88" },
    { "a\r\nb", "a\\r\\nb" },
    { "tab\there", "tab\\there" },
    { "esc \x1b[31m red", "esc \\x1b[31m red" },
    { "del \x7f", "del \\x7f" },
    { "c1 \xc2\x85 next line", "c1 \\x85 next line" },
    { "ls \xe2\x80\xa8 ps \xe2\x80\xa9", "ls \\u2028 ps \\u2029" },
    { "bad \xff\xfe byte", "bad \xef\xbf\xbd\xef\xbf\xbd byte" },
    { "cut \xe3\x83", "cut \xef\xbf\xbd\xef\xbf\xbd" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = envoi_reason_sanitize (cases[i].in);

      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_true (g_utf8_validate (out, -1, NULL));
      g_assert_true (envoi_reason_is_clean (out));
      g_assert_cmpint (envoi_reason_is_clean (cases[i].in), ==, g_strcmp0 (cases[i].in, cases[i].out) == 0);
    }

  g_assert_null (envoi_reason_sanitize (NULL));
}

static void
test_classify (void)
{
  static const struct
  {
    CURLcode       code;
    gboolean       refused;
    EnvoiCurlFault fault;
  } cases[] = {
    { CURLE_ABORTED_BY_CALLBACK, FALSE, ENVOI_CURL_FAULT_CANCELLED },
    { CURLE_COULDNT_RESOLVE_HOST, FALSE, ENVOI_CURL_FAULT_HOST_NOT_FOUND },
    { CURLE_COULDNT_CONNECT, FALSE, ENVOI_CURL_FAULT_CONNECTION_REFUSED },
    { CURLE_OPERATION_TIMEDOUT, FALSE, ENVOI_CURL_FAULT_TIMEOUT },
    { CURLE_SSL_CONNECT_ERROR, FALSE, ENVOI_CURL_FAULT_TLS_HANDSHAKE },
    { CURLE_PEER_FAILED_VERIFICATION, FALSE, ENVOI_CURL_FAULT_CERTIFICATE },
    { CURLE_SSL_PINNEDPUBKEYNOTMATCH, FALSE, ENVOI_CURL_FAULT_CERTIFICATE },
    /* Mid-DATA: the last reply was "354 go ahead", no refusal. */
    { CURLE_SEND_ERROR, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    { CURLE_RECV_ERROR, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    { CURLE_GOT_NOTHING, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    { CURLE_PARTIAL_FILE, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    /* An oversized or garbled reply after a greeting. */
    { CURLE_WEIRD_SERVER_REPLY, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    { CURLE_UPLOAD_FAILED, FALSE, ENVOI_CURL_FAULT_CONNECTION_LOST },
    /* The server said no (550 to RCPT, 530 to MAIL, -ERR, NO). */
    { CURLE_SEND_ERROR, TRUE, ENVOI_CURL_FAULT_REFUSED },
    { CURLE_RECV_ERROR, TRUE, ENVOI_CURL_FAULT_REFUSED },
    { CURLE_UPLOAD_FAILED, TRUE, ENVOI_CURL_FAULT_REFUSED },
    { CURLE_URL_MALFORMAT, FALSE, ENVOI_CURL_FAULT_OTHER },
    { CURLE_OUT_OF_MEMORY, FALSE, ENVOI_CURL_FAULT_OTHER },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (envoi_curl_classify (cases[i].code, cases[i].refused), ==, cases[i].fault);
}

static void
test_check_settings (void)
{
  static const struct
  {
    const char *key;
    const char *value;
    const char *reason;   /* NULL: valid */
  } cases[] = {
    { NULL, NULL, NULL },
    { "host", "smtp.example.org\r\nX-Injected: 1", "The server name “smtp.example.org\\r\\nX-Injected: 1” is not valid: " },
    { "host", "smtp example.org", "The server name “smtp example.org” is not valid: " },
    { "host", "", "The server name “” is not valid: " },
    { "address", "", "has no email address" },
    { "address", "me@example.org\r\nRCPT TO:<x@example.net>", "The account’s address “me@example.org\\r\\nRCPT" },
    { "bcc", "archive@example.org\r\nRCPT TO:<victim@example.net>", "The Bcc address “archive@example.org\\r\\nRCPT" },
    { "bcc", "arch\x1bive@example.org", "The Bcc address “arch\\x1bive@example.org” is not valid: " },
    { "bcc", "archive@example.org", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EnvoiAccount) account = envoi_account_new ("check");
      g_autoptr(GError) error = NULL;
      gboolean valid;

      g_object_set (account,
                    "address", "me@example.org",
                    "host", "smtp.example.org",
                    "port", 587u,
                    NULL);
      if (cases[i].key != NULL)
        g_object_set (account, cases[i].key, cases[i].value, NULL);

      valid = envoi_account_check_settings (account, &error);
      if (cases[i].reason == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (valid);
          continue;
        }
      g_assert_false (valid);
      g_assert_error (error, ENVOI_VALIDATE_ERROR, error->code);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].reason));
      g_assert_true (envoi_reason_is_clean (error->message));
    }
}

static void
test_check_envelope (void)
{
  const char *good[] = { "a@example.org", "b@example.net", NULL };
  const char *crlf[] = { "a@example.org", "b@example.net\r\nRCPT TO:<c@example.net>", NULL };
  const char *esc[] = { "a\x1b@example.org", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_true (envoi_account_check_envelope ("", good, &error));
  g_assert_no_error (error);
  g_assert_true (envoi_account_check_envelope ("me@example.org", good, &error));
  g_assert_no_error (error);
  g_assert_false (envoi_account_check_envelope ("me@example.org>\r\nRSET", good, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (envoi_account_check_envelope ("me@example.org", crlf, &error));
  g_assert_true (envoi_reason_is_clean (error->message));
  g_clear_error (&error);
  g_assert_false (envoi_account_check_envelope ("me@example.org", esc, &error));
  g_assert_true (envoi_reason_is_clean (error->message));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/reason/sanitize", test_sanitize);
  g_test_add_func ("/envoi/reason/curl-classify", test_classify);
  g_test_add_func ("/envoi/reason/check-settings", test_check_settings);
  g_test_add_func ("/envoi/reason/check-envelope", test_check_envelope);

  return g_test_run ();
}

/* test-message.c: building messages with GMime, and CRLF normalisation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <gmime/gmime.h>

#include "envoi-account.h"
#include "envoi-message.h"
#include "envoi-test-helpers.h"

static GMimeMessage *
parse (GBytes *bytes)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;

  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);

  return message;
}

static char *
header_block (GBytes *bytes)
{
  const char *data = g_bytes_get_data (bytes, NULL);
  const char *end = g_strstr_len (data, g_bytes_get_size (bytes), "\r\n\r\n");

  g_assert_nonnull (end);
  return g_strndup (data, end - data);
}

static void
assert_crlf_only (GBytes *bytes)
{
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);
  gsize i;

  g_assert_cmpuint (length, >=, 2);
  for (i = 0; i < length; i++)
    {
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
      if (data[i] == '\r')
        g_assert_true (i + 1 < length && data[i + 1] == '\n');
    }
  g_assert_cmpint (data[length - 2], ==, '\r');
  g_assert_cmpint (data[length - 1], ==, '\n');
}

typedef struct
{
  const char *display_name;
  const char *address;
  const char *to;
  const char *subject;
  const char *body;
} RoundTrip;

static const RoundTrip round_trips[] = {
  { "山田 太郎", "taro@example.jp", "花子 <hanako@example.jp>", "テストメール：送信の確認です", "こんにちは。\n日本語の本文です。\n" },
  { "Françoise Lefèvre-Dupré", "francoise@example.fr", "Hélène <helene@example.fr>", "Déjà vu : l’été à Noël, ça marche ?", "Bonjour,\nÇa fonctionne très bien.\n.\nUne ligne avec un point seul.\n" },
  { "Plain Name", "plain@example.com", "to@example.com", "Only ASCII", "Hello\n" },
};

static void
test_round_trip (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (round_trips); i++)
    {
      const RoundTrip *row = &round_trips[i];
      g_autoptr(EnvoiAccount) account = envoi_account_new ("round-trip");
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *headers = NULL;
      g_autofree char *text = NULL;
      g_autoptr(GString) crlf = NULL;
      const char *to[] = { row->to, NULL };
      GMimeMessage *message;
      InternetAddressList *from;
      InternetAddress *mailbox;
      GMimeObject *part;
      const char *message_id;
      const guchar *p;

      g_test_message ("row %zu: %s", i, row->subject);
      g_object_set (account, "address", row->address, "display-name", row->display_name, NULL);

      bytes = envoi_message_build (account, to, row->subject, row->body, &error);
      g_assert_no_error (error);
      assert_crlf_only (bytes);

      /* Headers are 7-bit: non-ASCII names and subjects are RFC 2047 encoded words. */
      headers = header_block (bytes);
      for (p = (const guchar *) headers; *p != '\0'; p++)
        g_assert_cmpuint (*p, <, 0x80);
      if (i < 2)
        g_assert_nonnull (strstr (headers, "=?"));
      g_assert_true (g_str_has_prefix (headers, "Date: ") || strstr (headers, "\r\nDate: ") != NULL);

      message = parse (bytes);
      g_assert_cmpstr (g_mime_message_get_subject (message), ==, row->subject);

      from = g_mime_message_get_from (message);
      g_assert_cmpint (internet_address_list_length (from), ==, 1);
      mailbox = internet_address_list_get_address (from, 0);
      g_assert_cmpstr (internet_address_get_name (mailbox), ==, row->display_name);
      g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (mailbox)), ==, row->address);

      g_assert_cmpint (internet_address_list_length (g_mime_message_get_to (message)), ==, 1);

      message_id = g_mime_message_get_message_id (message);
      g_assert_nonnull (message_id);
      g_assert_true (g_str_has_suffix (message_id, strchr (row->address, '@')));
      g_assert_nonnull (g_mime_message_get_date (message));

      part = g_mime_message_get_mime_part (message);
      g_assert_true (GMIME_IS_TEXT_PART (part));
      text = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
      /* Text travels in its canonical form, CRLF lines, whatever the transfer encoding. */
      crlf = g_string_new (row->body);
      g_string_replace (crlf, "\n", "\r\n", 0);
      g_assert_cmpstr (text, ==, crlf->str);

      g_object_unref (message);
    }
}

static void
test_build_test_message (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("test-message");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  GMimeMessage *message;

  g_object_set (account,
                "address", "me@example.org",
                "display-name", "Zoé",
                "host", "smtp.example.org",
                "port", 587,
                NULL);

  bytes = envoi_message_build_test (account, NULL, &error);
  g_assert_no_error (error);
  assert_crlf_only (bytes);

  message = parse (bytes);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Test message from Envoi");
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (g_mime_message_get_to (message), 0))),
                   ==, "me@example.org");
  text = g_mime_text_part_get_text (GMIME_TEXT_PART (g_mime_message_get_mime_part (message)));
  g_assert_nonnull (strstr (text, "Envoi"));
  g_assert_nonnull (strstr (text, "me@example.org"));
  g_assert_nonnull (strstr (text, "smtp.example.org, port 587"));
  g_assert_nonnull (strstr (text, "STARTTLS"));
  g_object_unref (message);

  /* No address at all: an error, not an empty To. */
  {
    g_autoptr(EnvoiAccount) empty = envoi_account_new ("empty");
    g_autoptr(GBytes) none = envoi_message_build_test (empty, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_invalid_recipient (void)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("bad-rcpt");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *to[] = { "", NULL };

  g_object_set (account, "address", "me@example.org", NULL);
  bytes = envoi_message_build (account, to, "s", "b", &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_message_id (void)
{
  g_autofree char *a = envoi_message_make_message_id ("x@mail.example.net");
  g_autofree char *b = envoi_message_make_message_id ("x@mail.example.net");
  g_autofree char *c = envoi_message_make_message_id (NULL);

  g_assert_true (g_str_has_suffix (a, "@mail.example.net"));
  g_assert_cmpstr (a, !=, b);
  g_assert_null (strchr (a, '<'));
  g_assert_true (g_str_has_suffix (c, "@localhost"));
}

static void
test_normalize_crlf (void)
{
  static const struct { const char *in; const char *out; } rows[] = {
    { "a\nb\n", "a\r\nb\r\n" },
    { "a\r\nb\r\n", "a\r\nb\r\n" },
    { "a\rb", "a\r\nb\r\n" },
    { "a\r\n.\nb", "a\r\n.\r\nb\r\n" },
    { "no newline", "no newline\r\n" },
    { "", "\r\n" },
    { "\n\n", "\r\n\r\n" },
    { "mixed\r\r\n\n", "mixed\r\n\r\n\r\n" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr(GBytes) in = g_bytes_new_static (rows[i].in, strlen (rows[i].in));
      g_autoptr(GBytes) out = envoi_message_normalize_crlf (in);
      g_autofree char *text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));

      g_assert_cmpstr (text, ==, rows[i].out);
    }

  /* Already clean: the same bytes, not a copy. */
  {
    g_autoptr(GBytes) in = g_bytes_new_static ("x\r\n", 3);
    g_autoptr(GBytes) out = envoi_message_normalize_crlf (in);

    g_assert_true (in == out);
  }
}

/* Long lines: which parts are re-encoded, how, and that what they say stays the same. */
static char *
part_text (GMimeObject *object)
{
  GMimeStream *out = g_mime_stream_mem_new ();
  GByteArray *bytes;
  char *text;

  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (object)), out);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  text = g_strndup ((const char *) bytes->data, bytes->len);
  g_object_unref (out);

  return text;
}

static void
test_long_lines (void)
{
  g_autofree char *long_ascii = g_strnfill (2000, 'a');
  g_autofree char *short_line = g_strnfill (998, 'b');
  struct
  {
    const char          *headers;   /* then an empty line and the body */
    const char          *body;
    guint                encoded;
    GMimeContentEncoding encoding;
    const char          *in_output; /* NULL: no check */
  } cases[] = {
    /* A plain message: made MIME, its charset said. */
    { "Subject: a\n", long_ascii, 1, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "charset=us-ascii" },
    /* 998 octets is allowed: untouched. */
    { "Subject: b\n", short_line, 0, GMIME_CONTENT_ENCODING_DEFAULT, NULL },
    /* 8bit text: quoted-printable. */
    { "MIME-Version: 1.0\nContent-Type: text/csv; charset=utf-8\nContent-Transfer-Encoding: 8bit\n",
      long_ascii, 1, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "text/csv" },
    /* Not text: base64. */
    { "MIME-Version: 1.0\nContent-Type: application/json\n",
      long_ascii, 1, GMIME_CONTENT_ENCODING_BASE64, "Content-Transfer-Encoding: base64" },
    /* Already encoded: left as it is. */
    { "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n",
      "aGVsbG8=", 0, GMIME_CONTENT_ENCODING_BASE64, NULL },
  };

  envoi_message_init ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *raw = g_strdup_printf ("%s\n%s\n", cases[i].headers, cases[i].body);
      g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
      g_autoptr(GBytes) written = NULL;
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;
      GMimeMessage *message = parse (bytes);
      GMimeMessage *again;
      GMimeStream *stream;
      GByteArray *array;

      before = part_text (g_mime_message_get_mime_part (message));
      g_assert_cmpuint (envoi_message_encode_long_lines (message), ==, cases[i].encoded);
      g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (g_mime_message_get_mime_part (message))),
                       ==, cases[i].encoding);

      stream = g_mime_stream_mem_new ();
      g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
      array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
      written = g_bytes_new (array->data, array->len);
      g_object_unref (stream);
      g_assert_cmpuint (envoi_message_longest_line (written), <=, 998);
      if (cases[i].in_output != NULL)
        g_assert_nonnull (g_strstr_len (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                                        cases[i].in_output));
      if (cases[i].encoded > 0)
        g_assert_nonnull (g_strstr_len (g_bytes_get_data (written, NULL), g_bytes_get_size (written),
                                        "MIME-Version: 1.0"));

      again = parse (written);
      after = part_text (g_mime_message_get_mime_part (again));
      g_assert_cmpstr (after, ==, before);

      g_object_unref (again);
      g_object_unref (message);
    }

  /* Headers: formatted afresh, folded, the same once read back. */
  {
    g_autoptr(GString) subject = g_string_new (NULL);
    g_autoptr(GString) to = g_string_new (NULL);
    g_autofree char *token = g_strnfill (3000, 'x');
    g_autofree char *raw = NULL;
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GBytes) written = NULL;
    GMimeMessage *message;
    GMimeMessage *again;
    GMimeStream *stream;
    GByteArray *array;
    g_autofree char *to_before = NULL;
    g_autofree char *to_after = NULL;

    for (guint i = 0; i < 300; i++)
      g_string_append (subject, i == 0 ? "word" : " word");
    for (guint i = 0; i < 100; i++)
      g_string_append_printf (to, "%sRecipient %u <r%u@example.net>", i == 0 ? "" : ", ", i, i);
    raw = g_strdup_printf ("Subject: %s\nTo: %s\nX-Token: %s\n\nhello\n", subject->str, to->str, token);
    bytes = g_bytes_new (raw, strlen (raw));
    message = parse (bytes);
    to_before = internet_address_list_to_string (g_mime_message_get_to (message), NULL, FALSE);
    g_assert_cmpuint (envoi_message_encode_long_lines (message), ==, 3);

    stream = g_mime_stream_mem_new ();
    g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
    array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
    written = g_bytes_new (array->data, array->len);
    g_object_unref (stream);
    g_assert_cmpuint (envoi_message_longest_line (written), <=, 998);

    again = parse (written);
    g_assert_cmpstr (g_mime_message_get_subject (again), ==, subject->str);
    g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (again), "X-Token"), ==, token);
    to_after = internet_address_list_to_string (g_mime_message_get_to (again), NULL, FALSE);
    g_assert_cmpstr (to_after, ==, to_before);
    g_object_unref (again);
    g_object_unref (message);
  }

  /* A forwarded message (message/rfc822) is a part too. */
  {
    g_autofree char *line = g_strnfill (2000, 'f');
    g_autofree char *raw = g_strdup_printf ("Subject: fwd\nMIME-Version: 1.0\n"
                                            "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
                                            "--b\nContent-Type: text/plain\n\nsee below\n"
                                            "--b\nContent-Type: message/rfc822\n\n"
                                            "Subject: inner\n\n%s\n--b--\n", line);
    g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
    g_autoptr(GBytes) written = NULL;
    GMimeMessage *message = parse (bytes);
    GMimeStream *stream;
    GByteArray *array;

    g_assert_cmpuint (envoi_message_encode_long_lines (message), ==, 1);
    stream = g_mime_stream_mem_new ();
    g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
    array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
    written = g_bytes_new (array->data, array->len);
    g_object_unref (stream);
    g_assert_cmpuint (envoi_message_longest_line (written), <=, 998);
    g_object_unref (message);
  }

  {
    g_autoptr(GBytes) lines = g_bytes_new_static ("ab\r\nabcd\nabc", 12);

    g_assert_cmpuint (envoi_message_longest_line (lines), ==, 4);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  envoi_message_init ();

  g_test_add_func ("/envoi/message/round-trip", test_round_trip);
  g_test_add_func ("/envoi/message/test-message", test_build_test_message);
  g_test_add_func ("/envoi/message/invalid-recipient", test_invalid_recipient);
  g_test_add_func ("/envoi/message/message-id", test_message_id);
  g_test_add_func ("/envoi/message/normalize-crlf", test_normalize_crlf);
  g_test_add_func ("/envoi/message/long-lines", test_long_lines);

  return g_test_run ();
}

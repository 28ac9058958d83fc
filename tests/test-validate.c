/* test-validate.c: the checks behind every field, with hostile input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "envoi-validate.h"

typedef struct
{
  const char *input;
  const char *expected;   /* NULL: must be refused */
  int         code;       /* the error code when refused */
} Case;

static void
test_host (void)
{
  static const Case cases[] = {
    { "smtp.example.com", "smtp.example.com", 0 },
    { "SMTP.Example.COM", "smtp.example.com", 0 },
    { "smtp.example.com.", "smtp.example.com", 0 },
    { "localhost", "localhost", 0 },
    { "127.0.0.1", "127.0.0.1", 0 },
    { "::1", "::1", 0 },
    { "[2001:db8::25]", "2001:db8::25", 0 },
    { "mail.bücher.de", "mail.xn--bcher-kva.de", 0 },
    { "メール.例え.jp", "xn--4dkua4c.xn--r8jz45g.jp", 0 },
    { "a-b_c.example", "a-b_c.example", 0 },
    { "", NULL, ENVOI_VALIDATE_ERROR_EMPTY },
    { "smtp .example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp.example.com\r\nRCPT TO:<x@y>", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp\texample", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp\x01.example", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp.\xff\xfe.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp..example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { ".example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "-smtp.example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "smtp-.example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "smtp.example.com:587", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "smtp@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "smtp/example", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "300.1.2.3", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "[smtp.example.com]", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "[192.0.2.1]", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "[fe80::1%eth0]", "fe80::1%eth0", 0 },
    /* Found by tests/fuzz/fuzz-validate-host: any text passed as an IPv6 zone. */
    { "[::1%%%%%%%%[]", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "[::1%]@evil.example/]", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "::1%x@y", NULL, ENVOI_VALIDATE_ERROR_INVALID_HOST },
    { "smtp.example.com\xe3\x80\x80", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = envoi_validate_host (cases[i].input, &error);

      g_test_message ("host “%s”", cases[i].input);
      if (cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (host, ==, cases[i].expected);
        }
      else
        {
          g_assert_null (host);
          g_assert_error (error, ENVOI_VALIDATE_ERROR, cases[i].code);
          g_assert_cmpstr (error->message, !=, "");
        }
    }
}

static void
test_host_lengths (void)
{
  g_autoptr(GString) name = g_string_new (NULL);
  g_autofree char *label63 = g_strnfill (63, 'a');
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *ok = NULL;
  g_autoptr(GError) error = NULL;

  g_string_printf (name, "%s.example", label63);
  ok = envoi_validate_host (name->str, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);

  g_string_printf (name, "%s.example", label64);
  g_assert_null (envoi_validate_host (name->str, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
  g_clear_error (&error);

  /* 4 × 63 + 3 dots = 255 > 253 */
  g_string_printf (name, "%s.%s.%s.%s", label63, label63, label63, label63);
  g_assert_null (envoi_validate_host (name->str, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
}

static void
test_port (void)
{
  static const struct {
    const char *input;
    int         expected;   /* -1: refused */
    int         code;
  } cases[] = {
    { "587", 587, 0 },
    { "1", 1, 0 },
    { "65535", 65535, 0 },
    { "0465", 465, 0 },
    { "", -1, ENVOI_VALIDATE_ERROR_EMPTY },
    { "0", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "65536", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "99999999999999999999", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "-25", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "+25", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { " 25", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "25a", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "0x19", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
    { "２５", -1, ENVOI_VALIDATE_ERROR_INVALID_PORT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      guint16 port = 0;
      gboolean ok = envoi_validate_port (cases[i].input, &port, &error);

      g_test_message ("port “%s”", cases[i].input);
      if (cases[i].expected >= 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpint (port, ==, cases[i].expected);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, ENVOI_VALIDATE_ERROR, cases[i].code);
        }
    }
}

static void
test_address (void)
{
  static const Case cases[] = {
    { "alice@example.com", "alice@example.com", 0 },
    { "first.last+tag@mail.example.co.jp", "first.last+tag@mail.example.co.jp", 0 },
    { "o'brien@example.ie", "o'brien@example.ie", 0 },
    { "user@bücher.de", "user@xn--bcher-kva.de", 0 },
    { "山田@example.jp", "山田@example.jp", 0 },
    { "", NULL, ENVOI_VALIDATE_ERROR_EMPTY },
    { "alice", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@localhost", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@127.0.0.1", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@exa mple.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice smith@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "Alice <alice@example.com>", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@example.com, bob@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@example.com\r\nBcc: victim@example.org", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "alice@example.com\n", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "ali\x7f" "ce@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { ".alice@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice.@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "al..ice@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "al(ice@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "alice@example..com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "alice@-example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS },
    { "\xc0\xaf@example.com", NULL, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *address = envoi_validate_address (cases[i].input, &error);

      g_test_message ("address “%s”", cases[i].input);
      if (cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (address, ==, cases[i].expected);
        }
      else
        {
          g_assert_null (address);
          g_assert_error (error, ENVOI_VALIDATE_ERROR, cases[i].code);
        }
    }
}

static void
test_address_lengths (void)
{
  g_autofree char *local64 = g_strnfill (64, 'a');
  g_autofree char *local65 = g_strnfill (65, 'a');
  g_autofree char *ok = NULL;
  g_autofree char *too_long = NULL;
  g_autofree char *long_local = NULL;
  g_autofree char *fits = g_strconcat (local64, "@example.com", NULL);
  g_autofree char *long_domain = g_strnfill (260, 'b');
  g_autoptr(GError) error = NULL;

  ok = envoi_validate_address (fits, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);

  long_local = g_strconcat (local65, "@example.com", NULL);
  g_assert_null (envoi_validate_address (long_local, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
  g_clear_error (&error);

  too_long = g_strconcat ("a@", long_domain, ".com", NULL);
  g_assert_null (envoi_validate_address (too_long, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
  g_clear_error (&error);

  /* 126 bytes as typed, 257 in ASCII (each "é." becomes "xn--9ca."): the limit is on what is
   * sent. Found by tests/fuzz/fuzz-validate-address. */
  {
    g_autoptr(GString) idn = g_string_new (NULL);

    g_string_append_printf (idn, "%.40s@", local64);
    for (guint i = 0; i < 26; i++)
      g_string_append (idn, "\xc3\xa9.");
    g_string_append (idn, "example");
    g_assert_null (envoi_validate_address (idn->str, &error));
    g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
  }
}

static void
test_address_list (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) list = NULL;

  list = envoi_validate_address_list ("", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (list), ==, 0);
  g_clear_pointer (&list, g_strfreev);

  list = envoi_validate_address_list ("  ", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (list), ==, 0);
  g_clear_pointer (&list, g_strfreev);

  list = envoi_validate_address_list ("ops@example.com, \"Smith, Bob\" <bob@example.org>,"
                                      "山田 <yamada@example.jp>", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (list), ==, 3);
  g_assert_cmpstr (list[0], ==, "ops@example.com");
  g_assert_cmpstr (list[1], ==, "bob@example.org");
  g_assert_cmpstr (list[2], ==, "yamada@example.jp");
  g_clear_pointer (&list, g_strfreev);

  list = envoi_validate_address_list ("ops@example.com, not-an-address", &error);
  g_assert_null (list);
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS);
  g_assert_nonnull (strstr (error->message, "not-an-address"));
  g_clear_error (&error);

  list = envoi_validate_address_list ("ops@example.com\r\nBcc: x@example.com", &error);
  g_assert_null (list);
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER);
  g_clear_error (&error);

  list = envoi_validate_address_list ("ops@example.com, root@[192.0.2.1]", &error);
  g_assert_null (list);
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS);
  g_clear_error (&error);

  list = envoi_validate_address_list ("team: a@example.com, b@example.com;", &error);
  g_assert_null (list);
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS);
}

static void
test_header_text (void)
{
  static const struct {
    const char *input;
    gboolean    ok;
    int         code;
  } cases[] = {
    { "", TRUE, 0 },
    { "Alice Martin", TRUE, 0 },
    { "Élodie Lefèvre", TRUE, 0 },
    { "山田 太郎", TRUE, 0 },
    { "Ops \"night\" team", TRUE, 0 },
    { "Alice\r\nBcc: victim@example.org", FALSE, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "Alice\n", FALSE, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "Alice\x1b[31m", FALSE, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "Alice\xe2\x80\xa8", FALSE, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
    { "\xff", FALSE, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER },
  };
  g_autofree char *long_name = g_strnfill (ENVOI_VALIDATE_MAX_NAME_CHARS + 1, 'x');
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean ok = envoi_validate_header_text (cases[i].input, ENVOI_VALIDATE_MAX_NAME_CHARS,
                                                &error);

      g_test_message ("text “%s”", cases[i].input);
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (cases[i].ok)
        g_assert_no_error (error);
      else
        g_assert_error (error, ENVOI_VALIDATE_ERROR, cases[i].code);
      g_clear_error (&error);
    }

  g_assert_false (envoi_validate_header_text (long_name, ENVOI_VALIDATE_MAX_NAME_CHARS, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG);
}

static void
test_limits (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (envoi_validate_limits (50, 500, &error));
  g_assert_no_error (error);
  g_assert_true (envoi_validate_limits (10000, 10000, &error));

  g_assert_false (envoi_validate_limits (600, 500, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT);
  g_clear_error (&error);

  g_assert_false (envoi_validate_limits (50, 10001, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT);
  g_clear_error (&error);

  g_assert_false (envoi_validate_limits (0, 500, &error));
  g_assert_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/validate/host", test_host);
  g_test_add_func ("/envoi/validate/host-lengths", test_host_lengths);
  g_test_add_func ("/envoi/validate/port", test_port);
  g_test_add_func ("/envoi/validate/address", test_address);
  g_test_add_func ("/envoi/validate/address-lengths", test_address_lengths);
  g_test_add_func ("/envoi/validate/address-list", test_address_list);
  g_test_add_func ("/envoi/validate/header-text", test_header_text);
  g_test_add_func ("/envoi/validate/limits", test_limits);

  return g_test_run ();
}

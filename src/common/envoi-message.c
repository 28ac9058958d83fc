/* envoi-message.c: building messages (with GMime) and preparing them for SMTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-message"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include "envoi-gmime-private.h"

#include "envoi-account.h"
#include "envoi-message.h"

/* Idempotent and thread-safe: call it before any other GMime use. */
void
envoi_message_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}

/**
 * envoi_message_make_message_id:
 * @sender_address: the sender; its domain ends the identifier
 *
 * Returns: (transfer full): a new unique Message-ID, without angle brackets
 */
char *
envoi_message_make_message_id (const char *sender_address)
{
  const char *at;
  const char *domain = "localhost";

  envoi_message_init ();

  at = sender_address != NULL ? strrchr (sender_address, '@') : NULL;
  if (at != NULL && at[1] != '\0')
    domain = at + 1;

  return g_mime_utils_generate_message_id (domain);
}

static const char *
security_label (EnvoiSecurity security)
{
  switch (security)
    {
    case ENVOI_SECURITY_STARTTLS:
      return _("STARTTLS");
    case ENVOI_SECURITY_TLS:
      return _("SSL/TLS");
    case ENVOI_SECURITY_NONE:
    default:
      return _("none (unencrypted)");
    }
}

static const char *
auth_label (EnvoiAuthMethod method)
{
  switch (method)
    {
    case ENVOI_AUTH_METHOD_AUTOMATIC:
      return _("automatic");
    case ENVOI_AUTH_METHOD_PLAIN:
      return "PLAIN";
    case ENVOI_AUTH_METHOD_LOGIN:
      return "LOGIN";
    case ENVOI_AUTH_METHOD_CRAM_MD5:
      return "CRAM-MD5";
    case ENVOI_AUTH_METHOD_NTLM:
      return "NTLM";
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return _("OAuth 2 token");
    case ENVOI_AUTH_METHOD_NONE:
    default:
      return _("none");
    }
}

static gboolean
add_addresses (GMimeMessage        *message,
               GMimeAddressType     type,
               const char * const  *addresses,
               GError             **error)
{
  gsize i;
  int j;

  for (i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      g_autoptr(InternetAddressList) list = internet_address_list_parse (NULL, addresses[i]);

      if (list == NULL || internet_address_list_length (list) == 0)
        {
          /* Translators: %s is what was typed as an email address. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a valid email address."), addresses[i]);
          return FALSE;
        }
      for (j = 0; j < internet_address_list_length (list); j++)
        internet_address_set_charset (internet_address_list_get_address (list, j), "utf-8");
      internet_address_list_append (g_mime_message_get_addresses (message, type), list);
    }

  return TRUE;
}

/**
 * envoi_message_build:
 * @account: the sender: its address, display name and reply-to
 * @to: the To addresses (each may be "Name <address>")
 * @subject: the subject, any language (RFC 2047-encoded as needed)
 * @body: the plain-text body, UTF-8
 *
 * Returns: (transfer full): the message, CRLF line endings, ready for SMTP; %NULL on error
 */
GBytes *
envoi_message_build (EnvoiAccount        *account,
                     const char * const  *to,
                     const char          *subject,
                     const char          *body,
                     GError             **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeTextPart) part = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GMimeFormatOptions) options = NULL;
  g_autoptr(InternetAddress) from = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GBytes) body_bytes = NULL;
  g_autoptr(GBytes) crlf_body = NULL;
  g_autofree char *crlf_text = NULL;
  g_autoptr(GMimeStream) content_stream = NULL;
  g_autoptr(GMimeDataWrapper) content = NULL;
  const char *address;
  const char *display_name;
  const char *reply_to;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (to != NULL && to[0] != NULL, NULL);
  g_return_val_if_fail (subject != NULL, NULL);
  g_return_val_if_fail (body != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  envoi_message_init ();

  address = envoi_account_get_address (account);
  display_name = envoi_account_get_display_name (account);
  reply_to = envoi_account_get_reply_to (account);

  if (!g_utf8_validate (subject, -1, NULL) || !g_utf8_validate (body, -1, NULL)
      || (display_name != NULL && !g_utf8_validate (display_name, -1, NULL)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The message is not valid UTF-8 text."));
      return NULL;
    }

  message = g_mime_message_new (TRUE);

  from = internet_address_mailbox_new (display_name != NULL ? display_name : "",
                                       address != NULL ? address : "");
  internet_address_set_charset (from, "utf-8");
  internet_address_list_add (g_mime_message_get_from (message), from);

  if (!add_addresses (message, GMIME_ADDRESS_TYPE_TO, to, error))
    return NULL;
  if (reply_to != NULL && *reply_to != '\0')
    {
      const char *reply_tos[] = { reply_to, NULL };

      if (!add_addresses (message, GMIME_ADDRESS_TYPE_REPLY_TO, reply_tos, error))
        return NULL;
    }

  g_mime_message_set_subject (message, subject, "utf-8");
  now = g_date_time_new_now_local ();
  g_mime_message_set_date (message, now);
  message_id = envoi_message_make_message_id (address);
  g_mime_message_set_message_id (message, message_id);
  g_mime_object_set_header (GMIME_OBJECT (message), "User-Agent", "Envoi/" PACKAGE_VERSION, NULL);

  /* The canonical form of text is CRLF lines (RFC 2045), whatever the encoding. */
  body_bytes = g_bytes_new_static (body, strlen (body));
  crlf_body = envoi_message_normalize_crlf (body_bytes);
  crlf_text = g_strndup (g_bytes_get_data (crlf_body, NULL), g_bytes_get_size (crlf_body));
  /* Not g_mime_text_part_set_text(): it would pick a legacy charset such as ISO-8859-1. */
  part = g_mime_text_part_new_with_subtype ("plain");
  content_stream = g_mime_stream_mem_new_with_buffer (crlf_text, strlen (crlf_text));
  content = g_mime_data_wrapper_new_with_stream (content_stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), content);
  g_mime_text_part_set_charset (part, "utf-8");
  /* 7bit when possible, else quoted-printable or base64, whichever is shorter. */
  g_mime_part_set_content_encoding (GMIME_PART (part),
                                    g_mime_part_get_best_content_encoding (GMIME_PART (part),
                                                                           GMIME_ENCODING_CONSTRAINT_7BIT));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (part));

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  text = g_mime_object_to_string (GMIME_OBJECT (message), options);

  bytes = g_bytes_new (text, strlen (text));
  return envoi_message_normalize_crlf (bytes);
}

/**
 * envoi_message_build_test:
 * @account: the account being tested
 * @recipient: (nullable): where to send the test; %NULL: the account's own address
 *
 * The message "Send test email" sends: it says, in the user's language, which application,
 * account, server and security were used.
 *
 * Returns: (transfer full): the message, CRLF line endings; %NULL on error
 */
GBytes *
envoi_message_build_test (EnvoiAccount  *account,
                          const char    *recipient,
                          GError       **error)
{
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *when = NULL;
  g_autofree char *body = NULL;
  const char *to[] = { NULL, NULL };
  const char *address;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  address = envoi_account_get_address (account);
  to[0] = recipient != NULL && *recipient != '\0' ? recipient : address;
  if (to[0] == NULL || *to[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("There is no address to send the test message to."));
      return NULL;
    }

  now = g_date_time_new_now_local ();
  when = g_date_time_format (now, "%c");

  body = g_strdup_printf (
    /* Translators: the body of the test message. The placeholders are, in order: the sender
     * address, the server host name, the port number, the encryption (e.g. "STARTTLS"),
     * the authentication method (e.g. "PLAIN") and the date and time it was sent. */
    _("This is a test message sent by Envoi, the outgoing mail settings of your desktop.\n"
      "\n"
      "If you can read it, the account below can send mail.\n"
      "\n"
      "Account: %s\n"
      "Server: %s, port %u\n"
      "Encryption: %s\n"
      "Authentication: %s\n"
      "Sent: %s\n"),
    address != NULL ? address : "",
    envoi_account_get_host (account),
    (guint) envoi_account_get_port (account),
    security_label (envoi_account_get_security (account)),
    auth_label (envoi_account_get_auth_method (account)),
    when);

  return envoi_message_build (account, to, _("Test message from Envoi"), body, error);
}

/**
 * envoi_message_normalize_crlf:
 * @message: a message with any line endings (LF, CR, CRLF, mixed)
 *
 * SMTP wants CRLF everywhere (libcurl sends the bytes as given and its dot-stuffing only
 * looks after CRLF) and a final CRLF before the terminating dot.
 *
 * Returns: (transfer full): @message with every line ending CRLF, ending in CRLF
 */
GBytes *
envoi_message_normalize_crlf (GBytes *message)
{
  const char *data;
  gsize length;
  gsize i;
  gboolean clean = TRUE;
  GByteArray *out;

  g_return_val_if_fail (message != NULL, NULL);

  data = g_bytes_get_data (message, &length);

  for (i = 0; i < length && clean; i++)
    {
      if (data[i] == '\r')
        clean = i + 1 < length && data[i + 1] == '\n';
      else if (data[i] == '\n')
        clean = i > 0 && data[i - 1] == '\r';
    }
  if (clean && length >= 2 && data[length - 2] == '\r' && data[length - 1] == '\n')
    return g_bytes_ref (message);

  out = g_byte_array_sized_new (length + length / 32 + 2);
  for (i = 0; i < length; i++)
    {
      if (data[i] == '\r')
        {
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          if (i + 1 < length && data[i + 1] == '\n')
            i++;
        }
      else if (data[i] == '\n')
        g_byte_array_append (out, (const guint8 *) "\r\n", 2);
      else
        g_byte_array_append (out, (const guint8 *) &data[i], 1);
    }
  if (out->len < 2 || out->data[out->len - 2] != '\r' || out->data[out->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *) "\r\n", 2);

  return g_byte_array_free_to_bytes (out);
}

#define SMTP_MAX_LINE 998

static gsize
longest_line (const guint8 *data,
              gsize         length)
{
  gsize longest = 0;
  gsize start = 0;

  for (gsize i = 0; i <= length; i++)
    {
      if (i == length || data[i] == '\n')
        {
          gsize end = i;

          if (end > start && data[end - 1] == '\r')
            end--;
          longest = MAX (longest, end - start);
          start = i + 1;
        }
    }

  return longest;
}

/**
 * envoi_message_longest_line:
 * @message: a message as written to the spool
 *
 * Returns: the length of its longest line in octets, without the line ending
 */
gsize
envoi_message_longest_line (GBytes *message)
{
  gsize length;
  const guint8 *data;

  g_return_val_if_fail (message != NULL, 0);

  data = g_bytes_get_data (message, &length);

  return longest_line (data, length);
}

/* The content of @part as it would be written (still encoded), in memory. */
static GByteArray *
part_raw_content (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  g_autoptr(GMimeStream) memory = NULL;
  GByteArray *bytes;

  if (content == NULL || g_mime_data_wrapper_get_stream (content) == NULL)
    return NULL;

  bytes = g_byte_array_new ();
  memory = g_mime_stream_mem_new_with_byte_array (bytes);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (memory), FALSE);
  g_mime_stream_reset (g_mime_data_wrapper_get_stream (content));
  g_mime_stream_write_to_stream (g_mime_data_wrapper_get_stream (content), memory);
  g_mime_stream_reset (g_mime_data_wrapper_get_stream (content));

  return bytes;
}

typedef struct
{
  GMimeMessage *message;
  guint         encoded;
} EncodeLongLines;

/* GMime writes a parsed header back as it came: one with a line too long is formatted afresh,
 * which folds it where it can (between words, between addresses). Its value stays the same. */
static void
fold_long_headers (GMimeObject     *object,
                   EncodeLongLines *data)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);
  int n = headers != NULL ? g_mime_header_list_get_count (headers) : 0;

  for (int i = 0; i < n; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char *name = g_mime_header_get_name (header);
      const char *raw = g_mime_header_get_raw_value (header);
      g_autofree char *value = NULL;

      if (raw == NULL || strlen (name) + 1 + longest_line ((const guint8 *) raw, strlen (raw)) <= SMTP_MAX_LINE)
        continue;

      if (g_mime_header_get_value (header) == NULL)
        continue;
      value = g_strdup (g_mime_header_get_value (header));
      g_mime_header_set_value (header, NULL, value, "utf-8");
      data->encoded++;
    }
}

static void
encode_long_lines_cb (GMimeObject *parent,
                      GMimeObject *object,
                      gpointer     user_data)
{
  EncodeLongLines *data = user_data;
  GMimePart *part;
  GMimeContentType *type;
  GMimeContentEncoding encoding;
  g_autoptr(GByteArray) raw = NULL;
  gboolean text;

  fold_long_headers (object, data);

  /* A forwarded message: GMime's walk does not go into it. */
  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      if (inner != NULL)
        data->encoded += envoi_message_encode_long_lines (inner);
      return;
    }

  if (!GMIME_IS_PART (object))
    return;

  part = GMIME_PART (object);
  encoding = g_mime_part_get_content_encoding (part);
  /* Already wrapped by their encoders. */
  if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
      encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    return;

  raw = part_raw_content (part);
  if (raw == NULL || longest_line (raw->data, raw->len) <= SMTP_MAX_LINE)
    return;

  type = g_mime_object_get_content_type (object);
  text = type == NULL || g_mime_content_type_is_type (type, "text", "*");

  /* A message without MIME headers is text/plain in US-ASCII to its reader: it says what it is
   * now, since its body is about to be encoded. */
  if (g_mime_message_get_mime_part (data->message) == object &&
      g_mime_object_get_header (GMIME_OBJECT (data->message), "Content-Type") == NULL)
    {
      gboolean ascii = TRUE;

      for (guint i = 0; i < raw->len && ascii; i++)
        ascii = raw->data[i] < 0x80;
      if (ascii)
        g_mime_object_set_content_type_parameter (object, "charset", "us-ascii");
      else if (g_utf8_validate ((const char *) raw->data, raw->len, NULL))
        g_mime_object_set_content_type_parameter (object, "charset", "utf-8");
      else
        g_mime_object_set_content_type_parameter (object, "charset", "unknown-8bit");
    }
  if (g_mime_object_get_header (GMIME_OBJECT (data->message), "MIME-Version") == NULL)
    g_mime_object_set_header (GMIME_OBJECT (data->message), "MIME-Version", "1.0", NULL);

  /* GMime decodes the content from the encoding it came in and encodes it in this one as it
   * writes the part: the decoded content stays the same, octet for octet. */
  g_mime_part_set_content_encoding (part, text ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                               : GMIME_CONTENT_ENCODING_BASE64);
  data->encoded++;
}

/**
 * envoi_message_encode_long_lines:
 * @message: a parsed message, changed in place
 *
 * A script's log, CSV or one-line JSON easily has a line over the 998 octets SMTP allows, and a
 * server refuses such a message ("500 Line too long") after it was accepted for delivery: the
 * part is re-encoded instead, as the message is prepared, so that it arrives intact.
 *
 * Returns: the number of parts re-encoded
 */
guint
envoi_message_encode_long_lines (GMimeMessage *message)
{
  EncodeLongLines data = { message, 0 };

  g_return_val_if_fail (GMIME_IS_MESSAGE (message), 0);

  /* The message's headers, then every part, the message's own body included, inside
   * multiparts and all. */
  fold_long_headers (GMIME_OBJECT (message), &data);
  g_mime_message_foreach (message, encode_long_lines_cb, &data);

  return data.encoded;
}

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
#include "envoi-message-private.h"
#include "envoi-queue-error.h"

/* SMTP allows 998 octets a line (RFC 5321 4.5.3.1.6). */
#define SMTP_MAX_LINE 998

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
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return _("OAuth 2 token");
    case ENVOI_AUTH_METHOD_NONE:
      return _("none");
    default:
      return envoi_auth_method_get_mechanism (method);
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

/* Message preparation */

static void
collect_addresses (InternetAddressList *list,
                   GPtrArray           *into)
{
  if (list == NULL)
    return;

  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        collect_addresses (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)), into);
      else if (INTERNET_ADDRESS_IS_MAILBOX (address))
        {
          const char *addr = internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (address));

          if (addr != NULL && *addr != '\0')
            g_ptr_array_add (into, g_strdup (addr));
        }
    }
}

void
_envoi_message_add_unique (GPtrArray  *array,
                           const char *address)
{
  for (guint i = 0; i < array->len; i++)
    {
      if (g_ascii_strcasecmp (g_ptr_array_index (array, i), address) == 0)
        return;
    }
  g_ptr_array_add (array, g_strdup (address));
}

/* RFC 5322 §2.2: printable US-ASCII but the colon. */
static gboolean
header_name_is_valid (const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    if (*p < 33 || *p > 126 || *p == ':')
      return FALSE;

  return TRUE;
}

GMimeMessage *
_envoi_message_parse (GBytes  *raw,
                      GError **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  GMimeMessage *message;
  GMimeHeaderList *headers;
  gsize length;
  const guint8 *data = g_bytes_get_data (raw, &length);

  envoi_message_init ();

  if (length == 0)
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                           _("The message is empty"));
      return NULL;
    }

  stream = g_mime_stream_mem_new_with_buffer ((const char *) data, length);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  message = g_mime_parser_construct_message (parser, NULL);

  if (message == NULL || g_mime_object_get_header_list (GMIME_OBJECT (message)) == NULL ||
      g_mime_header_list_get_count (g_mime_object_get_header_list (GMIME_OBJECT (message))) == 0)
    {
      g_clear_object (&message);
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                           _("The message could not be read: it has no header"));
      return NULL;
    }

  /* GMime keeps a garbled line (": value") as a header without a name; sent on, it would
   * make a message no server or reader can parse (found by fuzzing). */
  headers = g_mime_object_get_header_list (GMIME_OBJECT (message));
  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      const char *name = g_mime_header_get_name (g_mime_header_list_get_header_at (headers, i));

      if (name == NULL || *name == '\0' || !header_name_is_valid (name))
        {
          g_clear_object (&message);
          g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                               _("The message has a malformed header line"));
          return NULL;
        }
    }

  return message;
}

char *
_envoi_message_dup_header_from (GMimeMessage *message)
{
  g_autoptr(GPtrArray) from = g_ptr_array_new_with_free_func (g_free);

  collect_addresses (g_mime_message_get_from (message), from);
  if (from->len == 0)
    return NULL;

  return g_strdup (g_ptr_array_index (from, 0));
}

static GBytes *
finish_message (GMimeMessage *message,
                const char   *envelope_from,
                const char   *full_name)
{
  g_autoptr(GMimeStream) stream = NULL;
  GByteArray *array;
  const char *domain;

  /* When the submitter gave none, From is the sender, with the -F name if any. */
  if (g_mime_object_get_header (GMIME_OBJECT (message), "From") == NULL && *envelope_from != '\0')
    {
      g_autoptr(InternetAddress) mailbox = internet_address_mailbox_new (full_name, envelope_from);

      internet_address_list_add (g_mime_message_get_from (message), mailbox);
    }

  /* Added once, here, so that every retry transmits the same Date and Message-ID. */
  if (g_mime_object_get_header (GMIME_OBJECT (message), "Date") == NULL)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();

      g_mime_message_set_date (message, now);
    }

  if (g_mime_message_get_message_id (message) == NULL)
    {
      g_autofree char *message_id = NULL;

      domain = strrchr (envelope_from, '@');
      domain = domain != NULL && domain[1] != '\0' ? domain + 1 : "localhost";
      message_id = g_mime_utils_generate_message_id (domain);
      g_mime_message_set_message_id (message, message_id);
    }

  while (g_mime_object_remove_header (GMIME_OBJECT (message), "Bcc"))
    ;
  while (g_mime_object_remove_header (GMIME_OBJECT (message), "Resent-Bcc"))
    ;

  stream = g_mime_stream_mem_new ();
  g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));

  return g_bytes_new (array->data, array->len);
}

/* What GMime writes back out must read back in: a header value with NUL bytes, say, can come
 * out as a broken line (found by fuzzing). Such a message is refused rather than sent as
 * something no server or reader can parse. Twice: a garbled header can read back once and
 * come out broken the second time (found by fuzzing too), and the prepared form is what gets
 * read back for every retry. And the second round must give the same bytes: a folded header
 * GMime writes out without its line end swallows the next header ("To: "a\r\n b"From: …"), which
 * reads back, but as a message that has lost its From and gets another (found by fuzzing). */
GBytes *
_envoi_message_finish_checked (GMimeMessage  *message,
                               const char    *envelope_from,
                               const char    *full_name,
                               GError       **error)
{
  g_autoptr(GBytes) prepared = NULL;
  g_autoptr(GMimeMessage) check = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GMimeMessage) check_again = NULL;

  /* A line over 998 octets is refused by servers once the message is accepted (issue 16). */
  envoi_message_encode_long_lines (message);
  prepared = finish_message (message, envelope_from, full_name);
  check = _envoi_message_parse (prepared, NULL);
  if (check != NULL)
    {
      again = finish_message (check, envelope_from, full_name);
      check_again = _envoi_message_parse (again, NULL);
    }

  if (check_again == NULL || !g_bytes_equal (again, prepared))
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                           _("The message has a malformed header line"));
      return NULL;
    }

  if (envoi_message_longest_line (prepared) > SMTP_MAX_LINE)
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                           _("The message has a line longer than the 998 bytes mail servers "
                             "accept, in a place where it cannot be re-encoded"));
      return NULL;
    }

  return g_steal_pointer (&prepared);
}

GStrv
_envoi_message_extract_recipients (GMimeMessage *message)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) unique = g_ptr_array_new_with_free_func (g_free);

  collect_addresses (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO), all);
  collect_addresses (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC), all);
  collect_addresses (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_BCC), all);

  for (guint i = 0; i < all->len; i++)
    _envoi_message_add_unique (unique, g_ptr_array_index (all, i));
  g_ptr_array_add (unique, NULL);

  return (GStrv) g_ptr_array_free (g_steal_pointer (&unique), FALSE);
}

GBytes *
envoi_message_prepare (GBytes      *raw,
                       const char  *envelope_from,
                       const char  *full_name,
                       gboolean     extract,
                       char       **header_from,
                       GStrv       *extracted,
                       GError     **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GBytes) prepared = NULL;
  g_autofree char *from = NULL;
  g_auto(GStrv) recipients = NULL;

  g_return_val_if_fail (raw != NULL, NULL);

  if (!(message = _envoi_message_parse (raw, error)))
    return NULL;

  /* Read before finishing, which takes the Bcc header out. */
  from = _envoi_message_dup_header_from (message);
  recipients = extract ? _envoi_message_extract_recipients (message) : g_new0 (char *, 1);

  prepared = _envoi_message_finish_checked (message, envelope_from != NULL ? envelope_from : "",
                                            full_name, error);
  if (prepared == NULL)
    return NULL;

  if (header_from != NULL)
    *header_from = g_steal_pointer (&from);
  if (extracted != NULL)
    *extracted = g_steal_pointer (&recipients);

  return g_steal_pointer (&prepared);
}

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

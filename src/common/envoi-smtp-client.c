/* envoi-smtp-client.c: testing an SMTP account and sending through it, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every operation runs on the client's own worker (a GThreadPool of one thread), so that
 * operations of one client are serialized and sends reuse one connection. libcurl is driven
 * through its multi interface: curl_multi_poll() sleeps until there is I/O, a timeout, or a
 * wakeup from the operation's GCancellable, so a cancel returns at once.
 */

#define G_LOG_DOMAIN "envoi-smtp"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <curl/curl.h>

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-message.h"
#include "envoi-curl-connection.h"
#include "envoi-curl-error.h"
#include "envoi-curl-upload.h"
#include "envoi-preset-catalog.h"
#include "envoi-smtp-client.h"
#include "envoi-smtp-transcript.h"

#define EHLO_NAME "localhost"

struct _EnvoiSmtpClient
{
  GObject parent_instance;

  EnvoiAccount *account;
  char *secret;

  GThreadPool *worker;

  /* With halt_after_failure, a failed send bumps the epoch: the sends queued before it (an
   * older epoch) are answered as not attempted, so that the caller decides first. */
  gboolean halt_after_failure;
  int epoch;

  /* Owned by the worker thread: the connection reused across sends. */
  EnvoiCurlConnection *connection;
};

typedef enum
{
  OPERATION_TEST,
  OPERATION_SEND,
} OperationKind;

typedef struct
{
  OperationKind kind;
  int epoch;
  char *envelope_from;
  GStrv recipients;
  GBytes *message;
  EnvoiCurlUpload upload;
  EnvoiSmtpReport *report;
} Operation;

typedef struct
{
  char *pin;
  char *subject;
  char *issuer;
} CertificateInfo;

enum {
  PROP_0,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

G_DEFINE_FINAL_TYPE (EnvoiSmtpClient, envoi_smtp_client, G_TYPE_OBJECT)

/* ---- certificates ------------------------------------------------------------------------- */

static gboolean
der_next (const guint8  **p,
          const guint8   *end,
          guint8         *tag,
          const guint8  **content,
          gsize          *length)
{
  const guint8 *q = *p;
  gsize len;

  if (end - q < 2)
    return FALSE;
  *tag = *q++;
  len = *q++;
  if (len & 0x80)
    {
      guint n = len & 0x7f;

      if (n == 0 || n > 4 || (gsize) (end - q) < n)
        return FALSE;
      len = 0;
      while (n-- > 0)
        len = (len << 8) | *q++;
    }
  if ((gsize) (end - q) < len)
    return FALSE;

  *content = q;
  *length = len;
  *p = q + len;
  return TRUE;
}

/* The RFC 7469 pin ("sha256//" + base64 of the SHA-256 of the DER SubjectPublicKeyInfo), the
 * form CURLOPT_PINNEDPUBLICKEY takes. */
static char *
pin_from_certificate_der (const guint8 *der,
                          gsize         der_length)
{
  const guint8 *p = der;
  const guint8 *end = der + der_length;
  const guint8 *content;
  const guint8 *spki_start;
  gsize length;
  guint8 tag;
  guint8 digest[32];
  gsize digest_length = sizeof digest;
  g_autoptr(GChecksum) checksum = NULL;
  g_autofree char *encoded = NULL;
  int i;

  /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { … } … } */
  if (!der_next (&p, end, &tag, &content, &length) || tag != 0x30)
    return NULL;
  p = content;
  end = content + length;
  if (!der_next (&p, end, &tag, &content, &length) || tag != 0x30)
    return NULL;
  p = content;
  end = content + length;

  /* [0] version (optional), serial, signature, issuer, validity, subject, then the key. */
  if (p < end && *p == 0xa0 && !der_next (&p, end, &tag, &content, &length))
    return NULL;
  for (i = 0; i < 5; i++)
    if (!der_next (&p, end, &tag, &content, &length))
      return NULL;

  spki_start = p;
  if (!der_next (&p, end, &tag, &content, &length) || tag != 0x30)
    return NULL;

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, spki_start, p - spki_start);
  g_checksum_get_digest (checksum, digest, &digest_length);
  encoded = g_base64_encode (digest, digest_length);

  return g_strconcat ("sha256//", encoded, NULL);
}

static char *
pin_from_pem (const char *pem)
{
  const char *begin = strstr (pem, "-----BEGIN CERTIFICATE-----");
  const char *finish;
  g_autofree char *body = NULL;
  g_autofree guchar *der = NULL;
  gsize der_length = 0;

  if (begin == NULL)
    return NULL;
  begin += strlen ("-----BEGIN CERTIFICATE-----");
  finish = strstr (begin, "-----END CERTIFICATE-----");
  if (finish == NULL)
    return NULL;

  body = g_strndup (begin, finish - begin);
  der = g_base64_decode (g_strstrip (body), &der_length);
  if (der == NULL || der_length == 0)
    return NULL;

  return pin_from_certificate_der (der, der_length);
}

static void
certificate_info_clear (CertificateInfo *info)
{
  g_clear_pointer (&info->pin, g_free);
  g_clear_pointer (&info->subject, g_free);
  g_clear_pointer (&info->issuer, g_free);
}

/* The leaf certificate of the connection that @easy made (CURLOPT_CERTINFO must be on). */
static void
read_certificate_info (CURL            *easy,
                       CertificateInfo *info)
{
  struct curl_certinfo *chain = NULL;
  struct curl_slist *field;

  if (curl_easy_getinfo (easy, CURLINFO_CERTINFO, &chain) != CURLE_OK
      || chain == NULL || chain->num_of_certs < 1)
    return;

  certificate_info_clear (info);
  for (field = chain->certinfo[0]; field != NULL; field = field->next)
    {
      if (g_str_has_prefix (field->data, "Subject:"))
        info->subject = g_strstrip (g_strdup (field->data + strlen ("Subject:")));
      else if (g_str_has_prefix (field->data, "Issuer:"))
        info->issuer = g_strstrip (g_strdup (field->data + strlen ("Issuer:")));
      else if (g_str_has_prefix (field->data, "Cert:"))
        info->pin = pin_from_pem (field->data + strlen ("Cert:"));
    }
}

/* ---- libcurl ------------------------------------------------------------------------------ */

/* Waits until @sock is ready, the deadline passes or @cancellable is cancelled. */
static gboolean
wait_socket (curl_socket_t  sock,
             gushort        condition,
             gint64         deadline,
             GCancellable  *cancellable)
{
  GPollFD fds[2] = { { sock, condition, 0 }, { -1, 0, 0 } };
  gint64 left = deadline - g_get_monotonic_time ();
  guint n = 1;

  if (left <= 0)
    return FALSE;

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &fds[1]))
    n = 2;
  g_poll (fds, n, (int) (left / 1000) + 1);
  if (n == 2)
    g_cancellable_release_fd (cancellable);

  return fds[0].revents != 0 && !g_cancellable_is_cancelled (cancellable);
}

static gboolean
reply_complete (const GString *received)
{
  const char *line = received->str;
  const char *newline;

  /* Complete once a line "NNN text" (not "NNN-text") has ended. */
  while ((newline = strchr (line, '\n')) != NULL)
    {
      if (newline - line >= 3 && (newline - line == 3 || line[3] != '-'))
        return TRUE;
      line = newline + 1;
    }

  return FALSE;
}

/* One command on a connect-only connection, which libcurl leaves to us; recorded in the
 * transcript like libcurl's own. Returns the reply, or %NULL if the connection failed, the
 * deadline passed or @cancellable was cancelled. */
static char *
raw_command (CURL                *easy,
             EnvoiSmtpTranscript *transcript,
             const char          *command,
             gint64               deadline,
             GCancellable        *cancellable)
{
  g_autoptr(GString) received = g_string_new (NULL);
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);
  curl_socket_t sock = CURL_SOCKET_BAD;
  size_t length = strlen (line);
  size_t sent = 0;

  if (curl_easy_getinfo (easy, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK || sock == CURL_SOCKET_BAD)
    return NULL;

  while (sent < length)
    {
      size_t n = 0;
      CURLcode code = curl_easy_send (easy, line + sent, length - sent, &n);

      if (code == CURLE_AGAIN)
        {
          if (!wait_socket (sock, G_IO_OUT, deadline, cancellable))
            return NULL;
        }
      else if (code != CURLE_OK)
        return NULL;
      sent += n;
    }
  envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_CLIENT, line, length);

  while (!reply_complete (received))
    {
      char buffer[512];
      size_t n = 0;
      CURLcode code;

      if (received->len > 65536)
        return NULL;

      /* TLS may hold decrypted bytes already: read before waiting on the socket. */
      code = curl_easy_recv (easy, buffer, sizeof buffer, &n);
      if (code == CURLE_AGAIN)
        {
          if (!wait_socket (sock, G_IO_IN, deadline, cancellable))
            return NULL;
          continue;
        }
      if (code != CURLE_OK || n == 0)
        return NULL;
      g_string_append_len (received, buffer, n);
      envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_SERVER, buffer, n);
    }

  return g_string_free (g_steal_pointer (&received), FALSE);
}

/* Say goodbye politely, but without waiting long. */
static void
say_quit (CURL                *easy,
          EnvoiSmtpTranscript *transcript)
{
  g_autofree char *reply = raw_command (easy, transcript, "QUIT",
                                        g_get_monotonic_time () + 2 * G_USEC_PER_SEC, NULL);
}

static char *
make_url (EnvoiAccount *account)
{
  EnvoiSecurity security = envoi_account_get_security (account);

  /* The path is the EHLO name: without one, curl would use the upload's file name. */
  return g_uri_join (G_URI_FLAGS_NONE,
                     security == ENVOI_SECURITY_TLS ? "smtps" : "smtp",
                     NULL,
                     envoi_account_get_host (account),
                     envoi_account_get_port (account),
                     "/" EHLO_NAME,
                     NULL, NULL);
}

/* Everything but what differs between a test, a send and a certificate probe. */
static CURL *
setup_easy (EnvoiCurlConnection *connection,
            EnvoiAccount        *account,
            EnvoiSmtpTranscript *transcript,
            char                *error_buffer)
{
  g_autofree char *url = make_url (account);
  EnvoiSecurity security = envoi_account_get_security (account);
  CURL *easy = envoi_curl_connection_prepare (connection, url, "smtp,smtps",
                                              envoi_account_get_timeout (account),
                                              transcript, error_buffer);

  /* STARTTLS is all or nothing: never CURLUSESSL_TRY. */
  curl_easy_setopt (easy, CURLOPT_USE_SSL,
                    security == ENVOI_SECURITY_NONE ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
  envoi_curl_connection_check_peer (connection, envoi_account_get_verify_certificate (account),
                                    envoi_account_get_pinned_key (account));

  return easy;
}

static void
setup_credentials (CURL         *easy,
                   EnvoiAccount *account,
                   const char   *secret)
{
  EnvoiAuthMethod method = envoi_account_get_auth_method (account);
  const char *login = envoi_preset_catalog_get_login (account, secret);
  const char *mechanism = envoi_auth_method_get_mechanism (method);
  g_autofree char *options = mechanism != NULL ? g_strconcat ("AUTH=", mechanism, NULL) : NULL;

  if (method == ENVOI_AUTH_METHOD_NONE || secret == NULL || *secret == '\0')
    return;

  curl_easy_setopt (easy, CURLOPT_USERNAME, login != NULL ? login : "");
  if (method == ENVOI_AUTH_METHOD_XOAUTH2)
    curl_easy_setopt (easy, CURLOPT_XOAUTH2_BEARER, secret);
  else
    curl_easy_setopt (easy, CURLOPT_PASSWORD, secret);
  if (options != NULL)
    curl_easy_setopt (easy, CURLOPT_LOGIN_OPTIONS, options);
}

/* A second connection to an untrusted server, verifying nothing and sending no credentials,
 * only to read its certificate for the person to judge. */
static void
probe_certificate (EnvoiAccount    *account,
                   GCancellable    *cancellable,
                   CertificateInfo *info)
{
  g_autoptr(EnvoiSmtpTranscript) scratch = envoi_smtp_transcript_new (NULL, NULL);
  char error_buffer[CURL_ERROR_SIZE] = "";
  EnvoiCurlConnection *connection = envoi_curl_connection_new ();
  CURL *easy = setup_easy (connection, account, scratch, error_buffer);

  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt (easy, CURLOPT_PINNEDPUBLICKEY, NULL);
  curl_easy_setopt (easy, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt (easy, CURLOPT_CONNECT_ONLY, 1L);

  if (envoi_curl_connection_perform (connection, cancellable) == CURLE_OK)
    {
      read_certificate_info (easy, info);
      say_quit (easy, scratch);
    }
  else
    g_debug ("Could not read the certificate of %s: %s",
             envoi_account_get_host (account), error_buffer);

  envoi_curl_connection_free (connection);
}

static gboolean
is_name_mismatch (CURL       *easy,
                  const char *error_buffer)
{
  long verify = 0;

  /* OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH, or curl's own host name check. */
  if (curl_easy_getinfo (easy, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK && verify == 62)
    return TRUE;

  return strstr (error_buffer, "subject name") != NULL
         || strstr (error_buffer, "does not match") != NULL
         || strstr (error_buffer, "doesn't match") != NULL;
}

static GError *
error_from_reply (EnvoiSmtpStage  stage,
                  guint           code,
                  const char     *reply)
{
  g_autofree char *status = NULL;
  g_autofree char *text = NULL;
  g_autofree char *one_line = NULL;
  EnvoiSmtpError klass;

  if (reply == NULL || !envoi_smtp_parse_reply (reply, NULL, &status, &text))
    text = NULL;
  klass = envoi_smtp_classify_reply (stage, code, status, text);

  one_line = reply != NULL ? g_strdelimit (g_strdup (reply), "\r\n", ' ') : g_strdup_printf ("%u", code);

  switch (klass)
    {
    case ENVOI_SMTP_ERROR_SENDER_REJECTED:
      /* Translators: %s is the server's reply, e.g. "553 5.7.1 Sender address rejected". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server rejected the sender address: %s"), one_line);
    case ENVOI_SMTP_ERROR_RECIPIENT_REJECTED:
      /* Translators: %s is the server's reply, e.g. "550 5.1.1 No such user". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server rejected a recipient: %s"), one_line);
    case ENVOI_SMTP_ERROR_MESSAGE_REJECTED:
      /* Translators: %s is the server's reply, e.g. "552 5.3.4 Message too big". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server rejected the message: %s"), one_line);
    case ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED:
      /* Translators: %s is the server's reply. */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server says the sending limit is reached: %s"), one_line);
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
      /* Translators: %s is the server's reply, e.g. "451 4.3.0 Try again later". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server reported a temporary failure: %s"), one_line);
    case ENVOI_SMTP_ERROR_AUTH_FAILED:
    case ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER:
    case ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED:
    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
      /* Translators: %s is the server's reply, e.g. "535 5.7.8 Authentication failed". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server refused the login: %s"), one_line);
    case ENVOI_SMTP_ERROR_AUTH_REQUIRED:
    case ENVOI_SMTP_ERROR_TLS_REQUIRED:
      /* Translators: %s is the server's reply, e.g. "530 5.7.0 Authentication required". */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server refused to continue: %s"), one_line);
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
      return g_error_new_literal (ENVOI_SMTP_ERROR, klass, _("The connection to the server was lost."));
    default:
      /* Translators: %s is the server's reply. */
      return g_error_new (ENVOI_SMTP_ERROR, klass, _("The server answered: %s"), one_line);
    }
}

static GError *
error_from_curl (CURLcode             code,
                 CURL                *easy,
                 EnvoiAccount        *account,
                 EnvoiSmtpTranscript *transcript,
                 const char          *error_buffer,
                 CertificateInfo     *certificate)
{
  const char *host = envoi_account_get_host (account);
  guint port = envoi_account_get_port (account);
  g_autofree char *reply = envoi_smtp_transcript_dup_last_reply (transcript);
  g_autofree char *detail = envoi_smtp_transcript_redact (transcript,
                                                         *error_buffer != '\0' ? error_buffer
                                                                               : curl_easy_strerror (code));
  EnvoiSmtpStage stage = envoi_smtp_transcript_get_stage (transcript);
  long response = 0;

  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &response);

  /* SMTP's own cases first. */
  switch (code)
    {
    case CURLE_USE_SSL_FAILED:
      /* Translators: %s is a host name, %u a port number. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED,
                          _("%s on port %u does not offer STARTTLS. Nothing was sent."), host, port);

    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
      if (response >= 400)
        return error_from_reply (ENVOI_SMTP_STAGE_AUTH, response, reply);
      /* XOAUTH2: a refused (expired, revoked) token comes back as a 334 challenge holding a
       * JSON error, where curl gives up. The login was refused; the mechanism was there. */
      if (response == 334)
        return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED,
                            _("The server refused the login: %s"), detail);
      /* Translators: %s is a technical detail from the mail library. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED,
                          _("The server offers no authentication method that can be used (%s)."), detail);

    default:
      break;
    }

  /* A reply of 400 or more is a refusal; anything else the server said last ("354 go ahead",
   * a greeting) is not an answer to a transfer that broke off. */
  switch (envoi_curl_classify (code, response >= 400))
    {
    case ENVOI_CURL_FAULT_CANCELLED:
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));

    case ENVOI_CURL_FAULT_HOST_NOT_FOUND:
      /* Translators: %s is a host name such as smtp.example.com. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_HOST_NOT_FOUND,
                          _("The server “%s” was not found."), host);

    case ENVOI_CURL_FAULT_CONNECTION_REFUSED:
      /* Translators: %s is a host name, %u a port number. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_REFUSED,
                          _("Could not connect to %s on port %u."), host, port);

    case ENVOI_CURL_FAULT_TIMEOUT:
      /* Translators: %s is a host name, %u a port number, %u a number of seconds. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TIMEOUT,
                          _("%s on port %u did not answer within %u seconds."),
                          host, port, envoi_account_get_timeout (account));

    case ENVOI_CURL_FAULT_TLS_HANDSHAKE:
      /* Translators: %s is a host name, %u a port number, the last %s a technical detail. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED,
                          _("The secure connection to %s on port %u failed (%s)."), host, port, detail);

    case ENVOI_CURL_FAULT_CERTIFICATE:
      if (code == CURLE_PEER_FAILED_VERIFICATION && is_name_mismatch (easy, error_buffer))
        /* Translators: %s is a host name, the second %s the certificate's subject. */
        return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH,
                            _("The certificate of the server is not valid for the name “%s” (it is for “%s”)."),
                            host, certificate->subject != NULL ? certificate->subject : "?");
      if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
        /* Translators: %s is a host name, the second %s a key fingerprint (sha256//…). */
        return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED,
                            _("The certificate of %s has changed since you trusted it: its key fingerprint is now %s."),
                            host, certificate->pin != NULL ? certificate->pin : "?");
      /* Translators: %s is a host name; then the certificate's subject, its issuer and its key
       * fingerprint (sha256//…). */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED,
                          _("The certificate of %s is not trusted. Subject: %s. Issuer: %s. Key fingerprint: %s."),
                          host,
                          certificate->subject != NULL ? certificate->subject : "?",
                          certificate->issuer != NULL ? certificate->issuer : "?",
                          certificate->pin != NULL ? certificate->pin : "?");

    case ENVOI_CURL_FAULT_CONNECTION_LOST:
      /* Translators: %s is a technical detail. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_LOST,
                          _("The connection to the server was lost (%s)."), detail);

    case ENVOI_CURL_FAULT_REFUSED:
      return error_from_reply (stage, response, reply);

    case ENVOI_CURL_FAULT_OTHER:
    default:
      /* Translators: %s is a technical detail from the mail library. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_FAILED,
                          _("Talking to the server failed: %s"), detail);
    }
}

/* After logging in, a connection test asks whether the server would take mail from the
 * account's address (MAIL FROM, then RSET): that is where a server wanting a login, or
 * refusing the sender, says so. */
static GError *
probe_sender (CURL                *easy,
              EnvoiAccount        *account,
              EnvoiSmtpTranscript *transcript,
              GCancellable        *cancellable)
{
  const char *address = envoi_account_get_address (account);
  gint64 deadline = g_get_monotonic_time () + envoi_account_get_timeout (account) * G_USEC_PER_SEC;
  g_autofree char *command = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *reset = NULL;
  guint code = 0;

  if (address == NULL || *address == '\0')
    return NULL;

  command = g_strdup_printf ("MAIL FROM:<%s>", address);
  reply = raw_command (easy, transcript, command, deadline, cancellable);
  if (g_cancellable_is_cancelled (cancellable))
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
  if (reply == NULL)
    {
      if (g_get_monotonic_time () >= deadline)
        /* Translators: %s is a host name, %u a number of seconds. */
        return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TIMEOUT,
                            _("%s did not answer within %u seconds."),
                            envoi_account_get_host (account), envoi_account_get_timeout (account));
      return g_error_new_literal (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_LOST,
                                  _("The connection to the server was lost."));
    }

  g_strchomp (reply);
  if (!envoi_smtp_parse_reply (reply, &code, NULL, NULL))
    /* Translators: %s is what the server answered. */
    return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_PROTOCOL,
                        _("The server answered: %s"), reply);
  if (code / 100 != 2)
    return error_from_reply (ENVOI_SMTP_STAGE_MAIL, code, reply);

  reset = raw_command (easy, transcript, "RSET", deadline, cancellable);
  return NULL;
}

/* ---- operations --------------------------------------------------------------------------- */

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_free (op->envelope_from);
  g_strfreev (op->recipients);
  g_clear_pointer (&op->message, g_bytes_unref);
  g_clear_pointer (&op->report, envoi_smtp_report_unref);
  g_free (op);
}

static gboolean
refuse_plaintext_password (EnvoiSmtpClient  *self,
                           GError          **error)
{
  EnvoiAuthMethod method = envoi_account_get_auth_method (self->account);

  if (envoi_account_get_security (self->account) != ENVOI_SECURITY_NONE
      || method == ENVOI_AUTH_METHOD_NONE
      || self->secret == NULL || *self->secret == '\0'
      || envoi_account_get_allow_plaintext_password (self->account)
      || envoi_account_is_loopback (self->account))
    return FALSE;

  /* Translators: %s is a host name. */
  g_set_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED,
               _("Envoi did not connect to %s: without encryption the password would be readable on the network."),
               envoi_account_get_host (self->account));
  return TRUE;
}

/* What a retried send's record begins with (libcurl's own notes are in English too). */
#define RETRY_NOTE "The reused connection answered out of step: sending again on a new connection\n"

static EnvoiSmtpTranscript *
new_transcript (EnvoiSmtpClient *self)
{
  return envoi_smtp_transcript_new (envoi_preset_catalog_get_login (self->account, self->secret),
                                    self->secret);
}

/* Sets up the operation on its connection (the one kept for sends, or a fresh one for a test)
 * and runs it. */
static CURLcode
perform_once (EnvoiSmtpClient      *self,
              Operation            *op,
              struct curl_slist    *recipients,
              EnvoiSmtpTranscript  *transcript,
              char                 *error_buffer,
              GCancellable         *cancellable,
              EnvoiCurlConnection **out_connection,
              CURL                **out_easy)
{
  EnvoiCurlConnection *connection;
  CURL *easy;

  if (op->kind == OPERATION_TEST)
    {
      /* A connect-only handle is never reused for sending: give it its own. */
      connection = envoi_curl_connection_new ();
    }
  else
    {
      if (self->connection != NULL && envoi_curl_connection_is_out_of_step (self->connection))
        {
          g_debug ("The connection to %s is out of step: opening a new one",
                   envoi_account_get_host (self->account));
          g_clear_pointer (&self->connection, envoi_curl_connection_drop);
        }
      if (self->connection == NULL)
        self->connection = envoi_curl_connection_new ();
      connection = self->connection;
    }

  easy = setup_easy (connection, self->account, transcript, error_buffer);
  setup_credentials (easy, self->account, self->secret);

  if (op->kind == OPERATION_TEST)
    {
      curl_easy_setopt (easy, CURLOPT_CONNECT_ONLY, 1L);
      curl_easy_setopt (easy, CURLOPT_CERTINFO, 1L);
    }
  else
    {
      curl_easy_setopt (easy, CURLOPT_MAIL_FROM, op->envelope_from);
      curl_easy_setopt (easy, CURLOPT_MAIL_RCPT, recipients);
      curl_easy_setopt (easy, CURLOPT_UPLOAD, 1L);
      envoi_curl_upload_attach (&op->upload, easy, op->message);
      curl_easy_setopt (easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) g_bytes_get_size (op->message));
    }

  *out_connection = connection;
  *out_easy = easy;

  return envoi_curl_connection_perform (connection, cancellable);
}

/* A reply waiting on an idle connection is seen before it is reused
 * (envoi_curl_connection_is_out_of_step()), but not one libcurl has already read along with
 * the reply before it, nor one still on its way: a server that said 250 before the end of a
 * body and 554 after it. That stale reply is then taken for the answer to MAIL FROM, the first
 * command on the reused connection. Refused there, or cut off there, nothing of the message
 * has reached the server, so it can go again on a new connection. */
static gboolean
answered_out_of_step (CURL                *easy,
                      CURLcode             code,
                      EnvoiSmtpTranscript *transcript,
                      GCancellable        *cancellable)
{
  long connects = -1;
  curl_off_t uploaded = -1;

  if (code == CURLE_OK || code == CURLE_OPERATION_TIMEDOUT
      || g_cancellable_is_cancelled (cancellable)
      || envoi_smtp_transcript_get_stage (transcript) != ENVOI_SMTP_STAGE_MAIL)
    return FALSE;

  curl_easy_getinfo (easy, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo (easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);

  return connects == 0 && uploaded == 0;
}

static void
run_operation (EnvoiSmtpClient *self,
               GTask           *task,
               Operation       *op)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(EnvoiSmtpTranscript) transcript = NULL;
  g_autoptr(GError) error = NULL;
  struct curl_slist *recipients = NULL;
  CertificateInfo certificate = { NULL, };
  char error_buffer[CURL_ERROR_SIZE] = "";
  EnvoiCurlConnection *connection;
  CURL *easy;
  CURLcode code;

  transcript = new_transcript (self);

  if (g_task_return_error_if_cancelled (task))
    return;

  /* An earlier send failed after this one was queued: the caller decides again first. */
  if (op->kind == OPERATION_SEND && self->halt_after_failure
      && op->epoch != g_atomic_int_get (&self->epoch))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Not attempted: a message sent before it failed");
      return;
    }

  /* The last guard before libcurl: CURLOPT_MAIL_FROM and _RCPT go out as command lines. */
  if (op->kind == OPERATION_SEND
      && !envoi_account_check_envelope (op->envelope_from, (const char * const *) op->recipients, &error))
    {
      op->report = _envoi_smtp_report_new (transcript, NULL, NULL, NULL);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (refuse_plaintext_password (self, &error))
    {
      op->report = _envoi_smtp_report_new (transcript, NULL, NULL, NULL);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (op->kind == OPERATION_SEND)
    {
      for (gsize i = 0; op->recipients[i] != NULL; i++)
        recipients = curl_slist_append (recipients, op->recipients[i]);
    }

  for (guint attempt = 0; ; attempt++)
    {
      code = perform_once (self, op, recipients, transcript, error_buffer, cancellable,
                           &connection, &easy);
      if (attempt > 0 || !answered_out_of_step (easy, code, transcript, cancellable))
        break;

      /* Nothing of this message reached the server: it goes again, on a new connection, and
       * the record starts again with it. */
      envoi_curl_connection_detach (connection);
      g_clear_pointer (&self->connection, envoi_curl_connection_drop);
      g_clear_object (&transcript);
      transcript = new_transcript (self);
      envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_INFO,
                                 RETRY_NOTE, strlen (RETRY_NOTE));
      error_buffer[0] = '\0';
    }

  if (code == CURLE_OK && op->kind == OPERATION_TEST)
    {
      read_certificate_info (easy, &certificate);
      error = probe_sender (easy, self->account, transcript, cancellable);
    }
  else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
    probe_certificate (self->account, cancellable, &certificate);

  if (code != CURLE_OK)
    error = error_from_curl (code, easy, self->account, transcript, error_buffer, &certificate);

  if (op->kind == OPERATION_TEST)
    {
      if (code == CURLE_OK && !g_cancellable_is_cancelled (cancellable))
        say_quit (easy, transcript);
      envoi_curl_connection_free (connection);
    }
  else
    {
      envoi_curl_connection_detach (connection);
      curl_easy_setopt (easy, CURLOPT_MAIL_RCPT, NULL);
      curl_slist_free_all (recipients);

      /* After a failure, or with replies already waiting, where the conversation stands is
       * unknown: the next message gets a new connection. */
      if (code != CURLE_OK || envoi_curl_connection_is_out_of_step (connection))
        g_clear_pointer (&self->connection, envoi_curl_connection_drop);
    }

  op->report = _envoi_smtp_report_new (transcript, certificate.pin, certificate.subject,
                                       certificate.issuer);
  certificate_info_clear (&certificate);

  if (error != NULL && op->kind == OPERATION_SEND && self->halt_after_failure)
    g_atomic_int_inc (&self->epoch);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else if (op->kind == OPERATION_TEST)
    g_task_return_pointer (task, envoi_smtp_report_ref (op->report),
                           (GDestroyNotify) envoi_smtp_report_unref);
  else
    g_task_return_pointer (task, g_strdup (envoi_smtp_report_get_last_reply (op->report)), g_free);
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  g_autoptr(GTask) task = data;
  EnvoiSmtpClient *self = g_task_get_source_object (task);

  run_operation (self, task, g_task_get_task_data (task));
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_smtp_client_finalize (GObject *object)
{
  EnvoiSmtpClient *self = (EnvoiSmtpClient *)object;

  /* Every pending operation holds a reference: the worker is idle, but this may run on it. */
  g_thread_pool_free (self->worker, TRUE, FALSE);

  /* Closing says QUIT and waits for the reply: never on the caller's thread. */
  if (self->connection != NULL)
    envoi_curl_connection_close (g_steal_pointer (&self->connection), "envoi-smtp-close");

  if (self->secret != NULL)
    {
      memset (self->secret, 0, strlen (self->secret));
      g_free (self->secret);
    }
  g_clear_object (&self->account);

  G_OBJECT_CLASS (envoi_smtp_client_parent_class)->finalize (object);
}

static void
envoi_smtp_client_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  EnvoiSmtpClient *self = ENVOI_SMTP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_smtp_client_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  EnvoiSmtpClient *self = ENVOI_SMTP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      /* A copy: editing the form afterwards must not change a running operation. */
      self->account = envoi_account_copy (g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_smtp_client_class_init (EnvoiSmtpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_smtp_client_finalize;
  object_class->get_property = envoi_smtp_client_get_property;
  object_class->set_property = envoi_smtp_client_set_property;

  /**
   * EnvoiSmtpClient:account:
   *
   * A copy of the account given at construction.
   */
  properties [PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL,
                         ENVOI_TYPE_ACCOUNT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
envoi_smtp_client_init (EnvoiSmtpClient *self)
{
  self->worker = g_thread_pool_new (worker_func, self, 1, FALSE, NULL);
}

/* ---- public ------------------------------------------------------------------------------- */

/**
 * envoi_smtp_client_new:
 * @account: the account (copied: later edits do not affect this client)
 * @secret: (nullable): the password or OAuth 2 token; kept in memory only, wiped on finalize
 */
EnvoiSmtpClient *
envoi_smtp_client_new (EnvoiAccount *account,
                       const char   *secret)
{
  EnvoiSmtpClient *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_SMTP_CLIENT, "account", account, NULL);
  self->secret = g_strdup (secret);

  return self;
}

EnvoiAccount *
envoi_smtp_client_get_account (EnvoiSmtpClient *self)
{
  g_return_val_if_fail (ENVOI_IS_SMTP_CLIENT (self), NULL);

  return self->account;
}

static void
queue_operation (EnvoiSmtpClient     *self,
                 Operation           *op,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, operation_free);
  g_thread_pool_push (self->worker, task, NULL);
}

/**
 * envoi_smtp_client_test_async:
 *
 * Connects, reads the greeting, says EHLO, upgrades with STARTTLS if so configured, logs in
 * and says QUIT: everything but sending.
 */
void
envoi_smtp_client_test_async (EnvoiSmtpClient     *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Operation *op;

  g_return_if_fail (ENVOI_IS_SMTP_CLIENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (Operation, 1);
  op->kind = OPERATION_TEST;
  queue_operation (self, op, envoi_smtp_client_test_async, cancellable, callback, user_data);
}

/**
 * envoi_smtp_client_test_finish:
 *
 * Returns: (transfer full): what the server offered and the transcript, or %NULL with @error
 *   set (see envoi_smtp_client_get_report() for the transcript of a failure).
 */
EnvoiSmtpReport *
envoi_smtp_client_test_finish (EnvoiSmtpClient  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (ENVOI_IS_SMTP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_smtp_client_test_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * envoi_smtp_client_send_async:
 * @envelope_from: the MAIL FROM address
 * @recipients: the RCPT TO addresses (at least one)
 * @message: the RFC 5322 message; line endings are normalised to CRLF
 *
 * Sends one message. Sends of one client run one after the other, over one connection while
 * the server keeps it open.
 */
void
envoi_smtp_client_send_async (EnvoiSmtpClient     *self,
                              const char          *envelope_from,
                              const char * const  *recipients,
                              GBytes              *message,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Operation *op;

  g_return_if_fail (ENVOI_IS_SMTP_CLIENT (self));
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL && recipients[0] != NULL);
  g_return_if_fail (message != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (Operation, 1);
  op->kind = OPERATION_SEND;
  op->envelope_from = g_strdup (envelope_from);
  op->recipients = g_strdupv ((char **) recipients);
  op->message = envoi_message_normalize_crlf (message);
  op->epoch = g_atomic_int_get (&self->epoch);
  queue_operation (self, op, envoi_smtp_client_send_async, cancellable, callback, user_data);
}

/**
 * envoi_smtp_client_set_halt_after_failure:
 * @halt: whether a failed send stops the sends queued before it failed
 *
 * For a caller that queues several sends at once (the delivery agent pipelines an account's
 * messages): once one fails, those queued before the failure are answered at once with
 * %G_IO_ERROR_CANCELLED, not attempted, as if they had waited for the caller to decide. Sends
 * queued afterwards run as usual.
 */
void
envoi_smtp_client_set_halt_after_failure (EnvoiSmtpClient *self,
                                          gboolean         halt)
{
  g_return_if_fail (ENVOI_IS_SMTP_CLIENT (self));

  self->halt_after_failure = !!halt;
}

/**
 * envoi_smtp_client_send_finish:
 *
 * Returns: (transfer full): the server's reply to the message ("250 2.0.0 OK queued as …"),
 *   or %NULL with @error set.
 */
char *
envoi_smtp_client_send_finish (EnvoiSmtpClient  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (ENVOI_IS_SMTP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_smtp_client_send_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * envoi_smtp_client_get_report:
 * @result: the result given to a test or send callback
 *
 * What that operation saw, whether it succeeded or not: the transcript, the last reply, the
 * certificate of an untrusted server. Call it from the callback.
 *
 * Returns: (transfer none) (nullable): the report, %NULL if the operation was cancelled
 *   before it started
 */
EnvoiSmtpReport *
envoi_smtp_client_get_report (EnvoiSmtpClient *self,
                              GAsyncResult    *result)
{
  Operation *op;

  g_return_val_if_fail (ENVOI_IS_SMTP_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  op = g_task_get_task_data (G_TASK (result));
  return op->report;
}

/* envoi-http-transport.c: sending over HTTPS instead of SMTP, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two shapes of request:
 *  - Mailgun's raw-MIME endpoint: POST <base>/v3/<domain>/messages.mime, multipart/form-data
 *    with one "to" field per envelope recipient and the message as the file field "message",
 *    basic authentication "api:<key>";
 *  - a generic endpoint: POST <url> with the message as the body (Content-Type message/rfc822),
 *    "Authorization: Bearer <key>" and the envelope in X-Envoi-Mail-From / X-Envoi-Rcpt-To.
 * Sends run one after the other on the transport's worker thread, on one easy handle so that
 * the HTTPS connection is kept alive between them. The API key never leaves memory but for the
 * request itself: the transcript drops the Authorization header and redacts the key anywhere.
 */

#define G_LOG_DOMAIN "envoi-http"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <curl/curl.h>

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-curl-connection.h"
#include "envoi-curl-error.h"
#include "envoi-curl-upload.h"
#include "envoi-http-transport.h"
#include "envoi-message.h"
#include "envoi-smtp-client.h"
#include "envoi-smtp-transcript.h"
#include "envoi-validate.h"

#define MAX_RESPONSE_BYTES (64 * 1024)

struct _EnvoiHttpTransport
{
  GObject       parent_instance;

  EnvoiAccount *account;
  char         *api_key;

  GThreadPool  *worker;

  /* Owned by the worker thread. */
  EnvoiCurlConnection *connection;
};

typedef struct
{
  char                *envelope_from;
  GStrv                recipients;
  GBytes              *message;
  EnvoiCurlUpload upload;
  GString             *response;
  char                *transcript;
  EnvoiSmtpTranscript *recorder;
} Operation;

G_DEFINE_FINAL_TYPE (EnvoiHttpTransport, envoi_http_transport, G_TYPE_OBJECT)

/* ---- libcurl ------------------------------------------------------------------------------ */

static int
debug_cb (CURL          *easy,
          curl_infotype  type,
          char          *data,
          size_t         size,
          void          *user_data)
{
  EnvoiSmtpTranscript *recorder = user_data;
  g_autofree char *block = NULL;
  g_auto(GStrv) lines = NULL;

  if (type != CURLINFO_HEADER_OUT)
    {
      envoi_curl_connection_record (recorder, type, data, size);
      return 0;
    }

  /* The request headers come as one block: drop the credentials' line. */
  block = g_strndup (data, size);
  lines = g_strsplit (block, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = NULL;

      if (*lines[i] == '\0' || g_str_equal (lines[i], "\r"))
        continue;
      if (g_ascii_strncasecmp (lines[i], "Authorization:", 14) == 0)
        line = g_strdup ("Authorization: (removed)\r\n");
      else
        line = g_strconcat (lines[i], "\n", NULL);
      envoi_smtp_transcript_add (recorder, ENVOI_SMTP_TRANSCRIPT_CLIENT, line, strlen (line));
    }

  return 0;
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  count,
          void   *user_data)
{
  Operation *op = user_data;
  gsize n = size * count;

  if (op->response->len < MAX_RESPONSE_BYTES)
    g_string_append_len (op->response, data, MIN (n, MAX_RESPONSE_BYTES - op->response->len));

  return n;
}

/* The first line of the response body, short and redacted, for messages and the result. */
static char *
response_summary (Operation *op,
                  long       status)
{
  g_autofree char *body = g_strndup (op->response->str, MIN (op->response->len, 300));
  g_autofree char *clean = NULL;

  g_strdelimit (body, "\r\n\t", ' ');
  clean = envoi_smtp_transcript_redact (op->recorder, g_strstrip (body));
  if (*clean == '\0')
    return g_strdup_printf ("HTTP %ld", status);

  return g_strdup_printf ("HTTP %ld %s", status, clean);
}

static GError *
error_from_status (Operation *op,
                   long       status)
{
  g_autofree char *summary = response_summary (op, status);

  if (status == 401 || status == 403)
    /* Translators: %s is the server's answer, e.g. "HTTP 401 Forbidden". */
    return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED,
                        _("The server refused the API key: %s"), summary);
  if (status == 429)
    /* Translators: %s is the server's answer, e.g. "HTTP 429 Too Many Requests". */
    return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED,
                        _("The server says the sending limit is reached: %s"), summary);
  if (status == 408 || status >= 500)
    /* Translators: %s is the server's answer, e.g. "HTTP 503 Service Unavailable". */
    return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TEMPORARY_FAILURE,
                        _("The server reported a temporary failure: %s"), summary);
  /* Translators: %s is the server's answer, e.g. "HTTP 400 Bad Request". */
  return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_MESSAGE_REJECTED,
                      _("The server rejected the message: %s"), summary);
}

static GError *
error_from_curl (EnvoiHttpTransport *self,
                 Operation          *op,
                 CURLcode            code,
                 const char         *host,
                 const char         *error_buffer)
{
  g_autofree char *detail = envoi_smtp_transcript_redact (op->recorder,
                                                         *error_buffer != '\0' ? error_buffer
                                                                               : curl_easy_strerror (code));

  /* The HTTP status is read only when the transfer completed: here the server refused nothing. */
  switch (envoi_curl_classify (code, FALSE))
    {
    case ENVOI_CURL_FAULT_CANCELLED:
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
    case ENVOI_CURL_FAULT_HOST_NOT_FOUND:
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_HOST_NOT_FOUND,
                          _("The server “%s” was not found."), host);
    case ENVOI_CURL_FAULT_CONNECTION_REFUSED:
      /* Translators: %s is a host name, the second %s a technical detail. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_REFUSED,
                          _("Could not connect to %s (%s)."), host, detail);
    case ENVOI_CURL_FAULT_TIMEOUT:
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TIMEOUT,
                          _("%s did not answer within %u seconds."), host,
                          envoi_account_get_timeout (self->account));
    case ENVOI_CURL_FAULT_TLS_HANDSHAKE:
      /* Translators: %s is a host name, the second %s a technical detail. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED,
                          _("The secure connection to %s failed (%s)."), host, detail);
    case ENVOI_CURL_FAULT_CERTIFICATE:
      /* Translators: %s is a host name, the second %s a technical detail. */
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED,
                          _("The certificate of %s is not trusted (%s)."), host, detail);
    case ENVOI_CURL_FAULT_CONNECTION_LOST:
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_LOST,
                          _("The connection to the server was lost (%s)."), detail);
    case ENVOI_CURL_FAULT_REFUSED:
    case ENVOI_CURL_FAULT_OTHER:
    default:
      return g_error_new (ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_FAILED,
                          _("Talking to the server failed: %s"), detail);
    }
}

static void
run_send (EnvoiHttpTransport *self,
          GTask              *task,
          Operation          *op)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  EnvoiTransport transport = envoi_account_get_transport (self->account);
  g_autofree char *url = envoi_account_dup_http_url (self->account);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  char error_buffer[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  curl_mime *mime = NULL;
  CURL *easy;
  const char *host;
  CURLcode code;
  long status = 0;

  op->recorder = envoi_smtp_transcript_new (transport == ENVOI_TRANSPORT_HTTP_MAILGUN ? "api" : NULL,
                                            self->api_key);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (url == NULL || (uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) == NULL
      || (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "http") != 0))
    {
      g_task_return_new_error (task, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_FAILED,
                               _("The account has no valid HTTPS address to send to."));
      return;
    }
  host = g_uri_get_host (uri);

  /* The last guard before libcurl: the envelope goes into header lines and form fields. */
  if (!envoi_account_check_envelope (op->envelope_from, (const char * const *) op->recipients, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
      && !envoi_host_is_loopback (host)
      && !envoi_account_get_allow_plaintext_password (self->account))
    {
      /* Translators: %s is a host name. */
      g_task_return_new_error (task, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED,
                               _("Envoi did not connect to %s: without encryption the API key would be readable on the network."),
                               host);
      return;
    }

  /* The connection stays open: the next send reuses it. */
  easy = envoi_curl_connection_prepare (self->connection, url, "https,http",
                                        envoi_account_get_timeout (self->account),
                                        op->recorder, error_buffer);
  curl_easy_setopt (easy, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, op);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "Envoi/" PACKAGE_VERSION);
  /* Never follow a redirect: the key would go wherever it points. */
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
  envoi_curl_connection_check_peer (self->connection,
                                    envoi_account_get_verify_certificate (self->account), NULL);

  if (transport == ENVOI_TRANSPORT_HTTP_MAILGUN)
    {
      curl_mimepart *part;

      mime = curl_mime_init (easy);
      for (guint i = 0; op->recipients[i] != NULL; i++)
        {
          part = curl_mime_addpart (mime);
          curl_mime_name (part, "to");
          curl_mime_data (part, op->recipients[i], CURL_ZERO_TERMINATED);
        }
      part = curl_mime_addpart (mime);
      curl_mime_name (part, "message");
      curl_mime_filename (part, "message.mime");
      curl_mime_type (part, "message/rfc822");
      curl_mime_data (part, g_bytes_get_data (op->message, NULL), g_bytes_get_size (op->message));
      curl_easy_setopt (easy, CURLOPT_MIMEPOST, mime);

      curl_easy_setopt (easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      curl_easy_setopt (easy, CURLOPT_USERNAME, "api");
      curl_easy_setopt (easy, CURLOPT_PASSWORD, self->api_key != NULL ? self->api_key : "");
    }
  else
    {
      g_autofree char *from = g_strdup_printf (ENVOI_HTTP_HEADER_MAIL_FROM ": %s", op->envelope_from);

      headers = curl_slist_append (headers, "Content-Type: message/rfc822");
      headers = curl_slist_append (headers, from);
      for (guint i = 0; op->recipients[i] != NULL; i++)
        {
          g_autofree char *rcpt = g_strdup_printf (ENVOI_HTTP_HEADER_RCPT_TO ": %s", op->recipients[i]);

          headers = curl_slist_append (headers, rcpt);
        }
      /* No "Expect: 100-continue" round trip. */
      headers = curl_slist_append (headers, "Expect:");
      curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (easy, CURLOPT_POST, 1L);
      envoi_curl_upload_attach (&op->upload, easy, op->message);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) g_bytes_get_size (op->message));
      if (self->api_key != NULL && *self->api_key != '\0')
        {
          curl_easy_setopt (easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
          curl_easy_setopt (easy, CURLOPT_XOAUTH2_BEARER, self->api_key);
        }
    }

  code = envoi_curl_connection_perform (self->connection, cancellable);
  envoi_curl_connection_detach (self->connection);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);

  /* The handle keeps no pointer into what is freed below. */
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (easy, CURLOPT_MIMEPOST, NULL);
  curl_slist_free_all (headers);
  curl_mime_free (mime);

  if (code != CURLE_OK)
    error = error_from_curl (self, op, code, host, error_buffer);
  else if (status < 200 || status > 299)
    error = error_from_status (op, status);

  op->transcript = envoi_smtp_transcript_dup_text (op->recorder);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, response_summary (op, status), g_free);
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  g_autoptr(GTask) task = data;
  EnvoiHttpTransport *self = g_task_get_source_object (task);

  run_send (self, task, g_task_get_task_data (task));
}

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_free (op->envelope_from);
  g_strfreev (op->recipients);
  g_clear_pointer (&op->message, g_bytes_unref);
  g_string_free (op->response, TRUE);
  g_free (op->transcript);
  g_clear_object (&op->recorder);
  g_free (op);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_http_transport_finalize (GObject *object)
{
  EnvoiHttpTransport *self = (EnvoiHttpTransport *)object;

  g_thread_pool_free (self->worker, TRUE, FALSE);

  /* HTTP says no goodbye: closing is quick, and may happen here. */
  envoi_curl_connection_close (g_steal_pointer (&self->connection), NULL);

  if (self->api_key != NULL)
    {
      memset (self->api_key, 0, strlen (self->api_key));
      g_free (self->api_key);
    }
  g_clear_object (&self->account);

  G_OBJECT_CLASS (envoi_http_transport_parent_class)->finalize (object);
}

static void
envoi_http_transport_class_init (EnvoiHttpTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_http_transport_finalize;

  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
envoi_http_transport_init (EnvoiHttpTransport *self)
{
  self->worker = g_thread_pool_new (worker_func, self, 1, FALSE, NULL);
  self->connection = envoi_curl_connection_new ();
}

/* ---- public ------------------------------------------------------------------------------- */

/**
 * envoi_http_transport_new:
 * @account: the account (copied)
 * @api_key: (nullable): the API key from the keyring (service "http"); wiped on finalize
 */
EnvoiHttpTransport *
envoi_http_transport_new (EnvoiAccount *account,
                          const char   *api_key)
{
  EnvoiHttpTransport *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_HTTP_TRANSPORT, NULL);
  self->account = envoi_account_copy (account);
  self->api_key = g_strdup (api_key);

  return self;
}

/**
 * envoi_http_transport_send_async:
 * @recipients: the envelope recipients (at least one)
 * @message: the RFC 5322 message; line endings are normalised to CRLF
 */
void
envoi_http_transport_send_async (EnvoiHttpTransport  *self,
                                 const char          *envelope_from,
                                 const char * const  *recipients,
                                 GBytes              *message,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  Operation *op;

  g_return_if_fail (ENVOI_IS_HTTP_TRANSPORT (self));
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL && recipients[0] != NULL);
  g_return_if_fail (message != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (Operation, 1);
  op->envelope_from = g_strdup (envelope_from);
  op->recipients = g_strdupv ((char **) recipients);
  op->message = envoi_message_normalize_crlf (message);
  op->response = g_string_new (NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_http_transport_send_async);
  g_task_set_task_data (task, op, operation_free);
  g_thread_pool_push (self->worker, task, NULL);
}

char *
envoi_http_transport_send_finish (EnvoiHttpTransport  *self,
                                  GAsyncResult        *result,
                                  GError             **error)
{
  g_return_val_if_fail (ENVOI_IS_HTTP_TRANSPORT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_http_transport_send_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
envoi_http_transport_get_transcript (EnvoiHttpTransport *self,
                                     GAsyncResult       *result)
{
  Operation *op;

  g_return_val_if_fail (ENVOI_IS_HTTP_TRANSPORT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  op = g_task_get_task_data (G_TASK (result));
  return op->transcript;
}

/* envoi-curl-connection.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the SMTP, mailbox and HTTP clients do alike with libcurl. Each runs its operations on a
 * worker thread of its own, one after the other, on a connection of this kind: the handles are
 * set up the same way (no signals, the account's timeout, the dialogue recorded in an
 * EnvoiSmtpTranscript and never the data or TLS records), driven through the multi interface so
 * that a GCancellable returns at once (envoi_curl_perform()), and closed off the caller's thread
 * because a mail protocol says goodbye and waits for the reply.
 */

#define G_LOG_DOMAIN "envoi-curl"

#include "config.h"

#include "envoi-curl-connection.h"
#include "envoi-curl-sockets.h"

struct _EnvoiCurlConnection
{
  CURLM  *multi;
  CURL   *easy;
  GArray *sockets;   /* what a cancel or a drop shuts down */
};

EnvoiCurlConnection *
envoi_curl_connection_new (void)
{
  EnvoiCurlConnection *self = g_new0 (EnvoiCurlConnection, 1);

  self->multi = curl_multi_init ();
  self->easy = curl_easy_init ();
  self->sockets = envoi_curl_sockets_new ();

  return self;
}

/* May say QUIT or LOGOUT and wait for the reply: call it from a worker thread, or where the
 * protocol says no goodbye (HTTP). */
void
envoi_curl_connection_free (EnvoiCurlConnection *self)
{
  g_return_if_fail (self != NULL);

  curl_multi_remove_handle (self->multi, self->easy);
  curl_easy_cleanup (self->easy);
  curl_multi_cleanup (self->multi);
  g_array_unref (self->sockets);
  g_free (self);
}

static gpointer
close_thread (gpointer data)
{
  envoi_curl_connection_free (data);
  return NULL;
}

/**
 * envoi_curl_connection_close:
 * @thread_name: (nullable): close on a new thread of that name; %NULL: here and now
 *
 * Closes the connection once its client is gone. The operations are over: nothing may be
 * written to their transcript or body while the connection says goodbye.
 */
void
envoi_curl_connection_close (EnvoiCurlConnection *self,
                             const char          *thread_name)
{
  g_return_if_fail (self != NULL);

  curl_easy_setopt (self->easy, CURLOPT_VERBOSE, 0L);
  curl_easy_setopt (self->easy, CURLOPT_DEBUGFUNCTION, NULL);
  curl_easy_setopt (self->easy, CURLOPT_DEBUGDATA, NULL);
  curl_easy_setopt (self->easy, CURLOPT_WRITEFUNCTION, NULL);
  curl_easy_setopt (self->easy, CURLOPT_WRITEDATA, NULL);

  if (thread_name != NULL)
    g_thread_unref (g_thread_new (thread_name, close_thread, self));
  else
    envoi_curl_connection_free (self);
}

/* Closes without a goodbye: on a connection out of step, the answer would be another's. */
void
envoi_curl_connection_drop (EnvoiCurlConnection *self)
{
  g_return_if_fail (self != NULL);

  envoi_curl_sockets_shutdown (self->sockets);
  envoi_curl_connection_free (self);
}

/* Between two operations the server has nothing to say: bytes (or the end of the stream)
 * waiting on an idle connection answer nothing that was asked, such as a late reply to a body
 * the server had already answered. Such a connection must not carry another operation: its
 * next reply would be taken for the answer to the wrong command. */
gboolean
envoi_curl_connection_is_out_of_step (EnvoiCurlConnection *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  for (guint i = 0; i < self->sockets->len; i++)
    {
      GPollFD fd = { g_array_index (self->sockets, curl_socket_t, i), G_IO_IN, 0 };

      if (g_poll (&fd, 1, 0) > 0 && fd.revents != 0)
        return TRUE;
    }

  return FALSE;
}

void
envoi_curl_connection_record (EnvoiSmtpTranscript *transcript,
                              curl_infotype        type,
                              const char          *data,
                              size_t               size)
{
  /* Only the dialogue: never the message body, never TLS records. */
  switch (type)
    {
    case CURLINFO_TEXT:
      envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_INFO, data, size);
      break;
    case CURLINFO_HEADER_IN:
      envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_SERVER, data, size);
      break;
    case CURLINFO_HEADER_OUT:
      envoi_smtp_transcript_add (transcript, ENVOI_SMTP_TRANSCRIPT_CLIENT, data, size);
      break;
    case CURLINFO_DATA_IN:
    case CURLINFO_DATA_OUT:
    case CURLINFO_SSL_DATA_IN:
    case CURLINFO_SSL_DATA_OUT:
    case CURLINFO_END:
    default:
      break;
    }
}

static int
debug_cb (CURL          *easy,
          curl_infotype  type,
          char          *data,
          size_t         size,
          void          *user_data)
{
  envoi_curl_connection_record (user_data, type, data, size);
  return 0;
}

/**
 * envoi_curl_connection_prepare:
 * @protocols: the only schemes the handle may use (CURLOPT_PROTOCOLS_STR)
 * @timeout: seconds to connect, and without a byte moving
 * @transcript: where the dialogue goes
 * @error_buffer: (out caller-allocates): CURL_ERROR_SIZE bytes, libcurl's words on failure
 *
 * Resets the easy handle for the next operation (the connection stays open for reuse) and
 * sets what every client sets. The caller adds its protocol's options.
 *
 * Returns: (transfer none): the easy handle
 */
CURL *
envoi_curl_connection_prepare (EnvoiCurlConnection *self,
                               const char          *url,
                               const char          *protocols,
                               guint                timeout,
                               EnvoiSmtpTranscript *transcript,
                               char                *error_buffer)
{
  CURL *easy;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (transcript), NULL);

  easy = self->easy;
  curl_easy_reset (easy);
  envoi_curl_sockets_attach (self->sockets, easy);
  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt (easy, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt (easy, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt (easy, CURLOPT_DEBUGDATA, transcript);

  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT, (long) timeout);
  /* For the mail protocols; HTTP has no such thing and ignores it. */
  curl_easy_setopt (easy, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long) timeout);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_TIME, (long) timeout);

  return easy;
}

/**
 * envoi_curl_connection_check_peer:
 * @verify: whether to check the certificate and the host name (the account's
 *   verify-certificate)
 * @pinned_key: (nullable): "sha256//…": the server is trusted by this key alone
 *
 * How the server's certificate is checked; %ENVOI_SMTP_CA_FILE_ENV replaces the system's CAs.
 */
void
envoi_curl_connection_check_peer (EnvoiCurlConnection *self,
                                  gboolean             verify,
                                  const char          *pinned_key)
{
  const char *ca_file = g_getenv (ENVOI_SMTP_CA_FILE_ENV);
  CURL *easy;

  g_return_if_fail (self != NULL);

  easy = self->easy;
  if (pinned_key != NULL && *pinned_key != '\0')
    {
      /* A self-signed server trusted by its key: the pin is the whole check. */
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt (easy, CURLOPT_PINNEDPUBLICKEY, pinned_key);
    }
  else if (!verify)
    {
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else
    {
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 2L);
      if (ca_file != NULL && *ca_file != '\0')
        curl_easy_setopt (easy, CURLOPT_CAINFO, ca_file);
    }
}

/* Runs the transfer set up since envoi_curl_connection_prepare() until it is done or
 * @cancellable is cancelled. The easy handle stays added to the multi one, as a connect-only
 * transfer needs: call envoi_curl_connection_detach() once done with it. */
CURLcode
envoi_curl_connection_perform (EnvoiCurlConnection *self,
                               GCancellable        *cancellable)
{
  g_return_val_if_fail (self != NULL, CURLE_FAILED_INIT);

  return envoi_curl_perform (self->multi, self->easy, self->sockets, cancellable);
}

/* Ends a transfer: its connection goes back to the cache, for the next one to reuse. */
void
envoi_curl_connection_detach (EnvoiCurlConnection *self)
{
  g_return_if_fail (self != NULL);

  curl_multi_remove_handle (self->multi, self->easy);
}

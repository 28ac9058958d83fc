/* envoi-curl-sockets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A cancelled transfer must return at once, also when the server has stopped answering and
 * libcurl would politely wait for the reply to its QUIT or LOGOUT. Shutting down the sockets
 * the handle opened makes every pending read fail immediately.
 */

#define G_LOG_DOMAIN "envoi-curl-sockets"

#include "config.h"

#include <sys/socket.h>
#include <unistd.h>

#include "envoi-curl-sockets.h"

GArray *
envoi_curl_sockets_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (curl_socket_t));
}

static curl_socket_t
open_socket_cb (void                 *user_data,
                curlsocktype          purpose,
                struct curl_sockaddr *address)
{
  GArray *sockets = user_data;
  curl_socket_t sock = socket (address->family, address->socktype | SOCK_CLOEXEC,
                               address->protocol);

  if (sock != CURL_SOCKET_BAD)
    g_array_append_val (sockets, sock);

  return sock;
}

static int
close_socket_cb (void          *user_data,
                 curl_socket_t  sock)
{
  GArray *sockets = user_data;

  for (guint i = 0; i < sockets->len; i++)
    if (g_array_index (sockets, curl_socket_t, i) == sock)
      {
        g_array_remove_index_fast (sockets, i);
        break;
      }

  return close (sock);
}

void
envoi_curl_sockets_attach (GArray *sockets,
                           CURL   *easy)
{
  g_return_if_fail (sockets != NULL);
  g_return_if_fail (easy != NULL);

  curl_easy_setopt (easy, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
  curl_easy_setopt (easy, CURLOPT_OPENSOCKETDATA, sockets);
  curl_easy_setopt (easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket_cb);
  curl_easy_setopt (easy, CURLOPT_CLOSESOCKETDATA, sockets);
}

void
envoi_curl_sockets_shutdown (GArray *sockets)
{
  g_return_if_fail (sockets != NULL);

  for (guint i = 0; i < sockets->len; i++)
    shutdown (g_array_index (sockets, curl_socket_t, i), SHUT_RDWR);
}

static void
cancelled_cb (GCancellable *cancellable,
              CURLM        *multi)
{
  curl_multi_wakeup (multi);
}

/* Runs @easy on @multi until it is done or @cancellable is cancelled; a cancel wakes the poll
 * and shuts @sockets, so it returns at once even from a stalled server. @easy stays added to
 * @multi: the caller removes it once it has read what it needs. Call it off the main thread. */
CURLcode
envoi_curl_perform (CURLM        *multi,
                    CURL         *easy,
                    GArray       *sockets,
                    GCancellable *cancellable)
{
  CURLcode result = CURLE_OK;
  gulong handler = 0;
  int running = 1;

  if (curl_multi_add_handle (multi, easy) != CURLM_OK)
    return CURLE_FAILED_INIT;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), multi, NULL);

  while (running > 0)
    {
      CURLMcode mc;

      if (g_cancellable_is_cancelled (cancellable))
        {
          envoi_curl_sockets_shutdown (sockets);
          result = CURLE_ABORTED_BY_CALLBACK;
          break;
        }

      mc = curl_multi_perform (multi, &running);
      if (mc == CURLM_OK && running > 0)
        mc = curl_multi_poll (multi, NULL, 0, 1000, NULL);
      if (mc != CURLM_OK)
        {
          result = CURLE_FAILED_INIT;
          break;
        }
    }

  if (running == 0)
    {
      CURLMsg *msg;
      int left;

      while ((msg = curl_multi_info_read (multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy)
          result = msg->data.result;
    }

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  return result;
}

/* envoi-curl-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One place decides whether a failed transfer was the network or the server: the three
 * clients used to each map CURLcodes, and the SMTP one took a send error in the middle of DATA
 * for the server's last reply ("354 go ahead"), failing a message that only needed a retry.
 */

#include "config.h"

#include "envoi-curl-error.h"

EnvoiCurlFault
envoi_curl_classify (CURLcode code,
                     gboolean server_refused)
{
  switch (code)
    {
    case CURLE_OK:
      return ENVOI_CURL_FAULT_OTHER;

    case CURLE_ABORTED_BY_CALLBACK:
      return ENVOI_CURL_FAULT_CANCELLED;

    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return ENVOI_CURL_FAULT_HOST_NOT_FOUND;

    case CURLE_COULDNT_CONNECT:
      return ENVOI_CURL_FAULT_CONNECTION_REFUSED;

    case CURLE_OPERATION_TIMEDOUT:
      return ENVOI_CURL_FAULT_TIMEOUT;

    case CURLE_SSL_CONNECT_ERROR:
      return ENVOI_CURL_FAULT_TLS_HANDSHAKE;

    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return ENVOI_CURL_FAULT_CERTIFICATE;

    /* The transfer broke off. Only a refusal the server actually sent makes it the server's
     * answer; whatever else it said last was not an answer to what failed. */
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UPLOAD_FAILED:
    case CURLE_READ_ERROR:
      return server_refused ? ENVOI_CURL_FAULT_REFUSED : ENVOI_CURL_FAULT_CONNECTION_LOST;

    default:
      return server_refused ? ENVOI_CURL_FAULT_REFUSED : ENVOI_CURL_FAULT_OTHER;
    }
}

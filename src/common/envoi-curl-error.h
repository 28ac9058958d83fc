/* envoi-curl-error.h: what a libcurl failure means, the same for every protocol
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <curl/curl.h>
#include <glib.h>

G_BEGIN_DECLS

/* The classes of failure that the SMTP, POP3/IMAP and HTTP clients share. Each client turns a
 * class into its own GError (its domain, its words) and keeps only its protocol's own cases
 * (a refused login, STARTTLS not offered, an HTTP status). */
typedef enum
{
  ENVOI_CURL_FAULT_OTHER,               /* none of these: the client says what curl said */
  ENVOI_CURL_FAULT_CANCELLED,
  ENVOI_CURL_FAULT_HOST_NOT_FOUND,
  ENVOI_CURL_FAULT_CONNECTION_REFUSED,
  ENVOI_CURL_FAULT_TIMEOUT,
  ENVOI_CURL_FAULT_TLS_HANDSHAKE,
  ENVOI_CURL_FAULT_CERTIFICATE,
  ENVOI_CURL_FAULT_CONNECTION_LOST,     /* the network failed: deferred and retried */
  ENVOI_CURL_FAULT_REFUSED,             /* the server said no: its reply is the reason */
} EnvoiCurlFault;

/* @server_refused: whether the last thing the server said was a refusal (an SMTP reply of
 * 400 or more, POP3 "-ERR", IMAP "NO" or "BAD"). A send or receive error, a reply cut off,
 * garbage or an oversized reply after anything else (a greeting, "354 go ahead", "+OK") is a
 * lost connection, never the last reply read as an answer. */
EnvoiCurlFault envoi_curl_classify (CURLcode code,
                                    gboolean server_refused);

G_END_DECLS

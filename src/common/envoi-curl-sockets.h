/* envoi-curl-sockets.h: the sockets a libcurl handle has open, so that a cancel can shut them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <curl/curl.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* A GArray of curl_socket_t, filled and emptied by libcurl through the callbacks that
 * envoi_curl_sockets_attach() installs. Shared by the SMTP, mailbox and HTTP clients. */
GArray *envoi_curl_sockets_new      (void);
void    envoi_curl_sockets_attach   (GArray *sockets,
                                     CURL   *easy);
void    envoi_curl_sockets_shutdown (GArray *sockets);

CURLcode envoi_curl_perform         (CURLM        *multi,
                                     CURL         *easy,
                                     GArray       *sockets,
                                     GCancellable *cancellable);

G_END_DECLS

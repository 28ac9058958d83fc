/* envoi-curl-connection.h: one libcurl connection of a protocol client, used on its worker
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <curl/curl.h>
#include <gio/gio.h>

#include "envoi-smtp-transcript.h"

G_BEGIN_DECLS

/* A multi handle, its easy handle and the sockets they have open, as the SMTP, mailbox and
 * HTTP clients use them: one operation at a time, on the client's worker thread. The easy
 * handle keeps its connection between transfers, so that the next operation reuses it. */
typedef struct _EnvoiCurlConnection EnvoiCurlConnection;

EnvoiCurlConnection *envoi_curl_connection_new            (void);
void                 envoi_curl_connection_free           (EnvoiCurlConnection *self);
void                 envoi_curl_connection_close          (EnvoiCurlConnection *self,
                                                           const char          *thread_name);
void                 envoi_curl_connection_drop           (EnvoiCurlConnection *self);
gboolean             envoi_curl_connection_is_out_of_step (EnvoiCurlConnection *self);

CURL                *envoi_curl_connection_prepare        (EnvoiCurlConnection *self,
                                                           const char          *url,
                                                           const char          *protocols,
                                                           guint                timeout,
                                                           EnvoiSmtpTranscript *transcript,
                                                           char                *error_buffer);
void                 envoi_curl_connection_check_peer     (EnvoiCurlConnection *self,
                                                           gboolean             verify,
                                                           const char          *pinned_key);
CURLcode             envoi_curl_connection_perform        (EnvoiCurlConnection *self,
                                                           GCancellable        *cancellable);
void                 envoi_curl_connection_detach         (EnvoiCurlConnection *self);

/* What envoi_curl_connection_prepare()'s debug callback does with each piece of the
 * dialogue, for a client that installs its own callback to follow the dialogue too. */
void                 envoi_curl_connection_record         (EnvoiSmtpTranscript *transcript,
                                                           curl_infotype        type,
                                                           const char          *data,
                                                           size_t               size);

G_END_DECLS

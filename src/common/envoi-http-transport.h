/* envoi-http-transport.h: sending over HTTPS instead of SMTP (Mailgun raw MIME, or a generic
 * message/rfc822 POST with a bearer token), on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-types.h"
#include "envoi-smtp-error.h"

G_BEGIN_DECLS

/* The generic POST names the envelope in these request headers, one per address. */
#define ENVOI_HTTP_HEADER_MAIL_FROM "X-Envoi-Mail-From"
#define ENVOI_HTTP_HEADER_RCPT_TO   "X-Envoi-Rcpt-To"

#define ENVOI_TYPE_HTTP_TRANSPORT (envoi_http_transport_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiHttpTransport, envoi_http_transport, ENVOI, HTTP_TRANSPORT, GObject)

/* Failures are reported in ENVOI_SMTP_ERROR, whose classes are the sender's: HTTP 401 and 403
 * are AUTH_FAILED (the account pauses), 429 SENDING_LIMIT_REACHED and 408 or 5xx
 * TEMPORARY_FAILURE (retried), any other 4xx MESSAGE_REJECTED (failed at once); network and
 * TLS failures get the same classes as over SMTP. */
EnvoiHttpTransport *envoi_http_transport_new          (EnvoiAccount         *account,
                                                       const char           *api_key);

void                envoi_http_transport_send_async   (EnvoiHttpTransport   *self,
                                                       const char           *envelope_from,
                                                       const char * const   *recipients,
                                                       GBytes               *message,
                                                       GCancellable         *cancellable,
                                                       GAsyncReadyCallback   callback,
                                                       gpointer              user_data);
/* Returns the server's answer ("200 …" and the start of the body). */
char               *envoi_http_transport_send_finish  (EnvoiHttpTransport   *self,
                                                       GAsyncResult         *result,
                                                       GError              **error);

/* The request and response headers of that send, credentials removed. Call it from the
 * callback. */
const char         *envoi_http_transport_get_transcript (EnvoiHttpTransport *self,
                                                         GAsyncResult       *result);

G_END_DECLS

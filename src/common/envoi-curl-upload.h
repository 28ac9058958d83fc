/* envoi-curl-upload.h: a message body handed to libcurl piece by piece
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <curl/curl.h>
#include <glib.h>

G_BEGIN_DECLS

/* The body of an SMTP DATA, an IMAP APPEND or an HTTP POST, and how far libcurl has read it.
 * It borrows @body: the operation that owns the body keeps it alive for the transfer. */
typedef struct
{
  GBytes *body;
  gsize   offset;
} EnvoiCurlUpload;

/* Points @easy's read and seek callbacks at @upload and starts it at the beginning. The size
 * option (INFILESIZE or POSTFIELDSIZE) is the caller's: it depends on the protocol. */
void envoi_curl_upload_attach (EnvoiCurlUpload *upload,
                               CURL            *easy,
                               GBytes          *body);

G_END_DECLS

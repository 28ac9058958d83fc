/* envoi-curl-upload.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-curl-upload"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "envoi-curl-upload.h"

static size_t
read_cb (char   *buffer,
         size_t  size,
         size_t  count,
         void   *user_data)
{
  EnvoiCurlUpload *upload = user_data;
  gsize length;
  const guint8 *data = g_bytes_get_data (upload->body, &length);
  gsize n = MIN (size * count, length - upload->offset);

  memcpy (buffer, data + upload->offset, n);
  upload->offset += n;

  return n;
}

static int
seek_cb (void       *user_data,
         curl_off_t  offset,
         int         origin)
{
  EnvoiCurlUpload *upload = user_data;

  /* A request resent on a fresh connection starts the body again. */
  if (origin != SEEK_SET || offset < 0 || (gsize) offset > g_bytes_get_size (upload->body))
    return CURL_SEEKFUNC_CANTSEEK;
  upload->offset = offset;

  return CURL_SEEKFUNC_OK;
}

void
envoi_curl_upload_attach (EnvoiCurlUpload *upload,
                          CURL            *easy,
                          GBytes          *body)
{
  g_return_if_fail (upload != NULL);
  g_return_if_fail (easy != NULL);
  g_return_if_fail (body != NULL);

  upload->body = body;
  upload->offset = 0;
  curl_easy_setopt (easy, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt (easy, CURLOPT_READDATA, upload);
  curl_easy_setopt (easy, CURLOPT_SEEKFUNCTION, seek_cb);
  curl_easy_setopt (easy, CURLOPT_SEEKDATA, upload);
}

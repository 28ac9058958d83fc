/* envoi-autoconfig-private.h: what the files of EnvoiAutoconfig share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EnvoiAutoconfig is the lookup chain (envoi-autoconfig.c) and its HTTP reads
 * (envoi-autoconfig-fetch.c: one clientConfig document over HTTP(S), off the main thread).
 * Not a public API: the calls start with _envoi_autoconfig_.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What a fetch brought back. */
typedef struct
{
  GBytes   *bytes;
  char     *url;        /* after redirects */
  gboolean  insecure;   /* some hop was plain HTTP */
} EnvoiAutoconfigDocument;

void                     _envoi_autoconfig_fetch_async   (gpointer             source_object,
                                                          const char          *url,
                                                          const char          *allowed_domain,
                                                          const char * const  *connect_to,
                                                          const char          *ca_file,
                                                          guint                timeout,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
EnvoiAutoconfigDocument *_envoi_autoconfig_fetch_finish  (GAsyncResult        *result,
                                                          GError             **error);
void                     _envoi_autoconfig_document_free (EnvoiAutoconfigDocument *document);

char                    *_envoi_autoconfig_host_of       (const char          *url);
gboolean                 _envoi_autoconfig_is_ip_address (const char          *text);

G_END_DECLS

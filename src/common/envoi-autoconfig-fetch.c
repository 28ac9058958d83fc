/* envoi-autoconfig-fetch.c: reading one autoconfig document over HTTP(S), off the main thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The autoconfig chain's HTTP stages (autoconfig.<domain>, .well-known, the ISPDB) each read one
 * small clientConfig document. This is that read: libcurl in a GTask thread, cancellable, under
 * the stage's deadline, the answer's size bounded as it arrives, and redirects followed by hand:
 * only inside the domain asked, never from HTTPS to HTTP, and only a few times. What the
 * document says is the chain's business (envoi-autoconfig.c), read by the preset parser.
 */

#define G_LOG_DOMAIN "envoi-autoconfig"

#include "config.h"

#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-autoconfig.h"
#include "envoi-autoconfig-private.h"

#define MAX_REDIRECTS 3
#define USER_AGENT    "Envoi/" PACKAGE_VERSION

/* ---- hosts -------------------------------------------------------------------------------- */

/* Whether @text is an IP address, IPv6 with or without its brackets. */
gboolean
_envoi_autoconfig_is_ip_address (const char *text)
{
  gsize len = strlen (text);

  if (len > 2 && text[0] == '[' && text[len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (text + 1, len - 2);

      return g_hostname_is_ip_address (inner);
    }

  return g_hostname_is_ip_address (text);
}

/* Whether @host is @domain or one of its subdomains. An IP address has no subdomains: it is
 * compared whole. */
static gboolean
host_in_domain (const char *host,
                const char *domain)
{
  gsize host_len = strlen (host);
  gsize domain_len = strlen (domain);

  if (g_ascii_strcasecmp (host, domain) == 0)
    return TRUE;

  if (_envoi_autoconfig_is_ip_address (domain) || _envoi_autoconfig_is_ip_address (host))
    return FALSE;

  return host_len > domain_len
         && host[host_len - domain_len - 1] == '.'
         && g_ascii_strcasecmp (host + host_len - domain_len, domain) == 0;
}

/* ---- one request, then its redirects ------------------------------------------------------ */

typedef struct
{
  char         *url;
  char         *allowed_domain;   /* redirects may stay inside it */
  GStrv         connect_to;
  char         *ca_file;
  guint         timeout;
} Fetch;

typedef struct
{
  GByteArray   *body;
  gboolean      too_large;
  GCancellable *cancellable;
} Transfer;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_free (fetch->url);
  g_free (fetch->allowed_domain);
  g_strfreev (fetch->connect_to);
  g_free (fetch->ca_file);
  g_free (fetch);
}

void
_envoi_autoconfig_document_free (EnvoiAutoconfigDocument *document)
{
  g_clear_pointer (&document->bytes, g_bytes_unref);
  g_free (document->url);
  g_free (document);
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  Transfer *transfer = user_data;
  gsize len = size * nmemb;

  /* Counted on what arrives, not on Content-Length: a server can lie or send none. */
  if (transfer->body->len + len > ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE)
    {
      transfer->too_large = TRUE;
      return 0;
    }

  g_byte_array_append (transfer->body, (const guint8 *) data, len);
  return len;
}

static int
progress_cb (void       *user_data,
             curl_off_t  dltotal,
             curl_off_t  dlnow,
             curl_off_t  ultotal,
             curl_off_t  ulnow)
{
  Transfer *transfer = user_data;

  return g_cancellable_is_cancelled (transfer->cancellable) ? 1 : 0;
}

/* The host of @url, for messages; @url itself when it has none. */
char *
_envoi_autoconfig_host_of (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (url);

  return g_strdup (g_uri_get_host (uri));
}

/* One request, no redirect followed. Returns the status, or 0 with @error set. */
static long
fetch_once (Fetch         *fetch,
            const char    *url,
            Transfer      *transfer,
            char         **location,
            GError       **error)
{
  g_autofree char *host = _envoi_autoconfig_host_of (url);
  struct curl_slist *connect_to = NULL;
  char error_buffer[CURL_ERROR_SIZE] = "";
  CURLcode code;
  long status = 0;
  CURL *easy;

  easy = curl_easy_init ();
  if (easy == NULL)
    {
      g_set_error_literal (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NETWORK,
                           _("Could not start a web request"));
      return 0;
    }

  for (guint i = 0; fetch->connect_to != NULL && fetch->connect_to[i] != NULL; i++)
    connect_to = curl_slist_append (connect_to, fetch->connect_to[i]);

  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT, (long) fetch->timeout);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT, (long) fetch->timeout);
  curl_easy_setopt (easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt (easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (easy, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (easy, CURLOPT_XFERINFODATA, transfer);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (fetch->ca_file != NULL)
    curl_easy_setopt (easy, CURLOPT_CAINFO, fetch->ca_file);
  if (connect_to != NULL)
    curl_easy_setopt (easy, CURLOPT_CONNECT_TO, connect_to);

  code = curl_easy_perform (easy);

  if (code == CURLE_ABORTED_BY_CALLBACK && g_cancellable_is_cancelled (transfer->cancellable))
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
  else if (transfer->too_large || code == CURLE_FILESIZE_EXCEEDED)
    /* Translators: %s is a host name, %u a size in MiB */
    g_set_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TOO_LARGE,
                 _("The answer from %s is larger than %u MiB, so it was not read"),
                 host, (guint) (ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE / (1024 * 1024)));
  else if (code == CURLE_OPERATION_TIMEDOUT)
    /* Translators: %s is a host name, %u a number of seconds */
    g_set_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TIMEOUT,
                 g_dngettext (GETTEXT_PACKAGE, "%s did not answer within %u second",
                              "%s did not answer within %u seconds", fetch->timeout),
                 host, fetch->timeout);
  else if (code != CURLE_OK)
    /* Translators: %s is a host name, then why it could not be reached (in English) */
    g_set_error (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NETWORK,
                 _("Could not reach %s: %s"), host,
                 *error_buffer != '\0' ? error_buffer : curl_easy_strerror (code));
  else
    {
      char *redirect = NULL;

      curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
      if (status / 100 == 3 && curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK)
        *location = g_strdup (redirect);
    }

  curl_easy_cleanup (easy);
  curl_slist_free_all (connect_to);

  return status;
}

static void
fetch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  g_autofree char *url = g_strdup (fetch->url);
  gboolean insecure = FALSE;

  for (guint hops = 0; ; hops++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GByteArray) body = g_byte_array_new ();
      g_autofree char *location = NULL;
      g_autofree char *host = _envoi_autoconfig_host_of (url);
      g_autoptr(GUri) target = NULL;
      Transfer transfer = { body, FALSE, cancellable };
      long status;

      if (g_str_has_prefix (url, "http:"))
        insecure = TRUE;

      status = fetch_once (fetch, url, &transfer, &location, &error);
      if (error != NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      if (status == 200)
        {
          EnvoiAutoconfigDocument *document = g_new0 (EnvoiAutoconfigDocument, 1);

          document->bytes = g_byte_array_free_to_bytes (g_steal_pointer (&body));
          document->url = g_steal_pointer (&url);
          document->insecure = insecure;
          g_task_return_pointer (task, document,
                                 (GDestroyNotify) _envoi_autoconfig_document_free);
          return;
        }

      if (status / 100 != 3 || location == NULL)
        {
          /* Translators: %s is a host name, %ld an HTTP status such as 404 */
          g_task_return_new_error (task, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_HTTP_STATUS,
                                   _("%s answered with HTTP status %ld"), host, status);
          return;
        }

      /* Redirects are followed by hand: only inside the domain asked, never from HTTPS to
       * HTTP, and only a few times. */
      target = g_uri_parse (location, G_URI_FLAGS_NONE, NULL);
      if (target == NULL || g_uri_get_host (target) == NULL || *g_uri_get_host (target) == '\0'
          || !host_in_domain (g_uri_get_host (target), fetch->allowed_domain))
        {
          /* file:///etc/passwd has an empty host: then the whole address says where. */
          g_autofree char *target_host = target != NULL && g_uri_get_host (target) != NULL
                                         && *g_uri_get_host (target) != '\0'
                                           ? g_strdup (g_uri_get_host (target))
                                           : g_strdup (location);

          /* Translators: %s are a host name, another host name and a domain */
          g_task_return_new_error (task, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_REDIRECTED,
                                   _("%s redirected to %s, outside %s; the redirect was not followed"),
                                   host, target_host, fetch->allowed_domain);
          return;
        }
      if (!insecure && g_strcmp0 (g_uri_get_scheme (target), "https") != 0)
        {
          /* Translators: %s is a host name */
          g_task_return_new_error (task, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_REDIRECTED,
                                   _("%s redirected to an unencrypted address; the redirect was not followed"),
                                   host);
          return;
        }
      if (hops >= MAX_REDIRECTS)
        {
          /* Translators: %s is a host name */
          g_task_return_new_error (task, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_REDIRECTED,
                                   _("%s redirected too many times"), host);
          return;
        }

      g_free (url);
      url = g_steal_pointer (&location);
    }
}

/* ---- public ------------------------------------------------------------------------------- */

/**
 * _envoi_autoconfig_fetch_async:
 * @source_object: (nullable): the task's source object (the EnvoiAutoconfig asking)
 * @url: the document's address, https: or (for tests and the ISPDB's own choice) http:
 * @allowed_domain: redirects may go to this domain or its subdomains only
 * @connect_to: (nullable) (array zero-terminated=1): libcurl CONNECT_TO entries (tests only)
 * @ca_file: (nullable): the certificate authorities to trust instead of the system's
 * @timeout: seconds for each request, connecting included
 *
 * Reads the document at @url in a worker thread. Errors are in ENVOI_AUTOCONFIG_ERROR
 * (NETWORK, TIMEOUT, TOO_LARGE, HTTP_STATUS, REDIRECTED), or G_IO_ERROR_CANCELLED.
 */
void
_envoi_autoconfig_fetch_async (gpointer             source_object,
                               const char          *url,
                               const char          *allowed_domain,
                               const char * const  *connect_to,
                               const char          *ca_file,
                               guint                timeout,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Fetch *fetch;

  g_return_if_fail (url != NULL);
  g_return_if_fail (allowed_domain != NULL);

  fetch = g_new0 (Fetch, 1);
  fetch->url = g_strdup (url);
  fetch->allowed_domain = g_strdup (allowed_domain);
  fetch->connect_to = g_strdupv ((char **) connect_to);
  fetch->ca_file = g_strdup (ca_file);
  fetch->timeout = timeout;

  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, _envoi_autoconfig_fetch_async);
  g_task_set_task_data (task, fetch, fetch_free);
  g_task_run_in_thread (task, fetch_thread);
}

/* Returns: (transfer full): the document, free with _envoi_autoconfig_document_free() */
EnvoiAutoconfigDocument *
_envoi_autoconfig_fetch_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == _envoi_autoconfig_fetch_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* envoi-autoconfig.c: finding the outgoing server from an email address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-autoconfig"

#include "config.h"

#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <libpsl.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-autoconfig.h"
#include "envoi-autoconfig-private.h"
#include "envoi-preset-parser.h"
#include "envoi-preset-catalog.h"

/* The chain asks, in this order, and stops at the first answer with an encrypted server:
 *
 *   1. Envoi's built-in presets, by domain
 *   2. https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>
 *   3. https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml
 *   4. the ISPDB: <ispdb-url><domain>
 *   5. the ISPDB for the registrable domain of the domain's best MX host
 *   6. DNS SRV _submissions._tcp.<domain> (implicit TLS), then _submission._tcp.<domain>
 *   7. an EHLO to smtp.<domain>, mail.<domain>, <domain> on 465 SSL, 587 and 25 STARTTLS
 *
 * Every stage is asynchronous (HTTP with libcurl in a GTask thread, in envoi-autoconfig-fetch.c;
 * DNS through GResolver; probes through EnvoiSmtpClient) and runs under its own deadline; the
 * whole chain has one too. A stage that fails, times out or answers something unusable is kept as a problem and
 * the chain goes on. An answer whose best server is unencrypted is kept aside and returned
 * only when nothing encrypted turns up. Everything read from the network goes through the
 * preset parser, so a result is always a clientConfig provider. */

struct _EnvoiAutoconfig
{
  GObject    parent_instance;

  char      *ispdb_url;
  GResolver *resolver;
  GStrv      probe_hosts;
  GStrv      probe_ports;
  GStrv      connect_to;
  char      *ca_file;
  guint      stage_timeout;
  guint      total_timeout;
  guint      probe_timeout;
};

G_DEFINE_FINAL_TYPE (EnvoiAutoconfig, envoi_autoconfig, G_TYPE_OBJECT)

G_DEFINE_QUARK (envoi-autoconfig-error-quark, envoi_autoconfig_error)

enum {
  PROP_0,
  PROP_ISPDB_URL,
  PROP_RESOLVER,
  PROP_PROBE_HOSTS,
  PROP_PROBE_PORTS,
  PROP_CONNECT_TO,
  PROP_CA_FILE,
  PROP_STAGE_TIMEOUT,
  PROP_TOTAL_TIMEOUT,
  PROP_PROBE_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const default_probe_hosts[] = { "smtp.%s", "mail.%s", "%s", NULL };
static const char * const default_probe_ports[] = { "465:tls", "587:starttls", "25:starttls", NULL };

typedef enum
{
  STAGE_PRESET,
  STAGE_AUTOCONFIG,
  STAGE_WELL_KNOWN,
  STAGE_ISPDB,
  STAGE_MX,
  STAGE_SRV_SUBMISSIONS,
  STAGE_SRV_SUBMISSION,
  STAGE_PROBE,
  STAGE_DONE,
} Stage;

typedef struct
{
  char                  *address;
  char                  *domain;
  Stage                  stage;
  char                  *stage_what;        /* the host or record asked, for messages */
  GCancellable          *stage_cancellable;
  guint                  stage_timeout_id;
  gboolean               stage_timed_out;
  guint                  total_timeout_id;
  gulong                 cancelled_id;
  gboolean               returned;
  GPtrArray             *problems;          /* GError */
  EnvoiAutoconfigResult *fallback;          /* an answer without encryption, kept aside */
  char                  *mx_domain;
  GPtrArray             *probes;            /* Probe */
  guint                  probes_pending;
} Lookup;

typedef struct
{
  char          *host;
  guint16        port;
  EnvoiSecurity  security;
  EnvoiSmtpReport *report;   /* on success */
} Probe;

/* ---- helpers ------------------------------------------------------------------------------ */

static void
probe_free (gpointer data)
{
  Probe *probe = data;

  g_free (probe->host);
  g_clear_pointer (&probe->report, envoi_smtp_report_unref);
  g_free (probe);
}

static void
lookup_free (gpointer data)
{
  Lookup *lookup = data;

  g_assert (lookup->stage_timeout_id == 0);
  g_assert (lookup->total_timeout_id == 0);

  g_free (lookup->address);
  g_free (lookup->domain);
  g_free (lookup->stage_what);
  g_clear_object (&lookup->stage_cancellable);
  g_clear_pointer (&lookup->problems, g_ptr_array_unref);
  g_clear_object (&lookup->fallback);
  g_free (lookup->mx_domain);
  g_clear_pointer (&lookup->probes, g_ptr_array_unref);
  g_free (lookup);
}

/**
 * envoi_autoconfig_registrable_domain:
 * @host: a host name, e.g. mx1.mail.example.co.uk
 *
 * The part of @host that one party registered, by the Public Suffix List (libpsl; the
 * system's list when installed, else the one built into libpsl): example.co.uk.
 *
 * Returns: (transfer full) (nullable): the registrable domain, or %NULL if @host is itself a
 *   public suffix, an IP address (which has no parent domain) or not a host name
 */
char *
envoi_autoconfig_registrable_domain (const char *host)
{
  static gsize initialized = 0;
  static psl_ctx_t *psl = NULL;
  g_autofree char *lower = NULL;
  const char *registrable;
  gsize len;

  g_return_val_if_fail (host != NULL, NULL);

  /* libpsl would take the last two labels of 127.0.0.1 for its domain, "0.1". */
  if (_envoi_autoconfig_is_ip_address (host))
    return NULL;

  if (g_once_init_enter (&initialized))
    {
      psl = psl_latest (NULL);
      if (psl == NULL)
        psl = (psl_ctx_t *) psl_builtin ();
      g_once_init_leave (&initialized, 1);
    }

  lower = g_ascii_strdown (host, -1);
  len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[len - 1] = '\0';
  if (*lower == '\0' || psl == NULL)
    return NULL;

  registrable = psl_registrable_domain (psl, lower);
  return registrable != NULL ? g_strdup (registrable) : NULL;
}

/**
 * envoi_autoconfig_choose_auth_method:
 * @preferred: what the configuration said (%ENVOI_AUTH_METHOD_AUTOMATIC if nothing)
 * @mechanisms: (nullable) (array zero-terminated=1): the AUTH mechanisms the server offered
 *
 * Keeps @preferred when the server offers it; otherwise picks from what is offered, password
 * methods first (inside TLS, PLAIN is as safe as any and works everywhere), then a token.
 * A server that offers no AUTH at all takes no login.
 *
 * Returns: the method to use
 */
EnvoiAuthMethod
envoi_autoconfig_choose_auth_method (EnvoiAuthMethod     preferred,
                                     const char * const *mechanisms)
{
  static const EnvoiAuthMethod order[] = {
    ENVOI_AUTH_METHOD_PLAIN,
    ENVOI_AUTH_METHOD_LOGIN,
    ENVOI_AUTH_METHOD_CRAM_MD5,
    ENVOI_AUTH_METHOD_XOAUTH2,
    ENVOI_AUTH_METHOD_NTLM,
  };

  if (mechanisms == NULL || mechanisms[0] == NULL)
    return ENVOI_AUTH_METHOD_NONE;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (order[i] == preferred &&
        g_strv_contains (mechanisms, envoi_auth_method_get_mechanism (order[i])))
      return preferred;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    for (guint j = 0; mechanisms[j] != NULL; j++)
      if (g_ascii_strcasecmp (mechanisms[j], envoi_auth_method_get_mechanism (order[i])) == 0)
        return order[i];

  /* Only mechanisms Envoi cannot use (GSSAPI, …): let the client try. */
  return ENVOI_AUTH_METHOD_AUTOMATIC;
}

static const char *
security_socket_type (EnvoiSecurity security)
{
  switch (security)
    {
    case ENVOI_SECURITY_TLS:
      return "SSL";
    case ENVOI_SECURITY_STARTTLS:
      return "STARTTLS";
    case ENVOI_SECURITY_NONE:
    default:
      return "plain";
    }
}

static const char *
auth_authentication (EnvoiAuthMethod method)
{
  switch (method)
    {
    case ENVOI_AUTH_METHOD_NONE:
      return "none";
    case ENVOI_AUTH_METHOD_CRAM_MD5:
      return "password-encrypted";
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return "OAuth2";
    case ENVOI_AUTH_METHOD_NTLM:
      return "NTLM";
    case ENVOI_AUTH_METHOD_AUTOMATIC:
    case ENVOI_AUTH_METHOD_PLAIN:
    case ENVOI_AUTH_METHOD_LOGIN:
    default:
      return "password-cleartext";
    }
}

/* Servers found in DNS or by probing become a clientConfig document too, read by the same
 * parser as everything else: one kind of result, one set of checks on host names. */
static void
append_server (GString        *xml,
               const char     *host,
               guint16         port,
               EnvoiSecurity   security,
               EnvoiAuthMethod auth)
{
  g_autofree char *server = NULL;

  server = g_markup_printf_escaped ("<outgoingServer type=\"smtp\"><hostname>%s</hostname>"
                                    "<port>%u</port><socketType>%s</socketType>"
                                    "<username>%%EMAILADDRESS%%</username>"
                                    "<authentication>%s</authentication></outgoingServer>",
                                    host, (guint) port, security_socket_type (security),
                                    auth_authentication (auth));
  g_string_append (xml, server);
}

static GString *
begin_document (const char *domain)
{
  g_autofree char *head = NULL;

  head = g_markup_printf_escaped ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                  "<clientConfig version=\"1.1\"><emailProvider id=\"%s\">"
                                  "<domain>%s</domain><displayName>%s</displayName>",
                                  domain, domain, domain);
  return g_string_new (head);
}

static EnvoiPreset *
end_document (GString  *xml,
              GError  **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GPtrArray) presets = NULL;

  g_string_append (xml, "</emailProvider></clientConfig>");
  bytes = g_bytes_new (xml->str, xml->len);
  presets = envoi_preset_parse_bytes (bytes, NULL, error);
  if (presets == NULL)
    return NULL;

  return g_object_ref (g_ptr_array_index (presets, 0));
}

/* ---- the chain ---------------------------------------------------------------------------- */

static void run_stage (GTask *task);

static gboolean
is_notable (const GError *error)
{
  return g_error_matches (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TOO_LARGE)
         || g_error_matches (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_REDIRECTED)
         || g_error_matches (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER)
         || g_error_matches (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TIMEOUT);
}

static void
stop_stage (Lookup *lookup)
{
  g_clear_handle_id (&lookup->stage_timeout_id, g_source_remove);
  g_clear_object (&lookup->stage_cancellable);
  lookup->stage_timed_out = FALSE;
}

static void
finish (GTask                 *task,
        EnvoiAutoconfigResult *result,
        GError                *error)
{
  Lookup *lookup = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  g_assert (!lookup->returned);
  lookup->returned = TRUE;

  if (lookup->stage_cancellable != NULL)
    g_cancellable_cancel (lookup->stage_cancellable);
  g_clear_handle_id (&lookup->stage_timeout_id, g_source_remove);
  g_clear_handle_id (&lookup->total_timeout_id, g_source_remove);
  if (lookup->cancelled_id != 0)
    {
      g_cancellable_disconnect (cancellable, lookup->cancelled_id);
      lookup->cancelled_id = 0;
    }

  if (result != NULL)
    g_task_return_pointer (task, result, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
finish_not_found (GTask *task)
{
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GString) message = g_string_new (NULL);

  if (lookup->fallback != NULL)
    {
      finish (task, g_steal_pointer (&lookup->fallback), NULL);
      return;
    }

  /* Translators: %s is a domain such as example.com */
  g_string_printf (message, _("No settings were found for %s."), lookup->domain);
  for (guint i = 0; i < lookup->problems->len; i++)
    {
      GError *problem = g_ptr_array_index (lookup->problems, i);

      /* The first answer that was there but wrong says more than the 404s around it. */
      if (is_notable (problem))
        {
          g_string_append_c (message, ' ');
          if (g_str_has_suffix (problem->message, "."))
            g_string_append (message, problem->message);
          else
            /* Translators: a problem met along the way, such as “The answer from … is …”,
             * made a sentence */
            g_string_append_printf (message, _("%s."), problem->message);
          break;
        }
    }

  finish (task, NULL, g_error_new_literal (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NOT_FOUND,
                                           message->str));
}

/* Every stage ends here, once: with a result (transfer full), a problem (transfer full), or
 * neither (the stage did not apply). */
static void
stage_done (GTask                 *task,
            EnvoiAutoconfigResult *result,
            GError                *error)
{
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(EnvoiAutoconfigResult) owned_result = result;
  g_autoptr(GError) owned_error = error;
  gboolean timed_out = lookup->stage_timed_out;
  guint seconds = ENVOI_AUTOCONFIG (g_task_get_source_object (task))->stage_timeout;

  stop_stage (lookup);

  if (lookup->returned)
    return;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      finish (task, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled")));
      return;
    }

  if (timed_out && (owned_error == NULL || g_error_matches (owned_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_clear_error (&owned_error);
      /* Translators: %s is a host name or DNS record, %u a number of seconds */
      owned_error = g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TIMEOUT,
                                 g_dngettext (GETTEXT_PACKAGE, "%s did not answer within %u second",
                                              "%s did not answer within %u seconds", seconds),
                                 lookup->stage_what, seconds);
      g_clear_object (&owned_result);
    }

  if (owned_result != NULL)
    {
      /* Never prefer a server without encryption: keep it aside and look further. */
      if (!(envoi_autoconfig_result_get_flags (owned_result) & ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED))
        {
          finish (task, g_steal_pointer (&owned_result), NULL);
          return;
        }
      if (lookup->fallback == NULL)
        lookup->fallback = g_steal_pointer (&owned_result);
    }

  if (owned_error != NULL)
    {
      g_debug ("%s: %s", lookup->domain, owned_error->message);
      g_ptr_array_add (lookup->problems, g_steal_pointer (&owned_error));
    }

  lookup->stage++;
  run_stage (task);
}

static gboolean
stage_timeout_cb (gpointer user_data)
{
  Lookup *lookup = user_data;

  lookup->stage_timeout_id = 0;
  lookup->stage_timed_out = TRUE;
  g_cancellable_cancel (lookup->stage_cancellable);

  return G_SOURCE_REMOVE;
}

static gboolean
total_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  EnvoiAutoconfig *self = g_task_get_source_object (task);

  lookup->total_timeout_id = 0;

  if (lookup->fallback != NULL)
    {
      finish (task, g_steal_pointer (&lookup->fallback), NULL);
      return G_SOURCE_REMOVE;
    }

  /* Translators: %s is a domain, %u a number of seconds */
  finish (task, NULL, g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_TIMEOUT,
                                   g_dngettext (GETTEXT_PACKAGE,
                                                "No settings were found for %s within %u second.",
                                                "No settings were found for %s within %u seconds.",
                                                self->total_timeout),
                                   lookup->domain, self->total_timeout));
  return G_SOURCE_REMOVE;
}

static void
lookup_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  Lookup *lookup = user_data;

  /* The stage in flight ends with CANCELLED, and stage_done() returns that. */
  if (lookup->stage_cancellable != NULL)
    g_cancellable_cancel (lookup->stage_cancellable);
}

static GCancellable *
start_stage (GTask      *task,
             const char *what)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  Lookup *lookup = g_task_get_task_data (task);

  g_assert (lookup->stage_cancellable == NULL);

  g_free (lookup->stage_what);
  lookup->stage_what = g_strdup (what);
  lookup->stage_cancellable = g_cancellable_new ();
  lookup->stage_timed_out = FALSE;
  lookup->stage_timeout_id = g_timeout_add_seconds (self->stage_timeout, stage_timeout_cb, lookup);

  return lookup->stage_cancellable;
}

/* Stage: the presets built into Envoi. */
static void
run_preset_stage (GTask *task)
{
  Lookup *lookup = g_task_get_task_data (task);
  EnvoiPreset *preset = envoi_preset_catalog_lookup_domain (lookup->domain);
  EnvoiAutoconfigResult *result = NULL;
  GError *error = NULL;

  start_stage (task, lookup->domain);

  if (preset != NULL)
    result = envoi_autoconfig_result_new (ENVOI_AUTOCONFIG_SOURCE_PRESET, lookup->address,
                                          lookup->domain, NULL, preset,
                                          ENVOI_AUTOCONFIG_FLAG_NONE, &error);
  stage_done (task, result, error);
}

/* Stages that read a clientConfig document over HTTP(S). */

typedef struct
{
  GTask                 *task;
  EnvoiAutoconfigSource  source;
  char                  *domain;
} HttpStage;

static void
http_stage_free (HttpStage *stage)
{
  g_object_unref (stage->task);
  g_free (stage->domain);
  g_free (stage);
}

static void
http_stage_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  HttpStage *stage = user_data;
  GTask *task = stage->task;
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GPtrArray) presets = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  EnvoiAutoconfigDocument *answer;
  EnvoiPreset *preset = NULL;
  EnvoiAutoconfigFlags flags = ENVOI_AUTOCONFIG_FLAG_NONE;
  EnvoiAutoconfigResult *found;

  answer = _envoi_autoconfig_fetch_finish (result, &error);
  if (answer == NULL)
    {
      stage_done (task, NULL, g_steal_pointer (&error));
      http_stage_free (stage);
      return;
    }

  host = _envoi_autoconfig_host_of (answer->url);
  presets = envoi_preset_parse_bytes (answer->bytes, NULL, &error);
  if (presets != NULL)
    {
      for (guint i = 0; preset == NULL && i < presets->len; i++)
        if (envoi_preset_has_domain (g_ptr_array_index (presets, i), stage->domain))
          preset = g_ptr_array_index (presets, i);
      if (preset == NULL)
        preset = g_ptr_array_index (presets, 0);

      if (answer->insecure)
        flags |= ENVOI_AUTOCONFIG_FLAG_INSECURE_TRANSPORT;
      if (g_ascii_strcasecmp (stage->domain, lookup->domain) != 0)
        flags |= ENVOI_AUTOCONFIG_FLAG_OTHER_DOMAIN;

      found = envoi_autoconfig_result_new (stage->source, lookup->address, stage->domain,
                                           answer->url, preset, flags, &error);
      if (found != NULL)
        {
          _envoi_autoconfig_document_free (answer);
          stage_done (task, found, NULL);
          http_stage_free (stage);
          return;
        }
    }

  _envoi_autoconfig_document_free (answer);
  {
    /* Translators: %s is a host name, then why its answer cannot be used */
    GError *problem = g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,
                                   _("The answer from %s cannot be used: %s"), host,
                                   error->message);

    stage_done (task, NULL, problem);
  }
  http_stage_free (stage);
}

static void
run_http_stage (GTask                 *task,
                EnvoiAutoconfigSource  source,
                const char            *url,
                const char            *domain,
                const char            *allowed_domain)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  g_autofree char *host = _envoi_autoconfig_host_of (url);
  HttpStage *stage;
  GCancellable *cancellable;

  cancellable = start_stage (task, host);

  stage = g_new0 (HttpStage, 1);
  stage->task = g_object_ref (task);
  stage->source = source;
  stage->domain = g_strdup (domain);

  _envoi_autoconfig_fetch_async (self, url, allowed_domain, (const char * const *) self->connect_to,
                                 self->ca_file, self->stage_timeout, cancellable, http_stage_cb,
                                 stage);
}

static void
run_ispdb_stage (GTask                 *task,
                 EnvoiAutoconfigSource  source,
                 const char            *domain)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  g_autofree char *url = g_strconcat (self->ispdb_url, domain, NULL);
  g_autofree char *host = _envoi_autoconfig_host_of (self->ispdb_url);
  g_autofree char *allowed = envoi_autoconfig_registrable_domain (host);

  run_http_stage (task, source, url, domain, allowed != NULL ? allowed : host);
}

/* Stage: the MX host's domain, then the ISPDB for it. */

static void
mx_lookup_cb (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *records;
  const char *best = NULL;
  guint16 best_preference = G_MAXUINT16;
  g_autofree char *mx_domain = NULL;

  records = g_resolver_lookup_records_finish (G_RESOLVER (source_object), result, &error);
  for (GList *l = records; l != NULL; l = l->next)
    {
      guint16 preference;
      const char *host;

      g_variant_get (l->data, "(q&s)", &preference, &host);
      if (best == NULL || preference < best_preference)
        {
          best = host;
          best_preference = preference;
        }
    }

  if (best != NULL)
    mx_domain = envoi_autoconfig_registrable_domain (best);

  g_list_free_full (records, (GDestroyNotify) g_variant_unref);

  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          GError *problem;

          /* Translators: %s is a domain, then why its DNS records could not be read */
          problem = g_error_new (ENVOI_AUTOCONFIG_ERROR,
                                 g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND)
                                   ? ENVOI_AUTOCONFIG_ERROR_NO_RECORDS : ENVOI_AUTOCONFIG_ERROR_NETWORK,
                                 _("No mail server (MX) of %s was found: %s"), lookup->domain,
                                 error->message);
          g_clear_error (&error);
          error = problem;
        }
      stage_done (task, NULL, g_steal_pointer (&error));
      return;
    }

  /* The domain's own settings were asked already. */
  if (mx_domain == NULL || g_ascii_strcasecmp (mx_domain, lookup->domain) == 0)
    {
      stage_done (task, NULL, NULL);
      return;
    }

  /* The MX answer ends this stage; the ISPDB question for it is a stage of its own, with its
   * own deadline. */
  stop_stage (lookup);
  lookup->mx_domain = g_steal_pointer (&mx_domain);
  run_ispdb_stage (task, ENVOI_AUTOCONFIG_SOURCE_ISPDB_MX, lookup->mx_domain);
}

static void
run_mx_stage (GTask *task)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  Lookup *lookup = g_task_get_task_data (task);
  g_autofree char *what = g_strdup_printf ("MX %s", lookup->domain);
  GCancellable *cancellable = start_stage (task, what);

  g_resolver_lookup_records_async (self->resolver, lookup->domain, G_RESOLVER_RECORD_MX,
                                   cancellable, mx_lookup_cb, g_object_ref (task));
}

/* Stages: DNS SRV records (RFC 6186, RFC 8314). */

typedef struct
{
  guint16  priority;
  guint16  weight;
  guint16  port;
  char    *target;
} SrvRecord;

static int
srv_compare (gconstpointer a,
             gconstpointer b)
{
  const SrvRecord *x = a;
  const SrvRecord *y = b;

  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  return x->weight > y->weight ? -1 : x->weight < y->weight ? 1 : 0;
}

static void
srv_lookup_cb (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  gboolean implicit_tls = lookup->stage == STAGE_SRV_SUBMISSIONS;
  const char *service = implicit_tls ? "_submissions._tcp" : "_submission._tcp";
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) records = g_array_new (FALSE, TRUE, sizeof (SrvRecord));
  g_autoptr(GString) xml = NULL;
  g_autoptr(EnvoiPreset) preset = NULL;
  GList *list;
  guint usable = 0;

  list = g_resolver_lookup_records_finish (G_RESOLVER (source_object), result, &error);
  for (GList *l = list; l != NULL; l = l->next)
    {
      SrvRecord record;
      const char *target;

      g_variant_get (l->data, "(qqq&s)", &record.priority, &record.weight, &record.port, &target);
      record.target = g_strdup (target);
      g_array_append_val (records, record);
    }
  g_list_free_full (list, (GDestroyNotify) g_variant_unref);
  g_array_sort (records, srv_compare);

  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          GError *problem;

          /* Translators: the first %s is a DNS service such as _submission._tcp, the second a
           * domain, the third why the record could not be read */
          problem = g_error_new (ENVOI_AUTOCONFIG_ERROR,
                                 g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND)
                                   ? ENVOI_AUTOCONFIG_ERROR_NO_RECORDS : ENVOI_AUTOCONFIG_ERROR_NETWORK,
                                 _("No %s record of %s was found: %s"), service, lookup->domain,
                                 error->message);
          g_clear_error (&error);
          error = problem;
        }
      for (guint i = 0; i < records->len; i++)
        g_free (g_array_index (records, SrvRecord, i).target);
      stage_done (task, NULL, g_steal_pointer (&error));
      return;
    }

  xml = begin_document (lookup->domain);
  for (guint i = 0; i < records->len; i++)
    {
      SrvRecord *record = &g_array_index (records, SrvRecord, i);
      gsize len = strlen (record->target);

      /* "." says the service is not offered at all (RFC 2782). */
      if (len > 0 && record->target[len - 1] == '.')
        record->target[len - 1] = '\0';
      if (*record->target != '\0' && record->port != 0)
        {
          append_server (xml, record->target, record->port,
                         implicit_tls ? ENVOI_SECURITY_TLS : ENVOI_SECURITY_STARTTLS,
                         ENVOI_AUTH_METHOD_AUTOMATIC);
          usable++;
        }
      g_free (record->target);
    }

  if (usable == 0)
    {
      /* Translators: the first %s is a DNS service such as _submission._tcp, the second a domain */
      stage_done (task, NULL, g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NO_RECORDS,
                                           _("The %s record of %s says there is no such service"),
                                           service, lookup->domain));
      return;
    }

  preset = end_document (xml, &error);
  if (preset == NULL)
    {
      /* Translators: the first %s is a DNS service, the second a domain, the third the problem */
      stage_done (task, NULL, g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,
                                           _("The %s record of %s cannot be used: %s"),
                                           service, lookup->domain, error->message));
      return;
    }

  stage_done (task,
              envoi_autoconfig_result_new (ENVOI_AUTOCONFIG_SOURCE_SRV, lookup->address,
                                           lookup->domain, NULL, preset,
                                           ENVOI_AUTOCONFIG_FLAG_NONE, &error),
              g_steal_pointer (&error));
}

static void
run_srv_stage (GTask *task)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  Lookup *lookup = g_task_get_task_data (task);
  const char *service = lookup->stage == STAGE_SRV_SUBMISSIONS ? "_submissions._tcp" : "_submission._tcp";
  g_autofree char *rrname = g_strdup_printf ("%s.%s", service, lookup->domain);
  GCancellable *cancellable = start_stage (task, rrname);

  g_resolver_lookup_records_async (self->resolver, rrname, G_RESOLVER_RECORD_SRV,
                                   cancellable, srv_lookup_cb, g_object_ref (task));
}

/* Stage: EHLO to the usual names and ports, all at once, each bounded by the probe timeout. */

typedef struct
{
  GTask *task;
  Probe *probe;
} ProbeCall;

static void
probe_cb (GObject      *source_object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ProbeCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  Probe *probe = call->probe;
  EnvoiAutoconfig *self = ENVOI_AUTOCONFIG (source_object);
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) xml = NULL;
  g_autoptr(EnvoiPreset) preset = NULL;
  g_autoptr(GPtrArray) hosts = NULL;
  guint found = 0;

  g_free (call);

  probe->report = envoi_autoconfig_check_server_finish (self, result, &error);
  if (error != NULL)
    g_debug ("%s:%u: %s", probe->host, probe->port, error->message);

  if (--lookup->probes_pending > 0)
    return;

  if (lookup->stage_cancellable == NULL || g_cancellable_is_cancelled (lookup->stage_cancellable))
    {
      stage_done (task, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled")));
      return;
    }

  /* In the order asked; ranking then puts implicit TLS first. */
  xml = begin_document (lookup->domain);
  hosts = g_ptr_array_new ();
  for (guint i = 0; i < lookup->probes->len; i++)
    {
      Probe *p = g_ptr_array_index (lookup->probes, i);
      EnvoiAuthMethod auth;

      if (!g_ptr_array_find_with_equal_func (hosts, p->host, g_str_equal, NULL))
        g_ptr_array_add (hosts, p->host);
      if (p->report == NULL)
        continue;

      auth = envoi_autoconfig_choose_auth_method (ENVOI_AUTH_METHOD_AUTOMATIC,
                                                  envoi_smtp_report_get_auth_mechanisms (p->report));
      append_server (xml, p->host, p->port, p->security,
                     auth == ENVOI_AUTH_METHOD_NONE ? ENVOI_AUTH_METHOD_NONE
                                                    : ENVOI_AUTH_METHOD_AUTOMATIC);
      found++;
    }

  if (found == 0)
    {
      g_autofree char *names = NULL;

      g_ptr_array_add (hosts, NULL);
      names = g_strjoinv (", ", (char **) hosts->pdata);
      /* Translators: %s is a list of server names */
      stage_done (task, NULL, g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_NO_SERVER,
                                           _("No mail server answered at %s"), names));
      return;
    }

  preset = end_document (xml, &error);
  if (preset == NULL)
    {
      stage_done (task, NULL, g_error_new (ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,
                                           "%s", error->message));
      return;
    }

  stage_done (task,
              envoi_autoconfig_result_new (ENVOI_AUTOCONFIG_SOURCE_PROBE, lookup->address,
                                           lookup->domain, NULL, preset,
                                           ENVOI_AUTOCONFIG_FLAG_NONE, &error),
              g_steal_pointer (&error));
}

static gboolean
parse_probe_port (const char    *spec,
                  guint16       *port,
                  EnvoiSecurity *security)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", 2);
  guint64 value = 0;

  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 1, G_MAXUINT16, &value, NULL))
    return FALSE;

  *port = (guint16) value;
  if (g_str_equal (parts[1], "tls"))
    *security = ENVOI_SECURITY_TLS;
  else if (g_str_equal (parts[1], "starttls"))
    *security = ENVOI_SECURITY_STARTTLS;
  else
    return FALSE;   /* probing never tries a server without encryption */

  return TRUE;
}

static void
run_probe_stage (GTask *task)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  Lookup *lookup = g_task_get_task_data (task);
  GCancellable *cancellable;

  cancellable = start_stage (task, lookup->domain);
  /* The connections have their own limit; the stage's must not cut them short. */
  g_clear_handle_id (&lookup->stage_timeout_id, g_source_remove);
  lookup->stage_timeout_id = g_timeout_add_seconds (MAX (self->stage_timeout, self->probe_timeout * 2),
                                                    stage_timeout_cb, lookup);

  lookup->probes = g_ptr_array_new_with_free_func (probe_free);
  for (guint i = 0; self->probe_hosts != NULL && self->probe_hosts[i] != NULL; i++)
    {
      g_autoptr(GString) host = g_string_new (self->probe_hosts[i]);

      g_string_replace (host, "%s", lookup->domain, 0);
      for (guint j = 0; self->probe_ports != NULL && self->probe_ports[j] != NULL; j++)
        {
          Probe *probe = g_new0 (Probe, 1);

          if (!parse_probe_port (self->probe_ports[j], &probe->port, &probe->security))
            {
              g_warning ("Ignoring the probe port “%s”", self->probe_ports[j]);
              probe_free (probe);
              continue;
            }
          probe->host = g_strdup (host->str);
          g_ptr_array_add (lookup->probes, probe);
        }
    }

  if (lookup->probes->len == 0)
    {
      stage_done (task, NULL, NULL);
      return;
    }

  lookup->probes_pending = lookup->probes->len;
  for (guint i = 0; i < lookup->probes->len; i++)
    {
      Probe *probe = g_ptr_array_index (lookup->probes, i);

      ProbeCall *call = g_new0 (ProbeCall, 1);

      call->task = g_object_ref (task);
      call->probe = probe;
      envoi_autoconfig_check_server_async (self, probe->host, probe->port, probe->security,
                                           cancellable, probe_cb, call);
    }
}

static void
run_stage (GTask *task)
{
  EnvoiAutoconfig *self = g_task_get_source_object (task);
  Lookup *lookup = g_task_get_task_data (task);
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;

  switch (lookup->stage)
    {
    case STAGE_PRESET:
      run_preset_stage (task);
      break;

    case STAGE_AUTOCONFIG:
      escaped = g_uri_escape_string (lookup->address, NULL, FALSE);
      url = g_strdup_printf ("https://autoconfig.%s/mail/config-v1.1.xml?emailaddress=%s",
                             lookup->domain, escaped);
      run_http_stage (task, ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG, url, lookup->domain, lookup->domain);
      break;

    case STAGE_WELL_KNOWN:
      url = g_strdup_printf ("https://%s/.well-known/autoconfig/mail/config-v1.1.xml",
                             lookup->domain);
      run_http_stage (task, ENVOI_AUTOCONFIG_SOURCE_WELL_KNOWN, url, lookup->domain, lookup->domain);
      break;

    case STAGE_ISPDB:
      if (self->ispdb_url == NULL || *self->ispdb_url == '\0')
        {
          lookup->stage++;
          run_stage (task);
          break;
        }
      run_ispdb_stage (task, ENVOI_AUTOCONFIG_SOURCE_ISPDB, lookup->domain);
      break;

    case STAGE_MX:
      if (self->ispdb_url == NULL || *self->ispdb_url == '\0')
        {
          lookup->stage++;
          run_stage (task);
          break;
        }
      run_mx_stage (task);
      break;

    case STAGE_SRV_SUBMISSIONS:
    case STAGE_SRV_SUBMISSION:
      run_srv_stage (task);
      break;

    case STAGE_PROBE:
      run_probe_stage (task);
      break;

    case STAGE_DONE:
    default:
      finish_not_found (task);
      break;
    }
}

/**
 * envoi_autoconfig_lookup_async:
 * @address: an email address
 *
 * Runs the chain for @address (see the top of this file). Cancelling @cancellable ends it
 * with %G_IO_ERROR_CANCELLED.
 */
void
envoi_autoconfig_lookup_async (EnvoiAutoconfig     *self,
                               const char          *address,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *stripped = NULL;
  const char *at;
  Lookup *lookup;

  g_return_if_fail (ENVOI_IS_AUTOCONFIG (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_autoconfig_lookup_async);

  lookup = g_new0 (Lookup, 1);
  lookup->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_task_set_task_data (task, lookup, lookup_free);

  stripped = g_strstrip (g_strdup (address));
  at = strrchr (stripped, '@');
  if (at == NULL || at == stripped || at[1] == '\0' || strchr (at + 1, '.') == NULL
      || strpbrk (stripped, " \t\r\n/?#%") != NULL || !g_utf8_validate (stripped, -1, NULL))
    {
      lookup->returned = TRUE;
      /* Translators: %s is what was typed as an email address */
      g_task_return_new_error (task, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ADDRESS,
                               _("“%s” is not an email address with a domain"), stripped);
      return;
    }

  lookup->address = g_strdup (stripped);
  lookup->domain = g_ascii_strdown (at + 1, -1);
  lookup->total_timeout_id = g_timeout_add_seconds (self->total_timeout, total_timeout_cb, task);
  if (cancellable != NULL)
    lookup->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (lookup_cancelled_cb),
                                                  lookup, NULL);

  run_stage (task);
}

/**
 * envoi_autoconfig_lookup_finish:
 *
 * Returns: (transfer full): the settings found, or %NULL with @error set: an
 *   %ENVOI_AUTOCONFIG_ERROR (NOT_FOUND, whose message names the first answer that was
 *   there but unusable; TIMEOUT; INVALID_ADDRESS) or %G_IO_ERROR_CANCELLED
 */
EnvoiAutoconfigResult *
envoi_autoconfig_lookup_finish (EnvoiAutoconfig  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_autoconfig_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * envoi_autoconfig_lookup_get_problems:
 *
 * Returns: (transfer none) (element-type GError): what went wrong in the stages before the
 *   answer (or before giving up), in the order asked
 */
GPtrArray *
envoi_autoconfig_lookup_get_problems (EnvoiAutoconfig *self,
                                      GAsyncResult    *result)
{
  Lookup *lookup;

  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  lookup = g_task_get_task_data (G_TASK (result));
  return lookup->problems;
}

/* ---- one EHLO ----------------------------------------------------------------------------- */

static void
check_server_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  EnvoiSmtpReport *report;

  report = envoi_smtp_client_test_finish (ENVOI_SMTP_CLIENT (source_object), result, &error);
  if (report == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, report, (GDestroyNotify) envoi_smtp_report_unref);
}

/**
 * envoi_autoconfig_check_server_async:
 *
 * Connects to @host, reads the greeting, says EHLO and upgrades to TLS as @security says,
 * then QUIT: no login and no MAIL FROM. Bounded by the probe timeout.
 */
void
envoi_autoconfig_check_server_async (EnvoiAutoconfig     *self,
                                     const char          *host,
                                     guint16              port,
                                     EnvoiSecurity        security,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(EnvoiSmtpClient) client = NULL;

  g_return_if_fail (ENVOI_IS_AUTOCONFIG (self));
  g_return_if_fail (host != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_autoconfig_check_server_async);

  account = envoi_account_new ("autoconfig-probe");
  g_object_set (account,
                "host", host,
                "port", (guint) port,
                "security", security,
                "auth-method", ENVOI_AUTH_METHOD_NONE,
                "timeout", MAX (self->probe_timeout, 5u),
                NULL);
  client = envoi_smtp_client_new (account, NULL);
  envoi_smtp_client_test_async (client, cancellable, check_server_cb, g_steal_pointer (&task));
}

/**
 * envoi_autoconfig_check_server_finish:
 *
 * Returns: (transfer full): what the server offered, or %NULL with an %ENVOI_SMTP_ERROR
 */
EnvoiSmtpReport *
envoi_autoconfig_check_server_finish (EnvoiAutoconfig  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the object --------------------------------------------------------------------------- */

static void
envoi_autoconfig_finalize (GObject *object)
{
  EnvoiAutoconfig *self = ENVOI_AUTOCONFIG (object);

  g_free (self->ispdb_url);
  g_clear_object (&self->resolver);
  g_strfreev (self->probe_hosts);
  g_strfreev (self->probe_ports);
  g_strfreev (self->connect_to);
  g_free (self->ca_file);

  G_OBJECT_CLASS (envoi_autoconfig_parent_class)->finalize (object);
}

static void
envoi_autoconfig_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  EnvoiAutoconfig *self = ENVOI_AUTOCONFIG (object);

  switch (prop_id)
    {
    case PROP_ISPDB_URL:
      g_value_set_string (value, self->ispdb_url);
      break;
    case PROP_RESOLVER:
      g_value_set_object (value, self->resolver);
      break;
    case PROP_PROBE_HOSTS:
      g_value_set_boxed (value, self->probe_hosts);
      break;
    case PROP_PROBE_PORTS:
      g_value_set_boxed (value, self->probe_ports);
      break;
    case PROP_CONNECT_TO:
      g_value_set_boxed (value, self->connect_to);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_STAGE_TIMEOUT:
      g_value_set_uint (value, self->stage_timeout);
      break;
    case PROP_TOTAL_TIMEOUT:
      g_value_set_uint (value, self->total_timeout);
      break;
    case PROP_PROBE_TIMEOUT:
      g_value_set_uint (value, self->probe_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_strv (EnvoiAutoconfig *self,
          GStrv           *field,
          const GValue    *value,
          guint            prop_id)
{
  const char * const *strv = g_value_get_boxed (value);

  if (*field != NULL && strv != NULL && g_strv_equal ((const char * const *) *field, strv))
    return;
  if (*field == NULL && strv == NULL)
    return;

  g_strfreev (*field);
  *field = g_strdupv ((char **) strv);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_string (EnvoiAutoconfig *self,
            char           **field,
            const GValue    *value,
            guint            prop_id)
{
  const char *text = g_value_get_string (value);

  if (g_strcmp0 (*field, text) == 0)
    return;

  g_free (*field);
  *field = g_strdup (text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_uint (EnvoiAutoconfig *self,
          guint           *field,
          const GValue    *value,
          guint            prop_id)
{
  if (*field == g_value_get_uint (value))
    return;

  *field = g_value_get_uint (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
envoi_autoconfig_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  EnvoiAutoconfig *self = ENVOI_AUTOCONFIG (object);

  switch (prop_id)
    {
    case PROP_ISPDB_URL:
      set_string (self, &self->ispdb_url, value, prop_id);
      break;
    case PROP_RESOLVER:
      {
        GResolver *resolver = g_value_get_object (value);

        if (resolver == NULL)
          resolver = g_resolver_get_default ();
        else
          g_object_ref (resolver);
        if (resolver != self->resolver)
          {
            g_clear_object (&self->resolver);
            self->resolver = resolver;
            g_object_notify_by_pspec (object, pspec);
          }
        else
          g_object_unref (resolver);
      }
      break;
    case PROP_PROBE_HOSTS:
      set_strv (self, &self->probe_hosts, value, prop_id);
      break;
    case PROP_PROBE_PORTS:
      set_strv (self, &self->probe_ports, value, prop_id);
      break;
    case PROP_CONNECT_TO:
      set_strv (self, &self->connect_to, value, prop_id);
      break;
    case PROP_CA_FILE:
      set_string (self, &self->ca_file, value, prop_id);
      break;
    case PROP_STAGE_TIMEOUT:
      set_uint (self, &self->stage_timeout, value, prop_id);
      break;
    case PROP_TOTAL_TIMEOUT:
      set_uint (self, &self->total_timeout, value, prop_id);
      break;
    case PROP_PROBE_TIMEOUT:
      set_uint (self, &self->probe_timeout, value, prop_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_autoconfig_class_init (EnvoiAutoconfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = envoi_autoconfig_finalize;
  object_class->get_property = envoi_autoconfig_get_property;
  object_class->set_property = envoi_autoconfig_set_property;

  /* The ISPDB's base address; the domain is appended. envoi_autoconfig_new() takes the
   * `ispdb-url` setting. Empty skips the ISPDB and MX stages. */
  properties[PROP_ISPDB_URL] =
    g_param_spec_string ("ispdb-url", NULL, NULL, ENVOI_AUTOCONFIG_DEFAULT_ISPDB_URL, flags);

  /* For the MX and SRV lookups; %NULL means g_resolver_get_default(). */
  properties[PROP_RESOLVER] =
    g_param_spec_object ("resolver", NULL, NULL, G_TYPE_RESOLVER, flags);

  /* Host names to probe, "%s" standing for the domain: smtp.%s, mail.%s, %s. */
  properties[PROP_PROBE_HOSTS] =
    g_param_spec_boxed ("probe-hosts", NULL, NULL, G_TYPE_STRV, flags);

  /* Ports to probe on each, "PORT:tls" or "PORT:starttls": 465:tls, 587:starttls,
   * 25:starttls. Never without encryption. */
  properties[PROP_PROBE_PORTS] =
    g_param_spec_boxed ("probe-ports", NULL, NULL, G_TYPE_STRV, flags);

  /* Tests only: libcurl CONNECT_TO entries ("HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT")
   * that send the exact production URLs to a local server. */
  properties[PROP_CONNECT_TO] =
    g_param_spec_boxed ("connect-to", NULL, NULL, G_TYPE_STRV, flags);

  /* Tests only: a PEM file of CAs trusted for HTTPS instead of the system's. */
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL, flags);

  properties[PROP_STAGE_TIMEOUT] =
    g_param_spec_uint ("stage-timeout", NULL, NULL, 1, 600,
                       ENVOI_AUTOCONFIG_DEFAULT_STAGE_TIMEOUT, flags);
  properties[PROP_TOTAL_TIMEOUT] =
    g_param_spec_uint ("total-timeout", NULL, NULL, 1, 3600,
                       ENVOI_AUTOCONFIG_DEFAULT_TOTAL_TIMEOUT, flags);
  properties[PROP_PROBE_TIMEOUT] =
    g_param_spec_uint ("probe-timeout", NULL, NULL, 5, 600,
                       ENVOI_AUTOCONFIG_DEFAULT_PROBE_TIMEOUT, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
envoi_autoconfig_init (EnvoiAutoconfig *self)
{
  self->ispdb_url = g_strdup (ENVOI_AUTOCONFIG_DEFAULT_ISPDB_URL);
  self->resolver = g_resolver_get_default ();
  self->probe_hosts = g_strdupv ((char **) default_probe_hosts);
  self->probe_ports = g_strdupv ((char **) default_probe_ports);
  self->stage_timeout = ENVOI_AUTOCONFIG_DEFAULT_STAGE_TIMEOUT;
  self->total_timeout = ENVOI_AUTOCONFIG_DEFAULT_TOTAL_TIMEOUT;
  self->probe_timeout = ENVOI_AUTOCONFIG_DEFAULT_PROBE_TIMEOUT;
}

/**
 * envoi_autoconfig_new:
 *
 * Returns: (transfer full): a chain with the production defaults and the ISPDB address of
 *   the `ispdb-url` setting (when the app's schema is installed)
 */
EnvoiAutoconfig *
envoi_autoconfig_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  EnvoiAutoconfig *self = g_object_new (ENVOI_TYPE_AUTOCONFIG, NULL);

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, ENVOI_APP_SCHEMA_ID, TRUE);
  if (schema != NULL && g_settings_schema_has_key (schema, "ispdb-url"))
    {
      g_autoptr(GSettings) settings = g_settings_new (ENVOI_APP_SCHEMA_ID);
      g_autofree char *url = g_settings_get_string (settings, "ispdb-url");

      g_object_set (self, "ispdb-url", url, NULL);
    }

  return self;
}

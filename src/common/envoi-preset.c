/* envoi-preset.c: one provider's mail configuration (envoi-preset-parser.c reads it from XML)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-presets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-preset.h"
#include "envoi-preset-private.h"

G_DEFINE_FINAL_TYPE (EnvoiPreset, envoi_preset, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (EnvoiPresetServer, envoi_preset_server,
                     envoi_preset_server_ref, envoi_preset_server_unref)

G_DEFINE_ENUM_TYPE (EnvoiPresetCategory, envoi_preset_category,
  G_DEFINE_ENUM_VALUE (ENVOI_PRESET_CATEGORY_MAILBOX, "mailbox"),
  G_DEFINE_ENUM_VALUE (ENVOI_PRESET_CATEGORY_SERVICE, "service"))

G_DEFINE_ENUM_TYPE (EnvoiUsernameRule, envoi_username_rule,
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_ADDRESS, "address"),
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_LOCAL_PART, "local-part"),
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_LITERAL, "literal"),
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_TEMPLATE, "template"),
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_TOKEN, "token"),
  G_DEFINE_ENUM_VALUE (ENVOI_USERNAME_RULE_ASK, "ask"))

G_DEFINE_QUARK (envoi-preset-error-quark, envoi_preset_error)

enum {
  PROP_0,
  PROP_ID,
  PROP_DISPLAY_NAME,
  PROP_SHORT_NAME,
  PROP_CATEGORY,
  PROP_NOTE,
  PROP_DOCUMENTATION_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *
translate (EnvoiPreset *self,
           const char  *text)
{
  if (text == NULL || self->translation_domain == NULL)
    return text;

  return g_dgettext (self->translation_domain, text);
}

static void
server_clear (gpointer data)
{
  EnvoiPresetServer *server = data;

  g_free (server->hostname);
  g_free (server->username);
  g_clear_pointer (&server->auth_methods, g_array_unref);
}

gboolean
_envoi_preset_has_control_or_space (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return TRUE;

  return FALSE;
}

/* A server with no field read yet, for the reader (envoi-preset-parser.c). */
EnvoiPresetServer *
_envoi_preset_server_new (EnvoiService service)
{
  EnvoiPresetServer *server = g_atomic_rc_box_new0 (EnvoiPresetServer);

  server->service = service;
  server->auth_methods = g_array_new (FALSE, FALSE, sizeof (EnvoiAuthMethod));

  return server;
}

static void
envoi_preset_finalize (GObject *object)
{
  EnvoiPreset *self = (EnvoiPreset *) object;

  g_free (self->id);
  g_free (self->display_name);
  g_free (self->short_name);
  g_clear_pointer (&self->domains, g_ptr_array_unref);
  g_clear_pointer (&self->outgoing, g_ptr_array_unref);
  g_clear_pointer (&self->incoming, g_ptr_array_unref);
  g_free (self->documentation_url);
  g_free (self->documentation_description);
  g_free (self->note);
  g_free (self->password_hint);
  g_free (self->username_hint);
  g_clear_pointer (&self->problems, g_ptr_array_unref);

  G_OBJECT_CLASS (envoi_preset_parent_class)->finalize (object);
}

static void
envoi_preset_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  EnvoiPreset *self = ENVOI_PRESET (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, envoi_preset_get_id (self));
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, envoi_preset_get_display_name (self));
      break;

    case PROP_SHORT_NAME:
      g_value_set_string (value, envoi_preset_get_short_name (self));
      break;

    case PROP_CATEGORY:
      g_value_set_enum (value, envoi_preset_get_category (self));
      break;

    case PROP_NOTE:
      g_value_set_string (value, envoi_preset_get_note (self));
      break;

    case PROP_DOCUMENTATION_URL:
      g_value_set_string (value, envoi_preset_get_documentation_url (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_preset_class_init (EnvoiPresetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_preset_finalize;
  object_class->get_property = envoi_preset_get_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHORT_NAME] =
    g_param_spec_string ("short-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CATEGORY] =
    g_param_spec_enum ("category", NULL, NULL,
                       ENVOI_TYPE_PRESET_CATEGORY, ENVOI_PRESET_CATEGORY_MAILBOX,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_NOTE] =
    g_param_spec_string ("note", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DOCUMENTATION_URL] =
    g_param_spec_string ("documentation-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
envoi_preset_init (EnvoiPreset *self)
{
  self->domains = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  self->outgoing = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_preset_server_unref);
  self->incoming = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_preset_server_unref);
  self->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
}

const char *
envoi_preset_get_id (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return self->id;
}

/* Returns: the translated name, such as "Gmail / Google Workspace" */
const char *
envoi_preset_get_display_name (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->display_name);
}

const char *
envoi_preset_get_short_name (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->short_name);
}

/* Returns: (transfer none): the mail domains, in lower case, NULL-terminated (maybe empty) */
const char * const *
envoi_preset_get_domains (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return (const char * const *) self->domains->pdata;
}

/* @domain: in any case; a trailing dot is ignored */
gboolean
envoi_preset_has_domain (EnvoiPreset *self,
                         const char  *domain)
{
  gsize len;

  g_return_val_if_fail (ENVOI_IS_PRESET (self), FALSE);
  g_return_val_if_fail (domain != NULL, FALSE);

  len = strlen (domain);
  if (len > 0 && domain[len - 1] == '.')
    len--;

  /* "example.com." is the absolute form of "example.com", on either side. */
  for (guint i = 0; i < self->domains->len; i++)
    {
      const char *candidate = g_ptr_array_index (self->domains, i);
      gsize candidate_len = strlen (candidate);

      if (candidate_len > 0 && candidate[candidate_len - 1] == '.')
        candidate_len--;

      if (candidate_len == len && g_ascii_strncasecmp (candidate, domain, len) == 0)
        return TRUE;
    }

  return FALSE;
}

EnvoiPresetCategory
envoi_preset_get_category (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), ENVOI_PRESET_CATEGORY_MAILBOX);

  return self->category;
}

/* Returns: (transfer none) (element-type EnvoiPresetServer): the SMTP servers, most
 * recommended first, never empty */
GPtrArray *
envoi_preset_get_outgoing_servers (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return self->outgoing;
}

/* Returns: (transfer none): the recommended SMTP server */
EnvoiPresetServer *
envoi_preset_get_outgoing_server (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return g_ptr_array_index (self->outgoing, 0);
}

/* Returns: (transfer none) (element-type EnvoiPresetServer): IMAP and POP3 servers, maybe none */
GPtrArray *
envoi_preset_get_incoming_servers (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return self->incoming;
}

/* Returns: (transfer none) (nullable): the first incoming server for @service (IMAP or POP3) */
EnvoiPresetServer *
envoi_preset_get_incoming_server (EnvoiPreset  *self,
                                  EnvoiService  service)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  for (guint i = 0; i < self->incoming->len; i++)
    {
      EnvoiPresetServer *server = g_ptr_array_index (self->incoming, i);

      if (server->service == service)
        return server;
    }

  return NULL;
}

/* Returns: (nullable): an http(s) address of the provider's help page */
const char *
envoi_preset_get_documentation_url (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return self->documentation_url;
}

const char *
envoi_preset_get_documentation_description (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->documentation_description);
}

/* Returns: (nullable): the translated advice to show with the preset */
const char *
envoi_preset_get_note (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->note);
}

/* Returns: (nullable): what to type as the password, e.g. "An SMTP key, not the API key" */
const char *
envoi_preset_get_password_hint (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->password_hint);
}

/* Returns: (nullable): what to type as the user name when the rule is ASK */
const char *
envoi_preset_get_username_hint (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return translate (self, self->username_hint);
}

/* Returns: whether the settings could not be confirmed from an official page: the UI says
 * to check the provider's help page. */
gboolean
envoi_preset_get_unverified (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), FALSE);

  return self->unverified;
}

/* Returns: (transfer none) (element-type GError): what was skipped while parsing */
GPtrArray *
envoi_preset_get_problems (EnvoiPreset *self)
{
  g_return_val_if_fail (ENVOI_IS_PRESET (self), NULL);

  return self->problems;
}

EnvoiPresetServer *
envoi_preset_server_ref (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return g_atomic_rc_box_acquire (server);
}

void
envoi_preset_server_unref (EnvoiPresetServer *server)
{
  g_return_if_fail (server != NULL);

  g_atomic_rc_box_release_full (server, server_clear);
}

EnvoiService
envoi_preset_server_get_service (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, ENVOI_SERVICE_SMTP);

  return server->service;
}

/* Returns: the host name as written: it may hold placeholders (%EMAILDOMAIN%, %HOSTPART%);
 * use envoi_preset_server_dup_hostname_for() to connect. */
const char *
envoi_preset_server_get_hostname (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->hostname;
}

/* Returns: whether the user must type part of the host name (%HOSTPART%) */
gboolean
envoi_preset_server_needs_host_part (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, FALSE);

  return strstr (server->hostname, ENVOI_PRESET_HOST_PART) != NULL;
}

guint16
envoi_preset_server_get_port (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, 0);

  return server->port;
}

EnvoiSecurity
envoi_preset_server_get_security (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, ENVOI_SECURITY_TLS);

  return server->security;
}

/* Returns: the first method the document lists that Envoi knows, else automatic */
EnvoiAuthMethod
envoi_preset_server_get_auth_method (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, ENVOI_AUTH_METHOD_AUTOMATIC);

  if (server->auth_methods->len == 0)
    return ENVOI_AUTH_METHOD_AUTOMATIC;

  return g_array_index (server->auth_methods, EnvoiAuthMethod, 0);
}

gboolean
envoi_preset_server_supports_auth_method (EnvoiPresetServer *server,
                                          EnvoiAuthMethod    method)
{
  g_return_val_if_fail (server != NULL, FALSE);

  if (server->auth_methods->len == 0)
    return method == ENVOI_AUTH_METHOD_AUTOMATIC;

  for (guint i = 0; i < server->auth_methods->len; i++)
    if (g_array_index (server->auth_methods, EnvoiAuthMethod, i) == method)
      return TRUE;

  return FALSE;
}

/* Returns: whether the server wants a POP3 login before SMTP (authentication smtp-after-pop) */
gboolean
envoi_preset_server_get_pop_before_smtp (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, FALSE);

  return server->pop_before_smtp;
}

/* Returns: whether the server's certificate is self-signed by design (Proton Mail Bridge):
 * the UI offers to trust that one certificate by its fingerprint. */
gboolean
envoi_preset_server_get_pinned (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, FALSE);

  return server->pinned;
}

EnvoiUsernameRule
envoi_preset_server_get_username_rule (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, ENVOI_USERNAME_RULE_ASK);

  return server->username_rule;
}

/* Returns: (nullable): the user name template or literal; %NULL for the rules ASK and TOKEN */
const char *
envoi_preset_server_get_username (EnvoiPresetServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  return server->username;
}

/* Returns: the host name to connect to for @address, or %NULL and an error */
char *
envoi_preset_server_dup_hostname_for (EnvoiPresetServer  *server,
                                      const char         *address,
                                      const char         *host_part,
                                      GError            **error)
{
  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return envoi_preset_expand (server->hostname, address, host_part, error);
}

/* Returns: the user name for @address; "" when the user types it (rules ASK and TOKEN) */
char *
envoi_preset_server_dup_username_for (EnvoiPresetServer  *server,
                                      const char         *address,
                                      GError            **error)
{
  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (server->username == NULL)
    return g_strdup ("");

  return envoi_preset_expand (server->username, address, NULL, error);
}

static gboolean
host_part_is_valid (const char *host_part)
{
  gsize len = strlen (host_part);

  if (len == 0 || len > 63 * 2 || host_part[0] == '.' || host_part[0] == '-'
      || host_part[len - 1] == '.' || host_part[len - 1] == '-')
    return FALSE;

  for (const char *p = host_part; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;

  return TRUE;
}

/**
 * envoi_preset_expand:
 * @template_: text with placeholders: %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%
 *   (clientConfig's) and %HOSTPART% (Envoi's: the part of a host name the user types)
 * @address: (nullable): the email address, needed if @template_ has an %EMAIL…% placeholder
 * @host_part: (nullable): needed if @template_ has %HOSTPART%, e.g. "eu-west-3"
 * @error: %ENVOI_PRESET_ERROR_INVALID_ADDRESS, _MISSING_HOST_PART or _INVALID_VALUE
 *
 * Other text, including an unknown %WORD%, is copied as it is.
 *
 * Returns: (transfer full): the expanded text, or %NULL
 */
char *
envoi_preset_expand (const char  *template_,
                     const char  *address,
                     const char  *host_part,
                     GError     **error)
{
  g_autoptr(GString) out = NULL;
  g_autofree char *local_part = NULL;
  const char *domain = NULL;
  const char *p = template_;

  g_return_val_if_fail (template_ != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (strstr (template_, "%EMAIL") != NULL)
    {
      const char *at = address != NULL ? strrchr (address, '@') : NULL;

      if (at == NULL || at == address || at[1] == '\0' || _envoi_preset_has_control_or_space (address))
        {
          g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_INVALID_ADDRESS,
                       _("“%s” is not an email address"), address != NULL ? address : "");
          return NULL;
        }
      local_part = g_strndup (address, at - address);
      domain = at + 1;
    }

  if (strstr (template_, ENVOI_PRESET_HOST_PART) != NULL)
    {
      if (host_part == NULL || *host_part == '\0')
        {
          g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MISSING_HOST_PART,
                       _("Type the part of the server name that is particular to you"));
          return NULL;
        }
      if (!host_part_is_valid (host_part))
        {
          g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_INVALID_VALUE,
                       _("“%s” cannot be part of a server name"), host_part);
          return NULL;
        }
    }

  out = g_string_new (NULL);
  while (*p != '\0')
    {
      if (g_str_has_prefix (p, "%EMAILADDRESS%"))
        {
          g_string_append (out, address);
          p += strlen ("%EMAILADDRESS%");
        }
      else if (g_str_has_prefix (p, "%EMAILLOCALPART%"))
        {
          g_string_append (out, local_part);
          p += strlen ("%EMAILLOCALPART%");
        }
      else if (g_str_has_prefix (p, "%EMAILDOMAIN%"))
        {
          g_string_append (out, domain);
          p += strlen ("%EMAILDOMAIN%");
        }
      else if (g_str_has_prefix (p, ENVOI_PRESET_HOST_PART))
        {
          g_string_append (out, host_part);
          p += strlen (ENVOI_PRESET_HOST_PART);
        }
      else
        g_string_append_c (out, *p++);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * envoi_preset_rank_servers:
 * @servers: (element-type EnvoiPresetServer): servers, e.g. envoi_preset_get_outgoing_servers()
 *
 * Orders servers by encryption: implicit TLS (SSL) first, then STARTTLS, then plain. The order
 * of the document is kept among servers of the same kind.
 *
 * Returns: (transfer container) (element-type EnvoiPresetServer): a new array
 */
GPtrArray *
envoi_preset_rank_servers (GPtrArray *servers)
{
  static const EnvoiSecurity order[] = {
    ENVOI_SECURITY_TLS,
    ENVOI_SECURITY_STARTTLS,
    ENVOI_SECURITY_NONE,
  };
  GPtrArray *ranked;

  g_return_val_if_fail (servers != NULL, NULL);

  ranked = g_ptr_array_new_full (servers->len, (GDestroyNotify) envoi_preset_server_unref);

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    for (guint j = 0; j < servers->len; j++)
      {
        EnvoiPresetServer *server = g_ptr_array_index (servers, j);

        if (server->security == order[i])
          g_ptr_array_add (ranked, envoi_preset_server_ref (server));
      }

  return ranked;
}

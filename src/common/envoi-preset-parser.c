/* envoi-preset-parser.c: the reader of ISPDB clientConfig XML, which makes EnvoiPresets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-presets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-preset.h"
#include "envoi-preset-parser.h"
#include "envoi-preset-private.h"

/* The reader is a small SAX over GMarkupParseContext: no DTDs, no entities beyond the five of
 * XML, no network. Everything it does not know is skipped, so newer ISPDB documents still
 * parse. A server with a bad field is skipped (the reason is kept in the preset's problems); a
 * provider left without any SMTP server, or a bad provider-level field, fails the document. */

#define MAX_DEPTH      32
#define MAX_PROVIDERS  64
#define MAX_SERVERS    32
#define MAX_DOMAINS    1000
#define MAX_FIELD_LEN  1024
#define MAX_HOST_LEN   255

typedef enum
{
  ELEMENT_IGNORED,
  ELEMENT_CLIENT_CONFIG,
  ELEMENT_PROVIDER,
  ELEMENT_DOMAIN,
  ELEMENT_DISPLAY_NAME,
  ELEMENT_SHORT_NAME,
  ELEMENT_SERVER,
  ELEMENT_HOSTNAME,
  ELEMENT_HOST_TEMPLATE,
  ELEMENT_PORT,
  ELEMENT_SOCKET_TYPE,
  ELEMENT_USERNAME,
  ELEMENT_USERNAME_RULE,
  ELEMENT_AUTHENTICATION,
  ELEMENT_PINNED,
  ELEMENT_DOCUMENTATION,
  ELEMENT_DESCR,
  ELEMENT_CATEGORY,
  ELEMENT_NOTE,
  ELEMENT_PASSWORD_HINT,
  ELEMENT_USERNAME_HINT,
  ELEMENT_UNVERIFIED,
} Element;

typedef struct
{
  Element     parent;
  gboolean    envoi;   /* in Envoi's namespace, else clientConfig's */
  const char *name;
  Element     element;
} ElementRule;

static const ElementRule element_rules[] = {
  { ELEMENT_CLIENT_CONFIG, FALSE, "emailProvider", ELEMENT_PROVIDER },
  { ELEMENT_PROVIDER, FALSE, "domain", ELEMENT_DOMAIN },
  { ELEMENT_PROVIDER, FALSE, "displayName", ELEMENT_DISPLAY_NAME },
  { ELEMENT_PROVIDER, FALSE, "displayShortName", ELEMENT_SHORT_NAME },
  { ELEMENT_PROVIDER, FALSE, "outgoingServer", ELEMENT_SERVER },
  { ELEMENT_PROVIDER, FALSE, "incomingServer", ELEMENT_SERVER },
  { ELEMENT_PROVIDER, FALSE, "documentation", ELEMENT_DOCUMENTATION },
  { ELEMENT_PROVIDER, TRUE, "category", ELEMENT_CATEGORY },
  { ELEMENT_PROVIDER, TRUE, "note", ELEMENT_NOTE },
  { ELEMENT_PROVIDER, TRUE, "password-hint", ELEMENT_PASSWORD_HINT },
  { ELEMENT_PROVIDER, TRUE, "username-hint", ELEMENT_USERNAME_HINT },
  { ELEMENT_PROVIDER, TRUE, "unverified", ELEMENT_UNVERIFIED },
  { ELEMENT_SERVER, FALSE, "hostname", ELEMENT_HOSTNAME },
  { ELEMENT_SERVER, FALSE, "port", ELEMENT_PORT },
  { ELEMENT_SERVER, FALSE, "socketType", ELEMENT_SOCKET_TYPE },
  { ELEMENT_SERVER, FALSE, "username", ELEMENT_USERNAME },
  { ELEMENT_SERVER, FALSE, "authentication", ELEMENT_AUTHENTICATION },
  { ELEMENT_SERVER, TRUE, "host-template", ELEMENT_HOST_TEMPLATE },
  { ELEMENT_SERVER, TRUE, "username-rule", ELEMENT_USERNAME_RULE },
  { ELEMENT_SERVER, TRUE, "pinned", ELEMENT_PINNED },
  { ELEMENT_DOCUMENTATION, FALSE, "descr", ELEMENT_DESCR },
};

typedef struct
{
  guint  depth;
  char  *prefix;   /* "" for the default namespace */
  char  *uri;
} NamespaceDecl;

typedef struct
{
  const char        *translation_domain;
  GPtrArray         *presets;       /* EnvoiPreset */
  EnvoiPreset       *preset;        /* the emailProvider being read */
  EnvoiPresetServer *server;        /* the server being read */
  GError            *server_error;  /* why the server being read will be skipped */
  GError            *first_skipped; /* why the provider's first skipped server was skipped */
  GArray            *stack;         /* Element */
  GArray            *namespaces;    /* NamespaceDecl */
  GString           *text;
  char              *descr_lang;
  gboolean           documentation_ok;
  gboolean           hostname_seen;
} ParseState;

static void
namespace_decl_clear (gpointer data)
{
  NamespaceDecl *decl = data;

  g_free (decl->prefix);
  g_free (decl->uri);
}

/* Collapses runs of white space into one space and trims: XML files wrap long texts, and the
 * result must equal the msgid that xgettext saw. */
static char *
normalize_text (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

/* A host name as written in a preset: letters, digits, dots, dashes, the brackets and colons of
 * an IPv6 literal, and the % of placeholders. */
static gboolean
hostname_is_valid (const char *hostname)
{
  if (*hostname == '\0' || strlen (hostname) > MAX_HOST_LEN)
    return FALSE;

  for (const char *p = hostname; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (".-_:[]%", *p) == NULL)
      return FALSE;

  return TRUE;
}

static gboolean
parse_boolean (const char *text,
               gboolean   *value)
{
  if (g_str_equal (text, "true") || g_str_equal (text, "1"))
    *value = TRUE;
  else if (g_str_equal (text, "false") || g_str_equal (text, "0"))
    *value = FALSE;
  else
    return FALSE;

  return TRUE;
}

static void
set_error (GMarkupParseContext *context,
           GError             **error,
           EnvoiPresetError     code,
           const char          *format,
           ...) G_GNUC_PRINTF (4, 5);

/* Every error names its line: the file may come from a server the user has never heard of. */
static void
set_error (GMarkupParseContext *context,
           GError             **error,
           EnvoiPresetError     code,
           const char          *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;
  int line = 0;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_markup_parse_context_get_position (context, &line, NULL);
  /* Translators: %d is a line number in an XML file, %s the problem found there */
  g_set_error (error, ENVOI_PRESET_ERROR, code, _("Line %d: %s"), line, message);
}

/* A problem with the server being read: it will be skipped, not the whole document. */
#define server_error(state, context, ...) \
  G_STMT_START { \
    if ((state)->server_error == NULL) \
      set_error ((context), &(state)->server_error, __VA_ARGS__); \
  } G_STMT_END

static Element
stack_top (ParseState *state)
{
  if (state->stack->len == 0)
    return ELEMENT_IGNORED;

  return g_array_index (state->stack, Element, state->stack->len - 1);
}

static const char *
lookup_namespace (ParseState *state,
                  const char *prefix)
{
  for (guint i = state->namespaces->len; i > 0; i--)
    {
      NamespaceDecl *decl = &g_array_index (state->namespaces, NamespaceDecl, i - 1);

      if (g_str_equal (decl->prefix, prefix))
        return decl->uri;
    }

  return NULL;
}

static Element
classify (ParseState  *state,
          Element      parent,
          const char  *qname)
{
  const char *colon = strchr (qname, ':');
  const char *local = colon != NULL ? colon + 1 : qname;
  g_autofree char *prefix = colon != NULL ? g_strndup (qname, colon - qname) : g_strdup ("");
  const char *uri = lookup_namespace (state, prefix);
  gboolean envoi = g_strcmp0 (uri, ENVOI_PRESET_NAMESPACE) == 0;

  /* clientConfig has no namespace; an element with an unknown prefix is someone else's. */
  if (colon != NULL && !envoi)
    return ELEMENT_IGNORED;

  if (state->stack->len == 0)
    return !envoi && g_str_equal (local, "clientConfig") ? ELEMENT_CLIENT_CONFIG : ELEMENT_IGNORED;

  for (guint i = 0; i < G_N_ELEMENTS (element_rules); i++)
    {
      const ElementRule *rule = &element_rules[i];

      if (rule->parent == parent && rule->envoi == envoi && g_str_equal (rule->name, local))
        return rule->element;
    }

  return ELEMENT_IGNORED;
}

static const char *
find_attribute (const char **names,
                const char **values,
                const char  *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], name))
      return values[i];

  return NULL;
}

static gboolean
start_provider (ParseState          *state,
                GMarkupParseContext *context,
                const char          *id,
                GError             **error)
{
  if (state->presets->len >= MAX_PROVIDERS)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_TOO_LARGE,
                 _("The document describes more than %d providers"), MAX_PROVIDERS);
      return FALSE;
    }

  if (id == NULL || *id == '\0')
    {
      set_error (context, error, ENVOI_PRESET_ERROR_MISSING_FIELD,
                 _("The provider has no “id” attribute"));
      return FALSE;
    }

  if (strlen (id) > MAX_HOST_LEN || _envoi_preset_has_control_or_space (id))
    {
      set_error (context, error, ENVOI_PRESET_ERROR_INVALID_VALUE,
                 _("The provider id is not valid"));
      return FALSE;
    }

  g_clear_error (&state->first_skipped);
  state->preset = g_object_new (ENVOI_TYPE_PRESET, NULL);
  state->preset->id = g_strdup (id);
  state->preset->translation_domain = state->translation_domain;

  return TRUE;
}

static gboolean
start_server (ParseState          *state,
              GMarkupParseContext *context,
              const char          *element_name,
              const char          *type,
              GError             **error)
{
  EnvoiService service;

  if (g_str_has_suffix (element_name, "outgoingServer"))
    {
      if (type != NULL && g_ascii_strcasecmp (type, "smtp") != 0)
        return FALSE;
      service = ENVOI_SERVICE_SMTP;
    }
  else if (g_strcmp0 (type, "imap") == 0)
    service = ENVOI_SERVICE_IMAP;
  else if (g_strcmp0 (type, "pop3") == 0)
    service = ENVOI_SERVICE_POP3;
  else
    return FALSE;   /* exchange, ews, jmap, …: not ours */

  if (state->preset->outgoing->len + state->preset->incoming->len + state->preset->problems->len
      >= MAX_SERVERS)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_TOO_LARGE,
                 _("The provider lists more than %d servers"), MAX_SERVERS);
      return FALSE;
    }

  state->server = _envoi_preset_server_new (service);
  state->hostname_seen = FALSE;
  g_clear_error (&state->server_error);

  return TRUE;
}

static void
start_documentation (ParseState          *state,
                     GMarkupParseContext *context,
                     const char          *url)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;

  state->documentation_ok = FALSE;

  if (state->preset->documentation_url != NULL)
    return;

  if (url != NULL)
    uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;

  /* Never hand the desktop a file:, javascript: or other link to open. */
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0)
      || strlen (url) > MAX_FIELD_LEN)
    {
      set_error (context, &local_error, ENVOI_PRESET_ERROR_INVALID_VALUE,
                 _("The documentation link is not a web address"));
      g_ptr_array_add (state->preset->problems, g_steal_pointer (&local_error));
      return;
    }

  state->preset->documentation_url = g_strdup (url);
  state->documentation_ok = TRUE;
}

static void
start_element_cb (GMarkupParseContext  *context,
                  const char           *element_name,
                  const char          **attribute_names,
                  const char          **attribute_values,
                  gpointer              user_data,
                  GError              **error)
{
  ParseState *state = user_data;
  Element parent = stack_top (state);
  Element element = ELEMENT_IGNORED;
  guint depth = state->stack->len + 1;

  if (depth > MAX_DEPTH)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_TOO_LARGE,
                 _("Elements are nested more than %d deep"), MAX_DEPTH);
      return;
    }

  for (guint i = 0; attribute_names[i] != NULL; i++)
    {
      NamespaceDecl decl;

      if (g_str_equal (attribute_names[i], "xmlns"))
        decl.prefix = g_strdup ("");
      else if (g_str_has_prefix (attribute_names[i], "xmlns:"))
        decl.prefix = g_strdup (attribute_names[i] + strlen ("xmlns:"));
      else
        continue;

      decl.depth = depth;
      decl.uri = g_strdup (attribute_values[i]);
      g_array_append_val (state->namespaces, decl);
    }

  if (state->stack->len > 0 && parent == ELEMENT_IGNORED)
    element = ELEMENT_IGNORED;
  else
    element = classify (state, parent, element_name);

  if (state->stack->len == 0 && element != ELEMENT_CLIENT_CONFIG)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG,
                 _("The document is not a mail client configuration (its root is “%s”)"),
                 element_name);
      return;
    }

  switch (element)
    {
    case ELEMENT_PROVIDER:
      if (!start_provider (state, context,
                           find_attribute (attribute_names, attribute_values, "id"), error))
        return;
      break;

    case ELEMENT_SERVER:
      if (!start_server (state, context, element_name,
                         find_attribute (attribute_names, attribute_values, "type"), error))
        {
          if (error != NULL && *error != NULL)
            return;
          element = ELEMENT_IGNORED;
        }
      break;

    case ELEMENT_DOCUMENTATION:
      start_documentation (state, context,
                           find_attribute (attribute_names, attribute_values, "url"));
      break;

    case ELEMENT_DESCR:
      g_free (state->descr_lang);
      state->descr_lang = g_strdup (find_attribute (attribute_names, attribute_values, "lang"));
      break;

    case ELEMENT_IGNORED:
    case ELEMENT_CLIENT_CONFIG:
    case ELEMENT_DOMAIN:
    case ELEMENT_DISPLAY_NAME:
    case ELEMENT_SHORT_NAME:
    case ELEMENT_HOSTNAME:
    case ELEMENT_HOST_TEMPLATE:
    case ELEMENT_PORT:
    case ELEMENT_SOCKET_TYPE:
    case ELEMENT_USERNAME:
    case ELEMENT_USERNAME_RULE:
    case ELEMENT_AUTHENTICATION:
    case ELEMENT_PINNED:
    case ELEMENT_CATEGORY:
    case ELEMENT_NOTE:
    case ELEMENT_PASSWORD_HINT:
    case ELEMENT_USERNAME_HINT:
    case ELEMENT_UNVERIFIED:
    default:
      break;
    }

  g_array_append_val (state->stack, element);
  g_string_truncate (state->text, 0);
}

static void
text_cb (GMarkupParseContext  *context,
         const char           *text,
         gsize                 text_len,
         gpointer              user_data,
         GError              **error)
{
  ParseState *state = user_data;

  switch (stack_top (state))
    {
    case ELEMENT_IGNORED:
    case ELEMENT_CLIENT_CONFIG:
    case ELEMENT_PROVIDER:
    case ELEMENT_SERVER:
    case ELEMENT_DOCUMENTATION:
      return;

    default:
      if (state->text->len + text_len > MAX_FIELD_LEN)
        {
          set_error (context, error, ENVOI_PRESET_ERROR_TOO_LARGE,
                     _("A text is longer than %d bytes"), MAX_FIELD_LEN);
          return;
        }
      g_string_append_len (state->text, text, text_len);
    }
}

static void
set_once (char       **field,
          const char  *text)
{
  if (*field == NULL && *text != '\0')
    *field = g_strdup (text);
}

static void
end_hostname (ParseState          *state,
              GMarkupParseContext *context,
              const char          *text,
              gboolean             from_template)
{
  EnvoiPresetServer *server = state->server;

  state->hostname_seen = TRUE;

  /* envoi:host-template wins over hostname, whichever comes first. */
  if (server->has_template && !from_template)
    return;

  if (*text == '\0')
    return;   /* reported as missing when the server ends */

  if (!hostname_is_valid (text))
    {
      server_error (state, context, ENVOI_PRESET_ERROR_INVALID_VALUE,
                    _("“%s” is not a valid server name"), text);
      return;
    }

  g_free (server->hostname);
  server->hostname = g_strdup (text);
  server->has_template = from_template;
}

static void
end_port (ParseState          *state,
          GMarkupParseContext *context,
          const char          *text)
{
  guint64 port = 0;

  if (state->server->has_port)
    return;

  if (*text == '\0')
    return;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &port, NULL))
    {
      server_error (state, context, ENVOI_PRESET_ERROR_INVALID_PORT,
                    _("The port “%s” is not a number from 1 to 65535"), text);
      return;
    }

  state->server->port = (guint16) port;
  state->server->has_port = TRUE;
}

static void
end_socket_type (ParseState          *state,
                 GMarkupParseContext *context,
                 const char          *text)
{
  EnvoiSecurity security;

  if (state->server->has_security || *text == '\0')
    return;

  if (g_ascii_strcasecmp (text, "SSL") == 0)
    security = ENVOI_SECURITY_TLS;
  else if (g_ascii_strcasecmp (text, "STARTTLS") == 0)
    security = ENVOI_SECURITY_STARTTLS;
  else if (g_ascii_strcasecmp (text, "plain") == 0)
    security = ENVOI_SECURITY_NONE;
  else
    {
      server_error (state, context, ENVOI_PRESET_ERROR_UNKNOWN_SOCKET_TYPE,
                    _("The connection security “%s” is unknown (expected SSL, STARTTLS or plain)"),
                    text);
      return;
    }

  state->server->security = security;
  state->server->has_security = TRUE;
}

static void
add_auth_method (EnvoiPresetServer *server,
                 EnvoiAuthMethod    method)
{
  for (guint i = 0; i < server->auth_methods->len; i++)
    if (g_array_index (server->auth_methods, EnvoiAuthMethod, i) == method)
      return;

  g_array_append_val (server->auth_methods, method);
}

static void
end_authentication (ParseState *state,
                    const char *text)
{
  /* password-cleartext means "a password, sent inside TLS": automatic lets the SMTP client
   * take the best mechanism the server offers. Unknown values (GSSAPI, …) are left out: a
   * newer document may list them next to one we know. */
  static const struct {
    const char      *name;
    EnvoiAuthMethod  method;
  } methods[] = {
    { "password-cleartext", ENVOI_AUTH_METHOD_AUTOMATIC },
    { "plain", ENVOI_AUTH_METHOD_AUTOMATIC },
    { "password-encrypted", ENVOI_AUTH_METHOD_CRAM_MD5 },
    { "secure", ENVOI_AUTH_METHOD_CRAM_MD5 },
    { "OAuth2", ENVOI_AUTH_METHOD_XOAUTH2 },
    { "NTLM", ENVOI_AUTH_METHOD_NTLM },
    { "none", ENVOI_AUTH_METHOD_NONE },
    { "client-IP-address", ENVOI_AUTH_METHOD_NONE },
    { "smtp-after-pop", ENVOI_AUTH_METHOD_NONE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      if (g_ascii_strcasecmp (methods[i].name, text) != 0)
        continue;

      if (g_ascii_strcasecmp (text, "smtp-after-pop") == 0)
        state->server->pop_before_smtp = TRUE;
      add_auth_method (state->server, methods[i].method);
      return;
    }
}

static void
end_username (ParseState          *state,
              GMarkupParseContext *context,
              const char          *text)
{
  EnvoiPresetServer *server = state->server;

  if (server->has_username)
    return;

  if (_envoi_preset_has_control_or_space (text) || strlen (text) > MAX_HOST_LEN)
    {
      server_error (state, context, ENVOI_PRESET_ERROR_INVALID_VALUE,
                    _("The user name is not valid"));
      return;
    }

  server->has_username = TRUE;
  if (*text != '\0')
    server->username = g_strdup (text);
}

static void
end_username_rule (ParseState          *state,
                   GMarkupParseContext *context,
                   const char          *text)
{
  if (g_str_equal (text, "token"))
    state->server->rule_token = TRUE;
  else if (g_str_equal (text, "ask"))
    state->server->rule_ask = TRUE;
  else
    server_error (state, context, ENVOI_PRESET_ERROR_INVALID_VALUE,
                  _("The user name rule “%s” is unknown (expected token or ask)"), text);
}

static void
end_server (ParseState          *state,
            GMarkupParseContext *context)
{
  g_autoptr(EnvoiPresetServer) server = g_steal_pointer (&state->server);
  EnvoiPreset *preset = state->preset;

  if (server->hostname == NULL)
    server_error (state, context, ENVOI_PRESET_ERROR_MISSING_FIELD,
                  _("A server has no host name"));
  else if (!server->has_port)
    server_error (state, context, ENVOI_PRESET_ERROR_MISSING_FIELD,
                  _("The server %s has no port"), server->hostname);
  else if (!server->has_security)
    server_error (state, context, ENVOI_PRESET_ERROR_MISSING_FIELD,
                  _("The server %s has no connection security (socketType)"), server->hostname);

  if (state->server_error != NULL)
    {
      g_debug ("%s: skipping a server: %s", preset->id, state->server_error->message);
      if (state->first_skipped == NULL)
        state->first_skipped = g_error_copy (state->server_error);
      g_ptr_array_add (preset->problems, g_steal_pointer (&state->server_error));
      return;
    }

  if (server->rule_token)
    {
      server->username_rule = ENVOI_USERNAME_RULE_TOKEN;
      g_clear_pointer (&server->username, g_free);
    }
  else if (server->rule_ask || server->username == NULL)
    {
      server->username_rule = ENVOI_USERNAME_RULE_ASK;
      g_clear_pointer (&server->username, g_free);
    }
  else if (g_str_equal (server->username, "%EMAILADDRESS%"))
    server->username_rule = ENVOI_USERNAME_RULE_ADDRESS;
  else if (g_str_equal (server->username, "%EMAILLOCALPART%"))
    server->username_rule = ENVOI_USERNAME_RULE_LOCAL_PART;
  else if (strstr (server->username, "%EMAIL") != NULL)
    server->username_rule = ENVOI_USERNAME_RULE_TEMPLATE;
  else
    server->username_rule = ENVOI_USERNAME_RULE_LITERAL;

  if (server->service == ENVOI_SERVICE_SMTP)
    g_ptr_array_add (preset->outgoing, g_steal_pointer (&server));
  else
    g_ptr_array_add (preset->incoming, g_steal_pointer (&server));
}

static gboolean
end_domain (ParseState          *state,
            GMarkupParseContext *context,
            const char          *text,
            GError             **error)
{
  GPtrArray *domains = state->preset->domains;
  g_autofree char *domain = g_ascii_strdown (text, -1);

  if (!hostname_is_valid (domain) || strchr (domain, '%') != NULL)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_INVALID_VALUE,
                 _("“%s” is not a valid domain"), text);
      return FALSE;
    }

  if (domains->len >= MAX_DOMAINS)
    {
      set_error (context, error, ENVOI_PRESET_ERROR_TOO_LARGE,
                 _("The provider lists more than %d domains"), MAX_DOMAINS);
      return FALSE;
    }

  if (envoi_preset_has_domain (state->preset, domain))
    return TRUE;

  g_ptr_array_add (domains, g_steal_pointer (&domain));
  return TRUE;
}

static gboolean
end_provider (ParseState          *state,
              GMarkupParseContext *context,
              GError             **error)
{
  g_autoptr(EnvoiPreset) preset = g_steal_pointer (&state->preset);

  if (preset->outgoing->len == 0)
    {
      /* Why the servers were skipped is clearer than "no server". */
      if (state->first_skipped != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&state->first_skipped));
          return FALSE;
        }

      set_error (context, error, ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER,
                 _("The provider “%s” has no outgoing (SMTP) server"), preset->id);
      return FALSE;
    }

  if (preset->display_name == NULL)
    preset->display_name = g_strdup (preset->short_name != NULL ? preset->short_name : preset->id);
  if (preset->short_name == NULL)
    preset->short_name = g_strdup (preset->display_name);

  g_ptr_array_add (state->presets, g_steal_pointer (&preset));
  return TRUE;
}

static void
end_element_cb (GMarkupParseContext  *context,
                const char           *element_name,
                gpointer              user_data,
                GError              **error)
{
  ParseState *state = user_data;
  Element element = stack_top (state);
  g_autofree char *text = normalize_text (state->text->str);
  gboolean flag = FALSE;

  g_string_truncate (state->text, 0);
  g_array_set_size (state->stack, state->stack->len - 1);
  while (state->namespaces->len > 0
         && g_array_index (state->namespaces, NamespaceDecl,
                           state->namespaces->len - 1).depth > state->stack->len)
    g_array_set_size (state->namespaces, state->namespaces->len - 1);

  switch (element)
    {
    case ELEMENT_PROVIDER:
      end_provider (state, context, error);
      break;

    case ELEMENT_DOMAIN:
      end_domain (state, context, text, error);
      break;

    case ELEMENT_DISPLAY_NAME:
      set_once (&state->preset->display_name, text);
      break;

    case ELEMENT_SHORT_NAME:
      set_once (&state->preset->short_name, text);
      break;

    case ELEMENT_SERVER:
      end_server (state, context);
      break;

    case ELEMENT_HOSTNAME:
    case ELEMENT_HOST_TEMPLATE:
      end_hostname (state, context, text, element == ELEMENT_HOST_TEMPLATE);
      break;

    case ELEMENT_PORT:
      end_port (state, context, text);
      break;

    case ELEMENT_SOCKET_TYPE:
      end_socket_type (state, context, text);
      break;

    case ELEMENT_USERNAME:
      end_username (state, context, text);
      break;

    case ELEMENT_USERNAME_RULE:
      end_username_rule (state, context, text);
      break;

    case ELEMENT_AUTHENTICATION:
      end_authentication (state, text);
      break;

    case ELEMENT_PINNED:
      if (parse_boolean (text, &flag))
        state->server->pinned = flag;
      else
        server_error (state, context, ENVOI_PRESET_ERROR_INVALID_VALUE,
                      _("“%s” is not true or false"), text);
      break;

    case ELEMENT_DESCR:
      if (state->documentation_ok && *text != '\0'
          && (state->preset->documentation_description == NULL
              || (!state->preset->description_is_en && g_strcmp0 (state->descr_lang, "en") == 0)))
        {
          g_free (state->preset->documentation_description);
          state->preset->documentation_description = g_strdup (text);
          state->preset->description_is_en = g_strcmp0 (state->descr_lang, "en") == 0;
        }
      break;

    case ELEMENT_DOCUMENTATION:
      state->documentation_ok = FALSE;
      break;

    case ELEMENT_CATEGORY:
      if (g_str_equal (text, "mailbox"))
        state->preset->category = ENVOI_PRESET_CATEGORY_MAILBOX;
      else if (g_str_equal (text, "service"))
        state->preset->category = ENVOI_PRESET_CATEGORY_SERVICE;
      else
        set_error (context, error, ENVOI_PRESET_ERROR_INVALID_VALUE,
                   _("The category “%s” is unknown (expected mailbox or service)"), text);
      break;

    case ELEMENT_NOTE:
      set_once (&state->preset->note, text);
      break;

    case ELEMENT_PASSWORD_HINT:
      set_once (&state->preset->password_hint, text);
      break;

    case ELEMENT_USERNAME_HINT:
      set_once (&state->preset->username_hint, text);
      break;

    case ELEMENT_UNVERIFIED:
      if (parse_boolean (text, &flag))
        state->preset->unverified = flag;
      else
        set_error (context, error, ENVOI_PRESET_ERROR_INVALID_VALUE,
                   _("“%s” is not true or false"), text);
      break;

    case ELEMENT_IGNORED:
    case ELEMENT_CLIENT_CONFIG:
    default:
      break;
    }
}

/**
 * envoi_preset_parse_bytes:
 * @bytes: a clientConfig 1.1 document, at most %ENVOI_PRESET_MAX_DOCUMENT_SIZE bytes
 * @translation_domain: (nullable): the gettext domain of the document's texts (display
 *   names, notes, hints), or %NULL if they are not to be translated
 * @error: return location for an %ENVOI_PRESET_ERROR
 *
 * Reads every emailProvider of the document. Servers with a bad field are skipped and listed
 * by envoi_preset_get_problems(); a provider with no usable SMTP server fails the document.
 *
 * Returns: (transfer container) (element-type EnvoiPreset): at least one preset, or %NULL
 */
GPtrArray *
envoi_preset_parse_bytes (GBytes      *bytes,
                          const char  *translation_domain,
                          GError     **error)
{
  static const GMarkupParser parser = {
    start_element_cb,
    end_element_cb,
    text_cb,
    NULL,
    NULL,
  };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  g_autoptr(GError) local_error = NULL;
  ParseState state = { 0 };
  const char *data;
  gsize size;
  gboolean ok;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &size);

  if (size > ENVOI_PRESET_MAX_DOCUMENT_SIZE)
    {
      g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_TOO_LARGE,
                   _("The configuration document is larger than %d KiB"),
                   ENVOI_PRESET_MAX_DOCUMENT_SIZE / 1024);
      return NULL;
    }

  if (size == 0 || memchr (data, '\0', size) != NULL)
    {
      g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MALFORMED,
                   size == 0 ? _("The configuration document is empty")
                             : _("The configuration document is not text"));
      return NULL;
    }

  presets = g_ptr_array_new_with_free_func (g_object_unref);
  state.translation_domain = translation_domain != NULL ? g_intern_string (translation_domain)
                                                        : NULL;
  state.presets = presets;
  state.stack = g_array_new (FALSE, FALSE, sizeof (Element));
  state.namespaces = g_array_new (FALSE, FALSE, sizeof (NamespaceDecl));
  g_array_set_clear_func (state.namespaces, namespace_decl_clear);
  state.text = g_string_new (NULL);

  context = g_markup_parse_context_new (&parser, G_MARKUP_DEFAULT_FLAGS, &state, NULL);
  ok = g_markup_parse_context_parse (context, data, size, &local_error)
       && g_markup_parse_context_end_parse (context, &local_error);

  g_clear_object (&state.preset);
  g_clear_pointer (&state.server, envoi_preset_server_unref);
  g_clear_error (&state.server_error);
  g_clear_error (&state.first_skipped);
  g_array_unref (state.stack);
  g_array_unref (state.namespaces);
  g_string_free (state.text, TRUE);
  g_free (state.descr_lang);

  if (!ok)
    {
      if (local_error->domain == ENVOI_PRESET_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_MALFORMED,
                     _("The configuration document is not well-formed XML: %s"),
                     local_error->message);
      return NULL;
    }

  if (presets->len == 0)
    {
      g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG,
                   _("The configuration document describes no email provider"));
      return NULL;
    }

  return g_steal_pointer (&presets);
}

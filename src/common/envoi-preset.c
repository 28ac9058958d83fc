/* envoi-preset.c: one provider's mail configuration, read from ISPDB clientConfig XML
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-presets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-preset.h"

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

struct _EnvoiPresetServer
{
  EnvoiService       service;
  char              *hostname;
  guint16            port;
  EnvoiSecurity      security;
  GArray            *auth_methods;   /* EnvoiAuthMethod, document order, no duplicates */
  char              *username;       /* as written; NULL for ASK and TOKEN */
  EnvoiUsernameRule  username_rule;
  guint              pop_before_smtp : 1;
  guint              pinned : 1;

  /* Only while parsing. */
  guint              has_port : 1;
  guint              has_security : 1;
  guint              has_template : 1;
  guint              has_username : 1;
  guint              rule_token : 1;
  guint              rule_ask : 1;
};

struct _EnvoiPreset
{
  GObject              parent_instance;

  char                *id;
  char                *display_name;
  char                *short_name;
  GPtrArray           *domains;           /* char*, lower case, NULL-terminated */
  EnvoiPresetCategory  category;
  GPtrArray           *outgoing;          /* EnvoiPresetServer */
  GPtrArray           *incoming;          /* EnvoiPresetServer */
  char                *documentation_url;
  char                *documentation_description;
  char                *note;
  char                *password_hint;
  char                *username_hint;
  GPtrArray           *problems;          /* GError: servers and fields that were skipped */
  const char          *translation_domain; /* interned, or NULL */
  guint                unverified : 1;
  guint                description_is_en : 1;
};

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

static const char *
translate (EnvoiPreset *self,
           const char  *text)
{
  if (text == NULL || self->translation_domain == NULL)
    return text;

  return g_dgettext (self->translation_domain, text);
}

static void
namespace_decl_clear (gpointer data)
{
  NamespaceDecl *decl = data;

  g_free (decl->prefix);
  g_free (decl->uri);
}

static void
server_clear (gpointer data)
{
  EnvoiPresetServer *server = data;

  g_free (server->hostname);
  g_free (server->username);
  g_clear_pointer (&server->auth_methods, g_array_unref);
}

static EnvoiPresetServer *
server_new (EnvoiService service)
{
  EnvoiPresetServer *server = g_atomic_rc_box_new0 (EnvoiPresetServer);

  server->service = service;
  server->auth_methods = g_array_new (FALSE, FALSE, sizeof (EnvoiAuthMethod));

  return server;
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

static gboolean
has_control_or_space (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return TRUE;

  return FALSE;
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

  if (strlen (id) > MAX_HOST_LEN || has_control_or_space (id))
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

  state->server = server_new (service);
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

  if (has_control_or_space (text) || strlen (text) > MAX_HOST_LEN)
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

      if (at == NULL || at == address || at[1] == '\0' || has_control_or_space (address))
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

/* envoi-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-account"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "envoi-account-private.h"
#include "envoi-validate.h"

/* Every property but "id" is a settings key of the same name, so loading and saving walk
 * the property list instead of naming thirty keys twice. */
struct _EnvoiAccount
{
  GObject  parent_instance;

  char    *id;
  GValue  *values;   /* indexed by property id; values[0] unused */
};

G_DEFINE_FINAL_TYPE (EnvoiAccount, envoi_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_ADDRESS,
  PROP_DISPLAY_NAME,
  PROP_REPLY_TO,
  PROP_BCC,
  PROP_NOTIFY_ADDRESSES,
  PROP_PROVIDER,
  PROP_HOST,
  PROP_PORT,
  PROP_SECURITY,
  PROP_VERIFY_CERTIFICATE,
  PROP_PINNED_KEY,
  PROP_ALLOW_PLAINTEXT_PASSWORD,
  PROP_AUTH_METHOD,
  PROP_USERNAME,
  PROP_HOURLY_LIMIT,
  PROP_DAILY_LIMIT,
  PROP_TIMEOUT,
  PROP_POP_BEFORE_SMTP,
  PROP_POP_HOST,
  PROP_POP_PORT,
  PROP_POP_SECURITY,
  PROP_IMAP_HOST,
  PROP_IMAP_PORT,
  PROP_IMAP_SECURITY,
  PROP_SAVE_SENT_COPY,
  PROP_SENT_FOLDER,
  PROP_TRANSPORT,
  PROP_HTTP_URL,
  PROP_MAILGUN_DOMAIN,
  PROP_MAILGUN_REGION,
  N_PROPS
};

#define FIRST_KEY_PROP PROP_ADDRESS

static GParamSpec *properties [N_PROPS];

static gboolean
values_equal (GParamSpec   *pspec,
              const GValue *a,
              const GValue *b)
{
  if (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRV)
    {
      const char * const *sa = g_value_get_boxed (a);
      const char * const *sb = g_value_get_boxed (b);
      const char * const empty[] = { NULL };

      return g_strv_equal (sa ? sa : empty, sb ? sb : empty);
    }

  return g_param_values_cmp (pspec, a, b) == 0;
}

/* Stores a value for a key property, notifying only on real change. */
static void
account_set_value (EnvoiAccount *self,
                   guint         prop_id,
                   const GValue *value)
{
  GParamSpec *pspec = properties[prop_id];
  g_auto(GValue) checked = G_VALUE_INIT;

  g_value_init (&checked, G_PARAM_SPEC_VALUE_TYPE (pspec));
  g_value_copy (value, &checked);
  g_param_value_validate (pspec, &checked);

  if (values_equal (pspec, &self->values[prop_id], &checked))
    return;

  g_value_copy (&checked, &self->values[prop_id]);
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

static void
envoi_account_finalize (GObject *object)
{
  EnvoiAccount *self = (EnvoiAccount *)object;

  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    g_value_unset (&self->values[i]);
  g_free (self->values);
  g_free (self->id);

  G_OBJECT_CLASS (envoi_account_parent_class)->finalize (object);
}

static void
envoi_account_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  EnvoiAccount *self = ENVOI_ACCOUNT (object);

  if (prop_id == PROP_ID)
    g_value_set_string (value, self->id);
  else if (prop_id > PROP_ID && prop_id < N_PROPS)
    g_value_copy (&self->values[prop_id], value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
envoi_account_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  EnvoiAccount *self = ENVOI_ACCOUNT (object);

  if (prop_id == PROP_ID)
    self->id = g_value_dup_string (value);
  else if (prop_id > PROP_ID && prop_id < N_PROPS)
    account_set_value (self, prop_id, value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

#define KEY_FLAGS (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS)

static GParamSpec *
string_key (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, "", KEY_FLAGS);
}

static GParamSpec *
port_key (const char *name,
          guint       default_port)
{
  return g_param_spec_uint (name, NULL, NULL, 1, G_MAXUINT16, default_port, KEY_FLAGS);
}

static GParamSpec *
security_key (const char    *name,
              EnvoiSecurity  default_security)
{
  return g_param_spec_enum (name, NULL, NULL, ENVOI_TYPE_SECURITY, default_security, KEY_FLAGS);
}

static void
envoi_account_class_init (EnvoiAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_account_finalize;
  object_class->get_property = envoi_account_get_property;
  object_class->set_property = envoi_account_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_ADDRESS] = string_key ("address");
  properties[PROP_DISPLAY_NAME] = string_key ("display-name");
  properties[PROP_REPLY_TO] = string_key ("reply-to");
  properties[PROP_BCC] = string_key ("bcc");
  properties[PROP_NOTIFY_ADDRESSES] =
    g_param_spec_boxed ("notify-addresses", NULL, NULL, G_TYPE_STRV, KEY_FLAGS);
  properties[PROP_PROVIDER] = string_key ("provider");
  properties[PROP_HOST] = string_key ("host");
  properties[PROP_PORT] = port_key ("port", 587);
  properties[PROP_SECURITY] = security_key ("security", ENVOI_SECURITY_STARTTLS);
  properties[PROP_VERIFY_CERTIFICATE] =
    g_param_spec_boolean ("verify-certificate", NULL, NULL, TRUE, KEY_FLAGS);
  properties[PROP_PINNED_KEY] = string_key ("pinned-key");
  properties[PROP_ALLOW_PLAINTEXT_PASSWORD] =
    g_param_spec_boolean ("allow-plaintext-password", NULL, NULL, FALSE, KEY_FLAGS);
  properties[PROP_AUTH_METHOD] =
    g_param_spec_enum ("auth-method", NULL, NULL, ENVOI_TYPE_AUTH_METHOD,
                       ENVOI_AUTH_METHOD_AUTOMATIC, KEY_FLAGS);
  properties[PROP_USERNAME] = string_key ("username");
  properties[PROP_HOURLY_LIMIT] =
    g_param_spec_uint ("hourly-limit", NULL, NULL, 1, ENVOI_VALIDATE_MAX_DAILY_LIMIT,
                       ENVOI_ACCOUNT_DEFAULT_HOURLY_LIMIT, KEY_FLAGS);
  properties[PROP_DAILY_LIMIT] =
    g_param_spec_uint ("daily-limit", NULL, NULL, 1, ENVOI_VALIDATE_MAX_DAILY_LIMIT,
                       ENVOI_ACCOUNT_DEFAULT_DAILY_LIMIT, KEY_FLAGS);
  properties[PROP_TIMEOUT] = g_param_spec_uint ("timeout", NULL, NULL, 5, 600, 30, KEY_FLAGS);
  properties[PROP_POP_BEFORE_SMTP] =
    g_param_spec_boolean ("pop-before-smtp", NULL, NULL, FALSE, KEY_FLAGS);
  properties[PROP_POP_HOST] = string_key ("pop-host");
  properties[PROP_POP_PORT] = port_key ("pop-port", 995);
  properties[PROP_POP_SECURITY] = security_key ("pop-security", ENVOI_SECURITY_TLS);
  properties[PROP_IMAP_HOST] = string_key ("imap-host");
  properties[PROP_IMAP_PORT] = port_key ("imap-port", 993);
  properties[PROP_IMAP_SECURITY] = security_key ("imap-security", ENVOI_SECURITY_TLS);
  properties[PROP_SAVE_SENT_COPY] =
    g_param_spec_boolean ("save-sent-copy", NULL, NULL, FALSE, KEY_FLAGS);
  properties[PROP_SENT_FOLDER] = string_key ("sent-folder");
  properties[PROP_TRANSPORT] =
    g_param_spec_enum ("transport", NULL, NULL, ENVOI_TYPE_TRANSPORT,
                       ENVOI_TRANSPORT_SMTP, KEY_FLAGS);
  properties[PROP_HTTP_URL] = string_key ("http-url");
  properties[PROP_MAILGUN_DOMAIN] = string_key ("mailgun-domain");
  properties[PROP_MAILGUN_REGION] =
    g_param_spec_enum ("mailgun-region", NULL, NULL, ENVOI_TYPE_MAILGUN_REGION,
                       ENVOI_MAILGUN_REGION_US, KEY_FLAGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
envoi_account_init (EnvoiAccount *self)
{
  self->values = g_new0 (GValue, N_PROPS);

  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    {
      g_value_init (&self->values[i], G_PARAM_SPEC_VALUE_TYPE (properties[i]));
      g_param_value_set_default (properties[i], &self->values[i]);
    }
}

EnvoiAccount *
envoi_account_new (const char *id)
{
  return g_object_new (ENVOI_TYPE_ACCOUNT, "id", id, NULL);
}

GSettings *
envoi_account_create_settings (const char *id)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (id != NULL && *id != '\0', NULL);

  path = g_strconcat (ENVOI_ACCOUNT_PATH_PREFIX, id, "/", NULL);
  return g_settings_new_with_path (ENVOI_ACCOUNT_SCHEMA_ID, path);
}

/* Reads every key into the account; used on load and whenever the settings change. */
void
_envoi_account_load_from (EnvoiAccount *self,
                          GSettings    *settings)
{
  g_object_freeze_notify (G_OBJECT (self));

  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    {
      GParamSpec *pspec = properties[i];
      g_auto(GValue) value = G_VALUE_INIT;
      g_autoptr(GVariant) variant = NULL;

      g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspec));

      if (G_IS_PARAM_SPEC_ENUM (pspec))
        {
          g_value_set_enum (&value, g_settings_get_enum (settings, pspec->name));
        }
      else
        {
          variant = g_settings_get_value (settings, pspec->name);

          if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
            g_value_set_string (&value, g_variant_get_string (variant, NULL));
          else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY))
            g_value_take_boxed (&value, g_variant_dup_strv (variant, NULL));
          else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_BOOLEAN))
            g_value_set_boolean (&value, g_variant_get_boolean (variant));
          else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT16))
            g_value_set_uint (&value, g_variant_get_uint16 (variant));
          else if (g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT32))
            g_value_set_uint (&value, g_variant_get_uint32 (variant));
          else
            g_assert_not_reached ();
        }

      account_set_value (self, i, &value);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

EnvoiAccount *
envoi_account_load (const char *id)
{
  g_autoptr(GSettings) settings = envoi_account_create_settings (id);
  EnvoiAccount *self = envoi_account_new (id);

  _envoi_account_load_from (self, settings);

  return self;
}

EnvoiAccount *
envoi_account_copy (EnvoiAccount *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);

  return envoi_account_copy_as (self, self->id);
}

/* The same settings under another identifier: a new account takes its id on first save. */
EnvoiAccount *
envoi_account_copy_as (EnvoiAccount *self,
                       const char   *id)
{
  EnvoiAccount *copy;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);

  copy = envoi_account_new (id);
  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    g_value_copy (&self->values[i], &copy->values[i]);

  return copy;
}

gboolean
envoi_account_equal (EnvoiAccount *self,
                     EnvoiAccount *other)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (other), FALSE);

  if (g_strcmp0 (self->id, other->id) != 0)
    return FALSE;

  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    if (!values_equal (properties[i], &self->values[i], &other->values[i]))
      return FALSE;

  return TRUE;
}

/* All keys are written in one go, so another process never sees half an account. */
void
envoi_account_save (EnvoiAccount *self)
{
  g_autoptr(GSettings) settings = NULL;

  g_return_if_fail (ENVOI_IS_ACCOUNT (self));

  settings = envoi_account_create_settings (self->id);
  g_settings_delay (settings);

  for (guint i = FIRST_KEY_PROP; i < N_PROPS; i++)
    {
      GParamSpec *pspec = properties[i];
      const GValue *value = &self->values[i];
      g_autoptr(GVariant) current = g_settings_get_value (settings, pspec->name);
      const GVariantType *type = g_variant_get_type (current);

      if (G_IS_PARAM_SPEC_ENUM (pspec))
        g_settings_set_enum (settings, pspec->name, g_value_get_enum (value));
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING))
        g_settings_set_string (settings, pspec->name, g_value_get_string (value));
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING_ARRAY))
        {
          const char * const *strv = g_value_get_boxed (value);
          const char * const empty[] = { NULL };

          g_settings_set_strv (settings, pspec->name, strv ? strv : empty);
        }
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN))
        g_settings_set_boolean (settings, pspec->name, g_value_get_boolean (value));
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT16))
        g_settings_set_value (settings, pspec->name,
                              g_variant_new_uint16 ((guint16) g_value_get_uint (value)));
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32))
        g_settings_set_uint (settings, pspec->name, g_value_get_uint (value));
      else
        g_assert_not_reached ();
    }

  g_settings_apply (settings);
}

void
envoi_account_reset_settings (const char *id)
{
  g_autoptr(GSettings) settings = envoi_account_create_settings (id);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);

  g_settings_delay (settings);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
  g_settings_apply (settings);
}

const char *
envoi_account_get_id (EnvoiAccount *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);
  return self->id;
}

#define STRING_GETTER(name, prop) \
  const char * \
  envoi_account_get_##name (EnvoiAccount *self) \
  { \
    g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL); \
    return g_value_get_string (&self->values[prop]); \
  }

#define VALUE_GETTER(type, name, prop, getter) \
  type \
  envoi_account_get_##name (EnvoiAccount *self) \
  { \
    g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), 0); \
    return (type) getter (&self->values[prop]); \
  }

STRING_GETTER (address, PROP_ADDRESS)
STRING_GETTER (display_name, PROP_DISPLAY_NAME)
STRING_GETTER (reply_to, PROP_REPLY_TO)
STRING_GETTER (bcc, PROP_BCC)
STRING_GETTER (provider, PROP_PROVIDER)
STRING_GETTER (host, PROP_HOST)
STRING_GETTER (pinned_key, PROP_PINNED_KEY)
STRING_GETTER (username, PROP_USERNAME)
STRING_GETTER (pop_host, PROP_POP_HOST)
STRING_GETTER (imap_host, PROP_IMAP_HOST)
STRING_GETTER (sent_folder, PROP_SENT_FOLDER)
STRING_GETTER (http_url, PROP_HTTP_URL)
STRING_GETTER (mailgun_domain, PROP_MAILGUN_DOMAIN)
VALUE_GETTER (guint16, port, PROP_PORT, g_value_get_uint)
VALUE_GETTER (guint16, pop_port, PROP_POP_PORT, g_value_get_uint)
VALUE_GETTER (guint16, imap_port, PROP_IMAP_PORT, g_value_get_uint)
VALUE_GETTER (EnvoiSecurity, security, PROP_SECURITY, g_value_get_enum)
VALUE_GETTER (EnvoiSecurity, pop_security, PROP_POP_SECURITY, g_value_get_enum)
VALUE_GETTER (EnvoiSecurity, imap_security, PROP_IMAP_SECURITY, g_value_get_enum)
VALUE_GETTER (EnvoiAuthMethod, auth_method, PROP_AUTH_METHOD, g_value_get_enum)
VALUE_GETTER (gboolean, verify_certificate, PROP_VERIFY_CERTIFICATE, g_value_get_boolean)
VALUE_GETTER (gboolean, allow_plaintext_password, PROP_ALLOW_PLAINTEXT_PASSWORD,
              g_value_get_boolean)
VALUE_GETTER (gboolean, pop_before_smtp, PROP_POP_BEFORE_SMTP, g_value_get_boolean)
VALUE_GETTER (gboolean, save_sent_copy, PROP_SAVE_SENT_COPY, g_value_get_boolean)
VALUE_GETTER (guint, hourly_limit, PROP_HOURLY_LIMIT, g_value_get_uint)
VALUE_GETTER (guint, daily_limit, PROP_DAILY_LIMIT, g_value_get_uint)
VALUE_GETTER (guint, timeout, PROP_TIMEOUT, g_value_get_uint)
VALUE_GETTER (EnvoiTransport, transport, PROP_TRANSPORT, g_value_get_enum)
VALUE_GETTER (EnvoiMailgunRegion, mailgun_region, PROP_MAILGUN_REGION, g_value_get_enum)

const char * const *
envoi_account_get_notify_addresses (EnvoiAccount *self)
{
  static const char * const empty[] = { NULL };
  const char * const *strv;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);

  strv = g_value_get_boxed (&self->values[PROP_NOTIFY_ADDRESSES]);
  return strv != NULL ? strv : empty;
}

/* The name to log in with: the user name, or the address when it is empty. */
const char *
envoi_account_get_login (EnvoiAccount *self)
{
  const char *username;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);

  username = envoi_account_get_username (self);
  return *username != '\0' ? username : envoi_account_get_address (self);
}

/* The URL a message is posted to over HTTP, or NULL when the account does not send over HTTP
 * or lacks what the URL needs (the Mailgun domain, the http-url). Pure. */
char *
envoi_account_dup_http_url (EnvoiAccount *self)
{
  const char *url;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), NULL);

  url = envoi_account_get_http_url (self);

  switch (envoi_account_get_transport (self))
    {
    case ENVOI_TRANSPORT_HTTP_MAILGUN:
      {
        const char *domain = envoi_account_get_mailgun_domain (self);
        g_autofree char *base = NULL;
        g_autofree char *escaped = NULL;

        if (domain == NULL || *domain == '\0')
          return NULL;
        if (url != NULL && *url != '\0')
          base = g_strdup (url);
        else
          base = g_strdup (envoi_account_get_mailgun_region (self) == ENVOI_MAILGUN_REGION_EU
                           ? ENVOI_MAILGUN_EU_BASE_URL : ENVOI_MAILGUN_US_BASE_URL);
        while (g_str_has_suffix (base, "/"))
          base[strlen (base) - 1] = '\0';
        escaped = g_uri_escape_string (domain, NULL, FALSE);
        return g_strdup_printf ("%s/v3/%s/messages.mime", base, escaped);
      }

    case ENVOI_TRANSPORT_HTTP_POST:
      if (url == NULL || *url == '\0')
        return NULL;
      return g_strdup (url);

    case ENVOI_TRANSPORT_SMTP:
    default:
      return NULL;
    }
}

gboolean
envoi_account_is_loopback (EnvoiAccount *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT (self), FALSE);

  return envoi_host_is_loopback (envoi_account_get_host (self));
}

/**
 * envoi_auth_method_get_mechanism:
 * @method: an authentication method
 *
 * The SASL name a server announces for @method ("PLAIN", "CRAM-MD5", …), the one name every
 * part of Envoi uses for it: in the client's login options, in matching what a server offers,
 * and in what a person is shown.
 *
 * Returns: (nullable): the mechanism, or %NULL for automatic and none
 */
const char *
envoi_auth_method_get_mechanism (EnvoiAuthMethod method)
{
  switch (method)
    {
    case ENVOI_AUTH_METHOD_PLAIN:
      return "PLAIN";
    case ENVOI_AUTH_METHOD_LOGIN:
      return "LOGIN";
    case ENVOI_AUTH_METHOD_CRAM_MD5:
      return "CRAM-MD5";
    case ENVOI_AUTH_METHOD_NTLM:
      return "NTLM";
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return "XOAUTH2";
    case ENVOI_AUTH_METHOD_AUTOMATIC:
    case ENVOI_AUTH_METHOD_NONE:
    default:
      return NULL;
    }
}

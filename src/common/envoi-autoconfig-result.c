/* envoi-autoconfig-result.c: the outgoing-server settings found for an address, and where
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-autoconfig"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-autoconfig-result.h"

/* A result holds the preset as read (servers ranked, encrypted first) and the first usable
 * server expanded for the address, which is what the form is filled with. */
struct _EnvoiAutoconfigResult
{
  GObject                parent_instance;

  EnvoiAutoconfigSource  source;
  char                  *address;
  char                  *domain;     /* whose configuration this is */
  char                  *url;        /* where it was read, or NULL */
  EnvoiAutoconfigFlags   flags;
  EnvoiPreset           *preset;
  GPtrArray             *servers;    /* EnvoiPresetServer, ranked, usable for the address */
  char                  *hostname;   /* of servers[0], expanded */
  char                  *username;   /* of servers[0], expanded; "" for the address itself */
};

G_DEFINE_FINAL_TYPE (EnvoiAutoconfigResult, envoi_autoconfig_result, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (EnvoiAutoconfigSource, envoi_autoconfig_source,
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_PRESET, "preset"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG, "autoconfig"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_WELL_KNOWN, "well-known"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_ISPDB, "ispdb"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_ISPDB_MX, "ispdb-mx"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_SRV, "srv"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_SOURCE_PROBE, "probe"))

G_DEFINE_FLAGS_TYPE (EnvoiAutoconfigFlags, envoi_autoconfig_flags,
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_FLAG_NONE, "none"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_FLAG_INSECURE_TRANSPORT, "insecure-transport"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_FLAG_OTHER_DOMAIN, "other-domain"),
  G_DEFINE_ENUM_VALUE (ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED, "unencrypted"))

static const char *
domain_of (const char *address)
{
  const char *at = strrchr (address, '@');

  return at != NULL ? at + 1 : address;
}

static void
envoi_autoconfig_result_finalize (GObject *object)
{
  EnvoiAutoconfigResult *self = ENVOI_AUTOCONFIG_RESULT (object);

  g_free (self->address);
  g_free (self->domain);
  g_free (self->url);
  g_clear_object (&self->preset);
  g_clear_pointer (&self->servers, g_ptr_array_unref);
  g_free (self->hostname);
  g_free (self->username);

  G_OBJECT_CLASS (envoi_autoconfig_result_parent_class)->finalize (object);
}

static void
envoi_autoconfig_result_class_init (EnvoiAutoconfigResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_autoconfig_result_finalize;
}

static void
envoi_autoconfig_result_init (EnvoiAutoconfigResult *self)
{
  self->servers = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_preset_server_unref);
}

/**
 * envoi_autoconfig_result_new:
 * @source: where @preset was found
 * @address: the email address the settings are for
 * @domain: whose configuration @preset is (the address's domain, or the MX host's)
 * @url: (nullable): where it was read
 * @preset: the configuration, as read by envoi_preset_parse_bytes()
 * @flags: what the person must be told; %ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED is added here
 * @error: %ENVOI_PRESET_ERROR when no outgoing server of @preset can be used for @address
 *
 * Ranks the outgoing servers (encrypted first) and expands the placeholders for @address.
 * Servers that need a part of the host name typed by the person are left out: nothing
 * found on the network may ask for more than the address.
 *
 * Returns: (transfer full): the result, or %NULL
 */
EnvoiAutoconfigResult *
envoi_autoconfig_result_new (EnvoiAutoconfigSource   source,
                             const char             *address,
                             const char             *domain,
                             const char             *url,
                             EnvoiPreset            *preset,
                             EnvoiAutoconfigFlags    flags,
                             GError                **error)
{
  g_autoptr(EnvoiAutoconfigResult) self = NULL;
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) first_error = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (domain != NULL, NULL);
  g_return_val_if_fail (ENVOI_IS_PRESET (preset), NULL);

  self = g_object_new (ENVOI_TYPE_AUTOCONFIG_RESULT, NULL);
  self->source = source;
  self->address = g_strdup (address);
  self->domain = g_ascii_strdown (domain, -1);
  self->url = g_strdup (url);
  self->preset = g_object_ref (preset);

  ranked = envoi_preset_rank_servers (envoi_preset_get_outgoing_servers (preset));
  for (guint i = 0; i < ranked->len; i++)
    {
      EnvoiPresetServer *server = g_ptr_array_index (ranked, i);
      g_autoptr(GError) local_error = NULL;
      g_autofree char *hostname = NULL;
      g_autofree char *username = NULL;

      hostname = envoi_preset_server_dup_hostname_for (server, address, NULL, &local_error);
      if (hostname != NULL)
        username = envoi_preset_server_dup_username_for (server, address, &local_error);
      if (hostname == NULL || username == NULL)
        {
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
          continue;
        }

      if (self->servers->len == 0)
        {
          self->hostname = g_steal_pointer (&hostname);
          /* The full address is the default login: the form leaves it empty. */
          self->username = g_strcmp0 (username, address) == 0 ? g_strdup ("")
                                                               : g_steal_pointer (&username);
        }
      g_ptr_array_add (self->servers, envoi_preset_server_ref (server));
    }

  if (self->servers->len == 0)
    {
      if (first_error != NULL)
        g_propagate_error (error, g_steal_pointer (&first_error));
      else
        g_set_error (error, ENVOI_PRESET_ERROR, ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER,
                     _("The provider “%s” has no outgoing (SMTP) server"),
                     envoi_preset_get_id (preset));
      return NULL;
    }

  if (envoi_preset_server_get_security (g_ptr_array_index (self->servers, 0)) == ENVOI_SECURITY_NONE)
    flags |= ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED;
  self->flags = flags;

  return g_steal_pointer (&self);
}

EnvoiAutoconfigSource
envoi_autoconfig_result_get_source (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), ENVOI_AUTOCONFIG_SOURCE_PRESET);

  return self->source;
}

const char *
envoi_autoconfig_result_get_address (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->address;
}

/* Whose configuration this is: the address's domain, or another one (see the flags). */
const char *
envoi_autoconfig_result_get_domain (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->domain;
}

const char *
envoi_autoconfig_result_get_url (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->url;
}

EnvoiAutoconfigFlags
envoi_autoconfig_result_get_flags (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), ENVOI_AUTOCONFIG_FLAG_NONE);

  return self->flags;
}

EnvoiPreset *
envoi_autoconfig_result_get_preset (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->preset;
}

/**
 * envoi_autoconfig_result_get_servers:
 *
 * Returns: (transfer none) (element-type EnvoiPresetServer): the usable outgoing servers,
 *   encrypted first
 */
GPtrArray *
envoi_autoconfig_result_get_servers (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->servers;
}

EnvoiPresetServer *
envoi_autoconfig_result_get_server (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return g_ptr_array_index (self->servers, 0);
}

const char *
envoi_autoconfig_result_get_hostname (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->hostname;
}

guint16
envoi_autoconfig_result_get_port (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), 0);

  return envoi_preset_server_get_port (envoi_autoconfig_result_get_server (self));
}

EnvoiSecurity
envoi_autoconfig_result_get_security (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), ENVOI_SECURITY_TLS);

  return envoi_preset_server_get_security (envoi_autoconfig_result_get_server (self));
}

EnvoiAuthMethod
envoi_autoconfig_result_get_auth_method (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), ENVOI_AUTH_METHOD_AUTOMATIC);

  return envoi_preset_server_get_auth_method (envoi_autoconfig_result_get_server (self));
}

/* The login, expanded; "" when it is the address itself (the form's default). */
const char *
envoi_autoconfig_result_get_username (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  return self->username;
}

/**
 * envoi_autoconfig_result_dup_description:
 *
 * Returns: (transfer full): where the settings were found and for which domain, translated:
 *   “Found in the Mozilla ISPDB for example.com”
 */
char *
envoi_autoconfig_result_dup_description (EnvoiAutoconfigResult *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  switch (self->source)
    {
    case ENVOI_AUTOCONFIG_SOURCE_PRESET:
      /* Translators: %s is a domain such as example.com */
      return g_strdup_printf (_("Found in Envoi’s list of providers for %s"), self->domain);
    case ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG:
      /* Translators: %s is a domain such as example.com */
      return g_strdup_printf (_("Found on the configuration server of %s"), self->domain);
    case ENVOI_AUTOCONFIG_SOURCE_WELL_KNOWN:
      /* Translators: %s is a domain such as example.com */
      return g_strdup_printf (_("Found on the web site of %s"), self->domain);
    case ENVOI_AUTOCONFIG_SOURCE_ISPDB:
      /* Translators: %s is a domain such as example.com */
      return g_strdup_printf (_("Found in the Mozilla ISPDB for %s"), self->domain);
    case ENVOI_AUTOCONFIG_SOURCE_ISPDB_MX:
      /* Translators: the first %s is the domain of a mail server (example.net), the second
       * the domain of the email address (example.com) */
      return g_strdup_printf (_("Found in the Mozilla ISPDB for %s, which handles the mail of %s"),
                              self->domain, domain_of (self->address));
    case ENVOI_AUTOCONFIG_SOURCE_SRV:
      /* Translators: %s is a domain such as example.com */
      return g_strdup_printf (_("Found in the DNS SRV records of %s"), self->domain);
    case ENVOI_AUTOCONFIG_SOURCE_PROBE:
      /* Translators: %s is a server name such as smtp.example.com */
      return g_strdup_printf (_("Found by trying %s"), self->hostname);
    default:
      g_assert_not_reached ();
    }
}

/**
 * envoi_autoconfig_result_dup_summary:
 *
 * Returns: (transfer full): the server that would be used, in words:
 *   “smtp.example.com, port 465, SSL/TLS”
 */
char *
envoi_autoconfig_result_dup_summary (EnvoiAutoconfigResult *self)
{
  const char *security;

  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  switch (envoi_autoconfig_result_get_security (self))
    {
    case ENVOI_SECURITY_TLS:
      security = _("SSL/TLS");
      break;
    case ENVOI_SECURITY_STARTTLS:
      security = _("STARTTLS");
      break;
    case ENVOI_SECURITY_NONE:
    default:
      security = _("no encryption");
      break;
    }

  /* Translators: a server name, its port number and its encryption:
   * “smtp.example.com, port 465, SSL/TLS” */
  return g_strdup_printf (_("%s, port %u, %s"), self->hostname,
                          (guint) envoi_autoconfig_result_get_port (self), security);
}

/**
 * envoi_autoconfig_result_dup_warnings:
 *
 * Returns: (transfer container) (element-type utf8): what the person must know before
 *   using these settings, one translated sentence each; empty when nothing
 */
GPtrArray *
envoi_autoconfig_result_dup_warnings (EnvoiAutoconfigResult *self)
{
  GPtrArray *warnings;

  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_RESULT (self), NULL);

  warnings = g_ptr_array_new_with_free_func (g_free);

  if (self->flags & ENVOI_AUTOCONFIG_FLAG_OTHER_DOMAIN)
    /* Translators: the first %s is the domain the settings are for (example.net), the second
     * the domain of the email address (example.com) */
    g_ptr_array_add (warnings,
                     g_strdup_printf (_("These are the settings of %s, not of %s. Use them only "
                                        "if %s handles your mail."),
                                      self->domain, domain_of (self->address), self->domain));

  if (self->flags & ENVOI_AUTOCONFIG_FLAG_INSECURE_TRANSPORT)
    g_ptr_array_add (warnings,
                     g_strdup (_("They came over an unencrypted connection and could have been "
                                 "changed on the way.")));

  if (self->flags & ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED)
    g_ptr_array_add (warnings,
                     g_strdup (_("This server offers no encryption: your password and mail "
                                 "would cross the network in clear text.")));

  return warnings;
}

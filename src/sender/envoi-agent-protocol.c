/* envoi-agent-protocol.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-agent-protocol.h"
#include "envoi-goa.h"
#include "envoi-secret.h"
#include "envoi-smtp-error.h"

#define ERROR_PREFIX "io.github.envoimail.Envoi.Transport1.Error."

/* The domains are named by their quark's string, not by their quark function: the daemon links
 * envoi-smtp-error.c but neither the GOA nor the keyring code, and must stay so. The strings are
 * those of their G_DEFINE_QUARK. */
static const GDBusErrorEntry smtp_errors[] = {
  { ENVOI_SMTP_ERROR_FAILED, ERROR_PREFIX "Smtp.Failed" },
  { ENVOI_SMTP_ERROR_HOST_NOT_FOUND, ERROR_PREFIX "Smtp.HostNotFound" },
  { ENVOI_SMTP_ERROR_CONNECTION_REFUSED, ERROR_PREFIX "Smtp.ConnectionRefused" },
  { ENVOI_SMTP_ERROR_CONNECTION_LOST, ERROR_PREFIX "Smtp.ConnectionLost" },
  { ENVOI_SMTP_ERROR_TIMEOUT, ERROR_PREFIX "Smtp.Timeout" },
  { ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED, ERROR_PREFIX "Smtp.TlsHandshakeFailed" },
  { ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED, ERROR_PREFIX "Smtp.CertificateUntrusted" },
  { ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH, ERROR_PREFIX "Smtp.CertificateNameMismatch" },
  { ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED, ERROR_PREFIX "Smtp.StarttlsNotOffered" },
  { ENVOI_SMTP_ERROR_TLS_REQUIRED, ERROR_PREFIX "Smtp.TlsRequired" },
  { ENVOI_SMTP_ERROR_AUTH_FAILED, ERROR_PREFIX "Smtp.AuthFailed" },
  { ENVOI_SMTP_ERROR_AUTH_REQUIRED, ERROR_PREFIX "Smtp.AuthRequired" },
  { ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED, ERROR_PREFIX "Smtp.MechanismNotOffered" },
  { ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER, ERROR_PREFIX "Smtp.AuthDisabledByProvider" },
  { ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED, ERROR_PREFIX "Smtp.AppPasswordRequired" },
  { ENVOI_SMTP_ERROR_SENDER_REJECTED, ERROR_PREFIX "Smtp.SenderRejected" },
  { ENVOI_SMTP_ERROR_RECIPIENT_REJECTED, ERROR_PREFIX "Smtp.RecipientRejected" },
  { ENVOI_SMTP_ERROR_MESSAGE_REJECTED, ERROR_PREFIX "Smtp.MessageRejected" },
  { ENVOI_SMTP_ERROR_TEMPORARY_FAILURE, ERROR_PREFIX "Smtp.TemporaryFailure" },
  { ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED, ERROR_PREFIX "Smtp.SendingLimitReached" },
  { ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED, ERROR_PREFIX "Smtp.PlaintextPasswordRefused" },
  { ENVOI_SMTP_ERROR_PROTOCOL, ERROR_PREFIX "Smtp.Protocol" },
};

static const GDBusErrorEntry goa_errors[] = {
  { ENVOI_GOA_ERROR_FAILED, ERROR_PREFIX "Goa.Failed" },
  { ENVOI_GOA_ERROR_NOT_RUNNING, ERROR_PREFIX "Goa.NotRunning" },
  { ENVOI_GOA_ERROR_NO_ACCOUNT, ERROR_PREFIX "Goa.NoAccount" },
  { ENVOI_GOA_ERROR_NOT_SUPPORTED, ERROR_PREFIX "Goa.NotSupported" },
  { ENVOI_GOA_ERROR_SIGN_IN_NEEDED, ERROR_PREFIX "Goa.SignInNeeded" },
};

static const GDBusErrorEntry secret_errors[] = {
  { ENVOI_SECRET_ERROR_NO_SERVICE, ERROR_PREFIX "Secret.NoService" },
  { ENVOI_SECRET_ERROR_LOCKED, ERROR_PREFIX "Secret.Locked" },
  { ENVOI_SECRET_ERROR_FAILED, ERROR_PREFIX "Secret.Failed" },
};

void
envoi_agent_register_errors (void)
{
  static gsize smtp_domain, goa_domain, secret_domain;

  g_dbus_error_register_error_domain ("envoi-smtp-error-quark", &smtp_domain,
                                      smtp_errors, G_N_ELEMENTS (smtp_errors));
  g_dbus_error_register_error_domain ("envoi-goa-error-quark", &goa_domain,
                                      goa_errors, G_N_ELEMENTS (goa_errors));
  g_dbus_error_register_error_domain ("envoi-secret-error-quark", &secret_domain,
                                      secret_errors, G_N_ELEMENTS (secret_errors));
}

static GVariant *
value_to_variant (const GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  if (type == G_TYPE_STRING)
    return g_value_get_string (value) != NULL ? g_variant_new_string (g_value_get_string (value)) : NULL;
  if (type == G_TYPE_STRV)
    return g_value_get_boxed (value) != NULL ? g_variant_new_strv (g_value_get_boxed (value), -1) : NULL;
  if (type == G_TYPE_UINT)
    return g_variant_new_uint32 (g_value_get_uint (value));
  if (type == G_TYPE_INT)
    return g_variant_new_int32 (g_value_get_int (value));
  if (type == G_TYPE_BOOLEAN)
    return g_variant_new_boolean (g_value_get_boolean (value));
  if (G_TYPE_IS_ENUM (type))
    return g_variant_new_int32 (g_value_get_enum (value));

  g_assert_not_reached ();
}

static gboolean
variant_to_value (GVariant *variant,
                  GValue   *value)
{
  GType type = G_VALUE_TYPE (value);

  if (type == G_TYPE_STRING && g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING))
    g_value_set_string (value, g_variant_get_string (variant, NULL));
  else if (type == G_TYPE_STRV && g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY))
    g_value_take_boxed (value, g_variant_dup_strv (variant, NULL));
  else if (type == G_TYPE_UINT && g_variant_is_of_type (variant, G_VARIANT_TYPE_UINT32))
    g_value_set_uint (value, g_variant_get_uint32 (variant));
  else if (type == G_TYPE_INT && g_variant_is_of_type (variant, G_VARIANT_TYPE_INT32))
    g_value_set_int (value, g_variant_get_int32 (variant));
  else if (type == G_TYPE_BOOLEAN && g_variant_is_of_type (variant, G_VARIANT_TYPE_BOOLEAN))
    g_value_set_boolean (value, g_variant_get_boolean (variant));
  else if (G_TYPE_IS_ENUM (type) && g_variant_is_of_type (variant, G_VARIANT_TYPE_INT32))
    g_value_set_enum (value, g_variant_get_int32 (variant));
  else
    return FALSE;

  return TRUE;
}

GVariant *
envoi_agent_account_to_variant (EnvoiAccount *account)
{
  g_autofree GParamSpec **pspecs = NULL;
  GVariantBuilder builder;
  guint n_pspecs;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (account), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      GVariant *variant;

      if (!(pspecs[i]->flags & G_PARAM_READABLE))
        continue;

      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (account), pspecs[i]->name, &value);
      if ((variant = value_to_variant (&value)) != NULL)
        g_variant_builder_add (&builder, "{sv}", pspecs[i]->name, variant);
    }

  return g_variant_builder_end (&builder);
}

EnvoiAccount *
envoi_agent_account_from_variant (GVariant  *variant,
                                  GError   **error)
{
  g_autoptr(EnvoiAccount) account = NULL;
  GObjectClass *klass;
  GVariantIter iter;
  const char *name;
  const char *id;
  GVariant *child;

  g_return_val_if_fail (g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT), NULL);

  if (!g_variant_lookup (variant, "id", "&s", &id) || *id == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "The account has no id");
      return NULL;
    }

  account = envoi_account_new (id);
  klass = G_OBJECT_GET_CLASS (account);

  g_variant_iter_init (&iter, variant);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &child))
    {
      g_autoptr(GVariant) owned = child;
      g_auto(GValue) value = G_VALUE_INIT;
      GParamSpec *pspec = g_object_class_find_property (klass, name);

      if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)
          || (pspec->flags & G_PARAM_CONSTRUCT_ONLY))
        continue;

      g_value_init (&value, pspec->value_type);
      if (!variant_to_value (child, &value))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "The account's %s is of the wrong type", name);
          return NULL;
        }
      g_object_set_property (G_OBJECT (account), name, &value);
    }

  return g_steal_pointer (&account);
}

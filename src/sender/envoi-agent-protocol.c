/* envoi-agent-protocol.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include "envoi-agent-protocol.h"
#include "envoi-reason.h"

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

GVariant *
envoi_agent_failure_to_variant (guint32       serial,
                                const GError *error)
{
  g_autofree char *reason = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  /* A server's reply may be in any encoding, or none: a GVariant string is UTF-8. */
  reason = envoi_reason_sanitize (error->message);
  return g_variant_new (ENVOI_AGENT_FAILED_TYPE, serial, g_quark_to_string (error->domain),
                        error->code, reason);
}

GError *
envoi_agent_failure_from_variant (GVariant *variant,
                                  guint32  *serial)
{
  const char *domain, *message;
  gint32 code;

  g_return_val_if_fail (g_variant_is_of_type (variant, G_VARIANT_TYPE (ENVOI_AGENT_FAILED_TYPE)), NULL);

  /* The domains are matched by their quark's string: the daemon links the SMTP errors but
   * neither the GOA nor the keyring code, and must stay so. A domain it never heard of is
   * still a domain, which it takes for a temporary failure. */
  g_variant_get (variant, "(u&si&s)", serial, &domain, &code, &message);
  if (*domain == '\0')
    domain = "envoi-agent-error-quark";

  return g_error_new_literal (g_quark_from_string (domain), code, message);
}

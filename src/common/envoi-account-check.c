/* envoi-account-check.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The dialog refuses a bad host or address as it is typed, but the sender reads the settings
 * themselves, which gsettings or an editor may have written. What it uses goes through the
 * same validators here, once, before anything is sent; a failure pauses the account with a
 * reason that says which setting is wrong.
 */

#define G_LOG_DOMAIN "envoi-account"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-reason.h"
#include "envoi-smtp-error.h"
#include "envoi-validate.h"

gboolean
envoi_account_check_envelope_address (const char *address)
{
  if (address == NULL || !g_utf8_validate (address, -1, NULL))
    return FALSE;

  for (const char *p = address; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>' || c == ',' || c == ';')
        return FALSE;
    }

  return TRUE;
}

static gboolean
is_empty (const char *text)
{
  return text == NULL || *text == '\0';
}

gboolean
envoi_account_check_envelope (const char          *from,
                              const char * const  *recipients,
                              GError             **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (from != NULL && *from != '\0' && !envoi_account_check_envelope_address (from))
    {
      g_autofree char *shown = envoi_reason_sanitize (from);

      /* Translators: %s is an email address, shown with its control characters escaped. */
      g_set_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_SENDER_REJECTED,
                   _("Envoi refused to send from “%s”: an address cannot contain line breaks or control characters."),
                   shown);
      return FALSE;
    }

  for (guint i = 0; recipients != NULL && recipients[i] != NULL; i++)
    {
      if (!envoi_account_check_envelope_address (recipients[i]))
        {
          g_autofree char *shown = envoi_reason_sanitize (recipients[i]);

          /* Translators: %s is an email address, shown with its control characters escaped. */
          g_set_error (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_RECIPIENT_REJECTED,
                       _("Envoi refused to send to “%s”: an address cannot contain line breaks or control characters."),
                       shown);
          return FALSE;
        }
    }

  return TRUE;
}

/* On failure, @shown is the value made one line and @reason why it is not valid. */
static gboolean
host_is_valid (const char  *value,
               char       **shown,
               char       **reason)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *host = envoi_validate_host (value != NULL ? value : "", &local_error);

  if (host != NULL)
    return TRUE;

  *shown = envoi_reason_sanitize (value != NULL ? value : "");
  *reason = g_strdup (local_error->message);
  return FALSE;
}

static gboolean
address_is_valid (const char  *value,
                  char       **shown,
                  char       **reason)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *address = envoi_validate_address (value, &local_error);

  if (address != NULL)
    return TRUE;

  *shown = envoi_reason_sanitize (value);
  *reason = g_strdup (local_error->message);
  return FALSE;
}

static gboolean
check_port (guint16      port,
            const char  *host,
            GError     **error)
{
  g_autofree char *shown = NULL;

  if (port != 0)
    return TRUE;

  shown = envoi_reason_sanitize (host);
  /* Translators: %s is a host name. */
  g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_PORT,
               _("No port is set for the server “%s”."), shown);
  return FALSE;
}

gboolean
envoi_account_check_address (EnvoiAccount  *account,
                             GError       **error)
{
  g_autofree char *shown = NULL;
  g_autofree char *reason = NULL;
  const char *address;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  address = envoi_account_get_address (account);
  if (address == NULL || *address == '\0')
    {
      g_autofree char *id = envoi_reason_sanitize (envoi_account_get_id (account));

      /* Translators: %s is the account's id. */
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                   _("The account “%s” has no email address: set one in Envoi."), id);
      return FALSE;
    }

  if (!address_is_valid (address, &shown, &reason))
    {
      /* Translators: the first %s is an email address, the second why it is not valid. */
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                   _("The account’s address “%s” is not valid: %s"), shown, reason);
      return FALSE;
    }

  return TRUE;
}

gboolean
envoi_account_check_settings (EnvoiAccount  *account,
                              GError       **error)
{
  g_autofree char *shown = NULL;
  g_autofree char *reason = NULL;
  const char * const *notify;
  const char *bcc;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!envoi_account_check_address (account, error))
    return FALSE;

  bcc = envoi_account_get_bcc (account);
  if (bcc != NULL && *bcc != '\0' && !address_is_valid (bcc, &shown, &reason))
    {
      /* Translators: the first %s is an email address, the second why it is not valid. */
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                   _("The Bcc address “%s” is not valid: %s"), shown, reason);
      return FALSE;
    }

  notify = envoi_account_get_notify_addresses (account);
  for (guint i = 0; notify != NULL && notify[i] != NULL; i++)
    {
      if (!address_is_valid (notify[i], &shown, &reason))
        {
          /* Translators: the first %s is an email address, the second why it is not valid. */
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                       _("The notification address “%s” is not valid: %s"), shown, reason);
          return FALSE;
        }
    }

  switch (envoi_account_get_transport (account))
    {
    case ENVOI_TRANSPORT_HTTP_MAILGUN:
      if (!host_is_valid (envoi_account_get_mailgun_domain (account), &shown, &reason))
        {
          /* Translators: the first %s is a domain name, the second why it is not valid. */
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                       _("The Mailgun domain “%s” is not valid: %s"), shown, reason);
          return FALSE;
        }
      return TRUE;

    case ENVOI_TRANSPORT_HTTP_POST:
      {
        const char *url = envoi_account_get_http_url (account);
        g_autoptr(GUri) uri = NULL;

        if (url != NULL && envoi_reason_is_clean (url) && strchr (url, ' ') == NULL
            && (uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) != NULL
            && (g_strcmp0 (g_uri_get_scheme (uri), "https") == 0
                || g_strcmp0 (g_uri_get_scheme (uri), "http") == 0))
          return TRUE;

        shown = envoi_reason_sanitize (url != NULL ? url : "");
        /* Translators: %s is a web address (URL). */
        g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                     _("The address of the HTTP service “%s” is not valid."), shown);
        return FALSE;
      }

    case ENVOI_TRANSPORT_SMTP:
    default:
      break;
    }

  if (!host_is_valid (envoi_account_get_host (account), &shown, &reason))
    {
      /* Translators: the first %s is a host name, the second why it is not valid. */
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                   _("The server name “%s” is not valid: %s"), shown, reason);
      return FALSE;
    }
  if (!check_port (envoi_account_get_port (account), envoi_account_get_host (account), error))
    return FALSE;

  /* An empty one means "none": no POP3 login, no sent copy. */
  if (envoi_account_get_pop_before_smtp (account) && !is_empty (envoi_account_get_pop_host (account)))
    {
      if (!host_is_valid (envoi_account_get_pop_host (account), &shown, &reason))
        {
          /* Translators: the first %s is a host name, the second why it is not valid. */
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                       _("The POP3 server name “%s” is not valid: %s"), shown, reason);
          return FALSE;
        }
      if (!check_port (envoi_account_get_pop_port (account), envoi_account_get_pop_host (account), error))
        return FALSE;
    }

  if (envoi_account_get_save_sent_copy (account) && !is_empty (envoi_account_get_imap_host (account)))
    {
      if (!host_is_valid (envoi_account_get_imap_host (account), &shown, &reason))
        {
          /* Translators: the first %s is a host name, the second why it is not valid. */
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                       _("The IMAP server name “%s” is not valid: %s"), shown, reason);
          return FALSE;
        }
      if (!check_port (envoi_account_get_imap_port (account), envoi_account_get_imap_host (account), error))
        return FALSE;
    }

  return TRUE;
}

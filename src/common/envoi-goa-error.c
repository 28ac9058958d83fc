/* envoi-goa-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-goa"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-goa.h"
#include "envoi-goa-error.h"

const char *
envoi_goa_error_get_title (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  switch (error->domain == ENVOI_GOA_ERROR ? error->code : ENVOI_GOA_ERROR_FAILED)
    {
    case ENVOI_GOA_ERROR_NOT_RUNNING:
      return _("GNOME Online Accounts is not available");
    case ENVOI_GOA_ERROR_NO_ACCOUNT:
      return _("Online account not found");
    case ENVOI_GOA_ERROR_SIGN_IN_NEEDED:
      return _("Sign-in expired");
    case ENVOI_GOA_ERROR_NOT_SUPPORTED:
      return _("This online account cannot be used");
    case ENVOI_GOA_ERROR_FAILED:
    default:
      return _("GNOME Online Accounts failed");
    }
}

const char *
envoi_goa_error_get_explanation (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  switch (error->domain == ENVOI_GOA_ERROR ? error->code : ENVOI_GOA_ERROR_FAILED)
    {
    case ENVOI_GOA_ERROR_NOT_RUNNING:
      return _("This account signs in through GNOME Online Accounts, which is not running on this computer.");
    case ENVOI_GOA_ERROR_NO_ACCOUNT:
      return _("This account signs in with an online account that is no longer in Settings → Online Accounts.");
    case ENVOI_GOA_ERROR_SIGN_IN_NEEDED:
      return _("GNOME Online Accounts has no valid sign-in for this account: it expired or was revoked.");
    case ENVOI_GOA_ERROR_NOT_SUPPORTED:
      return _("Envoi can send mail only through an online account that signs in with OAuth 2 or keeps an SMTP password.");
    case ENVOI_GOA_ERROR_FAILED:
    default:
      return _("GNOME Online Accounts could not give Envoi a sign-in for this account.");
    }
}

const char *
envoi_goa_error_get_hint (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  switch (error->domain == ENVOI_GOA_ERROR ? error->code : ENVOI_GOA_ERROR_FAILED)
    {
    case ENVOI_GOA_ERROR_NOT_RUNNING:
      return _("Log in to a GNOME session with GNOME Online Accounts installed, or choose another provider above.");
    case ENVOI_GOA_ERROR_NO_ACCOUNT:
      return _("Add the account again in Settings → Online Accounts and choose it as the provider above, or choose another provider.");
    case ENVOI_GOA_ERROR_SIGN_IN_NEEDED:
      return _("Sign in again in Settings → Online Accounts, then test again.");
    case ENVOI_GOA_ERROR_NOT_SUPPORTED:
      return _("Choose another provider above and enter the server and password yourself.");
    case ENVOI_GOA_ERROR_FAILED:
    default:
      return _("Try again. If it keeps failing, sign in again in Settings → Online Accounts.");
    }
}

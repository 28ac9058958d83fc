/* envoi-msmtp-export.c: an account written as an msmtp configuration (the other half of
 * envoi-msmtp.h; reading msmtp's file and importing from it is envoi-msmtp.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-msmtp"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-msmtp.h"
#include "envoi-msmtp-private.h"

/* A value as msmtp reads it back: quoted when it has spaces, quotes or backslashes. NULL when
 * it cannot be written on one line at all. */
static char *
quote_value (const char *value)
{
  g_autoptr(GString) quoted = NULL;

  if (_envoi_msmtp_has_control_characters (value) || strchr (value, '\t') != NULL)
    return NULL;

  if (*value != '\0' && strpbrk (value, " \"\\#") == NULL)
    return g_strdup (value);

  quoted = g_string_new ("\"");
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, *p);
    }
  g_string_append_c (quoted, '"');

  return g_string_free (g_steal_pointer (&quoted), FALSE);
}

static void
append_setting (GString    *out,
                const char *command,
                const char *value)
{
  g_autofree char *quoted = quote_value (value);

  if (quoted == NULL)
    g_string_append_printf (out, "# %s: left out, its value cannot be written on one line\n",
                            command);
  else
    g_string_append_printf (out, "%-15s %s\n", command, quoted);
}

static const char *
auth_for_msmtp (EnvoiAuthMethod method)
{
  switch (method)
    {
    case ENVOI_AUTH_METHOD_PLAIN:
      return "plain";
    case ENVOI_AUTH_METHOD_LOGIN:
      return "login";
    case ENVOI_AUTH_METHOD_CRAM_MD5:
      return "cram-md5";
    case ENVOI_AUTH_METHOD_NTLM:
      return "ntlm";
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return "xoauth2";
    case ENVOI_AUTH_METHOD_NONE:
      return "off";
    case ENVOI_AUTH_METHOD_AUTOMATIC:
    default:
      return "on";
    }
}

/* The file is msmtp's, read by people who use msmtp: its comments are in English, like
 * msmtp's own documentation. */
char *
envoi_msmtp_export (EnvoiAccount *account,
                    const char   *name)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *port = NULL;
  g_autofree char *account_name = NULL;
  EnvoiSecurity security;
  EnvoiAuthMethod auth;
  const char *pin;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  /* msmtp account names are one word without a colon. */
  account_name = g_strdup (name != NULL && *name != '\0' ? name : envoi_account_get_id (account));
  if (account_name == NULL || *account_name == '\0')
    {
      g_free (account_name);
      account_name = g_strdup ("envoi");
    }
  g_strdelimit (account_name, " \t:,\"\\#\r\n", '-');

  security = envoi_account_get_security (account);
  auth = envoi_account_get_auth_method (account);
  pin = envoi_account_get_pinned_key (account);

  g_string_append (out, "# msmtp configuration written by Envoi.\n");
  if (auth != ENVOI_AUTH_METHOD_NONE && auth != ENVOI_AUTH_METHOD_XOAUTH2)
    g_string_append (out,
                     "# No password here: msmtp reads it from the keyring item Envoi keeps\n"
                     "# (attributes host, service \"smtp\" and user).\n");
  g_string_append_printf (out, "account %s\n", account_name);
  append_setting (out, "host", envoi_account_get_host (account));
  port = g_strdup_printf ("%u", envoi_account_get_port (account));
  append_setting (out, "port", port);

  switch (security)
    {
    case ENVOI_SECURITY_NONE:
      append_setting (out, "tls", "off");
      break;
    case ENVOI_SECURITY_TLS:
      append_setting (out, "tls", "on");
      append_setting (out, "tls_starttls", "off");
      break;
    case ENVOI_SECURITY_STARTTLS:
    default:
      append_setting (out, "tls", "on");
      append_setting (out, "tls_starttls", "on");
      break;
    }

  if (security != ENVOI_SECURITY_NONE)
    {
      if (pin != NULL && *pin != '\0')
        g_string_append_printf (out,
                                "# Envoi trusts this server by its public key (%s).\n"
                                "# msmtp can only trust a certificate fingerprint: get it with\n"
                                "#   msmtp --serverinfo --host=%s --port=%u --tls --tls-certcheck=off%s\n"
                                "# and add a tls_fingerprint line here.\n",
                                pin, envoi_account_get_host (account),
                                envoi_account_get_port (account),
                                security == ENVOI_SECURITY_TLS ? " --tls-starttls=off" : "");
      else if (!envoi_account_get_verify_certificate (account))
        append_setting (out, "tls_certcheck", "off");
      else
        append_setting (out, "tls_trust_file", "system");
    }

  append_setting (out, "auth", auth_for_msmtp (auth));
  if (auth == ENVOI_AUTH_METHOD_XOAUTH2)
    g_string_append (out,
                     "# msmtp needs an OAuth 2 access token from a passwordeval command;\n"
                     "# Envoi gets its token from GNOME Online Accounts, which msmtp cannot.\n");
  if (auth != ENVOI_AUTH_METHOD_NONE)
    append_setting (out, "user", envoi_account_get_login (account));

  if (*envoi_account_get_address (account) != '\0')
    append_setting (out, "from", envoi_account_get_address (account));
  if (envoi_account_get_timeout (account) > 0)
    {
      g_autofree char *timeout = g_strdup_printf ("%u", envoi_account_get_timeout (account));
      append_setting (out, "timeout", timeout);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
envoi_msmtp_export_to_file (EnvoiAccount  *account,
                            GFile         *file,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  text = envoi_msmtp_export (account, NULL);

  /* A new file readable by its owner only, put in place in one step. */
  return g_file_replace_contents (file, text, strlen (text), NULL, FALSE,
                                  G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                  NULL, cancellable, error);
}

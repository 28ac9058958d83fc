/* envoi-smtp-error.c: classifying SMTP failures and explaining them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-smtp"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-smtp-error.h"

G_DEFINE_QUARK (envoi-smtp-error-quark, envoi_smtp_error)

/* Lower-case fragments that providers put in replies about sending too much. */
static const char * const limit_phrases[] = {
  "rate limit",
  "ratelimit",
  "rate-limit",
  "sending limit",
  "sending rate",
  "limit exceeded",
  "limit reached",
  "quota exceeded",
  "sending quota",
  "too many messages",
  "too many emails",
  "messagesubmissionexceeded",
  "daily user sending",
};

static gboolean
is_enhanced_status (const char *p,
                    gsize      *length)
{
  const char *q = p;
  int i;

  if (*q != '2' && *q != '4' && *q != '5')
    return FALSE;
  q++;
  for (i = 0; i < 2; i++)
    {
      int digits = 0;

      if (*q != '.')
        return FALSE;
      q++;
      while (g_ascii_isdigit (*q) && digits < 4)
        {
          q++;
          digits++;
        }
      if (digits == 0 || digits > 3)
        return FALSE;
    }
  if (*q != '\0' && *q != ' ' && *q != '\r' && *q != '\n')
    return FALSE;

  *length = q - p;
  return TRUE;
}

/**
 * envoi_smtp_parse_reply:
 * @reply: one reply, possibly of several lines ("250-…\r\n250 …")
 * @code: (out) (optional): the reply code of the last line
 * @enhanced_status: (out) (optional): the RFC 3463 status ("5.7.8") or %NULL
 * @text: (out) (optional): the text of all lines, joined by spaces, without code and status
 *
 * Returns: %TRUE if @reply starts with a three-digit code.
 */
gboolean
envoi_smtp_parse_reply (const char  *reply,
                        guint       *code,
                        char       **enhanced_status,
                        char       **text)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) joined = NULL;
  g_autofree char *status = NULL;
  guint last_code = 0;
  gsize i;

  if (reply == NULL)
    return FALSE;

  lines = g_strsplit (reply, "\n", -1);
  joined = g_string_new (NULL);

  for (i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      const char *rest;
      gsize status_length = 0;
      gsize len = strlen (line);

      while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = '\0';
      if (len == 0)
        continue;

      if (len < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1])
          || !g_ascii_isdigit (line[2]) || (line[3] != '\0' && line[3] != ' ' && line[3] != '-'))
        return FALSE;

      last_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      rest = line[3] != '\0' ? line + 4 : line + 3;

      if (is_enhanced_status (rest, &status_length))
        {
          if (status == NULL)
            status = g_strndup (rest, status_length);
          rest += status_length;
          while (*rest == ' ')
            rest++;
        }

      if (*rest != '\0')
        {
          if (joined->len > 0)
            g_string_append_c (joined, ' ');
          g_string_append (joined, rest);
        }
    }

  if (last_code < 100)
    return FALSE;

  if (code != NULL)
    *code = last_code;
  if (enhanced_status != NULL)
    *enhanced_status = g_steal_pointer (&status);
  if (text != NULL)
    *text = g_string_free (g_steal_pointer (&joined), FALSE);

  return TRUE;
}

static gboolean
text_has (const char *lower,
          const char *phrase)
{
  return lower != NULL && strstr (lower, phrase) != NULL;
}

static gboolean
is_sending_limit (guint       code,
                  const char *status,
                  const char *lower)
{
  gsize i;

  if (g_strcmp0 (status, "4.5.3") == 0 && code == 452)
    return TRUE;
  /* Google: 4.7.28 rate limited, 5.4.5 daily sending quota exceeded. */
  if (g_strcmp0 (status, "4.7.28") == 0 || g_strcmp0 (status, "5.4.5") == 0)
    return TRUE;

  for (i = 0; i < G_N_ELEMENTS (limit_phrases); i++)
    if (text_has (lower, limit_phrases[i]))
      return TRUE;

  return FALSE;
}

/**
 * envoi_smtp_classify_reply:
 * @stage: the command the reply answers
 * @code: the reply code (0: no reply at all, the network failed)
 * @enhanced_status: (nullable): the RFC 3463 status, if any
 * @text: (nullable): the reply text
 *
 * A pure function: which class of failure a (non-successful) reply means.
 */
EnvoiSmtpError
envoi_smtp_classify_reply (EnvoiSmtpStage  stage,
                           guint           code,
                           const char     *enhanced_status,
                           const char     *text)
{
  g_autofree char *lower = text != NULL ? g_ascii_strdown (text, -1) : NULL;
  guint klass = code / 100;

  if (code == 0)
    return ENVOI_SMTP_ERROR_CONNECTION_LOST;
  if (code < 100 || code > 599 || klass == 2 || klass == 3 || klass == 1)
    return ENVOI_SMTP_ERROR_PROTOCOL;

  /* Provider replies with their own advice. */
  if (g_strcmp0 (enhanced_status, "5.7.139") == 0 || g_strcmp0 (enhanced_status, "5.7.30") == 0
      || text_has (lower, "basic authentication is disabled")
      || text_has (lower, "smtpclientauthentication is disabled"))
    return ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER;
  if (text_has (lower, "application-specific password required")
      || text_has (lower, "app password required"))
    return ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED;

  if (stage != ENVOI_SMTP_STAGE_AUTH && is_sending_limit (code, enhanced_status, lower))
    return ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED;

  if (code == 530 || g_strcmp0 (enhanced_status, "5.7.11") == 0)
    {
      if (text_has (lower, "starttls") || text_has (lower, "tls") || text_has (lower, "encrypt")
          || g_strcmp0 (enhanced_status, "5.7.11") == 0)
        return ENVOI_SMTP_ERROR_TLS_REQUIRED;
      return ENVOI_SMTP_ERROR_AUTH_REQUIRED;
    }
  if (stage != ENVOI_SMTP_STAGE_AUTH && klass == 5
      && (text_has (lower, "authentication required") || text_has (lower, "must authenticate")
          || text_has (lower, "not authenticated")))
    return ENVOI_SMTP_ERROR_AUTH_REQUIRED;

  if (stage == ENVOI_SMTP_STAGE_AUTH)
    {
      if (code == 504 || g_strcmp0 (enhanced_status, "5.5.4") == 0
          || (code == 534 && g_strcmp0 (enhanced_status, "5.7.9") == 0))
        return ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED;
      if (klass == 4)
        return ENVOI_SMTP_ERROR_TEMPORARY_FAILURE;
      return ENVOI_SMTP_ERROR_AUTH_FAILED;
    }

  if (klass == 4)
    return ENVOI_SMTP_ERROR_TEMPORARY_FAILURE;

  switch (stage)
    {
    case ENVOI_SMTP_STAGE_GREETING:
      return ENVOI_SMTP_ERROR_CONNECTION_REFUSED;
    case ENVOI_SMTP_STAGE_STARTTLS:
      return ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED;
    case ENVOI_SMTP_STAGE_MAIL:
      if (code == 552)
        return ENVOI_SMTP_ERROR_MESSAGE_REJECTED;
      return ENVOI_SMTP_ERROR_SENDER_REJECTED;
    case ENVOI_SMTP_STAGE_RCPT:
      return ENVOI_SMTP_ERROR_RECIPIENT_REJECTED;
    case ENVOI_SMTP_STAGE_DATA:
    case ENVOI_SMTP_STAGE_END_OF_DATA:
      return ENVOI_SMTP_ERROR_MESSAGE_REJECTED;
    case ENVOI_SMTP_STAGE_EHLO:
    case ENVOI_SMTP_STAGE_QUIT:
    case ENVOI_SMTP_STAGE_AUTH:
    default:
      return ENVOI_SMTP_ERROR_PROTOCOL;
    }
}

const char *
envoi_smtp_error_get_title (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != ENVOI_SMTP_ERROR)
    return _("Sending failed");

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_HOST_NOT_FOUND:
      return _("Server not found");
    case ENVOI_SMTP_ERROR_CONNECTION_REFUSED:
      return _("Connection refused");
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
      return _("Connection lost");
    case ENVOI_SMTP_ERROR_TIMEOUT:
      return _("The server did not answer in time");
    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
      return _("Secure connection failed");
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      return _("Certificate not trusted");
    case ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH:
      return _("Certificate is for another server");
    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
      return _("The server does not offer STARTTLS");
    case ENVOI_SMTP_ERROR_TLS_REQUIRED:
      return _("The server requires encryption");
    case ENVOI_SMTP_ERROR_AUTH_FAILED:
      return _("User name or password not accepted");
    case ENVOI_SMTP_ERROR_AUTH_REQUIRED:
      return _("The server requires you to log in");
    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
      return _("Authentication method not supported");
    case ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER:
      return _("Password login is turned off for this account");
    case ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED:
      return _("An app password is required");
    case ENVOI_SMTP_ERROR_SENDER_REJECTED:
      return _("Sender address rejected");
    case ENVOI_SMTP_ERROR_RECIPIENT_REJECTED:
      return _("Recipient rejected");
    case ENVOI_SMTP_ERROR_MESSAGE_REJECTED:
      return _("Message rejected");
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
      return _("Temporary server problem");
    case ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED:
      return _("Sending limit reached");
    case ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED:
      return _("Password would be sent unencrypted");
    case ENVOI_SMTP_ERROR_PROTOCOL:
      return _("Unexpected answer from the server");
    case ENVOI_SMTP_ERROR_FAILED:
    default:
      return _("Sending failed");
    }
}

const char *
envoi_smtp_error_get_explanation (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != ENVOI_SMTP_ERROR)
    return _("Something went wrong while talking to the mail server.");

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_HOST_NOT_FOUND:
      return _("The name of the outgoing mail server could not be found. It may be misspelled, or this computer may be offline.");
    case ENVOI_SMTP_ERROR_CONNECTION_REFUSED:
      return _("The server exists but refused the connection on this port. Nothing is listening there, or a firewall blocks it.");
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
      return _("The network connection to the server broke before it answered.");
    case ENVOI_SMTP_ERROR_TIMEOUT:
      return _("The server accepted the connection but did not answer. This often happens when the encryption setting does not match the port, or when a firewall swallows the traffic.");
    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
      return _("The encrypted connection could not be set up. The encryption setting probably does not match what the server expects on this port.");
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      return _("The server’s certificate is not signed by an authority this computer trusts, or it has changed since you trusted it. Someone could be intercepting the connection, or the server uses its own certificate.");
    case ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH:
      return _("The server’s certificate was issued for a different name than the server name you entered.");
    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
      return _("Encryption with STARTTLS was required, but the server does not offer it. Your password was not sent.");
    case ENVOI_SMTP_ERROR_TLS_REQUIRED:
      return _("The server only accepts mail over an encrypted connection.");
    case ENVOI_SMTP_ERROR_AUTH_FAILED:
      return _("The server rejected the user name or the password.");
    case ENVOI_SMTP_ERROR_AUTH_REQUIRED:
      return _("The server only accepts mail from users who log in.");
    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
      return _("The server does not offer the authentication method chosen for this account.");
    case ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER:
      return _("The provider has turned off logging in to SMTP with a password (SMTP AUTH or basic authentication) for this account or organization.");
    case ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED:
      return _("This account uses two-step verification, so mail programs must log in with an app password instead of the normal password.");
    case ENVOI_SMTP_ERROR_SENDER_REJECTED:
      return _("The server does not allow sending with this sender address from this account.");
    case ENVOI_SMTP_ERROR_RECIPIENT_REJECTED:
      return _("The server refused to deliver to a recipient address.");
    case ENVOI_SMTP_ERROR_MESSAGE_REJECTED:
      return _("The server refused the message itself, for example because it is too large or looks like spam.");
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
      return _("The server is temporarily unable to accept the message.");
    case ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED:
      return _("The provider limits how many messages this account may send in a period of time, and the limit has been reached.");
    case ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED:
      return _("Encryption is turned off and the server is not on this computer, so the password would cross the network readable by anyone. Envoi did not connect.");
    case ENVOI_SMTP_ERROR_PROTOCOL:
      return _("The server answered in a way Envoi did not expect.");
    case ENVOI_SMTP_ERROR_FAILED:
    default:
      return _("Something went wrong while talking to the mail server.");
    }
}

static char *
tls_mode_hint (EnvoiAccount *account)
{
  guint16 port;
  EnvoiSecurity security;

  if (account == NULL)
    return NULL;

  port = envoi_account_get_port (account);
  security = envoi_account_get_security (account);

  if (security == ENVOI_SECURITY_TLS && port != 465 && port != 2465)
    /* Translators: %u is a port number such as 587. */
    return g_strdup_printf (_("Port %u usually expects STARTTLS. Choose STARTTLS as the encryption, or use port 465 with SSL/TLS."),
                            port);
  if (security != ENVOI_SECURITY_TLS && (port == 465 || port == 2465))
    /* Translators: %u is a port number such as 465. */
    return g_strdup_printf (_("Port %u expects SSL/TLS from the start. Choose SSL/TLS as the encryption, or use port 587 with STARTTLS."),
                            port);

  return NULL;
}

/**
 * envoi_smtp_error_dup_hint:
 * @error: a failure of EnvoiSmtpClient
 * @account: (nullable): the account it happened with, for a more specific hint
 *
 * Returns: (transfer full): what the person can do about it, one or two sentences.
 */
char *
envoi_smtp_error_dup_hint (const GError *error,
                           EnvoiAccount *account)
{
  char *hint;

  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != ENVOI_SMTP_ERROR)
    return g_strdup (_("Try again later. If it keeps failing, check the server settings."));

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_HOST_NOT_FOUND:
      return g_strdup (_("Check the spelling of the server name and your network connection."));
    case ENVOI_SMTP_ERROR_CONNECTION_REFUSED:
      return g_strdup (_("Check the port number. Common ports are 587 with STARTTLS and 465 with SSL/TLS; some networks block port 25."));
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
      return g_strdup (_("Check your network connection and try again."));
    case ENVOI_SMTP_ERROR_TIMEOUT:
    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
      hint = tls_mode_hint (account);
      if (hint != NULL)
        return hint;
      if (error->code == ENVOI_SMTP_ERROR_TIMEOUT)
        return g_strdup (_("Check the port and the encryption setting, then try again. A firewall may also block the port."));
      return g_strdup (_("Check that the encryption setting matches the port: STARTTLS on 587, SSL/TLS on 465."));
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      return g_strdup (_("If this server uses its own certificate (for example Proton Mail Bridge or a home server), compare the fingerprint with the one the server shows and trust this certificate. Otherwise, do not continue."));
    case ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH:
      return g_strdup (_("Use the server name your provider documents; it must match the certificate. Some hosting providers want their own host name rather than your domain."));
    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
      return g_strdup (_("Try SSL/TLS on port 465. Only turn encryption off for a server on this computer."));
    case ENVOI_SMTP_ERROR_TLS_REQUIRED:
      return g_strdup (_("Choose STARTTLS or SSL/TLS as the encryption."));
    case ENVOI_SMTP_ERROR_AUTH_FAILED:
      return g_strdup (_("Check the user name and password. Many providers need the full email address as the user name, and an app password rather than your normal password."));
    case ENVOI_SMTP_ERROR_AUTH_REQUIRED:
      return g_strdup (_("Choose an authentication method other than “None” and enter your password."));
    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
      return g_strdup (_("Set the authentication method to “Automatic”, or pick one the server offers (shown under “Test connection”)."));
    case ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER:
      return g_strdup (_("For Microsoft 365, an administrator must enable “Authenticated SMTP” for this mailbox. Otherwise, use an OAuth 2 token as the authentication method."));
    case ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED:
      return g_strdup (_("Create an app password in your Google account’s security settings and enter it here instead of your normal password."));
    case ENVOI_SMTP_ERROR_SENDER_REJECTED:
      return g_strdup (_("Use the address that belongs to this account as the sender, or allow this address in your provider’s settings."));
    case ENVOI_SMTP_ERROR_RECIPIENT_REJECTED:
      return g_strdup (_("Check the recipient address for typing mistakes."));
    case ENVOI_SMTP_ERROR_MESSAGE_REJECTED:
      return g_strdup (_("Read the server’s reply below. Making the message smaller or removing attachments may help."));
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
      return g_strdup (_("Try again in a few minutes. Queued messages are retried automatically."));
    case ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED:
      return g_strdup (_("Wait before sending more. Lower this account’s hourly and daily limits to stay under the provider’s limit; queued messages are held until then."));
    case ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED:
      return g_strdup (_("Choose STARTTLS or SSL/TLS as the encryption. Only if you trust every network in between, allow sending the password unencrypted."));
    case ENVOI_SMTP_ERROR_PROTOCOL:
    case ENVOI_SMTP_ERROR_FAILED:
    default:
      return g_strdup (_("Check the server settings and read the transcript for details."));
    }
}

/**
 * envoi_smtp_error_is_temporary:
 *
 * Returns: %TRUE if trying again later, with the same settings, may succeed (the daemon retries).
 */
gboolean
envoi_smtp_error_is_temporary (const GError *error)
{
  g_return_val_if_fail (error != NULL, FALSE);

  if (error->domain != ENVOI_SMTP_ERROR)
    return FALSE;

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_HOST_NOT_FOUND:
    case ENVOI_SMTP_ERROR_CONNECTION_REFUSED:
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
    case ENVOI_SMTP_ERROR_TIMEOUT:
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
    case ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED:
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * envoi_smtp_error_should_pause_account:
 *
 * Returns: %TRUE if nothing can be sent with this account until its settings change
 *   (authentication, certificate and encryption problems).
 */
gboolean
envoi_smtp_error_should_pause_account (const GError *error)
{
  g_return_val_if_fail (error != NULL, FALSE);

  if (error->domain != ENVOI_SMTP_ERROR)
    return FALSE;

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
    case ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH:
    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
    case ENVOI_SMTP_ERROR_TLS_REQUIRED:
    case ENVOI_SMTP_ERROR_AUTH_FAILED:
    case ENVOI_SMTP_ERROR_AUTH_REQUIRED:
    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
    case ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER:
    case ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED:
    case ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED:
      return TRUE;
    default:
      return FALSE;
    }
}

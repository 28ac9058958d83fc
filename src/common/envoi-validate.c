/* envoi-validate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-validate"

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include "envoi-gmime-private.h"
#include <string.h>

#include "envoi-validate.h"

G_DEFINE_QUARK (envoi-validate-error-quark, envoi_validate_error)

#define MAX_HOST_LENGTH    253
#define MAX_LABEL_LENGTH   63
#define MAX_ADDRESS_LENGTH 254
#define MAX_LOCAL_LENGTH   64

static gboolean
has_control_character (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        return TRUE;
    }

  return FALSE;
}

/* UTF-8, no line breaks or other control characters: what every field has in common. */
static gboolean
check_text (const char  *text,
            GError     **error)
{
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
                           _("The text is not valid UTF-8."));
      return FALSE;
    }

  if (has_control_character (text))
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
                           _("Line breaks and control characters are not allowed."));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_ascii_host (const char  *host,
                  GError     **error)
{
  g_auto(GStrv) labels = NULL;
  gboolean all_numeric = TRUE;
  gsize length = strlen (host);

  if (length > MAX_HOST_LENGTH)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                   _("A host name has at most %d characters."), MAX_HOST_LENGTH);
      return FALSE;
    }

  labels = g_strsplit (host, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      const char *label = labels[i];
      gsize label_length = strlen (label);

      if (label_length == 0)
        {
          g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                               _("A host name cannot have two dots in a row or start with a dot."));
          return FALSE;
        }

      if (label_length > MAX_LABEL_LENGTH)
        {
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                       _("Each part of a host name between dots has at most %d characters."),
                       MAX_LABEL_LENGTH);
          return FALSE;
        }

      if (label[0] == '-' || label[label_length - 1] == '-')
        {
          g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                               _("A part of a host name cannot start or end with a hyphen."));
          return FALSE;
        }

      for (const char *p = label; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
            {
              g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
                           _("A host name cannot contain “%c”."), *p);
              return FALSE;
            }
          if (!g_ascii_isdigit (*p))
            all_numeric = FALSE;
        }
    }

  /* "300.1.2.3" is neither an IPv4 address nor a name. */
  if (all_numeric)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                           _("This is not a valid IPv4 address."));
      return FALSE;
    }

  return TRUE;
}

/**
 * envoi_validate_host:
 *
 * Checks a server name as typed: a host name (international names are converted to their
 * ASCII form), an IPv4 address or an IPv6 address (with or without brackets).
 *
 * Returns: (transfer full): the name to connect to, or %NULL with @error set.
 */
/* g_hostname_is_ip_address() takes any text after an IPv6 address's "%" as its zone: only an
 * interface name may follow, or "[::1%]@x/]" would pass as an address. */
static gboolean
is_ip_address (const char *host)
{
  const char *zone;

  if (!g_hostname_is_ip_address (host))
    return FALSE;

  zone = strchr (host, '%');
  if (zone == NULL)
    return TRUE;
  if (zone[1] == '\0')
    return FALSE;

  for (const char *p = zone + 1; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
        return FALSE;
    }

  return TRUE;
}

char *
envoi_validate_host (const char  *text,
                     GError     **error)
{
  g_autofree char *host = NULL;
  g_autofree char *ascii = NULL;
  gsize length;

  g_return_val_if_fail (text != NULL, NULL);

  if (*text == '\0')
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                           _("Enter the name of the server."));
      return NULL;
    }

  if (!check_text (text, error))
    return NULL;

  if (strpbrk (text, " \t") != NULL || strstr (text, "\xe3\x80\x80") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
                           _("A host name cannot contain spaces."));
      return NULL;
    }

  host = g_strdup (text);
  length = strlen (host);
  if (host[0] == '[' && length > 2 && host[length - 1] == ']')
    {
      host[length - 1] = '\0';
      memmove (host, host + 1, length - 1);
      if (!is_ip_address (host) || strchr (host, ':') == NULL)
        {
          g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                               _("Between brackets only an IPv6 address is allowed."));
          return NULL;
        }
    }

  if (is_ip_address (host))
    return g_steal_pointer (&host);

  if (strchr (host, ':') != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                           _("Enter the port in its own field, not after a colon."));
      return NULL;
    }

  /* One trailing dot is the absolute form of the same name. */
  length = strlen (host);
  if (length > 1 && host[length - 1] == '.')
    host[length - 1] = '\0';

  ascii = g_hostname_to_ascii (host);
  if (ascii == NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                           _("This is not a valid host name."));
      return NULL;
    }

  if (!check_ascii_host (ascii, error))
    return NULL;

  return g_ascii_strdown (ascii, -1);
}

gboolean
envoi_validate_port (const char  *text,
                     guint16     *port,
                     GError     **error)
{
  guint64 value = 0;

  g_return_val_if_fail (text != NULL, FALSE);

  if (*text == '\0')
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                           _("Enter the port number."));
      return FALSE;
    }

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      {
        g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_PORT,
                             _("The port must be a number from 1 to 65535."));
        return FALSE;
      }

  if (strlen (text) > 5 ||
      !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &value, NULL))
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_PORT,
                           _("The port must be a number from 1 to 65535."));
      return FALSE;
    }

  if (port != NULL)
    *port = (guint16) value;

  return TRUE;
}

static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || strchr ("!#$%&'*+/=?^_`{|}~-", c) != NULL || (guchar) c >= 0x80;
}

/* The local part as dot-atom text (RFC 5322 §3.2.3), with UTF-8 allowed (RFC 6531). */
static gboolean
check_local_part (const char  *local,
                  GError     **error)
{
  gsize length = strlen (local);

  if (length == 0)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("The part before “@” is missing."));
      return FALSE;
    }

  if (length > MAX_LOCAL_LENGTH)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                   _("The part before “@” has at most %d characters."), MAX_LOCAL_LENGTH);
      return FALSE;
    }

  if (local[0] == '.' || local[length - 1] == '.' || strstr (local, "..") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("The part before “@” cannot start or end with a dot, or have two "
                             "dots in a row."));
      return FALSE;
    }

  for (const char *p = local; *p != '\0'; p++)
    if (*p != '.' && !is_atext (*p))
      {
        g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
                     _("An email address cannot contain “%c”."), *p);
        return FALSE;
      }

  return TRUE;
}

/**
 * envoi_validate_address:
 *
 * Checks one bare email address (no display name), such as “alice@example.com”.
 *
 * Returns: (transfer full): the address with its domain in ASCII form, or %NULL with @error.
 */
char *
envoi_validate_address (const char  *text,
                        GError     **error)
{
  const char *at;
  g_autofree char *local = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GError) domain_error = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if (*text == '\0')
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                           _("Enter an email address."));
      return NULL;
    }

  if (!check_text (text, error))
    return NULL;

  if (strlen (text) > MAX_ADDRESS_LENGTH)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                   _("An email address has at most %d characters."), MAX_ADDRESS_LENGTH);
      return NULL;
    }

  if (strpbrk (text, "<>") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("Enter only the address, without a name or angle brackets."));
      return NULL;
    }

  if (strpbrk (text, " \t,;") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("An email address cannot contain spaces, commas or semicolons."));
      return NULL;
    }

  at = strrchr (text, '@');
  if (at == NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("An email address needs an “@” followed by a domain, as in "
                             "name@example.com."));
      return NULL;
    }

  local = g_strndup (text, at - text);
  if (!check_local_part (local, error))
    return NULL;

  if (at[1] == '\0')
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("The domain after “@” is missing."));
      return NULL;
    }

  domain = envoi_validate_host (at + 1, &domain_error);
  if (domain == NULL || g_hostname_is_ip_address (domain) || strchr (domain, '.') == NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("The domain after “@” is not valid."));
      return NULL;
    }

  /* The domain in ASCII (xn--…) can be longer than as typed: the limit is on what is sent. */
  address = g_strconcat (local, "@", domain, NULL);
  if (strlen (address) > MAX_ADDRESS_LENGTH)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                   _("An email address has at most %d characters."), MAX_ADDRESS_LENGTH);
      return NULL;
    }

  return g_steal_pointer (&address);
}

/**
 * envoi_validate_address_list:
 *
 * Checks addresses separated by commas (GMime reads the list, so quoted names and
 * “Name <address>” forms are understood). An empty text is an empty list.
 *
 * Returns: (transfer full): the bare addresses, or %NULL with @error naming the bad one.
 */
GStrv
envoi_validate_address_list (const char  *text,
                             GError     **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *stripped = NULL;
  int count;

  g_return_val_if_fail (text != NULL, NULL);

  if (!check_text (text, error))
    return NULL;

  stripped = g_strstrip (g_strdup (text));
  if (*stripped == '\0')
    return g_strv_builder_end (builder);

  /* A domain literal ("name@[192.0.2.1]") is refused for every address anyway, and GMime 3.2
   * leaks memory reading some malformed ones (found by fuzzing): refuse it before GMime. */
  if (strpbrk (stripped, "[]") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("An address cannot have an IP address in brackets as its domain."));
      return NULL;
    }

  g_mime_init ();
  list = internet_address_list_parse (NULL, stripped);
  count = list != NULL ? internet_address_list_length (list) : 0;
  if (count == 0)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                           _("Separate the addresses with commas."));
      return NULL;
    }

  for (int i = 0; i < count; i++)
    {
      InternetAddress *item = internet_address_list_get_address (list, i);
      g_autoptr(GError) item_error = NULL;
      g_autofree char *checked = NULL;
      const char *addr;

      if (!INTERNET_ADDRESS_IS_MAILBOX (item))
        {
          g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                               _("Address groups are not allowed here."));
          return NULL;
        }

      addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (item));
      checked = envoi_validate_address (addr ? addr : "", &item_error);
      if (checked == NULL)
        {
          /* Translators: the first %s is an address as typed, the second why it is wrong. */
          g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
                       _("“%s” is not a valid address: %s"), addr ? addr : "", item_error->message);
          return NULL;
        }

      g_strv_builder_add (builder, checked);
    }

  return g_strv_builder_end (builder);
}

/* Names and subjects: what may stand in a mail header once encoded. */
gboolean
envoi_validate_header_text (const char  *text,
                            gsize        max_chars,
                            GError     **error)
{
  g_return_val_if_fail (text != NULL, FALSE);

  if (!check_text (text, error))
    return FALSE;

  if (max_chars > 0 && (gsize) g_utf8_strlen (text, -1) > max_chars)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_TOO_LONG,
                   g_dngettext (GETTEXT_PACKAGE, "At most %u character is allowed.",
                                "At most %u characters are allowed.", (gulong) max_chars),
                   (guint) max_chars);
      return FALSE;
    }

  return TRUE;
}

gboolean
envoi_validate_limits (guint    hourly,
                       guint    daily,
                       GError **error)
{
  if (hourly < 1 || daily < 1)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT,
                           _("A sending limit is at least one message."));
      return FALSE;
    }

  if (daily > ENVOI_VALIDATE_MAX_DAILY_LIMIT)
    {
      g_set_error (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT,
                   _("The daily limit is at most %u messages."), ENVOI_VALIDATE_MAX_DAILY_LIMIT);
      return FALSE;
    }

  if (hourly > daily)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_LIMIT,
                           _("The hourly limit cannot be higher than the daily limit."));
      return FALSE;
    }

  return TRUE;
}

/* A password sent in clear to this computer crosses no network. */
gboolean
envoi_host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;

  if (g_ascii_strcasecmp (host, "localhost") == 0 || g_str_has_suffix (host, ".localhost"))
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* envoi-msmtp.c: msmtp’s configuration read, and its accounts imported (writing one is
 * envoi-msmtp-export.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-msmtp"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <string.h>

#include "envoi-account.h"
#include "envoi-account-import.h"
#include "envoi-account-store.h"
#include "envoi-msmtp.h"
#include "envoi-msmtp-private.h"
#include "envoi-secret.h"
#include "envoi-validate.h"

/* Longer lines are not msmtp's; more warnings than this help nobody. */
#define MAX_LINE_LENGTH 4096
#define MAX_WARNINGS    50

G_DEFINE_QUARK (envoi-msmtp-error-quark, envoi_msmtp_error)

/* One command as the file gave it, with its line for the warnings. */
typedef struct
{
  char  *value;
  guint  line;
} Setting;

typedef struct
{
  char         *name;
  GHashTable   *settings;   /* command → Setting */
  EnvoiAccount *account;
  GPtrArray    *warnings;
  char         *password;   /* a `password` line, wiped on free */
} Entry;

struct _EnvoiMsmtpConfig
{
  GObject     parent_instance;

  GPtrArray  *entries;      /* Entry, in file order */
  GPtrArray  *warnings;     /* char *, NULL-terminated */
  char       *default_name;
};

G_DEFINE_FINAL_TYPE (EnvoiMsmtpConfig, envoi_msmtp_config, G_TYPE_OBJECT)

static void
setting_free (Setting *setting)
{
  if (setting->value != NULL)
    explicit_bzero (setting->value, strlen (setting->value));
  g_free (setting->value);
  g_free (setting);
}

static Setting *
setting_new (const char *value,
             guint       line)
{
  Setting *setting = g_new0 (Setting, 1);

  setting->value = g_strdup (value);
  setting->line = line;
  return setting;
}

static GHashTable *
settings_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) setting_free);
}

static void
settings_copy_into (GHashTable *from,
                    GHashTable *to)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Setting *setting = value;

      g_hash_table_insert (to, g_strdup (key), setting_new (setting->value, setting->line));
    }
}

static void
entry_free (Entry *entry)
{
  g_free (entry->name);
  g_clear_pointer (&entry->settings, g_hash_table_unref);
  g_clear_object (&entry->account);
  g_clear_pointer (&entry->warnings, g_ptr_array_unref);
  envoi_secret_free (entry->password);
  g_free (entry);
}

static GPtrArray *
warnings_new (void)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (warnings, NULL);
  return warnings;
}

/* Keeps the array NULL-terminated, so it can be handed out as a strv. */
static void
warnings_add (GPtrArray  *warnings,
              char       *text)
{
  g_assert (warnings->len > 0);

  if (warnings->len > MAX_WARNINGS)
    {
      g_free (text);
      return;
    }

  if (warnings->len == MAX_WARNINGS)
    {
      g_free (text);
      text = g_strdup (_("More problems were found and are not listed."));
    }

  g_ptr_array_insert (warnings, warnings->len - 1, text);
}

static void
envoi_msmtp_config_finalize (GObject *object)
{
  EnvoiMsmtpConfig *self = (EnvoiMsmtpConfig *)object;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->warnings, g_ptr_array_unref);
  g_free (self->default_name);

  G_OBJECT_CLASS (envoi_msmtp_config_parent_class)->finalize (object);
}

static void
envoi_msmtp_config_class_init (EnvoiMsmtpConfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_msmtp_config_finalize;
}

static void
envoi_msmtp_config_init (EnvoiMsmtpConfig *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->warnings = warnings_new ();
}

/* ---- reading lines ------------------------------------------------------------------------ */

/* msmtp's argument: the rest of the line, or one double-quoted string in which \" and \\
 * stand for themselves. Returns NULL for an unterminated quote or text after it. */
static char *
parse_argument (const char *text)
{
  g_autoptr(GString) value = NULL;
  const char *p;

  if (*text != '"')
    {
      g_autofree char *copy = g_strdup (text);
      return g_strdup (g_strchomp (copy));
    }

  value = g_string_new (NULL);
  for (p = text + 1; *p != '\0' && *p != '"'; p++)
    {
      if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
        p++;
      g_string_append_c (value, *p);
    }

  if (*p != '"')
    return NULL;

  for (p++; *p == ' ' || *p == '\t'; p++)
    ;
  if (*p != '\0')
    return NULL;

  return g_string_free (g_steal_pointer (&value), FALSE);
}

gboolean
_envoi_msmtp_has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 && *p != '\t')
      return TRUE;
    else if ((guchar) *p == 0x7f)
      return TRUE;

  return FALSE;
}

typedef enum
{
  COMMAND_MAPPED,     /* becomes an account setting */
  COMMAND_IGNORED,    /* about local delivery or logging: nothing for Envoi to do */
  COMMAND_UNSUPPORTED /* changes how mail goes out, and Envoi cannot do it */
} CommandKind;

static const struct
{
  const char  *name;
  CommandKind  kind;
} commands[] = {
  { "host", COMMAND_MAPPED },
  { "port", COMMAND_MAPPED },
  { "tls", COMMAND_MAPPED },
  { "tls_starttls", COMMAND_MAPPED },
  { "tls_certcheck", COMMAND_MAPPED },
  { "tls_fingerprint", COMMAND_MAPPED },
  { "tls_trust_file", COMMAND_MAPPED },
  { "auth", COMMAND_MAPPED },
  { "user", COMMAND_MAPPED },
  { "from", COMMAND_MAPPED },
  { "from_full_name", COMMAND_MAPPED },
  { "password", COMMAND_MAPPED },
  { "passwordeval", COMMAND_MAPPED },
  { "timeout", COMMAND_MAPPED },
  { "protocol", COMMAND_MAPPED },
  { "logfile", COMMAND_IGNORED },
  { "logfile_time_format", COMMAND_IGNORED },
  { "syslog", COMMAND_IGNORED },
  { "aliases", COMMAND_IGNORED },
  { "domain", COMMAND_IGNORED },
  { "maildomain", COMMAND_IGNORED },
  { "dsn_notify", COMMAND_IGNORED },
  { "dsn_return", COMMAND_IGNORED },
  { "auto_from", COMMAND_IGNORED },
  { "add_missing_from_header", COMMAND_IGNORED },
  { "add_missing_date_header", COMMAND_IGNORED },
  { "set_from_header", COMMAND_IGNORED },
  { "set_date_header", COMMAND_IGNORED },
  { "set_msgid_header", COMMAND_IGNORED },
  { "remove_bcc_headers", COMMAND_IGNORED },
  { "undisclosed_recipients", COMMAND_IGNORED },
  { "allow_from_override", COMMAND_IGNORED },
  { "tls_priorities", COMMAND_IGNORED },
  { "tls_min_dh_prime_bits", COMMAND_IGNORED },
  { "tls_crl_file", COMMAND_IGNORED },
  { "tls_host_override", COMMAND_UNSUPPORTED },
  { "tls_key_file", COMMAND_UNSUPPORTED },
  { "tls_cert_file", COMMAND_UNSUPPORTED },
  { "ntlmdomain", COMMAND_UNSUPPORTED },
  { "proxy_host", COMMAND_UNSUPPORTED },
  { "proxy_port", COMMAND_UNSUPPORTED },
  { "socket", COMMAND_UNSUPPORTED },
  { "source_ip", COMMAND_UNSUPPORTED },
};

static gboolean
lookup_command (const char  *name,
                CommandKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      {
        *kind = commands[i].kind;
        return TRUE;
      }

  return FALSE;
}

static Entry *
find_entry (GPtrArray  *entries,
            const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (entries, i);

      if (strcmp (entry->name, name) == 0)
        return entry;
    }

  return NULL;
}

/* `account NAME [: PARENT[, PARENT…]]`: a copy of the defaults, then each parent's settings
 * in turn. A parent must be defined earlier, so inheritance can neither loop nor recurse. */
static Entry *
start_account (EnvoiMsmtpConfig *self,
               const char       *argument,
               GHashTable       *defaults,
               guint             line)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *name = NULL;
  Entry *entry;

  parts = g_strsplit (argument, ":", 2);
  name = g_strstrip (g_strdup (parts[0] != NULL ? parts[0] : ""));

  if (*name == '\0' || strpbrk (name, " \t") != NULL)
    {
      /* Translators: %u is a line number in msmtp's configuration file. */
      warnings_add (self->warnings,
                    g_strdup_printf (_("Line %u: an account needs a name of one word; the account is skipped."),
                                     line));
      return NULL;
    }

  if (find_entry (self->entries, name) != NULL)
    {
      /* Translators: %u is a line number, %s an account name in msmtp's configuration. */
      warnings_add (self->warnings,
                    g_strdup_printf (_("Line %u: the account “%s” is defined twice; the second one is skipped."),
                                     line, name));
      return NULL;
    }

  entry = g_new0 (Entry, 1);
  entry->name = g_steal_pointer (&name);
  entry->settings = settings_new ();
  entry->warnings = warnings_new ();
  settings_copy_into (defaults, entry->settings);

  if (parts[0] != NULL && parts[1] != NULL)
    {
      g_auto(GStrv) parents = g_strsplit (parts[1], ",", -1);

      for (guint i = 0; parents[i] != NULL; i++)
        {
          const char *parent_name = g_strstrip (parents[i]);
          Entry *parent;

          if (*parent_name == '\0')
            continue;

          parent = find_entry (self->entries, parent_name);
          if (parent == NULL)
            {
              /* Translators: %u is a line number, the %s are account names. */
              warnings_add (self->warnings,
                            g_strdup_printf (_("Line %u: the account “%s” inherits from “%s”, which is not defined before it; that part is ignored."),
                                             line, entry->name, parent_name));
              continue;
            }

          settings_copy_into (parent->settings, entry->settings);

          /* `account default : NAME` only names the default account. */
          if (strcmp (entry->name, "default") == 0 && self->default_name == NULL)
            self->default_name = g_strdup (parent->name);
        }
    }

  g_ptr_array_add (self->entries, entry);
  return entry;
}

static void
parse_lines (EnvoiMsmtpConfig *self,
             const char       *data,
             gsize             length)
{
  g_autoptr(GHashTable) defaults = settings_new ();
  GHashTable *target = defaults;
  Entry *entry = NULL;
  gboolean skipping = FALSE;  /* inside an account that could not be started */
  const char *end = data + length;
  const char *p = data;
  guint line = 0;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      gsize line_length = (eol != NULL ? eol : end) - p;
      g_autofree char *text = NULL;
      g_autofree char *command = NULL;
      g_autofree char *argument = NULL;
      const char *rest;
      CommandKind kind;

      line++;
      text = g_strndup (p, line_length);
      p = eol != NULL ? eol + 1 : end;

      if (line_length > 0 && text[line_length - 1] == '\r')
        text[line_length - 1] = '\0';

      g_strchug (text);
      if (*text == '\0' || *text == '#')
        continue;

      if (!g_utf8_validate (text, -1, NULL))
        {
          /* Translators: %u is a line number in msmtp's configuration file. */
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u is not valid UTF-8 text and is ignored."), line));
          continue;
        }

      if (line_length > MAX_LINE_LENGTH)
        {
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u is too long and is ignored."), line));
          continue;
        }

      rest = text + strcspn (text, " \t");
      command = g_strndup (text, rest - text);
      rest += strspn (rest, " \t");

      if (strcmp (command, "defaults") == 0)
        {
          target = defaults;
          entry = NULL;
          skipping = FALSE;
          continue;
        }

      if (strcmp (command, "account") == 0)
        {
          entry = start_account (self, rest, defaults, line);
          target = entry != NULL ? entry->settings : NULL;
          skipping = entry == NULL;
          continue;
        }

      if (skipping)
        continue;

      if (strcmp (command, "eval") == 0)
        {
          /* Translators: %u is a line number; "eval" is an msmtp command, keep it. */
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u: “eval” runs a command; Envoi never runs commands from a configuration file, so it is skipped."),
                                         line));
          continue;
        }

      if (!lookup_command (command, &kind))
        {
          g_autofree char *shown = g_utf8_substring (command, 0, MIN (g_utf8_strlen (command, -1), 40));

          /* Translators: %u is a line number, %s the unknown command. */
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u: “%s” is not an msmtp command Envoi knows; it is ignored."),
                                         line, shown));
          continue;
        }

      if (kind == COMMAND_IGNORED)
        continue;

      argument = parse_argument (rest);
      if (argument == NULL)
        {
          /* Translators: %u is a line number. */
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u: a quoted value is not closed properly; the line is ignored."),
                                         line));
          continue;
        }

      if (_envoi_msmtp_has_control_characters (argument))
        {
          warnings_add (self->warnings,
                        g_strdup_printf (_("Line %u: the value holds control characters; the line is ignored."),
                                         line));
          continue;
        }

      g_hash_table_insert (target, g_strdup (command), setting_new (argument, line));
    }
}

/* ---- settings to an EnvoiAccount ---------------------------------------------------------- */

static const char *
setting_value (Entry      *entry,
               const char *command)
{
  Setting *setting = g_hash_table_lookup (entry->settings, command);

  return setting != NULL ? setting->value : NULL;
}

static guint
setting_line (Entry      *entry,
              const char *command)
{
  Setting *setting = g_hash_table_lookup (entry->settings, command);

  return setting != NULL ? setting->line : 0;
}

/* msmtp's on/off, where an empty argument means on. -1: neither. */
static int
parse_switch (const char *value)
{
  if (value == NULL)
    return -1;
  if (*value == '\0' || strcmp (value, "on") == 0)
    return 1;
  if (strcmp (value, "off") == 0)
    return 0;
  return -1;
}

static void
entry_warn (Entry      *entry,
            char       *text)
{
  warnings_add (entry->warnings, text);
}

static void
warn_bad_value (Entry      *entry,
                const char *command)
{
  /* Translators: %u is a line number, %s an msmtp command such as "tls". */
  entry_warn (entry, g_strdup_printf (_("Line %u: the value of “%s” is not valid; Envoi uses its default."),
                                      setting_line (entry, command), command));
}

static EnvoiAuthMethod
map_auth (Entry *entry)
{
  const char *value = setting_value (entry, "auth");
  g_autofree char *method = NULL;
  int on;

  if (value == NULL)
    return ENVOI_AUTH_METHOD_NONE;

  on = parse_switch (value);
  if (on == 1)
    return ENVOI_AUTH_METHOD_AUTOMATIC;
  if (on == 0)
    return ENVOI_AUTH_METHOD_NONE;

  method = g_ascii_strdown (value, -1);
  if (strcmp (method, "plain") == 0)
    return ENVOI_AUTH_METHOD_PLAIN;
  if (strcmp (method, "login") == 0)
    return ENVOI_AUTH_METHOD_LOGIN;
  if (strcmp (method, "cram-md5") == 0)
    return ENVOI_AUTH_METHOD_CRAM_MD5;
  if (strcmp (method, "ntlm") == 0)
    return ENVOI_AUTH_METHOD_NTLM;
  if (strcmp (method, "xoauth2") == 0 || strcmp (method, "oauthbearer") == 0)
    {
      entry_warn (entry, g_strdup (_("This account signs in with an OAuth 2 access token, which msmtp gets from a command. Envoi does not run it: sign in with GNOME Online Accounts and choose that account instead, or paste a token in the dialog.")));
      return ENVOI_AUTH_METHOD_XOAUTH2;
    }
  if (strcmp (method, "scram-sha-1") == 0 || strcmp (method, "scram-sha-256") == 0
      || strcmp (method, "digest-md5") == 0 || strcmp (method, "gssapi") == 0
      || strcmp (method, "external") == 0)
    {
      /* Translators: %s is an authentication method such as "gssapi". */
      entry_warn (entry, g_strdup_printf (_("Envoi cannot sign in with “%s”; it will choose a method the server offers."),
                                          value));
      return ENVOI_AUTH_METHOD_AUTOMATIC;
    }

  warn_bad_value (entry, "auth");
  return ENVOI_AUTH_METHOD_AUTOMATIC;
}

/* Fills entry->account and its warnings. FALSE when there is nothing to import. */
static gboolean
entry_convert (Entry *entry)
{
  g_autoptr(EnvoiAccount) account = envoi_account_new ("");
  g_autofree char *host = NULL;
  g_autofree char *address = NULL;
  const char *value;
  EnvoiSecurity security;
  EnvoiAuthMethod auth;
  gboolean tls, starttls;
  guint16 port;

  value = setting_value (entry, "host");
  if (value == NULL || (host = envoi_validate_host (value, NULL)) == NULL)
    return FALSE;

  value = setting_value (entry, "protocol");
  if (value != NULL && strcmp (value, "smtp") != 0)
    {
      /* Translators: LMTP is a protocol name; keep it. */
      entry_warn (entry, g_strdup (_("msmtp delivers this account's mail over LMTP; Envoi speaks only SMTP.")));
    }

  tls = parse_switch (setting_value (entry, "tls")) == 1;
  if (setting_value (entry, "tls") != NULL && parse_switch (setting_value (entry, "tls")) < 0)
    warn_bad_value (entry, "tls");
  starttls = parse_switch (setting_value (entry, "tls_starttls")) != 0;
  if (setting_value (entry, "tls_starttls") != NULL
      && parse_switch (setting_value (entry, "tls_starttls")) < 0)
    warn_bad_value (entry, "tls_starttls");

  if (!tls)
    security = ENVOI_SECURITY_NONE;
  else if (starttls)
    security = ENVOI_SECURITY_STARTTLS;
  else
    security = ENVOI_SECURITY_TLS;

  /* msmtp's default port: 25, or 465 for TLS from the first byte. */
  port = security == ENVOI_SECURITY_TLS ? 465 : 25;
  value = setting_value (entry, "port");
  if (value != NULL && !envoi_validate_port (value, &port, NULL))
    {
      warn_bad_value (entry, "port");
      port = security == ENVOI_SECURITY_TLS ? 465 : 25;
    }

  auth = map_auth (entry);

  if (security == ENVOI_SECURITY_NONE && auth != ENVOI_AUTH_METHOD_NONE)
    entry_warn (entry, g_strdup (_("msmtp sent this account's password without encryption. Envoi refuses to unless you allow it: choose STARTTLS or SSL/TLS if the server offers it.")));

  value = setting_value (entry, "tls_certcheck");
  if (tls && parse_switch (value) == 0)
    {
      g_object_set (account, "verify-certificate", FALSE, NULL);
      entry_warn (entry, g_strdup (_("msmtp did not check this server's certificate. Envoi does not either, as before; use “Test connection” to trust the server's certificate instead.")));
    }

  if (tls && setting_value (entry, "tls_fingerprint") != NULL)
    {
      /* msmtp pins a whole certificate's fingerprint; Envoi pins a public key (curl's
       * sha256// pin). One cannot be turned into the other without the certificate. */
      entry_warn (entry, g_strdup (_("msmtp trusted this server by its certificate fingerprint. Envoi trusts a server by its public key instead, which the fingerprint does not give: use “Test connection” and trust the server's certificate again.")));
    }

  value = setting_value (entry, "tls_trust_file");
  if (tls && value != NULL && *value != '\0' && strcmp (value, "system") != 0
      && setting_value (entry, "tls_fingerprint") == NULL)
    entry_warn (entry, g_strdup (_("msmtp trusted the certificate authorities of a file of its own. Envoi uses the system's; if the test fails, trust the server's certificate from the test.")));

  if (setting_value (entry, "passwordeval") != NULL)
    entry_warn (entry, g_strdup (_("The password comes from a command (passwordeval). Envoi never runs it: type the password in the account dialog.")));

  value = setting_value (entry, "password");
  if (value != NULL && *value != '\0')
    {
      entry->password = g_strdup (value);
      entry_warn (entry, g_strdup (_("The password is written in the file itself. Envoi keeps it only in the keyring: remove the “password” line from the file once it is imported.")));
    }

  value = setting_value (entry, "from");
  if (value != NULL && *value != '\0')
    {
      /* msmtp replaces %U, %H… and matches * in it: that is a pattern, not an address. */
      if (strpbrk (value, "%*") == NULL)
        address = envoi_validate_address (value, NULL);
      if (address == NULL)
        /* Translators: %s is the sender address (the "from" line) of msmtp's file. */
        entry_warn (entry, g_strdup_printf (_("The sender address “%s” is not one Envoi can use (msmtp may replace parts of it); type the address in the dialog."),
                                            value));
    }

  value = setting_value (entry, "user");
  if (address == NULL && value != NULL)
    address = envoi_validate_address (value, NULL);

  g_object_set (account,
                "host", host,
                "port", (guint) port,
                "security", security,
                "auth-method", auth,
                "address", address != NULL ? address : "",
                NULL);

  value = setting_value (entry, "user");
  if (value != NULL && *value != '\0')
    g_object_set (account, "username", value, NULL);

  value = setting_value (entry, "from_full_name");
  if (value != NULL && envoi_validate_header_text (value, ENVOI_VALIDATE_MAX_NAME_CHARS, NULL))
    g_object_set (account, "display-name", value, NULL);

  value = setting_value (entry, "timeout");
  if (value != NULL && strcmp (value, "off") != 0)
    {
      guint64 seconds;

      if (g_ascii_string_to_unsigned (value, 10, 1, 3600, &seconds, NULL))
        g_object_set (account, "timeout", (guint) seconds, NULL);
      else
        warn_bad_value (entry, "timeout");
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].kind == COMMAND_UNSUPPORTED
        && setting_value (entry, commands[i].name) != NULL)
      /* Translators: %u is a line number, %s an msmtp command such as "proxy_host". */
      entry_warn (entry, g_strdup_printf (_("Line %u: Envoi has no equivalent of “%s”; the account is imported without it."),
                                          setting_line (entry, commands[i].name), commands[i].name));

  entry->account = g_steal_pointer (&account);
  return TRUE;
}

EnvoiMsmtpConfig *
envoi_msmtp_config_parse (GBytes  *contents,
                          GError **error)
{
  g_autoptr(EnvoiMsmtpConfig) self = NULL;
  const char *data;
  gsize length;

  g_return_val_if_fail (contents != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (contents, &length);

  if (length > ENVOI_MSMTP_MAX_FILE_SIZE)
    {
      g_set_error_literal (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_TOO_LARGE,
                           _("This file is too large to be an msmtp configuration."));
      return NULL;
    }

  if (length > 0 && memchr (data, '\0', length) != NULL)
    {
      g_set_error_literal (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NOT_TEXT,
                           _("This file is not a text file, so it is not an msmtp configuration."));
      return NULL;
    }

  self = g_object_new (ENVOI_TYPE_MSMTP_CONFIG, NULL);
  parse_lines (self, data, length);

  for (guint i = 0; i < self->entries->len; )
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      /* `account default : NAME` is an alias, not an account of its own. */
      if (strcmp (entry->name, "default") == 0 && self->default_name != NULL)
        {
          g_ptr_array_remove_index (self->entries, i);
          continue;
        }

      if (!entry_convert (entry))
        {
          /* Translators: %s is an account name in msmtp's configuration file. */
          warnings_add (self->warnings,
                        g_strdup_printf (_("The account “%s” has no valid server (host) and is skipped."),
                                         entry->name));
          g_ptr_array_remove_index (self->entries, i);
          continue;
        }

      i++;
    }

  if (self->entries->len == 0)
    {
      g_set_error_literal (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NO_ACCOUNTS,
                           _("This file has no msmtp account with a server to import."));
      return NULL;
    }

  return g_steal_pointer (&self);
}

/* ---- files -------------------------------------------------------------------------------- */

GFile *
envoi_msmtp_find_user_config (void)
{
  g_autofree char *rc = g_build_filename (g_get_home_dir (), ".msmtprc", NULL);
  g_autofree char *xdg = g_build_filename (g_get_user_config_dir (), "msmtp", "config", NULL);

  if (g_file_test (rc, G_FILE_TEST_EXISTS))
    return g_file_new_for_path (rc);
  if (g_file_test (xdg, G_FILE_TEST_EXISTS))
    return g_file_new_for_path (xdg);

  return NULL;
}

EnvoiMsmtpConfig *
envoi_msmtp_config_load (GFile         *file,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *buffer = NULL;
  g_autofree char *name = NULL;
  EnvoiMsmtpConfig *config;
  gsize length = 0;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = g_file_get_parse_name (file);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
  if (info == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        /* Translators: the first %s is a file name, the second why it could not be read. */
        g_set_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_FAILED,
                     _("Could not read “%s”: %s"), name, local_error->message);
      return NULL;
    }

  /* A pipe or a device could block or never end: only plain files are read. */
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      /* Translators: %s is a file name. */
      g_set_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_NOT_REGULAR,
                   _("“%s” is not a regular file."), name);
      return NULL;
    }

  if (g_file_info_get_size (info) > ENVOI_MSMTP_MAX_FILE_SIZE)
    {
      g_set_error_literal (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_TOO_LARGE,
                           _("This file is too large to be an msmtp configuration."));
      return NULL;
    }

  stream = g_file_read (file, cancellable, &local_error);
  /* The file may have grown since: read at most one byte more than allowed. */
  buffer = stream != NULL ? g_malloc (ENVOI_MSMTP_MAX_FILE_SIZE + 1) : NULL;
  if (stream == NULL
      || !g_input_stream_read_all (G_INPUT_STREAM (stream), buffer, ENVOI_MSMTP_MAX_FILE_SIZE + 1,
                                   &length, cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, ENVOI_MSMTP_ERROR, ENVOI_MSMTP_ERROR_FAILED,
                     _("Could not read “%s”: %s"), name, local_error->message);
      if (buffer != NULL)
        explicit_bzero (buffer, ENVOI_MSMTP_MAX_FILE_SIZE + 1);
      return NULL;
    }

  /* The buffer may hold a password line: wipe it once parsed. */
  contents = g_bytes_new_static (buffer, length);
  config = envoi_msmtp_config_parse (contents, error);
  explicit_bzero (buffer, length);
  return config;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  EnvoiMsmtpConfig *config = envoi_msmtp_config_load (task_data, cancellable, &error);

  if (config == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, config, g_object_unref);
}

void
envoi_msmtp_config_load_async (GFile               *file,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_msmtp_config_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

EnvoiMsmtpConfig *
envoi_msmtp_config_load_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- accessors ---------------------------------------------------------------------------- */

const char * const *
envoi_msmtp_config_get_warnings (EnvoiMsmtpConfig *self)
{
  g_return_val_if_fail (ENVOI_IS_MSMTP_CONFIG (self), NULL);

  return (const char * const *) self->warnings->pdata;
}

const char *
envoi_msmtp_config_get_default_name (EnvoiMsmtpConfig *self)
{
  g_return_val_if_fail (ENVOI_IS_MSMTP_CONFIG (self), NULL);

  return self->default_name;
}

guint
envoi_msmtp_config_get_n_accounts (EnvoiMsmtpConfig *self)
{
  g_return_val_if_fail (ENVOI_IS_MSMTP_CONFIG (self), 0);

  return self->entries->len;
}

static Entry *
get_entry (EnvoiMsmtpConfig *self,
           guint             index)
{
  g_return_val_if_fail (ENVOI_IS_MSMTP_CONFIG (self), NULL);
  g_return_val_if_fail (index < self->entries->len, NULL);

  return g_ptr_array_index (self->entries, index);
}

const char *
envoi_msmtp_config_get_account_name (EnvoiMsmtpConfig *self,
                                     guint             index)
{
  Entry *entry = get_entry (self, index);

  return entry != NULL ? entry->name : NULL;
}

EnvoiAccount *
envoi_msmtp_config_get_account (EnvoiMsmtpConfig *self,
                                guint             index)
{
  Entry *entry = get_entry (self, index);

  return entry != NULL ? entry->account : NULL;
}

const char * const *
envoi_msmtp_config_get_account_warnings (EnvoiMsmtpConfig *self,
                                         guint             index)
{
  Entry *entry = get_entry (self, index);

  return entry != NULL ? (const char * const *) entry->warnings->pdata : NULL;
}

gboolean
envoi_msmtp_config_has_file_password (EnvoiMsmtpConfig *self,
                                      guint             index)
{
  Entry *entry = get_entry (self, index);

  return entry != NULL && entry->password != NULL;
}

/* ---- the keyring item msmtp reads --------------------------------------------------------- */

/* msmtp looks its password up by these three attributes, whatever schema stored the item
 * (secret-tool's generic one, or Envoi's). */
static const SecretSchema *
msmtp_schema (void)
{
  static const SecretSchema schema = {
    "de.marlam.msmtp.password", SECRET_SCHEMA_DONT_MATCH_NAME,
    {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

void
envoi_msmtp_lookup_password_async (const char          *host,
                                   const char          *user,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GHashTable) attributes = NULL;

  g_return_if_fail (host != NULL);
  g_return_if_fail (user != NULL);

  attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (attributes, (char *) "host", g_strdup (host));
  g_hash_table_insert (attributes, (char *) "service", g_strdup ("smtp"));
  g_hash_table_insert (attributes, (char *) "user", g_strdup (user));

  envoi_secret_search_async (msmtp_schema (), attributes, cancellable, callback, user_data);
}

char *
envoi_msmtp_lookup_password_finish (GAsyncResult  *result,
                                    GError       **error)
{
  return envoi_secret_search_finish (result, error);
}

/* ---- import ------------------------------------------------------------------------------- */

typedef struct
{
  EnvoiAccountStore *store;
  EnvoiAccount      *account;      /* the saved one, once saved */
  gboolean           password_imported;
} ImportData;

typedef struct
{
  EnvoiAccount *account;
  gboolean      password_imported;
} ImportResult;

static void
import_data_free (ImportData *data)
{
  g_clear_object (&data->store);
  g_clear_object (&data->account);
  g_free (data);
}

static void
import_result_free (ImportResult *result)
{
  g_clear_object (&result->account);
  g_free (result);
}

static void
import_return (GTask *task)
{
  ImportData *data = g_task_get_task_data (task);
  ImportResult *result = g_new0 (ImportResult, 1);

  result->account = g_object_ref (data->account);
  result->password_imported = data->password_imported;
  g_task_return_pointer (task, result, (GDestroyNotify) import_result_free);
}

static void
import_added_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  ImportData *data = g_task_get_task_data (task);

  data->account = envoi_account_import_finish (result, &data->password_imported, &error);
  if (data->account == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  import_return (task);
}

static void
import_with_password (GTask      *task,
                      const char *password)
{
  EnvoiMsmtpConfig *self = g_task_get_source_object (task);
  ImportData *data = g_task_get_task_data (task);
  Entry *entry = g_ptr_array_index (self->entries, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (task), "index")));

  envoi_account_import_async (data->store, entry->account, password,
                              g_task_get_cancellable (task), import_added_cb, g_object_ref (task));
}

static void
import_lookup_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSecretString) password = NULL;

  password = envoi_msmtp_lookup_password_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* No keyring to read from is no password to import: the account is imported all the same. */
  if (error != NULL)
    g_debug ("No msmtp password from the keyring: %s", error->message);

  import_with_password (task, password);
}

void
envoi_msmtp_config_import_async (EnvoiMsmtpConfig    *self,
                                 guint                index,
                                 EnvoiAccountStore   *store,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ImportData *data;
  Entry *entry;

  g_return_if_fail (ENVOI_IS_MSMTP_CONFIG (self));
  g_return_if_fail (index < self->entries->len);
  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));

  entry = g_ptr_array_index (self->entries, index);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_msmtp_config_import_async);
  data = g_new0 (ImportData, 1);
  data->store = g_object_ref (store);
  g_task_set_task_data (task, data, (GDestroyNotify) import_data_free);
  g_object_set_data (G_OBJECT (task), "index", GUINT_TO_POINTER (index));

  if (entry->password != NULL)
    {
      import_with_password (task, entry->password);
      return;
    }

  if (envoi_account_get_auth_method (entry->account) == ENVOI_AUTH_METHOD_NONE
      || envoi_account_get_auth_method (entry->account) == ENVOI_AUTH_METHOD_XOAUTH2)
    {
      import_with_password (task, NULL);
      return;
    }

  envoi_msmtp_lookup_password_async (envoi_account_get_host (entry->account),
                                     envoi_account_get_login (entry->account),
                                     cancellable, import_lookup_cb, g_steal_pointer (&task));
}

EnvoiAccount *
envoi_msmtp_config_import_finish (EnvoiMsmtpConfig  *self,
                                  GAsyncResult      *result,
                                  gboolean          *password_imported,
                                  GError           **error)
{
  ImportResult *import;
  EnvoiAccount *account;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  import = g_task_propagate_pointer (G_TASK (result), error);
  if (import == NULL)
    return NULL;

  if (password_imported != NULL)
    *password_imported = import->password_imported;
  account = g_steal_pointer (&import->account);
  import_result_free (import);
  return account;
}

/* ---- export ------------------------------------------------------------------------------- */

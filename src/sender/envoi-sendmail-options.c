/* envoi-sendmail-options.c: envoi-sendmail's command line, exit codes and input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kept apart from envoi-sendmail.c, without printing or exiting, so that it can be unit-tested
 * and fuzzed (tests/fuzz/fuzz-sendmail-args.c): any program on the desktop may run it. Shared
 * by envoi-sendmail and envoi-sendmail-helper, so that both behave alike; it needs GLib alone.
 */

#define G_LOG_DOMAIN "envoi-sendmail"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <string.h>

#include "envoi-queue.h"  /* the EnvoiQueueError codes only: nothing of GIO is linked */
#include "envoi-sendmail-options.h"

int
envoi_sendmail_fail (int         code,
                     const char *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  /* One line whatever the reason holds: scripts and cron mails show the first line only. */
  g_strdelimit (message, "\r\n", ' ');
  g_printerr ("envoi-sendmail: %s\n", message);

  return code;
}

/* -f and -F end up in header fields (From, Return-Path) and in the SMTP envelope: a control
 * character there (a CR or LF above all) would start another header or command. They are
 * refused, not removed: a script that passes one has a bug, or is being abused, and removing
 * characters would send the message from another name or address than the one asked for. */
static gboolean
has_control_characters (const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || (guchar) *p == 0x7f)
        return TRUE;
    }

  return FALSE;
}

/* Sendmail's options: single letters, some with a value joined or in the next argument. */
EnvoiSendmailParse
envoi_sendmail_parse_options (int                    argc,
                              char                 **argv,
                              EnvoiSendmailOptions  *options,
                              char                 **message)
{
  int i;

  g_return_val_if_fail (options != NULL, ENVOI_SENDMAIL_PARSE_BAD_USAGE);
  g_return_val_if_fail (options->recipients != NULL, ENVOI_SENDMAIL_PARSE_BAD_USAGE);
  g_return_val_if_fail (message != NULL && *message == NULL, ENVOI_SENDMAIL_PARSE_BAD_USAGE);

  for (i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--"))
        {
          i++;
          break;
        }
      if (arg[0] != '-' || arg[1] == '\0')
        break;

#define VALUE(skip) (arg[(skip)] != '\0' ? arg + (skip) : (i + 1 < argc ? argv[++i] : NULL))

      if (g_str_has_prefix (arg, "--account"))
        {
          if (arg[9] == '=')
            options->account = arg + 10;
          else if (arg[9] == '\0' && i + 1 < argc)
            options->account = argv[++i];
          else
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
      else if (g_str_equal (arg, "--history"))
        options->mode = ENVOI_SENDMAIL_MODE_HISTORY;
      else if (g_str_has_prefix (arg, "--search"))
        {
          if (arg[8] == '=')
            options->search = arg + 9;
          else if (arg[8] == '\0' && i + 1 < argc)
            options->search = argv[++i];
          else
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
      else if (g_str_has_prefix (arg, "-n") &&
               (arg[2] != '\0' ? g_ascii_isdigit (arg[2]) : (i + 1 < argc && g_ascii_isdigit (argv[i + 1][0]))))
        {
          /* -n N: how many records --history prints. A bare -n is sendmail's "no aliases",
           * ignored below. */
          const char *value = arg[2] != '\0' ? arg + 2 : argv[++i];
          guint64 count;

          if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT, &count, NULL))
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
          options->history_count = (guint) count;
        }
      else if (g_str_equal (arg, "--help"))
        return ENVOI_SENDMAIL_PARSE_HELP;
      else if (g_str_equal (arg, "--version"))
        return ENVOI_SENDMAIL_PARSE_VERSION;
      else if (g_str_equal (arg, "-t"))
        options->extract = TRUE;
      else if (g_str_equal (arg, "-i") || g_str_equal (arg, "-oi"))
        options->ignore_dots = TRUE;
      else if (arg[1] == 'f' || arg[1] == 'r')
        {
          if (!(options->from = VALUE (2)))
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
          if (has_control_characters (options->from))
            {
              *message = g_strdup (_("The envelope sender (-f) contains a control character "
                                     "such as a line break"));
              return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
            }
          /* "<>" is the null sender, written the sendmail way */
          if (g_str_equal (options->from, "<>"))
            options->from = "";
        }
      else if (arg[1] == 'F')
        {
          if (!(options->full_name = VALUE (2)))
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
          if (has_control_characters (options->full_name))
            {
              *message = g_strdup (_("The full name (-F) contains a control character "
                                     "such as a line break"));
              return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
            }
        }
      else if (g_str_equal (arg, "-bm"))
        options->mode = ENVOI_SENDMAIL_MODE_SEND;
      else if (g_str_equal (arg, "-bp"))
        options->mode = ENVOI_SENDMAIL_MODE_LIST;
      else if (g_str_equal (arg, "-bs"))
        {
          *message = g_strdup (_("-bs (SMTP on standard input) is not supported"));
          return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
      else if (arg[1] == 'b')
        {
          *message = g_strdup_printf (_("The mode %s is not supported"), arg);
          return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
      else if (arg[1] == 'q')
        options->mode = ENVOI_SENDMAIL_MODE_FLUSH;
      else if (arg[1] == 'o')
        {
          /* -oXvalue: sendmail configuration options, accepted and ignored as msmtp does;
           * -oi is handled above. */
        }
      else if (arg[1] == 'B' || arg[1] == 'N' || arg[1] == 'R' || arg[1] == 'V' ||
               arg[1] == 'X' || arg[1] == 'h' || arg[1] == 'L' || arg[1] == 'O' || arg[1] == 'C')
        {
          /* Options with a value that only matter to a full MTA. */
          if (VALUE (2) == NULL)
            return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
      else if (g_str_equal (arg, "-v") || g_str_equal (arg, "-m") || g_str_equal (arg, "-n") ||
               g_str_equal (arg, "-U") || g_str_equal (arg, "-G") || g_str_equal (arg, "-Am") ||
               g_str_equal (arg, "-Ac"))
        {
        }
      else
        {
          *message = g_strdup_printf (_("Unknown option %s"), arg);
          return ENVOI_SENDMAIL_PARSE_BAD_USAGE;
        }
#undef VALUE
    }

  for (; i < argc; i++)
    {
      /* Recipients may come comma-separated, as in “a@x, b@y”. */
      g_auto(GStrv) parts = g_strsplit (argv[i], ",", -1);

      for (guint j = 0; parts[j] != NULL; j++)
        {
          g_strstrip (parts[j]);
          if (*parts[j] != '\0')
            g_ptr_array_add (options->recipients, g_strdup (parts[j]));
        }
    }

  return ENVOI_SENDMAIL_PARSE_OK;
}

/* One dictionary for both ways in: the daemon reads the same keys from D-Bus and the socket. */
GVariant *
envoi_sendmail_options_to_variant (const EnvoiSendmailOptions *options)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (options->account != NULL)
    g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (options->account));
  if (options->from != NULL)
    g_variant_builder_add (&builder, "{sv}", "from", g_variant_new_string (options->from));
  if (options->full_name != NULL)
    g_variant_builder_add (&builder, "{sv}", "full-name", g_variant_new_string (options->full_name));
  g_variant_builder_add (&builder, "{sv}", "recipients",
                         g_variant_new_strv ((const char * const *) options->recipients->pdata,
                                             options->recipients->len));
  g_variant_builder_add (&builder, "{sv}", "extract-recipients", g_variant_new_boolean (options->extract));

  return g_variant_builder_end (&builder);
}

int
envoi_sendmail_exit_code (guint queue_error)
{
  switch ((EnvoiQueueError) queue_error)
    {
    case ENVOI_QUEUE_ERROR_NO_ACCOUNT:
      return ENVOI_EX_CONFIG;
    case ENVOI_QUEUE_ERROR_BAD_MESSAGE:
    case ENVOI_QUEUE_ERROR_NO_RECIPIENTS:
    case ENVOI_QUEUE_ERROR_TOO_LARGE:
      return ENVOI_EX_DATAERR;
    case ENVOI_QUEUE_ERROR_NOT_FOUND:
    case ENVOI_QUEUE_ERROR_DAMAGED:
    case ENVOI_QUEUE_ERROR_FAILED:
    default:
      return ENVOI_EX_TEMPFAIL;
    }
}

EnvoiSendmailRead
envoi_sendmail_read_message (FILE       *input,
                             gboolean    ignore_dots,
                             guint64     max_size,
                             GByteArray *data)
{
  char buffer[65536];
  gboolean at_line_start;
  size_t n;

  g_return_val_if_fail (input != NULL, ENVOI_SENDMAIL_READ_FAILED);
  g_return_val_if_fail (data != NULL, ENVOI_SENDMAIL_READ_FAILED);

  /* Carrying on after an earlier call: where it stopped, and whether that is already too much. */
  if (data->len > max_size)
    return ENVOI_SENDMAIL_READ_TOO_LARGE;
  at_line_start = data->len == 0 || data->data[data->len - 1] == '\n';

  if (ignore_dots)
    {
      while ((n = fread (buffer, 1, sizeof buffer, input)) > 0)
        {
          g_byte_array_append (data, (guint8 *) buffer, n);
          if (data->len > max_size)
            break;
        }
    }
  else
    {
      while (fgets (buffer, sizeof buffer, input) != NULL)
        {
          size_t len = strlen (buffer);

          if (at_line_start && (g_str_equal (buffer, ".\n") || g_str_equal (buffer, ".\r\n")))
            break;
          g_byte_array_append (data, (guint8 *) buffer, len);
          at_line_start = len > 0 && buffer[len - 1] == '\n';
          if (data->len > max_size)
            break;
        }
    }

  if (ferror (input))
    return ENVOI_SENDMAIL_READ_FAILED;
  if (data->len > max_size)
    return ENVOI_SENDMAIL_READ_TOO_LARGE;

  return ENVOI_SENDMAIL_READ_OK;
}

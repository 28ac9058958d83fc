/* envoi-sendmail-options.h: envoi-sendmail's command line, parsed without side effects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdio.h>

#include <glib.h>

G_BEGIN_DECLS

/* sysexits.h */
#define ENVOI_EX_OK          0
#define ENVOI_EX_USAGE       64
#define ENVOI_EX_DATAERR     65
#define ENVOI_EX_UNAVAILABLE 69
#define ENVOI_EX_SOFTWARE    70
#define ENVOI_EX_IOERR       74
#define ENVOI_EX_TEMPFAIL    75
#define ENVOI_EX_CONFIG      78

typedef enum
{
  ENVOI_SENDMAIL_MODE_SEND,
  ENVOI_SENDMAIL_MODE_LIST,
  ENVOI_SENDMAIL_MODE_FLUSH,
  ENVOI_SENDMAIL_MODE_HISTORY,  /* --history [--search TEXT] [-n N] */
} EnvoiSendmailMode;

/* The strings point into argv; recipients holds copies (g_free). */
typedef struct
{
  EnvoiSendmailMode  mode;
  gboolean           extract;
  gboolean           ignore_dots;
  const char        *from;
  const char        *full_name;
  const char        *account;
  GPtrArray         *recipients;
  const char        *search;         /* --search: NULL for all */
  guint              history_count;  /* -n: 0 for all */
} EnvoiSendmailOptions;

typedef enum
{
  ENVOI_SENDMAIL_PARSE_OK,        /* go on in options->mode */
  ENVOI_SENDMAIL_PARSE_HELP,      /* --help: show the usage, exit 0 */
  ENVOI_SENDMAIL_PARSE_VERSION,   /* --version: show the version, exit 0 */
  ENVOI_SENDMAIL_PARSE_BAD_USAGE, /* show *message, or the usage when NULL; exit EX_USAGE */
} EnvoiSendmailParse;

EnvoiSendmailParse envoi_sendmail_parse_options (int                    argc,
                                                 char                 **argv,
                                                 EnvoiSendmailOptions  *options,
                                                 char                 **message);


/* Says why on standard error, one line ("envoi-sendmail: …"), and returns @code to exit with. */
int                envoi_sendmail_fail           (int                    code,
                                                  const char            *format,
                                                  ...) G_GNUC_PRINTF (2, 3);

/* The options of a Submit (D-Bus, or the submit socket's request), a floating a{sv}. */
GVariant          *envoi_sendmail_options_to_variant (const EnvoiSendmailOptions *options);

/* The exit code for an EnvoiQueueError code, the daemon's or the queue's own. */
int                envoi_sendmail_exit_code      (guint                  queue_error);

typedef enum
{
  ENVOI_SENDMAIL_READ_OK,
  ENVOI_SENDMAIL_READ_FAILED,     /* errno says why */
  ENVOI_SENDMAIL_READ_TOO_LARGE,  /* more than max_size bytes */
} EnvoiSendmailRead;

/* Reads the message from @input into @data; unless @ignore_dots, a line holding a single dot
 * ends it, as with sendmail. Stops once @data holds more than @max_size bytes. When @data
 * already holds the start of the message (an earlier call stopped at a lower @max_size), it
 * carries on from there. */
EnvoiSendmailRead  envoi_sendmail_read_message   (FILE                  *input,
                                                  gboolean               ignore_dots,
                                                  guint64                max_size,
                                                  GByteArray            *data);

G_END_DECLS

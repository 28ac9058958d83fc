/* envoi-sendmail-options.h: envoi-sendmail's command line, parsed without side effects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  ENVOI_SENDMAIL_MODE_SEND,
  ENVOI_SENDMAIL_MODE_LIST,
  ENVOI_SENDMAIL_MODE_FLUSH,
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

G_END_DECLS

/* envoi-validate.h: pure checks of what people type, with a reason in words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ENVOI_VALIDATE_ERROR (envoi_validate_error_quark ())

typedef enum
{
  ENVOI_VALIDATE_ERROR_EMPTY,
  ENVOI_VALIDATE_ERROR_TOO_LONG,
  ENVOI_VALIDATE_ERROR_INVALID_CHARACTER,
  ENVOI_VALIDATE_ERROR_INVALID_HOST,
  ENVOI_VALIDATE_ERROR_INVALID_PORT,
  ENVOI_VALIDATE_ERROR_INVALID_ADDRESS,
  ENVOI_VALIDATE_ERROR_INVALID_LIMIT,
} EnvoiValidateError;

#define ENVOI_VALIDATE_MAX_NAME_CHARS 200

/* An account's hourly and daily limits are at most this many messages. */
#define ENVOI_VALIDATE_MAX_DAILY_LIMIT 10000

GQuark    envoi_validate_error_quark   (void);

char     *envoi_validate_host          (const char  *text,
                                        GError     **error);
gboolean  envoi_validate_port          (const char  *text,
                                        guint16     *port,
                                        GError     **error);
char     *envoi_validate_address       (const char  *text,
                                        GError     **error);
GStrv     envoi_validate_address_list  (const char  *text,
                                        GError     **error);
gboolean  envoi_validate_header_text   (const char  *text,
                                        gsize        max_chars,
                                        GError     **error);
gboolean  envoi_host_is_loopback       (const char  *host);
gboolean  envoi_validate_limits        (guint        hourly,
                                        guint        daily,
                                        GError     **error);

G_END_DECLS

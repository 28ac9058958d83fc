/* envoi-size-limit.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The command, its helper, the submit socket, the D-Bus Submit method and the queue all refuse
 * an oversized message; they say it with the same words.
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-size-limit.h"

char *
envoi_size_limit_describe (guint64 max_size)
{
  g_autofree char *limit = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);

  return g_strdup_printf (_("The message is larger than the limit of %s"), limit);
}

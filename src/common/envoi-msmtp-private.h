/* envoi-msmtp-private.h: what envoi-msmtp.c (reading) and envoi-msmtp-export.c (writing) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A control character but the tab: msmtp's file cannot hold one in a value. */
gboolean _envoi_msmtp_has_control_characters (const char *text);

G_END_DECLS

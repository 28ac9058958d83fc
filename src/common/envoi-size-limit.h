/* envoi-size-limit.h: the one sentence for a message above the sender's size limit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "The message is larger than the limit of 25.0 MiB": binary units, as the limit is set in
 * bytes (max-message-size, 26214400 by default). GLib only: envoi-sendmail links nothing else. */
char *envoi_size_limit_describe (guint64 max_size);

G_END_DECLS

/* envoi-reason.h: a failure reason made fit to store, send and print
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Valid UTF-8 (invalid bytes become U+FFFD) on one line: control characters, DEL, the C1
 * controls and the Unicode line and paragraph separators are written as escapes ("\r", "\n",
 * "\t", "\x1b", "\u2028"). GLib only: envoi-sendmail links nothing else. */
char     *envoi_reason_sanitize (const char *text);

/* Whether @text is already what envoi_reason_sanitize() would return. */
gboolean  envoi_reason_is_clean (const char *text);

G_END_DECLS

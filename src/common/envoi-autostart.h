/* envoi-autostart.h: starting the background sender at login while mail waits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Whether a message that may still go is in the default spool: an ID.msg whose ID.env, if
 * any, does not say it failed for good.
 * The guard of `envoi-sender --if-queued`, which the login unit, the XDG autostart entry and the
 * Background portal's autostart run. */
gboolean   envoi_autostart_spool_holds_mail  (void);

/* Whether we run inside Flatpak, where the Background portal does the autostart. */
gboolean   envoi_autostart_is_sandboxed      (void);

/* The options of the Background portal's RequestBackground: @reason, and the autostart of
 * `envoi-sender --if-queued` when @autostart (FALSE drops an autostart asked for before). */
GVariant  *envoi_autostart_portal_options    (const char *reason,
                                              gboolean    autostart);

G_END_DECLS

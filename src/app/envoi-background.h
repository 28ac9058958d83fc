/* envoi-background.h: asking the Background portal, inside Flatpak, to let the sender run
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

gboolean  envoi_background_is_sandboxed    (void);
GVariant *envoi_background_request_options (void);
void      envoi_background_request         (GtkWindow    *window,
                                            GCancellable *cancellable);

G_END_DECLS

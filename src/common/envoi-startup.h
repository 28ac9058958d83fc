/* envoi-startup.h: what every Envoi program does first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void         envoi_startup_init               (void);
void         envoi_startup_init_deferred      (void);
void         envoi_startup_init_locale        (void);
const char  *envoi_startup_get_build_sender   (void);
gboolean     envoi_startup_spawn_build_sender (GError **error);

G_END_DECLS

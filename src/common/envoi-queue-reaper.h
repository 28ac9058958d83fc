/* envoi-queue-reaper.h: where removed messages go to be unlinked, off the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EnvoiQueueReaper EnvoiQueueReaper;

EnvoiQueueReaper *envoi_queue_reaper_new     (int                dir_fd,
                                              const char        *directory);
gboolean          envoi_queue_reaper_discard (EnvoiQueueReaper  *self,
                                              const char        *id);
void              envoi_queue_reaper_free    (EnvoiQueueReaper  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiQueueReaper, envoi_queue_reaper_free)

G_END_DECLS

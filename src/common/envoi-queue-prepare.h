/* envoi-queue-prepare.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account-store.h"
#include "envoi-queue-entry.h"

G_BEGIN_DECLS

EnvoiQueueEntry *_envoi_queue_build_entry       (const char           *account_id,
                                                 const char           *envelope_from,
                                                 const char * const   *recipients,
                                                 GBytes               *message,
                                                 GString             **file,
                                                 GError              **error);

EnvoiQueueEntry *_envoi_queue_prepare           (EnvoiAccountStore    *store,
                                                 GBytes               *raw,
                                                 const char           *account_id,
                                                 const char           *envelope_from,
                                                 const char           *full_name,
                                                 const char * const   *recipients,
                                                 gboolean              extract,
                                                 guint64               max_size,
                                                 GString             **file,
                                                 GError              **error);
gboolean         _envoi_queue_prepares_in_place (GBytes               *raw);
void             _envoi_queue_prepare_async     (EnvoiAccountStore    *store,
                                                 GBytes               *raw,
                                                 const char           *account_id,
                                                 const char           *envelope_from,
                                                 const char           *full_name,
                                                 const char * const   *recipients,
                                                 gboolean              extract,
                                                 guint64               max_size,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
EnvoiQueueEntry *_envoi_queue_prepare_finish    (GAsyncResult         *result,
                                                 GString             **file,
                                                 GError              **error);

G_END_DECLS

/* envoi-submit-socket.h: the daemon's end of envoi-sendmail's fast path
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-queue.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_SUBMIT_SOCKET (envoi_submit_socket_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiSubmitSocket, envoi_submit_socket, ENVOI, SUBMIT_SOCKET, GObject)

/* Listens at envoi_submit_socket_path() (envoi-submit-protocol.h) and submits what it receives
 * through envoi_queue_submit_async(), as the D-Bus Submit method does. ::submitted (the
 * EnvoiQueueEntry as written) is emitted once a message is on disk, before its submitter hears
 * so. */
EnvoiSubmitSocket *envoi_submit_socket_new     (EnvoiQueue         *queue,
                                                EnvoiAccountStore  *store);
gboolean           envoi_submit_socket_open    (EnvoiSubmitSocket  *self,
                                                GError            **error);
/* Stops listening; submissions under way still get their answer. */
void               envoi_submit_socket_close   (EnvoiSubmitSocket  *self);
/* TRUE while a submitter is connected and not yet answered. */
gboolean           envoi_submit_socket_is_busy (EnvoiSubmitSocket  *self);

G_END_DECLS

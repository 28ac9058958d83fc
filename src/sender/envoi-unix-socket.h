/* envoi-unix-socket.h: the daemon's listening sockets in the runtime directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A non-blocking Unix socket of @type bound at @path. The directory is made, private (0700),
 * if it is missing; a file left at @path by a dead daemon is removed first (the caller owns
 * the bus name, so nobody else may be there). */
GSocket *envoi_unix_socket_bind (const char   *path,
                                 GSocketType   type,
                                 GError      **error);

G_END_DECLS

/* envoi-unix-socket.c: the daemon's listening sockets in the runtime directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The nudge socket (envoi-sender-service.c) and the submit socket (envoi-submit-socket.c)
 * are set up alike: here, once.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include <errno.h>

#include "envoi-unix-socket.h"

GSocket *
envoi_unix_socket_bind (const char   *path,
                        GSocketType   type,
                        GError      **error)
{
  g_autofree char *dir = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }

  if (!(socket = g_socket_new (G_SOCKET_FAMILY_UNIX, type, G_SOCKET_PROTOCOL_DEFAULT, error)))
    return NULL;
  g_socket_set_blocking (socket, FALSE);

  g_unlink (path);
  address = g_unix_socket_address_new (path);
  if (!g_socket_bind (socket, address, FALSE, error))
    return NULL;

  return g_steal_pointer (&socket);
}

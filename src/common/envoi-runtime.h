/* envoi-runtime.h: where every Envoi program finds the user's runtime directory and session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Called by envoi_startup_init(), first in main(), before any thread starts and before anything
 * asks GLib for the runtime directory or the session bus. A job from cron, at, a systemd timer or an ssh session often has
 * neither XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS, while the user's session runs beside it.
 * When XDG_RUNTIME_DIR is unset or empty, /run/user/<uid> is used if it is a directory (not a
 * symlink) owned by the user and of mode 0700 — what systemd makes and `systemctl --user`
 * relies on. When DBUS_SESSION_BUS_ADDRESS is unset or empty, the bus is <runtime>/bus: whether
 * it is there or not, so that GLib never autolaunches a bus of its own (dbus-launch), and a
 * missing bus is a plain "no such file" error. Both are exported into the environment, where
 * GLib, libsecret and the programs we start look. What the environment already says is kept.
 * GLib only: envoi-sendmail links nothing else. */
void         envoi_runtime_init                (void);

/* The directory chosen by envoi_runtime_init(), for tests and messages. */
const char  *envoi_runtime_dir                 (void);

/* <runtime>/envoi/@name: the sender's sockets. */
char        *envoi_runtime_socket_path         (const char *name);

/* Whether the session bus chosen is there to connect to: FALSE when its address is a Unix
 * socket path that does not exist (nobody is logged in). Other addresses are assumed to be. */
gboolean     envoi_runtime_session_bus_exists  (void);

/* For the tests: the runtime directory /run/user/<uid> would give, or NULL when it is unfit. */
char        *envoi_runtime_systemd_dir         (void);

G_END_DECLS

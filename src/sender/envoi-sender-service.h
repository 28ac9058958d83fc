/* envoi-sender-service.h: the background sender, io.github.envoimail.Envoi.Sender on the bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-runtime.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_SENDER_SERVICE (envoi_sender_service_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiSenderService, envoi_sender_service, ENVOI, SENDER_SERVICE, GApplication)

/* Where envoi-sendmail nudges a running daemon after writing into the spool itself: a
 * datagram socket; any datagram means “look at the spool”. */
static inline char *
envoi_sender_nudge_socket_path (void)
{
  return envoi_runtime_socket_path ("sender.nudge");
}

EnvoiSenderService *envoi_sender_service_new       (gboolean replace);

G_END_DECLS

/* envoi-agent-channel.h: framed messages between envoi-sender and its delivery agent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ENVOI_TYPE_AGENT_CHANNEL (envoi_agent_channel_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAgentChannel, envoi_agent_channel, ENVOI, AGENT_CHANNEL, GObject)

/* One end of a stream socket, read and written on the thread-default main context of its
 * creator, without any other thread: a message crosses from one main loop to the other and
 * nowhere else. (Peer-to-peer D-Bus took both ends' GDBus worker threads on the way, four more
 * thread hops per message, which was most of what a delivery cost besides the SMTP dialogue.)
 *
 * A frame is a 32-bit length and a flags word, little-endian, then a GVariant of type (sv) in
 * its serialized form: what the frame is, and its arguments. A frame may carry one file
 * descriptor, passed with its first bytes (SCM_RIGHTS).
 *
 * Signals:
 * - "frame" (const char *kind, GVariant *body, int fd): a whole frame arrived. @fd is -1 or the
 *   descriptor it carried, which the channel closes once the handlers have run (dup it to keep
 *   it). @body's type is whatever the peer sent: check it.
 * - "closed" (const GError *error): the peer hung up (@error NULL) or broke the protocol, or the
 *   socket failed. Emitted once; nothing is read or written after it. */
EnvoiAgentChannel *envoi_agent_channel_new       (int                 fd,
                                                  GError            **error);
/* Queues a frame; it is written as the socket takes it, in order. @body is sunk if floating.
 * @fd: -1, or a descriptor the frame takes (closed once sent, or when the channel closes). */
void               envoi_agent_channel_send      (EnvoiAgentChannel  *self,
                                                  const char         *kind,
                                                  GVariant           *body,
                                                  int                 fd);
/* Closes the socket without emitting "closed"; frames not yet written are dropped. */
void               envoi_agent_channel_close     (EnvoiAgentChannel  *self);
gboolean           envoi_agent_channel_is_closed (EnvoiAgentChannel  *self);

G_END_DECLS

/* envoi-agent.h: the delivery agent (envoi-sender-transport), as envoi-sender sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_AGENT (envoi_agent_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAgent, envoi_agent, ENVOI, AGENT, GObject)

/* The daemon's one agent. It is started with the first message, keeps one connection per
 * account while messages come, and is told to exit after ENVOI_TRANSPORT_IDLE_TIMEOUT seconds
 * (default 20) without any; the next message starts it again. If it dies while sending, that
 * message fails as ENVOI_SMTP_ERROR_TEMPORARY_FAILURE: it stays queued and is retried.
 *
 * Signals: "sent-copy-failed" (const char *account_id, const char *reason): a message was sent
 * but its copy could not be saved in the account's IMAP Sent folder. */
EnvoiAgent *envoi_agent_get_default (void);

/* @generation: the version of @account's settings, never 0: a new one whenever they change.
 * The agent is sent the settings only when it does not have that version yet.
 * @message_fd: taken; a read-only descriptor of a file holding the message at @offset, @length
 * bytes long (the queue file: the agent reads it there, nothing is copied on the way). */
void        envoi_agent_send_async  (EnvoiAgent          *self,
                                     EnvoiAccount        *account,
                                     guint                generation,
                                     const char          *envelope_from,
                                     const char * const  *recipients,
                                     int                  message_fd,
                                     goffset              offset,
                                     gsize                length,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
gboolean    envoi_agent_send_finish (EnvoiAgent          *self,
                                     GAsyncResult        *result,
                                     GError             **error);
/* The same, and the server's last reply to the message (the "250 …" line) in @reply. */
gboolean    envoi_agent_send_finish_with_reply (EnvoiAgent    *self,
                                                GAsyncResult  *result,
                                                char         **reply,
                                                GError       **error);
gboolean    envoi_agent_propagate_reply (GTask                *task,
                                         char                **reply,
                                         GError              **error);
/* The agent forgets the account's connection and passwords (if it runs at all). */
void        envoi_agent_reset       (EnvoiAgent          *self,
                                     const char          *account_id);

G_END_DECLS

/* envoi-delivery.h: one account's queued messages and their delivery, as the daemon keeps them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_DELIVERY (envoi_delivery_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiDelivery, envoi_delivery, ENVOI, DELIVERY, GObject)

/* The account's state as the sender sees it: its pending messages in order, whether it is
 * paused (a login or certificate failure: until its settings change), and until when its server
 * is known to be unreachable. The account is NULL while the messages' account does not exist
 * (removed, or not yet seen in the settings): they wait. */
EnvoiDelivery *envoi_delivery_new               (EnvoiAccount        *account);
EnvoiAccount  *envoi_delivery_get_account       (EnvoiDelivery       *self);
void           envoi_delivery_set_account       (EnvoiDelivery       *self,
                                                 EnvoiAccount        *account);
GQueue        *envoi_delivery_get_pending       (EnvoiDelivery       *self);
gboolean       envoi_delivery_get_busy          (EnvoiDelivery       *self);
guint          envoi_delivery_get_in_flight     (EnvoiDelivery       *self);
gboolean       envoi_delivery_get_paused        (EnvoiDelivery       *self);
gboolean       envoi_delivery_check_account     (EnvoiDelivery       *self,
                                                 GError             **error);
void           envoi_delivery_set_paused        (EnvoiDelivery       *self,
                                                 gboolean             paused);
gint64         envoi_delivery_get_blocked_until (EnvoiDelivery       *self);
void           envoi_delivery_set_blocked_until (EnvoiDelivery       *self,
                                                 gint64               when);
/* Has the delivery agent drop the account's connection and password (the next message logs in
 * afresh) and lifts the pause and the block. */
void           envoi_delivery_reset             (EnvoiDelivery       *self);
/* Paused because the keyring is locked: lifted by a reset, as the pause is. */
gboolean       envoi_delivery_get_waiting_keyring (EnvoiDelivery     *self);
void           envoi_delivery_set_waiting_keyring (EnvoiDelivery     *self,
                                                   gboolean           waiting);
/* Has the delivery agent drop the account's connection and password, and nothing else: its
 * password changed while it was not paused. */
void           envoi_delivery_forget_credentials (EnvoiDelivery      *self);

/* Sends one message through the delivery agent, envoi-sender-transport (EnvoiAgent), which
 * looks the password up in the keyring the first time and then reuses the connection, and
 * saves the sent copy (a failure there is reported here, to the journal, the delivery log and
 * the desktop). An account that signs in through GNOME Online Accounts ("goa:" provider) has no
 * password: each session asks GOA for a token, and GOA's failures come back as
 * ENVOI_SMTP_ERROR_AUTH_FAILED when the person must act (sign in again, the online account
 * removed), which pauses the account, or in the ENVOI_GOA_ERROR domain when retrying later may
 * help (GOA not running, no network to renew the token). If the agent dies before it answers,
 * the send fails with ENVOI_SMTP_ERROR_TEMPORARY_FAILURE. @recipients already include the
 * account's always-Bcc address. @message_fd: taken; the queue file, holding the message at
 * @offset, @length bytes long (envoi_queue_open_message). */
void           envoi_delivery_send_async        (EnvoiDelivery       *self,
                                                 const char          *envelope_from,
                                                 const char * const  *recipients,
                                                 int                  message_fd,
                                                 goffset              offset,
                                                 gsize                length,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean       envoi_delivery_send_finish       (EnvoiDelivery       *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* The same, and the server's last reply to the message (the "250 …" line) in @reply. */
gboolean       envoi_delivery_send_finish_with_reply (EnvoiDelivery  *self,
                                                      GAsyncResult   *result,
                                                      char          **reply,
                                                      GError       **error);

G_END_DECLS

/* envoi-agent-account.h: in the delivery agent, one account's reused connections
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_AGENT_ACCOUNT (envoi_agent_account_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAgentAccount, envoi_agent_account, ENVOI, AGENT_ACCOUNT, GObject)

/* What envoi-sender-transport keeps of an account between messages: its SMTP (or HTTP) session,
 * its IMAP session for the sent copies, its passwords and when its POP3 login expires. The
 * queue, the limits and the decisions stay in envoi-sender (EnvoiDelivery). */
EnvoiAgentAccount *envoi_agent_account_new         (EnvoiAccount        *account);
EnvoiAccount      *envoi_agent_account_get_account (EnvoiAgentAccount   *self);
/* Starts afresh (envoi_agent_account_reset) only if @account differs from the current one. */
void               envoi_agent_account_set_account (EnvoiAgentAccount   *self,
                                                    EnvoiAccount        *account);
/* Drops the connections and the passwords: the next message logs in afresh. */
void               envoi_agent_account_reset       (EnvoiAgentAccount   *self);

/* Sends one message: looks the password up in the keyring the first time, then reuses the
 * connection. An account that signs in through GNOME Online Accounts ("goa:" provider) has no
 * password: each session asks GOA for a token (envoi_agent_goa_send_async), and GOA's failures
 * come back as ENVOI_SMTP_ERROR_AUTH_FAILED when the person must act (sign in again, the online
 * account removed), which pauses the account, or in the ENVOI_GOA_ERROR domain when retrying later may
 * help (GOA not running, no network to renew the token). @recipients already include the
 * account's always-Bcc address. Then saves the sent copy if the account wants one. */
void               envoi_agent_account_send_async  (EnvoiAgentAccount   *self,
                                                    const char          *envelope_from,
                                                    const char * const  *recipients,
                                                    GBytes              *message,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
/* Returns the server's reply. @copy_error: set when the message was sent but its copy could
 * not be saved (the send still succeeded). */
char              *envoi_agent_account_send_finish (EnvoiAgentAccount   *self,
                                                    GAsyncResult        *result,
                                                    GError             **copy_error,
                                                    GError             **error);

G_END_DECLS

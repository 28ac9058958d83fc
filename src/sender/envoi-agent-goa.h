/* envoi-agent-goa.h: in the delivery agent, sending for an account that signs in through GNOME
 * Online Accounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-smtp-client.h"

G_BEGIN_DECLS

/* A send for an OAuth 2 account. Each session signs in with its own token: a new session asks
 * GOA for one first (EnsureCredentials, then GetAccessToken). `session` (may be NULL) is what
 * the last envoi_agent_goa_send_finish() of this account gave back: while its token is young
 * enough its connection is reused, otherwise a new session begins. When the server refuses the token
 * (ENVOI_SMTP_ERROR_AUTH_FAILED), one retry with a fresh token in a new session. A second
 * refusal, or no fresher token, is ENVOI_GOA_ERROR_SIGN_IN_NEEDED, whose message asks the person
 * to sign in again in Settings → Online Accounts. GOA not answering is ENVOI_GOA_ERROR_NOT_RUNNING,
 * the GOA account gone ENVOI_GOA_ERROR_NO_ACCOUNT, a token GOA could not renew for another reason
 * than a refused sign-in (offline…) ENVOI_GOA_ERROR_FAILED. Returns what
 * envoi_smtp_client_send_finish() returns, and in `session` the session to reuse next time
 * (NULL after a failure). */
void             envoi_agent_goa_send_async  (GDBusConnection  *bus,
                                              EnvoiAccount     *account,
                                              EnvoiSmtpClient  *session,
                                              const char       *envelope_from,
                                              const char * const *recipients,
                                              GBytes           *message,
                                              GCancellable     *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer          user_data);
char            *envoi_agent_goa_send_finish (GAsyncResult     *result,
                                              EnvoiSmtpClient **session,
                                              GError          **error);

G_END_DECLS

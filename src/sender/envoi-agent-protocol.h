/* envoi-agent-protocol.h: what envoi-sender and its delivery agent share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sender (the queue manager) starts envoi-sender-transport (the delivery agent) with one
 * end of a socket pair as file descriptor ENVOI_AGENT_SOCKET_FD and speaks peer-to-peer D-Bus
 * over it: data/io.github.envoimail.Envoi.Transport1.xml. Both ends are built from this file.
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_AGENT_OBJECT_PATH "/io/github/envoimail/Envoi/Transport"
#define ENVOI_AGENT_SOCKET_FD   3

/* A Send without settings, for a settings generation that the agent does not have. */
#define ENVOI_AGENT_ERROR_UNKNOWN_SETTINGS "io.github.envoimail.Envoi.Transport1.Error.UnknownSettings"

/* Gives the error domains that decide what becomes of a message (SMTP, GOA, keyring, mailbox)
 * D-Bus names, so that they come back with their domain and code. Call once on each end. */
void          envoi_agent_register_errors        (void);

/* An account as a{sv}: every property of EnvoiAccount (every settings key) by name. */
GVariant     *envoi_agent_account_to_variant     (EnvoiAccount  *account);
EnvoiAccount *envoi_agent_account_from_variant   (GVariant      *variant,
                                                  GError       **error);

G_END_DECLS

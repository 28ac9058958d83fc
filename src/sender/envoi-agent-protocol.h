/* envoi-agent-protocol.h: what envoi-sender and its delivery agent say to each other
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sender (the queue manager) starts envoi-sender-transport (the delivery agent) with one
 * end of a stream socket pair as file descriptor ENVOI_AGENT_SOCKET_FD. They exchange frames
 * over it (EnvoiAgentChannel): a kind and a body of the type given here. Both ends ship
 * together and are built from this file; it is not a public interface.
 *
 * The daemon sends:
 * - ENVOI_AGENT_SEND, with the queue file of the message as its descriptor (read-only): send
 *   one message with one account over the account's reused connection, then save the sent copy
 *   if the account wants one.
 *   - serial: the daemon's number for this send, which the answer repeats;
 *   - account id;
 *   - generation: the version of the account's settings, never 0; the daemon makes a new one
 *     whenever they change (and on every reset);
 *   - settings: every key of io.github.envoimail.Envoi.Account under its own name plus "id" (s),
 *     or empty when this agent already has @generation of them: it keeps the last settings of
 *     each account. No password: the agent asks the keyring;
 *   - envelope sender ("" for the null sender), envelope recipients (always-Bcc included);
 *   - offset and length of the message in the descriptor's file.
 * - ENVOI_AGENT_RESET (account id): forget the account's connection and passwords; the next send
 *   logs in afresh. A send under way finishes with what it has.
 * - ENVOI_AGENT_CANCEL (serial): stop that send; it is answered as failed, cancelled.
 *
 * The agent answers each send, in any order across accounts, with one of:
 * - ENVOI_AGENT_SENT (serial, the server's last reply);
 * - ENVOI_AGENT_FAILED (serial, error domain as its quark's string, code, message): the GError as
 *   the agent had it, so that the daemon decides on the same domain and code;
 * - ENVOI_AGENT_UNKNOWN_SETTINGS (serial): the send came without settings for a generation the
 *   agent does not have (it never should); the daemon takes it as a temporary failure.
 * and, before the answer, ENVOI_AGENT_COPY_FAILED (account id, reason) when the message was sent
 * but its copy could not be saved in the IMAP Sent folder.
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_AGENT_SOCKET_FD 3

#define ENVOI_AGENT_SEND                  "send"
#define ENVOI_AGENT_SEND_TYPE             "(usua{sv}sastt)"
#define ENVOI_AGENT_RESET                 "reset"
#define ENVOI_AGENT_RESET_TYPE            "(s)"
#define ENVOI_AGENT_CANCEL                "cancel"
#define ENVOI_AGENT_CANCEL_TYPE           "(u)"

#define ENVOI_AGENT_SENT                  "sent"
#define ENVOI_AGENT_SENT_TYPE             "(us)"
#define ENVOI_AGENT_FAILED                "failed"
#define ENVOI_AGENT_FAILED_TYPE           "(usis)"
#define ENVOI_AGENT_UNKNOWN_SETTINGS      "unknown-settings"
#define ENVOI_AGENT_UNKNOWN_SETTINGS_TYPE "(u)"
#define ENVOI_AGENT_COPY_FAILED           "copy-failed"
#define ENVOI_AGENT_COPY_FAILED_TYPE      "(ss)"

/* An account as a{sv}: every property of EnvoiAccount (every settings key) by name. */
GVariant     *envoi_agent_account_to_variant     (EnvoiAccount  *account);
EnvoiAccount *envoi_agent_account_from_variant   (GVariant      *variant,
                                                  GError       **error);

/* A failed send's answer, and the error it carries: domain, code and message unchanged. */
GVariant     *envoi_agent_failure_to_variant     (guint32        serial,
                                                  const GError  *error);
GError       *envoi_agent_failure_from_variant   (GVariant      *variant,
                                                  guint32       *serial);

G_END_DECLS

/* envoi-submit-protocol.h: how envoi-sendmail hands a message to a running envoi-sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sendmail's fast path, shared by both ends and needing nothing but GLib, so that the
 * command links GLib alone (starting a process that loads GIO and GMime costs more than the
 * rest of a submission). A SOCK_SEQPACKET Unix socket in the user's runtime directory:
 *
 * 1. On accepting, the daemon sends a greeting, ENVOI_SUBMIT_GREETING_TYPE: the protocol
 *    version, the size limit of a message, and whether any account is set up.
 * 2. The client sends one request, ENVOI_SUBMIT_REQUEST_TYPE, the options of the D-Bus Submit
 *    method (account, from, full-name, recipients, extract-recipients), with exactly one file
 *    descriptor attached: a memfd sealed against writing, growing and shrinking, holding the
 *    message as read from standard input. A client that has the whole message before the
 *    greeting comes may send the request without waiting for it, then read the greeting and
 *    the answer: the daemon judges the request by the same limit and accounts it greets with.
 *    A daemon of another version must not take such a request.
 * 3. The daemon answers, ENVOI_SUBMIT_REPLY_TYPE, only once the message is on disk (the queue's
 *    temp file, fsync, rename, directory fsync): TRUE, 0 and the new id; or FALSE, an
 *    EnvoiQueueError code and the reason.
 *
 * A client that cannot connect, or gets no greeting, knows that nothing was submitted and falls
 * back to the full path (writing the spool itself, D-Bus activation).
 */

#pragma once

#include <glib.h>

#include "envoi-runtime.h"

G_BEGIN_DECLS

#define ENVOI_SUBMIT_PROTOCOL_VERSION 1

#define ENVOI_SUBMIT_GREETING_TYPE "(utb)"
#define ENVOI_SUBMIT_REQUEST_TYPE  "a{sv}"
#define ENVOI_SUBMIT_REPLY_TYPE    "(bus)"

/* The largest request (the options, not the message): a sequenced packet must fit the socket's
 * send buffer. A longer recipient list goes the full way. */
#define ENVOI_SUBMIT_MAX_REQUEST (128 * 1024)

/* How long the client waits for the greeting, then for the answer. */
#define ENVOI_SUBMIT_TIMEOUT_SECONDS 25

static inline char *
envoi_submit_socket_path (void)
{
  return envoi_runtime_socket_path ("sender.submit");
}

G_END_DECLS

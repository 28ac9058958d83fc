/* envoi-queue-error.h: why a message could not be queued, or a queued one read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Apart from envoi-queue.h so that message preparation (envoi-message.c), which refuses a
 * message with these codes, does not include the queue that calls it.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ENVOI_QUEUE_ERROR (envoi_queue_error_quark ())

typedef enum
{
  ENVOI_QUEUE_ERROR_FAILED,         /* the spool could not be read or written */
  ENVOI_QUEUE_ERROR_BAD_MESSAGE,    /* the message cannot be parsed */
  ENVOI_QUEUE_ERROR_NO_RECIPIENTS,
  ENVOI_QUEUE_ERROR_NO_ACCOUNT,     /* no account is configured, or the named one is unknown */
  ENVOI_QUEUE_ERROR_TOO_LARGE,
  ENVOI_QUEUE_ERROR_NOT_FOUND,      /* no queued message has that id */
  ENVOI_QUEUE_ERROR_DAMAGED,        /* a spool file was damaged and moved to damaged/ */
} EnvoiQueueError;

GQuark envoi_queue_error_quark (void);

G_END_DECLS

/* envoi-queue-error.c: why a message could not be queued, or a queued one read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "envoi-queue-error.h"

/* Registered as D-Bus errors, so that the daemon's Submit and envoi-sendmail agree on them. */
static const GDBusErrorEntry queue_dbus_errors[] = {
  { ENVOI_QUEUE_ERROR_FAILED, "io.github.envoimail.Envoi.Sender1.Error.Failed" },
  { ENVOI_QUEUE_ERROR_BAD_MESSAGE, "io.github.envoimail.Envoi.Sender1.Error.BadMessage" },
  { ENVOI_QUEUE_ERROR_NO_RECIPIENTS, "io.github.envoimail.Envoi.Sender1.Error.NoRecipients" },
  { ENVOI_QUEUE_ERROR_NO_ACCOUNT, "io.github.envoimail.Envoi.Sender1.Error.NoAccount" },
  { ENVOI_QUEUE_ERROR_TOO_LARGE, "io.github.envoimail.Envoi.Sender1.Error.TooLarge" },
  { ENVOI_QUEUE_ERROR_NOT_FOUND, "io.github.envoimail.Envoi.Sender1.Error.NotFound" },
  { ENVOI_QUEUE_ERROR_DAMAGED, "io.github.envoimail.Envoi.Sender1.Error.Damaged" },
};

GQuark
envoi_queue_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("envoi-queue-error-quark", &quark,
                                      queue_dbus_errors, G_N_ELEMENTS (queue_dbus_errors));

  return (GQuark) quark;
}

/* envoi-history-record.h: one message that left the queue, as the delivery history keeps it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A record as it travels over D-Bus (History, HistoryAdded) and to envoi-sendmail --history:
 * record id, time (seconds since the epoch, UTC), queue id, account id, outcome, envelope
 * sender, envelope recipients, Subject (decoded), Message-ID, size in bytes, attempts, and the
 * server's final reply (a sent message) or the reason (any other outcome). */
#define ENVOI_HISTORY_RECORD_VARIANT_TYPE "(xxssssassstus)"

/* The outcomes: the strings are a contract (D-Bus, the history file). */
#define ENVOI_HISTORY_SENT      "sent"
#define ENVOI_HISTORY_FAILED    "failed"
#define ENVOI_HISTORY_EXPIRED   "expired"
#define ENVOI_HISTORY_CANCELLED "cancelled"

#define ENVOI_TYPE_HISTORY_RECORD (envoi_history_record_get_type ())

typedef struct
{
  gint64  id;          /* 0 until stored */
  gint64  time;
  char   *queue_id;
  char   *account_id;
  char   *outcome;
  char   *from;
  GStrv   recipients;
  char   *subject;     /* "" when unknown */
  char   *message_id;  /* without the angle brackets; "" when unknown */
  guint64 size;
  guint   attempts;
  char   *reply;
} EnvoiHistoryRecord;

GType               envoi_history_record_get_type     (void) G_GNUC_CONST;
EnvoiHistoryRecord *envoi_history_record_new          (void);
EnvoiHistoryRecord *envoi_history_record_copy         (const EnvoiHistoryRecord *self);
void                envoi_history_record_free         (EnvoiHistoryRecord       *self);
GVariant           *envoi_history_record_to_variant   (const EnvoiHistoryRecord *self);
EnvoiHistoryRecord *envoi_history_record_from_variant (GVariant                 *variant);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiHistoryRecord, envoi_history_record_free)

G_END_DECLS

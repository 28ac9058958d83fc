/* envoi-history-record.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-history"

#include "config.h"

#include "envoi-history-record.h"

G_DEFINE_BOXED_TYPE (EnvoiHistoryRecord, envoi_history_record,
                     envoi_history_record_copy, envoi_history_record_free)

EnvoiHistoryRecord *
envoi_history_record_new (void)
{
  EnvoiHistoryRecord *self = g_new0 (EnvoiHistoryRecord, 1);
  const char *none[] = { NULL };

  self->queue_id = g_strdup ("");
  self->account_id = g_strdup ("");
  self->outcome = g_strdup (ENVOI_HISTORY_SENT);
  self->from = g_strdup ("");
  self->recipients = g_strdupv ((char **) none);
  self->subject = g_strdup ("");
  self->message_id = g_strdup ("");
  self->reply = g_strdup ("");

  return self;
}

EnvoiHistoryRecord *
envoi_history_record_copy (const EnvoiHistoryRecord *self)
{
  EnvoiHistoryRecord *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (EnvoiHistoryRecord, 1);
  copy->id = self->id;
  copy->time = self->time;
  copy->queue_id = g_strdup (self->queue_id);
  copy->account_id = g_strdup (self->account_id);
  copy->outcome = g_strdup (self->outcome);
  copy->from = g_strdup (self->from);
  copy->recipients = g_strdupv (self->recipients);
  copy->subject = g_strdup (self->subject);
  copy->message_id = g_strdup (self->message_id);
  copy->size = self->size;
  copy->attempts = self->attempts;
  copy->reply = g_strdup (self->reply);

  return copy;
}

void
envoi_history_record_free (EnvoiHistoryRecord *self)
{
  if (self == NULL)
    return;

  g_free (self->queue_id);
  g_free (self->account_id);
  g_free (self->outcome);
  g_free (self->from);
  g_strfreev (self->recipients);
  g_free (self->subject);
  g_free (self->message_id);
  g_free (self->reply);
  g_free (self);
}

GVariant *
envoi_history_record_to_variant (const EnvoiHistoryRecord *self)
{
  const char *none[] = { NULL };

  g_return_val_if_fail (self != NULL, NULL);

  return g_variant_new ("(xxssss^assstus)",
                        self->id, self->time,
                        self->queue_id ? self->queue_id : "",
                        self->account_id ? self->account_id : "",
                        self->outcome ? self->outcome : "",
                        self->from ? self->from : "",
                        self->recipients ? (const char * const *) self->recipients : none,
                        self->subject ? self->subject : "",
                        self->message_id ? self->message_id : "",
                        self->size, self->attempts,
                        self->reply ? self->reply : "");
}

EnvoiHistoryRecord *
envoi_history_record_from_variant (GVariant *variant)
{
  EnvoiHistoryRecord *self;

  g_return_val_if_fail (variant != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (variant, G_VARIANT_TYPE (ENVOI_HISTORY_RECORD_VARIANT_TYPE)), NULL);

  self = g_new0 (EnvoiHistoryRecord, 1);
  g_variant_get (variant, "(xxssss^assstus)",
                 &self->id, &self->time, &self->queue_id, &self->account_id, &self->outcome,
                 &self->from, &self->recipients, &self->subject, &self->message_id,
                 &self->size, &self->attempts, &self->reply);

  return self;
}

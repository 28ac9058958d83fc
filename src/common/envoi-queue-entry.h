/* envoi-queue-entry.h: one message waiting in the spool, as the queue indexes it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The states a message goes through. The nicks are the strings of the D-Bus API and of the
 * `state` key in the spool: they are a contract. */
typedef enum
{
  ENVOI_QUEUE_STATE_QUEUED = 0,     /* ready to go */
  ENVOI_QUEUE_STATE_SENDING,        /* in flight (never written to disk) */
  ENVOI_QUEUE_STATE_DEFERRED,       /* a temporary failure: tried again at next-attempt */
  ENVOI_QUEUE_STATE_WAITING_LIMIT,  /* held back by the hourly or daily limit */
  ENVOI_QUEUE_STATE_PAUSED,         /* its account is paused until its settings change */
  ENVOI_QUEUE_STATE_FAILED,         /* given up: waits for Retry or Cancel */
} EnvoiQueueState;

const char *envoi_queue_state_to_string   (EnvoiQueueState  state);
gboolean    envoi_queue_state_from_string (const char      *string,
                                           EnvoiQueueState *state);

#define ENVOI_TYPE_QUEUE_ENTRY (envoi_queue_entry_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiQueueEntry, envoi_queue_entry, ENVOI, QUEUE_ENTRY, GObject)

EnvoiQueueEntry    *envoi_queue_entry_new              (const char         *id,
                                                        const char         *account_id,
                                                        const char         *from,
                                                        const char * const *recipients);
const char         *envoi_queue_entry_get_id           (EnvoiQueueEntry    *self);
const char         *envoi_queue_entry_get_account_id   (EnvoiQueueEntry    *self);
const char         *envoi_queue_entry_get_from         (EnvoiQueueEntry    *self);
const char * const *envoi_queue_entry_get_recipients   (EnvoiQueueEntry    *self);
EnvoiQueueState     envoi_queue_entry_get_state        (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_state        (EnvoiQueueEntry    *self,
                                                        EnvoiQueueState     state);
guint               envoi_queue_entry_get_attempts     (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_attempts     (EnvoiQueueEntry    *self,
                                                        guint               attempts);
gint64              envoi_queue_entry_get_next_attempt (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_next_attempt (EnvoiQueueEntry    *self,
                                                        gint64              when);
gint64              envoi_queue_entry_get_queued       (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_queued       (EnvoiQueueEntry    *self,
                                                        gint64              when);
const char         *envoi_queue_entry_get_last_error   (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_last_error   (EnvoiQueueEntry    *self,
                                                        const char         *message);
guint64             envoi_queue_entry_get_size         (EnvoiQueueEntry    *self);
void                envoi_queue_entry_set_size         (EnvoiQueueEntry    *self,
                                                        guint64             size);

/* The spool's form of an entry: a key file with an Envelope and a State. */
EnvoiQueueEntry    *envoi_queue_entry_new_from_keyfile  (const char         *id,
                                                        GKeyFile           *keyfile,
                                                        GError            **error);
char               *envoi_queue_entry_to_keyfile_data   (EnvoiQueueEntry    *entry,
                                                        gsize              *length);
gboolean            envoi_queue_entry_address_is_valid  (const char         *address);

G_END_DECLS

/* envoi-queue-entry.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-queue-entry.h"
#include "envoi-reason.h"

/* The daemon holds one for each message in an account's window (envoi-queue.h), and List one
 * for each queued message for a moment. Times are microseconds of wall-clock time
 * (g_get_real_time), because they must mean the same after a restart. */
struct _EnvoiQueueEntry
{
  GObject          parent_instance;

  char            *id;
  const char      *account_id;   /* interned: a handful of accounts, many entries */
  char            *from;
  GStrv            recipients;
  char            *last_error;
  gint64           next_attempt;
  gint64           queued;
  guint64          size;
  guint            attempts;
  EnvoiQueueState  state;
};

G_DEFINE_FINAL_TYPE (EnvoiQueueEntry, envoi_queue_entry, G_TYPE_OBJECT)

static const char * const state_names[] = {
  [ENVOI_QUEUE_STATE_QUEUED] = "queued",
  [ENVOI_QUEUE_STATE_SENDING] = "sending",
  [ENVOI_QUEUE_STATE_DEFERRED] = "deferred",
  [ENVOI_QUEUE_STATE_WAITING_LIMIT] = "waiting-limit",
  [ENVOI_QUEUE_STATE_PAUSED] = "paused",
  [ENVOI_QUEUE_STATE_FAILED] = "failed",
};

const char *
envoi_queue_state_to_string (EnvoiQueueState state)
{
  g_return_val_if_fail (state < G_N_ELEMENTS (state_names), NULL);

  return state_names[state];
}

gboolean
envoi_queue_state_from_string (const char      *string,
                               EnvoiQueueState *state)
{
  g_return_val_if_fail (state != NULL, FALSE);

  if (string == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    {
      if (g_str_equal (string, state_names[i]))
        {
          *state = i;
          return TRUE;
        }
    }

  return FALSE;
}

static void
envoi_queue_entry_finalize (GObject *object)
{
  EnvoiQueueEntry *self = ENVOI_QUEUE_ENTRY (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->from, g_free);
  g_clear_pointer (&self->recipients, g_strfreev);
  g_clear_pointer (&self->last_error, g_free);

  G_OBJECT_CLASS (envoi_queue_entry_parent_class)->finalize (object);
}

static void
envoi_queue_entry_class_init (EnvoiQueueEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_queue_entry_finalize;
}

static void
envoi_queue_entry_init (EnvoiQueueEntry *self)
{
}

EnvoiQueueEntry *
envoi_queue_entry_new (const char         *id,
                       const char         *account_id,
                       const char         *from,
                       const char * const *recipients)
{
  EnvoiQueueEntry *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (account_id != NULL, NULL);
  g_return_val_if_fail (from != NULL, NULL);
  g_return_val_if_fail (recipients != NULL, NULL);

  self = g_object_new (ENVOI_TYPE_QUEUE_ENTRY, NULL);
  self->id = g_strdup (id);
  self->account_id = g_intern_string (account_id);
  self->from = g_strdup (from);
  self->recipients = g_strdupv ((char **) recipients);

  return self;
}

const char *
envoi_queue_entry_get_id (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), NULL);
  return self->id;
}

const char *
envoi_queue_entry_get_account_id (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), NULL);
  return self->account_id;
}

const char *
envoi_queue_entry_get_from (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), NULL);
  return self->from;
}

const char * const *
envoi_queue_entry_get_recipients (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), NULL);
  return (const char * const *) self->recipients;
}

EnvoiQueueState
envoi_queue_entry_get_state (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), 0);
  return self->state;
}

void
envoi_queue_entry_set_state (EnvoiQueueEntry *self,
                             EnvoiQueueState  state)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));
  self->state = state;
}

guint
envoi_queue_entry_get_attempts (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), 0);
  return self->attempts;
}

void
envoi_queue_entry_set_attempts (EnvoiQueueEntry *self,
                                guint            attempts)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));
  self->attempts = attempts;
}

gint64
envoi_queue_entry_get_next_attempt (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), 0);
  return self->next_attempt;
}

void
envoi_queue_entry_set_next_attempt (EnvoiQueueEntry *self,
                                    gint64           when)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));
  self->next_attempt = when;
}

gint64
envoi_queue_entry_get_queued (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), 0);
  return self->queued;
}

void
envoi_queue_entry_set_queued (EnvoiQueueEntry *self,
                              gint64           when)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));
  self->queued = when;
}

const char *
envoi_queue_entry_get_last_error (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), NULL);
  return self->last_error;
}

void
envoi_queue_entry_set_last_error (EnvoiQueueEntry *self,
                                  const char      *message)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));

  if (message != NULL && *message == '\0')
    message = NULL;
  g_free (self->last_error);
  /* Stored in the spool, sent over D-Bus, printed by envoi-sendmail -bp: valid UTF-8 and
   * one line, whatever a server or a setting put in it. */
  self->last_error = envoi_reason_sanitize (message);
}

guint64
envoi_queue_entry_get_size (EnvoiQueueEntry *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (self), 0);
  return self->size;
}

void
envoi_queue_entry_set_size (EnvoiQueueEntry *self,
                            guint64          size)
{
  g_return_if_fail (ENVOI_IS_QUEUE_ENTRY (self));
  self->size = size;
}

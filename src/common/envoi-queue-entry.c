/* envoi-queue-entry.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-queue-entry.h"
#include "envoi-reason.h"

/* RFC 5321 §4.5.3.1.3 allows 256 octets in a path; a little more costs nothing. */
#define MAX_ADDRESS_LENGTH 320

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

/* The spool's form of an entry */

/* The envelope and state as the spool keeps them (a key file: sections Envelope and State). */
char *
envoi_queue_entry_to_keyfile_data (EnvoiQueueEntry *entry,
                                   gsize           *length)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  const char *last_error = envoi_queue_entry_get_last_error (entry);

  g_key_file_set_string (keyfile, "Envelope", "account", envoi_queue_entry_get_account_id (entry));
  g_key_file_set_string (keyfile, "Envelope", "from", envoi_queue_entry_get_from (entry));
  g_key_file_set_string_list (keyfile, "Envelope", "recipients",
                              envoi_queue_entry_get_recipients (entry),
                              g_strv_length ((char **) envoi_queue_entry_get_recipients (entry)));
  g_key_file_set_string (keyfile, "State", "state",
                         envoi_queue_state_to_string (envoi_queue_entry_get_state (entry)));
  g_key_file_set_uint64 (keyfile, "State", "attempts", envoi_queue_entry_get_attempts (entry));
  g_key_file_set_int64 (keyfile, "State", "next-attempt", envoi_queue_entry_get_next_attempt (entry));
  g_key_file_set_int64 (keyfile, "State", "queued", envoi_queue_entry_get_queued (entry));
  g_key_file_set_uint64 (keyfile, "State", "size", envoi_queue_entry_get_size (entry));
  if (last_error != NULL)
    g_key_file_set_string (keyfile, "State", "last-error", last_error);

  return g_key_file_to_data (keyfile, length, NULL);
}

/* An envelope address as the spool accepts it: it goes to the server inside SMTP commands. */
gboolean
envoi_queue_entry_address_is_valid (const char *address)
{
  if (address == NULL || *address == '\0' || strlen (address) > MAX_ADDRESS_LENGTH)
    return FALSE;

  if (!g_utf8_validate (address, -1, NULL))
    return FALSE;

  for (const char *p = address; *p; p++)
    {
      /* Nothing that could end an SMTP command line or split a list. */
      if ((guchar) *p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ';' || *p == ',')
        return FALSE;
    }

  return TRUE;
}

/* An entry read back from its key file; a %G_KEY_FILE_ERROR when the file is damaged. */
EnvoiQueueEntry *
envoi_queue_entry_new_from_keyfile (const char  *id,
                                    GKeyFile    *keyfile,
                                    GError     **error)
{
  g_autofree char *account = NULL;
  g_autofree char *from = NULL;
  g_autofree char *state_name = NULL;
  g_autofree char *last_error = NULL;
  g_auto(GStrv) recipients = NULL;
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  EnvoiQueueState state;
  guint64 attempts;

  if (!(account = g_key_file_get_string (keyfile, "Envelope", "account", error)) ||
      !(from = g_key_file_get_string (keyfile, "Envelope", "from", error)) ||
      !(recipients = g_key_file_get_string_list (keyfile, "Envelope", "recipients", NULL, error)) ||
      !(state_name = g_key_file_get_string (keyfile, "State", "state", error)))
    return NULL;

  if (!envoi_queue_state_from_string (state_name, &state) || state == ENVOI_QUEUE_STATE_SENDING)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "unknown state “%s”", state_name);
      return NULL;
    }

  if (*account == '\0' || recipients[0] == NULL)
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           "empty account or recipients");
      return NULL;
    }

  /* Read from disk is input like any other: the envelope goes to the server as SMTP commands,
   * so it passes the checks of envoi_queue_enqueue() again. A file that fails them is damaged
   * and set aside. */
  if (*from != '\0' && !envoi_queue_entry_address_is_valid (from))
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           "invalid sender address in the envelope");
      return NULL;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!envoi_queue_entry_address_is_valid (recipients[i]))
        {
          g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                               "invalid recipient address in the envelope");
          return NULL;
        }
    }

  entry = envoi_queue_entry_new (id, account, from, (const char * const *) recipients);
  envoi_queue_entry_set_state (entry, state);
  attempts = g_key_file_get_uint64 (keyfile, "State", "attempts", NULL);
  envoi_queue_entry_set_attempts (entry, MIN (attempts, G_MAXUINT));
  envoi_queue_entry_set_next_attempt (entry, g_key_file_get_int64 (keyfile, "State", "next-attempt", NULL));
  envoi_queue_entry_set_queued (entry, g_key_file_get_int64 (keyfile, "State", "queued", NULL));
  envoi_queue_entry_set_size (entry, g_key_file_get_uint64 (keyfile, "State", "size", NULL));
  last_error = g_key_file_get_string (keyfile, "State", "last-error", NULL);
  envoi_queue_entry_set_last_error (entry, last_error);

  return g_steal_pointer (&entry);
}

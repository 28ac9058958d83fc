/* envoi-queue-prepare.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a submitted message becomes before the queue writes it: parsed, given its account and
 * sender, finished (Date, Message-ID, no Bcc) and turned into the bytes of its ID.msg with an
 * entry of its own. Parsing and finishing take time in proportion to the message (about 20 ms
 * a megabyte here), so a large message is prepared in a worker thread and only the choice of
 * its account, which reads the account store, runs on the caller's.
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <glib/gi18n-lib.h>
#include "envoi-gmime-private.h"

#include <unistd.h>

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-message-private.h"
#include "envoi-queue-error.h"
#include "envoi-queue-file.h"
#include "envoi-queue-prepare.h"
#include "envoi-size-limit.h"

/* Up to this size a message is prepared where it is submitted: it takes about a millisecond,
 * less than two hand-offs to a worker thread and back would. */
#define PREPARE_IN_PLACE_BYTES (64 * 1024)

typedef struct
{
  /* What the submitter gave. */
  GBytes       *raw;
  char         *account_id;
  char         *envelope_from;
  char         *full_name;
  GStrv         recipients;
  gboolean      extract;

  /* Parsed, anywhere. */
  GMimeMessage *message;
  char         *header_from;

  /* Chosen where the account store lives. */
  char         *chosen_account;
  char         *sender;
  GPtrArray    *all;            /* every recipient once, NULL-terminated */

  /* Built, anywhere. */
  EnvoiQueueEntry *entry;
  GString         *file;
} Preparation;

static void
preparation_free (gpointer data)
{
  Preparation *prep = data;

  g_bytes_unref (prep->raw);
  g_free (prep->account_id);
  g_free (prep->envelope_from);
  g_free (prep->full_name);
  g_strfreev (prep->recipients);
  g_clear_object (&prep->message);
  g_free (prep->header_from);
  g_free (prep->chosen_account);
  g_free (prep->sender);
  g_clear_pointer (&prep->all, g_ptr_array_unref);
  g_clear_object (&prep->entry);
  if (prep->file != NULL)
    g_string_free (prep->file, TRUE);
  g_free (prep);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Preparation, preparation_free)

static char *
make_id (void)
{
  static gint counter = 0;
  guint32 random = g_random_int () ^ ((guint32) getpid () << 16) ^ (guint32) g_atomic_int_add (&counter, 1);

  return g_strdup_printf ("%014" G_GINT64_MODIFIER "x-%08x", g_get_real_time (), random);
}

/**
 * _envoi_queue_build_entry:
 *
 * Validates the envelope. Touches nothing shared: any thread.
 *
 * Returns: (transfer full): the entry, and in @file the bytes of its ID.msg
 */
EnvoiQueueEntry *
_envoi_queue_build_entry (const char          *account_id,
                          const char          *envelope_from,
                          const char * const  *recipients,
                          GBytes              *message,
                          GString            **file,
                          GError             **error)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autofree char *id = NULL;
  g_autofree char *env_data = NULL;
  gsize env_length;
  gsize msg_length;
  const void *msg_data;

  if (recipients[0] == NULL)
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_RECIPIENTS,
                           _("The message has no recipients"));
      return NULL;
    }

  if (*envelope_from != '\0' && !envoi_queue_entry_address_is_valid (envelope_from))
    {
      g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                   _("“%s” is not a valid sender address"), envelope_from);
      return NULL;
    }

  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!envoi_queue_entry_address_is_valid (recipients[i]))
        {
          g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                       _("“%s” is not a valid recipient address"), recipients[i]);
          return NULL;
        }
    }

  id = make_id ();
  msg_data = g_bytes_get_data (message, &msg_length);

  entry = envoi_queue_entry_new (id, account_id, envelope_from, recipients);
  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_QUEUED);
  envoi_queue_entry_set_queued (entry, g_get_real_time ());
  envoi_queue_entry_set_size (entry, msg_length);
  env_data = envoi_queue_entry_to_keyfile_data (entry, &env_length);

  *file = g_string_sized_new (64 + env_length + msg_length);
  g_string_append_printf (*file, "%s %" G_GSIZE_FORMAT " %" G_GSIZE_FORMAT "\n",
                          ENVOI_QUEUE_FILE_MAGIC, env_length, msg_length);
  g_string_append_len (*file, env_data, env_length);
  g_string_append_len (*file, msg_data, msg_length);

  return g_steal_pointer (&entry);
}

static Preparation *
preparation_new (GBytes              *raw,
                 const char          *account_id,
                 const char          *envelope_from,
                 const char          *full_name,
                 const char * const  *recipients,
                 gboolean             extract)
{
  Preparation *prep = g_new0 (Preparation, 1);

  prep->raw = g_bytes_ref (raw);
  prep->account_id = g_strdup (account_id);
  prep->envelope_from = g_strdup (envelope_from);
  prep->full_name = g_strdup (full_name);
  prep->recipients = g_strdupv ((char **) recipients);
  prep->extract = extract;

  return prep;
}

/* Any thread. */
static gboolean
parse (Preparation  *prep,
       GError      **error)
{
  if (!(prep->message = _envoi_message_parse (prep->raw, error)))
    return FALSE;

  prep->header_from = _envoi_message_dup_header_from (prep->message);

  return TRUE;
}

/* Where @store lives: the account, the sender and the recipients. */
static gboolean
choose (Preparation        *prep,
        EnvoiAccountStore  *store,
        GError            **error)
{
  g_autoptr(GError) invalid = NULL;
  EnvoiAccount *account = NULL;

  if (prep->account_id != NULL && *prep->account_id != '\0')
    {
      if (!(account = envoi_account_store_lookup (store, prep->account_id)))
        {
          g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT,
                       _("There is no account “%s”"), prep->account_id);
          return FALSE;
        }
    }
  else
    {
      account = envoi_account_store_find_by_address (store, prep->header_from);
      if (account == NULL)
        account = envoi_account_store_find_by_address (store, prep->envelope_from);
      if (account == NULL)
        account = envoi_account_store_get_default (store);
      if (account == NULL)
        {
          g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT,
                               _("No mail account is set up: add one in Envoi"));
          return FALSE;
        }
    }

  /* An account without a usable address of its own takes no mail: it would go out with an
   * empty sender. */
  if (!envoi_account_check_address (account, &invalid))
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT, invalid->message);
      return FALSE;
    }

  prep->chosen_account = g_strdup (envoi_account_get_id (account));
  prep->sender = g_strdup (prep->envelope_from != NULL && *prep->envelope_from != '\0'
                           ? prep->envelope_from : envoi_account_get_address (account));

  prep->all = g_ptr_array_new_with_free_func (g_free);
  if (prep->recipients != NULL)
    {
      for (guint i = 0; prep->recipients[i] != NULL; i++)
        _envoi_message_add_unique (prep->all, prep->recipients[i]);
    }

  if (prep->extract)
    {
      g_auto(GStrv) extracted = _envoi_message_extract_recipients (prep->message);

      for (guint i = 0; extracted[i] != NULL; i++)
        _envoi_message_add_unique (prep->all, extracted[i]);
    }

  if (prep->all->len == 0)
    {
      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_RECIPIENTS,
                           _("The message has no recipients"));
      return FALSE;
    }
  g_ptr_array_add (prep->all, NULL);

  return TRUE;
}

/* Any thread. */
static gboolean
build (Preparation  *prep,
       GError      **error)
{
  g_autoptr(GBytes) prepared = NULL;

  prepared = _envoi_message_finish_checked (prep->message, prep->sender, prep->full_name, error);
  if (prepared == NULL)
    return FALSE;

  prep->entry = _envoi_queue_build_entry (prep->chosen_account, prep->sender,
                                          (const char * const *) prep->all->pdata, prepared,
                                          &prep->file, error);

  return prep->entry != NULL;
}

static gboolean
check_size (GBytes   *raw,
            guint64   max_size,
            GError  **error)
{
  g_autofree char *reason = NULL;

  if (max_size == 0 || g_bytes_get_size (raw) <= max_size)
    return TRUE;

  reason = envoi_size_limit_describe (max_size);
  g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_TOO_LARGE, reason);

  return FALSE;
}

/**
 * _envoi_queue_prepare:
 * @store: the accounts, used on this thread
 * @max_size: the largest message taken, in bytes; 0: no limit
 * @extract: add the recipients of the To, Cc and Bcc headers
 *
 * Prepares a message here and now, whatever its size.
 *
 * Returns: (transfer full): the entry, and in @file the bytes of its ID.msg
 */
EnvoiQueueEntry *
_envoi_queue_prepare (EnvoiAccountStore   *store,
                      GBytes              *raw,
                      const char          *account_id,
                      const char          *envelope_from,
                      const char          *full_name,
                      const char * const  *recipients,
                      gboolean             extract,
                      guint64              max_size,
                      GString            **file,
                      GError             **error)
{
  g_autoptr(Preparation) prep = NULL;

  if (!check_size (raw, max_size, error))
    return NULL;

  prep = preparation_new (raw, account_id, envelope_from, full_name, recipients, extract);
  if (!parse (prep, error) || !choose (prep, store, error) || !build (prep, error))
    return NULL;

  *file = g_steal_pointer (&prep->file);

  return g_steal_pointer (&prep->entry);
}

typedef gboolean (*Step) (Preparation  *prep,
                          GError      **error);

static void
step_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Step step = (Step) g_task_get_source_tag (task);
  GError *error = NULL;

  if (step (task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* Runs @step on @task's Preparation in a worker thread, then @callback here; the worker task's
 * source tag is the step it runs. */
static void
run_step (GTask               *task,
          Step                 step,
          GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) worker = g_task_new (NULL, g_task_get_cancellable (task), callback, task);

  g_task_set_source_tag (worker, step);
  g_task_set_task_data (worker, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (worker, step_thread);
}

static void
built_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
parsed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiAccountStore *store = g_task_get_source_object (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) ||
      !choose (g_task_get_task_data (task), store, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  run_step (g_steal_pointer (&task), build, built_cb);
}

/* Up to PREPARE_IN_PLACE_BYTES, _envoi_queue_prepare() costs less than the hand-offs of
 * _envoi_queue_prepare_async(). */
gboolean
_envoi_queue_prepares_in_place (GBytes *raw)
{
  return g_bytes_get_size (raw) <= PREPARE_IN_PLACE_BYTES;
}

/**
 * _envoi_queue_prepare_async:
 *
 * Prepares a message as _envoi_queue_prepare() does, in a worker thread but for the choice of
 * its account, made on this one, where @store lives.
 */
void
_envoi_queue_prepare_async (EnvoiAccountStore   *store,
                            GBytes              *raw,
                            const char          *account_id,
                            const char          *envelope_from,
                            const char          *full_name,
                            const char * const  *recipients,
                            gboolean             extract,
                            guint64              max_size,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (store, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, _envoi_queue_prepare_async);

  if (!check_size (raw, max_size, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_set_task_data (task,
                        preparation_new (raw, account_id, envelope_from, full_name, recipients, extract),
                        preparation_free);
  run_step (g_steal_pointer (&task), parse, parsed_cb);
}

/**
 * _envoi_queue_prepare_finish:
 *
 * Returns: (transfer full): the entry, and in @file the bytes of its ID.msg
 */
EnvoiQueueEntry *
_envoi_queue_prepare_finish (GAsyncResult  *result,
                             GString      **file,
                             GError       **error)
{
  Preparation *prep;

  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == _envoi_queue_prepare_async, NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  prep = g_task_get_task_data (G_TASK (result));
  *file = g_steal_pointer (&prep->file);

  return g_steal_pointer (&prep->entry);
}

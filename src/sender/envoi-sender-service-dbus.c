/* envoi-sender-service-dbus.c: the sender's D-Bus methods (io.github.envoimail.Envoi.Sender1):
 * Submit, List, Describe, Retry, Cancel, Flush, GetUsage, History and ResumeAccount. Each
 * answers from the service's state (envoi-sender-service-private.h) and calls into the
 * scheduler for what it changes; nothing here waits on the main loop.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE  /* F_GET_SEALS */
#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gunixinputstream.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-history.h"
#include "envoi-queue.h"
#include "envoi-sender-service-private.h"
#include "envoi-size-limit.h"

#define READ_CHUNK (64 * 1024)

typedef struct
{
  EnvoiSenderService    *self;
  GDBusMethodInvocation *invocation;
} HistoryRequest;

static void
history_ready_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  HistoryRequest *request = user_data;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  records = envoi_history_query_finish (ENVOI_HISTORY (source), result, &error);
  if (records == NULL)
    g_dbus_method_invocation_return_gerror (request->invocation, error);
  else
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a" ENVOI_HISTORY_RECORD_VARIANT_TYPE));
      for (guint i = 0; i < records->len; i++)
        g_variant_builder_add_value (&builder, envoi_history_record_to_variant (records->pdata[i]));
      envoi_dbus_sender1_complete_history (request->self->skeleton, request->invocation,
                                           g_variant_builder_end (&builder));
    }

  g_application_release (G_APPLICATION (request->self));
  g_object_unref (request->self);
  g_object_unref (request->invocation);
  g_free (request);
}

/* Describe: the Subject and Message-ID of queued messages, read in a worker thread. */

static void
describe_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  EnvoiSenderService *self = source_object;
  const char * const *ids = task_data;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sa{sv}}"));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(EnvoiQueueEntry) entry = NULL;
      g_autofree char *subject = NULL;
      g_autofree char *message_id = NULL;
      GVariantBuilder details;
      goffset offset;
      gsize length;
      int fd;
      const char *none[] = { NULL };

      if (!envoi_queue_id_is_valid (ids[i]))
        continue;
      entry = envoi_queue_entry_new (ids[i], "", "", none);
      if ((fd = envoi_queue_open_message (self->queue, entry, &offset, &length, NULL)) < 0)
        continue;
      envoi_history_read_headers (fd, offset, length, &subject, &message_id);
      close (fd);

      g_variant_builder_init (&details, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&details, "{sv}", "subject", g_variant_new_string (subject ? subject : ""));
      g_variant_builder_add (&details, "{sv}", "message-id", g_variant_new_string (message_id ? message_id : ""));
      g_variant_builder_add (&builder, "{s@a{sv}}", ids[i], g_variant_builder_end (&details));
    }

  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&builder)),
                         (GDestroyNotify) g_variant_unref);
}

static void
describe_ready_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (source);
  g_autoptr(GVariant) details = g_task_propagate_pointer (G_TASK (result), NULL);

  envoi_dbus_sender1_complete_describe (self->skeleton, invocation, details);
  g_application_release (G_APPLICATION (self));
}

static gboolean
handle_describe_cb (EnvoiSenderService    *self,
                    GDBusMethodInvocation *invocation,
                    const char * const    *ids,
                    EnvoiDBusSender1      *skeleton)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, describe_ready_cb, g_object_ref (invocation));

  g_application_hold (G_APPLICATION (self));
  g_task_set_task_data (task, g_strdupv ((char **) ids), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, describe_thread);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Read by the history's worker thread: the main loop goes on delivering meanwhile. */
static gboolean
handle_history_cb (EnvoiSenderService    *self,
                   GDBusMethodInvocation *invocation,
                   guint                  offset,
                   guint                  limit,
                   const char            *search,
                   EnvoiDBusSender1      *skeleton)
{
  HistoryRequest *request = g_new0 (HistoryRequest, 1);

  request->self = g_object_ref (self);
  request->invocation = g_object_ref (invocation);
  g_application_hold (G_APPLICATION (self));
  envoi_history_query_async (self->history, offset, limit, search, NULL, history_ready_cb, request);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The account dialog saved a password: the keyring may not say so itself (not every Secret
 * Service emits ItemChanged), and the settings may not have changed at all. */
static gboolean
handle_resume_account_cb (EnvoiSenderService    *self,
                          GDBusMethodInvocation *invocation,
                          const char            *account_id,
                          EnvoiDBusSender1      *skeleton)
{
  EnvoiDelivery *delivery = g_hash_table_lookup (self->deliveries, account_id);

  if (delivery != NULL)
    _envoi_sender_service_resume_delivery (self, delivery, "password saved");
  envoi_dbus_sender1_complete_resume_account (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* D-Bus methods */

typedef struct
{
  EnvoiSenderService    *self;
  GDBusMethodInvocation *invocation;
  GInputStream          *stream;
  GByteArray            *data;
  GVariant              *options;
  guint64                max_size;
} Submission;

static void
submission_free (Submission *submission)
{
  g_object_unref (submission->self);
  g_object_unref (submission->invocation);
  g_object_unref (submission->stream);
  g_byte_array_unref (submission->data);
  g_variant_unref (submission->options);
  g_free (submission);
}

static void read_more (Submission *submission);

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Submission *submission = user_data;
  EnvoiSenderService *self = submission->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = envoi_queue_submit_finish (ENVOI_QUEUE (source), result, &error);
  if (id == NULL)
    {
      g_dbus_method_invocation_return_gerror (submission->invocation, error);
    }
  else
    {
      _envoi_sender_service_take_submitted (self, envoi_queue_submit_get_entry (result));
      envoi_dbus_sender1_complete_submit (self->skeleton, submission->invocation, NULL, id);
    }

  submission_free (submission);
}

/* Takes @submission. The reply goes only once the message is on disk. */
static void
finish_submission (Submission *submission)
{
  EnvoiSenderService *self = submission->self;
  g_autoptr(GBytes) raw = g_byte_array_free_to_bytes (g_steal_pointer (&submission->data));
  g_autofree char *account = NULL;
  g_autofree char *from = NULL;
  g_autofree char *full_name = NULL;
  g_autofree const char **recipients = NULL;
  gboolean extract = FALSE;

  submission->data = g_byte_array_new ();

  g_variant_lookup (submission->options, "account", "s", &account);
  g_variant_lookup (submission->options, "from", "s", &from);
  g_variant_lookup (submission->options, "full-name", "s", &full_name);
  g_variant_lookup (submission->options, "recipients", "^a&s", &recipients);
  g_variant_lookup (submission->options, "extract-recipients", "b", &extract);

  envoi_queue_submit_async (self->queue, self->store, raw, account, from, full_name,
                            recipients, extract, submission->max_size, NULL,
                            submitted_cb, submission);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Submission *submission = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      g_dbus_method_invocation_return_error (submission->invocation, ENVOI_QUEUE_ERROR,
                                             ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                                             _("The message could not be read: %s"),
                                             error->message);
      submission_free (submission);
      return;
    }

  if (g_bytes_get_size (bytes) == 0)
    {
      finish_submission (submission);
      return;
    }

  g_byte_array_append (submission->data, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (submission->data->len > submission->max_size)
    {
      g_autofree char *reason = envoi_size_limit_describe (submission->max_size);

      g_dbus_method_invocation_return_error_literal (submission->invocation, ENVOI_QUEUE_ERROR,
                                                     ENVOI_QUEUE_ERROR_TOO_LARGE, reason);
      submission_free (submission);
      return;
    }

  read_more (submission);
}

static void
read_more (Submission *submission)
{
  g_input_stream_read_bytes_async (submission->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   submission->self->cancellable, read_cb, submission);
}

/* A memfd (what envoi-sendmail and the client libraries pass) is memory: reading it cannot wait
 * on a disk or a peer, so it is read here at once, without a worker thread's round trip per
 * chunk. Anything else (a pipe, a file on disk) is read asynchronously. Returns FALSE, with
 * @submission untouched and the descriptor still open, for those. */
static gboolean
read_memfd (Submission *submission,
            int         fd)
{
  gsize limit = MIN (submission->max_size, G_MAXSIZE - 1) + 1;
  guint8 chunk[READ_CHUNK];

  if (fcntl (fd, F_GET_SEALS) < 0)
    return FALSE;

  while (submission->data->len < limit)
    {
      ssize_t n = read (fd, chunk, MIN (sizeof chunk, limit - submission->data->len));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_dbus_method_invocation_return_error (submission->invocation, ENVOI_QUEUE_ERROR,
                                                 ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                                                 _("The message could not be read: %s"),
                                                 g_strerror (errno));
          submission_free (submission);
          return TRUE;
        }
      if (n == 0)
        break;
      g_byte_array_append (submission->data, chunk, n);
    }

  if (submission->data->len > submission->max_size)
    {
      g_autofree char *reason = envoi_size_limit_describe (submission->max_size);

      g_dbus_method_invocation_return_error_literal (submission->invocation, ENVOI_QUEUE_ERROR,
                                                     ENVOI_QUEUE_ERROR_TOO_LARGE, reason);
      submission_free (submission);
      return TRUE;
    }

  finish_submission (submission);
  return TRUE;
}

static gboolean
handle_submit_cb (EnvoiSenderService    *self,
                  GDBusMethodInvocation *invocation,
                  GUnixFDList           *fd_list,
                  GVariant              *message,
                  GVariant              *options,
                  EnvoiDBusSender1      *skeleton)
{
  g_autoptr(GError) error = NULL;
  Submission *submission;
  int fd;

  fd = fd_list != NULL ? g_unix_fd_list_get (fd_list, g_variant_get_handle (message), &error) : -1;
  if (fd < 0)
    {
      g_dbus_method_invocation_return_error (invocation, ENVOI_QUEUE_ERROR,
                                             ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                                             _("The message could not be read: %s"),
                                             error != NULL ? error->message : _("no file descriptor"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  submission = g_new0 (Submission, 1);
  submission->self = g_object_ref (self);
  submission->invocation = g_object_ref (invocation);
  submission->stream = g_unix_input_stream_new (fd, TRUE);
  submission->data = g_byte_array_new ();
  submission->options = g_variant_ref (options);
  submission->max_size = g_settings_get_uint (self->settings, "max-message-size");
  if (!read_memfd (submission, fd))
    read_more (submission);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* What the scheduler would make of a message waiting on disk, outside its account's window, if
 * it were resident: the pauses and limits of now, as add_entries() and schedule_cb() decide them.
 * @allowed caches the limits' answer per account for one listing. */
static EnvoiQueueState
waiting_state (EnvoiSenderService  *self,
               EnvoiQueueEntry     *entry,
               GHashTable          *allowed,
               gint64               now,
               const char         **reason)
{
  const char *account_id = envoi_queue_entry_get_account_id (entry);
  EnvoiQueueState state = envoi_queue_entry_get_state (entry);
  EnvoiAccount *account;
  EnvoiDelivery *delivery;
  gint64 *until;

  if (state == ENVOI_QUEUE_STATE_PAUSED || state == ENVOI_QUEUE_STATE_WAITING_LIMIT)
    state = ENVOI_QUEUE_STATE_QUEUED;
  if (state != ENVOI_QUEUE_STATE_QUEUED && state != ENVOI_QUEUE_STATE_DEFERRED)
    return state;

  if (!(account = envoi_account_store_lookup (self->store, account_id)))
    {
      *reason = _("The account no longer exists");
      return ENVOI_QUEUE_STATE_PAUSED;
    }

  delivery = g_hash_table_lookup (self->deliveries, account_id);
  if (delivery != NULL && envoi_delivery_get_paused (delivery))
    {
      GQueue *pending = envoi_delivery_get_pending (delivery);

      if (pending->head != NULL && envoi_queue_entry_get_last_error (pending->head->data) != NULL)
        *reason = envoi_queue_entry_get_last_error (pending->head->data);
      return ENVOI_QUEUE_STATE_PAUSED;
    }

  if (!(until = g_hash_table_lookup (allowed, account_id)))
    {
      until = g_new (gint64, 1);
      *until = envoi_ledger_next_allowed (self->ledger, account_id, now,
                                          envoi_account_get_hourly_limit (account),
                                          envoi_account_get_daily_limit (account));
      g_hash_table_insert (allowed, (gpointer) account_id, until);
    }
  if (*until > now && envoi_queue_entry_get_next_attempt (entry) <= *until)
    return ENVOI_QUEUE_STATE_WAITING_LIMIT;

  return state;
}

typedef struct
{
  EnvoiSenderService    *self;
  GDBusMethodInvocation *invocation;
} ListRequest;

static void
list_request_free (ListRequest *request)
{
  g_application_release (G_APPLICATION (request->self));
  g_object_unref (request->self);
  g_object_unref (request->invocation);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ListRequest, list_request_free)

/* Back on the main loop: the states of the messages outside the window come from the daemon's
 * state of now, read here only. */
static void
list_ready_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ListRequest) request = user_data;
  EnvoiSenderService *self = request->self;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) allowed = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time ();
  GVariantBuilder builder;

  if (!(entries = envoi_queue_list_finish (ENVOI_QUEUE (source), result, &error)))
    {
      g_dbus_method_invocation_return_gerror (request->invocation, error);
      return;
    }

  allowed = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssuxxsass)"));
  for (guint i = 0; i < entries->len; i++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (entries, i);
      const char *last_error = envoi_queue_entry_get_last_error (entry);
      gint64 next = envoi_queue_entry_get_next_attempt (entry);
      EnvoiQueueState state = envoi_queue_entry_get_state (entry);

      if (envoi_queue_lookup (self->queue, envoi_queue_entry_get_id (entry)) != entry)
        state = waiting_state (self, entry, allowed, now, &last_error);

      g_variant_builder_add (&builder, "(sssuxxs^ass)",
                             envoi_queue_entry_get_id (entry),
                             envoi_queue_entry_get_account_id (entry),
                             envoi_queue_state_to_string (state),
                             envoi_queue_entry_get_attempts (entry),
                             next > 0 ? next / G_USEC_PER_SEC : (gint64) 0,
                             envoi_queue_entry_get_queued (entry) / G_USEC_PER_SEC,
                             envoi_queue_entry_get_from (entry),
                             envoi_queue_entry_get_recipients (entry),
                             last_error != NULL ? last_error : "");
    }

  envoi_dbus_sender1_complete_list (self->skeleton, request->invocation,
                                    g_variant_builder_end (&builder));
  if (entries->len > 64)
    _envoi_sender_service_release_memory (self);
}

/* Reading thousands of envelopes from disk takes a while: a worker thread does it, and the main
 * loop goes on delivering and answering meanwhile. The daemon stays until it has answered. */
static gboolean
handle_list_cb (EnvoiSenderService    *self,
                GDBusMethodInvocation *invocation,
                EnvoiDBusSender1      *skeleton)
{
  ListRequest *request = g_new0 (ListRequest, 1);

  request->self = g_object_ref (self);
  request->invocation = g_object_ref (invocation);
  g_application_hold (G_APPLICATION (self));
  envoi_queue_list_async (self->queue, self->cancellable, list_ready_cb, request);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_retry_cb (EnvoiSenderService    *self,
                 GDBusMethodInvocation *invocation,
                 const char            *id,
                 EnvoiDBusSender1      *skeleton)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiDelivery *delivery;
  gboolean resident;

  /* A failed message is queued again on disk by the queue, and comes back into its account's
   * window if there is room; the others are made due. */
  if (!(entry = envoi_queue_retry (self->queue, id, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  delivery = _envoi_sender_service_get_delivery (self, envoi_queue_entry_get_account_id (entry));
  resident = envoi_queue_lookup (self->queue, id) == entry;
  if (resident && g_queue_find (envoi_delivery_get_pending (delivery), entry) == NULL)
    {
      g_queue_push_tail (envoi_delivery_get_pending (delivery), g_object_ref (entry));
      _envoi_sender_service_emit_changed (self, entry, NULL);
    }
  else if (!_envoi_sender_service_is_sending (entry))
    {
      envoi_queue_entry_set_next_attempt (entry, 0);
      envoi_delivery_set_blocked_until (delivery, 0);
      if (envoi_delivery_get_paused (delivery))
        _envoi_sender_service_resume_delivery (self, delivery, "retry");
      if (!resident)
        _envoi_sender_service_emit_changed (self, entry, NULL);
    }

  _envoi_sender_service_schedule (self);
  _envoi_sender_service_update_idle (self);
  envoi_dbus_sender1_complete_retry (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_cancel_cb (EnvoiSenderService    *self,
                  GDBusMethodInvocation *invocation,
                  const char            *id,
                  EnvoiDBusSender1      *skeleton)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiDelivery *delivery;

  /* Resident or waiting on disk outside the window. */
  if (!(entry = envoi_queue_load (self->queue, id, &error)))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (_envoi_sender_service_is_sending (entry))
    {
      g_dbus_method_invocation_return_error (invocation, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_FAILED,
                                             _("The message is being sent right now"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  delivery = _envoi_sender_service_get_delivery (self, envoi_queue_entry_get_account_id (entry));
  if (g_queue_remove (envoi_delivery_get_pending (delivery), entry))
    g_object_unref (entry);

  /* A failed message has its record already; removing it is tidying up. */
  if (envoi_queue_entry_get_state (entry) != ENVOI_QUEUE_STATE_FAILED)
    _envoi_sender_service_record_history (self, entry, ENVOI_HISTORY_CANCELLED, envoi_queue_entry_get_last_error (entry), FALSE);

  if (!envoi_queue_remove (self->queue, id, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  _envoi_sender_service_queue_sync (self);

  _envoi_sender_service_log_event (self, id, envoi_queue_entry_get_account_id (entry), "cancelled", NULL);
  _envoi_sender_service_emit_changed (self, entry, "cancelled");
  _envoi_sender_service_update_idle (self);
  envoi_dbus_sender1_complete_cancel (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_flush_cb (EnvoiSenderService    *self,
                 GDBusMethodInvocation *invocation,
                 EnvoiDBusSender1      *skeleton)
{
  GHashTableIter iter;
  gpointer value;

  _envoi_sender_service_scan_queue (self);

  /* "Try every waiting message now": the paused accounts too, with fresh passwords. */
  _envoi_sender_service_resume_paused (self, FALSE, "flush");
  envoi_queue_forget_delays (self->queue, NULL);
  g_hash_table_iter_init (&iter, self->deliveries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      envoi_delivery_set_blocked_until (value, 0);
      for (GList *l = envoi_delivery_get_pending (value)->head; l != NULL; l = l->next)
        envoi_queue_entry_set_next_attempt (l->data, 0);
    }

  _envoi_sender_service_schedule (self);
  envoi_dbus_sender1_complete_flush (skeleton, invocation);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_usage_cb (EnvoiSenderService    *self,
                     GDBusMethodInvocation *invocation,
                     const char            *account_id,
                     EnvoiDBusSender1      *skeleton)
{
  EnvoiAccount *account = envoi_account_store_lookup (self->store, account_id);
  gint64 now = g_get_real_time ();
  gint64 next;
  guint hour, day;

  if (account == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT,
                                             _("There is no account “%s”"), account_id);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  envoi_ledger_get_usage (self->ledger, account_id, now, &hour, &day);
  next = envoi_ledger_next_allowed (self->ledger, account_id, now,
                                    envoi_account_get_hourly_limit (account),
                                    envoi_account_get_daily_limit (account));
  envoi_dbus_sender1_complete_get_usage (skeleton, invocation, hour, day,
                                         envoi_account_get_hourly_limit (account),
                                         envoi_account_get_daily_limit (account),
                                         next > now ? next / G_USEC_PER_SEC : 0);

  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
_envoi_sender_service_init_dbus (EnvoiSenderService *self)
{
  g_signal_connect_object (self->skeleton, "handle-submit", G_CALLBACK (handle_submit_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-list", G_CALLBACK (handle_list_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-retry", G_CALLBACK (handle_retry_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-cancel", G_CALLBACK (handle_cancel_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-flush", G_CALLBACK (handle_flush_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-get-usage", G_CALLBACK (handle_get_usage_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-history", G_CALLBACK (handle_history_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-describe", G_CALLBACK (handle_describe_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->skeleton, "handle-resume-account", G_CALLBACK (handle_resume_account_cb), self, G_CONNECT_SWAPPED);
}

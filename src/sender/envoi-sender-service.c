/* envoi-sender-service.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-autostart.h"
#include "envoi-delivery.h"
#include "envoi-gmime-private.h"
#include "envoi-history.h"
#include "envoi-keyring-watch.h"
#include "envoi-ledger.h"
#include "envoi-queue.h"
#include "envoi-reason.h"
#include "envoi-secret.h"  /* EnvoiSecretError codes only: nothing of libsecret is linked */
#include "envoi-sender-dbus.h"
#include "envoi-sender-service.h"
#include "envoi-sender-service-private.h"
#include "envoi-smtp-error.h"
#include "envoi-submit-socket.h"
#include "envoi-unix-socket.h"
#include "envoi-size-limit.h"

#define DEFAULT_IDLE_TIMEOUT_SECONDS 60
#define SYNC_DELAY_MS 100
#define RELEASE_SECONDS 5

G_DEFINE_FINAL_TYPE (EnvoiSenderService, envoi_sender_service, G_TYPE_APPLICATION)

static gboolean keyring_locked (const GError *error);
static void wait_for_keyring (EnvoiSenderService *self, EnvoiDelivery *delivery,
                              EnvoiQueueEntry *entry, guint unlocks);
static guint keyring_unlocks (EnvoiSenderService *self);
static void hold_if_paused (EnvoiDelivery *delivery, EnvoiQueueEntry *entry);
static gboolean is_sending (gpointer entry);

/* One line per event in $XDG_STATE_HOME/envoi/delivery.log: no secrets, no message contents. */
void
_envoi_sender_service_log_event (EnvoiSenderService *self,
                                 const char         *id,
                                 const char         *account_id,
                                 const char         *event,
                                 const char         *detail)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *clean = envoi_reason_sanitize (detail != NULL ? detail : "");
  g_autofree char *line = NULL;

  line = g_strdup_printf ("%s %s %s %s %s\n", stamp, id, account_id, event, clean);
  if (self->log_fd >= 0 && write (self->log_fd, line, strlen (line)) < 0)
    g_debug ("Could not write the delivery log: %s", g_strerror (errno));
  g_debug ("%s", line);
}

EnvoiDelivery *
_envoi_sender_service_get_delivery (EnvoiSenderService *self,
                                    const char         *account_id)
{
  EnvoiDelivery *delivery = g_hash_table_lookup (self->deliveries, account_id);

  if (delivery == NULL)
    {
      EnvoiAccount *account = envoi_account_store_lookup (self->store, account_id);

      delivery = envoi_delivery_new (account);
      g_hash_table_insert (self->deliveries, (gpointer) g_intern_string (account_id), delivery);
    }

  return delivery;
}

static gboolean
release_memory_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;

#ifdef __GLIBC__
  malloc_trim (0);
#endif

  /* A long List reply is freed by GDBus's thread only once it is sent, which may take longer
   * than a second: trim each second for a few. */
  if (--self->trims_left > 0)
    return G_SOURCE_CONTINUE;

  self->trim_id = 0;

  return G_SOURCE_REMOVE;
}

/* Counting thousands of queued files, listing them or announcing thousands of state changes
 * churns through memory (key files, D-Bus messages built in GDBus's thread); once that is over,
 * the scratch memory goes back to the system. Only a window of entries per account stays
 * (envoi-queue.h), so the resident size does not follow the queue's length. */
void
_envoi_sender_service_release_memory (EnvoiSenderService *self)
{
  self->trims_left = RELEASE_SECONDS;
  if (self->trim_id == 0)
    self->trim_id = g_timeout_add_seconds (1, release_memory_cb, self);
}

void
_envoi_sender_service_emit_changed (EnvoiSenderService *self,
                                    EnvoiQueueEntry    *entry,
                                    const char         *state)
{
  const char *last_error = envoi_queue_entry_get_last_error (entry);

  /* Whatever is said now supersedes a "sending" not said yet. */
  g_hash_table_remove (self->sending_news, entry);

  envoi_dbus_sender1_emit_message_changed (self->skeleton,
                                           envoi_queue_entry_get_id (entry),
                                           envoi_queue_entry_get_account_id (entry),
                                           state != NULL ? state :
                                           envoi_queue_state_to_string (envoi_queue_entry_get_state (entry)),
                                           last_error != NULL ? last_error : "");
}

/* "sending" is said of a message still being sent SENDING_NEWS_MS after it started: in a burst
 * over a fast server, each goes from queued to sent in well under a millisecond, and a signal for
 * a state no one could see would cost the daemon and the bus a third of the burst's D-Bus
 * traffic. A send that takes longer is shown sending as soon as anyone would notice. */
#define SENDING_NEWS_MS 50

static gboolean
sending_news_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key;

  self->sending_news_id = 0;
  g_hash_table_iter_init (&iter, self->sending_news);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (entries, g_object_ref (key));
  g_hash_table_remove_all (self->sending_news);

  for (guint i = 0; i < entries->len; i++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (entries, i);

      if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_SENDING && is_sending (entry))
        _envoi_sender_service_emit_changed (self, entry, NULL);
    }

  return G_SOURCE_REMOVE;
}

static void
set_state (EnvoiSenderService *self,
           EnvoiQueueEntry    *entry,
           EnvoiQueueState     state,
           gboolean            persist)
{
  g_autoptr(GError) error = NULL;

  if (envoi_queue_entry_get_state (entry) == state && !persist)
    return;

  envoi_queue_entry_set_state (entry, state);
  if (persist && !envoi_queue_update (self->queue, entry, &error))
    g_warning ("%s", error->message);

  if (state == ENVOI_QUEUE_STATE_SENDING)
    {
      g_hash_table_add (self->sending_news, g_object_ref (entry));
      if (self->sending_news_id == 0)
        self->sending_news_id = g_timeout_add (SENDING_NEWS_MS, sending_news_cb, self);
      return;
    }

  _envoi_sender_service_emit_changed (self, entry, NULL);
}

static gboolean
sync_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;
  g_autoptr(GError) error = NULL;

  self->sync_id = 0;
  if (!envoi_queue_sync (self->queue, &error))
    g_warning ("%s", error->message);
  g_clear_error (&error);
  if (!envoi_ledger_sync (self->ledger, &error))
    g_warning ("%s", error->message);

  return G_SOURCE_REMOVE;
}

/* Removals and ledger lines are already in the files; this makes them survive a power cut too,
 * once per burst rather than once per message. */
void
_envoi_sender_service_queue_sync (EnvoiSenderService *self)
{
  if (self->sync_id == 0)
    self->sync_id = g_timeout_add (SYNC_DELAY_MS, sync_cb, self);
}

/* UsageChanged: at once for a message alone; during a burst, once per account and
 * USAGE_INTERVAL_MS with the figures of then, rather than once per message (a D-Bus signal
 * costs the daemon and the bus as much as the rest of a delivery). */
#define USAGE_INTERVAL_MS 100

static void
emit_usage (EnvoiSenderService *self,
            const char         *account_id)
{
  guint hour, day;

  envoi_ledger_get_usage (self->ledger, account_id, g_get_real_time (), &hour, &day);
  envoi_dbus_sender1_emit_usage_changed (self->skeleton, account_id, hour, day);
}

static gboolean
usage_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;
  GHashTableIter iter;
  gpointer key;

  if (g_hash_table_size (self->usage_dirty) == 0)
    {
      self->usage_id = 0;
      return G_SOURCE_REMOVE;
    }

  g_hash_table_iter_init (&iter, self->usage_dirty);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    emit_usage (self, key);
  g_hash_table_remove_all (self->usage_dirty);

  return G_SOURCE_CONTINUE;
}

static void
usage_changed (EnvoiSenderService *self,
               const char         *account_id)
{
  if (self->usage_id != 0)
    {
      g_hash_table_add (self->usage_dirty, g_strdup (account_id));
      return;
    }

  emit_usage (self, account_id);
  self->usage_id = g_timeout_add (USAGE_INTERVAL_MS, usage_cb, self);
}

/* The delivery history */

#define HISTORY_OUTCOME_KEY "envoi-history-outcome"

typedef struct
{
  EnvoiSenderService *self;
  EnvoiQueueEntry    *entry;
  gboolean            announce_sent;
} HistoryWrite;

static void
history_added_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  HistoryWrite *write = user_data;
  EnvoiSenderService *self = write->self;
  g_autoptr(EnvoiHistoryRecord) record = NULL;
  g_autoptr(GError) error = NULL;

  record = envoi_history_add_finish (ENVOI_HISTORY (source), result, &error);
  if (record == NULL)
    g_warning ("%s", error->message);
  else if (record->id > 0)
    envoi_dbus_sender1_emit_history_added (self->skeleton, envoi_history_record_to_variant (record));

  /* Sent is said once the record is stored: whoever heard it finds it in the history. */
  if (write->announce_sent)
    _envoi_sender_service_emit_changed (self, write->entry, "sent");

  g_application_release (G_APPLICATION (self));
  g_object_unref (write->entry);
  g_object_unref (write->self);
  g_free (write);
}

/* One record for a message that leaves the queue (or fails for good). The worker reads its
 * Subject and Message-ID from the queue file, opened here while it is still there; when
 * @announce_sent, the message's MessageChanged "sent" waits for the record. */
void
_envoi_sender_service_record_history (EnvoiSenderService *self,
                                      EnvoiQueueEntry    *entry,
                                      const char         *outcome,
                                      const char         *reply,
                                      gboolean            announce_sent)
{
  g_autoptr(EnvoiHistoryRecord) record = envoi_history_record_new ();
  HistoryWrite *write;
  goffset offset = 0;
  gsize length = 0;
  int fd;

  record->time = g_get_real_time () / G_USEC_PER_SEC;
  g_free (record->queue_id);
  record->queue_id = g_strdup (envoi_queue_entry_get_id (entry));
  g_free (record->account_id);
  record->account_id = g_strdup (envoi_queue_entry_get_account_id (entry));
  g_free (record->outcome);
  record->outcome = g_strdup (outcome);
  g_free (record->from);
  record->from = g_strdup (envoi_queue_entry_get_from (entry));
  g_strfreev (record->recipients);
  record->recipients = g_strdupv ((char **) envoi_queue_entry_get_recipients (entry));
  record->size = envoi_queue_entry_get_size (entry);
  record->attempts = envoi_queue_entry_get_attempts (entry);
  g_free (record->reply);
  record->reply = g_strdelimit (g_strdup (reply != NULL ? reply : ""), "\r\n", ' ');
  g_strstrip (record->reply);

  fd = envoi_queue_open_message (self->queue, entry, &offset, &length, NULL);
  if (fd >= 0 && record->size == 0)
    record->size = length;

  write = g_new0 (HistoryWrite, 1);
  write->self = g_object_ref (self);
  write->entry = g_object_ref (entry);
  write->announce_sent = announce_sent;
  /* The daemon does not leave on idle with a record not yet written. */
  g_application_hold (G_APPLICATION (self));
  envoi_history_add_async (self->history, record, fd, offset, length, history_added_cb, write);
}

static void
history_limits_changed_cb (EnvoiSenderService *self)
{
  envoi_history_set_limits (self->history,
                            g_settings_get_uint (self->settings, "history-days"),
                            g_settings_get_uint (self->settings, "history-max-records"));
}

/* @known_up_to: the queue's mark before the scan that found @entries (NULL: every one is new);
 * those up to it come back from disk into a window, and were listed already. */
static void
add_entries (EnvoiSenderService *self,
             GPtrArray          *entries,
             const char         *known_up_to)
{
  for (guint i = 0; i < entries->len; i++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (entries, i);
      EnvoiDelivery *delivery;

      if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED)
        continue;

      /* Pauses and limits are recomputed: they are facts about now, not about the message. */
      if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_PAUSED ||
          envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_WAITING_LIMIT)
        envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_QUEUED);

      delivery = _envoi_sender_service_get_delivery (self, envoi_queue_entry_get_account_id (entry));
      g_queue_push_tail (envoi_delivery_get_pending (delivery), g_object_ref (entry));
      hold_if_paused (delivery, entry);

      /* What was there at startup is for List to tell; new arrivals are news, a refill's
       * messages are not. */
      if (self->loaded &&
          (known_up_to == NULL || strcmp (envoi_queue_entry_get_id (entry), known_up_to) > 0))
        _envoi_sender_service_emit_changed (self, entry, NULL);
    }
}

/* An entry this process enqueued itself: already indexed, so no scan will find it. */
static void
add_entry (EnvoiSenderService *self,
           EnvoiQueueEntry    *entry)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();

  g_assert (entry != NULL);
  g_ptr_array_add (entries, entry);
  add_entries (self, entries, NULL);
  _envoi_sender_service_schedule (self);
  _envoi_sender_service_update_idle (self);
}

static void
take_scan (EnvoiSenderService *self,
           GPtrArray          *added,
           GPtrArray          *damaged,
           const char         *known_up_to)
{
  for (guint i = 0; i < damaged->len; i++)
    _envoi_sender_service_log_event (self, "-", "-", "damaged", ((GError *) g_ptr_array_index (damaged, i))->message);

  add_entries (self, added, known_up_to);
  if (added->len > 0)
    _envoi_sender_service_schedule (self);
  _envoi_sender_service_update_idle (self);

  /* Many entries read (or a long directory listed) for the window's sake. */
  if (added->len > 64 ||
      envoi_queue_get_length (self->queue) > envoi_queue_get_resident (self->queue) + 64)
    _envoi_sender_service_release_memory (self);
}

void
_envoi_sender_service_scan_queue (EnvoiSenderService *self)
{
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *known_up_to = g_strdup (envoi_queue_get_mark (self->queue));

  if (!envoi_queue_scan (self->queue, &added, &damaged, &error))
    {
      g_warning ("%s", error->message);
      return;
    }

  take_scan (self, added, damaged, known_up_to);
}

static void start_scan (EnvoiSenderService *self);

static void
scan_ready_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EnvoiSenderService) self = user_data;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *known_up_to = g_steal_pointer (&self->scan_mark);

  self->scanning = FALSE;
  if (!envoi_queue_scan_finish (ENVOI_QUEUE (source), result, &added, &damaged, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("%s", error->message);
      return;
    }

  take_scan (self, added, damaged, known_up_to);
  if (self->scan_again)
    start_scan (self);
}

/* The scan of a nudge or of the spool watch: the listing and the reading of the new files in a
 * worker thread, so that a long spool does not stall the main loop. One at a time; one asked for
 * meanwhile follows it, as it may have missed what caused it. */
static void
start_scan (EnvoiSenderService *self)
{
  if (self->scanning)
    {
      self->scan_again = TRUE;
      return;
    }

  self->scanning = TRUE;
  self->scan_again = FALSE;
  g_free (self->scan_mark);
  self->scan_mark = g_strdup (envoi_queue_get_mark (self->queue));
  envoi_queue_scan_async (self->queue, self->cancellable, scan_ready_cb, g_object_ref (self));
}

static gboolean
scan_idle_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;

  self->scan_id = 0;
  start_scan (self);

  return G_SOURCE_REMOVE;
}

static void
queue_scan (EnvoiSenderService *self)
{
  if (self->scan_id == 0)
    self->scan_id = g_idle_add (scan_idle_cb, self);
}

static gint64
retry_delay (EnvoiSenderService *self,
             guint               attempts)
{
  gint64 initial = g_settings_get_uint (self->settings, "retry-initial-delay");
  gint64 maximum = g_settings_get_uint (self->settings, "retry-max-delay");
  gint64 delay = initial;
  double jitter;

  for (guint i = 1; i < attempts && delay < maximum; i++)
    delay *= 2;
  delay = MIN (delay, maximum);

  /* ±20 % so that messages deferred together do not come back together. */
  jitter = g_random_double_range (0.8, 1.2);

  return (gint64) (delay * jitter * G_USEC_PER_SEC);
}

static char *
describe_recipients (EnvoiQueueEntry *entry)
{
  return g_strjoinv (", ", (char **) envoi_queue_entry_get_recipients (entry));
}

/* Tells the user: a desktop notification, and a short mail to the account's notification
 * addresses (sent with the null sender, as a bounce is, so it can never cause another). */
static void
notify_failure (EnvoiSenderService *self,
                EnvoiQueueEntry    *entry,
                EnvoiAccount       *account,
                const char         *reason)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *recipients = describe_recipients (entry);
  g_autofree char *body = NULL;
  g_autofree char *notification_id = NULL;
  const char * const *notify = account != NULL ? envoi_account_get_notify_addresses (account) : NULL;

  body = g_strdup_printf (_("The message to %s could not be sent: %s"), recipients, reason);

  notification = g_notification_new (_("A message could not be sent"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_HIGH);
  notification_id = g_strdup_printf ("failed-%s", envoi_queue_entry_get_id (entry));
  g_application_send_notification (G_APPLICATION (self), notification_id, notification);
  _envoi_sender_service_log_event (self, envoi_queue_entry_get_id (entry), envoi_queue_entry_get_account_id (entry),
                                   "notified", "desktop");

  if (notify != NULL && notify[0] != NULL && *envoi_queue_entry_get_from (entry) != '\0')
    {
      g_autoptr(GMimeMessage) message = g_mime_message_new (TRUE);
      g_autoptr(GMimeTextPart) part = g_mime_text_part_new_with_subtype ("plain");
      g_autoptr(GMimeStream) stream = g_mime_stream_mem_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      g_autofree char *id = NULL;
      GByteArray *array;

      g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_FROM,
                                  envoi_account_get_display_name (account),
                                  envoi_account_get_address (account));
      for (guint i = 0; notify[i] != NULL; i++)
        g_mime_message_add_mailbox (message, GMIME_ADDRESS_TYPE_TO, NULL, notify[i]);
      g_mime_message_set_subject (message, _("Undelivered mail"), "utf-8");
      g_mime_message_set_date (message, now);
      g_mime_object_set_header (GMIME_OBJECT (message), "Auto-Submitted", "auto-generated", NULL);
      text = g_strdup_printf (_("Envoi could not deliver a message sent through the account “%s”.\n\n"
                                "Recipients: %s\nReason: %s\nQueue id: %s\n"),
                              envoi_account_get_address (account), recipients, reason,
                              envoi_queue_entry_get_id (entry));
      g_mime_text_part_set_text (part, text);
      g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
      g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
      array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
      bytes = g_bytes_new (array->data, array->len);

      id = envoi_queue_enqueue (self->queue, envoi_account_get_id (account), "", notify, bytes, &error);
      if (id == NULL)
        g_warning ("Could not queue the failure notice: %s", error->message);
      else
        {
          _envoi_sender_service_log_event (self, envoi_queue_entry_get_id (entry),
                                           envoi_queue_entry_get_account_id (entry), "notified", id);
          /* Outside the window, it waits on disk for its turn. */
          if (envoi_queue_lookup (self->queue, id) != NULL)
            add_entry (self, envoi_queue_lookup (self->queue, id));
        }
    }
}

static void
fail_entry (EnvoiSenderService *self,
            EnvoiDelivery      *delivery,
            EnvoiQueueEntry    *entry,
            const char         *reason)
{
  const char *outcome = g_object_get_data (G_OBJECT (entry), HISTORY_OUTCOME_KEY);

  envoi_queue_entry_set_last_error (entry, reason);
  g_queue_remove (envoi_delivery_get_pending (delivery), entry);
  set_state (self, entry, ENVOI_QUEUE_STATE_FAILED, TRUE);
  _envoi_sender_service_record_history (self, entry, outcome != NULL ? outcome : ENVOI_HISTORY_FAILED, reason, FALSE);
  _envoi_sender_service_log_event (self, envoi_queue_entry_get_id (entry), envoi_queue_entry_get_account_id (entry),
                                   "failed", reason);
  notify_failure (self, entry, envoi_delivery_get_account (delivery), reason);
  g_object_unref (entry);
}

typedef struct
{
  EnvoiSenderService *self;
  EnvoiDelivery      *delivery;
  EnvoiQueueEntry    *entry;
  guint               unlocks;  /* the keyring's unlocks seen when it started */
} Attempt;

static GQuark
in_flight_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("envoi-sender-in-flight");

  return quark;
}

/* With the agent: the one it is sending ("sending") or one queued behind it there (which keeps
 * its state until its turn comes), either way out of reach of Cancel and of the scheduler. */
gboolean
_envoi_sender_service_is_sending (EnvoiQueueEntry *entry)
{
  return g_object_get_qdata (G_OBJECT (entry), in_flight_quark ()) != NULL;
}

static gboolean
is_sending (gpointer entry)
{
  return _envoi_sender_service_is_sending (entry);
}

/* The oldest send of @delivery still with the agent, or NULL. */
static Attempt *
first_attempt (EnvoiSenderService *self,
               EnvoiDelivery      *delivery)
{
  for (GList *l = self->attempts.head; l != NULL; l = l->next)
    if (((Attempt *) l->data)->delivery == delivery)
      return l->data;

  return NULL;
}

/* A send that was not attempted (cancelled, or after an earlier message of the account failed)
 * is queued again as it was; if the account was paused meanwhile, it waits with the others,
 * whose reason it already carries. */
static void
requeue_unattempted (EnvoiSenderService *self,
                     EnvoiDelivery      *delivery,
                     EnvoiQueueEntry    *entry)
{
  set_state (self, entry,
             envoi_delivery_get_paused (delivery) ? ENVOI_QUEUE_STATE_PAUSED : ENVOI_QUEUE_STATE_QUEUED,
             FALSE);
}

static void
attempt_free (Attempt *attempt)
{
  attempt->self->attempts_in_flight--;
  g_object_unref (attempt->self);
  g_object_unref (attempt->delivery);
  g_object_unref (attempt->entry);
  g_free (attempt);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Attempt *attempt = user_data;
  EnvoiSenderService *self = attempt->self;
  EnvoiDelivery *delivery = attempt->delivery;
  EnvoiQueueEntry *entry = attempt->entry;
  const char *id = envoi_queue_entry_get_id (entry);
  const char *account_id = envoi_queue_entry_get_account_id (entry);
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  gint64 now = g_get_real_time ();
  Attempt *next_attempt;

  g_queue_remove (&self->attempts, attempt);
  g_object_set_qdata (G_OBJECT (entry), in_flight_quark (), NULL);

  if (envoi_delivery_send_finish_with_reply (delivery, result, &reply, &error))
    {
      g_autoptr(GError) local_error = NULL;

      /* Recorded before the queue file goes; "sent" is said once the record is stored. */
      envoi_queue_entry_set_attempts (entry, envoi_queue_entry_get_attempts (entry) + 1);
      _envoi_sender_service_record_history (self, entry, ENVOI_HISTORY_SENT, reply, TRUE);

      if (!envoi_ledger_record (self->ledger, account_id, now, &local_error))
        g_warning ("%s", local_error->message);
      g_clear_error (&local_error);

      g_queue_remove (envoi_delivery_get_pending (delivery), entry);
      if (!envoi_queue_remove (self->queue, id, &local_error))
        g_warning ("%s", local_error->message);
      g_object_unref (entry);  /* the pending queue's reference */
      _envoi_sender_service_queue_sync (self);

      _envoi_sender_service_log_event (self, id, account_id, "sent", NULL);
      usage_changed (self, account_id);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      requeue_unattempted (self, delivery, entry);
    }
  else if (keyring_locked (error))
    {
      wait_for_keyring (self, delivery, entry, attempt->unlocks);
    }
  else if (error->domain == ENVOI_SMTP_ERROR && envoi_smtp_error_should_pause_account (error))
    {
      GList *l;

      /* Every other message of the account would fail the same way: hold them all until the
       * settings change, and tell the user once. */
      envoi_delivery_reset (delivery);
      envoi_delivery_set_paused (delivery, TRUE);
      envoi_queue_entry_set_last_error (entry, error->message);
      for (l = envoi_delivery_get_pending (delivery)->head; l != NULL; l = l->next)
        {
          EnvoiQueueEntry *other = l->data;

          /* Those still with the agent come back unattempted, and wait then. */
          envoi_queue_entry_set_last_error (other, error->message);
          if (other == entry || !is_sending (other))
            set_state (self, other, ENVOI_QUEUE_STATE_PAUSED, other == entry);
        }
      _envoi_sender_service_log_event (self, id, account_id, "paused", error->message);
      notify_failure (self, entry, NULL, error->message);
    }
  else if (error->domain != ENVOI_SMTP_ERROR || envoi_smtp_error_is_temporary (error))
    {
      guint attempts = envoi_queue_entry_get_attempts (entry) + 1;
      gint64 expiry = (gint64) g_settings_get_uint (self->settings, "retry-expiry") * G_USEC_PER_SEC;
      gint64 next = now + retry_delay (self, attempts);

      envoi_queue_entry_set_attempts (entry, attempts);
      if (next - envoi_queue_entry_get_queued (entry) > expiry)
        {
          g_autofree char *reason = g_strdup_printf (_("Gave up after %u attempts: %s"),
                                                     attempts, error->message);

          g_object_set_data (G_OBJECT (entry), HISTORY_OUTCOME_KEY, (gpointer) ENVOI_HISTORY_EXPIRED);

          fail_entry (self, delivery, entry, reason);
        }
      else
        {
          envoi_queue_entry_set_next_attempt (entry, next);
          envoi_queue_entry_set_last_error (entry, error->message);
          set_state (self, entry, ENVOI_QUEUE_STATE_DEFERRED, TRUE);
          _envoi_sender_service_log_event (self, id, account_id, "deferred", error->message);

          /* The server is unreachable, not unwilling: the other messages wait as well. */
          if (g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_HOST_NOT_FOUND) ||
              g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_REFUSED) ||
              g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_CONNECTION_LOST) ||
              g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_TIMEOUT) ||
              error->domain != ENVOI_SMTP_ERROR)
            envoi_delivery_set_blocked_until (delivery, next);
        }
    }
  else
    {
      envoi_queue_entry_set_attempts (entry, envoi_queue_entry_get_attempts (entry) + 1);
      fail_entry (self, delivery, entry, error->message);
    }

  /* The agent goes on with the next one it was given. */
  if ((next_attempt = first_attempt (self, delivery)) != NULL)
    set_state (self, next_attempt->entry, ENVOI_QUEUE_STATE_SENDING, FALSE);

  attempt_free (attempt);
  _envoi_sender_service_schedule (self);
  _envoi_sender_service_update_idle (self);
}

static GStrv
envelope_recipients (EnvoiQueueEntry *entry,
                     EnvoiAccount    *account)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char * const *recipients = envoi_queue_entry_get_recipients (entry);
  const char *bcc = envoi_account_get_bcc (account);
  gboolean have_bcc = FALSE;

  for (guint i = 0; recipients[i] != NULL; i++)
    {
      g_strv_builder_add (builder, recipients[i]);
      if (bcc != NULL && g_ascii_strcasecmp (bcc, recipients[i]) == 0)
        have_bcc = TRUE;
    }

  /* The always-Bcc archive copy: in the envelope only, never in the headers. */
  if (bcc != NULL && *bcc != '\0' && !have_bcc)
    g_strv_builder_add (builder, bcc);

  return g_strv_builder_end (builder);
}

static void
start_attempt (EnvoiSenderService *self,
               EnvoiDelivery      *delivery,
               EnvoiQueueEntry    *entry)
{
  EnvoiAccount *account = envoi_delivery_get_account (delivery);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) recipients = NULL;
  Attempt *attempt;
  goffset offset;
  gsize length;
  int fd;

  /* The agent reads the message in the queue file itself: nothing is copied on the way. */
  if ((fd = envoi_queue_open_message (self->queue, entry, &offset, &length, &error)) < 0)
    {
      g_object_ref (entry);
      fail_entry (self, delivery, entry, error->message);
      g_object_unref (entry);
      return;
    }

  recipients = envelope_recipients (entry, account);
  /* "sending" is the one the agent is on; the others wait there for their turn. */
  if (first_attempt (self, delivery) == NULL)
    set_state (self, entry, ENVOI_QUEUE_STATE_SENDING, FALSE);

  attempt = g_new0 (Attempt, 1);
  self->attempts_in_flight++;
  attempt->self = g_object_ref (self);
  attempt->delivery = g_object_ref (delivery);
  attempt->entry = g_object_ref (entry);
  attempt->unlocks = keyring_unlocks (self);
  g_queue_push_tail (&self->attempts, attempt);
  g_object_set_qdata (G_OBJECT (entry), in_flight_quark (), attempt);

  envoi_delivery_send_async (delivery,
                             envoi_queue_entry_get_from (entry),
                             (const char * const *) recipients,
                             fd, offset, length,
                             self->cancellable,
                             send_cb,
                             attempt);
}

static gboolean
wake_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;

  self->wake_id = 0;
  _envoi_sender_service_schedule (self);

  return G_SOURCE_REMOVE;
}

static void
set_wake (EnvoiSenderService *self,
          gint64              when,
          gint64              now)
{
  g_clear_handle_id (&self->wake_id, g_source_remove);

  if (when == G_MAXINT64)
    return;

  /* A second late rather than early: the limits count in whole seconds. */
  self->wake_id = g_timeout_add_seconds (MAX (1, (when - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC),
                                         wake_cb, self);
}

static gboolean
schedule_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;
  gint64 now = g_get_real_time ();
  gint64 wake = G_MAXINT64;
  GHashTableIter iter;
  gpointer value;

  /* Half a window sent: the next messages come from disk, in one batch read by the scan's
   * worker thread while the other half goes. */
  if (envoi_queue_wants_refill (self->queue) && !self->scanning)
    queue_scan (self);

  self->schedule_id = 0;

  g_hash_table_iter_init (&iter, self->deliveries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      EnvoiDelivery *delivery = value;
      EnvoiAccount *account = envoi_delivery_get_account (delivery);
      GQueue *pending = envoi_delivery_get_pending (delivery);
      EnvoiQueueEntry *due = NULL;
      g_autoptr(GError) invalid = NULL;
      gint64 allowed;

      if (envoi_delivery_get_busy (delivery) || pending->length == 0)
        continue;

      if (account == NULL)
        {
          for (GList *l = pending->head; l != NULL; l = l->next)
            {
              if (is_sending (l->data))
                continue;
              envoi_queue_entry_set_last_error (l->data, _("The account no longer exists"));
              set_state (self, l->data, ENVOI_QUEUE_STATE_PAUSED, FALSE);
            }
          continue;
        }

      if (envoi_delivery_get_paused (delivery))
        continue;

      /* A setting that cannot be right (written past the dialog) holds the account's mail,
       * saying which; fixing it changes the account and brings the messages back here. */
      if (!envoi_delivery_check_account (delivery, &invalid))
        {
          for (GList *l = pending->head; l != NULL; l = l->next)
            {
              gboolean changed;

              if (is_sending (l->data))
                continue;
              changed = g_strcmp0 (envoi_queue_entry_get_last_error (l->data), invalid->message) != 0
                                 || envoi_queue_entry_get_state (l->data) != ENVOI_QUEUE_STATE_PAUSED;

              envoi_queue_entry_set_last_error (l->data, invalid->message);
              set_state (self, l->data, ENVOI_QUEUE_STATE_PAUSED, changed);
            }
          g_clear_error (&invalid);
          continue;
        }

      if (envoi_delivery_get_blocked_until (delivery) > now)
        {
          wake = MIN (wake, envoi_delivery_get_blocked_until (delivery));
          continue;
        }

      /* As many as the pipeline takes (see envoi-delivery.c), oldest first. */
      while (!envoi_delivery_get_busy (delivery))
        {
          guint in_flight = envoi_delivery_get_in_flight (delivery);

          due = NULL;
          for (GList *l = pending->head; l != NULL; l = l->next)
            {
              gint64 next = envoi_queue_entry_get_next_attempt (l->data);

              if (is_sending (l->data))
                continue;
              if (next <= now)
                {
                  due = l->data;
                  break;
                }
              wake = MIN (wake, next);
            }

          if (due == NULL)
            break;

          /* The sends under way count against the limits as if already sent; at the limit,
           * the next is decided once they are answered. */
          if (in_flight > 0)
            {
              guint hourly = envoi_account_get_hourly_limit (account);
              guint daily = envoi_account_get_daily_limit (account);
              guint hour, day;

              envoi_ledger_get_usage (self->ledger, envoi_account_get_id (account), now, &hour, &day);
              if ((hourly > 0 && hour + in_flight >= hourly) || (daily > 0 && day + in_flight >= daily))
                break;
              start_attempt (self, delivery, due);
              continue;
            }

          allowed = envoi_ledger_next_allowed (self->ledger, envoi_account_get_id (account), now,
                                               envoi_account_get_hourly_limit (account),
                                               envoi_account_get_daily_limit (account));
          if (allowed > now)
            {
              for (GList *l = pending->head; l != NULL; l = l->next)
                {
                  if (envoi_queue_entry_get_next_attempt (l->data) <= allowed)
                    set_state (self, l->data, ENVOI_QUEUE_STATE_WAITING_LIMIT, FALSE);
                }
              if (pending->length > 64)
                _envoi_sender_service_release_memory (self);
              wake = MIN (wake, allowed);
              break;
            }

          start_attempt (self, delivery, due);
        }
    }

  set_wake (self, wake, now);

  return G_SOURCE_REMOVE;
}

void
_envoi_sender_service_schedule (EnvoiSenderService *self)
{
  if (self->schedule_id == 0)
    self->schedule_id = g_idle_add (schedule_cb, self);
}

/* Idle exit */

static void close_nudge (EnvoiSenderService *self);
static gboolean open_nudge (EnvoiSenderService *self, GError **error);

/* Flatpak: the autostart at login, while mail waits */

static void
autostart_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GApplication) application = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    g_message ("Could not ask the Background portal for autostart: %s", error->message);
  g_application_release (application);
}

/* Inside Flatpak the session sees neither the login unit nor the XDG autostart entry: the
 * Background portal writes one, asked for while the queue holds mail, dropped when it is empty.
 * The person already chose in the window whether Envoi may run in the background. */
static void
update_autostart (EnvoiSenderService *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  gboolean wanted = envoi_queue_get_length (self->queue) > 0;

  if (!envoi_autostart_is_sandboxed () || bus == NULL || self->autostart == wanted)
    return;
  self->autostart = wanted;

  /* Held until the portal has the request, so that the last one goes out before we exit. */
  g_application_hold (G_APPLICATION (self));
  g_dbus_connection_call (bus, "org.freedesktop.portal.Desktop",
                          "/org/freedesktop/portal/desktop",
                          "org.freedesktop.portal.Background", "RequestBackground",
                          g_variant_new ("(s@a{sv})", "",
                                         envoi_autostart_portal_options (
                                           _("Envoi sends the mail of other programs in the "
                                             "background, also when its window is closed."),
                                           wanted)),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                          autostart_cb, g_object_ref (self));
}

static gboolean
idle_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;

  self->idle_id = 0;

  /* A submitter is waiting for its answer: look again later. */
  if (envoi_submit_socket_is_busy (self->submit))
    {
      _envoi_sender_service_update_idle (self);
      return G_SOURCE_REMOVE;
    }

  /* Stop hearing nudges first, then look once more: a message written before the socket
   * closed is found now, one written after it makes its writer start a new daemon. */
  close_nudge (self);
  _envoi_sender_service_scan_queue (self);

  if (envoi_queue_get_length (self->queue) > 0)
    {
      g_autoptr(GError) error = NULL;

      if (!open_nudge (self, &error))
        g_warning ("%s", error->message);
      return G_SOURCE_REMOVE;
    }

  g_debug ("Idle with an empty queue: exiting");
  if (self->held)
    {
      self->held = FALSE;
      g_application_release (G_APPLICATION (self));
    }

  return G_SOURCE_REMOVE;
}

void
_envoi_sender_service_update_idle (EnvoiSenderService *self)
{
  gboolean busy = envoi_queue_get_length (self->queue) > 0;

  g_clear_handle_id (&self->idle_id, g_source_remove);
  if (!busy && self->held)
    self->idle_id = g_timeout_add_seconds (self->idle_timeout, idle_cb, self);
  update_autostart (self);
}

/* The spool watched: a message that lands there by any route (the helper, a copy by hand,
 * what a crash or a previous boot left) is found without a nudge. inotify, read by GLib's
 * worker thread; a burst of files makes one scan. */

#define SPOOL_SCAN_DELAY_MS 200

static gboolean
spool_scan_cb (gpointer user_data)
{
  EnvoiSenderService *self = user_data;
  GHashTableIter iter;
  gpointer id;
  gboolean unknown = FALSE;

  self->spool_scan_id = 0;

  /* What came through the submit socket is resident by now: no scan for those. */
  g_hash_table_iter_init (&iter, self->spool_seen);
  while (!unknown && g_hash_table_iter_next (&iter, &id, NULL))
    unknown = envoi_queue_lookup (self->queue, id) == NULL;
  g_hash_table_remove_all (self->spool_seen);

  if (unknown)
    queue_scan (self);

  return G_SOURCE_REMOVE;
}

static void
spool_changed_cb (EnvoiSenderService *self,
                  GFile              *file,
                  GFile              *other_file,
                  GFileMonitorEvent   event,
                  GFileMonitor       *monitor)
{
  g_autofree char *name = NULL;

  /* A message is committed when its ID.msg appears: renamed there from a temporary file
   * (the queue's way), moved in, or linked or written there — not when a copy is created, as
   * its writer may not be done: that is its CHANGES_DONE_HINT (on close, or GLib's own after
   * a short delay). */
  if (event == G_FILE_MONITOR_EVENT_RENAMED && other_file != NULL)
    file = other_file;
  else if (event != G_FILE_MONITOR_EVENT_MOVED_IN && event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT)
    return;

  name = g_file_get_basename (file);
  if (name == NULL || name[0] == '.' || !g_str_has_suffix (name, ".msg"))
    return;

  g_hash_table_add (self->spool_seen, g_strndup (name, strlen (name) - strlen (".msg")));
  if (self->spool_scan_id == 0)
    self->spool_scan_id = g_timeout_add (SPOOL_SCAN_DELAY_MS, spool_scan_cb, self);
}

static void
open_spool_monitor (EnvoiSenderService *self)
{
  g_autoptr(GFile) directory = NULL;
  g_autoptr(GError) error = NULL;

  if (self->spool_monitor != NULL)
    return;

  directory = g_file_new_for_path (envoi_queue_get_directory (self->queue));
  self->spool_monitor = g_file_monitor_directory (directory, G_FILE_MONITOR_WATCH_MOVES,
                                                  NULL, &error);
  if (self->spool_monitor == NULL)
    {
      g_warning ("Could not watch %s: %s", envoi_queue_get_directory (self->queue), error->message);
      return;
    }

  g_signal_connect_object (self->spool_monitor, "changed", G_CALLBACK (spool_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

static void
close_spool_monitor (EnvoiSenderService *self)
{
  g_clear_handle_id (&self->spool_scan_id, g_source_remove);
  g_hash_table_remove_all (self->spool_seen);
  if (self->spool_monitor != NULL)
    {
      g_file_monitor_cancel (self->spool_monitor);
      g_clear_object (&self->spool_monitor);
    }
}

/* The nudge socket */

static gboolean
nudge_cb (GSocket      *socket,
          GIOCondition  condition,
          gpointer      user_data)
{
  EnvoiSenderService *self = user_data;
  char buffer[64];

  while (g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL) > 0)
    ;

  queue_scan (self);

  return G_SOURCE_CONTINUE;
}

static void
close_nudge (EnvoiSenderService *self)
{
  g_autofree char *path = envoi_sender_nudge_socket_path ();

  if (self->submit != NULL)
    envoi_submit_socket_close (self->submit);
  close_spool_monitor (self);
  if (self->nudge_source != NULL)
    {
      g_source_destroy (self->nudge_source);
      g_clear_pointer (&self->nudge_source, g_source_unref);
    }
  if (self->nudge != NULL)
    {
      g_socket_close (self->nudge, NULL);
      g_clear_object (&self->nudge);
      g_unlink (path);
    }
}

static gboolean
open_nudge (EnvoiSenderService  *self,
            GError             **error)
{
  g_autofree char *path = envoi_sender_nudge_socket_path ();
  g_autoptr(GSocket) socket = NULL;

  if (self->submit != NULL && !envoi_submit_socket_open (self->submit, error))
    return FALSE;
  open_spool_monitor (self);
  if (self->nudge != NULL)
    return TRUE;

  if (!(socket = envoi_unix_socket_bind (path, G_SOCKET_TYPE_DATAGRAM, error)))
    return FALSE;

  self->nudge = g_steal_pointer (&socket);
  self->nudge_source = g_socket_create_source (self->nudge, G_IO_IN, NULL);
  g_source_set_callback (self->nudge_source, (GSourceFunc) (void (*) (void)) nudge_cb, self, NULL);
  g_source_attach (self->nudge_source, NULL);

  return TRUE;
}

/* Settings */

static void
account_notify_cb (EnvoiSenderService *self,
                   GParamSpec         *pspec,
                   EnvoiAccount       *account)
{
  EnvoiDelivery *delivery = g_hash_table_lookup (self->deliveries, envoi_account_get_id (account));

  if (delivery == NULL)
    return;

  /* Someone changed the settings: whatever was wrong may be fixed. Start afresh. */
  if (envoi_delivery_get_paused (delivery))
    {
      for (GList *l = envoi_delivery_get_pending (delivery)->head; l != NULL; l = l->next)
        set_state (self, l->data, ENVOI_QUEUE_STATE_QUEUED, FALSE);
    }
  for (GList *l = envoi_delivery_get_pending (delivery)->head; l != NULL; l = l->next)
    envoi_queue_entry_set_next_attempt (l->data, 0);
  envoi_queue_forget_delays (self->queue, envoi_account_get_id (account));
  envoi_delivery_reset (delivery);
  _envoi_sender_service_schedule (self);
}

static void
accounts_changed_cb (EnvoiSenderService *self)
{
  GHashTableIter iter;
  gpointer key, value;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EnvoiAccount) account = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      g_signal_handlers_disconnect_by_func (account, account_notify_cb, self);
      g_signal_connect_object (account, "notify", G_CALLBACK (account_notify_cb), self,
                               G_CONNECT_SWAPPED);
    }

  g_hash_table_iter_init (&iter, self->deliveries);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      EnvoiAccount *account = envoi_account_store_lookup (self->store, key);

      if (account != envoi_delivery_get_account (value))
        envoi_delivery_set_account (value, account);
    }

  _envoi_sender_service_schedule (self);
}

static void
network_changed_cb (EnvoiSenderService *self,
                    gboolean            available)
{
  GHashTableIter iter;
  gpointer value;

  if (!available)
    return;

  /* The network is back: what failed for lack of it may go now. */
  envoi_queue_forget_delays (self->queue, NULL);
  g_hash_table_iter_init (&iter, self->deliveries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      envoi_delivery_set_blocked_until (value, 0);
      for (GList *l = envoi_delivery_get_pending (value)->head; l != NULL; l = l->next)
        {
          if (envoi_queue_entry_get_state (l->data) == ENVOI_QUEUE_STATE_DEFERRED)
            envoi_queue_entry_set_next_attempt (l->data, 0);
        }
    }
  _envoi_sender_service_schedule (self);
}

/* Resuming by itself (issue 16): a paused account is tried again, with a password looked up
 * afresh, once the cause may be gone: its keyring item created or changed by any program, the
 * keyring unlocked, a password saved in Envoi (ResumeAccount), envoi-sendmail -q (Flush), or
 * Retry. */

/* Lifts @delivery's pause: its messages are queued again and the agent looks the password up
 * afresh. An account that is not paused only has the agent forget its password and connection,
 * so that the next message logs in with the new one. */
void
_envoi_sender_service_resume_delivery (EnvoiSenderService *self,
                                       EnvoiDelivery      *delivery,
                                       const char         *why)
{
  EnvoiAccount *account = envoi_delivery_get_account (delivery);

  if (account == NULL)
    return;

  if (!envoi_delivery_get_paused (delivery))
    {
      envoi_delivery_forget_credentials (delivery);
      return;
    }

  for (GList *l = envoi_delivery_get_pending (delivery)->head; l != NULL; l = l->next)
    {
      if (envoi_queue_entry_get_state (l->data) == ENVOI_QUEUE_STATE_PAUSED)
        set_state (self, l->data, ENVOI_QUEUE_STATE_QUEUED, FALSE);
      envoi_queue_entry_set_next_attempt (l->data, 0);
    }
  envoi_queue_forget_delays (self->queue, envoi_account_get_id (account));
  envoi_delivery_reset (delivery);
  _envoi_sender_service_log_event (self, "-", envoi_account_get_id (account), "resumed", why);
  _envoi_sender_service_schedule (self);
}

/* Every paused account, or only those waiting for the keyring. */
void
_envoi_sender_service_resume_paused (EnvoiSenderService *self,
                                     gboolean            keyring_only,
                                     const char         *why)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->deliveries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      if (envoi_delivery_get_paused (value) &&
          (!keyring_only || envoi_delivery_get_waiting_keyring (value)))
        _envoi_sender_service_resume_delivery (self, value, why);
    }
}

static guint
keyring_unlocks (EnvoiSenderService *self)
{
  return self->keyring != NULL ? envoi_keyring_watch_get_unlocks (self->keyring) : 0;
}

/* The agent could not read the password because the keyring is locked. The agent never asks
 * to unlock it (a prompt from a background sender, at any hour, or one that no one can
 * answer, would leave the message "sending" for good): the account waits for the unlock. */
static gboolean
keyring_locked (const GError *error)
{
  GQuark domain = g_quark_try_string ("envoi-secret-error-quark");

  return domain != 0 && error->domain == domain && error->code == ENVOI_SECRET_ERROR_LOCKED;
}

/* @unlocks: the keyring's unlocks when the attempt started. */
static void
wait_for_keyring (EnvoiSenderService *self,
                  EnvoiDelivery      *delivery,
                  EnvoiQueueEntry    *entry,
                  guint               unlocks)
{
  const char *reason = _("Waiting for the keyring to be unlocked");

  /* Not a failure: no notice, no attempt counted; the pause is lifted by the unlock. */
  envoi_delivery_reset (delivery);
  envoi_delivery_set_paused (delivery, TRUE);
  envoi_delivery_set_waiting_keyring (delivery, TRUE);
  for (GList *l = envoi_delivery_get_pending (delivery)->head; l != NULL; l = l->next)
    {
      envoi_queue_entry_set_last_error (l->data, reason);
      if (l->data == (gpointer) entry || !is_sending (l->data))
        set_state (self, l->data, ENVOI_QUEUE_STATE_PAUSED, l->data == (gpointer) entry);
    }
  _envoi_sender_service_log_event (self, envoi_queue_entry_get_id (entry), envoi_queue_entry_get_account_id (entry),
                                   "waiting-keyring", NULL);

  /* Unlocked while the agent was looking: nothing to wait for. */
  if (unlocks != keyring_unlocks (self))
    _envoi_sender_service_resume_delivery (self, delivery, "keyring unlocked");
  else if (self->keyring != NULL)
    envoi_keyring_watch_wait_for_unlock (self->keyring);
}

/* A message that arrives for a paused account waits with the others, for the same reason. */
static void
hold_if_paused (EnvoiDelivery   *delivery,
                EnvoiQueueEntry *entry)
{
  EnvoiQueueEntry *first = g_queue_peek_head (envoi_delivery_get_pending (delivery));

  if (!envoi_delivery_get_paused (delivery) || first == NULL || first == entry)
    return;

  envoi_queue_entry_set_last_error (entry, envoi_queue_entry_get_last_error (first));
  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_PAUSED);
}

static void
keyring_item_changed_cb (EnvoiSenderService *self,
                         const char         *account_id,
                         EnvoiKeyringWatch  *watch)
{
  EnvoiDelivery *delivery;

  /* An item whose account could not be read: any paused account may be concerned. */
  if (account_id == NULL)
    {
      _envoi_sender_service_resume_paused (self, FALSE, "keyring item changed");
      return;
    }

  if ((delivery = g_hash_table_lookup (self->deliveries, account_id)) != NULL)
    _envoi_sender_service_resume_delivery (self, delivery, "keyring item changed");
}

static void
keyring_unlocked_cb (EnvoiSenderService *self,
                     EnvoiKeyringWatch  *watch)
{
  _envoi_sender_service_resume_paused (self, TRUE, "keyring unlocked");
}

static void
watch_keyring (EnvoiSenderService *self)
{
  GDBusConnection *connection = g_application_get_dbus_connection (G_APPLICATION (self));

  /* The tests turn it off to show that the other ways resume an account on their own. */
  if (connection == NULL || g_strcmp0 (g_getenv ("ENVOI_SENDER_WATCH_KEYRING"), "0") == 0)
    return;

  self->keyring = envoi_keyring_watch_new (connection);
  g_signal_connect_object (self->keyring, "item-changed", G_CALLBACK (keyring_item_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->keyring, "unlocked", G_CALLBACK (keyring_unlocked_cb),
                           self, G_CONNECT_SWAPPED);
}

/* A message submitted over D-Bus or envoi-sendmail's socket, now on disk. */
void
_envoi_sender_service_take_submitted (EnvoiSenderService *self,
                                      EnvoiQueueEntry    *written)
{
  EnvoiQueueEntry *entry = envoi_queue_lookup (self->queue, envoi_queue_entry_get_id (written));
  EnvoiDelivery *delivery;

  /* Outside its account's window, it waits on disk for its turn, as @written says (no need to
   * read it back); it is news all the same. */
  if (entry == NULL)
    {
      _envoi_sender_service_emit_changed (self, written, NULL);
      _envoi_sender_service_update_idle (self);
      return;
    }

  /* A nudge's scan may have found the file while it was being written. */
  delivery = _envoi_sender_service_get_delivery (self, envoi_queue_entry_get_account_id (entry));
  if (g_queue_find (envoi_delivery_get_pending (delivery), entry) == NULL)
    add_entry (self, entry);
}

/* GApplication */

static gboolean
envoi_sender_service_dbus_register (GApplication     *application,
                                    GDBusConnection  *connection,
                                    const char       *object_path,
                                    GError          **error)
{
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (application);

  if (!G_APPLICATION_CLASS (envoi_sender_service_parent_class)->dbus_register (application,
                                                                               connection,
                                                                               object_path,
                                                                               error))
    return FALSE;

  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                           connection, SENDER_OBJECT_PATH, error);
}

static void
envoi_sender_service_dbus_unregister (GApplication    *application,
                                      GDBusConnection *connection,
                                      const char      *object_path)
{
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (application);

  if (g_dbus_interface_skeleton_has_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection))
    g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                                        connection);

  G_APPLICATION_CLASS (envoi_sender_service_parent_class)->dbus_unregister (application,
                                                                            connection,
                                                                            object_path);
}

static void
envoi_sender_service_startup (GApplication *application)
{
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (application);
  g_autoptr(GError) error = NULL;
  g_autofree char *log_path = NULL;
  const char *timeout;

  G_APPLICATION_CLASS (envoi_sender_service_parent_class)->startup (application);

  /* Failure notices are built here; the queue initializes GMime only when it parses. */
  g_mime_init ();

  timeout = g_getenv ("ENVOI_SENDER_IDLE_TIMEOUT");
  self->idle_timeout = timeout != NULL ? MAX (1, atoi (timeout)) : DEFAULT_IDLE_TIMEOUT_SECONDS;

  self->queue = envoi_queue_new (NULL, &error);
  if (self->queue == NULL)
    g_error ("%s", error->message);
  self->ledger = envoi_ledger_new (NULL, &error);
  if (self->ledger == NULL)
    g_error ("%s", error->message);

  self->history = envoi_history_new (NULL);

  log_path = g_build_filename (g_get_user_state_dir (), "envoi", "delivery.log", NULL);
  self->log_fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  self->store = envoi_account_store_new ();
  self->settings = g_object_ref (envoi_account_store_get_settings (self->store));
  g_signal_connect_object (self->store, "items-changed", G_CALLBACK (accounts_changed_cb), self,
                           G_CONNECT_SWAPPED);
  accounts_changed_cb (self);
  g_signal_connect_object (self->settings, "changed::history-days",
                           G_CALLBACK (history_limits_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::history-max-records",
                           G_CALLBACK (history_limits_changed_cb), self, G_CONNECT_SWAPPED);
  history_limits_changed_cb (self);

  g_signal_connect_object (g_network_monitor_get_default (), "network-changed",
                           G_CALLBACK (network_changed_cb), self, G_CONNECT_SWAPPED);
  watch_keyring (self);

  /* envoi-sendmail's fast path; opened and closed with the nudge socket. */
  self->submit = envoi_submit_socket_new (self->queue, self->store);
  g_signal_connect_object (self->submit, "submitted", G_CALLBACK (_envoi_sender_service_take_submitted), self,
                           G_CONNECT_SWAPPED);

  if (!open_nudge (self, &error))
    g_warning ("%s", error->message);

  g_application_hold (application);
  self->held = TRUE;

  _envoi_sender_service_scan_queue (self);
  self->loaded = TRUE;
  _envoi_sender_service_schedule (self);
  _envoi_sender_service_update_idle (self);
}

static void
envoi_sender_service_shutdown (GApplication *application)
{
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (application);
  gint64 deadline;

  /* A delivery under way is cancelled and allowed to come back (its message stays queued),
   * so that nothing it holds is left behind; cancelling takes milliseconds, this is a bound. */
  g_cancellable_cancel (self->cancellable);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (self->attempts_in_flight > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  close_nudge (self);
  g_clear_handle_id (&self->schedule_id, g_source_remove);
  g_clear_handle_id (&self->wake_id, g_source_remove);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->scan_id, g_source_remove);
  g_clear_handle_id (&self->trim_id, g_source_remove);
  if (self->usage_id != 0)
    {
      g_clear_handle_id (&self->usage_id, g_source_remove);
      usage_cb (self);
    }
  if (self->sync_id != 0)
    {
      g_clear_handle_id (&self->sync_id, g_source_remove);
      sync_cb (self);
    }
  /* Every record handed over is written before the daemon leaves. */
  if (self->history != NULL)
    envoi_history_flush (self->history);

  G_APPLICATION_CLASS (envoi_sender_service_parent_class)->shutdown (application);
}

static void
envoi_sender_service_activate (GApplication *application)
{
  /* Activation by D-Bus or from the command line: the work starts at startup. */
}

static void
envoi_sender_service_dispose (GObject *object)
{
  EnvoiSenderService *self = ENVOI_SENDER_SERVICE (object);

  g_clear_pointer (&self->deliveries, g_hash_table_unref);
  g_clear_pointer (&self->spool_seen, g_hash_table_unref);
  g_clear_pointer (&self->usage_dirty, g_hash_table_unref);
  g_clear_pointer (&self->scan_mark, g_free);
  g_clear_handle_id (&self->sending_news_id, g_source_remove);
  g_clear_pointer (&self->sending_news, g_hash_table_unref);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->submit);
  g_clear_object (&self->keyring);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_object (&self->ledger);
  g_clear_object (&self->history);
  g_clear_object (&self->queue);
  g_clear_object (&self->cancellable);
  if (self->log_fd >= 0)
    {
      close (self->log_fd);
      self->log_fd = -1;
    }

  G_OBJECT_CLASS (envoi_sender_service_parent_class)->dispose (object);
}

static void
envoi_sender_service_class_init (EnvoiSenderServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = envoi_sender_service_dispose;

  application_class->dbus_register = envoi_sender_service_dbus_register;
  application_class->dbus_unregister = envoi_sender_service_dbus_unregister;
  application_class->startup = envoi_sender_service_startup;
  application_class->shutdown = envoi_sender_service_shutdown;
  application_class->activate = envoi_sender_service_activate;
}

static void
envoi_sender_service_init (EnvoiSenderService *self)
{
  self->log_fd = -1;
  self->autostart = -1;
  self->spool_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->usage_dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->sending_news = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->cancellable = g_cancellable_new ();
  self->deliveries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->skeleton = envoi_dbus_sender1_skeleton_new ();

  _envoi_sender_service_init_dbus (self);
}

EnvoiSenderService *
envoi_sender_service_new (gboolean replace)
{
  GApplicationFlags flags = G_APPLICATION_IS_SERVICE | G_APPLICATION_ALLOW_REPLACEMENT;

  if (replace)
    flags |= G_APPLICATION_REPLACE;

  return g_object_new (ENVOI_TYPE_SENDER_SERVICE,
                       "application-id", SENDER_BUS_NAME,
                       "flags", flags,
                       NULL);
}


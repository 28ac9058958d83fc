/* envoi-queue.h: the durable message spool of the background sender
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-queue-entry.h"
#include "envoi-queue-error.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_QUEUE (envoi_queue_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiQueue, envoi_queue, ENVOI, QUEUE, GObject)

/* Each message is one file in the spool directory, `ID.msg`: a first line
 * "ENVOI-QUEUE 1 <envelope bytes> <message bytes>", the envelope as a key file (account, sender,
 * recipients, state), then the message exactly as it will be transmitted. It is written to a
 * temporary name, fsynced, renamed into place and the directory fsynced: the rename is the
 * commit point, and a submission costs one file and two fsyncs; submissions through
 * envoi_queue_submit_async() that arrive together share the directory's fsync
 * (EnvoiQueueCommit, envoi-queue-commit.h). When the delivery state changes
 * the daemon writes `ID.env`, the whole envelope key file again, the same durable way; it
 * overrides the copy in `ID.msg`. Several processes may enqueue at once (envoi-sendmail writes
 * straight into the spool); only the daemon changes or removes entries. */
EnvoiQueue      *envoi_queue_new                (const char          *directory,
                                                 GError             **error);
char            *envoi_queue_default_directory  (void);
const char      *envoi_queue_get_directory      (EnvoiQueue          *self);

/* The whole submission path of sendmail and of the D-Bus Submit method: size limit, message
 * preparation, account choice (@account_id, else the account whose address matches From, else
 * the default), envelope, durable enqueue. Returns the new id, only once it is on disk. */
char            *envoi_queue_submit             (EnvoiQueue          *self,
                                                 EnvoiAccountStore   *store,
                                                 GBytes              *raw,
                                                 const char          *account_id,
                                                 const char          *envelope_from,
                                                 const char          *full_name,
                                                 const char * const  *recipients,
                                                 gboolean             extract_recipients,
                                                 guint64              max_size,
                                                 GError             **error);

/* The same, with the writing (and its fsyncs) in the group commit's worker threads, together
 * with the other submissions waiting then; the rest runs in the caller's thread, where the
 * account store lives. The callback runs once the message is durable (file fsynced, renamed,
 * directory fsynced), or has failed and left nothing behind. */
void             envoi_queue_submit_async       (EnvoiQueue          *self,
                                                 EnvoiAccountStore   *store,
                                                 GBytes              *raw,
                                                 const char          *account_id,
                                                 const char          *envelope_from,
                                                 const char          *full_name,
                                                 const char * const  *recipients,
                                                 gboolean             extract_recipients,
                                                 guint64              max_size,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
char            *envoi_queue_submit_finish      (EnvoiQueue          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* After a successful _finish(): the entry as it was written, resident or not, so that the news
 * of it needs no reading back from disk. Owned by @result. */
EnvoiQueueEntry *envoi_queue_submit_get_entry   (GAsyncResult        *result);

/* Writes an already prepared message durably. */
char            *envoi_queue_enqueue            (EnvoiQueue          *self,
                                                 const char          *account_id,
                                                 const char          *envelope_from,
                                                 const char * const  *recipients,
                                                 GBytes              *message,
                                                 GError             **error);

/* Only a window of each account's oldest messages that may still go is resident (256, or
 * $ENVOI_QUEUE_WINDOW for the tests): the others stay on disk and are counted, so the memory
 * does not follow the queue's length. Failed messages are never resident. The directory is the
 * index: ids sort by submission time, and a window with room is refilled from it in that order.
 *
 * Counts the committed files not yet known and refills the windows that have room; returns the
 * entries that became resident, oldest first, in @added (may be NULL). Damaged files are moved to
 * `damaged/` and each one is reported as an ENVOI_QUEUE_ERROR_DAMAGED GError in @damaged (may be
 * NULL); the others still load. Fails only when the directory itself cannot be read. */
gboolean         envoi_queue_scan               (EnvoiQueue          *self,
                                                 GPtrArray          **added,
                                                 GPtrArray          **damaged,
                                                 GError             **error);
/* The same scan with the directory listed and the new files' envelopes read in a worker
 * thread, which uses copies and nothing of the queue; _finish(), in the queue's thread, does
 * the rest with what the worker read (a file changed since is read again). For the daemon's
 * main loop: the spool watch and the nudges. */
void             envoi_queue_scan_async         (EnvoiQueue          *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean         envoi_queue_scan_finish        (EnvoiQueue          *self,
                                                 GAsyncResult        *result,
                                                 GPtrArray          **added,
                                                 GPtrArray          **damaged,
                                                 GError             **error);
/* Whether a window has drained to half while messages of its account wait on disk: time for a
 * scan. */
gboolean         envoi_queue_wants_refill       (EnvoiQueue          *self);
/* The messages of @account_id (NULL: of every account) now on disk only come back due at once,
 * as the caller makes the resident ones due (Flush, the network back, new settings). */
void             envoi_queue_forget_delays      (EnvoiQueue          *self,
                                                 const char          *account_id);

/* A resident entry, or NULL. */
EnvoiQueueEntry *envoi_queue_lookup             (EnvoiQueue          *self,
                                                 const char          *id);
/* The resident entry, or a copy read from disk for the moment (not resident). */
EnvoiQueueEntry *envoi_queue_load               (EnvoiQueue          *self,
                                                 const char          *id,
                                                 GError             **error);
/* Every committed message, oldest first: the resident entries, and the others read from disk
 * for the moment, with the state written there. Damaged files are left out, for the next scan. */
GPtrArray       *envoi_queue_list               (EnvoiQueue          *self);
/* The same list, with the directory read and the envelopes outside the window parsed in a worker
 * thread, which uses copies (the spool's path and descriptor, references to the resident entries,
 * the ids being written) and nothing of the queue: the caller's thread goes on meanwhile, and
 * the queue may be released before the listing is done (the task holds it until then). The
 * result reflects the disk as the worker read it, put right in _finish(), in the queue's thread:
 * every entry resident then is the live object, and a submission still being written is left
 * out. A message removed while the listing runs may still appear: as the resident object it was
 * (held, never freed) or as read before its removal; one added meanwhile may or may not. Fails
 * only with G_IO_ERROR_CANCELLED, or when the spool's descriptor cannot be duplicated. */
void             envoi_queue_list_async         (EnvoiQueue          *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GPtrArray       *envoi_queue_list_finish        (EnvoiQueue          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
/* Every message known, resident or not. */
guint            envoi_queue_get_length         (EnvoiQueue          *self);
/* Every message with an id up to this one (NULL: none) was counted when a scan found it, and is
 * known to envoi_queue_list(): what a later scan adds up to it is taken back from disk, not new. */
const char      *envoi_queue_get_mark           (EnvoiQueue          *self);
/* For the tests: how many entries are resident. */
guint            envoi_queue_get_resident       (EnvoiQueue          *self);

/* The message as it will be transmitted: the file mapped, without its header and envelope. */
GBytes          *envoi_queue_read_message       (EnvoiQueue          *self,
                                                 EnvoiQueueEntry     *entry,
                                                 GError             **error);
/* The same message, not read: a new read-only, close-on-exec descriptor on `ID.msg` (never
 * through a symlink) and the range the message takes in it. The daemon hands it to the delivery
 * agent, which reads the range itself (pread), so that the message does not pass through the
 * daemon's main thread. The caller closes it. -1 with the same errors for a missing or damaged
 * file. */
int              envoi_queue_open_message       (EnvoiQueue          *self,
                                                 EnvoiQueueEntry     *entry,
                                                 goffset             *offset,
                                                 gsize               *length,
                                                 GError             **error);
/* Writes the entry's state durably. A resident entry written as failed leaves the window. */
gboolean         envoi_queue_update             (EnvoiQueue          *self,
                                                 EnvoiQueueEntry     *entry,
                                                 GError             **error);
/* For a message outside the window: a failed one is queued again (durably) and counted as
 * ready, resident if its account's window has room; another one is made due (durably). A
 * resident one is returned unchanged, for the caller to schedule. */
EnvoiQueueEntry *envoi_queue_retry              (EnvoiQueue          *self,
                                                 const char          *id,
                                                 GError             **error);
/* Removes a delivered or cancelled message, resident or not: once this returns, no scan, list or
 * later start finds it. The file is only renamed into `.removed/` here and unlinked in a worker
 * thread, as freeing its blocks is the slow part; what a crash leaves there goes when the queue
 * is next opened, and disposing of the queue waits for the unlinks under way. The directory is
 * fsynced by envoi_queue_sync(), which a caller removing many in a row runs once: a crash before
 * it can only repeat a message, never lose one. */
gboolean         envoi_queue_remove             (EnvoiQueue          *self,
                                                 const char          *id,
                                                 GError             **error);
gboolean         envoi_queue_sync               (EnvoiQueue          *self,
                                                 GError             **error);

gboolean         envoi_queue_id_is_valid        (const char          *id);

G_END_DECLS

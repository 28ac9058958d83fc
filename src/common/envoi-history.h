/* envoi-history.h: the delivery history, one record per message that left the queue
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-history-record.h"

G_BEGIN_DECLS

#define ENVOI_HISTORY_ERROR (envoi_history_error_quark ())

typedef enum
{
  ENVOI_HISTORY_ERROR_FAILED,   /* the history file could not be read or written */
} EnvoiHistoryError;

GQuark envoi_history_error_quark (void);

#define ENVOI_HISTORY_DEFAULT_DAYS        30
#define ENVOI_HISTORY_DEFAULT_MAX_RECORDS 10000

#define ENVOI_TYPE_HISTORY (envoi_history_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiHistory, envoi_history, ENVOI, HISTORY, GObject)

/* An SQLite database, `history.db` in $XDG_STATE_HOME/envoi/ unless @path says otherwise, in
 * WAL mode with synchronous=FULL: a record reported stored survives a crash and a power cut,
 * a torn write is rolled back by SQLite, and a damaged file is set aside (renamed
 * `history.db.damaged-TIME`) and a new one begun, never fatal. One worker thread owns the
 * connection and does all the reading and writing, so nothing here blocks the caller's
 * thread; records that come within 20 ms of each other are written in one transaction. */
EnvoiHistory       *envoi_history_new           (const char          *path);
char               *envoi_history_default_path  (void);
const char         *envoi_history_get_path      (EnvoiHistory        *self);

/* Bounds, applied after each write: records older than @days (0: no age limit) and all but
 * the newest @max_records (0: keep none, the history is off) are deleted. */
void                envoi_history_set_limits    (EnvoiHistory        *self,
                                                 guint                days,
                                                 guint                max_records);

/* Stores a copy of @record. @message_fd (taken; -1 for none) holds the message at @offset,
 * @length bytes long: its Subject (decoded) and Message-ID are read from it by the worker
 * when @record has none. The result is the stored record, with its id. */
void                envoi_history_add_async     (EnvoiHistory        *self,
                                                 const EnvoiHistoryRecord *record,
                                                 int                  message_fd,
                                                 goffset              offset,
                                                 gsize                length,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
EnvoiHistoryRecord *envoi_history_add_finish    (EnvoiHistory        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* Newest first: @limit records (0: all) from @offset, only those whose recipients, sender,
 * Subject, Message-ID or queue id contain @search (any case; NULL or "" for all). An array of
 * EnvoiHistoryRecord. */
void                envoi_history_query_async   (EnvoiHistory        *self,
                                                 guint                offset,
                                                 guint                limit,
                                                 const char          *search,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GPtrArray          *envoi_history_query_finish  (EnvoiHistory        *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* Waits until everything handed over so far is written (at shutdown, and in tests). */
void                envoi_history_flush         (EnvoiHistory        *self);

/* The same query on a read-only connection of the caller's own, for a short-lived process
 * (envoi-sendmail --history). A missing file is an empty history. */
GPtrArray          *envoi_history_read          (const char          *path,
                                                 guint                offset,
                                                 guint                limit,
                                                 const char          *search,
                                                 GError             **error);

/* The Subject (decoded) and Message-ID of the message at @offset in @fd, from its header
 * alone (read with pread: the file position is left alone). Blocks: for a worker thread. */
gboolean            envoi_history_read_headers  (int                  fd,
                                                 goffset              offset,
                                                 gsize                length,
                                                 char               **subject,
                                                 char               **message_id);

G_END_DECLS

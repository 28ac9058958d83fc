/* envoi-history.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-history"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "envoi-gmime-private.h"
#include "envoi-history.h"

/* The headers are read up to here: a Subject further down is not looked for. */
#define MAX_HEADER_BYTES (256 * 1024)
#define SCHEMA_VERSION 1
/* How long a record may wait for others to share its transaction. */
#define BATCH_DELAY_MS 20

typedef enum
{
  JOB_ADD,
  JOB_QUERY,
  JOB_FLUSH,
  JOB_QUIT,
} JobKind;

typedef struct
{
  JobKind             kind;
  GTask              *task;
  EnvoiHistoryRecord *record;
  int                 fd;
  goffset             fd_offset;
  gsize               length;
  guint               offset;
  guint               limit;
  char               *search;
  gboolean           *flushed;  /* JOB_FLUSH: set under the lock */
  /* The answer, handed to the task in its own thread (the worker never holds the last
   * reference to a task, hence to the EnvoiHistory). */
  GMainContext       *context;
  gpointer            result;
  GDestroyNotify      result_free;
  GError             *error;
} Job;

struct _EnvoiHistory
{
  GObject      parent_instance;

  char        *path;
  GAsyncQueue *jobs;
  GThread     *thread;
  GMutex       lock;
  GCond        cond;
  guint        days;         /* atomic */
  guint        max_records;  /* atomic */

  /* The worker's alone. */
  sqlite3     *db;
  gboolean     open_failed;
};

G_DEFINE_FINAL_TYPE (EnvoiHistory, envoi_history, G_TYPE_OBJECT)

G_DEFINE_QUARK (envoi-history-error-quark, envoi_history_error)

static const char schema_sql[] =
  "CREATE TABLE IF NOT EXISTS history ("
  "  id INTEGER PRIMARY KEY,"
  "  time INTEGER NOT NULL,"
  "  queue_id TEXT NOT NULL,"
  "  account TEXT NOT NULL,"
  "  outcome TEXT NOT NULL,"
  "  sender TEXT NOT NULL,"
  "  recipients TEXT NOT NULL,"   /* one per line */
  "  subject TEXT NOT NULL,"
  "  message_id TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  attempts INTEGER NOT NULL,"
  "  reply TEXT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS history_time ON history (time);";

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  g_clear_pointer (&job->context, g_main_context_unref);
  if (job->result != NULL && job->result_free != NULL)
    job->result_free (job->result);
  g_clear_error (&job->error);
  g_clear_pointer (&job->record, envoi_history_record_free);
  if (job->fd >= 0)
    close (job->fd);
  g_free (job->search);
  g_free (job);
}

static gboolean
complete_cb (gpointer data)
{
  Job *job = data;

  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    g_task_return_pointer (job->task, g_steal_pointer (&job->result), job->result_free);

  return G_SOURCE_REMOVE;
}

/* In the worker: the job is the task's thread's from here on. */
static void
complete (Job            *job,
          gpointer        result,
          GDestroyNotify  result_free,
          GError         *error)
{
  job->result = result;
  job->result_free = result_free;
  job->error = error;
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, complete_cb, job,
                              (GDestroyNotify) job_free);
}

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->fd = -1;

  return job;
}

typedef enum
{
  DOING_OPEN,
  DOING_READ,
  DOING_WRITE,
} Doing;

static void
set_sqlite_error (GError  **error,
                  sqlite3  *db,
                  Doing     doing)
{
  const char *reason = db != NULL ? sqlite3_errmsg (db) : g_strerror (ENOMEM);

  switch (doing)
    {
    case DOING_OPEN:
      g_set_error (error, ENVOI_HISTORY_ERROR, ENVOI_HISTORY_ERROR_FAILED,
                   _("Could not open the delivery history: %s"), reason);
      break;
    case DOING_READ:
      g_set_error (error, ENVOI_HISTORY_ERROR, ENVOI_HISTORY_ERROR_FAILED,
                   _("Could not read the delivery history: %s"), reason);
      break;
    case DOING_WRITE:
    default:
      g_set_error (error, ENVOI_HISTORY_ERROR, ENVOI_HISTORY_ERROR_FAILED,
                   _("Could not write the delivery history: %s"), reason);
      break;
    }
}

static gboolean
is_damage (int code)
{
  code &= 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/* Reading */

static EnvoiHistoryRecord *
record_from_row (sqlite3_stmt *stmt)
{
  EnvoiHistoryRecord *record = g_new0 (EnvoiHistoryRecord, 1);
#define TEXT(i) g_strdup ((const char *) sqlite3_column_text (stmt, (i)) ?: "")
  g_autofree char *recipients = TEXT (6);

  record->id = sqlite3_column_int64 (stmt, 0);
  record->time = sqlite3_column_int64 (stmt, 1);
  record->queue_id = TEXT (2);
  record->account_id = TEXT (3);
  record->outcome = TEXT (4);
  record->from = TEXT (5);
  record->recipients = *recipients != '\0' ? g_strsplit (recipients, "\n", -1) : g_new0 (char *, 1);
  record->subject = TEXT (7);
  record->message_id = TEXT (8);
  record->size = (guint64) sqlite3_column_int64 (stmt, 9);
  record->attempts = (guint) sqlite3_column_int64 (stmt, 10);
  record->reply = TEXT (11);
#undef TEXT

  return record;
}

/* LIKE's wildcards in what the person typed are taken literally. */
static char *
like_pattern (const char *search)
{
  GString *pattern = g_string_new ("%");

  for (const char *p = search; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *p);
    }
  g_string_append_c (pattern, '%');

  return g_string_free (pattern, FALSE);
}

static GPtrArray *
query (sqlite3     *db,
       guint        offset,
       guint        limit,
       const char  *search,
       int         *code,
       GError     **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_history_record_free);
  g_autofree char *pattern = NULL;
  g_autofree char *folded = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean filter = search != NULL && *search != '\0';
  int rc;

  /* lower() folds ASCII only; the search folds the rest itself (casefold is not needed for
   * Japanese, and French accented capitals are rare in addresses and ids). */
  rc = sqlite3_prepare_v2 (db,
                           filter ?
                           "SELECT id, time, queue_id, account, outcome, sender, recipients, subject,"
                           " message_id, size, attempts, reply FROM history"
                           " WHERE lower(recipients) LIKE ?1 ESCAPE '\\' OR lower(subject) LIKE ?1 ESCAPE '\\'"
                           " OR lower(message_id) LIKE ?1 ESCAPE '\\' OR lower(sender) LIKE ?1 ESCAPE '\\'"
                           " OR queue_id LIKE ?1 ESCAPE '\\'"
                           " ORDER BY id DESC LIMIT ?2 OFFSET ?3" :
                           "SELECT id, time, queue_id, account, outcome, sender, recipients, subject,"
                           " message_id, size, attempts, reply FROM history"
                           " ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                           -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      *code = rc;
      set_sqlite_error (error, db, DOING_READ);
      return NULL;
    }

  if (filter)
    {
      folded = g_utf8_strdown (search, -1);
      pattern = like_pattern (folded);
      sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_STATIC);
    }
  sqlite3_bind_int64 (stmt, 2, limit > 0 ? (sqlite3_int64) limit : -1);
  sqlite3_bind_int64 (stmt, 3, offset);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (records, record_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      *code = rc;
      set_sqlite_error (error, db, DOING_READ);
      sqlite3_finalize (stmt);
      return NULL;
    }

  sqlite3_finalize (stmt);
  *code = SQLITE_OK;

  return g_steal_pointer (&records);
}

GPtrArray *
envoi_history_read (const char  *path,
                    guint        offset,
                    guint        limit,
                    const char  *search,
                    GError     **error)
{
  g_autofree char *default_path = NULL;
  sqlite3 *db = NULL;
  GPtrArray *records;
  int code;

  if (path == NULL)
    path = default_path = envoi_history_default_path ();

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_history_record_free);

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, db, DOING_OPEN);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 5000);

  records = query (db, offset, limit, search, &code, error);
  sqlite3_close (db);

  return records;
}

/* Opening, in the worker */

static void
set_aside (EnvoiHistory *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  g_autofree char *damaged = g_strdup_printf ("%s.damaged-%s", self->path, stamp);
  g_autofree char *wal = g_strdup_printf ("%s-wal", self->path);
  g_autofree char *damaged_wal = g_strdup_printf ("%s-wal", damaged);
  g_autofree char *shm = g_strdup_printf ("%s-shm", self->path);

  g_warning ("The delivery history %s is damaged; it is kept as %s and a new one is begun",
             self->path, damaged);
  if (g_rename (self->path, damaged) != 0)
    g_unlink (self->path);
  if (g_rename (wal, damaged_wal) != 0)
    g_unlink (wal);
  g_unlink (shm);
}

static int
try_open (EnvoiHistory  *self,
          GError       **error)
{
  g_autofree char *directory = g_path_get_dirname (self->path);
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;
  int rc;
  int fd;

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, ENVOI_HISTORY_ERROR, ENVOI_HISTORY_ERROR_FAILED,
                   _("Could not create %s: %s"), directory, g_strerror (saved_errno));
      return SQLITE_CANTOPEN;
    }

  /* The file is private: SQLite gives its journal the same mode. */
  if ((fd = g_open (self->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
    close (fd);

  rc = sqlite3_open_v2 (self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->db, "PRAGMA quick_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          ok = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") == 0;
          rc = ok ? SQLITE_OK : SQLITE_CORRUPT;
        }
      sqlite3_finalize (stmt);
    }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, schema_sql, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "PRAGMA user_version=" G_STRINGIFY (SCHEMA_VERSION), NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, DOING_OPEN);
      sqlite3_close (self->db);
      self->db = NULL;
    }

  return rc;
}

static gboolean
ensure_open (EnvoiHistory  *self,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  int rc;

  if (self->db != NULL)
    return TRUE;

  rc = try_open (self, &local_error);
  if (is_damage (rc))
    {
      set_aside (self);
      g_clear_error (&local_error);
      rc = try_open (self, &local_error);
    }

  if (rc != SQLITE_OK)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return TRUE;
}

/* The header ends at the first empty line. */
static gboolean
has_empty_line (GByteArray *data)
{
  for (guint i = 0; i + 1 < data->len; i++)
    if (data->data[i] == '\n' &&
        (data->data[i + 1] == '\n' ||
         (data->data[i + 1] == '\r' && i + 2 < data->len && data->data[i + 2] == '\n')))
      return TRUE;

  return FALSE;
}

gboolean
envoi_history_read_headers (int       fd,
                            goffset   offset,
                            gsize     length,
                            char    **subject,
                            char    **message_id)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  gsize limit = MIN (length, MAX_HEADER_BYTES);
  guint8 buffer[8192];
  const char *value;

  g_return_val_if_fail (fd >= 0, FALSE);

  while (data->len < limit)
    {
      ssize_t n = pread (fd, buffer, MIN (sizeof buffer, limit - data->len), offset + data->len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_byte_array_append (data, buffer, n);

      if (has_empty_line (data))
        break;
    }

  if (data->len == 0)
    return FALSE;

  stream = g_mime_stream_mem_new_with_byte_array (g_steal_pointer (&data));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  if (message == NULL)
    return FALSE;

  if (subject != NULL)
    *subject = (value = g_mime_message_get_subject (message)) != NULL ? g_utf8_make_valid (value, -1) : NULL;
  if (message_id != NULL)
    *message_id = (value = g_mime_message_get_message_id (message)) != NULL ? g_utf8_make_valid (value, -1) : NULL;

  return TRUE;
}

/* The Subject (decoded) and Message-ID of the message in @fd, from its header alone. */
static void
read_headers (Job *job)
{
  g_autofree char *subject = NULL;
  g_autofree char *message_id = NULL;

  if (!envoi_history_read_headers (job->fd, job->fd_offset, job->length, &subject, &message_id))
    return;

  if (*job->record->subject == '\0' && subject != NULL)
    {
      g_free (job->record->subject);
      job->record->subject = g_steal_pointer (&subject);
    }
  if (*job->record->message_id == '\0' && message_id != NULL)
    {
      g_free (job->record->message_id);
      job->record->message_id = g_steal_pointer (&message_id);
    }
}

static int
insert_batch (EnvoiHistory  *self,
              GPtrArray     *adds,
              GError       **error)
{
  guint days = g_atomic_int_get (&self->days);
  guint max_records = g_atomic_int_get (&self->max_records);
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc == SQLITE_OK && max_records > 0)
    rc = sqlite3_prepare_v2 (self->db,
                             "INSERT INTO history (time, queue_id, account, outcome, sender, recipients,"
                             " subject, message_id, size, attempts, reply)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             -1, &stmt, NULL);

  for (guint i = 0; rc == SQLITE_OK && stmt != NULL && i < adds->len; i++)
    {
      EnvoiHistoryRecord *record = ((Job *) g_ptr_array_index (adds, i))->record;
      g_autofree char *recipients = g_strjoinv ("\n", record->recipients);

      sqlite3_bind_int64 (stmt, 1, record->time);
      sqlite3_bind_text (stmt, 2, record->queue_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, record->account_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, record->outcome, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, record->from, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, recipients, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 7, record->subject, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, record->message_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 9, (sqlite3_int64) record->size);
      sqlite3_bind_int64 (stmt, 10, record->attempts);
      sqlite3_bind_text (stmt, 11, record->reply, -1, SQLITE_STATIC);

      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        {
          record->id = sqlite3_last_insert_rowid (self->db);
          rc = sqlite3_reset (stmt);
        }
    }
  sqlite3_finalize (stmt);

  /* The bounds. */
  if (rc == SQLITE_OK && days > 0)
    {
      g_autofree char *sql = g_strdup_printf ("DELETE FROM history WHERE time < %" G_GINT64_FORMAT,
                                              g_get_real_time () / G_USEC_PER_SEC - (gint64) days * 86400);

      rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    }
  if (rc == SQLITE_OK)
    {
      g_autofree char *sql = NULL;

      if (max_records == 0)
        sql = g_strdup ("DELETE FROM history");
      else
        sql = g_strdup_printf ("DELETE FROM history WHERE id <= "
                               "(SELECT id FROM history ORDER BY id DESC LIMIT 1 OFFSET %u)",
                               max_records);
      rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    }

  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, DOING_WRITE);
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      for (guint i = 0; i < adds->len; i++)
        ((Job *) g_ptr_array_index (adds, i))->record->id = 0;
    }

  return rc;
}

/* One transaction for every record waiting: one fsync for a burst. A damaged file is set
 * aside and the batch written to a new one. */
static void
write_adds (EnvoiHistory *self,
            GPtrArray    *adds)
{
  g_autoptr(GError) error = NULL;
  int rc = SQLITE_OK;

  for (guint i = 0; i < adds->len; i++)
    {
      Job *job = g_ptr_array_index (adds, i);

      if (job->fd >= 0)
        {
          read_headers (job);
          close (job->fd);
          job->fd = -1;
        }
    }

  if (ensure_open (self, &error))
    {
      rc = insert_batch (self, adds, &error);
      if (is_damage (rc))
        {
          sqlite3_close (self->db);
          self->db = NULL;
          set_aside (self);
          g_clear_error (&error);
          if (ensure_open (self, &error))
            rc = insert_batch (self, adds, &error);
        }
    }

  if (error != NULL)
    g_warning ("%s", error->message);

  for (guint i = 0; i < adds->len; i++)
    {
      Job *job = g_ptr_array_index (adds, i);

      if (job->task == NULL)
        job_free (job);
      else if (error != NULL)
        complete (job, NULL, NULL, g_error_copy (error));
      else
        complete (job, envoi_history_record_copy (job->record),
                  (GDestroyNotify) envoi_history_record_free, NULL);
    }
}

static void
run_query (EnvoiHistory *self,
           Job          *job)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *records = NULL;
  int code = SQLITE_OK;

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (job->task), &error))
    {
      complete (job, NULL, NULL, g_steal_pointer (&error));
      return;
    }

  if (ensure_open (self, &error))
    {
      records = query (self->db, job->offset, job->limit, job->search, &code, &error);
      if (is_damage (code))
        {
          sqlite3_close (self->db);
          self->db = NULL;
          set_aside (self);
          g_clear_error (&error);
          if (ensure_open (self, &error))
            records = query (self->db, job->offset, job->limit, job->search, &code, &error);
        }
    }

  if (records != NULL)
    complete (job, records, (GDestroyNotify) g_ptr_array_unref, NULL);
  else
    complete (job, NULL, NULL, g_steal_pointer (&error));
}

static gpointer
worker (gpointer data)
{
  EnvoiHistory *self = data;
  gboolean quit = FALSE;

  while (!quit)
    {
      g_autoptr(GPtrArray) batch = g_ptr_array_new ();
      g_autoptr(GPtrArray) adds = g_ptr_array_new ();
      Job *job = g_async_queue_pop (self->jobs);

      gint64 deadline = g_get_monotonic_time () + BATCH_DELAY_MS * 1000;
      gboolean waiting = job->kind == JOB_ADD;

      /* A record waits a little for others, so that a burst is written in few transactions
       * (each one an fsync); a query or a flush does not wait. */
      for (;;)
        {
          gint64 left;

          /* Records go to @adds only: write_adds() frees them, or hands them to their task. */
          if (job->kind == JOB_ADD)
            g_ptr_array_add (adds, job);
          else
            {
              g_ptr_array_add (batch, job);
              waiting = FALSE;
            }

          if ((job = g_async_queue_try_pop (self->jobs)) != NULL)
            continue;
          left = deadline - g_get_monotonic_time ();
          if (!waiting || left <= 0 ||
              (job = g_async_queue_timeout_pop (self->jobs, left)) == NULL)
            break;
        }

      /* Writes first: a query or a flush asked after them sees them. */
      if (adds->len > 0)
        write_adds (self, adds);

      for (guint i = 0; i < batch->len; i++)
        {
          job = g_ptr_array_index (batch, i);
          switch (job->kind)
            {
            case JOB_QUERY:
              run_query (self, job);
              break;
            case JOB_FLUSH:
              g_mutex_lock (&self->lock);
              *job->flushed = TRUE;
              g_cond_broadcast (&self->cond);
              g_mutex_unlock (&self->lock);
              job_free (job);
              break;
            case JOB_QUIT:
              quit = TRUE;
              job_free (job);
              break;
            case JOB_ADD:  /* never in @batch */
            default:
              break;
            }
        }
    }

  if (self->db != NULL)
    {
      sqlite3_close (self->db);
      self->db = NULL;
    }

  return NULL;
}

/* The object */

static void
envoi_history_finalize (GObject *object)
{
  EnvoiHistory *self = ENVOI_HISTORY (object);

  g_async_queue_push (self->jobs, job_new (JOB_QUIT));
  g_thread_join (self->thread);
  g_async_queue_unref (self->jobs);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->path);

  G_OBJECT_CLASS (envoi_history_parent_class)->finalize (object);
}

static void
envoi_history_class_init (EnvoiHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_history_finalize;
}

static void
envoi_history_init (EnvoiHistory *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->days = ENVOI_HISTORY_DEFAULT_DAYS;
  self->max_records = ENVOI_HISTORY_DEFAULT_MAX_RECORDS;
  self->jobs = g_async_queue_new ();
}

char *
envoi_history_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "envoi", "history.db", NULL);
}

EnvoiHistory *
envoi_history_new (const char *path)
{
  static gsize gmime_initialized = 0;
  EnvoiHistory *self = g_object_new (ENVOI_TYPE_HISTORY, NULL);

  if (g_once_init_enter (&gmime_initialized))
    {
      g_mime_init ();
      g_once_init_leave (&gmime_initialized, 1);
    }

  self->path = path != NULL ? g_strdup (path) : envoi_history_default_path ();
  self->thread = g_thread_new ("envoi-history", worker, self);

  return self;
}

const char *
envoi_history_get_path (EnvoiHistory *self)
{
  g_return_val_if_fail (ENVOI_IS_HISTORY (self), NULL);

  return self->path;
}

void
envoi_history_set_limits (EnvoiHistory *self,
                          guint         days,
                          guint         max_records)
{
  g_return_if_fail (ENVOI_IS_HISTORY (self));

  g_atomic_int_set (&self->days, days);
  g_atomic_int_set (&self->max_records, max_records);
}

void
envoi_history_add_async (EnvoiHistory             *self,
                         const EnvoiHistoryRecord *record,
                         int                       message_fd,
                         goffset                   offset,
                         gsize                     length,
                         GAsyncReadyCallback       callback,
                         gpointer                  user_data)
{
  Job *job;

  g_return_if_fail (ENVOI_IS_HISTORY (self));
  g_return_if_fail (record != NULL);

  job = job_new (JOB_ADD);
  /* Without a callback, no task: the worker must never hold the last reference to @self. */
  if (callback != NULL)
    {
      job->task = g_task_new (self, NULL, callback, user_data);
      g_task_set_source_tag (job->task, envoi_history_add_async);
      job->context = g_main_context_ref_thread_default ();
    }
  job->record = envoi_history_record_copy (record);
  job->fd = message_fd;
  job->fd_offset = offset;
  job->length = length;
  g_async_queue_push (self->jobs, job);
}

EnvoiHistoryRecord *
envoi_history_add_finish (EnvoiHistory  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
envoi_history_query_async (EnvoiHistory        *self,
                           guint                offset,
                           guint                limit,
                           const char          *search,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  Job *job;

  g_return_if_fail (ENVOI_IS_HISTORY (self));

  job = job_new (JOB_QUERY);
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, envoi_history_query_async);
  job->context = g_main_context_ref_thread_default ();
  job->offset = offset;
  job->limit = limit;
  job->search = g_strdup (search);
  g_async_queue_push (self->jobs, job);
}

GPtrArray *
envoi_history_query_finish (EnvoiHistory  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
envoi_history_flush (EnvoiHistory *self)
{
  gboolean flushed = FALSE;
  Job *job;

  g_return_if_fail (ENVOI_IS_HISTORY (self));

  job = job_new (JOB_FLUSH);
  job->flushed = &flushed;
  g_async_queue_push (self->jobs, job);

  g_mutex_lock (&self->lock);
  while (!flushed)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

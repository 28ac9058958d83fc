/* envoi-queue-commit.c: durable writes into the spool, many sharing one directory fsync
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A submission is acknowledged only once its file is durable: written to a temporary name,
 * fsynced, renamed into place, and the directory fsynced after the rename. Done one at a time,
 * the directory's fsync (a journal commit) is half of the cost of every message. Here one worker
 * thread takes every write waiting when it comes round, writes all their files, then fsyncs
 * them, several at once (the disk takes concurrent flushes together; the thread flushes one
 * itself), renames them all, and fsyncs the directory once for the round: submissions that
 * arrive while a round is on disk form the next one (group commit). Nothing is answered early:
 * a write's GTask returns, to the main context it came from, only after the fsync of the
 * directory that follows its rename. Used by EnvoiQueue only (envoi-queue.c).
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-queue-commit.h"
#include "envoi-queue-error.h"

/* At most this many files in one round, so that the open descriptors stay few. */
#define MAX_ROUND 128
/* The fsyncs of a round run in this many threads at once: the disk and the filesystem take
 * concurrent flushes together, where one after another each waits for its own. */
#define SYNC_THREADS 4

struct _EnvoiQueueCommit
{
  int        dir_fd;     /* the spool's: not ours to close */
  char      *directory;
  GThread   *thread;
  GMutex     lock;
  GCond      cond;
  GPtrArray *waiting;    /* Write *, under @lock */
  gboolean   stopping;   /* under @lock */
  GThreadPool *syncers;  /* the fsyncs of the round under way */
  guint      syncing;    /* how many of them are left, under @lock */
};

typedef struct
{
  char   *name;
  char   *tmp_name;
  GBytes *contents;
  GTask  *task;
  int     fd;
  gboolean synced;
  GError *error;
} Write;

static void
write_free (Write *write)
{
  g_assert (write->fd < 0);
  g_free (write->name);
  g_free (write->tmp_name);
  g_bytes_unref (write->contents);
  g_clear_object (&write->task);
  g_clear_error (&write->error);
  g_free (write);
}

static gboolean
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what,
                 const char  *path)
{
  g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_FAILED,
               /* Translators: the first %s is an action such as “write”, the second a path */
               _("Could not %s “%s” in the mail queue: %s"),
               what, path, g_strerror (saved_errno));
  return FALSE;
}

/* The temporary file written, not yet synced; -1 (and nothing left behind) on failure. */
static int
write_temporary (int          dir_fd,
                 const char  *tmp_name,
                 const void  *data,
                 gsize        length,
                 GError     **error)
{
  const guint8 *p = data;
  gsize left = length;
  int fd;

  fd = openat (dir_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  /* The directory of the temporary names, made on first use (or again, if removed). */
  if (fd < 0 && errno == ENOENT && strchr (tmp_name, G_DIR_SEPARATOR) != NULL)
    {
      g_autofree char *parent = g_path_get_dirname (tmp_name);

      if (mkdirat (dir_fd, parent, 0700) == 0 || errno == EEXIST)
        fd = openat (dir_fd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
  if (fd < 0)
    {
      set_errno_error (error, errno, _("create"), tmp_name);
      return -1;
    }

  while (left > 0)
    {
      ssize_t written = write (fd, p, left);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved_errno = errno;

          close (fd);
          unlinkat (dir_fd, tmp_name, 0);
          set_errno_error (error, saved_errno, _("write"), tmp_name);
          return -1;
        }
      p += written;
      left -= written;
    }

  return fd;
}

/* fsync and close @fd (always closed); the temporary file is removed on failure. */
static gboolean
sync_temporary (int          dir_fd,
                const char  *tmp_name,
                int          fd,
                GError     **error)
{
  int saved_errno = 0;

  if (fsync (fd) != 0)
    saved_errno = errno;
  if (close (fd) != 0 && saved_errno == 0)
    saved_errno = errno;

  if (saved_errno != 0)
    {
      unlinkat (dir_fd, tmp_name, 0);
      return set_errno_error (error, saved_errno, _("write"), tmp_name);
    }

  return TRUE;
}

static gboolean
rename_temporary (int          dir_fd,
                  const char  *name,
                  const char  *tmp_name,
                  GError     **error)
{
  if (renameat (dir_fd, tmp_name, dir_fd, name) != 0)
    {
      int saved_errno = errno;

      unlinkat (dir_fd, tmp_name, 0);
      return set_errno_error (error, saved_errno, _("rename"), tmp_name);
    }

  return TRUE;
}

gboolean
envoi_queue_commit_write_file (int          dir_fd,
                               const char  *directory,
                               const char  *name,
                               const char  *tmp_name,
                               const void  *data,
                               gsize        length,
                               GError     **error)
{
  int fd;

  g_return_val_if_fail (dir_fd >= 0, FALSE);
  g_return_val_if_fail (name != NULL && tmp_name != NULL, FALSE);

  fd = write_temporary (dir_fd, tmp_name, data, length, error);

  return fd >= 0 &&
         sync_temporary (dir_fd, tmp_name, fd, error) &&
         rename_temporary (dir_fd, name, tmp_name, error);
}

gboolean
envoi_queue_commit_sync_dir (int          dir_fd,
                             const char  *directory,
                             GError     **error)
{
  g_return_val_if_fail (dir_fd >= 0, FALSE);

  if (fsync (dir_fd) != 0)
    return set_errno_error (error, errno, _("synchronize"), directory);

  return TRUE;
}

/* One round: every file written before any is waited for, then fsynced, renamed, and the
 * directory fsynced once. A write that fails leaves nothing behind and fails alone; if the
 * directory's fsync fails, every file of the round is taken back out: not acknowledged, so not
 * queued either. */
static void
commit_round (EnvoiQueueCommit *self,
              GPtrArray        *round)
{
  Write *own = NULL;
  guint renamed = 0;

  for (guint i = 0; i < round->len; i++)
    {
      Write *write = round->pdata[i];
      const void *data;
      gsize length;

      if (g_task_return_error_if_cancelled (write->task))
        {
          g_clear_object (&write->task);
          continue;
        }
      data = g_bytes_get_data (write->contents, &length);
      write->fd = write_temporary (self->dir_fd, write->tmp_name, data, length, &write->error);
    }

  /* Every fsync done before any rename: a name in the spool is a whole message. This thread
   * flushes one file itself, the syncers the others side by side: a message alone (a script's
   * envoi-sendmail) waits for no hand-off between threads. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < round->len; i++)
    {
      Write *write = round->pdata[i];

      if (write->fd >= 0 && own == NULL)
        own = write;
      else if (write->fd >= 0)
        {
          self->syncing++;
          g_thread_pool_push (self->syncers, write, NULL);
        }
    }
  g_mutex_unlock (&self->lock);

  if (own != NULL)
    {
      own->synced = sync_temporary (self->dir_fd, own->tmp_name, own->fd, &own->error);
      own->fd = -1;
    }

  g_mutex_lock (&self->lock);
  while (self->syncing > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < round->len; i++)
    {
      Write *write = round->pdata[i];

      if (write->synced &&
          rename_temporary (self->dir_fd, write->name, write->tmp_name, &write->error))
        renamed++;
    }

  if (renamed > 0)
    {
      GError *error = NULL;

      if (!envoi_queue_commit_sync_dir (self->dir_fd, self->directory, &error))
        {
          for (guint i = 0; i < round->len; i++)
            {
              Write *write = round->pdata[i];

              if (write->task != NULL && write->error == NULL)
                {
                  unlinkat (self->dir_fd, write->name, 0);
                  write->error = g_error_copy (error);
                }
            }
        }
      g_clear_error (&error);
    }

  g_debug ("Committed %u of %u files with one directory fsync", renamed, round->len);

  /* Only now: each callback is dispatched to its main context. */
  for (guint i = 0; i < round->len; i++)
    {
      Write *write = round->pdata[i];

      if (write->task == NULL)
        continue;
      if (write->error != NULL)
        g_task_return_error (write->task, g_steal_pointer (&write->error));
      else
        g_task_return_boolean (write->task, TRUE);
    }
}

/* In a thread of @syncers: one file of the round. */
static void
sync_one (gpointer data,
          gpointer user_data)
{
  Write *write = data;
  EnvoiQueueCommit *self = user_data;

  write->synced = sync_temporary (self->dir_fd, write->tmp_name, write->fd, &write->error);
  write->fd = -1;

  g_mutex_lock (&self->lock);
  if (--self->syncing == 0)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static gpointer
commit_thread (gpointer user_data)
{
  EnvoiQueueCommit *self = user_data;

  for (;;)
    {
      g_autoptr(GPtrArray) round = g_ptr_array_new_with_free_func ((GDestroyNotify) write_free);
      guint n;

      g_mutex_lock (&self->lock);
      while (self->waiting->len == 0 && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);
      if (self->waiting->len == 0)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      n = MIN (self->waiting->len, MAX_ROUND);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (round, self->waiting->pdata[i]);
      g_ptr_array_remove_range (self->waiting, 0, n);
      g_mutex_unlock (&self->lock);

      commit_round (self, round);
    }

  return NULL;
}

EnvoiQueueCommit *
envoi_queue_commit_new (int         dir_fd,
                        const char *directory)
{
  EnvoiQueueCommit *self;

  g_return_val_if_fail (dir_fd >= 0, NULL);

  self = g_new0 (EnvoiQueueCommit, 1);
  self->dir_fd = dir_fd;
  self->directory = g_strdup (directory);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->waiting = g_ptr_array_new ();
  self->syncers = g_thread_pool_new (sync_one, self, SYNC_THREADS, FALSE, NULL);
  self->thread = g_thread_new ("envoi-commit", commit_thread, self);

  return self;
}

void
envoi_queue_commit_write_async (EnvoiQueueCommit    *self,
                                const char          *name,
                                const char          *tmp_name,
                                GBytes              *contents,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  Write *write;

  g_return_if_fail (self != NULL);
  g_return_if_fail (name != NULL && tmp_name != NULL);
  g_return_if_fail (contents != NULL);

  write = g_new0 (Write, 1);
  write->name = g_strdup (name);
  write->tmp_name = g_strdup (tmp_name);
  write->contents = g_bytes_ref (contents);
  write->fd = -1;
  write->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (write->task, envoi_queue_commit_write_async);
  /* Once written, the file is in the queue whatever happened to @cancellable meanwhile: the
   * result says what the disk holds. */
  g_task_set_check_cancellable (write->task, FALSE);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->waiting, write);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
}

gboolean
envoi_queue_commit_write_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
envoi_queue_commit_free (EnvoiQueueCommit *self)
{
  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  g_thread_pool_free (self->syncers, FALSE, TRUE);

  g_assert (self->waiting->len == 0);
  g_ptr_array_unref (self->waiting);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->directory);
  g_free (self);
}

/* envoi-queue-reaper.c: where removed messages go to be unlinked, off the main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A removed message leaves the spool at once by a rename into REMOVED_DIR, and one worker
 * thread unlinks it there: freeing a file's blocks is what takes time (a discard each on an
 * SSD), not leaving the queue. The directory's name has neither of the spool's suffixes, so
 * the queue's scans never look inside. Used by EnvoiQueue only (envoi-queue.c).
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-queue-file.h"
#include "envoi-queue-reaper.h"

#define REMOVED_DIR ".removed"

struct _EnvoiQueueReaper
{
  int          dir_fd;      /* the spool's: not ours to close */
  int          removed_fd;  /* REMOVED_DIR */
  GThreadPool *pool;        /* one thread, which unlinks the removed files */
};

/* A stream on REMOVED_DIR with a descriptor of its own, which the stream takes and moves. */
static DIR *
open_removed_stream (int removed_fd)
{
  int fd = openat (removed_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;

  if (fd < 0)
    return NULL;

  if (!(dir = fdopendir (fd)))
    close (fd);

  return dir;
}

/* The next name but “.” and “..”, or NULL. */
static const char *
next_name (DIR *dir)
{
  struct dirent *dirent;

  while ((dirent = readdir (dir)) != NULL)
    {
      if (strcmp (dirent->d_name, ".") != 0 && strcmp (dirent->d_name, "..") != 0)
        return dirent->d_name;
    }

  return NULL;
}

/* Unlinks everything in REMOVED_DIR: what a process that stopped before its reaper was done
 * left there. */
static void
sweep_removed (int removed_fd)
{
  DIR *dir = open_removed_stream (removed_fd);
  const char *name;

  if (dir == NULL)
    return;

  while ((name = next_name (dir)) != NULL)
    unlinkat (removed_fd, name, 0);

  closedir (dir);
}

static gboolean
has_leftovers (int removed_fd)
{
  DIR *dir = open_removed_stream (removed_fd);
  gboolean found;

  if (dir == NULL)
    return FALSE;

  found = next_name (dir) != NULL;
  closedir (dir);

  return found;
}

/* The reaper's thread: @data is the id of a removed message, or "" for a sweep. It reads only
 * the two descriptors of @user_data, which envoi_queue_reaper_free() closes once it is done. */
static void
reap_cb (gpointer data,
         gpointer user_data)
{
  g_autofree char *id = data;
  EnvoiQueueReaper *self = user_data;
  g_autofree char *msg_name = NULL;
  g_autofree char *env_name = NULL;

  if (*id == '\0')
    {
      sweep_removed (self->removed_fd);
      return;
    }

  msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
  env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
  unlinkat (self->removed_fd, msg_name, 0);
  /* Left in the spool until now: without its message it is nothing, and a scan drops it if a
   * crash comes first. */
  unlinkat (self->dir_fd, env_name, 0);
}

/**
 * envoi_queue_reaper_new:
 * @dir_fd: the spool, open; it must stay open until envoi_queue_reaper_free()
 * @directory: its path, for the debug messages
 *
 * Returns: (nullable): the reaper, or %NULL when REMOVED_DIR cannot be had (a file of that
 *   name in the way, say): removals then unlink in place, slower but just as correct.
 */
EnvoiQueueReaper *
envoi_queue_reaper_new (int         dir_fd,
                        const char *directory)
{
  EnvoiQueueReaper *self;
  int removed_fd;

  if (mkdirat (dir_fd, REMOVED_DIR, 0700) != 0 && errno != EEXIST)
    {
      g_debug ("Could not create %s/%s: %s", directory, REMOVED_DIR, g_strerror (errno));
      return NULL;
    }

  removed_fd = openat (dir_fd, REMOVED_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (removed_fd < 0)
    {
      g_debug ("Could not open %s/%s: %s", directory, REMOVED_DIR, g_strerror (errno));
      return NULL;
    }

  self = g_new0 (EnvoiQueueReaper, 1);
  self->dir_fd = dir_fd;
  self->removed_fd = removed_fd;
  /* One thread: unlinks do not go faster side by side, and the order stays that of removal. */
  self->pool = g_thread_pool_new (reap_cb, self, 1, FALSE, NULL);

  /* Only looked at here: envoi-sendmail opens the queue for each message, and then the
   * directory is empty, with no thread to wake or wait for. */
  if (has_leftovers (self->removed_fd))
    g_thread_pool_push (self->pool, g_strdup (""), NULL);

  return self;
}

/**
 * envoi_queue_reaper_discard:
 * @self: the reaper
 * @id: the message whose ID.msg leaves the spool now (ID.env goes with the unlink, later)
 *
 * Returns: %TRUE when the message has left the spool (or was gone already); %FALSE when it
 *   could not be moved (another file system there?), for the caller to unlink it in place.
 */
gboolean
envoi_queue_reaper_discard (EnvoiQueueReaper *self,
                            const char       *id)
{
  g_autofree char *msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);

  if (renameat (self->dir_fd, msg_name, self->removed_fd, msg_name) != 0 && errno != ENOENT)
    return FALSE;

  g_thread_pool_push (self->pool, g_strdup (id), NULL);

  return TRUE;
}

/* Carries out every removal queued, then closes REMOVED_DIR. */
void
envoi_queue_reaper_free (EnvoiQueueReaper *self)
{
  if (self == NULL)
    return;

  g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
  close (self->removed_fd);
  g_free (self);
}

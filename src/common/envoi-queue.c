/* envoi-queue.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include "envoi-gmime-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-account-check.h"
#include "envoi-account-store.h"
#include "envoi-message-private.h"
#include "envoi-queue.h"
#include "envoi-queue-commit.h"
#include "envoi-queue-file.h"
#include "envoi-queue-prepare.h"
#include "envoi-queue-reaper.h"
#include "envoi-size-limit.h"

/* Files are written under a temporary name in TMP_DIR, a directory of the spool, and renamed
 * into the spool once whole: the spool's watch (the daemon's file monitor) hears only the
 * rename, not the creation, writing and closing of every file. Writers before it used TMP_PREFIX
 * names in the spool itself; those are still tidied. */
#define TMP_DIR ".tmp"
#define TMP_PREFIX ".tmp-"
#define DAMAGED_DIR "damaged"

/* Where the file @name of the spool is written before it is renamed there. */
static char *
temporary_name (const char *name)
{
  return g_build_filename (TMP_DIR, name, NULL);
}

/* A temporary file is a submission still being written, or one whose writer died before
 * acknowledging it: only after this long is it removed. */
#define ORPHAN_AGE_SECONDS (15 * 60)

/* How many messages of one account are resident at most; the tests make it small through
 * ENVOI_QUEUE_WINDOW. The others wait on disk only, counted, whatever the queue's length. */
#define DEFAULT_WINDOW_SIZE 256

/* One account's part of the queue. The window holds its oldest messages that may still go; the
 * rest are counted and read back from the directory, in the order of their ids, when the window
 * has room. Failed messages are only counted: they wait on disk for Retry or Cancel. */
typedef struct
{
  guint     resident;
  guint     spilled;        /* ready to go, on disk only */
  guint     failed;         /* given up, on disk only */
  char     *from;           /* a refill looks at ids from here on; NULL: from the first */
  gboolean  forget_delays;  /* the spilled ones come back due now (Flush, network back…) */
} Window;

struct _EnvoiQueue
{
  GObject      parent_instance;

  char        *directory;
  int          dir_fd;
  EnvoiQueueReaper *reaper;  /* NULL: removals unlink in place */
  EnvoiQueueCommit *commit;  /* the group commit of envoi_queue_submit_async(), from its first */
  guint        window_size;
  GHashTable  *entries;     /* id → EnvoiQueueEntry: the resident messages only */
  GHashTable  *windows;     /* account id (interned) → Window */
  GHashTable  *writing;     /* ids being written by a submission in a worker thread */
  char        *mark;        /* every file up to this id was counted when it was found */
  guint        listings;    /* envoi_queue_scan_async() workers under way */
  GHashTable  *removed;     /* ids removed while they were: not there any more, whatever their
                             * listings say */
  GHashTable  *indexed;     /* ids this queue wrote and counted on disk only meanwhile: there,
                             * though their listings may be too early to have them */
  GHashTable  *preloaded;   /* id → Preloaded: read by envoi_queue_scan_async()'s worker, during
                             * envoi_queue_scan_finish() only */
};

G_DEFINE_FINAL_TYPE (EnvoiQueue, envoi_queue, G_TYPE_OBJECT)

static gboolean
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what,
                 const char  *path)
{
  _envoi_queue_file_set_errno_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_FAILED, saved_errno,
                                     what, path);
  return FALSE;
}

gboolean
envoi_queue_id_is_valid (const char *id)
{
  gsize len;

  if (id == NULL)
    return FALSE;

  len = strlen (id);
  if (len < 8 || len > 64)
    return FALSE;

  for (const char *p = id; *p; p++)
    {
      if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f') && *p != '-')
        return FALSE;
    }

  return TRUE;
}

gboolean
envoi_queue_sync (EnvoiQueue  *self,
                  GError     **error)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);

  /* Removals too: their rename takes the name out of this directory, and where the file lands
   * does not matter to the queue. */
  return envoi_queue_commit_sync_dir (self->dir_fd, self->directory, error);
}

/* The window */

static void
window_free (gpointer data)
{
  Window *window = data;

  g_free (window->from);
  g_free (window);
}

static Window *
get_window (EnvoiQueue *self,
            const char *account_id)
{
  Window *window = g_hash_table_lookup (self->windows, account_id);

  if (window == NULL)
    {
      window = g_new0 (Window, 1);
      g_hash_table_insert (self->windows, (gpointer) g_intern_string (account_id), window);
    }

  return window;
}

static gboolean
window_needs_refill (EnvoiQueue *self,
                     Window     *window)
{
  return window->spilled > 0 && window->resident < self->window_size;
}

/* Ids are made of [0-9a-f-] only: "ID!" sorts after ID and before every id greater than ID. */
static void
window_set_from_after (Window     *window,
                       const char *id)
{
  g_free (window->from);
  window->from = id != NULL ? g_strconcat (id, "!", NULL) : NULL;
}

/* An id above the mark was not counted yet: the next scan finds it. */
static gboolean
is_counted (EnvoiQueue *self,
            const char *id)
{
  return self->mark != NULL && strcmp (id, self->mark) <= 0 &&
         !g_hash_table_contains (self->writing, id);
}

static void
advance_mark (EnvoiQueue *self,
              const char *id)
{
  if (self->mark == NULL || strcmp (id, self->mark) > 0)
    {
      g_free (self->mark);
      self->mark = g_strdup (id);
    }
}

static void
make_resident (EnvoiQueue      *self,
               Window          *window,
               EnvoiQueueEntry *entry)
{
  g_hash_table_insert (self->entries, (gpointer) envoi_queue_entry_get_id (entry),
                       g_object_ref (entry));
  window->resident++;
}

/* Counts a message that is on disk and not resident; makes it resident if its account's window
 * has room and nothing older of that account waits on disk (the order stays that of the ids). */
static gboolean
admit (EnvoiQueue      *self,
       EnvoiQueueEntry *entry)
{
  Window *window = get_window (self, envoi_queue_entry_get_account_id (entry));
  const char *id = envoi_queue_entry_get_id (entry);

  if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED)
    {
      window->failed++;
      return FALSE;
    }

  if (window->spilled == 0 && window->resident < self->window_size)
    {
      make_resident (self, window, entry);
      return TRUE;
    }

  window->spilled++;
  if (window->from != NULL && strcmp (id, window->from) < 0)
    {
      g_free (window->from);
      window->from = g_strdup (id);
    }

  return FALSE;
}

/* Takes ID.msg out of the spool at once; the reaper frees it, and ID.env, later. */
static gboolean
discard_files (EnvoiQueue  *self,
               const char  *id,
               GError     **error)
{
  g_autofree char *msg_name = NULL;
  g_autofree char *env_name = NULL;

  if (self->reaper != NULL && envoi_queue_reaper_discard (self->reaper, id))
    return TRUE;

  /* No reaper (a file of that name in the way, say), or another file system there: in place. */
  msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
  if (unlinkat (self->dir_fd, msg_name, 0) != 0 && errno != ENOENT)
    return set_errno_error (error, errno, _("remove"), msg_name);

  env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
  unlinkat (self->dir_fd, env_name, 0);

  return TRUE;
}

static void
envoi_queue_finalize (GObject *object)
{
  EnvoiQueue *self = ENVOI_QUEUE (object);

  /* Every removal queued is carried out: the reaper uses the descriptor closed below. */
  g_clear_pointer (&self->commit, envoi_queue_commit_free);
  g_clear_pointer (&self->reaper, envoi_queue_reaper_free);
  if (self->dir_fd >= 0)
    close (self->dir_fd);
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->windows, g_hash_table_unref);
  g_clear_pointer (&self->writing, g_hash_table_unref);
  g_clear_pointer (&self->removed, g_hash_table_unref);
  g_clear_pointer (&self->indexed, g_hash_table_unref);
  g_clear_pointer (&self->mark, g_free);
  g_clear_pointer (&self->directory, g_free);

  G_OBJECT_CLASS (envoi_queue_parent_class)->finalize (object);
}

static void
envoi_queue_class_init (EnvoiQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_queue_finalize;
}

static void
envoi_queue_init (EnvoiQueue *self)
{
  const char *window_size = g_getenv ("ENVOI_QUEUE_WINDOW");

  self->dir_fd = -1;
  self->window_size = window_size != NULL
    ? CLAMP (g_ascii_strtoull (window_size, NULL, 10), 1, G_MAXINT) : DEFAULT_WINDOW_SIZE;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->windows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, window_free);
  self->writing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->indexed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

char *
envoi_queue_default_directory (void)
{
  return g_build_filename (g_get_user_data_dir (), "envoi", "queue", NULL);
}

/* Opens (and creates, 0700) the spool. @directory NULL means $XDG_DATA_HOME/envoi/queue. */
EnvoiQueue *
envoi_queue_new (const char  *directory,
                 GError     **error)
{
  g_autoptr(EnvoiQueue) self = g_object_new (ENVOI_TYPE_QUEUE, NULL);
  struct stat st;

  self->directory = directory != NULL ? g_strdup (directory) : envoi_queue_default_directory ();

  if (g_mkdir_with_parents (self->directory, 0700) != 0)
    {
      set_errno_error (error, errno, _("create"), self->directory);
      return NULL;
    }

  self->dir_fd = open (self->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->dir_fd < 0)
    {
      set_errno_error (error, errno, _("open"), self->directory);
      return NULL;
    }

  /* Messages are private: whatever made the directory, only its owner may enter it. */
  if (fstat (self->dir_fd, &st) == 0 && (st.st_mode & 0077) != 0)
    fchmod (self->dir_fd, 0700);

  self->reaper = envoi_queue_reaper_new (self->dir_fd, self->directory);

  return g_steal_pointer (&self);
}

const char *
envoi_queue_get_directory (EnvoiQueue *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  return self->directory;
}

/* One file, so one fsync, one rename and one directory fsync: the submission path is hot.
 * Touches nothing but the directory, so it may run in a worker thread. */
static gboolean
write_entry (EnvoiQueue       *self,
             EnvoiQueueEntry  *entry,
             GString          *file,
             GError          **error)
{
  g_autofree char *msg_name = g_strconcat (envoi_queue_entry_get_id (entry), ENVOI_QUEUE_MSG_SUFFIX, NULL);
  g_autofree char *msg_tmp = temporary_name (msg_name);

  if (!envoi_queue_commit_write_file (self->dir_fd, self->directory, msg_name, msg_tmp,
                                      file->str, file->len, error))
    return FALSE;

  if (!envoi_queue_sync (self, error))
    {
      /* Not acknowledged, so not queued either: the submitter will be told to try again. */
      unlinkat (self->dir_fd, msg_name, 0);
      return FALSE;
    }

  return TRUE;
}

/* A message this queue wrote: counted, and resident if its account's window has room. Scans
 * leave the ids being written alone, so it is counted once. */
static char *
index_entry (EnvoiQueue      *self,
             EnvoiQueueEntry *entry)
{
  const char *id = envoi_queue_entry_get_id (entry);

  if (!g_hash_table_contains (self->entries, id))
    {
      advance_mark (self, id);
      if (!admit (self, entry) && self->listings > 0)
        g_hash_table_add (self->indexed, g_strdup (id));
    }

  return g_strdup (id);
}

char *
envoi_queue_enqueue (EnvoiQueue          *self,
                     const char          *account_id,
                     const char          *envelope_from,
                     const char * const  *recipients,
                     GBytes              *message,
                     GError             **error)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autoptr(GString) file = NULL;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);
  g_return_val_if_fail (account_id != NULL, NULL);
  g_return_val_if_fail (envelope_from != NULL, NULL);
  g_return_val_if_fail (recipients != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  if (!(entry = _envoi_queue_build_entry (account_id, envelope_from, recipients, message, &file, error)) ||
      !write_entry (self, entry, file, error))
    return NULL;

  return index_entry (self, entry);
}

/* Moves @name into damaged/, under a name not yet taken there. */
static void
quarantine (EnvoiQueue *self,
            const char *name)
{
  g_autofree char *target = NULL;
  int damaged_fd;

  if (mkdirat (self->dir_fd, DAMAGED_DIR, 0700) != 0 && errno != EEXIST)
    {
      g_warning ("Could not create %s/%s: %s", self->directory, DAMAGED_DIR, g_strerror (errno));
      return;
    }

  damaged_fd = openat (self->dir_fd, DAMAGED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (damaged_fd < 0)
    return;

  target = g_strdup (name);
  for (guint i = 1; faccessat (damaged_fd, target, F_OK, AT_SYMLINK_NOFOLLOW) == 0; i++)
    {
      g_free (target);
      target = g_strdup_printf ("%s.%u", name, i);
    }

  if (renameat (self->dir_fd, name, damaged_fd, target) != 0 && errno != ENOENT)
    g_warning ("Could not move %s/%s aside: %s", self->directory, name, g_strerror (errno));

  fsync (damaged_fd);
  close (damaged_fd);
}

static GError *
damaged_error (const char   *name,
               const GError *cause)
{
  return g_error_new (ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_DAMAGED,
                      _("The queued message “%s” is damaged and was moved to the “%s” folder: %s"),
                      name, DAMAGED_DIR, cause->message);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  EnvoiQueueEntry *ea = *(EnvoiQueueEntry **) a;
  EnvoiQueueEntry *eb = *(EnvoiQueueEntry **) b;

  return strcmp (envoi_queue_entry_get_id (ea), envoi_queue_entry_get_id (eb));
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static gboolean
is_removed (const GError *error)
{
  return g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* What a look at the spool's names finds besides the messages: the scan's housekeeping. */
typedef struct
{
  GPtrArray *temporary;  /* names of temporary files */
  GPtrArray *states;     /* ids of the state files */
  GPtrArray *bad;        /* names of message files whose id is not one */
} Leftovers;

/* The ids of the committed messages in @directory, sorted: names only, nothing is read. Those in
 * @writing (may be NULL), being written by a submission, are left out. With @leftovers, also the
 * other names a scan tidies. It uses its arguments only, so that a listing may run it in a worker
 * thread. */
static GPtrArray *
read_ids (const char  *directory,
          GHashTable  *writing,
          Leftovers   *leftovers,
          GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!(dir = g_dir_open (directory, 0, error)))
    return NULL;

  if (leftovers != NULL)
    {
      g_autofree char *tmp_path = g_build_filename (directory, TMP_DIR, NULL);
      g_autoptr(GDir) tmp_dir = g_dir_open (tmp_path, 0, NULL);

      while (tmp_dir != NULL && (name = g_dir_read_name (tmp_dir)) != NULL)
        g_ptr_array_add (leftovers->temporary, temporary_name (name));
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *id = NULL;

      if (g_str_has_prefix (name, TMP_PREFIX))
        {
          if (leftovers != NULL)
            g_ptr_array_add (leftovers->temporary, g_strdup (name));
          continue;
        }

      if (g_str_has_suffix (name, ENVOI_QUEUE_ENV_SUFFIX))
        {
          if (leftovers != NULL)
            g_ptr_array_add (leftovers->states,
                             g_strndup (name, strlen (name) - strlen (ENVOI_QUEUE_ENV_SUFFIX)));
          continue;
        }

      if (!g_str_has_suffix (name, ENVOI_QUEUE_MSG_SUFFIX))
        continue;

      id = g_strndup (name, strlen (name) - strlen (ENVOI_QUEUE_MSG_SUFFIX));
      if (!envoi_queue_id_is_valid (id))
        {
          if (leftovers != NULL)
            g_ptr_array_add (leftovers->bad, g_strdup (name));
          continue;
        }

      if (writing == NULL || !g_hash_table_contains (writing, id))
        g_ptr_array_add (ids, g_steal_pointer (&id));
    }

  g_ptr_array_sort (ids, compare_ids);

  return g_steal_pointer (&ids);
}

static void tidy_listing (EnvoiQueue *self, GPtrArray *ids, Leftovers *leftovers, GPtrArray *damaged);

/* The ids for a scan, and its housekeeping: orphaned temporary files and state files left by a
 * removal go, files with a bad name are moved aside. */
static GPtrArray *
list_ids (EnvoiQueue  *self,
          GPtrArray   *damaged,
          GError     **error)
{
  g_autoptr(GPtrArray) temporary = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  Leftovers leftovers = { temporary, states, bad };
  g_autoptr(GPtrArray) ids = NULL;

  if (!(ids = read_ids (self->directory, self->writing, &leftovers, error)))
    return NULL;

  tidy_listing (self, ids, &leftovers, damaged);

  return g_steal_pointer (&ids);
}

/* The housekeeping of a listing (list_ids(), or a worker's for envoi_queue_scan_async()). */
static void
tidy_listing (EnvoiQueue *self,
              GPtrArray  *ids,
              Leftovers  *leftovers,
              GPtrArray  *damaged)
{
  GPtrArray *temporary = leftovers->temporary;
  GPtrArray *states = leftovers->states;
  GPtrArray *bad = leftovers->bad;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  /* A writer that died before renaming: it never acknowledged anything. */
  for (guint i = 0; i < temporary->len; i++)
    {
      const char *name = g_ptr_array_index (temporary, i);
      struct stat st;

      if (fstatat (self->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          now - st.st_mtime > ORPHAN_AGE_SECONDS)
        unlinkat (self->dir_fd, name, 0);
    }

  for (guint i = 0; i < bad->len; i++)
    {
      const char *name = g_ptr_array_index (bad, i);
      g_autoptr(GError) cause = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                                     "not a queue file name");

      g_ptr_array_add (damaged, damaged_error (name, cause));
      quarantine (self, name);
    }

  /* The state of a message removed by a process that stopped before removing this. */
  for (guint i = 0; i < states->len; i++)
    {
      const char *id = g_ptr_array_index (states, i);
      g_autofree char *env_name = NULL;
      g_autofree char *msg_name = NULL;

      /* An empty array has no pdata, which bsearch() may not be given. */
      if (g_hash_table_contains (self->writing, id) ||
          (ids->len > 0 &&
           bsearch (&id, ids->pdata, ids->len, sizeof (gpointer), compare_ids) != NULL))
        continue;

      /* Listed after its message was read: look again before removing it. */
      msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
      env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
      if (faccessat (self->dir_fd, msg_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
        unlinkat (self->dir_fd, env_name, 0);
    }
}

/* A file's identity and last change, to tell whether what a worker read is still what is there. */
typedef struct
{
  gboolean exists;
  dev_t    dev;
  ino_t    ino;
  off_t    size;
  gint64   mtime_ns;
  gint64   ctime_ns;
} Stamp;

static void
stamp_file (int         dir_fd,
            const char *name,
            Stamp      *stamp)
{
  struct stat st;

  memset (stamp, 0, sizeof *stamp);
  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return;
  stamp->exists = TRUE;
  stamp->dev = st.st_dev;
  stamp->ino = st.st_ino;
  stamp->size = st.st_size;
  stamp->mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
  stamp->ctime_ns = (gint64) st.st_ctim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_ctim.tv_nsec;
}

/* An entry read by a scan's worker, with the stamps of its two files taken before reading. */
typedef struct
{
  EnvoiQueueEntry *entry;
  Stamp            msg;
  Stamp            env;
} Preloaded;

static void
preloaded_free (gpointer data)
{
  Preloaded *preloaded = data;

  g_clear_object (&preloaded->entry);
  g_free (preloaded);
}

/* The worker's copy of @id, if its files have not changed since: a new reference, or NULL. */
static EnvoiQueueEntry *
take_preloaded (EnvoiQueue *self,
                const char *id)
{
  Preloaded *preloaded;
  g_autofree char *msg_name = NULL;
  g_autofree char *env_name = NULL;
  Stamp msg, env;

  if (self->preloaded == NULL || !(preloaded = g_hash_table_lookup (self->preloaded, id)))
    return NULL;

  msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
  env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
  stamp_file (self->dir_fd, msg_name, &msg);
  stamp_file (self->dir_fd, env_name, &env);
  if (memcmp (&msg, &preloaded->msg, sizeof msg) != 0 || memcmp (&env, &preloaded->env, sizeof env) != 0)
    return NULL;

  return g_object_ref (preloaded->entry);
}

/* Reads @id for a scan; a damaged file is moved aside and reported, a file removed meanwhile is
 * simply skipped. */
static EnvoiQueueEntry *
scan_entry (EnvoiQueue *self,
            const char *id,
            GPtrArray  *damaged)
{
  g_autoptr(GError) error = NULL;
  EnvoiQueueEntry *entry = take_preloaded (self, id);

  if (entry != NULL)
    return entry;

  entry = _envoi_queue_file_load_entry (self->directory, self->dir_fd, id, &error);
  if (entry == NULL && !is_removed (error))
    {
      g_autofree char *msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
      g_autofree char *env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);

      g_ptr_array_add (damaged, damaged_error (id, error));
      quarantine (self, msg_name);
      quarantine (self, env_name);
    }

  return entry;
}

/* How many windows have room, where refill() starts reading for them (NULL: from the first
 * id) and, if @missing is not NULL, how many files they miss in all. */
static guint
refill_start (EnvoiQueue  *self,
              const char **from,
              guint       *missing)
{
  GHashTableIter iter;
  gpointer value;
  gboolean from_first = FALSE;
  const char *start = NULL;
  guint needing = 0;
  guint sum = 0;

  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Window *window = value;

      if (!window_needs_refill (self, window))
        continue;
      needing++;
      sum += MIN (window->spilled, self->window_size - window->resident);
      if (window->from == NULL)
        from_first = TRUE;
      else if (start == NULL || strcmp (window->from, start) < 0)
        start = window->from;
    }

  *from = from_first ? NULL : start;
  if (missing != NULL)
    *missing = sum;

  return needing;
}

/* Fills the windows that have room from the directory, oldest id first; each file is read at
 * most once, and only from the lowest place a window with room may find something. */
static void
refill (EnvoiQueue *self,
        GPtrArray  *ids,
        GPtrArray  *added,
        GPtrArray  *damaged)
{
  GHashTableIter iter;
  gpointer value;
  const char *from;
  g_autofree char *start = NULL;  /* a copy: the windows' own change as they fill */
  guint needing = refill_start (self, &from, NULL);

  if (needing == 0)
    return;
  start = g_strdup (from);

  for (guint i = 0; i < ids->len && needing > 0; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autoptr(EnvoiQueueEntry) entry = NULL;
      Window *window;

      if ((start != NULL && strcmp (id, start) < 0) || g_hash_table_contains (self->entries, id) ||
          !is_counted (self, id))
        continue;

      if (!(entry = scan_entry (self, id, damaged)) ||
          envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED)
        continue;

      window = g_hash_table_lookup (self->windows, envoi_queue_entry_get_account_id (entry));
      if (window == NULL || !window_needs_refill (self, window))
        continue;

      /* Pauses and limits are facts about now; Flush and the like made the delays go. */
      if (window->forget_delays)
        envoi_queue_entry_set_next_attempt (entry, 0);

      make_resident (self, window, entry);
      window->spilled--;
      g_ptr_array_add (added, g_object_ref (entry));

      if (!window_needs_refill (self, window))
        {
          window_set_from_after (window, id);
          if (window->spilled == 0)
            window->forget_delays = FALSE;
          needing--;
        }
    }

  /* Read to the end: what a window still misses is not there (removed by hand, damaged). */
  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Window *window = value;

      if (!window_needs_refill (self, window) || needing == 0)
        continue;
      window->spilled = 0;
      window->forget_delays = FALSE;
      window_set_from_after (window, ids->len > 0 ? g_ptr_array_index (ids, ids->len - 1) : NULL);
    }
}

static void scan_listed (EnvoiQueue *self, GPtrArray *ids, GPtrArray *added_entries, GPtrArray *damaged_errors);

gboolean
envoi_queue_scan (EnvoiQueue  *self,
                  GPtrArray  **added,
                  GPtrArray  **damaged,
                  GError     **error)
{
  g_autoptr(GPtrArray) added_entries = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) damaged_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GPtrArray) ids = NULL;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);

  if (!(ids = list_ids (self, damaged_errors, error)))
    return FALSE;

  scan_listed (self, ids, added_entries, damaged_errors);

  if (added != NULL)
    *added = g_steal_pointer (&added_entries);
  if (damaged != NULL)
    *damaged = g_steal_pointer (&damaged_errors);

  return TRUE;
}

/* A scan, from the committed ids listed. */
static void
scan_listed (EnvoiQueue *self,
             GPtrArray  *ids,
             GPtrArray  *added_entries,
             GPtrArray  *damaged_errors)
{
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  guint counted = 0;
  guint expected = 0;

  /* Only the files above the mark are new, and are read. Below it, the files that are not
   * resident must be as many as counted; if not (a writer renamed its file late, someone
   * removed one by hand), everything not resident is counted afresh. */
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);

      if (g_hash_table_contains (self->entries, id))
        continue;
      if (is_counted (self, id))
        counted++;
      else
        g_ptr_array_add (fresh, (gpointer) id);
    }

  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    expected += ((Window *) value)->spilled + ((Window *) value)->failed;

  if (counted != expected)
    {
      g_debug ("%u messages on disk instead of %u: counting them again", counted, expected);
      g_hash_table_iter_init (&iter, self->windows);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Window *window = value;

          window->spilled = 0;
          window->failed = 0;
          window_set_from_after (window, NULL);
        }

      g_ptr_array_set_size (fresh, 0);
      for (guint i = 0; i < ids->len; i++)
        {
          if (!g_hash_table_contains (self->entries, g_ptr_array_index (ids, i)))
            g_ptr_array_add (fresh, g_ptr_array_index (ids, i));
        }
    }

  for (guint i = 0; i < fresh->len; i++)
    {
      const char *id = g_ptr_array_index (fresh, i);
      g_autoptr(EnvoiQueueEntry) entry = scan_entry (self, id, damaged_errors);

      advance_mark (self, id);
      if (entry != NULL && admit (self, entry))
        g_ptr_array_add (added_entries, g_steal_pointer (&entry));
    }

  refill (self, ids, added_entries, damaged_errors);

  for (guint i = 0; i < damaged_errors->len; i++)
    g_warning ("%s", ((GError *) g_ptr_array_index (damaged_errors, i))->message);

  g_ptr_array_sort (added_entries, compare_entries);
}

/* What a scan's or a listing's worker thread reads the spool with: copies taken when it
 * starts, none of the queue's own. */
typedef struct
{
  char       *directory;
  int         dir_fd;     /* a duplicate of the queue's, the worker's own to close */
  GHashTable *writing;    /* the ids being written then, left out as list_ids() does; or NULL */
} SpoolCopy;

static GHashTable *
copy_ids (GHashTable *table)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (copy, g_strdup (key));

  return copy;
}

/* FALSE with @task answered when the spool cannot be opened again. */
static gboolean
spool_copy_init (SpoolCopy  *copy,
                 EnvoiQueue *self,
                 GTask      *task)
{
  if ((copy->dir_fd = fcntl (self->dir_fd, F_DUPFD_CLOEXEC, 0)) < 0)
    {
      GError *error = NULL;

      set_errno_error (&error, errno, _("open"), self->directory);
      g_task_return_error (task, error);
      return FALSE;
    }

  copy->directory = g_strdup (self->directory);
  if (g_hash_table_size (self->writing) > 0)
    copy->writing = copy_ids (self->writing);

  return TRUE;
}

static void
spool_copy_clear (SpoolCopy *copy)
{
  g_free (copy->directory);
  if (copy->dir_fd >= 0)
    close (copy->dir_fd);
  g_clear_pointer (&copy->writing, g_hash_table_unref);
}

/* envoi_queue_scan_async(): copies for the worker, and what it found. */
typedef struct
{
  SpoolCopy   spool;
  GHashTable *resident;   /* the resident ids then: not read */
  char       *mark;
  char       *refill_from;   /* where the windows' refill starts, NULL: from the first */
  guint       refill_budget; /* how many old files (below the mark) it may want: read ahead */
  GPtrArray  *ids;
  GPtrArray  *temporary;
  GPtrArray  *states;
  GPtrArray  *bad;
  GHashTable *preloaded;  /* id → Preloaded */
} ScanData;

static void
scan_data_free (gpointer user_data)
{
  ScanData *data = user_data;

  spool_copy_clear (&data->spool);
  g_clear_pointer (&data->resident, g_hash_table_unref);
  g_free (data->mark);
  g_free (data->refill_from);
  g_clear_pointer (&data->ids, g_ptr_array_unref);
  g_clear_pointer (&data->temporary, g_ptr_array_unref);
  g_clear_pointer (&data->states, g_ptr_array_unref);
  g_clear_pointer (&data->bad, g_ptr_array_unref);
  g_clear_pointer (&data->preloaded, g_hash_table_unref);
  g_free (data);
}

/* The worker lists the names and reads the envelopes of the files above the mark (the new
 * ones) and of the first old ones a window with room will take back (the refill's), using its
 * copies only; the queue is touched in _finish(), in the caller's thread. */
static void
scan_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ScanData *data = task_data;
  Leftovers leftovers = { data->temporary, data->states, data->bad };
  GError *error = NULL;

  if (!(data->ids = read_ids (data->spool.directory, data->spool.writing, &leftovers, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < data->ids->len; i++)
    {
      const char *id = g_ptr_array_index (data->ids, i);
      g_autofree char *msg_name = NULL;
      g_autofree char *env_name = NULL;
      Preloaded *preloaded;
      gboolean is_new = data->mark == NULL || strcmp (id, data->mark) > 0;

      if (g_task_return_error_if_cancelled (task))
        return;
      if (g_hash_table_contains (data->resident, id))
        continue;
      if (!is_new)
        {
          /* An old file: read for the refill, in the order it reads them, as far as it may go. */
          if (data->refill_budget == 0 ||
              (data->refill_from != NULL && strcmp (id, data->refill_from) < 0))
            continue;
          data->refill_budget--;
        }

      msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
      env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
      preloaded = g_new0 (Preloaded, 1);
      stamp_file (data->spool.dir_fd, msg_name, &preloaded->msg);
      stamp_file (data->spool.dir_fd, env_name, &preloaded->env);
      /* A file that cannot be read is read again, and judged, by _finish(). */
      if (!(preloaded->entry = _envoi_queue_file_load_entry (data->spool.directory, data->spool.dir_fd, id,
                                                              NULL)))
        {
          preloaded_free (preloaded);
          continue;
        }
      g_hash_table_insert (data->preloaded, g_strdup (id), preloaded);
    }

  g_task_return_boolean (task, TRUE);
}

void
envoi_queue_scan_async (EnvoiQueue          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const char *refill_from;
  ScanData *data;

  g_return_if_fail (ENVOI_IS_QUEUE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_queue_scan_async);

  data = g_new0 (ScanData, 1);
  g_task_set_task_data (task, data, scan_data_free);
  if (!spool_copy_init (&data->spool, self, task))
    return;

  data->mark = g_strdup (self->mark);
  if (refill_start (self, &refill_from, &data->refill_budget) > 0)
    data->refill_from = g_strdup (refill_from);
  data->temporary = g_ptr_array_new_with_free_func (g_free);
  data->states = g_ptr_array_new_with_free_func (g_free);
  data->bad = g_ptr_array_new_with_free_func (g_free);
  data->preloaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, preloaded_free);
  data->resident = copy_ids (self->entries);

  self->listings++;
  g_task_run_in_thread (task, scan_thread);
}

gboolean
envoi_queue_scan_finish (EnvoiQueue    *self,
                         GAsyncResult  *result,
                         GPtrArray    **added,
                         GPtrArray    **damaged,
                         GError       **error)
{
  g_autoptr(GPtrArray) added_entries = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) damaged_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) removed = NULL;
  g_autoptr(GHashTable) indexed = NULL;
  Leftovers leftovers;
  ScanData *data;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_queue_scan_async, FALSE);

  /* What this queue removed and wrote while the worker listed is set right in its listing
   * below, so that what is counted matches what is listed. */
  g_assert (self->listings > 0);
  removed = g_hash_table_ref (self->removed);
  indexed = g_hash_table_ref (self->indexed);
  if (--self->listings == 0)
    {
      g_hash_table_unref (self->removed);
      g_hash_table_unref (self->indexed);
      self->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      self->indexed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  /* The listing is as the worker saw it: a submission committed since is resident or found
   * by the next scan, a file removed since (a message sent meanwhile) is left out, so that the
   * counts still match; the copies it read are used only if their files have not changed
   * since (take_preloaded()). */
  data = g_task_get_task_data (G_TASK (result));
  for (guint i = 0; i < data->ids->len; i++)
    {
      const char *id = g_ptr_array_index (data->ids, i);

      if (!g_hash_table_contains (self->writing, id) && !g_hash_table_contains (removed, id))
        g_ptr_array_add (ids, g_strdup (id));
    }
  if (g_hash_table_size (indexed) > 0)
    {
      g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
      GHashTableIter iter;
      gpointer id;

      for (guint i = 0; i < ids->len; i++)
        g_hash_table_add (listed, g_ptr_array_index (ids, i));
      g_hash_table_iter_init (&iter, indexed);
      while (g_hash_table_iter_next (&iter, &id, NULL))
        if (!g_hash_table_contains (listed, id) && !g_hash_table_contains (removed, id))
          g_ptr_array_add (ids, g_strdup (id));
      g_ptr_array_sort (ids, compare_ids);
    }

  leftovers = (Leftovers) { data->temporary, data->states, data->bad };
  tidy_listing (self, ids, &leftovers, damaged_errors);

  self->preloaded = data->preloaded;
  scan_listed (self, ids, added_entries, damaged_errors);
  self->preloaded = NULL;

  if (added != NULL)
    *added = g_steal_pointer (&added_entries);
  if (damaged != NULL)
    *damaged = g_steal_pointer (&damaged_errors);

  return TRUE;
}

gboolean
envoi_queue_wants_refill (EnvoiQueue *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);

  /* In batches: once half the window has gone. */
  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Window *window = value;

      if (window->spilled > 0 && window->resident <= self->window_size / 2)
        return TRUE;
    }

  return FALSE;
}

void
envoi_queue_forget_delays (EnvoiQueue *self,
                           const char *account_id)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (ENVOI_IS_QUEUE (self));

  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Window *window = value;

      if (window->spilled > 0 && (account_id == NULL || g_str_equal (key, account_id)))
        window->forget_delays = TRUE;
    }
}

EnvoiQueueEntry *
envoi_queue_lookup (EnvoiQueue *self,
                    const char *id)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  if (id == NULL)
    return NULL;

  return g_hash_table_lookup (self->entries, id);
}

EnvoiQueueEntry *
envoi_queue_load (EnvoiQueue  *self,
                  const char  *id,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  EnvoiQueueEntry *entry;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  if ((entry = envoi_queue_lookup (self, id)) != NULL)
    return g_object_ref (entry);

  if (!envoi_queue_id_is_valid (id) || g_hash_table_contains (self->writing, id) ||
      !(entry = _envoi_queue_file_load_entry (self->directory, self->dir_fd, id, &local_error)))
    {
      if (local_error != NULL && !is_removed (local_error))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND,
                     _("No queued message has the id “%s”"), id);
      return NULL;
    }

  return entry;
}

/* Every committed message of the spool in @directory, open as @dir_fd, oldest first: the
 * entries of @resident (id → entry) as they are, the others read from disk; damaged files are
 * left to the next scan, the ids in @writing (may be NULL) left out. It uses its arguments only,
 * so that a listing may run it in a worker thread with copies of its own. NULL when @cancellable
 * is cancelled. */
static GPtrArray *
list_entries (const char   *directory,
              int           dir_fd,
              GHashTable   *resident,
              GHashTable   *writing,
              GCancellable *cancellable)
{
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) list = NULL;

  /* Without the directory, at least what is resident. */
  if (!(ids = read_ids (directory, writing, NULL, NULL)))
    {
      GHashTableIter iter;
      gpointer value;

      list = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_iter_init (&iter, resident);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        g_ptr_array_add (list, g_object_ref (value));
      g_ptr_array_sort (list, compare_entries);
      return g_steal_pointer (&list);
    }

  list = g_ptr_array_new_full (ids->len, g_object_unref);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      EnvoiQueueEntry *entry = g_hash_table_lookup (resident, id);

      if (i % 256 == 0 && g_cancellable_is_cancelled (cancellable))
        return NULL;

      /* Damaged ones are left to the next scan. */
      if (entry != NULL)
        g_ptr_array_add (list, g_object_ref (entry));
      else if ((entry = _envoi_queue_file_load_entry (directory, dir_fd, id, NULL)) != NULL)
        g_ptr_array_add (list, entry);
    }

  return g_steal_pointer (&list);
}

GPtrArray *
envoi_queue_list (EnvoiQueue *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  return list_entries (self->directory, self->dir_fd, self->entries, self->writing, NULL);
}

/* envoi_queue_list_async(): the same copies, and the windows. */
typedef struct
{
  SpoolCopy   spool;
  GHashTable *resident;   /* id → EnvoiQueueEntry (a reference): the windows as they were */
} ListData;

static void
list_data_free (gpointer user_data)
{
  ListData *data = user_data;

  spool_copy_clear (&data->spool);
  g_clear_pointer (&data->resident, g_hash_table_unref);
  g_free (data);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ListData *data = task_data;
  GPtrArray *list;

  /* NULL only when cancelled. */
  list = list_entries (data->spool.directory, data->spool.dir_fd, data->resident,
                       data->spool.writing, cancellable);
  if (list != NULL)
    g_task_return_pointer (task, list, (GDestroyNotify) g_ptr_array_unref);
  else if (!g_task_return_error_if_cancelled (task))
    g_assert_not_reached ();
}

void
envoi_queue_list_async (EnvoiQueue          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GHashTableIter iter;
  gpointer key, value;
  ListData *data;

  g_return_if_fail (ENVOI_IS_QUEUE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The task holds the queue too, for _finish(); the thread needs none of it. */
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_queue_list_async);

  data = g_new0 (ListData, 1);
  g_task_set_task_data (task, data, list_data_free);
  if (!spool_copy_init (&data->spool, self, task))
    return;

  data->resident = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);

  /* The keys are the entries' ids, which never change. */
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (data->resident, key, g_object_ref (value));

  g_task_run_in_thread (task, list_thread);
}

GPtrArray *
envoi_queue_list_finish (EnvoiQueue    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_autoptr(GPtrArray) list = NULL;
  gboolean writing;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_queue_list_async, NULL);

  if (!(list = g_task_propagate_pointer (G_TASK (result), error)))
    return NULL;

  /* Back in the queue's thread: what became resident meanwhile is given as the live object, and
   * a submission under way now is not committed yet. */
  writing = g_hash_table_size (self->writing) > 0;
  for (guint i = 0; i < list->len;)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (list, i);
      const char *id = envoi_queue_entry_get_id (entry);
      EnvoiQueueEntry *live = g_hash_table_lookup (self->entries, id);

      if (live == NULL && writing && g_hash_table_contains (self->writing, id))
        {
          g_ptr_array_remove_index (list, i);
          continue;
        }

      if (live != NULL && live != entry)
        {
          g_ptr_array_index (list, i) = g_object_ref (live);
          g_object_unref (entry);
        }
      i++;
    }

  return g_steal_pointer (&list);
}

guint
envoi_queue_get_length (EnvoiQueue *self)
{
  GHashTableIter iter;
  gpointer value;
  guint length = 0;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), 0);

  g_hash_table_iter_init (&iter, self->windows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Window *window = value;

      length += window->resident + window->spilled + window->failed;
    }

  return length;
}

const char *
envoi_queue_get_mark (EnvoiQueue *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  return self->mark;
}

guint
envoi_queue_get_resident (EnvoiQueue *self)
{
  g_return_val_if_fail (ENVOI_IS_QUEUE (self), 0);

  return g_hash_table_size (self->entries);
}

GBytes *
envoi_queue_read_message (EnvoiQueue       *self,
                          EnvoiQueueEntry  *entry,
                          GError          **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) all = NULL;
  gsize offset, env_length, msg_length;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (entry), NULL);

  file = _envoi_queue_file_map (self->directory, envoi_queue_entry_get_id (entry), &offset, &env_length,
                         &msg_length, error);
  if (file == NULL)
    return NULL;

  all = g_mapped_file_get_bytes (file);

  return g_bytes_new_from_bytes (all, offset + env_length, msg_length);
}

/* Where the message is in the open ID.msg @fd, from its header line alone: the same checks as
 * for a mapped file, as the reader of the range trusts them. */
static gboolean
locate_message (int          fd,
                const char  *name,
                gsize       *offset,
                gsize       *msg_length,
                GError     **error)
{
  char header[ENVOI_QUEUE_FILE_MAX_HEADER];
  gsize available, header_length, env_length;
  gssize got;
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), name);
      return FALSE;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "not a queue file");
      return FALSE;
    }

  /* Shorter than it was: the header check says so. */
  got = _envoi_queue_file_read_at (fd, header, MIN ((gsize) st.st_size, sizeof header), 0);
  if (got < 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), name);
      return FALSE;
    }
  available = got;

  if (!_envoi_queue_file_parse_header (header, available, st.st_size, &header_length, &env_length, msg_length,
                     error))
    return FALSE;

  *offset = header_length + env_length;

  return TRUE;
}

int
envoi_queue_open_message (EnvoiQueue       *self,
                          EnvoiQueueEntry  *entry,
                          goffset          *offset,
                          gsize            *length,
                          GError          **error)
{
  g_autofree char *msg_name = NULL;
  gsize start;
  int fd;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), -1);
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (entry), -1);
  g_return_val_if_fail (offset != NULL, -1);
  g_return_val_if_fail (length != NULL, -1);

  msg_name = g_strconcat (envoi_queue_entry_get_id (entry), ENVOI_QUEUE_MSG_SUFFIX, NULL);

  /* Read-only, not inherited by whatever else the caller spawns, and never through a symlink,
   * which could point the reader anywhere. */
  fd = openat (self->dir_fd, msg_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), msg_name);
      return -1;
    }

  if (!locate_message (fd, msg_name, &start, length, error))
    {
      close (fd);
      return -1;
    }
  *offset = start;

  return fd;
}

static gboolean
write_state (EnvoiQueue       *self,
             EnvoiQueueEntry  *entry,
             GError          **error)
{
  g_autofree char *env_name = NULL;
  g_autofree char *env_tmp = NULL;
  g_autofree char *data = NULL;
  EnvoiQueueState saved_state;
  gsize length;

  /* “sending” is a fact about this process only: on disk it stays ready to go. */
  saved_state = envoi_queue_entry_get_state (entry);
  if (saved_state == ENVOI_QUEUE_STATE_SENDING)
    envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_QUEUED);
  data = envoi_queue_entry_to_keyfile_data (entry, &length);
  envoi_queue_entry_set_state (entry, saved_state);

  env_name = g_strconcat (envoi_queue_entry_get_id (entry), ENVOI_QUEUE_ENV_SUFFIX, NULL);
  env_tmp = temporary_name (env_name);
  unlinkat (self->dir_fd, env_tmp, 0);

  if (!envoi_queue_commit_write_file (self->dir_fd, self->directory, env_name, env_tmp,
                                      data, length, error))
    return FALSE;

  return envoi_queue_sync (self, error);
}

gboolean
envoi_queue_update (EnvoiQueue       *self,
                    EnvoiQueueEntry  *entry,
                    GError          **error)
{
  gboolean written;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (ENVOI_IS_QUEUE_ENTRY (entry), FALSE);

  written = write_state (self, entry, error);

  /* A failed message leaves the window: it waits on disk for Retry or Cancel. */
  if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED &&
      g_hash_table_lookup (self->entries, envoi_queue_entry_get_id (entry)) == entry)
    {
      Window *window = get_window (self, envoi_queue_entry_get_account_id (entry));

      g_hash_table_remove (self->entries, envoi_queue_entry_get_id (entry));
      window->resident--;
      window->failed++;
    }

  return written;
}

EnvoiQueueEntry *
envoi_queue_retry (EnvoiQueue  *self,
                   const char  *id,
                   GError     **error)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);

  if (!(entry = envoi_queue_load (self, id, error)))
    return NULL;

  /* A resident message is the caller's to schedule. */
  if (envoi_queue_lookup (self, id) == entry)
    return g_steal_pointer (&entry);

  if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED)
    {
      envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_QUEUED);
      envoi_queue_entry_set_next_attempt (entry, 0);
      if (!write_state (self, entry, error))
        return NULL;

      if (is_counted (self, id))
        {
          Window *window = get_window (self, envoi_queue_entry_get_account_id (entry));

          if (window->failed > 0)
            window->failed--;
          admit (self, entry);
        }
    }
  else if (envoi_queue_entry_get_next_attempt (entry) != 0)
    {
      /* Waiting on disk: due as soon as its turn comes. */
      envoi_queue_entry_set_next_attempt (entry, 0);
      if (!write_state (self, entry, error))
        return NULL;
    }

  return g_steal_pointer (&entry);
}

gboolean
envoi_queue_remove (EnvoiQueue  *self,
                    const char  *id,
                    GError     **error)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  gboolean resident;
  gboolean counted;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), FALSE);

  if (!envoi_queue_id_is_valid (id) || g_hash_table_contains (self->writing, id))
    {
      g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND,
                   _("No queued message has the id “%s”"), id);
      return FALSE;
    }

  /* Outside the window, the envelope says which count it leaves. */
  resident = g_hash_table_contains (self->entries, id);
  counted = is_counted (self, id);
  if (!resident)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *msg_name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
      struct stat st;

      if (fstatat (self->dir_fd, msg_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        {
          g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND,
                       _("No queued message has the id “%s”"), id);
          return FALSE;
        }
      /* Not counted yet: the next scan will not find it, that is all. */
      if (counted)
        entry = _envoi_queue_file_load_entry (self->directory, self->dir_fd, id, &local_error);
    }
  else
    entry = g_object_ref (g_hash_table_lookup (self->entries, id));

  /* The message first: without it the entry is gone, and a state file left behind by a crash
   * here is removed by the next scan. */
  if (!discard_files (self, id, error))
    return FALSE;

  /* A damaged one cannot say which count it leaves: the next scan counts again. */
  if (self->listings > 0)
    g_hash_table_add (self->removed, g_strdup (id));

  if (entry != NULL)
    {
      Window *window = get_window (self, envoi_queue_entry_get_account_id (entry));

      if (resident)
        {
          g_hash_table_remove (self->entries, id);
          window->resident--;
        }
      else if (envoi_queue_entry_get_state (entry) == ENVOI_QUEUE_STATE_FAILED)
        window->failed -= window->failed > 0 ? 1 : 0;
      else
        window->spilled -= window->spilled > 0 ? 1 : 0;
    }

  return TRUE;
}

char *
envoi_queue_submit (EnvoiQueue          *self,
                    EnvoiAccountStore   *store,
                    GBytes              *raw,
                    const char          *account_id,
                    const char          *envelope_from,
                    const char          *full_name,
                    const char * const  *recipients,
                    gboolean             extract,
                    guint64              max_size,
                    GError             **error)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autoptr(GString) file = NULL;

  g_return_val_if_fail (ENVOI_IS_QUEUE (self), NULL);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (raw != NULL, NULL);

  entry = _envoi_queue_prepare (store, raw, account_id, envelope_from, full_name, recipients,
                                extract, max_size, &file, error);
  if (entry == NULL || !write_entry (self, entry, file, error))
    return NULL;

  return index_entry (self, entry);
}

/* The file is durable, the directory fsynced: back in the queue's thread. */
static void
committed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!envoi_queue_commit_write_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Takes @task and @file: the fsyncs, off the caller's thread, shared with the submissions that
 * arrive meanwhile; the entry is indexed back here, in _finish(). Until then, scans leave the
 * file alone. */
static void
commit_prepared (EnvoiQueue      *self,
                 GTask           *task,
                 EnvoiQueueEntry *entry,
                 GString         *file)
{
  g_autofree char *msg_name = NULL;
  g_autofree char *msg_tmp = NULL;
  g_autoptr(GBytes) contents = NULL;

  g_task_set_task_data (task, g_object_ref (entry), g_object_unref);

  if (self->commit == NULL)
    self->commit = envoi_queue_commit_new (self->dir_fd, self->directory);
  msg_name = g_strconcat (envoi_queue_entry_get_id (entry), ENVOI_QUEUE_MSG_SUFFIX, NULL);
  msg_tmp = temporary_name (msg_name);
  contents = g_string_free_to_bytes (file);
  g_hash_table_add (self->writing, g_strdup (envoi_queue_entry_get_id (entry)));
  envoi_queue_commit_write_async (self->commit, msg_name, msg_tmp, contents,
                                  g_task_get_cancellable (task), committed_cb, task);
}

static void
prepared_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiQueue *self = g_task_get_source_object (task);
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  GString *file = NULL;
  GError *error = NULL;

  if (!(entry = _envoi_queue_prepare_finish (result, &file, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  commit_prepared (self, g_steal_pointer (&task), entry, file);
}

void
envoi_queue_submit_async (EnvoiQueue          *self,
                          EnvoiAccountStore   *store,
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
  g_autoptr(GTask) task = NULL;
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  GString *file = NULL;
  GError *error = NULL;

  g_return_if_fail (ENVOI_IS_QUEUE (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));
  g_return_if_fail (raw != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_queue_submit_async);

  /* A large message is parsed and finished in a worker: the caller's main loop goes on. */
  if (!_envoi_queue_prepares_in_place (raw))
    {
      _envoi_queue_prepare_async (store, raw, account_id, envelope_from, full_name, recipients,
                                  extract, max_size, cancellable, prepared_cb,
                                  g_steal_pointer (&task));
      return;
    }

  entry = _envoi_queue_prepare (store, raw, account_id, envelope_from, full_name, recipients,
                                extract, max_size, &file, &error);
  if (entry == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  commit_prepared (self, g_steal_pointer (&task), entry, file);
}

char *
envoi_queue_submit_finish (EnvoiQueue    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  EnvoiQueueEntry *entry;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  entry = g_task_get_task_data (G_TASK (result));
  if (entry != NULL)
    g_hash_table_remove (self->writing, envoi_queue_entry_get_id (entry));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return index_entry (self, entry);
}

EnvoiQueueEntry *
envoi_queue_submit_get_entry (GAsyncResult *result)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_get_task_data (G_TASK (result));
}

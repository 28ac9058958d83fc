/* envoi-queue-file.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the spool's files. Each function uses its arguments only, never the queue, so that a
 * scan or a listing may run it in a worker thread.
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "envoi-queue-file.h"

/* Enough for the header line and the envelope of a message to a few dozen recipients. */
#define ENVELOPE_READ_BYTES 4096

/* Parses the first line of ID.msg, a file of @length bytes whose first @available are in @data
 * (the whole file when mapped, a header's worth when read); @offset is where the envelope
 * starts. */
gboolean
_envoi_queue_file_parse_header (const char  *data,
                                gsize        available,
                                gsize        length,
                                gsize       *offset,
                                gsize       *env_length,
                                gsize       *msg_length,
                                GError     **error)
{
  g_autofree char *line = NULL;
  g_auto(GStrv) fields = NULL;
  /* An empty file maps to NULL. */
  const char *newline = available > 0 ? memchr (data, '\n', MIN (available, ENVOI_QUEUE_FILE_MAX_HEADER))
                                       : NULL;
  guint64 env = 0, msg = 0;

  if (newline != NULL)
    {
      line = g_strndup (data, newline - data);
      fields = g_strsplit (line, " ", -1);
    }

  if (fields == NULL || g_strv_length (fields) != 4 ||
      !g_str_has_prefix (line, ENVOI_QUEUE_FILE_MAGIC " ") ||
      !g_ascii_string_to_unsigned (fields[2], 10, 1, G_MAXSIZE, &env, NULL) ||
      !g_ascii_string_to_unsigned (fields[3], 10, 1, G_MAXSIZE, &msg, NULL))
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "not a queue file");
      return FALSE;
    }

  *offset = newline - data + 1;
  *env_length = env;
  *msg_length = msg;

  /* Each at most @length first: two sizes near G_MAXSIZE would wrap around to it. */
  if (env > length || msg > length || *offset + env + msg != length)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "%" G_GSIZE_FORMAT " bytes instead of %" G_GSIZE_FORMAT,
                   length, (gsize) (*offset + env + msg));
      return FALSE;
    }

  return TRUE;
}

/* ID.msg of the spool in @directory, mapped, its header checked. It uses its arguments only, so
 * that a listing may run it in a worker thread. */
GMappedFile *
_envoi_queue_file_map (const char  *directory,
                       const char  *id,
                       gsize       *offset,
                       gsize       *env_length,
                       gsize       *msg_length,
                       GError     **error)
{
  g_autofree char *path = g_strconcat (directory, G_DIR_SEPARATOR_S, id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
  g_autoptr(GMappedFile) file = NULL;

  if (!(file = g_mapped_file_new (path, FALSE, error)))
    return NULL;

  if (!_envoi_queue_file_parse_header (g_mapped_file_get_contents (file), g_mapped_file_get_length (file),
                     g_mapped_file_get_length (file), offset, env_length, msg_length, error))
    return NULL;

  return g_steal_pointer (&file);
}

/* Reads up to @length bytes of @fd at @offset, fewer only at the end of the file; -1 with
 * errno on an error. */
gssize
_envoi_queue_file_read_at (int      fd,
                           void    *buffer,
                           gsize    length,
                           goffset  offset)
{
  gsize done = 0;

  while (done < length)
    {
      ssize_t got = pread (fd, (char *) buffer + done, length - done, offset + done);

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        return -1;
      if (got == 0)
        break;
      done += got;
    }

  return done;
}

void
_envoi_queue_file_set_errno_error (GError     **error,
                                   GQuark       domain,
                                   int          code,
                                   int          saved_errno,
                                   const char  *what,
                                   const char  *path)
{
  g_set_error (error, domain, code,
               /* Translators: the first %s is an action such as “write”, the second a path */
               _("Could not %s “%s” in the mail queue: %s"),
               what, path, g_strerror (saved_errno));
}

/* In the domain of a mapped file's errors, so that a message removed meanwhile reads as
 * G_FILE_ERROR_NOENT whichever way it is read. */
void
_envoi_queue_file_set_error (GError     **error,
                             int          saved_errno,
                             const char  *what,
                             const char  *path)
{
  _envoi_queue_file_set_errno_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                                     saved_errno, what, path);
}

/* The envelope of the open ID.msg @fd, @env_length bytes, once its header is checked. */
static char *
read_envelope_from (int          fd,
                    const char  *name,
                    gsize       *env_length,
                    gsize       *msg_length,
                    GError     **error)
{
  g_autofree char *head = NULL;
  gsize offset, wanted, have;
  gssize got;
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), name);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "not a queue file");
      return NULL;
    }

  /* One read holds the header and the envelope of nearly every message. */
  wanted = MIN ((gsize) st.st_size, ENVELOPE_READ_BYTES);
  head = g_malloc (wanted + 1);
  if ((got = _envoi_queue_file_read_at (fd, head, wanted, 0)) < 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), name);
      return NULL;
    }
  have = got;

  if (!_envoi_queue_file_parse_header (head, have, st.st_size, &offset, env_length, msg_length, error))
    return NULL;

  if (offset + *env_length > have)
    {
      wanted = offset + *env_length;
      head = g_realloc (head, wanted + 1);
      if ((got = _envoi_queue_file_read_at (fd, head + have, wanted - have, have)) < 0)
        {
          _envoi_queue_file_set_error (error, errno, _("open"), name);
          return NULL;
        }
      /* Shorter than its header says: changed under the reader. */
      if (have + got < wanted)
        {
          g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "not a queue file");
          return NULL;
        }
    }

  memmove (head, head + offset, *env_length);
  head[*env_length] = '\0';

  return g_steal_pointer (&head);
}

/* The envelope of ID.msg. Read, not mapped: a listing loads many small files in a worker
 * thread, and unmapping each one would stop the daemon's other threads (every CPU running one
 * of them flushes its TLB). Never through a symlink. */
static char *
read_envelope (int          dir_fd,
               const char  *id,
               gsize       *env_length,
               gsize       *msg_length,
               GError     **error)
{
  g_autofree char *name = g_strconcat (id, ENVOI_QUEUE_MSG_SUFFIX, NULL);
  char *envelope;
  int fd;

  fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      _envoi_queue_file_set_error (error, errno, _("open"), name);
      return NULL;
    }

  envelope = read_envelope_from (fd, name, env_length, msg_length, error);
  close (fd);

  return envelope;
}

/* The envelope comes from ID.msg; ID.env, written when the state changed, overrides it. The
 * spool is @directory, open as @dir_fd; nothing else is used, so that a listing may run it in a
 * worker thread. */
EnvoiQueueEntry *
_envoi_queue_file_load_entry (const char  *directory,
                              int          dir_fd,
                              const char  *id,
                              GError     **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autofree char *env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
  g_autofree char *envelope = NULL;
  gsize env_length, msg_length;

  if (!(envelope = read_envelope (dir_fd, id, &env_length, &msg_length, error)))
    return NULL;

  if (faccessat (dir_fd, env_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      g_autofree char *path = g_build_filename (directory, env_name, NULL);

      if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, error))
        return NULL;
    }
  else if (!g_key_file_load_from_data (keyfile, envelope, env_length, G_KEY_FILE_NONE, error))
    return NULL;

  if (!(entry = envoi_queue_entry_new_from_keyfile (id, keyfile, error)))
    return NULL;

  if (envoi_queue_entry_get_size (entry) != msg_length)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "the message has %" G_GSIZE_FORMAT " bytes instead of %" G_GUINT64_FORMAT,
                   msg_length, envoi_queue_entry_get_size (entry));
      return NULL;
    }

  return g_steal_pointer (&entry);
}

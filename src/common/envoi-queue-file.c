/* envoi-queue-file.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the spool's files. Each function uses its arguments only, never the queue, so that a
 * scan or a listing may run it in a worker thread.
 */

#define G_LOG_DOMAIN "envoi-queue"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "envoi-queue-file.h"

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
  g_autoptr(GMappedFile) file = NULL;
  g_autofree char *env_name = g_strconcat (id, ENVOI_QUEUE_ENV_SUFFIX, NULL);
  gsize offset, env_length, msg_length;

  if (!(file = _envoi_queue_file_map (directory, id, &offset, &env_length, &msg_length, error)))
    return NULL;

  if (faccessat (dir_fd, env_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      g_autofree char *path = g_build_filename (directory, env_name, NULL);

      if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, error))
        return NULL;
    }
  else if (!g_key_file_load_from_data (keyfile, g_mapped_file_get_contents (file) + offset,
                                       env_length, G_KEY_FILE_NONE, error))
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

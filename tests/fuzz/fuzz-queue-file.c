/* fuzz-queue-file.c: the spool's envelope files (ID.env), read by envoi_queue_scan()
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is one ID.msg ("ENVOI-QUEUE 1 ENV MSG" line, envelope key file, message) in a spool
 * directory of its own. Mapped (envoi_queue_read_message) or opened for the delivery agent
 * (envoi_queue_open_message), it gives the same message or fails both ways. What loads is
 * written back (envoi_queue_update, which adds ID.env) and must load again the same.
 */

#include <glib/gstdio.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "envoi-queue.h"

#define ID "0123456789abcd-01234567"

static char *spool;

static void
remove_spool (void)
{
  g_autofree char *damaged = g_build_filename (spool, "damaged", NULL);
  g_autofree char *removed = g_build_filename (spool, ".removed", NULL);
  const char *dirs[] = { damaged, removed, spool };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GDir) dir = g_dir_open (dirs[i], 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dirs[i], name, NULL);

          if (!g_file_test (path, G_FILE_TEST_IS_DIR))
            g_unlink (path);
        }
    }
}

static void
cleanup_at_exit (void)
{
  g_autofree char *damaged = g_build_filename (spool, "damaged", NULL);
  g_autofree char *removed = g_build_filename (spool, ".removed", NULL);

  remove_spool ();
  g_rmdir (damaged);
  g_rmdir (removed);
  g_rmdir (spool);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(EnvoiQueue) reread = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *msg_path = NULL;
  EnvoiQueueEntry *entry, *copy;

  fuzz_setup ();

  if (spool == NULL)
    {
      /* tmpfs when there is one: the fuzzer writes two files per input. */
      const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();

      spool = g_build_filename (base, "envoi-fuzz-queue-XXXXXX", NULL);
      FUZZ_CHECK (g_mkdtemp (spool) != NULL);
      atexit (cleanup_at_exit);
    }
  remove_spool ();

  msg_path = g_build_filename (spool, ID ".msg", NULL);
  FUZZ_CHECK (g_file_set_contents (msg_path, (const char *) data, size, NULL));

  queue = envoi_queue_new (spool, &error);
  FUZZ_CHECK (queue != NULL);

  /* Before the scan, which moves a damaged file aside. */
  {
    const char *recipients[] = { "a@example.net", NULL };
    g_autoptr(EnvoiQueueEntry) probe = envoi_queue_entry_new (ID, "acct", "", recipients);
    g_autoptr(GBytes) mapped = envoi_queue_read_message (queue, probe, NULL);
    goffset offset = 0;
    gsize length = 0;
    int fd = envoi_queue_open_message (queue, probe, &offset, &length, NULL);

    FUZZ_CHECK ((mapped != NULL) == (fd >= 0));
    if (fd >= 0)
      {
        g_autofree char *range = g_malloc (MAX (length, 1));

        FUZZ_CHECK (length == g_bytes_get_size (mapped));
        FUZZ_CHECK (pread (fd, range, length, offset) == (ssize_t) length);
        FUZZ_CHECK (memcmp (range, g_bytes_get_data (mapped, NULL), length) == 0);
        close (fd);
      }
  }

  FUZZ_CHECK (envoi_queue_scan (queue, &added, NULL, &error));
  if (added->len == 0)
    return 0;

  FUZZ_CHECK (added->len == 1);
  entry = g_ptr_array_index (added, 0);
  FUZZ_CHECK (g_str_equal (envoi_queue_entry_get_id (entry), ID));
  FUZZ_CHECK (envoi_queue_entry_get_recipients (entry)[0] != NULL);
  FUZZ_CHECK (envoi_queue_entry_get_state (entry) != ENVOI_QUEUE_STATE_SENDING);

  {
    g_autoptr(GBytes) message = envoi_queue_read_message (queue, entry, NULL);

    FUZZ_CHECK (message != NULL && g_bytes_get_size (message) == envoi_queue_entry_get_size (entry));
  }

  /* Written back, it reads back the same. */
  FUZZ_CHECK (envoi_queue_update (queue, entry, &error));
  reread = envoi_queue_new (spool, NULL);
  FUZZ_CHECK (envoi_queue_scan (reread, &again, NULL, NULL));
  FUZZ_CHECK (again->len == 1);
  copy = g_ptr_array_index (again, 0);
  FUZZ_CHECK (g_str_equal (envoi_queue_entry_get_account_id (copy), envoi_queue_entry_get_account_id (entry)));
  FUZZ_CHECK (g_str_equal (envoi_queue_entry_get_from (copy), envoi_queue_entry_get_from (entry)));
  FUZZ_CHECK (g_strv_equal ((const char * const *) envoi_queue_entry_get_recipients (copy),
                            (const char * const *) envoi_queue_entry_get_recipients (entry)));
  FUZZ_CHECK (envoi_queue_entry_get_state (copy) == envoi_queue_entry_get_state (entry));
  FUZZ_CHECK (envoi_queue_entry_get_attempts (copy) == envoi_queue_entry_get_attempts (entry));
  FUZZ_CHECK (g_strcmp0 (envoi_queue_entry_get_last_error (copy), envoi_queue_entry_get_last_error (entry)) == 0);

  return 0;
}

/* fuzz-recipients.c: envoi_message_prepare(), a submitted message and the recipients
 * taken from its To, Cc and Bcc (sendmail -t)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "envoi-message.h"
#include "envoi-queue.h"

static EnvoiQueue *spool;
static char *spool_dir;

static void
remove_spool (void)
{
  g_autoptr(GDir) dir = g_dir_open (spool_dir, 0, NULL);
  const char *name;

  g_clear_object (&spool);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (spool_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (spool_dir);
}

/* A spool of its own, on tmpfs when there is one. */
static EnvoiQueue *
fuzz_spool (void)
{
  if (spool == NULL)
    {
      const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();

      spool_dir = g_build_filename (base, "envoi-fuzz-recipients-XXXXXX", NULL);
      FUZZ_CHECK (g_mkdtemp (spool_dir) != NULL);
      spool = envoi_queue_new (spool_dir, NULL);
      FUZZ_CHECK (spool != NULL);
      atexit (remove_spool);
    }

  return spool;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) raw = g_bytes_new (data, size);
  g_autoptr(GBytes) prepared = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *header_from = NULL;
  g_auto(GStrv) extracted = NULL;

  fuzz_setup ();

  if (size > 64 * 1024)
    return 0;

  prepared = envoi_message_prepare (raw, "sender@example.org", "A Sender", TRUE,
                                          &header_from, &extracted, &error);
  FUZZ_CHECK ((prepared == NULL) != (error == NULL));
  if (prepared == NULL)
    return 0;

  FUZZ_CHECK (extracted != NULL);
  for (guint i = 0; extracted[i] != NULL; i++)
    {
      FUZZ_CHECK (*extracted[i] != '\0');
      for (guint j = 0; j < i; j++)
        FUZZ_CHECK (g_ascii_strcasecmp (extracted[i], extracted[j]) != 0);
    }

  /* Each becomes one RCPT TO. GMime may hand back an "address" with a line break from a
   * garbled header (regressions/recipients/): the spool must refuse it, so that it never
   * reaches the SMTP session. */
  if (extracted[0] != NULL)
    {
      g_autofree char *id = NULL;
      gboolean unsafe = FALSE;

      for (guint i = 0; extracted[i] != NULL; i++)
        unsafe |= fuzz_has_line_break (extracted[i]) || strpbrk (extracted[i], " <>") != NULL;

      id = envoi_queue_enqueue (fuzz_spool (), "account", "sender@example.org",
                                (const char * const *) extracted, prepared, NULL);
      FUZZ_CHECK (!(unsafe && id != NULL));
      if (id != NULL)
        FUZZ_CHECK (envoi_queue_remove (fuzz_spool (), id, NULL));
    }

  /* Preparing what was prepared is stable: a retry transmits the same bytes. */
  {
    g_autoptr(GBytes) again = envoi_message_prepare (prepared, "sender@example.org",
                                                           "A Sender", FALSE, NULL, NULL, NULL);

    FUZZ_CHECK (again != NULL);
    FUZZ_CHECK (g_bytes_equal (again, prepared));
  }

  return 0;
}

/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput() over files, without libFuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   fuzz-NAME-replay DIR|FILE...
 *
 * Every file of every DIR (not recursive) is one input. This is how the seed corpus and every
 * crash the fuzzers found (tests/fuzz/regressions/NAME/) run as ordinary tests, also under
 * ASan/UBSan and valgrind. Prints TAP.
 */

#include <glib.h>
#include <stdio.h>

#include "fuzz-common.h"

__attribute__ ((weak)) int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  return 0;
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static void
replay_file (const char *path,
             guint      *count)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      printf ("not ok %u - %s: %s\n", ++*count, path, error->message);
      exit (1);
    }

  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
  printf ("ok %u - %s\n", ++*count, path);
  fflush (stdout);
}

int
main (int   argc,
      char *argv[])
{
  guint count = 0;

  LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GPtrArray) names = NULL;
      const char *name;

      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          if (g_file_test (argv[i], G_FILE_TEST_EXISTS))
            replay_file (argv[i], &count);
          continue;  /* a target without regressions yet has no directory */
        }

      dir = g_dir_open (argv[i], 0, NULL);
      names = g_ptr_array_new_with_free_func (g_free);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        if (name[0] != '.')
          g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
      g_ptr_array_sort (names, compare_paths);

      for (guint j = 0; j < names->len; j++)
        replay_file (g_ptr_array_index (names, j), &count);
    }

  printf ("1..%u\n", count);
  return 0;
}

/* bench-durable.c: the cost of one durable enqueue, the other floor of a submission (make bench)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   bench-durable DIR COUNT
 *
 * Writes COUNT small files into DIR the way the queue does — a temporary file, fsync, rename
 * into place, fsync of the directory — and prints the milliseconds one took on average.
 */

#include <glib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char message[] =
  "From: Bench <bench@example.org>\nTo: sink@example.net\nSubject: bench\n\nbench\n";

int
main (int   argc,
      char *argv[])
{
  gint64 start;
  int dir_fd;
  int count;

  if (argc != 3 || (count = atoi (argv[2])) <= 0)
    {
      fprintf (stderr, "usage: %s DIR COUNT\n", argv[0]);
      return 64;
    }

  dir_fd = open (argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      fprintf (stderr, "%s: %s\n", argv[1], strerror (errno));
      return 74;
    }

  start = g_get_monotonic_time ();
  for (int i = 0; i < count; i++)
    {
      g_autofree char *temp = g_strdup_printf ("%s/.tmp-%d", argv[1], i);
      g_autofree char *final = g_strdup_printf ("%s/%d.msg", argv[1], i);
      int fd = open (temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

      if (fd < 0 || write (fd, message, sizeof message - 1) != sizeof message - 1 ||
          fsync (fd) != 0 || close (fd) != 0 || rename (temp, final) != 0 || fsync (dir_fd) != 0)
        {
          fprintf (stderr, "%s: %s\n", temp, strerror (errno));
          return 74;
        }
    }

  printf ("%.3f\n", (g_get_monotonic_time () - start) / 1000.0 / count);

  return 0;
}

/* bench-floor.c: the floor that envoi-sendmail's start is measured against (make bench)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The least a GLib program started by a script can cost: the process, the dynamic loader with
 * GLib, reading the message from standard input to its end, exit 0. tests/bench-submit.sh runs
 * it in the same `printf … | prog` pipeline, the same number of times, as envoi-sendmail.
 */

#include <glib.h>

#include <unistd.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GByteArray) input = g_byte_array_new ();
  guint8 buffer[4096];
  ssize_t n;

  while ((n = read (STDIN_FILENO, buffer, sizeof buffer)) > 0)
    g_byte_array_append (input, buffer, n);

  return n < 0 ? 74 : 0;
}

/* bench-history.c: helper of tests/bench-history.sh (make bench)
 *
 *   bench-history fill N             N records in $XDG_STATE_HOME/envoi/history.db, one in 50
 *                                    with a Japanese subject
 *   bench-history search TEXT R      R calls of the sender's History(0, 200, TEXT) over D-Bus:
 *                                    prints the median and the slowest, in ms, and the count
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "envoi-history.h"
#include "envoi-sender-dbus.h"

static int
fill (guint n)
{
  g_autoptr(EnvoiHistory) history = envoi_history_new (NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  envoi_history_set_limits (history, 0, G_MAXUINT);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EnvoiHistoryRecord) record = envoi_history_record_new ();
      const char *to[] = { NULL, NULL };
      g_autofree char *address = g_strdup_printf ("user%u@example.net", i);

      to[0] = address;
      record->time = now - (n - i);
      g_free (record->queue_id);
      record->queue_id = g_strdup_printf ("0662%012u-%08x", i, g_random_int ());
      g_free (record->account_id);
      record->account_id = g_strdup ("bench");
      g_free (record->from);
      record->from = g_strdup ("bench@example.org");
      g_strfreev (record->recipients);
      record->recipients = g_strdupv ((char **) to);
      g_free (record->subject);
      record->subject = i % 50 == 0 ? g_strdup_printf ("バックアップ報告 %u", i)
                                    : g_strdup_printf ("Nightly report %u", i);
      g_free (record->message_id);
      record->message_id = g_strdup_printf ("%u.%08x@bench.example.org", i, g_random_int ());
      record->size = 512;
      record->attempts = 1;
      g_free (record->reply);
      record->reply = g_strdup_printf ("250 2.0.0 Ok: queued as %X", i);
      envoi_history_add_async (history, record, -1, 0, 0, NULL, NULL);
    }
  envoi_history_flush (history);

  return 0;
}

static int
compare (gconstpointer a,
         gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static int
search (const char *text,
        guint       repeat)
{
  g_autoptr(EnvoiDBusSender1) sender = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  gsize found = 0;

  sender = envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                      G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                                      SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                      NULL, &error);
  if (sender == NULL)
    g_error ("%s", error->message);

  for (guint i = 0; i < repeat; i++)
    {
      g_autoptr(GVariant) records = NULL;
      gint64 start = g_get_monotonic_time ();
      double ms;

      if (!envoi_dbus_sender1_call_history_sync (sender, 0, 200, text, &records, NULL, &error))
        g_error ("%s", error->message);
      ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (times, ms);
      found = g_variant_n_children (records);
    }

  g_array_sort (times, compare);
  g_print ("%.1f %.1f %" G_GSIZE_FORMAT "\n", g_array_index (times, double, times->len / 2),
           g_array_index (times, double, times->len - 1), found);

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 3 && g_str_equal (argv[1], "fill"))
    return fill (atoi (argv[2]));
  if (argc == 4 && g_str_equal (argv[1], "search"))
    return search (argv[2], atoi (argv[3]));

  g_printerr ("usage: bench-history fill N | search TEXT REPEAT\n");
  return 64;
}

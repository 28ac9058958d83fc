/* test-history.c: the delivery history on a real SQLite file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "envoi-history.h"
#include "envoi-test-helpers.h"

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("envoi-history-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static EnvoiHistoryRecord *
make_record (guint        n,
             gint64       time,
             const char  *subject)
{
  EnvoiHistoryRecord *record = envoi_history_record_new ();
  const char *recipients[] = { NULL, NULL };
  g_autofree char *to = g_strdup_printf ("rcpt%u@example.org", n);

  recipients[0] = to;
  record->time = time;
  g_free (record->queue_id);
  record->queue_id = g_strdup_printf ("q%06u", n);
  g_free (record->account_id);
  record->account_id = g_strdup ("work");
  g_free (record->from);
  record->from = g_strdup ("me@example.org");
  g_strfreev (record->recipients);
  record->recipients = g_strdupv ((char **) recipients);
  if (subject != NULL)
    {
      g_free (record->subject);
      record->subject = g_strdup (subject);
    }
  g_free (record->message_id);
  record->message_id = g_strdup_printf ("%u.test@example.org", n);
  record->size = 100 + n;
  record->attempts = 1;
  g_free (record->reply);
  record->reply = g_strdup_printf ("250 2.0.0 Ok: queued as Q%u", n);

  return record;
}

static EnvoiHistoryRecord *
add (EnvoiHistory             *history,
     const EnvoiHistoryRecord *record,
     int                       fd,
     gsize                    length)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiHistoryRecord *stored;

  envoi_history_add_async (history, record, fd, 0, length, envoi_test_async_result_cb, &result);
  stored = envoi_history_add_finish (history, envoi_test_wait (&result), &error);
  g_assert_no_error (error);

  return stored;
}

static GPtrArray *
query (EnvoiHistory *history,
       guint         offset,
       guint         limit,
       const char   *search)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *records;

  envoi_history_query_async (history, offset, limit, search, NULL, envoi_test_async_result_cb, &result);
  records = envoi_history_query_finish (history, envoi_test_wait (&result), &error);
  g_assert_no_error (error);

  return records;
}

/* Many records handed over at once, newest first back, the Subject and Message-ID read from
 * the message itself (encoded words decoded), and found by a Japanese subject. */
static void
test_add_and_search (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autofree char *message_path = g_build_filename (dir, "message", NULL);
  g_autoptr(EnvoiHistory) history = envoi_history_new (path);
  g_autoptr(EnvoiHistoryRecord) record = make_record (7, 1000, NULL);
  g_autoptr(EnvoiHistoryRecord) stored = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  /* "バックアップ報告" (backup report), in an RFC 2047 encoded word, folded. */
  const char *message =
    "From: me@example.org\r\n"
    "To: rcpt7@example.org\r\n"
    "Subject: =?UTF-8?B?44OQ44OD44Kv44Ki44OD44OX5aCx5ZGK?=\r\n"
    " 2026\r\n"
    "Message-ID: <abc.123@example.org>\r\n"
    "\r\n"
    "Subject: not this one\r\n";
  int fd;

  /* Times of long ago: no age limit here. */
  envoi_history_set_limits (history, 0, 1000);
  g_assert_true (g_file_set_contents (message_path, message, -1, NULL));
  fd = g_open (message_path, O_RDONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);

  g_clear_pointer (&record->subject, g_free);
  record->subject = g_strdup ("");
  g_clear_pointer (&record->message_id, g_free);
  record->message_id = g_strdup ("");
  stored = add (history, record, fd, strlen (message));
  g_assert_cmpint (stored->id, >, 0);
  g_assert_cmpstr (stored->subject, ==, "バックアップ報告 2026");
  g_assert_cmpstr (stored->message_id, ==, "abc.123@example.org");

  /* Handed over together: one transaction. */
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr(EnvoiHistoryRecord) other = make_record (100 + i, 2000 + i, "Nightly report");

      envoi_history_add_async (history, other, -1, 0, 0, NULL, NULL);
    }
  envoi_history_flush (history);

  all = query (history, 0, 0, NULL);
  g_assert_cmpuint (all->len, ==, 51);
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[0])->queue_id, ==, "q000149");
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[50])->queue_id, ==, "q000007");
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[50])->reply, ==, "250 2.0.0 Ok: queued as Q7");
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[50])->recipients[0], ==, "rcpt7@example.org");

  found = query (history, 0, 10, "報告");
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((EnvoiHistoryRecord *) found->pdata[0])->queue_id, ==, "q000007");

  /* By recipient, any case; by Message-ID; LIKE's wildcards are literal. */
  g_clear_pointer (&found, g_ptr_array_unref);
  found = query (history, 0, 0, "RCPT120@");
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = query (history, 0, 0, "abc.123@");
  g_assert_cmpuint (found->len, ==, 1);
  none = query (history, 0, 0, "rcpt%");
  g_assert_cmpuint (none->len, ==, 0);

  /* Paging. */
  g_clear_pointer (&found, g_ptr_array_unref);
  found = query (history, 10, 5, "report");
  g_assert_cmpuint (found->len, ==, 5);
  g_assert_cmpstr (((EnvoiHistoryRecord *) found->pdata[0])->queue_id, ==, "q000139");

  /* Another process reads the same file. */
  read = envoi_history_read (path, 0, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (read->len, ==, 3);
  g_assert_cmpstr (((EnvoiHistoryRecord *) read->pdata[0])->queue_id, ==, "q000149");

  g_assert_cmpint (g_stat (path, &(GStatBuf) { 0 }), ==, 0);
}

/* 12,000 records with the default limits: the newest 10,000 stay. */
static void
test_bounded (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(EnvoiHistory) history = envoi_history_new (path);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) old = NULL;
  g_autoptr(GSettings) settings = g_settings_new ("io.github.envoimail.Envoi");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 start;
  GStatBuf st;

  /* The defaults the daemon gives it. */
  envoi_history_set_limits (history, g_settings_get_uint (settings, "history-days"),
                            g_settings_get_uint (settings, "history-max-records"));

  for (guint i = 0; i < 12000; i++)
    {
      g_autoptr(EnvoiHistoryRecord) record = make_record (i, now - 12000 + i, "Report");

      envoi_history_add_async (history, record, -1, 0, 0, NULL, NULL);
      if (i % 1000 == 999)
        envoi_history_flush (history);
    }
  envoi_history_flush (history);

  all = query (history, 0, 0, NULL);
  g_assert_cmpuint (all->len, ==, 10000);
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[0])->queue_id, ==, "q011999");
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[9999])->queue_id, ==, "q002000");

  /* A search over all of them is quick (the window filters as one types). */
  start = g_get_monotonic_time ();
  old = query (history, 0, 200, "rcpt11999@");
  g_test_message ("search over 10,000 records: %.1f ms",
                  (g_get_monotonic_time () - start) / 1000.0);
  g_assert_cmpuint (old->len, ==, 1);

  /* Private. */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

/* Older than the day limit: gone with the next write. */
static void
test_age_limit (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(EnvoiHistory) history = envoi_history_new (path);
  g_autoptr(EnvoiHistoryRecord) old = make_record (1, g_get_real_time () / G_USEC_PER_SEC - 3 * 86400, NULL);
  g_autoptr(EnvoiHistoryRecord) recent = make_record (2, g_get_real_time () / G_USEC_PER_SEC - 86400, NULL);
  g_autoptr(GPtrArray) all = NULL;

  envoi_history_set_limits (history, 2, 100);
  envoi_history_add_async (history, old, -1, 0, 0, NULL, NULL);
  envoi_history_add_async (history, recent, -1, 0, 0, NULL, NULL);
  envoi_history_flush (history);

  all = query (history, 0, 0, NULL);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpstr (((EnvoiHistoryRecord *) all->pdata[0])->queue_id, ==, "q000002");
}

/* A file that is not a database is set aside, and a new history begun. */
static void
test_damaged (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "history.db", NULL);
  g_autoptr(EnvoiHistory) history = NULL;
  g_autoptr(EnvoiHistoryRecord) record = make_record (3, 5000, NULL);
  g_autoptr(EnvoiHistoryRecord) stored = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GDir) listing = NULL;
  const char *name;
  gboolean set_aside = FALSE;

  g_assert_true (g_file_set_contents (path, "this is no database, just damage\n", -1, NULL));
  history = envoi_history_new (path);
  envoi_history_set_limits (history, 0, 1000);

  g_test_expect_message ("envoi-history", G_LOG_LEVEL_WARNING, "*damaged*");
  stored = add (history, record, -1, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpint (stored->id, >, 0);

  all = query (history, 0, 0, NULL);
  g_assert_cmpuint (all->len, ==, 1);

  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, "history.db.damaged-"))
      set_aside = TRUE;
  g_assert_true (set_aside);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/history/add-and-search", test_add_and_search);
  g_test_add_func ("/envoi/history/bounded", test_bounded);
  g_test_add_func ("/envoi/history/age-limit", test_age_limit);
  g_test_add_func ("/envoi/history/damaged", test_damaged);

  return g_test_run ();
}

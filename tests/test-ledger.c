/* test-ledger.c: the per-account usage ledger behind the sending limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "envoi-ledger.h"
#include "envoi-test-helpers.h"

#define SEC ((gint64) G_USEC_PER_SEC)

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("envoi-ledger-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
test_windows (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiLedger) ledger = envoi_ledger_new (dir, NULL);
  gint64 now = g_get_real_time ();
  guint hour, day;

  /* Two 25 hours ago (gone), three 2 hours ago, four in the last hour. */
  static const gint64 ages[] = { 25 * 3600, 25 * 3600, 7200, 7100, 7000, 3000, 1200, 60, 1 };

  for (guint i = 0; i < G_N_ELEMENTS (ages); i++)
    g_assert_true (envoi_ledger_record (ledger, "acct", now - ages[i] * SEC, NULL));

  envoi_ledger_get_usage (ledger, "acct", now, &hour, &day);
  g_assert_cmpuint (hour, ==, 4);
  g_assert_cmpuint (day, ==, 7);

  envoi_ledger_get_usage (ledger, "other", now, &hour, &day);
  g_assert_cmpuint (hour, ==, 0);
  g_assert_cmpuint (day, ==, 0);

  /* Under both limits: now. */
  g_assert_cmpint (envoi_ledger_next_allowed (ledger, "acct", now, 5, 8), ==, now);
  /* Hourly limit 4 reached: when the oldest of the last hour (3000 s ago) leaves it. */
  g_assert_cmpint (envoi_ledger_next_allowed (ledger, "acct", now, 4, 100) / SEC, ==,
                   (now - 3000 * SEC) / SEC + 3600);
  /* Limit 2: the second newest… the 2nd from the end (60 s ago) must leave. */
  g_assert_cmpint (envoi_ledger_next_allowed (ledger, "acct", now, 2, 100) / SEC, ==,
                   (now - 60 * SEC) / SEC + 3600);
  /* Daily limit 7 reached: the oldest of the day (7200 s ago) must leave the day. */
  g_assert_cmpint (envoi_ledger_next_allowed (ledger, "acct", now, 100, 7) / SEC, ==,
                   (now - 7200 * SEC) / SEC + 24 * 3600);
  /* 0 is no limit. */
  g_assert_cmpint (envoi_ledger_next_allowed (ledger, "acct", now, 0, 0), ==, now);
}

static void
test_restart_and_compact (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "usage-acct.log", NULL);
  g_autoptr(EnvoiLedger) ledger = envoi_ledger_new (dir, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *damaged = NULL;
  gint64 now = g_get_real_time ();
  guint hour, day;

  for (guint i = 0; i < 10; i++)
    g_assert_true (envoi_ledger_record (ledger, "acct", now - (i + 1) * 60 * SEC, NULL));
  g_assert_true (envoi_ledger_sync (ledger, &error));
  g_assert_no_error (error);
  g_clear_object (&ledger);

  /* A torn last line and an old one, as a crash or yesterday might leave. */
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  damaged = g_strdup_printf ("%" G_GINT64_FORMAT "\nnot a number\n%s17", now / SEC - 90000, contents);
  g_file_set_contents (path, damaged, -1, &error);
  g_assert_no_error (error);

  ledger = envoi_ledger_new (dir, NULL);
  envoi_ledger_get_usage (ledger, "acct", now, &hour, &day);
  g_assert_cmpuint (hour, ==, 10);
  g_assert_cmpuint (day, ==, 10);

  /* Loading dropped what it could not use: the file holds exactly the ten lines. */
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_cmpstr (contents, !=, damaged);
  {
    g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), ==, 11);  /* ten and the empty tail */
  }

  g_assert_true (envoi_ledger_record (ledger, "acct", now, NULL));
  envoi_ledger_get_usage (ledger, "acct", now, &hour, &day);
  g_assert_cmpuint (hour, ==, 11);
}

static void
test_bad_ids (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiLedger) ledger = envoi_ledger_new (dir, NULL);
  guint hour = 1, day = 1;

  envoi_ledger_get_usage (ledger, "../etc", g_get_real_time (), &hour, &day);
  g_assert_cmpuint (hour, ==, 0);
  g_assert_cmpuint (day, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/ledger/windows", test_windows);
  g_test_add_func ("/envoi/ledger/restart-and-compact", test_restart_and_compact);
  g_test_add_func ("/envoi/ledger/bad-ids", test_bad_ids);

  return g_test_run ();
}

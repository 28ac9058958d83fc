/* test-queue.c: the durable spool and message preparation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-message.h"
#include "envoi-queue.h"
#include "envoi-test-helpers.h"

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("envoi-queue-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static GBytes *
bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
test_enqueue_and_reload (void)
{
  g_autofree char *parent = make_dir ();
  g_autofree char *dir = g_build_filename (parent, "queue", NULL);
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(EnvoiQueue) again = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GBytes) message = bytes ("Subject: hi\n\nbody\n");
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *recipients[] = { "a@example.net", "b@example.net", NULL };
  EnvoiQueueEntry *entry;
  struct stat st;

  queue = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  id = envoi_queue_enqueue (queue, "acct", "me@example.org", recipients, message, &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_id_is_valid (id));
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 1);

  /* Another process (or the next start) sees the same entry. */
  again = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_scan (again, &added, &damaged, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpuint (damaged->len, ==, 0);
  entry = g_ptr_array_index (added, 0);
  g_assert_cmpstr (envoi_queue_entry_get_id (entry), ==, id);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (entry), ==, "acct");
  g_assert_cmpstr (envoi_queue_entry_get_from (entry), ==, "me@example.org");
  g_assert_cmpstrv (envoi_queue_entry_get_recipients (entry), recipients);
  g_assert_cmpint (envoi_queue_entry_get_state (entry), ==, ENVOI_QUEUE_STATE_QUEUED);
  g_assert_cmpint (envoi_queue_entry_get_queued (entry), >, 0);

  read = envoi_queue_read_message (again, entry, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, message));

  /* State changes are durable too. */
  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_DEFERRED);
  envoi_queue_entry_set_attempts (entry, 3);
  envoi_queue_entry_set_next_attempt (entry, 1234567);
  envoi_queue_entry_set_last_error (entry, "451 try later");
  g_assert_true (envoi_queue_update (again, entry, &error));
  g_assert_no_error (error);

  g_clear_object (&queue);
  g_clear_pointer (&added, g_ptr_array_unref);
  queue = envoi_queue_new (dir, &error);
  g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
  entry = g_ptr_array_index (added, 0);
  g_assert_cmpint (envoi_queue_entry_get_state (entry), ==, ENVOI_QUEUE_STATE_DEFERRED);
  g_assert_cmpuint (envoi_queue_entry_get_attempts (entry), ==, 3);
  g_assert_cmpint (envoi_queue_entry_get_next_attempt (entry), ==, 1234567);
  g_assert_cmpstr (envoi_queue_entry_get_last_error (entry), ==, "451 try later");

  g_assert_true (envoi_queue_remove (queue, id, &error));
  g_assert_no_error (error);
  g_assert_true (envoi_queue_sync (queue, &error));
  g_assert_false (envoi_queue_remove (queue, id, &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_object (&again);
  again = envoi_queue_new (dir, &error);
  g_clear_pointer (&added, g_ptr_array_unref);
  g_assert_true (envoi_queue_scan (again, &added, NULL, &error));
  g_assert_cmpuint (added->len, ==, 0);
}

/* An envelope longer than the first read of a file (300 recipients, about 9 KB) comes back
 * whole, and so does its message. */
static void
test_reload_long_envelope (void)
{
  g_autofree char *parent = make_dir ();
  g_autofree char *dir = g_build_filename (parent, "queue", NULL);
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(EnvoiQueue) again = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) message = bytes ("Subject: many\n\nbody\n");
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  EnvoiQueueEntry *entry;

  for (guint i = 0; i < 300; i++)
    g_ptr_array_add (recipients, g_strdup_printf ("recipient-number-%03u@example.net", i));
  g_ptr_array_add (recipients, NULL);

  queue = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  id = envoi_queue_enqueue (queue, "acct", "me@example.org", (const char * const *) recipients->pdata,
                            message, &error);
  g_assert_no_error (error);

  again = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_scan (again, &added, &damaged, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpuint (damaged->len, ==, 0);
  entry = g_ptr_array_index (added, 0);
  g_assert_cmpstr (envoi_queue_entry_get_id (entry), ==, id);
  g_assert_cmpstrv (envoi_queue_entry_get_recipients (entry), (const char * const *) recipients->pdata);

  read = envoi_queue_read_message (again, entry, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, message));
}

static void
test_bad_envelope (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GBytes) message = bytes ("Subject: hi\n\nbody\n");
  g_autoptr(GError) error = NULL;
  const char *none[] = { NULL };
  const char *injected[] = { "a@example.net>\r\nRSET", NULL };
  const char *good[] = { "a@example.net", NULL };
  char *id;

  id = envoi_queue_enqueue (queue, "acct", "me@example.org", none, message, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_RECIPIENTS);
  g_assert_null (id);
  g_clear_error (&error);

  id = envoi_queue_enqueue (queue, "acct", "me@example.org", injected, message, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE);
  g_assert_null (id);
  g_clear_error (&error);

  id = envoi_queue_enqueue (queue, "acct", "me@example.org\nRCPT", good, message, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE);
  g_assert_null (id);
}

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
test_damaged (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) reader = NULL;
  g_autoptr(GBytes) message = bytes ("Subject: hi\n\nbody\n");
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *good1 = NULL;
  g_autofree char *good2 = NULL;
  g_autofree char *truncated = NULL;
  g_autofree char *truncated_msg = NULL;
  g_autofree char *orphan_path = g_build_filename (dir, "0000000000abcd-00000001.msg", NULL);
  g_autofree char *damaged_dir = g_build_filename (dir, "damaged", NULL);
  const char *recipients[] = { "a@example.net", NULL };
  struct utimbuf old = { 1000, 1000 };

  good1 = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, NULL);
  truncated = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, NULL);
  good2 = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, NULL);

  /* A state file that is not a key file (with a spool file that is not one either), a spool
   * file that lost bytes, one that is not a spool file at all; and the state file of a message
   * already removed, which is simply dropped. */
  write_file (dir, "0000000000abcf-00000003.env", "[Envelope]\n");
  write_file (dir, "0000000000abce-00000002.env", "\x01garbage[[[\n");
  write_file (dir, "0000000000abce-00000002.msg", "Subject: x\n\n");
  truncated_msg = g_strconcat (truncated, ".msg", NULL);
  write_file (dir, truncated_msg, "Subj");
  write_file (dir, "0000000000abcd-00000001.msg", "Subject: y\n\n");
  g_assert_cmpint (utime (orphan_path, &old), ==, 0);

  reader = envoi_queue_new (dir, NULL);
  g_test_expect_message ("envoi-queue", G_LOG_LEVEL_WARNING, "*damaged*");
  g_test_expect_message ("envoi-queue", G_LOG_LEVEL_WARNING, "*damaged*");
  g_test_expect_message ("envoi-queue", G_LOG_LEVEL_WARNING, "*damaged*");
  g_assert_true (envoi_queue_scan (reader, &added, &damaged, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_assert_cmpuint (added->len, ==, 2);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==, good1);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 1)), ==, good2);
  g_assert_cmpuint (damaged->len, ==, 3);
  for (guint i = 0; i < damaged->len; i++)
    g_assert_error ((GError *) g_ptr_array_index (damaged, i), ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_DAMAGED);

  /* Moved aside, not deleted; the spool itself is clean. */
  g_assert_true (g_file_test (damaged_dir, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (orphan_path, G_FILE_TEST_EXISTS));
  {
    g_autofree char *leftover = g_build_filename (dir, "0000000000abcf-00000003.env", NULL);

    g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  }
  {
    g_autofree char *moved = g_build_filename (damaged_dir, "0000000000abcd-00000001.msg", NULL);
    g_autofree char *moved_env = g_build_filename (damaged_dir, "0000000000abce-00000002.env", NULL);

    g_assert_true (g_file_test (moved, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_test (moved_env, G_FILE_TEST_EXISTS));
  }
}

static void
test_prepare (void)
{
  static const struct {
    const char *input;
    gboolean    extract;
    const char *expected_rcpts;  /* comma-separated */
    const char *must_contain;
    const char *must_not_contain;
  } cases[] = {
    { "From: Me <me@example.org>\nTo: a@example.net, \"B\" <b@example.net>\nCc: c@example.net\n"
      "Bcc: d@example.net\nSubject: s\n\nbody\n", TRUE,
      "a@example.net,b@example.net,c@example.net,d@example.net", "Cc: c@example.net", "Bcc" },
    { "To: Group: a@example.net, b@example.net;\nSubject: s\n\nbody\n", TRUE,
      "a@example.net,b@example.net", "From: ", NULL },
    { "To: a@example.net\nTo: a@example.net\nBcc: A@EXAMPLE.NET\n\nbody\n", TRUE,
      "a@example.net", "Message-Id: <", "Bcc" },
    { "To: a@example.net\nSubject: s\n\nbody\n", FALSE, "", "Date: ", NULL },
    { "Date: Tue, 1 Jan 2030 00:00:00 +0000\nMessage-ID: <keep@example.org>\nTo: a@example.net\n\nbody\n",
      TRUE, "a@example.net", "<keep@example.org>", NULL },
  };
  /* The Date submitted is kept exactly; the others get one of their own. */
  static const char *kept_date = "Date: Tue, 1 Jan 2030 00:00:00 +0000\n";

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) raw = bytes (cases[i].input);
      g_autoptr(GBytes) prepared = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *header_from = NULL;
      g_auto(GStrv) rcpts = NULL;
      g_autofree char *joined = NULL;
      g_autofree char *text = NULL;

      prepared = envoi_message_prepare (raw, "me@example.org", "Me Myself", cases[i].extract,
                                              &header_from, &rcpts, &error);
      g_assert_no_error (error);
      joined = g_strjoinv (",", rcpts);
      g_assert_cmpstr (joined, ==, cases[i].expected_rcpts);
      text = g_strndup (g_bytes_get_data (prepared, NULL), g_bytes_get_size (prepared));
      g_assert_nonnull (strstr (text, cases[i].must_contain));
      g_assert_nonnull (strstr (text, "Date: "));
      g_assert_nonnull (strstr (text, "Message-Id: <") ?: strstr (text, "Message-ID: <"));
      if (cases[i].must_not_contain != NULL)
        g_assert_null (strstr (text, cases[i].must_not_contain));
      g_assert_nonnull (strstr (text, "\nbody\n"));
      if (g_str_has_prefix (cases[i].input, "Date: "))
        {
          const char *date = strstr (text, "Date: ");

          /* The header as submitted, once, and no second Date. */
          g_assert_true (date == text || date[-1] == '\n');
          g_assert_true (g_str_has_prefix (date, kept_date));
          g_assert_null (strstr (date + 1, "Date: "));
        }
    }
}

static EnvoiAccountStore *
make_store (void)
{
  EnvoiAccountStore *store = envoi_account_store_new ();
  g_autoptr(EnvoiAccount) one = envoi_account_new ("one");
  g_autoptr(EnvoiAccount) two = envoi_account_new ("two");

  g_object_set (one, "address", "one@example.org", NULL);
  g_object_set (two, "address", "two@example.org", NULL);
  envoi_account_store_add (store, one);
  envoi_account_store_add (store, two);
  envoi_account_store_set_default (store, "two");

  return store;
}

static void
test_submit (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiAccountStore) empty = NULL;
  g_autoptr(EnvoiAccountStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) from_one = bytes ("From: One <ONE@example.org>\nTo: x@example.net\nBcc: y@example.net\n\nhi\n");
  g_autoptr(GBytes) from_other = bytes ("From: z@example.com\nSubject: s\n\nhi\n");
  g_autoptr(GBytes) no_header = bytes ("");
  const char *extra[] = { "w@example.net", NULL };
  g_autofree char *id = NULL;
  EnvoiQueueEntry *entry;
  const char *expected_one[] = { "x@example.net", "y@example.net", NULL };

  /* No account at all: the caller exits 78. */
  empty = envoi_account_store_new ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (empty)), ==, 0);
  id = envoi_queue_submit (queue, empty, from_one, NULL, NULL, NULL, NULL, TRUE, 0, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT);
  g_clear_error (&error);

  store = make_store ();

  /* From matches an account (whatever the case): that one, and its address as sender. */
  id = envoi_queue_submit (queue, store, from_one, NULL, NULL, NULL, NULL, TRUE, 0, &error);
  g_assert_no_error (error);
  entry = envoi_queue_lookup (queue, id);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (entry), ==, "one");
  g_assert_cmpstr (envoi_queue_entry_get_from (entry), ==, "one@example.org");
  g_assert_cmpstrv (envoi_queue_entry_get_recipients (entry), expected_one);
  {
    g_autoptr(GBytes) stored = envoi_queue_read_message (queue, entry, NULL);
    g_autofree char *text = g_strndup (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored));

    g_assert_null (strstr (text, "Bcc"));
    g_assert_null (strstr (text, "y@example.net"));
  }
  g_clear_pointer (&id, g_free);

  /* No match: the default account; -f is kept as the envelope sender. */
  id = envoi_queue_submit (queue, store, from_other, NULL, "bounce@example.com", NULL, extra, FALSE, 0, &error);
  g_assert_no_error (error);
  entry = envoi_queue_lookup (queue, id);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (entry), ==, "two");
  g_assert_cmpstr (envoi_queue_entry_get_from (entry), ==, "bounce@example.com");
  g_clear_pointer (&id, g_free);

  /* An explicit account wins; an unknown one is an error. */
  id = envoi_queue_submit (queue, store, from_one, "two", NULL, NULL, NULL, TRUE, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (envoi_queue_lookup (queue, id)), ==, "two");
  g_clear_pointer (&id, g_free);
  id = envoi_queue_submit (queue, store, from_one, "nope", NULL, NULL, NULL, TRUE, 0, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT);
  g_clear_error (&error);

  id = envoi_queue_submit (queue, store, from_other, NULL, NULL, NULL, NULL, TRUE, 0, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_RECIPIENTS);
  g_clear_error (&error);

  id = envoi_queue_submit (queue, store, from_one, NULL, NULL, NULL, NULL, TRUE, 10, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_TOO_LARGE);
  g_assert_cmpstr (error->message, ==, "The message is larger than the limit of 10 bytes");
  g_clear_error (&error);

  id = envoi_queue_submit (queue, store, no_header, NULL, NULL, NULL, extra, FALSE, 0, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE);
  g_clear_error (&error);

  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 3);
}

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* envoi_queue_submit_async(), run to its end. */
static char *
submit_and_wait (EnvoiQueue         *queue,
                 EnvoiAccountStore  *store,
                 GBytes             *raw,
                 const char         *account_id,
                 guint64             max_size,
                 GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  envoi_queue_submit_async (queue, store, raw, account_id, NULL, NULL, NULL, TRUE, max_size, NULL,
                            submitted_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return envoi_queue_submit_finish (queue, result, error);
}

/* A message too large to prepare in place is parsed and finished in a worker, its account
 * chosen back on the queue's thread: the same choices and the same errors as a small one. */
static void
test_submit_large (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiAccountStore) store = make_store ();
  g_autoptr(GString) text = g_string_new ("From: One <ONE@example.org>\nTo: x@example.net\n"
                                          "Bcc: y@example.net\nSubject: large\n\n");
  g_autoptr(GBytes) large = NULL;
  g_autoptr(GBytes) no_recipients = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *stored_text = NULL;
  g_autoptr(GBytes) stored = NULL;
  const char *expected[] = { "x@example.net", "y@example.net", NULL };
  EnvoiQueueEntry *entry;

  for (guint i = 0; i < 4000; i++)
    g_string_append_printf (text, "line %u of a message of more than a hundred kilobytes\n", i);
  large = g_bytes_new (text->str, text->len);
  g_assert_cmpuint (g_bytes_get_size (large), >, 128 * 1024);

  id = submit_and_wait (queue, store, large, NULL, 0, &error);
  g_assert_no_error (error);
  entry = envoi_queue_lookup (queue, id);
  g_assert_nonnull (entry);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (entry), ==, "one");
  g_assert_cmpstr (envoi_queue_entry_get_from (entry), ==, "one@example.org");
  g_assert_cmpstrv (envoi_queue_entry_get_recipients (entry), expected);
  stored = envoi_queue_read_message (queue, entry, &error);
  g_assert_no_error (error);
  stored_text = g_strndup (g_bytes_get_data (stored, NULL), g_bytes_get_size (stored));
  g_assert_null (strstr (stored_text, "Bcc"));
  g_assert_nonnull (strstr (stored_text, "\nDate: "));
  g_assert_nonnull (strstr (stored_text, "\nMessage-Id: <"));
  g_assert_nonnull (strstr (stored_text, "line 3999 of a message"));
  g_clear_pointer (&id, g_free);

  /* An explicit account wins; an unknown one is an error. */
  id = submit_and_wait (queue, store, large, "two", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (envoi_queue_entry_get_account_id (envoi_queue_lookup (queue, id)), ==, "two");
  g_clear_pointer (&id, g_free);
  g_assert_null (submit_and_wait (queue, store, large, "nope", 0, &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_ACCOUNT);
  g_clear_error (&error);

  g_assert_null (submit_and_wait (queue, store, large, NULL, 1000, &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  no_recipients = g_bytes_new_from_bytes (large, strlen ("From: One <ONE@example.org>\nTo: x@example.net\nBcc: y@example.net\n"),
                                          g_bytes_get_size (large) - strlen ("From: One <ONE@example.org>\nTo: x@example.net\nBcc: y@example.net\n"));
  g_assert_null (submit_and_wait (queue, store, no_recipients, NULL, 0, &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NO_RECIPIENTS);
  g_clear_error (&error);

  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 2);
}

/* What the delivery agent does with the descriptor: reads the range itself. */
static GBytes *
pread_range (int     fd,
             goffset offset,
             gsize   length)
{
  g_autofree char *data = g_malloc (MAX (length, 1));
  gsize done = 0;

  while (done < length)
    {
      ssize_t got = pread (fd, data + done, length - done, offset + done);

      g_assert_cmpint (got, >, 0);
      done += got;
    }

  return g_bytes_new_take (g_steal_pointer (&data), length);
}

/* The range of envoi_queue_open_message() is what envoi_queue_read_message() gives, on a
 * descriptor that can only read and does not outlive an exec. */
static void
assert_range_is_message (EnvoiQueue      *queue,
                         EnvoiQueueEntry *entry,
                         GBytes          *expected)
{
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GBytes) range = NULL;
  g_autoptr(GError) error = NULL;
  goffset offset = -1;
  gsize length = 0;
  int fd;

  read = envoi_queue_read_message (queue, entry, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read, expected));

  fd = envoi_queue_open_message (queue, entry, &offset, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (offset, >, 0);
  g_assert_cmpuint (length, ==, g_bytes_get_size (read));
  range = pread_range (fd, offset, length);
  g_assert_true (g_bytes_equal (range, read));

  g_assert_cmpint (fcntl (fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
  errno = 0;
  g_assert_cmpint (write (fd, "x", 1), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);
  g_assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  g_assert_cmpint (close (fd), ==, 0);
}

/* envoi_queue_open_message() fails as envoi_queue_read_message() does, and gives no descriptor. */
static void
assert_open_fails_as_read (EnvoiQueue      *queue,
                           EnvoiQueueEntry *entry)
{
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GError) read_error = NULL;
  g_autoptr(GError) open_error = NULL;
  goffset offset = -1;
  gsize length = 0;

  read = envoi_queue_read_message (queue, entry, &read_error);
  g_assert_null (read);
  g_assert_nonnull (read_error);

  g_assert_cmpint (envoi_queue_open_message (queue, entry, &offset, &length, &open_error), ==, -1);
  g_assert_error (open_error, read_error->domain, read_error->code);
}

static void
test_open_message (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GString) text = g_string_new ("Subject: large\n\n");
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GBytes) small = bytes ("Subject: hi\n\nbody\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *small_id = NULL;
  g_autofree char *msg_path = NULL;
  g_autofree char *env_path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *copy_path = g_build_filename (dir, "copy", NULL);
  const char *recipients[] = { "a@example.net", NULL };
  EnvoiQueueEntry *entry;
  gsize contents_length;
  /* Damaged files, each in place of a good one. NULL: the good one less its last byte. */
  const char *damaged[] = {
    NULL,
    "",
    "ENVOI-QUEUE 1 x y\n",
    "ENVOI-QUEUE 1 5 5\n",
    "ENVOI-QUEUE 1 5 5\n[Envelope]\nSubject: extra\n",
    "ENVOI-QUEUE 1 18446744073709551615 2\nab",
    "ENVOI-QUEUE 2 1 1\nab",
    "ENVOI-QUEUE 1 000000000000000000000000000000000000000000000000001 1\nab",
  };

  /* Larger than anything read to find it. */
  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (text, "line %u of the body\n", i);
  message = g_bytes_new (text->str, text->len);

  id = envoi_queue_enqueue (queue, "acct", "me@example.org", recipients, message, &error);
  g_assert_no_error (error);
  entry = envoi_queue_lookup (queue, id);
  assert_range_is_message (queue, entry, message);

  small_id = envoi_queue_enqueue (queue, "acct", "me@example.org", recipients, small, &error);
  g_assert_no_error (error);
  assert_range_is_message (queue, envoi_queue_lookup (queue, small_id), small);

  /* With the state written to ID.env, longer than the envelope in ID.msg: the same range. */
  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_DEFERRED);
  envoi_queue_entry_set_attempts (entry, 7);
  envoi_queue_entry_set_last_error (entry, "451 4.7.1 Greylisted, please try again in a little while");
  g_assert_true (envoi_queue_update (queue, entry, &error));
  g_assert_no_error (error);
  env_path = g_strconcat (dir, "/", id, ".env", NULL);
  g_assert_true (g_file_test (env_path, G_FILE_TEST_IS_REGULAR));
  assert_range_is_message (queue, entry, message);

  msg_path = g_strconcat (dir, "/", id, ".msg", NULL);
  g_assert_true (g_file_get_contents (msg_path, &contents, &contents_length, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (damaged); i++)
    {
      g_assert_true (g_file_set_contents (msg_path, damaged[i] ?: contents,
                                          damaged[i] != NULL ? -1 : (gssize) contents_length - 1,
                                          NULL));
      assert_open_fails_as_read (queue, entry);
    }

  /* Never through a symlink, even to a good file. */
  g_assert_true (g_file_set_contents (copy_path, contents, contents_length, NULL));
  g_assert_cmpint (g_unlink (msg_path), ==, 0);
  g_assert_cmpint (symlink ("copy", msg_path), ==, 0);
  {
    goffset offset;
    gsize length;

    g_assert_cmpint (envoi_queue_open_message (queue, entry, &offset, &length, &error), ==, -1);
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP);
    g_clear_error (&error);
  }

  /* Removed meanwhile: NOENT, as a scan or a load takes it. */
  g_assert_cmpint (g_unlink (msg_path), ==, 0);
  assert_open_fails_as_read (queue, entry);
  {
    goffset offset;
    gsize length;

    g_assert_cmpint (envoi_queue_open_message (queue, entry, &offset, &length, &error), ==, -1);
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  }
}

/* Enqueues @n messages for @account, oldest first; returns their ids. */
static GPtrArray *
enqueue_many (EnvoiQueue *queue,
              const char *account,
              guint       n)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  const char *recipients[] = { "a@example.net", NULL };

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("Subject: %u\n\nbody\n", i);
      g_autoptr(GBytes) message = bytes (text);
      g_autoptr(GError) error = NULL;
      char *id = envoi_queue_enqueue (queue, account, "me@example.org", recipients, message, &error);

      g_assert_no_error (error);
      g_ptr_array_add (ids, id);
    }

  return ids;
}

/* What the daemon does with its window: sends the oldest resident message of @account, removes
 * it, and scans when the queue asks for a refill. Returns the id sent, or NULL if none is
 * resident. */
static char *
deliver_one (EnvoiQueue *queue,
             GPtrArray  *resident,
             const char *account)
{
  g_autoptr(GError) error = NULL;
  char *id = NULL;

  for (guint i = 0; i < resident->len; i++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (resident, i);

      if (g_str_equal (envoi_queue_entry_get_account_id (entry), account))
        {
          id = g_strdup (envoi_queue_entry_get_id (entry));
          g_ptr_array_remove_index (resident, i);
          break;
        }
    }

  if (id == NULL)
    return NULL;

  g_assert_true (envoi_queue_remove (queue, id, &error));
  g_assert_no_error (error);

  if (envoi_queue_wants_refill (queue))
    {
      g_autoptr(GPtrArray) added = NULL;

      g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < added->len; i++)
        g_ptr_array_add (resident, g_object_ref (g_ptr_array_index (added, i)));
    }

  return id;
}

/* ENVOI_QUEUE_WINDOW is 8 here (main()). */
static void
test_window_order (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 100);
  g_autoptr(GPtrArray) other = NULL;
  g_autoptr(GPtrArray) resident = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  guint sent = 0;

  g_assert_true (envoi_queue_scan (queue, &resident, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (resident->len, ==, 8);
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 8);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 100);
  g_assert_null (envoi_queue_lookup (queue, g_ptr_array_index (ids, 8)));

  /* The writer itself keeps only its window too. */
  g_assert_cmpuint (envoi_queue_get_resident (writer), ==, 8);
  g_assert_cmpuint (envoi_queue_get_length (writer), ==, 100);

  /* Listing sees them all, in order, and leaves only the window resident. */
  list = envoi_queue_list (queue);
  g_assert_cmpuint (list->len, ==, 100);
  for (guint i = 0; i < list->len; i++)
    g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (list, i)), ==,
                     g_ptr_array_index (ids, i));
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 8);

  /* Another account is not held behind this one's backlog. */
  other = enqueue_many (writer, "other", 1);
  {
    g_autoptr(GPtrArray) added = NULL;

    g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
    g_assert_cmpuint (added->len, ==, 1);
    g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==,
                     g_ptr_array_index (other, 0));
    g_ptr_array_add (resident, g_object_ref (g_ptr_array_index (added, 0)));
  }

  /* Delivered in submission order, refilled in batches, never more than the window. */
  for (char *id; (id = deliver_one (queue, resident, "acct")) != NULL; g_free (id))
    {
      g_assert_cmpstr (id, ==, g_ptr_array_index (ids, sent));
      sent++;
      g_assert_cmpuint (envoi_queue_get_resident (queue), <=, 8 + 1);
      g_assert_cmpuint (envoi_queue_get_length (queue), ==, 100 - sent + 1);
    }
  g_assert_cmpuint (sent, ==, 100);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 1);
}

static void
mark_failed (EnvoiQueue      *queue,
             EnvoiQueueEntry *entry)
{
  g_autoptr(GError) error = NULL;

  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_FAILED);
  envoi_queue_entry_set_last_error (entry, "550 no");
  g_assert_true (envoi_queue_update (queue, entry, &error));
  g_assert_no_error (error);
}

static guint
count_listed (EnvoiQueue      *queue,
              EnvoiQueueState  state)
{
  g_autoptr(GPtrArray) list = envoi_queue_list (queue);
  guint count = 0;

  for (guint i = 0; i < list->len; i++)
    {
      if (envoi_queue_entry_get_state (g_ptr_array_index (list, i)) == state)
        count++;
    }

  return count;
}

/* Failed messages leave the window and pin nothing; Retry and Cancel reach messages outside it. */
static void
test_window_failed (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) again = NULL;
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 20);
  g_autoptr(GPtrArray) resident = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(EnvoiQueueEntry) retried = NULL;
  g_autoptr(GError) error = NULL;
  const char *expected[] = { "8", "9", "10", "11", "12", "13", "14", "15", "0", "16", "17", "18", NULL };
  char *id;

  g_assert_true (envoi_queue_scan (queue, &resident, NULL, &error));
  g_assert_cmpuint (resident->len, ==, 8);

  /* The first eight fail: the window empties and fills with the next eight. */
  for (guint i = 0; i < resident->len; i++)
    mark_failed (queue, g_ptr_array_index (resident, i));
  g_ptr_array_set_size (resident, 0);
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 0);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 20);
  g_assert_true (envoi_queue_wants_refill (queue));
  {
    g_autoptr(GPtrArray) added = NULL;

    g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
    g_assert_cmpuint (added->len, ==, 8);
    g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==, g_ptr_array_index (ids, 8));
    g_ptr_array_extend_and_steal (resident, g_steal_pointer (&added));
  }
  g_assert_null (envoi_queue_lookup (queue, g_ptr_array_index (ids, 0)));
  g_assert_cmpuint (count_listed (queue, ENVOI_QUEUE_STATE_FAILED), ==, 8);

  /* Retry on a failed message outside the full window: queued again on disk, for its turn. */
  retried = envoi_queue_retry (queue, g_ptr_array_index (ids, 0), &error);
  g_assert_no_error (error);
  g_assert_cmpint (envoi_queue_entry_get_state (retried), ==, ENVOI_QUEUE_STATE_QUEUED);
  g_assert_null (envoi_queue_lookup (queue, g_ptr_array_index (ids, 0)));
  g_assert_cmpuint (count_listed (queue, ENVOI_QUEUE_STATE_FAILED), ==, 7);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 20);

  /* Cancel outside the window: a failed one, and one waiting its turn. */
  g_assert_true (envoi_queue_remove (queue, g_ptr_array_index (ids, 1), &error));
  g_assert_no_error (error);
  g_assert_false (envoi_queue_remove (queue, g_ptr_array_index (ids, 1), &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (envoi_queue_remove (queue, g_ptr_array_index (ids, 19), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 18);

  /* The window drains: the retried message comes first when it refills, then the rest. */
  while ((id = deliver_one (queue, resident, "acct")) != NULL)
    g_ptr_array_add (order, id);
  g_assert_cmpuint (order->len, ==, g_strv_length ((char **) expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (g_ptr_array_index (order, i), ==,
                     g_ptr_array_index (ids, g_ascii_strtoull (expected[i], NULL, 10)));

  /* What is left are the six failed ones, on disk only, also after a restart. */
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 6);
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 0);
  again = envoi_queue_new (dir, NULL);
  g_clear_pointer (&resident, g_ptr_array_unref);
  g_assert_true (envoi_queue_scan (again, &resident, NULL, &error));
  g_assert_cmpuint (resident->len, ==, 0);
  g_assert_cmpuint (envoi_queue_get_length (again), ==, 6);
  g_assert_cmpuint (count_listed (again, ENVOI_QUEUE_STATE_FAILED), ==, 6);

  /* Retried with room in the window, a failed message is resident at once. */
  g_clear_object (&retried);
  retried = envoi_queue_retry (again, g_ptr_array_index (ids, 7), &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_lookup (again, g_ptr_array_index (ids, 7)) == retried);
  g_assert_cmpuint (envoi_queue_get_length (again), ==, 6);
}

/* A file that shows up below what was already counted (a writer that renamed late, a clock set
 * back), or one removed by hand, makes the queue count again: nothing is lost. */
static void
test_window_recount (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 12);
  g_autoptr(GPtrArray) resident = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first = g_strconcat (dir, "/", (char *) g_ptr_array_index (ids, 0), ".msg", NULL);
  g_autofree char *late = g_build_filename (dir, "00000000000001-00000000.msg", NULL);
  g_autofree char *gone = g_strconcat (dir, "/", (char *) g_ptr_array_index (ids, 11), ".msg", NULL);
  g_autofree char *contents = NULL;
  gsize length;
  guint sent = 0;
  char *id;

  g_assert_true (envoi_queue_scan (queue, &resident, NULL, &error));
  g_assert_cmpuint (resident->len, ==, 8);

  g_assert_true (g_file_get_contents (first, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (late, contents, length, NULL));
  g_assert_cmpint (g_unlink (gone), ==, 0);

  {
    g_autoptr(GPtrArray) added = NULL;

    g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 12);

  while ((id = deliver_one (queue, resident, "acct")) != NULL)
    {
      sent++;
      g_free (id);
    }
  g_assert_cmpuint (sent, ==, 12);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 0);
  g_assert_false (g_file_test (late, G_FILE_TEST_EXISTS));
}

static gboolean
is_listed (const char *dir,
           const char *name)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *listed;

  g_assert_nonnull (listing);
  while ((listed = g_dir_read_name (listing)) != NULL)
    {
      if (g_str_equal (listed, name))
        return TRUE;
    }

  return FALSE;
}

/* Nothing left of removed messages: `.removed/` is empty, and no state file is in the spool. */
static gboolean
removals_done (gpointer dir)
{
  g_autofree char *removed = g_build_filename (dir, ".removed", NULL);

  return envoi_test_count_files (removed, NULL) == 0 && envoi_test_count_files (dir, ".env") == 0;
}

/* Removed files are unlinked by a worker thread, whenever it gets to them: waits for it, a
 * bounded time, iterating the main context as the daemon would. */
static gboolean
wait_for_removals (const char *dir)
{
  return envoi_test_wait_until (removals_done, (gpointer) dir, 20);
}

static void
assert_not_queued (EnvoiQueue *queue,
                   const char *id)
{
  g_autoptr(EnvoiQueueEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  entry = envoi_queue_load (queue, id, &error);
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND);
  g_assert_null (entry);
  g_clear_error (&error);
  g_assert_false (envoi_queue_remove (queue, id, &error));
  g_assert_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND);
}

/* A removed message leaves the spool before envoi_queue_remove() returns; its files are
 * unlinked later, in a worker thread. */
static void
test_remove (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *removed_dir = g_build_filename (dir, ".removed", NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) again = NULL;
  g_autoptr(GPtrArray) ids = enqueue_many (queue, "acct", 3);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiQueueEntry *entry;
  struct stat st;

  g_assert_cmpint (g_stat (removed_dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* One with its state written (ID.env), one failed, outside the window. */
  entry = envoi_queue_lookup (queue, g_ptr_array_index (ids, 1));
  envoi_queue_entry_set_attempts (entry, 2);
  g_assert_true (envoi_queue_update (queue, entry, &error));
  g_assert_no_error (error);
  mark_failed (queue, envoi_queue_lookup (queue, g_ptr_array_index (ids, 2)));
  g_assert_null (envoi_queue_lookup (queue, g_ptr_array_index (ids, 2)));
  g_assert_cmpuint (envoi_test_count_files (dir, ".env"), ==, 2);

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autofree char *msg_name = g_strconcat (id, ".msg", NULL);

      g_assert_true (is_listed (dir, msg_name));
      g_assert_true (envoi_queue_remove (queue, id, &error));
      g_assert_no_error (error);
      /* Out of the spool now, whatever the worker thread has done. */
      g_assert_false (is_listed (dir, msg_name));
      assert_not_queued (queue, id);
    }
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 0);
  g_assert_true (envoi_queue_sync (queue, &error));
  g_assert_no_error (error);

  /* The files, and the state files, go. */
  g_assert_true (wait_for_removals (dir));
  g_assert_cmpuint (envoi_test_count_files (dir, ".msg"), ==, 0);

  /* Nothing for the next start either; `.removed/` is nothing to a scan. */
  again = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_scan (again, &added, &damaged, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 0);
  g_assert_cmpuint (damaged->len, ==, 0);
  g_assert_cmpuint (envoi_queue_get_length (again), ==, 0);
  list = envoi_queue_list (again);
  g_assert_cmpuint (list->len, ==, 0);
  for (guint i = 0; i < ids->len; i++)
    assert_not_queued (again, g_ptr_array_index (ids, i));
}

/* Disposing of the queue waits for the unlinks under way. */
static void
test_remove_dispose (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (queue, "acct", 200);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < ids->len; i += 2)
    {
      g_autoptr(EnvoiQueueEntry) entry = envoi_queue_load (queue, g_ptr_array_index (ids, i), &error);

      g_assert_no_error (error);
      envoi_queue_entry_set_attempts (entry, 1);
      g_assert_true (envoi_queue_update (queue, entry, &error));
      g_assert_no_error (error);
    }

  for (guint i = 0; i < ids->len; i++)
    {
      g_assert_true (envoi_queue_remove (queue, g_ptr_array_index (ids, i), &error));
      g_assert_no_error (error);
    }
  g_assert_true (envoi_queue_sync (queue, &error));
  g_assert_no_error (error);

  g_clear_object (&queue);
  g_assert_true (removals_done (dir));
  g_assert_cmpuint (envoi_test_count_files (dir, ".msg"), ==, 0);
}

/* Files are written under temporary names in the spool's .tmp directory: a writer that died
 * before renaming its file never acknowledged it, and a scan removes it once it is old enough
 * that no writer can still be at it; a file being written now is left alone, and neither is
 * ever taken for a message. */
static void
test_temporary_orphans (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *tmp_dir = g_build_filename (dir, ".tmp", NULL);
  g_autofree char *orphan = g_build_filename (tmp_dir, "0000000000abcd-00000001.msg", NULL);
  g_autofree char *fresh = g_build_filename (tmp_dir, "0000000000abce-00000002.msg", NULL);
  g_autofree char *old_style = g_build_filename (dir, ".tmp-0000000000abcf-00000003.msg", NULL);
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GError) error = NULL;
  struct utimbuf old = { time (NULL) - 3600, time (NULL) - 3600 };

  queue = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  ids = enqueue_many (queue, "acct", 1);
  g_assert_true (g_file_test (tmp_dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (envoi_test_count_files (tmp_dir, NULL), ==, 0);

  write_file (tmp_dir, "0000000000abcd-00000001.msg", "half a message");
  write_file (tmp_dir, "0000000000abce-00000002.msg", "half a message");
  write_file (dir, ".tmp-0000000000abcf-00000003.msg", "half a message");
  g_assert_cmpint (utime (orphan, &old), ==, 0);
  g_assert_cmpint (utime (old_style, &old), ==, 0);

  g_clear_object (&queue);
  queue = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  g_assert_true (envoi_queue_scan (queue, &added, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==, g_ptr_array_index (ids, 0));
  g_assert_false (g_file_test (orphan, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old_style, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (fresh, G_FILE_TEST_IS_REGULAR));
}

/* What a process killed before its worker thread was done leaves: a message in `.removed/`
 * (which must never come back) and its state file in the spool. The next queue opened there
 * removes both. */
static void
test_remove_leftovers (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *other = make_dir ();
  g_autofree char *removed_dir = g_build_filename (dir, ".removed", NULL);
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (other, NULL);
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 2);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < ids->len; i++)
    {
      EnvoiQueueEntry *entry = envoi_queue_lookup (writer, g_ptr_array_index (ids, i));

      envoi_queue_entry_set_attempts (entry, 1);
      g_assert_true (envoi_queue_update (writer, entry, &error));
      g_assert_no_error (error);
    }

  for (guint round = 0; round < 2; round++)
    {
      const char *id = g_ptr_array_index (ids, round);
      g_autofree char *msg_from = g_strconcat (other, "/", id, ".msg", NULL);
      g_autofree char *env_from = g_strconcat (other, "/", id, ".env", NULL);
      g_autofree char *msg_to = g_strconcat (removed_dir, "/", id, ".msg", NULL);
      g_autofree char *env_to = g_strconcat (dir, "/", id, ".env", NULL);
      g_autofree char *junk = g_build_filename (removed_dir, "junk", NULL);

      g_assert_cmpint (g_mkdir_with_parents (removed_dir, 0700), ==, 0);
      g_assert_cmpint (g_rename (msg_from, msg_to), ==, 0);
      g_assert_cmpint (g_rename (env_from, env_to), ==, 0);
      write_file (removed_dir, "junk", "x");
      g_assert_true (g_file_test (junk, G_FILE_TEST_IS_REGULAR));

      queue = envoi_queue_new (dir, &error);
      g_assert_no_error (error);

      if (round == 0)
        {
          /* Not a message of the queue, not damaged either. */
          g_assert_true (envoi_queue_scan (queue, &added, &damaged, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (added->len, ==, 0);
          g_assert_cmpuint (damaged->len, ==, 0);
          list = envoi_queue_list (queue);
          g_assert_cmpuint (list->len, ==, 0);
          g_assert_cmpuint (envoi_queue_get_length (queue), ==, 0);
          assert_not_queued (queue, id);
          g_assert_true (wait_for_removals (dir));
        }
      else
        {
          /* Not even scanned: disposing of the queue waits for the unlinking. */
          g_clear_object (&queue);
          g_assert_cmpuint (envoi_test_count_files (removed_dir, NULL), ==, 0);
          /* The state file is the scan's to drop, as it always was. */
          g_assert_cmpuint (envoi_test_count_files (dir, ".env"), ==, 1);
          queue = envoi_queue_new (dir, NULL);
          g_assert_true (envoi_queue_scan (queue, NULL, NULL, &error));
          g_assert_no_error (error);
          g_assert_true (removals_done (dir));
        }
      g_clear_object (&queue);
    }
}

/* Without `.removed/` (a file is in the way), removal unlinks in place. */
static void
test_remove_in_place (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) queue = NULL;
  g_autoptr(EnvoiQueue) again = NULL;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiQueueEntry *entry;

  write_file (dir, ".removed", "not a directory");
  queue = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  ids = enqueue_many (queue, "acct", 2);
  entry = envoi_queue_lookup (queue, g_ptr_array_index (ids, 0));
  g_assert_true (envoi_queue_update (queue, entry, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < ids->len; i++)
    {
      g_assert_true (envoi_queue_remove (queue, g_ptr_array_index (ids, i), &error));
      g_assert_no_error (error);
    }
  /* Only the file in the way is left, beside the (empty) directory of temporary names. */
  {
    g_autofree char *tmp_dir = g_build_filename (dir, ".tmp", NULL);

    g_assert_cmpuint (envoi_test_count_files (dir, NULL), ==, 2);
    g_assert_true (g_file_test (tmp_dir, G_FILE_TEST_IS_DIR));
    g_assert_cmpuint (envoi_test_count_files (tmp_dir, NULL), ==, 0);
  }
  assert_not_queued (queue, g_ptr_array_index (ids, 0));

  again = envoi_queue_new (dir, NULL);
  g_assert_true (envoi_queue_scan (again, &added, &damaged, &error));
  g_assert_cmpuint (added->len, ==, 0);
  g_assert_cmpuint (damaged->len, ==, 0);
}

/* Listing in a worker thread */

typedef struct
{
  gboolean   done;
  GPtrArray *list;
  GError    *error;
} Listing;

static void
listing_clear (Listing *listing)
{
  g_clear_pointer (&listing->list, g_ptr_array_unref);
  g_clear_error (&listing->error);
  listing->done = FALSE;
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Listing *listing = user_data;

  listing->list = envoi_queue_list_finish (ENVOI_QUEUE (source), result, &listing->error);
  listing->done = TRUE;
}

static void
wait_listed (Listing *listing)
{
  while (!listing->done)
    g_main_context_iteration (NULL, TRUE);
}

/* A FIFO in place of a message outside the window, with an id older than any other (the @n-th
 * oldest): a listing waits for it in open() once it has read the directory, until
 * envoi_test_release_fifo(). */
static char *
make_fifo (const char *dir,
           guint       n)
{
  g_autofree char *name = g_strdup_printf ("%014x-0000f1f0.msg", n);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);

  return path;
}

static void
assert_same_entry (EnvoiQueueEntry *a,
                   EnvoiQueueEntry *b)
{
  g_assert_cmpstr (envoi_queue_entry_get_id (a), ==, envoi_queue_entry_get_id (b));
  g_assert_cmpstr (envoi_queue_entry_get_account_id (a), ==, envoi_queue_entry_get_account_id (b));
  g_assert_cmpstr (envoi_queue_entry_get_from (a), ==, envoi_queue_entry_get_from (b));
  g_assert_cmpstrv (envoi_queue_entry_get_recipients (a), envoi_queue_entry_get_recipients (b));
  g_assert_cmpint (envoi_queue_entry_get_state (a), ==, envoi_queue_entry_get_state (b));
  g_assert_cmpuint (envoi_queue_entry_get_attempts (a), ==, envoi_queue_entry_get_attempts (b));
  g_assert_cmpint (envoi_queue_entry_get_next_attempt (a), ==,
                   envoi_queue_entry_get_next_attempt (b));
  g_assert_cmpint (envoi_queue_entry_get_queued (a), ==, envoi_queue_entry_get_queued (b));
  g_assert_cmpuint (envoi_queue_entry_get_size (a), ==, envoi_queue_entry_get_size (b));
  g_assert_cmpstr (envoi_queue_entry_get_last_error (a), ==, envoi_queue_entry_get_last_error (b));
}

/* The list from the worker thread is the one envoi_queue_list() gives: the same ids in the same
 * order, the resident entries as the live objects, the others with the state written on disk,
 * the damaged file left out (and left in place for the next scan). */
static void
test_list_async (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 20);
  g_autoptr(GPtrArray) other = enqueue_many (writer, "other", 3);
  g_autoptr(GPtrArray) resident = NULL;
  g_autoptr(GPtrArray) sync = NULL;
  g_autoptr(EnvoiQueueEntry) outside = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *damaged_name = NULL;
  g_autofree char *damaged_path = NULL;
  Listing listing = { 0 };
  const char *failed_id = g_ptr_array_index (ids, 12);
  const char *damaged_id = g_ptr_array_index (ids, 15);
  EnvoiQueueEntry *entry;
  guint live = 0;

  g_assert_true (envoi_queue_scan (queue, &resident, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (resident->len, ==, 8 + 3);

  /* A resident message tried once, and one outside the window given up: both have ID.env. */
  entry = envoi_queue_lookup (queue, g_ptr_array_index (ids, 1));
  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_DEFERRED);
  envoi_queue_entry_set_attempts (entry, 1);
  envoi_queue_entry_set_next_attempt (entry, g_get_real_time () + 60 * G_USEC_PER_SEC);
  envoi_queue_entry_set_last_error (entry, "451 later");
  g_assert_true (envoi_queue_update (queue, entry, &error));
  g_assert_no_error (error);
  outside = envoi_queue_load (queue, failed_id, &error);
  g_assert_no_error (error);
  g_assert_null (envoi_queue_lookup (queue, failed_id));
  envoi_queue_entry_set_attempts (outside, 3);
  mark_failed (queue, outside);

  /* And a damaged one outside the window. */
  damaged_name = g_strconcat (damaged_id, ".msg", NULL);
  damaged_path = g_build_filename (dir, damaged_name, NULL);
  write_file (dir, damaged_name, "Subj");

  sync = envoi_queue_list (queue);
  envoi_queue_list_async (queue, NULL, listed_cb, &listing);
  wait_listed (&listing);
  g_assert_no_error (listing.error);
  g_assert_nonnull (listing.list);

  g_assert_cmpuint (sync->len, ==, 20 + 3 - 1);
  g_assert_cmpuint (listing.list->len, ==, sync->len);
  for (guint i = 0; i < sync->len; i++)
    {
      EnvoiQueueEntry *a = g_ptr_array_index (sync, i);
      EnvoiQueueEntry *b = g_ptr_array_index (listing.list, i);
      EnvoiQueueEntry *resident_entry = envoi_queue_lookup (queue, envoi_queue_entry_get_id (a));

      assert_same_entry (a, b);
      g_assert_cmpstr (envoi_queue_entry_get_id (b), !=, damaged_id);
      if (resident_entry != NULL)
        {
          g_assert_true (a == resident_entry);
          g_assert_true (b == resident_entry);
          live++;
        }
      else
        g_assert_true (a != b);

      if (g_str_equal (envoi_queue_entry_get_id (b), failed_id))
        {
          g_assert_cmpint (envoi_queue_entry_get_state (b), ==, ENVOI_QUEUE_STATE_FAILED);
          g_assert_cmpuint (envoi_queue_entry_get_attempts (b), ==, 3);
          g_assert_cmpstr (envoi_queue_entry_get_last_error (b), ==, "550 no");
        }
    }
  g_assert_cmpuint (live, ==, 8 + 3);
  g_assert_true (g_file_test (damaged_path, G_FILE_TEST_IS_REGULAR));

  /* The order is the ids': the other account's three come last, as they were submitted last. */
  for (guint i = 0; i < other->len; i++)
    g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (listing.list, sync->len - 3 + i)),
                     ==, g_ptr_array_index (other, i));

  listing_clear (&listing);
}

/* While the worker reads the envelopes, the queue goes on: messages are removed, resident or
 * not, and the caller lets the queue go. The listing holds what it needs; what it gives is
 * alive, in order, without the messages removed before it read them; the queue goes once the
 * listing is over. */
static void
test_list_async_dispose (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *fifo = NULL;
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (queue, "acct", 20);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) still = NULL;
  Listing listing = { 0 };
  const guint removed[] = { 0, 1, 10, 11 };
  GWeakRef weak;
  gint64 end;

  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 8);
  fifo = make_fifo (dir, 1);
  g_weak_ref_init (&weak, queue);

  envoi_queue_list_async (queue, NULL, listed_cb, &listing);

  /* Two resident, two outside the window. */
  for (guint i = 0; i < G_N_ELEMENTS (removed); i++)
    {
      g_assert_true (envoi_queue_remove (queue, g_ptr_array_index (ids, removed[i]), &error));
      g_assert_no_error (error);
    }
  g_clear_object (&queue);

  envoi_test_release_fifo (fifo);
  wait_listed (&listing);
  g_assert_no_error (listing.error);

  /* The resident ones removed may still be there (the listing holds them); the others were
   * gone before the worker read them. */
  g_assert_cmpuint (listing.list->len, >=, 20 - 4);
  g_assert_cmpuint (listing.list->len, <=, 20 - 2);
  for (guint i = 0, j = 0; i < listing.list->len; i++, j++)
    {
      EnvoiQueueEntry *entry = g_ptr_array_index (listing.list, i);
      const char *id = envoi_queue_entry_get_id (entry);

      while (j < ids->len && !g_str_equal (id, g_ptr_array_index (ids, j)))
        j++;
      g_assert_cmpuint (j, <, ids->len);
      g_assert_cmpuint (j, !=, 10);
      g_assert_cmpuint (j, !=, 11);
      g_assert_cmpuint (envoi_queue_entry_get_attempts (entry), ==, 0);
    }
  listing_clear (&listing);

  /* The task's last reference may go in its thread, just after the callback. */
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((still = g_weak_ref_get (&weak)) != NULL)
    {
      g_clear_object (&still);
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (1000);
    }
  g_weak_ref_clear (&weak);
}

/* Cancelled before the worker starts or while it reads, the listing fails with
 * G_IO_ERROR_CANCELLED, and the worker stops reading: it looks at the cancellable at least
 * every 256 entries. */
static void
test_list_async_cancel (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *fifo = NULL;
  g_autofree char *second = NULL;
  g_autofree char *last = NULL;
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  /* With the two FIFOs below and the last one, 257 entries: the last is the 257th. */
  g_autoptr(GPtrArray) ids = enqueue_many (queue, "acct", 254);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Listing listing = { 0 };
  gint64 end;
  int fd;

  g_cancellable_cancel (cancellable);
  envoi_queue_list_async (queue, cancellable, listed_cb, &listing);
  wait_listed (&listing);
  g_assert_error (listing.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (listing.list);
  listing_clear (&listing);

  /* Cancelled once the worker is past the first FIFO, held by the second. A third FIFO, newer
   * than every message, would hold a worker that read on after the cancel: GTask reports the
   * cancel either way, so only the worker finishing without opening it shows that it stopped. */
  g_clear_object (&cancellable);
  cancellable = g_cancellable_new ();
  fifo = make_fifo (dir, 1);
  second = make_fifo (dir, 2);
  last = g_build_filename (dir, "ffffffffffffff-0000f1f0.msg", NULL);
  g_assert_cmpint (mkfifo (last, 0600), ==, 0);
  envoi_queue_list_async (queue, cancellable, listed_cb, &listing);
  envoi_test_release_fifo (fifo);
  g_cancellable_cancel (cancellable);
  envoi_test_release_fifo (second);
  end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!listing.done && g_get_monotonic_time () < end)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  fd = open (last, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, ENXIO);   /* nobody ever opened it */
  g_assert_true (listing.done);
  g_assert_error (listing.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (listing.list);
  listing_clear (&listing);
  g_assert_cmpint (g_unlink (last), ==, 0);

  /* The queue is none the worse. */
  envoi_queue_list_async (queue, NULL, listed_cb, &listing);
  wait_listed (&listing);
  g_assert_no_error (listing.error);
  g_assert_cmpuint (listing.list->len, ==, ids->len);
  listing_clear (&listing);
}

/* The daemon's scan after a nudge or the spool watch: the worker reads the new files, and what it
 * read is used only if the files are still as it read them. */
static void
scan_async_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GPtrArray *
scan_async (EnvoiQueue *queue,
            void      (*meanwhile) (gpointer),
            gpointer    data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) damaged = NULL;
  g_autoptr(GError) error = NULL;

  envoi_queue_scan_async (queue, NULL, scan_async_cb, &result);
  /* The callback runs from this thread's main context only: the worker is done meanwhile. */
  g_usleep (300 * 1000);
  if (meanwhile != NULL)
    meanwhile (data);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (envoi_queue_scan_finish (queue, result, &added, &damaged, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (damaged->len, ==, 0);

  return g_steal_pointer (&added);
}

typedef struct
{
  EnvoiQueue *writer;
  const char *id;
} Change;

static void
change_state (gpointer data)
{
  Change *change = data;
  EnvoiQueueEntry *entry = envoi_queue_lookup (change->writer, change->id);
  g_autoptr(GError) error = NULL;

  envoi_queue_entry_set_state (entry, ENVOI_QUEUE_STATE_DEFERRED);
  envoi_queue_entry_set_last_error (entry, "changed after the worker read it");
  g_assert_true (envoi_queue_update (change->writer, entry, &error));
  g_assert_no_error (error);
}

static void
test_scan_async (void)
{
  g_autofree char *parent = make_dir ();
  g_autofree char *dir = g_build_filename (parent, "queue", NULL);
  g_autoptr(EnvoiQueue) reader = NULL;
  g_autoptr(EnvoiQueue) writer = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GBytes) message = bytes ("Subject: hi\n\nbody\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  const char *recipients[] = { "a@example.net", NULL };
  Change change;

  reader = envoi_queue_new (dir, &error);
  g_assert_no_error (error);
  writer = envoi_queue_new (dir, &error);
  g_assert_no_error (error);

  first = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, &error);
  g_assert_no_error (error);
  second = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, &error);
  g_assert_no_error (error);

  added = scan_async (reader, NULL, NULL);
  g_assert_cmpuint (added->len, ==, 2);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==, first);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 1)), ==, second);
  g_assert_cmpuint (envoi_queue_get_length (reader), ==, 2);
  g_clear_pointer (&added, g_ptr_array_unref);

  /* Nothing new: nothing added twice. */
  added = scan_async (reader, NULL, NULL);
  g_assert_cmpuint (added->len, ==, 0);
  g_clear_pointer (&added, g_ptr_array_unref);

  /* A file that changed after the worker read it is read again. */
  third = envoi_queue_enqueue (writer, "acct", "me@example.org", recipients, message, &error);
  g_assert_no_error (error);
  change = (Change) { writer, third };
  added = scan_async (reader, change_state, &change);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, 0)), ==, third);
  g_assert_cmpint (envoi_queue_entry_get_state (g_ptr_array_index (added, 0)), ==, ENVOI_QUEUE_STATE_DEFERRED);
  g_assert_cmpstr (envoi_queue_entry_get_last_error (g_ptr_array_index (added, 0)), ==,
                   "changed after the worker read it");
  g_assert_cmpuint (envoi_queue_get_length (reader), ==, 3);
}

typedef struct
{
  EnvoiQueue *queue;
  GPtrArray  *ids;
  guint       from;
  guint       count;
} Removal;

static void
remove_some (gpointer data)
{
  Removal *removal = data;

  for (guint i = removal->from; i < removal->from + removal->count; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (envoi_queue_remove (removal->queue, g_ptr_array_index (removal->ids, i), &error));
      g_assert_no_error (error);
    }
}

static void
remove_and_submit (gpointer data)
{
  Removal *removal = data;
  g_autoptr(GPtrArray) more = NULL;

  remove_some (removal);
  /* Two more submitted meanwhile, outside the full window: counted, on disk only. */
  more = enqueue_many (removal->queue, "acct", 2);
  g_ptr_array_extend_and_steal (removal->ids, g_steal_pointer (&more));
}

/* The daemon refills a window through the scan's worker while it goes on sending and taking
 * submissions: the messages sent while the worker listed are not taken back, those submitted
 * meanwhile are not lost, the counts stay right, and the window is filled again with the next
 * messages in order. ENVOI_QUEUE_WINDOW is 8 here. */
static void
test_scan_async_refill (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr(EnvoiQueue) writer = envoi_queue_new (dir, NULL);
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (dir, NULL);
  g_autoptr(GPtrArray) ids = enqueue_many (writer, "acct", 40);
  g_autoptr(GPtrArray) resident = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GError) error = NULL;
  Removal sent_first = { queue, ids, 0, 5 };
  Removal sent_meanwhile = { queue, ids, 5, 2 };

  g_assert_true (envoi_queue_scan (queue, &resident, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (resident->len, ==, 8);

  /* Five sent: the window asks for the next ones. */
  remove_some (&sent_first);
  g_assert_true (envoi_queue_wants_refill (queue));

  /* Two more are sent while the worker lists and reads, and two submitted. */
  added = scan_async (queue, remove_and_submit, &sent_meanwhile);
  g_assert_cmpuint (ids->len, ==, 42);
  g_assert_cmpuint (added->len, ==, 7);
  for (guint i = 0; i < added->len; i++)
    g_assert_cmpstr (envoi_queue_entry_get_id (g_ptr_array_index (added, i)), ==,
                     g_ptr_array_index (ids, 8 + i));
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 8);
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 35);
  g_assert_false (envoi_queue_wants_refill (queue));
  for (guint i = 0; i < 7; i++)
    g_assert_null (envoi_queue_lookup (queue, g_ptr_array_index (ids, i)));
  g_clear_pointer (&added, g_ptr_array_unref);

  /* And the rest goes on from there, none twice, none lost. */
  for (guint i = 7; i < ids->len; i++)
    {
      EnvoiQueueEntry *entry = envoi_queue_lookup (queue, g_ptr_array_index (ids, i));
      Removal one = { queue, ids, i, 1 };

      g_assert_nonnull (entry);
      remove_some (&one);
      if (envoi_queue_wants_refill (queue))
        {
          g_clear_pointer (&added, g_ptr_array_unref);
          added = scan_async (queue, NULL, NULL);
        }
    }
  g_assert_cmpuint (envoi_queue_get_length (queue), ==, 0);
  g_assert_cmpuint (envoi_queue_get_resident (queue), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  /* A small window, so that a few dozen messages already go beyond it. */
  g_setenv ("ENVOI_QUEUE_WINDOW", "8", TRUE);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/queue/enqueue-and-reload", test_enqueue_and_reload);
  g_test_add_func ("/envoi/queue/reload-long-envelope", test_reload_long_envelope);
  g_test_add_func ("/envoi/queue/bad-envelope", test_bad_envelope);
  g_test_add_func ("/envoi/queue/damaged", test_damaged);
  g_test_add_func ("/envoi/queue/prepare", test_prepare);
  g_test_add_func ("/envoi/queue/submit", test_submit);
  g_test_add_func ("/envoi/queue/submit-large", test_submit_large);
  g_test_add_func ("/envoi/queue/open-message", test_open_message);
  g_test_add_func ("/envoi/queue/window-order", test_window_order);
  g_test_add_func ("/envoi/queue/window-failed", test_window_failed);
  g_test_add_func ("/envoi/queue/window-recount", test_window_recount);
  g_test_add_func ("/envoi/queue/remove", test_remove);
  g_test_add_func ("/envoi/queue/remove-dispose", test_remove_dispose);
  g_test_add_func ("/envoi/queue/remove-leftovers", test_remove_leftovers);
  g_test_add_func ("/envoi/queue/temporary-orphans", test_temporary_orphans);
  g_test_add_func ("/envoi/queue/remove-in-place", test_remove_in_place);
  g_test_add_func ("/envoi/queue/list-async", test_list_async);
  g_test_add_func ("/envoi/queue/list-async-dispose", test_list_async_dispose);
  g_test_add_func ("/envoi/queue/list-async-cancel", test_list_async_cancel);
  g_test_add_func ("/envoi/queue/scan-async", test_scan_async);
  g_test_add_func ("/envoi/queue/scan-async-refill", test_scan_async_refill);

  return g_test_run ();
}

/* envoi-ledger.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-ledger"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envoi-ledger.h"

#define DAY_SECONDS (24 * 3600)
#define HOUR_SECONDS 3600

typedef struct
{
  char   *account_id;
  GArray *times;      /* gint64 seconds, ascending */
  guint   first;      /* times before this index are older than a day */
  int     fd;         /* the open log, O_APPEND */
} Account;

struct _EnvoiLedger
{
  GObject     parent_instance;

  char       *directory;
  GHashTable *accounts;  /* id → Account */
  gboolean    dirty;
};

G_DEFINE_FINAL_TYPE (EnvoiLedger, envoi_ledger, G_TYPE_OBJECT)

static void
account_free (gpointer data)
{
  Account *account = data;

  if (account->fd >= 0)
    close (account->fd);
  g_array_unref (account->times);
  g_free (account->account_id);
  g_free (account);
}

static gboolean
account_id_is_valid (const char *id)
{
  if (id == NULL || *id == '\0' || strlen (id) > 128)
    return FALSE;

  for (const char *p = id; *p; p++)
    {
      if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
        return FALSE;
    }

  return TRUE;
}

static char *
account_path (EnvoiLedger *self,
              const char  *id)
{
  g_autofree char *name = g_strdup_printf ("usage-%s.log", id);

  return g_build_filename (self->directory, name, NULL);
}

static void
drop_old (Account *account,
          gint64   now_seconds)
{
  while (account->first < account->times->len &&
         g_array_index (account->times, gint64, account->first) <= now_seconds - DAY_SECONDS)
    account->first++;
}

/* Rewrites the file with only the last day: temporary file, fsync, rename. */
static gboolean
compact (EnvoiLedger  *self,
         Account      *account,
         GError      **error)
{
  g_autofree char *path = account_path (self, account->account_id);
  g_autoptr(GString) data = g_string_new (NULL);

  g_array_remove_range (account->times, 0, account->first);
  account->first = 0;

  for (guint i = 0; i < account->times->len; i++)
    g_string_append_printf (data, "%" G_GINT64_FORMAT "\n", g_array_index (account->times, gint64, i));

  if (account->fd >= 0)
    {
      close (account->fd);
      account->fd = -1;
    }

  if (!g_file_set_contents_full (path, data->str, data->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    return FALSE;

  return TRUE;
}

static int
compare_times (gconstpointer a,
               gconstpointer b)
{
  gint64 ta = *(const gint64 *) a;
  gint64 tb = *(const gint64 *) b;

  return ta < tb ? -1 : ta > tb;
}

static Account *
load_account (EnvoiLedger *self,
              const char  *id)
{
  g_autofree char *path = account_path (self, id);
  g_autofree char *contents = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  Account *account;
  gsize length;

  account = g_new0 (Account, 1);
  account->account_id = g_strdup (id);
  account->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  account->fd = -1;

  if (g_file_get_contents (path, &contents, &length, NULL))
    {
      char *line = contents;
      char *next;
      guint kept = 0;
      guint total = 0;

      for (; line < contents + length && *line; line = next)
        {
          char *end = NULL;
          gint64 value;

          next = strchr (line, '\n');
          next = next != NULL ? next + 1 : contents + length;
          total++;

          errno = 0;
          value = g_ascii_strtoll (line, &end, 10);
          if (errno != 0 || end == line || (*end != '\n' && *end != '\0') || value <= 0)
            continue;  /* a torn or damaged line: it cannot be trusted, skip it */
          if (value <= now - DAY_SECONDS)
            continue;

          g_array_append_val (account->times, value);
          kept++;
        }

      /* Appends from one process are in order, but a clock set back is no reason to break. */
      g_array_sort (account->times, compare_times);
      if (kept < total)
        {
          g_autoptr(GError) error = NULL;

          if (!compact (self, account, &error))
            g_warning ("Could not compact %s: %s", path, error->message);
        }
    }

  g_hash_table_insert (self->accounts, account->account_id, account);

  return account;
}

static Account *
get_account (EnvoiLedger *self,
             const char  *id)
{
  Account *account = g_hash_table_lookup (self->accounts, id);

  if (account == NULL)
    account = load_account (self, id);

  return account;
}

static void
envoi_ledger_finalize (GObject *object)
{
  EnvoiLedger *self = ENVOI_LEDGER (object);

  if (self->dirty)
    envoi_ledger_sync (self, NULL);
  g_clear_pointer (&self->accounts, g_hash_table_unref);
  g_clear_pointer (&self->directory, g_free);

  G_OBJECT_CLASS (envoi_ledger_parent_class)->finalize (object);
}

static void
envoi_ledger_class_init (EnvoiLedgerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_ledger_finalize;
}

static void
envoi_ledger_init (EnvoiLedger *self)
{
  self->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, account_free);
}

char *
envoi_ledger_default_directory (void)
{
  return g_build_filename (g_get_user_state_dir (), "envoi", NULL);
}

EnvoiLedger *
envoi_ledger_new (const char  *directory,
                  GError     **error)
{
  g_autoptr(EnvoiLedger) self = g_object_new (ENVOI_TYPE_LEDGER, NULL);

  self->directory = directory != NULL ? g_strdup (directory) : envoi_ledger_default_directory ();

  if (g_mkdir_with_parents (self->directory, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not create the folder “%s”: %s"), self->directory,
                   g_strerror (saved_errno));
      return NULL;
    }

  return g_steal_pointer (&self);
}

gboolean
envoi_ledger_record (EnvoiLedger  *self,
                     const char   *account_id,
                     gint64        when,
                     GError      **error)
{
  Account *account;
  gint64 seconds = when / G_USEC_PER_SEC;
  char line[32];
  int length;

  g_return_val_if_fail (ENVOI_IS_LEDGER (self), FALSE);
  g_return_val_if_fail (account_id_is_valid (account_id), FALSE);

  account = get_account (self, account_id);

  /* Keep the array sorted even if the clock went back. */
  if (account->times->len > 0 &&
      seconds < g_array_index (account->times, gint64, account->times->len - 1))
    seconds = g_array_index (account->times, gint64, account->times->len - 1);
  g_array_append_val (account->times, seconds);

  drop_old (account, seconds);
  if (account->first > 256 && account->first > account->times->len / 2)
    {
      g_autoptr(GError) local_error = NULL;

      /* The new line is in the array: the rewrite contains it. */
      if (!compact (self, account, &local_error))
        g_warning ("Could not compact the usage ledger: %s", local_error->message);
      else
        return TRUE;
    }

  if (account->fd < 0)
    {
      g_autofree char *path = account_path (self, account_id);

      account->fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (account->fd < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not write the usage ledger “%s”: %s"), path,
                       g_strerror (saved_errno));
          return FALSE;
        }
    }

  length = g_snprintf (line, sizeof line, "%" G_GINT64_FORMAT "\n", seconds);
  /* One write(2) of a short line with O_APPEND: whole or, after a crash, torn and skipped. */
  if (write (account->fd, line, length) != length)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not write the usage ledger: %s"), g_strerror (saved_errno));
      return FALSE;
    }

  self->dirty = TRUE;

  return TRUE;
}

gboolean
envoi_ledger_sync (EnvoiLedger  *self,
                   GError      **error)
{
  GHashTableIter iter;
  gpointer value;
  gboolean ok = TRUE;

  g_return_val_if_fail (ENVOI_IS_LEDGER (self), FALSE);

  g_hash_table_iter_init (&iter, self->accounts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Account *account = value;

      if (account->fd >= 0 && fdatasync (account->fd) != 0 && ok)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not write the usage ledger: %s"), g_strerror (saved_errno));
          ok = FALSE;
        }
    }

  self->dirty = !ok;

  return ok;
}

static guint
count_since (Account *account,
             gint64   since_seconds)
{
  guint count = 0;

  for (guint i = account->times->len; i > account->first; i--)
    {
      if (g_array_index (account->times, gint64, i - 1) <= since_seconds)
        break;
      count++;
    }

  return count;
}

void
envoi_ledger_get_usage (EnvoiLedger *self,
                        const char  *account_id,
                        gint64       now,
                        guint       *last_hour,
                        guint       *last_day)
{
  Account *account;
  gint64 seconds = now / G_USEC_PER_SEC;

  g_return_if_fail (ENVOI_IS_LEDGER (self));

  if (!account_id_is_valid (account_id))
    {
      if (last_hour)
        *last_hour = 0;
      if (last_day)
        *last_day = 0;
      return;
    }

  account = get_account (self, account_id);
  drop_old (account, seconds);

  if (last_hour != NULL)
    *last_hour = count_since (account, seconds - HOUR_SECONDS);
  if (last_day != NULL)
    *last_day = count_since (account, seconds - DAY_SECONDS);
}

gint64
envoi_ledger_next_allowed (EnvoiLedger *self,
                           const char  *account_id,
                           gint64       now,
                           guint        hourly_limit,
                           guint        daily_limit)
{
  Account *account;
  gint64 next = now;
  guint hour;
  guint day;

  g_return_val_if_fail (ENVOI_IS_LEDGER (self), now);

  if (!account_id_is_valid (account_id))
    return now;

  account = get_account (self, account_id);
  envoi_ledger_get_usage (self, account_id, now, &hour, &day);

  /* With N sent in the window and a limit of L, the next one may go once the (N - L + 1)th
   * newest… that is, the oldest one that keeps us at the limit, has left the window. */
  if (hourly_limit > 0 && hour >= hourly_limit)
    {
      guint index = account->times->len - hourly_limit;
      gint64 when = (g_array_index (account->times, gint64, index) + HOUR_SECONDS) * G_USEC_PER_SEC;

      next = MAX (next, when);
    }

  if (daily_limit > 0 && day >= daily_limit)
    {
      guint index = account->times->len - daily_limit;
      gint64 when = (g_array_index (account->times, gint64, index) + DAY_SECONDS) * G_USEC_PER_SEC;

      next = MAX (next, when);
    }

  return next;
}

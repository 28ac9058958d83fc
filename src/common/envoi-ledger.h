/* envoi-ledger.h: how many messages each account sent lately, kept across restarts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ENVOI_TYPE_LEDGER (envoi_ledger_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiLedger, envoi_ledger, ENVOI, LEDGER, GObject)

#define ENVOI_LEDGER_HOUR (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define ENVOI_LEDGER_DAY  (24 * ENVOI_LEDGER_HOUR)

/* One append-only file per account, `usage-ID.log` under @directory (NULL means
 * $XDG_STATE_HOME/envoi): one line per message sent, its time in seconds since the epoch.
 * Lines older than a day are dropped when the file is loaded and, while running, whenever they
 * make up most of it; unreadable lines are skipped. Times are wall-clock microseconds
 * (g_get_real_time) everywhere in the API. */
EnvoiLedger *envoi_ledger_new           (const char   *directory,
                                         GError      **error);
char        *envoi_ledger_default_directory (void);

/* The line is written at once (it survives the process being killed); envoi_ledger_sync()
 * makes it survive a power failure too, and callers run it once after a batch. */
gboolean     envoi_ledger_record        (EnvoiLedger  *self,
                                         const char   *account_id,
                                         gint64        when,
                                         GError      **error);
gboolean     envoi_ledger_sync          (EnvoiLedger  *self,
                                         GError      **error);

void         envoi_ledger_get_usage     (EnvoiLedger  *self,
                                         const char   *account_id,
                                         gint64        now,
                                         guint        *last_hour,
                                         guint        *last_day);
/* When the next message may go under these limits (0 = no limit): @now when it may go at once. */
gint64       envoi_ledger_next_allowed  (EnvoiLedger  *self,
                                         const char   *account_id,
                                         gint64        now,
                                         guint         hourly_limit,
                                         guint         daily_limit);

G_END_DECLS

/* envoi-history-view.h: the delivery history, searchable, as the background sender keeps it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-sender-dbus.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_HISTORY_VIEW (envoi_history_view_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiHistoryView, envoi_history_view, ENVOI, HISTORY_VIEW, GtkWidget)

/* The records come from @sender's History method (newest first, filtered by the search entry)
 * and are read again when it announces a new one. */
void        envoi_history_view_set_sender   (EnvoiHistoryView *self,
                                             EnvoiDBusSender1 *sender);
/* For tests and screenshots: type into the search entry; expand the first row. */
void        envoi_history_view_set_search   (EnvoiHistoryView *self,
                                             const char       *text);
void        envoi_history_view_expand_first (EnvoiHistoryView *self);
/* TRUE while a query is under way (tests wait for it). */
gboolean    envoi_history_view_get_loading  (EnvoiHistoryView *self);

/* "3 minutes ago", "yesterday"…: @time and @now in seconds since the epoch. */
char       *envoi_history_view_format_age   (gint64            time,
                                             gint64            now);

G_END_DECLS

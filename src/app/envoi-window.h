/* envoi-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account-store.h"
#include "envoi-history-view.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_WINDOW (envoi_window_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiWindow, envoi_window, ENVOI, WINDOW, AdwApplicationWindow)

EnvoiWindow      *envoi_window_new          (GtkApplication    *application,
                                             EnvoiAccountStore *store);
EnvoiHistoryView *envoi_window_show_history (EnvoiWindow       *self);

G_END_DECLS

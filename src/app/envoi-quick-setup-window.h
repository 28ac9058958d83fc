/* envoi-quick-setup-window.h: "Add Account" in two fields, address and password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account-store.h"
#include "envoi-quick-setup.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_QUICK_SETUP_WINDOW (envoi_quick_setup_window_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiQuickSetupWindow, envoi_quick_setup_window, ENVOI, QUICK_SETUP_WINDOW, AdwWindow)

EnvoiQuickSetupWindow *envoi_quick_setup_window_new          (GtkWindow             *parent,
                                                             EnvoiAccountStore     *store);
EnvoiQuickSetup       *envoi_quick_setup_window_get_setup    (EnvoiQuickSetupWindow *self);
/* Returns: (nullable): the account saved, once it is */
EnvoiAccount          *envoi_quick_setup_window_get_account  (EnvoiQuickSetupWindow *self);

G_END_DECLS

/* envoi-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account-store.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_APPLICATION (envoi_application_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiApplication, envoi_application, ENVOI, APPLICATION, AdwApplication)

EnvoiApplication  *envoi_application_new               (void);
EnvoiAccountStore *envoi_application_get_account_store (EnvoiApplication *self);

G_END_DECLS

/* envoi-autoconfig-row.h: “Find Settings” under the address: search, show, confirm
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-autoconfig.h"

G_BEGIN_DECLS

/* Where the row stands; it alone decides which button shows. */
typedef enum
{
  ENVOI_AUTOCONFIG_ROW_IDLE,      /* Find Settings */
  ENVOI_AUTOCONFIG_ROW_SEARCHING, /* spinner and Cancel */
  ENVOI_AUTOCONFIG_ROW_FOUND,     /* the settings, their source, Use These Settings */
  ENVOI_AUTOCONFIG_ROW_FAILED,    /* why not, Find Settings again */
  ENVOI_AUTOCONFIG_ROW_CHECKING,  /* used; asking the server which logins it offers */
  ENVOI_AUTOCONFIG_ROW_APPLIED,   /* used; the login method chosen is shown */
} EnvoiAutoconfigRowState;

#define ENVOI_TYPE_AUTOCONFIG_ROW (envoi_autoconfig_row_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAutoconfigRow, envoi_autoconfig_row, ENVOI, AUTOCONFIG_ROW, AdwActionRow)

EnvoiAutoconfig         *envoi_autoconfig_row_get_autoconfig (EnvoiAutoconfigRow *self);
EnvoiAutoconfigRowState  envoi_autoconfig_row_get_state      (EnvoiAutoconfigRow *self);
EnvoiAutoconfigResult   *envoi_autoconfig_row_get_result     (EnvoiAutoconfigRow *self);
void                     envoi_autoconfig_row_set_address    (EnvoiAutoconfigRow *self,
                                                              const char         *address,
                                                              gboolean            search_after_pause);
void                     envoi_autoconfig_row_find           (EnvoiAutoconfigRow *self);
void                     envoi_autoconfig_row_cancel         (EnvoiAutoconfigRow *self);

G_END_DECLS

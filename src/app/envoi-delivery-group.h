/* envoi-delivery-group.h: what goes with every message of an account — an archive Bcc, who
 * hears of failures — and how many may leave per hour and per day
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_DELIVERY_GROUP (envoi_delivery_group_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiDeliveryGroup, envoi_delivery_group, ENVOI, DELIVERY_GROUP, AdwPreferencesGroup)

void      envoi_delivery_group_load          (EnvoiDeliveryGroup *self,
                                              EnvoiAccount       *account);
void      envoi_delivery_group_apply         (EnvoiDeliveryGroup *self,
                                              EnvoiAccount       *account);
gboolean  envoi_delivery_group_validate      (EnvoiDeliveryGroup *self);
void      envoi_delivery_group_reveal_errors (EnvoiDeliveryGroup *self);
gboolean  envoi_delivery_group_focus_invalid (EnvoiDeliveryGroup *self);

G_END_DECLS

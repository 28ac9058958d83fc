/* envoi-transport-group.h: how an account sends — SMTP, Mailgun's API or an HTTP POST
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_TRANSPORT_GROUP (envoi_transport_group_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiTransportGroup, envoi_transport_group, ENVOI, TRANSPORT_GROUP, AdwPreferencesGroup)

void            envoi_transport_group_load          (EnvoiTransportGroup *self,
                                                     EnvoiAccount        *account);
void            envoi_transport_group_apply         (EnvoiTransportGroup *self,
                                                     EnvoiAccount        *account);
gboolean        envoi_transport_group_validate      (EnvoiTransportGroup *self);
void            envoi_transport_group_reveal_errors (EnvoiTransportGroup *self);
gboolean        envoi_transport_group_focus_invalid (EnvoiTransportGroup *self);
gboolean        envoi_transport_group_is_modified   (EnvoiTransportGroup *self);
EnvoiTransport  envoi_transport_group_get_transport (EnvoiTransportGroup *self);
const char     *envoi_transport_group_get_typed_key (EnvoiTransportGroup *self);
char           *envoi_transport_group_dup_key       (EnvoiTransportGroup *self);
char           *envoi_transport_group_dup_saved_key (EnvoiTransportGroup *self);

G_END_DECLS

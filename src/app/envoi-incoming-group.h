/* envoi-incoming-group.h: the mailbox servers beside SMTP — a POP3 login before sending, and
 * an IMAP server that keeps a copy of sent mail
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_INCOMING_GROUP (envoi_incoming_group_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiIncomingGroup, envoi_incoming_group, ENVOI, INCOMING_GROUP, AdwPreferencesGroup)

void        envoi_incoming_group_load            (EnvoiIncomingGroup *self,
                                                  EnvoiAccount       *account);
void        envoi_incoming_group_apply           (EnvoiIncomingGroup *self,
                                                  EnvoiAccount       *account);
gboolean    envoi_incoming_group_validate        (EnvoiIncomingGroup *self);
void        envoi_incoming_group_reveal_errors   (EnvoiIncomingGroup *self);
gboolean    envoi_incoming_group_focus_invalid   (EnvoiIncomingGroup *self);
gboolean    envoi_incoming_group_is_modified     (EnvoiIncomingGroup *self);
gboolean    envoi_incoming_group_has_imap_server (EnvoiIncomingGroup *self);
AdwPreferencesGroup *
            envoi_incoming_group_get_imap_group  (EnvoiIncomingGroup *self);
const char *envoi_incoming_group_get_typed_secret (EnvoiIncomingGroup *self,
                                                   EnvoiService        service);
char       *envoi_incoming_group_dup_saved_secret (EnvoiIncomingGroup *self,
                                                   EnvoiService        service);
char       *envoi_incoming_group_dup_secret      (EnvoiIncomingGroup *self,
                                                  EnvoiService        service);

G_END_DECLS

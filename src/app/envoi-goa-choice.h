/* envoi-goa-choice.h: the accounts of GNOME Online Accounts in the dialog's Provider choice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-goa.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_GOA_CHOICE (envoi_goa_choice_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiGoaChoice, envoi_goa_choice, ENVOI, GOA_CHOICE, GObject)

/* Appends to @model, after what it already holds, one item per online account; the row is
 * the combo row showing @model, whose choice is kept while items change. */
EnvoiGoaChoice  *envoi_goa_choice_new             (AdwComboRow     *row,
                                                   GtkStringList   *model);
guint            envoi_goa_choice_add_saved       (EnvoiGoaChoice  *self,
                                                   const char      *goa_account_id,
                                                   const char      *address);
void             envoi_goa_choice_list            (EnvoiGoaChoice  *self,
                                                   GCancellable    *cancellable);
gboolean         envoi_goa_choice_is_listing      (EnvoiGoaChoice  *self);
gboolean         envoi_goa_choice_is_updating     (EnvoiGoaChoice  *self);
gboolean         envoi_goa_choice_contains        (EnvoiGoaChoice  *self,
                                                   guint            position);
EnvoiGoaAccount *envoi_goa_choice_get_account     (EnvoiGoaChoice  *self,
                                                   guint            position);
char            *envoi_goa_choice_dup_provider    (EnvoiGoaChoice  *self,
                                                   guint            position);
gboolean         envoi_goa_choice_signs_in        (EnvoiGoaChoice  *self,
                                                   guint            position);
const char      *envoi_goa_choice_get_missing_address (EnvoiGoaChoice *self);

G_END_DECLS

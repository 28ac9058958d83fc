/* envoi-account-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-goa-choice.h"

G_BEGIN_DECLS

/* Where the form stands; it alone decides what can be pressed. */
typedef enum
{
  ENVOI_FORM_EDITING,   /* valid as far as checked */
  ENVOI_FORM_INVALID,   /* a field says why it is wrong */
  ENVOI_FORM_SAVING,    /* the keyring and settings are being written */
  ENVOI_FORM_ERROR,     /* the last save failed; nothing was written */
} EnvoiFormState;

#define ENVOI_TYPE_ACCOUNT_DIALOG (envoi_account_dialog_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAccountDialog, envoi_account_dialog, ENVOI, ACCOUNT_DIALOG, AdwWindow)

/* @account: (nullable): the account to edit, or %NULL to add one */
EnvoiAccountDialog *envoi_account_dialog_new           (GtkWindow          *parent,
                                                        EnvoiAccountStore  *store,
                                                        EnvoiAccount       *account);
EnvoiFormState      envoi_account_dialog_get_state     (EnvoiAccountDialog *self);
gboolean            envoi_account_dialog_is_modified   (EnvoiAccountDialog *self);
EnvoiAccount       *envoi_account_dialog_build_account (EnvoiAccountDialog *self);
void                envoi_account_dialog_validate_now  (EnvoiAccountDialog *self);
EnvoiGoaChoice     *envoi_account_dialog_get_goa_choice (EnvoiAccountDialog *self);
char               *envoi_account_dialog_dup_secret    (EnvoiAccountDialog *self);
EnvoiGoaAccount    *envoi_account_dialog_get_goa_password_account (EnvoiAccountDialog *self);
void                envoi_account_dialog_prefill       (EnvoiAccountDialog *self,
                                                        const char         *address,
                                                        const char         *display_name,
                                                        const char         *password);
void                envoi_account_dialog_apply_fix     (EnvoiAccountDialog *self,
                                                        const char         *key,
                                                        GVariant           *value);

G_END_DECLS

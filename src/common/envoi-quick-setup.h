/* envoi-quick-setup.h: from an address and a password to a tested account, without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-autoconfig.h"
#include "envoi-preset.h"
#include "envoi-smtp-client.h"

G_BEGIN_DECLS

#define ENVOI_QUICK_SETUP_ERROR (envoi_quick_setup_error_quark ())

typedef enum
{
  ENVOI_QUICK_SETUP_ERROR_NEEDS_MANUAL, /* found, but it needs more than a password (OAuth 2…) */
} EnvoiQuickSetupError;

/* Where the chain stands. */
typedef enum
{
  ENVOI_QUICK_SETUP_STEP_IDLE,
  ENVOI_QUICK_SETUP_STEP_LOOKING_UP,  /* presets, then the autoconfiguration chain */
  ENVOI_QUICK_SETUP_STEP_SIGNING_IN,  /* the connection test with the typed password */
  ENVOI_QUICK_SETUP_STEP_READY,       /* signed in: the account may be saved */
  ENVOI_QUICK_SETUP_STEP_FAILED,      /* the error says why; cancelled comes back to IDLE */
} EnvoiQuickSetupStep;

#define ENVOI_TYPE_QUICK_SETUP (envoi_quick_setup_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiQuickSetup, envoi_quick_setup, ENVOI, QUICK_SETUP, GObject)

GQuark               envoi_quick_setup_error_quark (void);

/* @autoconfig: (nullable): the chain to ask; %NULL means envoi_autoconfig_new() */
EnvoiQuickSetup     *envoi_quick_setup_new         (EnvoiAutoconfig  *autoconfig);

void                 envoi_quick_setup_run_async   (EnvoiQuickSetup  *self,
                                                    const char       *address,
                                                    const char       *display_name,
                                                    const char       *password,
                                                    GCancellable     *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer          user_data);
EnvoiAccount        *envoi_quick_setup_run_finish  (EnvoiQuickSetup  *self,
                                                    GAsyncResult     *result,
                                                    GError          **error);

EnvoiQuickSetupStep  envoi_quick_setup_get_step    (EnvoiQuickSetup  *self);
const char          *envoi_quick_setup_get_status  (EnvoiQuickSetup  *self);
EnvoiPreset         *envoi_quick_setup_get_preset  (EnvoiQuickSetup  *self);
EnvoiAccount        *envoi_quick_setup_get_account (EnvoiQuickSetup  *self);
gboolean             envoi_quick_setup_is_running  (EnvoiQuickSetup  *self);
EnvoiSmtpReport     *envoi_quick_setup_get_report  (EnvoiQuickSetup  *self);
void                 envoi_quick_setup_trust_certificate (EnvoiQuickSetup *self,
                                                          const char      *host,
                                                          const char      *pin);

/* The fix to show with @error: for a refused password, the advice of a preset built into
 * Envoi (an app password…), else the connection test's hint for the error's class. */
char                *envoi_quick_setup_dup_hint    (EnvoiQuickSetup  *self,
                                                    const GError     *error);
/* The same, given the built-in preset (or %NULL) and the account tried (or %NULL). */
char                *envoi_quick_setup_dup_hint_for (EnvoiPreset     *builtin_preset,
                                                     const GError    *error,
                                                     EnvoiAccount    *account);

G_END_DECLS

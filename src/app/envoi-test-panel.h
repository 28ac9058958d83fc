/* envoi-test-panel.h: trying an account's settings before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-test-run.h"

G_BEGIN_DECLS

/* Where the panel stands; it alone decides what can be pressed. */
typedef enum
{
  ENVOI_TEST_PANEL_IDLE,       /* nothing tested yet, or a fix was applied since */
  ENVOI_TEST_PANEL_RUNNING,    /* a connection test or a test send is under way */
  ENVOI_TEST_PANEL_SUCCEEDED,
  ENVOI_TEST_PANEL_FAILED,     /* the server, the network or the form said no */
  ENVOI_TEST_PANEL_CANCELLED,  /* stopped by the user: not a failure */
} EnvoiTestPanelState;

#define ENVOI_TYPE_TEST_PANEL_STATE (envoi_test_panel_state_get_type ())
GType envoi_test_panel_state_get_type (void) G_GNUC_CONST;

#define ENVOI_TYPE_TEST_PANEL (envoi_test_panel_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiTestPanel, envoi_test_panel, ENVOI, TEST_PANEL, AdwPreferencesGroup)

GtkWidget           *envoi_test_panel_new             (void);
EnvoiTestPanelState  envoi_test_panel_get_state       (EnvoiTestPanel     *self);
void                 envoi_test_panel_test_connection (EnvoiTestPanel     *self);
void                 envoi_test_panel_send_test       (EnvoiTestPanel     *self);
void                 envoi_test_panel_cancel          (EnvoiTestPanel     *self);

/* The host's answers to "run-requested": the run to start and show, or the form's refusal. */
void                 envoi_test_panel_run             (EnvoiTestPanel     *self,
                                                       EnvoiTestRun       *run);
void                 envoi_test_panel_show_invalid_form (EnvoiTestPanel   *self);

/* What the host pushes down as the form changes (also properties of the same names). */
void                 envoi_test_panel_set_default_recipient   (EnvoiTestPanel *self,
                                                               const char     *address);
void                 envoi_test_panel_set_can_test_connection (EnvoiTestPanel *self,
                                                               gboolean        can_test);
void                 envoi_test_panel_set_can_test_imap       (EnvoiTestPanel *self,
                                                               gboolean        can_test);

G_END_DECLS

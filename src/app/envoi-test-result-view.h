/* envoi-test-result-view.h: what an account test found, and how to fix it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "envoi-test-run.h"

G_BEGIN_DECLS

#define ENVOI_TYPE_TEST_RESULT_VIEW (envoi_test_result_view_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiTestResultView, envoi_test_result_view, ENVOI, TEST_RESULT_VIEW, GtkBox)

GtkWidget    *envoi_test_result_view_new            (void);
EnvoiTestRun *envoi_test_result_view_get_run        (EnvoiTestResultView *self);
void          envoi_test_result_view_set_run        (EnvoiTestResultView *self,
                                                     EnvoiTestRun        *run);
void          envoi_test_result_view_clear          (EnvoiTestResultView *self);
void          envoi_test_result_view_show_outcome   (EnvoiTestResultView *self,
                                                     const GError        *error);
void          envoi_test_result_view_show_cancelled (EnvoiTestResultView *self);
void          envoi_test_result_view_show_problem   (EnvoiTestResultView *self,
                                                     const char          *title,
                                                     const char          *explanation);

G_END_DECLS

/* envoi-test-run.h: one try of an account's settings against its servers, before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-goa.h"
#include "envoi-smtp-client.h"

G_BEGIN_DECLS

/* What is tried. */
typedef enum
{
  ENVOI_TEST_RUN_CONNECTION,  /* SMTP: greeting, EHLO, STARTTLS, login; nothing is sent */
  ENVOI_TEST_RUN_SEND,        /* a test email, over SMTP (POP3 first if asked) or HTTP */
  ENVOI_TEST_RUN_IMAP,        /* the IMAP login and the folder list */
} EnvoiTestRunKind;

/* Where the run is, or where it stopped. */
typedef enum
{
  ENVOI_TEST_RUN_STEP_NONE,          /* not started, or refused before starting */
  ENVOI_TEST_RUN_STEP_GOA_TOKEN,     /* asking GNOME Online Accounts for a sign-in */
  ENVOI_TEST_RUN_STEP_GOA_PASSWORD,  /* asking GNOME Online Accounts for the password */
  ENVOI_TEST_RUN_STEP_POP3,          /* the POP3 login before SMTP */
  ENVOI_TEST_RUN_STEP_SMTP,          /* the SMTP session: the connection test or the send */
  ENVOI_TEST_RUN_STEP_HTTP,          /* the send over the HTTP transport */
  ENVOI_TEST_RUN_STEP_IMAP,          /* the IMAP login and folder list */
} EnvoiTestRunStep;

/* Why a run does not start: the account or the recipient cannot be tried that way. */
typedef enum
{
  ENVOI_TEST_RUN_ERROR_NO_CONNECTION_TEST,  /* HTTP sending has no connection test */
  ENVOI_TEST_RUN_ERROR_NO_IMAP_SERVER,      /* an IMAP test without an IMAP server */
  ENVOI_TEST_RUN_ERROR_INVALID_RECIPIENT,   /* the message says why */
  ENVOI_TEST_RUN_ERROR_NO_MESSAGE,          /* the test email could not be made */
} EnvoiTestRunError;

#define ENVOI_TEST_RUN_ERROR (envoi_test_run_error_quark ())
GQuark envoi_test_run_error_quark (void);

#define ENVOI_TYPE_TEST_RUN_KIND (envoi_test_run_kind_get_type ())
GType envoi_test_run_kind_get_type (void) G_GNUC_CONST;

#define ENVOI_TYPE_TEST_RUN_STEP (envoi_test_run_step_get_type ())
GType envoi_test_run_step_get_type (void) G_GNUC_CONST;

#define ENVOI_TYPE_TEST_RUN (envoi_test_run_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiTestRun, envoi_test_run, ENVOI, TEST_RUN, GObject)

EnvoiTestRun       *envoi_test_run_new                (EnvoiTestRunKind  kind,
                                                       EnvoiAccount     *account);

/* The credentials, copied: @service's secret (SMTP: the password; POP3, IMAP: their own, NULL
 * for the SMTP one; HTTP: the API key). */
void                envoi_test_run_set_secret         (EnvoiTestRun     *self,
                                                       EnvoiService      service,
                                                       const char       *secret);
/* A password account filled from GOA and not saved yet: its password is asked of GOA. */
void                envoi_test_run_set_goa_password_account (EnvoiTestRun    *self,
                                                             EnvoiGoaAccount *goa_account);
/* For a test email: the address as typed; empty or NULL means the account's own. */
void                envoi_test_run_set_recipient      (EnvoiTestRun     *self,
                                                       const char       *recipient);

/* Whether the run can start: FALSE with an ENVOI_TEST_RUN_ERROR if not. Runs no network. */
gboolean            envoi_test_run_check              (EnvoiTestRun     *self,
                                                       GError          **error);

/* Once per run. Fails with the check's error, G_IO_ERROR_CANCELLED, or the error of the step
 * it stopped at (envoi_test_run_get_step()). */
void                envoi_test_run_run_async          (EnvoiTestRun     *self,
                                                       GCancellable     *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer          user_data);
gboolean            envoi_test_run_run_finish         (EnvoiTestRun     *self,
                                                       GAsyncResult     *result,
                                                       GError          **error);

EnvoiTestRunKind    envoi_test_run_get_kind           (EnvoiTestRun     *self);
EnvoiAccount       *envoi_test_run_get_account        (EnvoiTestRun     *self);
EnvoiTestRunStep    envoi_test_run_get_step           (EnvoiTestRun     *self);

/* The outcome, once finished; NULL where the run did not get that far. */
const char         *envoi_test_run_get_recipient      (EnvoiTestRun     *self);
EnvoiSmtpReport    *envoi_test_run_get_report         (EnvoiTestRun     *self);
const char         *envoi_test_run_get_reply          (EnvoiTestRun     *self);
const char         *envoi_test_run_get_pop_summary    (EnvoiTestRun     *self);
const char         *envoi_test_run_get_identity       (EnvoiTestRun     *self);
const char * const *envoi_test_run_get_folders        (EnvoiTestRun     *self);
const char         *envoi_test_run_get_sent_folder    (EnvoiTestRun     *self);
/* The whole dialogue, every step's under its heading; "" when there was none. */
char               *envoi_test_run_dup_transcript     (EnvoiTestRun     *self);

G_END_DECLS

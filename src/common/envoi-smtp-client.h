/* envoi-smtp-client.h: testing an SMTP account and sending through it, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-smtp-error.h"

G_BEGIN_DECLS

/* Tests only: a PEM file of extra trusted CAs, replacing the system's. Read by every client at
 * each connection; tests/smtpd.py exports it for the test session. Never set it otherwise. */
#define ENVOI_SMTP_CA_FILE_ENV "ENVOI_SMTP_CA_FILE"

/* What one operation (a test or a send) saw, success or failure: an immutable value. */
typedef struct _EnvoiSmtpReport EnvoiSmtpReport;

#define ENVOI_TYPE_SMTP_REPORT (envoi_smtp_report_get_type ())

GType               envoi_smtp_report_get_type                (void) G_GNUC_CONST;
EnvoiSmtpReport    *envoi_smtp_report_ref                     (EnvoiSmtpReport *self);
void                envoi_smtp_report_unref                   (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_transcript          (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_greeting            (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_last_reply          (EnvoiSmtpReport *self);
const char * const *envoi_smtp_report_get_capabilities        (EnvoiSmtpReport *self);
const char * const *envoi_smtp_report_get_auth_mechanisms     (EnvoiSmtpReport *self);
guint64             envoi_smtp_report_get_size_limit          (EnvoiSmtpReport *self);
gboolean            envoi_smtp_report_get_starttls_offered    (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_pin     (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_subject (EnvoiSmtpReport *self);
const char         *envoi_smtp_report_get_certificate_issuer  (EnvoiSmtpReport *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiSmtpReport, envoi_smtp_report_unref)

#define ENVOI_TYPE_SMTP_CLIENT (envoi_smtp_client_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiSmtpClient, envoi_smtp_client, ENVOI, SMTP_CLIENT, GObject)

EnvoiSmtpClient *envoi_smtp_client_new          (EnvoiAccount         *account,
                                                 const char           *secret);
EnvoiAccount    *envoi_smtp_client_get_account  (EnvoiSmtpClient      *self);

void             envoi_smtp_client_test_async   (EnvoiSmtpClient      *self,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
EnvoiSmtpReport *envoi_smtp_client_test_finish  (EnvoiSmtpClient      *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

void             envoi_smtp_client_send_async   (EnvoiSmtpClient      *self,
                                                 const char           *envelope_from,
                                                 const char * const   *recipients,
                                                 GBytes               *message,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
void             envoi_smtp_client_set_halt_after_failure
                                                (EnvoiSmtpClient      *self,
                                                 gboolean              halt);
char            *envoi_smtp_client_send_finish  (EnvoiSmtpClient      *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

EnvoiSmtpReport *envoi_smtp_client_get_report   (EnvoiSmtpClient      *self,
                                                 GAsyncResult         *result);

G_END_DECLS

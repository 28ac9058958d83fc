/* envoi-smtp-client.h: testing an SMTP account and sending through it, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-smtp-error.h"
#include "envoi-smtp-report.h"

G_BEGIN_DECLS

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

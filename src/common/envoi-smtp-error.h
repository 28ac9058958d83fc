/* envoi-smtp-error.h: what went wrong talking to an SMTP server, in classes a person can act on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

/* Tests only: a PEM file of extra trusted CAs, replacing the system's. Read by every client at
 * each connection; tests/smtpd.py exports it for the test session. Never set it otherwise. */
#define ENVOI_SMTP_CA_FILE_ENV "ENVOI_SMTP_CA_FILE"

#define ENVOI_SMTP_ERROR (envoi_smtp_error_quark ())

/* Every failure of EnvoiSmtpClient is one of these (or G_IO_ERROR_CANCELLED, which is never an
 * error to show). The GError message is a full sentence with the specifics (host, port, the
 * server's reply); envoi_smtp_error_get_title() and friends give the class's text. */
typedef enum
{
  ENVOI_SMTP_ERROR_FAILED,                     /* anything else; the message says what */
  ENVOI_SMTP_ERROR_HOST_NOT_FOUND,
  ENVOI_SMTP_ERROR_CONNECTION_REFUSED,
  ENVOI_SMTP_ERROR_CONNECTION_LOST,            /* network failure after connecting */
  ENVOI_SMTP_ERROR_TIMEOUT,
  ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED,
  ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED,
  ENVOI_SMTP_ERROR_CERTIFICATE_NAME_MISMATCH,
  ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED,
  ENVOI_SMTP_ERROR_TLS_REQUIRED,               /* server wants STARTTLS first (530) */
  ENVOI_SMTP_ERROR_AUTH_FAILED,
  ENVOI_SMTP_ERROR_AUTH_REQUIRED,              /* server wants a login (530 5.7.0) */
  ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED,
  ENVOI_SMTP_ERROR_AUTH_DISABLED_BY_PROVIDER,  /* Microsoft 535 5.7.139, 550 5.7.30 */
  ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED,      /* Google 534 5.7.9 */
  ENVOI_SMTP_ERROR_SENDER_REJECTED,
  ENVOI_SMTP_ERROR_RECIPIENT_REJECTED,
  ENVOI_SMTP_ERROR_MESSAGE_REJECTED,
  ENVOI_SMTP_ERROR_TEMPORARY_FAILURE,          /* any other 4xx */
  ENVOI_SMTP_ERROR_SENDING_LIMIT_REACHED,
  ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED, /* refused by Envoi before connecting */
  ENVOI_SMTP_ERROR_PROTOCOL,                   /* a reply that makes no sense there */
} EnvoiSmtpError;

/* Which command a reply answers: the same code means different things at each step. */
typedef enum
{
  ENVOI_SMTP_STAGE_GREETING,
  ENVOI_SMTP_STAGE_EHLO,
  ENVOI_SMTP_STAGE_STARTTLS,
  ENVOI_SMTP_STAGE_AUTH,
  ENVOI_SMTP_STAGE_MAIL,
  ENVOI_SMTP_STAGE_RCPT,
  ENVOI_SMTP_STAGE_DATA,
  ENVOI_SMTP_STAGE_END_OF_DATA,
  ENVOI_SMTP_STAGE_QUIT,
} EnvoiSmtpStage;

GQuark          envoi_smtp_error_quark             (void);

/* Pure functions (no I/O, no locale): the reply parser and classifier. */
gboolean        envoi_smtp_parse_reply             (const char      *reply,
                                                    guint           *code,
                                                    char           **enhanced_status,
                                                    char           **text);
EnvoiSmtpError  envoi_smtp_classify_reply          (EnvoiSmtpStage   stage,
                                                    guint            code,
                                                    const char      *enhanced_status,
                                                    const char      *text);

/* For a GError of ENVOI_SMTP_ERROR (anything else gets a generic text). The account, when
 * given, makes the hint specific (e.g. which port and security to try). */
const char     *envoi_smtp_error_get_title         (const GError    *error);
const char     *envoi_smtp_error_get_explanation   (const GError    *error);
char           *envoi_smtp_error_dup_hint          (const GError    *error,
                                                    EnvoiAccount    *account);
gboolean        envoi_smtp_error_is_temporary      (const GError    *error);
gboolean        envoi_smtp_error_should_pause_account (const GError *error);

G_END_DECLS

/* envoi-mailbox-client.h: POP3 login (POP-before-SMTP) and IMAP test, folder list and APPEND of
 * sent copies, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-smtp-error.h"

G_BEGIN_DECLS

#define ENVOI_MAILBOX_ERROR (envoi_mailbox_error_quark ())

/* Every failure of EnvoiMailboxClient is one of these (or G_IO_ERROR_CANCELLED). The GError
 * message is a full, translated sentence naming the protocol, the host and the server's reply. */
typedef enum
{
  ENVOI_MAILBOX_ERROR_FAILED,
  ENVOI_MAILBOX_ERROR_NOT_CONFIGURED,             /* no server set for that service */
  ENVOI_MAILBOX_ERROR_HOST_NOT_FOUND,
  ENVOI_MAILBOX_ERROR_CONNECTION_REFUSED,
  ENVOI_MAILBOX_ERROR_CONNECTION_LOST,
  ENVOI_MAILBOX_ERROR_TIMEOUT,
  ENVOI_MAILBOX_ERROR_TLS_HANDSHAKE_FAILED,
  ENVOI_MAILBOX_ERROR_CERTIFICATE_UNTRUSTED,
  ENVOI_MAILBOX_ERROR_STARTTLS_NOT_OFFERED,
  ENVOI_MAILBOX_ERROR_AUTH_FAILED,
  ENVOI_MAILBOX_ERROR_PLAINTEXT_PASSWORD_REFUSED, /* refused by Envoi before connecting */
  ENVOI_MAILBOX_ERROR_NO_SENT_FOLDER,             /* no \Sent folder and no sent-folder set */
  ENVOI_MAILBOX_ERROR_APPEND_REJECTED,
} EnvoiMailboxError;

GQuark          envoi_mailbox_error_quark          (void);

/* The SMTP error class that means the same to the sender (pause, retry or fail), so that a
 * POP-before-SMTP failure is handled like the SMTP failure it causes. */
EnvoiSmtpError  envoi_mailbox_error_to_smtp_class  (const GError *error);

/* Pure: one untagged LIST reply line ("* LIST (\HasNoChildren \Sent) "/" "Sent Items"").
 * @name gets the mailbox name as the server spells it (quotes and escapes removed). */
gboolean        envoi_mailbox_parse_list_line      (const char    *line,
                                                    char         **name,
                                                    GStrv         *flags);

/* Pure: the folder flagged \Sent among @list_lines, else @fallback if not empty, else %NULL. */
char           *envoi_mailbox_choose_sent_folder   (const char * const *list_lines,
                                                    const char         *fallback);

#define ENVOI_TYPE_MAILBOX_CLIENT (envoi_mailbox_client_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiMailboxClient, envoi_mailbox_client, ENVOI, MAILBOX_CLIENT, GObject)

/* @service is ENVOI_SERVICE_POP3 (pop-host, pop-port, pop-security) or ENVOI_SERVICE_IMAP
 * (imap-host, imap-port, imap-security). The login is the account's (envoi_account_get_login);
 * @secret is that service's password, or the SMTP one when the service has none of its own. */
EnvoiMailboxClient *envoi_mailbox_client_new                (EnvoiAccount         *account,
                                                             EnvoiService          service,
                                                             const char           *secret);
EnvoiService        envoi_mailbox_client_get_service        (EnvoiMailboxClient   *self);

/* Connects, upgrades to TLS as configured, logs in and logs out. For POP3 this is the whole
 * of POP-before-SMTP. */
void                envoi_mailbox_client_login_async        (EnvoiMailboxClient   *self,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
gboolean            envoi_mailbox_client_login_finish       (EnvoiMailboxClient   *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

/* IMAP only: logs in and lists every folder. Returns the names; @sent_folder (optional) gets
 * the folder a copy of sent mail would go to (see envoi_mailbox_choose_sent_folder), or %NULL. */
void                envoi_mailbox_client_list_folders_async (EnvoiMailboxClient   *self,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
GStrv               envoi_mailbox_client_list_folders_finish (EnvoiMailboxClient  *self,
                                                             GAsyncResult         *result,
                                                             char                **sent_folder,
                                                             GError              **error);

/* IMAP only: stores @message, marked \Seen, in the Sent folder (found once per client).
 * Returns the folder's name. */
void                envoi_mailbox_client_append_sent_async  (EnvoiMailboxClient   *self,
                                                             GBytes               *message,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
char               *envoi_mailbox_client_append_sent_finish (EnvoiMailboxClient   *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

/* The dialogue of that operation, credentials removed ("C: ", "S: ", "* " lines). Call it
 * from the callback. */
const char         *envoi_mailbox_client_get_transcript     (EnvoiMailboxClient   *self,
                                                             GAsyncResult         *result);

G_END_DECLS

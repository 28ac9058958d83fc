/* envoi-goa.h: mail accounts of GNOME Online Accounts, over D-Bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

#define ENVOI_GOA_ERROR (envoi_goa_error_quark ())

typedef enum
{
  ENVOI_GOA_ERROR_FAILED,          /* GOA answered with another error; the message says it */
  ENVOI_GOA_ERROR_NOT_RUNNING,     /* no GOA on the session bus */
  ENVOI_GOA_ERROR_NO_ACCOUNT,      /* the GOA account was removed */
  ENVOI_GOA_ERROR_NOT_SUPPORTED,   /* no SMTP, mail turned off, or neither password nor OAuth 2 */
  ENVOI_GOA_ERROR_SIGN_IN_NEEDED,  /* expired or revoked sign-in, or the token is refused */
} EnvoiGoaError;

/* Envoi keeps the GOA account id of an OAuth 2 account in the account's `provider` key as
 * "goa:<id>"; the password stays in GOA, the token is asked for before each session. */
#define ENVOI_GOA_PROVIDER_PREFIX "goa:"

/* One GOA account that can send mail: an immutable value. */
typedef struct
{
  char          *id;
  char          *object_path;
  char          *provider_type;          /* "google", "ms365", "imap_smtp"… */
  char          *provider_name;          /* "Google", "IMAP and SMTP"… (translated by GOA) */
  char          *presentation_identity;
  char          *email_address;
  char          *name;                   /* the person's name, may be empty */
  char          *smtp_host;              /* without the port */
  guint16        smtp_port;
  char          *smtp_user_name;
  EnvoiSecurity  smtp_security;
  gboolean       smtp_use_auth;
  gboolean       oauth2;                 /* has org.gnome.OnlineAccounts.OAuth2Based */
  gboolean       password_based;         /* has org.gnome.OnlineAccounts.PasswordBased */
  gboolean       attention_needed;
} EnvoiGoaAccount;

#define ENVOI_TYPE_GOA_ACCOUNT (envoi_goa_account_get_type ())

GType            envoi_goa_account_get_type          (void) G_GNUC_CONST;
EnvoiGoaAccount *envoi_goa_account_ref               (EnvoiGoaAccount *self);
void             envoi_goa_account_unref             (EnvoiGoaAccount *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiGoaAccount, envoi_goa_account_unref)

GQuark           envoi_goa_error_quark               (void);

/* The GOA account id an Envoi account signs in with, or NULL for a password account. */
const char      *envoi_goa_account_id_from_provider  (const char       *provider);

/* The mail accounts of GOA that can send (SMTP configured, mail not turned off). GOA absent
 * from the bus is not an error: the array is empty. `bus` NULL means the session bus. */
void             envoi_goa_list_accounts_async       (GDBusConnection  *bus,
                                                      GCancellable     *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer          user_data);
GPtrArray       *envoi_goa_list_accounts_finish      (GAsyncResult     *result,
                                                      GError          **error);

/* An unsaved account (id "") with the GOA account's server, user and address. */
EnvoiAccount    *envoi_goa_account_to_envoi          (EnvoiGoaAccount  *goa_account);

/* Adds it to the store under a new id. For a password account the SMTP password is asked of
 * GOA (PasswordBased.GetPassword "smtp-password") and put in Envoi's keyring item; for an
 * OAuth 2 account only the GOA account id is kept. */
void             envoi_goa_import_async              (GDBusConnection  *bus,
                                                      EnvoiGoaAccount  *goa_account,
                                                      EnvoiAccountStore *store,
                                                      GCancellable     *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer          user_data);
EnvoiAccount    *envoi_goa_import_finish             (GAsyncResult     *result,
                                                      gboolean         *password_imported,
                                                      GError          **error);

/* The SMTP password of a GOA password account (PasswordBased.GetPassword "smtp-password"),
 * or NULL without an error when GOA keeps none. Free it with envoi_secret_free(). */
void             envoi_goa_get_password_async        (GDBusConnection  *bus,
                                                      EnvoiGoaAccount  *goa_account,
                                                      GCancellable     *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer          user_data);
char            *envoi_goa_get_password_finish       (GAsyncResult     *result,
                                                      GError          **error);

/* For the sender, before each session: Account.EnsureCredentials (GOA refreshes an expired
 * token), then OAuth2Based.GetAccessToken. When `rejected_token` is given (the server refused
 * it) and GOA still hands out the same one, it fails with ENVOI_GOA_ERROR_SIGN_IN_NEEDED
 * instead of looping. Returns the token; free it with envoi_secret_free(). `identity`, if
 * not NULL, receives the account's presentation identity (whose token it is). */
void             envoi_goa_get_access_token_async    (GDBusConnection  *bus,
                                                      const char       *goa_account_id,
                                                      const char       *rejected_token,
                                                      GCancellable     *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer          user_data);
char            *envoi_goa_get_access_token_finish   (GAsyncResult     *result,
                                                      char            **identity,
                                                      GError          **error);
char            *envoi_goa_get_access_token_finish_full (GAsyncResult  *result,
                                                         char         **identity,
                                                         gint          *expires_in,
                                                         GError       **error);

G_END_DECLS

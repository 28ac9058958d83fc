/* envoi-msmtp.h: reading accounts from msmtp's configuration, and writing one for msmtp
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"

G_BEGIN_DECLS

#define ENVOI_MSMTP_ERROR (envoi_msmtp_error_quark ())

typedef enum
{
  ENVOI_MSMTP_ERROR_FAILED,        /* could not read the file; the message says why */
  ENVOI_MSMTP_ERROR_NOT_REGULAR,   /* a directory, a device, a pipe… */
  ENVOI_MSMTP_ERROR_TOO_LARGE,     /* more than ENVOI_MSMTP_MAX_FILE_SIZE bytes */
  ENVOI_MSMTP_ERROR_NOT_TEXT,      /* NUL bytes: a binary file */
  ENVOI_MSMTP_ERROR_NO_ACCOUNTS,   /* readable, but no account with a server in it */
  ENVOI_MSMTP_ERROR_NOT_FOUND,     /* neither ~/.msmtprc nor $XDG_CONFIG_HOME/msmtp/config */
} EnvoiMsmtpError;

/* msmtp's own files are a few hundred bytes; anything this big is not one. */
#define ENVOI_MSMTP_MAX_FILE_SIZE (1024 * 1024)

#define ENVOI_TYPE_MSMTP_CONFIG (envoi_msmtp_config_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiMsmtpConfig, envoi_msmtp_config, ENVOI, MSMTP_CONFIG, GObject)

GQuark             envoi_msmtp_error_quark                 (void);

/* The file msmtp itself would read: ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config; NULL when
 * neither exists. */
GFile             *envoi_msmtp_find_user_config            (void);

/* Parsing never runs anything: `passwordeval` and `eval` are reported as skipped, a `password`
 * line is kept in memory only, for envoi_msmtp_config_import_async() to put in the keyring.
 * Unknown or unsupported commands, bad lines and settings Envoi cannot carry over become
 * translated warnings; only an unusable file is an error. */
EnvoiMsmtpConfig  *envoi_msmtp_config_parse                (GBytes              *contents,
                                                            GError             **error);
EnvoiMsmtpConfig  *envoi_msmtp_config_load                 (GFile               *file,
                                                            GCancellable        *cancellable,
                                                            GError             **error);
void               envoi_msmtp_config_load_async           (GFile               *file,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
EnvoiMsmtpConfig  *envoi_msmtp_config_load_finish          (GAsyncResult        *result,
                                                            GError             **error);

/* Warnings about the file as a whole (lines outside any account, skipped lines). */
const char * const *envoi_msmtp_config_get_warnings        (EnvoiMsmtpConfig    *self);
/* The account named by `account default : NAME`, or NULL. */
const char        *envoi_msmtp_config_get_default_name    (EnvoiMsmtpConfig    *self);

guint              envoi_msmtp_config_get_n_accounts       (EnvoiMsmtpConfig    *self);
const char        *envoi_msmtp_config_get_account_name     (EnvoiMsmtpConfig    *self,
                                                            guint                index);
/* An unsaved account (id "") with what the file says; settings Envoi does not have are
 * left at their defaults and explained by the account's warnings. */
EnvoiAccount      *envoi_msmtp_config_get_account          (EnvoiMsmtpConfig    *self,
                                                            guint                index);
const char * const *envoi_msmtp_config_get_account_warnings (EnvoiMsmtpConfig   *self,
                                                            guint                index);
/* Whether the file holds the password itself (a `password` line). */
gboolean           envoi_msmtp_config_has_file_password    (EnvoiMsmtpConfig    *self,
                                                            guint                index);

/* Adds the account to the store under a new id and puts its password in Envoi's keyring item:
 * the file's `password` line if there is one, else the item msmtp reads (attributes host,
 * service "smtp", user, whatever its schema). Returns the saved account. *password_imported
 * tells whether a password was found and stored. A keyring failure is an error, but the
 * account is already saved then: the person can type the password in the dialog. */
void               envoi_msmtp_config_import_async         (EnvoiMsmtpConfig    *self,
                                                            guint                index,
                                                            EnvoiAccountStore   *store,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
EnvoiAccount      *envoi_msmtp_config_import_finish        (EnvoiMsmtpConfig    *self,
                                                            GAsyncResult        *result,
                                                            gboolean            *password_imported,
                                                            GError             **error);

/* The password msmtp would use for host/user from the keyring (any item with the attributes
 * host, service = "smtp" and user), or NULL without an error when there is none; read as every
 * secret is (envoi_secret_search_async): a keyring that stays locked is ENVOI_SECRET_ERROR_LOCKED,
 * not "none". */
void               envoi_msmtp_lookup_password_async       (const char          *host,
                                                            const char          *user,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
char              *envoi_msmtp_lookup_password_finish      (GAsyncResult        *result,
                                                            GError             **error);

/* One msmtp account section (named `name`, or the account's id) for the account. It holds no
 * password: msmtp finds Envoi's keyring item by host, service and user. What msmtp cannot
 * express (a public-key pin, an OAuth 2 sign-in) is said in comments. */
char              *envoi_msmtp_export                      (EnvoiAccount        *account,
                                                            const char          *name);
/* Writes envoi_msmtp_export() to the file, readable by its owner only (msmtp insists). */
gboolean           envoi_msmtp_export_to_file              (EnvoiAccount        *account,
                                                            GFile               *file,
                                                            GCancellable        *cancellable,
                                                            GError             **error);

G_END_DECLS

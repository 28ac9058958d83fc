/* envoi-account.h: one outgoing mail account, as stored in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-enums.h"

G_BEGIN_DECLS

#define ENVOI_ACCOUNT_SCHEMA_ID   "io.github.envoimail.Envoi.Account"
#define ENVOI_ACCOUNT_PATH_PREFIX "/io/github/envoimail/Envoi/accounts/"

#define ENVOI_ACCOUNT_DEFAULT_HOURLY_LIMIT 50
#define ENVOI_ACCOUNT_DEFAULT_DAILY_LIMIT  500

#define ENVOI_MAILGUN_US_BASE_URL "https://api.mailgun.net"
#define ENVOI_MAILGUN_EU_BASE_URL "https://api.eu.mailgun.net"

#define ENVOI_TYPE_ACCOUNT (envoi_account_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAccount, envoi_account, ENVOI, ACCOUNT, GObject)

/* An EnvoiAccount is a plain value: every settings key of the Account schema is a property of
 * the same name. Editing one changes nothing on disk until envoi_account_save(). */
EnvoiAccount     *envoi_account_new                (const char    *id);
EnvoiAccount     *envoi_account_load               (const char    *id);
EnvoiAccount     *envoi_account_copy               (EnvoiAccount  *self);
EnvoiAccount     *envoi_account_copy_as            (EnvoiAccount  *self,
                                                    const char    *id);
void              envoi_account_save               (EnvoiAccount  *self);
void              envoi_account_reset_settings     (const char    *id);
gboolean          envoi_account_equal              (EnvoiAccount  *self,
                                                    EnvoiAccount  *other);
GSettings        *envoi_account_create_settings    (const char    *id);

const char       *envoi_account_get_id             (EnvoiAccount  *self);
const char       *envoi_account_get_address        (EnvoiAccount  *self);
const char       *envoi_account_get_display_name   (EnvoiAccount  *self);
const char       *envoi_account_get_reply_to       (EnvoiAccount  *self);
const char       *envoi_account_get_bcc            (EnvoiAccount  *self);
const char * const *envoi_account_get_notify_addresses (EnvoiAccount *self);
const char       *envoi_account_get_provider       (EnvoiAccount  *self);
const char       *envoi_account_get_host           (EnvoiAccount  *self);
guint16           envoi_account_get_port           (EnvoiAccount  *self);
EnvoiSecurity     envoi_account_get_security       (EnvoiAccount  *self);
gboolean          envoi_account_get_verify_certificate (EnvoiAccount *self);
const char       *envoi_account_get_pinned_key     (EnvoiAccount  *self);
gboolean          envoi_account_get_allow_plaintext_password (EnvoiAccount *self);
EnvoiAuthMethod   envoi_account_get_auth_method    (EnvoiAccount  *self);
const char       *envoi_account_get_username       (EnvoiAccount  *self);
const char       *envoi_account_get_login          (EnvoiAccount  *self);
guint             envoi_account_get_hourly_limit   (EnvoiAccount  *self);
guint             envoi_account_get_daily_limit    (EnvoiAccount  *self);
guint             envoi_account_get_timeout        (EnvoiAccount  *self);
gboolean          envoi_account_get_pop_before_smtp (EnvoiAccount *self);
const char       *envoi_account_get_pop_host       (EnvoiAccount  *self);
guint16           envoi_account_get_pop_port       (EnvoiAccount  *self);
EnvoiSecurity     envoi_account_get_pop_security   (EnvoiAccount  *self);
const char       *envoi_account_get_imap_host      (EnvoiAccount  *self);
guint16           envoi_account_get_imap_port      (EnvoiAccount  *self);
EnvoiSecurity     envoi_account_get_imap_security  (EnvoiAccount  *self);
gboolean          envoi_account_get_save_sent_copy (EnvoiAccount  *self);
const char       *envoi_account_get_sent_folder    (EnvoiAccount  *self);
EnvoiTransport    envoi_account_get_transport      (EnvoiAccount  *self);
const char       *envoi_account_get_http_url       (EnvoiAccount  *self);
const char       *envoi_account_get_mailgun_domain (EnvoiAccount  *self);
EnvoiMailgunRegion envoi_account_get_mailgun_region (EnvoiAccount *self);
char             *envoi_account_dup_http_url       (EnvoiAccount  *self);

gboolean          envoi_account_is_loopback        (EnvoiAccount  *self);

const char       *envoi_auth_method_get_mechanism  (EnvoiAuthMethod method);

G_END_DECLS

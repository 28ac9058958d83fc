/* envoi-preset.h: one provider's mail configuration, read from ISPDB clientConfig XML
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-types.h"
#include "envoi-enums.h"

G_BEGIN_DECLS

/* The namespace of Envoi's extensions to clientConfig 1.1 (envoi:note, envoi:category, …). */
#define ENVOI_PRESET_NAMESPACE "https://envoimail.github.io/ns/preset"

#define ENVOI_PRESET_ERROR (envoi_preset_error_quark ())

typedef enum
{
  ENVOI_PRESET_ERROR_TOO_LARGE,           /* document, nesting or a list over its limit */
  ENVOI_PRESET_ERROR_MALFORMED,           /* not well-formed XML (or not UTF-8) */
  ENVOI_PRESET_ERROR_NOT_CLIENT_CONFIG,   /* well-formed, but not a clientConfig document */
  ENVOI_PRESET_ERROR_MISSING_FIELD,       /* a required element or attribute is absent */
  ENVOI_PRESET_ERROR_INVALID_VALUE,       /* a value has the wrong form */
  ENVOI_PRESET_ERROR_INVALID_PORT,        /* a port is not a number in 1–65535 */
  ENVOI_PRESET_ERROR_UNKNOWN_SOCKET_TYPE, /* socketType other than SSL, STARTTLS, plain */
  ENVOI_PRESET_ERROR_NO_OUTGOING_SERVER,  /* a provider without any usable SMTP server */
  ENVOI_PRESET_ERROR_INVALID_ADDRESS,     /* expansion: the address has no local part/domain */
  ENVOI_PRESET_ERROR_MISSING_HOST_PART,   /* expansion: the user must type part of the host */
} EnvoiPresetError;

typedef enum
{
  ENVOI_PRESET_CATEGORY_MAILBOX, /* a mailbox provider: Gmail, Orange, … */
  ENVOI_PRESET_CATEGORY_SERVICE, /* a sending service: SendGrid, Amazon SES, … */
} EnvoiPresetCategory;

/* How the SMTP user name is formed. */
typedef enum
{
  ENVOI_USERNAME_RULE_ADDRESS,    /* the full address (%EMAILADDRESS%) */
  ENVOI_USERNAME_RULE_LOCAL_PART, /* the part before the @ (%EMAILLOCALPART%) */
  ENVOI_USERNAME_RULE_LITERAL,    /* a fixed word, such as `apikey` or `resend` */
  ENVOI_USERNAME_RULE_TEMPLATE,   /* other text containing placeholders */
  ENVOI_USERNAME_RULE_TOKEN,      /* one token is both user name and password (Postmark) */
  ENVOI_USERNAME_RULE_ASK,        /* the user types it (a per-domain SMTP login, …) */
} EnvoiUsernameRule;

/* The placeholder, only Envoi's, for the part of a host name the user types. */
#define ENVOI_PRESET_HOST_PART "%HOSTPART%"

#define ENVOI_TYPE_PRESET_CATEGORY (envoi_preset_category_get_type ())
#define ENVOI_TYPE_USERNAME_RULE   (envoi_username_rule_get_type ())
#define ENVOI_TYPE_PRESET_SERVER   (envoi_preset_server_get_type ())
#define ENVOI_TYPE_PRESET          (envoi_preset_get_type ())

GQuark              envoi_preset_error_quark              (void);
GType               envoi_preset_category_get_type        (void) G_GNUC_CONST;
GType               envoi_username_rule_get_type          (void) G_GNUC_CONST;

/* EnvoiPresetServer: one server of a preset. Immutable, reference-counted. */
typedef struct _EnvoiPresetServer EnvoiPresetServer;

GType               envoi_preset_server_get_type          (void) G_GNUC_CONST;
EnvoiPresetServer  *envoi_preset_server_ref               (EnvoiPresetServer  *server);
void                envoi_preset_server_unref             (EnvoiPresetServer  *server);
EnvoiService        envoi_preset_server_get_service       (EnvoiPresetServer  *server);
const char         *envoi_preset_server_get_hostname      (EnvoiPresetServer  *server);
gboolean            envoi_preset_server_needs_host_part   (EnvoiPresetServer  *server);
guint16             envoi_preset_server_get_port          (EnvoiPresetServer  *server);
EnvoiSecurity       envoi_preset_server_get_security      (EnvoiPresetServer  *server);
EnvoiAuthMethod     envoi_preset_server_get_auth_method   (EnvoiPresetServer  *server);
gboolean            envoi_preset_server_supports_auth_method (EnvoiPresetServer *server,
                                                           EnvoiAuthMethod     method);
gboolean            envoi_preset_server_get_pop_before_smtp (EnvoiPresetServer *server);
gboolean            envoi_preset_server_get_pinned        (EnvoiPresetServer  *server);
EnvoiUsernameRule   envoi_preset_server_get_username_rule (EnvoiPresetServer  *server);
const char         *envoi_preset_server_get_username      (EnvoiPresetServer  *server);
char               *envoi_preset_server_dup_hostname_for  (EnvoiPresetServer  *server,
                                                           const char         *address,
                                                           const char         *host_part,
                                                           GError            **error);
char               *envoi_preset_server_dup_username_for  (EnvoiPresetServer  *server,
                                                           const char         *address,
                                                           GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiPresetServer, envoi_preset_server_unref)

G_DECLARE_FINAL_TYPE (EnvoiPreset, envoi_preset, ENVOI, PRESET, GObject)


const char         *envoi_preset_get_id                   (EnvoiPreset        *self);
const char         *envoi_preset_get_display_name         (EnvoiPreset        *self);
const char         *envoi_preset_get_short_name           (EnvoiPreset        *self);
const char * const *envoi_preset_get_domains              (EnvoiPreset        *self);
gboolean            envoi_preset_has_domain               (EnvoiPreset        *self,
                                                           const char         *domain);
EnvoiPresetCategory envoi_preset_get_category             (EnvoiPreset        *self);
GPtrArray          *envoi_preset_get_outgoing_servers     (EnvoiPreset        *self);
EnvoiPresetServer  *envoi_preset_get_outgoing_server      (EnvoiPreset        *self);
GPtrArray          *envoi_preset_get_incoming_servers     (EnvoiPreset        *self);
EnvoiPresetServer  *envoi_preset_get_incoming_server      (EnvoiPreset        *self,
                                                           EnvoiService        service);
const char         *envoi_preset_get_documentation_url    (EnvoiPreset        *self);
const char         *envoi_preset_get_documentation_description (EnvoiPreset  *self);
const char         *envoi_preset_get_note                 (EnvoiPreset        *self);
const char         *envoi_preset_get_password_hint        (EnvoiPreset        *self);
const char         *envoi_preset_get_username_hint        (EnvoiPreset        *self);
gboolean            envoi_preset_get_unverified           (EnvoiPreset        *self);
GPtrArray          *envoi_preset_get_problems             (EnvoiPreset        *self);

char               *envoi_preset_expand                   (const char         *template_,
                                                           const char         *address,
                                                           const char         *host_part,
                                                           GError            **error);
GPtrArray          *envoi_preset_rank_servers             (GPtrArray          *servers);

G_END_DECLS

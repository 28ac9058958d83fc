/* envoi-autoconfig.h: finding the outgoing server from an email address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-autoconfig-result.h"
#include "envoi-preset-parser.h"
#include "envoi-smtp-client.h"
#include "envoi-types.h"

G_BEGIN_DECLS

/* Answers larger than this are cut off and refused. */
#define ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE ENVOI_PRESET_MAX_DOCUMENT_SIZE

/* Production defaults (every one a property). */
#define ENVOI_AUTOCONFIG_DEFAULT_ISPDB_URL     "https://autoconfig.thunderbird.net/v1.1/"
#define ENVOI_AUTOCONFIG_DEFAULT_STAGE_TIMEOUT 10   /* seconds, each stage */
#define ENVOI_AUTOCONFIG_DEFAULT_TOTAL_TIMEOUT 60   /* seconds, the whole chain */
#define ENVOI_AUTOCONFIG_DEFAULT_PROBE_TIMEOUT 5    /* seconds, each probed connection */

#define ENVOI_AUTOCONFIG_ERROR (envoi_autoconfig_error_quark ())

typedef enum
{
  ENVOI_AUTOCONFIG_ERROR_INVALID_ADDRESS, /* not an address with a domain */
  ENVOI_AUTOCONFIG_ERROR_NOT_FOUND,       /* every stage came back empty */
  ENVOI_AUTOCONFIG_ERROR_TIMEOUT,         /* a stage, or the whole chain, ran out of time */
  ENVOI_AUTOCONFIG_ERROR_TOO_LARGE,       /* an answer over ENVOI_AUTOCONFIG_MAX_ANSWER_SIZE */
  ENVOI_AUTOCONFIG_ERROR_REDIRECTED,      /* a redirect to another domain, or to plain HTTP */
  ENVOI_AUTOCONFIG_ERROR_HTTP_STATUS,     /* an answer other than 200 */
  ENVOI_AUTOCONFIG_ERROR_NETWORK,         /* no connection, TLS failure, DNS failure */
  ENVOI_AUTOCONFIG_ERROR_INVALID_ANSWER,  /* malformed, unknown socketType, no SMTP server */
  ENVOI_AUTOCONFIG_ERROR_NO_RECORDS,      /* DNS has no such record */
  ENVOI_AUTOCONFIG_ERROR_NO_SERVER,       /* no probed server answered */
} EnvoiAutoconfigError;

#define ENVOI_TYPE_AUTOCONFIG (envoi_autoconfig_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiAutoconfig, envoi_autoconfig, ENVOI, AUTOCONFIG, GObject)

GQuark                 envoi_autoconfig_error_quark         (void);

EnvoiAutoconfig       *envoi_autoconfig_new                 (void);

void                   envoi_autoconfig_lookup_async        (EnvoiAutoconfig      *self,
                                                             const char           *address,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
EnvoiAutoconfigResult *envoi_autoconfig_lookup_finish       (EnvoiAutoconfig      *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);
GPtrArray             *envoi_autoconfig_lookup_get_problems (EnvoiAutoconfig      *self,
                                                             GAsyncResult         *result);

/* One EHLO, without credentials: what the server offers (used by the probe stage and by the
 * dialog once the form is filled). */
void                   envoi_autoconfig_check_server_async  (EnvoiAutoconfig      *self,
                                                             const char           *host,
                                                             guint16               port,
                                                             EnvoiSecurity         security,
                                                             GCancellable         *cancellable,
                                                             GAsyncReadyCallback   callback,
                                                             gpointer              user_data);
EnvoiSmtpReport       *envoi_autoconfig_check_server_finish (EnvoiAutoconfig      *self,
                                                             GAsyncResult         *result,
                                                             GError              **error);

EnvoiAuthMethod        envoi_autoconfig_choose_auth_method  (EnvoiAuthMethod       preferred,
                                                             const char * const   *mechanisms);
char                  *envoi_autoconfig_registrable_domain  (const char           *host);

G_END_DECLS

/* envoi-autoconfig-result.h: the outgoing-server settings found for an address, and where
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-preset.h"
#include "envoi-types.h"

G_BEGIN_DECLS

/* Where a configuration came from, in the order the chain asks. */
typedef enum
{
  ENVOI_AUTOCONFIG_SOURCE_PRESET,      /* a provider preset built into Envoi */
  ENVOI_AUTOCONFIG_SOURCE_AUTOCONFIG,  /* https://autoconfig.<domain>/mail/config-v1.1.xml */
  ENVOI_AUTOCONFIG_SOURCE_WELL_KNOWN,  /* https://<domain>/.well-known/autoconfig/mail/… */
  ENVOI_AUTOCONFIG_SOURCE_ISPDB,       /* the ISPDB (`ispdb-url`) for the address's domain */
  ENVOI_AUTOCONFIG_SOURCE_ISPDB_MX,    /* the ISPDB for the domain of the domain's MX host */
  ENVOI_AUTOCONFIG_SOURCE_SRV,         /* DNS SRV _submissions._tcp / _submission._tcp */
  ENVOI_AUTOCONFIG_SOURCE_PROBE,       /* a server that answered EHLO on a usual port */
} EnvoiAutoconfigSource;

/* What the person must know before using the answer. */
typedef enum /*< flags >*/
{
  ENVOI_AUTOCONFIG_FLAG_NONE               = 0,
  ENVOI_AUTOCONFIG_FLAG_INSECURE_TRANSPORT = 1 << 0, /* fetched over plain HTTP */
  ENVOI_AUTOCONFIG_FLAG_OTHER_DOMAIN       = 1 << 1, /* the settings of another domain */
  ENVOI_AUTOCONFIG_FLAG_UNENCRYPTED        = 1 << 2, /* the best server found has no TLS */
} EnvoiAutoconfigFlags;

#define ENVOI_TYPE_AUTOCONFIG_SOURCE (envoi_autoconfig_source_get_type ())
#define ENVOI_TYPE_AUTOCONFIG_FLAGS  (envoi_autoconfig_flags_get_type ())
#define ENVOI_TYPE_AUTOCONFIG_RESULT (envoi_autoconfig_result_get_type ())

GType envoi_autoconfig_source_get_type (void) G_GNUC_CONST;
GType envoi_autoconfig_flags_get_type  (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (EnvoiAutoconfigResult, envoi_autoconfig_result, ENVOI, AUTOCONFIG_RESULT, GObject)

EnvoiAutoconfigResult *envoi_autoconfig_result_new             (EnvoiAutoconfigSource  source,
                                                                const char            *address,
                                                                const char            *domain,
                                                                const char            *url,
                                                                EnvoiPreset           *preset,
                                                                EnvoiAutoconfigFlags   flags,
                                                                GError               **error);

EnvoiAutoconfigSource  envoi_autoconfig_result_get_source      (EnvoiAutoconfigResult *self);
const char            *envoi_autoconfig_result_get_address     (EnvoiAutoconfigResult *self);
const char            *envoi_autoconfig_result_get_domain      (EnvoiAutoconfigResult *self);
const char            *envoi_autoconfig_result_get_url         (EnvoiAutoconfigResult *self);
EnvoiAutoconfigFlags   envoi_autoconfig_result_get_flags       (EnvoiAutoconfigResult *self);
EnvoiPreset           *envoi_autoconfig_result_get_preset      (EnvoiAutoconfigResult *self);
GPtrArray             *envoi_autoconfig_result_get_servers     (EnvoiAutoconfigResult *self);
EnvoiPresetServer     *envoi_autoconfig_result_get_server      (EnvoiAutoconfigResult *self);
const char            *envoi_autoconfig_result_get_hostname    (EnvoiAutoconfigResult *self);
guint16                envoi_autoconfig_result_get_port        (EnvoiAutoconfigResult *self);
EnvoiSecurity          envoi_autoconfig_result_get_security    (EnvoiAutoconfigResult *self);
EnvoiAuthMethod        envoi_autoconfig_result_get_auth_method (EnvoiAutoconfigResult *self);
const char            *envoi_autoconfig_result_get_username    (EnvoiAutoconfigResult *self);
char                  *envoi_autoconfig_result_dup_description (EnvoiAutoconfigResult *self);
char                  *envoi_autoconfig_result_dup_summary     (EnvoiAutoconfigResult *self);
GPtrArray             *envoi_autoconfig_result_dup_warnings    (EnvoiAutoconfigResult *self);

G_END_DECLS

/* envoi-preset-catalog.h: the provider presets built into Envoi
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-preset.h"

G_BEGIN_DECLS

/* Where data/providers/ lives in the GResource. */
#define ENVOI_PRESET_CATALOG_RESOURCE_PATH "/io/github/envoimail/Envoi/providers/"

GListModel         *envoi_preset_catalog_get_builtin        (void);
EnvoiPreset        *envoi_preset_catalog_lookup_id          (const char   *id);
EnvoiPreset        *envoi_preset_catalog_lookup_domain      (const char   *domain);
EnvoiPreset        *envoi_preset_catalog_lookup_address     (const char   *address);

const char         *envoi_preset_catalog_get_login          (EnvoiAccount *account,
                                                             const char   *secret);

/* For the tests: every text of the built-in presets that is shown translated. */
const char * const *envoi_preset_catalog_get_translatable_strings (void);

G_END_DECLS

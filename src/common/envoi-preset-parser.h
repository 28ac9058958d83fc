/* envoi-preset-parser.h: the reader of ISPDB clientConfig XML, which makes EnvoiPresets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-preset.h"

G_BEGIN_DECLS

/* Documents larger than this are refused before parsing. */
#define ENVOI_PRESET_MAX_DOCUMENT_SIZE (1024 * 1024)

GPtrArray *envoi_preset_parse_bytes (GBytes      *bytes,
                                     const char  *translation_domain,
                                     GError     **error);

G_END_DECLS

/* envoi-goa-error.h: what a failure of GNOME Online Accounts means to the person, and the fix
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* For an error of the ENVOI_GOA_ERROR domain: a short title, one sentence on what happened,
 * and what to do about it. Translated; never NULL. */
const char *envoi_goa_error_get_title       (const GError *error);
const char *envoi_goa_error_get_explanation (const GError *error);
const char *envoi_goa_error_get_hint        (const GError *error);

G_END_DECLS

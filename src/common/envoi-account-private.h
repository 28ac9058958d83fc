/* envoi-account-private.h: what the account store needs of EnvoiAccount
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "envoi-account.h"

G_BEGIN_DECLS

void _envoi_account_load_from (EnvoiAccount *self,
                               GSettings    *settings);

G_END_DECLS

/* envoi-msmtp-transfer.h: importing accounts from msmtp and exporting them for it, from the window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "envoi-account.h"
#include "envoi-account-store.h"

G_BEGIN_DECLS

void envoi_msmtp_transfer_import (GtkWindow         *parent,
                                  EnvoiAccountStore *store,
                                  GCancellable      *cancellable);
void envoi_msmtp_transfer_export (GtkWindow         *parent,
                                  EnvoiAccount      *account,
                                  GCancellable      *cancellable);

/* The same, once the file is chosen. */
void envoi_msmtp_transfer_import_file (GtkWindow         *parent,
                                       EnvoiAccountStore *store,
                                       GFile             *file,
                                       GCancellable      *cancellable);
void envoi_msmtp_transfer_export_file (GtkWindow         *parent,
                                       EnvoiAccount      *account,
                                       GFile             *file,
                                       GCancellable      *cancellable);

G_END_DECLS

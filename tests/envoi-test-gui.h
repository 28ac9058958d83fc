/* envoi-test-gui.h: helpers for the test binaries that show the app's widgets (GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Kept apart from envoi-test-helpers.h, which the tests without GTK include too.
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Types @text into the entry row @row of an EnvoiAccountDialog's Delivery page; the rows there
 * are the template children of its delivery group, not of the dialog. */
void envoi_test_type_in_delivery (gpointer    dialog,
                                  const char *row,
                                  const char *text);

G_END_DECLS

/* envoi-test-gui.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "envoi-account-dialog.h"
#include "envoi-delivery-group.h"
#include "envoi-test-gui.h"

void
envoi_test_type_in_delivery (gpointer    dialog,
                             const char *row,
                             const char *text)
{
  GObject *group = gtk_widget_get_template_child (GTK_WIDGET (dialog), ENVOI_TYPE_ACCOUNT_DIALOG,
                                                  "delivery_group");

  gtk_editable_set_text (GTK_EDITABLE (gtk_widget_get_template_child (GTK_WIDGET (group),
                                                                      ENVOI_TYPE_DELIVERY_GROUP,
                                                                      row)),
                         text);
}

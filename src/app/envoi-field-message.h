/* envoi-field-message.h: the reason under a form row, shared by the account dialog's groups
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

typedef enum
{
  ENVOI_FIELD_MESSAGE_INFO,
  ENVOI_FIELD_MESSAGE_WARNING,
  ENVOI_FIELD_MESSAGE_ERROR,   /* the row is wrong: error style and the accessible invalid state */
} EnvoiFieldMessageKind;

void      _envoi_field_message_attach   (GtkWidget             *row);
void      _envoi_field_message_set      (GtkWidget             *row,
                                         EnvoiFieldMessageKind  kind,
                                         const char            *text);
void      _envoi_field_message_set_markup (GtkWidget           *row,
                                         EnvoiFieldMessageKind  kind,
                                         const char            *markup);
gboolean  _envoi_field_message_is_error (GtkWidget             *row);
void      _envoi_label_like_row         (GtkWidget             *widget,
                                         GtkWidget             *row);
char     *_envoi_dup_stripped_text      (gpointer               editable);

G_END_DECLS

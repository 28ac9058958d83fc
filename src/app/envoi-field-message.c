/* envoi-field-message.c: the reason under a form row, shared by the account dialog's groups
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Like the dialog's own fields: a caption row right under the row it explains, in the same
 * boxed list; an error also marks the row with the `error` style class, the accessible
 * invalid state and the reason as its accessible description.
 */

#define G_LOG_DOMAIN "envoi-field-message"

#include "config.h"

#include "envoi-field-message.h"

#define MESSAGE_ROW_KEY "envoi-field-message-row"

/* Call once the row is in its group's list. */
void
_envoi_field_message_attach (GtkWidget *row)
{
  GtkWidget *list = gtk_widget_get_parent (row);
  GtkWidget *message_row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (NULL);

  g_return_if_fail (GTK_IS_LIST_BOX_ROW (row));
  g_return_if_fail (GTK_IS_LIST_BOX (list));

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "field-message");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (message_row), label);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (message_row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (message_row), FALSE);
  gtk_widget_set_visible (message_row, FALSE);
  gtk_list_box_insert (GTK_LIST_BOX (list), message_row,
                       gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)) + 1);

  g_object_set_data (G_OBJECT (row), MESSAGE_ROW_KEY, message_row);
}

/* @markup: (nullable): Pango markup (a link, say), or %NULL for no message. A hidden row
 * shows none. */
void
_envoi_field_message_set_markup (GtkWidget             *row,
                                 EnvoiFieldMessageKind  kind,
                                 const char            *markup)
{
  GtkWidget *message_row = g_object_get_data (G_OBJECT (row), MESSAGE_ROW_KEY);
  GtkWidget *label;
  gboolean invalid;

  g_return_if_fail (GTK_IS_LIST_BOX_ROW (message_row));

  if (!gtk_widget_get_visible (row))
    markup = NULL;
  invalid = kind == ENVOI_FIELD_MESSAGE_ERROR && markup != NULL;
  label = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (message_row));

  gtk_widget_set_visible (message_row, markup != NULL);
  gtk_label_set_markup (GTK_LABEL (label), markup != NULL ? markup : "");
  gtk_widget_remove_css_class (label, "error");
  gtk_widget_remove_css_class (label, "warning");
  gtk_widget_remove_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, kind == ENVOI_FIELD_MESSAGE_ERROR ? "error" :
                                   kind == ENVOI_FIELD_MESSAGE_WARNING ? "warning" : "dim-label");

  if (invalid)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
  gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID,
                               invalid ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE,
                               -1);
  if (markup != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    gtk_label_get_text (GTK_LABEL (label)), -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

/* @text: (nullable): plain text, or %NULL for no message. */
void
_envoi_field_message_set (GtkWidget             *row,
                          EnvoiFieldMessageKind  kind,
                          const char            *text)
{
  g_autofree char *markup = text != NULL ? g_markup_escape_text (text, -1) : NULL;

  _envoi_field_message_set_markup (row, kind, markup);
}

gboolean
_envoi_field_message_is_error (GtkWidget *row)
{
  return gtk_widget_has_css_class (row, "error");
}

/* The accessible name of a switch, spin button or entry is its row's visible title. */
void
_envoi_label_like_row (GtkWidget *widget,
                       GtkWidget *row)
{
  g_autofree char *label = NULL;
  const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));

  if (!pango_parse_markup (title, -1, '_', NULL, &label, NULL, NULL))
    label = g_strdup (title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  label, -1);
}

char *
_envoi_dup_stripped_text (gpointer editable)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (editable))));
}

/* envoi-delivery-group.c: what goes with every message of an account — an archive Bcc, who
 * hears of failures — and how many may leave per hour and per day
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Delivery page of the account dialog, like EnvoiTransportGroup: it shows the account's
 * values, writes the form's into the account the dialog builds, and checks its own rows. A row
 * says what is wrong once it has been edited, or after envoi_delivery_group_reveal_errors().
 */

#define G_LOG_DOMAIN "envoi-delivery-group"

#include "config.h"

#include "envoi-delivery-group.h"
#include "envoi-field-message.h"
#include "envoi-validate.h"

typedef enum
{
  ROW_BCC,
  ROW_NOTIFY,
  ROW_LIMITS,
  N_ROWS
} Row;

struct _EnvoiDeliveryGroup
{
  AdwPreferencesGroup  parent_instance;

  gboolean             loading;
  gboolean             show_all_errors;
  gboolean             touched[N_ROWS];

  AdwEntryRow         *bcc_row;
  AdwEntryRow         *notify_row;
  AdwActionRow        *hourly_row;
  GtkSpinButton       *hourly_spin;
  AdwActionRow        *daily_row;
  GtkSpinButton       *daily_spin;
};

G_DEFINE_FINAL_TYPE (EnvoiDeliveryGroup, envoi_delivery_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  SIGNAL_CHANGED,
  SIGNAL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The row under which each check speaks: the limits' under the daily one. */
static GtkWidget *
row_widget (EnvoiDeliveryGroup *self,
            Row                 row)
{
  switch (row)
    {
    case ROW_BCC:    return GTK_WIDGET (self->bcc_row);
    case ROW_NOTIFY: return GTK_WIDGET (self->notify_row);
    case ROW_LIMITS: return GTK_WIDGET (self->daily_row);
    case N_ROWS:
    default:         g_assert_not_reached ();
    }
}

static void
touch (EnvoiDeliveryGroup *self,
       Row                 row)
{
  if (self->loading)
    return;

  self->touched[row] = TRUE;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
bcc_changed_cb (EnvoiDeliveryGroup *self)
{
  touch (self, ROW_BCC);
}

static void
notify_changed_cb (EnvoiDeliveryGroup *self)
{
  touch (self, ROW_NOTIFY);
}

static void
limits_changed_cb (EnvoiDeliveryGroup *self)
{
  touch (self, ROW_LIMITS);
}

/* Enter in a row: the dialog saves, or says what still stands in the way. */
static void
entry_activated_cb (EnvoiDeliveryGroup *self)
{
  g_signal_emit (self, signals[SIGNAL_ACTIVATED], 0);
}

static void
reset_limits_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EnvoiDeliveryGroup *self = ENVOI_DELIVERY_GROUP (widget);

  gtk_spin_button_set_value (self->hourly_spin, ENVOI_ACCOUNT_DEFAULT_HOURLY_LIMIT);
  gtk_spin_button_set_value (self->daily_spin, ENVOI_ACCOUNT_DEFAULT_DAILY_LIMIT);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_delivery_group_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), ENVOI_TYPE_DELIVERY_GROUP);

  G_OBJECT_CLASS (envoi_delivery_group_parent_class)->dispose (object);
}

static void
envoi_delivery_group_class_init (EnvoiDeliveryGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_delivery_group_dispose;

  /**
   * EnvoiDeliveryGroup::changed:
   *
   * A row was edited: the form should be checked again.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * EnvoiDeliveryGroup::activated:
   *
   * Enter was pressed in one of the rows.
   */
  signals[SIGNAL_ACTIVATED] =
    g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-delivery-group.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, bcc_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, notify_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, hourly_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, hourly_spin);
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, daily_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiDeliveryGroup, daily_spin);

  gtk_widget_class_install_action (widget_class, "delivery.reset-limits", NULL,
                                   reset_limits_action);
}

static void
envoi_delivery_group_init (EnvoiDeliveryGroup *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  for (Row row = 0; row < N_ROWS; row++)
    _envoi_field_message_attach (row_widget (self, row));

  _envoi_label_like_row (GTK_WIDGET (self->hourly_spin), GTK_WIDGET (self->hourly_row));
  _envoi_label_like_row (GTK_WIDGET (self->daily_spin), GTK_WIDGET (self->daily_row));

  g_signal_connect_object (self->bcc_row, "changed", G_CALLBACK (bcc_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->notify_row, "changed", G_CALLBACK (notify_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->hourly_spin, "value-changed", G_CALLBACK (limits_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->daily_spin, "value-changed", G_CALLBACK (limits_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->bcc_row, "entry-activated", G_CALLBACK (entry_activated_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->notify_row, "entry-activated", G_CALLBACK (entry_activated_cb),
                           self, G_CONNECT_SWAPPED);
}

/* ---- public ------------------------------------------------------------------------------- */

/* Shows @account's values, as they are saved: nothing has been edited yet. */
void
envoi_delivery_group_load (EnvoiDeliveryGroup *self,
                           EnvoiAccount       *account)
{
  g_autofree char *notify = NULL;

  g_return_if_fail (ENVOI_IS_DELIVERY_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  notify = g_strjoinv (", ", (char **) envoi_account_get_notify_addresses (account));

  self->loading = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), envoi_account_get_bcc (account));
  gtk_editable_set_text (GTK_EDITABLE (self->notify_row), notify);
  gtk_spin_button_set_value (self->hourly_spin, envoi_account_get_hourly_limit (account));
  gtk_spin_button_set_value (self->daily_spin, envoi_account_get_daily_limit (account));
  self->loading = FALSE;
}

/* Writes the form's values into @account; a notification list that does not parse leaves the
 * account's as it was (the form is invalid then, and cannot be saved). */
void
envoi_delivery_group_apply (EnvoiDeliveryGroup *self,
                            EnvoiAccount       *account)
{
  g_autofree char *bcc = NULL;
  g_auto(GStrv) notify = NULL;

  g_return_if_fail (ENVOI_IS_DELIVERY_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  bcc = _envoi_dup_stripped_text (self->bcc_row);
  notify = envoi_validate_address_list (gtk_editable_get_text (GTK_EDITABLE (self->notify_row)),
                                        NULL);
  g_object_set (account,
                "bcc", bcc,
                "hourly-limit", (guint) gtk_spin_button_get_value_as_int (self->hourly_spin),
                "daily-limit", (guint) gtk_spin_button_get_value_as_int (self->daily_spin),
                NULL);
  if (notify != NULL)
    g_object_set (account, "notify-addresses", notify, NULL);
}

/* Checks every row and says why beside the wrong ones; a row the person has not reached yet
 * only keeps Save off, until envoi_delivery_group_reveal_errors(). */
gboolean
envoi_delivery_group_validate (EnvoiDeliveryGroup *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bcc = NULL;
  g_autofree char *checked = NULL;
  g_auto(GStrv) list = NULL;
  gboolean valid = TRUE;

  g_return_val_if_fail (ENVOI_IS_DELIVERY_GROUP (self), FALSE);

#define CHECK(row, ok) \
  G_STMT_START { \
    gboolean row_ok = (ok); \
    valid &= row_ok; \
    _envoi_field_message_set (row_widget (self, row), ENVOI_FIELD_MESSAGE_ERROR, \
                              !row_ok && (self->show_all_errors || self->touched[row]) \
                                ? error->message : NULL); \
    g_clear_error (&error); \
  } G_STMT_END

  bcc = _envoi_dup_stripped_text (self->bcc_row);
  if (*bcc != '\0')
    checked = envoi_validate_address (bcc, &error);
  CHECK (ROW_BCC, *bcc == '\0' || checked != NULL);

  list = envoi_validate_address_list (gtk_editable_get_text (GTK_EDITABLE (self->notify_row)),
                                      &error);
  CHECK (ROW_NOTIFY, list != NULL);

  CHECK (ROW_LIMITS, envoi_validate_limits (gtk_spin_button_get_value_as_int (self->hourly_spin),
                                            gtk_spin_button_get_value_as_int (self->daily_spin),
                                            &error));
#undef CHECK

  return valid;
}

void
envoi_delivery_group_reveal_errors (EnvoiDeliveryGroup *self)
{
  g_return_if_fail (ENVOI_IS_DELIVERY_GROUP (self));

  self->show_all_errors = TRUE;
}

/* Moves the focus to the first row that says it is wrong; FALSE when none does. */
gboolean
envoi_delivery_group_focus_invalid (EnvoiDeliveryGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY_GROUP (self), FALSE);

  for (Row row = 0; row < N_ROWS; row++)
    if (_envoi_field_message_is_error (row_widget (self, row)))
      return gtk_widget_grab_focus (row_widget (self, row));

  return FALSE;
}

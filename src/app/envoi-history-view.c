/* envoi-history-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-history-view"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-history-record.h"
#include "envoi-history-view.h"
#include "envoi-queue.h"

/* New records come in bursts: read the history again once per burst. */
#define REFRESH_DELAY_MS 200
/* The newest records shown; a search reaches the older ones. */
#define PAGE_SIZE 200

struct _EnvoiHistoryView
{
  GtkWidget         parent_instance;

  EnvoiDBusSender1 *sender;
  GCancellable     *cancellable;   /* the query under way */
  GPtrArray        *records;       /* EnvoiHistoryRecord, the last answer */
  GHashTable       *expanded;      /* record ids (as strings) the person opened */
  guint             refresh_id;
  gboolean          loading;
  gboolean          expand_first;

  GtkSearchEntry   *search_entry;
  GtkStack         *stack;
  GtkListBox       *list;
  AdwStatusPage    *error_page;
};

G_DEFINE_FINAL_TYPE (EnvoiHistoryView, envoi_history_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (EnvoiHistoryView *self);

static void
set_loading (EnvoiHistoryView *self,
             gboolean          loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
toast (EnvoiHistoryView *self,
       const char       *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *escaped = g_markup_escape_text (text, -1);  /* a toast's title is markup */

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
}

char *
envoi_history_view_format_age (gint64 time,
                               gint64 now)
{
  gint64 age = MAX (now - time, 0);
  g_autoptr(GDateTime) when = NULL;

  if (age < 60)
    return g_strdup (_("Just now"));
  if (age < 3600)
    return g_strdup_printf (ngettext ("%u minute ago", "%u minutes ago", (gulong) (age / 60)),
                            (guint) (age / 60));
  if (age < 24 * 3600)
    return g_strdup_printf (ngettext ("%u hour ago", "%u hours ago", (gulong) (age / 3600)),
                            (guint) (age / 3600));
  if (age < 7 * 24 * 3600)
    return g_strdup_printf (ngettext ("%u day ago", "%u days ago", (gulong) (age / 86400)),
                            (guint) (age / 86400));

  when = g_date_time_new_from_unix_local (time);
  return g_date_time_format (when, "%x");
}

static const char *
outcome_label (const char *outcome)
{
  if (g_str_equal (outcome, ENVOI_HISTORY_SENT))
    return _("Sent");
  if (g_str_equal (outcome, ENVOI_HISTORY_EXPIRED))
    return _("Not delivered: given up after retrying");
  if (g_str_equal (outcome, ENVOI_HISTORY_CANCELLED))
    return _("Cancelled");
  return _("Not delivered");
}

static gboolean
is_failure (const EnvoiHistoryRecord *record)
{
  return g_str_equal (record->outcome, ENVOI_HISTORY_FAILED) ||
         g_str_equal (record->outcome, ENVOI_HISTORY_EXPIRED);
}

static GtkWidget *
detail_row (const char *title,
            const char *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value != NULL && *value != '\0' ? value : "—");
  gtk_widget_add_css_class (row, "property");

  return row;
}

static void
copy_clicked_cb (GtkButton        *button,
                 EnvoiHistoryView *self)
{
  const char *message_id = g_object_get_data (G_OBJECT (button), "message-id");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), message_id);
  toast (self, _("Message-ID copied"));
}

static GtkWidget *
create_row (EnvoiHistoryView         *self,
            const EnvoiHistoryRecord *record,
            GHashTable               *stored,
            gint64                    now)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (record->time);
  g_autofree char *stamp = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");
  g_autofree char *age = envoi_history_view_format_age (record->time, now);
  g_autofree char *to = g_strjoinv (", ", record->recipients);
  g_autofree char *subtitle = NULL;
  g_autofree char *status = NULL;
  g_autofree char *size = g_format_size (record->size);
  g_autofree char *account = NULL;
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, record->id);
  const char *icon_name;
  const char *style;
  GtkWidget *row;
  GtkWidget *icon;
  GtkWidget *detail;
  GtkWidget *button;

  row = adw_expander_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 *record->subject != '\0' ? record->subject : _("(No subject)"));
  /* Translators: a delivery history row: recipients, then when, e.g. "To bob@example.org · 5 minutes ago" */
  subtitle = g_strdup_printf (_("To %s · %s"), to, age);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle);

  if (g_str_equal (record->outcome, ENVOI_HISTORY_SENT))
    {
      icon_name = "emblem-ok-symbolic";
      style = "success";
    }
  else if (g_str_equal (record->outcome, ENVOI_HISTORY_CANCELLED))
    {
      icon_name = "action-unavailable-symbolic";
      style = "dim-label";
    }
  else
    {
      icon_name = "dialog-error-symbolic";
      style = "error";
    }
  icon = gtk_image_new_from_icon_name (icon_name);
  gtk_widget_add_css_class (icon, style);
  gtk_widget_set_tooltip_text (icon, outcome_label (record->outcome));
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  outcome_label (record->outcome), -1);
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);

  /* Translators: the outcome and the full date, e.g. "Sent · Mon 7 Dec 2026 17:08:18" */
  status = g_strdup_printf (_("%s · %s"), outcome_label (record->outcome), stamp);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail_row (_("Status"), status));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            detail_row (g_str_equal (record->outcome, ENVOI_HISTORY_SENT)
                                        ? _("Server’s Reply") : _("Reason"),
                                        record->reply));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail_row (_("From"), record->from));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail_row (_("To"), to));

  detail = detail_row (_("Message-ID"), record->message_id);
  if (*record->message_id != '\0')
    {
      button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Copy Message-ID"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Copy Message-ID"), -1);
      g_object_set_data_full (G_OBJECT (button), "message-id", g_strdup (record->message_id), g_free);
      g_signal_connect_object (button, "clicked", G_CALLBACK (copy_clicked_cb), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (detail), button);
    }
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail);

  /* Translators: account, size and attempts, e.g. "work · 2.1 kB · 1 attempt" */
  account = g_strdup_printf (ngettext ("%s · %s · %u attempt", "%s · %s · %u attempts", record->attempts),
                             record->account_id, size, record->attempts);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail_row (_("Account"), account));

  if (is_failure (record))
    {
      if (stored != NULL && g_hash_table_contains (stored, record->queue_id))
        {
          detail = detail_row (_("Still in the Queue"), _("It can be sent again as it is."));
          button = gtk_button_new_with_mnemonic (_("_Send Again"));
          gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "history.send-again");
          gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", record->queue_id);
          adw_action_row_add_suffix (ADW_ACTION_ROW (detail), button);
        }
      else
        detail = detail_row (_("Cannot Be Sent Again"),
                             _("The message was removed from the queue, so it is no longer stored."));
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), detail);
    }

  g_object_set_data_full (G_OBJECT (row), "record-id", g_steal_pointer (&key), g_free);
  if (g_hash_table_contains (self->expanded, g_object_get_data (G_OBJECT (row), "record-id")))
    adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);

  return row;
}

static void
expanded_cb (GObject          *row,
             GParamSpec       *pspec,
             EnvoiHistoryView *self)
{
  const char *key = g_object_get_data (row, "record-id");

  if (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (row)))
    g_hash_table_add (self->expanded, g_strdup (key));
  else
    g_hash_table_remove (self->expanded, key);
}

static void
show (EnvoiHistoryView *self,
      GHashTable       *stored)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *search = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);

  for (guint i = 0; i < self->records->len; i++)
    {
      GtkWidget *row = create_row (self, self->records->pdata[i], stored, now);

      if (i == 0 && self->expand_first)
        {
          adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
          self->expand_first = FALSE;
        }
      g_signal_connect_object (row, "notify::expanded", G_CALLBACK (expanded_cb), self, 0);
      gtk_list_box_append (self->list, row);
    }

  if (self->records->len > 0)
    gtk_stack_set_visible_child_name (self->stack, "list");
  else
    gtk_stack_set_visible_child_name (self->stack, *search != '\0' ? "no-results" : "empty");

  set_loading (self, FALSE);
}

/* Which failed messages are still in the queue (they can be sent again). */
static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiHistoryView) self = user_data;
  g_autoptr(GHashTable) stored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *id;

  if (!envoi_dbus_sender1_call_list_finish (ENVOI_DBUS_SENDER1 (source), &messages, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_debug ("Could not list the queue: %s", error->message);
    }
  else
    {
      g_variant_iter_init (&iter, messages);
      while (g_variant_iter_next (&iter, "(&s&s&suxx&s^a&s&s)", &id, NULL, NULL, NULL, NULL, NULL,
                                  NULL, NULL, NULL))
        g_hash_table_add (stored, g_strdup (id));
    }

  show (self, stored);
}

static void
history_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(EnvoiHistoryView) self = user_data;
  g_autoptr(GVariant) records = NULL;
  g_autoptr(GError) error = NULL;
  gboolean any_failure = FALSE;
  GVariantIter iter;
  GVariant *child;

  if (!envoi_dbus_sender1_call_history_finish (ENVOI_DBUS_SENDER1 (source), &records, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_ptr_array_set_size (self->records, 0);
      show (self, NULL);
      /* Said where the history would be, not in a toast: the view may not even be shown. */
      if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
        adw_status_page_set_description (self->error_page,
                                         _("The background sender is not installed: other programs cannot "
                                           "send mail through Envoi until it is."));
      else
        {
          g_autofree char *message = NULL;

          g_dbus_error_strip_remote_error (error);
          /* Translators: %s says why the background sender could not be reached */
          message = g_strdup_printf (_("The background sender cannot be reached: %s"), error->message);
          adw_status_page_set_description (self->error_page, message);
        }
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }

  g_ptr_array_set_size (self->records, 0);
  g_variant_iter_init (&iter, records);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      EnvoiHistoryRecord *record = envoi_history_record_from_variant (child);

      any_failure |= is_failure (record);
      g_ptr_array_add (self->records, record);
      g_variant_unref (child);
    }

  /* The queue is listed only when a row may offer to send again. */
  if (any_failure)
    envoi_dbus_sender1_call_list (self->sender, self->cancellable, list_cb, g_object_ref (self));
  else
    show (self, NULL);
}

static void
refresh (EnvoiHistoryView *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->sender == NULL)
    return;

  /* A newer query replaces an older one: its answer would be stale. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  set_loading (self, TRUE);
  envoi_dbus_sender1_call_history (self->sender, 0, PAGE_SIZE,
                                   gtk_editable_get_text (GTK_EDITABLE (self->search_entry)),
                                   self->cancellable, history_cb, g_object_ref (self));
}

static gboolean
refresh_cb (gpointer user_data)
{
  EnvoiHistoryView *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (EnvoiHistoryView *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_cb, self);
}

static void
search_changed_cb (EnvoiHistoryView *self)
{
  refresh (self);
}

static void
send_again_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EnvoiHistoryView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (envoi_dbus_sender1_call_retry_finish (ENVOI_DBUS_SENDER1 (source), result, &error))
    toast (self, _("The message is queued again"));
  else if (g_error_matches (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_NOT_FOUND))
    toast (self, _("The message was removed from the queue, so it is no longer stored."));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_dbus_error_strip_remote_error (error);
      toast (self, error->message);
    }

  schedule_refresh (self);
}

static void
send_again_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  EnvoiHistoryView *self = ENVOI_HISTORY_VIEW (widget);

  if (self->sender == NULL)
    return;

  envoi_dbus_sender1_call_retry (self->sender, g_variant_get_string (parameter, NULL), NULL,
                                 send_again_cb, g_object_ref (self));
}

/* Shown again: the ages ("5 minutes ago") have moved on, and the queue may have changed. */
static void
envoi_history_view_map (GtkWidget *widget)
{
  EnvoiHistoryView *self = ENVOI_HISTORY_VIEW (widget);

  GTK_WIDGET_CLASS (envoi_history_view_parent_class)->map (widget);

  if (self->sender != NULL)
    schedule_refresh (self);
}

static void
envoi_history_view_dispose (GObject *object)
{
  EnvoiHistoryView *self = ENVOI_HISTORY_VIEW (object);
  GtkWidget *child;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_HISTORY_VIEW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->sender);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->records, g_ptr_array_unref);
  g_clear_pointer (&self->expanded, g_hash_table_unref);

  G_OBJECT_CLASS (envoi_history_view_parent_class)->dispose (object);
}

static void
envoi_history_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  EnvoiHistoryView *self = ENVOI_HISTORY_VIEW (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_history_view_class_init (EnvoiHistoryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_history_view_dispose;
  object_class->get_property = envoi_history_view_get_property;

  widget_class->map = envoi_history_view_map;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-history-view.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiHistoryView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, EnvoiHistoryView, stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiHistoryView, list);
  gtk_widget_class_bind_template_child (widget_class, EnvoiHistoryView, error_page);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);

  gtk_widget_class_install_action (widget_class, "history.send-again", "s", send_again_action);
}

static void
envoi_history_view_init (EnvoiHistoryView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->records = g_ptr_array_new_with_free_func ((GDestroyNotify) envoi_history_record_free);
  self->expanded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
}

void
envoi_history_view_set_sender (EnvoiHistoryView *self,
                               EnvoiDBusSender1 *sender)
{
  g_return_if_fail (ENVOI_IS_HISTORY_VIEW (self));
  g_return_if_fail (sender == NULL || ENVOI_DBUS_IS_SENDER1 (sender));

  if (!g_set_object (&self->sender, sender))
    return;

  if (sender != NULL)
    {
      g_signal_connect_object (sender, "history-added", G_CALLBACK (schedule_refresh), self,
                               G_CONNECT_SWAPPED);
      refresh (self);
    }
}

void
envoi_history_view_set_search (EnvoiHistoryView *self,
                               const char       *text)
{
  g_return_if_fail (ENVOI_IS_HISTORY_VIEW (self));

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  refresh (self);
}

void
envoi_history_view_expand_first (EnvoiHistoryView *self)
{
  g_return_if_fail (ENVOI_IS_HISTORY_VIEW (self));

  self->expand_first = TRUE;
  refresh (self);
}

gboolean
envoi_history_view_get_loading (EnvoiHistoryView *self)
{
  g_return_val_if_fail (ENVOI_IS_HISTORY_VIEW (self), FALSE);

  return self->loading;
}

/* envoi-window.c: the list of accounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-window"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-account-dialog.h"
#include "envoi-background.h"
#include "envoi-history-view.h"
#include "envoi-msmtp-transfer.h"
#include "envoi-quick-setup-window.h"
#include "envoi-secret.h"
#include "envoi-sender-dbus.h"
#include "envoi-startup.h"
#include "envoi-window.h"

/* Queue changes come in bursts (a script sending fifty messages): redraw once per burst. */
#define QUEUE_REFRESH_DELAY_MS 200

typedef struct
{
  guint sent_last_hour;
  guint sent_last_day;
} Usage;

struct _EnvoiWindow
{
  AdwApplicationWindow  parent_instance;

  EnvoiAccountStore    *store;
  GCancellable         *cancellable;
  EnvoiDBusSender1     *sender;
  GHashTable           *usage;           /* account id → Usage */
  guint                 queue_refresh_source;
  guint                 sender_watch;
  gboolean              build_sender_started;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  AdwStatusPage        *empty_page;
  GtkListBox           *account_list;
  AdwPreferencesGroup  *queue_group;
  GtkListBox           *queue_list;
  AdwViewStack         *view_stack;
  AdwBin               *history_bin;
  EnvoiHistoryView     *history_view;    /* made when first shown (ensure_history_view()) */
};

G_DEFINE_FINAL_TYPE (EnvoiWindow, envoi_window, ADW_TYPE_APPLICATION_WINDOW)

static const char *
security_label (EnvoiSecurity security)
{
  switch (security)
    {
    case ENVOI_SECURITY_TLS:
      return _("SSL/TLS");
    case ENVOI_SECURITY_NONE:
      return _("No encryption");
    case ENVOI_SECURITY_STARTTLS:
    default:
      return _("STARTTLS");
    }
}

static void
update_row (GtkWidget *row)
{
  EnvoiAccount *account = g_object_get_data (G_OBJECT (row), "account");
  EnvoiWindow *self = g_object_get_data (G_OBJECT (row), "window");
  GtkWidget *tag = g_object_get_data (G_OBJECT (row), "default-tag");
  const char *address = envoi_account_get_address (account);
  const char *name = envoi_account_get_display_name (account);
  const char *host = envoi_account_get_host (account);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  Usage *usage;
  gboolean is_default;

  if (*name != '\0' && *address != '\0')
    /* Translators: an account in the list: display name, then address */
    title = g_strdup_printf (_("%s <%s>"), name, address);
  else
    title = g_strdup (*address != '\0' ? address : envoi_account_get_id (account));

  if (*host != '\0')
    /* Translators: server, port and encryption of an account, e.g. "smtp.example.com:587 · STARTTLS" */
    subtitle = g_strdup_printf (_("%s:%u · %s"), host, envoi_account_get_port (account),
                                security_label (envoi_account_get_security (account)));
  else
    subtitle = g_strdup (_("No server set"));

  usage = g_hash_table_lookup (self->usage, envoi_account_get_id (account));
  if (usage != NULL)
    {
      g_autofree char *line = NULL;
      char *both;

      /* Translators: sending counts against the limits, e.g. "Sent 3 of 50 this hour, 10 of 500 today" */
      line = g_strdup_printf (_("Sent %u of %u this hour, %u of %u today"),
                              usage->sent_last_hour, envoi_account_get_hourly_limit (account),
                              usage->sent_last_day, envoi_account_get_daily_limit (account));
      both = g_strdup_printf ("%s\n%s", subtitle, line);
      g_free (subtitle);
      subtitle = both;
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  is_default = g_strcmp0 (envoi_account_store_get_default_id (self->store),
                          envoi_account_get_id (account)) == 0;
  gtk_widget_set_visible (tag, is_default);
}

static void
update_rows (EnvoiWindow *self)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->account_list));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_object_get_data (G_OBJECT (row), "account") != NULL)
      update_row (row);
}

static GtkWidget *
create_account_row (gpointer item,
                    gpointer user_data)
{
  EnvoiWindow *self = ENVOI_WINDOW (user_data);
  EnvoiAccount *account = ENVOI_ACCOUNT (item);
  const char *id = envoi_account_get_id (account);
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenuItem) set_default = NULL;
  g_autoptr(GMenuItem) export = NULL;
  g_autoptr(GMenuItem) remove = NULL;
  GtkWidget *row;
  GtkWidget *tag;
  GtkWidget *menu_button;

  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "window.edit-account");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", id);

  tag = gtk_label_new (_("Default"));
  gtk_widget_set_valign (tag, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (tag, "default-tag");
  gtk_widget_add_css_class (tag, "caption");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), tag);

  set_default = g_menu_item_new (_("Use as _Default"), NULL);
  g_menu_item_set_action_and_target (set_default, "window.set-default-account", "s", id);
  g_menu_append_item (menu, set_default);
  export = g_menu_item_new (_("_Export for msmtp…"), NULL);
  g_menu_item_set_action_and_target (export, "window.export-msmtp", "s", id);
  g_menu_append_item (menu, export);
  remove = g_menu_item_new (_("_Remove…"), NULL);
  g_menu_item_set_action_and_target (remove, "window.remove-account", "s", id);
  g_menu_append_item (menu, remove);

  menu_button = g_object_new (GTK_TYPE_MENU_BUTTON,
                              "icon-name", "view-more-symbolic",
                              "menu-model", menu,
                              "valign", GTK_ALIGN_CENTER,
                              "tooltip-text", _("More Actions"),
                              NULL);
  gtk_widget_add_css_class (menu_button, "flat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("More Actions"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), menu_button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));

  g_object_set_data_full (G_OBJECT (row), "account", g_object_ref (account), g_object_unref);
  g_object_set_data (G_OBJECT (row), "window", self);
  g_object_set_data (G_OBJECT (row), "default-tag", tag);

  g_signal_connect_object (account, "notify", G_CALLBACK (update_row), row, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->store, "notify::default-id", G_CALLBACK (update_row), row,
                           G_CONNECT_SWAPPED);
  update_row (row);

  return row;
}

static void
update_page (EnvoiWindow *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->store)) == 0;

  /* The large icon is an SVG: loading it (and librsvg with it) costs the start-up of a window
   * that has accounts, which never shows this page, several milliseconds; a GtkStack sizes its
   * hidden pages too, which loads their icons. So it is set when the page is shown. */
  if (empty)
    adw_status_page_set_icon_name (self->empty_page, "io.github.envoimail.Envoi-symbolic");
  gtk_stack_set_visible_child_name (self->stack, empty ? "empty" : "accounts");
}

static void
open_dialog (EnvoiWindow  *self,
             EnvoiAccount *account)
{
  EnvoiAccountDialog *dialog = envoi_account_dialog_new (GTK_WINDOW (self), self->store, account);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  EnvoiQuickSetupWindow *setup = envoi_quick_setup_window_new (GTK_WINDOW (self), self->store);

  /* Address and password first; the full dialog is one "Set Up Manually" away. */
  gtk_window_present (GTK_WINDOW (setup));
}

static void
edit_account_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  EnvoiAccount *account = envoi_account_store_lookup (self->store,
                                                      g_variant_get_string (parameter, NULL));

  if (account != NULL)
    open_dialog (self, account);
}

static void
import_msmtp_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);

  envoi_msmtp_transfer_import (GTK_WINDOW (self), self->store, self->cancellable);
}

static void
export_msmtp_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  EnvoiAccount *account = envoi_account_store_lookup (self->store,
                                                      g_variant_get_string (parameter, NULL));

  if (account != NULL)
    envoi_msmtp_transfer_export (GTK_WINDOW (self), account, self->cancellable);
}

static void
set_default_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  const char *id = g_variant_get_string (parameter, NULL);

  if (envoi_account_store_lookup (self->store, id) != NULL)
    envoi_account_store_set_default (self->store, id);
}

static void
clear_secrets_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(EnvoiWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *escaped = NULL;
  AdwToast *toast;

  if (envoi_secret_clear_finish (result, &error))
    {
      g_debug ("Cleared the keyring items of a removed account");
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Account removed")));
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Translators: %s says why the keyring refused */
  message = g_strdup_printf (_("Account removed, but its password stays in the keyring: %s"),
                             error->message);
  escaped = g_markup_escape_text (message, -1);  /* a toast's title is markup */
  toast = adw_toast_new (escaped);
  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    EnvoiWindow      *self)
{
  const char *id = g_object_get_data (G_OBJECT (dialog), "account-id");

  if (g_strcmp0 (response, "remove") != 0)
    return;

  envoi_account_store_remove (self->store, id);
  envoi_secret_clear_async (id, -1, self->cancellable, clear_secrets_cb, g_object_ref (self));
}

static void
remove_account_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  const char *id = g_variant_get_string (parameter, NULL);
  EnvoiAccount *account = envoi_account_store_lookup (self->store, id);
  GtkWidget *dialog;

  if (account == NULL)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Remove Account?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("Mail can no longer be sent through %s, and its password "
                                    "will be deleted from the keyring."),
                                  *envoi_account_get_address (account) != '\0'
                                    ? envoi_account_get_address (account) : id);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "account-id", g_strdup (id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The queue, as the background sender sees it */

static const char *
state_label (const char *state)
{
  if (g_str_equal (state, "queued"))
    return _("Waiting to be sent");
  if (g_str_equal (state, "sending"))
    return _("Sending…");
  if (g_str_equal (state, "deferred"))
    return _("Will try again");
  if (g_str_equal (state, "waiting-limit"))
    return _("Waiting for the sending limit");
  /* Why, and so until when, is said on the next line: a refused password, a locked keyring… */
  if (g_str_equal (state, "paused"))
    return _("Paused");
  if (g_str_equal (state, "failed"))
    return _("Not delivered");
  return state;
}

/* What the message is: its Subject and when it was queued, above its state. */
static char *
describe_queued (GVariant *details,
                 gint64    queued)
{
  g_autofree char *age = envoi_history_view_format_age (queued, g_get_real_time () / G_USEC_PER_SEC);
  const char *subject = NULL;

  if (details != NULL)
    g_variant_lookup (details, "subject", "&s", &subject);

  if (subject != NULL && *subject != '\0')
    /* Translators: a queued message: its subject, then how long ago it was queued, e.g.
     * "“Backup report” · queued 5 minutes ago" */
    return g_strdup_printf (_("“%s” · queued %s"), subject, age);

  /* Translators: %s says how long ago, e.g. "5 minutes ago" */
  return g_strdup_printf (_("Queued %s"), age);
}

static GtkWidget *
create_queue_row (const char          *id,
                  const char          *state,
                  gint64               next_attempt,
                  const char * const  *recipients,
                  const char          *last_error,
                  const char          *description)
{
  g_autofree char *to = g_strjoinv (", ", (char **) recipients);
  g_autoptr(GString) subtitle = g_string_new (state_label (state));
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *box;
  GtkWidget *button;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), to);

  if (g_str_equal (state, "deferred") && next_attempt > 0)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (next_attempt);
      g_autofree char *time = g_date_time_format (when, "%R");

      g_string_truncate (subtitle, 0);
      /* Translators: %s is a time of day */
      g_string_append_printf (subtitle, _("Will try again at %s"), time);
    }
  if (last_error != NULL && *last_error != '\0')
    g_string_append_printf (subtitle, "\n%s", last_error);
  if (description != NULL)
    g_string_prepend (g_string_prepend_c (subtitle, '\n'), description);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  if (g_str_equal (state, "deferred") || g_str_equal (state, "paused") ||
      g_str_equal (state, "failed"))
    {
      button = gtk_button_new_with_mnemonic (_("_Retry"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "window.retry-message");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", id);
      gtk_box_append (GTK_BOX (box), button);
    }
  button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "window.cancel-message");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", id);
  gtk_box_append (GTK_BOX (box), button);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);

  return row;
}

static void show_queue (EnvoiWindow *self,
                        GVariant    *messages,
                        GVariant    *details);

typedef struct
{
  EnvoiWindow *self;
  GVariant    *messages;
} DescribeRequest;

static void
describe_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  DescribeRequest *request = user_data;
  g_autoptr(GVariant) details = NULL;
  g_autoptr(GError) error = NULL;

  /* Without the details (an older sender), the rows say what List says. */
  if (!envoi_dbus_sender1_call_describe_finish (ENVOI_DBUS_SENDER1 (source), &details, result, &error))
    g_debug ("Could not describe the queued messages: %s", error->message);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_queue (request->self, request->messages, details);

  g_object_unref (request->self);
  g_variant_unref (request->messages);
  g_free (request);
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiWindow) self = user_data;
  g_autoptr(GVariant) messages = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_auto(GStrv) id_list = NULL;
  DescribeRequest *request;
  GVariantIter iter;
  const char *id;

  if (!envoi_dbus_sender1_call_list_finish (ENVOI_DBUS_SENDER1 (source), &messages, result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* From the build tree (`make run`) nothing is installed for the bus to activate: start
       * the build's own sender, and list again once it has its name (sender_appeared_cb). */
      if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) &&
          envoi_startup_get_build_sender () != NULL && !self->build_sender_started)
        {
          g_autoptr(GError) spawn_error = NULL;

          if (envoi_startup_spawn_build_sender (&spawn_error))
            {
              self->build_sender_started = TRUE;
              return;
            }
          g_warning ("Could not start the build tree’s sender: %s", spawn_error->message);
        }

      if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
        {
          message = g_strdup (_("The background sender is not installed: other programs cannot "
                                "send mail through Envoi until it is."));
        }
      else
        {
          g_dbus_error_strip_remote_error (error);
          /* Translators: %s says why the background sender could not be reached */
          message = g_strdup_printf (_("The background sender cannot be reached: %s"),
                                     error->message);
        }
      adw_preferences_group_set_description (self->queue_group, message);
      gtk_widget_set_visible (GTK_WIDGET (self->queue_list), FALSE);
      return;
    }

  /* The rows show what each message is: asked of the sender, which reads the messages. */
  g_variant_iter_init (&iter, messages);
  while (g_variant_iter_next (&iter, "(&s&s&suxx&s^a&s&s)", &id, NULL, NULL, NULL, NULL, NULL,
                              NULL, NULL, NULL))
    g_strv_builder_add (ids, id);
  id_list = g_strv_builder_end (ids);

  request = g_new0 (DescribeRequest, 1);
  request->self = g_object_ref (self);
  request->messages = g_variant_ref (messages);
  envoi_dbus_sender1_call_describe (self->sender, (const char * const *) id_list, self->cancellable,
                                    describe_cb, request);
}

static void
show_queue (EnvoiWindow *self,
            GVariant    *messages,
            GVariant    *details)
{
  GVariantIter iter;
  const char *id, *account, *state, *from, *last_error;
  g_autofree const char **recipients = NULL;
  guint attempts;
  gint64 next_attempt, queued;
  GtkWidget *child;
  guint count = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->queue_list))) != NULL)
    gtk_list_box_remove (self->queue_list, child);

  g_variant_iter_init (&iter, messages);
  while (g_variant_iter_next (&iter, "(&s&s&suxx&s^a&s&s)", &id, &account, &state, &attempts,
                              &next_attempt, &queued, &from, &recipients, &last_error))
    {
      g_autoptr(GVariant) message_details = details != NULL ?
        g_variant_lookup_value (details, id, G_VARIANT_TYPE_VARDICT) : NULL;
      g_autofree char *description = describe_queued (message_details, queued);

      gtk_list_box_append (self->queue_list,
                           create_queue_row (id, state, next_attempt,
                                             (const char * const *) recipients, last_error,
                                             description));
      g_clear_pointer (&recipients, g_free);
      count++;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->queue_list), count > 0);
  if (count == 0)
    adw_preferences_group_set_description (self->queue_group,
                                           _("Every message has been sent."));
  else
    adw_preferences_group_set_description (self->queue_group, NULL);
}

typedef struct
{
  EnvoiWindow *self;
  char        *account_id;
} UsageRequest;

static void
usage_request_free (UsageRequest *request)
{
  g_object_unref (request->self);
  g_free (request->account_id);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UsageRequest, usage_request_free)

static void
usage_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(UsageRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  guint hour = 0, day = 0, hourly = 0, daily = 0;
  gint64 next_allowed = 0;
  Usage *usage;

  if (!envoi_dbus_sender1_call_get_usage_finish (ENVOI_DBUS_SENDER1 (source), &hour, &day, &hourly,
                                                 &daily, &next_allowed, result, &error))
    return;

  usage = g_new0 (Usage, 1);
  usage->sent_last_hour = hour;
  usage->sent_last_day = day;
  g_hash_table_replace (request->self->usage, g_steal_pointer (&request->account_id), usage);
  update_rows (request->self);
}

static void
refresh_queue (EnvoiWindow *self)
{
  guint n;

  if (self->sender == NULL)
    return;

  envoi_dbus_sender1_call_list (self->sender, self->cancellable, list_cb, g_object_ref (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(EnvoiAccount) account = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      UsageRequest *request = g_new0 (UsageRequest, 1);

      request->self = g_object_ref (self);
      request->account_id = g_strdup (envoi_account_get_id (account));
      envoi_dbus_sender1_call_get_usage (self->sender, request->account_id, self->cancellable,
                                         usage_cb, request);
    }
}

static gboolean
refresh_queue_cb (gpointer user_data)
{
  EnvoiWindow *self = user_data;

  self->queue_refresh_source = 0;
  refresh_queue (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_queue_refresh (EnvoiWindow *self)
{
  if (self->queue_refresh_source == 0)
    self->queue_refresh_source = g_timeout_add (QUEUE_REFRESH_DELAY_MS, refresh_queue_cb, self);
}

static void
usage_changed_cb (EnvoiWindow *self,
                  const char  *account_id,
                  guint        sent_last_hour,
                  guint        sent_last_day)
{
  Usage *usage = g_new0 (Usage, 1);

  usage->sent_last_hour = sent_last_hour;
  usage->sent_last_day = sent_last_day;
  g_hash_table_replace (self->usage, g_strdup (account_id), usage);
  update_rows (self);
}

/* The sender (re)started, by activation or otherwise: what it holds may have changed. */
static void
sender_appeared_cb (GDBusConnection *connection,
                    const char      *name,
                    const char      *name_owner,
                    gpointer         user_data)
{
  EnvoiWindow *self = user_data;

  self->build_sender_started = FALSE;
  schedule_queue_refresh (self);
}

static void
proxy_ready_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(EnvoiWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  EnvoiDBusSender1 *sender;

  sender = envoi_dbus_sender1_proxy_new_for_bus_finish (result, &error);
  if (sender == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        adw_preferences_group_set_description (self->queue_group, error->message);
      return;
    }

  self->sender = sender;
  if (self->history_view != NULL)
    envoi_history_view_set_sender (self->history_view, sender);
  g_signal_connect_object (sender, "message-changed", G_CALLBACK (schedule_queue_refresh), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (sender, "usage-changed", G_CALLBACK (usage_changed_cb), self,
                           G_CONNECT_SWAPPED);
  refresh_queue (self);
}

static void
message_call_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EnvoiWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *escaped = NULL;

      g_dbus_error_strip_remote_error (error);
      escaped = g_markup_escape_text (error->message, -1);  /* a toast's title is markup */
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
    }

  schedule_queue_refresh (self);
}

static void
message_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  EnvoiWindow *self = ENVOI_WINDOW (widget);
  const char *method = g_str_equal (action_name, "window.retry-message") ? "Retry" : "Cancel";

  if (self->sender == NULL)
    return;

  g_dbus_proxy_call (G_DBUS_PROXY (self->sender), method,
                     g_variant_new ("(s)", g_variant_get_string (parameter, NULL)),
                     G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, message_call_cb,
                     g_object_ref (self));
}

/* The History view is made the first time it is shown, not with the window: the window opens
 * on its accounts, and the view's widgets, its status pages' large icons (SVG, drawn by
 * librsvg) and its first query of the sender's history cost the start-up about as much as
 * the accounts page itself, for a page most openings never show. */
static EnvoiHistoryView *
ensure_history_view (EnvoiWindow *self)
{
  if (self->history_view == NULL)
    {
      self->history_view = g_object_new (ENVOI_TYPE_HISTORY_VIEW, NULL);
      adw_bin_set_child (self->history_bin, GTK_WIDGET (self->history_view));
      if (self->sender != NULL)
        envoi_history_view_set_sender (self->history_view, self->sender);
    }

  return self->history_view;
}

static void
visible_page_cb (EnvoiWindow *self)
{
  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "history") == 0)
    ensure_history_view (self);
}

static void
envoi_window_dispose (GObject *object)
{
  EnvoiWindow *self = ENVOI_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->queue_refresh_source, g_source_remove);
  g_clear_handle_id (&self->sender_watch, g_bus_unwatch_name);
  g_clear_object (&self->sender);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_pointer (&self->usage, g_hash_table_unref);
  self->history_view = NULL;  /* the bin's child, not held */

  G_OBJECT_CLASS (envoi_window_parent_class)->dispose (object);
}

static void
envoi_window_class_init (EnvoiWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, account_list);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, queue_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, queue_list);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiWindow, history_bin);

  gtk_widget_class_install_action (widget_class, "window.add-account", NULL, add_account_action);
  gtk_widget_class_install_action (widget_class, "window.edit-account", "s", edit_account_action);
  gtk_widget_class_install_action (widget_class, "window.remove-account", "s",
                                   remove_account_action);
  gtk_widget_class_install_action (widget_class, "window.set-default-account", "s",
                                   set_default_action);
  gtk_widget_class_install_action (widget_class, "window.import-msmtp", NULL, import_msmtp_action);
  gtk_widget_class_install_action (widget_class, "window.export-msmtp", "s", export_msmtp_action);
  gtk_widget_class_install_action (widget_class, "window.retry-message", "s", message_action);
  gtk_widget_class_install_action (widget_class, "window.cancel-message", "s", message_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK,
                                       "window.add-account", NULL);
}

static void
envoi_window_init (EnvoiWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->view_stack, "notify::visible-child", G_CALLBACK (visible_page_cb),
                           self, G_CONNECT_SWAPPED);

  self->cancellable = g_cancellable_new ();
  self->usage = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* @store: the accounts the window shows and edits (the application's, handed down) */
EnvoiWindow *
envoi_window_new (GtkApplication    *application,
                  EnvoiAccountStore *store)
{
  EnvoiWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);

  self = g_object_new (ENVOI_TYPE_WINDOW, "application", application, NULL);
  self->store = g_object_ref (store);
  gtk_list_box_bind_model (self->account_list, G_LIST_MODEL (self->store),
                           create_account_row, self, NULL);
  g_signal_connect_object (self->store, "items-changed", G_CALLBACK (update_page), self,
                           G_CONNECT_SWAPPED);
  update_page (self);

  /* Inside Flatpak the sender must be allowed to run without a window. */
  envoi_background_request (GTK_WINDOW (self), self->cancellable);

  /* Asking the sender starts it if needed: it then resumes whatever was left queued. */
  envoi_dbus_sender1_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                                        G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                        SENDER_BUS_NAME, SENDER_OBJECT_PATH, self->cancellable,
                                        proxy_ready_cb, g_object_ref (self));
  self->sender_watch = g_bus_watch_name (G_BUS_TYPE_SESSION, SENDER_BUS_NAME,
                                         G_BUS_NAME_WATCHER_FLAGS_NONE, sender_appeared_cb,
                                         NULL, self, NULL);

  return self;
}

/* Shows the History view; returns it (for tests and screenshots). */
EnvoiHistoryView *
envoi_window_show_history (EnvoiWindow *self)
{
  g_return_val_if_fail (ENVOI_IS_WINDOW (self), NULL);

  adw_view_stack_set_visible_child_name (self->view_stack, "history");

  return ensure_history_view (self);
}

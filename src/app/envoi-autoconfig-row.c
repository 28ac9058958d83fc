/* envoi-autoconfig-row.c: “Find Settings” under the address: search, show, confirm
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-autoconfig-row"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-autoconfig-row.h"
#include "envoi-validate.h"

/* How long typing must pause before a complete address is looked up on its own. */
#define SEARCH_DELAY_MS 1000

struct _EnvoiAutoconfigRow
{
  AdwActionRow             parent_instance;

  EnvoiAutoconfig         *autoconfig;
  EnvoiAutoconfigResult   *result;
  EnvoiAutoconfigRowState  state;
  GCancellable            *cancellable;
  char                    *address;
  char                    *searched_address;   /* looked up on its own already */
  guint                    search_source;

  GtkStack                *stack;
  GtkSpinner              *spinner;
  GtkSpinner              *check_spinner;
};

G_DEFINE_FINAL_TYPE (EnvoiAutoconfigRow, envoi_autoconfig_row, ADW_TYPE_ACTION_ROW)

enum {
  SIGNAL_APPLY,
  SIGNAL_AUTH_CHOSEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_subtitle (EnvoiAutoconfigRow *self,
              const char         *markup)
{
  g_autofree char *plain = NULL;

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), markup);
  pango_parse_markup (markup, -1, 0, NULL, &plain, NULL, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  plain != NULL ? plain : "", -1);
}

static void
set_plain_subtitle (EnvoiAutoconfigRow *self,
                    const char         *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  set_subtitle (self, escaped);
}

static gboolean
address_is_complete (const char *address)
{
  g_autofree char *checked = address != NULL ? envoi_validate_address (address, NULL) : NULL;

  return checked != NULL;
}

static void
set_state (EnvoiAutoconfigRow      *self,
           EnvoiAutoconfigRowState  state)
{
  static const char * const pages[] = {
    [ENVOI_AUTOCONFIG_ROW_IDLE] = "find",
    [ENVOI_AUTOCONFIG_ROW_SEARCHING] = "searching",
    [ENVOI_AUTOCONFIG_ROW_FOUND] = "found",
    [ENVOI_AUTOCONFIG_ROW_FAILED] = "find",
    [ENVOI_AUTOCONFIG_ROW_CHECKING] = "checking",
    [ENVOI_AUTOCONFIG_ROW_APPLIED] = "find",
  };

  self->state = state;
  gtk_stack_set_visible_child_name (self->stack, pages[state]);
  gtk_spinner_set_spinning (self->spinner, state == ENVOI_AUTOCONFIG_ROW_SEARCHING);
  gtk_spinner_set_spinning (self->check_spinner, state == ENVOI_AUTOCONFIG_ROW_CHECKING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "autoconfig.find",
                                 state != ENVOI_AUTOCONFIG_ROW_SEARCHING &&
                                 address_is_complete (self->address));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "autoconfig.cancel",
                                 state == ENVOI_AUTOCONFIG_ROW_SEARCHING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "autoconfig.use",
                                 state == ENVOI_AUTOCONFIG_ROW_FOUND);
}

static void
show_result (EnvoiAutoconfigRow *self)
{
  g_autoptr(GString) markup = g_string_new (NULL);
  g_autofree char *summary = envoi_autoconfig_result_dup_summary (self->result);
  g_autofree char *description = envoi_autoconfig_result_dup_description (self->result);
  g_autoptr(GPtrArray) warnings = envoi_autoconfig_result_dup_warnings (self->result);
  g_autofree char *escaped_summary = g_markup_escape_text (summary, -1);
  g_autofree char *escaped_description = g_markup_escape_text (description, -1);

  g_string_append_printf (markup, "<b>%s</b>\n%s", escaped_summary, escaped_description);
  for (guint i = 0; i < warnings->len; i++)
    {
      g_autofree char *escaped = g_markup_escape_text (g_ptr_array_index (warnings, i), -1);

      g_string_append_printf (markup, "\n<span weight=\"bold\">%s</span>", escaped);
    }
  set_subtitle (self, markup->str);
}

static void
lookup_cb (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(EnvoiAutoconfigRow) self = user_data;
  g_autoptr(GError) error = NULL;
  EnvoiAutoconfigResult *found;

  found = envoi_autoconfig_lookup_finish (ENVOI_AUTOCONFIG (source_object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* cancel_action already said so, or the dialog is closing */

  g_clear_object (&self->result);
  if (found == NULL)
    {
      set_plain_subtitle (self, error->message);
      set_state (self, ENVOI_AUTOCONFIG_ROW_FAILED);
      return;
    }

  self->result = found;
  show_result (self);
  set_state (self, ENVOI_AUTOCONFIG_ROW_FOUND);
}

void
envoi_autoconfig_row_find (EnvoiAutoconfigRow *self)
{
  g_return_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self));

  g_clear_handle_id (&self->search_source, g_source_remove);
  if (!address_is_complete (self->address))
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_object (&self->result);

  g_free (self->searched_address);
  self->searched_address = g_strdup (self->address);
  set_plain_subtitle (self, _("Looking for the settings…"));
  set_state (self, ENVOI_AUTOCONFIG_ROW_SEARCHING);
  envoi_autoconfig_lookup_async (self->autoconfig, self->address, self->cancellable,
                                 lookup_cb, g_object_ref (self));
}

void
envoi_autoconfig_row_cancel (EnvoiAutoconfigRow *self)
{
  g_return_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self));

  g_clear_handle_id (&self->search_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->state == ENVOI_AUTOCONFIG_ROW_SEARCHING || self->state == ENVOI_AUTOCONFIG_ROW_CHECKING)
    {
      set_plain_subtitle (self, _("Stopped. The form was left as it was."));
      set_state (self, ENVOI_AUTOCONFIG_ROW_IDLE);
    }
}

static gboolean
search_timeout_cb (gpointer user_data)
{
  EnvoiAutoconfigRow *self = user_data;

  self->search_source = 0;
  envoi_autoconfig_row_find (self);

  return G_SOURCE_REMOVE;
}

/* @search_after_pause: look the address up on its own once typing pauses (the dialog says
 * so when the server field is still empty); once per address. */
void
envoi_autoconfig_row_set_address (EnvoiAutoconfigRow *self,
                                  const char         *address,
                                  gboolean            search_after_pause)
{
  g_autofree char *stripped = NULL;

  g_return_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self));

  stripped = g_strstrip (g_strdup (address != NULL ? address : ""));
  if (g_strcmp0 (stripped, self->address) == 0)
    return;

  g_free (self->address);
  self->address = g_steal_pointer (&stripped);
  g_clear_handle_id (&self->search_source, g_source_remove);

  /* Whatever was found was for another address. */
  if (self->state == ENVOI_AUTOCONFIG_ROW_SEARCHING || self->state == ENVOI_AUTOCONFIG_ROW_FOUND
      || self->state == ENVOI_AUTOCONFIG_ROW_FAILED)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->result);
      set_plain_subtitle (self, _("Envoi can look them up from the address"));
      set_state (self, ENVOI_AUTOCONFIG_ROW_IDLE);
    }
  else
    set_state (self, self->state);

  if (search_after_pause && address_is_complete (self->address)
      && g_strcmp0 (self->address, self->searched_address) != 0)
    self->search_source = g_timeout_add (SEARCH_DELAY_MS, search_timeout_cb, self);
}

static const char *
auth_method_name (EnvoiAuthMethod method)
{
  switch (method)
    {
    case ENVOI_AUTH_METHOD_XOAUTH2:
      return _("OAuth 2 Token");
    case ENVOI_AUTH_METHOD_NONE:
      return _("None");
    case ENVOI_AUTH_METHOD_AUTOMATIC:
      return _("Automatic");
    default:
      return envoi_auth_method_get_mechanism (method);
    }
}

static void
check_server_cb (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EnvoiAutoconfigRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autofree char *offered = NULL;
  g_autofree char *text = NULL;
  g_autofree char *summary = NULL;
  const char * const *mechanisms;
  EnvoiAuthMethod method;

  report = envoi_autoconfig_check_server_finish (ENVOI_AUTOCONFIG (source_object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  summary = self->result != NULL ? envoi_autoconfig_result_dup_summary (self->result) : g_strdup ("");
  if (report == NULL)
    {
      /* Translators: %s is a server such as “smtp.example.com, port 465, SSL/TLS”, then why it
       * could not be asked */
      text = g_strdup_printf (_("Filled in with %s. The server could not be asked how to log in: %s"),
                              summary, error->message);
      set_plain_subtitle (self, text);
      set_state (self, ENVOI_AUTOCONFIG_ROW_APPLIED);
      return;
    }

  mechanisms = envoi_smtp_report_get_auth_mechanisms (report);
  method = envoi_autoconfig_choose_auth_method (envoi_autoconfig_result_get_auth_method (self->result),
                                                mechanisms);
  g_signal_emit (self, signals[SIGNAL_AUTH_CHOSEN], 0, (guint) method);

  if (mechanisms == NULL || mechanisms[0] == NULL)
    /* Translators: %s is a server such as “smtp.example.com, port 465, SSL/TLS” */
    text = g_strdup_printf (_("Filled in with %s. The server offers no login, so the method is "
                              "set to None."), summary);
  else
    {
      offered = g_strjoinv (", ", (char **) mechanisms);
      /* Translators: the first %s is a server such as “smtp.example.com, port 465, SSL/TLS”, the
       * second a list of login methods (PLAIN, LOGIN), the third the one chosen */
      text = g_strdup_printf (_("Filled in with %s. The server offers %s; the method is set to %s."),
                              summary, offered, auth_method_name (method));
    }
  set_plain_subtitle (self, text);
  set_state (self, ENVOI_AUTOCONFIG_ROW_APPLIED);
}

static void
use_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  EnvoiAutoconfigRow *self = ENVOI_AUTOCONFIG_ROW (widget);

  if (self->state != ENVOI_AUTOCONFIG_ROW_FOUND || self->result == NULL)
    return;

  /* The form fills now, on the person's word; then the server says which logins it takes. */
  g_signal_emit (self, signals[SIGNAL_APPLY], 0, self->result);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_plain_subtitle (self, _("Asking the server which login methods it offers…"));
  set_state (self, ENVOI_AUTOCONFIG_ROW_CHECKING);
  envoi_autoconfig_check_server_async (self->autoconfig,
                                       envoi_autoconfig_result_get_hostname (self->result),
                                       envoi_autoconfig_result_get_port (self->result),
                                       envoi_autoconfig_result_get_security (self->result),
                                       self->cancellable, check_server_cb, g_object_ref (self));
}

static void
find_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  envoi_autoconfig_row_find (ENVOI_AUTOCONFIG_ROW (widget));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  envoi_autoconfig_row_cancel (ENVOI_AUTOCONFIG_ROW (widget));
}

EnvoiAutoconfig *
envoi_autoconfig_row_get_autoconfig (EnvoiAutoconfigRow *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self), NULL);

  return self->autoconfig;
}

EnvoiAutoconfigRowState
envoi_autoconfig_row_get_state (EnvoiAutoconfigRow *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self), ENVOI_AUTOCONFIG_ROW_IDLE);

  return self->state;
}

EnvoiAutoconfigResult *
envoi_autoconfig_row_get_result (EnvoiAutoconfigRow *self)
{
  g_return_val_if_fail (ENVOI_IS_AUTOCONFIG_ROW (self), NULL);

  return self->result;
}

static void
envoi_autoconfig_row_dispose (GObject *object)
{
  EnvoiAutoconfigRow *self = ENVOI_AUTOCONFIG_ROW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->search_source, g_source_remove);

  G_OBJECT_CLASS (envoi_autoconfig_row_parent_class)->dispose (object);
}

static void
envoi_autoconfig_row_finalize (GObject *object)
{
  EnvoiAutoconfigRow *self = ENVOI_AUTOCONFIG_ROW (object);

  g_clear_object (&self->autoconfig);
  g_clear_object (&self->result);
  g_clear_object (&self->cancellable);
  g_free (self->address);
  g_free (self->searched_address);

  G_OBJECT_CLASS (envoi_autoconfig_row_parent_class)->finalize (object);
}

static void
envoi_autoconfig_row_class_init (EnvoiAutoconfigRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_autoconfig_row_dispose;
  object_class->finalize = envoi_autoconfig_row_finalize;

  /**
   * EnvoiAutoconfigRow::apply:
   * @result: the settings the person chose to use
   *
   * Emitted when “Use These Settings” is pressed, and only then: fill the form.
   */
  signals[SIGNAL_APPLY] =
    g_signal_new ("apply", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, ENVOI_TYPE_AUTOCONFIG_RESULT);

  /**
   * EnvoiAutoconfigRow::auth-chosen:
   * @method: an #EnvoiAuthMethod, from what the server offered in its EHLO
   */
  signals[SIGNAL_AUTH_CHOSEN] =
    g_signal_new ("auth-chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-autoconfig-row.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiAutoconfigRow, stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAutoconfigRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAutoconfigRow, check_spinner);

  gtk_widget_class_install_action (widget_class, "autoconfig.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "autoconfig.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "autoconfig.use", NULL, use_action);
}

static void
envoi_autoconfig_row_init (EnvoiAutoconfigRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->autoconfig = envoi_autoconfig_new ();
  self->cancellable = g_cancellable_new ();
  set_state (self, ENVOI_AUTOCONFIG_ROW_IDLE);
}

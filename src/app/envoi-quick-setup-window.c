/* envoi-quick-setup-window.c: "Add Account" in two fields, address and password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first thing "Add Account" shows: a name, an address, a password and Continue. Continue
 * hands them to EnvoiQuickSetup (src/common), which finds the settings and signs in; this
 * window only shows where it stands, in words, and saves what signed in through the same
 * EnvoiAccountSaver as the full dialog (the password to the keyring first, then the
 * settings). A failure is explained above the fields, which keep what was typed; "Set Up
 * Manually" opens the full dialog filled with it. Online accounts of Settings are offered
 * below, the one whose address was typed first.
 */

#define G_LOG_DOMAIN "envoi-quick-setup-window"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account-dialog.h"
#include "envoi-account-saver.h"
#include "envoi-goa.h"
#include "envoi-message.h"
#include "envoi-quick-setup-window.h"
#include "envoi-smtp-client.h"
#include "envoi-validate.h"

struct _EnvoiQuickSetupWindow
{
  AdwWindow          parent_instance;

  EnvoiAccountStore *store;
  EnvoiQuickSetup   *setup;
  GCancellable      *cancellable;      /* the window's: cancelled when it closes */
  GCancellable      *run_cancellable;  /* the current run's, for Cancel */
  EnvoiAccount      *account;          /* saved */
  GPtrArray         *goa_accounts;     /* EnvoiGoaAccount, as GOA listed them */
  gboolean           saving;
  gboolean           sending;

  /* template */
  GtkStack          *stack;
  GtkWidget         *problem_box;
  GtkLabel          *problem_title;
  GtkLabel          *problem_message;
  GtkLabel          *problem_hint;
  GtkLabel          *fingerprint_label;
  GtkWidget         *trust_button;
  AdwEntryRow       *name_row;
  AdwEntryRow       *address_row;
  AdwEntryRow       *password_row;
  GtkWidget         *continue_button;
  GtkWidget         *manual_button;
  GtkWidget         *goa_group;
  GtkListBox        *goa_list;
  GtkSpinner        *spinner;
  GtkLabel          *status_label;
  AdwStatusPage     *ready_page;
  GtkLabel          *test_label;
};

G_DEFINE_FINAL_TYPE (EnvoiQuickSetupWindow, envoi_quick_setup_window, ADW_TYPE_WINDOW)

/* Closed: what still comes back has nothing left to show. */
static gboolean
is_closed (EnvoiQuickSetupWindow *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

static char *
stripped_text_of (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

static void
set_label (GtkLabel   *label,
           const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && *text != '\0');
}

static void
show_page (EnvoiQuickSetupWindow *self,
           const char            *name)
{
  gboolean progress = g_str_equal (name, "progress");

  gtk_stack_set_visible_child_name (self->stack, name);
  gtk_spinner_set_spinning (self->spinner, progress);
  if (g_str_equal (name, "form"))
    gtk_window_set_default_widget (GTK_WINDOW (self), self->continue_button);
}

static void
update_actions (EnvoiQuickSetupWindow *self)
{
  g_autofree char *address = stripped_text_of (self->address_row);
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  gboolean running = envoi_quick_setup_is_running (self->setup) || self->saving;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.continue",
                                 !running && *address != '\0' && *password != '\0');
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.cancel",
                                 envoi_quick_setup_is_running (self->setup));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.manual", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "setup.send-test",
                                 self->account != NULL && !self->sending);
}

static void
clear_problem (EnvoiQuickSetupWindow *self)
{
  gtk_widget_set_visible (self->problem_box, FALSE);
  gtk_widget_remove_css_class (self->manual_button, "suggested-action");
}

static void
show_problem (EnvoiQuickSetupWindow *self,
              const char            *title,
              const char            *message,
              const char            *hint)
{
  set_label (self->problem_title, title);
  set_label (self->problem_message, message);
  set_label (self->problem_hint, hint);
  set_label (self->fingerprint_label, NULL);
  gtk_widget_set_visible (self->trust_button, FALSE);
  gtk_widget_set_visible (self->problem_box, TRUE);
  show_page (self, "form");
}

/* Each failure with its class's title and fix, as the connection test says them; a refused
 * password with the provider's own advice (an app password) when it has some. */
static void
show_error (EnvoiQuickSetupWindow *self,
            const GError          *error)
{
  if (error->domain == ENVOI_SMTP_ERROR)
    {
      g_autofree char *hint = envoi_quick_setup_dup_hint (self->setup, error);

      show_problem (self, envoi_smtp_error_get_title (error), error->message, hint);
      /* A certificate of its own (a home server, a bridge): its key, to compare and trust. */
      if (error->code == ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED)
        {
          EnvoiSmtpReport *report = envoi_quick_setup_get_report (self->setup);
          const char *pin = report != NULL ? envoi_smtp_report_get_certificate_pin (report) : NULL;

          if (pin != NULL && *pin != '\0')
            {
              /* The key alone, to compare character by character: the message would say
               * it a second time, as the test panel's facts do not. */
              set_label (self->problem_message, NULL);
              set_label (self->fingerprint_label, pin);
              gtk_widget_set_visible (self->trust_button, TRUE);
            }
        }
      /* A refused login is most often a mistyped password: the cursor goes there. */
      if (error->code == ENVOI_SMTP_ERROR_AUTH_FAILED ||
          error->code == ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED)
        gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  if (g_error_matches (error, ENVOI_AUTOCONFIG_ERROR, ENVOI_AUTOCONFIG_ERROR_INVALID_ADDRESS))
    {
      show_problem (self, _("Check the Address"), error->message, NULL);
      gtk_widget_grab_focus (GTK_WIDGET (self->address_row));
      return;
    }

  if (error->domain == ENVOI_AUTOCONFIG_ERROR)
    {
      show_problem (self, _("No Settings Found"), error->message,
                    _("Set the account up manually with the server your provider gives: the address and password are kept."));
      gtk_widget_add_css_class (self->manual_button, "suggested-action");
      return;
    }

  if (error->domain == ENVOI_QUICK_SETUP_ERROR)
    {
      show_problem (self, _("More Settings Needed"), error->message, NULL);
      gtk_widget_add_css_class (self->manual_button, "suggested-action");
      return;
    }

  show_problem (self, _("The Account Could Not Be Added"), error->message, NULL);
}

static const char *
security_name (EnvoiSecurity security)
{
  switch (security)
    {
    case ENVOI_SECURITY_TLS:
      return _("SSL/TLS");
    case ENVOI_SECURITY_STARTTLS:
      return _("STARTTLS");
    case ENVOI_SECURITY_NONE:
    default:
      return _("no encryption");
    }
}

static void
show_ready (EnvoiQuickSetupWindow *self)
{
  g_autofree char *text = NULL;

  /* Translators: shown once the account is saved; the first %s is a server such as
   * smtp.example.org, the second its encryption: SSL/TLS, STARTTLS or no encryption */
  text = g_strdup_printf (_("Ready: mail is sent through %s (%s)"),
                          envoi_account_get_host (self->account),
                          security_name (envoi_account_get_security (self->account)));
  adw_status_page_set_description (self->ready_page, text);
  set_label (self->test_label, NULL);
  show_page (self, "ready");
  gtk_window_set_default_widget (GTK_WINDOW (self), NULL);
  update_actions (self);
}

static void
save_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiQuickSetupWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  self->saving = FALSE;
  if (!envoi_account_saver_save_finish (ENVOI_ACCOUNT_SAVER (source), result, &error))
    {
      if (is_closed (self))
        return;
      g_clear_object (&self->account);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_problem (self, _("The Account Could Not Be Saved"), error->message, NULL);
      update_actions (self);
      return;
    }
  if (is_closed (self))
    return;

  show_ready (self);
}

static void
run_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(EnvoiQuickSetupWindow) self = user_data;
  g_autoptr(EnvoiAccount) tested = NULL;
  g_autoptr(EnvoiAccount) previous = NULL;
  g_autoptr(EnvoiAccountSaver) saver = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  tested = envoi_quick_setup_run_finish (ENVOI_QUICK_SETUP (source), result, &error);
  if (is_closed (self))
    return;
  g_clear_object (&self->run_cancellable);
  if (tested == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_page (self, "form");
      else
        show_error (self, error);
      update_actions (self);
      return;
    }

  /* Named after its address, as the dialog names a new account. */
  id = envoi_account_store_make_id (self->store, envoi_account_get_address (tested));
  self->account = envoi_account_copy_as (tested, id);
  previous = envoi_account_new (id);
  saver = envoi_account_saver_new (self->store, self->account, previous, TRUE);
  envoi_account_saver_set_secret (saver, ENVOI_SERVICE_SMTP,
                                  gtk_editable_get_text (GTK_EDITABLE (self->password_row)), NULL);
  self->saving = TRUE;
  gtk_label_set_text (self->status_label, _("Saving the account…"));
  envoi_account_saver_save_async (saver, self->cancellable, save_cb, g_object_ref (self));
  update_actions (self);
}

static void
status_cb (EnvoiQuickSetupWindow *self)
{
  const char *status = envoi_quick_setup_get_status (self->setup);

  if (status != NULL)
    gtk_label_set_text (self->status_label, status);
}

static void
continue_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);
  g_autofree char *address = stripped_text_of (self->address_row);
  g_autofree char *name = stripped_text_of (self->name_row);
  g_autoptr(GError) error = NULL;
  g_autofree char *valid = envoi_validate_address (address, &error);

  if (envoi_quick_setup_is_running (self->setup) || self->saving)
    return;
  if (valid == NULL)
    {
      show_problem (self, _("Check the Address"), error->message, NULL);
      gtk_widget_grab_focus (GTK_WIDGET (self->address_row));
      return;
    }

  clear_problem (self);
  g_clear_object (&self->run_cancellable);
  self->run_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->cancellable, "cancelled", G_CALLBACK (g_cancellable_cancel),
                           self->run_cancellable, G_CONNECT_SWAPPED);
  envoi_quick_setup_run_async (self->setup, valid, name,
                               gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                               self->run_cancellable, run_cb, g_object_ref (self));
  show_page (self, "progress");
  update_actions (self);
}

/* The certificate just shown is trusted for its server, and Continue runs again. */
static void
trust_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);
  EnvoiSmtpReport *report = envoi_quick_setup_get_report (self->setup);
  EnvoiAccount *account = envoi_quick_setup_get_account (self->setup);
  const char *pin = report != NULL ? envoi_smtp_report_get_certificate_pin (report) : NULL;

  if (account == NULL || pin == NULL || *pin == '\0' || envoi_quick_setup_is_running (self->setup))
    return;

  envoi_quick_setup_trust_certificate (self->setup, envoi_account_get_host (account), pin);
  gtk_widget_activate_action (widget, "setup.continue", NULL);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);

  g_cancellable_cancel (self->run_cancellable);
}

/* The full dialog, with what was typed here; this window steps aside. */
static void
manual_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);
  g_autofree char *address = stripped_text_of (self->address_row);
  g_autofree char *name = stripped_text_of (self->name_row);
  EnvoiAccountDialog *dialog;

  dialog = envoi_account_dialog_new (gtk_window_get_transient_for (GTK_WINDOW (self)),
                                     self->store, NULL);
  envoi_account_dialog_prefill (dialog, address, name,
                                gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
done_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  gtk_window_destroy (GTK_WINDOW (widget));
}

static void
send_test_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EnvoiQuickSetupWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_smtp_client_send_finish (ENVOI_SMTP_CLIENT (source), result, &error);
  self->sending = FALSE;
  if (is_closed (self))
    return;
  if (reply == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s\n%s", envoi_smtp_error_get_title (error),
                                               error->message);
      set_label (self->test_label, text);
    }
  else
    {
      /* Translators: %s is the account's own address */
      g_autofree char *text = g_strdup_printf (_("A test email was sent to %s."),
                                               envoi_account_get_address (self->account));
      set_label (self->test_label, text);
    }
  update_actions (self);
}

/* A test email to the account's own address, straight through the server just checked. */
static void
send_test_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);
  const char *address;
  const char *recipients[2] = { NULL, NULL };
  g_autoptr(GBytes) message = NULL;
  g_autoptr(EnvoiSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;

  if (self->account == NULL || self->sending)
    return;
  address = envoi_account_get_address (self->account);
  message = envoi_message_build_test (self->account, address, &error);
  if (message == NULL)
    {
      set_label (self->test_label, error->message);
      return;
    }

  recipients[0] = address;
  client = envoi_smtp_client_new (self->account,
                                  gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  self->sending = TRUE;
  set_label (self->test_label, _("Sending a test email…"));
  envoi_smtp_client_send_async (client, address, recipients, message, self->cancellable,
                                send_test_cb, g_object_ref (self));
  update_actions (self);
}

static void
fields_changed_cb (EnvoiQuickSetupWindow *self)
{
  update_actions (self);
}

/* ---- online accounts ---------------------------------------------------------------------- */

static void
goa_import_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EnvoiQuickSetupWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  EnvoiAccount *account;

  self->saving = FALSE;
  account = envoi_goa_import_finish (result, NULL, &error);
  if (is_closed (self))
    {
      g_clear_object (&account);
      return;
    }
  if (account == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_problem (self, _("The Online Account Could Not Be Added"), error->message, NULL);
      update_actions (self);
      return;
    }

  self->account = account;
  show_ready (self);
}

static void
goa_row_activated_cb (EnvoiQuickSetupWindow *self,
                      GtkListBoxRow         *row)
{
  EnvoiGoaAccount *goa_account = g_object_get_data (G_OBJECT (row), "envoi-goa-account");

  if (goa_account == NULL || self->saving || envoi_quick_setup_is_running (self->setup))
    return;

  clear_problem (self);
  self->saving = TRUE;
  gtk_label_set_text (self->status_label, _("Saving the account…"));
  show_page (self, "progress");
  envoi_goa_import_async (NULL, goa_account, self->store, self->cancellable, goa_import_cb,
                          g_object_ref (self));
  update_actions (self);
}

static int
goa_row_sort (GtkListBoxRow *a,
              GtkListBoxRow *b,
              gpointer       user_data)
{
  EnvoiQuickSetupWindow *self = user_data;
  g_autofree char *typed = stripped_text_of (self->address_row);
  EnvoiGoaAccount *account_a = g_object_get_data (G_OBJECT (a), "envoi-goa-account");
  EnvoiGoaAccount *account_b = g_object_get_data (G_OBJECT (b), "envoi-goa-account");
  gboolean match_a = *typed != '\0' && g_strcmp0 (account_a->email_address, typed) == 0;
  gboolean match_b = *typed != '\0' && g_strcmp0 (account_b->email_address, typed) == 0;

  if (match_a != match_b)
    return match_a ? -1 : 1;
  return g_strcmp0 (account_a->presentation_identity, account_b->presentation_identity);
}

static void
goa_list_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(EnvoiQuickSetupWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  self->goa_accounts = envoi_goa_list_accounts_finish (result, &error);
  if (is_closed (self))
    return;
  if (self->goa_accounts == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No online accounts: %s", error->message);
      return;
    }

  for (guint i = 0; i < self->goa_accounts->len; i++)
    {
      EnvoiGoaAccount *account = g_ptr_array_index (self->goa_accounts, i);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), account->presentation_identity);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), account->provider_name);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("go-next-symbolic"));
      g_object_set_data_full (G_OBJECT (row), "envoi-goa-account",
                              envoi_goa_account_ref (account),
                              (GDestroyNotify) envoi_goa_account_unref);
      gtk_list_box_append (self->goa_list, row);
    }
  gtk_widget_set_visible (self->goa_group, self->goa_accounts->len > 0);
}

static void
address_changed_cb (EnvoiQuickSetupWindow *self)
{
  gtk_list_box_invalidate_sort (self->goa_list);
}

/* ---- GObject ------------------------------------------------------------------------------ */

/* Destroyed: a callback may still hold the window, so the work stops here, not in dispose. */
static void
envoi_quick_setup_window_unrealize (GtkWidget *widget)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (widget);

  g_cancellable_cancel (self->cancellable);

  GTK_WIDGET_CLASS (envoi_quick_setup_window_parent_class)->unrealize (widget);
}

static void
envoi_quick_setup_window_dispose (GObject *object)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_pointer (&self->goa_accounts, g_ptr_array_unref);
  if (self->setup != NULL)
    g_signal_handlers_disconnect_by_data (self->setup, self);
  g_clear_object (&self->setup);

  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_QUICK_SETUP_WINDOW);

  G_OBJECT_CLASS (envoi_quick_setup_window_parent_class)->dispose (object);
}

static void
envoi_quick_setup_window_finalize (GObject *object)
{
  EnvoiQuickSetupWindow *self = ENVOI_QUICK_SETUP_WINDOW (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (envoi_quick_setup_window_parent_class)->finalize (object);
}

static void
envoi_quick_setup_window_class_init (EnvoiQuickSetupWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_quick_setup_window_dispose;
  object_class->finalize = envoi_quick_setup_window_finalize;
  widget_class->unrealize = envoi_quick_setup_window_unrealize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-quick-setup-window.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, problem_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, problem_title);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, problem_message);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, problem_hint);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, trust_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, address_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, password_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, continue_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, manual_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, goa_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, goa_list);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, ready_page);
  gtk_widget_class_bind_template_child (widget_class, EnvoiQuickSetupWindow, test_label);
  gtk_widget_class_bind_template_callback (widget_class, fields_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, goa_row_activated_cb);

  gtk_widget_class_install_action (widget_class, "setup.continue", NULL, continue_action);
  gtk_widget_class_install_action (widget_class, "setup.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "setup.trust", NULL, trust_action);
  gtk_widget_class_install_action (widget_class, "setup.manual", NULL, manual_action);
  gtk_widget_class_install_action (widget_class, "setup.done", NULL, done_action);
  gtk_widget_class_install_action (widget_class, "setup.send-test", NULL, send_test_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
envoi_quick_setup_window_init (EnvoiQuickSetupWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  gtk_list_box_set_sort_func (self->goa_list, goa_row_sort, self, NULL);
  g_signal_connect_object (self->address_row, "changed", G_CALLBACK (address_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

EnvoiQuickSetupWindow *
envoi_quick_setup_window_new (GtkWindow         *parent,
                              EnvoiAccountStore *store)
{
  EnvoiQuickSetupWindow *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);

  self = g_object_new (ENVOI_TYPE_QUICK_SETUP_WINDOW, "transient-for", parent, NULL);
  self->store = g_object_ref (store);
  self->setup = envoi_quick_setup_new (NULL);
  g_signal_connect_object (self->setup, "notify::status", G_CALLBACK (status_cb), self,
                           G_CONNECT_SWAPPED);
  update_actions (self);
  envoi_goa_list_accounts_async (NULL, self->cancellable, goa_list_cb, g_object_ref (self));

  return self;
}

EnvoiQuickSetup *
envoi_quick_setup_window_get_setup (EnvoiQuickSetupWindow *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP_WINDOW (self), NULL);

  return self->setup;
}

EnvoiAccount *
envoi_quick_setup_window_get_account (EnvoiQuickSetupWindow *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP_WINDOW (self), NULL);

  return self->account;
}

/* envoi-account-dialog.c: every setting of one account, applied together on Save
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-account-dialog"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account-dialog.h"
#include "envoi-account-saver.h"
#include "envoi-field-message.h"
#include "envoi-autoconfig-row.h"
#include "envoi-delivery-group.h"
#include "envoi-goa.h"
#include "envoi-goa-choice.h"
#include "envoi-incoming-group.h"
#include "envoi-preset-catalog.h"
#include "envoi-secret.h"
#include "envoi-test-panel.h"
#include "envoi-test-run.h"
#include "envoi-transport-group.h"
#include "envoi-validate.h"

/* How long typing must pause before the form is checked. */
#define VALIDATE_DELAY_MS 400

#define DEFAULT_STARTTLS_PORT 587
#define DEFAULT_TLS_PORT      465

typedef enum
{
  FIELD_PROVIDER,
  FIELD_HOST_PART,
  FIELD_ADDRESS,
  FIELD_NAME,
  FIELD_REPLY_TO,
  FIELD_HOST,
  FIELD_PORT,
  FIELD_SECURITY,
  FIELD_VERIFY,
  FIELD_USERNAME,
  FIELD_PASSWORD,
  FIELD_GOA,
  N_FIELDS
} Field;

struct _EnvoiAccountDialog
{
  AdwWindow           parent_instance;

  EnvoiAccountStore  *store;
  EnvoiAccount       *original;       /* as saved; a new account is unsaved defaults */
  gboolean            is_new;
  GPtrArray          *presets;        /* EnvoiPreset, in the provider row's order after Custom */
  EnvoiGoaChoice     *goa_choice;     /* the online accounts, after the presets */
  char               *saved_secret;   /* the stored password, to move it if the server changes */
  gboolean            has_saved_secret;
  gboolean            secret_pending;   /* the keyring has not answered yet */
  char               *derived_host;   /* what the preset last filled in, to follow the address */
  char               *derived_username;
  GCancellable       *cancellable;
  guint               validate_source;
  gboolean            loading;
  gboolean            forget_pin;
  char               *pending_pin;    /* a certificate trusted from the test, until Save */
  gboolean            closing;
  EnvoiFormState      state;

  GtkWidget          *field_rows[N_FIELDS];
  gboolean            field_invalid[N_FIELDS];
  gboolean            field_touched[N_FIELDS];
  gboolean            show_all_errors;   /* after a Save attempt, untouched fields speak too */

  AdwViewSwitcherTitle *switcher_title;
  GtkStack           *save_stack;
  GtkWidget          *save_button;
  GtkSpinner         *save_spinner;
  AdwToastOverlay    *toast_overlay;
  AdwViewStack       *view_stack;
  AdwComboRow        *provider_row;
  AdwEntryRow        *host_part_row;
  AdwEntryRow        *address_row;
  EnvoiAutoconfigRow *autoconfig_row;
  AdwEntryRow        *name_row;
  AdwEntryRow        *reply_to_row;
  AdwEntryRow        *host_row;
  AdwEntryRow        *port_row;
  AdwComboRow        *security_row;
  AdwActionRow       *plaintext_row;
  GtkSwitch          *plaintext_switch;
  AdwActionRow       *verify_row;
  GtkSwitch          *verify_switch;
  AdwActionRow       *pinned_row;
  AdwComboRow        *auth_row;
  AdwEntryRow        *username_row;
  AdwEntryRow        *password_row;
  AdwActionRow       *goa_row;
  EnvoiTestPanel     *test_panel;
  GtkWidget          *server_group;
  AdwPreferencesPage *imap_page;
  GtkWidget          *auth_group;
  EnvoiTransportGroup *transport_group;
  EnvoiIncomingGroup *incoming_group;
  EnvoiDeliveryGroup *delivery_group;
};

G_DEFINE_FINAL_TYPE (EnvoiAccountDialog, envoi_account_dialog, ADW_TYPE_WINDOW)

static void schedule_validation (EnvoiAccountDialog *self);

static const char *
text_of (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static char *
stripped_text_of (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (text_of (row)));
}

static gboolean
is_blank (AdwEntryRow *row)
{
  g_autofree char *text = stripped_text_of (row);

  return *text == '\0';
}

static void
set_text (AdwEntryRow *row,
          const char  *text)
{
  if (g_strcmp0 (text_of (row), text) != 0)
    gtk_editable_set_text (GTK_EDITABLE (row), text != NULL ? text : "");
}

static EnvoiPreset *
selected_preset (EnvoiAccountDialog *self)
{
  guint selected = adw_combo_row_get_selected (self->provider_row);

  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION || selected > self->presets->len)
    return NULL;

  return g_ptr_array_index (self->presets, selected - 1);
}

/* Messages under a row (envoi-field-message.c): the reason a field is wrong, or a warning. */

static void
set_message (EnvoiAccountDialog    *self,
             Field                  field,
             EnvoiFieldMessageKind  kind,
             const char            *markup)
{
  _envoi_field_message_set_markup (self->field_rows[field], kind, markup);
  self->field_invalid[field] = kind == ENVOI_FIELD_MESSAGE_ERROR && markup != NULL &&
                               gtk_widget_get_visible (self->field_rows[field]);
}

static void
set_error (EnvoiAccountDialog *self,
           Field               field,
           const GError       *error)
{
  g_autofree char *escaped = error != NULL ? g_markup_escape_text (error->message, -1) : NULL;

  set_message (self, field, ENVOI_FIELD_MESSAGE_ERROR, escaped);
}

static void
set_plain_message (EnvoiAccountDialog    *self,
                   Field                  field,
                   EnvoiFieldMessageKind  kind,
                   const char            *text)
{
  g_autofree char *escaped = text != NULL ? g_markup_escape_text (text, -1) : NULL;

  set_message (self, field, kind, escaped);
}

/* Each field's message row sits right under the field, in the same boxed list. */
static void
add_message_row (EnvoiAccountDialog *self,
                 Field               field,
                 GtkWidget          *row)
{
  self->field_rows[field] = row;
  _envoi_field_message_attach (row);
}

/* The form's values as an account: everything the dialog does not show stays as it was. */
EnvoiAccount *
envoi_account_dialog_build_account (EnvoiAccountDialog *self)
{
  EnvoiAccount *account;
  EnvoiPreset *preset;
  g_autofree char *goa_provider = NULL;
  g_autofree char *address = NULL;
  g_autofree char *name = NULL;
  g_autofree char *reply_to = NULL;
  g_autofree char *host = NULL;
  g_autofree char *username = NULL;
  guint16 port = 0;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), NULL);

  account = envoi_account_copy (self->original);
  preset = selected_preset (self);
  goa_provider = envoi_goa_choice_dup_provider (self->goa_choice,
                                                adw_combo_row_get_selected (self->provider_row));

  address = stripped_text_of (self->address_row);
  name = stripped_text_of (self->name_row);
  reply_to = stripped_text_of (self->reply_to_row);
  {
    g_autofree char *typed = stripped_text_of (self->host_row);

    host = envoi_validate_host (typed, NULL);
    if (host == NULL)
      host = g_steal_pointer (&typed);
  }
  username = stripped_text_of (self->username_row);
  if (!envoi_validate_port (text_of (self->port_row), &port, NULL))
    port = envoi_account_get_port (self->original);

  g_object_set (account,
                "provider", goa_provider != NULL ? goa_provider
                            : preset != NULL ? envoi_preset_get_id (preset) : "",
                "address", address,
                "display-name", name,
                "reply-to", reply_to,
                "host", host,
                "port", (guint) port,
                "security", (EnvoiSecurity) adw_combo_row_get_selected (self->security_row),
                "allow-plaintext-password", gtk_switch_get_active (self->plaintext_switch),
                "verify-certificate", gtk_switch_get_active (self->verify_switch),
                "auth-method", (EnvoiAuthMethod) adw_combo_row_get_selected (self->auth_row),
                "username", username,
                NULL);
  if (self->forget_pin)
    g_object_set (account, "pinned-key", "", NULL);
  else if (self->pending_pin != NULL)
    g_object_set (account, "pinned-key", self->pending_pin, NULL);
  envoi_transport_group_apply (self->transport_group, account);
  envoi_incoming_group_apply (self->incoming_group, account);
  envoi_delivery_group_apply (self->delivery_group, account);

  return account;
}

gboolean
envoi_account_dialog_is_modified (EnvoiAccountDialog *self)
{
  g_autoptr(EnvoiAccount) current = NULL;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), FALSE);

  if (*text_of (self->password_row) != '\0' ||
      envoi_transport_group_is_modified (self->transport_group) ||
      envoi_incoming_group_is_modified (self->incoming_group))
    return TRUE;

  current = envoi_account_dialog_build_account (self);
  return self->is_new || !envoi_account_equal (current, self->original);
}

EnvoiFormState
envoi_account_dialog_get_state (EnvoiAccountDialog *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), ENVOI_FORM_INVALID);

  return self->state;
}

static void
set_state (EnvoiAccountDialog *self,
           EnvoiFormState      state)
{
  gboolean saving = state == ENVOI_FORM_SAVING;
  gboolean can_save;

  self->state = state;

  can_save = (state == ENVOI_FORM_EDITING || state == ENVOI_FORM_ERROR) &&
             envoi_account_dialog_is_modified (self);
  /* The button says whether there is something to save; Enter and Ctrl+S still reach the
   * action, which then shows every reason and moves to the first wrong field. */
  gtk_widget_set_sensitive (self->save_button, can_save);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dialog.save", !saving);
  gtk_widget_set_sensitive (GTK_WIDGET (self->view_stack), !saving);
  gtk_stack_set_visible_child_name (self->save_stack, saving ? "spinner" : "button");
  gtk_spinner_set_spinning (self->save_spinner, saving);
}

static gboolean
speaks (EnvoiAccountDialog *self,
        Field               field)
{
  return self->show_all_errors || self->field_touched[field];
}

static gboolean
is_address (const char *text)
{
  g_autofree char *checked = envoi_validate_address (text, NULL);

  return checked != NULL;
}

static gboolean
needs_password (EnvoiAccountDialog *self)
{
  return adw_combo_row_get_selected (self->auth_row) != ENVOI_AUTH_METHOD_NONE;
}

/* Online accounts (envoi-goa-choice.c): an OAuth 2 one signs in through GOA, with no password
 * here; a password one fills the form, and its password is copied from GOA on Save. */

static gboolean
signs_in_with_goa (EnvoiAccountDialog *self)
{
  return envoi_goa_choice_signs_in (self->goa_choice,
                                    adw_combo_row_get_selected (self->provider_row));
}

static EnvoiGoaAccount *
goa_password_account (EnvoiAccountDialog *self)
{
  EnvoiGoaAccount *account = envoi_goa_choice_get_account (self->goa_choice,
                                                           adw_combo_row_get_selected (self->provider_row));

  return account != NULL && !account->oauth2 ? account : NULL;
}

static void
update_goa_row (EnvoiAccountDialog *self)
{
  guint selected = adw_combo_row_get_selected (self->provider_row);
  EnvoiGoaAccount *account = envoi_goa_choice_get_account (self->goa_choice, selected);
  const char *missing = envoi_goa_choice_get_missing_address (self->goa_choice);
  gboolean signs_in = signs_in_with_goa (self);
  g_autofree char *subtitle = NULL;
  g_autofree char *escaped = NULL;

  /* An online account's name is long: under the title, where it has the row's width. */
  adw_combo_row_set_use_subtitle (self->provider_row,
                                  envoi_goa_choice_contains (self->goa_choice, selected));
  /* GOA already knows the server: there is nothing for "Find Settings" to look up. */
  gtk_widget_set_visible (GTK_WIDGET (self->autoconfig_row),
                          self->is_new && !envoi_goa_choice_contains (self->goa_choice, selected));
  gtk_widget_set_visible (GTK_WIDGET (self->goa_row), signs_in);
  gtk_widget_set_visible (GTK_WIDGET (self->password_row), !signs_in);
  gtk_widget_set_sensitive (GTK_WIDGET (self->auth_row), !signs_in);
  if (!signs_in)
    {
      set_message (self, FIELD_GOA, ENVOI_FIELD_MESSAGE_INFO, NULL);
      return;
    }

  /* Translators: %s is the online account, such as alice@gmail.com */
  subtitle = g_strdup_printf (_("Signs in through GNOME Online Accounts as %s; no password is "
                                "stored."),
                              account != NULL ? account->presentation_identity
                                              : envoi_account_get_address (self->original));
  escaped = g_markup_escape_text (subtitle, -1);
  adw_action_row_set_subtitle (self->goa_row, escaped);

  if (account == NULL && missing != NULL)
    {
      g_autofree char *text = NULL;

      /* Translators: %s is the online account, such as alice@gmail.com */
      text = g_strdup_printf (_("GNOME Online Accounts no longer has “%s”, so nothing can be "
                                "sent with it. Add it again in Settings → Online Accounts, or "
                                "choose another provider above."), missing);
      set_plain_message (self, FIELD_GOA, ENVOI_FIELD_MESSAGE_WARNING, text);
    }
  else
    set_message (self, FIELD_GOA, ENVOI_FIELD_MESSAGE_INFO, NULL);
}

/* Checks every field, says why beside the wrong ones and returns whether all are right. */
static gboolean
validate_form (EnvoiAccountDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiAccount) account = envoi_account_dialog_build_account (self);
  g_autofree char *address = stripped_text_of (self->address_row);
  g_autofree char *username = stripped_text_of (self->username_row);
  g_autofree char *checked = NULL;
  EnvoiPreset *preset = selected_preset (self);
  EnvoiSecurity security = adw_combo_row_get_selected (self->security_row);
  gboolean valid = TRUE;
  gboolean valid_without_server;
  gboolean uses_smtp = envoi_transport_group_get_transport (self->transport_group) == ENVOI_TRANSPORT_SMTP;
  guint16 port;

  /* A field the user has not reached yet is not scolded: it only keeps Save off. */
#define CHECK(field, ok) \
  G_STMT_START { \
    if (ok) \
      set_error (self, field, NULL); \
    else \
      { \
        set_error (self, field, speaks (self, field) ? error : NULL); \
        valid = FALSE; \
      } \
    g_clear_error (&error); \
  } G_STMT_END

  checked = envoi_validate_address (address, &error);
  CHECK (FIELD_ADDRESS, checked != NULL);
  g_clear_pointer (&checked, g_free);

  CHECK (FIELD_NAME, envoi_validate_header_text (text_of (self->name_row),
                                                 ENVOI_VALIDATE_MAX_NAME_CHARS, &error));

  if (!is_blank (self->reply_to_row))
    {
      g_autofree char *reply_to = stripped_text_of (self->reply_to_row);

      checked = envoi_validate_address (reply_to, &error);
      CHECK (FIELD_REPLY_TO, checked != NULL);
      g_clear_pointer (&checked, g_free);
    }
  else
    set_error (self, FIELD_REPLY_TO, NULL);

  if (preset != NULL && gtk_widget_get_visible (GTK_WIDGET (self->host_part_row)))
    {
      g_autofree char *part = stripped_text_of (self->host_part_row);

      if (*part == '\0')
        g_set_error_literal (&error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                             _("Enter this part of the server name."));
      CHECK (FIELD_HOST_PART, *part != '\0');
    }

  valid_without_server = valid;
  {
    g_autofree char *host = stripped_text_of (self->host_row);

    checked = envoi_validate_host (host, &error);
    CHECK (FIELD_HOST, checked != NULL);
    g_clear_pointer (&checked, g_free);
  }

  CHECK (FIELD_PORT, envoi_validate_port (text_of (self->port_row), &port, &error));

  /* A password in clear text over the network is refused unless explicitly allowed. */
  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_row),
                          security == ENVOI_SECURITY_NONE && needs_password (self) &&
                          !envoi_account_is_loopback (account));
  if (security == ENVOI_SECURITY_NONE && needs_password (self) &&
      !envoi_account_is_loopback (account) && !gtk_switch_get_active (self->plaintext_switch))
    {
      set_plain_message (self, FIELD_SECURITY, ENVOI_FIELD_MESSAGE_ERROR,
                         _("Without encryption the password would cross the network in clear "
                           "text. Choose STARTTLS or SSL/TLS, or allow it below."));
      valid = FALSE;
    }
  else if (security == ENVOI_SECURITY_NONE)
    {
      set_plain_message (self, FIELD_SECURITY, ENVOI_FIELD_MESSAGE_WARNING,
                         _("Without encryption, anyone on the network path can read your "
                           "mail."));
    }
  else
    {
      set_message (self, FIELD_SECURITY, ENVOI_FIELD_MESSAGE_INFO, NULL);
    }

  if (!gtk_switch_get_active (self->verify_switch) && security != ENVOI_SECURITY_NONE)
    set_plain_message (self, FIELD_VERIFY, ENVOI_FIELD_MESSAGE_WARNING,
                       _("Without verification, another server can pose as yours and read "
                         "your password. Trust the one certificate by its fingerprint "
                         "instead, from the connection test."));
  else
    set_message (self, FIELD_VERIFY, ENVOI_FIELD_MESSAGE_INFO, NULL);

  CHECK (FIELD_USERNAME, envoi_validate_header_text (username, 0, &error));

  update_goa_row (self);
  if (signs_in_with_goa (self))
    {
      set_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_INFO, NULL);
    }
  else if (needs_password (self) && *text_of (self->password_row) == '\0' &&
           goa_password_account (self) != NULL)
    {
      set_plain_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_INFO,
                         _("The password is copied from GNOME Online Accounts when you save."));
    }
  else if (needs_password (self) && *text_of (self->password_row) == '\0' && self->secret_pending)
    {
      set_plain_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_INFO,
                         _("Looking for the saved password…"));
      valid = FALSE;
    }
  else if (needs_password (self) && *text_of (self->password_row) == '\0' &&
           !self->has_saved_secret)
    {
      set_plain_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_ERROR,
                         speaks (self, FIELD_PASSWORD)
                           ? _("Enter the password, or choose “None” as the method if the "
                               "server needs no login.")
                           : NULL);
      valid = FALSE;
    }
  else if (strpbrk (text_of (self->password_row), "\r\n") != NULL)
    {
      set_plain_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_ERROR,
                         _("A password cannot contain a line break."));
      valid = FALSE;
    }
  else if (self->has_saved_secret && *text_of (self->password_row) == '\0' &&
           needs_password (self))
    {
      g_autofree char *mask = envoi_secret_mask (self->saved_secret);
      g_autofree char *hint = NULL;

      /* Translators: %s is a masked password such as ••••z789 */
      hint = g_strdup_printf (_("Saved in the keyring: %s. Type a new one to replace it."),
                              mask);
      set_plain_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_INFO, hint);
    }
  else
    {
      set_message (self, FIELD_PASSWORD, ENVOI_FIELD_MESSAGE_INFO, NULL);
    }

  /* Sending over HTTP needs no SMTP server or login: those groups are hidden, not checked. */
  gtk_widget_set_visible (self->server_group, uses_smtp);
  gtk_widget_set_visible (self->auth_group, uses_smtp);
  if (!uses_smtp)
    {
      valid = valid_without_server;
      for (Field field = FIELD_HOST; field <= FIELD_GOA; field++)
        set_message (self, field, ENVOI_FIELD_MESSAGE_INFO, NULL);
    }
  valid &= envoi_transport_group_validate (self->transport_group);
  valid &= envoi_incoming_group_validate (self->incoming_group);
  valid &= envoi_delivery_group_validate (self->delivery_group);

#undef CHECK

  /* When the login is not an address, say which address mail comes from. */
  if (*username != '\0' && !is_address (username) && !self->field_invalid[FIELD_ADDRESS])
    set_plain_message (self, FIELD_ADDRESS, ENVOI_FIELD_MESSAGE_INFO,
                       _("Mail is sent from this address; the server login is the user name "
                         "below."));

  return valid;
}

/* Pages: the form is split over a view stack; a wrong field marks its page, and moving to
 * a field moves to its page first. */

static GtkWidget *
page_of (EnvoiAccountDialog *self,
         GtkWidget          *widget)
{
  GtkWidget *stack = GTK_WIDGET (self->view_stack);

  while (widget != NULL && gtk_widget_get_parent (widget) != stack)
    widget = gtk_widget_get_parent (widget);

  return widget;
}

static void
show_page_of (EnvoiAccountDialog *self,
              GtkWidget          *widget)
{
  GtkWidget *page = page_of (self, widget);

  if (page != NULL)
    adw_view_stack_set_visible_child (self->view_stack, page);
}

static gboolean
shows_error (GtkWidget *widget)
{
  if (!gtk_widget_get_visible (widget))
    return FALSE;
  if (ADW_IS_PREFERENCES_ROW (widget) && gtk_widget_has_css_class (widget, "error"))
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_error (child))
      return TRUE;

  return FALSE;
}

static void
mark_pages (EnvoiAccountDialog *self)
{
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (self->view_stack);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);

      adw_view_stack_page_set_needs_attention (page,
                                               shows_error (adw_view_stack_page_get_child (page)));
    }
}

static void
update_form (EnvoiAccountDialog *self)
{
  if (self->state == ENVOI_FORM_SAVING)
    return;

  set_state (self, validate_form (self) ? ENVOI_FORM_EDITING : ENVOI_FORM_INVALID);
  mark_pages (self);
}

/* The online accounts of the Provider list. */
EnvoiGoaChoice *
envoi_account_dialog_get_goa_choice (EnvoiAccountDialog *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), NULL);

  return self->goa_choice;
}

void
envoi_account_dialog_validate_now (EnvoiAccountDialog *self)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self));

  g_clear_handle_id (&self->validate_source, g_source_remove);
  update_form (self);
}

static gboolean
validate_timeout_cb (gpointer user_data)
{
  EnvoiAccountDialog *self = user_data;

  self->validate_source = 0;
  update_form (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_validation (EnvoiAccountDialog *self)
{
  if (self->loading)
    return;


  g_clear_handle_id (&self->validate_source, g_source_remove);
  self->validate_source = g_timeout_add (VALIDATE_DELAY_MS, validate_timeout_cb, self);

  /* Save follows the change at once; the reasons wait for a pause in typing. */
  if (self->state != ENVOI_FORM_SAVING)
    set_state (self, self->state == ENVOI_FORM_ERROR ? ENVOI_FORM_EDITING : self->state);
}

/* The field a changed widget belongs to has been reached: from now on it says what is wrong. */
static void
field_changed_cb (EnvoiAccountDialog *self,
                  GtkWidget          *widget)
{
  if (self->loading)
    return;

  for (guint i = 0; i < N_FIELDS; i++)
    if (self->field_rows[i] != NULL &&
        (widget == self->field_rows[i] || gtk_widget_is_ancestor (widget, self->field_rows[i])))
      self->field_touched[i] = TRUE;

  schedule_validation (self);
}

/* Provider presets */

static void
fill_derived (EnvoiAccountDialog *self)
{
  EnvoiPreset *preset = selected_preset (self);
  EnvoiPresetServer *server;
  g_autofree char *address = NULL;
  g_autofree char *part = NULL;
  g_autofree char *host = NULL;
  g_autofree char *username = NULL;

  if (preset == NULL)
    return;

  server = envoi_preset_get_outgoing_server (preset);
  address = stripped_text_of (self->address_row);
  part = stripped_text_of (self->host_part_row);

  host = envoi_preset_server_dup_hostname_for (server, address, part, NULL);
  if (host != NULL)
    {
      g_autofree char *current = stripped_text_of (self->host_row);

      if (*current == '\0' || g_strcmp0 (current, self->derived_host) == 0)
        set_text (self->host_row, host);
      g_free (self->derived_host);
      self->derived_host = g_steal_pointer (&host);
    }

  username = envoi_preset_server_dup_username_for (server, address, NULL);
  if (username != NULL)
    {
      g_autofree char *current = stripped_text_of (self->username_row);

      /* The full address is the default login: the field stays empty for it. */
      if (g_strcmp0 (username, address) == 0)
        username[0] = '\0';

      if (*current == '\0' || g_strcmp0 (current, self->derived_username) == 0)
        set_text (self->username_row, username);
      g_free (self->derived_username);
      self->derived_username = g_steal_pointer (&username);
    }
}

static void
show_preset_note (EnvoiAccountDialog *self)
{
  EnvoiPreset *preset = selected_preset (self);
  g_autoptr(GString) markup = g_string_new (NULL);
  const char *note;
  const char *url;

  if (preset == NULL)
    {
      set_message (self, FIELD_PROVIDER, ENVOI_FIELD_MESSAGE_INFO, NULL);
      return;
    }

  note = envoi_preset_get_note (preset);
  url = envoi_preset_get_documentation_url (preset);

  if (note != NULL && *note != '\0')
    {
      g_autofree char *escaped = g_markup_escape_text (note, -1);

      g_string_append (markup, escaped);
    }

  if (url != NULL && *url != '\0')
    {
      g_autofree char *escaped_url = g_markup_escape_text (url, -1);
      g_autofree char *escaped_text = g_markup_escape_text (_("Open the provider’s help page"), -1);

      if (markup->len > 0)
        g_string_append (markup, " ");
      g_string_append_printf (markup, "<a href=\"%s\">%s</a>", escaped_url, escaped_text);
    }

  set_message (self, FIELD_PROVIDER,
               envoi_preset_get_unverified (preset) ? ENVOI_FIELD_MESSAGE_WARNING : ENVOI_FIELD_MESSAGE_INFO,
               markup->len > 0 ? markup->str : NULL);
}

static void
apply_preset (EnvoiAccountDialog *self)
{
  EnvoiPreset *preset = selected_preset (self);
  EnvoiPresetServer *server;
  g_autofree char *port = NULL;

  show_preset_note (self);

  if (preset == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->host_part_row), FALSE);
      set_message (self, FIELD_HOST_PART, ENVOI_FIELD_MESSAGE_INFO, NULL);
      return;
    }

  server = envoi_preset_get_outgoing_server (preset);
  gtk_widget_set_visible (GTK_WIDGET (self->host_part_row),
                          envoi_preset_server_needs_host_part (server));
  if (!envoi_preset_server_needs_host_part (server))
    set_message (self, FIELD_HOST_PART, ENVOI_FIELD_MESSAGE_INFO, NULL);

  /* A preset replaces whatever was derived before, not what the user typed over it. */
  g_clear_pointer (&self->derived_host, g_free);
  g_clear_pointer (&self->derived_username, g_free);
  set_text (self->host_row, "");
  set_text (self->username_row, "");

  port = g_strdup_printf ("%u", envoi_preset_server_get_port (server));
  set_text (self->port_row, port);
  adw_combo_row_set_selected (self->security_row, envoi_preset_server_get_security (server));
  adw_combo_row_set_selected (self->auth_row, envoi_preset_server_get_auth_method (server));
  gtk_switch_set_active (self->verify_switch, TRUE);

  fill_derived (self);
}

/* An online account fills the form with what GOA knows of its SMTP server. */
static void
apply_goa_account (EnvoiAccountDialog *self,
                   EnvoiGoaAccount    *goa_account)
{
  g_autoptr(EnvoiAccount) values = envoi_goa_account_to_envoi (goa_account);
  g_autofree char *port = g_strdup_printf ("%u", envoi_account_get_port (values));
  const char *address = envoi_account_get_address (values);
  const char *username = envoi_account_get_username (values);

  show_preset_note (self);
  gtk_widget_set_visible (GTK_WIDGET (self->host_part_row), FALSE);
  set_message (self, FIELD_HOST_PART, ENVOI_FIELD_MESSAGE_INFO, NULL);
  g_clear_pointer (&self->derived_host, g_free);
  g_clear_pointer (&self->derived_username, g_free);

  /* The server first: an address with an empty server would start looking for one. */
  set_text (self->host_row, envoi_account_get_host (values));
  set_text (self->port_row, port);
  adw_combo_row_set_selected (self->security_row, envoi_account_get_security (values));
  adw_combo_row_set_selected (self->auth_row, envoi_account_get_auth_method (values));
  set_text (self->username_row, g_strcmp0 (username, address) == 0 ? "" : username);
  gtk_switch_set_active (self->verify_switch, TRUE);
  if (*address != '\0')
    set_text (self->address_row, address);
  if (*envoi_account_get_display_name (values) != '\0')
    set_text (self->name_row, envoi_account_get_display_name (values));
}

static void
provider_selected_cb (EnvoiAccountDialog *self)
{
  EnvoiGoaAccount *goa_account;

  if (self->loading || envoi_goa_choice_is_updating (self->goa_choice))
    return;

  goa_account = envoi_goa_choice_get_account (self->goa_choice,
                                              adw_combo_row_get_selected (self->provider_row));
  if (goa_account != NULL)
    apply_goa_account (self, goa_account);
  else
    apply_preset (self);
  schedule_validation (self);
}

static void
goa_changed_cb (EnvoiAccountDialog *self)
{
  update_form (self);
}

static void
address_changed_cb (EnvoiAccountDialog *self)
{
  if (self->loading)
    return;

  self->field_touched[FIELD_ADDRESS] = TRUE;
  if (gtk_widget_get_visible (GTK_WIDGET (self->host_part_row)) &&
      *text_of (self->host_part_row) != '\0')
    self->field_touched[FIELD_HOST_PART] = TRUE;

  /* A new account whose domain a preset knows starts from that preset. */
  if (self->is_new && adw_combo_row_get_selected (self->provider_row) == 0 &&
      *text_of (self->host_row) == '\0')
    {
      EnvoiPreset *preset = envoi_preset_catalog_lookup_address (text_of (self->address_row));

      for (guint i = 0; preset != NULL && i < self->presets->len; i++)
        if (g_ptr_array_index (self->presets, i) == preset)
          {
            adw_combo_row_set_selected (self->provider_row, i + 1);
            break;
          }
    }

  /* Offer to find the server; look on its own while the server field is empty. */
  envoi_autoconfig_row_set_address (self->autoconfig_row, text_of (self->address_row),
                                    self->is_new && *text_of (self->host_row) == '\0');

  fill_derived (self);
  schedule_validation (self);
}

static void
security_selected_cb (EnvoiAccountDialog *self)
{
  EnvoiSecurity security = adw_combo_row_get_selected (self->security_row);
  guint16 port = 0;

  if (self->loading)
    return;

  /* Moving between the two usual pairs moves the port along, not a port typed by hand. */
  if (envoi_validate_port (text_of (self->port_row), &port, NULL))
    {
      if (security == ENVOI_SECURITY_TLS && port == DEFAULT_STARTTLS_PORT)
        set_text (self->port_row, G_STRINGIFY (DEFAULT_TLS_PORT));
      else if (security == ENVOI_SECURITY_STARTTLS && port == DEFAULT_TLS_PORT)
        set_text (self->port_row, G_STRINGIFY (DEFAULT_STARTTLS_PORT));
    }

  schedule_validation (self);
}

static void
auth_selected_cb (EnvoiAccountDialog *self)
{
  EnvoiAuthMethod method = adw_combo_row_get_selected (self->auth_row);
  gboolean login = method != ENVOI_AUTH_METHOD_NONE;

  gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), login);
  gtk_widget_set_sensitive (GTK_WIDGET (self->password_row), login);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->password_row),
                                 method == ENVOI_AUTH_METHOD_XOAUTH2
                                   ? _("Access _Token") : _("Pass_word"));
  schedule_validation (self);
}

static void
update_pinned_row (EnvoiAccountDialog *self)
{
  const char *pin = envoi_account_get_pinned_key (self->original);

  gtk_widget_set_visible (GTK_WIDGET (self->pinned_row), *pin != '\0');
  adw_action_row_set_subtitle (self->pinned_row, pin);
}

static void
forget_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (widget);

  /* Forgetting is an edit like any other: it takes effect on Save, and Cancel reverts it. */
  self->forget_pin = TRUE;
  g_clear_pointer (&self->pending_pin, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->pinned_row), FALSE);
  schedule_validation (self);
}

/* The GOA password account the form was filled from, when its password is still GOA's (nothing
 * typed over it): the test panel asks GOA for it, as Save does. */
EnvoiGoaAccount *
envoi_account_dialog_get_goa_password_account (EnvoiAccountDialog *self)
{
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), NULL);

  return *text_of (self->password_row) == '\0' ? goa_password_account (self) : NULL;
}

/* The secret the form would save: the one typed, else the one in the keyring. */
char *
envoi_account_dialog_dup_secret (EnvoiAccountDialog *self)
{
  const char *typed;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self), NULL);

  typed = text_of (self->password_row);
  if (*typed != '\0')
    return g_strdup (typed);

  return g_strdup (self->saved_secret);
}

/* The test panel asks for a run: the form's unsaved values, with the secrets Save would keep. */
static void
test_run_requested_cb (EnvoiAccountDialog *self,
                       EnvoiTestRunKind    kind)
{
  static const EnvoiService incoming[] = { ENVOI_SERVICE_POP3, ENVOI_SERVICE_IMAP };
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(EnvoiTestRun) run = NULL;
  char *secret;

  envoi_account_dialog_validate_now (self);
  if (self->state == ENVOI_FORM_INVALID)
    {
      envoi_test_panel_show_invalid_form (self->test_panel);
      return;
    }

  account = envoi_account_dialog_build_account (self);
  run = envoi_test_run_new (kind, account);

  secret = envoi_account_dialog_dup_secret (self);
  envoi_test_run_set_secret (run, ENVOI_SERVICE_SMTP, secret);
  envoi_secret_free (secret);
  for (guint i = 0; i < G_N_ELEMENTS (incoming); i++)
    {
      secret = envoi_incoming_group_dup_secret (self->incoming_group, incoming[i]);
      envoi_test_run_set_secret (run, incoming[i], secret);
      envoi_secret_free (secret);
    }
  secret = envoi_transport_group_dup_key (self->transport_group);
  envoi_test_run_set_secret (run, ENVOI_SERVICE_HTTP, secret);
  envoi_secret_free (secret);
  envoi_test_run_set_goa_password_account (run,
                                           envoi_account_dialog_get_goa_password_account (self));

  envoi_test_panel_run (self->test_panel, run);
}

/* What the test panel shows follows the form: the default recipient, and what can be tested. */
static void
update_test_panel (EnvoiAccountDialog *self)
{
  g_autofree char *address = stripped_text_of (self->address_row);

  envoi_test_panel_set_default_recipient (self->test_panel, address);
  envoi_test_panel_set_can_test_connection (self->test_panel,
                                            envoi_transport_group_get_transport (self->transport_group)
                                              == ENVOI_TRANSPORT_SMTP);
  envoi_test_panel_set_can_test_imap (self->test_panel,
                                      envoi_incoming_group_has_imap_server (self->incoming_group));
}

/* What the person typed in the quick setup, carried into a new account's form ("Set Up
 * Manually"), as if typed here: the address picks its preset as usual. */
void
envoi_account_dialog_prefill (EnvoiAccountDialog *self,
                              const char         *address,
                              const char         *display_name,
                              const char         *password)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self));
  g_return_if_fail (self->is_new);

  if (display_name != NULL)
    set_text (self->name_row, display_name);
  if (address != NULL)
    set_text (self->address_row, address);
  if (password != NULL)
    set_text (self->password_row, password);
  envoi_account_dialog_validate_now (self);
}

/* Applies one fix offered by the connection test, as if the user had made the change:
 * it shows in the form and takes effect on Save. Keys are settings keys. */
void
envoi_account_dialog_apply_fix (EnvoiAccountDialog *self,
                                const char         *key,
                                GVariant           *value)
{
  g_return_if_fail (ENVOI_IS_ACCOUNT_DIALOG (self));
  g_return_if_fail (key != NULL && value != NULL);

  if (g_str_equal (key, "pinned-key") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      self->forget_pin = FALSE;
      g_free (self->pending_pin);
      self->pending_pin = g_variant_dup_string (value, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->pinned_row), *self->pending_pin != '\0');
      adw_action_row_set_subtitle (self->pinned_row, self->pending_pin);
    }
  else if (g_str_equal (key, "security") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *nick = g_variant_get_string (value, NULL);
      GEnumValue *ev = g_enum_get_value_by_nick (g_type_class_peek (ENVOI_TYPE_SECURITY), nick);

      if (ev != NULL)
        adw_combo_row_set_selected (self->security_row, ev->value);
    }
  else if (g_str_equal (key, "port") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    {
      g_autofree char *port = g_strdup_printf ("%u", g_variant_get_uint16 (value));

      set_text (self->port_row, port);
    }
  else if (g_str_equal (key, "auth-method") && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *nick = g_variant_get_string (value, NULL);
      GEnumValue *ev = g_enum_get_value_by_nick (g_type_class_peek (ENVOI_TYPE_AUTH_METHOD), nick);

      if (ev != NULL)
        adw_combo_row_set_selected (self->auth_row, ev->value);
    }
  else
    {
      g_warning ("The connection test offered a fix for “%s”, which the form does not have", key);
      return;
    }

  envoi_account_dialog_validate_now (self);
}

/* Loading */

static void
load_account (EnvoiAccountDialog *self)
{
  EnvoiAccount *account = self->original;
  const char *provider = envoi_account_get_provider (account);
  g_autofree char *port = g_strdup_printf ("%u", envoi_account_get_port (account));
  guint selected = 0;

  self->loading = TRUE;

  for (guint i = 0; i < self->presets->len; i++)
    if (g_strcmp0 (envoi_preset_get_id (g_ptr_array_index (self->presets, i)), provider) == 0)
      selected = i + 1;
  if (envoi_goa_account_id_from_provider (provider) != NULL)
    selected = envoi_goa_choice_add_saved (self->goa_choice,
                                           envoi_goa_account_id_from_provider (provider),
                                           envoi_account_get_address (account));
  adw_combo_row_set_selected (self->provider_row, selected);
  show_preset_note (self);

  set_text (self->address_row, envoi_account_get_address (account));
  set_text (self->name_row, envoi_account_get_display_name (account));
  set_text (self->reply_to_row, envoi_account_get_reply_to (account));
  set_text (self->host_row, envoi_account_get_host (account));
  set_text (self->port_row, port);
  adw_combo_row_set_selected (self->security_row, envoi_account_get_security (account));
  gtk_switch_set_active (self->plaintext_switch,
                         envoi_account_get_allow_plaintext_password (account));
  gtk_switch_set_active (self->verify_switch, envoi_account_get_verify_certificate (account));
  adw_combo_row_set_selected (self->auth_row, envoi_account_get_auth_method (account));
  set_text (self->username_row, envoi_account_get_username (account));
  update_pinned_row (self);
  envoi_transport_group_load (self->transport_group, account);
  envoi_incoming_group_load (self->incoming_group, account);
  envoi_delivery_group_load (self->delivery_group, account);

  self->loading = FALSE;
  auth_selected_cb (self);
}

static void
lookup_secret_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(EnvoiAccountDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  char *secret;

  secret = envoi_secret_lookup_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (error != NULL)
    {
      g_autofree char *message = NULL;

      g_autofree char *escaped = NULL;

      /* Translators: %s says why the keyring could not be read */
      message = g_strdup_printf (_("The saved password could not be read: %s"), error->message);
      /* A toast's title is markup; the keyring's words are plain text. */
      escaped = g_markup_escape_text (message, -1);
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
    }

  self->secret_pending = FALSE;
  envoi_secret_free (self->saved_secret);
  self->saved_secret = secret;
  self->has_saved_secret = secret != NULL;
  update_form (self);
}

/* Saving (envoi-account-saver.c): the keyring first, so a refused password leaves the settings
 * as they were. */

/* Nothing was written: the form stays as typed, and a toast says why until dismissed. */
static void
show_save_failure (EnvoiAccountDialog *self,
                   const char         *message)
{
  g_autofree char *escaped = g_markup_escape_text (message, -1);  /* a toast's title is markup */
  AdwToast *toast = adw_toast_new (escaped);

  set_state (self, ENVOI_FORM_ERROR);
  adw_toast_set_timeout (toast, 0);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
save_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiAccountDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (envoi_account_saver_save_finish (ENVOI_ACCOUNT_SAVER (source), result, &error))
    {
      self->closing = TRUE;
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_save_failure (self, error->message);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (widget);
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(EnvoiAccountSaver) saver = NULL;
  g_autoptr(EnvoiSecretString) pop = NULL;
  g_autoptr(EnvoiSecretString) imap = NULL;
  g_autoptr(EnvoiSecretString) key = NULL;
  const char *password;

  self->show_all_errors = TRUE;
  envoi_transport_group_reveal_errors (self->transport_group);
  envoi_incoming_group_reveal_errors (self->incoming_group);
  envoi_delivery_group_reveal_errors (self->delivery_group);
  envoi_account_dialog_validate_now (self);
  if (self->state != ENVOI_FORM_EDITING && self->state != ENVOI_FORM_ERROR)
    {
      for (guint i = 0; i < N_FIELDS; i++)
        if (self->field_invalid[i])
          {
            show_page_of (self, self->field_rows[i]);
            gtk_widget_grab_focus (self->field_rows[i]);
            return;
          }
      /* A group knows its wrong row; its page is then the focus's. */
      if (envoi_delivery_group_focus_invalid (self->delivery_group) ||
          envoi_transport_group_focus_invalid (self->transport_group) ||
          envoi_incoming_group_focus_invalid (self->incoming_group))
        show_page_of (self, gtk_root_get_focus (GTK_ROOT (self)));
      return;
    }

  if (!envoi_account_dialog_is_modified (self))
    return;

  account = envoi_account_dialog_build_account (self);
  if (self->is_new)
    {
      /* A new account is named after its address, now that the address is known. */
      g_autofree char *id = envoi_account_store_make_id (self->store,
                                                         envoi_account_get_address (account));
      EnvoiAccount *renamed = envoi_account_copy_as (account, id);

      g_object_unref (account);
      account = renamed;
    }

  /* Each secret as typed, if it was, and as the keyring had it when the dialog opened. */
  password = text_of (self->password_row);
  pop = envoi_incoming_group_dup_saved_secret (self->incoming_group, ENVOI_SERVICE_POP3);
  imap = envoi_incoming_group_dup_saved_secret (self->incoming_group, ENVOI_SERVICE_IMAP);
  key = envoi_transport_group_dup_saved_key (self->transport_group);
  saver = envoi_account_saver_new (self->store, account, self->original, self->is_new);
  envoi_account_saver_set_secret (saver, ENVOI_SERVICE_SMTP,
                                  *password != '\0' ? password : NULL, self->saved_secret);
  envoi_account_saver_set_secret (saver, ENVOI_SERVICE_POP3,
                                  envoi_incoming_group_get_typed_secret (self->incoming_group,
                                                                         ENVOI_SERVICE_POP3),
                                  pop);
  envoi_account_saver_set_secret (saver, ENVOI_SERVICE_IMAP,
                                  envoi_incoming_group_get_typed_secret (self->incoming_group,
                                                                         ENVOI_SERVICE_IMAP),
                                  imap);
  envoi_account_saver_set_secret (saver, ENVOI_SERVICE_HTTP,
                                  envoi_transport_group_get_typed_key (self->transport_group),
                                  key);
  envoi_account_saver_set_goa_password_account (saver,
                                                envoi_account_dialog_get_goa_password_account (self));

  set_state (self, ENVOI_FORM_SAVING);
  envoi_account_saver_save_async (saver, self->cancellable, save_cb, g_object_ref (self));
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (widget);

  self->closing = TRUE;
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
destroy_cb (gpointer user_data)
{
  g_autoptr(GtkWindow) window = user_data;

  gtk_window_destroy (window);
}

static void
discard_response_cb (AdwMessageDialog   *dialog,
                     const char         *response,
                     EnvoiAccountDialog *self)
{
  /* The question finishes closing first: it is transient for this window. */
  if (g_strcmp0 (response, "discard") == 0)
    {
      self->closing = TRUE;
      g_idle_add_once (destroy_cb, g_object_ref (self));
    }
}

static gboolean
envoi_account_dialog_close_request (GtkWindow *window)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (window);
  GtkWidget *dialog;

  if (self->closing || self->state == ENVOI_FORM_SAVING || !envoi_account_dialog_is_modified (self))
    return GDK_EVENT_PROPAGATE;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Discard Changes?"),
                                   _("The changes to this account have not been saved."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "keep", _("_Keep Editing"),
                                    "discard", _("_Discard"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect_object (dialog, "response", G_CALLBACK (discard_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));

  return GDK_EVENT_STOP;
}

static void
escape_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

/* Settings found from the address, fill the form only once the person pressed “Use These
 * Settings”; a built-in preset is chosen as a preset. Security is taken as found: a server
 * without encryption still needs the explicit switch below it. */
static void
autoconfig_apply_cb (EnvoiAccountDialog    *self,
                     EnvoiAutoconfigResult *result)
{
  EnvoiPreset *preset = envoi_autoconfig_result_get_preset (result);
  g_autofree char *port = g_strdup_printf ("%u", envoi_autoconfig_result_get_port (result));

  if (envoi_autoconfig_result_get_source (result) == ENVOI_AUTOCONFIG_SOURCE_PRESET)
    for (guint i = 0; i < self->presets->len; i++)
      if (g_strcmp0 (envoi_preset_get_id (g_ptr_array_index (self->presets, i)),
                     envoi_preset_get_id (preset)) == 0)
        {
          adw_combo_row_set_selected (self->provider_row, i + 1);
          envoi_account_dialog_validate_now (self);
          return;
        }

  adw_combo_row_set_selected (self->provider_row, 0);
  g_clear_pointer (&self->derived_host, g_free);
  g_clear_pointer (&self->derived_username, g_free);
  set_text (self->host_row, envoi_autoconfig_result_get_hostname (result));
  adw_combo_row_set_selected (self->security_row, envoi_autoconfig_result_get_security (result));
  set_text (self->port_row, port);
  adw_combo_row_set_selected (self->auth_row, envoi_autoconfig_result_get_auth_method (result));
  set_text (self->username_row, envoi_autoconfig_result_get_username (result));
  gtk_switch_set_active (self->verify_switch, TRUE);
  envoi_account_dialog_validate_now (self);
}

static void
autoconfig_auth_chosen_cb (EnvoiAccountDialog *self,
                           guint               method)
{
  adw_combo_row_set_selected (self->auth_row, method);
  envoi_account_dialog_validate_now (self);
}

static void
envoi_account_dialog_dispose (GObject *object)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->validate_source, g_source_remove);
  if (self->test_panel != NULL)
    envoi_test_panel_cancel (self->test_panel);

  G_OBJECT_CLASS (envoi_account_dialog_parent_class)->dispose (object);
}

static void
envoi_account_dialog_finalize (GObject *object)
{
  EnvoiAccountDialog *self = ENVOI_ACCOUNT_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->original);
  g_clear_pointer (&self->presets, g_ptr_array_unref);
  g_clear_object (&self->goa_choice);
  g_clear_pointer (&self->saved_secret, envoi_secret_free);
  g_free (self->derived_host);
  g_free (self->derived_username);
  g_free (self->pending_pin);

  G_OBJECT_CLASS (envoi_account_dialog_parent_class)->finalize (object);
}

static void
envoi_account_dialog_class_init (EnvoiAccountDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = envoi_account_dialog_dispose;
  object_class->finalize = envoi_account_dialog_finalize;
  window_class->close_request = envoi_account_dialog_close_request;

  g_type_ensure (ENVOI_TYPE_TEST_PANEL);
  g_type_ensure (ENVOI_TYPE_AUTOCONFIG_ROW);
  g_type_ensure (ENVOI_TYPE_TRANSPORT_GROUP);
  g_type_ensure (ENVOI_TYPE_INCOMING_GROUP);
  g_type_ensure (ENVOI_TYPE_DELIVERY_GROUP);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-account-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, save_stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, save_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, save_spinner);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, view_stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, provider_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, host_part_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, autoconfig_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, reply_to_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, host_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, port_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, security_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, plaintext_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, plaintext_switch);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, verify_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, verify_switch);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, pinned_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, auth_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, username_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, goa_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, test_panel);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, server_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, imap_page);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, auth_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, transport_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, incoming_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiAccountDialog, delivery_group);

  gtk_widget_class_install_action (widget_class, "dialog.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "dialog.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "dialog.escape", NULL, escape_action);
  gtk_widget_class_install_action (widget_class, "dialog.forget-certificate", NULL,
                                   forget_certificate_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "dialog.escape", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "dialog.save", NULL);
}

/* Enter in any field saves, or says what still stands in the way. */
static void
entry_activated_cb (EnvoiAccountDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "dialog.save", NULL);
}

static char *
preset_name (EnvoiPreset *preset)
{
  return g_strdup (envoi_preset_get_display_name (preset));
}

static void
envoi_account_dialog_init (EnvoiAccountDialog *self)
{
  g_autoptr(GtkStringList) providers = gtk_string_list_new (NULL);
  GListModel *builtin = envoi_preset_catalog_get_builtin ();

  gtk_widget_init_template (GTK_WIDGET (self));
  adw_preferences_page_add (self->imap_page,
                            envoi_incoming_group_get_imap_group (self->incoming_group));

  self->cancellable = g_cancellable_new ();
  self->presets = g_ptr_array_new_with_free_func (g_object_unref);

  /* Translators: the provider choice for a server typed by hand */
  gtk_string_list_append (providers, _("Custom"));
  for (guint i = 0; i < g_list_model_get_n_items (builtin); i++)
    {
      EnvoiPreset *preset = g_list_model_get_item (builtin, i);
      g_autofree char *name = preset_name (preset);

      g_ptr_array_add (self->presets, preset);
      gtk_string_list_append (providers, name);
    }
  adw_combo_row_set_model (self->provider_row, G_LIST_MODEL (providers));
  self->goa_choice = envoi_goa_choice_new (self->provider_row, providers);
  g_signal_connect_object (self->goa_choice, "changed", G_CALLBACK (goa_changed_cb), self,
                           G_CONNECT_SWAPPED);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->host_part_row),
                                 _("Part of the Server _Name"));

  add_message_row (self, FIELD_PROVIDER, GTK_WIDGET (self->provider_row));
  add_message_row (self, FIELD_HOST_PART, GTK_WIDGET (self->host_part_row));
  add_message_row (self, FIELD_ADDRESS, GTK_WIDGET (self->address_row));
  add_message_row (self, FIELD_NAME, GTK_WIDGET (self->name_row));
  add_message_row (self, FIELD_REPLY_TO, GTK_WIDGET (self->reply_to_row));
  add_message_row (self, FIELD_HOST, GTK_WIDGET (self->host_row));
  add_message_row (self, FIELD_PORT, GTK_WIDGET (self->port_row));
  add_message_row (self, FIELD_SECURITY, GTK_WIDGET (self->security_row));
  add_message_row (self, FIELD_VERIFY, GTK_WIDGET (self->verify_row));
  add_message_row (self, FIELD_USERNAME, GTK_WIDGET (self->username_row));
  add_message_row (self, FIELD_PASSWORD, GTK_WIDGET (self->password_row));
  add_message_row (self, FIELD_GOA, GTK_WIDGET (self->goa_row));

  /* An empty user name means the address: say so where the name would be typed. */
  gtk_text_set_placeholder_text (GTK_TEXT (gtk_editable_get_delegate (GTK_EDITABLE (self->username_row))),
                                 _("Same as the email address"));

  _envoi_label_like_row (GTK_WIDGET (self->plaintext_switch), GTK_WIDGET (self->plaintext_row));
  _envoi_label_like_row (GTK_WIDGET (self->verify_switch), GTK_WIDGET (self->verify_row));

  g_signal_connect_object (self->provider_row, "notify::selected",
                           G_CALLBACK (provider_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->security_row, "notify::selected",
                           G_CALLBACK (security_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->auth_row, "notify::selected",
                           G_CALLBACK (auth_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->address_row, "changed",
                           G_CALLBACK (address_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->host_part_row, "changed",
                           G_CALLBACK (address_changed_cb), self, G_CONNECT_SWAPPED);

  {
    GObject *watched[] = {
      G_OBJECT (self->name_row), G_OBJECT (self->reply_to_row), G_OBJECT (self->host_row),
      G_OBJECT (self->port_row), G_OBJECT (self->username_row), G_OBJECT (self->password_row),
    };

    GObject *entries[] = {
      G_OBJECT (self->host_part_row), G_OBJECT (self->address_row), G_OBJECT (self->name_row),
      G_OBJECT (self->reply_to_row), G_OBJECT (self->host_row), G_OBJECT (self->port_row),
      G_OBJECT (self->username_row), G_OBJECT (self->password_row),
    };

    for (guint i = 0; i < G_N_ELEMENTS (watched); i++)
      g_signal_connect_object (watched[i], "changed", G_CALLBACK (field_changed_cb), self,
                               G_CONNECT_SWAPPED);
    for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
      g_signal_connect_object (entries[i], "entry-activated", G_CALLBACK (entry_activated_cb),
                               self, G_CONNECT_SWAPPED);
  }
  g_signal_connect_object (self->verify_switch, "notify::active",
                           G_CALLBACK (schedule_validation), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->plaintext_switch, "notify::active",
                           G_CALLBACK (schedule_validation), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->transport_group, "changed",
                           G_CALLBACK (schedule_validation), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->incoming_group, "changed",
                           G_CALLBACK (schedule_validation), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->delivery_group, "changed",
                           G_CALLBACK (schedule_validation), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->delivery_group, "activated",
                           G_CALLBACK (entry_activated_cb), self, G_CONNECT_SWAPPED);

  /* The test works on the unsaved form; the fixes it offers become edits of the form. */
  g_signal_connect_object (self->test_panel, "run-requested",
                           G_CALLBACK (test_run_requested_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->address_row, "changed",
                           G_CALLBACK (update_test_panel), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->transport_group, "changed",
                           G_CALLBACK (update_test_panel), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->incoming_group, "changed",
                           G_CALLBACK (update_test_panel), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->autoconfig_row, "apply",
                           G_CALLBACK (autoconfig_apply_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->autoconfig_row, "auth-chosen",
                           G_CALLBACK (autoconfig_auth_chosen_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->test_panel, "apply-fix",
                           G_CALLBACK (envoi_account_dialog_apply_fix), self, G_CONNECT_SWAPPED);

}

EnvoiAccountDialog *
envoi_account_dialog_new (GtkWindow         *parent,
                          EnvoiAccountStore *store,
                          EnvoiAccount      *account)
{
  EnvoiAccountDialog *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_ACCOUNT_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->store = g_object_ref (store);
  self->is_new = account == NULL;

  if (account != NULL)
    {
      self->original = envoi_account_copy (account);
      adw_view_switcher_title_set_title (self->switcher_title, _("Edit Account"));
      adw_view_switcher_title_set_subtitle (self->switcher_title,
                                            envoi_account_get_address (account));
      self->secret_pending = TRUE;
      envoi_secret_lookup_async (account, ENVOI_SERVICE_SMTP, self->cancellable,
                                 lookup_secret_cb, g_object_ref (self));
    }
  else
    {
      g_autofree char *id = envoi_account_store_make_id (store, NULL);

      self->original = envoi_account_new (id);
      adw_view_switcher_title_set_title (self->switcher_title, _("Add Account"));
    }

  load_account (self);
  update_form (self);
  update_test_panel (self);
  /* GOA answers later; its accounts then join the Provider list. */
  envoi_goa_choice_list (self->goa_choice, self->cancellable);

  return self;
}

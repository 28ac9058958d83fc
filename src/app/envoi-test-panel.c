/* envoi-test-panel.c: trying an account's settings before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The panel reads the dialog's unsaved values when a button is pressed, runs a connection test
 * or a test send on an EnvoiSmtpClient (whose worker thread keeps the main loop free), and
 * shows what happened: what the server offered, or what went wrong and how to fix it. Fixes
 * it can make itself are buttons; they are handed to the dialog through the "apply-fix"
 * signal, so they show in the form and take effect on Save like any other edit.
 */

#define G_LOG_DOMAIN "envoi-test-panel"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-goa.h"
#include "envoi-goa-error.h"
#include "envoi-http-transport.h"
#include "envoi-incoming-group.h"
#include "envoi-mailbox-client.h"
#include "envoi-message.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"
#include "envoi-smtp-error.h"
#include "envoi-test-panel.h"
#include "envoi-transport-group.h"
#include "envoi-validate.h"

#define DEFAULT_STARTTLS_PORT 587
#define DEFAULT_TLS_PORT      465

typedef enum
{
  RUN_TEST,
  RUN_SEND,
  RUN_IMAP,   /* log in to the IMAP server and list its folders */
} RunKind;

struct _EnvoiTestPanel
{
  AdwPreferencesGroup  parent_instance;

  EnvoiAccountDialog  *dialog;        /* weak: the dialog owns the panel */
  GtkEditable         *address_row;   /* the dialog's, to follow the default recipient */
  EnvoiTestPanelState  state;
  gboolean             cancelling;

  /* The current or last run */
  RunKind              kind;
  GCancellable        *cancellable;
  EnvoiSmtpClient     *client;
  EnvoiAccount        *account;       /* the values it used */
  char                *recipient;
  EnvoiSmtpReport     *report;
  EnvoiMailboxClient  *mailbox;       /* the POP3 step before SMTP, or the IMAP test */
  EnvoiHttpTransport  *http;          /* a test send over HTTP */
  GBytes              *message;       /* the test email, while the POP3 step runs */
  char                *transcript;    /* what came before the SMTP report's, or instead of it */
  char                *pop_summary;   /* the POP3 step's outcome, shown beside the SMTP one */
  char                *identity;      /* whose token an OAuth 2 run through GOA signed in with */
  GtkWidget           *transport_group;   /* the dialog's, to follow what can be tested */
  GtkWidget           *incoming_group;

  GtkWidget           *test_button;
  GtkWidget           *imap_button;
  GtkLabel            *http_note;

  AdwEntryRow         *recipient_row;
  GtkLabel            *recipient_hint;
  GtkStack            *action_stack;
  GtkSpinner          *spinner;
  GtkLabel            *running_label;
  GtkWidget           *result_box;
  GtkImage            *result_icon;
  GtkLabel            *result_title;
  GtkLabel            *result_explanation;
  GtkLabel            *result_message;
  GtkBox              *facts_box;
  GtkSizeGroup        *fact_names;   /* the names line up in a column */
  GtkLabel            *result_hint;
  GtkFlowBox          *fixes_box;
  GtkExpander         *details_expander;
  GtkTextView         *transcript_view;
};

G_DEFINE_ENUM_TYPE (EnvoiTestPanelState, envoi_test_panel_state,
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_PANEL_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_PANEL_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_PANEL_SUCCEEDED, "succeeded"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_PANEL_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_PANEL_CANCELLED, "cancelled"))

G_DEFINE_FINAL_TYPE (EnvoiTestPanel, envoi_test_panel, ADW_TYPE_PREFERENCES_GROUP)

enum {
  PROP_0,
  PROP_DIALOG,
  PROP_STATE,
  N_PROPS
};

enum {
  APPLY_FIX,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- helpers ------------------------------------------------------------------------------ */

/* The accessible name of a widget is its visible label, without the mnemonic underline. */
static void
label_like (GtkWidget  *widget,
            const char *mnemonic_label)
{
  g_autofree char *plain = NULL;

  if (!pango_parse_markup (mnemonic_label, -1, '_', NULL, &plain, NULL, NULL))
    plain = g_strdup (mnemonic_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  plain, -1);
}

/* The whole dialogue of the last run: the POP3 step's, then the SMTP one's. */
static char *
dup_transcript (EnvoiTestPanel *self)
{
  return g_strconcat (self->transcript != NULL ? self->transcript : "",
                      self->report != NULL ? envoi_smtp_report_get_transcript (self->report) : "",
                      NULL);
}

/* HTTP sending has no connection test; an IMAP server can be tested once it is named. */
static void
update_buttons (EnvoiTestPanel *self)
{
  g_autoptr(EnvoiAccount) account = NULL;
  gboolean smtp = TRUE;
  gboolean imap = FALSE;

  if (self->dialog != NULL)
    {
      account = envoi_account_dialog_build_account (self->dialog);
      smtp = envoi_account_get_transport (account) == ENVOI_TRANSPORT_SMTP;
      imap = *envoi_account_get_imap_host (account) != '\0';
    }

  gtk_widget_set_visible (self->test_button, smtp);
  gtk_widget_set_visible (self->imap_button, imap);
  gtk_widget_set_visible (GTK_WIDGET (self->http_note), !smtp);
}

static void
update_actions (EnvoiTestPanel *self)
{
  gboolean running = self->state == ENVOI_TEST_PANEL_RUNNING;
  gboolean can_run = !running && self->dialog != NULL;
  g_autofree char *transcript = dup_transcript (self);
  gboolean has_transcript = *transcript != '\0';

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.test-connection", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.send-test", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.test-imap", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.cancel",
                                 running && !self->cancelling);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.trust-certificate", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.use-security", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.use-auth-method", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.copy-transcript",
                                 has_transcript);
}

static void
set_state (EnvoiTestPanel      *self,
           EnvoiTestPanelState  state)
{
  gboolean running = state == ENVOI_TEST_PANEL_RUNNING;

  if (running)
    gtk_widget_set_visible (self->result_box, FALSE);

  gtk_stack_set_visible_child_name (self->action_stack, running ? "running" : "buttons");
  gtk_spinner_set_spinning (self->spinner, running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->recipient_row), !running);

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  update_actions (self);
}

static void
update_recipient_hint (EnvoiTestPanel *self)
{
  g_autofree char *hint = NULL;
  g_autofree char *address = NULL;

  if (self->address_row != NULL)
    address = g_strstrip (g_strdup (gtk_editable_get_text (self->address_row)));
  else if (self->dialog != NULL)
    {
      g_autoptr(EnvoiAccount) account = envoi_account_dialog_build_account (self->dialog);

      address = g_strdup (envoi_account_get_address (account));
    }

  if (address != NULL && *address != '\0')
    /* Translators: %s is the account's email address */
    hint = g_strdup_printf (_("Leave empty to send the test email to %s."), address);
  else
    hint = g_strdup (_("Leave empty to send the test email to this account’s own address."));

  gtk_label_set_text (self->recipient_hint, hint);
}

static void
set_recipient_invalid (EnvoiTestPanel *self,
                       gboolean        invalid)
{
  if (invalid)
    gtk_widget_add_css_class (GTK_WIDGET (self->recipient_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->recipient_row), "error");

  gtk_accessible_update_state (GTK_ACCESSIBLE (self->recipient_row), GTK_ACCESSIBLE_STATE_INVALID,
                               invalid ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE,
                               -1);
}

static void
recipient_changed_cb (EnvoiTestPanel *self)
{
  set_recipient_invalid (self, FALSE);
}

/* ---- the result --------------------------------------------------------------------------- */

typedef enum
{
  LOOK_SUCCESS,
  LOOK_ERROR,
  LOOK_WARNING,
  LOOK_NEUTRAL,
} Look;

static void
set_label (GtkLabel   *label,
           const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && *text != '\0');
}

static void
clear_result (EnvoiTestPanel *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->facts_box))) != NULL)
    gtk_box_remove (self->facts_box, child);
  gtk_widget_set_visible (GTK_WIDGET (self->facts_box), FALSE);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->fixes_box))) != NULL)
    gtk_flow_box_remove (self->fixes_box, child);
  gtk_widget_set_visible (GTK_WIDGET (self->fixes_box), FALSE);

  set_label (self->result_message, NULL);
  set_label (self->result_hint, NULL);
}

static void
show_result (EnvoiTestPanel *self,
             Look            look,
             const char     *title,
             const char     *explanation)
{
  static const char * const icons[] = {
    [LOOK_SUCCESS] = "emblem-ok-symbolic",
    [LOOK_ERROR]   = "dialog-error-symbolic",
    [LOOK_WARNING] = "dialog-warning-symbolic",
    [LOOK_NEUTRAL] = "dialog-information-symbolic",
  };
  static const char * const classes[] = {
    [LOOK_SUCCESS] = "success",
    [LOOK_ERROR]   = "error",
    [LOOK_WARNING] = "warning",
    [LOOK_NEUTRAL] = "dim-label",
  };
  g_autofree char *transcript = dup_transcript (self);

  gtk_image_set_from_icon_name (self->result_icon, icons[look]);
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->result_icon), classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self->result_icon), classes[look]);

  set_label (self->result_title, title);
  set_label (self->result_explanation, explanation);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->transcript_view), transcript, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->details_expander), *transcript != '\0');

  gtk_widget_set_visible (self->result_box, TRUE);
  update_actions (self);
}

static GtkWidget *
add_fact (EnvoiTestPanel *self,
          const char     *name,
          const char     *value)
{
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *name_label = gtk_label_new (name);
  GtkWidget *value_label = gtk_label_new (value);

  gtk_label_set_xalign (GTK_LABEL (name_label), 0);
  gtk_label_set_yalign (GTK_LABEL (name_label), 0);
  gtk_widget_set_valign (name_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (name_label, "dim-label");

  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  gtk_widget_set_focusable (value_label, FALSE);
  gtk_widget_set_hexpand (value_label, TRUE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (value_label),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, name_label, NULL, -1);

  gtk_size_group_add_widget (self->fact_names, name_label);
  gtk_box_append (GTK_BOX (line), name_label);
  gtk_box_append (GTK_BOX (line), value_label);
  gtk_box_append (self->facts_box, line);
  gtk_widget_set_visible (GTK_WIDGET (self->facts_box), TRUE);

  return value_label;
}

static void
add_fix (EnvoiTestPanel *self,
         const char     *mnemonic_label,
         const char     *action_name,
         GVariant       *target)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (mnemonic_label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  if (target != NULL)
    gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);
  label_like (button, mnemonic_label);

  gtk_flow_box_append (self->fixes_box, button);
  gtk_widget_set_focusable (gtk_widget_get_parent (button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->fixes_box), TRUE);
}

static void
add_security_fix (EnvoiTestPanel *self,
                  EnvoiSecurity   security)
{
  if (security == ENVOI_SECURITY_TLS)
    add_fix (self, _("Use SSL/TLS on Port _465"), "test-panel.use-security",
             g_variant_new ("(sq)", "tls", (guint16) DEFAULT_TLS_PORT));
  else
    add_fix (self, _("Use STARTTLS on Port _587"), "test-panel.use-security",
             g_variant_new ("(sq)", "starttls", (guint16) DEFAULT_STARTTLS_PORT));
}

/* The methods the form offers, by the SASL name a server announces. */
static const struct
{
  const char *mechanism;
  const char *nick;
} auth_methods[] = {
  { "PLAIN", "plain" },
  { "LOGIN", "login" },
  { "CRAM-MD5", "cram-md5" },
  { "NTLM", "ntlm" },
  { "XOAUTH2", "xoauth2" },
};

static void
add_auth_fixes (EnvoiTestPanel *self)
{
  const char * const *offered = envoi_smtp_report_get_auth_mechanisms (self->report);
  EnvoiAuthMethod current = envoi_account_get_auth_method (self->account);

  for (guint i = 0; offered != NULL && offered[i] != NULL; i++)
    for (guint j = 0; j < G_N_ELEMENTS (auth_methods); j++)
      {
        g_autofree char *label = NULL;
        GEnumClass *enum_class;
        GEnumValue *value;

        if (g_ascii_strcasecmp (offered[i], auth_methods[j].mechanism) != 0)
          continue;

        enum_class = g_type_class_ref (ENVOI_TYPE_AUTH_METHOD);
        value = g_enum_get_value_by_nick (enum_class, auth_methods[j].nick);
        if (value != NULL && (EnvoiAuthMethod) value->value != current)
          {
            /* Translators: %s is an authentication mechanism such as PLAIN or CRAM-MD5; the
             * underscore marks the mnemonic (keep one) */
            label = g_strdup_printf (_("Use _%s Authentication"), auth_methods[j].mechanism);
            add_fix (self, label, "test-panel.use-auth-method",
                     g_variant_new_string (auth_methods[j].nick));
          }
        g_type_class_unref (enum_class);
      }
}

static void
show_success (EnvoiTestPanel *self,
              const char     *reply)
{
  EnvoiSmtpReport *report = self->report;

  clear_result (self);

  if (self->kind == RUN_SEND)
    {
      g_autofree char *explanation = NULL;

      /* Translators: %s is an email address */
      explanation = g_strdup_printf (_("The server accepted the test email for %s. Check that "
                                       "it arrives."), self->recipient);
      show_result (self, LOOK_SUCCESS, _("Test email sent"), explanation);
      add_fact (self, _("Server’s reply"), reply);
      return;
    }

  show_result (self, LOOK_SUCCESS, _("Connection works"),
               envoi_account_get_auth_method (self->account) == ENVOI_AUTH_METHOD_NONE
                 ? _("The server answered and is ready to take mail.")
                 : _("The server answered and accepted the login."));

  if (report == NULL)
    return;

  {
    const char * const *mechanisms = envoi_smtp_report_get_auth_mechanisms (report);
    guint64 size = envoi_smtp_report_get_size_limit (report);
    g_autofree char *auth = NULL;
    g_autofree char *size_text = NULL;
    const char *starttls;

    if (envoi_smtp_report_get_greeting (report) != NULL)
      add_fact (self, _("Greeting"), envoi_smtp_report_get_greeting (report));
    if (envoi_smtp_report_get_last_reply (report) != NULL)
      add_fact (self, _("Server’s reply"), envoi_smtp_report_get_last_reply (report));

    if (mechanisms != NULL && mechanisms[0] != NULL)
      auth = g_strjoinv (", ", (char **) mechanisms);
    add_fact (self, _("Login methods"), auth != NULL ? auth : _("None offered"));

    if (size > 0)
      size_text = g_format_size (size);
    add_fact (self, _("Largest message"), size_text != NULL ? size_text : _("Not announced"));

    if (envoi_account_get_security (self->account) == ENVOI_SECURITY_TLS)
      starttls = _("Not needed: encrypted from the start (SSL/TLS)");
    else if (envoi_smtp_report_get_starttls_offered (report))
      starttls = _("Offered");
    else
      starttls = _("Not offered");
    add_fact (self, _("STARTTLS"), starttls);
  }
}

static void
show_failure (EnvoiTestPanel *self,
              const GError   *error)
{
  g_autofree char *hint = envoi_smtp_error_dup_hint (error, self->account);
  EnvoiSecurity security = envoi_account_get_security (self->account);
  guint16 port = envoi_account_get_port (self->account);

  clear_result (self);
  show_result (self, LOOK_ERROR, envoi_smtp_error_get_title (error),
               envoi_smtp_error_get_explanation (error));
  set_label (self->result_message, error->message);
  set_label (self->result_hint, hint);

  /* The fixes below change the SMTP server's settings. */
  if (error->domain != ENVOI_SMTP_ERROR ||
      envoi_account_get_transport (self->account) != ENVOI_TRANSPORT_SMTP)
    return;

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      if (self->report != NULL && envoi_smtp_report_get_certificate_pin (self->report) != NULL)
        {
          const char *subject = envoi_smtp_report_get_certificate_subject (self->report);
          const char *issuer = envoi_smtp_report_get_certificate_issuer (self->report);
          GtkWidget *fingerprint;

          /* The facts below say what the message says, unless a trusted key has changed. */
          if (*envoi_account_get_pinned_key (self->account) == '\0')
            set_label (self->result_message, NULL);
          fingerprint = add_fact (self, _("Fingerprint"),
                                  envoi_smtp_report_get_certificate_pin (self->report));
          /* A key is compared character by character: fixed width, broken anywhere. */
          gtk_label_set_wrap_mode (GTK_LABEL (fingerprint), PANGO_WRAP_CHAR);
          gtk_widget_add_css_class (fingerprint, "monospace");
          if (subject != NULL)
            add_fact (self, _("Subject"), subject);
          if (issuer != NULL)
            add_fact (self, _("Issuer"), issuer);
          add_fix (self, _("Trust This Certi_ficate"), "test-panel.trust-certificate", NULL);
        }
      break;

    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
      if (security == ENVOI_SECURITY_TLS)
        add_security_fix (self, ENVOI_SECURITY_STARTTLS);
      else if (security == ENVOI_SECURITY_STARTTLS)
        add_security_fix (self, ENVOI_SECURITY_TLS);
      break;

    case ENVOI_SMTP_ERROR_TIMEOUT:
      /* A timeout is a handshake failure in disguise when the port and mode disagree. */
      if (security == ENVOI_SECURITY_TLS && port == DEFAULT_STARTTLS_PORT)
        add_security_fix (self, ENVOI_SECURITY_STARTTLS);
      else if (security != ENVOI_SECURITY_TLS && port == DEFAULT_TLS_PORT)
        add_security_fix (self, ENVOI_SECURITY_TLS);
      break;

    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
      add_security_fix (self, ENVOI_SECURITY_TLS);
      break;

    case ENVOI_SMTP_ERROR_MECHANISM_NOT_OFFERED:
      if (self->report != NULL)
        add_auth_fixes (self);
      break;

    default:
      break;
    }
}

static void
show_cancelled (EnvoiTestPanel *self)
{
  clear_result (self);
  show_result (self, LOOK_NEUTRAL, _("Test cancelled"),
               _("Nothing was changed. Run the test again when you are ready."));
}

/* ---- running ------------------------------------------------------------------------------ */

static void
finish_run (EnvoiTestPanel  *self,
            EnvoiSmtpClient *client,
            GAsyncResult    *result,
            const GError    *error,
            const char      *reply)
{
  EnvoiSmtpReport *report;

  /* Only the current run may speak. */
  if (client != self->client)
    return;

  report = envoi_smtp_client_get_report (client, result);
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  if (report != NULL)
    self->report = envoi_smtp_report_ref (report);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  self->cancelling = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_state (self, ENVOI_TEST_PANEL_CANCELLED);
      show_cancelled (self);
    }
  else if (error != NULL)
    {
      set_state (self, ENVOI_TEST_PANEL_FAILED);
      show_failure (self, error);
    }
  else
    {
      set_state (self, ENVOI_TEST_PANEL_SUCCEEDED);
      show_success (self, reply);
    }

  /* Both steps of POP-before-SMTP: the POP3 login came first and worked. */
  if (self->pop_summary != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    add_fact (self, _("POP3 login"), self->pop_summary);

  /* Whose sign-in GOA lent: the token may belong to another account than the address. */
  if (self->identity != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    add_fact (self, _("Signed in as"), self->identity);
}

/* The end of a run that is not an SMTP session: the POP3 step that failed, the IMAP test or
 * an HTTP send. Returns whether the run stopped without a cancellation. */
static gboolean
finish_other_run (EnvoiTestPanel *self,
                  const GError   *error)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->message, g_bytes_unref);
  self->cancelling = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_state (self, ENVOI_TEST_PANEL_CANCELLED);
      show_cancelled (self);
      return FALSE;
    }

  set_state (self, error != NULL ? ENVOI_TEST_PANEL_FAILED : ENVOI_TEST_PANEL_SUCCEEDED);
  return TRUE;
}

static void
append_transcript (EnvoiTestPanel *self,
                   const char     *heading,
                   const char     *transcript)
{
  g_autofree char *old = g_steal_pointer (&self->transcript);

  if (transcript == NULL || *transcript == '\0')
    {
      self->transcript = g_steal_pointer (&old);
      return;
    }
  self->transcript = g_strdup_printf ("%s%s\n%s%s", old != NULL ? old : "", heading, transcript,
                                      g_str_has_suffix (transcript, "\n") ? "\n" : "\n\n");
}

static void
test_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiSmtpClient *client = ENVOI_SMTP_CLIENT (source);
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autoptr(GError) error = NULL;

  report = envoi_smtp_client_test_finish (client, result, &error);
  finish_run (self, client, result, error, NULL);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiSmtpClient *client = ENVOI_SMTP_CLIENT (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_smtp_client_send_finish (client, result, &error);
  finish_run (self, client, result, error, reply);
}

/* A problem found before connecting: the form or the recipient. */
static void
show_not_started (EnvoiTestPanel *self,
                  const char     *title,
                  const char     *explanation)
{
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  set_state (self, ENVOI_TEST_PANEL_FAILED);
  clear_result (self);
  show_result (self, LOOK_WARNING, title, explanation);
}

/* The secret a run of @service uses: POP3 and IMAP their own, else the SMTP password; HTTP
 * the API key. Free with envoi_secret_free(). */
static char *
dup_secret (EnvoiTestPanel *self,
            EnvoiService    service)
{
  char *secret = NULL;

  if (service == ENVOI_SERVICE_HTTP && self->transport_group != NULL)
    return envoi_transport_group_dup_key (ENVOI_TRANSPORT_GROUP (self->transport_group));
  if ((service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP) && self->incoming_group != NULL)
    secret = envoi_incoming_group_dup_secret (ENVOI_INCOMING_GROUP (self->incoming_group), service);

  return secret != NULL ? secret : envoi_account_dialog_dup_secret (self->dialog);
}

/* The SMTP session itself, with the password or token it logs in with. */
static void
start_smtp_with (EnvoiTestPanel *self,
                 const char     *secret)
{
  /* The client keeps its own copy of the secret. */
  g_clear_object (&self->client);
  self->client = envoi_smtp_client_new (self->account, secret);

  gtk_label_set_text (self->running_label,
                      self->kind == RUN_SEND ? _("Sending a test email…") : _("Testing the connection…"));
  set_state (self, ENVOI_TEST_PANEL_RUNNING);

  if (self->kind == RUN_SEND)
    {
      const char *recipients[] = { self->recipient, NULL };

      envoi_smtp_client_send_async (self->client, envoi_account_get_address (self->account),
                                    recipients, self->message, self->cancellable,
                                    send_cb, g_object_ref (self));
    }
  else
    {
      envoi_smtp_client_test_async (self->client, self->cancellable,
                                    test_cb, g_object_ref (self));
    }
  g_clear_pointer (&self->message, g_bytes_unref);
}

/* GOA could not lend what the run needs: its reason, in GOA's terms. */
static void
show_goa_error (EnvoiTestPanel *self,
                const GError   *error)
{
  if (!finish_other_run (self, error))
    return;

  clear_result (self);
  show_result (self, LOOK_ERROR, envoi_goa_error_get_title (error),
               envoi_goa_error_get_explanation (error));
  set_label (self->result_message, error->message);
  set_label (self->result_hint, envoi_goa_error_get_hint (error));
  if (self->identity != NULL)
    add_fact (self, _("Signed in as"), self->identity);
}

/* An account that signs in through GOA: a token first, then the session with it. */
static void
goa_token_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  g_autoptr(EnvoiSecretString) token = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *identity = NULL;

  token = envoi_goa_get_access_token_finish (result, &identity, &error);
  g_free (self->identity);
  self->identity = g_steal_pointer (&identity);

  if (token != NULL && !g_cancellable_set_error_if_cancelled (self->cancellable, &error))
    {
      start_smtp_with (self, token);
      return;
    }

  show_goa_error (self, error);
}

/* A password account filled from GOA and not saved yet: its password is still only in GOA. */
static void
goa_password_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  g_autoptr(EnvoiSecretString) password = NULL;
  g_autoptr(GError) error = NULL;

  password = envoi_goa_get_password_finish (result, &error);
  if (password != NULL && !g_cancellable_set_error_if_cancelled (self->cancellable, &error))
    {
      start_smtp_with (self, password);
      return;
    }

  show_goa_error (self, error);
}

static void
start_smtp (EnvoiTestPanel *self)
{
  const char *goa_id = envoi_goa_account_id_from_provider (envoi_account_get_provider (self->account));
  EnvoiGoaAccount *goa_account;
  char *secret;

  if (goa_id != NULL)
    {
      gtk_label_set_text (self->running_label,
                          _("Asking GNOME Online Accounts for a sign-in…"));
      set_state (self, ENVOI_TEST_PANEL_RUNNING);
      envoi_goa_get_access_token_async (NULL, goa_id, NULL, self->cancellable, goa_token_cb,
                                        g_object_ref (self));
      return;
    }

  goa_account = envoi_account_dialog_get_goa_password_account (self->dialog);
  if (goa_account != NULL)
    {
      gtk_label_set_text (self->running_label,
                          _("Asking GNOME Online Accounts for the password…"));
      set_state (self, ENVOI_TEST_PANEL_RUNNING);
      envoi_goa_get_password_async (NULL, goa_account, self->cancellable, goa_password_cb,
                                    g_object_ref (self));
      return;
    }

  /* Ours goes at once. */
  secret = envoi_account_dialog_dup_secret (self->dialog);
  start_smtp_with (self, secret);
  envoi_secret_free (secret);
}

/* POP-before-SMTP: the POP3 login, then the SMTP session only if it worked. */
static void
pop_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiMailboxClient *client = ENVOI_MAILBOX_CLIENT (source);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = envoi_mailbox_client_login_finish (client, result, &error);
  if (client != self->mailbox)
    return;

  append_transcript (self, _("POP3:"), envoi_mailbox_client_get_transcript (client, result));
  g_clear_object (&self->mailbox);

  if (ok && !g_cancellable_is_cancelled (self->cancellable))
    {
      /* Translators: %s is the POP3 server's host name */
      self->pop_summary = g_strdup_printf (_("Logged in to %s before sending."),
                                           envoi_account_get_pop_host (self->account));
      {
        g_autofree char *before = g_steal_pointer (&self->transcript);

        self->transcript = g_strconcat (before != NULL ? before : "", _("SMTP:"), "\n", NULL);
      }
      start_smtp (self);
      return;
    }

  if (!finish_other_run (self, error))
    return;

  clear_result (self);
  show_result (self, LOOK_ERROR, _("The POP3 login before sending failed"),
               _("The server accepts mail only after this login, so nothing was sent over SMTP."));
  set_label (self->result_message, error->message);
}

static void
start_pop (EnvoiTestPanel *self)
{
  char *secret = dup_secret (self, ENVOI_SERVICE_POP3);

  g_clear_object (&self->mailbox);
  self->mailbox = envoi_mailbox_client_new (self->account, ENVOI_SERVICE_POP3, secret);
  envoi_secret_free (secret);

  gtk_label_set_text (self->running_label, _("Logging in to the POP3 server…"));
  set_state (self, ENVOI_TEST_PANEL_RUNNING);
  envoi_mailbox_client_login_async (self->mailbox, self->cancellable, pop_cb, g_object_ref (self));
}

static void
imap_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiMailboxClient *client = ENVOI_MAILBOX_CLIENT (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_auto(GStrv) folders = NULL;

  folders = envoi_mailbox_client_list_folders_finish (client, result, &sent, &error);
  if (client != self->mailbox)
    return;

  append_transcript (self, _("IMAP:"), envoi_mailbox_client_get_transcript (client, result));
  g_clear_object (&self->mailbox);
  if (!finish_other_run (self, error))
    return;

  clear_result (self);
  if (error != NULL)
    {
      show_result (self, LOOK_ERROR, _("The IMAP test failed"),
                   _("Copies of sent messages cannot be saved until this works."));
      set_label (self->result_message, error->message);
    }
  else
    {
      guint n = g_strv_length (folders);
      g_autofree char *explanation = NULL;
      g_autofree char *list = g_strjoinv (", ", folders);

      /* Translators: %u is a number of folders */
      explanation = g_strdup_printf (ngettext ("Logged in and found %u folder.",
                                               "Logged in and found %u folders.", n), n);
      show_result (self, LOOK_SUCCESS, _("IMAP works"), explanation);
      add_fact (self, _("Folders"), list);
      add_fact (self, _("Sent folder"),
                sent != NULL ? sent : _("None found: enter the Sent folder’s name above."));
    }
}

static void
start_imap (EnvoiTestPanel *self)
{
  char *secret = dup_secret (self, ENVOI_SERVICE_IMAP);

  g_clear_object (&self->mailbox);
  self->mailbox = envoi_mailbox_client_new (self->account, ENVOI_SERVICE_IMAP, secret);
  envoi_secret_free (secret);

  gtk_label_set_text (self->running_label, _("Testing the IMAP server…"));
  set_state (self, ENVOI_TEST_PANEL_RUNNING);
  envoi_mailbox_client_list_folders_async (self->mailbox, self->cancellable, imap_cb,
                                           g_object_ref (self));
}

static void
http_send_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiHttpTransport *transport = ENVOI_HTTP_TRANSPORT (source);
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_http_transport_send_finish (transport, result, &error);
  if (transport != self->http)
    return;

  append_transcript (self, _("HTTP:"), envoi_http_transport_get_transcript (transport, result));
  g_clear_object (&self->http);
  if (!finish_other_run (self, error))
    return;

  if (error != NULL)
    show_failure (self, error);
  else
    show_success (self, reply);
}

static void
start_http_send (EnvoiTestPanel *self)
{
  char *key = dup_secret (self, ENVOI_SERVICE_HTTP);
  const char *recipients[] = { self->recipient, NULL };

  g_clear_object (&self->http);
  self->http = envoi_http_transport_new (self->account, key);
  envoi_secret_free (key);

  gtk_label_set_text (self->running_label, _("Sending a test email…"));
  set_state (self, ENVOI_TEST_PANEL_RUNNING);
  envoi_http_transport_send_async (self->http, envoi_account_get_address (self->account),
                                   recipients, self->message, self->cancellable,
                                   http_send_cb, g_object_ref (self));
  g_clear_pointer (&self->message, g_bytes_unref);
}

static void
start_run (EnvoiTestPanel *self,
           RunKind         kind)
{
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *recipient = NULL;

  g_assert (ENVOI_IS_TEST_PANEL (self));

  if (self->dialog == NULL || self->state == ENVOI_TEST_PANEL_RUNNING)
    return;

  envoi_account_dialog_validate_now (self->dialog);
  if (envoi_account_dialog_get_state (self->dialog) == ENVOI_FORM_INVALID)
    {
      show_not_started (self, _("Some settings are not valid"),
                        _("Correct the fields marked above, then test again."));
      return;
    }

  account = envoi_account_dialog_build_account (self->dialog);

  if (kind == RUN_TEST && envoi_account_get_transport (account) != ENVOI_TRANSPORT_SMTP)
    {
      show_not_started (self, _("No connection test for HTTP sending"),
                        _("Send a test email instead: it tries the address and the key."));
      return;
    }
  if (kind == RUN_IMAP && *envoi_account_get_imap_host (account) == '\0')
    {
      show_not_started (self, _("No IMAP server"), _("Enter the IMAP server above first."));
      return;
    }

  if (kind == RUN_SEND)
    {
      g_autofree char *typed = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->recipient_row))));

      recipient = envoi_validate_address (*typed != '\0' ? typed : envoi_account_get_address (account),
                                          &error);
      if (recipient == NULL)
        {
          set_recipient_invalid (self, *typed != '\0');
          show_not_started (self, _("The recipient is not valid"), error->message);
          return;
        }
      set_recipient_invalid (self, FALSE);

      message = envoi_message_build_test (account, recipient, &error);
      if (message == NULL)
        {
          show_not_started (self, _("The test email could not be made"), error->message);
          return;
        }
    }

  g_set_object (&self->account, account);
  g_free (self->recipient);
  self->recipient = g_steal_pointer (&recipient);
  self->kind = kind;
  self->cancelling = FALSE;

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  g_clear_pointer (&self->transcript, g_free);
  g_clear_pointer (&self->pop_summary, g_free);
  g_clear_pointer (&self->identity, g_free);
  g_clear_pointer (&self->message, g_bytes_unref);
  self->message = message != NULL ? g_bytes_ref (message) : NULL;

  if (kind == RUN_IMAP)
    start_imap (self);
  else if (envoi_account_get_transport (account) != ENVOI_TRANSPORT_SMTP)
    start_http_send (self);
  else if (envoi_account_get_pop_before_smtp (account))
    start_pop (self);
  else
    start_smtp (self);
}

/* After a fix the last result no longer describes the form: say what changed. */
static void
show_fix_applied (EnvoiTestPanel *self,
                  const char     *title)
{
  set_state (self, ENVOI_TEST_PANEL_IDLE);
  clear_result (self);
  show_result (self, LOOK_NEUTRAL, title,
               _("Test again to check. The change is kept when you save the account."));
}

static void
emit_fix (EnvoiTestPanel *self,
          const char     *key,
          GVariant       *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  g_signal_emit (self, signals[APPLY_FIX], 0, key, owned);
}

/* ---- actions ------------------------------------------------------------------------------ */

static void
test_connection_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  start_run (ENVOI_TEST_PANEL (widget), RUN_TEST);
}

static void
test_imap_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  start_run (ENVOI_TEST_PANEL (widget), RUN_IMAP);
}

static void
send_test_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  start_run (ENVOI_TEST_PANEL (widget), RUN_SEND);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  envoi_test_panel_cancel (ENVOI_TEST_PANEL (widget));
}

static void
trust_certificate_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (widget);
  const char *pin;

  if (self->report == NULL)
    return;

  pin = envoi_smtp_report_get_certificate_pin (self->report);
  if (pin == NULL || *pin == '\0')
    return;

  emit_fix (self, "pinned-key", g_variant_new_string (pin));
  show_fix_applied (self, _("Certificate trusted"));
}

static void
use_security_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (widget);
  const char *security;
  guint16 port;

  g_variant_get (parameter, "(&sq)", &security, &port);

  /* Security first: the form moves a usual port along with it, then the port is set. */
  emit_fix (self, "security", g_variant_new_string (security));
  emit_fix (self, "port", g_variant_new_uint16 (port));
  show_fix_applied (self, _("Encryption changed"));
}

static void
use_auth_method_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (widget);

  emit_fix (self, "auth-method", g_variant_new_string (g_variant_get_string (parameter, NULL)));
  show_fix_applied (self, _("Authentication method changed"));
}

static void
copy_transcript_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (widget);

  g_autofree char *transcript = dup_transcript (self);

  if (*transcript == '\0')
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), transcript);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_test_panel_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (envoi_test_panel_parent_class)->map (widget);

  update_buttons (ENVOI_TEST_PANEL (widget));
}

static void
envoi_test_panel_unroot (GtkWidget *widget)
{
  /* Leaving the window (it closes) ends the run: nobody would see its result. */
  envoi_test_panel_cancel (ENVOI_TEST_PANEL (widget));

  GTK_WIDGET_CLASS (envoi_test_panel_parent_class)->unroot (widget);
}

static void
envoi_test_panel_dispose (GObject *object)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (object);

  g_cancellable_cancel (self->cancellable);
  envoi_test_panel_set_dialog (self, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_TEST_PANEL);

  G_OBJECT_CLASS (envoi_test_panel_parent_class)->dispose (object);
}

static void
envoi_test_panel_finalize (GObject *object)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->fact_names);
  g_clear_object (&self->client);
  g_clear_object (&self->mailbox);
  g_clear_object (&self->http);
  g_clear_object (&self->account);
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  g_clear_pointer (&self->message, g_bytes_unref);
  g_free (self->transcript);
  g_free (self->pop_summary);
  g_free (self->identity);
  g_free (self->recipient);

  G_OBJECT_CLASS (envoi_test_panel_parent_class)->finalize (object);
}

static void
envoi_test_panel_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (object);

  switch (prop_id)
    {
    case PROP_DIALOG:
      g_value_set_object (value, self->dialog);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_test_panel_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (object);

  switch (prop_id)
    {
    case PROP_DIALOG:
      envoi_test_panel_set_dialog (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_test_panel_class_init (EnvoiTestPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_test_panel_dispose;
  object_class->finalize = envoi_test_panel_finalize;
  object_class->get_property = envoi_test_panel_get_property;
  object_class->set_property = envoi_test_panel_set_property;
  widget_class->unroot = envoi_test_panel_unroot;
  widget_class->map = envoi_test_panel_map;

  /**
   * EnvoiTestPanel:dialog:
   *
   * The account dialog whose unsaved values are tested (not owned: it owns the panel).
   */
  properties[PROP_DIALOG] =
    g_param_spec_object ("dialog", NULL, NULL,
                         ENVOI_TYPE_ACCOUNT_DIALOG,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       ENVOI_TYPE_TEST_PANEL_STATE, ENVOI_TEST_PANEL_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EnvoiTestPanel::apply-fix:
   * @key: the settings key: "pinned-key", "security", "port" or "auth-method"
   * @value: its new value, of the key's type (the enums by nick)
   *
   * The user chose a fix the test offered. The form should show it, for Save to keep.
   */
  signals[APPLY_FIX] =
    g_signal_new ("apply-fix",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_VARIANT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-test-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, recipient_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, recipient_hint);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, action_stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, running_label);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_icon);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_title);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_explanation);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_message);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, facts_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, result_hint);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, fixes_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, details_expander);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, transcript_view);
  /* Named for gtk_widget_get_template_child() (tests, benchmarks); the code needs no field. */
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, test_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, imap_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, http_note);
  gtk_widget_class_bind_template_child_full (widget_class, "send_button", FALSE, 0);
  gtk_widget_class_bind_template_child_full (widget_class, "cancel_button", FALSE, 0);
  gtk_widget_class_bind_template_child_full (widget_class, "copy_button", FALSE, 0);

  gtk_widget_class_install_action (widget_class, "test-panel.test-connection", NULL,
                                   test_connection_action);
  gtk_widget_class_install_action (widget_class, "test-panel.send-test", NULL,
                                   send_test_action);
  gtk_widget_class_install_action (widget_class, "test-panel.test-imap", NULL,
                                   test_imap_action);
  gtk_widget_class_install_action (widget_class, "test-panel.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "test-panel.trust-certificate", NULL,
                                   trust_certificate_action);
  gtk_widget_class_install_action (widget_class, "test-panel.use-security", "(sq)",
                                   use_security_action);
  gtk_widget_class_install_action (widget_class, "test-panel.use-auth-method", "s",
                                   use_auth_method_action);
  gtk_widget_class_install_action (widget_class, "test-panel.copy-transcript", NULL,
                                   copy_transcript_action);
}

static void
envoi_test_panel_init (EnvoiTestPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->fact_names = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  label_like (GTK_WIDGET (self->spinner), _("Testing"));
  label_like (GTK_WIDGET (self->transcript_view), _("Transcript"));
  label_like (GTK_WIDGET (self->details_expander),
              gtk_expander_get_label (self->details_expander));

  g_signal_connect_object (self->recipient_row, "changed",
                           G_CALLBACK (recipient_changed_cb), self, G_CONNECT_SWAPPED);

  update_recipient_hint (self);
  set_state (self, ENVOI_TEST_PANEL_IDLE);
}

/* ---- public ------------------------------------------------------------------------------- */

GtkWidget *
envoi_test_panel_new (void)
{
  return g_object_new (ENVOI_TYPE_TEST_PANEL, NULL);
}

EnvoiAccountDialog *
envoi_test_panel_get_dialog (EnvoiTestPanel *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_PANEL (self), NULL);

  return self->dialog;
}

/**
 * envoi_test_panel_set_dialog:
 * @dialog: (nullable): the dialog whose values to test; not referenced
 */
void
envoi_test_panel_set_dialog (EnvoiTestPanel     *self,
                             EnvoiAccountDialog *dialog)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));
  g_return_if_fail (dialog == NULL || ENVOI_IS_ACCOUNT_DIALOG (dialog));

  if (self->dialog == dialog)
    return;

  if (self->address_row != NULL)
    g_signal_handlers_disconnect_by_func (self->address_row, update_recipient_hint, self);
  g_clear_weak_pointer (&self->address_row);
  if (self->transport_group != NULL)
    g_signal_handlers_disconnect_by_func (self->transport_group, update_buttons, self);
  if (self->incoming_group != NULL)
    g_signal_handlers_disconnect_by_func (self->incoming_group, update_buttons, self);
  g_clear_weak_pointer (&self->transport_group);
  g_clear_weak_pointer (&self->incoming_group);

  g_set_weak_pointer (&self->dialog, dialog);

  if (dialog != NULL)
    {
      /* The hint follows the address as it is typed. The row's id is the dialog's template
       * contract, like any bound child. */
      GObject *row = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                    ENVOI_TYPE_ACCOUNT_DIALOG, "address_row");

      if (GTK_IS_EDITABLE (row))
        {
          g_set_weak_pointer (&self->address_row, GTK_EDITABLE (row));
          g_signal_connect_object (row, "changed", G_CALLBACK (update_recipient_hint), self,
                                   G_CONNECT_SWAPPED);
        }

      /* Which tests there are follows the transport and the IMAP server. */
      g_set_weak_pointer (&self->transport_group,
                          GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                                     ENVOI_TYPE_ACCOUNT_DIALOG,
                                                                     "transport_group")));
      g_set_weak_pointer (&self->incoming_group,
                          GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                                     ENVOI_TYPE_ACCOUNT_DIALOG,
                                                                     "incoming_group")));
      if (self->transport_group != NULL)
        g_signal_connect_object (self->transport_group, "changed", G_CALLBACK (update_buttons),
                                 self, G_CONNECT_SWAPPED);
      if (self->incoming_group != NULL)
        g_signal_connect_object (self->incoming_group, "changed", G_CALLBACK (update_buttons),
                                 self, G_CONNECT_SWAPPED);
    }

  update_recipient_hint (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIALOG]);
}

EnvoiTestPanelState
envoi_test_panel_get_state (EnvoiTestPanel *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_PANEL (self), ENVOI_TEST_PANEL_IDLE);

  return self->state;
}

/* Tests the connection with the dialog's current values: greeting, EHLO, STARTTLS, login. */
void
envoi_test_panel_test_connection (EnvoiTestPanel *self)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  start_run (self, RUN_TEST);
}

/* Sends the translated test message to the recipient row's address, else the account's. */
void
envoi_test_panel_send_test (EnvoiTestPanel *self)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  start_run (self, RUN_SEND);
}

/* Stops the running test, if any; the panel then shows it as cancelled, not as failed. */
void
envoi_test_panel_cancel (EnvoiTestPanel *self)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  if (self->state != ENVOI_TEST_PANEL_RUNNING || self->cancelling)
    return;

  self->cancelling = TRUE;
  gtk_label_set_text (self->running_label, _("Cancelling…"));
  update_actions (self);
  g_cancellable_cancel (self->cancellable);
}

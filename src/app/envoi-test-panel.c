/* envoi-test-panel.c: trying an account's settings before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The panel shows a test: the buttons, the progress, and what happened: what the server
 * offered, or what went wrong and how to fix it. It does not know the form it sits in. A
 * button emits "run-requested"; the host (the account dialog) answers with an EnvoiTestRun
 * made of the form's unsaved values (envoi_test_panel_run()), or with the form's refusal
 * (envoi_test_panel_show_invalid_form()), and pushes down what can be tested and the default
 * recipient as properties. Fixes it can make itself are buttons; they go up through the
 * "apply-fix" signal, so they show in the form and take effect on Save like any other edit.
 */

#define G_LOG_DOMAIN "envoi-test-panel"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-goa-error.h"
#include "envoi-smtp-error.h"
#include "envoi-test-panel.h"
#include "envoi-test-run.h"

#define DEFAULT_STARTTLS_PORT 587
#define DEFAULT_TLS_PORT      465

struct _EnvoiTestPanel
{
  AdwPreferencesGroup  parent_instance;

  /* Pushed down by the host */
  char                *default_recipient;   /* the account's address, as typed */
  gboolean             can_test_connection; /* SMTP: HTTP sending has no connection test */
  gboolean             can_test_imap;       /* an IMAP server is named */

  EnvoiTestPanelState  state;
  gboolean             cancelling;

  /* The current or last run */
  EnvoiTestRun        *run;
  GCancellable        *cancellable;

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
  PROP_STATE,
  PROP_DEFAULT_RECIPIENT,
  PROP_CAN_TEST_CONNECTION,
  PROP_CAN_TEST_IMAP,
  N_PROPS
};

enum {
  APPLY_FIX,
  RUN_REQUESTED,
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


/* The whole dialogue of the last run. */
static char *
dup_transcript (EnvoiTestPanel *self)
{
  return self->run != NULL ? envoi_test_run_dup_transcript (self->run) : g_strdup ("");
}

/* HTTP sending has no connection test; an IMAP server can be tested once it is named. */
static void
update_buttons (EnvoiTestPanel *self)
{
  gtk_widget_set_visible (self->test_button, self->can_test_connection);
  gtk_widget_set_visible (self->imap_button, self->can_test_imap);
  gtk_widget_set_visible (GTK_WIDGET (self->http_note), !self->can_test_connection);
}

static void
update_actions (EnvoiTestPanel *self)
{
  gboolean running = self->state == ENVOI_TEST_PANEL_RUNNING;
  gboolean can_run = !running;
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

  if (self->default_recipient != NULL && *self->default_recipient != '\0')
    /* Translators: %s is the account's email address */
    hint = g_strdup_printf (_("Leave empty to send the test email to %s."), self->default_recipient);
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
  EnvoiSmtpReport *report = envoi_test_run_get_report (self->run);
  EnvoiAccount *account = envoi_test_run_get_account (self->run);
  const char * const *offered = envoi_smtp_report_get_auth_mechanisms (report);
  EnvoiAuthMethod current = envoi_account_get_auth_method (account);

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
  EnvoiSmtpReport *report = envoi_test_run_get_report (self->run);
  EnvoiAccount *account = envoi_test_run_get_account (self->run);

  clear_result (self);

  if (envoi_test_run_get_kind (self->run) == ENVOI_TEST_RUN_SEND)
    {
      g_autofree char *explanation = NULL;

      /* Translators: %s is an email address */
      explanation = g_strdup_printf (_("The server accepted the test email for %s. Check that "
                                       "it arrives."),
                                     envoi_test_run_get_recipient (self->run));
      show_result (self, LOOK_SUCCESS, _("Test email sent"), explanation);
      add_fact (self, _("Server’s reply"), reply);
      return;
    }

  show_result (self, LOOK_SUCCESS, _("Connection works"),
               envoi_account_get_auth_method (account) == ENVOI_AUTH_METHOD_NONE
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

    if (envoi_account_get_security (account) == ENVOI_SECURITY_TLS)
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
  EnvoiSmtpReport *report = envoi_test_run_get_report (self->run);
  EnvoiAccount *account = envoi_test_run_get_account (self->run);
  g_autofree char *hint = envoi_smtp_error_dup_hint (error, account);
  EnvoiSecurity security = envoi_account_get_security (account);
  guint16 port = envoi_account_get_port (account);

  clear_result (self);
  show_result (self, LOOK_ERROR, envoi_smtp_error_get_title (error),
               envoi_smtp_error_get_explanation (error));
  set_label (self->result_message, error->message);
  set_label (self->result_hint, hint);

  /* The fixes below change the SMTP server's settings. */
  if (error->domain != ENVOI_SMTP_ERROR ||
      envoi_account_get_transport (account) != ENVOI_TRANSPORT_SMTP)
    return;

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED:
      if (report != NULL && envoi_smtp_report_get_certificate_pin (report) != NULL)
        {
          const char *subject = envoi_smtp_report_get_certificate_subject (report);
          const char *issuer = envoi_smtp_report_get_certificate_issuer (report);
          GtkWidget *fingerprint;

          /* The facts below say what the message says, unless a trusted key has changed. */
          if (*envoi_account_get_pinned_key (account) == '\0')
            set_label (self->result_message, NULL);
          fingerprint = add_fact (self, _("Fingerprint"),
                                  envoi_smtp_report_get_certificate_pin (report));
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
      if (report != NULL)
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

/* A problem found before connecting: the form or the recipient. */
static void
show_not_started (EnvoiTestPanel *self,
                  const char     *title,
                  const char     *explanation)
{
  set_state (self, ENVOI_TEST_PANEL_FAILED);
  clear_result (self);
  show_result (self, LOOK_WARNING, title, explanation);
}

/* GOA could not lend what the run needs: its reason, in GOA's terms. */
static void
show_goa_error (EnvoiTestPanel *self,
                const GError   *error)
{
  const char *identity = envoi_test_run_get_identity (self->run);

  clear_result (self);
  show_result (self, LOOK_ERROR, envoi_goa_error_get_title (error),
               envoi_goa_error_get_explanation (error));
  set_label (self->result_message, error->message);
  set_label (self->result_hint, envoi_goa_error_get_hint (error));
  if (identity != NULL)
    add_fact (self, _("Signed in as"), identity);
}

static void
show_imap_result (EnvoiTestPanel *self,
                  const GError   *error)
{
  clear_result (self);
  if (error != NULL)
    {
      show_result (self, LOOK_ERROR, _("The IMAP test failed"),
                   _("Copies of sent messages cannot be saved until this works."));
      set_label (self->result_message, error->message);
    }
  else
    {
      const char * const *folders = envoi_test_run_get_folders (self->run);
      const char *sent = envoi_test_run_get_sent_folder (self->run);
      guint n = g_strv_length ((char **) folders);
      g_autofree char *explanation = NULL;
      g_autofree char *list = g_strjoinv (", ", (char **) folders);

      /* Translators: %u is a number of folders */
      explanation = g_strdup_printf (ngettext ("Logged in and found %u folder.",
                                               "Logged in and found %u folders.", n), n);
      show_result (self, LOOK_SUCCESS, _("IMAP works"), explanation);
      add_fact (self, _("Folders"), list);
      add_fact (self, _("Sent folder"),
                sent != NULL ? sent : _("None found: enter the Sent folder’s name above."));
    }
}

/* What the panel says while @run is at its step. */
static void
step_changed_cb (EnvoiTestPanel *self,
                 GParamSpec     *pspec,
                 EnvoiTestRun   *run)
{
  const char *text = NULL;

  if (run != self->run || self->cancelling)
    return;

  switch (envoi_test_run_get_step (run))
    {
    case ENVOI_TEST_RUN_STEP_GOA_TOKEN:
      text = _("Asking GNOME Online Accounts for a sign-in…");
      break;
    case ENVOI_TEST_RUN_STEP_GOA_PASSWORD:
      text = _("Asking GNOME Online Accounts for the password…");
      break;
    case ENVOI_TEST_RUN_STEP_POP3:
      text = _("Logging in to the POP3 server…");
      break;
    case ENVOI_TEST_RUN_STEP_SMTP:
      text = envoi_test_run_get_kind (run) == ENVOI_TEST_RUN_SEND ? _("Sending a test email…")
                                                                 : _("Testing the connection…");
      break;
    case ENVOI_TEST_RUN_STEP_HTTP:
      text = _("Sending a test email…");
      break;
    case ENVOI_TEST_RUN_STEP_IMAP:
      text = _("Testing the IMAP server…");
      break;
    case ENVOI_TEST_RUN_STEP_NONE:
    default:
      return;
    }

  gtk_label_set_text (self->running_label, text);
}

static void
run_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(EnvoiTestPanel) self = user_data;
  EnvoiTestRun *run = ENVOI_TEST_RUN (source);
  g_autoptr(GError) error = NULL;
  gboolean cancelled;

  envoi_test_run_run_finish (run, result, &error);

  /* Only the current run may speak. */
  if (run != self->run)
    return;

  g_clear_object (&self->cancellable);
  self->cancelling = FALSE;

  cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (cancelled)
    {
      set_state (self, ENVOI_TEST_PANEL_CANCELLED);
      show_cancelled (self);
      return;
    }

  set_state (self, error != NULL ? ENVOI_TEST_PANEL_FAILED : ENVOI_TEST_PANEL_SUCCEEDED);

  switch (envoi_test_run_get_step (run))
    {
    case ENVOI_TEST_RUN_STEP_GOA_TOKEN:
    case ENVOI_TEST_RUN_STEP_GOA_PASSWORD:
      show_goa_error (self, error);
      break;

    case ENVOI_TEST_RUN_STEP_POP3:
      clear_result (self);
      show_result (self, LOOK_ERROR, _("The POP3 login before sending failed"),
                   _("The server accepts mail only after this login, so nothing was sent over SMTP."));
      set_label (self->result_message, error->message);
      break;

    case ENVOI_TEST_RUN_STEP_IMAP:
      show_imap_result (self, error);
      break;

    case ENVOI_TEST_RUN_STEP_HTTP:
      if (error != NULL)
        show_failure (self, error);
      else
        show_success (self, envoi_test_run_get_reply (run));
      break;

    case ENVOI_TEST_RUN_STEP_SMTP:
      if (error != NULL)
        show_failure (self, error);
      else
        show_success (self, envoi_test_run_get_reply (run));

      /* Both steps of POP-before-SMTP: the POP3 login came first and worked. */
      if (envoi_test_run_get_pop_summary (run) != NULL)
        add_fact (self, _("POP3 login"), envoi_test_run_get_pop_summary (run));
      /* Whose sign-in GOA lent: the token may belong to another account than the address. */
      if (envoi_test_run_get_identity (run) != NULL)
        add_fact (self, _("Signed in as"), envoi_test_run_get_identity (run));
      break;

    case ENVOI_TEST_RUN_STEP_NONE:
    default:
      g_assert_not_reached ();
    }
}

/* A button was pressed: the host answers with the run, or with the form's refusal. */
static void
request_run (EnvoiTestPanel   *self,
             EnvoiTestRunKind  kind)
{
  g_assert (ENVOI_IS_TEST_PANEL (self));

  if (self->state == ENVOI_TEST_PANEL_RUNNING)
    return;

  g_signal_emit (self, signals[RUN_REQUESTED], 0, kind);
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
  request_run (ENVOI_TEST_PANEL (widget), ENVOI_TEST_RUN_CONNECTION);
}

static void
test_imap_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  request_run (ENVOI_TEST_PANEL (widget), ENVOI_TEST_RUN_IMAP);
}

static void
send_test_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  request_run (ENVOI_TEST_PANEL (widget), ENVOI_TEST_RUN_SEND);
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
  EnvoiSmtpReport *report = self->run != NULL ? envoi_test_run_get_report (self->run) : NULL;
  const char *pin;

  if (report == NULL)
    return;

  pin = envoi_smtp_report_get_certificate_pin (report);
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

  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_TEST_PANEL);

  G_OBJECT_CLASS (envoi_test_panel_parent_class)->dispose (object);
}

static void
envoi_test_panel_finalize (GObject *object)
{
  EnvoiTestPanel *self = ENVOI_TEST_PANEL (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->fact_names);
  g_clear_object (&self->run);
  g_free (self->default_recipient);

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
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_DEFAULT_RECIPIENT:
      g_value_set_string (value, self->default_recipient);
      break;
    case PROP_CAN_TEST_CONNECTION:
      g_value_set_boolean (value, self->can_test_connection);
      break;
    case PROP_CAN_TEST_IMAP:
      g_value_set_boolean (value, self->can_test_imap);
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
    case PROP_DEFAULT_RECIPIENT:
      envoi_test_panel_set_default_recipient (self, g_value_get_string (value));
      break;
    case PROP_CAN_TEST_CONNECTION:
      envoi_test_panel_set_can_test_connection (self, g_value_get_boolean (value));
      break;
    case PROP_CAN_TEST_IMAP:
      envoi_test_panel_set_can_test_imap (self, g_value_get_boolean (value));
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

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       ENVOI_TYPE_TEST_PANEL_STATE, ENVOI_TEST_PANEL_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * EnvoiTestPanel:default-recipient:
   *
   * Where a test email goes when no recipient is typed: the account's address.
   */
  properties[PROP_DEFAULT_RECIPIENT] =
    g_param_spec_string ("default-recipient", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * EnvoiTestPanel:can-test-connection:
   *
   * Whether the account sends over SMTP, which has a connection test (HTTP has none).
   */
  properties[PROP_CAN_TEST_CONNECTION] =
    g_param_spec_boolean ("can-test-connection", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * EnvoiTestPanel:can-test-imap:
   *
   * Whether an IMAP server is named, so that it can be tested.
   */
  properties[PROP_CAN_TEST_IMAP] =
    g_param_spec_boolean ("can-test-imap", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

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

  /**
   * EnvoiTestPanel::run-requested:
   * @kind: the #EnvoiTestRunKind of the button pressed
   *
   * The user asked for a test. The host answers with envoi_test_panel_run() and a run made of
   * the values to test, or with envoi_test_panel_show_invalid_form().
   */
  signals[RUN_REQUESTED] =
    g_signal_new ("run-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  ENVOI_TYPE_TEST_RUN_KIND);

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

  self->can_test_connection = TRUE;
  update_buttons (self);
  update_recipient_hint (self);
  set_state (self, ENVOI_TEST_PANEL_IDLE);
}

/* ---- public ------------------------------------------------------------------------------- */

GtkWidget *
envoi_test_panel_new (void)
{
  return g_object_new (ENVOI_TYPE_TEST_PANEL, NULL);
}

/* @address: (nullable): the account's address as typed, for the recipient row's hint */
void
envoi_test_panel_set_default_recipient (EnvoiTestPanel *self,
                                        const char     *address)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  if (g_strcmp0 (self->default_recipient, address) == 0)
    return;

  g_free (self->default_recipient);
  self->default_recipient = g_strdup (address);
  update_recipient_hint (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_RECIPIENT]);
}

void
envoi_test_panel_set_can_test_connection (EnvoiTestPanel *self,
                                          gboolean        can_test)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  can_test = !!can_test;
  if (self->can_test_connection == can_test)
    return;

  self->can_test_connection = can_test;
  update_buttons (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_TEST_CONNECTION]);
}

void
envoi_test_panel_set_can_test_imap (EnvoiTestPanel *self,
                                    gboolean        can_test)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  can_test = !!can_test;
  if (self->can_test_imap == can_test)
    return;

  self->can_test_imap = can_test;
  update_buttons (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_TEST_IMAP]);
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

  request_run (self, ENVOI_TEST_RUN_CONNECTION);
}

/* Sends the translated test message to the recipient row's address, else the account's. */
void
envoi_test_panel_send_test (EnvoiTestPanel *self)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  request_run (self, ENVOI_TEST_RUN_SEND);
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

/**
 * envoi_test_panel_run:
 * @run: a run not started yet, made of the values to test; the panel keeps a reference
 *
 * Starts @run, unless it cannot start (see envoi_test_run_check()), and shows how it goes.
 * The panel adds the recipient row's address to a test email.
 */
void
envoi_test_panel_run (EnvoiTestPanel *self,
                      EnvoiTestRun   *run)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *typed = NULL;

  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));
  g_return_if_fail (ENVOI_IS_TEST_RUN (run));

  if (self->state == ENVOI_TEST_PANEL_RUNNING)
    return;

  typed = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->recipient_row))));
  envoi_test_run_set_recipient (run, typed);

  if (self->run != NULL)
    g_signal_handlers_disconnect_by_func (self->run, step_changed_cb, self);
  g_set_object (&self->run, run);
  self->cancelling = FALSE;

  if (!envoi_test_run_check (run, &error))
    {
      switch ((EnvoiTestRunError) error->code)
        {
        case ENVOI_TEST_RUN_ERROR_NO_CONNECTION_TEST:
          show_not_started (self, _("No connection test for HTTP sending"),
                            _("Send a test email instead: it tries the address and the key."));
          break;
        case ENVOI_TEST_RUN_ERROR_NO_IMAP_SERVER:
          show_not_started (self, _("No IMAP server"), _("Enter the IMAP server above first."));
          break;
        case ENVOI_TEST_RUN_ERROR_INVALID_RECIPIENT:
          set_recipient_invalid (self, *typed != '\0');
          show_not_started (self, _("The recipient is not valid"), error->message);
          break;
        case ENVOI_TEST_RUN_ERROR_NO_MESSAGE:
        default:
          set_recipient_invalid (self, FALSE);
          show_not_started (self, _("The test email could not be made"), error->message);
          break;
        }
      return;
    }
  if (envoi_test_run_get_kind (run) == ENVOI_TEST_RUN_SEND)
    set_recipient_invalid (self, FALSE);

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  g_signal_connect_object (run, "notify::step", G_CALLBACK (step_changed_cb), self,
                           G_CONNECT_SWAPPED);
  envoi_test_run_run_async (run, self->cancellable, run_cb, g_object_ref (self));
  set_state (self, ENVOI_TEST_PANEL_RUNNING);
}

/* The host's answer when its form is not valid: nothing can be tested yet. */
void
envoi_test_panel_show_invalid_form (EnvoiTestPanel *self)
{
  g_return_if_fail (ENVOI_IS_TEST_PANEL (self));

  if (self->state == ENVOI_TEST_PANEL_RUNNING)
    return;

  if (self->run != NULL)
    g_signal_handlers_disconnect_by_func (self->run, step_changed_cb, self);
  g_clear_object (&self->run);
  show_not_started (self, _("Some settings are not valid"),
                    _("Correct the fields marked above, then test again."));
}

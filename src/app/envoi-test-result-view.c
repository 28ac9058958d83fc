/* envoi-test-result-view.c: what an account test found, and how to fix it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The card under the test panel's buttons. The panel hands it the run it shows
 * (envoi_test_result_view_set_run()) and, once the run is over, asks it to show the outcome:
 * the view classifies it (which step failed, in whose terms), lists what the server offered
 * or presented (its certificate's fingerprint, subject and issuer), gives the hint and the
 * fixes it can make, and the redacted transcript with a Copy button. A fix goes up through
 * the "fix-chosen" signal; the view then says that the fix waits for a new test.
 */

#define G_LOG_DOMAIN "envoi-test-result-view"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-goa-error.h"
#include "envoi-smtp-error.h"
#include "envoi-test-result-view.h"

#define DEFAULT_STARTTLS_PORT 587
#define DEFAULT_TLS_PORT      465

struct _EnvoiTestResultView
{
  GtkBox        parent_instance;

  EnvoiTestRun *run;           /* the run shown, or NULL */

  GtkImage     *result_icon;
  GtkLabel     *result_title;
  GtkLabel     *result_explanation;
  GtkLabel     *result_message;
  GtkBox       *facts_box;
  GtkSizeGroup *fact_names;    /* the names line up in a column */
  GtkLabel     *result_hint;
  GtkFlowBox   *fixes_box;
  GtkExpander  *details_expander;
  GtkTextView  *transcript_view;
};

G_DEFINE_FINAL_TYPE (EnvoiTestResultView, envoi_test_result_view, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_RUN,
  N_PROPS
};

enum {
  FIX_CHOSEN,
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

/* The whole dialogue of the run shown. */
static char *
dup_transcript (EnvoiTestResultView *self)
{
  return self->run != NULL ? envoi_test_run_dup_transcript (self->run) : g_strdup ("");
}

/* The fixes act on the result shown; none while nothing is shown. */
static void
update_actions (EnvoiTestResultView *self,
                gboolean             shown)
{
  g_autofree char *transcript = dup_transcript (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-result.trust-certificate", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-result.use-security", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-result.use-auth-method", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-result.copy-transcript",
                                 shown && *transcript != '\0');
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
clear_result (EnvoiTestResultView *self)
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
show_result (EnvoiTestResultView *self,
             Look                 look,
             const char          *title,
             const char          *explanation)
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

  gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
  update_actions (self, TRUE);
}

static GtkWidget *
add_fact (EnvoiTestResultView *self,
          const char          *name,
          const char          *value)
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
add_fix (EnvoiTestResultView *self,
         const char          *mnemonic_label,
         const char          *action_name,
         GVariant            *target)
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
add_security_fix (EnvoiTestResultView *self,
                  EnvoiSecurity        security)
{
  if (security == ENVOI_SECURITY_TLS)
    add_fix (self, _("Use SSL/TLS on Port _465"), "test-result.use-security",
             g_variant_new ("(sq)", "tls", (guint16) DEFAULT_TLS_PORT));
  else
    add_fix (self, _("Use STARTTLS on Port _587"), "test-result.use-security",
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
add_auth_fixes (EnvoiTestResultView *self)
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
            add_fix (self, label, "test-result.use-auth-method",
                     g_variant_new_string (auth_methods[j].nick));
          }
        g_type_class_unref (enum_class);
      }
}

static void
show_success (EnvoiTestResultView *self,
              const char          *reply)
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
show_failure (EnvoiTestResultView *self,
              const GError        *error)
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
          add_fix (self, _("Trust This Certi_ficate"), "test-result.trust-certificate", NULL);
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
show_cancelled (EnvoiTestResultView *self)
{
  clear_result (self);
  show_result (self, LOOK_NEUTRAL, _("Test cancelled"),
               _("Nothing was changed. Run the test again when you are ready."));
}

/* GOA could not lend what the run needs: its reason, in GOA's terms. */
static void
show_goa_error (EnvoiTestResultView *self,
                const GError        *error)
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
show_imap_result (EnvoiTestResultView *self,
                  const GError        *error)
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

/* ---- the outcome -------------------------------------------------------------------------- */

/* What the finished run found, said in the terms of the step it ended at. */
static void
show_outcome (EnvoiTestResultView *self,
              const GError        *error)
{
  EnvoiTestRun *run = self->run;

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

/* ---- fixes -------------------------------------------------------------------------------- */

/* After a fix the last result no longer describes the form: say what changed. */
static void
show_fix_applied (EnvoiTestResultView *self,
                  const char          *title)
{
  clear_result (self);
  show_result (self, LOOK_NEUTRAL, title,
               _("Test again to check. The change is kept when you save the account."));
}

static void
emit_fix (EnvoiTestResultView *self,
          const char          *key,
          GVariant            *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  g_signal_emit (self, signals[FIX_CHOSEN], 0, key, owned);
}

/* ---- actions ------------------------------------------------------------------------------ */

static void
trust_certificate_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (widget);
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
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (widget);
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
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (widget);

  emit_fix (self, "auth-method", g_variant_new_string (g_variant_get_string (parameter, NULL)));
  show_fix_applied (self, _("Authentication method changed"));
}

static void
copy_transcript_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (widget);

  g_autofree char *transcript = dup_transcript (self);

  if (*transcript == '\0')
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), transcript);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_test_result_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), ENVOI_TYPE_TEST_RESULT_VIEW);

  G_OBJECT_CLASS (envoi_test_result_view_parent_class)->dispose (object);
}

static void
envoi_test_result_view_finalize (GObject *object)
{
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (object);

  g_clear_object (&self->fact_names);
  g_clear_object (&self->run);

  G_OBJECT_CLASS (envoi_test_result_view_parent_class)->finalize (object);
}

static void
envoi_test_result_view_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (object);

  switch (prop_id)
    {
    case PROP_RUN:
      g_value_set_object (value, self->run);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_test_result_view_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  EnvoiTestResultView *self = ENVOI_TEST_RESULT_VIEW (object);

  switch (prop_id)
    {
    case PROP_RUN:
      envoi_test_result_view_set_run (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_test_result_view_class_init (EnvoiTestResultViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_test_result_view_dispose;
  object_class->finalize = envoi_test_result_view_finalize;
  object_class->get_property = envoi_test_result_view_get_property;
  object_class->set_property = envoi_test_result_view_set_property;

  /**
   * EnvoiTestResultView:run:
   *
   * The run whose outcome is shown: its account, its report and its transcript.
   */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL,
                         ENVOI_TYPE_TEST_RUN,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EnvoiTestResultView::fix-chosen:
   * @key: the settings key: "pinned-key", "security", "port" or "auth-method"
   * @value: its new value, of the key's type (the enums by nick)
   *
   * The user chose a fix the result offered. The view then says the fix waits for a new test.
   */
  signals[FIX_CHOSEN] =
    g_signal_new ("fix-chosen",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_VARIANT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-test-result-view.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, result_icon);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, result_title);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, result_explanation);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, result_message);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, facts_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, result_hint);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, fixes_box);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, details_expander);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestResultView, transcript_view);
  /* Named for gtk_widget_get_template_child() (tests); the code needs no field. */
  gtk_widget_class_bind_template_child_full (widget_class, "copy_button", FALSE, 0);

  gtk_widget_class_install_action (widget_class, "test-result.trust-certificate", NULL,
                                   trust_certificate_action);
  gtk_widget_class_install_action (widget_class, "test-result.use-security", "(sq)",
                                   use_security_action);
  gtk_widget_class_install_action (widget_class, "test-result.use-auth-method", "s",
                                   use_auth_method_action);
  gtk_widget_class_install_action (widget_class, "test-result.copy-transcript", NULL,
                                   copy_transcript_action);
}

static void
envoi_test_result_view_init (EnvoiTestResultView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->fact_names = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  label_like (GTK_WIDGET (self->transcript_view), _("Transcript"));
  label_like (GTK_WIDGET (self->details_expander),
              gtk_expander_get_label (self->details_expander));

  update_actions (self, FALSE);
}

/* ---- public ------------------------------------------------------------------------------- */

GtkWidget *
envoi_test_result_view_new (void)
{
  return g_object_new (ENVOI_TYPE_TEST_RESULT_VIEW, NULL);
}

/* Returns: (transfer none) (nullable): the run shown */
EnvoiTestRun *
envoi_test_result_view_get_run (EnvoiTestResultView *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self), NULL);

  return self->run;
}

/* @run: (nullable): the run to show next; what is shown changes with the next show call */
void
envoi_test_result_view_set_run (EnvoiTestResultView *self,
                                EnvoiTestRun        *run)
{
  g_return_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self));
  g_return_if_fail (run == NULL || ENVOI_IS_TEST_RUN (run));

  if (g_set_object (&self->run, run))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
}

/* Hides the result while a new run goes: it no longer describes the form. */
void
envoi_test_result_view_clear (EnvoiTestResultView *self)
{
  g_return_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self));

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  update_actions (self, FALSE);
}

/* The run has ended, not cancelled: @error (nullable) is what it failed with. */
void
envoi_test_result_view_show_outcome (EnvoiTestResultView *self,
                                     const GError        *error)
{
  g_return_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self));
  g_return_if_fail (self->run != NULL);

  show_outcome (self, error);
}

/* The run was stopped by the user: not a failure. */
void
envoi_test_result_view_show_cancelled (EnvoiTestResultView *self)
{
  g_return_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self));

  show_cancelled (self);
}

/* A problem found before connecting: the form or the recipient. */
void
envoi_test_result_view_show_problem (EnvoiTestResultView *self,
                                     const char          *title,
                                     const char          *explanation)
{
  g_return_if_fail (ENVOI_IS_TEST_RESULT_VIEW (self));

  clear_result (self);
  show_result (self, LOOK_WARNING, title, explanation);
}

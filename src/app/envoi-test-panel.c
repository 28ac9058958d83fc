/* envoi-test-panel.c: trying an account's settings before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The panel runs a test: the buttons, the recipient, the progress; what happened (what the
 * server offered, or what went wrong and how to fix it) shows in its EnvoiTestResultView,
 * which it hands the run. It does not know the form it sits in. A
 * button emits "run-requested"; the host (the account dialog) answers with an EnvoiTestRun
 * made of the form's unsaved values (envoi_test_panel_run()), or with the form's refusal
 * (envoi_test_panel_show_invalid_form()), and pushes down what can be tested and the default
 * recipient as properties. Fixes the result view offers go up through the panel's
 * "apply-fix" signal, so they show in the form and take effect on Save like any other edit.
 */

#define G_LOG_DOMAIN "envoi-test-panel"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-test-panel.h"
#include "envoi-test-result-view.h"
#include "envoi-test-run.h"

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
  EnvoiTestResultView *result_view;
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

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.test-connection", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.send-test", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.test-imap", can_run);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "test-panel.cancel",
                                 running && !self->cancelling);
}

static void
set_state (EnvoiTestPanel      *self,
           EnvoiTestPanelState  state)
{
  gboolean running = state == ENVOI_TEST_PANEL_RUNNING;

  if (running)
    envoi_test_result_view_clear (self->result_view);

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

/* ---- running ------------------------------------------------------------------------------ */

/* A problem found before connecting: the form or the recipient. */
static void
show_not_started (EnvoiTestPanel *self,
                  const char     *title,
                  const char     *explanation)
{
  set_state (self, ENVOI_TEST_PANEL_FAILED);
  envoi_test_result_view_show_problem (self->result_view, title, explanation);
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
      envoi_test_result_view_show_cancelled (self->result_view);
      return;
    }

  set_state (self, error != NULL ? ENVOI_TEST_PANEL_FAILED : ENVOI_TEST_PANEL_SUCCEEDED);
  envoi_test_result_view_show_outcome (self->result_view, error);
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

/* The user chose a fix the result offered: the form shows it, and the result said so. */
static void
fix_chosen_cb (EnvoiTestPanel *self,
              const char     *key,
              GVariant       *value)
{
  g_signal_emit (self, signals[APPLY_FIX], 0, key, value);
  set_state (self, ENVOI_TEST_PANEL_IDLE);
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

  g_type_ensure (ENVOI_TYPE_TEST_RESULT_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-test-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, recipient_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, recipient_hint);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, action_stack);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, running_label);
  /* "result_box", as the card was named before it became a widget of its own. */
  gtk_widget_class_bind_template_child_full (widget_class, "result_box", FALSE,
                                             G_STRUCT_OFFSET (EnvoiTestPanel, result_view));
  /* Named for gtk_widget_get_template_child() (tests, benchmarks); the code needs no field. */
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, test_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, imap_button);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTestPanel, http_note);
  gtk_widget_class_bind_template_child_full (widget_class, "send_button", FALSE, 0);
  gtk_widget_class_bind_template_child_full (widget_class, "cancel_button", FALSE, 0);

  gtk_widget_class_install_action (widget_class, "test-panel.test-connection", NULL,
                                   test_connection_action);
  gtk_widget_class_install_action (widget_class, "test-panel.send-test", NULL,
                                   send_test_action);
  gtk_widget_class_install_action (widget_class, "test-panel.test-imap", NULL,
                                   test_imap_action);
  gtk_widget_class_install_action (widget_class, "test-panel.cancel", NULL, cancel_action);
}

static void
envoi_test_panel_init (EnvoiTestPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Testing"), -1);

  g_signal_connect_object (self->recipient_row, "changed",
                           G_CALLBACK (recipient_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->result_view, "fix-chosen",
                           G_CALLBACK (fix_chosen_cb), self, G_CONNECT_SWAPPED);

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
  envoi_test_result_view_set_run (self->result_view, run);
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
  envoi_test_result_view_set_run (self->result_view, NULL);
  show_not_started (self, _("Some settings are not valid"),
                    _("Correct the fields marked above, then test again."));
}

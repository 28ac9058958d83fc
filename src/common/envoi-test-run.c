/* envoi-test-run.c: one try of an account's settings against its servers, before they are saved
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The work behind the account dialog's test panel, without a widget: it takes an account and
 * its credentials, and runs the steps that account needs (a GOA token or password, the POP3
 * login before SMTP, then the SMTP session or the HTTP send; or the IMAP login), keeping the
 * transcript of each. It reports one outcome; what went wrong is the error of the step it
 * stopped at. The panel shows it; the tests run it without a display.
 */

#define G_LOG_DOMAIN "envoi-test-run"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-http-transport.h"
#include "envoi-mailbox-client.h"
#include "envoi-message.h"
#include "envoi-secret.h"
#include "envoi-test-run.h"
#include "envoi-validate.h"

#define N_SERVICES (ENVOI_SERVICE_HTTP + 1)

struct _EnvoiTestRun
{
  GObject              parent_instance;

  /* What to try, and with what */
  EnvoiTestRunKind     kind;
  EnvoiAccount        *account;
  char                *secrets[N_SERVICES];
  EnvoiGoaAccount     *goa_password_account;
  char                *typed_recipient;
  gboolean             started;

  /* Under way */
  EnvoiTestRunStep     step;
  GBytes              *message;       /* the test email, until it is handed to a client */

  /* The outcome */
  char                *recipient;
  EnvoiSmtpReport     *report;
  char                *reply;
  char                *transcript;    /* what came before the SMTP report's, or instead of it */
  char                *pop_summary;
  char                *identity;      /* whose token an OAuth 2 run through GOA signed in with */
  char               **folders;
  char                *sent_folder;
};

G_DEFINE_FINAL_TYPE (EnvoiTestRun, envoi_test_run, G_TYPE_OBJECT)

G_DEFINE_QUARK (envoi-test-run-error-quark, envoi_test_run_error)

G_DEFINE_ENUM_TYPE (EnvoiTestRunKind, envoi_test_run_kind,
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_CONNECTION, "connection"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_SEND, "send"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_IMAP, "imap"))

G_DEFINE_ENUM_TYPE (EnvoiTestRunStep, envoi_test_run_step,
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_GOA_TOKEN, "goa-token"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_GOA_PASSWORD, "goa-password"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_POP3, "pop3"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_SMTP, "smtp"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_HTTP, "http"),
                    G_DEFINE_ENUM_VALUE (ENVOI_TEST_RUN_STEP_IMAP, "imap"))

enum {
  PROP_0,
  PROP_STEP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- helpers ------------------------------------------------------------------------------ */

static void
set_step (EnvoiTestRun     *self,
          EnvoiTestRunStep  step)
{
  if (self->step == step)
    return;

  self->step = step;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
}

/* The secret @service logs in with: POP3 and IMAP their own, else the SMTP one. */
static const char *
get_secret (EnvoiTestRun *self,
            EnvoiService  service)
{
  if ((service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP) &&
      self->secrets[service] == NULL)
    return self->secrets[ENVOI_SERVICE_SMTP];

  return self->secrets[service];
}

static void
append_transcript (EnvoiTestRun *self,
                   const char   *heading,
                   const char   *transcript)
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

/* ---- the steps ---------------------------------------------------------------------------- */

static void
smtp_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  EnvoiSmtpClient *client = ENVOI_SMTP_CLIENT (source);
  EnvoiSmtpReport *report;
  g_autoptr(GError) error = NULL;

  if (self->kind == ENVOI_TEST_RUN_SEND)
    self->reply = envoi_smtp_client_send_finish (client, result, &error);
  else
    {
      g_autoptr(EnvoiSmtpReport) returned = envoi_smtp_client_test_finish (client, result, &error);
    }

  report = envoi_smtp_client_get_report (client, result);
  if (report != NULL)
    self->report = envoi_smtp_report_ref (report);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/* The SMTP session itself, with the password or token it logs in with. */
static void
start_smtp_with (GTask      *task,
                 const char *secret)
{
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiSmtpClient) client = envoi_smtp_client_new (self->account, secret);

  set_step (self, ENVOI_TEST_RUN_STEP_SMTP);
  if (self->kind == ENVOI_TEST_RUN_SEND)
    {
      const char *recipients[] = { self->recipient, NULL };
      g_autoptr(GBytes) message = g_steal_pointer (&self->message);

      envoi_smtp_client_send_async (client, envoi_account_get_address (self->account),
                                    recipients, message, g_task_get_cancellable (task),
                                    smtp_cb, task);
    }
  else
    {
      envoi_smtp_client_test_async (client, g_task_get_cancellable (task), smtp_cb, task);
    }
}

/* An account that signs in through GOA: a token first, then the session with it. */
static void
goa_token_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiSecretString) token = NULL;
  g_autoptr(GError) error = NULL;

  token = envoi_goa_get_access_token_finish (result, &self->identity, &error);
  if (token != NULL && !g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      start_smtp_with (task, token);
      return;
    }

  g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (task);
}

/* A password account filled from GOA and not saved yet: its password is still only in GOA. */
static void
goa_password_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiSecretString) password = NULL;
  g_autoptr(GError) error = NULL;

  password = envoi_goa_get_password_finish (result, &error);
  if (error == NULL && !g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      /* GOA keeping none, the session tries the one the form has. */
      start_smtp_with (task, password != NULL ? password : get_secret (self, ENVOI_SERVICE_SMTP));
      return;
    }

  g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (task);
}

static void
start_smtp (GTask *task)
{
  EnvoiTestRun *self = g_task_get_source_object (task);
  const char *goa_id = envoi_goa_account_id_from_provider (envoi_account_get_provider (self->account));

  if (goa_id != NULL)
    {
      set_step (self, ENVOI_TEST_RUN_STEP_GOA_TOKEN);
      envoi_goa_get_access_token_async (NULL, goa_id, NULL, g_task_get_cancellable (task),
                                        goa_token_cb, task);
      return;
    }

  if (self->goa_password_account != NULL)
    {
      set_step (self, ENVOI_TEST_RUN_STEP_GOA_PASSWORD);
      envoi_goa_get_password_async (NULL, self->goa_password_account,
                                    g_task_get_cancellable (task), goa_password_cb, task);
      return;
    }

  /* Ours goes at once. */
  start_smtp_with (task, get_secret (self, ENVOI_SERVICE_SMTP));
}

/* POP-before-SMTP: the POP3 login, then the SMTP session only if it worked. */
static void
pop_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  GTask *task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  EnvoiMailboxClient *client = ENVOI_MAILBOX_CLIENT (source);
  g_autoptr(GError) error = NULL;

  if (envoi_mailbox_client_login_finish (client, result, &error))
    g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error);
  append_transcript (self, _("POP3:"), envoi_mailbox_client_get_transcript (client, result));

  if (error == NULL)
    {
      g_autofree char *before = g_steal_pointer (&self->transcript);

      /* Translators: %s is the POP3 server's host name */
      self->pop_summary = g_strdup_printf (_("Logged in to %s before sending."),
                                           envoi_account_get_pop_host (self->account));
      self->transcript = g_strconcat (before != NULL ? before : "", _("SMTP:"), "\n", NULL);
      start_smtp (task);
      return;
    }

  g_task_return_error (task, g_steal_pointer (&error));
  g_object_unref (task);
}

static void
start_pop (GTask *task)
{
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiMailboxClient) client = NULL;

  client = envoi_mailbox_client_new (self->account, ENVOI_SERVICE_POP3,
                                     get_secret (self, ENVOI_SERVICE_POP3));
  set_step (self, ENVOI_TEST_RUN_STEP_POP3);
  envoi_mailbox_client_login_async (client, g_task_get_cancellable (task), pop_cb, task);
}

static void
imap_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  EnvoiMailboxClient *client = ENVOI_MAILBOX_CLIENT (source);
  g_autoptr(GError) error = NULL;

  self->folders = envoi_mailbox_client_list_folders_finish (client, result, &self->sent_folder,
                                                            &error);
  append_transcript (self, _("IMAP:"), envoi_mailbox_client_get_transcript (client, result));

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
start_imap (GTask *task)
{
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiMailboxClient) client = NULL;

  client = envoi_mailbox_client_new (self->account, ENVOI_SERVICE_IMAP,
                                     get_secret (self, ENVOI_SERVICE_IMAP));
  set_step (self, ENVOI_TEST_RUN_STEP_IMAP);
  envoi_mailbox_client_list_folders_async (client, g_task_get_cancellable (task), imap_cb, task);
}

static void
http_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiTestRun *self = g_task_get_source_object (task);
  EnvoiHttpTransport *transport = ENVOI_HTTP_TRANSPORT (source);
  g_autoptr(GError) error = NULL;

  self->reply = envoi_http_transport_send_finish (transport, result, &error);
  append_transcript (self, _("HTTP:"), envoi_http_transport_get_transcript (transport, result));

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
start_http (GTask *task)
{
  EnvoiTestRun *self = g_task_get_source_object (task);
  g_autoptr(EnvoiHttpTransport) transport = NULL;
  g_autoptr(GBytes) message = g_steal_pointer (&self->message);
  const char *recipients[] = { self->recipient, NULL };

  transport = envoi_http_transport_new (self->account, get_secret (self, ENVOI_SERVICE_HTTP));
  set_step (self, ENVOI_TEST_RUN_STEP_HTTP);
  envoi_http_transport_send_async (transport, envoi_account_get_address (self->account),
                                   recipients, message, g_task_get_cancellable (task),
                                   http_cb, task);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_test_run_finalize (GObject *object)
{
  EnvoiTestRun *self = ENVOI_TEST_RUN (object);

  for (guint i = 0; i < N_SERVICES; i++)
    g_clear_pointer (&self->secrets[i], envoi_secret_free);
  g_clear_object (&self->account);
  g_clear_pointer (&self->goa_password_account, envoi_goa_account_unref);
  g_clear_pointer (&self->message, g_bytes_unref);
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  g_clear_pointer (&self->folders, g_strfreev);
  g_free (self->typed_recipient);
  g_free (self->recipient);
  g_free (self->reply);
  g_free (self->transcript);
  g_free (self->pop_summary);
  g_free (self->identity);
  g_free (self->sent_folder);

  G_OBJECT_CLASS (envoi_test_run_parent_class)->finalize (object);
}

static void
envoi_test_run_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  EnvoiTestRun *self = ENVOI_TEST_RUN (object);

  switch (prop_id)
    {
    case PROP_STEP:
      g_value_set_enum (value, self->step);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_test_run_class_init (EnvoiTestRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_test_run_finalize;
  object_class->get_property = envoi_test_run_get_property;

  /**
   * EnvoiTestRun:step:
   *
   * The step under way; once finished, the one the run stopped at.
   */
  properties[PROP_STEP] =
    g_param_spec_enum ("step", NULL, NULL,
                       ENVOI_TYPE_TEST_RUN_STEP, ENVOI_TEST_RUN_STEP_NONE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
envoi_test_run_init (EnvoiTestRun *self)
{
}

/* ---- public ------------------------------------------------------------------------------- */

/* @account: the values to try; copied, so the form can change while the run goes on */
EnvoiTestRun *
envoi_test_run_new (EnvoiTestRunKind  kind,
                    EnvoiAccount     *account)
{
  EnvoiTestRun *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_TEST_RUN, NULL);
  self->kind = kind;
  self->account = envoi_account_copy (account);

  return self;
}

void
envoi_test_run_set_secret (EnvoiTestRun *self,
                           EnvoiService  service,
                           const char   *secret)
{
  g_return_if_fail (ENVOI_IS_TEST_RUN (self));
  g_return_if_fail ((guint) service < N_SERVICES);
  g_return_if_fail (!self->started);

  g_clear_pointer (&self->secrets[service], envoi_secret_free);
  self->secrets[service] = g_strdup (secret);
}

void
envoi_test_run_set_goa_password_account (EnvoiTestRun    *self,
                                         EnvoiGoaAccount *goa_account)
{
  g_return_if_fail (ENVOI_IS_TEST_RUN (self));
  g_return_if_fail (!self->started);

  g_clear_pointer (&self->goa_password_account, envoi_goa_account_unref);
  if (goa_account != NULL)
    self->goa_password_account = envoi_goa_account_ref (goa_account);
}

void
envoi_test_run_set_recipient (EnvoiTestRun *self,
                              const char   *recipient)
{
  g_return_if_fail (ENVOI_IS_TEST_RUN (self));
  g_return_if_fail (!self->started);

  g_free (self->typed_recipient);
  self->typed_recipient = g_strstrip (g_strdup (recipient != NULL ? recipient : ""));
}

gboolean
envoi_test_run_check (EnvoiTestRun  *self,
                      GError       **error)
{
  const char *typed;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->kind == ENVOI_TEST_RUN_CONNECTION &&
      envoi_account_get_transport (self->account) != ENVOI_TRANSPORT_SMTP)
    {
      g_set_error_literal (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_CONNECTION_TEST,
                           _("No connection test for HTTP sending"));
      return FALSE;
    }
  if (self->kind == ENVOI_TEST_RUN_IMAP && *envoi_account_get_imap_host (self->account) == '\0')
    {
      g_set_error_literal (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_IMAP_SERVER,
                           _("No IMAP server"));
      return FALSE;
    }
  if (self->kind != ENVOI_TEST_RUN_SEND)
    return TRUE;

  typed = self->typed_recipient != NULL ? self->typed_recipient : "";
  g_free (self->recipient);
  self->recipient = envoi_validate_address (*typed != '\0' ? typed
                                                           : envoi_account_get_address (self->account),
                                            &local_error);
  if (self->recipient == NULL)
    {
      g_set_error_literal (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_INVALID_RECIPIENT,
                           local_error->message);
      return FALSE;
    }

  g_clear_pointer (&self->message, g_bytes_unref);
  self->message = envoi_message_build_test (self->account, self->recipient, &local_error);
  if (self->message == NULL)
    {
      g_set_error_literal (error, ENVOI_TEST_RUN_ERROR, ENVOI_TEST_RUN_ERROR_NO_MESSAGE,
                           local_error->message);
      return FALSE;
    }

  return TRUE;
}

void
envoi_test_run_run_async (EnvoiTestRun        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (ENVOI_IS_TEST_RUN (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (!self->started);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_test_run_run_async);
  /* A step that finished says how it went, even when the cancel came too late to stop it. */
  g_task_set_check_cancellable (task, FALSE);
  self->started = TRUE;

  if (!envoi_test_run_check (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (self->kind == ENVOI_TEST_RUN_IMAP)
    start_imap (g_steal_pointer (&task));
  else if (envoi_account_get_transport (self->account) != ENVOI_TRANSPORT_SMTP)
    start_http (g_steal_pointer (&task));
  else if (envoi_account_get_pop_before_smtp (self->account))
    start_pop (g_steal_pointer (&task));
  else
    start_smtp (g_steal_pointer (&task));
}

gboolean
envoi_test_run_run_finish (EnvoiTestRun  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

EnvoiTestRunKind
envoi_test_run_get_kind (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), ENVOI_TEST_RUN_CONNECTION);

  return self->kind;
}

/* The values the run uses (a copy of the account it was made with). */
EnvoiAccount *
envoi_test_run_get_account (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->account;
}

EnvoiTestRunStep
envoi_test_run_get_step (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), ENVOI_TEST_RUN_STEP_NONE);

  return self->step;
}

/* The checked address a test email goes to. */
const char *
envoi_test_run_get_recipient (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->recipient;
}

/* What the SMTP session learnt of the server, whether it worked or not. */
EnvoiSmtpReport *
envoi_test_run_get_report (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->report;
}

/* The server's reply to a test email it accepted. */
const char *
envoi_test_run_get_reply (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->reply;
}

/* The POP3 step's outcome, when it came first and worked. */
const char *
envoi_test_run_get_pop_summary (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->pop_summary;
}

/* Whose sign-in GOA lent: the token may belong to another account than the address. */
const char *
envoi_test_run_get_identity (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->identity;
}

const char * const *
envoi_test_run_get_folders (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return (const char * const *) self->folders;
}

const char *
envoi_test_run_get_sent_folder (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return self->sent_folder;
}

char *
envoi_test_run_dup_transcript (EnvoiTestRun *self)
{
  g_return_val_if_fail (ENVOI_IS_TEST_RUN (self), NULL);

  return g_strconcat (self->transcript != NULL ? self->transcript : "",
                      self->report != NULL ? envoi_smtp_report_get_transcript (self->report) : "",
                      NULL);
}

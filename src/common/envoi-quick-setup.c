/* envoi-quick-setup.c: from an address and a password to a tested account, without a window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The chain a person expects after typing only an address and a password: the settings are
 * looked up (Envoi's presets first, then the autoconfiguration chain of EnvoiAutoconfig: the
 * domain's own configuration server, well-known, the ISPDB, MX, SRV, probing), then each
 * server found, most secure first, is tried with the password (EnvoiSmtpClient's connection
 * test: greeting, EHLO, STARTTLS, AUTH). A server that cannot be reached gives way to the
 * next one; a server that answered and refused (the password, the certificate) ends the
 * chain, since the next one would only hide the real reason. The outcome is an unsaved
 * account that signed in, or the error that explains why not. Nothing is saved here: the
 * caller saves what came back. The step and a sentence for it are properties, for a view.
 */

#define G_LOG_DOMAIN "envoi-quick-setup"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-autoconfig.h"
#include "envoi-quick-setup.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"

struct _EnvoiQuickSetup
{
  GObject               parent_instance;

  EnvoiAutoconfig      *autoconfig;
  EnvoiQuickSetupStep   step;
  char                 *status;
  EnvoiPreset          *preset;    /* where the settings came from */
  gboolean              builtin;   /* …and it is one of Envoi's own presets */
  EnvoiAccount         *account;   /* the last one tried */
  EnvoiSmtpReport      *report;    /* what its sign-in saw, when it failed */
  char                 *trusted_host;  /* a certificate the person chose to trust… */
  char                 *trusted_pin;   /* …and its key */
  gboolean              running;
};

G_DEFINE_FINAL_TYPE (EnvoiQuickSetup, envoi_quick_setup, G_TYPE_OBJECT)

G_DEFINE_QUARK (envoi-quick-setup-error-quark, envoi_quick_setup_error)

enum {
  PROP_0,
  PROP_AUTOCONFIG,
  PROP_STEP,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char                  *address;
  char                  *display_name;
  char                  *password;
  EnvoiAutoconfigResult *result;
  GPtrArray             *candidates;   /* EnvoiAccount, most secure first */
  guint                  next;
  GError                *first_error;  /* of the first candidate that could not be reached */
} Run;

static void
run_free (gpointer data)
{
  Run *run = data;

  g_free (run->address);
  g_free (run->display_name);
  envoi_secret_free (run->password);
  g_clear_object (&run->result);
  g_clear_pointer (&run->candidates, g_ptr_array_unref);
  g_clear_error (&run->first_error);
  g_free (run);
}

static void
set_step (EnvoiQuickSetup     *self,
          EnvoiQuickSetupStep  step,
          char                *status)
{
  g_autofree char *owned = status;

  if (self->step != step)
    {
      self->step = step;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
    }
  if (g_strcmp0 (self->status, status) != 0)
    {
      g_free (self->status);
      self->status = g_steal_pointer (&owned);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
}

/* Ends the run: the only place that returns the task. */
static void
finish (GTask        *task,
        EnvoiAccount *account,
        GError       *error)
{
  EnvoiQuickSetup *self = g_task_get_source_object (task);

  self->running = FALSE;
  if (account != NULL)
    {
      set_step (self, ENVOI_QUICK_SETUP_STEP_READY, NULL);
      g_task_return_pointer (task, g_object_ref (account), g_object_unref);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_step (self, ENVOI_QUICK_SETUP_STEP_IDLE, NULL);
  else
    set_step (self, ENVOI_QUICK_SETUP_STEP_FAILED, NULL);
  g_task_return_error (task, error);
}

/* The server answered and said no: the next candidate would not say anything truer. */
static gboolean
is_final_error (const GError *error)
{
  if (error->domain != ENVOI_SMTP_ERROR)
    return TRUE;

  switch ((EnvoiSmtpError) error->code)
    {
    case ENVOI_SMTP_ERROR_HOST_NOT_FOUND:
    case ENVOI_SMTP_ERROR_CONNECTION_REFUSED:
    case ENVOI_SMTP_ERROR_CONNECTION_LOST:
    case ENVOI_SMTP_ERROR_TIMEOUT:
    case ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED:
    case ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED:
    case ENVOI_SMTP_ERROR_TEMPORARY_FAILURE:
      return FALSE;
    default:
      return TRUE;
    }
}

static void try_next (GTask *task);

static void
test_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  EnvoiSmtpClient *client = ENVOI_SMTP_CLIENT (source);
  g_autoptr(EnvoiSmtpReport) report = NULL;
  g_autoptr(GError) error = NULL;

  report = envoi_smtp_client_test_finish (client, result, &error);
  if (report != NULL)
    {
      finish (task, envoi_smtp_client_get_account (client), NULL);
      return;
    }

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      EnvoiQuickSetup *self = g_task_get_source_object (task);

      g_clear_pointer (&self->report, envoi_smtp_report_unref);
      if (envoi_smtp_client_get_report (client, result) != NULL)
        self->report = envoi_smtp_report_ref (envoi_smtp_client_get_report (client, result));
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || is_final_error (error))
    {
      finish (task, NULL, g_steal_pointer (&error));
      return;
    }

  g_debug ("%s", error->message);
  if (run->first_error == NULL)
    run->first_error = g_steal_pointer (&error);
  try_next (g_steal_pointer (&task));
}

static void
try_next (GTask *task)
{
  EnvoiQuickSetup *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(EnvoiSmtpClient) client = NULL;
  EnvoiAccount *account;

  if (run->next >= run->candidates->len)
    {
      finish (task, NULL, g_steal_pointer (&run->first_error));
      g_object_unref (task);
      return;
    }

  account = g_ptr_array_index (run->candidates, run->next++);
  g_set_object (&self->account, account);
  set_step (self, ENVOI_QUICK_SETUP_STEP_SIGNING_IN,
            /* Translators: progress of the account setup; %s is a server such as
             * smtp.example.org */
            g_strdup_printf (_("Signing in to %s…"), envoi_account_get_host (account)));

  client = envoi_smtp_client_new (account, run->password);
  envoi_smtp_client_test_async (client, g_task_get_cancellable (task), test_cb, task);
}

/* One account per usable server of the answer, most secure first (the answer is ranked). */
static GPtrArray *
make_candidates (EnvoiQuickSetup *self,
                 Run             *run)
{
  GPtrArray *candidates = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *servers = envoi_autoconfig_result_get_servers (run->result);
  EnvoiPreset *preset = envoi_autoconfig_result_get_preset (run->result);
  gboolean is_preset = envoi_autoconfig_result_get_source (run->result) == ENVOI_AUTOCONFIG_SOURCE_PRESET;

  for (guint i = 0; servers != NULL && i < servers->len; i++)
    {
      EnvoiPresetServer *server = g_ptr_array_index (servers, i);
      EnvoiAuthMethod method = envoi_preset_server_get_auth_method (server);
      g_autofree char *host = NULL;
      g_autofree char *username = NULL;
      EnvoiAccount *account;

      /* A password cannot sign in where only a token can. */
      if (method == ENVOI_AUTH_METHOD_XOAUTH2)
        continue;
      host = envoi_preset_server_dup_hostname_for (server, run->address, NULL, NULL);
      username = envoi_preset_server_dup_username_for (server, run->address, NULL);
      if (host == NULL || username == NULL)
        continue;
      if (g_ascii_strcasecmp (username, run->address) == 0)
        g_clear_pointer (&username, g_free);

      account = envoi_account_new ("");
      g_object_set (account,
                    "provider", is_preset ? envoi_preset_get_id (preset) : "",
                    "address", run->address,
                    "display-name", run->display_name,
                    "host", host,
                    "port", (guint) envoi_preset_server_get_port (server),
                    "security", envoi_preset_server_get_security (server),
                    "auth-method", method == ENVOI_AUTH_METHOD_NONE ? ENVOI_AUTH_METHOD_AUTOMATIC
                                                                   : method,
                    "username", username != NULL ? username : "",
                    NULL);
      if (self->trusted_host != NULL && g_ascii_strcasecmp (host, self->trusted_host) == 0)
        g_object_set (account, "pinned-key", self->trusted_pin, NULL);
      g_ptr_array_add (candidates, account);
    }

  return candidates;
}

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  EnvoiQuickSetup *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  run->result = envoi_autoconfig_lookup_finish (ENVOI_AUTOCONFIG (source), result, &error);
  if (run->result == NULL)
    {
      finish (task, NULL, error);
      g_object_unref (task);
      return;
    }

  g_set_object (&self->preset, envoi_autoconfig_result_get_preset (run->result));
  self->builtin = envoi_autoconfig_result_get_source (run->result) == ENVOI_AUTOCONFIG_SOURCE_PRESET;
  run->candidates = make_candidates (self, run);
  if (run->candidates->len == 0)
    {
      finish (task, NULL,
              g_error_new (ENVOI_QUICK_SETUP_ERROR, ENVOI_QUICK_SETUP_ERROR_NEEDS_MANUAL,
                           /* Translators: %s is a provider's name, such as Example Mail */
                           _("%s needs more than an address and a password: set this account up manually."),
                           envoi_preset_get_display_name (self->preset)));
      g_object_unref (task);
      return;
    }

  try_next (task);
}

static void
envoi_quick_setup_dispose (GObject *object)
{
  EnvoiQuickSetup *self = ENVOI_QUICK_SETUP (object);

  g_clear_object (&self->autoconfig);
  g_clear_object (&self->preset);
  g_clear_object (&self->account);
  g_clear_pointer (&self->report, envoi_smtp_report_unref);

  G_OBJECT_CLASS (envoi_quick_setup_parent_class)->dispose (object);
}

static void
envoi_quick_setup_finalize (GObject *object)
{
  EnvoiQuickSetup *self = ENVOI_QUICK_SETUP (object);

  g_free (self->status);
  g_free (self->trusted_host);
  g_free (self->trusted_pin);

  G_OBJECT_CLASS (envoi_quick_setup_parent_class)->finalize (object);
}

static void
envoi_quick_setup_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  EnvoiQuickSetup *self = ENVOI_QUICK_SETUP (object);

  switch (prop_id)
    {
    case PROP_AUTOCONFIG:
      g_value_set_object (value, self->autoconfig);
      break;
    case PROP_STEP:
      g_value_set_uint (value, self->step);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_quick_setup_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  EnvoiQuickSetup *self = ENVOI_QUICK_SETUP (object);

  switch (prop_id)
    {
    case PROP_AUTOCONFIG:
      self->autoconfig = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
envoi_quick_setup_constructed (GObject *object)
{
  EnvoiQuickSetup *self = ENVOI_QUICK_SETUP (object);

  G_OBJECT_CLASS (envoi_quick_setup_parent_class)->constructed (object);

  if (self->autoconfig == NULL)
    self->autoconfig = envoi_autoconfig_new ();
}

static void
envoi_quick_setup_class_init (EnvoiQuickSetupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_quick_setup_dispose;
  object_class->finalize = envoi_quick_setup_finalize;
  object_class->get_property = envoi_quick_setup_get_property;
  object_class->set_property = envoi_quick_setup_set_property;
  object_class->constructed = envoi_quick_setup_constructed;

  properties[PROP_AUTOCONFIG] =
    g_param_spec_object ("autoconfig", NULL, NULL, ENVOI_TYPE_AUTOCONFIG,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /* An EnvoiQuickSetupStep. */
  properties[PROP_STEP] =
    g_param_spec_uint ("step", NULL, NULL, ENVOI_QUICK_SETUP_STEP_IDLE,
                       ENVOI_QUICK_SETUP_STEP_FAILED, ENVOI_QUICK_SETUP_STEP_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /* What is being done, in words, while it is: “Looking up example.org…” */
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
envoi_quick_setup_init (EnvoiQuickSetup *self)
{
}

EnvoiQuickSetup *
envoi_quick_setup_new (EnvoiAutoconfig *autoconfig)
{
  g_return_val_if_fail (autoconfig == NULL || ENVOI_IS_AUTOCONFIG (autoconfig), NULL);

  return g_object_new (ENVOI_TYPE_QUICK_SETUP, "autoconfig", autoconfig, NULL);
}

/**
 * envoi_quick_setup_run_async:
 * @display_name: (nullable): the person's name, for the From header
 *
 * Looks the settings up for @address and signs in with @password. One run at a time.
 */
void
envoi_quick_setup_run_async (EnvoiQuickSetup     *self,
                             const char          *address,
                             const char          *display_name,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const char *at;
  Run *run;

  g_return_if_fail (ENVOI_IS_QUICK_SETUP (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (password != NULL);
  g_return_if_fail (!self->running);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_quick_setup_run_async);
  run = g_new0 (Run, 1);
  run->address = g_strstrip (g_strdup (address));
  run->display_name = g_strstrip (g_strdup (display_name != NULL ? display_name : ""));
  run->password = g_strdup (password);
  g_task_set_task_data (task, run, run_free);

  self->running = TRUE;
  self->builtin = FALSE;
  g_clear_object (&self->preset);
  g_clear_object (&self->account);
  g_clear_pointer (&self->report, envoi_smtp_report_unref);
  at = strrchr (run->address, '@');
  set_step (self, ENVOI_QUICK_SETUP_STEP_LOOKING_UP,
            /* Translators: progress of the account setup; %s is a domain such as example.org */
            g_strdup_printf (_("Looking up %s…"), at != NULL && at[1] != '\0' ? at + 1
                                                                            : run->address));
  envoi_autoconfig_lookup_async (self->autoconfig, run->address, cancellable, lookup_cb,
                                 g_steal_pointer (&task));
}

/**
 * envoi_quick_setup_run_finish:
 *
 * Returns: (transfer full): the account that signed in, unsaved (its id is empty), or %NULL:
 *   %G_IO_ERROR_CANCELLED, an #EnvoiAutoconfigError (nothing found), an #EnvoiSmtpError
 *   (the sign-in failed) or %ENVOI_QUICK_SETUP_ERROR_NEEDS_MANUAL
 */
EnvoiAccount *
envoi_quick_setup_run_finish (EnvoiQuickSetup  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

EnvoiQuickSetupStep
envoi_quick_setup_get_step (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), ENVOI_QUICK_SETUP_STEP_IDLE);

  return self->step;
}

/* Returns: (nullable): what is being done, in words, while it is */
const char *
envoi_quick_setup_get_status (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);

  return self->status;
}

/* Returns: (nullable): the provider whose settings were found (for its advice) */
EnvoiPreset *
envoi_quick_setup_get_preset (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);

  return self->preset;
}

/* Returns: (nullable): the account last tried, for the hint of a failure */
EnvoiAccount *
envoi_quick_setup_get_account (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);

  return self->account;
}

gboolean
envoi_quick_setup_is_running (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), FALSE);

  return self->running;
}

/**
 * envoi_quick_setup_dup_hint_for:
 * @builtin_preset: (nullable): a preset built into Envoi; never one read from the network,
 *   whose words would then speak for Envoi about the password
 *
 * Returns: (transfer full): one sentence saying what to do about @error
 */
char *
envoi_quick_setup_dup_hint_for (EnvoiPreset  *builtin_preset,
                                const GError *error,
                                EnvoiAccount *account)
{
  const char *advice;

  g_return_val_if_fail (builtin_preset == NULL || ENVOI_IS_PRESET (builtin_preset), NULL);
  g_return_val_if_fail (error != NULL, NULL);

  advice = builtin_preset != NULL ? envoi_preset_get_password_hint (builtin_preset) : NULL;
  if (g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED) ||
      g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_APP_PASSWORD_REQUIRED))
    if (advice != NULL && *advice != '\0')
      /* Translators: advice after a refused password; %s is the provider's own advice, such
       * as “An app password (16 letters) from your Google Account” */
      return g_strdup_printf (_("Check the password. This provider needs: %s."), advice);

  return envoi_smtp_error_dup_hint (error, account);
}

char *
envoi_quick_setup_dup_hint (EnvoiQuickSetup *self,
                            const GError    *error)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);
  g_return_val_if_fail (error != NULL, NULL);

  return envoi_quick_setup_dup_hint_for (self->builtin ? self->preset : NULL, error,
                                         self->account);
}

/* Returns: (nullable): what the last failed sign-in saw (the certificate, the replies) */
EnvoiSmtpReport *
envoi_quick_setup_get_report (EnvoiQuickSetup *self)
{
  g_return_val_if_fail (ENVOI_IS_QUICK_SETUP (self), NULL);

  return self->report;
}

/**
 * envoi_quick_setup_trust_certificate:
 * @host: the server whose certificate was not trusted
 * @pin: its key, as the report gave it (sha256//…)
 *
 * From the next run on, signing in to @host accepts the certificate with this key, and the
 * account that comes back keeps it (`pinned-key`). Only after the person chose to.
 */
void
envoi_quick_setup_trust_certificate (EnvoiQuickSetup *self,
                                     const char      *host,
                                     const char      *pin)
{
  g_return_if_fail (ENVOI_IS_QUICK_SETUP (self));
  g_return_if_fail (host != NULL && pin != NULL && *pin != '\0');

  g_free (self->trusted_host);
  self->trusted_host = g_strdup (host);
  g_free (self->trusted_pin);
  self->trusted_pin = g_strdup (pin);
}

/* envoi-delivery.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "envoi-account-check.h"
#include "envoi-agent.h"
#include "envoi-delivery.h"

/* Sends of one account handed to the agent at once (issue 20): it runs them back to back over
 * the account's connection while this end records the ones before, so that neither waits for
 * the other between two messages. A failure stops those after it unattempted: see
 * envoi_smtp_client_set_halt_after_failure(). */
#define PIPELINE_DEPTH 8

struct _EnvoiDelivery
{
  GObject          parent_instance;

  EnvoiAccount    *account;
  GQueue           pending;     /* EnvoiQueueEntry, oldest first */
  gint64           blocked_until;
  guint            generation;  /* of the account's settings, for the agent; never 0 */
  guint            checked_generation;  /* the generation whose settings were checked */
  GError          *settings_error;      /* what was wrong with them, or NULL */
  guint            in_flight;           /* sends without an answer yet */
  guint            paused : 1;
  guint            waiting_keyring : 1;  /* paused because the keyring is locked */
};

G_DEFINE_FINAL_TYPE (EnvoiDelivery, envoi_delivery, G_TYPE_OBJECT)

/* A copy that could not be stored is reported (journal, delivery log, desktop notification),
 * but the message was delivered: that stays so. */
static void
report_copy_failure (EnvoiDelivery *self,
                     const char    *reason)
{
  const char *account_id = envoi_account_get_id (self->account);
  g_autofree char *clean = g_strdelimit (g_strdup (reason), "\r\n", ' ');
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);
  g_autofree char *line = g_strdup_printf ("%s - %s copy-failed %s\n", stamp, account_id, clean);
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "envoi", "delivery.log", NULL);
  GApplication *application = g_application_get_default ();
  int fd;

  g_message ("Account %s: the message was sent, but no copy was saved: %s", account_id, clean);

  fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, line, strlen (line)) < 0)
    g_debug ("Could not write the delivery log: %s", g_strerror (errno));
  if (fd >= 0)
    close (fd);

  if (application != NULL)
    {
      g_autoptr(GNotification) notification =
        g_notification_new (_("A message was sent, but no copy was saved"));
      g_autofree char *id = g_strdup_printf ("copy-failed-%s", account_id);

      g_notification_set_body (notification, reason);
      g_application_send_notification (application, id, notification);
    }
}

/* The agent sends the copy after the message, and says so before answering the send. */
static void
sent_copy_failed_cb (EnvoiAgent *agent,
                     const char *account_id,
                     const char *reason,
                     gpointer    user_data)
{
  EnvoiDelivery *self = user_data;

  if (self->account != NULL && g_strcmp0 (envoi_account_get_id (self->account), account_id) == 0)
    report_copy_failure (self, reason);
}

/* The settings changed: the agent is sent them again with the next message. */
static void
new_generation (EnvoiDelivery *self)
{
  if (++self->generation == 0)
    self->generation = 1;
}

static void
account_notify_cb (EnvoiDelivery *self)
{
  new_generation (self);
}

static void
replace_account (EnvoiDelivery *self,
                 EnvoiAccount  *account)
{
  if (self->account != NULL)
    g_signal_handlers_disconnect_by_func (self->account, account_notify_cb, self);
  g_set_object (&self->account, account);
  if (account != NULL)
    g_signal_connect_swapped (account, "notify", G_CALLBACK (account_notify_cb), self);
  new_generation (self);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EnvoiDelivery *self = g_task_get_source_object (task);
  GError *error = NULL;
  char *reply = NULL;

  /* The account has room again before the caller hears of the result, so that it may go on. */
  self->in_flight--;

  if (envoi_agent_send_finish_with_reply (ENVOI_AGENT (source), result, &reply, &error))
    g_task_return_pointer (task, reply, g_free);
  else
    g_task_return_error (task, error);
}

static void
envoi_delivery_dispose (GObject *object)
{
  EnvoiDelivery *self = ENVOI_DELIVERY (object);

  g_queue_clear_full (&self->pending, g_object_unref);
  replace_account (self, NULL);
  g_clear_error (&self->settings_error);

  G_OBJECT_CLASS (envoi_delivery_parent_class)->dispose (object);
}

static void
envoi_delivery_class_init (EnvoiDeliveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_delivery_dispose;
}

static void
envoi_delivery_init (EnvoiDelivery *self)
{
  g_queue_init (&self->pending);
  self->generation = 1;
  self->checked_generation = 0;
  g_signal_connect_object (envoi_agent_get_default (), "sent-copy-failed",
                           G_CALLBACK (sent_copy_failed_cb), self, 0);
}

EnvoiDelivery *
envoi_delivery_new (EnvoiAccount *account)
{
  EnvoiDelivery *self;

  g_return_val_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_DELIVERY, NULL);
  replace_account (self, account);

  return self;
}

EnvoiAccount *
envoi_delivery_get_account (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), NULL);

  return self->account;
}

void
envoi_delivery_set_account (EnvoiDelivery *self,
                            EnvoiAccount  *account)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));
  g_return_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account));

  if (self->account != account)
    {
      replace_account (self, account);
      envoi_delivery_reset (self);
    }
}

GQueue *
envoi_delivery_get_pending (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), NULL);

  return &self->pending;
}

/* No room for another send until one is answered. */
gboolean
envoi_delivery_get_busy (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), FALSE);

  return self->in_flight >= PIPELINE_DEPTH;
}

/* Sends handed to the agent and not answered yet. */
guint
envoi_delivery_get_in_flight (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), 0);

  return self->in_flight;
}

gboolean
envoi_delivery_check_account (EnvoiDelivery  *self,
                              GError        **error)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), FALSE);
  g_return_val_if_fail (self->account != NULL, FALSE);

  /* Once for each change of the settings, not once per message. */
  if (self->checked_generation != self->generation)
    {
      g_clear_error (&self->settings_error);
      envoi_account_check_settings (self->account, &self->settings_error);
      self->checked_generation = self->generation;
    }

  if (self->settings_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->settings_error));
      return FALSE;
    }

  return TRUE;
}

gboolean
envoi_delivery_get_paused (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), FALSE);

  return self->paused;
}

void
envoi_delivery_set_paused (EnvoiDelivery *self,
                           gboolean       paused)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));

  self->paused = !!paused;
}

gint64
envoi_delivery_get_blocked_until (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), 0);

  return self->blocked_until;
}

void
envoi_delivery_set_blocked_until (EnvoiDelivery *self,
                                  gint64         when)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));

  self->blocked_until = when;
}

void
envoi_delivery_reset (EnvoiDelivery *self)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));

  /* A send in flight finishes with the agent's old connection. */
  if (self->account != NULL)
    envoi_agent_reset (envoi_agent_get_default (), envoi_account_get_id (self->account));
  new_generation (self);
  self->paused = FALSE;
  self->waiting_keyring = FALSE;
  self->blocked_until = 0;
}

gboolean
envoi_delivery_get_waiting_keyring (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), FALSE);

  return self->waiting_keyring;
}

void
envoi_delivery_set_waiting_keyring (EnvoiDelivery *self,
                                    gboolean       waiting)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));

  self->waiting_keyring = !!waiting;
}

void
envoi_delivery_forget_credentials (EnvoiDelivery *self)
{
  g_return_if_fail (ENVOI_IS_DELIVERY (self));

  if (self->account != NULL)
    envoi_agent_reset (envoi_agent_get_default (), envoi_account_get_id (self->account));
  new_generation (self);
}

void
envoi_delivery_send_async (EnvoiDelivery       *self,
                           const char          *envelope_from,
                           const char * const  *recipients,
                           int                  message_fd,
                           goffset              offset,
                           gsize                length,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ENVOI_IS_DELIVERY (self));
  g_return_if_fail (self->in_flight < PIPELINE_DEPTH);
  g_return_if_fail (self->account != NULL);
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message_fd >= 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_delivery_send_async);

  self->in_flight++;
  envoi_agent_send_async (envoi_agent_get_default (), self->account, self->generation,
                          envelope_from, recipients, message_fd, offset, length, cancellable,
                          send_cb, g_steal_pointer (&task));
}

gboolean
envoi_delivery_send_finish (EnvoiDelivery  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  return envoi_delivery_send_finish_with_reply (self, result, NULL, error);
}

gboolean
envoi_delivery_send_finish_with_reply (EnvoiDelivery  *self,
                                       GAsyncResult   *result,
                                       char          **reply,
                                       GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  /* The agent's reply, handed on by send_cb(). */
  return envoi_agent_propagate_reply (G_TASK (result), reply, error);
}

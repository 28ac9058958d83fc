/* envoi-delivery.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-delivery.h"
#include "envoi-secret.h"
#include "envoi-smtp-client.h"

struct _EnvoiDelivery
{
  GObject          parent_instance;

  EnvoiAccount    *account;
  EnvoiSmtpClient *client;      /* reused for every message until reset */
  GQueue           pending;     /* EnvoiQueueEntry, oldest first */
  gint64           blocked_until;
  guint            generation;  /* bumped by reset: a late secret lookup is thrown away */
  guint            busy : 1;
  guint            paused : 1;
};

G_DEFINE_FINAL_TYPE (EnvoiDelivery, envoi_delivery, G_TYPE_OBJECT)

typedef struct
{
  char      *envelope_from;
  GStrv      recipients;
  GBytes    *message;
  guint      generation;
} SendData;

static void
send_data_free (gpointer data)
{
  SendData *send = data;

  g_free (send->envelope_from);
  g_strfreev (send->recipients);
  g_bytes_unref (send->message);
  g_free (send);
}

/* The account is free again before the caller hears of the result, so that it may go on. */
static void
return_result (GTask  *task,
               GError *error)
{
  EnvoiDelivery *self = g_task_get_source_object (task);

  self->busy = FALSE;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;

  reply = envoi_smtp_client_send_finish (ENVOI_SMTP_CLIENT (source), result, &error);
  g_assert (reply != NULL || error != NULL);
  return_result (task, g_steal_pointer (&error));
}

static void
start_send (GTask *task)
{
  EnvoiDelivery *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  g_assert (self->client != NULL);

  envoi_smtp_client_send_async (self->client,
                                send->envelope_from,
                                (const char * const *) send->recipients,
                                send->message,
                                g_task_get_cancellable (task),
                                send_cb,
                                task);
}

static void
lookup_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(EnvoiSecretString) secret = NULL;
  g_autoptr(GError) error = NULL;
  EnvoiDelivery *self = g_task_get_source_object (task);
  SendData *send = g_task_get_task_data (task);

  secret = envoi_secret_lookup_finish (result, &error);
  if (error != NULL)
    {
      return_result (task, g_steal_pointer (&error));
      return;
    }

  /* The settings changed while the keyring answered: that answer may be for the old ones. */
  if (send->generation != self->generation)
    {
      envoi_secret_lookup_async (self->account, ENVOI_SERVICE_SMTP, g_task_get_cancellable (task),
                                 lookup_cb, g_object_ref (task));
      send->generation = self->generation;
      return;
    }

  if (self->client == NULL)
    self->client = envoi_smtp_client_new (self->account, secret);

  start_send (g_steal_pointer (&task));
}

static void
envoi_delivery_dispose (GObject *object)
{
  EnvoiDelivery *self = ENVOI_DELIVERY (object);

  g_queue_clear_full (&self->pending, g_object_unref);
  g_clear_object (&self->client);
  g_clear_object (&self->account);

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
}

EnvoiDelivery *
envoi_delivery_new (EnvoiAccount *account)
{
  EnvoiDelivery *self;

  g_return_val_if_fail (account == NULL || ENVOI_IS_ACCOUNT (account), NULL);

  self = g_object_new (ENVOI_TYPE_DELIVERY, NULL);
  self->account = account != NULL ? g_object_ref (account) : NULL;

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

  if (g_set_object (&self->account, account))
    envoi_delivery_reset (self);
}

GQueue *
envoi_delivery_get_pending (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), NULL);

  return &self->pending;
}

gboolean
envoi_delivery_get_busy (EnvoiDelivery *self)
{
  g_return_val_if_fail (ENVOI_IS_DELIVERY (self), FALSE);

  return self->busy;
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

  /* A send in flight keeps its own reference to the old client until it ends. */
  g_clear_object (&self->client);
  self->generation++;
  self->paused = FALSE;
  self->blocked_until = 0;
}

void
envoi_delivery_send_async (EnvoiDelivery       *self,
                           const char          *envelope_from,
                           const char * const  *recipients,
                           GBytes              *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *send;

  g_return_if_fail (ENVOI_IS_DELIVERY (self));
  g_return_if_fail (!self->busy);
  g_return_if_fail (self->account != NULL);
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_delivery_send_async);

  send = g_new0 (SendData, 1);
  send->envelope_from = g_strdup (envelope_from);
  send->recipients = g_strdupv ((char **) recipients);
  send->message = g_bytes_ref (message);
  send->generation = self->generation;
  g_task_set_task_data (task, send, send_data_free);

  self->busy = TRUE;

  if (self->client != NULL)
    start_send (g_steal_pointer (&task));
  else if (envoi_account_get_auth_method (self->account) == ENVOI_AUTH_METHOD_NONE)
    {
      self->client = envoi_smtp_client_new (self->account, NULL);
      start_send (g_steal_pointer (&task));
    }
  else
    envoi_secret_lookup_async (self->account, ENVOI_SERVICE_SMTP, cancellable,
                               lookup_cb, g_steal_pointer (&task));
}

gboolean
envoi_delivery_send_finish (EnvoiDelivery  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* envoi-agent-goa.c: in the delivery agent, sending for an account that signs in through GNOME
 * Online Accounts: one token per session, one refresh when the server refuses it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The agent (EnvoiAgentAccount) is the only sender of such mail; the token itself is asked of
 * GOA by envoi-goa.c, which the account dialog's test run uses too.
 */

#define G_LOG_DOMAIN "envoi-goa"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-account.h"
#include "envoi-agent-goa.h"
#include "envoi-goa.h"
#include "envoi-secret.h"
#include "envoi-smtp-error.h"

/* GOA renews a token that has ten minutes or less to live before handing it out (GOA 3.46,
 * goa_oauth2_provider_get_access_token_sync), so a session begun with a token just asked for
 * may be reused, reconnecting with that token if it must, for a while; after that, or sooner if
 * the token says it ends sooner, the next message begins a new session with a fresh token. */
#define SESSION_REUSE_SECONDS (9 * 60)
#define SESSION_MARGIN_SECONDS 60

/* What a session's client carries: the token it signs in with (wiped with it) and until when
 * it may be reused. */
typedef struct
{
  char   *token;
  char   *identity;
  gint64  reuse_until;   /* monotonic */
} Session;

static GQuark
session_quark (void)
{
  return g_quark_from_static_string ("envoi-agent-goa-session");
}

static void
session_free (Session *session)
{
  envoi_secret_free (session->token);
  g_free (session->identity);
  g_free (session);
}

static Session *
session_of (EnvoiSmtpClient *client)
{
  return client != NULL ? g_object_get_qdata (G_OBJECT (client), session_quark ()) : NULL;
}

/* Takes @token and @identity. */
static EnvoiSmtpClient *
session_new (EnvoiAccount *account,
             char         *token,
             char         *identity,
             gint          expires_in)
{
  EnvoiSmtpClient *client = envoi_smtp_client_new (account, token);
  Session *session = g_new0 (Session, 1);
  gint64 life = 0;

  if (expires_in > SESSION_MARGIN_SECONDS)
    life = MIN (expires_in - SESSION_MARGIN_SECONDS, SESSION_REUSE_SECONDS);
  session->token = token;
  session->identity = identity;
  session->reuse_until = g_get_monotonic_time () + life * G_USEC_PER_SEC;
  g_object_set_qdata_full (G_OBJECT (client), session_quark (), session,
                           (GDestroyNotify) session_free);

  return client;
}

typedef struct
{
  GDBusConnection *bus;
  EnvoiAccount    *account;
  char            *envelope_from;
  GStrv            recipients;
  GBytes          *message;
  EnvoiSmtpClient *client;     /* the session of this send */
  gboolean         retried;
} SendData;

static void
send_data_free (SendData *data)
{
  g_clear_object (&data->bus);
  g_clear_object (&data->account);
  g_free (data->envelope_from);
  g_strfreev (data->recipients);
  g_clear_pointer (&data->message, g_bytes_unref);
  g_clear_object (&data->client);
  g_free (data);
}

static void send_done_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void send_token_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
send_start (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  envoi_smtp_client_send_async (data->client, data->envelope_from,
                                (const char * const *) data->recipients, data->message,
                                g_task_get_cancellable (task), send_done_cb, task);
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  Session *session = session_of (data->client);
  GError *error = NULL;
  char *reply;

  g_assert (session != NULL);
  reply = envoi_smtp_client_send_finish (ENVOI_SMTP_CLIENT (source), result, &error);
  if (reply != NULL)
    {
      g_task_return_pointer (task, reply, g_free);
      return;
    }

  if (!g_error_matches (error, ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED))
    {
      g_clear_object (&data->client);
      g_task_return_error (task, error);
      return;
    }

  /* The server refused the token: maybe it expired before GOA thought. Once, ask again, and
   * never accept the refused token back (envoi_goa_get_access_token_async checks). */
  if (!data->retried)
    {
      const char *goa_id = envoi_goa_account_id_from_provider (envoi_account_get_provider (data->account));
      g_autoptr(EnvoiSmtpClient) refused = g_steal_pointer (&data->client);

      g_debug ("The server refused the access token; asking GOA for a fresh one");
      g_error_free (error);
      data->retried = TRUE;
      envoi_goa_get_access_token_async (data->bus, goa_id, session->token,
                                        g_task_get_cancellable (task), send_token_cb,
                                        g_object_ref (task));
      return;
    }

  /* A token GOA had just given was refused too: the sign-in no longer works. */
  g_debug ("The server refused a fresh access token too: %s", error->message);
  g_error_free (error);
  /* Translators: %s names the online account, e.g. "alice@gmail.com". */
  g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_SIGN_IN_NEEDED,
                           _("The mail server refused the sign-in of “%s”, even with a fresh token from GNOME Online Accounts. Sign in again in Settings → Online Accounts."),
                           session != NULL ? session->identity : "");
  g_clear_object (&data->client);
}

static void
send_token_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *identity = NULL;
  gint expires_in = 0;
  char *token;

  token = envoi_goa_get_access_token_finish_full (result, &identity, &expires_in, &error);
  if (token == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  data->client = session_new (data->account, token, identity, expires_in);
  send_start (g_steal_pointer (&task));
}

void
envoi_agent_goa_send_async (GDBusConnection     *bus,
                            EnvoiAccount        *account,
                            EnvoiSmtpClient     *session,
                            const char          *envelope_from,
                            const char * const  *recipients,
                            GBytes              *message,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *data;
  const char *goa_id;

  g_return_if_fail (bus == NULL || G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));
  g_return_if_fail (session == NULL || ENVOI_IS_SMTP_CLIENT (session));
  g_return_if_fail (envelope_from != NULL);
  g_return_if_fail (recipients != NULL);
  g_return_if_fail (message != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, envoi_agent_goa_send_async);

  goa_id = envoi_goa_account_id_from_provider (envoi_account_get_provider (account));
  if (goa_id == NULL)
    {
      g_task_return_new_error (task, ENVOI_GOA_ERROR, ENVOI_GOA_ERROR_NOT_SUPPORTED,
                               _("This account does not sign in with an online account."));
      return;
    }

  data = g_new0 (SendData, 1);
  data->bus = bus != NULL ? g_object_ref (bus) : NULL;
  data->account = g_object_ref (account);
  data->envelope_from = g_strdup (envelope_from);
  data->recipients = g_strdupv ((GStrv) recipients);
  data->message = g_bytes_ref (message);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  /* A session still young enough: no new token, the connection is reused. (The caller drops
   * its session when the account's settings change; the client keeps a copy of the old ones.) */
  if (session != NULL && session_of (session) != NULL
      && g_get_monotonic_time () < session_of (session)->reuse_until)
    {
      data->client = g_object_ref (session);
      send_start (g_steal_pointer (&task));
      return;
    }

  envoi_goa_get_access_token_async (bus, goa_id, NULL, cancellable, send_token_cb,
                                    g_steal_pointer (&task));
}

char *
envoi_agent_goa_send_finish (GAsyncResult     *result,
                             EnvoiSmtpClient **session,
                             GError          **error)
{
  SendData *data;
  char *reply;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  data = g_task_get_task_data (G_TASK (result));
  if (session != NULL)
    *session = reply != NULL && data != NULL && data->client != NULL ? g_object_ref (data->client) : NULL;
  return reply;
}

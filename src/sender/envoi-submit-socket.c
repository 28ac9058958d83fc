/* envoi-submit-socket.c: the daemon's end of envoi-sendmail's fast path
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * envoi-sendmail links GLib alone and, when the daemon runs, hands it the message here
 * (envoi-submit-protocol.h says how). Everything else is the queue's, as for the D-Bus Submit
 * method: parsing with GMime, the account choice, the durable write in a worker thread. The
 * submitter hears the id only once the message is on disk.
 */

#define _GNU_SOURCE  /* F_GET_SEALS */
#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixfdmessage.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-account-store.h"
#include "envoi-submit-protocol.h"
#include "envoi-submit-socket.h"
#include "envoi-unix-socket.h"
#include "envoi-size-limit.h"

#define REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct _EnvoiSubmitSocket
{
  GObject            parent_instance;

  EnvoiQueue        *queue;
  EnvoiAccountStore *store;
  GCancellable      *cancellable;
  GSocket           *listener;
  GSource           *listener_source;
  dev_t              path_dev;   /* the socket file we bound, removed only if still ours */
  ino_t              path_ino;
  guint              n_clients;  /* accepted and not yet answered */
};

G_DEFINE_FINAL_TYPE (EnvoiSubmitSocket, envoi_submit_socket, G_TYPE_OBJECT)

enum {
  SUBMITTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  EnvoiSubmitSocket *self;
  GSocket           *socket;
  GSource           *source;
  guint64            max_size;
} Client;

static void
client_free (Client *client)
{
  EnvoiSubmitSocket *self = client->self;

  g_assert (self->n_clients > 0);
  self->n_clients--;

  if (client->source != NULL)
    {
      g_source_destroy (client->source);
      g_source_unref (client->source);
    }
  g_socket_close (client->socket, NULL);
  g_object_unref (client->socket);
  g_object_unref (client->self);
  g_free (client);
}

/* One packet; a failure only means that the submitter is gone. */
static void
send_variant (GSocket  *socket,
              GVariant *variant)
{
  g_autoptr(GVariant) sunk = g_variant_ref_sink (variant);
  g_autoptr(GError) error = NULL;

  if (g_socket_send (socket, g_variant_get_data (sunk), g_variant_get_size (sunk), NULL, &error) < 0)
    g_debug ("Could not answer a submitter: %s", error->message);
}

/* Answers and hangs up: takes @client. */
static void
client_reply (Client       *client,
              const char   *id,
              const GError *error)
{
  if (id != NULL)
    {
      send_variant (client->socket, g_variant_new (ENVOI_SUBMIT_REPLY_TYPE, TRUE, 0, id));
    }
  else
    {
      guint code = error->domain == ENVOI_QUEUE_ERROR ? (guint) error->code : ENVOI_QUEUE_ERROR_FAILED;

      send_variant (client->socket, g_variant_new (ENVOI_SUBMIT_REPLY_TYPE, FALSE, code, error->message));
    }

  client_free (client);
}

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(EnvoiSubmitSocket) self = g_object_ref (client->self);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = envoi_queue_submit_finish (ENVOI_QUEUE (source), result, &error);

  /* The submitter first: it waits for this answer, and the message is on disk. Only then the
   * news that starts its delivery, the agent and the D-Bus signals. */
  client_reply (client, id, error);
  if (id != NULL)
    g_signal_emit (self, signals[SUBMITTED], 0, envoi_queue_submit_get_entry (result));
}

/* The message from a sealed memfd: its size cannot change under us, and reading it cannot
 * block. Anything else is refused. */
static GBytes *
read_message (int       fd,
              guint64   max_size,
              GError  **error)
{
  g_autofree guint8 *data = NULL;
  struct stat st;
  int seals;
  gsize done = 0;

  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0 || (seals & REQUIRED_SEALS) != REQUIRED_SEALS || fstat (fd, &st) != 0 ||
      !S_ISREG (st.st_mode))
    {
      g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                   _("The message could not be read: %s"), g_strerror (seals < 0 ? errno : EINVAL));
      return NULL;
    }

  if ((guint64) st.st_size > max_size)
    {
      g_autofree char *reason = envoi_size_limit_describe (max_size);

      g_set_error_literal (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_TOO_LARGE, reason);
      return NULL;
    }

  data = g_malloc (MAX (st.st_size, 1));
  while (done < (gsize) st.st_size)
    {
      ssize_t n = pread (fd, data + done, st.st_size - done, done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                       _("The message could not be read: %s"), g_strerror (n < 0 ? errno : EIO));
          return NULL;
        }
      done += n;
    }

  return g_bytes_new_take (g_steal_pointer (&data), st.st_size);
}

/* Reads the one request and starts its submission; a malformed request is answered at once. */
static gboolean
client_cb (GSocket      *socket,
           GIOCondition  condition,
           gpointer      user_data)
{
  Client *client = user_data;
  EnvoiSubmitSocket *self = client->self;
  g_autofree guint8 *buffer = g_malloc (ENVOI_SUBMIT_MAX_REQUEST);
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **recipients = NULL;
  const char *account = NULL, *from = NULL, *full_name = NULL;
  gboolean extract = FALSE;
  GSocketControlMessage **messages = NULL;
  GInputVector vector = { buffer, ENVOI_SUBMIT_MAX_REQUEST };
  int n_messages = 0;
  int flags = 0;
  int fd = -1;
  gssize size;

  size = g_socket_receive_message (socket, NULL, &vector, 1, &messages, &n_messages, &flags,
                                   NULL, &error);
  if (size < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;

  /* From here on the connection gets its answer (or is dropped) and is done with. */
  g_clear_pointer (&client->source, g_source_unref);

  for (int i = 0; i < n_messages; i++)
    {
      if (G_IS_UNIX_FD_MESSAGE (messages[i]))
        {
          g_autofree int *fds = NULL;
          int n_fds = 0;

          fds = g_unix_fd_message_steal_fds (G_UNIX_FD_MESSAGE (messages[i]), &n_fds);
          for (int j = 0; j < n_fds; j++)
            {
              if (fd < 0 && n_fds == 1)
                fd = fds[j];
              else
                close (fds[j]);
            }
        }
      g_object_unref (messages[i]);
    }
  g_free (messages);

  if (size <= 0)
    {
      /* The submitter hung up, or the socket failed: nobody to answer. */
      if (fd >= 0)
        close (fd);
      client_free (client);
      return G_SOURCE_REMOVE;
    }

  if ((flags & MSG_TRUNC) == 0)
    options = g_variant_new_from_data (G_VARIANT_TYPE (ENVOI_SUBMIT_REQUEST_TYPE), buffer, size,
                                       FALSE, NULL, NULL);
  if (options == NULL || !g_variant_is_normal_form (options) || fd < 0)
    {
      g_set_error (&error, ENVOI_QUEUE_ERROR, ENVOI_QUEUE_ERROR_BAD_MESSAGE,
                   _("The message could not be read: %s"), g_strerror (EPROTO));
      if (fd >= 0)
        close (fd);
      client_reply (client, NULL, error);
      return G_SOURCE_REMOVE;
    }

  raw = read_message (fd, client->max_size, &error);
  close (fd);
  if (raw == NULL)
    {
      client_reply (client, NULL, error);
      return G_SOURCE_REMOVE;
    }

  /* The request's strings live in @buffer, which @options does not own: copy what we keep. */
  g_variant_lookup (options, "account", "&s", &account);
  g_variant_lookup (options, "from", "&s", &from);
  g_variant_lookup (options, "full-name", "&s", &full_name);
  g_variant_lookup (options, "recipients", "^a&s", &recipients);
  g_variant_lookup (options, "extract-recipients", "b", &extract);

  /* envoi_queue_submit_async() uses the strings before it returns. */
  envoi_queue_submit_async (self->queue, self->store, raw, account, from, full_name,
                            recipients, extract, client->max_size, self->cancellable,
                            submitted_cb, client);

  return G_SOURCE_REMOVE;
}

static void
accept_one (EnvoiSubmitSocket *self,
            GSocket           *socket)
{
  GSettings *settings = envoi_account_store_get_settings (self->store);
  g_autoptr(GCredentials) credentials = NULL;
  g_autoptr(GError) error = NULL;
  Client *client;
  gboolean has_accounts;

  /* The directory is the user's alone; this says so again. */
  credentials = g_socket_get_credentials (socket, &error);
  if (credentials == NULL || g_credentials_get_unix_user (credentials, NULL) != getuid ())
    {
      g_debug ("Refused a submitter: %s", error != NULL ? error->message : "another user");
      g_socket_close (socket, NULL);
      return;
    }

  g_socket_set_blocking (socket, FALSE);

  client = g_new0 (Client, 1);
  client->self = g_object_ref (self);
  client->socket = g_object_ref (socket);
  client->max_size = g_settings_get_uint (settings, "max-message-size");
  self->n_clients++;

  has_accounts = g_list_model_get_n_items (G_LIST_MODEL (self->store)) > 0;
  send_variant (socket, g_variant_new (ENVOI_SUBMIT_GREETING_TYPE,
                                       (guint32) ENVOI_SUBMIT_PROTOCOL_VERSION,
                                       client->max_size, has_accounts));

  /* Ahead of the deliveries: a submitter is a process waiting for its answer. */
  client->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (client->source, G_PRIORITY_HIGH);
  g_source_set_callback (client->source, (GSourceFunc) (void (*) (void)) client_cb, client, NULL);
  g_source_attach (client->source, NULL);
}

static gboolean
accept_cb (GSocket      *listener,
           GIOCondition  condition,
           gpointer      user_data)
{
  EnvoiSubmitSocket *self = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = g_socket_accept (listener, NULL, &error);

      if (socket == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("Could not accept a submitter: %s", error->message);
          break;
        }
      accept_one (self, socket);
    }

  return G_SOURCE_CONTINUE;
}

static void
envoi_submit_socket_dispose (GObject *object)
{
  EnvoiSubmitSocket *self = ENVOI_SUBMIT_SOCKET (object);

  envoi_submit_socket_close (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->queue);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (envoi_submit_socket_parent_class)->dispose (object);
}

static void
envoi_submit_socket_class_init (EnvoiSubmitSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_submit_socket_dispose;

  signals[SUBMITTED] = g_signal_new ("submitted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, ENVOI_TYPE_QUEUE_ENTRY);

  /* So that GSocket turns SCM_RIGHTS into GUnixFDMessage. */
  g_type_ensure (G_TYPE_UNIX_FD_MESSAGE);
}

static void
envoi_submit_socket_init (EnvoiSubmitSocket *self)
{
  self->cancellable = g_cancellable_new ();
}

EnvoiSubmitSocket *
envoi_submit_socket_new (EnvoiQueue        *queue,
                         EnvoiAccountStore *store)
{
  EnvoiSubmitSocket *self;

  g_return_val_if_fail (ENVOI_IS_QUEUE (queue), NULL);
  g_return_val_if_fail (ENVOI_IS_ACCOUNT_STORE (store), NULL);

  self = g_object_new (ENVOI_TYPE_SUBMIT_SOCKET, NULL);
  self->queue = g_object_ref (queue);
  self->store = g_object_ref (store);

  return self;
}

gboolean
envoi_submit_socket_open (EnvoiSubmitSocket  *self,
                          GError            **error)
{
  g_autofree char *path = envoi_submit_socket_path ();
  g_autofree char *temp = g_strdup_printf ("%s.%d", path, (int) getpid ());
  g_autoptr(GSocket) socket = NULL;
  GStatBuf st;

  g_return_val_if_fail (ENVOI_IS_SUBMIT_SOCKET (self), FALSE);

  if (self->listener != NULL)
    return TRUE;

  /* Bound under a name of its own and renamed into place once listening, so that whoever sees
   * the path can connect. We own the bus name: a socket file left there belongs to a dead
   * daemon, and the rename replaces it. */
  if (!(socket = envoi_unix_socket_bind (temp, G_SOCKET_TYPE_SEQPACKET, error)))
    return FALSE;
  g_socket_set_listen_backlog (socket, 64);
  if (!g_socket_listen (socket, error) || g_stat (temp, &st) != 0 || g_rename (temp, path) != 0)
    {
      int saved_errno = errno;

      g_unlink (temp);
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     "%s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  self->path_dev = st.st_dev;
  self->path_ino = st.st_ino;

  self->listener = g_steal_pointer (&socket);
  self->listener_source = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_priority (self->listener_source, G_PRIORITY_HIGH);
  g_source_set_callback (self->listener_source, (GSourceFunc) (void (*) (void)) accept_cb, self, NULL);
  g_source_attach (self->listener_source, NULL);

  return TRUE;
}

void
envoi_submit_socket_close (EnvoiSubmitSocket *self)
{
  g_autofree char *path = envoi_submit_socket_path ();
  GStatBuf st;

  g_return_if_fail (ENVOI_IS_SUBMIT_SOCKET (self));

  if (self->listener_source != NULL)
    {
      g_source_destroy (self->listener_source);
      g_clear_pointer (&self->listener_source, g_source_unref);
    }
  if (self->listener != NULL)
    {
      /* A replacing daemon may have bound its own socket there already: leave that one. */
      if (g_stat (path, &st) == 0 && st.st_dev == self->path_dev && st.st_ino == self->path_ino)
        g_unlink (path);
      g_socket_close (self->listener, NULL);
      g_clear_object (&self->listener);
    }
}

gboolean
envoi_submit_socket_is_busy (EnvoiSubmitSocket *self)
{
  g_return_val_if_fail (ENVOI_IS_SUBMIT_SOCKET (self), FALSE);

  return self->n_clients > 0;
}

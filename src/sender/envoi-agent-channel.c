/* envoi-agent-channel.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-sender"

#include "config.h"

#include <glib-unix.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "envoi-agent-channel.h"

#define HEADER_SIZE   8
#define FLAG_FD       (1u << 0)
/* The arguments of a frame, never a message (those travel as descriptors): a long recipient
 * list is the most there is. Anything longer is a broken peer. */
#define MAX_FRAME     (64u * 1024 * 1024)
#define READ_SIZE     (64 * 1024)
#define MAX_FDS       16

typedef struct
{
  GBytes *data;     /* header and body */
  gsize   written;
  int     fd;       /* to pass with the first bytes; -1 once passed */
} OutFrame;

struct _EnvoiAgentChannel
{
  GObject     parent_instance;

  int         fd;
  GSource    *in_source;
  GSource    *out_source;  /* only while the socket is full */
  GSource    *closed_source;
  GByteArray *in;          /* read, not yet a whole frame */
  GArray     *in_fds;      /* received, not yet claimed by a frame */
  GQueue      out;         /* OutFrame, oldest first */
  GError     *error;       /* why it closed, for "closed" */
  guint       closed : 1;
};

G_DEFINE_FINAL_TYPE (EnvoiAgentChannel, envoi_agent_channel, G_TYPE_OBJECT)

enum {
  FRAME,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
out_frame_free (OutFrame *frame)
{
  g_bytes_unref (frame->data);
  if (frame->fd >= 0)
    close (frame->fd);
  g_free (frame);
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
shut (EnvoiAgentChannel *self)
{
  if (self->closed)
    return;

  self->closed = TRUE;
  clear_source (&self->in_source);
  clear_source (&self->out_source);
  g_queue_clear_full (&self->out, (GDestroyNotify) out_frame_free);
  for (guint i = 0; i < self->in_fds->len; i++)
    close (g_array_index (self->in_fds, int, i));
  g_array_set_size (self->in_fds, 0);
  g_byte_array_set_size (self->in, 0);
  close (self->fd);
  self->fd = -1;
}

static gboolean
closed_cb (gpointer user_data)
{
  EnvoiAgentChannel *self = user_data;

  g_clear_pointer (&self->closed_source, g_source_unref);
  g_signal_emit (self, signals[CLOSED], 0, self->error);

  return G_SOURCE_REMOVE;
}

/* Shuts the channel and tells of it from the main loop, never from inside a call of the owner
 * (envoi_agent_channel_send() may find the peer gone). @error: taken; NULL for a hang-up. */
static void
fail (EnvoiAgentChannel *self,
      GError            *error)
{
  if (self->closed)
    {
      g_clear_error (&error);
      return;
    }

  shut (self);
  self->error = error;
  self->closed_source = g_idle_source_new ();
  g_source_set_callback (self->closed_source, closed_cb, g_object_ref (self), g_object_unref);
  g_source_attach (self->closed_source, g_main_context_get_thread_default ());
}

static void
fail_errno (EnvoiAgentChannel *self,
            int                saved_errno,
            const char        *what)
{
  fail (self, g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           "%s: %s", what, g_strerror (saved_errno)));
}

static void
protocol_error (EnvoiAgentChannel *self,
                const char        *reason)
{
  fail (self, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Broken frame: %s", reason));
}

static gboolean writable_cb (int fd, GIOCondition condition, gpointer user_data);

/* Writes what the socket takes; waits for it to drain when it is full. */
static void
flush (EnvoiAgentChannel *self)
{
  OutFrame *frame;

  while (!self->closed && (frame = g_queue_peek_head (&self->out)) != NULL)
    {
      union {
        char           buffer[CMSG_SPACE (sizeof (int))];
        struct cmsghdr align;
      } control;
      struct msghdr message = { 0 };
      struct iovec iov;
      gsize size;
      const guint8 *data = g_bytes_get_data (frame->data, &size);
      gssize written;

      iov.iov_base = (guint8 *) data + frame->written;
      iov.iov_len = size - frame->written;
      message.msg_iov = &iov;
      message.msg_iovlen = 1;
      if (frame->fd >= 0)
        {
          struct cmsghdr *cmsg;

          memset (&control, 0, sizeof control);
          message.msg_control = control.buffer;
          message.msg_controllen = sizeof control.buffer;
          cmsg = CMSG_FIRSTHDR (&message);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (cmsg), &frame->fd, sizeof (int));
        }

      written = sendmsg (self->fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          if (self->out_source == NULL)
            {
              self->out_source = g_unix_fd_source_new (self->fd, G_IO_OUT);
              g_source_set_callback (self->out_source, (GSourceFunc) (void (*) (void)) writable_cb,
                                     self, NULL);
              g_source_attach (self->out_source, g_main_context_get_thread_default ());
            }
          return;
        }
      if (written < 0)
        {
          fail_errno (self, errno, "Could not write to the delivery agent's socket");
          return;
        }

      /* The descriptor went with the first bytes. */
      if (frame->fd >= 0)
        {
          close (frame->fd);
          frame->fd = -1;
        }
      frame->written += written;
      if (frame->written == size)
        out_frame_free (g_queue_pop_head (&self->out));
    }

  clear_source (&self->out_source);
}

static gboolean
writable_cb (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  EnvoiAgentChannel *self = user_data;

  g_clear_pointer (&self->out_source, g_source_unref);  /* removed by returning FALSE */
  flush (self);

  return G_SOURCE_REMOVE;
}

/* Hands every whole frame read so far to the "frame" handlers, then drops their bytes at once:
 * a read may hold many small frames. */
static void
dispatch_frames (EnvoiAgentChannel *self)
{
  gsize consumed = 0;
  gboolean long_frame = FALSE;

  while (!self->closed && self->in->len - consumed >= HEADER_SIZE)
    {
      g_autoptr(GVariant) frame = NULL;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GBytes) bytes = NULL;
      const guint8 *start = self->in->data + consumed;
      const char *kind;
      guint32 length, flags;
      int fd = -1;

      memcpy (&length, start, 4);
      memcpy (&flags, start + 4, 4);
      length = GUINT32_FROM_LE (length);
      flags = GUINT32_FROM_LE (flags);
      if (length > MAX_FRAME || (flags & ~FLAG_FD) != 0)
        {
          protocol_error (self, "bad header");
          return;
        }
      if (self->in->len - consumed - HEADER_SIZE < length)
        break;

      if (flags & FLAG_FD)
        {
          /* The descriptor came with the frame's first bytes, so it is here by now. */
          if (self->in_fds->len == 0)
            {
              protocol_error (self, "a descriptor is missing");
              return;
            }
          fd = g_array_index (self->in_fds, int, 0);
          g_array_remove_index (self->in_fds, 0);
        }

      bytes = g_bytes_new (start + HEADER_SIZE, length);
      consumed += HEADER_SIZE + length;
      long_frame |= length > READ_SIZE;
      frame = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(sv)"), bytes, FALSE));
      g_variant_get (frame, "(&sv)", &kind, &body);

      g_signal_emit (self, signals[FRAME], 0, kind, body, fd);
      if (fd >= 0)
        close (fd);
    }

  /* Closing emptied the buffer already. */
  if (self->closed || consumed == 0)
    return;

  g_byte_array_remove_range (self->in, 0, consumed);
  /* A long recipient list grew the buffer: give the memory back rather than keep it for the
   * life of the process. */
  if (long_frame && self->in->len == 0)
    {
      g_byte_array_unref (self->in);
      self->in = g_byte_array_new ();
    }
}

static gboolean
readable_cb (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  g_autoptr(EnvoiAgentChannel) self = g_object_ref (user_data);  /* the handlers may drop theirs */

  while (!self->closed)
    {
      union {
        char           buffer[CMSG_SPACE (MAX_FDS * sizeof (int))];
        struct cmsghdr align;
      } control;
      struct msghdr message = { 0 };
      struct cmsghdr *cmsg;
      struct iovec iov;
      guint old_length = self->in->len;
      gssize received;

      g_byte_array_set_size (self->in, old_length + READ_SIZE);
      iov.iov_base = self->in->data + old_length;
      iov.iov_len = READ_SIZE;
      message.msg_iov = &iov;
      message.msg_iovlen = 1;
      message.msg_control = control.buffer;
      message.msg_controllen = sizeof control.buffer;

      received = recvmsg (self->fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      g_byte_array_set_size (self->in, old_length + MAX (received, 0));
      if (received < 0 && errno == EINTR)
        continue;
      if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (received < 0)
        {
          fail_errno (self, errno, "Could not read from the delivery agent's socket");
          break;
        }

      for (cmsg = CMSG_FIRSTHDR (&message); cmsg != NULL; cmsg = CMSG_NXTHDR (&message, cmsg))
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
          {
            guint n = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);

            for (guint i = 0; i < n; i++)
              {
                int passed;

                memcpy (&passed, CMSG_DATA (cmsg) + i * sizeof (int), sizeof (int));
                g_array_append_val (self->in_fds, passed);
              }
          }
      if (message.msg_flags & MSG_CTRUNC)
        {
          protocol_error (self, "too many descriptors");
          break;
        }

      if (received == 0)
        {
          /* A frame cut short is the peer's death, not a frame. */
          fail (self, NULL);
          break;
        }

      dispatch_frames (self);
    }

  return self->closed ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
envoi_agent_channel_dispose (GObject *object)
{
  EnvoiAgentChannel *self = ENVOI_AGENT_CHANNEL (object);

  shut (self);
  clear_source (&self->closed_source);

  G_OBJECT_CLASS (envoi_agent_channel_parent_class)->dispose (object);
}

static void
envoi_agent_channel_finalize (GObject *object)
{
  EnvoiAgentChannel *self = ENVOI_AGENT_CHANNEL (object);

  g_byte_array_unref (self->in);
  g_array_unref (self->in_fds);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (envoi_agent_channel_parent_class)->finalize (object);
}

static void
envoi_agent_channel_class_init (EnvoiAgentChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = envoi_agent_channel_dispose;
  object_class->finalize = envoi_agent_channel_finalize;

  signals[FRAME] =
    g_signal_new ("frame",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_VARIANT | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_INT);
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
envoi_agent_channel_init (EnvoiAgentChannel *self)
{
  self->fd = -1;
  self->in = g_byte_array_new ();
  self->in_fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_queue_init (&self->out);
}

EnvoiAgentChannel *
envoi_agent_channel_new (int      fd,
                         GError **error)
{
  g_autoptr(EnvoiAgentChannel) self = NULL;
  int type;
  socklen_t length = sizeof type;

  g_return_val_if_fail (fd >= 0, NULL);

  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0 || type != SOCK_STREAM)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Not a stream socket");
      close (fd);
      return NULL;
    }

  self = g_object_new (ENVOI_TYPE_AGENT_CHANNEL, NULL);
  self->fd = fd;
  self->in_source = g_unix_fd_source_new (fd, G_IO_IN);
  g_source_set_callback (self->in_source, (GSourceFunc) (void (*) (void)) readable_cb, self, NULL);
  g_source_attach (self->in_source, g_main_context_get_thread_default ());

  return g_steal_pointer (&self);
}

void
envoi_agent_channel_send (EnvoiAgentChannel *self,
                          const char        *kind,
                          GVariant          *body,
                          int                fd)
{
  g_autoptr(GVariant) frame = NULL;
  OutFrame *out;
  guint32 header[2];
  guint8 *data;
  gsize size;

  g_return_if_fail (ENVOI_IS_AGENT_CHANNEL (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (body != NULL);

  frame = g_variant_ref_sink (g_variant_new ("(sv)", kind, body));
  if (self->closed)
    {
      if (fd >= 0)
        close (fd);
      return;
    }

  size = g_variant_get_size (frame);
  if (size > MAX_FRAME)
    {
      /* The peer would take it for a broken one: the caller's arguments are beyond reason. */
      g_critical ("A %" G_GSIZE_FORMAT "-byte %s frame is too long", size, kind);
      if (fd >= 0)
        close (fd);
      return;
    }
  header[0] = GUINT32_TO_LE ((guint32) size);
  header[1] = GUINT32_TO_LE (fd >= 0 ? FLAG_FD : 0);
  data = g_malloc (HEADER_SIZE + size);
  memcpy (data, header, HEADER_SIZE);
  g_variant_store (frame, data + HEADER_SIZE);

  out = g_new0 (OutFrame, 1);
  out->data = g_bytes_new_take (data, HEADER_SIZE + size);
  out->fd = fd;
  g_queue_push_tail (&self->out, out);

  /* Behind others, it waits for the socket to drain. */
  if (self->out_source == NULL)
    flush (self);
}

void
envoi_agent_channel_close (EnvoiAgentChannel *self)
{
  g_return_if_fail (ENVOI_IS_AGENT_CHANNEL (self));

  shut (self);
  clear_source (&self->closed_source);
}

gboolean
envoi_agent_channel_is_closed (EnvoiAgentChannel *self)
{
  g_return_val_if_fail (ENVOI_IS_AGENT_CHANNEL (self), TRUE);

  return self->closed;
}

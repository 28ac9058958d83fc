/* test-agent-channel.c: the frames between envoi-sender and its delivery agent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both ends over a real socket pair, in one process and one main loop: order, descriptors, a
 * frame far larger than the socket's buffer, a peer that hangs up or breaks the framing; and the
 * errors that cross in a "failed" answer.
 */

#include "config.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envoi-agent-channel.h"
#include "envoi-agent-protocol.h"
#include "envoi-smtp-error.h"
#include "envoi-test-helpers.h"

typedef struct
{
  GPtrArray *kinds;
  GPtrArray *bodies;
  GArray    *inodes;   /* of the descriptor each frame carried, 0 for none */
  gboolean   closed;
  GError    *error;
} Received;

static void
received_clear (Received *received)
{
  g_ptr_array_unref (received->kinds);
  g_ptr_array_unref (received->bodies);
  g_array_unref (received->inodes);
  g_clear_error (&received->error);
}

static void
received_init (Received *received)
{
  received->kinds = g_ptr_array_new_with_free_func (g_free);
  received->bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  received->inodes = g_array_new (FALSE, TRUE, sizeof (ino_t));
  received->closed = FALSE;
  received->error = NULL;
}

static void
frame_cb (EnvoiAgentChannel *channel,
          const char        *kind,
          GVariant          *body,
          int                fd,
          Received          *received)
{
  struct stat st = { 0 };

  if (fd >= 0)
    {
      g_assert_no_errno (fstat (fd, &st));
      /* Close-on-exec, so that nothing the agent starts inherits the queue file. */
      g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
    }
  g_ptr_array_add (received->kinds, g_strdup (kind));
  g_ptr_array_add (received->bodies, g_variant_ref (body));
  g_array_append_val (received->inodes, st.st_ino);
}

static void
closed_cb (EnvoiAgentChannel *channel,
           const GError      *error,
           Received          *received)
{
  g_assert_false (received->closed);
  received->closed = TRUE;
  received->error = error != NULL ? g_error_copy (error) : NULL;
}

static void
make_pair (EnvoiAgentChannel **a,
           int                *raw)
{
  g_autoptr(GError) error = NULL;
  int sv[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
  *a = envoi_agent_channel_new (sv[0], &error);
  g_assert_no_error (error);
  *raw = sv[1];
}

static void
make_channels (EnvoiAgentChannel **a,
               EnvoiAgentChannel **b)
{
  g_autoptr(GError) error = NULL;
  int raw;

  make_pair (a, &raw);
  *b = envoi_agent_channel_new (raw, &error);
  g_assert_no_error (error);
}

static void
listen_to (EnvoiAgentChannel *channel,
           Received          *received)
{
  g_signal_connect (channel, "frame", G_CALLBACK (frame_cb), received);
  g_signal_connect (channel, "closed", G_CALLBACK (closed_cb), received);
}

static guint wanted;

static gboolean
have_wanted (gpointer data)
{
  Received *received = data;

  return received->kinds->len >= wanted;
}

static gboolean
is_closed (gpointer data)
{
  Received *received = data;

  return received->closed;
}

static int
temp_file (const char *contents)
{
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("envoi-channel-XXXXXX", &path, NULL);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, contents, strlen (contents)), ==, (gssize) strlen (contents));
  g_unlink (path);

  return fd;
}

static ino_t
inode_of (int fd)
{
  struct stat st;

  g_assert_no_errno (fstat (fd, &st));

  return st.st_ino;
}

/* Frames arrive whole, in order, each with its own descriptor, both ways. */
static void
test_order_and_descriptors (void)
{
  g_autoptr(EnvoiAgentChannel) daemon = NULL;
  g_autoptr(EnvoiAgentChannel) agent = NULL;
  Received at_agent, at_daemon;
  ino_t inodes[3];

  make_channels (&daemon, &agent);
  received_init (&at_agent);
  received_init (&at_daemon);
  listen_to (agent, &at_agent);
  listen_to (daemon, &at_daemon);

  for (guint i = 0; i < 3; i++)
    {
      int fd = temp_file ("message");

      inodes[i] = inode_of (fd);
      envoi_agent_channel_send (daemon, ENVOI_AGENT_RESET,
                                g_variant_new (ENVOI_AGENT_RESET_TYPE, "no descriptor"), -1);
      envoi_agent_channel_send (daemon, ENVOI_AGENT_CANCEL,
                                g_variant_new (ENVOI_AGENT_CANCEL_TYPE, i), fd);
    }
  envoi_agent_channel_send (agent, ENVOI_AGENT_SENT,
                            g_variant_new (ENVOI_AGENT_SENT_TYPE, 7, "250 2.0.0 Ok"), -1);

  wanted = 6;
  g_assert_true (envoi_test_wait_until (have_wanted, &at_agent, 10));
  for (guint i = 0; i < 3; i++)
    {
      guint32 serial;

      g_assert_cmpstr (g_ptr_array_index (at_agent.kinds, 2 * i), ==, ENVOI_AGENT_RESET);
      g_assert_cmpint (g_array_index (at_agent.inodes, ino_t, 2 * i), ==, 0);
      g_assert_cmpstr (g_ptr_array_index (at_agent.kinds, 2 * i + 1), ==, ENVOI_AGENT_CANCEL);
      g_variant_get (g_ptr_array_index (at_agent.bodies, 2 * i + 1), "(u)", &serial);
      g_assert_cmpuint (serial, ==, i);
      g_assert_cmpint (g_array_index (at_agent.inodes, ino_t, 2 * i + 1), ==, inodes[i]);
    }

  wanted = 1;
  g_assert_true (envoi_test_wait_until (have_wanted, &at_daemon, 10));
  g_assert_cmpstr (g_ptr_array_index (at_daemon.kinds, 0), ==, ENVOI_AGENT_SENT);
  g_assert_cmpstr (g_variant_get_type_string (g_ptr_array_index (at_daemon.bodies, 0)), ==,
                   ENVOI_AGENT_SENT_TYPE);
  g_assert_false (at_agent.closed);
  g_assert_false (at_daemon.closed);

  received_clear (&at_agent);
  received_clear (&at_daemon);
}

/* A recipient list far beyond the socket's buffer: written as the peer reads, never cut. Then
 * many small frames queued at once behind it. */
static void
test_large_frame (void)
{
  g_autoptr(EnvoiAgentChannel) daemon = NULL;
  g_autoptr(EnvoiAgentChannel) agent = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) recipients = NULL;
  g_autofree const char **got = NULL;
  Received at_agent;
  int fd = temp_file ("the message");
  ino_t inode = inode_of (fd);
  guint64 offset, length;

  for (guint i = 0; i < 50000; i++)
    {
      g_autofree char *address = g_strdup_printf ("recipient-%05u@example.net", i);

      g_strv_builder_add (builder, address);
    }
  recipients = g_strv_builder_end (builder);

  make_channels (&daemon, &agent);
  received_init (&at_agent);
  listen_to (agent, &at_agent);

  envoi_agent_channel_send (daemon, ENVOI_AGENT_SEND,
                            g_variant_new ("(usu@a{sv}s^astt)", 1, "work", 1,
                                           g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0),
                                           "me@example.org", recipients,
                                           (guint64) 4, (guint64) 7),
                            fd);
  for (guint i = 0; i < 1000; i++)
    envoi_agent_channel_send (daemon, ENVOI_AGENT_CANCEL, g_variant_new (ENVOI_AGENT_CANCEL_TYPE, i), -1);

  wanted = 1001;
  g_assert_true (envoi_test_wait_until (have_wanted, &at_agent, 10));
  g_assert_cmpstr (g_ptr_array_index (at_agent.kinds, 0), ==, ENVOI_AGENT_SEND);
  g_assert_cmpint (g_array_index (at_agent.inodes, ino_t, 0), ==, inode);
  g_variant_get (g_ptr_array_index (at_agent.bodies, 0), "(u&su@a{sv}&s^a&stt)",
                 NULL, NULL, NULL, NULL, NULL, &got, &offset, &length);
  g_assert_cmpuint (g_strv_length ((char **) got), ==, 50000);
  g_assert_cmpstr (got[49999], ==, "recipient-49999@example.net");
  g_assert_cmpuint (offset, ==, 4);
  g_assert_cmpuint (length, ==, 7);
  for (guint i = 0; i < 1000; i++)
    {
      guint32 serial;

      g_variant_get (g_ptr_array_index (at_agent.bodies, i + 1), "(u)", &serial);
      g_assert_cmpuint (serial, ==, i);
    }

  received_clear (&at_agent);
}

/* The peer hangs up: "closed" without an error, once; later frames go nowhere, and the
 * descriptor given with one is closed, not leaked. */
static void
test_peer_gone (void)
{
  g_autoptr(EnvoiAgentChannel) daemon = NULL;
  Received at_daemon;
  int raw, fd;

  make_pair (&daemon, &raw);
  received_init (&at_daemon);
  listen_to (daemon, &at_daemon);

  close (raw);
  g_assert_true (envoi_test_wait_until (is_closed, &at_daemon, 10));
  g_assert_no_error (at_daemon.error);
  g_assert_true (envoi_agent_channel_is_closed (daemon));

  fd = temp_file ("message");
  envoi_agent_channel_send (daemon, ENVOI_AGENT_RESET, g_variant_new (ENVOI_AGENT_RESET_TYPE, "x"), fd);
  g_assert_cmpint (fcntl (fd, F_GETFD), ==, -1);
  g_assert_cmpint (errno, ==, EBADF);

  /* Hanging up mid-frame is a hang-up too: a frame cut short is never handed on. */
  g_clear_object (&daemon);
  received_clear (&at_daemon);
  make_pair (&daemon, &raw);
  received_init (&at_daemon);
  listen_to (daemon, &at_daemon);
  g_assert_cmpint (write (raw, "\x20\0\0\0\0\0\0\0(s", 10), ==, 10);
  close (raw);
  g_assert_true (envoi_test_wait_until (is_closed, &at_daemon, 10));
  g_assert_cmpuint (at_daemon.kinds->len, ==, 0);

  received_clear (&at_daemon);
}

/* Bytes that are no frame close the channel with a reason, and nothing is handed on. */
static void
test_broken_framing (void)
{
  static const struct {
    const char *name;
    const char *bytes;
    gsize       length;
  } cases[] = {
    { "too long", "\xff\xff\xff\x7f\0\0\0\0", 8 },
    { "unknown flag", "\x04\0\0\0\x02\0\0\0", 8 },
    { "descriptor missing", "\x04\0\0\0\x01\0\0\0abcd", 12 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(EnvoiAgentChannel) daemon = NULL;
      Received at_daemon;
      int raw;

      g_test_message ("%s", cases[i].name);
      make_pair (&daemon, &raw);
      received_init (&at_daemon);
      listen_to (daemon, &at_daemon);

      g_assert_cmpint (write (raw, cases[i].bytes, cases[i].length), ==, (gssize) cases[i].length);
      g_assert_true (envoi_test_wait_until (is_closed, &at_daemon, 10));
      g_assert_error (at_daemon.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpuint (at_daemon.kinds->len, ==, 0);

      close (raw);
      received_clear (&at_daemon);
    }
}

/* A failure keeps its domain, code and message across, even a domain this end never uses. */
static void
test_failure_round_trip (void)
{
  const GError errors[] = {
    { ENVOI_SMTP_ERROR, ENVOI_SMTP_ERROR_AUTH_FAILED, (char *) "535 5.7.8 no" },
    { G_IO_ERROR, G_IO_ERROR_CANCELLED, (char *) "Operation was cancelled" },
    { g_quark_from_static_string ("envoi-test-unheard-of-quark"), 42, (char *) "odd" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr(GVariant) variant = g_variant_ref_sink (envoi_agent_failure_to_variant (17 + i, &errors[i]));
      g_autoptr(GError) back = NULL;
      guint32 serial;

      g_assert_cmpstr (g_variant_get_type_string (variant), ==, ENVOI_AGENT_FAILED_TYPE);
      back = envoi_agent_failure_from_variant (variant, &serial);
      g_assert_cmpuint (serial, ==, 17 + i);
      g_assert_error (back, errors[i].domain, errors[i].code);
      g_assert_cmpstr (back->message, ==, errors[i].message);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/envoi/agent-channel/order-and-descriptors", test_order_and_descriptors);
  g_test_add_func ("/envoi/agent-channel/large-frame", test_large_frame);
  g_test_add_func ("/envoi/agent-channel/peer-gone", test_peer_gone);
  g_test_add_func ("/envoi/agent-channel/broken-framing", test_broken_framing);
  g_test_add_func ("/envoi/agent-channel/failure-round-trip", test_failure_round_trip);

  return g_test_run ();
}

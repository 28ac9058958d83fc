/* bench-sender.c: helpers for tests/bench-sender.sh (never run by the test suite)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   bench-sender dbus N RECIPIENT    submit N messages over D-Bus from this one process, one
 *                                    at a time (each call waits for its reply)
 *   bench-sender dbus-pipelined N DEPTH RECIPIENT
 *                                    the same with up to DEPTH calls in flight at once, as a
 *                                    client library sending a batch would do
 *   bench-sender spool N ACCOUNT RECIPIENT   write N messages straight into the spool
 *
 * Prints the elapsed time in seconds on stdout.
 */

#define _GNU_SOURCE  /* memfd_create */

#include "config.h"

#include <gio/gunixfdlist.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "envoi-queue.h"
#include "envoi-sender-dbus.h"

#define MESSAGE "From: Bench <bench@example.org>\nSubject: bench\n\n%s\n"

static char *
make_message (guint i)
{
  g_autoptr(GString) body = g_string_new (NULL);

  /* About 512 bytes, like smtp-source -l 512. */
  while (body->len < 440)
    g_string_append_printf (body, "message %u line of benchmark text\n", i);

  return g_strdup_printf (MESSAGE, body->str);
}

/* A memfd holding message @i, and the options naming @recipient. */
static GUnixFDList *
make_submission (guint       i,
                 const char *recipient,
                 GVariant  **options)
{
  g_autofree char *message = make_message (i);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  const char *to[] = { recipient, NULL };
  GVariantBuilder builder;
  int fd = memfd_create ("message", MFD_CLOEXEC);

  if (fd < 0 || write (fd, message, strlen (message)) < 0 || lseek (fd, 0, SEEK_SET) != 0)
    g_error ("memfd: %s", g_strerror (errno));
  g_unix_fd_list_append (fds, fd, NULL);
  close (fd);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "recipients", g_variant_new_strv (to, -1));
  *options = g_variant_builder_end (&builder);

  return g_steal_pointer (&fds);
}

static EnvoiDBusSender1 *
make_proxy (void)
{
  g_autoptr(GError) error = NULL;
  EnvoiDBusSender1 *proxy;

  (void) envoi_queue_error_quark ();
  proxy = envoi_dbus_sender1_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                                     G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                                     SENDER_BUS_NAME, SENDER_OBJECT_PATH,
                                                     NULL, &error);
  if (proxy == NULL)
    g_error ("%s", error->message);
  /* A burst may wait behind a slow disk: no call gives up before the whole run would. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);

  return proxy;
}

typedef struct
{
  EnvoiDBusSender1 *proxy;
  const char       *recipient;
  guint             n;
  guint             sent;
  guint             answered;
  GMainLoop        *loop;
} Pipeline;

static void submit_next (Pipeline *pipeline);

static void
pipelined_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pipeline *pipeline = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (!envoi_dbus_sender1_call_submit_finish (ENVOI_DBUS_SENDER1 (source), &id, NULL, result,
                                              &error))
    g_error ("%s", error->message);

  pipeline->answered++;
  if (pipeline->sent < pipeline->n)
    submit_next (pipeline);
  else if (pipeline->answered == pipeline->n)
    g_main_loop_quit (pipeline->loop);
}

static void
submit_next (Pipeline *pipeline)
{
  g_autoptr(GUnixFDList) fds = NULL;
  GVariant *options;

  fds = make_submission (pipeline->sent++, pipeline->recipient, &options);
  envoi_dbus_sender1_call_submit (pipeline->proxy, g_variant_new_handle (0), options, fds, NULL,
                                  pipelined_cb, pipeline);
}

/* Up to @depth Submit calls in flight on the one connection; each reply sends the next. */
static int
bench_dbus_pipelined (guint       n,
                      guint       depth,
                      const char *recipient)
{
  g_autoptr(EnvoiDBusSender1) proxy = make_proxy ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Pipeline pipeline = { proxy, recipient, n, 0, 0, loop };
  gint64 start;

  start = g_get_monotonic_time ();
  while (pipeline.sent < MIN (n, MAX (depth, 1)))
    submit_next (&pipeline);
  if (n > 0)
    g_main_loop_run (loop);

  g_print ("%.3f\n", (g_get_monotonic_time () - start) / 1e6);

  return 0;
}

static int
bench_dbus (guint       n,
            const char *recipient)
{
  g_autoptr(EnvoiDBusSender1) proxy = make_proxy ();
  gint64 start;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GUnixFDList) fds = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      GVariant *options;

      fds = make_submission (i, recipient, &options);
      if (!envoi_dbus_sender1_call_submit_sync (proxy, g_variant_new_handle (0), options, fds,
                                                &id, NULL, NULL, &error))
        g_error ("%s", error->message);
    }

  g_print ("%.3f\n", (g_get_monotonic_time () - start) / 1e6);

  return 0;
}

static int
bench_spool (guint       n,
             const char *account,
             const char *recipient)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EnvoiQueue) queue = envoi_queue_new (NULL, &error);
  const char *to[] = { recipient, NULL };
  gint64 start = g_get_monotonic_time ();

  if (queue == NULL)
    g_error ("%s", error->message);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *message = make_message (i);
      g_autoptr(GBytes) bytes = g_bytes_new (message, strlen (message));
      g_autofree char *id = envoi_queue_enqueue (queue, account, "bench@example.org", to, bytes, &error);

      if (id == NULL)
        g_error ("%s", error->message);
    }

  g_print ("%.3f\n", (g_get_monotonic_time () - start) / 1e6);

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 4 && g_str_equal (argv[1], "dbus"))
    return bench_dbus (atoi (argv[2]), argv[3]);
  if (argc == 5 && g_str_equal (argv[1], "dbus-pipelined"))
    return bench_dbus_pipelined (atoi (argv[2]), atoi (argv[3]), argv[4]);
  if (argc == 5 && g_str_equal (argv[1], "spool"))
    return bench_spool (atoi (argv[2]), argv[3], argv[4]);

  g_printerr ("usage: bench-sender dbus N RECIPIENT | dbus-pipelined N DEPTH RECIPIENT | "
              "spool N ACCOUNT RECIPIENT\n");
  return 64;
}

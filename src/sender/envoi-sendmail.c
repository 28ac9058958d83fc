/* envoi-sendmail.c: the sendmail-compatible command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Scripts run it once per message, so its own start is most of what a submission costs: it
 * links GLib alone, not GIO, GMime or their dozen libraries. When the daemon runs, the message
 * goes to it over its submit socket (envoi-submit-protocol.h), and the daemon — which has
 * everything loaded already — parses it, writes it durably into the spool and only then
 * answers with the id: exit 0 still means that the message is on disk.
 *
 * A submission that succeeds prints nothing, so the locale and the translations are set up only
 * on the way to a message (fail()) or to the helper: reading the locale's files was a third of
 * this program's own time.
 *
 * Everything else is envoi-sendmail-helper's, executed in this process's place with the same
 * arguments and standard input: the daemon not running (it writes the spool itself and starts
 * the daemon by D-Bus activation), -bp, -q, --help, --version, usage errors and
 * ENVOI_SENDMAIL_VIA_DBUS=1.
 */

#define _GNU_SOURCE  /* memfd_create, F_ADD_SEALS */
#define G_LOG_DOMAIN "envoi-sendmail"

#include "config.h"

#include <glib/gi18n-lib.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "envoi-runtime.h"
#include "envoi-sendmail-options.h"
#include "envoi-submit-protocol.h"
#include "envoi-size-limit.h"
#include "envoi-startup.h"

#define HELPER "envoi-sendmail-helper"

/* envoi_sendmail_fail() with the locale and translations set up first: the comma operator runs
 * envoi_startup_init_locale() before the arguments, _() and g_strerror (errno) among them, are
 * evaluated (it keeps errno). */
#define fail(code, ...) (envoi_startup_init_locale (), envoi_sendmail_fail ((code), __VA_ARGS__))

/* $ENVOI_SENDMAIL_HELPER, else next to this program (a build tree), else in the libexecdir
 * beside this program's bindir (the same place once installed, and the right one in an install
 * that was moved: DESTDIR, a copied prefix), else where it was configured to be installed. */
static char *
helper_path (void)
{
  g_autofree char *self = NULL;
  const char *override = g_getenv ("ENVOI_SENDMAIL_HELPER");

  if (override != NULL && *override != '\0')
    return g_strdup (override);

  self = g_file_read_link ("/proc/self/exe", NULL);

  if (self != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self);
      g_autofree char *sibling = g_build_filename (dir, HELPER, NULL);

      if (g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&sibling);

      if (*LIBEXECDIR_FROM_BINDIR != '\0')
        {
          g_autofree char *relocated = g_build_filename (dir, LIBEXECDIR_FROM_BINDIR, HELPER, NULL);

          if (g_file_test (relocated, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&relocated);
        }
    }

  return g_build_filename (LIBEXECDIR, HELPER, NULL);
}

/* Runs the helper in our place. With @message_fd ≥ 0 the message read so far becomes its
 * standard input, to be taken as it is (-i). Returns only on failure. */
static int
run_helper (char **argv,
            int    message_fd)
{
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  /* The environment the helper inherits, as every program of the build tree gets it. */
  envoi_startup_init_locale ();
  path = helper_path ();

  g_ptr_array_add (args, argv[0]);
  if (message_fd >= 0)
    {
      if (lseek (message_fd, 0, SEEK_SET) != 0 || dup2 (message_fd, STDIN_FILENO) < 0)
        return fail (ENVOI_EX_TEMPFAIL, _("Could not pass the message on: %s"), g_strerror (errno));
      g_ptr_array_add (args, (char *) "-i");
    }
  for (int i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);

  fflush (stdout);
  execv (path, (char **) args->pdata);

  /* Translators: the first %s is the path of a program, the second says why */
  return fail (ENVOI_EX_UNAVAILABLE, _("Could not run %s: %s"), path, g_strerror (errno));
}

/* One packet of @type, or NULL. */
static GVariant *
receive_variant (int                 fd,
                 const GVariantType *type)
{
  /* Aligned, so that GVariant reads it in place. */
  g_autofree guint64 *buffer = g_malloc (ENVOI_SUBMIT_MAX_REQUEST);
  gpointer data;
  ssize_t n;

  do
    n = recv (fd, buffer, ENVOI_SUBMIT_MAX_REQUEST, MSG_TRUNC);
  while (n < 0 && errno == EINTR);

  if (n <= 0 || n > ENVOI_SUBMIT_MAX_REQUEST)
    return NULL;

  data = g_steal_pointer (&buffer);

  return g_variant_ref_sink (g_variant_new_from_data (type, data, n, FALSE, g_free, data));
}

/* Connects to a running daemon and reads its greeting: -1 when there is none to talk to. */
static int
connect_daemon (guint64  *max_size,
                gboolean *has_accounts)
{
  g_autofree char *path = envoi_submit_socket_path ();
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  struct timeval timeout = { .tv_sec = ENVOI_SUBMIT_TIMEOUT_SECONDS };
  g_autoptr(GVariant) greeting = NULL;
  guint32 version = 0;
  int fd;

  if (strlen (path) >= sizeof address.sun_path)
    return -1;
  strcpy (address.sun_path, path);

  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;

  if (connect (fd, (struct sockaddr *) &address, sizeof address) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
      !(greeting = receive_variant (fd, G_VARIANT_TYPE (ENVOI_SUBMIT_GREETING_TYPE))))
    {
      close (fd);
      return -1;
    }

  g_variant_get (greeting, ENVOI_SUBMIT_GREETING_TYPE, &version, max_size, has_accounts);
  if (version != ENVOI_SUBMIT_PROTOCOL_VERSION)
    {
      close (fd);
      return -1;
    }

  return fd;
}

/* The message in a memfd sealed against any change, so that the daemon may trust its size. */
static int
message_to_memfd (GByteArray *message)
{
  int fd = memfd_create ("envoi-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  gsize done = 0;

  if (fd < 0)
    return -1;

  while (done < message->len)
    {
      ssize_t n = write (fd, message->data + done, message->len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          close (fd);
          return -1;
        }
      done += n;
    }

  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    {
      close (fd);
      return -1;
    }

  return fd;
}

/* Sends the request with the message's fd. FALSE when it could not go (errno says why). */
static gboolean
send_request (int                   socket_fd,
              EnvoiSendmailOptions *options,
              int                   message_fd)
{
  g_autoptr(GVariant) request = NULL;
  GVariantBuilder builder;
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE (sizeof (int))];
  } control = { { 0 } };
  struct iovec vector;
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;

  g_variant_builder_init (&builder, G_VARIANT_TYPE (ENVOI_SUBMIT_REQUEST_TYPE));
  if (options->account != NULL)
    g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (options->account));
  if (options->from != NULL)
    g_variant_builder_add (&builder, "{sv}", "from", g_variant_new_string (options->from));
  if (options->full_name != NULL)
    g_variant_builder_add (&builder, "{sv}", "full-name", g_variant_new_string (options->full_name));
  g_variant_builder_add (&builder, "{sv}", "recipients",
                         g_variant_new_strv ((const char * const *) options->recipients->pdata,
                                             options->recipients->len));
  g_variant_builder_add (&builder, "{sv}", "extract-recipients", g_variant_new_boolean (options->extract));
  request = g_variant_ref_sink (g_variant_builder_end (&builder));

  if (g_variant_get_size (request) > ENVOI_SUBMIT_MAX_REQUEST)
    {
      errno = EMSGSIZE;
      return FALSE;
    }

  vector.iov_base = (void *) g_variant_get_data (request);
  vector.iov_len = g_variant_get_size (request);
  msg.msg_iov = &vector;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof control.space;
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &message_fd, sizeof (int));

  do
    n = sendmsg (socket_fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  return n == (ssize_t) vector.iov_len;
}

static int
submit (char                 **argv,
        EnvoiSendmailOptions  *options)
{
  g_autoptr(GByteArray) message = g_byte_array_new ();
  g_autoptr(GVariant) reply = NULL;
  guint64 max_size = 0;
  gboolean has_accounts = FALSE;
  gboolean ok = FALSE;
  const char *text = NULL;
  guint32 code = 0;
  int socket_fd;
  int message_fd;

  /* No daemon to talk to: nothing has been read yet, the helper takes over. */
  socket_fd = connect_daemon (&max_size, &has_accounts);
  if (socket_fd < 0)
    return run_helper (argv, -1);

  if (!has_accounts)
    return fail (ENVOI_EX_CONFIG, "%s", _("No mail account is set up: add one in Envoi"));

  switch (envoi_sendmail_read_message (stdin, options->ignore_dots, max_size, message))
    {
    case ENVOI_SENDMAIL_READ_FAILED:
      return fail (ENVOI_EX_IOERR, _("Could not read the message: %s"), g_strerror (errno));
    case ENVOI_SENDMAIL_READ_TOO_LARGE:
      {
        g_autofree char *reason = NULL;

        envoi_startup_init_locale ();
        reason = envoi_size_limit_describe (max_size);

        return fail (ENVOI_EX_DATAERR, "%s", reason);
      }
    case ENVOI_SENDMAIL_READ_OK:
    default:
      break;
    }

  if (!options->extract && options->recipients->len == 0)
    return fail (ENVOI_EX_DATAERR, "%s", _("No recipients given: name them, or use -t to take them from the message"));

  message_fd = message_to_memfd (message);
  if (message_fd < 0)
    return fail (ENVOI_EX_TEMPFAIL, _("Could not pass the message on: %s"), g_strerror (errno));

  /* No answer (the daemon went away, the request is too large for a packet): the helper writes
   * the message itself. Had the daemon stored it before going, it is sent twice, never lost. */
  if (!send_request (socket_fd, options, message_fd) ||
      !(reply = receive_variant (socket_fd, G_VARIANT_TYPE (ENVOI_SUBMIT_REPLY_TYPE))))
    {
      close (socket_fd);
      return run_helper (argv, message_fd);
    }
  close (socket_fd);
  close (message_fd);

  g_variant_get (reply, "(bu&s)", &ok, &code, &text);
  if (!ok)
    return fail (envoi_sendmail_exit_code (code), "%s", text);

  return ENVOI_EX_OK;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  EnvoiSendmailOptions options = { .mode = ENVOI_SENDMAIL_MODE_SEND, .recipients = recipients };
  g_autofree char *message = NULL;

  envoi_startup_init_deferred ();

  if (envoi_sendmail_parse_options (argc, argv, &options, &message) != ENVOI_SENDMAIL_PARSE_OK ||
      options.mode != ENVOI_SENDMAIL_MODE_SEND ||
      g_strcmp0 (g_getenv ("ENVOI_SENDMAIL_VIA_DBUS"), "1") == 0)
    return run_helper (argv, -1);

  return submit (argv, &options);
}

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
 * on the way to a message (fail()) or to the helper: reading the locale's files was most of
 * what this program did itself.
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
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "envoi-runtime.h"
#include "envoi-sendmail-options.h"
#include "envoi-submit-protocol.h"
#include "envoi-size-limit.h"
#include "envoi-startup.h"

#define HELPER "envoi-sendmail-helper"

/* The most of a message read before the daemon's greeting says how much it takes. */
#define EARLY_INPUT_MAX (1024 * 1024)

/* The bound of max-message-size in the settings schema: no daemon takes more. */
#define LARGEST_LIMIT G_GUINT64_CONSTANT (1073741824)

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
  /* Static, not a 128 KiB allocation for a packet of a few dozen bytes: that is an mmap() and
   * a munmap() per packet, twice per message. The variant gets a copy, aligned by malloc(). */
  static guint64 buffer[ENVOI_SUBMIT_MAX_REQUEST / sizeof (guint64)];
  gpointer data;
  ssize_t n;

  do
    n = recv (fd, buffer, sizeof buffer, MSG_TRUNC);
  while (n < 0 && errno == EINTR);

  if (n <= 0 || n > (ssize_t) sizeof buffer)
    return NULL;

  data = g_memdup2 (buffer, n);

  return g_variant_ref_sink (g_variant_new_from_data (type, data, n, FALSE, g_free, data));
}

/* Connects to a running daemon's submit socket: -1 when there is none to talk to. */
static int
connect_daemon (void)
{
  g_autofree char *path = envoi_submit_socket_path ();
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  struct timeval timeout = { .tv_sec = ENVOI_SUBMIT_TIMEOUT_SECONDS };
  int fd;

  if (strlen (path) >= sizeof address.sun_path)
    return -1;
  strcpy (address.sun_path, path);

  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;

  if (connect (fd, (struct sockaddr *) &address, sizeof address) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0)
    {
      close (fd);
      return -1;
    }

  return fd;
}

/* The daemon's greeting, in this version of the protocol: FALSE when there is none. */
static gboolean
receive_greeting (int       fd,
                  guint64  *max_size,
                  gboolean *has_accounts)
{
  g_autoptr(GVariant) greeting = receive_variant (fd, G_VARIANT_TYPE (ENVOI_SUBMIT_GREETING_TYPE));
  guint32 version = 0;

  if (greeting == NULL)
    return FALSE;

  g_variant_get (greeting, ENVOI_SUBMIT_GREETING_TYPE, &version, max_size, has_accounts);

  return version == ENVOI_SUBMIT_PROTOCOL_VERSION;
}

/* Which comes first: the daemon's greeting, or the whole message on standard input
 * (INPUT_FIRST) — a short regular file, or a pipe whose writer has gone (`printf … |
 * envoi-sendmail`) and that holds it all. Reading it then cannot block, so the request can go
 * without waiting for the greeting: the daemon answers both at one wake-up, a round trip less.
 * When the greeting comes first, or the writer is still there (a person typing), things go as
 * they always did: the greeting, then the message — "no account" is said before anything is
 * typed. */
typedef enum
{
  GREETING_FIRST,
  INPUT_FIRST,
  NO_GREETING,  /* not within ENVOI_SUBMIT_TIMEOUT_SECONDS */
} FirstComes;

static FirstComes
first_comes (int socket_fd)
{
  struct pollfd fds[2] = {
    { .fd = socket_fd, .events = POLLIN },
    { .fd = STDIN_FILENO, .events = POLLIN },
  };
  struct stat st;
  off_t offset;
  int waiting = 0;
  int n;

  if (fstat (STDIN_FILENO, &st) != 0)
    return GREETING_FIRST;

  if (S_ISREG (st.st_mode))
    {
      offset = lseek (STDIN_FILENO, 0, SEEK_CUR);
      return offset >= 0 && st.st_size - offset <= EARLY_INPUT_MAX ? INPUT_FIRST : GREETING_FIRST;
    }

  if (!S_ISFIFO (st.st_mode))
    return GREETING_FIRST;

  do
    n = poll (fds, G_N_ELEMENTS (fds), ENVOI_SUBMIT_TIMEOUT_SECONDS * 1000);
  while (n < 0 && errno == EINTR);

  if (n == 0)
    return NO_GREETING;
  if (n > 0 && fds[0].revents == 0 && (fds[1].revents & POLLHUP) != 0 &&
      ioctl (STDIN_FILENO, FIONREAD, &waiting) == 0 && waiting <= EARLY_INPUT_MAX)
    return INPUT_FIRST;

  return GREETING_FIRST;
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
  g_autoptr(GVariant) request = g_variant_ref_sink (envoi_sendmail_options_to_variant (options));
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE (sizeof (int))];
  } control = { { 0 } };
  struct iovec vector;
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;

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

/* Says why the message could not be read (@read_errno), or that it is larger than @max_size. */
static int
fail_read (EnvoiSendmailRead read,
           int               read_errno,
           guint64           max_size)
{
  g_autofree char *reason = NULL;

  if (read == ENVOI_SENDMAIL_READ_FAILED)
    return fail (ENVOI_EX_IOERR, _("Could not read the message: %s"), g_strerror (read_errno));

  envoi_startup_init_locale ();
  reason = envoi_size_limit_describe (max_size);

  return fail (ENVOI_EX_DATAERR, "%s", reason);
}

static gboolean
has_recipients (EnvoiSendmailOptions *options)
{
  return options->extract || options->recipients->len > 0;
}

static int
submit (char                 **argv,
        EnvoiSendmailOptions  *options)
{
  g_autoptr(GByteArray) message = g_byte_array_new ();
  g_autoptr(GVariant) reply = NULL;
  EnvoiSendmailRead read = ENVOI_SENDMAIL_READ_OK;
  guint64 max_size = 0;
  gboolean has_accounts = FALSE;
  gboolean read_early = FALSE;
  gboolean sent = FALSE;
  gboolean ok = FALSE;
  const char *text = NULL;
  guint32 code = 0;
  int read_errno = 0;
  int socket_fd;
  int message_fd = -1;

  /* No daemon to talk to: nothing has been read yet, the helper takes over. */
  socket_fd = connect_daemon ();
  if (socket_fd < 0)
    return run_helper (argv, -1);

  switch (first_comes (socket_fd))
    {
    case NO_GREETING:
      close (socket_fd);
      return run_helper (argv, -1);
    case GREETING_FIRST:
      break;
    case INPUT_FIRST:
    default:
      /* The whole message is there already: the request goes before the greeting is read. It
       * is judged the same way once the greeting is in; the daemon refuses, with the same
       * limit and accounts, what the greeting would have stopped. */
      read_early = TRUE;
      read = envoi_sendmail_read_message (stdin, options->ignore_dots, EARLY_INPUT_MAX, message);
      read_errno = errno;
      if (read == ENVOI_SENDMAIL_READ_OK && has_recipients (options))
        {
          message_fd = message_to_memfd (message);
          sent = message_fd >= 0 && send_request (socket_fd, options, message_fd);
        }
      break;
    }

  if (!receive_greeting (socket_fd, &max_size, &has_accounts))
    {
      close (socket_fd);

      /* Nothing read yet: the helper takes over, as if there were no daemon. */
      if (!read_early)
        return run_helper (argv, -1);

      /* Else it gets what was read, whole: a file that grew while it was read is read on, up
       * to the largest limit there can be; a failed read is not passed on as a message. */
      if (read == ENVOI_SENDMAIL_READ_TOO_LARGE)
        {
          read = envoi_sendmail_read_message (stdin, options->ignore_dots, LARGEST_LIMIT, message);
          read_errno = errno;
        }
      if (read != ENVOI_SENDMAIL_READ_OK)
        return fail_read (read, read_errno, LARGEST_LIMIT);

      if (message_fd < 0)
        message_fd = message_to_memfd (message);
      if (message_fd < 0)
        return fail (ENVOI_EX_TEMPFAIL, _("Could not pass the message on: %s"), g_strerror (errno));

      return run_helper (argv, message_fd);
    }
  /* Sent early: its answer. Stored means stored, even if an account came after the greeting. */
  else if (sent)
    {
      reply = receive_variant (socket_fd, G_VARIANT_TYPE (ENVOI_SUBMIT_REPLY_TYPE));
      if (reply != NULL)
        {
          g_variant_get (reply, "(bu&s)", &ok, &code, &text);
          if (ok)
            {
              close (socket_fd);
              close (message_fd);
              return ENVOI_EX_OK;
            }
        }
    }

  /* The same checks, in the same order, as when the greeting comes first. */
  if (!has_accounts)
    return fail (ENVOI_EX_CONFIG, "%s", _("No mail account is set up: add one in Envoi"));

  if (!read_early || read == ENVOI_SENDMAIL_READ_TOO_LARGE)
    {
      read = envoi_sendmail_read_message (stdin, options->ignore_dots, max_size, message);
      read_errno = errno;
    }
  else if (read == ENVOI_SENDMAIL_READ_OK && message->len > max_size)
    read = ENVOI_SENDMAIL_READ_TOO_LARGE;

  if (read != ENVOI_SENDMAIL_READ_OK)
    return fail_read (read, read_errno, max_size);

  if (!has_recipients (options))
    return fail (ENVOI_EX_DATAERR, "%s", _("No recipients given: name them, or use -t to take them from the message"));

  if (message_fd < 0)
    message_fd = message_to_memfd (message);
  if (message_fd < 0)
    return fail (ENVOI_EX_TEMPFAIL, _("Could not pass the message on: %s"), g_strerror (errno));

  /* No answer (the daemon went away, the request is too large for a packet): the helper writes
   * the message itself. Had the daemon stored it before going, it is sent twice, never lost. */
  if (!sent && send_request (socket_fd, options, message_fd))
    {
      sent = TRUE;
      reply = receive_variant (socket_fd, G_VARIANT_TYPE (ENVOI_SUBMIT_REPLY_TYPE));
    }
  if (!sent || reply == NULL)
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

/* The first lines of this main() are those of envoi-sendmail-helper.c's, on purpose: this
 * program links GLib alone (it starts once per message, from scripts), and the helper links GIO
 * and the D-Bus proxy; each main() stays whole in its own program. Change both together. */
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

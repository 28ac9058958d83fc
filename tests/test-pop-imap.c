/* test-pop-imap.c: POP-before-SMTP and the IMAP sent copy against a real dovecot on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tests/dovecot.py starts an unprivileged dovecot (IMAP and POP3, plain with STARTTLS and
 * implicit TLS, the certificate of the session's test CA) and "popauth", an SMTP server that
 * relays only after a POP3 login it reads from dovecot's log, as POP-before-SMTP servers do.
 * The engine is tested directly; then the real envoi-sender daemon, activated on the session
 * bus, sends through popauth and stores its copy over IMAP. Failed logins cost growing delays
 * in dovecot: there are exactly two here (POP3, then IMAP through the daemon).
 */

#define _GNU_SOURCE  /* memfd_create */

#include "config.h"

#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "envoi-account.h"
#include "envoi-account-store.h"
#include "envoi-mailbox-client.h"
#include "envoi-secret.h"
#include "envoi-sender-dbus.h"
#include "envoi-test-helpers.h"

#define WAIT_SECONDS 60

static struct
{
  char              *dir;
  GSubprocess       *dovecot;
  GHashTable        *env;
  const char        *daemon;
  GDBusConnection   *bus;
  EnvoiAccountStore *store;
} h;

static const char *
env (const char *name)
{
  const char *value = g_hash_table_lookup (h.env, name);

  if (value == NULL)
    g_error ("dovecot.py did not set %s", name);
  return value;
}

static guint
env_port (const char *name)
{
  return (guint) g_ascii_strtoull (env (name), NULL, 10);
}

static char *
read_text (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

static char *
dovecot_log (void)
{
  return read_text (env ("ENVOI_TEST_DOVECOT_LOG"));
}

static guint
count_substrings (const char *haystack,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Every message file of a maildir folder ("" for INBOX), concatenated. */
static char *
read_folder (const char *folder)
{
  g_autoptr(GString) all = g_string_new (NULL);
  const char *subdirs[] = { "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/%s%s/%s", env ("ENVOI_TEST_DOVECOT_MAILDIR"),
                                              *folder != '\0' ? "." : "", folder, subdirs[i]);
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *text = read_text (path);

          g_string_append (all, text);
          g_string_append (all, "\n--\n");
        }
    }

  return g_string_free (g_steal_pointer (&all), FALSE);
}

/* The one message file of a maildir folder whose text contains @needle (there must be exactly
 * one): a message checked by itself, not the folder's messages together. */
static char *
read_message_with (const char *folder,
                   const char *needle)
{
  const char *subdirs[] = { "new", "cur" };
  char *found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/%s%s/%s", env ("ENVOI_TEST_DOVECOT_MAILDIR"),
                                              *folder != '\0' ? "." : "", folder, subdirs[i]);
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *text = read_text (path);

          if (strstr (text, needle) == NULL)
            continue;
          g_assert_null (found);
          found = g_steal_pointer (&text);
        }
    }
  g_assert_nonnull (found);

  return found;
}

/* ---- accounts ------------------------------------------------------------------------------ */

static EnvoiAccount *
mailbox_account (const char    *id,
                 EnvoiSecurity  security)
{
  EnvoiAccount *account = envoi_account_new (id);
  gboolean tls = security == ENVOI_SECURITY_TLS;

  /* "localhost" for TLS (the certificate's name), the address for plain text. */
  g_object_set (account,
                "address", "envoi-test@example.org",
                "username", ENVOI_TEST_USER,
                "pop-host", security == ENVOI_SECURITY_NONE ? "127.0.0.1" : "localhost",
                "pop-port", env_port (tls ? "ENVOI_TEST_POP3S_PORT" : "ENVOI_TEST_POP3_PORT"),
                "pop-security", security,
                "imap-host", security == ENVOI_SECURITY_NONE ? "127.0.0.1" : "localhost",
                "imap-port", env_port (tls ? "ENVOI_TEST_IMAPS_PORT" : "ENVOI_TEST_IMAP_PORT"),
                "imap-security", security,
                "sent-folder", "Sent",
                NULL);
  return account;
}

static void
store_secret (EnvoiAccount *account,
              EnvoiService  service,
              const char   *secret)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  envoi_secret_store_async (account, service, secret, NULL, envoi_test_async_result_cb, &result);
  g_assert_true (envoi_secret_store_finish (envoi_test_wait (&result), &error));
  g_assert_no_error (error);
}

/* ---- pure --------------------------------------------------------------------------------- */

static void
test_parse_list (void)
{
  static const struct
  {
    const char *line;
    const char *name;   /* NULL: not a LIST line */
    const char *flags;
  } table[] = {
    { "* LIST (\\HasNoChildren \\Sent) \"/\" \"Envoi Sent\"", "Envoi Sent", "\\HasNoChildren \\Sent" },
    { "* LIST () \"/\" INBOX", "INBOX", "" },
    { "* LIST (\\Noselect) NIL \"\"", "", "\\Noselect" },
    { "* LIST (\\Sent) \".\" \"a \\\"quoted\\\" one\"", "a \"quoted\" one", "\\Sent" },
    { "* LSUB () \".\" Archive", "Archive", "" },
    { "* LIST () \"/\" {5}", NULL, NULL },
    { "* OK done", NULL, NULL },
    { "* LIST \\Sent \"/\" Sent", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree char *name = NULL;
      g_auto(GStrv) flags = NULL;
      gboolean ok = envoi_mailbox_parse_list_line (table[i].line, &name, &flags);

      g_test_message ("%s", table[i].line);
      g_assert_cmpint (ok, ==, table[i].name != NULL);
      if (ok)
        {
          g_autofree char *joined = g_strjoinv (" ", flags);

          g_assert_cmpstr (name, ==, table[i].name);
          g_assert_cmpstr (joined, ==, table[i].flags);
        }
    }
}

static void
test_choose_sent (void)
{
  const char *flagged[] = { "* LIST () \"/\" INBOX", "* LIST (\\Sent) \"/\" \"Sent Items\"",
                            "* LIST () \"/\" Sent", NULL };
  const char *unflagged[] = { "* LIST () \"/\" INBOX", "* LIST () \"/\" Sent", NULL };
  g_autofree char *a = envoi_mailbox_choose_sent_folder (flagged, "Sent");
  g_autofree char *b = envoi_mailbox_choose_sent_folder (unflagged, "Gesendet");
  g_autofree char *c = envoi_mailbox_choose_sent_folder (unflagged, "");
  g_autofree char *d = envoi_mailbox_choose_sent_folder (NULL, NULL);

  /* The flag wins over the setting; the setting is the fallback; nothing else is guessed. */
  g_assert_cmpstr (a, ==, "Sent Items");
  g_assert_cmpstr (b, ==, "Gesendet");
  g_assert_null (c);
  g_assert_null (d);
}

/* ---- the engine against dovecot ------------------------------------------------------------ */

static const EnvoiSecurity securities[] = { ENVOI_SECURITY_NONE, ENVOI_SECURITY_STARTTLS, ENVOI_SECURITY_TLS };

static void
test_pop3_login (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    {
      g_autoptr(EnvoiAccount) account = mailbox_account ("pop", securities[i]);
      g_autoptr(EnvoiMailboxClient) client = envoi_mailbox_client_new (account, ENVOI_SERVICE_POP3,
                                                                       ENVOI_TEST_POP_PASSWORD);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *before = dovecot_log ();
      g_autofree char *after = NULL;
      const char *transcript;

      envoi_mailbox_client_login_async (client, NULL, envoi_test_async_result_cb, &result);
      g_assert_true (envoi_mailbox_client_login_finish (client, envoi_test_wait (&result), &error));
      g_assert_no_error (error);

      transcript = envoi_mailbox_client_get_transcript (client, result);
      g_test_message ("%s", transcript);
      g_assert_null (strstr (transcript, ENVOI_TEST_POP_PASSWORD));
      g_assert_nonnull (strstr (transcript, "+OK"));

      after = dovecot_log ();
      g_assert_cmpuint (count_substrings (after, "pop3-login: Info: Login: user=<" ENVOI_TEST_USER ">"), ==,
                        count_substrings (before, "pop3-login: Info: Login: user=<" ENVOI_TEST_USER ">") + 1);
      /* Dovecot says ", TLS," for an encrypted session (STARTTLS or implicit). */
      if (securities[i] != ENVOI_SECURITY_NONE)
        g_assert_nonnull (strstr (after + strlen (before), ", TLS, "));
      else
        g_assert_null (strstr (after + strlen (before), ", TLS, "));
    }
}

static void
test_imap_list (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    {
      g_autoptr(EnvoiAccount) account = mailbox_account ("imap", securities[i]);
      g_autoptr(EnvoiMailboxClient) client = envoi_mailbox_client_new (account, ENVOI_SERVICE_IMAP,
                                                                       ENVOI_TEST_IMAP_PASSWORD);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *sent = NULL;
      g_auto(GStrv) folders = NULL;

      envoi_mailbox_client_list_folders_async (client, NULL, envoi_test_async_result_cb, &result);
      folders = envoi_mailbox_client_list_folders_finish (client, envoi_test_wait (&result), &sent, &error);
      g_assert_no_error (error);
      g_assert_true (g_strv_contains ((const char * const *) folders, "INBOX"));
      g_assert_true (g_strv_contains ((const char * const *) folders, env ("ENVOI_TEST_DOVECOT_SENT")));
      /* Found by its \Sent flag, not by the setting ("Sent"). */
      g_assert_cmpstr (sent, ==, env ("ENVOI_TEST_DOVECOT_SENT"));
      g_assert_null (strstr (envoi_mailbox_client_get_transcript (client, result), ENVOI_TEST_IMAP_PASSWORD));
    }
}

static void
test_imap_append (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    {
      g_autoptr(EnvoiAccount) account = mailbox_account ("imap", securities[i]);
      g_autoptr(EnvoiMailboxClient) client = envoi_mailbox_client_new (account, ENVOI_SERVICE_IMAP,
                                                                       ENVOI_TEST_IMAP_PASSWORD);
      g_autofree char *subject = g_strdup_printf ("append-%u-%" G_GINT64_FORMAT, i, g_get_real_time ());
      g_autofree char *text = g_strdup_printf ("From: envoi-test@example.org\nTo: a@example.net\n"
                                               "Subject: %s\n\nA line\n.leading dot\n", subject);
      g_autoptr(GBytes) message = g_bytes_new (text, strlen (text));
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *folder = NULL;
      g_autofree char *stored = NULL;

      envoi_mailbox_client_append_sent_async (client, message, NULL, envoi_test_async_result_cb, &result);
      folder = envoi_mailbox_client_append_sent_finish (client, envoi_test_wait (&result), &error);
      g_test_message ("%s", envoi_mailbox_client_get_transcript (client, result));
      g_assert_no_error (error);
      g_assert_cmpstr (folder, ==, env ("ENVOI_TEST_DOVECOT_SENT"));

      /* One message for this mode, and its own body unchanged (no dot-stuffing; dovecot's
       * maildir keeps LF line ends). */
      stored = read_message_with (env ("ENVOI_TEST_DOVECOT_SENT"), subject);
      g_assert_true (g_str_has_suffix (stored, "\n\nA line\n.leading dot\n"));
    }
}

/* Negative login 1 of 2. */
static void
test_pop3_wrong_password (void)
{
  g_autoptr(EnvoiAccount) account = mailbox_account ("pop", ENVOI_SECURITY_TLS);
  g_autoptr(EnvoiMailboxClient) client = envoi_mailbox_client_new (account, ENVOI_SERVICE_POP3,
                                                                   "Wrong-Horse-Battery");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *transcript;

  envoi_mailbox_client_login_async (client, NULL, envoi_test_async_result_cb, &result);
  g_assert_false (envoi_mailbox_client_login_finish (client, envoi_test_wait (&result), &error));
  g_assert_error (error, ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_AUTH_FAILED);
  g_assert_nonnull (strstr (error->message, "POP3"));
  g_assert_nonnull (strstr (error->message, "localhost"));
  g_assert_null (strstr (error->message, "Wrong-Horse-Battery"));
  g_assert_cmpint (envoi_mailbox_error_to_smtp_class (error), ==, ENVOI_SMTP_ERROR_AUTH_FAILED);

  transcript = envoi_mailbox_client_get_transcript (client, result);
  g_assert_null (strstr (transcript, "Wrong-Horse-Battery"));
}

static void
test_plaintext_refused (void)
{
  g_autoptr(EnvoiAccount) account = mailbox_account ("pop", ENVOI_SECURITY_NONE);
  g_autoptr(EnvoiMailboxClient) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* Not loopback and not encrypted: Envoi does not even connect. */
  g_object_set (account, "pop-host", "pop.example.invalid", NULL);
  client = envoi_mailbox_client_new (account, ENVOI_SERVICE_POP3, ENVOI_TEST_POP_PASSWORD);
  envoi_mailbox_client_login_async (client, NULL, envoi_test_async_result_cb, &result);
  g_assert_false (envoi_mailbox_client_login_finish (client, envoi_test_wait (&result), &error));
  g_assert_error (error, ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_PLAINTEXT_PASSWORD_REFUSED);
}

/* ---- the daemon ---------------------------------------------------------------------------- */

#define SENDER_NAME "io.github.envoimail.Envoi.Sender"
#define SENDER_PATH "/io/github/envoimail/Envoi/Sender"

static char *
delivery_log (void)
{
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "envoi", "delivery.log", NULL);

  return read_text (path);
}

static guint
count_popauth (void)
{
  g_autofree char *dir = g_build_filename (h.dir, "popauth", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".eml"))
      n++;
  return n;
}

/* Submits one message; returns FALSE while the daemon does not know the account yet. */
static gboolean
try_submit (EnvoiDBusSender1 *proxy,
            const char       *account_id,
            const char       *subject)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *message = g_strdup_printf ("From: envoi-test@example.org\nTo: someone@example.net\n"
                                              "Subject: %s\n\nhello from the sender\n", subject);
  g_autofree char *remote = NULL;
  g_autofree char *id = NULL;
  const char *recipients[] = { "someone@example.net", NULL };
  GVariantBuilder options;
  int fd = memfd_create ("message", MFD_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, message, strlen (message)), ==, (gssize) strlen (message));
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  g_assert_cmpint (g_unix_fd_list_append (fds, fd, &error), ==, 0);
  close (fd);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "recipients", g_variant_new_strv (recipients, -1));
  g_variant_builder_add (&options, "{sv}", "account", g_variant_new_string (account_id));
  envoi_dbus_sender1_call_submit_sync (proxy, g_variant_new_handle (0), g_variant_builder_end (&options),
                                       fds, &id, NULL, NULL, &error);
  remote = error != NULL ? g_dbus_error_get_remote_error (error) : NULL;
  if (g_strcmp0 (remote, "io.github.envoimail.Envoi.Sender1.Error.NoAccount") == 0)
    return FALSE;
  g_assert_no_error (error);

  return TRUE;
}

/* The account was just written to the keyfile: the daemon, already running, sees it once its
 * file monitor fires, so a first submit may come before it knows the account. */
static void
submit (const char *account_id,
        const char *subject)
{
  g_autoptr(EnvoiDBusSender1) proxy = NULL;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  proxy = envoi_dbus_sender1_proxy_new_sync (h.bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                             SENDER_NAME, SENDER_PATH, NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < WAIT_SECONDS * 50 && !(done = try_submit (proxy, account_id, subject)); i++)
    g_usleep (20 * 1000);
  g_assert_true (done);
}

static EnvoiAccount *
sender_account (const char *id,
                gboolean    pop_before_smtp)
{
  EnvoiAccount *account = mailbox_account (id, ENVOI_SECURITY_TLS);

  g_object_set (account,
                "host", "127.0.0.1",
                "port", env_port ("ENVOI_TEST_POPAUTH_PORT"),
                "security", ENVOI_SECURITY_NONE,
                "auth-method", ENVOI_AUTH_METHOD_NONE,
                "pop-before-smtp", pop_before_smtp,
                "save-sent-copy", TRUE,
                NULL);
  envoi_account_store_add (h.store, account);
  g_settings_sync ();

  return account;
}

/* popauth counts POP3 logins from here on. */
static void
mark_popauth (void)
{
  g_autofree char *log = dovecot_log ();
  g_autofree char *offset = g_strdup_printf ("%zu", strlen (log));
  g_autofree char *path = g_build_filename (h.dir, "popauth-from", NULL);

  g_assert_true (g_file_set_contents (path, offset, -1, NULL));
}

typedef struct
{
  const char *needle;
  guint       count;
} LogExpect;

static gboolean
log_has (gpointer data)
{
  LogExpect *expect = data;
  g_autofree char *log = delivery_log ();

  return count_substrings (log, expect->needle) >= expect->count;
}

static gboolean
popauth_has (gpointer data)
{
  return count_popauth () >= GPOINTER_TO_UINT (data);
}

static void
start_daemon (void)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_sync (h.bus, SENDER_NAME, SENDER_PATH,
                                       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
}

/* Without the POP3 login, popauth refuses: the control that makes the next test mean something. */
static void
test_sender_without_pop (void)
{
  g_autoptr(EnvoiAccount) account = sender_account ("nopop", FALSE);
  LogExpect failed = { " nopop failed ", 1 };
  g_autofree char *log = NULL;
  guint before = count_popauth ();

  mark_popauth ();
  start_daemon ();
  submit ("nopop", "without POP3");
  g_assert_true (envoi_test_wait_until (log_has, &failed, WAIT_SECONDS));
  log = delivery_log ();
  g_assert_nonnull (strstr (log, "log in with POP3 first"));
  g_assert_cmpuint (count_popauth (), ==, before);
}

/* The daemon logs in over POP3 first (popauth reads it in dovecot's log and relays), then stores
 * the copy in the folder flagged \Sent. */
static void
test_sender_pop_then_copy (void)
{
  g_autoptr(EnvoiAccount) account = sender_account ("popcopy", TRUE);
  g_autofree char *subject = g_strdup_printf ("sent-copy-%" G_GINT64_FORMAT, g_get_real_time ());
  LogExpect sent = { " popcopy sent ", 1 };
  g_autofree char *log = NULL;
  g_autofree char *dovecot = NULL;
  g_autofree char *stored = NULL;
  guint before = count_popauth ();
  gsize mark;

  store_secret (account, ENVOI_SERVICE_POP3, ENVOI_TEST_POP_PASSWORD);
  store_secret (account, ENVOI_SERVICE_IMAP, ENVOI_TEST_IMAP_PASSWORD);
  mark_popauth ();
  mark = strlen (dovecot = dovecot_log ());
  g_clear_pointer (&dovecot, g_free);

  start_daemon ();
  submit ("popcopy", subject);
  g_assert_true (envoi_test_wait_until (popauth_has, GUINT_TO_POINTER (before + 1), WAIT_SECONDS));
  g_assert_true (envoi_test_wait_until (log_has, &sent, WAIT_SECONDS));

  dovecot = dovecot_log ();
  g_test_message ("%s", dovecot + mark);
  g_assert_nonnull (strstr (dovecot + mark, "pop3-login: Info: Login: user=<" ENVOI_TEST_USER ">"));
  g_assert_nonnull (strstr (dovecot + mark, "imap-login: Info: Login: user=<" ENVOI_TEST_USER ">"));

  /* The copy: the IMAP APPEND ends after the SMTP delivery is logged, so wait for it. */
  for (guint i = 0; i < WAIT_SECONDS * 50; i++)
    {
      g_free (stored);
      stored = read_folder (env ("ENVOI_TEST_DOVECOT_SENT"));
      if (strstr (stored, subject) != NULL)
        break;
      g_usleep (20 * 1000);
    }
  g_assert_nonnull (strstr (stored, subject));

  log = delivery_log ();
  g_assert_null (strstr (log, "copy-failed"));
}

/* Negative login 2 of 2: a wrong IMAP password is reported, and the message still counts as
 * sent. */
static void
test_sender_copy_wrong_password (void)
{
  g_autoptr(EnvoiAccount) account = sender_account ("copyfail", TRUE);
  g_autofree char *subject = g_strdup_printf ("no-copy-%" G_GINT64_FORMAT, g_get_real_time ());
  LogExpect sent = { " copyfail sent ", 1 };
  LogExpect copy_failed = { " copyfail copy-failed ", 1 };
  g_autofree char *log = NULL;
  g_autofree char *stored = NULL;
  guint before = count_popauth ();

  store_secret (account, ENVOI_SERVICE_POP3, ENVOI_TEST_POP_PASSWORD);
  store_secret (account, ENVOI_SERVICE_IMAP, "Wrong-Imap-Password");
  mark_popauth ();

  start_daemon ();
  submit ("copyfail", subject);
  g_assert_true (envoi_test_wait_until (popauth_has, GUINT_TO_POINTER (before + 1), WAIT_SECONDS));
  g_assert_true (envoi_test_wait_until (log_has, &copy_failed, WAIT_SECONDS));
  g_assert_true (envoi_test_wait_until (log_has, &sent, WAIT_SECONDS));

  log = delivery_log ();
  g_test_message ("%s", log);
  g_assert_nonnull (strstr (log, "IMAP server localhost refused the login"));
  g_assert_null (strstr (log, " copyfail failed "));
  g_assert_null (strstr (log, " copyfail deferred "));
  g_assert_null (strstr (log, "Wrong-Imap-Password"));

  stored = read_folder (env ("ENVOI_TEST_DOVECOT_SENT"));
  g_assert_null (strstr (stored, subject));
}

/* ---- harness ------------------------------------------------------------------------------- */

static void
start_dovecot (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "dovecot.py", NULL);
  g_autofree char *cert = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.pem", NULL);
  g_autofree char *key = g_build_filename (envoi_test_env ("ENVOI_TEST_SMTP_DIR"), "localhost.key", NULL);
  g_autofree char *ready = NULL;
  g_autofree char *env_path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  h.dir = g_build_filename (envoi_test_env ("ENVOI_TEST_DIR"), "dovecot", NULL);
  h.dovecot = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "/usr/bin/python3", script,
                                "--dir", h.dir, "--cert", cert, "--key", key, NULL);
  g_assert_no_error (error);

  ready = g_build_filename (h.dir, "ready", NULL);
  for (guint i = 0; i < 800 && !g_file_test (ready, G_FILE_TEST_EXISTS); i++)
    g_usleep (25 * 1000);
  g_assert_true (g_file_test (ready, G_FILE_TEST_EXISTS));

  env_path = g_build_filename (h.dir, "env", NULL);
  g_assert_true (g_file_get_contents (env_path, &contents, NULL, NULL));
  h.env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (lines[i], "=", 2);

      if (g_strv_length (kv) == 2)
        g_hash_table_insert (h.env, g_strdup (kv[0]), g_shell_unquote (kv[1], NULL));
    }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  /* Shared with the daemon: the keyfile in the session's XDG_CONFIG_HOME. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);

  g_test_init (&argc, &argv, NULL);

  h.daemon = envoi_test_env ("ENVOI_SENDER_PATH");
  h.bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_assert_nonnull (h.bus);
  h.store = envoi_account_store_new ();
  start_dovecot ();
  envoi_test_install_sender_service (h.daemon);

  g_test_add_func ("/envoi/mailbox/parse-list", test_parse_list);
  g_test_add_func ("/envoi/mailbox/choose-sent", test_choose_sent);
  g_test_add_func ("/envoi/mailbox/pop3-login", test_pop3_login);
  g_test_add_func ("/envoi/mailbox/imap-list", test_imap_list);
  g_test_add_func ("/envoi/mailbox/imap-append", test_imap_append);
  g_test_add_func ("/envoi/mailbox/plaintext-refused", test_plaintext_refused);
  g_test_add_func ("/envoi/mailbox/pop3-wrong-password", test_pop3_wrong_password);
  g_test_add_func ("/envoi/mailbox/sender-without-pop", test_sender_without_pop);
  g_test_add_func ("/envoi/mailbox/sender-pop-then-copy", test_sender_pop_then_copy);
  g_test_add_func ("/envoi/mailbox/sender-copy-wrong-password", test_sender_copy_wrong_password);

  status = g_test_run ();

  envoi_test_stop_sender_service ();
  g_subprocess_send_signal (h.dovecot, SIGTERM);
  g_subprocess_wait (h.dovecot, NULL, NULL);
  g_clear_object (&h.dovecot);
  g_clear_object (&h.store);
  g_hash_table_unref (h.env);
  g_free (h.dir);

  return status;
}

/* envoi-mailbox-client.c: POP3 login (POP-before-SMTP) and IMAP test, folder list and APPEND of
 * sent copies, on libcurl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Like EnvoiSmtpClient: every operation runs on the client's own worker thread (a GThreadPool of
 * one), libcurl is driven through its multi interface so that a GCancellable wakes it at once,
 * and the dialogue goes through an EnvoiSmtpTranscript, which removes the login and the secret
 * from every line. The easy handle lives as long as the client, so that successive APPENDs of
 * the sender reuse one IMAP connection while the server keeps it open.
 */

#define G_LOG_DOMAIN "envoi-mailbox"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <curl/curl.h>

#include "envoi-account.h"
#include "envoi-curl-connection.h"
#include "envoi-curl-error.h"
#include "envoi-curl-upload.h"
#include "envoi-mailbox-client.h"
#include "envoi-message.h"
#include "envoi-smtp-client.h"
#include "envoi-smtp-transcript.h"
#include "envoi-validate.h"


struct _EnvoiMailboxClient
{
  GObject       parent_instance;

  EnvoiAccount *account;
  EnvoiService  service;
  char         *secret;

  GThreadPool  *worker;

  /* Owned by the worker thread; outlives the client when it closes its connection. */
  EnvoiCurlConnection *connection;
  char         *sent_folder;   /* found by the first APPEND */
};

typedef enum
{
  OPERATION_LOGIN,
  OPERATION_LIST,
  OPERATION_APPEND,
} OperationKind;

typedef struct
{
  OperationKind kind;
  GBytes       *message;
  EnvoiCurlUpload upload;
  GString      *body;          /* what a LIST wrote */
  char         *last_line;     /* the server's last status line before logging out, redacted */
  gboolean      closing;       /* LOGOUT or QUIT was said */
  char         *transcript;
  EnvoiSmtpTranscript *recorder;
} Operation;

G_DEFINE_FINAL_TYPE (EnvoiMailboxClient, envoi_mailbox_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (envoi-mailbox-error-quark, envoi_mailbox_error)

/* ---- pure helpers ------------------------------------------------------------------------- */

EnvoiSmtpError
envoi_mailbox_error_to_smtp_class (const GError *error)
{
  g_return_val_if_fail (error != NULL, ENVOI_SMTP_ERROR_FAILED);

  if (error->domain != ENVOI_MAILBOX_ERROR)
    return ENVOI_SMTP_ERROR_FAILED;

  switch ((EnvoiMailboxError) error->code)
    {
    case ENVOI_MAILBOX_ERROR_HOST_NOT_FOUND:
      return ENVOI_SMTP_ERROR_HOST_NOT_FOUND;
    case ENVOI_MAILBOX_ERROR_CONNECTION_REFUSED:
      return ENVOI_SMTP_ERROR_CONNECTION_REFUSED;
    case ENVOI_MAILBOX_ERROR_CONNECTION_LOST:
      return ENVOI_SMTP_ERROR_CONNECTION_LOST;
    case ENVOI_MAILBOX_ERROR_TIMEOUT:
      return ENVOI_SMTP_ERROR_TIMEOUT;
    case ENVOI_MAILBOX_ERROR_TLS_HANDSHAKE_FAILED:
      return ENVOI_SMTP_ERROR_TLS_HANDSHAKE_FAILED;
    case ENVOI_MAILBOX_ERROR_CERTIFICATE_UNTRUSTED:
      return ENVOI_SMTP_ERROR_CERTIFICATE_UNTRUSTED;
    case ENVOI_MAILBOX_ERROR_STARTTLS_NOT_OFFERED:
      return ENVOI_SMTP_ERROR_STARTTLS_NOT_OFFERED;
    case ENVOI_MAILBOX_ERROR_AUTH_FAILED:
      return ENVOI_SMTP_ERROR_AUTH_FAILED;
    case ENVOI_MAILBOX_ERROR_PLAINTEXT_PASSWORD_REFUSED:
      return ENVOI_SMTP_ERROR_PLAINTEXT_PASSWORD_REFUSED;
    case ENVOI_MAILBOX_ERROR_NOT_CONFIGURED:
    case ENVOI_MAILBOX_ERROR_NO_SENT_FOLDER:
    case ENVOI_MAILBOX_ERROR_APPEND_REJECTED:
    case ENVOI_MAILBOX_ERROR_FAILED:
    default:
      return ENVOI_SMTP_ERROR_FAILED;
    }
}

/* An IMAP astring at *p: a quoted string (with \" and \\ escapes) or an atom. */
static char *
read_astring (const char **p)
{
  const char *s = *p;
  GString *out = g_string_new (NULL);

  while (*s == ' ')
    s++;

  if (*s == '"')
    {
      s++;
      while (*s != '\0' && *s != '"')
        {
          if (*s == '\\' && s[1] != '\0')
            s++;
          g_string_append_c (out, *s++);
        }
      if (*s != '"')
        {
          g_string_free (out, TRUE);
          return NULL;
        }
      s++;
    }
  else
    {
      while (*s != '\0' && *s != ' ' && *s != '\r' && *s != '\n')
        g_string_append_c (out, *s++);
      if (out->len == 0)
        {
          g_string_free (out, TRUE);
          return NULL;
        }
    }

  *p = s;
  return g_string_free (out, FALSE);
}

gboolean
envoi_mailbox_parse_list_line (const char  *line,
                               char       **name,
                               GStrv       *flags)
{
  const char *p = line;
  const char *close;
  g_autofree char *flag_text = NULL;
  g_autofree char *delimiter = NULL;
  g_autofree char *mailbox = NULL;

  g_return_val_if_fail (line != NULL, FALSE);

  if (!g_str_has_prefix (p, "* LIST ") && !g_str_has_prefix (p, "* LSUB "))
    return FALSE;
  p += strlen ("* LIST ");
  if (*p != '(' || (close = strchr (p, ')')) == NULL)
    return FALSE;
  flag_text = g_strndup (p + 1, close - p - 1);
  p = close + 1;

  /* The hierarchy delimiter: a quoted character or NIL. */
  if ((delimiter = read_astring (&p)) == NULL)
    return FALSE;
  /* A literal ({n}) is not handled: such names are rare and never the Sent folder's. */
  while (*p == ' ')
    p++;
  if (*p == '{')
    return FALSE;
  if ((mailbox = read_astring (&p)) == NULL)
    return FALSE;

  if (name != NULL)
    *name = g_steal_pointer (&mailbox);
  if (flags != NULL)
    {
      g_auto(GStrv) words = g_strsplit (g_strstrip (flag_text), " ", -1);
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      for (guint i = 0; words[i] != NULL; i++)
        if (*words[i] != '\0')
          g_strv_builder_add (builder, words[i]);
      *flags = g_strv_builder_end (builder);
    }

  return TRUE;
}

char *
envoi_mailbox_choose_sent_folder (const char * const *list_lines,
                                  const char         *fallback)
{
  for (guint i = 0; list_lines != NULL && list_lines[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_auto(GStrv) flags = NULL;

      if (!envoi_mailbox_parse_list_line (list_lines[i], &name, &flags))
        continue;
      for (guint j = 0; flags[j] != NULL; j++)
        if (g_ascii_strcasecmp (flags[j], "\\Sent") == 0)
          return g_steal_pointer (&name);
    }

  if (fallback != NULL && *fallback != '\0')
    return g_strdup (fallback);

  return NULL;
}

/* ---- the account, per service ------------------------------------------------------------- */

static const char *
protocol_name (EnvoiService service)
{
  return service == ENVOI_SERVICE_POP3 ? "POP3" : "IMAP";
}

static const char *
service_host (EnvoiMailboxClient *self)
{
  return self->service == ENVOI_SERVICE_POP3 ? envoi_account_get_pop_host (self->account)
                                             : envoi_account_get_imap_host (self->account);
}

static guint
service_port (EnvoiMailboxClient *self)
{
  return self->service == ENVOI_SERVICE_POP3 ? envoi_account_get_pop_port (self->account)
                                             : envoi_account_get_imap_port (self->account);
}

static EnvoiSecurity
service_security (EnvoiMailboxClient *self)
{
  return self->service == ENVOI_SERVICE_POP3 ? envoi_account_get_pop_security (self->account)
                                             : envoi_account_get_imap_security (self->account);
}

/* A URL for @mailbox (NULL: the server's root); the mailbox name is percent-encoded. */
static char *
make_url (EnvoiMailboxClient *self,
          const char         *mailbox)
{
  gboolean tls = service_security (self) == ENVOI_SECURITY_TLS;
  const char *scheme;
  g_autofree char *path = NULL;

  if (self->service == ENVOI_SERVICE_POP3)
    scheme = tls ? "pop3s" : "pop3";
  else
    scheme = tls ? "imaps" : "imap";

  path = g_strconcat ("/", mailbox != NULL ? mailbox : "", NULL);
  /* ENCODED: the path is escaped already, and must not be escaped twice. */
  return g_uri_join (G_URI_FLAGS_ENCODED, scheme, NULL, service_host (self), service_port (self),
                     path, NULL, NULL);
}

/* ---- libcurl ------------------------------------------------------------------------------ */

static int
debug_cb (CURL          *easy,
          curl_infotype  type,
          char          *data,
          size_t         size,
          void          *user_data)
{
  Operation *op = user_data;

  envoi_curl_connection_record (op->recorder, type, data, size);

  /* The answer that tells how things went: not an untagged line, not the goodbye. */
  if (type == CURLINFO_HEADER_IN && !op->closing)
    {
      g_autofree char *line = g_strndup (data, size);

      if (!g_str_has_prefix (line, "* "))
        {
          g_free (op->last_line);
          op->last_line = envoi_smtp_transcript_redact (op->recorder, g_strstrip (line));
        }
    }
  else if (type == CURLINFO_HEADER_OUT
           && (g_strstr_len (data, size, " LOGOUT") != NULL
               || (size >= 4 && memcmp (data, "QUIT", 4) == 0)))
    op->closing = TRUE;

  return 0;
}

static size_t
write_cb (char   *data,
          size_t  size,
          size_t  count,
          void   *user_data)
{
  Operation *op = user_data;

  if (op->body->len + size * count > 4 * 1024 * 1024)
    return 0;
  g_string_append_len (op->body, data, size * count);

  return size * count;
}

static CURL *
setup_easy (EnvoiMailboxClient *self,
            Operation          *op,
            const char         *url,
            char               *error_buffer)
{
  EnvoiSecurity security = service_security (self);
  EnvoiAuthMethod method = envoi_account_get_auth_method (self->account);
  const char *login = envoi_account_get_login (self->account);
  CURL *easy;

  /* The connection stays open: the next operation reuses it. */
  easy = envoi_curl_connection_prepare (self->connection, url,
                                        self->service == ENVOI_SERVICE_POP3 ? "pop3,pop3s" : "imap,imaps",
                                        envoi_account_get_timeout (self->account),
                                        op->recorder, error_buffer);
  curl_easy_setopt (easy, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt (easy, CURLOPT_DEBUGDATA, op);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, op);

  /* STARTTLS is all or nothing: never CURLUSESSL_TRY. */
  curl_easy_setopt (easy, CURLOPT_USE_SSL,
                    security == ENVOI_SECURITY_NONE ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);

  /* The account's pinned key is the SMTP server's: it says nothing of this one. */
  envoi_curl_connection_check_peer (self->connection,
                                    envoi_account_get_verify_certificate (self->account), NULL);

  /* The auth-method is the SMTP server's: POP3 and IMAP always log in (with an OAuth 2 token
   * when that is what the account uses). */
  if (self->secret != NULL && *self->secret != '\0')
    {
      curl_easy_setopt (easy, CURLOPT_USERNAME, login != NULL ? login : "");
      if (method == ENVOI_AUTH_METHOD_XOAUTH2)
        {
          curl_easy_setopt (easy, CURLOPT_XOAUTH2_BEARER, self->secret);
          curl_easy_setopt (easy, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
        }
      else
        curl_easy_setopt (easy, CURLOPT_PASSWORD, self->secret);
    }

  return easy;
}

/* A POP3 "-ERR", an IMAP tagged "NO" or "BAD": the server said no. */
static gboolean
is_refusal (EnvoiMailboxClient *self,
            const char         *line)
{
  g_autofree char *word = NULL;
  const char *space;

  if (line == NULL)
    return FALSE;

  if (self->service == ENVOI_SERVICE_POP3)
    return g_str_has_prefix (line, "-ERR");

  /* "A001 NO …": the status is the word after the tag. */
  space = strchr (line, ' ');
  if (space == NULL)
    return FALSE;
  word = g_strndup (space + 1, strcspn (space + 1, " "));

  return g_ascii_strcasecmp (word, "NO") == 0 || g_ascii_strcasecmp (word, "BAD") == 0;
}

static GError *
error_from_curl (EnvoiMailboxClient *self,
                 Operation          *op,
                 CURLcode            code,
                 const char         *error_buffer)
{
  const char *protocol = protocol_name (self->service);
  const char *host = service_host (self);
  guint port = service_port (self);
  g_autofree char *detail = envoi_smtp_transcript_redact (op->recorder,
                                                         *error_buffer != '\0' ? error_buffer
                                                                               : curl_easy_strerror (code));
  const char *reply = op->last_line != NULL ? op->last_line : detail;

  /* The protocol's own cases first. */
  switch (code)
    {
    case CURLE_USE_SSL_FAILED:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, %u a port number. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_STARTTLS_NOT_OFFERED,
                          _("The %s server %s on port %u does not offer encryption (STARTTLS)."),
                          protocol, host, port);

    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, the last the
       * server's reply. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_AUTH_FAILED,
                          _("The %s server %s refused the login: %s"), protocol, host, reply);

    case CURLE_UPLOAD_FAILED:
      if (op->kind == OPERATION_APPEND && is_refusal (self, op->last_line))
        /* Translators: %s is a host name, the second %s the server's reply. */
        return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_APPEND_REJECTED,
                            _("The IMAP server %s did not store the copy: %s"), host, reply);
      break;

    default:
      break;
    }

  switch (envoi_curl_classify (code, is_refusal (self, op->last_line)))
    {
    case ENVOI_CURL_FAULT_CANCELLED:
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));

    case ENVOI_CURL_FAULT_HOST_NOT_FOUND:
      /* Translators: the first %s is POP3 or IMAP, the second a host name. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_HOST_NOT_FOUND,
                          _("The %s server “%s” was not found."), protocol, host);

    case ENVOI_CURL_FAULT_CONNECTION_REFUSED:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, %u a port number. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_CONNECTION_REFUSED,
                          _("Could not connect to the %s server %s on port %u."), protocol, host, port);

    case ENVOI_CURL_FAULT_TIMEOUT:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, %u a number of seconds. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_TIMEOUT,
                          _("The %s server %s did not answer within %u seconds."),
                          protocol, host, envoi_account_get_timeout (self->account));

    case ENVOI_CURL_FAULT_TLS_HANDSHAKE:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, the last a detail. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_TLS_HANDSHAKE_FAILED,
                          _("The secure connection to the %s server %s failed (%s)."),
                          protocol, host, detail);

    case ENVOI_CURL_FAULT_CERTIFICATE:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, the last a detail. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_CERTIFICATE_UNTRUSTED,
                          _("The certificate of the %s server %s is not trusted (%s)."),
                          protocol, host, detail);

    case ENVOI_CURL_FAULT_CONNECTION_LOST:
      /* Translators: the first %s is POP3 or IMAP, the last a technical detail. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_CONNECTION_LOST,
                          _("The connection to the %s server was lost (%s)."), protocol, detail);

    case ENVOI_CURL_FAULT_REFUSED:
    case ENVOI_CURL_FAULT_OTHER:
    default:
      /* Translators: the first %s is POP3 or IMAP, the second a host name, the last the
       * server's reply or a technical detail. */
      return g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_FAILED,
                          _("Talking to the %s server %s failed: %s"), protocol, host, reply);
    }
}

/* ---- operations --------------------------------------------------------------------------- */

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_clear_pointer (&op->message, g_bytes_unref);
  g_string_free (op->body, TRUE);
  g_free (op->last_line);
  g_free (op->transcript);
  g_clear_object (&op->recorder);
  g_free (op);
}

/* One transfer on the client's handle; fills op->body. */
static GError *
run_transfer (EnvoiMailboxClient *self,
              Operation          *op,
              const char         *mailbox,
              GCancellable       *cancellable)
{
  g_autofree char *url = make_url (self, mailbox);
  char error_buffer[CURL_ERROR_SIZE] = "";
  CURL *easy;
  CURLcode code;

  easy = setup_easy (self, op, url, error_buffer);

  switch (op->kind)
    {
    case OPERATION_LOGIN:
      if (self->service == ENVOI_SERVICE_POP3)
        {
          /* Log in, say NOOP, log out: no message is listed or read. */
          curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, "NOOP");
          curl_easy_setopt (easy, CURLOPT_NOBODY, 1L);
        }
      else
        curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, "NOOP");
      break;

    case OPERATION_LIST:
      /* The default request of a URL without a mailbox: LIST "" *. */
      break;

    case OPERATION_APPEND:
      op->closing = FALSE;
      curl_easy_setopt (easy, CURLOPT_UPLOAD, 1L);
      envoi_curl_upload_attach (&op->upload, easy, op->message);
      curl_easy_setopt (easy, CURLOPT_INFILESIZE_LARGE,
                        (curl_off_t) g_bytes_get_size (op->message));
      break;

    default:
      g_assert_not_reached ();
    }

  code = envoi_curl_connection_perform (self->connection, cancellable);
  envoi_curl_connection_detach (self->connection);
  if (code != CURLE_OK)
    return error_from_curl (self, op, code, error_buffer);

  return NULL;
}

static GStrv
split_lines (const GString *body)
{
  g_auto(GStrv) raw = g_strsplit (body->str, "\n", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; raw[i] != NULL; i++)
    {
      g_strchomp (raw[i]);
      if (*raw[i] != '\0')
        g_strv_builder_add (builder, raw[i]);
    }

  return g_strv_builder_end (builder);
}

static void
run_operation (EnvoiMailboxClient *self,
               GTask              *task,
               Operation          *op)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  const char *host = service_host (self);
  g_autoptr(GError) error = NULL;

  op->recorder = envoi_smtp_transcript_new (envoi_account_get_login (self->account), self->secret);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (host == NULL || *host == '\0')
    {
      /* Translators: %s is POP3 or IMAP. */
      g_task_return_new_error (task, ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_NOT_CONFIGURED,
                               _("No %s server is set."), protocol_name (self->service));
      return;
    }

  if (self->secret == NULL || *self->secret == '\0')
    {
      /* Translators: the first %s is POP3 or IMAP, the second a host name. */
      g_task_return_new_error (task, ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_AUTH_FAILED,
                               _("No password is saved for the %s server %s."),
                               protocol_name (self->service), host);
      return;
    }

  if (service_security (self) == ENVOI_SECURITY_NONE
      && !envoi_account_get_allow_plaintext_password (self->account)
      && !envoi_host_is_loopback (host))
    {
      /* Translators: the first %s is POP3 or IMAP, the second a host name. */
      g_task_return_new_error (task, ENVOI_MAILBOX_ERROR,
                               ENVOI_MAILBOX_ERROR_PLAINTEXT_PASSWORD_REFUSED,
                               _("Envoi did not connect to the %s server %s: without encryption the password would be readable on the network."),
                               protocol_name (self->service), host);
      return;
    }

  if (op->kind == OPERATION_LOGIN || op->kind == OPERATION_LIST)
    {
      error = run_transfer (self, op, NULL, cancellable);
      op->transcript = envoi_smtp_transcript_dup_text (op->recorder);
      if (error != NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      else if (op->kind == OPERATION_LOGIN)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_pointer (task, split_lines (op->body), (GDestroyNotify) g_strfreev);
      return;
    }

  /* APPEND: find the Sent folder once per client, then store. */
  if (self->sent_folder == NULL)
    {
      OperationKind kind = op->kind;
      g_auto(GStrv) lines = NULL;

      op->kind = OPERATION_LIST;
      error = run_transfer (self, op, NULL, cancellable);
      op->kind = kind;
      if (error == NULL)
        {
          lines = split_lines (op->body);
          self->sent_folder = envoi_mailbox_choose_sent_folder ((const char * const *) lines,
                                                                envoi_account_get_sent_folder (self->account));
          if (self->sent_folder == NULL)
            /* Translators: %s is a host name. */
            error = g_error_new (ENVOI_MAILBOX_ERROR, ENVOI_MAILBOX_ERROR_NO_SENT_FOLDER,
                                 _("The IMAP server %s marks no folder as Sent, and no Sent folder is set."),
                                 host);
        }
    }

  if (error == NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (self->sent_folder, NULL, FALSE);

      error = run_transfer (self, op, escaped, cancellable);
    }

  op->transcript = envoi_smtp_transcript_dup_text (op->recorder);
  if (error != NULL)
    {
      /* The folder may have been renamed: look again next time. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_pointer (&self->sent_folder, g_free);
      g_task_return_error (task, g_steal_pointer (&error));
    }
  else
    g_task_return_pointer (task, g_strdup (self->sent_folder), g_free);
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  g_autoptr(GTask) task = data;
  EnvoiMailboxClient *self = g_task_get_source_object (task);

  run_operation (self, task, g_task_get_task_data (task));
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_mailbox_client_finalize (GObject *object)
{
  EnvoiMailboxClient *self = (EnvoiMailboxClient *)object;

  g_thread_pool_free (self->worker, TRUE, FALSE);

  /* Closing says LOGOUT or QUIT and waits for the reply: never on the caller's thread. */
  envoi_curl_connection_close (g_steal_pointer (&self->connection), "envoi-mailbox-close");

  if (self->secret != NULL)
    {
      memset (self->secret, 0, strlen (self->secret));
      g_free (self->secret);
    }
  g_free (self->sent_folder);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (envoi_mailbox_client_parent_class)->finalize (object);
}

static void
envoi_mailbox_client_class_init (EnvoiMailboxClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_mailbox_client_finalize;

  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
envoi_mailbox_client_init (EnvoiMailboxClient *self)
{
  self->worker = g_thread_pool_new (worker_func, self, 1, FALSE, NULL);
  self->connection = envoi_curl_connection_new ();
}

/* ---- public ------------------------------------------------------------------------------- */

/**
 * envoi_mailbox_client_new:
 * @account: the account (copied: later edits do not affect this client)
 * @service: %ENVOI_SERVICE_POP3 or %ENVOI_SERVICE_IMAP
 * @secret: (nullable): the password; kept in memory only, wiped on finalize
 */
EnvoiMailboxClient *
envoi_mailbox_client_new (EnvoiAccount *account,
                          EnvoiService  service,
                          const char   *secret)
{
  EnvoiMailboxClient *self;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP, NULL);

  self = g_object_new (ENVOI_TYPE_MAILBOX_CLIENT, NULL);
  self->account = envoi_account_copy (account);
  self->service = service;
  self->secret = g_strdup (secret);

  return self;
}

EnvoiService
envoi_mailbox_client_get_service (EnvoiMailboxClient *self)
{
  g_return_val_if_fail (ENVOI_IS_MAILBOX_CLIENT (self), ENVOI_SERVICE_IMAP);

  return self->service;
}

static void
queue_operation (EnvoiMailboxClient  *self,
                 OperationKind        kind,
                 GBytes              *message,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Operation *op = g_new0 (Operation, 1);

  op->kind = kind;
  op->body = g_string_new (NULL);
  op->message = message != NULL ? envoi_message_normalize_crlf (message) : NULL;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, operation_free);
  g_thread_pool_push (self->worker, task, NULL);
}

void
envoi_mailbox_client_login_async (EnvoiMailboxClient  *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (ENVOI_IS_MAILBOX_CLIENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  queue_operation (self, OPERATION_LOGIN, NULL, envoi_mailbox_client_login_async,
                   cancellable, callback, user_data);
}

gboolean
envoi_mailbox_client_login_finish (EnvoiMailboxClient  *self,
                                   GAsyncResult        *result,
                                   GError             **error)
{
  g_return_val_if_fail (ENVOI_IS_MAILBOX_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_mailbox_client_login_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
envoi_mailbox_client_list_folders_async (EnvoiMailboxClient  *self,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (ENVOI_IS_MAILBOX_CLIENT (self));
  g_return_if_fail (self->service == ENVOI_SERVICE_IMAP);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  queue_operation (self, OPERATION_LIST, NULL, envoi_mailbox_client_list_folders_async,
                   cancellable, callback, user_data);
}

/**
 * envoi_mailbox_client_list_folders_finish:
 *
 * Returns: (transfer full): the folder names as the server spells them (modified UTF-7 for
 *   names beyond ASCII), or %NULL with @error set
 */
GStrv
envoi_mailbox_client_list_folders_finish (EnvoiMailboxClient  *self,
                                          GAsyncResult        *result,
                                          char               **sent_folder,
                                          GError             **error)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GStrvBuilder) names = NULL;

  g_return_val_if_fail (ENVOI_IS_MAILBOX_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_mailbox_client_list_folders_async, NULL);

  lines = g_task_propagate_pointer (G_TASK (result), error);
  if (lines == NULL)
    return NULL;

  names = g_strv_builder_new ();
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *name = NULL;

      if (envoi_mailbox_parse_list_line (lines[i], &name, NULL))
        g_strv_builder_add (names, name);
    }

  if (sent_folder != NULL)
    *sent_folder = envoi_mailbox_choose_sent_folder ((const char * const *) lines,
                                                     envoi_account_get_sent_folder (self->account));

  return g_strv_builder_end (names);
}

void
envoi_mailbox_client_append_sent_async (EnvoiMailboxClient  *self,
                                        GBytes              *message,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_return_if_fail (ENVOI_IS_MAILBOX_CLIENT (self));
  g_return_if_fail (self->service == ENVOI_SERVICE_IMAP);
  g_return_if_fail (message != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  queue_operation (self, OPERATION_APPEND, message, envoi_mailbox_client_append_sent_async,
                   cancellable, callback, user_data);
}

char *
envoi_mailbox_client_append_sent_finish (EnvoiMailboxClient  *self,
                                         GAsyncResult        *result,
                                         GError             **error)
{
  g_return_val_if_fail (ENVOI_IS_MAILBOX_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == envoi_mailbox_client_append_sent_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * envoi_mailbox_client_get_transcript:
 *
 * Returns: (nullable): the redacted dialogue of the operation, %NULL if it never started
 */
const char *
envoi_mailbox_client_get_transcript (EnvoiMailboxClient *self,
                                     GAsyncResult       *result)
{
  Operation *op;

  g_return_val_if_fail (ENVOI_IS_MAILBOX_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  op = g_task_get_task_data (G_TASK (result));
  return op->transcript;
}

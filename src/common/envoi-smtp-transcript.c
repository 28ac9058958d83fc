/* envoi-smtp-transcript.c: the SMTP dialogue as a person may see it, credentials removed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-smtp"

#include "config.h"

#include <string.h>

#include "envoi-smtp-transcript.h"

#define REMOVED_AUTH     "[credentials removed]"
#define REMOVED_SECRET   "[password removed]"
#define REMOVED_LOGIN    "[user name removed]"

struct _EnvoiSmtpTranscript
{
  GObject parent_instance;

  GMutex mutex;

  /* Each secret form (plain, base64 cores, URL-encoded), longest first. */
  GArray *patterns;

  GString *text;
  GString *pending[3];    /* an incomplete line per kind */

  EnvoiSmtpStage stage;
  gboolean in_auth;
  gboolean quitting;      /* QUIT and its reply do not count as the dialogue's outcome */
  GString *reply;         /* the reply being received, lines joined with "\n" */
  char *last_reply;
  char *greeting;
  GStrv capabilities;
  gboolean starttls_offered;
};

typedef struct
{
  char       *text;
  const char *replacement;
} Pattern;

G_DEFINE_FINAL_TYPE (EnvoiSmtpTranscript, envoi_smtp_transcript, G_TYPE_OBJECT)

static void
pattern_clear (gpointer data)
{
  Pattern *pattern = data;

  /* The patterns are the secret in several forms: wipe them. */
  memset (pattern->text, 0, strlen (pattern->text));
  g_free (pattern->text);
}

static int
pattern_compare_length_desc (gconstpointer a,
                             gconstpointer b)
{
  gsize la = strlen (((const Pattern *) a)->text);
  gsize lb = strlen (((const Pattern *) b)->text);

  return la < lb ? 1 : la > lb ? -1 : 0;
}

static void
add_pattern (EnvoiSmtpTranscript *self,
             const char          *text,
             const char          *replacement)
{
  Pattern pattern;
  guint i;

  if (text == NULL || *text == '\0')
    return;
  for (i = 0; i < self->patterns->len; i++)
    if (strcmp (g_array_index (self->patterns, Pattern, i).text, text) == 0)
      return;

  pattern.text = g_strdup (text);
  pattern.replacement = replacement;
  g_array_append_val (self->patterns, pattern);
}

/* The base64 of @secret inside a longer blob depends on its offset modulo 3: for each offset,
 * the characters that depend on @secret's bytes only. */
static void
add_secret_forms (EnvoiSmtpTranscript *self,
                  const char          *secret,
                  const char          *replacement)
{
  gsize len = strlen (secret);
  g_autofree char *escaped = NULL;
  guint k;

  add_pattern (self, secret, replacement);

  escaped = g_uri_escape_string (secret, NULL, FALSE);
  add_pattern (self, escaped, replacement);

  for (k = 0; k < 3; k++)
    {
      g_autofree guchar *buffer = g_malloc0 (len + k);
      g_autofree char *encoded = NULL;
      gsize start = k > 0 ? 4 : 0;
      gsize total = len + k;
      gsize end = (total / 3) * 4;

      memcpy (buffer + k, secret, len);
      encoded = g_base64_encode (buffer, total);

      if (k == 0)
        add_pattern (self, encoded, replacement);

      if (end > start && end - start >= 4)
        {
          g_autofree char *core = g_strndup (encoded + start, end - start);
          add_pattern (self, core, replacement);
        }
    }
}

static char *
redact_locked (EnvoiSmtpTranscript *self,
               const char          *text)
{
  g_autoptr(GString) s = g_string_new (text);
  guint i;

  for (i = 0; i < self->patterns->len; i++)
    {
      const Pattern *pattern = &g_array_index (self->patterns, Pattern, i);

      g_string_replace (s, pattern->text, pattern->replacement, 0);
    }

  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
stage_for_command (const char     *line,
                   EnvoiSmtpStage *stage)
{
  static const struct { const char *verb; EnvoiSmtpStage stage; } verbs[] = {
    { "EHLO", ENVOI_SMTP_STAGE_EHLO },
    { "HELO", ENVOI_SMTP_STAGE_EHLO },
    { "STARTTLS", ENVOI_SMTP_STAGE_STARTTLS },
    { "AUTH", ENVOI_SMTP_STAGE_AUTH },
    { "MAIL", ENVOI_SMTP_STAGE_MAIL },
    { "RCPT", ENVOI_SMTP_STAGE_RCPT },
    { "DATA", ENVOI_SMTP_STAGE_DATA },
    { "QUIT", ENVOI_SMTP_STAGE_QUIT },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      gsize n = strlen (verbs[i].verb);

      if (g_ascii_strncasecmp (line, verbs[i].verb, n) == 0
          && (line[n] == '\0' || line[n] == ' '))
        {
          *stage = verbs[i].stage;
          return TRUE;
        }
    }

  return FALSE;
}

static void
client_line (EnvoiSmtpTranscript *self,
             const char          *line)
{
  EnvoiSmtpStage stage = ENVOI_SMTP_STAGE_GREETING;
  gboolean known;
  g_autofree char *shown = NULL;

  if (self->in_auth)
    {
      g_string_append (self->text, "C: " REMOVED_AUTH "\n");
      return;
    }

  known = stage_for_command (line, &stage);
  if (known && stage == ENVOI_SMTP_STAGE_QUIT)
    self->quitting = TRUE;
  else if (known)
    self->stage = stage;

  if (known && stage == ENVOI_SMTP_STAGE_AUTH)
    {
      const char *mechanism = line + 5;
      const char *space;

      while (*mechanism == ' ')
        mechanism++;
      space = strchr (mechanism, ' ');
      self->in_auth = TRUE;
      if (space != NULL)
        shown = g_strdup_printf ("AUTH %.*s " REMOVED_AUTH, (int) (space - mechanism), mechanism);
      else
        shown = g_strdup_printf ("AUTH %s", mechanism);
    }

  g_string_append (self->text, "C: ");
  if (shown != NULL)
    {
      g_autofree char *redacted = redact_locked (self, shown);
      g_string_append (self->text, redacted);
    }
  else
    {
      g_autofree char *redacted = redact_locked (self, line);
      g_string_append (self->text, redacted);
    }
  g_string_append_c (self->text, '\n');
}

static void
parse_capabilities (EnvoiSmtpTranscript *self,
                    const char          *reply)
{
  g_auto(GStrv) lines = g_strsplit (reply, "\n", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  gsize i;

  /* The first line is the greeting name; the others are "250-KEYWORD params". */
  for (i = 1; lines[i] != NULL; i++)
    {
      const char *capability = lines[i];

      if (strlen (capability) < 4)
        continue;
      capability += 4;
      g_strv_builder_add (builder, capability);
      if (g_ascii_strcasecmp (capability, "STARTTLS") == 0)
        self->starttls_offered = TRUE;
    }

  g_clear_pointer (&self->capabilities, g_strfreev);
  self->capabilities = g_strv_builder_end (builder);
}

static void
server_line (EnvoiSmtpTranscript *self,
             const char          *line)
{
  g_autofree char *redacted = redact_locked (self, line);
  gboolean last;

  g_string_append (self->text, "S: ");
  g_string_append (self->text, redacted);
  g_string_append_c (self->text, '\n');

  if (self->reply->len > 0)
    g_string_append_c (self->reply, '\n');
  g_string_append (self->reply, redacted);

  last = strlen (line) < 4 || line[3] != '-';
  if (!last)
    return;

  if (self->quitting)
    {
      g_string_truncate (self->reply, 0);
      return;
    }

  g_free (self->last_reply);
  self->last_reply = g_strdup (self->reply->str);
  g_string_truncate (self->reply, 0);

  if (self->greeting == NULL && self->stage == ENVOI_SMTP_STAGE_GREETING)
    self->greeting = g_strdup (self->last_reply);
  else if (self->stage == ENVOI_SMTP_STAGE_EHLO && g_str_has_prefix (self->last_reply, "250"))
    parse_capabilities (self, self->last_reply);
  else if (self->stage == ENVOI_SMTP_STAGE_DATA && g_str_has_prefix (self->last_reply, "354"))
    self->stage = ENVOI_SMTP_STAGE_END_OF_DATA;

  if (self->in_auth && !g_str_has_prefix (self->last_reply, "334"))
    self->in_auth = FALSE;
}

static void
info_line (EnvoiSmtpTranscript *self,
           const char          *line)
{
  g_autofree char *redacted = NULL;

  /* libcurl's trace of curl_easy_send() and curl_easy_recv() ("reached easy.c:1229"). */
  if (g_str_has_prefix (line, "reached ") && strstr (line, ".c:") != NULL)
    return;

  redacted = redact_locked (self, line);
  g_string_append (self->text, "* ");
  g_string_append (self->text, redacted);
  g_string_append_c (self->text, '\n');
}

static void
envoi_smtp_transcript_finalize (GObject *object)
{
  EnvoiSmtpTranscript *self = (EnvoiSmtpTranscript *)object;
  guint i;

  g_array_unref (self->patterns);

  g_string_free (self->text, TRUE);
  for (i = 0; i < G_N_ELEMENTS (self->pending); i++)
    g_string_free (self->pending[i], TRUE);
  g_string_free (self->reply, TRUE);
  g_free (self->last_reply);
  g_free (self->greeting);
  g_strfreev (self->capabilities);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (envoi_smtp_transcript_parent_class)->finalize (object);
}

static void
envoi_smtp_transcript_class_init (EnvoiSmtpTranscriptClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_smtp_transcript_finalize;
}

static void
envoi_smtp_transcript_init (EnvoiSmtpTranscript *self)
{
  guint i;

  g_mutex_init (&self->mutex);
  self->patterns = g_array_new (FALSE, FALSE, sizeof (Pattern));
  g_array_set_clear_func (self->patterns, pattern_clear);
  self->text = g_string_new (NULL);
  for (i = 0; i < G_N_ELEMENTS (self->pending); i++)
    self->pending[i] = g_string_new (NULL);
  self->reply = g_string_new (NULL);
  self->stage = ENVOI_SMTP_STAGE_GREETING;
}

/**
 * envoi_smtp_transcript_new:
 * @login: (nullable): the user name used to log in
 * @secret: (nullable): the password or token
 */
EnvoiSmtpTranscript *
envoi_smtp_transcript_new (const char *login,
                           const char *secret)
{
  EnvoiSmtpTranscript *self = g_object_new (ENVOI_TYPE_SMTP_TRANSCRIPT, NULL);

  if (secret != NULL && *secret != '\0')
    add_secret_forms (self, secret, REMOVED_SECRET);
  /* A one- or two-letter login would blank out half the dialogue. */
  if (login != NULL && strlen (login) >= 3)
    add_secret_forms (self, login, REMOVED_LOGIN);

  /* Longest first, so that a form containing another is replaced whole. */
  g_array_sort (self->patterns, pattern_compare_length_desc);

  return self;
}

/**
 * envoi_smtp_transcript_add:
 * @data: bytes as libcurl's debug callback gives them: one or more lines, or part of one
 */
void
envoi_smtp_transcript_add (EnvoiSmtpTranscript     *self,
                           EnvoiSmtpTranscriptKind  kind,
                           const char              *data,
                           gsize                    length)
{
  GString *pending;
  char *line;
  char *newline;

  g_return_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self));
  g_return_if_fail (kind <= ENVOI_SMTP_TRANSCRIPT_SERVER);

  g_mutex_lock (&self->mutex);

  pending = self->pending[kind];
  g_string_append_len (pending, data, length);

  line = pending->str;
  while ((newline = memchr (line, '\n', pending->str + pending->len - line)) != NULL)
    {
      char *end = newline;

      while (end > line && (end[-1] == '\r'))
        end--;
      *end = '\0';

      /* NULs inside a line (a bogus server) would cut it short: that is fine. */
      switch (kind)
        {
        case ENVOI_SMTP_TRANSCRIPT_CLIENT:
          client_line (self, line);
          break;
        case ENVOI_SMTP_TRANSCRIPT_SERVER:
          server_line (self, line);
          break;
        case ENVOI_SMTP_TRANSCRIPT_INFO:
        default:
          info_line (self, line);
          break;
        }
      line = newline + 1;
    }

  /* Whatever was consumed may hold a secret: wipe before dropping it. */
  memset (pending->str, 0, line - pending->str);
  g_string_erase (pending, 0, line - pending->str);

  g_mutex_unlock (&self->mutex);
}

/**
 * envoi_smtp_transcript_redact:
 *
 * Returns: (transfer full): @text with the login and secret removed in every form this
 *   transcript knows (for error messages built from curl's, for example).
 */
char *
envoi_smtp_transcript_redact (EnvoiSmtpTranscript *self,
                              const char          *text)
{
  char *redacted;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  g_mutex_lock (&self->mutex);
  redacted = redact_locked (self, text);
  g_mutex_unlock (&self->mutex);

  return redacted;
}

char *
envoi_smtp_transcript_dup_text (EnvoiSmtpTranscript *self)
{
  char *text;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), NULL);

  g_mutex_lock (&self->mutex);
  text = g_strdup (self->text->str);
  g_mutex_unlock (&self->mutex);

  return text;
}

/* The command whose reply came last, or is awaited. */
EnvoiSmtpStage
envoi_smtp_transcript_get_stage (EnvoiSmtpTranscript *self)
{
  EnvoiSmtpStage stage;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), ENVOI_SMTP_STAGE_GREETING);

  g_mutex_lock (&self->mutex);
  stage = self->stage;
  g_mutex_unlock (&self->mutex);

  return stage;
}

char *
envoi_smtp_transcript_dup_last_reply (EnvoiSmtpTranscript *self)
{
  char *reply;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), NULL);

  g_mutex_lock (&self->mutex);
  reply = g_strdup (self->last_reply);
  g_mutex_unlock (&self->mutex);

  return reply;
}

char *
envoi_smtp_transcript_dup_greeting (EnvoiSmtpTranscript *self)
{
  char *greeting;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), NULL);

  g_mutex_lock (&self->mutex);
  greeting = g_strdup (self->greeting);
  g_mutex_unlock (&self->mutex);

  return greeting;
}

/**
 * envoi_smtp_transcript_dup_capabilities:
 *
 * Returns: (transfer full) (nullable): the extensions of the last EHLO reply ("SIZE 1000",
 *   "AUTH PLAIN LOGIN", …), or %NULL before any.
 */
char **
envoi_smtp_transcript_dup_capabilities (EnvoiSmtpTranscript *self)
{
  char **capabilities;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), NULL);

  g_mutex_lock (&self->mutex);
  capabilities = g_strdupv (self->capabilities);
  g_mutex_unlock (&self->mutex);

  return capabilities;
}

/* Whether any EHLO reply (before the upgrade, necessarily) offered STARTTLS. */
gboolean
envoi_smtp_transcript_get_starttls_offered (EnvoiSmtpTranscript *self)
{
  gboolean offered;

  g_return_val_if_fail (ENVOI_IS_SMTP_TRANSCRIPT (self), FALSE);

  g_mutex_lock (&self->mutex);
  offered = self->starttls_offered;
  g_mutex_unlock (&self->mutex);

  return offered;
}

/* envoi-smtp-report.c: what one SMTP operation saw, success or failure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-smtp"

#include "config.h"

#include "envoi-smtp-report.h"

struct _EnvoiSmtpReport
{
  gatomicrefcount ref_count;
  char *transcript;
  char *greeting;
  char *last_reply;
  GStrv capabilities;
  GStrv auth_mechanisms;
  guint64 size_limit;
  gboolean starttls_offered;
  char *certificate_pin;
  char *certificate_subject;
  char *certificate_issuer;
};

G_DEFINE_BOXED_TYPE (EnvoiSmtpReport, envoi_smtp_report, envoi_smtp_report_ref, envoi_smtp_report_unref)

EnvoiSmtpReport *
envoi_smtp_report_ref (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
envoi_smtp_report_unref (EnvoiSmtpReport *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->transcript);
  g_free (self->greeting);
  g_free (self->last_reply);
  g_strfreev (self->capabilities);
  g_strfreev (self->auth_mechanisms);
  g_free (self->certificate_pin);
  g_free (self->certificate_subject);
  g_free (self->certificate_issuer);
  g_free (self);
}

/* The dialogue with credentials removed (lines "C: ", "S: ", "* "). */
const char *
envoi_smtp_report_get_transcript (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->transcript;
}

/* The server's first reply ("220 …"), or %NULL if it was never received (or the connection
 * was reused). */
const char *
envoi_smtp_report_get_greeting (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->greeting;
}

/* The last reply received; for a successful send, the server's answer to the message. */
const char *
envoi_smtp_report_get_last_reply (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->last_reply;
}

/* The extensions of the last EHLO reply, e.g. "SIZE 35882577", "AUTH PLAIN LOGIN". */
const char * const *
envoi_smtp_report_get_capabilities (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return (const char * const *) self->capabilities;
}

/* The SASL mechanisms offered in the last EHLO reply (never %NULL; maybe empty). */
const char * const *
envoi_smtp_report_get_auth_mechanisms (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return (const char * const *) self->auth_mechanisms;
}

/* The SIZE the server announced (0: none announced). */
guint64
envoi_smtp_report_get_size_limit (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->size_limit;
}

gboolean
envoi_smtp_report_get_starttls_offered (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->starttls_offered;
}

/* "sha256//<base64>" of the server certificate's public key, usable as the account's
 * pinned-key; set after a connection test over TLS and after a certificate failure. */
const char *
envoi_smtp_report_get_certificate_pin (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->certificate_pin;
}

const char *
envoi_smtp_report_get_certificate_subject (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->certificate_subject;
}

const char *
envoi_smtp_report_get_certificate_issuer (EnvoiSmtpReport *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->certificate_issuer;
}

EnvoiSmtpReport *
_envoi_smtp_report_new (EnvoiSmtpTranscript *transcript,
                        const char          *certificate_pin,
                        const char          *certificate_subject,
                        const char          *certificate_issuer)
{
  EnvoiSmtpReport *self = g_new0 (EnvoiSmtpReport, 1);
  g_autoptr(GPtrArray) mechanisms = g_ptr_array_new ();
  gsize i;

  g_atomic_ref_count_init (&self->ref_count);
  self->transcript = envoi_smtp_transcript_dup_text (transcript);
  self->greeting = envoi_smtp_transcript_dup_greeting (transcript);
  self->last_reply = envoi_smtp_transcript_dup_last_reply (transcript);
  self->capabilities = envoi_smtp_transcript_dup_capabilities (transcript);
  self->starttls_offered = envoi_smtp_transcript_get_starttls_offered (transcript);
  if (self->capabilities == NULL)
    self->capabilities = g_new0 (char *, 1);

  for (i = 0; self->capabilities[i] != NULL; i++)
    {
      const char *capability = self->capabilities[i];

      if (g_ascii_strncasecmp (capability, "AUTH ", 5) == 0
          || g_ascii_strncasecmp (capability, "AUTH=", 5) == 0)
        {
          g_auto(GStrv) words = g_strsplit (capability + 5, " ", -1);
          gsize j;

          for (j = 0; words[j] != NULL; j++)
            if (*words[j] != '\0'
                && !g_ptr_array_find_with_equal_func (mechanisms, words[j], g_str_equal, NULL))
              g_ptr_array_add (mechanisms, g_strdup (words[j]));
        }
      else if (g_ascii_strncasecmp (capability, "SIZE ", 5) == 0)
        self->size_limit = g_ascii_strtoull (capability + 5, NULL, 10);
    }
  g_ptr_array_add (mechanisms, NULL);
  self->auth_mechanisms = (GStrv) g_ptr_array_free (g_steal_pointer (&mechanisms), FALSE);

  self->certificate_pin = g_strdup (certificate_pin);
  self->certificate_subject = g_strdup (certificate_subject);
  self->certificate_issuer = g_strdup (certificate_issuer);

  return self;
}

/* fuzz-smtp-reply.c: envoi_smtp_parse_reply() and envoi_smtp_classify_reply(), what a server says
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-common.h"
#include "envoi-smtp-error.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *reply = NULL;
  g_autofree char *status = NULL;
  g_autofree char *text = NULL;
  EnvoiSmtpStage stage;
  guint code = 0;

  fuzz_setup ();

  /* The first byte picks the stage the reply answers, the rest is the reply. */
  stage = size > 0 ? data[0] % (ENVOI_SMTP_STAGE_QUIT + 1) : ENVOI_SMTP_STAGE_GREETING;
  reply = size > 0 ? fuzz_dup_text (data + 1, size - 1) : g_strdup ("");

  if (envoi_smtp_parse_reply (reply, &code, &status, &text))
    {
      EnvoiSmtpError klass;
      g_autoptr(GError) error = NULL;
      g_autofree char *hint = NULL;

      FUZZ_CHECK (code >= 100 && code <= 999);
      FUZZ_CHECK (text != NULL && strchr (text, '\n') == NULL);
      FUZZ_CHECK (status == NULL || (g_ascii_isdigit (status[0]) && status[1] == '.'));

      klass = envoi_smtp_classify_reply (stage, code, status, text);
      FUZZ_CHECK (klass <= ENVOI_SMTP_ERROR_PROTOCOL);

      /* The texts a person reads about it. */
      error = g_error_new (ENVOI_SMTP_ERROR, klass, "%u %s", code, text);
      FUZZ_CHECK (envoi_smtp_error_get_title (error) != NULL);
      FUZZ_CHECK (envoi_smtp_error_get_explanation (error) != NULL);
      hint = envoi_smtp_error_dup_hint (error, NULL);
      (void) envoi_smtp_error_is_temporary (error);
      (void) envoi_smtp_error_should_pause_account (error);
    }

  /* The classifier also sees replies that did not parse, with whatever came with them. */
  (void) envoi_smtp_classify_reply (stage, size > 2 ? data[1] * 4 + data[2] % 4 : 0, NULL, reply);

  return 0;
}

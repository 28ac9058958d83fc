/* fuzz-validate-header-text.c: envoi_validate_header_text(), a display name or subject
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-common.h"
#include "envoi-validate.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize max_chars;
  gboolean ok;

  fuzz_setup ();

  /* The first byte picks the limit, the rest is the text. */
  max_chars = size > 0 ? data[0] : ENVOI_VALIDATE_MAX_NAME_CHARS;
  text = size > 0 ? fuzz_dup_text (data + 1, size - 1) : g_strdup ("");

  ok = envoi_validate_header_text (text, max_chars, &error);
  FUZZ_CHECK (ok == (error == NULL));
  if (ok)
    {
      /* Safe in a header: valid UTF-8, no line break, within the limit. */
      FUZZ_CHECK (g_utf8_validate (text, -1, NULL));
      FUZZ_CHECK (!fuzz_has_line_break (text));
      FUZZ_CHECK (max_chars == 0 || (gsize) g_utf8_strlen (text, -1) <= max_chars);
    }

  return 0;
}

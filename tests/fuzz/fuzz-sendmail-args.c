/* fuzz-sendmail-args.c: envoi_sendmail_parse_options(), the command line any program may pass
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is the arguments after argv[0], separated by NUL bytes.
 */

#include "fuzz-common.h"
#include "envoi-sendmail-options.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  EnvoiSendmailOptions options = { .mode = ENVOI_SENDMAIL_MODE_SEND, .recipients = recipients };
  g_autofree char *message = NULL;
  EnvoiSendmailParse result;
  size_t start = 0;

  fuzz_setup ();

  if (size > 4096)
    return 0;

  g_ptr_array_add (args, g_strdup ("envoi-sendmail"));
  for (size_t i = 0; i <= size; i++)
    {
      if (i == size || data[i] == '\0')
        {
          if (i > start || i < size)
            g_ptr_array_add (args, g_strndup ((const char *) data + start, i - start));
          start = i + 1;
        }
    }
  g_ptr_array_add (args, NULL);

  result = envoi_sendmail_parse_options (args->len - 1, (char **) args->pdata, &options, &message);
  FUZZ_CHECK (result <= ENVOI_SENDMAIL_PARSE_BAD_USAGE);
  FUZZ_CHECK (message == NULL || result == ENVOI_SENDMAIL_PARSE_BAD_USAGE);
  if (result != ENVOI_SENDMAIL_PARSE_OK)
    return 0;

  FUZZ_CHECK (options.mode <= ENVOI_SENDMAIL_MODE_HISTORY);
  /* Every recipient is one non-empty, trimmed item: the commas have been split off. */
  for (guint i = 0; i < recipients->len; i++)
    {
      const char *r = g_ptr_array_index (recipients, i);
      size_t len = strlen (r);

      FUZZ_CHECK (len > 0 && strchr (r, ',') == NULL);
      FUZZ_CHECK (!g_ascii_isspace (r[0]) && !g_ascii_isspace (r[len - 1]));
    }

  return 0;
}

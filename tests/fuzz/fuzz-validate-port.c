/* fuzz-validate-port.c: envoi_validate_port()
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-common.h"
#include "envoi-validate.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_dup_text (data, size);
  g_autoptr(GError) error = NULL;
  guint16 port = 0;
  gboolean ok;

  fuzz_setup ();

  ok = envoi_validate_port (text, &port, &error);
  FUZZ_CHECK (ok == (error == NULL));
  if (ok)
    {
      guint64 value = g_ascii_strtoull (text, NULL, 10);

      FUZZ_CHECK (port >= 1);
      FUZZ_CHECK (value == port);
    }

  return 0;
}

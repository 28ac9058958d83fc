/* fuzz-validate-address.c: envoi_validate_address(), one mailbox as typed
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
  g_autofree char *address = NULL;
  const char *at;

  fuzz_setup ();

  address = envoi_validate_address (text, &error);
  FUZZ_CHECK ((address == NULL) != (error == NULL));
  if (address == NULL)
    return 0;

  /* It becomes MAIL FROM:<…> and a header: one @, nothing that ends a command or a field. */
  FUZZ_CHECK (g_utf8_validate (address, -1, NULL));
  FUZZ_CHECK (strpbrk (address, " \t\r\n<>,;") == NULL);
  at = strchr (address, '@');
  FUZZ_CHECK (at != NULL && at != address && at[1] != '\0' && strchr (at + 1, '@') == NULL);

  {
    g_autofree char *again = envoi_validate_address (address, NULL);

    FUZZ_CHECK (again != NULL && g_str_equal (again, address));
  }

  return 0;
}

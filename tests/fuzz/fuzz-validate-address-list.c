/* fuzz-validate-address-list.c: envoi_validate_address_list(), recipients as typed (GMime)
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
  g_auto(GStrv) list = NULL;

  fuzz_setup ();

  list = envoi_validate_address_list (text, &error);
  FUZZ_CHECK ((list == NULL) != (error == NULL));
  if (list == NULL)
    return 0;

  /* Every item is an address that the single-address check accepts as it is. */
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autofree char *again = envoi_validate_address (list[i], NULL);

      FUZZ_CHECK (again != NULL && g_str_equal (again, list[i]));
    }

  return 0;
}

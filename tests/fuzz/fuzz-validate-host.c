/* fuzz-validate-host.c: envoi_validate_host(), the server name a person types
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
  g_autofree char *host = NULL;

  fuzz_setup ();

  host = envoi_validate_host (text, &error);
  FUZZ_CHECK ((host == NULL) != (error == NULL));
  if (host == NULL)
    return 0;

  /* It goes into a URL and an SMTP session: nothing that could split or extend either. */
  FUZZ_CHECK (*host != '\0');
  FUZZ_CHECK (g_str_is_ascii (host));
  FUZZ_CHECK (strpbrk (host, " \t\r\n/@?#[]") == NULL);
  FUZZ_CHECK (strchr (host, ':') == NULL || g_hostname_is_ip_address (host));

  /* What it accepts, it accepts again unchanged. */
  {
    g_autofree char *again = envoi_validate_host (host, NULL);

    FUZZ_CHECK (again != NULL && g_str_equal (again, host));
  }

  return 0;
}

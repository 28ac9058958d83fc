/* envoi-test-helpers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "envoi-test-helpers.h"

/* The session (tests/session.sh) must provide the variable: a missing one is a broken harness,
 * never a reason to skip. */
const char *
envoi_test_env (const char *variable)
{
  const char *value = g_getenv (variable);

  if (value == NULL || *value == '\0')
    g_error ("%s is not set: run the tests through tests/session.sh (make check)", variable);

  return value;
}

guint16
envoi_test_env_port (const char *variable)
{
  guint64 port = 0;

  if (!g_ascii_string_to_unsigned (envoi_test_env (variable), 10, 1, G_MAXUINT16, &port, NULL))
    g_error ("%s is not a port number", variable);

  return (guint16) port;
}

/* Pass as the callback with `&result` as user data, then envoi_test_wait (&result). */
void
envoi_test_async_result_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

GAsyncResult *
envoi_test_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

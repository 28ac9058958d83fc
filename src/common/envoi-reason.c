/* envoi-reason.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A reason (why a message waits or failed) carries a server's words or a setting's value: both
 * come from outside. Before it is stored in the spool, sent over D-Bus or the agent's channel
 * (GVariant strings must be UTF-8) or printed by `envoi-sendmail -bp` (one line per reason),
 * it goes through here.
 */

#include "config.h"

#include <string.h>

#include "envoi-reason.h"

static gboolean
needs_escape (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}

gboolean
envoi_reason_is_clean (const char *text)
{
  if (text == NULL)
    return TRUE;

  if (!g_utf8_validate (text, -1, NULL))
    return FALSE;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (needs_escape (g_utf8_get_char (p)))
        return FALSE;
    }

  return TRUE;
}

char *
envoi_reason_sanitize (const char *text)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (text == NULL)
    return NULL;

  if (envoi_reason_is_clean (text))
    return g_strdup (text);

  valid = g_utf8_make_valid (text, -1);
  out = g_string_sized_new (strlen (valid) + 16);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!needs_escape (c))
        g_string_append_unichar (out, c);
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x100)
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_printf (out, "\\u%04x", c);
    }

  return g_string_free (out, FALSE);
}

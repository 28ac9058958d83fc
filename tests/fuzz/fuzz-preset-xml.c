/* fuzz-preset-xml.c: envoi_preset_parse_bytes(), ISPDB clientConfig documents
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The same reader takes the built-in presets and documents fetched from a provider's
 * autoconfig server, so its input is outside input.
 */

#include "fuzz-common.h"
#include "envoi-preset-parser.h"

static void
exercise_server (EnvoiPresetServer *server)
{
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;

  (void) envoi_preset_server_get_service (server);
  FUZZ_CHECK (envoi_preset_server_get_hostname (server) != NULL);
  (void) envoi_preset_server_needs_host_part (server);
  FUZZ_CHECK (envoi_preset_server_get_port (server) >= 1);
  (void) envoi_preset_server_get_security (server);
  (void) envoi_preset_server_get_auth_method (server);
  (void) envoi_preset_server_get_pop_before_smtp (server);
  (void) envoi_preset_server_get_pinned (server);
  (void) envoi_preset_server_get_username_rule (server);
  (void) envoi_preset_server_get_username (server);

  host = envoi_preset_server_dup_hostname_for (server, "person@example.org", "part", NULL);
  user = envoi_preset_server_dup_username_for (server, "person@example.org", NULL);
  /* Whatever the document says, the expanded host name never carries a line break. */
  FUZZ_CHECK (host == NULL || !fuzz_has_line_break (host));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) presets = NULL;

  fuzz_setup ();

  presets = envoi_preset_parse_bytes (bytes, NULL, &error);
  FUZZ_CHECK ((presets == NULL) != (error == NULL));
  if (presets == NULL)
    return 0;

  for (guint i = 0; i < presets->len; i++)
    {
      EnvoiPreset *preset = g_ptr_array_index (presets, i);
      const char * const *domains;
      GPtrArray *servers;
      g_autoptr(GPtrArray) ranked = NULL;

      FUZZ_CHECK (envoi_preset_get_id (preset) != NULL);
      (void) envoi_preset_get_display_name (preset);
      (void) envoi_preset_get_short_name (preset);
      domains = envoi_preset_get_domains (preset);
      if (domains != NULL && domains[0] != NULL)
        FUZZ_CHECK (envoi_preset_has_domain (preset, domains[0]));
      (void) envoi_preset_get_category (preset);
      (void) envoi_preset_get_documentation_url (preset);
      (void) envoi_preset_get_documentation_description (preset);
      (void) envoi_preset_get_note (preset);
      (void) envoi_preset_get_password_hint (preset);
      (void) envoi_preset_get_username_hint (preset);
      (void) envoi_preset_get_unverified (preset);
      (void) envoi_preset_get_problems (preset);

      servers = envoi_preset_get_outgoing_servers (preset);
      for (guint j = 0; servers != NULL && j < servers->len; j++)
        exercise_server (g_ptr_array_index (servers, j));
      if (envoi_preset_get_outgoing_server (preset) != NULL)
        exercise_server (envoi_preset_get_outgoing_server (preset));
      servers = envoi_preset_get_incoming_servers (preset);
      for (guint j = 0; servers != NULL && j < servers->len; j++)
        exercise_server (g_ptr_array_index (servers, j));

      if (envoi_preset_get_outgoing_servers (preset) != NULL)
        ranked = envoi_preset_rank_servers (envoi_preset_get_outgoing_servers (preset));
    }

  return 0;
}

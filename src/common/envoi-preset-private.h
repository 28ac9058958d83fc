/* envoi-preset-private.h: the preset's fields, which its reader (envoi-preset-parser.c) fills
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "envoi-preset.h"

G_BEGIN_DECLS

struct _EnvoiPresetServer
{
  EnvoiService       service;
  char              *hostname;
  guint16            port;
  EnvoiSecurity      security;
  GArray            *auth_methods;   /* EnvoiAuthMethod, document order, no duplicates */
  char              *username;       /* as written; NULL for ASK and TOKEN */
  EnvoiUsernameRule  username_rule;
  guint              pop_before_smtp : 1;
  guint              pinned : 1;

  /* Only while parsing. */
  guint              has_port : 1;
  guint              has_security : 1;
  guint              has_template : 1;
  guint              has_username : 1;
  guint              rule_token : 1;
  guint              rule_ask : 1;
};

struct _EnvoiPreset
{
  GObject              parent_instance;

  char                *id;
  char                *display_name;
  char                *short_name;
  GPtrArray           *domains;           /* char*, lower case, NULL-terminated */
  EnvoiPresetCategory  category;
  GPtrArray           *outgoing;          /* EnvoiPresetServer */
  GPtrArray           *incoming;          /* EnvoiPresetServer */
  char                *documentation_url;
  char                *documentation_description;
  char                *note;
  char                *password_hint;
  char                *username_hint;
  GPtrArray           *problems;          /* GError: servers and fields that were skipped */
  const char          *translation_domain; /* interned, or NULL */
  guint                unverified : 1;
  guint                description_is_en : 1;
};

EnvoiPresetServer *_envoi_preset_server_new           (EnvoiService  service);
gboolean           _envoi_preset_has_control_or_space (const char   *text);

G_END_DECLS

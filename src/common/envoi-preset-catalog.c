/* envoi-preset-catalog.c: the provider presets built into Envoi
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-presets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "envoi-preset-parser.h"
#include "envoi-preset-catalog.h"
#include "envoi-providers-resources.h"

/* The presets are data: one clientConfig file per preset in data/providers/, compiled into the
 * binary as a GResource and read once, on first use.
 *
 * Their texts (display names, notes, hints) stay English in the XML; the getters of
 * EnvoiPreset pass them through gettext. For xgettext to see them, each is listed below with
 * N_(), and test-presets fails if a built-in preset has a text this list lacks. */
static const char * const translatable_strings[] = {
  /* Translators: the names of mail providers and the advice shown with each. Keep brand names
   * (Gmail, Outlook.com, SendGrid, …) as the brand writes them in your language. */
  N_("Gmail / Google Workspace"),
  N_("Gmail"),
  N_("SMTP settings on the provider’s help site"),
  N_("Google requires 2-Step Verification and an app password for mail apps (or an OAuth 2 "
     "token): your usual Google password is refused."),
  N_("An app password (16 letters) from your Google Account"),
  N_("Outlook.com"),
  N_("Outlook"),
  N_("Microsoft is retiring password sign-in for mail apps: an OAuth 2 token is preferred. The"
     " reply “550 5.7.30” means password sign-in is no longer accepted for this account."),
  N_("Microsoft 365"),
  N_("SMTP AUTH must be enabled for your organization by its administrator: the reply “535 "
     "5.7.139” means it is not."),
  N_("Yahoo Mail"),
  N_("Yahoo"),
  N_("Yahoo requires an app password, generated in the security settings of your Yahoo account."),
  N_("An app password from your Yahoo account"),
  N_("Yahoo! JAPAN Mail"),
  N_("Yahoo! JAPAN"),
  N_("The user name is your Yahoo! JAPAN ID. Access from mail apps may have to be enabled in "
     "the Yahoo! JAPAN mail settings first. These settings could not be confirmed: check the "
     "provider’s help page."),
  N_("iCloud Mail"),
  N_("iCloud"),
  N_("Apple requires an app-specific password, created in the sign-in and security settings of"
     " your Apple Account."),
  N_("An app-specific password from your Apple Account"),
  N_("Fastmail"),
  N_("Fastmail requires an app password; the user name is your Fastmail login."),
  N_("An app password from the Fastmail settings"),
  N_("GMX (gmx.net, gmx.de)"),
  N_("GMX"),
  N_("Enable POP3 and IMAP access in the GMX web settings first, or the server refuses to sign in."),
  N_("GMX (gmx.com)"),
  N_("OVHcloud (MX Plan)"),
  N_("OVHcloud"),
  N_("Gandi"),
  N_("Zoho Mail (EU)"),
  N_("Zoho"),
  N_("Zoho requires an app-specific password when two-factor authentication is on."),
  N_("An app-specific password if two-factor authentication is on"),
  N_("Zoho Mail (global)"),
  N_("Zoho requires an app-specific password when two-factor authentication is on. Accounts on"
     " your own domain may have to use smtppro.zoho.com instead: check the provider’s help "
     "page."),
  N_("Infomaniak"),
  N_("Proton Mail (Bridge)"),
  N_("Proton Mail"),
  N_("Proton Mail Bridge must be installed and running: it generates the password to use here."
     " Its certificate is self-signed, so trust that one certificate by its fingerprint "
     "instead of turning verification off."),
  N_("The password shown by Proton Mail Bridge, not your Proton password"),
  N_("Orange"),
  N_("Free"),
  N_("La Poste"),
  N_("These settings could not be confirmed: check the provider’s help page."),
  N_("SFR"),
  N_("Sakura Mailbox"),
  N_("Sakura"),
  N_("Type your initial domain: the first part of the example.sakura.ne.jp name given with "
     "your contract. These settings could not be confirmed: check the provider’s help page."),
  N_("Onamae Mail"),
  N_("Onamae"),
  N_("The server’s certificate names the provider’s host, not your domain: expect a "
     "certificate name mismatch unless you use the server name shown in your Onamae control "
     "panel."),
  N_("SendGrid"),
  N_("The user name is the word “apikey”; the password is an API key with the Mail Send "
     "permission."),
  N_("An API key with the Mail Send permission"),
  N_("Mailgun (US)"),
  N_("Mailgun"),
  N_("Use the SMTP login and password of your sending domain, not the API key."),
  N_("The SMTP password of the domain, not the API key"),
  N_("The SMTP login of the domain, such as postmaster@mg.example.com"),
  N_("Mailgun (EU)"),
  N_("Amazon SES (US East, N. Virginia)"),
  N_("Amazon SES"),
  N_("Use SES SMTP credentials created for this region, not your AWS access keys. The sending "
     "address or its domain must be verified in SES."),
  N_("The SES SMTP password for this region, not the AWS secret access key"),
  N_("The SES SMTP user name for this region"),
  N_("Amazon SES (US East, Ohio)"),
  N_("Amazon SES (US West, N. California)"),
  N_("Amazon SES (US West, Oregon)"),
  N_("Amazon SES (Canada, Central)"),
  N_("Amazon SES (South America, São Paulo)"),
  N_("Amazon SES (Europe, Ireland)"),
  N_("Amazon SES (Europe, London)"),
  N_("Amazon SES (Europe, Paris)"),
  N_("Amazon SES (Europe, Frankfurt)"),
  N_("Amazon SES (Europe, Stockholm)"),
  N_("Amazon SES (Asia Pacific, Tokyo)"),
  N_("Amazon SES (Asia Pacific, Seoul)"),
  N_("Amazon SES (Asia Pacific, Mumbai)"),
  N_("Amazon SES (Asia Pacific, Singapore)"),
  N_("Amazon SES (Asia Pacific, Sydney)"),
  N_("Amazon SES (other region)"),
  N_("Type the AWS region, for example eu-west-3. Use SES SMTP credentials created for that "
     "region, not your AWS access keys."),
  N_("The SES SMTP password for that region, not the AWS secret access key"),
  N_("The SES SMTP user name for that region"),
  N_("Postmark"),
  N_("Enter your server API token as the password: Envoi also uses it as the user name, so it is kept only in the keyring."),
  N_("The server API token"),
  N_("Resend"),
  N_("The user name is the word “resend”; the password is an API key."),
  N_("An API key"),
  N_("Brevo"),
  N_("Use the SMTP login shown in the Brevo dashboard and an SMTP key, not the API key."),
  N_("An SMTP key, not the API key"),
  N_("The SMTP login shown in the Brevo dashboard"),
  NULL
};

static int
compare_presets (gconstpointer a,
                 gconstpointer b)
{
  EnvoiPreset *preset_a = *(EnvoiPreset **) a;
  EnvoiPreset *preset_b = *(EnvoiPreset **) b;
  EnvoiPresetCategory category_a = envoi_preset_get_category (preset_a);
  EnvoiPresetCategory category_b = envoi_preset_get_category (preset_b);
  int cmp;

  /* Mailbox providers first, then sending services; each by their name as shown. */
  if (category_a != category_b)
    return category_a == ENVOI_PRESET_CATEGORY_MAILBOX ? -1 : 1;

  cmp = g_utf8_collate (envoi_preset_get_display_name (preset_a),
                        envoi_preset_get_display_name (preset_b));
  if (cmp != 0)
    return cmp;

  return strcmp (envoi_preset_get_id (preset_a), envoi_preset_get_id (preset_b));
}

static GPtrArray *
load_builtin (void)
{
  g_autoptr(GPtrArray) presets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) names = NULL;
  GResource *resource = envoi_providers_get_resource ();

  names = g_resource_enumerate_children (resource, ENVOI_PRESET_CATALOG_RESOURCE_PATH,
                                         G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (names == NULL)
    {
      g_critical ("No provider presets in the resource: %s", error->message);
      return g_steal_pointer (&presets);
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_strconcat (ENVOI_PRESET_CATALOG_RESOURCE_PATH, names[i], NULL);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GPtrArray) parsed = NULL;

      if (!g_str_has_suffix (names[i], ".xml"))
        continue;

      bytes = g_resource_lookup_data (resource, path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (bytes != NULL)
        parsed = envoi_preset_parse_bytes (bytes, GETTEXT_PACKAGE, &error);

      /* A broken built-in file is a bug of ours, which test-presets catches. */
      if (parsed == NULL)
        {
          g_critical ("Provider preset %s: %s", names[i], error->message);
          g_clear_error (&error);
          continue;
        }

      for (guint j = 0; j < parsed->len; j++)
        {
          EnvoiPreset *preset = g_ptr_array_index (parsed, j);

          if (!g_hash_table_add (ids, (gpointer) envoi_preset_get_id (preset)))
            {
              g_critical ("Provider preset %s: the id %s is used twice",
                          names[i], envoi_preset_get_id (preset));
              continue;
            }
          g_ptr_array_add (presets, g_object_ref (preset));
        }
    }

  g_ptr_array_sort (presets, compare_presets);

  return g_steal_pointer (&presets);
}

/**
 * envoi_preset_catalog_get_builtin:
 *
 * The presets are read on first use, sorted for the chosen language: mailbox providers first,
 * then sending services, each by display name. "Custom" is not a preset: the UI adds it.
 *
 * Returns: (transfer none): a #GListModel of #EnvoiPreset, the same one every time
 */
GListModel *
envoi_preset_catalog_get_builtin (void)
{
  static GListStore *builtin;

  if (g_once_init_enter (&builtin))
    {
      g_autoptr(GPtrArray) presets = load_builtin ();
      GListStore *store = g_list_store_new (ENVOI_TYPE_PRESET);

      g_list_store_splice (store, 0, 0, presets->pdata, presets->len);
      g_once_init_leave (&builtin, store);
    }

  return G_LIST_MODEL (builtin);
}

/* Returns: (transfer none) (nullable): the built-in preset called @id */
EnvoiPreset *
envoi_preset_catalog_lookup_id (const char *id)
{
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  guint n_items = g_list_model_get_n_items (presets);

  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);

      if (g_str_equal (envoi_preset_get_id (preset), id))
        return preset;
    }

  return NULL;
}

/* @domain: a mail domain, in any case, such as "gmail.com"
 *
 * Returns: (transfer none) (nullable): the built-in preset that serves @domain */
EnvoiPreset *
envoi_preset_catalog_lookup_domain (const char *domain)
{
  GListModel *presets = envoi_preset_catalog_get_builtin ();
  guint n_items = g_list_model_get_n_items (presets);

  g_return_val_if_fail (domain != NULL, NULL);

  if (*domain == '\0')
    return NULL;

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);

      if (envoi_preset_has_domain (preset, domain))
        return preset;
    }

  return NULL;
}

/* Returns: (transfer none) (nullable): the built-in preset for the domain of @address */
EnvoiPreset *
envoi_preset_catalog_lookup_address (const char *address)
{
  const char *at;

  g_return_val_if_fail (address != NULL, NULL);

  at = strrchr (address, '@');
  if (at == NULL || at == address)
    return NULL;

  return envoi_preset_catalog_lookup_domain (at + 1);
}

/* Returns: (transfer none): the untranslated texts, NULL-terminated */
const char * const *
envoi_preset_catalog_get_translatable_strings (void)
{
  return translatable_strings;
}

/**
 * envoi_preset_catalog_get_login:
 * @account: an account
 * @secret: (nullable): its password or token
 *
 * The name to log in with. Services such as Postmark take one token as both user name and
 * password: for an account made from such a preset, the user name stays empty in the settings
 * (a token is a secret, and settings are not) and the token is used for both here.
 *
 * Returns: (transfer none): the login, pointing into @account or @secret
 */
const char *
envoi_preset_catalog_get_login (EnvoiAccount *account,
                                const char   *secret)
{
  EnvoiPreset *preset;

  g_return_val_if_fail (ENVOI_IS_ACCOUNT (account), NULL);

  if (*envoi_account_get_username (account) == '\0' && secret != NULL && *secret != '\0' &&
      (preset = envoi_preset_catalog_lookup_id (envoi_account_get_provider (account))) != NULL &&
      envoi_preset_server_get_username_rule (envoi_preset_get_outgoing_server (preset)) ==
        ENVOI_USERNAME_RULE_TOKEN)
    return secret;

  return envoi_account_get_login (account);
}

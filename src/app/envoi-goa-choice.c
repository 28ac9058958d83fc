/* envoi-goa-choice.c: the accounts of GNOME Online Accounts in the dialog's Provider choice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The online accounts come last in the Provider list, after Custom and the presets, so that
 * their late arrival (GOA is asked when the dialog opens) moves nothing the person may have
 * chosen already. Each item says that it is an online account. The account being edited,
 * if it signs in through GOA, has its item from the start; once GOA answers the item names
 * the account as GOA does, or stays as saved when GOA no longer has it.
 */

#define G_LOG_DOMAIN "envoi-goa-choice"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-goa-choice.h"

struct _EnvoiGoaChoice
{
  GObject         parent_instance;

  AdwComboRow    *row;
  GtkStringList  *model;
  guint           first;         /* the position of the first online account */
  GPtrArray      *accounts;      /* EnvoiGoaAccount or NULL (saved, not found), by position - first */
  char           *saved_id;      /* the GOA account id of the account being edited */
  char           *saved_address;
  gboolean        listing;
  gboolean        updating;
};

G_DEFINE_FINAL_TYPE (EnvoiGoaChoice, envoi_goa_choice, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *
dup_label (const char *provider_name,
           const char *identity)
{
  if (provider_name == NULL || *provider_name == '\0')
    /* Translators: an item of the Provider list: %s is the online account, such as
     * alice@gmail.com, of Settings → Online Accounts */
    return g_strdup_printf (_("%s (Online Accounts)"), identity);

  /* Translators: an item of the Provider list: the first %s is the kind of online account as
   * GNOME Online Accounts names it (Google, Microsoft 365, IMAP and SMTP…), the second the
   * account, such as alice@gmail.com */
  return g_strdup_printf (_("%s — %s (Online Accounts)"), provider_name, identity);
}

/* Replaces or appends the item at @index (counted from the first online account), keeping
 * the row's choice where it was. */
static void
set_item (EnvoiGoaChoice  *self,
          guint            index,
          EnvoiGoaAccount *account,
          const char      *label)
{
  const char *labels[] = { label, NULL };
  guint selected = adw_combo_row_get_selected (self->row);
  gboolean replace = index < self->accounts->len;

  self->updating = TRUE;
  if (replace)
    {
      g_clear_pointer (&g_ptr_array_index (self->accounts, index), envoi_goa_account_unref);
      g_ptr_array_index (self->accounts, index) = account != NULL ? envoi_goa_account_ref (account) : NULL;
    }
  else
    g_ptr_array_add (self->accounts, account != NULL ? envoi_goa_account_ref (account) : NULL);
  gtk_string_list_splice (self->model, self->first + index, replace ? 1 : 0, labels);
  if (adw_combo_row_get_selected (self->row) != selected)
    adw_combo_row_set_selected (self->row, selected);
  self->updating = FALSE;
}

static void
list_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(EnvoiGoaChoice) self = user_data;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;

  accounts = envoi_goa_list_accounts_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->listing = FALSE;

  /* Nothing to offer is no news: the online accounts are simply not among the choices. */
  if (accounts == NULL)
    g_debug ("No online accounts: %s", error->message);

  for (guint i = 0; accounts != NULL && i < accounts->len; i++)
    {
      EnvoiGoaAccount *account = g_ptr_array_index (accounts, i);
      g_autofree char *label = dup_label (account->provider_name, account->presentation_identity);

      if (g_strcmp0 (account->id, self->saved_id) == 0)
        set_item (self, 0, account, label);
      else
        set_item (self, self->accounts->len, account, label);
    }

  g_signal_emit (self, signals[CHANGED], 0);
}

static void
envoi_goa_choice_finalize (GObject *object)
{
  EnvoiGoaChoice *self = ENVOI_GOA_CHOICE (object);

  g_clear_object (&self->row);
  g_clear_object (&self->model);
  g_clear_pointer (&self->accounts, g_ptr_array_unref);
  g_free (self->saved_id);
  g_free (self->saved_address);

  G_OBJECT_CLASS (envoi_goa_choice_parent_class)->finalize (object);
}

static void
envoi_goa_choice_class_init (EnvoiGoaChoiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = envoi_goa_choice_finalize;

  /* The online accounts have arrived (or GOA said it has none). */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
goa_account_unref0 (gpointer account)
{
  if (account != NULL)
    envoi_goa_account_unref (account);
}

static void
envoi_goa_choice_init (EnvoiGoaChoice *self)
{
  self->accounts = g_ptr_array_new_with_free_func (goa_account_unref0);
}

EnvoiGoaChoice *
envoi_goa_choice_new (AdwComboRow   *row,
                      GtkStringList *model)
{
  EnvoiGoaChoice *self;

  g_return_val_if_fail (ADW_IS_COMBO_ROW (row), NULL);
  g_return_val_if_fail (GTK_IS_STRING_LIST (model), NULL);

  self = g_object_new (ENVOI_TYPE_GOA_CHOICE, NULL);
  self->row = g_object_ref (row);
  self->model = g_object_ref (model);
  self->first = g_list_model_get_n_items (G_LIST_MODEL (model));

  return self;
}

/* The account being edited signs in through GOA: its item, before GOA answers. Returns the
 * item's position. */
guint
envoi_goa_choice_add_saved (EnvoiGoaChoice *self,
                            const char     *goa_account_id,
                            const char     *address)
{
  g_autofree char *label = NULL;

  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), GTK_INVALID_LIST_POSITION);
  g_return_val_if_fail (goa_account_id != NULL, GTK_INVALID_LIST_POSITION);
  g_return_val_if_fail (self->accounts->len == 0, GTK_INVALID_LIST_POSITION);

  self->saved_id = g_strdup (goa_account_id);
  self->saved_address = g_strdup (address != NULL && *address != '\0' ? address : goa_account_id);
  label = dup_label (NULL, self->saved_address);
  set_item (self, 0, NULL, label);

  return self->first;
}

/* Asks GOA for its mail accounts; "changed" says when they are in the list. */
void
envoi_goa_choice_list (EnvoiGoaChoice *self,
                       GCancellable   *cancellable)
{
  g_return_if_fail (ENVOI_IS_GOA_CHOICE (self));

  self->listing = TRUE;
  envoi_goa_list_accounts_async (NULL, cancellable, list_cb, g_object_ref (self));
}

gboolean
envoi_goa_choice_is_listing (EnvoiGoaChoice *self)
{
  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), FALSE);

  return self->listing;
}

/* Items are being changed: the row's choice moves for a moment, the person chose nothing. */
gboolean
envoi_goa_choice_is_updating (EnvoiGoaChoice *self)
{
  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), FALSE);

  return self->updating;
}

gboolean
envoi_goa_choice_contains (EnvoiGoaChoice *self,
                           guint           position)
{
  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), FALSE);

  return position != GTK_INVALID_LIST_POSITION && position >= self->first &&
         position - self->first < self->accounts->len;
}

/* The online account at @position, or NULL: not an online account, or the saved one that
 * GOA does not have (or has not named yet). */
EnvoiGoaAccount *
envoi_goa_choice_get_account (EnvoiGoaChoice *self,
                              guint           position)
{
  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), NULL);

  if (!envoi_goa_choice_contains (self, position))
    return NULL;

  return g_ptr_array_index (self->accounts, position - self->first);
}

/* Whether the account chosen at @position signs in through GOA (OAuth 2): no password. */
gboolean
envoi_goa_choice_signs_in (EnvoiGoaChoice *self,
                           guint           position)
{
  EnvoiGoaAccount *account;

  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), FALSE);

  if (!envoi_goa_choice_contains (self, position))
    return FALSE;

  account = envoi_goa_choice_get_account (self, position);
  return account != NULL ? account->oauth2 : TRUE;
}

/* The account's `provider` key for the choice at @position: "goa:<id>" when it signs in
 * through GOA, "" for a password account copied from GOA, NULL when @position is not an
 * online account. */
char *
envoi_goa_choice_dup_provider (EnvoiGoaChoice *self,
                               guint           position)
{
  EnvoiGoaAccount *account;

  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), NULL);

  if (!envoi_goa_choice_contains (self, position))
    return NULL;

  account = envoi_goa_choice_get_account (self, position);
  if (account == NULL)
    return g_strconcat (ENVOI_GOA_PROVIDER_PREFIX, self->saved_id, NULL);
  if (account->oauth2)
    return g_strconcat (ENVOI_GOA_PROVIDER_PREFIX, account->id, NULL);
  return g_strdup ("");
}

/* Once GOA has answered: the address of the edited account whose online account GOA does
 * not have, or NULL. */
const char *
envoi_goa_choice_get_missing_address (EnvoiGoaChoice *self)
{
  g_return_val_if_fail (ENVOI_IS_GOA_CHOICE (self), NULL);

  if (self->listing || self->saved_id == NULL || self->accounts->len == 0 ||
      g_ptr_array_index (self->accounts, 0) != NULL)
    return NULL;

  return self->saved_address;
}

/* envoi-msmtp-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "envoi-msmtp-transfer"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>

#include "envoi-msmtp.h"
#include "envoi-msmtp-transfer.h"

/* Import: choose the file (msmtp's own by default), read it off the main thread, then import
 * its accounts one after the other and tell what came over and what did not. */

typedef struct
{
  GtkWindow         *parent;
  EnvoiAccountStore *store;
  GCancellable      *cancellable;
  EnvoiMsmtpConfig  *config;
  guint              next;
  guint              imported;
  GString           *report;
} Import;

static void
import_free (Import *import)
{
  g_clear_object (&import->parent);
  g_clear_object (&import->store);
  g_clear_object (&import->cancellable);
  g_clear_object (&import->config);
  if (import->report != NULL)
    g_string_free (import->report, TRUE);
  g_free (import);
}

static void
append_warnings (GString            *report,
                 const char * const *warnings)
{
  for (guint i = 0; warnings != NULL && warnings[i] != NULL; i++)
    g_string_append_printf (report, "• %s\n", warnings[i]);
}

static void
show_report (Import     *import,
             const char *heading)
{
  GtkWidget *dialog = adw_message_dialog_new (import->parent, heading, NULL);

  g_strchomp (import->report->str);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), import->report->str);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void import_next (Import *import);

static void
import_account_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Import *import = user_data;
  g_autoptr(EnvoiAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  gboolean password = FALSE;
  guint index = import->next - 1;
  const char *name = envoi_msmtp_config_get_account_name (import->config, index);

  account = envoi_msmtp_config_import_finish (import->config, result, &password, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      import_free (import);
      return;
    }

  if (account != NULL)
    import->imported++;

  if (error != NULL)
    /* Translators: the first %s is an msmtp account name, the second what went wrong */
    g_string_append_printf (import->report, _("“%s”: %s\n"), name, error->message);
  else if (!password)
    /* Translators: %s is an msmtp account name */
    g_string_append_printf (import->report,
                            _("“%s”: no password was found; type it in the account’s settings.\n"),
                            name);

  append_warnings (import->report,
                   envoi_msmtp_config_get_account_warnings (import->config, index));
  import_next (import);
}

static void
import_next (Import *import)
{
  g_autofree char *heading = NULL;

  if (import->next < envoi_msmtp_config_get_n_accounts (import->config))
    {
      envoi_msmtp_config_import_async (import->config, import->next++, import->store,
                                       import->cancellable, import_account_cb, import);
      return;
    }

  heading = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u Account Imported", "%u Accounts Imported",
                                          import->imported),
                             import->imported);
  if (import->report->len == 0)
    g_string_append (import->report, _("Every setting came over."));
  show_report (import, heading);
  import_free (import);
}

static void
load_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Import *import = user_data;
  g_autoptr(GError) error = NULL;

  import->config = envoi_msmtp_config_load_finish (result, &error);
  if (import->config == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_string_append (import->report, error->message);
          show_report (import, _("Nothing Imported"));
        }
      import_free (import);
      return;
    }

  append_warnings (import->report, envoi_msmtp_config_get_warnings (import->config));
  if (envoi_msmtp_config_get_n_accounts (import->config) == 0)
    {
      g_string_append (import->report, _("The file has no account."));
      show_report (import, _("Nothing Imported"));
      import_free (import);
      return;
    }

  import_next (import);
}

/* Imports every account of @file, then reports in a dialog over @parent. */
void
envoi_msmtp_transfer_import_file (GtkWindow         *parent,
                                  EnvoiAccountStore *store,
                                  GFile             *file,
                                  GCancellable      *cancellable)
{
  Import *import;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));
  g_return_if_fail (G_IS_FILE (file));

  import = g_new0 (Import, 1);
  import->parent = g_object_ref (parent);
  import->store = g_object_ref (store);
  import->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  import->report = g_string_new (NULL);

  envoi_msmtp_config_load_async (file, import->cancellable, load_cb, import);
}

typedef struct
{
  GtkWindow         *parent;
  EnvoiAccountStore *store;
  EnvoiAccount      *account;
  GCancellable      *cancellable;
} Choice;

static void
choice_free (Choice *choice)
{
  g_clear_object (&choice->parent);
  g_clear_object (&choice->store);
  g_clear_object (&choice->account);
  g_clear_object (&choice->cancellable);
  g_free (choice);
}

static Choice *
choice_new (GtkWindow         *parent,
            EnvoiAccountStore *store,
            EnvoiAccount      *account,
            GCancellable      *cancellable)
{
  Choice *choice = g_new0 (Choice, 1);

  choice->parent = g_object_ref (parent);
  choice->store = store != NULL ? g_object_ref (store) : NULL;
  choice->account = account != NULL ? envoi_account_copy (account) : NULL;
  choice->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  return choice;
}

static void
import_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    Choice          *choice)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);

  if (file != NULL)
    envoi_msmtp_transfer_import_file (choice->parent, choice->store, file, choice->cancellable);
  choice_free (choice);
}

void
envoi_msmtp_transfer_import (GtkWindow         *parent,
                             EnvoiAccountStore *store,
                             GCancellable      *cancellable)
{
  g_autoptr(GFile) initial = envoi_msmtp_find_user_config ();
  GtkFileChooserNative *chooser;

  g_return_if_fail (ENVOI_IS_ACCOUNT_STORE (store));

  chooser = gtk_file_chooser_native_new (_("Import from msmtp"), parent,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (initial != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), initial, NULL);
  g_signal_connect (chooser, "response", G_CALLBACK (import_response_cb),
                    choice_new (parent, store, NULL, cancellable));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Export: the file holds no password (msmtp finds Envoi's keyring item), and is written off the
 * main thread, readable by its owner only. */

static void
export_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  EnvoiAccount *account = g_object_get_data (G_OBJECT (task), "account");
  GError *error = NULL;

  if (envoi_msmtp_export_to_file (account, G_FILE (task_data), cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GtkWindow) parent = user_data;
  g_autoptr(GError) error = NULL;
  GFile *file = g_task_get_task_data (G_TASK (result));
  g_autofree char *name = g_file_get_parse_name (file);
  GtkWidget *dialog;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      dialog = adw_message_dialog_new (parent, _("Exported for msmtp"), NULL);
      /* Translators: %s is a file name */
      adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                      _("%s holds no password: msmtp reads it from the keyring, "
                                        "where Envoi keeps it."), name);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      dialog = adw_message_dialog_new (parent, _("Could Not Export"), error->message);
    }
  else
    {
      return;
    }

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Writes @account's msmtp section to @file, then reports in a dialog over @parent. */
void
envoi_msmtp_transfer_export_file (GtkWindow    *parent,
                                  EnvoiAccount *account,
                                  GFile        *file,
                                  GCancellable *cancellable)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (ENVOI_IS_ACCOUNT (account));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (NULL, cancellable, export_cb, g_object_ref (parent));
  g_object_set_data_full (G_OBJECT (task), "account", envoi_account_copy (account),
                          g_object_unref);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, export_thread);
}

static void
export_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    Choice          *choice)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);

  if (file != NULL)
    envoi_msmtp_transfer_export_file (choice->parent, choice->account, file, choice->cancellable);
  choice_free (choice);
}

void
envoi_msmtp_transfer_export (GtkWindow    *parent,
                             EnvoiAccount *account,
                             GCancellable *cancellable)
{
  g_autofree char *suggested = NULL;
  GtkFileChooserNative *chooser;

  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  chooser = gtk_file_chooser_native_new (_("Export for msmtp"), parent,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  suggested = g_strdup_printf ("msmtprc-%s", envoi_account_get_id (account));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb),
                    choice_new (parent, NULL, account, cancellable));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

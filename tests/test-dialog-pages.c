/* test-dialog-pages.c: every page of the account editor fits its window at the default size,
 * in the language the test runs in (tests/meson.build runs it in English, Japanese and French)
 *
 * The dialog is realized under the session's Xvfb at its default size; each page is shown in
 * turn and the natural height of its content, at the width it has, is compared with the height
 * the page is given. A page that would need scrolling fails the test.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n-lib.h>
#include <locale.h>

#include "envoi-account-dialog.h"
#include "envoi-incoming-group.h"
#include "envoi-preset.h"
#include "envoi-preset-catalog.h"
#include "envoi-test-gui.h"
#include "envoi-test-helpers.h"
#include "envoi-transport-group.h"

static EnvoiAccountStore *store;

static GObject *
child (gpointer    dialog,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (dialog),
                                                   ENVOI_TYPE_ACCOUNT_DIALOG, name);

  g_assert_nonnull (object);
  return object;
}

static GObject *
incoming_child (gpointer    dialog,
                const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (child (dialog, "incoming_group")),
                                                   ENVOI_TYPE_INCOMING_GROUP, name);

  g_assert_nonnull (object);
  return object;
}

static void
type (gpointer    dialog,
      const char *row,
      const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (child (dialog, row)), text);
}

static void
wait_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static GtkWidget *
find_scrolled_window (GtkWidget *widget)
{
  if (GTK_IS_SCROLLED_WINDOW (widget))
    return widget;

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_scrolled_window (c);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* The states a person meets: an empty new account; a preset chosen (its note under the
 * Provider row, the saved-password hint); both mailbox servers in use (every row shown). */
static void
fill (gpointer    dialog,
      const char *state)
{
  if (g_str_equal (state, "new"))
    return;

  type (dialog, "address_row", "jean.dupont@gmail.com");
  type (dialog, "name_row", "Jean Dupont");
  type (dialog, "reply_to_row", "jean@example.fr");
  type (dialog, "password_row", "abcd efgh ijkl mnop");
  envoi_test_type_in_delivery (dialog, "bcc_row", "archive@example.fr");
  envoi_test_type_in_delivery (dialog, "notify_row", "ops@example.fr");

  if (g_str_equal (state, "mailgun"))
    {
      GObject *transport = child (dialog, "transport_group");

      adw_combo_row_set_selected (ADW_COMBO_ROW (gtk_widget_get_template_child (GTK_WIDGET (transport),
                                                                                ENVOI_TYPE_TRANSPORT_GROUP,
                                                                                "transport_row")),
                                  ENVOI_TRANSPORT_HTTP_MAILGUN);
    }
  else if (g_str_equal (state, "preset"))
    {
      GListModel *presets = envoi_preset_catalog_get_builtin ();

      for (guint i = 0; i < g_list_model_get_n_items (presets); i++)
        {
          g_autoptr(EnvoiPreset) preset = g_list_model_get_item (presets, i);

          if (g_str_equal (envoi_preset_get_id (preset), "gmail"))
            adw_combo_row_set_selected (ADW_COMBO_ROW (child (dialog, "provider_row")), i + 1);
        }
    }
  else
    {
      type (dialog, "host_row", "smtp.example.fr");
      type (dialog, "port_row", "587");
      if (strstr (state, "pop") != NULL)
        {
          gtk_switch_set_active (GTK_SWITCH (incoming_child (dialog, "pop_switch")), TRUE);
          gtk_editable_set_text (GTK_EDITABLE (incoming_child (dialog, "pop_host_row")), "pop.example.fr");
        }
      if (strstr (state, "imap") != NULL)
        {
          gtk_editable_set_text (GTK_EDITABLE (incoming_child (dialog, "imap_host_row")), "imap.example.fr");
          gtk_switch_set_active (GTK_SWITCH (incoming_child (dialog, "save_copy_switch")), TRUE);
          gtk_editable_set_text (GTK_EDITABLE (incoming_child (dialog, "sent_folder_row")), "Sent");
        }
    }
}

static void
test_pages_fit (gconstpointer data)
{
  const char *state = data;
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  AdwViewStack *stack = ADW_VIEW_STACK (child (dialog, "view_stack"));
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (stack);
  guint n_pages = g_list_model_get_n_items (G_LIST_MODEL (pages));
  int default_width, default_height;
  guint too_tall = 0;

  gtk_window_get_default_size (GTK_WINDOW (dialog), &default_width, &default_height);
  fill (dialog, state);
  envoi_account_dialog_validate_now (ENVOI_ACCOUNT_DIALOG (dialog));
  gtk_window_present (GTK_WINDOW (dialog));
  wait_ms (500);

  /* The window is the size people get (its default size, less the frame GTK draws around it
   * without a window manager): a larger one would let a page pass that does not fit. */
  g_test_message ("window %d×%d, default size %d×%d", gtk_widget_get_width (dialog),
                  gtk_widget_get_height (dialog), default_width, default_height);
  g_assert_cmpint (gtk_widget_get_width (dialog), <=, default_width);
  g_assert_cmpint (gtk_widget_get_height (dialog), <=, default_height);
  g_assert_cmpint (gtk_widget_get_height (dialog), >, default_height - 50);
  /* Account, Server, POP3, IMAP, Delivery, Test. */
  g_assert_cmpuint (n_pages, ==, 6);

  for (guint i = 0; i < n_pages; i++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *content = adw_view_stack_page_get_child (page);
      GtkWidget *scrolled;
      GtkWidget *inside;
      int minimum, natural, room;

      adw_view_stack_set_visible_child (stack, content);
      wait_ms (300);
      g_assert_true (gtk_widget_get_mapped (content));

      scrolled = find_scrolled_window (content);
      g_assert_nonnull (scrolled);
      inside = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
      room = gtk_widget_get_height (scrolled);
      gtk_widget_measure (inside, GTK_ORIENTATION_VERTICAL, gtk_widget_get_width (scrolled),
                          &minimum, &natural, NULL, NULL);

      /* The test runs in the language it was given, not in English three times. */
      if (g_strcmp0 (g_getenv ("LANGUAGE"), "en") != 0 &&
          g_str_equal (adw_view_stack_page_get_name (page), "server"))
        g_assert_cmpstr (adw_view_stack_page_get_title (page), !=, "Server");

      g_test_message ("%s, page “%s” (%s): needs %d px (minimum %d), has %d px of a %d×%d window",
                      state, adw_view_stack_page_get_name (page),
                      adw_view_stack_page_get_title (page), natural, minimum, room,
                      default_width, default_height);
      if (natural > room)
        {
          g_printerr ("page “%s” (%s) is %d px taller than its window in state “%s”\n",
                      adw_view_stack_page_get_name (page), adw_view_stack_page_get_title (page),
                      natural - room, state);
          too_tall++;
        }
    }

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpuint (too_tall, ==, 0);
}

static gboolean
page_needs_attention (AdwViewStack *stack,
                      const char   *name)
{
  return adw_view_stack_page_get_needs_attention (adw_view_stack_get_page (stack,
                                                                           adw_view_stack_get_child_by_name (stack, name)));
}

/* A Save refused for a wrong field shows that field's page and focuses it, even when the field
 * belongs to a group (the IMAP rows); the pages with a wrong row are marked. */
static void
test_refused_save_shows_the_page (void)
{
  GtkWidget *dialog = GTK_WIDGET (envoi_account_dialog_new (NULL, store, NULL));
  AdwViewStack *stack = ADW_VIEW_STACK (child (dialog, "view_stack"));
  GtkWidget *imap_port = GTK_WIDGET (incoming_child (dialog, "imap_port_row"));
  GtkWidget *focus;

  fill (dialog, "imap");
  type (dialog, "address_row", "jean.dupont");
  gtk_editable_set_text (GTK_EDITABLE (imap_port), "70000");
  gtk_window_present (GTK_WINDOW (dialog));
  adw_view_stack_set_visible_child_name (stack, "test");
  wait_ms (200);

  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  wait_ms (200);
  g_assert_cmpint (envoi_account_dialog_get_state (ENVOI_ACCOUNT_DIALOG (dialog)), ==,
                   ENVOI_FORM_INVALID);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "account");
  focus = gtk_root_get_focus (GTK_ROOT (dialog));
  g_assert_true (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (child (dialog, "address_row"))));
  g_assert_true (page_needs_attention (stack, "account"));
  g_assert_true (page_needs_attention (stack, "imap"));
  g_assert_false (page_needs_attention (stack, "server"));
  g_assert_false (page_needs_attention (stack, "delivery"));

  /* The address mended, the next Save goes to the IMAP port, on its own page. */
  type (dialog, "address_row", "jean.dupont@example.fr");
  adw_view_stack_set_visible_child_name (stack, "delivery");
  gtk_widget_activate_action (dialog, "dialog.save", NULL);
  wait_ms (200);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "imap");
  focus = gtk_root_get_focus (GTK_ROOT (dialog));
  g_assert_true (focus != NULL && gtk_widget_is_ancestor (focus, imap_port));
  g_assert_false (page_needs_attention (stack, "account"));
  g_assert_true (page_needs_attention (stack, "imap"));

  gtk_window_destroy (GTK_WINDOW (dialog));
}

int
main (int   argc,
      char *argv[])
{
  const char *localedir = g_getenv ("ENVOI_LOCALEDIR");
  int ret;

  /* LANGUAGE comes from tests/meson.build; it is ignored under LANG=C. */
  g_setenv ("LANG", "C.UTF-8", TRUE);
  g_unsetenv ("LC_ALL");
  g_unsetenv ("LC_MESSAGES");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  store = envoi_account_store_new ();

  g_test_add_data_func ("/envoi/dialog-pages/new-account-fits", "new", test_pages_fit);
  g_test_add_data_func ("/envoi/dialog-pages/preset-fits", "preset", test_pages_fit);
  g_test_add_data_func ("/envoi/dialog-pages/pop-before-smtp-fits", "pop", test_pages_fit);
  g_test_add_data_func ("/envoi/dialog-pages/imap-copy-fits", "imap", test_pages_fit);
  g_test_add_data_func ("/envoi/dialog-pages/pop-and-imap-fit", "pop+imap", test_pages_fit);
  g_test_add_data_func ("/envoi/dialog-pages/mailgun-fits", "mailgun", test_pages_fit);
  g_test_add_func ("/envoi/dialog-pages/refused-save-shows-the-page", test_refused_save_shows_the_page);

  ret = g_test_run ();
  g_clear_object (&store);
  return ret;
}

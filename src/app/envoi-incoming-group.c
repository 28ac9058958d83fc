/* envoi-incoming-group.c: the mailbox servers beside SMTP — a POP3 login before sending, and
 * an IMAP server that keeps a copy of sent mail
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A group of the account dialog, like EnvoiTransportGroup: it shows the account's POP3 and
 * IMAP settings, writes the form's values into the account the dialog builds and checks its
 * own rows. Each server may have a password of its own (keyring services "pop3" and "imap");
 * without one the SMTP password is used. The dialog stores a typed one before the settings.
 */

#define G_LOG_DOMAIN "envoi-incoming-group"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-field-message.h"
#include "envoi-incoming-group.h"
#include "envoi-secret.h"
#include "envoi-validate.h"

#define TOUCHED_KEY "envoi-touched"

typedef struct
{
  EnvoiService  service;
  guint16       starttls_port;
  guint16       tls_port;
  char         *saved_secret;
  gboolean      secret_pending;

  AdwEntryRow  *host_row;
  AdwEntryRow  *port_row;
  AdwComboRow  *security_row;
  AdwEntryRow  *password_row;
} Server;

struct _EnvoiIncomingGroup
{
  AdwPreferencesGroup  parent_instance;

  GCancellable        *cancellable;
  gboolean             loading;
  gboolean             show_all_errors;
  Server               pop;
  Server               imap;

  AdwActionRow        *pop_row;
  GtkSwitch           *pop_switch;
  AdwPreferencesGroup *imap_group;     /* placed by the dialog, on a page of its own */
  AdwActionRow        *save_copy_row;
  GtkSwitch           *save_copy_switch;
  AdwEntryRow         *sent_folder_row;
};

G_DEFINE_FINAL_TYPE (EnvoiIncomingGroup, envoi_incoming_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static Server *
server_for (EnvoiIncomingGroup *self,
            EnvoiService        service)
{
  g_assert (service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP);

  return service == ENVOI_SERVICE_POP3 ? &self->pop : &self->imap;
}

static gboolean
imap_is_set (EnvoiIncomingGroup *self)
{
  g_autofree char *host = _envoi_dup_stripped_text (self->imap.host_row);

  return *host != '\0';
}

static void
update_visibility (EnvoiIncomingGroup *self)
{
  gboolean pop = gtk_switch_get_active (self->pop_switch);
  gboolean imap = imap_is_set (self);

  gtk_widget_set_visible (GTK_WIDGET (self->pop.host_row), pop);
  gtk_widget_set_visible (GTK_WIDGET (self->pop.port_row), pop);
  gtk_widget_set_visible (GTK_WIDGET (self->pop.security_row), pop);
  gtk_widget_set_visible (GTK_WIDGET (self->pop.password_row), pop);
  gtk_widget_set_visible (GTK_WIDGET (self->imap.port_row), imap);
  gtk_widget_set_visible (GTK_WIDGET (self->imap.security_row), imap);
  gtk_widget_set_visible (GTK_WIDGET (self->imap.password_row), imap);
  gtk_widget_set_visible (GTK_WIDGET (self->sent_folder_row),
                          gtk_switch_get_active (self->save_copy_switch));
}

static void
emit_changed (EnvoiIncomingGroup *self)
{
  if (self->loading)
    return;

  update_visibility (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
row_changed_cb (EnvoiIncomingGroup *self,
                GtkWidget          *row)
{
  if (self->loading)
    return;

  g_object_set_data (G_OBJECT (row), TOUCHED_KEY, GINT_TO_POINTER (TRUE));
  emit_changed (self);
}

/* Moving between the two usual pairs moves the port along, not a port typed by hand. */
static void
security_selected_cb (EnvoiIncomingGroup *self,
                      GParamSpec         *pspec,
                      AdwComboRow        *row)
{
  Server *server = row == self->pop.security_row ? &self->pop : &self->imap;
  EnvoiSecurity security = adw_combo_row_get_selected (row);
  guint16 port = 0;

  if (self->loading)
    return;

  if (envoi_validate_port (gtk_editable_get_text (GTK_EDITABLE (server->port_row)), &port, NULL))
    {
      g_autofree char *text = NULL;

      if (security == ENVOI_SECURITY_TLS && port == server->starttls_port)
        text = g_strdup_printf ("%u", server->tls_port);
      else if (security != ENVOI_SECURITY_TLS && port == server->tls_port)
        text = g_strdup_printf ("%u", server->starttls_port);
      if (text != NULL)
        gtk_editable_set_text (GTK_EDITABLE (server->port_row), text);
    }

  emit_changed (self);
}

typedef struct
{
  EnvoiIncomingGroup *self;
  EnvoiService        service;
} Lookup;

static void
lookup_secret_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Lookup *lookup = user_data;
  g_autoptr(EnvoiIncomingGroup) self = lookup->self;
  g_autoptr(GError) error = NULL;
  Server *server = server_for (self, lookup->service);
  char *secret;

  g_free (lookup);
  secret = envoi_secret_lookup_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    g_debug ("The saved password could not be read: %s", error->message);

  server->secret_pending = FALSE;
  g_clear_pointer (&server->saved_secret, envoi_secret_free);
  server->saved_secret = secret;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static gboolean
speaks (EnvoiIncomingGroup *self,
        gpointer            row)
{
  return self->show_all_errors || g_object_get_data (G_OBJECT (row), TOUCHED_KEY) != NULL;
}

static gboolean
validate_server (EnvoiIncomingGroup *self,
                 Server             *server)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *host = _envoi_dup_stripped_text (server->host_row);
  g_autofree char *checked = envoi_validate_host (host, &error);
  const char *password = gtk_editable_get_text (GTK_EDITABLE (server->password_row));
  gboolean valid = TRUE;
  guint16 port;

  if (checked == NULL)
    {
      _envoi_field_message_set (GTK_WIDGET (server->host_row), ENVOI_FIELD_MESSAGE_ERROR,
                                speaks (self, server->host_row) ? error->message : NULL);
      valid = FALSE;
    }
  else
    _envoi_field_message_set (GTK_WIDGET (server->host_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  g_clear_error (&error);

  if (!envoi_validate_port (gtk_editable_get_text (GTK_EDITABLE (server->port_row)), &port, &error))
    {
      _envoi_field_message_set (GTK_WIDGET (server->port_row), ENVOI_FIELD_MESSAGE_ERROR,
                                speaks (self, server->port_row) ? error->message : NULL);
      valid = FALSE;
    }
  else
    _envoi_field_message_set (GTK_WIDGET (server->port_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  g_clear_error (&error);

  /* Envoi never sends a password in clear text across the network. */
  if (adw_combo_row_get_selected (server->security_row) == ENVOI_SECURITY_NONE &&
      !envoi_host_is_loopback (checked != NULL ? checked : host))
    {
      _envoi_field_message_set (GTK_WIDGET (server->security_row), ENVOI_FIELD_MESSAGE_ERROR,
                                _("Without encryption the password would cross the network in "
                                  "clear text. Choose STARTTLS or SSL/TLS."));
      valid = FALSE;
    }
  else
    _envoi_field_message_set (GTK_WIDGET (server->security_row), ENVOI_FIELD_MESSAGE_INFO, NULL);

  if (strpbrk (password, "\r\n") != NULL)
    {
      _envoi_field_message_set (GTK_WIDGET (server->password_row), ENVOI_FIELD_MESSAGE_ERROR,
                                _("A password cannot contain a line break."));
      valid = FALSE;
    }
  else if (*password == '\0' && server->saved_secret != NULL)
    {
      g_autofree char *mask = envoi_secret_mask (server->saved_secret);
      g_autofree char *hint = NULL;

      /* Translators: %s is a masked password such as ••••z789 */
      hint = g_strdup_printf (_("Saved in the keyring: %s. Type a new one to replace it."), mask);
      _envoi_field_message_set (GTK_WIDGET (server->password_row), ENVOI_FIELD_MESSAGE_INFO, hint);
    }
  else if (*password == '\0')
    _envoi_field_message_set (GTK_WIDGET (server->password_row), ENVOI_FIELD_MESSAGE_INFO,
                              _("Leave empty to use the password of the outgoing server."));
  else
    _envoi_field_message_set (GTK_WIDGET (server->password_row), ENVOI_FIELD_MESSAGE_INFO, NULL);

  return valid;
}

static void
clear_server (Server *server)
{
  _envoi_field_message_set (GTK_WIDGET (server->host_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  _envoi_field_message_set (GTK_WIDGET (server->port_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  _envoi_field_message_set (GTK_WIDGET (server->security_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  _envoi_field_message_set (GTK_WIDGET (server->password_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
}

static void
load_server (EnvoiIncomingGroup *self,
             Server             *server,
             EnvoiAccount       *account,
             const char         *host,
             guint16             port,
             EnvoiSecurity       security)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  GtkWidget *rows[] = {
    GTK_WIDGET (server->host_row), GTK_WIDGET (server->port_row), GTK_WIDGET (server->password_row),
  };

  gtk_editable_set_text (GTK_EDITABLE (server->host_row), host);
  gtk_editable_set_text (GTK_EDITABLE (server->port_row), port_text);
  adw_combo_row_set_selected (server->security_row, security);
  gtk_editable_set_text (GTK_EDITABLE (server->password_row), "");
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_object_set_data (G_OBJECT (rows[i]), TOUCHED_KEY, NULL);

  g_clear_pointer (&server->saved_secret, envoi_secret_free);
  server->secret_pending = TRUE;
  {
    Lookup *lookup = g_new0 (Lookup, 1);

    lookup->self = g_object_ref (self);
    lookup->service = server->service;
    envoi_secret_lookup_async (account, server->service, self->cancellable,
                               lookup_secret_cb, lookup);
  }
}

static void
apply_server (Server       *server,
              EnvoiAccount *account,
              const char   *host_key,
              const char   *port_key,
              const char   *security_key)
{
  g_autofree char *typed = _envoi_dup_stripped_text (server->host_row);
  g_autofree char *host = envoi_validate_host (typed, NULL);
  guint16 port = 0;

  g_object_set (account,
                host_key, host != NULL ? host : typed,
                security_key, (EnvoiSecurity) adw_combo_row_get_selected (server->security_row),
                NULL);
  if (envoi_validate_port (gtk_editable_get_text (GTK_EDITABLE (server->port_row)), &port, NULL))
    g_object_set (account, port_key, (guint) port, NULL);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_incoming_group_dispose (GObject *object)
{
  EnvoiIncomingGroup *self = ENVOI_INCOMING_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_INCOMING_GROUP);

  G_OBJECT_CLASS (envoi_incoming_group_parent_class)->dispose (object);
}

static void
envoi_incoming_group_finalize (GObject *object)
{
  EnvoiIncomingGroup *self = ENVOI_INCOMING_GROUP (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pop.saved_secret, envoi_secret_free);
  g_clear_pointer (&self->imap.saved_secret, envoi_secret_free);

  G_OBJECT_CLASS (envoi_incoming_group_parent_class)->finalize (object);
}

static void
envoi_incoming_group_class_init (EnvoiIncomingGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_incoming_group_dispose;
  object_class->finalize = envoi_incoming_group_finalize;

  /**
   * EnvoiIncomingGroup::changed:
   *
   * A row was edited, or the keyring answered: the form should be checked again.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-incoming-group.ui");
#define BIND(name, field) \
  gtk_widget_class_bind_template_child_full (widget_class, name, FALSE, \
                                             G_STRUCT_OFFSET (EnvoiIncomingGroup, field))
  BIND ("pop_host_row", pop.host_row);
  BIND ("pop_port_row", pop.port_row);
  BIND ("pop_security_row", pop.security_row);
  BIND ("pop_password_row", pop.password_row);
  BIND ("imap_host_row", imap.host_row);
  BIND ("imap_port_row", imap.port_row);
  BIND ("imap_security_row", imap.security_row);
  BIND ("imap_password_row", imap.password_row);
#undef BIND
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, pop_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, pop_switch);
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, imap_group);
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, save_copy_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, save_copy_switch);
  gtk_widget_class_bind_template_child (widget_class, EnvoiIncomingGroup, sent_folder_row);
}

static void
envoi_incoming_group_init (EnvoiIncomingGroup *self)
{
  Server *servers[2];

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->pop.service = ENVOI_SERVICE_POP3;
  self->pop.starttls_port = 110;
  self->pop.tls_port = 995;
  self->imap.service = ENVOI_SERVICE_IMAP;
  self->imap.starttls_port = 143;
  self->imap.tls_port = 993;

  servers[0] = &self->pop;
  servers[1] = &self->imap;
  for (guint i = 0; i < G_N_ELEMENTS (servers); i++)
    {
      GtkWidget *entries[] = {
        GTK_WIDGET (servers[i]->host_row), GTK_WIDGET (servers[i]->port_row),
        GTK_WIDGET (servers[i]->password_row),
      };

      for (guint j = 0; j < G_N_ELEMENTS (entries); j++)
        {
          _envoi_field_message_attach (entries[j]);
          g_signal_connect_object (entries[j], "changed", G_CALLBACK (row_changed_cb), self,
                                   G_CONNECT_SWAPPED);
        }
      _envoi_field_message_attach (GTK_WIDGET (servers[i]->security_row));
      g_signal_connect_object (servers[i]->security_row, "notify::selected",
                               G_CALLBACK (security_selected_cb), self, G_CONNECT_SWAPPED);
    }
  _envoi_field_message_attach (GTK_WIDGET (self->save_copy_row));
  _envoi_field_message_attach (GTK_WIDGET (self->sent_folder_row));
  g_signal_connect_object (self->sent_folder_row, "changed", G_CALLBACK (row_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->pop_switch, "notify::active", G_CALLBACK (emit_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->save_copy_switch, "notify::active", G_CALLBACK (emit_changed),
                           self, G_CONNECT_SWAPPED);

  _envoi_label_like_row (GTK_WIDGET (self->pop_switch), GTK_WIDGET (self->pop_row));
  _envoi_label_like_row (GTK_WIDGET (self->save_copy_switch), GTK_WIDGET (self->save_copy_row));

  update_visibility (self);
}

/* ---- public ------------------------------------------------------------------------------- */

/* The IMAP server's rows: a group of their own, which the dialog places on another page than
 * this one (the POP3 login). Both stay this object's: it loads, checks and applies them. */
AdwPreferencesGroup *
envoi_incoming_group_get_imap_group (EnvoiIncomingGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), NULL);

  return self->imap_group;
}

/* Shows @account's POP3 and IMAP settings and looks up their own stored passwords. */
void
envoi_incoming_group_load (EnvoiIncomingGroup *self,
                           EnvoiAccount       *account)
{
  g_return_if_fail (ENVOI_IS_INCOMING_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  self->loading = TRUE;
  gtk_switch_set_active (self->pop_switch, envoi_account_get_pop_before_smtp (account));
  load_server (self, &self->pop, account, envoi_account_get_pop_host (account),
               envoi_account_get_pop_port (account), envoi_account_get_pop_security (account));
  load_server (self, &self->imap, account, envoi_account_get_imap_host (account),
               envoi_account_get_imap_port (account), envoi_account_get_imap_security (account));
  gtk_switch_set_active (self->save_copy_switch, envoi_account_get_save_sent_copy (account));
  gtk_editable_set_text (GTK_EDITABLE (self->sent_folder_row), envoi_account_get_sent_folder (account));
  g_object_set_data (G_OBJECT (self->sent_folder_row), TOUCHED_KEY, NULL);
  self->loading = FALSE;

  update_visibility (self);
}

/* Writes the form's values into @account; an invalid port leaves the account's. */
void
envoi_incoming_group_apply (EnvoiIncomingGroup *self,
                            EnvoiAccount       *account)
{
  g_autofree char *folder = NULL;

  g_return_if_fail (ENVOI_IS_INCOMING_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  folder = _envoi_dup_stripped_text (self->sent_folder_row);
  apply_server (&self->pop, account, "pop-host", "pop-port", "pop-security");
  apply_server (&self->imap, account, "imap-host", "imap-port", "imap-security");
  g_object_set (account,
                "pop-before-smtp", gtk_switch_get_active (self->pop_switch),
                "save-sent-copy", gtk_switch_get_active (self->save_copy_switch),
                "sent-folder", folder,
                NULL);
}

/* Whether an IMAP server is named: it can be tested, and sent copies kept there. */
gboolean
envoi_incoming_group_has_imap_server (EnvoiIncomingGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), FALSE);

  return imap_is_set (self);
}

/* Checks the rows in use, says why beside the wrong ones and returns whether all are right. */
gboolean
envoi_incoming_group_validate (EnvoiIncomingGroup *self)
{
  g_autoptr(GError) error = NULL;
  gboolean valid = TRUE;

  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), FALSE);

  update_visibility (self);

  if (gtk_switch_get_active (self->pop_switch))
    valid &= validate_server (self, &self->pop);
  else
    clear_server (&self->pop);

  if (imap_is_set (self))
    valid &= validate_server (self, &self->imap);
  else
    clear_server (&self->imap);

  if (gtk_switch_get_active (self->save_copy_switch) && !imap_is_set (self))
    {
      _envoi_field_message_set (GTK_WIDGET (self->save_copy_row), ENVOI_FIELD_MESSAGE_ERROR,
                                _("Enter the IMAP server above: the copies are kept there."));
      valid = FALSE;
    }
  else
    _envoi_field_message_set (GTK_WIDGET (self->save_copy_row), ENVOI_FIELD_MESSAGE_INFO, NULL);

  if (!gtk_switch_get_active (self->save_copy_switch))
    _envoi_field_message_set (GTK_WIDGET (self->sent_folder_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
  else if (!envoi_validate_header_text (gtk_editable_get_text (GTK_EDITABLE (self->sent_folder_row)),
                                        0, &error))
    {
      _envoi_field_message_set (GTK_WIDGET (self->sent_folder_row), ENVOI_FIELD_MESSAGE_ERROR,
                                error->message);
      valid = FALSE;
    }
  else
    _envoi_field_message_set (GTK_WIDGET (self->sent_folder_row), ENVOI_FIELD_MESSAGE_INFO,
                              _("Used when the server marks no folder as the Sent one."));

  return valid;
}

void
envoi_incoming_group_reveal_errors (EnvoiIncomingGroup *self)
{
  g_return_if_fail (ENVOI_IS_INCOMING_GROUP (self));

  self->show_all_errors = TRUE;
}

gboolean
envoi_incoming_group_focus_invalid (EnvoiIncomingGroup *self)
{
  GtkWidget *rows[] = {
    GTK_WIDGET (self->pop.host_row), GTK_WIDGET (self->pop.port_row),
    GTK_WIDGET (self->pop.security_row), GTK_WIDGET (self->pop.password_row),
    GTK_WIDGET (self->imap.host_row), GTK_WIDGET (self->imap.port_row),
    GTK_WIDGET (self->imap.security_row), GTK_WIDGET (self->imap.password_row),
    GTK_WIDGET (self->save_copy_row), GTK_WIDGET (self->sent_folder_row),
  };

  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (_envoi_field_message_is_error (rows[i]))
      return gtk_widget_grab_focus (rows[i]);

  return FALSE;
}

/* Whether a password was typed; the other values are compared in the built account. */
gboolean
envoi_incoming_group_is_modified (EnvoiIncomingGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), FALSE);

  return envoi_incoming_group_get_typed_secret (self, ENVOI_SERVICE_POP3) != NULL ||
         envoi_incoming_group_get_typed_secret (self, ENVOI_SERVICE_IMAP) != NULL;
}

/* The password typed for @service (POP3 or IMAP), for the keyring; %NULL when none was typed
 * or that server is not used. */
const char *
envoi_incoming_group_get_typed_secret (EnvoiIncomingGroup *self,
                                       EnvoiService        service)
{
  Server *server;
  const char *typed;

  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), NULL);
  g_return_val_if_fail (service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP, NULL);

  server = server_for (self, service);
  typed = gtk_editable_get_text (GTK_EDITABLE (server->password_row));
  if (*typed == '\0' || !gtk_widget_get_visible (GTK_WIDGET (server->password_row)))
    return NULL;
  return typed;
}

/* The password stored for @service, or %NULL. Free with envoi_secret_free(). */
char *
envoi_incoming_group_dup_saved_secret (EnvoiIncomingGroup *self,
                                       EnvoiService        service)
{
  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), NULL);
  g_return_val_if_fail (service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP, NULL);

  return g_strdup (server_for (self, service)->saved_secret);
}

/* The password a test of @service would use: typed, else stored, else %NULL (the SMTP one
 * then). Free with envoi_secret_free(). */
char *
envoi_incoming_group_dup_secret (EnvoiIncomingGroup *self,
                                 EnvoiService        service)
{
  const char *typed;

  g_return_val_if_fail (ENVOI_IS_INCOMING_GROUP (self), NULL);
  g_return_val_if_fail (service == ENVOI_SERVICE_POP3 || service == ENVOI_SERVICE_IMAP, NULL);

  typed = envoi_incoming_group_get_typed_secret (self, service);
  if (typed != NULL)
    return g_strdup (typed);
  return envoi_incoming_group_dup_saved_secret (self, service);
}

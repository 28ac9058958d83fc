/* envoi-transport-group.c: how an account sends — SMTP, Mailgun's API or an HTTP POST
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A group of the account dialog. It shows the account's transport, writes the form's choice
 * into the account the dialog builds, and checks its own rows. The API key is typed here; the
 * dialog stores it in the keyring (service "http") before the settings, as it does the SMTP
 * password. The one already stored is looked up when an account is loaded.
 */

#define G_LOG_DOMAIN "envoi-transport-group"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "envoi-field-message.h"
#include "envoi-secret.h"
#include "envoi-transport-group.h"
#include "envoi-validate.h"

typedef enum
{
  ROW_DOMAIN,
  ROW_URL,
  ROW_KEY,
  N_ROWS
} Row;

struct _EnvoiTransportGroup
{
  AdwPreferencesGroup  parent_instance;

  GCancellable        *cancellable;
  char                *saved_key;
  gboolean             key_pending;   /* the keyring has not answered yet */
  gboolean             loading;
  gboolean             show_all_errors;
  gboolean             touched[N_ROWS];

  AdwComboRow         *transport_row;
  AdwEntryRow         *domain_row;
  AdwComboRow         *region_row;
  AdwEntryRow         *url_row;
  AdwEntryRow         *key_row;
};

G_DEFINE_FINAL_TYPE (EnvoiTransportGroup, envoi_transport_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkWidget *
row_widget (EnvoiTransportGroup *self,
            Row                  row)
{
  switch (row)
    {
    case ROW_DOMAIN: return GTK_WIDGET (self->domain_row);
    case ROW_URL:    return GTK_WIDGET (self->url_row);
    case ROW_KEY:    return GTK_WIDGET (self->key_row);
    case N_ROWS:
    default:         g_assert_not_reached ();
    }
}

static gboolean
speaks (EnvoiTransportGroup *self,
        Row                  row)
{
  return self->show_all_errors || self->touched[row];
}

static void
update_visibility (EnvoiTransportGroup *self)
{
  EnvoiTransport transport = adw_combo_row_get_selected (self->transport_row);
  gboolean mailgun = transport == ENVOI_TRANSPORT_HTTP_MAILGUN;

  gtk_widget_set_visible (GTK_WIDGET (self->domain_row), mailgun);
  gtk_widget_set_visible (GTK_WIDGET (self->region_row), mailgun);
  gtk_widget_set_visible (GTK_WIDGET (self->url_row), transport == ENVOI_TRANSPORT_HTTP_POST);
  gtk_widget_set_visible (GTK_WIDGET (self->key_row), transport != ENVOI_TRANSPORT_SMTP);
}

static void
emit_changed (EnvoiTransportGroup *self)
{
  if (!self->loading)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
row_changed_cb (EnvoiTransportGroup *self,
                GtkWidget           *row)
{
  if (self->loading)
    return;

  for (guint i = 0; i < N_ROWS; i++)
    if (row == row_widget (self, i))
      self->touched[i] = TRUE;
  emit_changed (self);
}

static void
transport_selected_cb (EnvoiTransportGroup *self)
{
  update_visibility (self);
  emit_changed (self);
}

static void
lookup_key_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(EnvoiTransportGroup) self = user_data;
  g_autoptr(GError) error = NULL;
  char *key;

  key = envoi_secret_lookup_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    g_debug ("The saved API key could not be read: %s", error->message);

  self->key_pending = FALSE;
  g_clear_pointer (&self->saved_key, envoi_secret_free);
  self->saved_key = key;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* A URL the generic POST may send to: HTTPS, or plain HTTP to this computer only (the key
 * would cross the network in clear text otherwise). */
static gboolean
validate_url (const char  *text,
              GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (*text == '\0')
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                           _("Enter the address that receives the messages, such as "
                             "https://mail.example.com/send."));
      return FALSE;
    }

  uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0) ||
      strpbrk (text, " \t\r\n") != NULL)
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                           _("This is not a web address. It starts with https://, such as "
                             "https://mail.example.com/send."));
      return FALSE;
    }

  if (g_strcmp0 (scheme, "http") == 0 && !envoi_host_is_loopback (g_uri_get_host (uri)))
    {
      g_set_error_literal (error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                           _("Without HTTPS the API key would cross the network in clear "
                             "text. Use an https:// address."));
      return FALSE;
    }

  return TRUE;
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
envoi_transport_group_dispose (GObject *object)
{
  EnvoiTransportGroup *self = ENVOI_TRANSPORT_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), ENVOI_TYPE_TRANSPORT_GROUP);

  G_OBJECT_CLASS (envoi_transport_group_parent_class)->dispose (object);
}

static void
envoi_transport_group_finalize (GObject *object)
{
  EnvoiTransportGroup *self = ENVOI_TRANSPORT_GROUP (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->saved_key, envoi_secret_free);

  G_OBJECT_CLASS (envoi_transport_group_parent_class)->finalize (object);
}

static void
envoi_transport_group_class_init (EnvoiTransportGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = envoi_transport_group_dispose;
  object_class->finalize = envoi_transport_group_finalize;

  /**
   * EnvoiTransportGroup::changed:
   *
   * A row was edited, or the keyring answered: the form should be checked again.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/envoimail/Envoi/envoi-transport-group.ui");
  gtk_widget_class_bind_template_child (widget_class, EnvoiTransportGroup, transport_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTransportGroup, domain_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTransportGroup, region_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTransportGroup, url_row);
  gtk_widget_class_bind_template_child (widget_class, EnvoiTransportGroup, key_row);
}

static void
envoi_transport_group_init (EnvoiTransportGroup *self)
{
  GObject *entries[3];

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  entries[0] = G_OBJECT (self->domain_row);
  entries[1] = G_OBJECT (self->url_row);
  entries[2] = G_OBJECT (self->key_row);
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      _envoi_field_message_attach (GTK_WIDGET (entries[i]));
      g_signal_connect_object (entries[i], "changed", G_CALLBACK (row_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }
  _envoi_field_message_attach (GTK_WIDGET (self->transport_row));

  g_signal_connect_object (self->transport_row, "notify::selected",
                           G_CALLBACK (transport_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->region_row, "notify::selected",
                           G_CALLBACK (emit_changed), self, G_CONNECT_SWAPPED);
  update_visibility (self);
}

/* ---- public ------------------------------------------------------------------------------- */

/* Shows @account's transport and looks up its stored API key. */
void
envoi_transport_group_load (EnvoiTransportGroup *self,
                            EnvoiAccount        *account)
{
  g_return_if_fail (ENVOI_IS_TRANSPORT_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  self->loading = TRUE;
  adw_combo_row_set_selected (self->transport_row, envoi_account_get_transport (account));
  gtk_editable_set_text (GTK_EDITABLE (self->domain_row), envoi_account_get_mailgun_domain (account));
  adw_combo_row_set_selected (self->region_row, envoi_account_get_mailgun_region (account));
  gtk_editable_set_text (GTK_EDITABLE (self->url_row), envoi_account_get_http_url (account));
  gtk_editable_set_text (GTK_EDITABLE (self->key_row), "");
  memset (self->touched, 0, sizeof self->touched);
  update_visibility (self);
  self->loading = FALSE;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->saved_key, envoi_secret_free);
  self->key_pending = TRUE;
  envoi_secret_lookup_async (account, ENVOI_SERVICE_HTTP, self->cancellable,
                             lookup_key_cb, g_object_ref (self));
}

/* Writes the form's transport into @account; what this group does not show stays. */
void
envoi_transport_group_apply (EnvoiTransportGroup *self,
                             EnvoiAccount        *account)
{
  EnvoiTransport transport;
  g_autofree char *domain = NULL;
  g_autofree char *url = NULL;

  g_return_if_fail (ENVOI_IS_TRANSPORT_GROUP (self));
  g_return_if_fail (ENVOI_IS_ACCOUNT (account));

  transport = adw_combo_row_get_selected (self->transport_row);
  domain = _envoi_dup_stripped_text (self->domain_row);
  url = _envoi_dup_stripped_text (self->url_row);

  g_object_set (account,
                "transport", transport,
                "mailgun-domain", domain,
                "mailgun-region", (EnvoiMailgunRegion) adw_combo_row_get_selected (self->region_row),
                NULL);
  /* For Mailgun the URL is a proxy's base that this form does not offer: it stays. */
  if (transport == ENVOI_TRANSPORT_HTTP_POST)
    g_object_set (account, "http-url", url, NULL);
}

/* Checks the rows, says why beside the wrong ones and returns whether all are right. A row
 * not reached yet only keeps Save off, until envoi_transport_group_reveal_errors(). */
gboolean
envoi_transport_group_validate (EnvoiTransportGroup *self)
{
  EnvoiTransport transport;
  g_autoptr(GError) error = NULL;
  const char *key;
  gboolean valid = TRUE;

  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), FALSE);

  transport = adw_combo_row_get_selected (self->transport_row);
  key = gtk_editable_get_text (GTK_EDITABLE (self->key_row));

#define CHECK(row, ok) \
  G_STMT_START { \
    if (ok) \
      _envoi_field_message_set (row_widget (self, row), ENVOI_FIELD_MESSAGE_ERROR, NULL); \
    else \
      { \
        _envoi_field_message_set (row_widget (self, row), ENVOI_FIELD_MESSAGE_ERROR, \
                                  speaks (self, row) && error != NULL ? error->message : NULL); \
        valid = FALSE; \
      } \
    g_clear_error (&error); \
  } G_STMT_END

  if (transport == ENVOI_TRANSPORT_HTTP_MAILGUN)
    {
      g_autofree char *domain = _envoi_dup_stripped_text (self->domain_row);
      g_autofree char *checked = envoi_validate_host (domain, &error);

      CHECK (ROW_DOMAIN, checked != NULL);
    }
  else
    _envoi_field_message_set (GTK_WIDGET (self->domain_row), ENVOI_FIELD_MESSAGE_INFO, NULL);

  if (transport == ENVOI_TRANSPORT_HTTP_POST)
    {
      g_autofree char *url = _envoi_dup_stripped_text (self->url_row);

      CHECK (ROW_URL, validate_url (url, &error));
    }
  else
    _envoi_field_message_set (GTK_WIDGET (self->url_row), ENVOI_FIELD_MESSAGE_INFO, NULL);

  if (transport == ENVOI_TRANSPORT_SMTP)
    {
      _envoi_field_message_set (GTK_WIDGET (self->key_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
      _envoi_field_message_set (GTK_WIDGET (self->transport_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
    }
  else
    {
      _envoi_field_message_set (GTK_WIDGET (self->transport_row), ENVOI_FIELD_MESSAGE_INFO,
                                _("Messages go to the provider over HTTPS: no SMTP server "
                                  "or login is needed."));
      if (*key == '\0' && self->key_pending)
        {
          _envoi_field_message_set (GTK_WIDGET (self->key_row), ENVOI_FIELD_MESSAGE_INFO,
                                    _("Looking for the saved key…"));
          valid = FALSE;
        }
      else if (*key == '\0' && self->saved_key == NULL)
        {
          g_set_error_literal (&error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_EMPTY,
                               _("Enter the API key that the provider gave you."));
          CHECK (ROW_KEY, FALSE);
        }
      else if (strpbrk (key, "\r\n") != NULL)
        {
          g_set_error_literal (&error, ENVOI_VALIDATE_ERROR, ENVOI_VALIDATE_ERROR_INVALID_HOST,
                               _("A key cannot contain a line break."));
          self->touched[ROW_KEY] = TRUE;
          CHECK (ROW_KEY, FALSE);
        }
      else if (*key == '\0')
        {
          g_autofree char *mask = envoi_secret_mask (self->saved_key);
          g_autofree char *hint = NULL;

          /* Translators: %s is a masked key such as ••••z789 */
          hint = g_strdup_printf (_("Saved in the keyring: %s. Type a new one to replace it."),
                                  mask);
          _envoi_field_message_set (GTK_WIDGET (self->key_row), ENVOI_FIELD_MESSAGE_INFO, hint);
        }
      else
        _envoi_field_message_set (GTK_WIDGET (self->key_row), ENVOI_FIELD_MESSAGE_INFO, NULL);
    }

#undef CHECK

  return valid;
}

/* After a Save attempt, rows not reached yet say what they need too. */
void
envoi_transport_group_reveal_errors (EnvoiTransportGroup *self)
{
  g_return_if_fail (ENVOI_IS_TRANSPORT_GROUP (self));

  self->show_all_errors = TRUE;
}

gboolean
envoi_transport_group_focus_invalid (EnvoiTransportGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), FALSE);

  for (guint i = 0; i < N_ROWS; i++)
    if (_envoi_field_message_is_error (row_widget (self, i)))
      return gtk_widget_grab_focus (row_widget (self, i));

  return FALSE;
}

/* Whether a key was typed; the other values are compared in the account the dialog builds. */
gboolean
envoi_transport_group_is_modified (EnvoiTransportGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), FALSE);

  return envoi_transport_group_get_typed_key (self) != NULL;
}

EnvoiTransport
envoi_transport_group_get_transport (EnvoiTransportGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), ENVOI_TRANSPORT_SMTP);

  return adw_combo_row_get_selected (self->transport_row);
}

/* The key typed in the form, for the keyring, or %NULL when none was typed or the account
 * sends over SMTP. */
const char *
envoi_transport_group_get_typed_key (EnvoiTransportGroup *self)
{
  const char *key;

  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), NULL);

  key = gtk_editable_get_text (GTK_EDITABLE (self->key_row));
  if (*key == '\0' || envoi_transport_group_get_transport (self) == ENVOI_TRANSPORT_SMTP)
    return NULL;
  return key;
}

/* The key a test would use: the one typed, else the one in the keyring. Free with
 * envoi_secret_free(). */
/* The key as the keyring had it when the account was opened, or NULL. */
char *
envoi_transport_group_dup_saved_key (EnvoiTransportGroup *self)
{
  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), NULL);

  return g_strdup (self->saved_key);
}

char *
envoi_transport_group_dup_key (EnvoiTransportGroup *self)
{
  const char *typed;

  g_return_val_if_fail (ENVOI_IS_TRANSPORT_GROUP (self), NULL);

  typed = gtk_editable_get_text (GTK_EDITABLE (self->key_row));
  return g_strdup (*typed != '\0' ? typed : self->saved_key);
}

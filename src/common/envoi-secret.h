/* envoi-secret.h: account passwords in the desktop keyring, and nowhere else
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

#include "envoi-types.h"

G_BEGIN_DECLS

#define ENVOI_SECRET_SCHEMA_NAME "io.github.envoimail.Envoi.Smtp"

#define ENVOI_SECRET_ERROR (envoi_secret_error_quark ())

typedef enum
{
  ENVOI_SECRET_ERROR_NO_SERVICE,  /* no Secret Service on the session bus, or no bus */
  ENVOI_SECRET_ERROR_LOCKED,      /* the keyring is locked and could not be unlocked */
  ENVOI_SECRET_ERROR_FAILED,      /* the keyring answered with another error */
} EnvoiSecretError;

GQuark              envoi_secret_error_quark  (void);
const SecretSchema *envoi_secret_get_schema   (void);
const char         *envoi_service_to_string   (EnvoiService   service);

/* The item's attributes (host, user, port) are taken from the account's settings for that
 * service, so that msmtp finds the same item. A stored secret replaces every older item of
 * the same account and service; nothing older is removed unless the new one was stored. */
void      envoi_secret_store_async   (EnvoiAccount         *account,
                                      EnvoiService          service,
                                      const char           *secret,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean  envoi_secret_store_finish  (GAsyncResult         *result,
                                      GError              **error);

/* Returns NULL without an error when no secret is stored. Free with envoi_secret_free(). */
void      envoi_secret_lookup_async  (EnvoiAccount         *account,
                                      EnvoiService          service,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
char     *envoi_secret_lookup_finish (GAsyncResult         *result,
                                      GError              **error);

/* The same without ever asking to unlock the keyring (no prompt, which a background sender
 * must not raise at any hour, and which hangs where no one can answer it): a locked keyring
 * is ENVOI_SECRET_ERROR_LOCKED at once. Finish with envoi_secret_lookup_finish(). */
void      envoi_secret_lookup_no_prompt_async (EnvoiAccount         *account,
                                               EnvoiService          service,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);

/* The first item with @attributes under @schema, read (see envoi-secret.c). */
void      envoi_secret_search_async  (const SecretSchema   *schema,
                                      GHashTable           *attributes,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
char     *envoi_secret_search_finish (GAsyncResult         *result,
                                      GError              **error);

/* Clears the account's items for one service, or for all of them with service < 0. */
void      envoi_secret_clear_async   (const char           *account_id,
                                      int                   service,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean  envoi_secret_clear_finish  (GAsyncResult         *result,
                                      GError              **error);

void      envoi_secret_free          (char                 *secret);
char     *envoi_secret_mask          (const char           *secret);

/* g_autoptr (EnvoiSecretString) wipes and frees a secret at the end of its scope. */
typedef char EnvoiSecretString;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiSecretString, envoi_secret_free)

G_END_DECLS

/* envoi-test-goa.h: GNOME Online Accounts for tests — the real goa-daemon on the session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Accounts are written the way GOA itself keeps them: a group in
 * $XDG_CONFIG_HOME/goa-1.0/accounts.conf, and a keyring item (schema org.gnome.OnlineAccounts,
 * attribute goa-identity "<provider>:gen<n>:<id>") holding a serialized a{sv} of credentials.
 * goa-daemon reads the key file when it starts (add accounts first) and the keyring item at
 * every request, so envoi_test_goa_set_oauth2_token() takes effect at once — which is what
 * GOA's own token refresh, or signing in again in Settings, does.
 *
 * Offline, GOA 3.46 hands out a stored OAuth 2 access token while it has more than ten minutes
 * to live (or when no refresh token is stored); EnsureCredentials fails, since it asks the
 * provider over the network who the token belongs to, but not with NotAuthorized. Without the
 * keyring item, or without an access token in it, GOA answers NotAuthorized.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ENVOI_TEST_GOA_DAEMON "/usr/libexec/goa-daemon"

/* FALSE (and the test should g_test_skip()) when goa-daemon is not installed. */
gboolean  envoi_test_goa_available            (void);

/* An IMAP and SMTP password account sending through 127.0.0.1:smtp_port without TLS. */
void      envoi_test_goa_add_password_account (const char  *id,
                                               const char  *user,
                                               const char  *address,
                                               guint16      smtp_port,
                                               const char  *password);

/* An OAuth 2 account of `provider` ("google" or "windows_live": GOA 3.46 has no "ms365") whose
 * identity and mail address is `address`, with the credentials of
 * envoi_test_goa_set_oauth2_token(). */
void      envoi_test_goa_add_oauth2_account   (const char  *id,
                                               const char  *provider,
                                               const char  *address,
                                               const char  *access_token,
                                               const char  *refresh_token,
                                               gint64       expires_in);

/* Replaces the account's credentials: `refresh_token` may be NULL, `expires_in` is in seconds
 * from now (negative: expired). */
void      envoi_test_goa_set_oauth2_token     (const char  *id,
                                               const char  *provider,
                                               const char  *access_token,
                                               const char  *refresh_token,
                                               gint64       expires_in);

/* Deletes the account's keyring item: GOA then answers NotAuthorized, as after a revoked
 * sign-in. */
void      envoi_test_goa_forget_credentials   (const char  *id,
                                               const char  *provider);

/* Removes every account from the key file (and the keyring items of the ones it lists). */
void      envoi_test_goa_clear                (void);

/* Starts goa-daemon --replace and waits until it owns org.gnome.OnlineAccounts; stops it. */
void      envoi_test_goa_start                (void);
void      envoi_test_goa_stop                 (void);

/* GOA's answer to Account.EnsureCredentials (NULL error: it succeeded), and the account's
 * AttentionNeeded property: what GOA itself decided. */
GError   *envoi_test_goa_ensure_credentials   (const char  *id);
gboolean  envoi_test_goa_attention_needed     (const char  *id);

/* tests/xoauth2-smtpd.py, in a new directory of its own under XDG_CACHE_HOME (a session may run
 * a suite twice), taking the `accepted` bearer tokens (NULL-terminated) for `user` only. Returns
 * the server; `dir` (free it) receives its directory (DIR/tokens, DIR/messages, DIR/held…), `port`
 * its loopback port. With `hold_rejections`, each refusal waits for envoi_test_xoauth2_release(). */
GSubprocess *envoi_test_xoauth2_start          (const char          *user,
                                                const char * const  *accepted,
                                                gboolean             hold_rejections,
                                                char               **dir,
                                                guint16             *port);
/* What the server saw: "USER TOKEN" a line, in order; "" before anything. */
char        *envoi_test_xoauth2_tokens         (const char          *dir);
/* A held refusal: whether one waits, and letting it go on. */
gboolean     envoi_test_xoauth2_is_held        (const char          *dir);
void         envoi_test_xoauth2_release        (const char          *dir);
void         envoi_test_xoauth2_stop           (GSubprocess         *server);

G_END_DECLS

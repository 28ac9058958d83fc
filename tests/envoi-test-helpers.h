/* envoi-test-helpers.h: small things every test binary needs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account.h"
#include "envoi-secret.h"

G_BEGIN_DECLS

/* The canary: the one password the test servers accept. It must never appear anywhere
 * but in the keyring; the suite looks for it in every file the tests leave behind. */
#define ENVOI_TEST_PASSWORD "Canary-7Qz9-envoi-p4ss"
#define ENVOI_TEST_USER     "envoi-test"
/* Another canary, found the same way: every OAuth 2 access token the tests hand GOA starts with
 * it (tests/check-canary.py reads both here). The test XOAUTH2 server keeps the tokens it is
 * given and sees in ROT13, so that the scan finds only what Envoi wrote. */
#define ENVOI_TEST_OAUTH_TOKEN "ya29.Canary-oauth-Tk8r"
/* And the HTTP transports' API key, the only one tests/http-sink.py accepts. */
#define ENVOI_TEST_API_KEY "Canary-apikey-Hx3m-envoi"
/* And the mailbox passwords, the only ones tests/dovecot.py accepts, each for its protocol. */
#define ENVOI_TEST_POP_PASSWORD  "Canary-pop3-Wd5v-envoi"
#define ENVOI_TEST_IMAP_PASSWORD "Canary-imap-Qm2j-envoi"

/* ---- waiting: the main loop runs, the test polls ---------------------------------------------
 * The one copy of the test binaries' polling loops. The default main context runs (blocking,
 * woken at least every 10 ms so that a condition on something outside the loop, a file or a
 * process, is seen), and a deadline is never a timing assertion by itself: it only turns a
 * broken feature into a failure instead of a hang. */
typedef gboolean (*EnvoiTestCondition) (gpointer data);

/* Runs the main loop until @condition (@data) holds; FALSE if @seconds passed first. */
gboolean      envoi_test_wait_until      (EnvoiTestCondition  condition,
                                          gpointer            data,
                                          guint               seconds);
/* Runs the main loop for @milliseconds, whatever happens. */
void          envoi_test_spin            (guint               milliseconds);
/* Runs the main loop until the weak pointer at @slot is cleared; fails after @seconds. */
void          envoi_test_wait_cleared    (gpointer           *slot,
                                          guint               seconds);

guint16       envoi_test_env_port        (const char      *variable);
const char   *envoi_test_env             (const char      *variable);
void          envoi_test_async_result_cb (GObject         *source,
                                          GAsyncResult    *result,
                                          gpointer         user_data);
GAsyncResult *envoi_test_wait            (GAsyncResult   **slot);
void          envoi_test_install_sender_service (const char *daemon_path);
/* The account's keyring secret for @service (NULL: none), from the real keyring; free it with
 * envoi_secret_free(). */
char         *envoi_test_lookup_secret          (EnvoiAccount *account,
                                                 EnvoiService  service);

/* Ends the activated envoi-sender, if one runs, with SIGTERM, and waits until it is gone. */
void          envoi_test_stop_sender_service    (void);
/* The pid of the envoi-sender that owns its bus name, 0 when none does. */
guint32       envoi_test_sender_pid             (void);
/* An EnvoiTestCondition: the envoi-sender whose pid is @pid (GUINT_TO_POINTER) has left the bus
 * and exited. */
gboolean      envoi_test_sender_gone            (gpointer      pid);
/* Sends @signal_number to the envoi-sender that owns its bus name, if one does, and runs the
 * main loop until it has left the bus and exited; fails the test if that takes over @seconds. */
void          envoi_test_signal_sender          (int           signal_number,
                                                 guint         seconds);

/* A FIFO in the spool holds whoever reads the queue inside open() until a writer opens it; a
 * writer can open it only then. Waits for that (at most 60 s), lets the reader go (it finds no
 * message there) and removes the FIFO. */
void          envoi_test_release_fifo           (const char   *path);

/* How many names in @dir end with @suffix (NULL: any name); 0 when @dir does not exist. */
guint         envoi_test_count_files            (const char   *dir,
                                                 const char   *suffix);

G_END_DECLS

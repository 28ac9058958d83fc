/* envoi-keyring-watch.h: news from the desktop keyring, heard on the session bus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define ENVOI_TYPE_KEYRING_WATCH (envoi_keyring_watch_get_type ())

G_DECLARE_FINAL_TYPE (EnvoiKeyringWatch, envoi_keyring_watch, ENVOI, KEYRING_WATCH, GObject)

/* Follows the Secret Service (org.freedesktop.secrets) over plain GDBus, so that the daemon,
 * which links no libsecret, learns when waiting messages may go:
 *   ::item-changed (const char *account_id): an item was created or changed by any program;
 *     @account_id is its "account" attribute, or NULL when it could not be read (then any
 *     account may be concerned). Items without an "account" attribute are not Envoi's and
 *     are not reported.
 *   ::unlocked: a collection was unlocked, or a keyring daemon (re)started on the bus, as one
 *     does at login, or the default collection was found unlocked while something waited
 *     (envoi_keyring_watch_wait_for_unlock).
 * Every signal comes on the main loop of the thread that made the watch; nothing blocks it. */
EnvoiKeyringWatch *envoi_keyring_watch_new         (GDBusConnection   *connection);
/* How many times ::unlocked was emitted: an answer that the keyring is locked, asked before
 * the last unlock, is out of date. */
guint              envoi_keyring_watch_get_unlocks (EnvoiKeyringWatch *self);
/* Something waits for the keyring: ::unlocked is also emitted when the default collection is
 * found unlocked by asking it each second (gnome-keyring signals nothing when PAM unlocks it),
 * until the next ::unlocked. */
void               envoi_keyring_watch_wait_for_unlock (EnvoiKeyringWatch *self);

G_END_DECLS

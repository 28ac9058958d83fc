/* envoi-queue-commit.h: durable writes into the spool, many sharing one directory fsync
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _EnvoiQueueCommit EnvoiQueueCommit;

/* Writes @contents to @name in the directory @dir_fd (not taken) the durable way, at once, in
 * the caller's thread: to @tmp_name, fsync, rename to @name. The directory is not fsynced:
 * the rename is durable only once it is. @directory is for the messages of errors. */
gboolean          envoi_queue_commit_write_file   (int                  dir_fd,
                                                   const char          *directory,
                                                   const char          *name,
                                                   const char          *tmp_name,
                                                   const void          *data,
                                                   gsize                length,
                                                   GError             **error);
/* fsync of the directory itself, in the queue's error domain. */
gboolean          envoi_queue_commit_sync_dir     (int                  dir_fd,
                                                   const char          *directory,
                                                   GError             **error);

/* The group commit: one worker thread writes the files it is given, and the ones given while it
 * works go together in its next round: each one's temporary file written and fsynced, every one
 * renamed into place, then one fsync of the directory for all of them. Each write's callback
 * runs in the thread-default main context of its _async() call, only once its file is durable
 * (fsynced, renamed, and the directory fsynced after the rename) or has failed and is gone. */
EnvoiQueueCommit *envoi_queue_commit_new          (int                  dir_fd,
                                                   const char          *directory);
void              envoi_queue_commit_write_async  (EnvoiQueueCommit    *self,
                                                   const char          *name,
                                                   const char          *tmp_name,
                                                   GBytes              *contents,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean          envoi_queue_commit_write_finish (GAsyncResult        *result,
                                                   GError             **error);
/* Waits for the writes given so far (their callbacks still run in their contexts), then stops
 * the worker. @dir_fd must stay open until then. */
void              envoi_queue_commit_free         (EnvoiQueueCommit    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EnvoiQueueCommit, envoi_queue_commit_free)

G_END_DECLS

/* envoi-queue-file.h: the spool's files, as EnvoiQueue writes and reads them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-queue-entry.h"

G_BEGIN_DECLS

/* Each queued message is ID.msg, and ID.env once its state has changed. */
#define ENVOI_QUEUE_MSG_SUFFIX ".msg"
#define ENVOI_QUEUE_ENV_SUFFIX ".env"

/* ID.msg starts with a line "ENVOI-QUEUE 1 <envelope bytes> <message bytes>", then the
 * envelope key file as written when queued, then the message. */
#define ENVOI_QUEUE_FILE_MAGIC "ENVOI-QUEUE 1"
#define ENVOI_QUEUE_FILE_MAX_HEADER 64

gboolean         _envoi_queue_file_parse_header (const char  *data,
                                                 gsize        available,
                                                 gsize        length,
                                                 gsize       *offset,
                                                 gsize       *env_length,
                                                 gsize       *msg_length,
                                                 GError     **error);
void             _envoi_queue_file_set_errno_error (GError     **error,
                                                    GQuark       domain,
                                                    int          code,
                                                    int          saved_errno,
                                                    const char  *what,
                                                    const char  *path);
void             _envoi_queue_file_set_error    (GError     **error,
                                                 int          saved_errno,
                                                 const char  *what,
                                                 const char  *path);
gssize           _envoi_queue_file_read_at      (int          fd,
                                                 void        *buffer,
                                                 gsize        length,
                                                 goffset      offset);
GMappedFile     *_envoi_queue_file_map          (const char  *directory,
                                                 const char  *id,
                                                 gsize       *offset,
                                                 gsize       *env_length,
                                                 gsize       *msg_length,
                                                 GError     **error);
EnvoiQueueEntry *_envoi_queue_file_load_entry   (const char  *directory,
                                                 int          dir_fd,
                                                 const char  *id,
                                                 GError     **error);

G_END_DECLS

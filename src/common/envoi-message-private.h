/* envoi-message-private.h: the steps of message preparation, for the queue's submission path
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "envoi-gmime-private.h"

G_BEGIN_DECLS

GMimeMessage *_envoi_message_parse              (GBytes        *raw,
                                                 GError       **error);
char         *_envoi_message_dup_header_from    (GMimeMessage  *message);
GStrv         _envoi_message_extract_recipients (GMimeMessage  *message);
void          _envoi_message_add_unique         (GPtrArray     *array,
                                                 const char    *address);
GBytes       *_envoi_message_finish_checked     (GMimeMessage  *message,
                                                 const char    *envelope_from,
                                                 const char    *full_name,
                                                 GError       **error);

G_END_DECLS

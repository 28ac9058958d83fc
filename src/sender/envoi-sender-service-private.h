/* envoi-sender-service-private.h: what the sender's two files share — the service's state, and
 * the calls its D-Bus methods (envoi-sender-service-dbus.c) make into the scheduler, the queue
 * and the watchers (envoi-sender-service.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "envoi-account-store.h"
#include "envoi-delivery.h"
#include "envoi-history.h"
#include "envoi-keyring-watch.h"
#include "envoi-ledger.h"
#include "envoi-queue.h"
#include "envoi-sender-dbus.h"
#include "envoi-sender-service.h"
#include "envoi-submit-socket.h"

G_BEGIN_DECLS

struct _EnvoiSenderService
{
  GApplication       parent_instance;

  EnvoiQueue        *queue;
  EnvoiLedger       *ledger;
  EnvoiHistory      *history;
  EnvoiAccountStore *store;
  GSettings         *settings;
  EnvoiDBusSender1  *skeleton;
  GHashTable        *deliveries;  /* account id (interned) → EnvoiDelivery */
  GCancellable      *cancellable;
  GSocket           *nudge;
  GSource           *nudge_source;
  GFileMonitor      *spool_monitor;
  GHashTable        *spool_seen;     /* ids of the messages the watch saw land since its scan */
  guint              spool_scan_id;
  int                autostart;  /* asked of the Background portal: -1 not yet, else the value */
  EnvoiSubmitSocket *submit;
  EnvoiKeyringWatch *keyring;
  int                log_fd;

  guint              schedule_id;
  guint              wake_id;
  guint              sync_id;
  guint              idle_id;
  guint              scan_id;
  gboolean           scanning;     /* an envoi_queue_scan_async() under way */
  gboolean           scan_again;   /* and another one asked for meanwhile */
  char              *scan_mark;    /* the queue's mark when it started (envoi_queue_get_mark()) */
  guint              trim_id;
  guint              trims_left;
  guint              idle_timeout;
  gboolean           replace;
  gboolean           held;
  gboolean           loaded;
  guint              attempts_in_flight;
  GQueue             attempts;     /* sends with the agent, in the order they were handed over */
  GHashTable        *usage_dirty;  /* account ids whose UsageChanged waits for usage_id */
  GHashTable        *sending_news; /* entries whose "sending" waits for sending_news_id */
  guint              sending_news_id;
  guint              usage_id;
};

void           _envoi_sender_service_log_event        (EnvoiSenderService *self,
                                                      const char         *id,
                                                      const char         *account_id,
                                                      const char         *event,
                                                      const char         *detail);
EnvoiDelivery *_envoi_sender_service_get_delivery     (EnvoiSenderService *self,
                                                      const char         *account_id);
void           _envoi_sender_service_release_memory   (EnvoiSenderService *self);
void           _envoi_sender_service_emit_changed     (EnvoiSenderService *self,
                                                      EnvoiQueueEntry    *entry,
                                                      const char         *state);
void           _envoi_sender_service_queue_sync       (EnvoiSenderService *self);
void           _envoi_sender_service_record_history   (EnvoiSenderService *self,
                                                      EnvoiQueueEntry    *entry,
                                                      const char         *outcome,
                                                      const char         *reply,
                                                      gboolean            announce_sent);
void           _envoi_sender_service_scan_queue       (EnvoiSenderService *self);
gboolean       _envoi_sender_service_is_sending       (EnvoiQueueEntry    *entry);
void           _envoi_sender_service_schedule         (EnvoiSenderService *self);
void           _envoi_sender_service_update_idle      (EnvoiSenderService *self);
void           _envoi_sender_service_resume_delivery  (EnvoiSenderService *self,
                                                      EnvoiDelivery      *delivery,
                                                      const char         *why);
void           _envoi_sender_service_resume_paused    (EnvoiSenderService *self,
                                                      gboolean            keyring_only,
                                                      const char         *why);
void           _envoi_sender_service_take_submitted   (EnvoiSenderService *self,
                                                      EnvoiQueueEntry    *written);

/* envoi-sender-service-dbus.c: the methods of io.github.envoimail.Envoi.Sender1 */
void           _envoi_sender_service_init_dbus        (EnvoiSenderService *self);

G_END_DECLS

/* The event bus: one nng PUB socket. Each message is
 *   topic | 0x00 | sbx.v1.Event
 * with a per-topic sequence number so subscribers detect gaps (nng drops
 * messages for slow subscribers) and backfill from storage. */
#ifndef SBX_SERVER_EVENTS_H
#define SBX_SERVER_EVENTS_H

#include "err.h"
#include "sbx/v1/events.pb-c.h"

/* Listens on `addr` (ipc://, tcp://...). `boot_id` is copied into every
 * event. Send buffers are deep (8192) so bursts are not dropped. */
sbx_status events_start(const char *addr, const char *boot_id, err_t *e);

/* Publishes `ev` on `topic` (a delimited prefix such as "events.settings.").
 * Fills ev->topic, seq, boot_id and time. Never blocks; safe from any thread. */
void events_publish(const char *topic, Sbx__V1__Event *ev);
/* The same with `payload` (borrowed) packed as ev's payload bytes without
 * an intermediate buffer; ev->payload is overwritten. */
void events_publish_message(const char *topic, Sbx__V1__Event *ev, const ProtobufCMessage *payload);

/* The sequence number the next event on `topic` will carry. */
uint64_t events_next_seq(const char *topic);

/* Drops the sequence counter of a finished stream (e.g. an execution's
 * log topic) so the table of topics does not grow without bound. */
void events_forget(const char *topic);

void events_stop(void);

#endif

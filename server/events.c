#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "clock.h"
#include "events.h"

#define BUCKETS 1024
#define SEND_BUFFER 128

struct topic_seq {
	struct topic_seq *next;
	uint64_t seq;
	char name[];
};

static nng_socket pub_sock = NNG_SOCKET_INITIALIZER;
static int started;
static char boot[64];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct topic_seq *buckets[BUCKETS];

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++) {
		h = (h ^ (unsigned char)*s) * 16777619u;
	}
	return h % BUCKETS;
}

/* Caller holds mu. */
static struct topic_seq *lookup(const char *topic, int create)
{
	unsigned h = hash(topic);
	for (struct topic_seq *t = buckets[h]; t != NULL; t = t->next) {
		if (strcmp(t->name, topic) == 0) {
			return t;
		}
	}
	if (!create) {
		return NULL;
	}
	size_t n = strlen(topic) + 1;
	struct topic_seq *t = malloc(sizeof(*t) + n);
	if (t == NULL) {
		return NULL;
	}
	memcpy(t->name, topic, n);
	t->seq = 0;
	t->next = buckets[h];
	buckets[h] = t;
	return t;
}

sbx_status events_start(const char *addr, const char *boot_id, err_t *e)
{
	int rv;
	snprintf(boot, sizeof(boot), "%s", boot_id);
	if ((rv = nng_pub0_open(&pub_sock)) != 0 ||
	    (rv = nng_socket_set_int(pub_sock, NNG_OPT_SENDBUF, SEND_BUFFER)) != 0) {
		return err_set(e, SBX_INTERNAL, "event socket: %s", nng_strerror(rv));
	}
	if ((rv = nng_listen(pub_sock, addr, NULL, 0)) != 0) {
		nng_close(pub_sock);
		return err_set(e, SBX_UNAVAILABLE, "listen %s: %s", addr, nng_strerror(rv));
	}
	started = 1;
	return SBX_OK;
}

/* Appends `v` as a protobuf varint; returns the bytes written. */
static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return n;
}

static void publish(const char *topic, Sbx__V1__Event *ev, const ProtobufCMessage *payload)
{
	if (!started) {
		return;
	}
	size_t tlen = strlen(topic);
	ev->topic = (char *)topic;
	ev->boot_id = boot;
	ev->time_unix_ms = clock_wall_ms();
	/* A message payload is packed straight into the bus message as the
	 * Event's `payload` field (9, bytes), after the others: protobuf
	 * leaves field order on the wire free, and output chunks are large
	 * enough that packing them into a buffer first costs a copy of every
	 * byte. */
	size_t plen = payload ? protobuf_c_message_get_packed_size(payload) : 0;
	uint8_t field_head[16];
	size_t hlen = 0;
	if (payload != NULL) {
		ev->payload.data = NULL;
		ev->payload.len = 0;
		field_head[hlen++] = (9 << 3) | 2; /* field 9, length-delimited */
		hlen += put_varint(field_head + hlen, plen);
	}
	pthread_mutex_lock(&mu);
	struct topic_seq *t = lookup(topic, 1);
	ev->seq = t ? ++t->seq : 0;
	size_t n = protobuf_c_message_get_packed_size(&ev->base);
	nng_msg *m;
	if (nng_msg_alloc(&m, tlen + 1 + n + hlen + plen) == 0) {
		uint8_t *body = nng_msg_body(m);
		memcpy(body, topic, tlen);
		body[tlen] = 0;
		uint8_t *w = body + tlen + 1;
		w += protobuf_c_message_pack(&ev->base, w);
		if (payload != NULL) {
			memcpy(w, field_head, hlen);
			protobuf_c_message_pack(payload, w + hlen);
		}
		/* Sending under the lock keeps the wire order equal to the
		 * sequence order; PUB never blocks (full queues drop). */
		if (nng_sendmsg(pub_sock, m, NNG_FLAG_NONBLOCK) != 0) {
			nng_msg_free(m);
		}
	}
	pthread_mutex_unlock(&mu);
}

void events_publish(const char *topic, Sbx__V1__Event *ev)
{
	publish(topic, ev, NULL);
}

void events_publish_message(const char *topic, Sbx__V1__Event *ev, const ProtobufCMessage *payload)
{
	publish(topic, ev, payload);
}

uint64_t events_next_seq(const char *topic)
{
	pthread_mutex_lock(&mu);
	struct topic_seq *t = lookup(topic, 0);
	uint64_t s = t ? t->seq + 1 : 1;
	pthread_mutex_unlock(&mu);
	return s;
}

void events_forget(const char *topic)
{
	pthread_mutex_lock(&mu);
	struct topic_seq **pp = &buckets[hash(topic)];
	while (*pp != NULL) {
		if (strcmp((*pp)->name, topic) == 0) {
			struct topic_seq *t = *pp;
			*pp = t->next;
			free(t);
			break;
		}
		pp = &(*pp)->next;
	}
	pthread_mutex_unlock(&mu);
}

void events_stop(void)
{
	if (started) {
		nng_close(pub_sock);
		started = 0;
	}
	pthread_mutex_lock(&mu);
	for (int i = 0; i < BUCKETS; i++) {
		while (buckets[i] != NULL) {
			struct topic_seq *t = buckets[i];
			buckets[i] = t->next;
			free(t);
		}
	}
	pthread_mutex_unlock(&mu);
}

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "fdio.h"
#include "methods.h"
#include "paths.h"
#include "sbx/sbx.h"
#include "wire.h"
#include "sbx/v1/rpc.pb-c.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRIES 3
#define TOKEN_MAX 256
#define SUB_RECV_BUFFER 64

/* An nng context with its aio, reused across calls: opening them per call
 * costs as much as the rest of the client path. */
struct slot {
	struct slot *next;
	nng_ctx ctx;
	nng_aio *aio;
};

struct sbx_client {
	nng_socket sock;
	pthread_mutex_t mu;
	struct slot *idle;
	char event_address[1024];
	nng_tls_config *tls;
	char address[1024];
	char token[TOKEN_MAX];
	int timeout_ms;
	int max_retries;
	size_t max_message;
};

/* Subscriptions reuse SUB sockets, process-wide: closing a SUB socket can
 * deadlock in nng 1.5's close path (seen in sbx_disconnect, waiting for a
 * pipe the reaper never takes), and a fresh socket costs a dial. An
 * unsubscribed socket goes to a pool shared by every client of the process,
 * keyed by event address and message limit, so it outlives sbx_disconnect
 * and is never closed; messages of its old topic still in flight are
 * skipped by prefix. Past SUB_POOL_MAX idle sockets (many subscriptions at
 * once, then none) the extra ones are closed. */
#define SUB_POOL_MAX 32

struct sbx_subscription {
	struct sbx_subscription *next; /* in the pool */
	nng_socket sock;
	size_t max_message;
	char address[1024];
	char topic[256];
};

static pthread_mutex_t sub_pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sbx_subscription *sub_pool;
static int sub_pool_n;

/* An idle socket dialled to `address` with this limit, or NULL. */
static struct sbx_subscription *sub_pool_take(const char *address, size_t max_message)
{
	pthread_mutex_lock(&sub_pool_mu);
	struct sbx_subscription **pp = &sub_pool, *sub = NULL;
	for (; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->max_message == max_message && strcmp((*pp)->address, address) == 0) {
			sub = *pp;
			*pp = sub->next;
			sub_pool_n--;
			break;
		}
	}
	pthread_mutex_unlock(&sub_pool_mu);
	return sub;
}

static void sub_pool_put(struct sbx_subscription *sub)
{
	pthread_mutex_lock(&sub_pool_mu);
	int keep = sub_pool_n < SUB_POOL_MAX;
	if (keep) {
		sub->next = sub_pool;
		sub_pool = sub;
		sub_pool_n++;
	}
	pthread_mutex_unlock(&sub_pool_mu);
	if (!keep) {
		nng_close(sub->sock);
		free(sub);
	}
}

static sbx_status set_err(sbx_error *err, sbx_status code, const char *field,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static sbx_status set_err(sbx_error *err, sbx_status code, const char *field,
			  const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
		snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	}
	return code;
}

const char *sbx_error_message(const sbx_error *err)
{
	return err && err->message[0] ? err->message : sbx_status_name(err ? (int)err->code : 2);
}

/* nng errors at the client boundary. */
static sbx_status from_nng(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return SBX_DEADLINE_EXCEEDED;
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
	case NNG_ENOENT:
	case NNG_EADDRINVAL:
	case NNG_EUNREACHABLE:
		return rv == NNG_EADDRINVAL ? SBX_INVALID_ARGUMENT : SBX_UNAVAILABLE;
	case NNG_ENOMEM:
		return SBX_RESOURCE_EXHAUSTED;
	case NNG_ECANCELED:
		return SBX_CANCELLED;
	default:
		return SBX_UNKNOWN;
	}
}

static void read_token_file(char *out, size_t cap)
{
	char dir[1024], path[1100];
	if (paths_data_dir(dir, sizeof(dir)) != 0 ||
	    paths_admin_token(dir, path, sizeof(path)) != 0) {
		return;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return;
	}
	if (fgets(out, (int)cap, f) == NULL) {
		out[0] = '\0';
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
}

static sbx_status setup_tls(sbx_client *c, nng_dialer d, const sbx_options *opt,
			    sbx_error *err)
{
	int rv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT);
	if (rv == 0 && opt->tls_ca_file != NULL) {
		rv = nng_tls_config_ca_file(c->tls, opt->tls_ca_file);
		if (rv == 0) {
			rv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_REQUIRED);
		}
	} else if (rv == 0) {
		rv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	if (rv == 0 && opt->tls_server_name != NULL) {
		rv = nng_tls_config_server_name(c->tls, opt->tls_server_name);
	}
	if (rv == 0) {
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c->tls);
	}
	return rv == 0 ? SBX_OK
		       : set_err(err, SBX_INVALID_ARGUMENT, "tls_ca_file", "TLS set-up: %s",
				 nng_strerror(rv));
}

sbx_status sbx_connect(sbx_client **out, const sbx_options *opt, sbx_error *err)
{
	static const sbx_options defaults;
	*out = NULL;
	if (opt == NULL) {
		opt = &defaults;
	}
	sbx_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return set_err(err, SBX_RESOURCE_EXHAUSTED, NULL, "out of memory");
	}
	const char *addr = opt->address ? opt->address : getenv("SBX_ADDR");
	if (addr != NULL && addr[0] != '\0') {
		snprintf(c->address, sizeof(c->address), "%s", addr);
	} else {
		paths_default_listen(c->address, sizeof(c->address));
	}
	const char *tok = opt->token ? opt->token : getenv("SBX_TOKEN");
	if (tok != NULL && tok[0] != '\0') {
		snprintf(c->token, sizeof(c->token), "%s", tok);
	} else {
		read_token_file(c->token, sizeof(c->token));
	}
	c->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_retries = opt->max_retries < 0 ? 0 : opt->max_retries ? opt->max_retries : DEFAULT_RETRIES;
	c->max_message = opt->max_message ? opt->max_message : SBX_DEFAULT_MAX_MESSAGE;
	pthread_mutex_init(&c->mu, NULL);

	nng_dialer d;
	int rv = nng_req0_open(&c->sock);
	if (rv == 0) {
		/* No blind resends: writes carry idempotency keys and reads are
		 * retried here, with backoff, on UNAVAILABLE only. */
		rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	}
	if (rv == 0) {
		rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_message + 65536);
	}
	if (rv == 0) {
		rv = nng_dialer_create(&d, c->sock, c->address);
	}
	if (rv != 0) {
		sbx_status s = set_err(err, from_nng(rv) == SBX_INVALID_ARGUMENT ? SBX_INVALID_ARGUMENT : SBX_UNAVAILABLE,
				       "address", "%s: %s", c->address, nng_strerror(rv));
		sbx_disconnect(c);
		return s;
	}
	if (strncmp(c->address, "tls+", 4) == 0 && setup_tls(c, d, opt, err) != SBX_OK) {
		sbx_disconnect(c);
		return err ? err->code : SBX_INVALID_ARGUMENT;
	}
	/* The first dial is synchronous so that "nothing is listening" is an
	 * answer now, not a timeout later; nng redials by itself afterwards. */
	rv = nng_dialer_start(d, 0);
	if (rv != 0) {
		sbx_status s = set_err(err, SBX_UNAVAILABLE, NULL,
				       "cannot connect to %s: %s (is sbxd running?)", c->address,
				       nng_strerror(rv));
		sbx_disconnect(c);
		return s;
	}
	*out = c;
	return SBX_OK;
}

void sbx_disconnect(sbx_client *c)
{
	if (c == NULL) {
		return;
	}
	/* Contexts before the socket: nng can hang closing a REQ socket whose
	 * contexts are still open. */
	while (c->idle != NULL) {
		struct slot *s = c->idle;
		c->idle = s->next;
		nng_aio_free(s->aio);
		nng_ctx_close(s->ctx);
		free(s);
	}
	nng_close(c->sock);
	pthread_mutex_destroy(&c->mu);
	if (c->tls != NULL) {
		nng_tls_config_free(c->tls);
	}
	memset(c->token, 0, sizeof(c->token));
	free(c);
}

const char *sbx_client_address(const sbx_client *c)
{
	return c->address;
}

void sbx_free(void *resp)
{
	if (resp != NULL) {
		protobuf_c_message_free_unpacked(resp, NULL);
	}
}

/* A fresh idempotency key: 128 random bits from the kernel. (A key that
 * repeats across calls would make the daemon refuse the second call as a
 * different request under a used key.) */
static void new_key(char key[40])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n > 0) {
			got += (size_t)n;
		} else if (errno != EINTR) {
			abort(); /* no kernel randomness: nothing sane to fall back to */
		}
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		key[2 * i] = hex[r[i] >> 4];
		key[2 * i + 1] = hex[r[i] & 15];
	}
	key[32] = '\0';
}

static struct slot *slot_get(sbx_client *c)
{
	pthread_mutex_lock(&c->mu);
	struct slot *s = c->idle;
	if (s != NULL) {
		c->idle = s->next;
	}
	pthread_mutex_unlock(&c->mu);
	if (s != NULL) {
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	if (nng_ctx_open(&s->ctx, c->sock) != 0) {
		free(s);
		return NULL;
	}
	if (nng_aio_alloc(&s->aio, NULL, NULL) != 0) {
		nng_ctx_close(s->ctx);
		free(s);
		return NULL;
	}
	return s;
}

/* Returns a slot for reuse; one whose call failed is closed instead, so a
 * late reply to it can never be taken for the next call's. */
static void slot_put(sbx_client *c, struct slot *s, int failed)
{
	if (failed) {
		nng_aio_free(s->aio);
		nng_ctx_close(s->ctx);
		free(s);
		return;
	}
	pthread_mutex_lock(&c->mu);
	s->next = c->idle;
	c->idle = s;
	pthread_mutex_unlock(&c->mu);
}

/* One attempt: send, receive, decode. */
static sbx_status call_once(sbx_client *c, const sbx_method_info *m,
			    const ProtobufCMessageDescriptor *out_desc, nng_msg *msg,
			    int timeout_ms, ProtobufCMessage **resp, sbx_error *err)
{
	struct slot *sl = slot_get(c);
	if (sl == NULL) {
		nng_msg_free(msg);
		return set_err(err, SBX_RESOURCE_EXHAUSTED, NULL, "%s: cannot open a context", m->name);
	}
	nng_aio *aio = sl->aio;
	nng_ctx ctx = sl->ctx;
	int rv;
	/* One deadline covers send and receive (nng 1.5 has no blocking
	 * per-context send/recv: drive the aio and wait). */
	nng_msg *reply = NULL;
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
	} else {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == 0) {
			reply = nng_aio_get_msg(aio);
		}
	}
	slot_put(c, sl, rv);
	if (rv != 0) {
		return set_err(err, from_nng(rv), NULL, "%s: %s%s", m->name, nng_strerror(rv),
			       rv == NNG_ETIMEDOUT ? " (deadline exceeded)" : "");
	}
	const uint8_t *hb, *bb;
	size_t hl, bl;
	Sbx__V1__ReplyHeader *h = NULL;
	sbx_status s = SBX_OK;
	if (wire_split(nng_msg_body(reply), nng_msg_len(reply), &hb, &hl, &bb, &bl) != 0 ||
	    wire_unpack(&sbx__v1__reply_header__descriptor, hb, hl, wire_unpack_budget(hl),
			(ProtobufCMessage **)&h) != SBX_OK) {
		s = set_err(err, SBX_INTERNAL, NULL, "%s: malformed reply", m->name);
	} else if (h->code != SBX_OK) {
		const char *field = NULL;
		for (size_t i = 0; i < h->n_details; i++) {
			if (h->details[i]->detail_case == SBX__V1__ERROR_DETAIL__DETAIL_FIELD_VIOLATION) {
				field = h->details[i]->field_violation->field;
			}
		}
		s = set_err(err, h->code > 0 && h->code <= SBX_STATUS_MAX ? (sbx_status)h->code : SBX_UNKNOWN,
			    field, "%s", h->message);
	} else {
		s = wire_unpack(out_desc, bb, bl, wire_unpack_budget(bl), resp);
		if (s != SBX_OK) {
			set_err(err, SBX_INTERNAL, NULL, "%s: malformed %s in reply", m->name,
				out_desc->name);
		}
	}
	if (h != NULL) {
		protobuf_c_message_free_unpacked(&h->base, NULL);
	}
	nng_msg_free(reply);
	return s;
}

static nng_msg *build_request(sbx_client *c, const sbx_method_info *m,
			      const ProtobufCMessage *req, int timeout_ms, const char *key,
			      sbx_error *err)
{
	Sbx__V1__CallHeader h = SBX__V1__CALL_HEADER__INIT;
	h.method = (char *)m->name;
	h.timeout_ms = timeout_ms;
	h.token = c->token;
	h.idempotency_key = (char *)key;
	size_t n = wire_frame_size(&h.base, req);
	/* An oversized request would be dropped by the daemon with the pipe
	 * closed: the caller would only see a timeout. Say it now instead. */
	if (n > c->max_message) {
		set_err(err, SBX_RESOURCE_EXHAUSTED, NULL,
			"%s: request of %zu bytes exceeds the %zu-byte message limit", m->name, n,
			c->max_message);
		return NULL;
	}
	nng_msg *msg;
	if (nng_msg_alloc(&msg, n) != 0) {
		set_err(err, SBX_RESOURCE_EXHAUSTED, NULL, "out of memory");
		return NULL;
	}
	wire_pack(&h.base, req, nng_msg_body(msg));
	return msg;
}

static void backoff(int attempt)
{
	long ms = 50L << attempt;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

sbx_status sbx_call(sbx_client *c, const char *method, const ProtobufCMessage *req,
		    ProtobufCMessage **resp, const sbx_call_options *copt, sbx_error *err)
{
	*resp = NULL;
	const sbx_method_info *m = sbx_method_find(method, strlen(method));
	if (m == NULL) {
		return set_err(err, SBX_UNIMPLEMENTED, NULL, "unknown method %s", method);
	}
	const ProtobufCMessageDescriptor *in = sbx_method_input(m);
	const ProtobufCMessageDescriptor *out = sbx_method_output(m);
	if (req == NULL || req->descriptor != in) {
		return set_err(err, SBX_INVALID_ARGUMENT, NULL, "%s takes a %s", method,
			       in ? in->name : "?");
	}
	int timeout = copt && copt->timeout_ms ? copt->timeout_ms : c->timeout_ms;
	char key[40] = "";
	if (copt && copt->idempotency_key) {
		snprintf(key, sizeof(key), "%s", copt->idempotency_key);
	} else if ((m->flags & (M_READONLY | M_IDEMPOTENT)) == 0) {
		/* Only writes that would apply twice need a key: an idempotent
		 * one is simply sent again, sparing the daemon a hash of the
		 * request and a stored reply (a copy's every 2 MiB part). */
		new_key(key);
	}
	int retryable = (m->flags & (M_IDEMPOTENT | M_READONLY)) != 0;
	sbx_status s;
	for (int attempt = 0;; attempt++) {
		nng_msg *msg = build_request(c, m, req, timeout, key, err);
		if (msg == NULL) {
			return err ? err->code : SBX_RESOURCE_EXHAUSTED;
		}
		/* A negative timeout tells the daemon the budget is spent; the
		 * wait here still needs a positive one. */
		s = call_once(c, m, out, msg, timeout > 0 ? timeout : c->timeout_ms, resp, err);
		if (s != SBX_UNAVAILABLE || !retryable || attempt >= c->max_retries) {
			return s;
		}
		backoff(attempt);
	}
}

#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, flags)                                  \
	sbx_status sbx_##fn(sbx_client *c, const Sbx__V1__##In *req, Sbx__V1__##Out **resp, \
			    sbx_error *err)                                                 \
	{                                                                                   \
		return sbx_call(c, "/sbx.v1." #Svc "/" #Meth, &req->base,                  \
				(ProtobufCMessage **)resp, NULL, err);                      \
	}
#include "sbx/methods.def"
#undef SBX_METHOD

/* ---- events ------------------------------------------------------------ */

static sbx_status event_address(sbx_client *c, char *out, size_t cap, sbx_error *err)
{
	pthread_mutex_lock(&c->mu);
	int known = c->event_address[0] != '\0';
	if (known) {
		snprintf(out, cap, "%s", c->event_address);
	}
	pthread_mutex_unlock(&c->mu);
	if (known) {
		return SBX_OK;
	}
	Sbx__V1__Empty req = SBX__V1__EMPTY__INIT;
	Sbx__V1__ServerInfoResponse *info = NULL;
	sbx_status s = sbx_server_info(c, &req, &info, err);
	if (s != SBX_OK) {
		return s;
	}
	pthread_mutex_lock(&c->mu);
	snprintf(c->event_address, sizeof(c->event_address), "%s", info->event_address);
	snprintf(out, cap, "%s", info->event_address);
	pthread_mutex_unlock(&c->mu);
	sbx_free(info);
	return SBX_OK;
}

static sbx_status new_sub_socket(sbx_client *c, sbx_subscription **out, sbx_error *err)
{
	char addr[1024];
	sbx_status s = event_address(c, addr, sizeof(addr), err);
	if (s != SBX_OK) {
		return s;
	}
	if ((*out = sub_pool_take(addr, c->max_message)) != NULL) {
		return SBX_OK;
	}
	sbx_subscription *sub = calloc(1, sizeof(*sub));
	if (sub == NULL) {
		return set_err(err, SBX_RESOURCE_EXHAUSTED, NULL, "out of memory");
	}
	snprintf(sub->address, sizeof(sub->address), "%s", addr);
	sub->max_message = c->max_message;
	int rv = nng_sub0_open(&sub->sock);
	if (rv == 0) {
		rv = nng_socket_set_int(sub->sock, NNG_OPT_RECVBUF, SUB_RECV_BUFFER);
	}
	if (rv == 0) {
		rv = nng_socket_set_size(sub->sock, NNG_OPT_RECVMAXSZ, c->max_message + 65536);
	}
	if (rv == 0) {
		rv = nng_dial(sub->sock, addr, NULL, 0);
	}
	if (rv != 0) {
		s = set_err(err, from_nng(rv), NULL, "subscribe at %s: %s", addr, nng_strerror(rv));
		nng_close(sub->sock);
		free(sub);
		return s;
	}
	*out = sub;
	return SBX_OK;
}

sbx_status sbx_subscribe(sbx_client *c, const char *topic, sbx_subscription **out,
			 sbx_error *err)
{
	*out = NULL;
	if (strlen(topic) >= sizeof(((sbx_subscription *)0)->topic)) {
		return set_err(err, SBX_INVALID_ARGUMENT, "topic", "longer than 255 bytes");
	}
	sbx_subscription *sub = NULL;
	sbx_status st = new_sub_socket(c, &sub, err);
	if (st != SBX_OK) {
		return st;
	}
	sub->next = NULL;
	snprintf(sub->topic, sizeof(sub->topic), "%s", topic);
	/* Topics are byte prefixes: subscribe without the NUL. */
	int rv = nng_socket_set(sub->sock, NNG_OPT_SUB_SUBSCRIBE, topic, strlen(topic));
	if (rv != 0) {
		sbx_unsubscribe(sub);
		return set_err(err, from_nng(rv), NULL, "subscribe %s: %s", topic, nng_strerror(rv));
	}
	*out = sub;
	return SBX_OK;
}

/* The next message for this subscription's topic; *off is where the
 * packed Event starts in its body. The caller frees *m. */
static sbx_status next_message(sbx_subscription *s, int timeout_ms, nng_msg **m, size_t *off,
			       sbx_error *err)
{
	nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
	size_t tlen = strlen(s->topic);
	for (;;) {
		int rv = nng_recvmsg(s->sock, m, 0);
		if (rv != 0) {
			return set_err(err, from_nng(rv), NULL, "event: %s", nng_strerror(rv));
		}
		const uint8_t *body = nng_msg_body(*m);
		size_t len = nng_msg_len(*m);
		if (len < tlen || memcmp(body, s->topic, tlen) != 0) {
			/* A late message for this socket's previous topic. */
			nng_msg_free(*m);
			continue;
		}
		const uint8_t *nul = memchr(body, 0, len);
		if (nul == NULL) {
			nng_msg_free(*m);
			return set_err(err, SBX_DATA_LOSS, NULL, "event without topic delimiter");
		}
		*off = (size_t)(nul - body) + 1;
		return SBX_OK;
	}
}

sbx_status sbx_next_event(sbx_subscription *s, int timeout_ms, Sbx__V1__Event **ev,
			  sbx_error *err)
{
	*ev = NULL;
	nng_msg *m;
	size_t off;
	sbx_status st = next_message(s, timeout_ms, &m, &off, err);
	if (st != SBX_OK) {
		return st;
	}
	size_t len = nng_msg_len(m) - off;
	st = wire_unpack(&sbx__v1__event__descriptor, (const uint8_t *)nng_msg_body(m) + off, len,
			 wire_unpack_budget(len), (ProtobufCMessage **)ev);
	if (st != SBX_OK) {
		set_err(err, SBX_DATA_LOSS, NULL, "malformed event");
	}
	nng_msg_free(m);
	return st;
}

void sbx_unsubscribe(sbx_subscription *s)
{
	if (s == NULL) {
		return;
	}
	nng_socket_set(s->sock, NNG_OPT_SUB_UNSUBSCRIBE, s->topic, strlen(s->topic));
	/* Drop what is queued; later stragglers are skipped by topic. */
	nng_msg *m;
	while (nng_recvmsg(s->sock, &m, NNG_FLAG_NONBLOCK) == 0) {
		nng_msg_free(m);
	}
	sub_pool_put(s);
}

/* ---- following output ------------------------------------------------------ */

/* A bump allocator over one reusable buffer: a follower unpacks every
 * event and chunk into the same warm memory, instead of two fresh
 * megabyte allocations per chunk. Its size is the unpack budget. */
struct scratch {
	uint8_t *buf;
	size_t cap;
	size_t used;
};

static void *scratch_alloc(void *data, size_t n)
{
	struct scratch *sc = data;
	size_t at = (sc->used + 15) & ~(size_t)15;
	if (at > sc->cap || n > sc->cap - at) {
		return NULL;
	}
	sc->used = at + n;
	return sc->buf + at;
}

static void scratch_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

/* Makes room for unpacking a message of `len` bytes: its event and the
 * chunk inside hold at most twice that, plus their small parts. */
static int scratch_reset(struct scratch *sc, size_t len)
{
	size_t need = 2 * len + 64 * 1024;
	if (need > sc->cap) {
		free(sc->buf);
		sc->buf = malloc(need);
		sc->cap = sc->buf ? need : 0;
	}
	sc->used = 0;
	return sc->buf != NULL ? 0 : -1;
}

struct follower {
	sbx_client *c;
	const char *id;
	int64_t offset; /* bytes delivered */
	sbx_output_fn fn;
	void *arg;
};

static void deliver(struct follower *f, const Sbx__V1__OutputChunk *ch)
{
	int64_t end = ch->offset + (int64_t)ch->data.len;
	if (end <= f->offset || ch->offset > f->offset) {
		return;
	}
	size_t skip = (size_t)(f->offset - ch->offset);
	if (f->fn != NULL) {
		f->fn(f->arg, ch->stream, ch->data.data + skip, ch->data.len - skip);
	}
	f->offset = end;
}

/* Reads the stored copy from f->offset up to `until` (-1: as far as there
 * is). Sets *eof when the execution ended and everything was read. */
static sbx_status backfill(struct follower *f, int64_t until, int *eof, sbx_error *err)
{
	for (;;) {
		Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
		rq.id = (char *)f->id;
		rq.offset = f->offset;
		rq.limit = until >= 0 ? until - f->offset : 0;
		if (until >= 0 && rq.limit <= 0) {
			return SBX_OK;
		}
		Sbx__V1__ReadOutputResponse *r = NULL;
		sbx_status s = sbx_executions_read_output(f->c, &rq, &r, err);
		if (s != SBX_OK) {
			return s;
		}
		for (size_t i = 0; i < r->n_chunks; i++) {
			deliver(f, r->chunks[i]);
		}
		int more = r->n_chunks > 0;
		if (eof) {
			*eof = r->eof;
		}
		sbx_free(r);
		if (!more) {
			return SBX_OK;
		}
	}
}

sbx_status sbx_follow_output(sbx_client *c, const char *execution_id, int64_t from_offset,
			     sbx_output_fn on_output, void *arg, volatile int *cancel,
			     Sbx__V1__Execution **final, sbx_error *err)
{
	*final = NULL;
	char topic[128];
	snprintf(topic, sizeof(topic), "logs.%s.", execution_id);
	sbx_subscription *sub = NULL;
	sbx_status s = sbx_subscribe(c, topic, &sub, err);
	if (s != SBX_OK) {
		return s;
	}
	struct follower f = {c, execution_id, from_offset, on_output, arg};
	struct scratch sc = {NULL, 0, 0};
	int cancelled = 0, eof = 0, quiet = 0;
	/* A short command may have ended before the subscription: what is
	 * stored (and whether it ended) is read once now, so nobody waits for
	 * an end event that has already gone by. */
	s = backfill(&f, -1, &eof, err);
	while (!eof && s == SBX_OK) {
		if (cancel && *cancel && !cancelled) {
			cancelled = 1;
			Sbx__V1__CancelExecutionRequest cr = SBX__V1__CANCEL_EXECUTION_REQUEST__INIT;
			cr.id = (char *)execution_id;
			cr.signal = *cancel;
			Sbx__V1__Execution *ignored = NULL;
			sbx_executions_cancel(c, &cr, &ignored, NULL);
			sbx_free(ignored);
		}
		nng_msg *m = NULL;
		size_t off = 0;
		s = next_message(sub, 200, &m, &off, NULL);
		if (s == SBX_DEADLINE_EXCEEDED) {
			/* Quiet: maybe the end was missed. Catch up from storage
			 * every second of silence. */
			if (++quiet % 5 == 0 && (s = backfill(&f, -1, &eof, err)) != SBX_OK) {
				break;
			}
			s = SBX_OK;
			continue;
		}
		if (s != SBX_OK) {
			s = SBX_OK;
			continue;
		}
		quiet = 0;
		size_t len = nng_msg_len(m) - off;
		ProtobufCAllocator al = {scratch_alloc, scratch_free, &sc};
		Sbx__V1__Event *ev = scratch_reset(&sc, len) == 0
					     ? sbx__v1__event__unpack(&al, len, (const uint8_t *)nng_msg_body(m) + off)
					     : NULL;
		if (ev != NULL && ev->payload_type != NULL && strcmp(ev->payload_type, "sbx.v1.OutputChunk") == 0) {
			Sbx__V1__OutputChunk *ch = sbx__v1__output_chunk__unpack(&al, ev->payload.len, ev->payload.data);
			if (ch != NULL) {
				if (ch->offset > f.offset) {
					s = backfill(&f, ch->offset, NULL, err);
				}
				deliver(&f, ch);
			}
		} else if (ev != NULL && ev->kind != NULL && strcmp(ev->kind, "execution.finished") == 0) {
			s = backfill(&f, -1, &eof, err);
			eof = 1;
		}
		/* Everything unpacked lives in the scratch buffer. */
		nng_msg_free(m);
		if (s != SBX_OK) {
			break;
		}
	}
	free(sc.buf);
	sbx_unsubscribe(sub);
	if (s != SBX_OK) {
		return s;
	}
	/* The record is final once the end was published. */
	Sbx__V1__GetExecutionRequest gr = SBX__V1__GET_EXECUTION_REQUEST__INIT;
	gr.id = (char *)execution_id;
	return sbx_executions_get(c, &gr, final, err);
}

/* ---- files ------------------------------------------------------------------ */

static sbx_status send_part(sbx_client *c, const char *sandbox, const char *dest_dir, const char *upload_id,
			    int64_t offset, const uint8_t *data, size_t len, int last, sbx_error *err)
{
	Sbx__V1__CopyInRequest r = SBX__V1__COPY_IN_REQUEST__INIT;
	r.id = (char *)sandbox;
	r.dest_dir = (char *)dest_dir;
	r.tar.data = (uint8_t *)data;
	r.tar.len = len;
	r.upload_id = (char *)upload_id;
	r.offset = offset;
	r.last = last;
	Sbx__V1__Empty *out = NULL;
	sbx_status s = sbx_sandboxes_copy_in(c, &r, &out, err);
	sbx_free(out);
	return s;
}

sbx_status sbx_copy_in_fd(sbx_client *c, const char *sandbox, const char *dest_dir, int fd, sbx_error *err)
{
	/* Half a message per part leaves room for the rest of the request. */
	size_t part = c->max_message / 2;
	uint8_t *cur = malloc(part), *next = malloc(part);
	ssize_t n = cur && next ? fdio_read_full(fd, cur, part) : -1;
	sbx_status s = SBX_OK;
	if (cur == NULL || next == NULL) {
		s = set_err(err, SBX_RESOURCE_EXHAUSTED, "", "out of memory");
	} else if (n < 0) {
		s = set_err(err, SBX_INVALID_ARGUMENT, "", "cannot read the archive: %s", strerror(errno));
	} else if ((size_t)n < part) {
		/* It fits in one message. */
		s = send_part(c, sandbox, dest_dir, "", 0, cur, (size_t)n, 0, err);
	} else {
		char upload_id[40];
		new_key(upload_id);
		int64_t offset = 0;
		/* One part read ahead: the part before the end is marked last. */
		for (;;) {
			ssize_t m = fdio_read_full(fd, next, part);
			if (m < 0) {
				s = set_err(err, SBX_INVALID_ARGUMENT, "", "cannot read the archive: %s", strerror(errno));
				break;
			}
			s = send_part(c, sandbox, dest_dir, upload_id, offset, cur, (size_t)n, m == 0, err);
			if (s != SBX_OK || m == 0) {
				break;
			}
			offset += n;
			uint8_t *t = cur;
			cur = next;
			next = t;
			n = m;
		}
	}
	free(cur);
	free(next);
	return s;
}

sbx_status sbx_copy_out_fd(sbx_client *c, const char *sandbox, const char *path, int fd, sbx_error *err)
{
	char download_id[80] = "";
	int64_t offset = 0;
	for (;;) {
		Sbx__V1__CopyOutRequest r = SBX__V1__COPY_OUT_REQUEST__INIT;
		r.id = (char *)sandbox;
		r.path = (char *)path;
		r.parts = 1;
		r.download_id = download_id;
		r.offset = offset;
		Sbx__V1__CopyOutResponse *out = NULL;
		sbx_status s = sbx_sandboxes_copy_out(c, &r, &out, err);
		if (s != SBX_OK) {
			return s;
		}
		snprintf(download_id, sizeof(download_id), "%s", out->download_id);
		int eof = out->eof || out->tar.len == 0;
		offset += (int64_t)out->tar.len;
		int bad = fdio_write_all(fd, out->tar.data, out->tar.len) != 0;
		sbx_free(out);
		if (bad) {
			return set_err(err, SBX_INTERNAL, "", "cannot write the archive: %s", strerror(errno));
		}
		if (eof) {
			return SBX_OK;
		}
	}
}

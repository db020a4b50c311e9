#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "auth.h"
#include "clock.h"
#include "db.h"
#include "idempotency.h"
#include "rpc.h"
#include "services.h"
#include "wire.h"
#include "workq.h"
#include "sbx/v1/rpc.pb-c.h"

#define ARENA_CAP (64u * 1024u * 1024u)

static const rpc_handler handlers[SBX_MID_COUNT] = {
#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, flags) svc_##fn,
#include "sbx/methods.def"
#undef SBX_METHOD
};

enum ctx_state { CTX_RECV, CTX_WORK, CTX_SEND, CTX_IDLE };

typedef struct rpc_ctx {
	rpc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum ctx_state state;
	nng_msg *req;
	Sbx__V1__CallHeader *hdr; /* req's header, read when it arrived; owned */
	int64_t arrival_ms;
	workq_job job;
} rpc_ctx;

struct rpc_server {
	nng_socket sock;
	nng_listener *listeners;
	size_t n_listeners;
	nng_tls_config *tls;
	workq *wq;      /* quick calls: one worker per CPU */
	workq *slow_wq; /* M_SLOW calls: the configured worker count */
	rpc_ctx *ctxs;
	int n_ctxs;
	size_t max_message;
	int64_t max_timeout_ms;
	const ProtobufCMessageDescriptor *in[SBX_MID_COUNT];
	const ProtobufCMessageDescriptor *out[SBX_MID_COUNT];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int draining;
	int active; /* contexts not yet idle */
};

static __thread arena *worker_arena;

/* Runs in each worker thread as it stops. */
static void worker_exit(void)
{
	db_thread_close();
	arena_free(worker_arena);
	worker_arena = NULL;
}

void rpc_after_commit(rpc_call *call, rpc_after_fn fn, void *arg)
{
	struct rpc_after *a = arena_alloc(call->arena, sizeof(*a));
	if (a == NULL) {
		return;
	}
	a->fn = fn;
	a->arg = arg;
	/* Keep registration order: append. */
	struct rpc_after **pp = &call->after;
	while (*pp != NULL) {
		pp = &(*pp)->next;
	}
	*pp = a;
}

/* ---- reply building ---------------------------------------------------- */

static nng_msg *reply_msg(sbx_status code, const err_t *e, int replayed,
			  const uint8_t *body, size_t body_len)
{
	Sbx__V1__ReplyHeader h = SBX__V1__REPLY_HEADER__INIT;
	Sbx__V1__ErrorDetail d = SBX__V1__ERROR_DETAIL__INIT;
	Sbx__V1__FieldViolation fv = SBX__V1__FIELD_VIOLATION__INIT;
	Sbx__V1__ErrorDetail *dp = &d;
	h.code = (int32_t)code;
	h.replayed = replayed != 0;
	if (code != SBX_OK) {
		h.message = (char *)(e->message[0] ? e->message : sbx_status_name(code));
		if (e->field[0]) {
			fv.field = (char *)e->field;
			fv.description = (char *)e->message;
			d.detail_case = SBX__V1__ERROR_DETAIL__DETAIL_FIELD_VIOLATION;
			d.field_violation = &fv;
			h.n_details = 1;
			h.details = &dp;
		}
	}
	size_t hl = protobuf_c_message_get_packed_size(&h.base);
	nng_msg *m;
	if (nng_msg_alloc(&m, hl + 10 + body_len) != 0) {
		return NULL;
	}
	size_t n = wire_pack_raw(&h.base, body, body_len, nng_msg_body(m));
	nng_msg_chop(m, nng_msg_len(m) - n);
	return m;
}

static nng_msg *error_reply(sbx_status code, const err_t *e)
{
	return reply_msg(code, e, 0, NULL, 0);
}

static void request_hash(const char *method, const uint8_t *body, size_t len, char hex[65])
{
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)method, strlen(method) + 1);
	crypto_generichash_update(&st, body, len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* ---- one call ---------------------------------------------------------- */

static sbx_status check_header(rpc_server *s, rpc_call *call, const Sbx__V1__CallHeader *h,
			       int64_t arrival_ms)
{
	char path[128];
	if (wire_check_utf8(&h->base, path, sizeof(path)) != 0) {
		return err_field(&call->err, SBX_INVALID_ARGUMENT, path, "not valid UTF-8");
	}
	call->method = sbx_method_find(h->method, strlen(h->method));
	if (call->method == NULL) {
		return RPC_FAIL(call, SBX_UNIMPLEMENTED, "unknown method %.200s", h->method);
	}
	if (h->timeout_ms < 0) {
		return RPC_FAIL(call, SBX_DEADLINE_EXCEEDED, "deadline already expired on arrival");
	}
	int64_t budget = h->timeout_ms == 0 || h->timeout_ms > s->max_timeout_ms
				 ? s->max_timeout_ms
				 : h->timeout_ms;
	call->deadline_ms = arrival_ms + budget;
	if (clock_mono_ms() >= call->deadline_ms) {
		return RPC_FAIL(call, SBX_DEADLINE_EXCEEDED,
				"deadline of %lld ms passed before the call could start",
				(long long)h->timeout_ms);
	}
	if (strlen(h->idempotency_key) > IDEM_KEY_MAX) {
		return err_field(&call->err, SBX_INVALID_ARGUMENT, "idempotency_key",
				 "longer than %d characters", IDEM_KEY_MAX);
	}
	if ((call->method->flags & M_NOAUTH) == 0) {
		sbx_status st = auth_verify(h->token, &call->caller, &call->err);
		if (st != SBX_OK) {
			return st;
		}
		if ((call->method->flags & M_ADMIN) && !call->caller.admin) {
			return RPC_FAIL(call, SBX_PERMISSION_DENIED, "%s needs an admin token",
					call->method->name);
		}
	}
	return SBX_OK;
}

static void run_after(rpc_call *call)
{
	for (struct rpc_after *a = call->after; a != NULL; a = a->next) {
		a->fn(call, a->arg);
	}
}

/* Packs `resp` into a malloc'd buffer bounded by the message limit. */
static sbx_status pack_response(rpc_server *s, rpc_call *call, int mid,
				ProtobufCMessage *resp, uint8_t **buf, size_t *len)
{
	if (resp == NULL || resp->descriptor != s->out[mid]) {
		return RPC_FAIL(call, SBX_INTERNAL, "%s produced no valid response",
				call->method->name);
	}
	*len = protobuf_c_message_get_packed_size(resp);
	if (*len + 1024 > s->max_message) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED,
				"response of %zu bytes exceeds the %zu-byte message limit", *len,
				s->max_message);
	}
	*buf = malloc(*len ? *len : 1);
	if (*buf == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	protobuf_c_message_pack(resp, *buf);
	return SBX_OK;
}

/* Serves one request. `hdr` is its header if already unpacked (taken
 * over), or NULL. */
static nng_msg *handle(rpc_server *s, const uint8_t *buf, size_t len, int64_t arrival_ms,
		       Sbx__V1__CallHeader *hdr)
{
	rpc_call call;
	memset(&call, 0, sizeof(call));
	const uint8_t *hb, *bb;
	size_t hl, bl;
	ProtobufCMessage *req = NULL;
	ProtobufCMessage *resp = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int replayed = 0;
	int in_txn = 0;
	char hash[65] = "";
	sbx_status st;

	if (worker_arena == NULL && (worker_arena = arena_new(ARENA_CAP)) == NULL) {
		if (hdr != NULL) {
			protobuf_c_message_free_unpacked(&hdr->base, NULL);
		}
		return NULL;
	}
	call.arena = worker_arena;

	if (wire_split(buf, len, &hb, &hl, &bb, &bl) != 0) {
		st = RPC_FAIL(&call, SBX_INVALID_ARGUMENT, "malformed request envelope");
		goto done;
	}
	st = hdr != NULL ? SBX_OK
			 : wire_unpack(&sbx__v1__call_header__descriptor, hb, hl, wire_unpack_budget(hl),
				       (ProtobufCMessage **)&hdr);
	if (st != SBX_OK) {
		RPC_FAIL(&call, st, "malformed call header");
		goto done;
	}
	st = check_header(s, &call, hdr, arrival_ms);
	if (st != SBX_OK) {
		goto done;
	}
	int mid = (int)(call.method - sbx_methods);
	st = wire_unpack(s->in[mid], bb, bl, wire_unpack_budget(bl), &req);
	if (st != SBX_OK) {
		RPC_FAIL(&call, st,
			 st == SBX_RESOURCE_EXHAUSTED ? "request expands past its memory budget"
						      : "malformed %s message",
			 s->in[mid]->name);
		goto done;
	}
	char path[128];
	if (wire_check_utf8(req, path, sizeof(path)) != 0) {
		st = err_field(&call.err, SBX_INVALID_ARGUMENT, path, "not valid UTF-8");
		goto done;
	}

	call.db = db_get(&call.err);
	if (call.db == NULL) {
		st = call.err.code;
		goto done;
	}
	db_set_deadline(call.deadline_ms);

	unsigned flags = call.method->flags;
	int keyed = hdr->idempotency_key[0] != '\0' && (flags & M_READONLY) == 0;
	if (flags & M_TXN) {
		st = db_begin(call.db, &call.err);
		if (st != SBX_OK) {
			goto done;
		}
		in_txn = 1;
	}
	if (keyed) {
		idem_record rec;
		request_hash(call.method->name, bb, bl, hash);
		st = idem_lookup(call.db, call.caller.user_id, hdr->idempotency_key, &rec,
				 &call.err);
		if (st == SBX_OK) {
			if (strcmp(rec.method, call.method->name) != 0 ||
			    strcmp(rec.request_hash, hash) != 0) {
				free(rec.reply);
				st = err_field(&call.err, SBX_INVALID_ARGUMENT, "idempotency_key",
					       "already used for a different request");
				goto done;
			}
			if (flags & M_SECRET_REPLY) {
				free(rec.reply);
				st = err_field(&call.err, SBX_ALREADY_EXISTS, "idempotency_key",
					       "this request was already applied; its reply held a "
					       "secret, which is never stored for replay");
				goto done;
			}
			out = rec.reply;
			out_len = rec.reply_len;
			st = (sbx_status)rec.code;
			replayed = 1;
			goto done;
		}
		if (st != SBX_NOT_FOUND) {
			goto done;
		}
	}

	st = handlers[mid](&call, req, &resp);
	if (st == SBX_OK) {
		st = pack_response(s, &call, mid, resp, &out, &out_len);
	}
	if (st == SBX_OK && keyed) {
		int secret = (flags & M_SECRET_REPLY) != 0;
		st = idem_store(call.db, call.caller.user_id, hdr->idempotency_key,
				call.method->name, hash, SBX_OK, secret ? NULL : out,
				secret ? 0 : out_len, &call.err);
	}
	if (st == SBX_OK && in_txn) {
		st = db_commit(call.db, &call.err);
		in_txn = 0;
	}
	if (st == SBX_OK) {
		run_after(&call);
	}

done:
	if (in_txn) {
		db_rollback(call.db);
	}
	if (st != SBX_OK && call.err.code != st) {
		/* A status without a message still deserves one. */
		if (call.err.message[0] == '\0') {
			err_set(&call.err, st, "%s", sbx_status_name(st));
		}
	}
	nng_msg *m = st == SBX_OK ? reply_msg(st, &call.err, replayed, out, out_len)
				  : error_reply(st, &call.err);
	free(out);
	if (req != NULL) {
		protobuf_c_message_free_unpacked(req, NULL);
	}
	if (hdr != NULL) {
		protobuf_c_message_free_unpacked(&hdr->base, NULL);
	}
	db_set_deadline(0);
	arena_reset(worker_arena);
	return m;
}

/* ---- context state machine -------------------------------------------- */

static void ctx_idle(rpc_ctx *c)
{
	rpc_server *s = c->srv;
	pthread_mutex_lock(&s->mu);
	c->state = CTX_IDLE;
	s->active--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void ctx_recv(rpc_ctx *c)
{
	rpc_server *s = c->srv;
	pthread_mutex_lock(&s->mu);
	int draining = s->draining;
	if (!draining) {
		c->state = CTX_RECV;
		nng_ctx_recv(c->ctx, c->aio);
	}
	pthread_mutex_unlock(&s->mu);
	if (draining) {
		ctx_idle(c);
	}
}

/* The request's header, unpacked in nng's callback (small and bounded) to
 * pick the pool; handle() takes it over. NULL when unreadable: the quick
 * pool then answers with the error. */
static Sbx__V1__CallHeader *peek_header(nng_msg *m)
{
	const uint8_t *hb, *bb;
	size_t hl, bl;
	Sbx__V1__CallHeader *hdr = NULL;
	if (wire_split(nng_msg_body(m), nng_msg_len(m), &hb, &hl, &bb, &bl) != 0 ||
	    wire_unpack(&sbx__v1__call_header__descriptor, hb, hl, wire_unpack_budget(hl),
			(ProtobufCMessage **)&hdr) != SBX_OK) {
		return NULL;
	}
	return hdr;
}

static int is_slow(const Sbx__V1__CallHeader *hdr)
{
	const sbx_method_info *mi =
		hdr != NULL && hdr->method ? sbx_method_find(hdr->method, strlen(hdr->method)) : NULL;
	return mi != NULL && (mi->flags & M_SLOW);
}

static void ctx_work(void *arg)
{
	rpc_ctx *c = arg;
	nng_msg *req = c->req;
	c->req = NULL;
	Sbx__V1__CallHeader *hdr = c->hdr;
	c->hdr = NULL;
	nng_msg *rep = handle(c->srv, nng_msg_body(req), nng_msg_len(req), c->arrival_ms, hdr);
	nng_msg_free(req);
	if (rep == NULL) {
		/* Out of memory for the reply: the client times out. */
		ctx_recv(c);
		return;
	}
	c->state = CTX_SEND;
	nng_aio_set_msg(c->aio, rep);
	nng_ctx_send(c->ctx, c->aio);
}

static void ctx_cb(void *arg)
{
	rpc_ctx *c = arg;
	int rv = nng_aio_result(c->aio);
	switch (c->state) {
	case CTX_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			if (!c->srv->draining) {
				/* Not ours to stop: say so, since a context lost is
				 * capacity lost until the daemon restarts. */
				fprintf(stderr, "sbxd: rpc: a receive context stopped: %s\n", nng_strerror(rv));
			}
			ctx_idle(c);
			return;
		}
		if (rv != 0) {
			ctx_recv(c);
			return;
		}
		c->req = nng_aio_get_msg(c->aio);
		c->arrival_ms = clock_mono_ms();
		c->state = CTX_WORK;
		c->job.fn = ctx_work;
		c->job.arg = c;
		c->hdr = peek_header(c->req);
		workq_push(is_slow(c->hdr) ? c->srv->slow_wq : c->srv->wq, &c->job);
		return;
	case CTX_SEND:
		if (rv != 0) {
			/* Not sent (peer gone, closing): still ours to free. */
			nng_msg_free(nng_aio_get_msg(c->aio));
		}
		if (rv == NNG_ECLOSED) {
			ctx_idle(c);
			return;
		}
		ctx_recv(c);
		return;
	default:
		return;
	}
}

/* ---- start / stop ------------------------------------------------------ */

static sbx_status check_table(rpc_server *s, err_t *e)
{
	for (int i = 0; i < SBX_MID_COUNT; i++) {
		s->in[i] = sbx_method_input(&sbx_methods[i]);
		s->out[i] = sbx_method_output(&sbx_methods[i]);
		if (s->in[i] == NULL || s->out[i] == NULL) {
			return err_set(e, SBX_INTERNAL,
				       "method table entry %s does not match the .proto service",
				       sbx_methods[i].name);
		}
	}
	return SBX_OK;
}

static char *read_file(const char *path, size_t cap)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return NULL;
	}
	char *buf = malloc(cap + 1);
	size_t n = buf ? fread(buf, 1, cap, f) : 0;
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
	}
	return buf;
}

static sbx_status tls_setup(rpc_server *s, const rpc_options *opt, err_t *e)
{
	if (opt->tls_cert == NULL || opt->tls_key == NULL) {
		return err_set(e, SBX_INVALID_ARGUMENT,
			       "tls+tcp:// listeners need --tls-cert and --tls-key");
	}
	char *cert = read_file(opt->tls_cert, 1 << 20);
	char *key = read_file(opt->tls_key, 1 << 20);
	int rv = -1;
	if (cert != NULL && key != NULL &&
	    (rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER)) == 0) {
		rv = nng_tls_config_own_cert(s->tls, cert, key, NULL);
	}
	if (key != NULL) {
		sodium_memzero(key, strlen(key));
	}
	free(cert);
	free(key);
	if (rv != 0) {
		return err_set(e, SBX_INVALID_ARGUMENT, "TLS certificate/key: %s",
			       rv < 0 ? "cannot read files" : nng_strerror(rv));
	}
	return SBX_OK;
}

static sbx_status listen_all(rpc_server *s, const rpc_options *opt, err_t *e)
{
	s->listeners = calloc(opt->n_listen, sizeof(nng_listener));
	if (s->listeners == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	for (size_t i = 0; i < opt->n_listen; i++) {
		const char *addr = opt->listen[i];
		nng_listener *l = &s->listeners[i];
		int rv = nng_listener_create(l, s->sock, addr);
		if (rv == 0) {
			rv = nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, s->max_message);
		}
		if (rv == 0 && strncmp(addr, "tls+", 4) == 0) {
			if (s->tls == NULL && tls_setup(s, opt, e) != SBX_OK) {
				return e->code;
			}
			rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, s->tls);
		}
		if (rv == 0) {
			rv = nng_listener_start(*l, 0);
		}
		if (rv != 0) {
			return err_set(e, SBX_UNAVAILABLE, "listen %s: %s", addr, nng_strerror(rv));
		}
		s->n_listeners++;
	}
	return SBX_OK;
}

sbx_status rpc_server_start(rpc_server **out, const rpc_options *opt, err_t *e)
{
	rpc_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->max_message = opt->max_message ? opt->max_message : SBX_DEFAULT_MAX_MESSAGE;
	s->max_timeout_ms = opt->max_timeout_ms > 0 ? opt->max_timeout_ms : 300000;
	int rv;
	sbx_status st = check_table(s, e);
	if (st == SBX_OK && (rv = nng_rep0_open(&s->sock)) != 0) {
		st = err_set(e, SBX_INTERNAL, "rep socket: %s", nng_strerror(rv));
	}
	if (st == SBX_OK) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		st = workq_start(&s->wq, cpus < 2 ? 2 : cpus > 8 ? 8 : (int)cpus, worker_exit, e);
	}
	if (st == SBX_OK) {
		st = workq_start(&s->slow_wq, opt->workers > 0 ? opt->workers : 16, worker_exit, e);
	}
	if (st == SBX_OK) {
		s->n_ctxs = opt->contexts > 0 ? opt->contexts : 128;
		s->ctxs = calloc((size_t)s->n_ctxs, sizeof(rpc_ctx));
		if (s->ctxs == NULL) {
			st = err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
		}
	}
	for (int i = 0; st == SBX_OK && i < s->n_ctxs; i++) {
		rpc_ctx *c = &s->ctxs[i];
		c->srv = s;
		c->state = CTX_IDLE;
		if ((rv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0 ||
		    (rv = nng_ctx_open(&c->ctx, s->sock)) != 0) {
			st = err_set(e, SBX_INTERNAL, "context: %s", nng_strerror(rv));
		}
	}
	if (st == SBX_OK) {
		st = listen_all(s, opt, e);
	}
	if (st != SBX_OK) {
		s->draining = 1;
		rpc_server_stop(s);
		return st;
	}
	s->active = s->n_ctxs;
	for (int i = 0; i < s->n_ctxs; i++) {
		ctx_recv(&s->ctxs[i]);
	}
	*out = s;
	return SBX_OK;
}

void rpc_server_stop(rpc_server *s)
{
	if (s == NULL) {
		return;
	}
	/* 1. No new connections. */
	for (size_t i = 0; i < s->n_listeners; i++) {
		nng_listener_close(s->listeners[i]);
	}
	/* 2. No new requests: contexts waiting to receive are cancelled and go
	 *    idle; those working finish, send their reply and go idle. */
	pthread_mutex_lock(&s->mu);
	s->draining = 1;
	for (int i = 0; i < s->n_ctxs; i++) {
		if (s->ctxs[i].state == CTX_RECV && s->ctxs[i].aio != NULL) {
			nng_aio_cancel(s->ctxs[i].aio);
		}
	}
	/* 3. Wait, bounded: a peer that never reads must not hold us forever. */
	int64_t until = clock_mono_ms() + 10000;
	while (s->active > 0 && clock_mono_ms() < until) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
	/* 4. Close contexts before the socket (nng can hang otherwise). */
	for (int i = 0; i < s->n_ctxs; i++) {
		if (s->ctxs[i].aio != NULL) {
			nng_aio_stop(s->ctxs[i].aio);
		}
		nng_ctx_close(s->ctxs[i].ctx);
	}
	nng_close(s->sock);
	if (s->wq != NULL) {
		workq_stop(s->wq);
	}
	if (s->slow_wq != NULL) {
		workq_stop(s->slow_wq);
	}
	for (int i = 0; i < s->n_ctxs; i++) {
		if (s->ctxs[i].req != NULL) {
			nng_msg_free(s->ctxs[i].req);
		}
		if (s->ctxs[i].hdr != NULL) {
			protobuf_c_message_free_unpacked(&s->ctxs[i].hdr->base, NULL);
		}
		nng_aio_free(s->ctxs[i].aio);
	}
	if (s->tls != NULL) {
		nng_tls_config_free(s->tls);
	}
	free(s->ctxs);
	free(s->listeners);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

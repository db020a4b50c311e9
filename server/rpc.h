/* The RPC server: an nng REP socket served by a pool of contexts, each a
 * small state machine (receive -> queued for a worker -> send). nng's
 * callbacks only move messages; a worker thread unpacks, authenticates,
 * runs the handler and packs the reply. */
#ifndef SBX_SERVER_RPC_H
#define SBX_SERVER_RPC_H

#include <stdint.h>
#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "methods.h"
#include "tokens.h"

typedef struct rpc_call rpc_call;

/* A handler fills *resp (allocated in call->arena) and returns OK, or
 * returns an error with call->err describing it. It runs on a worker thread;
 * for M_TXN methods call->db is inside an open write transaction. */
typedef sbx_status (*rpc_handler)(rpc_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage **resp);

/* Work to run once the call's transaction committed (or at once, for calls
 * without one), e.g. publishing events or refreshing caches. */
typedef void (*rpc_after_fn)(rpc_call *call, void *arg);

struct rpc_after {
	struct rpc_after *next;
	rpc_after_fn fn;
	void *arg;
};

struct rpc_call {
	const sbx_method_info *method;
	token_identity caller; /* empty for M_NOAUTH methods */
	arena *arena;          /* response and scratch; freed after the reply */
	sqlite3 *db;           /* this worker's connection */
	int64_t deadline_ms;   /* monotonic */
	err_t err;
	struct rpc_after *after;
};

/* Registers `fn` to run after commit. `arg` lives in the arena or is static. */
void rpc_after_commit(rpc_call *call, rpc_after_fn fn, void *arg);

/* Handler failure helpers: set call->err and return its code. */
#define RPC_FAIL(call, code, ...) err_set(&(call)->err, (code), __VA_ARGS__)
#define RPC_FIELD(call, code, field, ...) err_field(&(call)->err, (code), (field), __VA_ARGS__)

typedef struct rpc_options {
	const char *const *listen;  /* NULL-terminated list of addresses */
	size_t n_listen;
	const char *tls_cert;       /* PEM files for tls+tcp:// listeners */
	const char *tls_key;
	size_t max_message;         /* NNG_OPT_RECVMAXSZ on every listener */
	int contexts;               /* requests in flight */
	int workers;
	int64_t max_timeout_ms;     /* deadline for calls that give none */
} rpc_options;

typedef struct rpc_server rpc_server;

/* Checks the method table against the .proto descriptors, starts workers
 * and listeners. */
sbx_status rpc_server_start(rpc_server **out, const rpc_options *opt, err_t *e);

/* Stops accepting connections and requests, lets in-flight calls finish and
 * reply, then closes everything and frees `s`. */
void rpc_server_stop(rpc_server *s);

#endif

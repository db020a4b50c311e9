/* libsbx: the C client of the sbx daemon.
 *
 * Every RPC is one function, sbx_<service>_<method>(), generated from the
 * method table in sbx/methods.def, taking the request message and returning
 * a status; on OK *resp holds the reply, which the caller frees with
 * sbx_free(). On error, `err` (may be NULL) holds the code, the server's
 * message and, for INVALID_ARGUMENT, the offending field.
 *
 * A client is safe to use from several threads at once: each call runs on
 * its own nng context. */
#ifndef SBX_SBX_H
#define SBX_SBX_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "sbx/status.h"
#include "sbx/v1/agents.pb-c.h"
#include "sbx/v1/events.pb-c.h"
#include "sbx/v1/executions.pb-c.h"
#include "sbx/v1/health.pb-c.h"
#include "sbx/v1/providers.pb-c.h"
#include "sbx/v1/sandboxes.pb-c.h"
#include "sbx/v1/server.pb-c.h"
#include "sbx/v1/settings.pb-c.h"
#include "sbx/v1/tokens.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sbx_client sbx_client;

typedef struct sbx_error {
	sbx_status code;
	char message[512];
	char field[128]; /* field violation, "" if none */
} sbx_error;

typedef struct sbx_options {
	const char *address;    /* NULL: $SBX_ADDR, else the local daemon's default */
	const char *token;      /* NULL: $SBX_TOKEN, else <data-dir>/admin.token if readable */
	int timeout_ms;         /* per call; 0: 30000 */
	int max_retries;        /* for idempotent calls on UNAVAILABLE; 0: 3, -1: none */
	size_t max_message;     /* 0: 4 MiB, as the daemon's default */
	const char *tls_ca_file;/* for tls+tcp:// addresses: verify the server with it */
	const char *tls_server_name;
} sbx_options;

/* Connects. On failure returns UNAVAILABLE (nothing listening) or
 * INVALID_ARGUMENT (bad address) and *out is NULL. */
sbx_status sbx_connect(sbx_client **out, const sbx_options *opt, sbx_error *err);
void sbx_disconnect(sbx_client *c);

/* The address and token in use (owned by the client). */
const char *sbx_client_address(const sbx_client *c);

/* Per-call overrides. */
typedef struct sbx_call_options {
	int timeout_ms;               /* 0: the client's; negative: already expired */
	const char *idempotency_key;  /* NULL: generated for writes; "" : none */
} sbx_call_options;

/* Calls `method` ("/sbx.v1.Settings/Get") with `req`; the reply type comes
 * from the method table. `copt` may be NULL. */
sbx_status sbx_call(sbx_client *c, const char *method, const ProtobufCMessage *req,
		    ProtobufCMessage **resp, const sbx_call_options *copt, sbx_error *err);

/* Frees a reply from any sbx_* call (NULL is fine). */
void sbx_free(void *resp);

/* One typed function per method, e.g.
 *   sbx_status sbx_settings_get(sbx_client *c, const Sbx__V1__GetSettingsRequest *req,
 *                               Sbx__V1__SandboxSettings **resp, sbx_error *err); */
#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, flags)                               \
	sbx_status sbx_##fn(sbx_client *c, const Sbx__V1__##In *req, Sbx__V1__##Out **resp, \
			    sbx_error *err);
#include "sbx/methods.def"
#undef SBX_METHOD

/* ---- events ------------------------------------------------------------
 * Topics are delimited prefixes: "events." (all), "events.settings.",
 * "events.sandbox.<id>.", "logs.<execution-id>.". Every event carries a
 * per-topic sequence number: a gap means events were dropped (the bus never
 * blocks the daemon) and the state should be re-read. */
typedef struct sbx_subscription sbx_subscription;

/* Subscribes to `topic` on the daemon's event address (asked from the
 * daemon with Server.Info). */
sbx_status sbx_subscribe(sbx_client *c, const char *topic, sbx_subscription **out,
			 sbx_error *err);

/* Waits up to `timeout_ms` (-1: forever) for the next event; DEADLINE_EXCEEDED
 * when none came. Free *ev with sbx_free(). */
sbx_status sbx_next_event(sbx_subscription *s, int timeout_ms, Sbx__V1__Event **ev,
			  sbx_error *err);
/* Ends a subscription. Every subscription of a client must end before
 * sbx_disconnect(). */
void sbx_unsubscribe(sbx_subscription *s);

/* ---- execution output ----------------------------------------------------
 * Follows an execution's output from byte 0 to its end, live from the event
 * bus, filling any gap (a late subscription, dropped messages) from the
 * stored copy: what `on_output` receives is byte-for-byte what the command
 * wrote, in order. `cancel` (may be NULL) is polled; when it becomes
 * non-zero the execution is sent that signal once. On OK *final holds the
 * finished execution (free with sbx_free). */
typedef int (*sbx_output_fn)(void *arg, int stream, const void *data, size_t len);
sbx_status sbx_follow_output(sbx_client *c, const char *execution_id, int64_t from_offset,
			     sbx_output_fn on_output, void *arg, volatile int *cancel,
			     Sbx__V1__Execution **final, sbx_error *err);

/* ---- files ----------------------------------------------------------------
 * Copies a tar archive read from `fd` (to its end; a pipe will do) into
 * `dest_dir` of a sandbox, where it is unpacked. An archive larger than one
 * message goes in parts, so size is bounded only by the sandbox's disk. */
sbx_status sbx_copy_in_fd(sbx_client *c, const char *sandbox, const char *dest_dir, int fd,
			  sbx_error *err);

/* Writes a tar archive of `path` (a file or directory) in a sandbox to
 * `fd`, fetched in parts. */
sbx_status sbx_copy_out_fd(sbx_client *c, const char *sandbox, const char *path, int fd,
			   sbx_error *err);

/* Error helpers. */
const char *sbx_error_message(const sbx_error *err);

#ifdef __cplusplus
}
#endif
#endif

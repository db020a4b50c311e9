/* Every RPC handler, one per line of client/include/sbx/methods.def (svc_<fn>). */
#ifndef SBX_SERVER_SERVICES_H
#define SBX_SERVER_SERVICES_H

#include "provider.h"
#include "rpc.h"
#include "sbx/v1/sandboxes.pb-c.h"
#include "sbx/v1/settings.pb-c.h"

#define SBX_METHOD(Svc, svc, Meth, fn, In, Out, flags)                          \
	sbx_status svc_##fn(rpc_call *call, const ProtobufCMessage *req,          \
			    ProtobufCMessage **resp);
#include "sbx/methods.def"
#undef SBX_METHOD

/* Reply for methods whose service lands in a later release. */
sbx_status svc_unimplemented(rpc_call *call, const char *what);

/* The current settings, in the call's arena (from the in-memory copy). */
sbx_status svc_settings_current(rpc_call *call, Sbx__V1__SandboxSettings **out);

/* The sandbox named by `id` (an id or name; the caller's own unless the
 * caller is an admin), in the call's arena; with its handle and provider
 * when h and p are not NULL. NOT_FOUND names the field "id". */
sbx_status svc_sandbox_load(rpc_call *call, const char *id, Sbx__V1__Sandbox **sb, sandbox_handle *h,
			    const provider_ops **p);

/* Reads and records a running sandbox's resource use on the daemon's own
 * account (the janitor); `reason` is unused. */
sbx_status sandboxes_record_stats_for(sqlite3 *db, const char *id, const char *reason, err_t *e);

/* At start-up, before serving: re-attaches the sandboxes the database
 * says are live, and marks the ones that died dead. */
sbx_status sandboxes_recover(err_t *e);

/* Stops a sandbox on the daemon's own account (cost limits), recording
 * `reason` as its status message. */
sbx_status sandboxes_stop_for(sqlite3 *db, const char *id, const char *reason, err_t *e);

/* Destroys a sandbox on the daemon's own account (ttl expiry). */
sbx_status sandboxes_destroy_for(sqlite3 *db, const char *id, const char *reason, err_t *e);

/* Publishes an event on `topic` once the call's transaction has committed.
 * Strings are copied into the call's arena. */
void svc_announce(rpc_call *call, const char *topic, const char *kind, const char *subject,
		  char *const *fields, size_t n_fields);

#endif

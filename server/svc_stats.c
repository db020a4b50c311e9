/* Sandboxes.Stats and StatsHistory: resource use read from the provider,
 * each reading recorded (storage/metrics.c) so history is there to read
 * back; the janitor records one per running sandbox on every pass. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"
#include "sandboxes.h"
#include "services.h"

#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000

/* cgroup v1 says "no limit" with a number near 2^63. */
#define NO_LIMIT_ABOVE (1LL << 62)

/* Reads a sandbox's use from its provider into `out` (strings in `a`) and
 * records it. */
static sbx_status read_and_record(sqlite3 *db, const Sbx__V1__Sandbox *sb, const sandbox_handle *h,
				  const provider_ops *p, Sbx__V1__SandboxStats *out, arena *a, err_t *e)
{
	if (p->metrics == NULL) {
		return provider_unimplemented(p, "reading resource use", e);
	}
	sandbox_metrics m;
	memset(&m, 0, sizeof(m));
	sbx_status s = p->metrics(sb->id, h, &m, e);
	if (s != SBX_OK) {
		return s;
	}
	char at[40];
	clock_rfc3339_ms(at, sizeof(at));
	out->sandbox_id = arena_strdup(a, sb->id);
	out->recorded_at = arena_strdup(a, at);
	if (out->sandbox_id == NULL || out->recorded_at == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	out->cpu_usage_ns = m.cpu_usage_ns;
	out->memory_bytes = m.memory_bytes;
	out->memory_limit = m.memory_limit >= NO_LIMIT_ABOVE ? 0 : m.memory_limit;
	out->pids = m.pids;
	out->disk_bytes = m.disk_bytes;
	out->disk_limit = m.disk_limit;
	out->cpu_percent = metrics_cpu_percent(db, sb->id, m.cpu_usage_ns, at);
	return metrics_record(db, out, e);
}

static int has_processes(const Sbx__V1__Sandbox *sb)
{
	return sb->status == SBX__V1__SANDBOX_STATUS__RUNNING || sb->status == SBX__V1__SANDBOX_STATUS__PAUSED;
}

sbx_status svc_sandboxes_stats(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__SandboxRef *r = (const Sbx__V1__SandboxRef *)req;
	Sbx__V1__Sandbox *sb = NULL;
	sandbox_handle h;
	const provider_ops *p = NULL;
	sbx_status s = svc_sandbox_load(call, r->id, &sb, &h, &p);
	if (s != SBX_OK) {
		return s;
	}
	if (!has_processes(sb)) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "id", "sandbox %s is %s: nothing runs to measure",
				 sb->id, sandbox_status_name(sb->status));
	}
	Sbx__V1__SandboxStats *out = ARENA_MSG(call->arena, Sbx__V1__SandboxStats, sbx__v1__sandbox_stats__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	s = read_and_record(call->db, sb, &h, p, out, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &out->base;
	}
	return s;
}

sbx_status svc_sandboxes_stats_history(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__StatsHistoryRequest *r = (const Sbx__V1__StatsHistoryRequest *)req;
	if (r->limit < 0 || r->limit > HISTORY_MAX) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "limit", "must be between 0 and %d", HISTORY_MAX);
	}
	if (r->since[0] != '\0' && !metrics_time_ok(call->db, r->since)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "since", "not a time (RFC 3339, e.g. 2026-11-25T09:00:00Z)");
	}
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = svc_sandbox_load(call, r->id, &sb, NULL, NULL);
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__StatsHistoryResponse *out =
		ARENA_MSG(call->arena, Sbx__V1__StatsHistoryResponse, sbx__v1__stats_history_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	s = metrics_list(call->db, sb->id, r->since, r->limit ? r->limit : HISTORY_DEFAULT, out, call->arena,
			 &call->err);
	if (s == SBX_OK) {
		*resp = &out->base;
	}
	return s;
}

sbx_status sandboxes_record_stats_for(sqlite3 *db, const char *id, const char *reason, err_t *e)
{
	(void)reason;
	arena *a = arena_new(1u << 20);
	if (a == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	Sbx__V1__Sandbox *sb = NULL;
	sandbox_handle h;
	sbx_status s = sandboxes_get(db, id, NULL, &sb, &h, a, e);
	const provider_ops *p = s == SBX_OK ? provider_find(sb->provider) : NULL;
	Sbx__V1__SandboxStats out = SBX__V1__SANDBOX_STATS__INIT;
	/* Providers without metrics, or gone from this build, are skipped. */
	if (s == SBX_OK && p != NULL && p->metrics != NULL && has_processes(sb)) {
		s = read_and_record(db, sb, &h, p, &out, a, e);
	}
	arena_free(a);
	return s;
}

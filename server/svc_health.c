/* Health (grpc.health.v1 semantics) and Server.Info (version, addresses,
 * reflection). */
#include <string.h>

#include "daemon.h"
#include "services.h"
#include "sbx/v1/health.pb-c.h"
#include "sbx/v1/server.pb-c.h"

/* Methods whose service has not landed yet: they answer UNIMPLEMENTED. */
static const char *const pending_services[] = {NULL};
static const char *const pending_methods[] = {NULL};

static int in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, s) == 0) {
			return 1;
		}
	}
	return 0;
}

static int method_implemented(const sbx_method_info *m)
{
	return !in_list(pending_services, m->service) && !in_list(pending_methods, m->name);
}

sbx_status svc_health_check(rpc_call *call, const ProtobufCMessage *req,
			    ProtobufCMessage **resp)
{
	const Sbx__V1__HealthCheckRequest *r = (const Sbx__V1__HealthCheckRequest *)req;
	Sbx__V1__HealthCheckResponse *out = ARENA_MSG(call->arena, Sbx__V1__HealthCheckResponse,
						      sbx__v1__health_check_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	int serving = daemon_info.serving;
	if (r->service[0] != '\0') {
		int known = 0;
		for (int i = 0; i < SBX_MID_COUNT; i++) {
			known |= strcmp(sbx_methods[i].service, r->service) == 0;
		}
		if (!known) {
			return RPC_FIELD(call, SBX_NOT_FOUND, "service", "unknown service \"%.128s\"",
					 r->service);
		}
		serving = serving && !in_list(pending_services, r->service);
	}
	out->status = serving ? SBX__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
			      : SBX__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	*resp = &out->base;
	return SBX_OK;
}

sbx_status svc_server_info(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	arena *a = call->arena;
	Sbx__V1__ServerInfoResponse *out =
		ARENA_MSG(a, Sbx__V1__ServerInfoResponse, sbx__v1__server_info_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	out->version = SBX_VERSION;
	out->event_address = (char *)daemon_info.event_address;
	out->listen_addresses = (char **)daemon_info.listen;
	out->n_listen_addresses = daemon_info.n_listen;
	out->file_descriptor_set.data = (uint8_t *)sbx_fds;
	out->file_descriptor_set.len = sbx_fds_len;
	out->max_message_bytes = (int64_t)daemon_info.max_message;
	out->boot_id = (char *)daemon_info.boot_id;
	out->started_at_unix_ms = daemon_info.started_at_ms;
	out->caller = call->caller.user;
	out->caller_is_admin = call->caller.admin != 0;
	for (int i = 0; i < SBX_MID_COUNT; i++) {
		const sbx_method_info *m = &sbx_methods[i];
		if (i == 0 || strcmp(m->service, sbx_methods[i - 1].service) != 0) {
			arena_append(a, (void ***)&out->services, &out->n_services, (void *)m->service);
		}
		Sbx__V1__MethodInfo *mi = ARENA_MSG(a, Sbx__V1__MethodInfo, sbx__v1__method_info__init);
		if (mi == NULL) {
			return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
		}
		mi->name = (char *)m->name;
		mi->input_type = (char *)m->input_type;
		mi->output_type = (char *)m->output_type;
		mi->read_only = (m->flags & M_READONLY) != 0;
		mi->idempotent = (m->flags & M_IDEMPOTENT) != 0;
		mi->admin = (m->flags & M_ADMIN) != 0;
		mi->implemented = method_implemented(m);
		arena_append(a, (void ***)&out->methods, &out->n_methods, mi);
	}
	*resp = &out->base;
	return SBX_OK;
}

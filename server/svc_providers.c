/* Providers service: the catalogue with each provider's settings;
 * credential writes are encrypted; no reply ever carries a secret. */
#include <string.h>

#include "provider.h"
#include "providers.h"
#include "services.h"

static int driver_exists(const char *id)
{
	return provider_find(id) != NULL;
}

static void mark_implemented(Sbx__V1__Provider *p)
{
	p->implemented = driver_exists(p->id);
}

sbx_status svc_providers_list(rpc_call *call, const ProtobufCMessage *req,
			      ProtobufCMessage **resp)
{
	const Sbx__V1__ListProvidersRequest *r = (const Sbx__V1__ListProvidersRequest *)req;
	Sbx__V1__ListProvidersResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListProvidersResponse,
							sbx__v1__list_providers_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sbx_status s = providers_list(call->db, r->enabled_only, out, call->arena, &call->err);
	for (size_t i = 0; s == SBX_OK && i < out->n_providers; i++) {
		mark_implemented(out->providers[i]);
	}
	*resp = &out->base;
	return s;
}

static sbx_status need_id(rpc_call *call, const char *id)
{
	if (id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (e.g. \"local\", \"e2b\")");
	}
	return SBX_OK;
}

sbx_status svc_providers_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__GetProviderRequest *r = (const Sbx__V1__GetProviderRequest *)req;
	Sbx__V1__Provider *p = NULL;
	sbx_status s = need_id(call, r->id);
	if (s == SBX_OK) {
		s = providers_get(call->db, r->id, &p, call->arena, &call->err);
	}
	if (s == SBX_OK) {
		mark_implemented(p);
		*resp = &p->base;
	}
	return s;
}

sbx_status svc_providers_update(rpc_call *call, const ProtobufCMessage *req,
				ProtobufCMessage **resp)
{
	const Sbx__V1__UpdateProviderRequest *r = (const Sbx__V1__UpdateProviderRequest *)req;
	Sbx__V1__ProviderSettings empty = SBX__V1__PROVIDER_SETTINGS__INIT;
	sbx_status s = need_id(call, r->id);
	if (s == SBX_OK) {
		s = providers_update(call->db, r->id, r->settings ? r->settings : &empty,
				     r->update_mask, r->n_update_mask, r->api_key, r->api_secret,
				     call->caller.user, &call->err);
	}
	Sbx__V1__Provider *p = NULL;
	if (s == SBX_OK) {
		s = providers_get(call->db, r->id, &p, call->arena, &call->err);
	}
	if (s != SBX_OK) {
		return s;
	}
	mark_implemented(p);
	svc_announce(call, "events.providers.", "provider.updated", r->id, r->update_mask,
		     r->n_update_mask);
	*resp = &p->base;
	return SBX_OK;
}

sbx_status svc_providers_validate(rpc_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage **resp)
{
	const Sbx__V1__ValidateProviderRequest *r = (const Sbx__V1__ValidateProviderRequest *)req;
	Sbx__V1__Provider *p = NULL;
	sbx_status s = need_id(call, r->id);
	if (s == SBX_OK) {
		s = providers_get(call->db, r->id, &p, call->arena, &call->err);
	}
	if (s != SBX_OK) {
		return s;
	}
	if (!driver_exists(r->id)) {
		return RPC_FAIL(call, SBX_UNIMPLEMENTED,
				"provider \"%s\" has no driver in this build of sbxd yet: its "
				"settings can be stored but not validated or used",
				r->id);
	}
	const provider_ops *d = provider_find(r->id);
	Sbx__V1__ValidateProviderResponse *out = ARENA_MSG(
		call->arena, Sbx__V1__ValidateProviderResponse, sbx__v1__validate_provider_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	err_t ve;
	err_clear(&ve);
	sbx_status vs = d->validate ? d->validate(&ve) : SBX_OK;
	out->ok = vs == SBX_OK;
	out->message = arena_strdup(call->arena, ve.message[0] ? ve.message : "ok");
	/* The outcome is recorded even though the call itself succeeded. */
	sbx_status s2 = providers_record_validation(call->db, r->id, vs == SBX_OK ? NULL : ve.message,
						    &call->err);
	if (s2 != SBX_OK) {
		return s2;
	}
	Sbx__V1__Provider *after = NULL;
	if (providers_get(call->db, r->id, &after, call->arena, &call->err) == SBX_OK) {
		out->validated_at = after->settings->validated_at;
	}
	*resp = &out->base;
	return SBX_OK;
}

/* Agents service: the registry, its models and their prices. Price edits
 * are settings edits: admin only, recorded with who made them, announced. */
#include "agents.h"
#include "services.h"

sbx_status svc_agents_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Sbx__V1__ListAgentsResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListAgentsResponse,
						     sbx__v1__list_agents_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	*resp = &out->base;
	return agents_list(call->db, out, call->arena, &call->err);
}

sbx_status svc_agents_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__GetAgentRequest *r = (const Sbx__V1__GetAgentRequest *)req;
	if (r->id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (e.g. \"claude\")");
	}
	Sbx__V1__Agent *a = NULL;
	sbx_status s = agents_get(call->db, r->id, &a, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &a->base;
	}
	return s;
}

sbx_status svc_agents_list_models(rpc_call *call, const ProtobufCMessage *req,
				  ProtobufCMessage **resp)
{
	const Sbx__V1__ListModelsRequest *r = (const Sbx__V1__ListModelsRequest *)req;
	Sbx__V1__ListModelsResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListModelsResponse,
						     sbx__v1__list_models_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (r->agent[0] != '\0') {
		Sbx__V1__Agent *a = NULL;
		sbx_status s = agents_get(call->db, r->agent, &a, call->arena, &call->err);
		if (s == SBX_NOT_FOUND) {
			return RPC_FIELD(call, s, "agent", "no agent \"%.64s\"", r->agent);
		}
		if (s != SBX_OK) {
			return s;
		}
		out->models = a->models;
		out->n_models = a->n_models;
		*resp = &out->base;
		return SBX_OK;
	}
	*resp = &out->base;
	return models_list(call->db, "", out, call->arena, &call->err);
}

sbx_status svc_agents_update_model(rpc_call *call, const ProtobufCMessage *req,
				   ProtobufCMessage **resp)
{
	const Sbx__V1__UpdateModelRequest *r = (const Sbx__V1__UpdateModelRequest *)req;
	if (r->id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (a model id)");
	}
	Sbx__V1__Model empty = SBX__V1__MODEL__INIT;
	sbx_status s = models_update(call->db, r->id, r->model ? r->model : &empty, r->update_mask,
				     r->n_update_mask, call->caller.user, &call->err);
	Sbx__V1__Model *m = NULL;
	if (s == SBX_OK) {
		s = models_get(call->db, r->id, &m, call->arena, &call->err);
	}
	if (s != SBX_OK) {
		return s;
	}
	svc_announce(call, "events.settings.", "model.updated", r->id, r->update_mask,
		     r->n_update_mask);
	*resp = &m->base;
	return SBX_OK;
}

sbx_status svc_agents_run(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	(void)resp;
	return svc_unimplemented(call, "Agents.Run (agent executions)");
}

/* Tokens service: issue, list and revoke API tokens (admin only). */
#include <ctype.h>
#include <string.h>

#include "auth.h"
#include "services.h"
#include "sbx/v1/tokens.pb-c.h"

static int valid_user_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128) {
		return 0;
	}
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && strchr("._@-", *s) == NULL) {
			return 0;
		}
	}
	return 1;
}

sbx_status svc_tokens_create(rpc_call *call, const ProtobufCMessage *req,
			     ProtobufCMessage **resp)
{
	const Sbx__V1__CreateTokenRequest *r = (const Sbx__V1__CreateTokenRequest *)req;
	if (!valid_user_name(r->user)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "user",
				 "1-128 characters of letters, digits and . _ @ -");
	}
	if (strlen(r->name) > 256) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "name", "longer than 256 characters");
	}
	char id[40];
	char secret[AUTH_SECRET_MAX];
	sbx_status s = auth_issue(call->db, r->user, r->name, r->admin, call->caller.user, id, secret,
				  &call->err);
	Sbx__V1__CreateTokenResponse *out = ARENA_MSG(call->arena, Sbx__V1__CreateTokenResponse,
						      sbx__v1__create_token_response__init);
	if (s == SBX_OK && out == NULL) {
		s = RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (s == SBX_OK) {
		s = tokens_get(call->db, id, &out->token, call->arena, &call->err);
	}
	if (s == SBX_OK) {
		out->secret = arena_strdup(call->arena, secret);
		svc_announce(call, "events.tokens.", "token.created", id, NULL, 0);
		*resp = &out->base;
	}
	memset(secret, 0, sizeof(secret));
	return s;
}

sbx_status svc_tokens_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__ListTokensRequest *r = (const Sbx__V1__ListTokensRequest *)req;
	Sbx__V1__ListTokensResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListTokensResponse,
						     sbx__v1__list_tokens_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	*resp = &out->base;
	return tokens_list(call->db, r->user, r->include_revoked, out, call->arena, &call->err);
}

static void forget(rpc_call *call, void *arg)
{
	(void)call;
	auth_forget(arg);
}

sbx_status svc_tokens_revoke(rpc_call *call, const ProtobufCMessage *req,
			     ProtobufCMessage **resp)
{
	const Sbx__V1__RevokeTokenRequest *r = (const Sbx__V1__RevokeTokenRequest *)req;
	if (r->id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (see `sbx tokens ls`)");
	}
	Sbx__V1__Token *t = NULL;
	sbx_status s = tokens_get(call->db, r->id, &t, call->arena, &call->err);
	if (s == SBX_OK) {
		s = tokens_revoke(call->db, r->id, &call->err);
	}
	if (s == SBX_OK) {
		s = tokens_get(call->db, r->id, &t, call->arena, &call->err);
	}
	if (s != SBX_OK) {
		return s;
	}
	rpc_after_commit(call, forget, t->id);
	svc_announce(call, "events.tokens.", "token.revoked", t->id, NULL, 0);
	*resp = &t->base;
	return SBX_OK;
}

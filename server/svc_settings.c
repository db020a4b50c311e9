/* Settings service. Reads are served from an in-memory copy of the
 * singleton, replaced after each committed update, so a Get costs no
 * database access and an update applies at once everywhere. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "services.h"
#include "settings.h"
#include "wire.h"

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *cache_buf; /* packed SandboxSettings */
static size_t cache_len;

static void cache_put(const Sbx__V1__SandboxSettings *s)
{
	size_t n = protobuf_c_message_get_packed_size(&s->base);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL) {
		return;
	}
	protobuf_c_message_pack(&s->base, buf);
	pthread_mutex_lock(&cache_mu);
	free(cache_buf);
	cache_buf = buf;
	cache_len = n;
	pthread_mutex_unlock(&cache_mu);
}

/* Current settings, in `a`: from the cache, or the database on a miss. */
sbx_status svc_settings_current(rpc_call *call, Sbx__V1__SandboxSettings **out)
{
	pthread_mutex_lock(&cache_mu);
	if (cache_buf != NULL) {
		*out = sbx__v1__sandbox_settings__unpack(arena_allocator(call->arena), cache_len,
							 cache_buf);
		pthread_mutex_unlock(&cache_mu);
		return *out ? SBX_OK : RPC_FAIL(call, SBX_INTERNAL, "settings cache unreadable");
	}
	pthread_mutex_unlock(&cache_mu);
	sbx_status s = settings_load(call->db, out, call->arena, &call->err);
	if (s == SBX_OK) {
		cache_put(*out);
	}
	return s;
}

sbx_status svc_settings_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Sbx__V1__SandboxSettings *s = NULL;
	sbx_status st = svc_settings_current(call, &s);
	if (st == SBX_OK) {
		*resp = &s->base;
	}
	return st;
}

static void publish_cache(rpc_call *call, void *arg)
{
	(void)call;
	cache_put(arg);
}

sbx_status svc_settings_update(rpc_call *call, const ProtobufCMessage *req,
			       ProtobufCMessage **resp)
{
	const Sbx__V1__UpdateSettingsRequest *r = (const Sbx__V1__UpdateSettingsRequest *)req;
	Sbx__V1__SandboxSettings empty = SBX__V1__SANDBOX_SETTINGS__INIT;
	const Sbx__V1__SandboxSettings *in = r->settings ? r->settings : &empty;
	sbx_status s = settings_update(call->db, in, r->update_mask, r->n_update_mask,
				       call->caller.user, &call->err);
	Sbx__V1__SandboxSettings *now = NULL;
	if (s == SBX_OK) {
		s = settings_load(call->db, &now, call->arena, &call->err);
	}
	if (s != SBX_OK) {
		return s;
	}
	rpc_after_commit(call, publish_cache, now);
	svc_announce(call, "events.settings.", "settings.updated", "sandbox_settings",
		     r->update_mask, r->n_update_mask);
	*resp = &now->base;
	return SBX_OK;
}

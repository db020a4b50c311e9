#include "events.h"
#include "services.h"

sbx_status svc_unimplemented(rpc_call *call, const char *what)
{
	return RPC_FAIL(call, SBX_UNIMPLEMENTED,
			"%s is not implemented in this build of sbxd yet", what);
}

struct announcement {
	const char *topic;
	Sbx__V1__Event ev;
};

static void publish(rpc_call *call, void *arg)
{
	(void)call;
	struct announcement *a = arg;
	events_publish(a->topic, &a->ev);
}

void svc_announce(rpc_call *call, const char *topic, const char *kind, const char *subject,
		  char *const *fields, size_t n_fields)
{
	arena *ar = call->arena;
	struct announcement *a = arena_alloc(ar, sizeof(*a));
	if (a == NULL) {
		return;
	}
	sbx__v1__event__init(&a->ev);
	a->topic = arena_strdup(ar, topic);
	a->ev.kind = arena_strdup(ar, kind);
	a->ev.subject = arena_strdup(ar, subject);
	a->ev.actor = arena_strdup(ar, call->caller.user);
	if (n_fields > 0) {
		a->ev.fields = arena_alloc(ar, n_fields * sizeof(char *));
		for (size_t i = 0; a->ev.fields != NULL && i < n_fields; i++) {
			a->ev.fields[i] = arena_strdup(ar, fields[i]);
		}
		a->ev.n_fields = a->ev.fields ? n_fields : 0;
	}
	rpc_after_commit(call, publish, a);
}

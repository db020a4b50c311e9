/* The RPC core against a real sbxd: envelopes, limits, deadlines, auth,
 * idempotency, events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "harness.h"
#include "wire.h"
#include "sbx/v1/rpc.pb-c.h"

static struct daemon d;

static int setup(void **state)
{
	(void)state;
	return harness_start(&d);
}

static int teardown(void **state)
{
	(void)state;
	harness_cleanup(&d);
	return 0;
}

/* Sends raw bytes on a fresh REQ socket; returns the reply (or NULL on
 * timeout). Through a context that is closed before the socket: nng 1.5
 * can hang closing a REQ socket with a request still outstanding. */
static nng_msg *raw_call(const void *buf, size_t len, int timeout_ms)
{
	nng_socket s;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *m = NULL, *r = NULL;
	assert_int_equal(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	assert_int_equal(nng_dial(s, d.addr, NULL, 0), 0);
	assert_int_equal(nng_ctx_open(&ctx, s), 0);
	assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
	nng_aio_set_timeout(aio, timeout_ms);
	assert_int_equal(nng_msg_alloc(&m, len), 0);
	memcpy(nng_msg_body(m), buf, len);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0) {
		nng_msg_free(m);
	} else {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if (nng_aio_result(aio) == 0) {
			r = nng_aio_get_msg(aio);
		}
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	nng_close(s);
	return r;
}

static int reply_code(nng_msg *r, char *msg, size_t cap)
{
	const uint8_t *hb, *bb;
	size_t hl, bl;
	assert_non_null(r); /* no reply before the call's timeout */
	assert_int_equal(wire_split(nng_msg_body(r), nng_msg_len(r), &hb, &hl, &bb, &bl), 0);
	Sbx__V1__ReplyHeader *h = sbx__v1__reply_header__unpack(NULL, hl, hb);
	assert_non_null(h);
	int code = h->code;
	if (msg) {
		snprintf(msg, cap, "%s", h->message);
	}
	sbx__v1__reply_header__free_unpacked(h, NULL);
	nng_msg_free(r);
	return code;
}

/* A frame with the given header fields and body. */
static size_t frame(uint8_t *out, const char *method, const char *token, int64_t timeout_ms,
		    const ProtobufCMessage *body)
{
	Sbx__V1__CallHeader h = SBX__V1__CALL_HEADER__INIT;
	h.method = (char *)method;
	h.token = (char *)token;
	h.timeout_ms = timeout_ms;
	return wire_pack(&h.base, body, out);
}

static void assert_still_serving(void)
{
	sbx_client *c = harness_client(&d, NULL);
	assert_non_null(c);
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *s = NULL;
	assert_int_equal(sbx_settings_get(c, &req, &s, NULL), SBX_OK);
	sbx_free(s);
	sbx_disconnect(c);
}

static void test_unknown_method(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t n = frame(buf, "/sbx.v1.Nope/Nothing", d.admin_token, 1000, NULL);
	char msg[256];
	assert_int_equal(reply_code(raw_call(buf, n, 2000), msg, sizeof(msg)), SBX_UNIMPLEMENTED);
	assert_non_null(strstr(msg, "/sbx.v1.Nope/Nothing"));
}

static void test_unimplemented_service(void **state)
{
	(void)state;
	/* Cloud providers without a driver in this build answer UNIMPLEMENTED,
	 * saying so, for validation and for sandboxes. */
	sbx_client *c = harness_client(&d, NULL);
	sbx_error e;
	Sbx__V1__ValidateProviderRequest vr = SBX__V1__VALIDATE_PROVIDER_REQUEST__INIT;
	vr.id = "modal";
	Sbx__V1__ValidateProviderResponse *v = NULL;
	assert_int_equal(sbx_providers_validate(c, &vr, &v, &e), SBX_UNIMPLEMENTED);
	assert_non_null(strstr(e.message, "no driver"));
	Sbx__V1__CreateSandboxRequest cr = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	cr.provider = "e2b";
	Sbx__V1__Sandbox *sb = NULL;
	assert_int_equal(sbx_sandboxes_create(c, &cr, &sb, &e), SBX_UNIMPLEMENTED);
	assert_string_equal(e.field, "provider");
	sbx_disconnect(c);
}

static void test_malformed_envelopes(void **state)
{
	(void)state;
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
	static const uint8_t short_hdr[] = {0x7f, 0x0a};  /* says 127 bytes, has 1 */
	static const uint8_t bad_hdr[] = {0x03, 0xff, 0xff, 0xff};
	assert_int_equal(reply_code(raw_call(garbage, sizeof(garbage), 2000), NULL, 0),
			 SBX_INVALID_ARGUMENT);
	assert_int_equal(reply_code(raw_call(short_hdr, sizeof(short_hdr), 2000), NULL, 0),
			 SBX_INVALID_ARGUMENT);
	assert_int_equal(reply_code(raw_call(bad_hdr, sizeof(bad_hdr), 2000), NULL, 0),
			 SBX_INVALID_ARGUMENT);
	assert_int_equal(reply_code(raw_call("", 0, 2000), NULL, 0), SBX_INVALID_ARGUMENT);
	/* A valid header with a body that is not the request type. */
	uint8_t buf[512];
	size_t n = frame(buf, "/sbx.v1.Settings/Get", d.admin_token, 1000, NULL);
	buf[n++] = 0x0a;
	buf[n++] = 0x50; /* field 1, length 80, but nothing follows */
	assert_int_equal(reply_code(raw_call(buf, n, 2000), NULL, 0), SBX_INVALID_ARGUMENT);
	assert_still_serving();
}

static void test_invalid_utf8_names_field(void **state)
{
	(void)state;
	Sbx__V1__GetProviderRequest req = SBX__V1__GET_PROVIDER_REQUEST__INIT;
	req.id = "\xc3\x28";
	uint8_t buf[512];
	size_t n = frame(buf, "/sbx.v1.Providers/Get", d.admin_token, 1000, &req.base);
	char msg[256];
	assert_int_equal(reply_code(raw_call(buf, n, 2000), msg, sizeof(msg)), SBX_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "id"));
}

static void test_oversized_request(void **state)
{
	(void)state;
	/* The daemon's listener drops it (and the pipe): no reply, still alive. */
	size_t big = SBX_DEFAULT_MAX_MESSAGE + 4096;
	uint8_t *buf = calloc(1, big);
	nng_msg *r = raw_call(buf, big, 1500);
	if (r != NULL) {
		nng_msg_free(r);
		fail_msg("an oversized request got a reply");
	}
	free(buf);
	assert_still_serving();

	/* libsbx refuses to send it and says why. */
	sbx_client *c = harness_client(&d, NULL);
	Sbx__V1__GetProviderRequest req = SBX__V1__GET_PROVIDER_REQUEST__INIT;
	char *id = malloc(big);
	memset(id, 'a', big - 1);
	id[big - 1] = '\0';
	req.id = id;
	Sbx__V1__Provider *p = NULL;
	sbx_error e;
	assert_int_equal(sbx_providers_get(c, &req, &p, &e), SBX_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(e.message, "exceeds"));
	free(id);
	sbx_disconnect(c);
}

static void test_memory_amplification(void **state)
{
	(void)state;
	/* 1 MB of empty map entries would unpack to ~40 MB: refused. */
	size_t n_entries = 500000;
	size_t body_len = n_entries * 2;
	uint8_t *body = malloc(body_len);
	for (size_t i = 0; i < n_entries; i++) {
		body[2 * i] = (6 << 3) | 2; /* CreateSandboxRequest.env, length-delimited */
		body[2 * i + 1] = 0;
	}
	Sbx__V1__CallHeader h = SBX__V1__CALL_HEADER__INIT;
	h.method = "/sbx.v1.Sandboxes/Create";
	h.token = d.admin_token;
	h.timeout_ms = 5000;
	uint8_t *buf = malloc(body_len + 1024);
	size_t n = wire_pack_raw(&h.base, body, body_len, buf);
	char msg[256];
	assert_int_equal(reply_code(raw_call(buf, n, 5000), msg, sizeof(msg)),
			 SBX_RESOURCE_EXHAUSTED);
	free(body);
	free(buf);
	assert_still_serving();
}

static void test_expired_deadline(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	sbx_error e;
	sbx_call_options o = {.timeout_ms = -1};
	assert_int_equal(sbx_call(c, "/sbx.v1.Settings/Get", &req.base, &resp, &o, &e),
			 SBX_DEADLINE_EXCEEDED);
	assert_null(resp);
	/* An expired write does nothing. */
	Sbx__V1__SandboxSettings s = SBX__V1__SANDBOX_SETTINGS__INIT;
	s.max_concurrent_local = 77;
	char *mask[] = {"max_concurrent_local"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &s;
	u.update_mask = mask;
	u.n_update_mask = 1;
	assert_int_equal(sbx_call(c, "/sbx.v1.Settings/Update", &u.base, &resp, &o, &e),
			 SBX_DEADLINE_EXCEEDED);
	Sbx__V1__SandboxSettings *now = NULL;
	assert_int_equal(sbx_settings_get(c, &req, &now, NULL), SBX_OK);
	assert_int_not_equal(now->max_concurrent_local, 77);
	sbx_free(now);
	sbx_disconnect(c);
}

static void test_auth(void **state)
{
	(void)state;
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *s = NULL;
	sbx_error e;

	sbx_client *anon = harness_client(&d, "");
	/* harness_client("") still reads $SBX_TOKEN or a token file: be explicit. */
	sbx_disconnect(anon);
	sbx_options o = {.address = d.addr, .token = "sbx_definitely-not-a-token"};
	sbx_client *bad = NULL;
	assert_int_equal(sbx_connect(&bad, &o, NULL), SBX_OK);
	assert_int_equal(sbx_settings_get(bad, &req, &s, &e), SBX_UNAUTHENTICATED);
	sbx_disconnect(bad);

	uint8_t buf[512];
	size_t n = frame(buf, "/sbx.v1.Settings/Get", "", 1000, &req.base);
	assert_int_equal(reply_code(raw_call(buf, n, 2000), NULL, 0), SBX_UNAUTHENTICATED);

	/* Health needs no token (load balancers, probes). */
	Sbx__V1__HealthCheckRequest hr = SBX__V1__HEALTH_CHECK_REQUEST__INIT;
	n = frame(buf, "/sbx.v1.Health/Check", "", 1000, &hr.base);
	assert_int_equal(reply_code(raw_call(buf, n, 2000), NULL, 0), SBX_OK);

	/* A user token reads but cannot write settings. */
	sbx_client *admin = harness_client(&d, NULL);
	Sbx__V1__CreateTokenRequest ct = SBX__V1__CREATE_TOKEN_REQUEST__INIT;
	ct.user = "alice";
	Sbx__V1__CreateTokenResponse *tok = NULL;
	assert_int_equal(sbx_tokens_create(admin, &ct, &tok, &e), SBX_OK);
	sbx_client *alice = harness_client(&d, tok->secret);
	assert_int_equal(sbx_settings_get(alice, &req, &s, &e), SBX_OK);
	sbx_free(s);
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	char *mask[] = {"max_concurrent_local"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	assert_int_equal(sbx_settings_update(alice, &u, &s, &e), SBX_PERMISSION_DENIED);
	Sbx__V1__UpdateProviderRequest up = SBX__V1__UPDATE_PROVIDER_REQUEST__INIT;
	up.id = "e2b";
	char *pm[] = {"enabled"};
	up.update_mask = pm;
	up.n_update_mask = 1;
	Sbx__V1__Provider *p = NULL;
	assert_int_equal(sbx_providers_update(alice, &up, &p, &e), SBX_PERMISSION_DENIED);

	/* Revocation applies at once, cache or not. */
	Sbx__V1__RevokeTokenRequest rv = SBX__V1__REVOKE_TOKEN_REQUEST__INIT;
	rv.id = tok->token->id;
	Sbx__V1__Token *t = NULL;
	assert_int_equal(sbx_tokens_revoke(admin, &rv, &t, &e), SBX_OK);
	sbx_free(t);
	assert_int_equal(sbx_settings_get(alice, &req, &s, &e), SBX_UNAUTHENTICATED);
	sbx_disconnect(alice);
	sbx_disconnect(admin);
	sbx_free(tok);
}

static Sbx__V1__SandboxSettings *update_local(sbx_client *c, int value, const char *key,
					      sbx_status *st)
{
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	in.max_concurrent_local = value;
	char *mask[] = {"max_concurrent_local"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	ProtobufCMessage *out = NULL;
	sbx_call_options o = {.idempotency_key = key};
	*st = sbx_call(c, "/sbx.v1.Settings/Update", &u.base, &out, &o, NULL);
	return (Sbx__V1__SandboxSettings *)out;
}

static void test_idempotent_replay(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	sbx_status st;
	Sbx__V1__SandboxSettings *a = update_local(c, 5, "replay-key-1", &st);
	assert_int_equal(st, SBX_OK);
	assert_int_equal(a->max_concurrent_local, 5);
	Sbx__V1__SandboxSettings *b = update_local(c, 7, "replay-key-2", &st);
	assert_int_equal(st, SBX_OK);
	/* Replaying the first write returns its answer and changes nothing. */
	Sbx__V1__SandboxSettings *again = update_local(c, 5, "replay-key-1", &st);
	assert_int_equal(st, SBX_OK);
	assert_int_equal(again->max_concurrent_local, 5);
	assert_string_equal(again->updated_at, a->updated_at);
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *now = NULL;
	assert_int_equal(sbx_settings_get(c, &req, &now, NULL), SBX_OK);
	assert_int_equal(now->max_concurrent_local, 7);
	/* The same key for a different request is refused, naming the key. */
	Sbx__V1__SandboxSettings *other = update_local(c, 9, "replay-key-1", &st);
	assert_int_equal(st, SBX_INVALID_ARGUMENT);
	assert_null(other);

	/* Token creation replays are refused, never re-issued or stored. */
	Sbx__V1__CreateTokenRequest ct = SBX__V1__CREATE_TOKEN_REQUEST__INIT;
	ct.user = "bob";
	ProtobufCMessage *tok = NULL;
	sbx_call_options o = {.idempotency_key = "tok-key"};
	sbx_error e;
	assert_int_equal(sbx_call(c, "/sbx.v1.Tokens/Create", &ct.base, &tok, &o, &e), SBX_OK);
	sbx_free(tok);
	assert_int_equal(sbx_call(c, "/sbx.v1.Tokens/Create", &ct.base, &tok, &o, &e),
			 SBX_ALREADY_EXISTS);
	Sbx__V1__ListTokensRequest lt = SBX__V1__LIST_TOKENS_REQUEST__INIT;
	lt.user = "bob";
	Sbx__V1__ListTokensResponse *list = NULL;
	assert_int_equal(sbx_tokens_list(c, &lt, &list, NULL), SBX_OK);
	assert_int_equal(list->n_tokens, 1);
	sbx_free(list);
	sbx_free(a);
	sbx_free(b);
	sbx_free(again);
	sbx_free(now);
	sbx_disconnect(c);
}

static void test_invalid_setting_names_field(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	in.max_cpu_cores_per_sandbox = 0;
	in.default_provider = "nowhere";
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	Sbx__V1__SandboxSettings *out = NULL;
	sbx_error e;
	struct {
		char *mask;
		const char *field;
	} cases[] = {
		{"max_cpu_cores_per_sandbox", "settings.max_cpu_cores_per_sandbox"},
		{"default_provider", "settings.default_provider"},
		{"no_such_setting", "update_mask"},
		{"updated_by", "update_mask"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u.update_mask = &cases[i].mask;
		u.n_update_mask = 1;
		assert_int_equal(sbx_settings_update(c, &u, &out, &e), SBX_INVALID_ARGUMENT);
		assert_string_equal(e.field, cases[i].field);
	}
	/* Several fields, one bad: nothing is applied. */
	in.max_concurrent_cloud = 3;
	char *mask2[] = {"max_concurrent_cloud", "max_cpu_cores_per_sandbox"};
	u.update_mask = mask2;
	u.n_update_mask = 2;
	assert_int_equal(sbx_settings_update(c, &u, &out, &e), SBX_INVALID_ARGUMENT);
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	assert_int_equal(sbx_settings_get(c, &req, &out, NULL), SBX_OK);
	assert_int_equal(out->max_concurrent_cloud, 50);
	sbx_free(out);
	sbx_disconnect(c);
}

static void test_settings_event(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	sbx_subscription *sub = NULL;
	assert_int_equal(sbx_subscribe(c, "events.settings.", &sub, NULL), SBX_OK);
	/* A subscription takes a moment to reach the publisher. */
	uint64_t last = 0;
	int got = 0;
	for (int i = 0; i < 50 && got < 2; i++) {
		sbx_status st;
		sbx_free(update_local(c, 10 + i, NULL, &st));
		assert_int_equal(st, SBX_OK);
		Sbx__V1__Event *ev = NULL;
		while (sbx_next_event(sub, got ? 1000 : 50, &ev, NULL) == SBX_OK) {
			assert_string_equal(ev->topic, "events.settings.");
			assert_string_equal(ev->kind, "settings.updated");
			assert_string_equal(ev->actor, "admin");
			assert_int_equal(ev->n_fields, 1);
			assert_string_equal(ev->fields[0], "max_concurrent_local");
			if (got) {
				assert_int_equal(ev->seq, last + 1);
			}
			last = ev->seq;
			got++;
			sbx_free(ev);
			break;
		}
	}
	assert_true(got >= 2);
	sbx_unsubscribe(sub);
	sbx_disconnect(c);
}

static void test_server_info_reflection(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	Sbx__V1__Empty req = SBX__V1__EMPTY__INIT;
	Sbx__V1__ServerInfoResponse *r = NULL;
	assert_int_equal(sbx_server_info(c, &req, &r, NULL), SBX_OK);
	assert_string_equal(r->event_address, d.events);
	assert_true(r->file_descriptor_set.len > 1000);
	assert_true(r->n_methods > 30);
	int found = 0;
	for (size_t i = 0; i < r->n_services; i++) {
		found |= strcmp(r->services[i], "sbx.v1.Settings") == 0;
	}
	assert_true(found);
	/* The descriptor set names every service file. */
	assert_non_null(memmem(r->file_descriptor_set.data, r->file_descriptor_set.len,
			       "sbx/v1/sandboxes.proto", 22));
	sbx_free(r);
	sbx_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_method),
		cmocka_unit_test(test_unimplemented_service),
		cmocka_unit_test(test_malformed_envelopes),
		cmocka_unit_test(test_invalid_utf8_names_field),
		cmocka_unit_test(test_oversized_request),
		cmocka_unit_test(test_memory_amplification),
		cmocka_unit_test(test_expired_deadline),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_idempotent_replay),
		cmocka_unit_test(test_invalid_setting_names_field),
		cmocka_unit_test(test_settings_event),
		cmocka_unit_test(test_server_info_reflection),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("rpc", tests, setup, teardown);
}

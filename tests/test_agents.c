/* Agent runs with stand-in CLIs that print each agent's real output format
 * (tests/fixtures/agents): tokens, cost, key injection, validation, cost
 * limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct daemon d;
static sbx_client *admin;
static char sb[64];
static const char *const KEY = "sk-ant-test-0123456789abcdefXYZW";

static void set_key(const char *vendor, const char *key)
{
	Sbx__V1__SetModelCredentialRequest r = SBX__V1__SET_MODEL_CREDENTIAL_REQUEST__INIT;
	r.provider = (char *)vendor;
	r.api_key = (char *)key;
	Sbx__V1__ModelCredential *c = NULL;
	assert_int_equal(sbx_agents_set_credential(admin, &r, &c, NULL), SBX_OK);
	sbx_free(c);
}

static int setup(void **state)
{
	(void)state;
	if (harness_start(&d) != 0 || (admin = harness_client(&d, NULL)) == NULL) {
		return -1;
	}
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__CreateSandboxRequest__EnvEntry path = SBX__V1__CREATE_SANDBOX_REQUEST__ENV_ENTRY__INIT;
	Sbx__V1__CreateSandboxRequest__EnvEntry *pp = &path;
	path.key = "PATH";
	path.value = "/workspace/bin:/usr/local/bin:/usr/bin:/bin";
	r.name = "agents";
	r.env = &pp;
	r.n_env = 1;
	Sbx__V1__Sandbox *s = NULL;
	if (sbx_sandboxes_create(admin, &r, &s, NULL) != SBX_OK) {
		return -1;
	}
	snprintf(sb, sizeof(sb), "%s", s->id);
	sbx_free(s);
	/* The stand-in CLIs go where `npm i -g` would put the real ones. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/data/sandboxes/%s/workspace/bin && cp tests/fixtures/agents/* %s/data/sandboxes/%s/workspace/bin/",
		 d.dir, sb, d.dir, sb);
	if (system(cmd) != 0) {
		return -1;
	}
	set_key("anthropic", KEY);
	set_key("openai", "sk-openai-test-0000000000000000");
	set_key("google", "gemini-test-key-000000000000000");
	set_key("xai", "xai-test-key-00000000000000000000");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sbx_disconnect(admin);
	harness_cleanup(&d);
	return 0;
}

static Sbx__V1__Execution *run_agent(const char *agent, const char *model, char **err_out)
{
	Sbx__V1__RunAgentRequest r = SBX__V1__RUN_AGENT_REQUEST__INIT;
	r.sandbox_id = sb;
	r.agent = (char *)agent;
	r.model = (char *)(model ? model : "");
	r.instruction = "fix the failing test";
	Sbx__V1__RunAgentResponse *resp = NULL;
	sbx_error e;
	if (sbx_agents_run(admin, &r, &resp, &e) != SBX_OK) {
		fail_msg("run %s: %s", agent, e.message);
	}
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = resp->execution_id;
	w.wait_ms = 20000;
	Sbx__V1__Execution *x = NULL;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	if (err_out != NULL) {
		Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
		rq.id = resp->execution_id;
		Sbx__V1__ReadOutputResponse *o = NULL;
		assert_int_equal(sbx_executions_read_output(admin, &rq, &o, NULL), SBX_OK);
		*err_out = calloc(1, 1 << 16);
		for (size_t i = 0; i < o->n_chunks; i++) {
			if (o->chunks[i]->stream == SBX__V1__OUTPUT_STREAM__STDERR) {
				strncat(*err_out, (const char *)o->chunks[i]->data.data, o->chunks[i]->data.len);
			}
		}
		sbx_free(o);
	}
	sbx_free(resp);
	return x;
}

static void test_claude_single_object(void **state)
{
	(void)state;
	char *err = NULL;
	Sbx__V1__Execution *x = run_agent("claude", NULL, &err);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__SUCCEEDED);
	assert_string_equal(x->agent, "claude");
	assert_string_equal(x->model, "claude-sonnet-4-5-20250929");
	assert_true(x->usage->tokens_known);
	assert_int_equal(x->usage->input_tokens, 1200);
	assert_int_equal(x->usage->output_tokens, 340);
	assert_int_equal(x->usage->cached_input_tokens, 5000);
	assert_int_equal(x->usage->cache_write_tokens, 100);
	assert_true(x->usage->cost_usd == 0.0123);
	assert_string_equal(x->usage->cost_source, "agent");
	/* The key reached the CLI, and the CLI got the model. */
	assert_non_null(strstr(err, "key=set model=claude-sonnet-4-5-20250929"));
	free(err);
	/* The command line was recorded; the key was not. */
	int found = 0;
	for (size_t i = 0; i < x->n_argv; i++) {
		found |= strcmp(x->argv[i], "fix the failing test") == 0;
		assert_null(strstr(x->argv[i], KEY));
	}
	assert_true(found);
	sbx_free(x);
}

static void test_codex_lines_priced_from_table(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run_agent("codex", "gpt-5-codex", NULL);
	assert_int_equal(x->usage->input_tokens, 25763);
	assert_int_equal(x->usage->cached_input_tokens, 24448);
	assert_int_equal(x->usage->output_tokens, 172);
	assert_string_equal(x->usage->cost_source, "price_table");
	/* (25763-24448) x 1.25 + 24448 x 0.125 + 172 x 10, per million */
	assert_true(x->usage->cost_usd > 0.0064197 && x->usage->cost_usd < 0.0064198);
	sbx_free(x);
}

static void test_gemini_sums_models(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run_agent("gemini", "gemini-2.5-pro", NULL);
	assert_int_equal(x->usage->input_tokens, 1050);
	assert_int_equal(x->usage->output_tokens, 205);
	assert_int_equal(x->usage->cached_input_tokens, 300);
	/* (1050-300) x 1.25 + 300 x 0.31 + 205 x 10 */
	assert_true(x->usage->cost_usd > 0.0030804 && x->usage->cost_usd < 0.0030806);
	sbx_free(x);
}

static void test_opencode_steps(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run_agent("opencode", "claude-haiku-4-5-20251001", NULL);
	assert_int_equal(x->usage->input_tokens, 300);
	assert_int_equal(x->usage->output_tokens, 55);
	assert_int_equal(x->usage->cached_input_tokens, 10);
	assert_int_equal(x->usage->cache_write_tokens, 2);
	assert_true(x->usage->cost_usd > 0.00299 && x->usage->cost_usd < 0.00301);
	assert_string_equal(x->usage->cost_source, "agent");
	sbx_free(x);
}

static void test_grok_unknown_tokens_and_error_text(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run_agent("grok", NULL, NULL);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__SUCCEEDED);
	assert_false(x->usage->tokens_known);
	assert_true(x->usage->cost_usd == 0);
	sbx_free(x);
	Sbx__V1__SetEnvRequest se = SBX__V1__SET_ENV_REQUEST__INIT;
	Sbx__V1__SetEnvRequest__EnvEntry kv = SBX__V1__SET_ENV_REQUEST__ENV_ENTRY__INIT;
	Sbx__V1__SetEnvRequest__EnvEntry *kvp = &kv;
	kv.key = "GROK_FAIL";
	kv.value = "1";
	se.id = sb;
	se.env = &kvp;
	se.n_env = 1;
	Sbx__V1__Sandbox *s = NULL;
	assert_int_equal(sbx_sandboxes_set_env(admin, &se, &s, NULL), SBX_OK);
	sbx_free(s);
	x = run_agent("grok", NULL, NULL);
	/* It exited 0, but said it failed. */
	assert_int_equal(x->exit_code, 0);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__FAILED);
	assert_non_null(strstr(x->error, "401"));
	sbx_free(x);
	se.n_env = 0;
	char *unset[] = {"GROK_FAIL"};
	se.unset = unset;
	se.n_unset = 1;
	assert_int_equal(sbx_sandboxes_set_env(admin, &se, &s, NULL), SBX_OK);
	sbx_free(s);
}

static void test_validation(void **state)
{
	(void)state;
	Sbx__V1__RunAgentRequest r = SBX__V1__RUN_AGENT_REQUEST__INIT;
	r.sandbox_id = sb;
	r.agent = "claude";
	r.instruction = "x";
	Sbx__V1__RunAgentResponse *resp = NULL;
	sbx_error e;
	r.model = "gpt-4o";
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "model");
	r.model = "";
	r.has_temperature = 1;
	r.temperature = 1.5; /* claude takes 0..1 */
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "temperature");
	r.has_temperature = 0;
	r.agent = "cursor";
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_NOT_FOUND);
	assert_string_equal(e.field, "agent");
	r.agent = "claude";
	r.instruction = "";
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "instruction");
	/* No key for the vendor: refused, saying how to fix it. */
	set_key("anthropic", "");
	r.instruction = "x";
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, "set-key anthropic"));
	set_key("anthropic", KEY);
	/* The key is not in the environment of other commands. */
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb, "echo \"[$ANTHROPIC_API_KEY]\"", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "[]\n");
	free(out);
	/* Keys are listed, never shown. */
	Sbx__V1__ListModelCredentialsRequest lr = SBX__V1__LIST_MODEL_CREDENTIALS_REQUEST__INIT;
	Sbx__V1__ListModelCredentialsResponse *l = NULL;
	assert_int_equal(sbx_agents_list_credentials(admin, &lr, &l, NULL), SBX_OK);
	for (size_t i = 0; i < l->n_credentials; i++) {
		if (strcmp(l->credentials[i]->provider, "anthropic") == 0) {
			assert_true(l->credentials[i]->configured);
			assert_string_equal(l->credentials[i]->last4, "XYZW");
		}
	}
	sbx_free(l);
}

static void set_setting_double(const char *key, double v)
{
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(in.base.descriptor, key);
	*(double *)((char *)&in + f->offset) = v;
	char *mask[] = {(char *)key};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *out = NULL;
	assert_int_equal(sbx_settings_update(admin, &u, &out, NULL), SBX_OK);
	sbx_free(out);
}

static void test_costs_roll_up_and_limits_stop(void **state)
{
	(void)state;
	Sbx__V1__CostRequest cr = SBX__V1__COST_REQUEST__INIT;
	cr.sandbox_id = sb;
	Sbx__V1__CostResponse *c = NULL;
	assert_int_equal(sbx_executions_cost(admin, &cr, &c, NULL), SBX_OK);
	double before = c->token_cost_usd;
	assert_true(before > 0.02); /* the runs above */
	assert_true(c->input_tokens > 0);
	sbx_free(c);

	sbx_subscription *sub = NULL;
	assert_int_equal(sbx_subscribe(admin, "events.costs.", &sub, NULL), SBX_OK);
	usleep(200000);
	set_setting_double("cost_alert_threshold", before + 0.001);
	set_setting_double("max_cost_per_sandbox", before + 0.01);
	/* One more claude run (0.0123) crosses both. */
	Sbx__V1__Execution *x = run_agent("claude", NULL, NULL);
	sbx_free(x);
	Sbx__V1__Event *ev = NULL;
	int alert = 0, limit = 0;
	while (sbx_next_event(sub, 3000, &ev, NULL) == SBX_OK) {
		alert |= strcmp(ev->kind, "cost.alert") == 0;
		limit |= strcmp(ev->kind, "cost.limit_reached") == 0;
		sbx_free(ev);
		if (alert && limit) {
			break;
		}
	}
	sbx_unsubscribe(sub);
	assert_true(alert);
	assert_true(limit);
	/* auto_stop_at_cost_limit (on by default) stopped the sandbox. */
	Sbx__V1__GetSandboxRequest g = SBX__V1__GET_SANDBOX_REQUEST__INIT;
	g.id = sb;
	Sbx__V1__Sandbox *s = NULL;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(sbx_sandboxes_get(admin, &g, &s, NULL), SBX_OK);
		int stopped = s->status == SBX__V1__SANDBOX_STATUS__STOPPED;
		if (stopped) {
			break;
		}
		sbx_free(s);
		s = NULL;
		usleep(100000);
	}
	assert_non_null(s);
	assert_int_equal(s->status, SBX__V1__SANDBOX_STATUS__STOPPED);
	assert_true(s->token_cost_usd >= before + 0.0123 - 1e-9);
	sbx_free(s);
	/* Further runs are refused. */
	Sbx__V1__RunAgentRequest r = SBX__V1__RUN_AGENT_REQUEST__INIT;
	r.sandbox_id = sb;
	r.agent = "claude";
	r.instruction = "more";
	Sbx__V1__RunAgentResponse *resp = NULL;
	sbx_error e;
	assert_int_equal(sbx_agents_run(admin, &r, &resp, &e), SBX_RESOURCE_EXHAUSTED);
	set_setting_double("max_cost_per_sandbox", 50);
	Sbx__V1__ListExecutionsRequest lr = SBX__V1__LIST_EXECUTIONS_REQUEST__INIT;
	lr.agent = "claude";
	Sbx__V1__ListExecutionsResponse *l = NULL;
	assert_int_equal(sbx_executions_list(admin, &lr, &l, NULL), SBX_OK);
	assert_int_equal(l->n_executions, 2);
	sbx_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claude_single_object),
		cmocka_unit_test(test_codex_lines_priced_from_table),
		cmocka_unit_test(test_gemini_sums_models),
		cmocka_unit_test(test_opencode_steps),
		cmocka_unit_test(test_grok_unknown_tokens_and_error_text),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_costs_roll_up_and_limits_stop),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("agents", tests, setup, teardown);
}

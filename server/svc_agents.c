/* Agents service: the registry, its models and their prices. Price edits
 * are settings edits: admin only, recorded with who made them, announced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_clis.h"
#include "agents.h"
#include "events.h"
#include "runs.h"
#include "sandboxes.h"
#include "secrets.h"
#include "services.h"
#include "settings.h"

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

/* ---- agent runs ---------------------------------------------------------- */

#define PARSE_CAP (16u << 20)  /* stdout kept for parsing */
#define ERR_CAP (256u << 10)

struct parser {
	const agent_cli *cli;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

static void buf_append(char **buf, size_t *len, size_t cap, const void *data, size_t n)
{
	if (*len >= cap) {
		return;
	}
	if (n > cap - *len) {
		n = cap - *len;
	}
	char *grown = realloc(*buf, *len + n + 1);
	if (grown == NULL) {
		return;
	}
	memcpy(grown + *len, data, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
}

static void parser_feed(void *arg, int stream, const void *data, size_t len)
{
	struct parser *p = arg;
	if (stream == 2) {
		buf_append(&p->err, &p->err_len, ERR_CAP, data, len);
	} else {
		buf_append(&p->out, &p->out_len, PARSE_CAP, data, len);
	}
}

static void parser_free(void *arg)
{
	struct parser *p = arg;
	if (p != NULL) {
		free(p->out);
		free(p->err);
		free(p);
	}
}

/* Tokens and cost from the CLI's own output; the model's prices where the
 * CLI reports tokens only. Unknown tokens stay unknown, never 0. */
static void parser_finish(struct run *r, Sbx__V1__Execution *x)
{
	struct parser *p = r->parser;
	agent_usage u;
	memset(&u, 0, sizeof(u));
	agent_cli_parse(p->cli, p->out, p->out_len, p->err, p->err_len, &u);
	Sbx__V1__Usage *usage = x->usage;
	usage->tokens_known = u.tokens_known;
	usage->input_tokens = u.input_tokens;
	usage->output_tokens = u.output_tokens;
	usage->cached_input_tokens = u.cached_input_tokens;
	usage->cache_write_tokens = u.cache_write_tokens;
	if (u.cost_known) {
		usage->cost_usd = u.cost_usd;
		usage->cost_source = "agent";
	} else if (u.tokens_known && r->db != NULL) {
		arena *a = arena_new(1u << 16);
		Sbx__V1__Model *m = NULL;
		err_t e;
		if (a != NULL && models_get(r->db, r->model, &m, a, &e) == SBX_OK) {
			usage->cost_usd = agent_price(&u, agent_cli_cached_in_input(p->cli), m->input_price_per_mtok,
						      m->output_price_per_mtok, m->cached_input_price_per_mtok,
						      m->cache_write_price_per_mtok);
			usage->cost_source = "price_table";
		}
		arena_free(a);
	}
	if (u.error[0] != '\0') {
		/* Some CLIs exit 0 on API errors: their own word decides. */
		static __thread char msg[600];
		snprintf(msg, sizeof(msg), "%s: %s", r->agent, u.error);
		x->error = msg;
		if (x->status == SBX__V1__EXECUTION_STATUS__SUCCEEDED) {
			x->status = SBX__V1__EXECUTION_STATUS__FAILED;
		}
	}
}

static void announce_cost(const char *sandbox_id, const char *kind, double cost)
{
	char topic[160], subject[128];
	snprintf(topic, sizeof(topic), "events.sandbox.%s.", sandbox_id);
	snprintf(subject, sizeof(subject), "%.6f", cost);
	Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
	ev.kind = (char *)kind;
	ev.subject = subject;
	ev.actor = "sbxd";
	events_publish(topic, &ev);
	events_publish("events.costs.", &ev);
}

/* Rolls the run's cost up into its sandbox, then applies the settings:
 * an alert past cost_alert_threshold, a stop at the limits when
 * auto_stop_at_cost_limit is on. */
static void after_finish(struct run *r, sqlite3 *db, const Sbx__V1__Execution *x)
{
	double cost = x->usage ? x->usage->cost_usd : 0;
	err_t e;
	double before_sb = 0, before_total = 0, sb_cost = 0, total = 0;
	sandboxes_costs(db, r->sandbox_id, &before_sb, &before_total, &e);
	if (cost > 0) {
		sandboxes_add_token_cost(db, r->sandbox_id, cost, &e);
	}
	sandboxes_costs(db, r->sandbox_id, &sb_cost, &total, &e);
	arena *a = arena_new(1u << 16);
	Sbx__V1__SandboxSettings *set = NULL;
	if (a == NULL || settings_load(db, &set, a, &e) != SBX_OK || !set->cost_tracking_enabled) {
		arena_free(a);
		return;
	}
	if ((before_sb < set->cost_alert_threshold && sb_cost >= set->cost_alert_threshold) ||
	    (before_total < set->cost_alert_threshold && total >= set->cost_alert_threshold)) {
		announce_cost(r->sandbox_id, "cost.alert", sb_cost);
	}
	int over = sb_cost >= set->max_cost_per_sandbox || total >= set->max_total_cost;
	if (over) {
		announce_cost(r->sandbox_id, "cost.limit_reached", sb_cost);
		if (set->auto_stop_at_cost_limit) {
			sandboxes_stop_for(db, r->sandbox_id, "stopped at the cost limit", &e);
		}
	}
	arena_free(a);
}

static int model_allowed(const Sbx__V1__Agent *a, const char *model, const Sbx__V1__Model **out)
{
	for (size_t i = 0; i < a->n_models; i++) {
		if (strcmp(a->models[i]->id, model) == 0) {
			*out = a->models[i];
			return 1;
		}
	}
	return 0;
}

static sbx_status check_cost_limits(rpc_call *call, const char *sandbox_id)
{
	Sbx__V1__SandboxSettings *set = NULL;
	sbx_status s = svc_settings_current(call, &set);
	if (s != SBX_OK || !set->cost_tracking_enabled) {
		return s;
	}
	double sb_cost = 0, total = 0;
	if ((s = sandboxes_costs(call->db, sandbox_id, &sb_cost, &total, &call->err)) != SBX_OK) {
		return s;
	}
	if (sb_cost >= set->max_cost_per_sandbox) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED,
				"sandbox %s has cost $%.4f, at settings.max_cost_per_sandbox ($%.2f)",
				sandbox_id, sb_cost, set->max_cost_per_sandbox);
	}
	if (total >= set->max_total_cost) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED,
				"sandboxes have cost $%.4f in total, at settings.max_total_cost ($%.2f)", total,
				set->max_total_cost);
	}
	return SBX_OK;
}

sbx_status svc_agents_run(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__RunAgentRequest *r = (const Sbx__V1__RunAgentRequest *)req;
	arena *ar = call->arena;
	if (r->sandbox_id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "sandbox_id", "required");
	}
	if (r->instruction[0] == '\0' || strlen(r->instruction) > 100000) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "instruction", "1 to 100000 characters");
	}
	Sbx__V1__Agent *agent = NULL;
	sbx_status s = agents_get(call->db, r->agent, &agent, ar, &call->err);
	if (s == SBX_NOT_FOUND) {
		return RPC_FIELD(call, SBX_NOT_FOUND, "agent", "no agent \"%.64s\" (see `sbx agents ls`)", r->agent);
	}
	if (s != SBX_OK) {
		return s;
	}
	const agent_cli *cli = agent_cli_find(agent->id);
	if (cli == NULL || !agent->is_available) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "agent", "agent %s is not available", agent->id);
	}
	const char *model = r->model[0] ? r->model : agent->default_model;
	const Sbx__V1__Model *m = NULL;
	if (!model_allowed(agent, model, &m)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "model", "%s does not run model \"%.128s\" (see `sbx agents get %s`)",
				 agent->id, model, agent->id);
	}
	if (r->has_temperature && (r->temperature < agent->temperature_min || r->temperature > agent->temperature_max)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "temperature", "%s takes %g to %g", agent->id,
				 agent->temperature_min, agent->temperature_max);
	}
	if (r->timeout_seconds < 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "timeout_seconds", "must not be negative");
	}
	if ((s = check_cost_limits(call, r->sandbox_id)) != SBX_OK) {
		return s;
	}
	/* The vendor's key goes into this run's environment only. */
	char *key = NULL, *base_url = NULL;
	s = model_credentials_get(call->db, m->provider, &key, &base_url, ar, &call->err);
	if (s == SBX_NOT_FOUND) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "model",
				 "no %s API key is configured (sbx agents set-key %s --api-key -)", m->provider,
				 m->provider);
	}
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__StartExecutionRequest__EnvEntry **env = arena_alloc(ar, 16 * sizeof(*env));
	size_t n_env = 0;
	const char *const *quiet = agent_cli_env(cli);
	for (size_t i = 0; env != NULL && quiet[i] != NULL && n_env < 12; i++) {
		Sbx__V1__StartExecutionRequest__EnvEntry *kv = ARENA_MSG(
			ar, Sbx__V1__StartExecutionRequest__EnvEntry, sbx__v1__start_execution_request__env_entry__init);
		const char *eq = strchr(quiet[i], '=');
		kv->key = arena_strndup(ar, quiet[i], (size_t)(eq - quiet[i]));
		kv->value = (char *)eq + 1;
		env[n_env++] = kv;
	}
	const char *names[2] = {agent_vendor_key_env(m->provider), agent_vendor_url_env(m->provider)};
	const char *values[2] = {key, base_url};
	for (int i = 0; env != NULL && i < 2; i++) {
		if (names[i] == NULL || values[i] == NULL || values[i][0] == '\0') {
			continue;
		}
		Sbx__V1__StartExecutionRequest__EnvEntry *kv = ARENA_MSG(
			ar, Sbx__V1__StartExecutionRequest__EnvEntry, sbx__v1__start_execution_request__env_entry__init);
		kv->key = (char *)names[i];
		kv->value = arena_strdup(ar, values[i]);
		env[n_env++] = kv;
	}
	secrets_free(key);
	const char *argv[24];
	size_t argc = agent_cli_argv(cli, r->instruction, model, r->resume_session, argv, 24);
	struct run *run = calloc(1, sizeof(*run));
	struct parser *p = calloc(1, sizeof(*p));
	if (run == NULL || p == NULL || env == NULL) {
		free(run);
		free(p);
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	p->cli = cli;
	run->parser = p;
	run->parser_feed = parser_feed;
	run->parser_finish = parser_finish;
	run->parser_free = parser_free;
	run->after_finish = after_finish;
	snprintf(run->agent, sizeof(run->agent), "%s", agent->id);
	snprintf(run->model, sizeof(run->model), "%s", model);
	ProtobufCBinaryData no_stdin = {0, NULL};
	char *id = NULL;
	s = runs_start(call, run, r->sandbox_id, (char *const *)argv, argc, NULL, r->working_dir, env, n_env,
		       &no_stdin, 0, r->timeout_seconds, agent->id, model, &id);
	/* The key was copied into the run; wipe the call's copy. */
	for (size_t i = 0; i < n_env; i++) {
		if (names[0] != NULL && strcmp(env[i]->key, names[0]) == 0) {
			memset(env[i]->value, 0, strlen(env[i]->value));
		}
	}
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__RunAgentResponse *out = ARENA_MSG(ar, Sbx__V1__RunAgentResponse, sbx__v1__run_agent_response__init);
	out->execution_id = id;
	out->log_topic = arena_printf(ar, "logs.%s.", id);
	out->argv = (char **)argv;
	out->n_argv = argc;
	*resp = &out->base;
	return SBX_OK;
}

sbx_status svc_agents_set_credential(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__SetModelCredentialRequest *r = (const Sbx__V1__SetModelCredentialRequest *)req;
	if (agent_vendor_key_env(r->provider) == NULL) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "provider", "must be anthropic, openai, google or xai");
	}
	if (r->base_url[0] && strncmp(r->base_url, "http://", 7) && strncmp(r->base_url, "https://", 8)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "base_url", "must be an http(s):// URL");
	}
	sbx_status s = model_credentials_set(call->db, r->provider, r->api_key, r->base_url, call->caller.user,
					     &call->err);
	Sbx__V1__ListModelCredentialsResponse all = SBX__V1__LIST_MODEL_CREDENTIALS_RESPONSE__INIT;
	if (s == SBX_OK) {
		s = model_credentials_list(call->db, &all, call->arena, &call->err);
	}
	for (size_t i = 0; s == SBX_OK && i < all.n_credentials; i++) {
		if (strcmp(all.credentials[i]->provider, r->provider) == 0) {
			svc_announce(call, "events.settings.", "model_credential.updated", r->provider, NULL, 0);
			*resp = &all.credentials[i]->base;
			return SBX_OK;
		}
	}
	return s == SBX_OK ? RPC_FAIL(call, SBX_INTERNAL, "credential vanished") : s;
}

sbx_status svc_agents_list_credentials(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Sbx__V1__ListModelCredentialsResponse *out = ARENA_MSG(
		call->arena, Sbx__V1__ListModelCredentialsResponse, sbx__v1__list_model_credentials_response__init);
	*resp = &out->base;
	return model_credentials_list(call->db, out, call->arena, &call->err);
}

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_clis.h"

typedef void (*parse_fn)(json_t *obj, agent_usage *u);

#define MAX_ARGS 16

struct agent_cli {
	const char *id;
	/* argv template: "{instruction}", "{model}" are substituted. */
	const char *argv[MAX_ARGS];
	/* appended when resuming a session: "{session}" substituted */
	const char *resume[4];
	const char *const *env;
	int cached_in_input;
	parse_fn parse;
};

static int64_t int_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : json_is_real(v) ? (int64_t)json_real_value(v) : 0;
}

static int has_num(json_t *o, const char *key)
{
	return json_is_number(json_object_get(o, key));
}

static void set_error(agent_usage *u, const char *msg)
{
	if (u->error[0] == '\0' && msg != NULL) {
		snprintf(u->error, sizeof(u->error), "%s", msg);
	}
}

/* Claude Code: one `result` object (or the last line of stream-json). Only
 * the result is authoritative: assistant lines carry start-of-message
 * snapshots. */
static void parse_claude(json_t *o, agent_usage *u)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	if (type == NULL || strcmp(type, "result") != 0) {
		return;
	}
	json_t *usage = json_object_get(o, "usage");
	if (json_is_object(usage)) {
		u->input_tokens = int_at(usage, "input_tokens");
		u->output_tokens = int_at(usage, "output_tokens");
		u->cached_input_tokens = int_at(usage, "cache_read_input_tokens");
		u->cache_write_tokens = int_at(usage, "cache_creation_input_tokens");
		u->tokens_known = 1;
	}
	json_t *cost = json_object_get(o, "total_cost_usd");
	if (!json_is_number(cost)) {
		cost = json_object_get(o, "cost_usd"); /* older builds */
	}
	if (json_is_number(cost)) {
		u->cost_usd = json_number_value(cost);
		u->cost_known = 1;
	}
	if (json_is_true(json_object_get(o, "is_error"))) {
		const char *r = json_string_value(json_object_get(o, "result"));
		set_error(u, r ? r : json_string_value(json_object_get(o, "subtype")));
	}
}

/* Codex: JSON lines; usage per turn.completed, summed. */
static void parse_codex(json_t *o, agent_usage *u)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	if (type == NULL) {
		return;
	}
	if (strcmp(type, "turn.completed") == 0) {
		json_t *usage = json_object_get(o, "usage");
		u->input_tokens += int_at(usage, "input_tokens");
		u->cached_input_tokens += int_at(usage, "cached_input_tokens");
		u->cache_write_tokens += int_at(usage, "cache_write_input_tokens");
		u->output_tokens += int_at(usage, "output_tokens") + int_at(usage, "reasoning_output_tokens");
		u->tokens_known = 1;
	} else if (strcmp(type, "turn.failed") == 0 || strcmp(type, "error") == 0) {
		json_t *err = json_object_get(o, "error");
		set_error(u, json_string_value(json_is_object(err) ? json_object_get(err, "message")
								  : json_object_get(o, "message")));
	}
}

/* Gemini CLI: one object {response, stats{models{m:{tokens}}}} (summed over
 * models: a router model may appear beside the main one), or stream-json
 * ending in {type:result, stats{input_tokens, output_tokens, cached}}. */
static void parse_gemini(json_t *o, agent_usage *u)
{
	json_t *stats = json_object_get(o, "stats");
	json_t *models = json_object_get(stats, "models");
	const char *type = json_string_value(json_object_get(o, "type"));
	if (json_is_object(models) && (type == NULL || strcmp(type, "result") != 0 || !has_num(stats, "input_tokens"))) {
		const char *name;
		json_t *m;
		int64_t in = 0, out = 0, cached = 0;
		json_object_foreach(models, name, m)
		{
			json_t *t = json_object_get(m, "tokens");
			in += has_num(t, "prompt") ? int_at(t, "prompt") : int_at(t, "input");
			out += int_at(t, "candidates");
			cached += int_at(t, "cached");
		}
		u->input_tokens = in;
		u->output_tokens = out;
		u->cached_input_tokens = cached;
		u->tokens_known = 1;
	} else if (type != NULL && strcmp(type, "result") == 0 && json_is_object(stats)) {
		u->input_tokens = int_at(stats, "input_tokens");
		u->output_tokens = int_at(stats, "output_tokens");
		u->cached_input_tokens = int_at(stats, "cached");
		u->tokens_known = 1;
	}
	json_t *err = json_object_get(o, "error");
	if (json_is_object(err)) {
		set_error(u, json_string_value(json_object_get(err, "message")));
	} else if (json_is_string(err)) {
		set_error(u, json_string_value(err));
	}
}

/* OpenCode: JSON lines; step_finish parts carry tokens and cost, summed. */
static void parse_opencode(json_t *o, agent_usage *u)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	if (type == NULL) {
		return;
	}
	if (strcmp(type, "step_finish") == 0) {
		json_t *part = json_object_get(o, "part");
		json_t *t = json_object_get(part, "tokens");
		u->input_tokens += int_at(t, "input");
		u->output_tokens += int_at(t, "output") + int_at(t, "reasoning");
		json_t *cache = json_object_get(t, "cache");
		u->cached_input_tokens += int_at(cache, "read");
		u->cache_write_tokens += int_at(cache, "write");
		u->tokens_known = 1;
		json_t *cost = json_object_get(part, "cost");
		if (json_is_number(cost)) {
			u->cost_usd += json_number_value(cost);
			u->cost_known = 1;
		}
	} else if (strcmp(type, "error") == 0) {
		json_t *err = json_object_get(o, "error");
		json_t *data = json_object_get(err, "data");
		const char *msg = json_string_value(json_object_get(data, "message"));
		set_error(u, msg ? msg : json_string_value(json_object_get(err, "name")));
	}
}

/* Grok CLI (npm build): {"role","content"} lines and no usage at all:
 * tokens stay unknown, never 0. It exits 0 on API errors, so the error is
 * read from the text. */
static void parse_grok(json_t *o, agent_usage *u)
{
	const char *content = json_string_value(json_object_get(o, "content"));
	if (content != NULL && (strncmp(content, "Error", 5) == 0 ||
				strstr(content, "encountered an error") != NULL)) {
		set_error(u, content);
	}
	/* Newer upstream builds add step_finish usage. */
	const char *type = json_string_value(json_object_get(o, "type"));
	json_t *usage = json_object_get(o, "usage");
	if (type != NULL && strcmp(type, "step_finish") == 0 && json_is_object(usage)) {
		u->input_tokens += int_at(usage, "inputTokens");
		u->output_tokens += int_at(usage, "outputTokens");
		u->tokens_known = 1;
	}
}

static const char *const quiet_claude[] = {
	"DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1",
	"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "CLAUDE_CODE_MAX_RETRIES=0", NULL};
static const char *const quiet_none[] = {NULL};

static const agent_cli agents[] = {
	{"claude", {"claude", "-p", "{instruction}", "--output-format", "json", "--model", "{model}", NULL},
	 {"--resume", "{session}", NULL}, quiet_claude, 0, parse_claude},
	{"codex", {"codex", "exec", "--json", "--skip-git-repo-check", "-m", "{model}", "{instruction}", NULL},
	 {NULL}, quiet_none, 1, parse_codex},
	{"gemini", {"gemini", "-p", "{instruction}", "--output-format", "json", "-m", "{model}", NULL},
	 {"--resume", "{session}", NULL}, quiet_none, 1, parse_gemini},
	{"grok", {"grok", "-p", "{instruction}", "-m", "{model}", NULL}, {NULL}, quiet_none, 0, parse_grok},
	{"opencode", {"opencode", "run", "--format", "json", "-m", "{model}", "{instruction}", NULL},
	 {"--session", "{session}", NULL}, quiet_none, 0, parse_opencode},
};

static const struct vendor {
	const char *id;
	const char *key_env;
	const char *url_env;
} vendors[] = {
	{"anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"},
	{"openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"},
	{"google", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"},
	{"xai", "GROK_API_KEY", "GROK_BASE_URL"},
};

const agent_cli *agent_cli_find(const char *agent)
{
	for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		if (strcmp(agents[i].id, agent) == 0) {
			return &agents[i];
		}
	}
	return NULL;
}

static const struct vendor *vendor(const char *id)
{
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		if (strcmp(vendors[i].id, id) == 0) {
			return &vendors[i];
		}
	}
	return NULL;
}

const char *agent_vendor_key_env(const char *id)
{
	const struct vendor *v = vendor(id);
	return v ? v->key_env : NULL;
}

const char *agent_vendor_url_env(const char *id)
{
	const struct vendor *v = vendor(id);
	return v ? v->url_env : NULL;
}

const char *const *agent_cli_env(const agent_cli *a)
{
	return a->env;
}

int agent_cli_cached_in_input(const agent_cli *a)
{
	return a->cached_in_input;
}

static const char *subst(const char *t, const char *instruction, const char *model,
			 const char *session)
{
	if (strcmp(t, "{instruction}") == 0) {
		return instruction;
	}
	if (strcmp(t, "{model}") == 0) {
		return model;
	}
	if (strcmp(t, "{session}") == 0) {
		return session;
	}
	return t;
}

size_t agent_cli_argv(const agent_cli *a, const char *instruction, const char *model,
		      const char *resume_session, const char **argv, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; a->argv[i] != NULL && n + 1 < cap; i++) {
		argv[n++] = subst(a->argv[i], instruction, model, resume_session);
	}
	if (resume_session != NULL && resume_session[0] != '\0') {
		for (size_t i = 0; a->resume[i] != NULL && n + 1 < cap; i++) {
			argv[n++] = subst(a->resume[i], instruction, model, resume_session);
		}
	}
	argv[n] = NULL;
	return n;
}

static void parse_text(const agent_cli *a, const char *text, size_t len, agent_usage *u)
{
	if (len == 0) {
		return;
	}
	json_error_t je;
	json_t *whole = json_loadb(text, len, 0, &je);
	if (json_is_object(whole)) {
		a->parse(whole, u);
		json_decref(whole);
		return;
	}
	json_decref(whole);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[0] == '{') {
			json_t *o = json_loadb(p, n, 0, &je);
			if (json_is_object(o)) {
				a->parse(o, u);
			}
			json_decref(o);
		}
		p += n + 1;
	}
}

void agent_cli_parse(const agent_cli *a, const char *out, size_t out_len, const char *err,
		     size_t err_len, agent_usage *u)
{
	parse_text(a, out, out_len, u);
	/* Gemini's json mode writes its error object to stderr, stdout empty. */
	agent_usage from_err;
	memset(&from_err, 0, sizeof(from_err));
	parse_text(a, err, err_len, &from_err);
	set_error(u, from_err.error[0] ? from_err.error : NULL);
}

double agent_price(const agent_usage *u, int cached_in_input, double in, double out,
		   double cached, double cache_write)
{
	int64_t uncached = u->input_tokens;
	if (cached_in_input) {
		uncached -= u->cached_input_tokens;
		if (uncached < 0) {
			uncached = 0;
		}
	}
	return ((double)uncached * in + (double)u->cached_input_tokens * cached +
		(double)u->cache_write_tokens * cache_write + (double)u->output_tokens * out) /
	       1e6;
}

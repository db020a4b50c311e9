/* The coding-agent CLIs: how to run each headless and how to read its
 * usage from its machine-readable output. One table, one entry per agent
 * (see docs/agents.md and ../shared/reference/agents.md for the formats). */
#ifndef SBX_SERVER_AGENT_CLIS_H
#define SBX_SERVER_AGENT_CLIS_H

#include <stddef.h>
#include <stdint.h>

#include "sbx/v1/executions.pb-c.h"

/* What an agent's output said about its usage. */
typedef struct agent_usage {
	int64_t input_tokens;
	int64_t output_tokens;
	int64_t cached_input_tokens;
	int64_t cache_write_tokens;
	double cost_usd;        /* as reported by the CLI */
	int tokens_known;
	int cost_known;
	char error[512];        /* the CLI reported a failure */
} agent_usage;

typedef struct agent_cli agent_cli;

/* The entry for an agent id, or NULL. */
const agent_cli *agent_cli_find(const char *agent);

/* Env var names for a model vendor's key and endpoint ("anthropic" ->
 * ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL). NULL for unknown vendors. */
const char *agent_vendor_key_env(const char *vendor);
const char *agent_vendor_url_env(const char *vendor);

/* Fixed environment for quiet, headless runs of this agent (NULL-terminated). */
const char *const *agent_cli_env(const agent_cli *a);

/* Builds the command line into argv (at most `cap` entries, NULL-terminated);
 * strings are borrowed from the arguments. Returns argc. */
size_t agent_cli_argv(const agent_cli *a, const char *instruction, const char *model,
		      const char *resume_session, const char **argv, size_t cap);

/* 1 if the CLI counts cached input tokens inside input_tokens (OpenAI and
 * Google report them that way; Anthropic reports them apart). */
int agent_cli_cached_in_input(const agent_cli *a);

/* Parses a finished run's stdout (and stderr, where some CLIs report
 * errors): the whole output as one JSON object, or JSON lines. */
void agent_cli_parse(const agent_cli *a, const char *out, size_t out_len, const char *err,
		     size_t err_len, agent_usage *u);

/* Cost of `u` at per-million-token prices. */
double agent_price(const agent_usage *u, int cached_in_input, double in, double out,
		   double cached, double cache_write);

#endif

/* sbx agent run SANDBOX --agent NAME [--model M] "INSTRUCTION" */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fdio.h"

static volatile int interrupted;

static void on_sigint(int sig)
{
	interrupted = interrupted ? SIGKILL : sig;
}

static int to_terminal(void *arg, int stream, const void *data, size_t len)
{
	(void)arg;
	return fdio_write_all(stream == 2 ? 2 : 1, data, len);
}

static int run(struct cli *c, int argc, char **argv)
{
	static const char *usage =
		"agent run SANDBOX --agent NAME [--model M] [--temperature T] [--timeout S] [--resume SESSION] \"INSTRUCTION\"";
	Sbx__V1__RunAgentRequest r = SBX__V1__RUN_AGENT_REQUEST__INIT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 < argc && strcmp(a, "--agent") == 0) {
			r.agent = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--model") == 0) {
			r.model = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--temperature") == 0) {
			char *end;
			r.temperature = strtod(argv[++i], &end);
			if (*end) {
				return cli_usage(usage, "--temperature: expected a number");
			}
			r.has_temperature = 1;
		} else if (i + 1 < argc && strcmp(a, "--timeout") == 0) {
			r.timeout_seconds = atoi(argv[++i]);
		} else if (i + 1 < argc && strcmp(a, "--resume") == 0) {
			r.resume_session = argv[++i];
		} else if (i + 1 < argc && (strcmp(a, "-w") == 0 || strcmp(a, "--workdir") == 0)) {
			r.working_dir = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			return cli_usage(usage, "unexpected flag \"%s\"", a);
		} else if (r.sandbox_id[0] == '\0') {
			r.sandbox_id = (char *)a;
		} else if (r.instruction[0] == '\0') {
			r.instruction = (char *)a;
		} else {
			return cli_usage(usage, "unexpected argument \"%s\" (quote the instruction)", a);
		}
	}
	if (r.sandbox_id[0] == '\0' || r.agent[0] == '\0' || r.instruction[0] == '\0') {
		return cli_usage(usage, "a sandbox, --agent and an instruction are required");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__RunAgentResponse *resp = NULL;
	sbx_error e;
	if (sbx_agents_run(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	char id[64];
	snprintf(id, sizeof(id), "%s", resp->execution_id);
	sbx_free(resp);
	struct sigaction sa = {0};
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	Sbx__V1__Execution *x = NULL;
	if (sbx_follow_output(c->client, id, 0, c->json ? NULL : to_terminal, NULL, &interrupted, &x, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&x->base);
	} else {
		const Sbx__V1__Usage *u = x->usage;
		if (u && u->tokens_known) {
			fprintf(stderr, "\n%s %s: %lld in, %lld out, %lld cached; $%.6f (%s)\n", x->agent, x->model,
				(long long)u->input_tokens, (long long)u->output_tokens,
				(long long)u->cached_input_tokens, u->cost_usd,
				u->cost_source[0] ? u->cost_source : "no cost");
		} else {
			fprintf(stderr, "\n%s %s: tokens unknown (the CLI reports none)\n", x->agent, x->model);
		}
		if (x->error[0]) {
			fprintf(stderr, "sbx: %s\n", x->error);
		}
	}
	int rc = x->exit_code ? x->exit_code : (x->error[0] ? 1 : 0);
	sbx_free(x);
	return rc & 0xff;
}

static const struct cli_command cmds[] = {
	{"run", run, "agent run SANDBOX --agent NAME \"INSTRUCTION\"", "run a coding agent, with tokens and cost"},
	{NULL, NULL, NULL, NULL},
};

int cmd_agent(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "agent", cmds, argc, argv);
}

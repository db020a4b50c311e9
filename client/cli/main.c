/* sbx: the command-line client. `sbx --help` lists the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct cli_command commands[] = {
	{"create", cmd_create, "create [flags]", "create a sandbox (prints its id)"},
	{"ls", cmd_sandbox_verb, "ls [-a] [--status S] [--label K=V]", "list sandboxes"},
	{"get", cmd_sandbox_verb, "get ID", "show one sandbox"},
	{"start", cmd_sandbox_verb, "start ID...", "start stopped sandboxes"},
	{"stop", cmd_sandbox_verb, "stop ID...", "stop sandboxes (files kept)"},
	{"restart", cmd_sandbox_verb, "restart ID...", "stop and start"},
	{"pause", cmd_sandbox_verb, "pause ID...", "freeze every process"},
	{"resume", cmd_sandbox_verb, "resume ID...", "thaw"},
	{"rm", cmd_sandbox_verb, "rm [-f] ID...", "destroy sandboxes and their files"},
	{"clean", cmd_sandbox_verb, "clean [--dry-run]", "destroy expired, dead and failed sandboxes"},
	{"exec", cmd_exec, "exec [-e K=V] [-w DIR] [-i] ID -- CMD...", "run a command, streaming its output"},
	{"cp", cmd_cp, "cp SRC ID:DIR | cp ID:PATH DIR", "copy files in and out (tar)"},
	{"stats", cmd_stats, "stats [ID...] | stats --history ID", "CPU, memory, pids and disk use"},
	{"logs", cmd_logs, "logs [-f] EXECUTION", "an execution's output"},
	{"executions", cmd_executions, "executions ls|get", "the record of executions"},
	{"cost", cmd_cost, "cost [SANDBOX]", "tokens and cost, per sandbox or in total"},
	{"images", cmd_images, "images import|ls|rm", "root filesystems for native sandboxes"},
	{"templates", cmd_templates, "templates ls|get|create|rm", "reusable sandbox configurations"},
	{"health", cmd_health, "health [SERVICE]", "is the daemon (or one service) serving"},
	{"info", cmd_info, "info", "daemon version, addresses, methods"},
	{"settings", cmd_settings, "settings get|set", "read or change sandbox settings"},
	{"providers", cmd_providers, "providers ls|get|configure", "sandbox providers and credentials"},
	{"agent", cmd_agent, "agent run SANDBOX --agent NAME \"...\"", "run a coding agent in a sandbox"},
	{"agents", cmd_agents, "agents ls|get|models|set-price", "coding agents, models and prices"},
	{"tokens", cmd_tokens, "tokens create|ls|revoke", "API tokens (admin)"},
	{NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sbx [--addr ADDR] [--token TOKEN] [--timeout SECONDS] [--json] COMMAND ...\n\n"
		   "commands:\n");
	for (const struct cli_command *k = commands; k->name; k++) {
		fprintf(f, "  %-34s %s\n", k->usage, k->help);
	}
	fprintf(f, "\nenvironment: SBX_ADDR, SBX_TOKEN (default: the local daemon and its admin\n"
		   "token in the data dir, when readable)\n");
}

/* Removes argv[i] (and n-1 following) in place. */
static void drop(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof(char *));
	*argc -= n;
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	c.arena = arena_new(64u << 20);
	/* --json may appear anywhere before "--" (as in `sbx settings get --json`). */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			c.json = 1;
			drop(&argc, argv, i--, 1);
		}
	}
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--addr") == 0 || strcmp(a, "--token") == 0 ||
		     strcmp(a, "--timeout") == 0) && i + 1 < argc) {
			if (a[2] == 'a') {
				c.addr = argv[++i];
			} else if (a[2] == 't' && a[3] == 'o') {
				c.token = argv[++i];
			} else {
				char *end;
				double s = strtod(argv[++i], &end);
				if (*end || s <= 0 || s > 86400) {
					return cli_usage(NULL, "--timeout: expected seconds, got \"%s\"", argv[i]);
				}
				c.timeout_ms = (int)(s * 1000);
			}
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("sbx 0.1.0\n");
			return 0;
		} else {
			return cli_usage(NULL, "unknown flag \"%s\" (see sbx --help)", a);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	int rc = -1;
	for (const struct cli_command *k = commands; k->name; k++) {
		if (strcmp(k->name, argv[i]) == 0) {
			rc = k->fn(&c, argc - i - 1, argv + i + 1);
			break;
		}
	}
	if (rc == -1) {
		rc = cli_usage(NULL, "unknown command \"%s\" (see sbx --help)", argv[i]);
	}
	sbx_disconnect(c.client);
	arena_free(c.arena);
	return rc;
}

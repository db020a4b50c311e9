/* sbx exec, sbx logs, sbx executions ls|get, sbx cost */
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
	/* First Ctrl-C: pass it on to the remote command; second: kill it. */
	interrupted = interrupted ? SIGKILL : sig;
}

static int to_terminal(void *arg, int stream, const void *data, size_t len)
{
	(void)arg;
	return fdio_write_all(stream == 2 ? 2 : 1, data, len);
}

/* Follows to the end; returns the command's exit code (128+signal when it
 * was killed) as the CLI's. */
static int follow(struct cli *c, const char *id)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	Sbx__V1__Execution *x = NULL;
	sbx_error e;
	sbx_status s = sbx_follow_output(c->client, id, 0, to_terminal, NULL, &interrupted, &x, &e);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	int rc = x->exit_code;
	if (x->status == SBX__V1__EXECUTION_STATUS__TIMED_OUT) {
		fprintf(stderr, "sbx: execution %s timed out\n", x->id);
	} else if (x->error[0] != '\0') {
		fprintf(stderr, "sbx: %s\n", x->error);
		rc = rc > 0 ? rc : 1;
	}
	sbx_free(x);
	return rc & 0xff;
}

static uint8_t *read_stdin(size_t cap, size_t *len)
{
	size_t n = 0, size = 65536;
	uint8_t *buf = malloc(size);
	while (buf != NULL) {
		if (n == size) {
			if (size >= cap) {
				free(buf);
				return NULL;
			}
			size *= 2;
			uint8_t *nb = realloc(buf, size);
			if (nb == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = read(0, buf + n, size - n);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
	static const char *usage = "exec [-e K=V] [-w DIR] [-i] [--timeout S] [-d] ID -- CMD ARGS...";
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	int i = 0, detach = 0;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-i") == 0 || strcmp(a, "--interactive") == 0) {
			r.has_stdin = 1;
		} else if (strcmp(a, "-d") == 0 || strcmp(a, "--detach") == 0) {
			detach = 1;
		} else if (i + 1 < argc && (strcmp(a, "-e") == 0 || strcmp(a, "--env") == 0)) {
			char key[256];
			const char *val;
			if (cli_split_kv(argv[++i], key, sizeof(key), &val) != 0) {
				return cli_usage(usage, "-e: expected KEY=VALUE, got \"%s\"", argv[i]);
			}
			Sbx__V1__StartExecutionRequest__EnvEntry *kv =
				ARENA_MSG(c->arena, Sbx__V1__StartExecutionRequest__EnvEntry,
					  sbx__v1__start_execution_request__env_entry__init);
			kv->key = arena_strdup(c->arena, key);
			kv->value = (char *)val;
			arena_append(c->arena, (void ***)&r.env, &r.n_env, kv);
		} else if (i + 1 < argc && (strcmp(a, "-w") == 0 || strcmp(a, "--workdir") == 0)) {
			r.working_dir = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--timeout") == 0) {
			char *end;
			long t = strtol(argv[++i], &end, 10);
			if (*end || t < 0 || t > 86400 * 7) {
				return cli_usage(usage, "--timeout: expected seconds");
			}
			r.timeout_seconds = (int)t;
		} else {
			return cli_usage(usage, "unexpected flag \"%s\"", a);
		}
	}
	if (i >= argc) {
		return cli_usage(usage, "name the sandbox");
	}
	r.sandbox_id = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0) {
		i++;
	}
	if (i >= argc) {
		return cli_usage(usage, "no command given");
	}
	r.argv = &argv[i];
	r.n_argv = (size_t)(argc - i);
	if (cli_connect(c)) {
		return 1;
	}
	uint8_t *in = NULL;
	if (r.has_stdin) {
		in = read_stdin(3u << 20, &r.stdin.len);
		if (in == NULL) {
			fprintf(stderr, "sbx: RESOURCE_EXHAUSTED: stdin is larger than 3 MiB\n");
			return 1;
		}
		r.stdin.data = in;
	}
	Sbx__V1__StartExecutionResponse *resp = NULL;
	sbx_error e;
	sbx_status s = sbx_executions_start(c->client, &r, &resp, &e);
	free(in);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	char id[64];
	snprintf(id, sizeof(id), "%s", resp->execution_id);
	sbx_free(resp);
	if (detach) {
		printf("%s\n", id);
		return 0;
	}
	return follow(c, id);
}

int cmd_logs(struct cli *c, int argc, char **argv)
{
	static const char *usage = "logs [-f] EXECUTION";
	int f = 0;
	const char *id = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
			f = 1;
		} else if (id == NULL && argv[i][0] != '-') {
			id = argv[i];
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (id == NULL) {
		return cli_usage(usage, "name an execution (see `sbx executions ls`)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	if (f) {
		follow(c, id);
		return 0;
	}
	int64_t off = 0;
	for (;;) {
		Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
		rq.id = (char *)id;
		rq.offset = off;
		Sbx__V1__ReadOutputResponse *r = NULL;
		sbx_error e;
		if (sbx_executions_read_output(c->client, &rq, &r, &e) != SBX_OK) {
			return cli_fail(&e);
		}
		for (size_t k = 0; k < r->n_chunks; k++) {
			to_terminal(NULL, r->chunks[k]->stream, r->chunks[k]->data.data, r->chunks[k]->data.len);
		}
		int more = r->n_chunks > 0;
		off = r->next_offset;
		sbx_free(r);
		if (!more) {
			return 0;
		}
	}
}

static const char *exec_status(Sbx__V1__ExecutionStatus s)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&sbx__v1__execution_status__descriptor, (int)s);
	return v ? v->name : "UNKNOWN";
}

static int xls(struct cli *c, int argc, char **argv)
{
	static const char *usage = "executions ls [--sandbox ID] [--agent A] [--model M] [--limit N]";
	Sbx__V1__ListExecutionsRequest r = SBX__V1__LIST_EXECUTIONS_REQUEST__INIT;
	Sbx__V1__PageRequest page = SBX__V1__PAGE_REQUEST__INIT;
	r.page = &page;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc) {
			return cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
		}
		if (strcmp(argv[i], "--sandbox") == 0) {
			r.sandbox_id = argv[++i];
		} else if (strcmp(argv[i], "--agent") == 0) {
			r.agent = argv[++i];
		} else if (strcmp(argv[i], "--model") == 0) {
			r.model = argv[++i];
		} else if (strcmp(argv[i], "--limit") == 0) {
			page.page_size = atoi(argv[++i]);
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListExecutionsResponse *resp = NULL;
	sbx_error e;
	if (sbx_executions_list(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&resp->base);
		sbx_free(resp);
		return 0;
	}
	static const char *const h[] = {"ID", "SANDBOX", "STATUS", "EXIT", "DURATION", "AGENT", "MODEL", "COST", "COMMAND"};
	char ***rows = arena_alloc(c->arena, (resp->n_executions + 1) * sizeof(char **));
	for (size_t i = 0; i < resp->n_executions; i++) {
		Sbx__V1__Execution *x = resp->executions[i];
		char **row = arena_alloc(c->arena, 9 * sizeof(char *));
		row[0] = x->id;
		row[1] = x->sandbox_id;
		row[2] = (char *)exec_status(x->status);
		row[3] = arena_printf(c->arena, "%d", x->exit_code);
		row[4] = arena_printf(c->arena, "%lldms", (long long)x->duration_ms);
		row[5] = x->agent;
		row[6] = x->model;
		row[7] = arena_printf(c->arena, "$%.4f", x->usage ? x->usage->cost_usd : 0);
		row[8] = arena_printf(c->arena, "%.60s", x->command);
		rows[i] = row;
	}
	cli_table(h, 9, rows, resp->n_executions);
	sbx_free(resp);
	return 0;
}

static int xget(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("executions get ID", "name one execution");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__GetExecutionRequest r = SBX__V1__GET_EXECUTION_REQUEST__INIT;
	r.id = argv[1];
	Sbx__V1__Execution *x = NULL;
	sbx_error e;
	if (sbx_executions_get(c->client, &r, &x, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&x->base);
	} else {
		cli_print_fields(&x->base, "");
	}
	sbx_free(x);
	return 0;
}

static const struct cli_command xcmds[] = {
	{"ls", xls, "executions ls [--sandbox ID] [--agent A]", "recent executions, newest first"},
	{"get", xget, "executions get ID", "one execution's full record"},
	{NULL, NULL, NULL, NULL},
};

int cmd_executions(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "executions", xcmds, argc, argv);
}

int cmd_cost(struct cli *c, int argc, char **argv)
{
	if (argc > 1) {
		return cli_usage("cost [SANDBOX]", "at most one sandbox");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__CostRequest r = SBX__V1__COST_REQUEST__INIT;
	r.sandbox_id = argc == 1 ? argv[0] : "";
	Sbx__V1__CostResponse *out = NULL;
	sbx_error e;
	if (sbx_executions_cost(c->client, &r, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
	} else {
		printf("executions:     %lld\n", (long long)out->executions);
		printf("input tokens:   %lld\n", (long long)out->input_tokens);
		printf("output tokens:  %lld\n", (long long)out->output_tokens);
		printf("cached tokens:  %lld\n", (long long)out->cached_input_tokens);
		printf("token cost:     $%.4f\n", out->token_cost_usd);
		printf("runtime cost:   $%.4f\n", out->runtime_cost_usd);
		printf("total:          $%.4f\n", out->token_cost_usd + out->runtime_cost_usd);
	}
	sbx_free(out);
	return 0;
}

/* Executions service. Start stores the record and returns at once; a runner
 * thread per execution drives the provider's exec, storing each output
 * chunk (storage/executions.c) before publishing it on logs.<id>., then
 * records the outcome and publishes the end event. Wait and Cancel find
 * running executions in an in-memory table; everything else reads the
 * database. */
#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "daemon.h"
#include "db.h"
#include "events.h"
#include "executions.h"
#include "provider.h"
#include "runs.h"
#include "sandboxes.h"
#include "services.h"
#include "wire.h"

#define MAX_ARGS 4096
#define MAX_READ (3u << 20)

static pthread_mutex_t runs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t runs_cv = PTHREAD_COND_INITIALIZER;
static struct run *runs;

static char out_dir[1100];

static const char *output_dir(void)
{
	if (out_dir[0] == '\0') {
		snprintf(out_dir, sizeof(out_dir), "%s/executions", daemon_info.data_dir);
		mkdir(out_dir, 0700);
	}
	return out_dir;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->argc; i++) {
		free(r->argv[i]);
	}
	for (size_t i = 0; i < r->n_env; i++) {
		/* May hold a model API key: leave no copy in freed memory. */
		memset(r->env[i], 0, strlen(r->env[i]));
		free(r->env[i]);
	}
	for (size_t i = 0; i < r->n_sandbox_env; i++) {
		free(r->sandbox_env[i]);
	}
	free(r->argv);
	free(r->env);
	free(r->sandbox_env);
	free(r->stdin_data);
	output_close(r->log);
	if (r->parser_free) {
		r->parser_free(r->parser);
	}
	free(r);
}

static struct run *find_run(const char *id)
{
	for (struct run *r = runs; r != NULL; r = r->next) {
		if (strcmp(r->id, id) == 0) {
			return r;
		}
	}
	return NULL;
}

static int on_output(void *arg, int stream, const void *data, size_t len)
{
	struct run *r = arg;
	/* Chunks of at most 1 MiB on the bus: a quarter of the message limit,
	 * large enough that per-message costs vanish at pipe speed. */
	const uint8_t *p = data;
	while (len > 0) {
		size_t n = len > (1u << 20) ? (1u << 20) : len;
		Sbx__V1__OutputChunk c = SBX__V1__OUTPUT_CHUNK__INIT;
		c.stream = (Sbx__V1__OutputStream)stream;
		c.seq = events_next_seq(r->topic);
		c.time_unix_ms = clock_wall_ms();
		c.data.data = (uint8_t *)p;
		c.data.len = n;
		output_append(r->log, c.seq, stream, c.time_unix_ms, p, n, &c.offset);
		if (r->parser_feed) {
			r->parser_feed(r->parser, stream, p, n);
		}
		Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
		ev.kind = "output";
		ev.subject = r->id;
		ev.payload_type = "sbx.v1.OutputChunk";
		events_publish_message(r->topic, &ev, &c.base);
		p += n;
		len -= n;
	}
	return 0;
}

static void publish_end(struct run *r, const Sbx__V1__Execution *x)
{
	size_t n = protobuf_c_message_get_packed_size(&x->base);
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL) {
		return;
	}
	protobuf_c_message_pack(&x->base, buf);
	Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
	ev.kind = "execution.finished";
	ev.subject = r->id;
	ev.payload.data = buf;
	ev.payload.len = n;
	ev.payload_type = "sbx.v1.Execution";
	events_publish(r->topic, &ev);
	free(buf);
	char topic[160];
	snprintf(topic, sizeof(topic), "events.sandbox.%s.", r->sandbox_id);
	Sbx__V1__Event se = SBX__V1__EVENT__INIT;
	se.kind = "execution.finished";
	se.subject = r->id;
	events_publish(topic, &se);
}

static void *runner(void *arg)
{
	struct run *r = arg;
	exec_request req = {
		.argv = (const char *const *)r->argv,
		.argc = r->argc,
		.working_dir = r->working_dir,
		.sandbox_env = (const char *const *)r->sandbox_env,
		.n_sandbox_env = r->n_sandbox_env,
		.env = (const char *const *)r->env,
		.n_env = r->n_env,
		.stdin_data = r->stdin_data,
		.stdin_len = r->stdin_len,
		.has_stdin = r->has_stdin,
		.timeout_seconds = r->timeout_seconds,
		.run_as_root = r->run_as_root,
		.cancel_signal = &r->cancel_signal,
		.on_output = on_output,
		.arg = r,
	};
	exec_result res;
	memset(&res, 0, sizeof(res));
	err_t e;
	err_clear(&e);
	r->db = db_acquire(&e);
	int64_t t0 = clock_mono_ms();
	sbx_status s = r->provider->exec(r->sandbox_id, &r->handle, &req, &res, &e);
	int64_t duration = clock_mono_ms() - t0;

	Sbx__V1__Execution x = SBX__V1__EXECUTION__INIT;
	Sbx__V1__Usage usage = SBX__V1__USAGE__INIT;
	x.id = r->id;
	x.duration_ms = duration;
	x.output_bytes = output_bytes(r->log);
	x.output_truncated = output_truncated(r->log);
	x.usage = &usage;
	if (s != SBX_OK) {
		x.status = SBX__V1__EXECUTION_STATUS__FAILED;
		x.exit_code = -1;
		x.error = e.message;
	} else if (res.timed_out) {
		x.status = SBX__V1__EXECUTION_STATUS__TIMED_OUT;
	} else if (r->cancel_signal) {
		x.status = SBX__V1__EXECUTION_STATUS__CANCELLED;
	} else {
		x.status = res.exit_code == 0 ? SBX__V1__EXECUTION_STATUS__SUCCEEDED
					      : SBX__V1__EXECUTION_STATUS__FAILED;
	}
	if (s == SBX_OK) {
		x.exit_code = res.signal ? 128 + res.signal : res.exit_code;
		x.signal = res.signal;
	}
	if (r->parser_finish) {
		r->parser_finish(r, &x);
	}
	sqlite3 *db = r->db;
	if (db != NULL) {
		/* The record and the sandbox's activity time in one commit; the
		 * record alone when that cannot be had (a busy database). */
		int done = db_begin(db, &e) == SBX_OK && executions_finish(db, &x, &e) == SBX_OK &&
			   sandboxes_touch(db, r->sandbox_id, &e) == SBX_OK && db_commit(db, &e) == SBX_OK;
		if (!done) {
			db_rollback(db);
			executions_finish(db, &x, &e);
		}
		if (r->after_finish) {
			r->after_finish(r, db, &x);
		}
	}
	Sbx__V1__Execution *full = NULL;
	arena *a = arena_new(1u << 20);
	if (db != NULL && a != NULL && executions_get(db, r->id, NULL, &full, a, &e) == SBX_OK) {
		publish_end(r, full);
	} else {
		publish_end(r, &x);
	}
	arena_free(a);
	db_release(db);
	r->db = NULL;
	events_forget(r->topic);

	pthread_mutex_lock(&runs_mu);
	struct run **pp = &runs;
	while (*pp != r) {
		pp = &(*pp)->next;
	}
	*pp = r->next;
	pthread_cond_broadcast(&runs_cv);
	pthread_mutex_unlock(&runs_mu);
	run_free(r);
	return NULL;
}

static char *new_exec_id(void)
{
	unsigned char rnd[8];
	char hex[17];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	char *id = malloc(24);
	if (id != NULL) {
		snprintf(id, 24, "ex-%s", hex);
	}
	return id;
}

/* blocked_commands: an entry blocks a command whose program (basename of
 * argv[0]) equals it, or whose command line contains it. */
static const char *blocked_by(const Sbx__V1__SandboxSettings *set, char *const *argv, size_t argc,
			      const char *line)
{
	const char *prog = argc ? strrchr(argv[0], '/') : NULL;
	prog = prog ? prog + 1 : argc ? argv[0] : "";
	for (size_t i = 0; i < set->n_blocked_commands; i++) {
		const char *b = set->blocked_commands[i];
		if (strcmp(prog, b) == 0 || strstr(line, b) != NULL) {
			return b;
		}
	}
	return NULL;
}

static int valid_env_key(const char *k)
{
	if (k[0] == '\0' || strlen(k) > 256 || isdigit((unsigned char)k[0])) {
		return 0;
	}
	for (; *k; k++) {
		if (!isalnum((unsigned char)*k) && *k != '_') {
			return 0;
		}
	}
	return 1;
}

static char *join_argv(char *const *argv, size_t argc)
{
	size_t n = 1;
	for (size_t i = 0; i < argc; i++) {
		n += strlen(argv[i]) + 3;
	}
	char *s = malloc(n);
	if (s == NULL) {
		return NULL;
	}
	s[0] = '\0';
	for (size_t i = 0; i < argc; i++) {
		if (i) {
			strcat(s, " ");
		}
		strcat(s, argv[i]);
	}
	return s;
}

sbx_status runs_start(rpc_call *call, struct run *r, const char *sandbox_ref, char *const *argv,
		      size_t argc, const char *shell, const char *working_dir,
		      Sbx__V1__StartExecutionRequest__EnvEntry *const *env, size_t n_env,
		      const ProtobufCBinaryData *stdin_data, int has_stdin, int timeout_seconds,
		      const char *agent, const char *model, char **id_out)
{
	Sbx__V1__SandboxSettings *set = NULL;
	sbx_status s = svc_settings_current(call, &set);
	if (s != SBX_OK) {
		run_free(r);
		return s;
	}
	if (shell != NULL && shell[0] != '\0') {
		if (argc > 0) {
			run_free(r);
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "shell", "give argv or shell, not both");
		}
		char **sh = arena_alloc(call->arena, 3 * sizeof(char *));
		if (sh == NULL) {
			run_free(r);
			return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
		}
		sh[0] = "/bin/sh";
		sh[1] = "-c";
		sh[2] = (char *)shell;
		argv = sh;
		argc = 3;
	}
	if (argc == 0 || argc > MAX_ARGS || argv[0][0] == '\0') {
		run_free(r);
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "argv", "a command is required");
	}
	if (working_dir[0] != '\0' && working_dir[0] != '/') {
		run_free(r);
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "working_dir", "must be an absolute path");
	}
	if (timeout_seconds < 0) {
		run_free(r);
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "timeout_seconds", "must not be negative");
	}
	for (size_t i = 0; i < n_env; i++) {
		if (!valid_env_key(env[i]->key)) {
			run_free(r);
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env", "\"%.64s\" is not a valid variable name",
					 env[i]->key);
		}
	}
	char *line = shell && shell[0] ? strdup(shell) : join_argv(argv, argc);
	const char *blocked = line ? blocked_by(set, argv, argc, line) : NULL;
	if (blocked != NULL) {
		free(line);
		run_free(r);
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, "argv",
				 "\"%s\" is blocked (settings.blocked_commands)", blocked);
	}
	Sbx__V1__Sandbox *sb = NULL;
	s = sandboxes_get(call->db, sandbox_ref, call->caller.admin ? NULL : call->caller.user_id, &sb,
			  &r->handle, call->arena, &call->err);
	if (s == SBX_NOT_FOUND) {
		call->err.code = s;
		snprintf(call->err.field, sizeof(call->err.field), "sandbox_id");
	}
	if (s == SBX_OK && sb->status != SBX__V1__SANDBOX_STATUS__RUNNING) {
		s = RPC_FIELD(call, SBX_FAILED_PRECONDITION, "sandbox_id", "sandbox %s is %s: %s it first",
			      sb->id, sandbox_status_name(sb->status),
			      sb->status == SBX__V1__SANDBOX_STATUS__PAUSED ? "resume" : "start");
	}
	if (s == SBX_OK && (r->provider = provider_find(sb->provider)) == NULL) {
		s = RPC_FAIL(call, SBX_UNIMPLEMENTED, "provider %s has no driver", sb->provider);
	}
	if (s == SBX_OK && r->provider->exec == NULL) {
		s = provider_unimplemented(r->provider, "exec", &call->err);
	}
	if (s != SBX_OK) {
		free(line);
		run_free(r);
		return s;
	}
	/* The run owns copies of everything: the request is freed when this
	 * call returns, long before the command ends. */
	char *id = new_exec_id();
	r->argv = calloc(argc, sizeof(char *));
	r->env = calloc(n_env + 1, sizeof(char *));
	r->sandbox_env = calloc(sb->n_env + 1, sizeof(char *));
	if (id == NULL || r->argv == NULL || r->env == NULL || r->sandbox_env == NULL) {
		free(id);
		free(line);
		run_free(r);
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	for (size_t i = 0; i < argc; i++) {
		r->argv[r->argc++] = strdup(argv[i]);
	}
	for (size_t i = 0; i < n_env; i++) {
		if (asprintf(&r->env[r->n_env], "%s=%s", env[i]->key, env[i]->value) > 0) {
			r->n_env++;
		}
	}
	for (size_t i = 0; i < sb->n_env; i++) {
		if (asprintf(&r->sandbox_env[r->n_sandbox_env], "%s=%s", sb->env[i]->key, sb->env[i]->value) > 0) {
			r->n_sandbox_env++;
		}
	}
	if (has_stdin) {
		r->has_stdin = 1;
		r->stdin_len = stdin_data->len;
		r->stdin_data = malloc(stdin_data->len ? stdin_data->len : 1);
		if (r->stdin_data && stdin_data->len) {
			memcpy(r->stdin_data, stdin_data->data, stdin_data->len);
		}
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->sandbox_id, sizeof(r->sandbox_id), "%s", sb->id);
	snprintf(r->working_dir, sizeof(r->working_dir), "%s", working_dir[0] ? working_dir : "/workspace");
	snprintf(r->topic, sizeof(r->topic), "logs.%s.", id);
	r->timeout_seconds = timeout_seconds;
	r->run_as_root = !set->require_non_root_user;
	free(id);

	Sbx__V1__Execution x = SBX__V1__EXECUTION__INIT;
	x.id = r->id;
	x.sandbox_id = sb->id;
	x.argv = r->argv;
	x.n_argv = r->argc;
	x.command = line ? line : "";
	x.working_dir = r->working_dir;
	x.agent = (char *)(agent ? agent : "");
	x.model = (char *)(model ? model : "");
	snprintf(r->owner_id, sizeof(r->owner_id), "%s", call->caller.user_id);
	x.output_location = arena_printf(call->arena, "%s/%s.out", output_dir(), r->id);
	s = executions_insert(call->db, &x, call->caller.user_id, &call->err);
	free(line);
	if (s == SBX_OK) {
		r->log = output_open(output_dir(), r->id, set->max_output_bytes_per_execution, &call->err);
		if (r->log == NULL) {
			s = call->err.code;
		}
	}
	if (s != SBX_OK) {
		run_free(r);
		return s;
	}
	*id_out = arena_strdup(call->arena, r->id);
	pthread_mutex_lock(&runs_mu);
	r->next = runs;
	runs = r;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	pthread_t th;
	int rc = pthread_create(&th, &at, runner, r);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		runs = r->next;
		pthread_mutex_unlock(&runs_mu);
		Sbx__V1__Execution fx = SBX__V1__EXECUTION__INIT;
		fx.id = r->id;
		fx.status = SBX__V1__EXECUTION_STATUS__FAILED;
		fx.error = "could not start a runner thread";
		executions_finish(call->db, &fx, &call->err);
		run_free(r);
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "cannot start a runner thread");
	}
	pthread_mutex_unlock(&runs_mu);
	return SBX_OK;
}

sbx_status svc_executions_start(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__StartExecutionRequest *q = (const Sbx__V1__StartExecutionRequest *)req;
	if (q->sandbox_id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "sandbox_id", "required");
	}
	struct run *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	char *id = NULL;
	sbx_status s = runs_start(call, r, q->sandbox_id, q->argv, q->n_argv, q->shell, q->working_dir,
				  q->env, q->n_env, &q->stdin, q->has_stdin, q->timeout_seconds, NULL, NULL,
				  &id);
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__StartExecutionResponse *out = ARENA_MSG(call->arena, Sbx__V1__StartExecutionResponse,
							 sbx__v1__start_execution_response__init);
	out->execution_id = id;
	out->log_topic = arena_printf(call->arena, "logs.%s.", id);
	*resp = &out->base;
	return SBX_OK;
}

static const char *owner_filter(const rpc_call *call)
{
	return call->caller.admin ? NULL : call->caller.user_id;
}

static sbx_status get_exec(rpc_call *call, const char *id, ProtobufCMessage **resp)
{
	if (id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (an execution id)");
	}
	Sbx__V1__Execution *x = NULL;
	sbx_status s = executions_get(call->db, id, owner_filter(call), &x, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &x->base;
	}
	return s;
}

sbx_status svc_executions_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	return get_exec(call, ((const Sbx__V1__GetExecutionRequest *)req)->id, resp);
}

sbx_status svc_executions_wait(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__WaitExecutionRequest *q = (const Sbx__V1__WaitExecutionRequest *)req;
	ProtobufCMessage *first = NULL;
	sbx_status s = get_exec(call, q->id, &first); /* ownership and existence */
	if (s != SBX_OK) {
		return s;
	}
	int64_t until = call->deadline_ms - 50; /* leave time to answer */
	if (q->wait_ms > 0 && clock_mono_ms() + q->wait_ms < until) {
		until = clock_mono_ms() + q->wait_ms;
	}
	pthread_mutex_lock(&runs_mu);
	while (find_run(q->id) != NULL && clock_mono_ms() < until) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t left = until - clock_mono_ms();
		if (left > 200) {
			left = 200;
		}
		ts.tv_nsec += (long)left * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&runs_cv, &runs_mu, &ts);
	}
	pthread_mutex_unlock(&runs_mu);
	return get_exec(call, q->id, resp);
}

sbx_status svc_executions_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__ListExecutionsRequest *q = (const Sbx__V1__ListExecutionsRequest *)req;
	Sbx__V1__ListExecutionsResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListExecutionsResponse,
							 sbx__v1__list_executions_response__init);
	execution_filter f = {0};
	f.owner_id = owner_filter(call);
	f.sandbox_id = q->sandbox_id;
	f.agent = q->agent;
	f.model = q->model;
	f.statuses = (const int *)q->status;
	f.n_statuses = q->n_status;
	f.since = q->since;
	f.until = q->until;
	int size = q->page ? q->page->page_size : 0;
	if (size < 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "page.page_size", "must not be negative");
	}
	f.limit = size == 0 ? 50 : size > 1000 ? 1000 : size;
	if (q->page && q->page->page_token[0]) {
		char *end;
		long off = strtol(q->page->page_token, &end, 10);
		if (*end || off < 0) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "page.page_token", "not a token from this API");
		}
		f.offset = (int)off;
	}
	if (q->sandbox_id[0]) {
		Sbx__V1__Sandbox *sb = NULL;
		sbx_status s = sandboxes_get(call->db, q->sandbox_id, owner_filter(call), &sb, NULL,
					     call->arena, &call->err);
		if (s != SBX_OK) {
			return s;
		}
		f.sandbox_id = sb->id;
	}
	*resp = &out->base;
	return executions_list(call->db, &f, out, call->arena, &call->err);
}

sbx_status svc_executions_read_output(rpc_call *call, const ProtobufCMessage *req,
				      ProtobufCMessage **resp)
{
	const Sbx__V1__ReadOutputRequest *q = (const Sbx__V1__ReadOutputRequest *)req;
	ProtobufCMessage *xm = NULL;
	sbx_status s = get_exec(call, q->id, &xm);
	if (s != SBX_OK) {
		return s;
	}
	if (q->offset < 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "offset", "must not be negative");
	}
	if (q->limit < 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "limit", "must not be negative");
	}
	int64_t limit = q->limit == 0 || q->limit > MAX_READ ? MAX_READ : q->limit;
	Sbx__V1__Execution *x = (Sbx__V1__Execution *)xm;
	Sbx__V1__ReadOutputResponse *out = ARENA_MSG(call->arena, Sbx__V1__ReadOutputResponse,
						     sbx__v1__read_output_response__init);
	s = output_read(output_dir(), x->id, q->offset, limit, out, call->arena, &call->err);
	if (s == SBX_OK) {
		int finished = x->status != SBX__V1__EXECUTION_STATUS__EXEC_RUNNING &&
			       x->status != SBX__V1__EXECUTION_STATUS__QUEUED;
		out->eof = finished && out->next_offset >= x->output_bytes;
		*resp = &out->base;
	}
	return s;
}

sbx_status svc_executions_cancel(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CancelExecutionRequest *q = (const Sbx__V1__CancelExecutionRequest *)req;
	ProtobufCMessage *xm = NULL;
	sbx_status s = get_exec(call, q->id, &xm);
	if (s != SBX_OK) {
		return s;
	}
	int sig = q->signal ? q->signal : SIGTERM;
	if (sig < 1 || sig > 64) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "signal", "must be a signal number 1-64");
	}
	pthread_mutex_lock(&runs_mu);
	struct run *r = find_run(((Sbx__V1__Execution *)xm)->id);
	if (r != NULL) {
		r->cancel_signal = sig;
	}
	pthread_mutex_unlock(&runs_mu);
	if (r == NULL) {
		*resp = xm; /* already finished: nothing to cancel */
		return SBX_OK;
	}
	/* Give the signal a moment to land so the answer usually shows the end. */
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = ((Sbx__V1__Execution *)xm)->id;
	w.wait_ms = 2000;
	return svc_executions_wait(call, &w.base, resp);
}

sbx_status svc_executions_cost(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CostRequest *q = (const Sbx__V1__CostRequest *)req;
	Sbx__V1__CostResponse *out = ARENA_MSG(call->arena, Sbx__V1__CostResponse,
					       sbx__v1__cost_response__init);
	const char *sid = "";
	if (q->sandbox_id[0]) {
		Sbx__V1__Sandbox *sb = NULL;
		sbx_status s = sandboxes_get(call->db, q->sandbox_id, owner_filter(call), &sb, NULL,
					     call->arena, &call->err);
		if (s != SBX_OK) {
			return s;
		}
		sid = sb->id;
	}
	*resp = &out->base;
	return executions_cost(call->db, sid, owner_filter(call), out, &call->err);
}

/* Exec helpers left by a daemon that died: `sbx-init exec` processes whose
 * parent is gone (reparented to init). They are killed with their
 * commands; the executions are recorded as interrupted. */
static int kill_orphaned_helpers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0])) {
			continue;
		}
		char path[64], cmd[32] = "", stat[512] = "";
		snprintf(path, sizeof(path), "/proc/%.20s/cmdline", de->d_name);
		FILE *f = fopen(path, "re");
		size_t got = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
		if (f) {
			fclose(f);
		}
		if (got < 13 || memcmp(cmd, "sbx-init\0exec", 13) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
		f = fopen(path, "re");
		if (f != NULL && fgets(stat, sizeof(stat), f) != NULL) {
			char *rp = strrchr(stat, ')');
			long ppid = -1;
			if (rp != NULL && sscanf(rp + 2, "%*c %ld", &ppid) == 1 && ppid == 1) {
				kill((pid_t)atol(de->d_name), SIGUSR2); /* kills its command's group */
				n++;
			}
		}
		if (f) {
			fclose(f);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

sbx_status executions_recover(err_t *e)
{
	sqlite3 *db = db_get(e);
	if (db == NULL) {
		return e->code;
	}
	kill_orphaned_helpers();
	sbx_status s = db_exec(db, "UPDATE sandbox_executions SET status = 'interrupted',"
			" error = 'the daemon stopped while it ran',"
			" finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), runner_pid = NULL"
			" WHERE status IN ('running', 'queued')", e);
	if (s == SBX_OK && sqlite3_changes(db) > 0) {
		fprintf(stderr, "sbxd: %d execution(s) recorded as interrupted\n", sqlite3_changes(db));
	}
	return s;
}

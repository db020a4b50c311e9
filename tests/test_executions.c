/* Executions through a real sbxd and native sandboxes: exit codes,
 * signals, timeouts, cancel, stdin, env, cwd, large output with a slow
 * subscriber, concurrency, blocked commands, daemon death mid-run. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"

static struct daemon d;
static sbx_client *admin;
static char sb1[64], sb2[64];

static int setup(void **state)
{
	(void)state;
	if (harness_start(&d) != 0 || (admin = harness_client(&d, NULL)) == NULL) {
		return -1;
	}
	snprintf(sb1, sizeof(sb1), "%s", harness_sandbox(admin, "one", 0, 0, NULL));
	snprintf(sb2, sizeof(sb2), "%s", harness_sandbox(admin, "two", 0, 0, NULL));
	return sb1[0] && sb2[0] ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sbx_disconnect(admin);
	harness_cleanup(&d);
	return 0;
}

static Sbx__V1__Execution *run(const char *sandbox, const char *cmd, int timeout)
{
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = (char *)sandbox;
	r.shell = (char *)cmd;
	r.timeout_seconds = timeout;
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	assert_int_equal(strncmp(s->log_topic, "logs.", 5), 0);
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = s->execution_id;
	w.wait_ms = 30000;
	Sbx__V1__Execution *x = NULL;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	sbx_free(s);
	return x;
}

static void test_exit_codes_and_signals(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run(sb1, "exit 0", 0);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__SUCCEEDED);
	assert_int_equal(x->exit_code, 0);
	sbx_free(x);
	x = run(sb1, "exit 42", 0);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__FAILED);
	assert_int_equal(x->exit_code, 42);
	sbx_free(x);
	x = run(sb1, "kill -TERM $$", 0);
	assert_int_equal(x->signal, 15);
	assert_int_equal(x->exit_code, 128 + 15);
	sbx_free(x);
	x = run(sb1, "/no/such/program", 0);
	assert_int_equal(x->exit_code, 127);
	sbx_free(x);
	/* argv form, no shell involved */
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	char *argv[] = {"/bin/echo", "a b", "$HOME"};
	r.sandbox_id = sb1;
	r.argv = argv;
	r.n_argv = 3;
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = s->execution_id;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_int_equal(x->n_argv, 3);
	sbx_free(x);
	rq.id = s->execution_id;
	Sbx__V1__ReadOutputResponse *o = NULL;
	assert_int_equal(sbx_executions_read_output(admin, &rq, &o, NULL), SBX_OK);
	assert_int_equal(o->n_chunks, 1);
	assert_memory_equal(o->chunks[0]->data.data, "a b $HOME\n", 10);
	assert_true(o->eof);
	sbx_free(o);
	sbx_free(s);
}

static void test_timeout_kills_process_tree(void **state)
{
	(void)state;
	Sbx__V1__Execution *x = run(sb1, "sleep 300 & sleep 301 & sleep 302", 1);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__TIMED_OUT);
	assert_true(x->duration_ms < 5000);
	sbx_free(x);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb1, "ps -eo args | grep -c '^sleep 30' || true", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "0\n");
	free(out);
}

static void test_cancel(void **state)
{
	(void)state;
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sb1;
	r.shell = "trap 'echo got TERM; exit 3' TERM; sleep 100 & wait";
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	usleep(300000);
	Sbx__V1__CancelExecutionRequest c = SBX__V1__CANCEL_EXECUTION_REQUEST__INIT;
	c.id = s->execution_id;
	Sbx__V1__Execution *x = NULL;
	assert_int_equal(sbx_executions_cancel(admin, &c, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__CANCELLED);
	assert_int_equal(x->exit_code, 3);
	sbx_free(x);
	/* SIGKILL cannot be trapped. */
	r.shell = "trap '' TERM INT; sleep 100";
	sbx_free(s);
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	usleep(200000);
	c.id = s->execution_id;
	c.signal = 9;
	assert_int_equal(sbx_executions_cancel(admin, &c, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__CANCELLED);
	assert_int_equal(x->exit_code, 128 + 9);
	sbx_free(x);
	sbx_free(s);
}

static void test_stdin_env_cwd(void **state)
{
	(void)state;
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sb1;
	r.shell = "mkdir -p /workspace/sub; cd /workspace/sub; pwd; echo $MODE; tr a-z A-Z";
	r.has_stdin = 1;
	r.stdin.data = (uint8_t *)"hello stdin";
	r.stdin.len = 11;
	Sbx__V1__StartExecutionRequest__EnvEntry kv = SBX__V1__START_EXECUTION_REQUEST__ENV_ENTRY__INIT;
	Sbx__V1__StartExecutionRequest__EnvEntry *kvp = &kv;
	kv.key = "MODE";
	kv.value = "test";
	r.env = &kvp;
	r.n_env = 1;
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	Sbx__V1__Execution *x = NULL;
	sbx_free(s);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb1, "cd /tmp && pwd", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "/tmp\n");
	free(out);
	/* working_dir */
	r.shell = "pwd";
	r.working_dir = "/tmp";
	r.has_stdin = 0;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = s->execution_id;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_string_equal(x->working_dir, "/tmp");
	sbx_free(x);
	sbx_free(s);
	/* stdin through the follow path */
	r.shell = "mkdir -p /workspace/sub; cd /workspace/sub; pwd; echo $MODE; tr a-z A-Z";
	r.working_dir = "";
	r.has_stdin = 1;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	w.id = s->execution_id;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_int_equal(x->exit_code, 0);
	sbx_free(x);
	Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
	rq.id = s->execution_id;
	Sbx__V1__ReadOutputResponse *o = NULL;
	assert_int_equal(sbx_executions_read_output(admin, &rq, &o, NULL), SBX_OK);
	size_t n = 0;
	char buf[256];
	for (size_t i = 0; i < o->n_chunks; i++) {
		memcpy(buf + n, o->chunks[i]->data.data, o->chunks[i]->data.len);
		n += o->chunks[i]->data.len;
	}
	buf[n] = '\0';
	assert_string_equal(buf, "/workspace/sub\ntest\nHELLO STDIN");
	sbx_free(o);
	sbx_free(s);
}

struct slow {
	crypto_generichash_state h;
	size_t bytes;
	int calls;
	int stderr_bytes;
};

static int slow_sink(void *arg, int stream, const void *data, size_t len)
{
	struct slow *s = arg;
	if (stream != 1) {
		s->stderr_bytes += (int)len;
		return 0;
	}
	crypto_generichash_update(&s->h, data, len);
	s->bytes += len;
	/* A subscriber that falls behind: the bus drops, backfill repairs. */
	if (++s->calls % 50 == 0) {
		usleep(20000);
	}
	return 0;
}

static void test_large_output_slow_subscriber_is_exact(void **state)
{
	(void)state;
	const size_t total = 200u * 1000u * 1000u;
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sb2;
	/* Deterministic and varied: numbered lines. */
	r.shell = "seq 1 100000000 | head -c 200000000";
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	struct slow sink = {0};
	crypto_generichash_init(&sink.h, NULL, 0, 32);
	Sbx__V1__Execution *x = NULL;
	sbx_error e;
	assert_int_equal(sbx_follow_output(admin, s->execution_id, 0, slow_sink, &sink, NULL, &x, &e), SBX_OK);
	assert_int_equal(x->exit_code, 0);
	assert_int_equal(x->output_bytes, (int64_t)total);
	assert_int_equal(sink.bytes, total);
	unsigned char got[32], want[32];
	crypto_generichash_final(&sink.h, got, 32);
	/* The same bytes, made here. */
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	char line[32];
	size_t made = 0;
	for (long i = 1; made < total; i++) {
		int n = snprintf(line, sizeof(line), "%ld\n", i);
		size_t take = made + (size_t)n > total ? total - made : (size_t)n;
		crypto_generichash_update(&h, (unsigned char *)line, take);
		made += take;
	}
	crypto_generichash_final(&h, want, 32);
	assert_memory_equal(got, want, 32);
	sbx_free(x);
	sbx_free(s);
}

struct conc {
	const char *sandbox;
	int index;
	int ok;
};

static void *concurrent_one(void *arg)
{
	struct conc *c = arg;
	char cmd[64], want[32];
	snprintf(cmd, sizeof(cmd), "sleep 0.2; echo run-%d", c->index);
	snprintf(want, sizeof(want), "run-%d\n", c->index);
	char *out = NULL;
	int rc = -1;
	c->ok = harness_sh(admin, c->sandbox, cmd, 20, &out, NULL, &rc) == SBX_OK && rc == 0 &&
		strcmp(out, want) == 0;
	free(out);
	return NULL;
}

static void test_concurrent_executions(void **state)
{
	(void)state;
	pthread_t th[12];
	struct conc c[12];
	for (int i = 0; i < 12; i++) {
		c[i] = (struct conc){i % 2 ? sb1 : sb2, i, 0};
		pthread_create(&th[i], NULL, concurrent_one, &c[i]);
	}
	for (int i = 0; i < 12; i++) {
		pthread_join(th[i], NULL);
		assert_true(c[i].ok);
	}
	Sbx__V1__ListExecutionsRequest lr = SBX__V1__LIST_EXECUTIONS_REQUEST__INIT;
	lr.sandbox_id = "two";
	Sbx__V1__ListExecutionsResponse *l = NULL;
	assert_int_equal(sbx_executions_list(admin, &lr, &l, NULL), SBX_OK);
	assert_true(l->n_executions >= 6);
	for (size_t i = 0; i < l->n_executions; i++) {
		assert_string_equal(l->executions[i]->sandbox_id, sb2);
	}
	sbx_free(l);
}

static void test_blocked_command(void **state)
{
	(void)state;
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	char *blocked[] = {"shutdown", "rm -rf /"};
	in.blocked_commands = blocked;
	in.n_blocked_commands = 2;
	char *mask[] = {"blocked_commands"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *out = NULL;
	assert_int_equal(sbx_settings_update(admin, &u, &out, NULL), SBX_OK);
	sbx_free(out);
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sb1;
	r.shell = "cd / && rm -rf / --no-preserve-root";
	Sbx__V1__StartExecutionResponse *s = NULL;
	sbx_error e;
	assert_int_equal(sbx_executions_start(admin, &r, &s, &e), SBX_PERMISSION_DENIED);
	assert_string_equal(e.field, "argv");
	char *argv[] = {"/sbin/shutdown", "-h", "now"};
	r.shell = "";
	r.argv = argv;
	r.n_argv = 3;
	assert_int_equal(sbx_executions_start(admin, &r, &s, &e), SBX_PERMISSION_DENIED);
	in.n_blocked_commands = 0;
	assert_int_equal(sbx_settings_update(admin, &u, &out, NULL), SBX_OK);
	sbx_free(out);
	/* Bad input is named. */
	r.argv = NULL;
	r.n_argv = 0;
	assert_int_equal(sbx_executions_start(admin, &r, &s, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "argv");
	r.shell = "true";
	r.working_dir = "relative";
	assert_int_equal(sbx_executions_start(admin, &r, &s, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "working_dir");
}

static void test_daemon_kill9_mid_execution(void **state)
{
	(void)state;
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sb1;
	r.shell = "echo started; sleep 60";
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	char id[64];
	snprintf(id, sizeof(id), "%s", s->execution_id);
	sbx_free(s);
	usleep(300000);
	sbx_disconnect(admin);
	harness_stop(&d, SIGKILL);
	assert_int_equal(harness_restart(&d), 0);
	admin = harness_client(&d, NULL);
	Sbx__V1__GetExecutionRequest g = SBX__V1__GET_EXECUTION_REQUEST__INIT;
	g.id = id;
	Sbx__V1__Execution *x = NULL;
	assert_int_equal(sbx_executions_get(admin, &g, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__INTERRUPTED);
	sbx_free(x);
	/* What it printed before is still there. */
	Sbx__V1__ReadOutputRequest rq = SBX__V1__READ_OUTPUT_REQUEST__INIT;
	rq.id = id;
	Sbx__V1__ReadOutputResponse *o = NULL;
	assert_int_equal(sbx_executions_read_output(admin, &rq, &o, NULL), SBX_OK);
	assert_int_equal(o->n_chunks, 1);
	assert_memory_equal(o->chunks[0]->data.data, "started\n", 8);
	assert_true(o->eof);
	sbx_free(o);
	/* Its leftover was killed: nothing sleeps in the sandbox. */
	usleep(200000);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb1, "ps -eo args | grep -c '^sleep 60' || true", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "0\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes_and_signals),
		cmocka_unit_test(test_timeout_kills_process_tree),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_stdin_env_cwd),
		cmocka_unit_test(test_large_output_slow_subscriber_is_exact),
		cmocka_unit_test(test_concurrent_executions),
		cmocka_unit_test(test_blocked_command),
		cmocka_unit_test(test_daemon_kill9_mid_execution),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("executions", tests, setup, teardown);
}

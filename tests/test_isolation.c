/* Real attacks from inside a native sandbox. Each must fail without
 * harming the host or the daemon. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct daemon d;
static sbx_client *admin;
static char sandbox[64];

static int setup(void **state)
{
	(void)state;
	if (harness_start(&d) != 0 || (admin = harness_client(&d, NULL)) == NULL) {
		return -1;
	}
	const char *id = harness_sandbox(admin, "target", 128, 64, "none");
	if (id == NULL) {
		return -1;
	}
	snprintf(sandbox, sizeof(sandbox), "%s", id);
	/* The attack helper goes into the sandbox's workspace from the host. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp %s/tests/attack %s/data/sandboxes/%s/workspace/attack && chmod 755 %s/data/sandboxes/%s/workspace/attack",
		 harness_build_dir(), d.dir, sandbox, d.dir, sandbox);
	return system(cmd);
}

static int teardown(void **state)
{
	(void)state;
	sbx_disconnect(admin);
	harness_cleanup(&d);
	return 0;
}

static void assert_daemon_fine(void)
{
	Sbx__V1__HealthCheckRequest r = SBX__V1__HEALTH_CHECK_REQUEST__INIT;
	Sbx__V1__HealthCheckResponse *h = NULL;
	assert_int_equal(sbx_health_check(admin, &r, &h, NULL), SBX_OK);
	assert_int_equal(h->status, SBX__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	sbx_free(h);
}

/* Runs the helper; asserts every attempt was blocked. */
static void attack(const char *args)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/workspace/attack %s", args);
	char *out = NULL;
	int rc = -1;
	assert_int_equal(harness_sh(admin, sandbox, cmd, 20, &out, NULL, &rc), SBX_OK);
	if (rc != 0 || strstr(out, "GOT THROUGH") != NULL) {
		fail_msg("attack `%s` was not stopped (exit %d):\n%s", args, rc, out);
	}
	free(out);
	assert_daemon_fine();
}

static void test_cannot_see_host_processes(void **state)
{
	(void)state;
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sandbox, "ls /proc | grep -c '^[0-9]'", 10, &out, NULL, &rc), SBX_OK);
	/* init, the helper's shell, ls, grep: a handful, not the host's. */
	assert_true(atoi(out) < 10);
	free(out);
	char args[64];
	snprintf(args, sizeof(args), "kill %d", (int)d.pid);
	attack(args);
}

static void test_cannot_write_host_files(void **state)
{
	(void)state;
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sandbox,
				    "touch /usr/bin/sbx-owned 2>/dev/null && echo usr;"
				    "echo x >> /etc/passwd 2>/dev/null && echo etc;"
				    "touch /sbx-root 2>/dev/null && echo root;"
				    "echo ok > /tmp/scratch && echo > /workspace/w && echo writable",
				    10, &out, NULL, &rc),
			 SBX_OK);
	assert_string_equal(out, "writable\n");
	free(out);
	struct stat st;
	assert_int_not_equal(stat("/usr/bin/sbx-owned", &st), 0);
	assert_int_not_equal(stat("/sbx-root", &st), 0);
}

static void test_cannot_reach_host_loopback(void **state)
{
	(void)state;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 4), 0);
	socklen_t len = sizeof(sa);
	getsockname(s, (struct sockaddr *)&sa, &len);
	char args[64];
	snprintf(args, sizeof(args), "connect %d", ntohs(sa.sin_port));
	attack(args);
	close(s);
}

static void test_privileged_syscalls(void **state)
{
	(void)state;
	attack("mount");
	attack("module");
	attack("ptrace");
	attack("namespaces");
	attack("kernel");
	attack("proc");
}

static void test_memory_bomb(void **state)
{
	(void)state;
	/* 128 MiB limit: allocating 512 MiB gets the process OOM-killed in its
	 * cgroup (or malloc fails); either way it never has the memory. */
	char *out = NULL;
	int rc = -1;
	assert_int_equal(harness_sh(admin, sandbox, "/workspace/attack mem 512", 30, &out, NULL, &rc), SBX_OK);
	assert_null(strstr(out, "GOT THROUGH"));
	assert_true(rc == 137 || rc == 0);
	free(out);
	assert_daemon_fine();
	/* The sandbox itself is still usable. */
	assert_int_equal(harness_sh(admin, sandbox, "echo alive", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "alive\n");
	free(out);
}

static void test_fork_bomb(void **state)
{
	(void)state;
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = sandbox;
	/* The main shell must outlive the timeout even when it cannot fork
	 * any more: it forks once, before the bomb fills the cgroup (a failed
	 * fork ends a non-interactive shell), then waits with builtins only. */
	r.shell = "bomb() { bomb | bomb & }; (bomb) & while :; do :; done";
	r.timeout_seconds = 4;
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	sleep(2);
	/* The bomb is held at pids.max while it runs. */
	char path[256];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/sbx/%s/pids.current", sandbox);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/sbx/%s/pids.current", sandbox);
		f = fopen(path, "r");
	}
	assert_non_null(f);
	int pids = 0;
	assert_int_equal(fscanf(f, "%d", &pids), 1);
	fclose(f);
	assert_true(pids <= 64);
	assert_daemon_fine();
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = s->execution_id;
	w.wait_ms = 15000;
	Sbx__V1__Execution *x = NULL;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__TIMED_OUT);
	sbx_free(x);
	sbx_free(s);
	/* Killing the group freed the slots: the sandbox works again. */
	char *out = NULL;
	int rc;
	for (int i = 0; i < 50; i++) {
		if (harness_sh(admin, sandbox, "echo back", 10, &out, NULL, &rc) == SBX_OK && rc == 0) {
			break;
		}
		free(out);
		out = NULL;
		usleep(100000);
	}
	assert_non_null(out);
	assert_string_equal(out, "back\n");
	free(out);
}

static void test_runs_unprivileged(void **state)
{
	(void)state;
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sandbox,
				    "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' '",
				    10, &out, NULL, &rc),
			 SBX_OK);
	assert_string_equal(out, "1000\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_unprivileged),
		cmocka_unit_test(test_cannot_see_host_processes),
		cmocka_unit_test(test_cannot_write_host_files),
		cmocka_unit_test(test_cannot_reach_host_loopback),
		cmocka_unit_test(test_privileged_syscalls),
		cmocka_unit_test(test_memory_bomb),
		cmocka_unit_test(test_fork_bomb),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("isolation", tests, setup, teardown);
}

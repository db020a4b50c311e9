/* The Docker provider against a real dockerd started by the test itself
 * (private data root and socket, host firewall untouched), with a busybox
 * image made here. */
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

#include "docker.h"
#include "harness.h"

static struct daemon d;
static struct dockerd k;
static sbx_client *admin;

static void configure_endpoint(const char *endpoint)
{
	Sbx__V1__ProviderSettings ps = SBX__V1__PROVIDER_SETTINGS__INIT;
	ps.enabled = 1;
	ps.api_endpoint = (char *)endpoint;
	char *mask[] = {"enabled", "api_endpoint"};
	Sbx__V1__UpdateProviderRequest u = SBX__V1__UPDATE_PROVIDER_REQUEST__INIT;
	u.id = "docker";
	u.settings = &ps;
	u.update_mask = mask;
	u.n_update_mask = 2;
	Sbx__V1__Provider *p = NULL;
	assert_int_equal(sbx_providers_update(admin, &u, &p, NULL), SBX_OK);
	sbx_free(p);
}

static int setup(void **state)
{
	(void)state;
	if (harness_dockerd_start(&k) != 0) {
		fprintf(stderr, "dockerd did not start (see %s/dockerd.log)\n", k.dir);
		return -1;
	}
	if (harness_start(&d) != 0 || (admin = harness_client(&d, NULL)) == NULL) {
		return -1;
	}
	char ep[400];
	snprintf(ep, sizeof(ep), "unix://%s", k.sock);
	configure_endpoint(ep);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sbx_disconnect(admin);
	harness_cleanup(&d);
	harness_dockerd_stop(&k);
	return 0;
}

static char *create(const char *name, int64_t mem, sbx_status expect)
{
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.memory_mb = mem;
	res.cpu_cores = 0.5;
	res.pids_max = 100;
	r.provider = "docker";
	r.image = "sbx-busybox";
	r.name = (char *)name;
	r.resources = &res;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), expect);
	if (expect != SBX_OK) {
		return NULL;
	}
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__RUNNING);
	char *id = strdup(sb->id);
	sbx_free(sb);
	return id;
}

static void destroy(const char *id)
{
	Sbx__V1__DestroySandboxRequest r = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	r.force = 1;
	Sbx__V1__Sandbox *sb = NULL;
	assert_int_equal(sbx_sandboxes_destroy(admin, &r, &sb, NULL), SBX_OK);
	sbx_free(sb);
}

static void test_validate_reports_engine(void **state)
{
	(void)state;
	Sbx__V1__ValidateProviderRequest r = SBX__V1__VALIDATE_PROVIDER_REQUEST__INIT;
	r.id = "docker";
	Sbx__V1__ValidateProviderResponse *v = NULL;
	assert_int_equal(sbx_providers_validate(admin, &r, &v, NULL), SBX_OK);
	assert_true(v->ok);
	assert_non_null(strstr(v->message, "API 1.41"));
	sbx_free(v);
}

static void test_spec_is_mapped_faithfully(void **state)
{
	(void)state;
	char *id = create("mapped", 128, SBX_OK);
	char *out = NULL;
	char name[96];
	snprintf(name, sizeof(name), "sbx-%s", id);
	assert_int_equal(harness_docker(&k, &out, "inspect", "-f",
					"{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} "
					"{{.HostConfig.NetworkMode}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} "
					"{{.Config.User}} {{index .Config.Labels \"sbx.managed\"}} {{index .Config.Labels \"sbx.sandbox\"}}",
					name, (char *)NULL),
			 0);
	char want[256];
	snprintf(want, sizeof(want), "134217728 500000000 100 none [ALL] [no-new-privileges] 1000:1000 true %s\n", id);
	assert_string_equal(out, want);
	free(out);
	/* Stats come from the engine's stats, at once (one-shot). */
	Sbx__V1__SandboxRef ref = SBX__V1__SANDBOX_REF__INIT;
	ref.id = id;
	Sbx__V1__SandboxStats *st = NULL;
	assert_int_equal(sbx_sandboxes_stats(admin, &ref, &st, NULL), SBX_OK);
	assert_int_equal(st->memory_limit, 128LL << 20);
	assert_true(st->memory_bytes > 0);
	assert_true(st->pids >= 1);
	sbx_free(st);
	destroy(id);
	/* Removed from the engine too. */
	assert_int_not_equal(harness_docker(&k, NULL, "inspect", name, (char *)NULL), 0);
	free(id);
}

/* A disk size goes to the engine as StorageOpt; an engine whose storage
 * cannot enforce it (overlay2 on ext4, as here) refuses, and the caller
 * is told which field cannot be honoured, never given an unlimited disk. */
static void test_disk_size_is_enforced_or_refused(void **state)
{
	(void)state;
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.disk_gb = 1;
	r.provider = "docker";
	r.image = "sbx-busybox";
	r.name = "disk";
	r.resources = &res;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	sbx_status s = sbx_sandboxes_create(admin, &r, &sb, &e);
	if (s == SBX_OK) {
		char *out = NULL, name[96];
		snprintf(name, sizeof(name), "sbx-%s", sb->id);
		assert_int_equal(harness_docker(&k, &out, "inspect", "-f", "{{.HostConfig.StorageOpt.size}}", name,
						(char *)NULL),
				 0);
		assert_string_equal(out, "1G\n");
		free(out);
		destroy(sb->id);
		sbx_free(sb);
		return;
	}
	assert_int_equal(s, SBX_FAILED_PRECONDITION);
	assert_string_equal(e.field, "resources.disk_gb");
	assert_non_null(strstr(e.message, "cannot limit"));
}

static void test_exec_streams_codes_stdin_timeout(void **state)
{
	(void)state;
	char *id = create("exec", 0, SBX_OK);
	char *out = NULL, *err = NULL;
	int rc = -1;
	assert_int_equal(harness_sh(admin, id, "echo out; echo err >&2; id -u; pwd; exit 7", 20, &out, &err, &rc), SBX_OK);
	assert_int_equal(rc, 7);
	assert_string_equal(out, "out\n1000\n/workspace\n");
	assert_string_equal(err, "err\n");
	free(out);
	free(err);
	/* Bigger than one frame, split across reads: arrives whole. */
	assert_int_equal(harness_sh(admin, id, "seq 1 200000 | wc -l", 20, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "200000\n");
	free(out);
	/* stdin */
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = id;
	r.shell = "wc -c";
	r.has_stdin = 1;
	r.stdin.data = (uint8_t *)"twelve bytes";
	r.stdin.len = 12;
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	Sbx__V1__Execution *x = NULL;
	Sbx__V1__WaitExecutionRequest w = SBX__V1__WAIT_EXECUTION_REQUEST__INIT;
	w.id = s->execution_id;
	w.wait_ms = 20000;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_int_equal(x->exit_code, 0);
	assert_int_equal(x->output_bytes, 3);
	sbx_free(x);
	sbx_free(s);
	/* A timeout kills the process and what it started. */
	r.shell = "sleep 300 & sleep 301";
	r.has_stdin = 0;
	r.timeout_seconds = 1;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	w.id = s->execution_id;
	assert_int_equal(sbx_executions_wait(admin, &w, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__TIMED_OUT);
	assert_true(x->duration_ms < 5000);
	sbx_free(x);
	sbx_free(s);
	assert_int_equal(harness_sh(admin, id, "ps -o args | grep -c '^sleep 30' || true", 20, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "0\n");
	free(out);
	/* Cancel */
	r.shell = "sleep 100";
	r.timeout_seconds = 0;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_OK);
	usleep(500000);
	Sbx__V1__CancelExecutionRequest c = SBX__V1__CANCEL_EXECUTION_REQUEST__INIT;
	c.id = s->execution_id;
	c.signal = 9;
	assert_int_equal(sbx_executions_cancel(admin, &c, &x, NULL), SBX_OK);
	assert_int_equal(x->status, SBX__V1__EXECUTION_STATUS__CANCELLED);
	sbx_free(x);
	sbx_free(s);
	destroy(id);
	free(id);
}

static sbx_status ref(sbx_status (*fn)(sbx_client *, const Sbx__V1__SandboxRef *, Sbx__V1__Sandbox **, sbx_error *),
		      const char *id)
{
	Sbx__V1__SandboxRef r = SBX__V1__SANDBOX_REF__INIT;
	r.id = (char *)id;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = fn(admin, &r, &sb, NULL);
	sbx_free(sb);
	return s;
}

static void test_lifecycle_keeps_workspace(void **state)
{
	(void)state;
	char *id = create("life", 0, SBX_OK);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, id, "echo kept > /workspace/f", 20, NULL, NULL, &rc), SBX_OK);
	assert_int_equal(ref(sbx_sandboxes_pause, id), SBX_OK);
	char name[96];
	snprintf(name, sizeof(name), "sbx-%s", id);
	assert_int_equal(harness_docker(&k, &out, "inspect", "-f", "{{.State.Paused}}", name, (char *)NULL), 0);
	assert_string_equal(out, "true\n");
	free(out);
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = id;
	r.shell = "true";
	Sbx__V1__StartExecutionResponse *s = NULL;
	assert_int_equal(sbx_executions_start(admin, &r, &s, NULL), SBX_FAILED_PRECONDITION);
	assert_int_equal(ref(sbx_sandboxes_resume, id), SBX_OK);
	assert_int_equal(ref(sbx_sandboxes_stop, id), SBX_OK);
	assert_int_equal(harness_docker(&k, &out, "inspect", "-f", "{{.State.Running}}", name, (char *)NULL), 0);
	assert_string_equal(out, "false\n");
	free(out);
	assert_int_equal(ref(sbx_sandboxes_start, id), SBX_OK);
	assert_int_equal(harness_sh(admin, id, "cat /workspace/f", 20, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "kept\n");
	free(out);
	destroy(id);
	free(id);
}

static void test_copy_through_archive_api(void **state)
{
	(void)state;
	char *id = create("files", 0, SBX_OK);
	char cmd[2048], src[400], back[400];
	snprintf(src, sizeof(src), "%s/cp-src", k.dir);
	snprintf(back, sizeof(back), "%s/cp-back", k.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s %s && echo through-docker > %s/note.txt", src, back, src);
	assert_int_equal(system(cmd), 0);
	char file[450], dst[128];
	snprintf(file, sizeof(file), "%s/note.txt", src);
	snprintf(dst, sizeof(dst), "%s:/tmp", id);
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", file, dst, (char *)NULL), 0);
	free(out);
	free(err);
	int rc;
	assert_int_equal(harness_sh(admin, id, "cat /tmp/note.txt", 20, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "through-docker\n");
	free(out);
	snprintf(dst, sizeof(dst), "%s:/tmp/note.txt", id);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", dst, back, (char *)NULL), 0);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "grep -q through-docker %s/note.txt", back);
	assert_int_equal(system(cmd), 0);
	/* Larger than one message: streamed to and from the engine in parts. */
	snprintf(cmd, sizeof(cmd), "head -c 10000000 /dev/urandom > %s/big.bin", src);
	assert_int_equal(system(cmd), 0);
	snprintf(file, sizeof(file), "%s/big.bin", src);
	snprintf(dst, sizeof(dst), "%s:/tmp", id);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", file, dst, (char *)NULL), 0);
	free(out);
	free(err);
	snprintf(dst, sizeof(dst), "%s:/tmp/big.bin", id);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", dst, back, (char *)NULL), 0);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "cmp %s/big.bin %s/big.bin", src, back);
	assert_int_equal(system(cmd), 0);
	destroy(id);
	free(id);
}

static void test_restart_refinds_containers_and_orphans(void **state)
{
	(void)state;
	char *keep = create("keep", 0, SBX_OK);
	char *lost = create("lost", 0, SBX_OK);
	/* A command running in keep when sbxd dies. */
	Sbx__V1__StartExecutionRequest xr = SBX__V1__START_EXECUTION_REQUEST__INIT;
	char *argv[] = {"sleep", "4242"};
	xr.sandbox_id = keep;
	xr.argv = argv;
	xr.n_argv = 2;
	Sbx__V1__StartExecutionResponse *xs = NULL;
	assert_int_equal(sbx_executions_start(admin, &xr, &xs, NULL), SBX_OK);
	sbx_free(xs);
	int seen = 0;
	for (int i = 0; i < 100 && !seen; i++) {
		seen = system("pgrep -x -f 'sleep 4242' >/dev/null") == 0;
		usleep(50000);
	}
	assert_true(seen);
	sbx_disconnect(admin);
	harness_stop(&d, SIGKILL);
	/* While sbxd is down, one container goes. */
	char name[96];
	snprintf(name, sizeof(name), "sbx-%s", lost);
	assert_int_equal(harness_docker(&k, NULL, "rm", "-f", name, (char *)NULL), 0);
	/* And a container carrying our labels appears that we never made. */
	assert_int_equal(harness_docker(&k, NULL, "run", "-d", "--name", "stray", "--network", "none", "--label",
					"sbx.managed=true", "--label", "sbx.sandbox=sb-000000000000", "sbx-busybox",
					"sleep", "1000", (char *)NULL),
			 0);
	assert_int_equal(harness_restart(&d), 0);
	admin = harness_client(&d, NULL);
	Sbx__V1__GetSandboxRequest g = SBX__V1__GET_SANDBOX_REQUEST__INIT;
	Sbx__V1__Sandbox *sb = NULL;
	g.id = keep;
	assert_int_equal(sbx_sandboxes_get(admin, &g, &sb, NULL), SBX_OK);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__RUNNING);
	sbx_free(sb);
	g.id = lost;
	assert_int_equal(sbx_sandboxes_get(admin, &g, &sb, NULL), SBX_OK);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__DEAD);
	sbx_free(sb);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, keep, "echo still here", 20, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "still here\n");
	free(out);
	/* The orphaned command was ended when keep was re-attached. */
	assert_int_not_equal(system("pgrep -x -f 'sleep 4242' >/dev/null"), 0);
	/* clean reports the stray; --orphans removes it. */
	Sbx__V1__CleanSandboxesRequest cr = SBX__V1__CLEAN_SANDBOXES_REQUEST__INIT;
	cr.dry_run = 1;
	Sbx__V1__CleanSandboxesResponse *cl = NULL;
	assert_int_equal(sbx_sandboxes_clean(admin, &cr, &cl, NULL), SBX_OK);
	assert_int_equal(cl->n_orphans, 1);
	sbx_free(cl);
	cr.dry_run = 0;
	cr.orphans = 1;
	assert_int_equal(sbx_sandboxes_clean(admin, &cr, &cl, NULL), SBX_OK);
	assert_int_equal(cl->n_orphans, 1);
	sbx_free(cl);
	assert_int_not_equal(harness_docker(&k, NULL, "inspect", "stray", (char *)NULL), 0);
	destroy(keep);
	free(keep);
	free(lost);
}

static void test_engine_absent_and_missing_image(void **state)
{
	(void)state;
	sbx_error e;
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Sandbox *sb = NULL;
	r.provider = "docker";
	r.image = "example.invalid/none:1";
	/* No registry is reachable: the pull fails, naming the image. */
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_NOT_FOUND);
	assert_string_equal(e.field, "image");
	char ep[400];
	snprintf(ep, sizeof(ep), "unix://%s/nowhere.sock", k.dir);
	configure_endpoint(ep);
	r.image = "sbx-busybox";
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_UNAVAILABLE);
	assert_non_null(strstr(e.message, "nowhere.sock"));
	snprintf(ep, sizeof(ep), "unix://%s", k.sock);
	configure_endpoint(ep);
}

struct frames {
	char out[64];
	char err[64];
};

static int collect(void *arg, int stream, const void *data, size_t len)
{
	struct frames *f = arg;
	strncat(stream == 2 ? f->err : f->out, data, len);
	return 0;
}

static void test_stream_decoding_and_pull_progress(void **state)
{
	(void)state;
	/* Two frames, fed one byte at a time. */
	static const uint8_t raw[] = {1, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o',
				      2, 0, 0, 0, 0, 0, 0, 4, 'o', 'o', 'p', 's'};
	docker_demux dm;
	docker_demux_init(&dm);
	struct frames f = {"", ""};
	for (size_t i = 0; i < sizeof(raw); i++) {
		docker_demux_feed(&dm, &raw[i], 1, collect, &f);
	}
	assert_string_equal(f.out, "hello");
	assert_string_equal(f.err, "oops");
	/* Progress as the engine reports a pull (recorded output). */
	static const char *const lines[] = {
		"{\"status\":\"Pulling from library/alpine\",\"id\":\"3.20\"}",
		"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1\"}",
		"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"b2\"}",
		"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1000,\"total\":4000},\"progress\":\"[=>  ]\",\"id\":\"a1\"}",
		"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500,\"total\":1000},\"id\":\"b2\"}",
		"{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"b2\"}",
		"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":3000,\"total\":4000},\"id\":\"a1\"}",
	};
	docker_pull_progress p;
	docker_pull_progress_init(&p);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		docker_pull_progress_line(&p, lines[i], strlen(lines[i]));
	}
	assert_int_equal(p.n_layers, 2);
	assert_int_equal(p.total, 5000);
	assert_int_equal(p.current, 3500);
	const char *done = "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"b2\"}";
	docker_pull_progress_line(&p, done, strlen(done));
	assert_int_equal(p.current, 4000);
	const char *err = "{\"errorDetail\":{\"message\":\"toomanyrequests\"},\"error\":\"toomanyrequests\"}";
	docker_pull_progress_line(&p, err, strlen(err));
	assert_string_equal(p.error, "toomanyrequests");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_decoding_and_pull_progress),
		cmocka_unit_test(test_validate_reports_engine),
		cmocka_unit_test(test_spec_is_mapped_faithfully),
		cmocka_unit_test(test_exec_streams_codes_stdin_timeout),
		cmocka_unit_test(test_lifecycle_keeps_workspace),
		cmocka_unit_test(test_disk_size_is_enforced_or_refused),
		cmocka_unit_test(test_copy_through_archive_api),
		cmocka_unit_test(test_restart_refinds_containers_and_orphans),
		cmocka_unit_test(test_engine_absent_and_missing_image),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("docker", tests, setup, teardown);
}

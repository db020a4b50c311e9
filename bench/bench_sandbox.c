/* Native sandboxes: create-to-running and destroy through sbxd against a
 * raw clone() with the same namespaces + exec + wait, and memory per idle
 * sandbox against raw namespaced idle processes; all in one run. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"

#define N_CREATE 200
#define N_IDLE 500
#define NS_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static char child_stack[65536];
static char *const true_argv[] = {"/bin/true", NULL};
static char *const sleep_argv[] = {"/bin/sleep", "3600", NULL};

static int child_exec(void *arg)
{
	execv(((char *const *)arg)[0], arg);
	_exit(127);
}

/* The baseline: what the kernel charges for the same isolation. */
static double raw_clone_us(void)
{
	double t0 = bench_now_us();
	pid_t p = clone(child_exec, child_stack + sizeof(child_stack), NS_FLAGS | SIGCHLD, (void *)true_argv);
	if (p < 0) {
		perror("clone");
		exit(1);
	}
	waitpid(p, NULL, 0);
	return bench_now_us() - t0;
}

static long mem_available_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1) {
			break;
		}
	}
	if (f) {
		fclose(f);
	}
	return v;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1) {
			break;
		}
	}
	if (f) {
		fclose(f);
	}
	return v;
}

static void settle(void)
{
	sync();
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3", f);
		fclose(f);
	}
	usleep(300000);
}

static void set_int_setting(sbx_client *c, const char *key, int v)
{
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(in.base.descriptor, key);
	*(int32_t *)((char *)&in + f->offset) = v;
	char *mask[] = {(char *)key};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *out = NULL;
	sbx_settings_update(c, &u, &out, NULL);
	sbx_free(out);
}

static char *create_one(sbx_client *c, double *us)
{
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	double t0 = bench_now_us();
	if (sbx_sandboxes_create(c, &r, &sb, &e) != SBX_OK) {
		fprintf(stderr, "bench: create: %s\n", e.message);
		exit(1);
	}
	*us = bench_now_us() - t0;
	char *id = strdup(sb->id);
	sbx_free(sb);
	return id;
}

static double destroy_one(sbx_client *c, const char *id)
{
	Sbx__V1__DestroySandboxRequest r = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	r.force = 1;
	Sbx__V1__Sandbox *sb = NULL;
	double t0 = bench_now_us();
	sbx_error e;
	if (sbx_sandboxes_destroy(c, &r, &sb, &e) != SBX_OK) {
		fprintf(stderr, "bench: destroy %s: %s\n", id, e.message);
		exit(1);
	}
	double us = bench_now_us() - t0;
	sbx_free(sb);
	return us;
}

/* Static: cleaned up at exit even when a step exit()s. */
static struct daemon d;

int main(void)
{
	if (harness_start(&d) != 0) {
		fprintf(stderr, "bench: sbxd did not start\n");
		return 1;
	}
	harness_cleanup_at_exit(&d);
	sbx_options o = {.address = d.addr, .token = d.admin_token, .timeout_ms = 60000};
	sbx_client *c = NULL;
	if (sbx_connect(&c, &o, NULL) != SBX_OK) {
		return 1;
	}
	set_int_setting(c, "max_concurrent_local", N_IDLE + 10);

	/* Warm-up, then interleave ours and the baseline so drift hits both. */
	double w;
	for (int i = 0; i < 10; i++) {
		char *id = create_one(c, &w);
		destroy_one(c, id);
		free(id);
		raw_clone_us();
	}
	static double create_us[N_CREATE], destroy_us[N_CREATE], raw_us[N_CREATE];
	for (int i = 0; i < N_CREATE; i++) {
		char *id = create_one(c, &create_us[i]);
		destroy_us[i] = destroy_one(c, id);
		free(id);
		raw_us[i] = raw_clone_us();
	}
	double raw_p50 = bench_percentile(raw_us, N_CREATE, 0.5), raw_p99 = bench_percentile(raw_us, N_CREATE, 0.99);
	printf("bench: %d sandboxes (host image, pid+mount+uts+ipc+net namespaces, cgroups, seccomp)\n", N_CREATE);
	bench_report("create_p50", bench_percentile(create_us, N_CREATE, 0.5), raw_p50, "us");
	bench_report("create_p99", bench_percentile(create_us, N_CREATE, 0.99), raw_p99, "us");
	bench_report("destroy_p50", bench_percentile(destroy_us, N_CREATE, 0.5), raw_p50, "us");

	/* Density: N_IDLE idle sandboxes against N_IDLE idle raw processes in
	 * the same namespaces. */
	settle();
	long before = mem_available_kb();
	long daemon_before = rss_kb(d.pid);
	static char *ids[N_IDLE];
	for (int i = 0; i < N_IDLE; i++) {
		ids[i] = create_one(c, &w);
	}
	settle();
	long after = mem_available_kb();
	long daemon_after = rss_kb(d.pid);
	double ours_kb = (double)(before - after) / N_IDLE;
	for (int i = 0; i < N_IDLE; i++) {
		destroy_one(c, ids[i]);
		free(ids[i]);
	}
	settle();
	before = mem_available_kb();
	static pid_t raw[N_IDLE];
	for (int i = 0; i < N_IDLE; i++) {
		raw[i] = clone(child_exec, child_stack + sizeof(child_stack), NS_FLAGS | SIGCHLD, (void *)sleep_argv);
	}
	settle();
	after = mem_available_kb();
	double raw_kb = (double)(before - after) / N_IDLE;
	for (int i = 0; i < N_IDLE; i++) {
		kill(raw[i], SIGKILL);
		waitpid(raw[i], NULL, 0);
	}
	printf("bench: %d idle sandboxes: daemon RSS %ld kB -> %ld kB\n", N_IDLE, daemon_before, daemon_after);
	bench_report("idle_mem_per_sandbox", ours_kb, raw_kb, "kB");
	sbx_disconnect(c);
	harness_cleanup(&d);
	return 0;
}

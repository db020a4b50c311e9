/* Executions: Start-to-end-event of `true` in a native sandbox against a
 * raw fork+exec+wait of the same binary, and streaming 1 GiB of stdout to a
 * subscriber against a raw pipe read of the same data; in one run. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"

#define N_EXEC 300
#define STREAM_BYTES (1024LL * 1024 * 1024)
/* Rounds of 1 GiB each, ours and raw taking turns: the median of each side
 * is reported, since one round of either swings by a third on a busy VM. */
#define STREAM_ROUNDS 3

static double raw_exec_us(void)
{
	double t0 = bench_now_us();
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
	return bench_now_us() - t0;
}

/* Start, then wait for this execution's end event on a subscription to
 * every log topic made beforehand (so subscribing is not measured). */
static double ours_exec_us(sbx_client *c, sbx_subscription *sub, const char *sandbox)
{
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	char *argv[] = {"/bin/true"};
	r.sandbox_id = (char *)sandbox;
	r.argv = argv;
	r.n_argv = 1;
	Sbx__V1__StartExecutionResponse *s = NULL;
	double t0 = bench_now_us();
	if (sbx_executions_start(c, &r, &s, NULL) != SBX_OK) {
		fprintf(stderr, "bench: start failed\n");
		exit(1);
	}
	for (;;) {
		Sbx__V1__Event *ev = NULL;
		if (sbx_next_event(sub, 10000, &ev, NULL) != SBX_OK) {
			/* Say what the record holds: a lost event or a stuck run. */
			Sbx__V1__GetExecutionRequest g = SBX__V1__GET_EXECUTION_REQUEST__INIT;
			g.id = s->execution_id;
			Sbx__V1__Execution *x = NULL;
			sbx_executions_get(c, &g, &x, NULL);
			fprintf(stderr, "bench: no end event for %s (status %d, error \"%s\")\n", s->execution_id,
				x ? (int)x->status : -1, x && x->error ? x->error : "");
			exit(1);
		}
		int done = strcmp(ev->kind, "execution.finished") == 0 &&
			   strcmp(ev->subject, s->execution_id) == 0;
		sbx_free(ev);
		if (done) {
			break;
		}
	}
	double us = bench_now_us() - t0;
	sbx_free(s);
	return us;
}

static double raw_pipe_mbps(void)
{
	int p[2];
	if (pipe(p) != 0) {
		exit(1);
	}
	double t0 = bench_now_us();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl("/usr/bin/head", "head", "-c", "1073741824", "/dev/zero", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	static char buf[65536];
	long long total = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		total += n;
	}
	close(p[0]);
	waitpid(pid, NULL, 0);
	double s = (bench_now_us() - t0) / 1e6;
	if (total != STREAM_BYTES) {
		fprintf(stderr, "bench: raw pipe read %lld bytes\n", total);
		exit(1);
	}
	return (double)total / s / 1e6;
}

struct count {
	long long bytes;
	int bad;
};

static int counter(void *arg, int stream, const void *data, size_t len)
{
	struct count *c = arg;
	const char *p = data;
	if (stream == 1) {
		/* Every byte of /dev/zero is zero: check them all, cheaply. */
		for (size_t i = 0; i < len; i += 4096) {
			c->bad |= p[i];
		}
		c->bad |= len ? p[len - 1] : 0;
		c->bytes += (long long)len;
	}
	return 0;
}

static double ours_stream_mbps(sbx_client *c, const char *sandbox, long long *lost)
{
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	char *argv[] = {"/usr/bin/head", "-c", "1073741824", "/dev/zero"};
	r.sandbox_id = (char *)sandbox;
	r.argv = argv;
	r.n_argv = 4;
	Sbx__V1__StartExecutionResponse *s = NULL;
	double t0 = bench_now_us();
	if (sbx_executions_start(c, &r, &s, NULL) != SBX_OK) {
		exit(1);
	}
	struct count cnt = {0, 0};
	Sbx__V1__Execution *x = NULL;
	sbx_error e;
	if (sbx_follow_output(c, s->execution_id, 0, counter, &cnt, NULL, &x, &e) != SBX_OK) {
		fprintf(stderr, "bench: follow: %s\n", e.message);
		exit(1);
	}
	double secs = (bench_now_us() - t0) / 1e6;
	*lost = STREAM_BYTES - cnt.bytes + (cnt.bad ? 1 : 0);
	sbx_free(x);
	sbx_free(s);
	return (double)cnt.bytes / secs / 1e6;
}

/* Static: cleaned up at exit even when a step exit()s. */
static struct daemon d;

int main(void)
{
	if (harness_start(&d) != 0) {
		return 1;
	}
	harness_cleanup_at_exit(&d);
	sbx_options o = {.address = d.addr, .token = d.admin_token, .timeout_ms = 60000};
	sbx_client *c = NULL;
	if (sbx_connect(&c, &o, NULL) != SBX_OK) {
		return 1;
	}
	/* Output above the default per-execution cap of 256 MiB: raise it. */
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	in.max_output_bytes_per_execution = 2 * STREAM_BYTES;
	char *mask[] = {"max_output_bytes_per_execution"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *so = NULL;
	sbx_settings_update(c, &u, &so, NULL);
	sbx_free(so);

	char sandbox[64];
	snprintf(sandbox, sizeof(sandbox), "%s", harness_sandbox(c, "bench", 0, 0, NULL));
	sbx_subscription *sub = NULL;
	if (sbx_subscribe(c, "logs.", &sub, NULL) != SBX_OK) {
		return 1;
	}
	usleep(200000);
	for (int i = 0; i < 20; i++) {
		ours_exec_us(c, sub, sandbox);
		raw_exec_us();
	}
	static double ours[N_EXEC], raw[N_EXEC];
	for (int i = 0; i < N_EXEC; i++) {
		ours[i] = ours_exec_us(c, sub, sandbox);
		raw[i] = raw_exec_us();
	}
	sbx_unsubscribe(sub);
	printf("bench: %d executions of /bin/true, Start to end event\n", N_EXEC);
	bench_report("exec_p50", bench_percentile(ours, N_EXEC, 0.5), bench_percentile(raw, N_EXEC, 0.5), "us");
	bench_report("exec_p99", bench_percentile(ours, N_EXEC, 0.99), bench_percentile(raw, N_EXEC, 0.99), "us");

	double raw_mbps[STREAM_ROUNDS], ours_mbps[STREAM_ROUNDS];
	long long lost = 0;
	for (int i = 0; i < STREAM_ROUNDS; i++) {
		long long l = 0;
		raw_mbps[i] = raw_pipe_mbps();
		ours_mbps[i] = ours_stream_mbps(c, sandbox, &l);
		lost += l;
	}
	printf("bench: 1 GiB of stdout to one subscriber, median of %d rounds, %lld bytes lost or wrong\n",
	       STREAM_ROUNDS, lost);
	bench_report("stream_throughput", bench_percentile(ours_mbps, STREAM_ROUNDS, 0.5),
		     bench_percentile(raw_mbps, STREAM_ROUNDS, 0.5), "MB/s");
	sbx_disconnect(c);
	harness_cleanup(&d);
	return lost == 0 ? 0 : 1;
}

/* RPC benchmark: Settings.Get through sbxd against a raw nng req/rep echo
 * of the same reply size, both over ipc://, measured in the same run.
 * Prints `bench: NAME ours=V UNIT baseline=V UNIT ratio=R`. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench.h"
#include "harness.h"

#define LATENCY_CALLS 4000
#define TPUT_SECONDS 0.8
/* Ours and raw take turns, ROUNDS times, so both meet the same moments of
 * a noisy machine; latency percentiles pool the rounds, throughput is the
 * median round. */
#define ROUNDS 5
#define ECHO_CONTEXTS 128

/* ---- the baseline: an async echo server, the way sbxd is built ------- */

struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	int sending;
	size_t reply_len;
};

static void echo_cb(void *arg)
{
	struct echo_ctx *e = arg;
	if (nng_aio_result(e->aio) != 0) {
		if (e->sending) {
			nng_msg_free(nng_aio_get_msg(e->aio));
		}
		e->sending = 0;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	if (e->sending) {
		e->sending = 0;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	nng_msg *m = nng_aio_get_msg(e->aio);
	nng_msg_realloc(m, e->reply_len); /* reply with the size sbxd sends */
	e->sending = 1;
	nng_aio_set_msg(e->aio, m);
	nng_ctx_send(e->ctx, e->aio);
}

static void run_echo_server(const char *addr, size_t reply_len)
{
	nng_socket s;
	nng_rep0_open(&s);
	static struct echo_ctx ctxs[ECHO_CONTEXTS];
	for (int i = 0; i < ECHO_CONTEXTS; i++) {
		ctxs[i].reply_len = reply_len;
		nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i]);
		nng_ctx_open(&ctxs[i].ctx, s);
	}
	if (nng_listen(s, addr, NULL, 0) != 0) {
		_exit(1);
	}
	for (int i = 0; i < ECHO_CONTEXTS; i++) {
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	pause();
	_exit(0);
}

/* ---- clients ----------------------------------------------------------- */

struct target {
	int raw;               /* 1: raw echo, 0: sbxd */
	const char *addr;
	sbx_client *client;    /* shared, thread-safe */
	nng_socket raw_sock;
	size_t req_len;
};

static int call_raw(struct target *t, nng_aio *aio, nng_ctx ctx)
{
	nng_msg *m;
	nng_msg_alloc(&m, t->req_len);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0) {
		nng_msg_free(m);
		return -1;
	}
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if (nng_aio_result(aio) != 0) {
		return -1;
	}
	nng_msg_free(nng_aio_get_msg(aio));
	return 0;
}

static int call_ours(struct target *t)
{
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *s = NULL;
	if (sbx_settings_get(t->client, &req, &s, NULL) != SBX_OK) {
		return -1;
	}
	sbx_free(s);
	return 0;
}

struct worker {
	struct target *t;
	double until;
	long calls;
	double *lat;   /* latency samples, for the single-client run */
	long n_lat;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	nng_ctx ctx;
	nng_aio *aio = NULL;
	if (w->t->raw) {
		nng_ctx_open(&ctx, w->t->raw_sock);
		nng_aio_alloc(&aio, NULL, NULL);
		nng_aio_set_timeout(aio, 5000);
	}
	for (;;) {
		double t0 = bench_now_us();
		if (w->lat == NULL && t0 >= w->until) {
			break;
		}
		if (w->lat != NULL && w->calls >= w->n_lat) {
			break;
		}
		int rc = w->t->raw ? call_raw(w->t, aio, ctx) : call_ours(w->t);
		if (rc != 0) {
			fprintf(stderr, "bench: call failed\n");
			exit(1);
		}
		if (w->lat != NULL) {
			w->lat[w->calls] = bench_now_us() - t0;
		}
		w->calls++;
	}
	if (aio != NULL) {
		nng_aio_free(aio);
		nng_ctx_close(ctx);
	}
	return NULL;
}

/* `n` sequential calls' latencies into lat. */
static void latencies(struct target *t, double *lat, long n)
{
	struct worker w = {.t = t, .lat = lat, .n_lat = n};
	worker_main(&w);
}

static double throughput(struct target *t, int clients)
{
	pthread_t th[64];
	struct worker w[64];
	double until = bench_now_us() + TPUT_SECONDS * 1e6;
	double t0 = bench_now_us();
	for (int i = 0; i < clients; i++) {
		w[i] = (struct worker){.t = t, .until = until};
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	long total = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		total += w[i].calls;
	}
	return (double)total / ((bench_now_us() - t0) / 1e6);
}

/* Static: cleaned up at exit even when a step exit()s. */
static struct daemon d;

int main(int argc, char **argv)
{
	/* nng is not fork-safe: the echo server runs as this binary re-executed. */
	if (argc == 4 && strcmp(argv[1], "echo-server") == 0) {
		run_echo_server(argv[2], (size_t)atol(argv[3]));
	}
	if (harness_start(&d) != 0) {
		fprintf(stderr, "bench: sbxd did not start\n");
		return 1;
	}
	harness_cleanup_at_exit(&d);
	struct target ours = {.raw = 0, .addr = d.addr};
	sbx_options o = {.address = d.addr, .token = d.admin_token};
	if (sbx_connect(&ours.client, &o, NULL) != SBX_OK) {
		return 1;
	}
	/* Payload sizes: our request frame and the packed settings reply. */
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *s = NULL;
	sbx_settings_get(ours.client, &req, &s, NULL);
	size_t reply_len = protobuf_c_message_get_packed_size(&s->base) + 8;
	sbx_free(s);
	size_t req_len = 60 + strlen(d.admin_token) + 32;

	char raw_addr[320];
	snprintf(raw_addr, sizeof(raw_addr), "ipc://%s/echo.sock", d.dir);
	pid_t echo = fork();
	if (echo == 0) {
		char len[32];
		snprintf(len, sizeof(len), "%zu", reply_len);
		execl("/proc/self/exe", argv[0], "echo-server", raw_addr, len, (char *)NULL);
		_exit(127);
	}
	struct target raw = {.raw = 1, .addr = raw_addr, .req_len = req_len};
	nng_req0_open(&raw.raw_sock);
	nng_socket_set_ms(raw.raw_sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	for (int i = 0; i < 200 && nng_dial(raw.raw_sock, raw_addr, NULL, 0) != 0; i++) {
		usleep(10000);
	}

	printf("bench: payload request=%zu B reply=%zu B over ipc://, 2 cores\n", req_len, reply_len);
	/* Warm up both paths. */
	throughput(&ours, 8);
	throughput(&raw, 8);

	static double lat_ours[LATENCY_CALLS], lat_raw[LATENCY_CALLS];
	const long per_round = LATENCY_CALLS / ROUNDS;
	for (int r = 0; r < ROUNDS; r++) {
		latencies(&ours, lat_ours + r * per_round, per_round);
		latencies(&raw, lat_raw + r * per_round, per_round);
	}
	bench_report("rpc_p50", bench_percentile(lat_ours, (int)(per_round * ROUNDS), 0.5),
		     bench_percentile(lat_raw, (int)(per_round * ROUNDS), 0.5), "us");
	static const int clients[] = {1, 8, 64};
	for (size_t i = 0; i < 3; i++) {
		double a[ROUNDS], b[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			a[r] = throughput(&ours, clients[i]);
			b[r] = throughput(&raw, clients[i]);
		}
		char name[32];
		snprintf(name, sizeof(name), "rpc_tput_%d", clients[i]);
		bench_report(name, bench_percentile(a, ROUNDS, 0.5), bench_percentile(b, ROUNDS, 0.5), "req/s");
	}
	nng_close(raw.raw_sock);
	kill(echo, SIGKILL);
	waitpid(echo, NULL, 0);
	sbx_disconnect(ours.client);
	harness_cleanup(&d);
	return 0;
}

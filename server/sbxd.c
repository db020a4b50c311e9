/* sbxd: the sbx daemon. Needs no flags: data, database and sockets go to
 * the per-user (or, as root, system) defaults in common/paths.h. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "clock.h"
#include "daemon.h"
#include "db.h"
#include "events.h"
#include "janitor.h"
#include "paths.h"
#include "provider.h"
#include "rpc.h"
#include "transfers.h"
#include "secrets.h"
#include "runs.h"
#include "services.h"
#include "wire.h"

#define MAX_LISTEN 16

struct config {
	const char *listen[MAX_LISTEN + 1];
	size_t n_listen;
	const char *events;
	const char *db;
	const char *data_dir;
	const char *tls_cert;
	const char *tls_key;
	size_t max_message;
	int workers;
	int contexts;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sbxd [options]\n"
		"  --listen ADDR      serve RPC on ADDR (repeatable): ipc://PATH, tcp://HOST:PORT,\n"
		"                     tls+tcp://HOST:PORT  [$SBX_LISTEN; default ipc://<runtime>/sbxd.sock]\n"
		"  --events ADDR      publish events and logs on ADDR [$SBX_EVENTS]\n"
		"  --db PATH          SQLite database [$SBX_DB; default <data-dir>/sbx.db]\n"
		"  --data-dir DIR     data directory [$SBX_DATA_DIR]\n"
		"  --tls-cert FILE    PEM certificate for tls+tcp:// listeners\n"
		"  --tls-key FILE     PEM private key for tls+tcp:// listeners\n"
		"  --max-message N    largest request in bytes (default %u)\n"
		"  --workers N        worker threads for slow calls (default 16;\n"
		"                     quick calls get one per CPU)\n"
		"  --contexts N       requests in flight (default 128)\n"
		"  --version, --help\n",
		SBX_DEFAULT_MAX_MESSAGE);
}

static long parse_num(const char *flag, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "sbxd: %s: expected a number from %ld to %ld, got \"%s\"\n", flag, lo,
			hi, v);
		exit(2);
	}
	return n;
}

static void parse_args(int argc, char **argv, struct config *c)
{
	enum { O_LISTEN = 1, O_EVENTS, O_DB, O_DATA, O_CERT, O_KEY, O_MAX, O_WORKERS, O_CTX, O_VER };
	static const struct option opts[] = {
		{"listen", required_argument, NULL, O_LISTEN},
		{"events", required_argument, NULL, O_EVENTS},
		{"db", required_argument, NULL, O_DB},
		{"data-dir", required_argument, NULL, O_DATA},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"max-message", required_argument, NULL, O_MAX},
		{"workers", required_argument, NULL, O_WORKERS},
		{"contexts", required_argument, NULL, O_CTX},
		{"version", no_argument, NULL, O_VER},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN:
			if (c->n_listen == MAX_LISTEN) {
				fprintf(stderr, "sbxd: at most %d --listen addresses\n", MAX_LISTEN);
				exit(2);
			}
			c->listen[c->n_listen++] = optarg;
			break;
		case O_EVENTS: c->events = optarg; break;
		case O_DB: c->db = optarg; break;
		case O_DATA: c->data_dir = optarg; break;
		case O_CERT: c->tls_cert = optarg; break;
		case O_KEY: c->tls_key = optarg; break;
		case O_MAX: c->max_message = (size_t)parse_num("--max-message", optarg, 4096, 1L << 30); break;
		case O_WORKERS: c->workers = (int)parse_num("--workers", optarg, 1, 256); break;
		case O_CTX: c->contexts = (int)parse_num("--contexts", optarg, 1, 65536); break;
		case O_VER: printf("sbxd %s\n", SBX_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sbxd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/* Fills what flags left out from the environment and the defaults. */
static void apply_defaults(struct config *c, char *data, char *db, char *listen, char *events)
{
	if (c->data_dir == NULL) {
		if (paths_data_dir(data, 1024) != 0) {
			fprintf(stderr, "sbxd: data directory path too long\n");
			exit(2);
		}
		c->data_dir = data;
	}
	if (c->db == NULL) {
		const char *env = getenv("SBX_DB");
		if (env && env[0]) {
			c->db = env;
		} else {
			snprintf(db, 1024, "%s/sbx.db", c->data_dir);
			c->db = db;
		}
	}
	if (c->n_listen == 0) {
		const char *env = getenv("SBX_LISTEN");
		if (env && env[0]) {
			c->listen[c->n_listen++] = env;
		} else {
			paths_default_listen(listen, 1024);
			c->listen[c->n_listen++] = listen;
		}
	}
	if (c->events == NULL) {
		const char *env = getenv("SBX_EVENTS");
		if (env && env[0]) {
			c->events = env;
		} else {
			paths_default_events(events, 1024);
			c->events = events;
		}
	}
}

/* Creates the directories of ipc:// socket paths. */
static int ensure_ipc_dir(const char *addr)
{
	if (strncmp(addr, "ipc://", 6) != 0) {
		return 0;
	}
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", addr + 6);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return 0;
	}
	*slash = '\0';
	return paths_mkdirs(dir, 0700);
}

static int fail(const char *what, const err_t *e)
{
	fprintf(stderr, "sbxd: %s: %s: %s\n", what, sbx_status_name(e->code), e->message);
	return 1;
}

int main(int argc, char **argv)
{
	/* Megabyte buffers (messages, output chunks, copy parts) come and go
	 * on every call. From mmap each one would be fresh pages, faulted in
	 * one by one on every use, which costs more than the copy itself on a
	 * VM; kept in malloc's heaps they are reused warm. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	struct config c = {0};
	char data[1024], db[1024], listen[1024], events[1024], path[1100];
	err_t e;
	err_clear(&e);
	parse_args(argc, argv, &c);
	/* The database holds token hashes and sealed credentials, the data dir
	 * the key: nothing we create is for other users. */
	umask(077);
	apply_defaults(&c, data, db, listen, events);

	/* Signals are taken synchronously by the main thread (sigwait); every
	 * thread started from here on inherits the blocked mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (paths_mkdirs(c.data_dir, 0700) != 0) {
		fprintf(stderr, "sbxd: create %s: %s\n", c.data_dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < c.n_listen; i++) {
		if (ensure_ipc_dir(c.listen[i]) != 0) {
			fprintf(stderr, "sbxd: create directory for %s: %s\n", c.listen[i], strerror(errno));
			return 1;
		}
	}
	ensure_ipc_dir(c.events);

	snprintf(path, sizeof(path), "%s/secret.key", c.data_dir);
	if (secrets_init(path, &e) != SBX_OK) {
		return fail("credential key", &e);
	}
	if (db_init(c.db, &e) != SBX_OK) {
		return fail("database", &e);
	}
	err_t pe;
	err_clear(&pe);
	providers_init(c.data_dir, &pe);
	if (executions_recover(&e) != SBX_OK) {
		return fail("execution recovery", &e);
	}
	if (sandboxes_recover(&e) != SBX_OK) {
		return fail("sandbox recovery", &e);
	}
	paths_admin_token(c.data_dir, path, sizeof(path));
	if (auth_init(db_get(&e), path, &e) != SBX_OK) {
		return fail("admin token", &e);
	}

	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(daemon_info.boot_id, sizeof(daemon_info.boot_id), rnd, sizeof(rnd));
	daemon_info.event_address = c.events;
	daemon_info.listen = c.listen;
	daemon_info.n_listen = c.n_listen;
	daemon_info.started_at_ms = clock_wall_ms();
	daemon_info.max_message = c.max_message ? c.max_message : SBX_DEFAULT_MAX_MESSAGE;
	daemon_info.data_dir = c.data_dir;
	daemon_info.serving = 1;

	if (events_start(c.events, daemon_info.boot_id, &e) != SBX_OK) {
		return fail("events", &e);
	}
	rpc_options ro = {
		.listen = c.listen,
		.n_listen = c.n_listen,
		.tls_cert = c.tls_cert,
		.tls_key = c.tls_key,
		.max_message = daemon_info.max_message,
		.contexts = c.contexts,
		.workers = c.workers,
	};
	rpc_server *srv = NULL;
	if (rpc_server_start(&srv, &ro, &e) != SBX_OK) {
		events_stop();
		return fail("rpc", &e);
	}
	if (janitor_start(&e) != SBX_OK) {
		rpc_server_stop(srv);
		events_stop();
		return fail("janitor", &e);
	}
	for (size_t i = 0; i < c.n_listen; i++) {
		fprintf(stderr, "sbxd %s: serving on %s\n", SBX_VERSION, c.listen[i]);
	}
	fprintf(stderr, "sbxd: events on %s; database %s; admin token in %s\n", c.events, c.db, path);

	int sig = 0;
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
		/* Settings live in the database and apply at once: nothing to reload. */
	}
	fprintf(stderr, "sbxd: signal %d: finishing in-flight calls\n", sig);
	daemon_info.serving = 0;
	janitor_stop();
	rpc_server_stop(srv);
	transfers_expire(0); /* copies still travelling end here */
	events_stop();
	auth_shutdown();
	db_thread_close();
	for (size_t i = 0; i < c.n_listen; i++) {
		if (strncmp(c.listen[i], "ipc://", 6) == 0) {
			unlink(c.listen[i] + 6);
		}
	}
	fprintf(stderr, "sbxd: stopped\n");
	return 0;
}

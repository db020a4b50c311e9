#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

const char *harness_build_dir(void)
{
	const char *b = getenv("SBX_BUILD_DIR");
	return b && b[0] ? b : "build";
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int read_token(struct daemon *d)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/data/admin.token", d->dir);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	int ok = fgets(d->admin_token, sizeof(d->admin_token), f) != NULL;
	fclose(f);
	d->admin_token[strcspn(d->admin_token, "\n")] = '\0';
	return ok ? 0 : -1;
}

static int spawn(struct daemon *d)
{
	char bin[256], data[320], log[320];
	snprintf(bin, sizeof(bin), "%s/sbxd", harness_build_dir());
	snprintf(data, sizeof(data), "%s/data", d->dir);
	snprintf(log, sizeof(log), "%s/sbxd.log", d->dir);
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(bin, bin, "--data-dir", data, "--listen", d->addr, "--events", d->events,
		      (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	/* Serving means: the admin token exists and a health check answers. */
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			d->pid = 0;
			return -1;
		}
		if (read_token(d) == 0) {
			sbx_options o = {.address = d->addr, .token = d->admin_token, .timeout_ms = 2000, .max_retries = -1};
			sbx_client *c = NULL;
			if (sbx_connect(&c, &o, NULL) == SBX_OK) {
				Sbx__V1__HealthCheckRequest req = SBX__V1__HEALTH_CHECK_REQUEST__INIT;
				Sbx__V1__HealthCheckResponse *r = NULL;
				sbx_status s = sbx_health_check(c, &req, &r, NULL);
				sbx_free(r);
				sbx_disconnect(c);
				if (s == SBX_OK) {
					return 0;
				}
			}
		}
		sleep_ms(10);
	}
	return -1;
}

int harness_start(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/sbxtest.XXXXXX");
	if (mkdtemp(d->dir) == NULL) {
		return -1;
	}
	snprintf(d->addr, sizeof(d->addr), "ipc://%s/rpc.sock", d->dir);
	snprintf(d->events, sizeof(d->events), "ipc://%s/events.sock", d->dir);
	return spawn(d);
}

int harness_restart(struct daemon *d)
{
	return spawn(d);
}

int harness_stop(struct daemon *d, int sig)
{
	int st = 0;
	if (d->pid > 0) {
		kill(d->pid, sig);
		waitpid(d->pid, &st, 0);
		d->pid = 0;
	}
	return st;
}

/* Sandboxes outlive their daemon by design (it reattaches on restart);
 * a test's must not outlive the test. Destroyed through the daemon while
 * it runs, as a user would. */
static void destroy_all_sandboxes(struct daemon *d)
{
	if (d->pid <= 0 || kill(d->pid, 0) != 0) {
		return;
	}
	sbx_client *c = harness_client(d, NULL);
	if (c == NULL) {
		return;
	}
	Sbx__V1__PageRequest page = SBX__V1__PAGE_REQUEST__INIT;
	page.page_size = 1000;
	Sbx__V1__ListSandboxesRequest r = SBX__V1__LIST_SANDBOXES_REQUEST__INIT;
	r.page = &page;
	r.all_owners = 1;
	Sbx__V1__ListSandboxesResponse *l = NULL;
	if (sbx_sandboxes_list(c, &r, &l, NULL) == SBX_OK) {
		for (size_t i = 0; i < l->n_sandboxes; i++) {
			if (l->sandboxes[i]->status == SBX__V1__SANDBOX_STATUS__TERMINATED) {
				continue;
			}
			Sbx__V1__DestroySandboxRequest dr = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
			dr.id = l->sandboxes[i]->id;
			dr.force = 1;
			Sbx__V1__Sandbox *x = NULL;
			if (sbx_sandboxes_destroy(c, &dr, &x, NULL) == SBX_OK) {
				sbx_free(x);
			}
		}
		sbx_free(l);
	}
	sbx_disconnect(c);
}

void harness_cleanup(struct daemon *d)
{
	destroy_all_sandboxes(d);
	harness_stop(d, SIGTERM);
	if (d->dir[0] != '\0' && getenv("SBX_KEEP_TEST_DIRS") == NULL) {
		char cmd[320];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", d->dir);
		}
	}
	d->dir[0] = '\0'; /* a second call does nothing */
}

static struct daemon *exit_daemon;

static void cleanup_at_exit(void)
{
	if (exit_daemon != NULL) {
		harness_cleanup(exit_daemon);
	}
}

void harness_cleanup_at_exit(struct daemon *d)
{
	exit_daemon = d;
	atexit(cleanup_at_exit);
}

sbx_client *harness_client(struct daemon *d, const char *token)
{
	sbx_options o = {.address = d->addr, .token = token ? token : d->admin_token,
			 .timeout_ms = 10000};
	sbx_client *c = NULL;
	return sbx_connect(&c, &o, NULL) == SBX_OK ? c : NULL;
}

static char *slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int harness_cli(struct daemon *d, const char *token, char **out, char **err, ...)
{
	char *argv[64];
	char bin[256];
	snprintf(bin, sizeof(bin), "%s/sbx", harness_build_dir());
	argv[0] = bin;
	int n = 1;
	va_list ap;
	va_start(ap, err);
	const char *a;
	while (n < 63 && (a = va_arg(ap, const char *)) != NULL) {
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	char outp[320], errp[320];
	snprintf(outp, sizeof(outp), "%s/cli.out", d->dir);
	snprintf(errp, sizeof(errp), "%s/cli.err", d->dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fo, 1);
		dup2(fe, 2);
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		setenv("SBX_ADDR", d->addr, 1);
		if (token == NULL) {
			setenv("SBX_TOKEN", d->admin_token, 1);
		} else {
			setenv("SBX_TOKEN", token, 1);
		}
		/* No fallback to a real admin.token of the user running the tests. */
		setenv("SBX_DATA_DIR", d->dir, 1);
		execv(bin, argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int fo = open(outp, O_RDONLY);
	int fe = open(errp, O_RDONLY);
	char *o = slurp(fo), *e = slurp(fe);
	close(fo);
	close(fe);
	if (out) {
		*out = o;
	} else {
		free(o);
	}
	if (err) {
		*err = e;
	} else {
		free(e);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int harness_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return 0;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)len + 1);
	size_t n = fread(buf, 1, (size_t)len, f);
	fclose(f);
	int found = memmem(buf, n, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

struct capture {
	char *buf[3];
	size_t len[3];
};

static int capture_fn(void *arg, int stream, const void *data, size_t len)
{
	struct capture *c = arg;
	int k = stream == 2 ? 2 : 1;
	c->buf[k] = realloc(c->buf[k], c->len[k] + len + 1);
	memcpy(c->buf[k] + c->len[k], data, len);
	c->len[k] += len;
	c->buf[k][c->len[k]] = '\0';
	return 0;
}

sbx_status harness_sh(sbx_client *c, const char *sandbox, const char *cmd, int timeout_s,
		      char **out, char **err, int *exit_code)
{
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	r.sandbox_id = (char *)sandbox;
	r.shell = (char *)cmd;
	r.timeout_seconds = timeout_s;
	Sbx__V1__StartExecutionResponse *resp = NULL;
	sbx_error e;
	sbx_status s = sbx_executions_start(c, &r, &resp, &e);
	if (s != SBX_OK) {
		fprintf(stderr, "harness_sh: %s: %s\n", sbx_status_name(s), e.message);
		return s;
	}
	struct capture cap = {{NULL, strdup(""), strdup("")}, {0, 0, 0}};
	Sbx__V1__Execution *x = NULL;
	s = sbx_follow_output(c, resp->execution_id, 0, capture_fn, &cap, NULL, &x, &e);
	sbx_free(resp);
	if (s == SBX_OK) {
		*exit_code = x->exit_code;
		sbx_free(x);
	}
	if (out) {
		*out = cap.buf[1];
	} else {
		free(cap.buf[1]);
	}
	if (err) {
		*err = cap.buf[2];
	} else {
		free(cap.buf[2]);
	}
	return s;
}

const char *harness_sandbox(sbx_client *c, const char *name, int64_t memory_mb, int pids_max,
			    const char *network)
{
	static __thread char id[64];
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.memory_mb = memory_mb;
	res.pids_max = pids_max;
	r.name = (char *)name;
	r.resources = &res;
	r.network_mode = (char *)(network ? network : "");
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	if (sbx_sandboxes_create(c, &r, &sb, &e) != SBX_OK) {
		fprintf(stderr, "harness_sandbox: %s: %s\n", sbx_status_name(e.code), e.message);
		return NULL;
	}
	snprintf(id, sizeof(id), "%s", sb->id);
	sbx_free(sb);
	return id;
}

int harness_dockerd_start(struct dockerd *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->dir, sizeof(k->dir), "/tmp/sbxdk.XXXXXX");
	if (mkdtemp(k->dir) == NULL) {
		return -1;
	}
	snprintf(k->sock, sizeof(k->sock), "%s/docker.sock", k->dir);
	char data[300], exec_root[300], log[300], host[340], pidfile[300];
	snprintf(data, sizeof(data), "%s/data", k->dir);
	snprintf(exec_root, sizeof(exec_root), "%s/exec", k->dir);
	snprintf(log, sizeof(log), "%s/dockerd.log", k->dir);
	snprintf(host, sizeof(host), "unix://%s", k->sock);
	snprintf(pidfile, sizeof(pidfile), "%s/docker.pid", k->dir);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/dockerd", "dockerd", "--data-root", data, "--exec-root", exec_root, "-H", host,
		      "--pidfile", pidfile, "--storage-driver", "overlay2", "--iptables=false", "--bridge=none",
		      "--ip-forward=false", (char *)NULL);
		_exit(127);
	}
	k->pid = pid;
	for (int i = 0; i < 300; i++) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "curl -sf --unix-socket %s http://d/_ping >/dev/null 2>&1", k->sock);
		if (system(cmd) == 0) {
			break;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			k->pid = 0;
			return -1;
		}
		sleep_ms(100);
	}
	/* A busybox image, made here: no registry is reachable. */
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "set -e; r=%s/rootfs; mkdir -p $r/bin $r/tmp; cp /bin/busybox $r/bin/;"
		 "for a in sh ls cat echo sleep id true ps kill touch wc head seq; do ln -sf busybox $r/bin/$a; done;"
		 "tar -C $r -c . | /usr/bin/docker -H unix://%s import - sbx-busybox >/dev/null",
		 k->dir, k->sock);
	return system(cmd) == 0 ? 0 : -1;
}

void harness_dockerd_stop(struct dockerd *k)
{
	if (k->pid > 0) {
		char cmd[1024];
		/* Containers first, so the engine leaves no mounts behind. */
		snprintf(cmd, sizeof(cmd),
			 "ids=$(/usr/bin/docker -H unix://%s ps -aq); [ -z \"$ids\" ] || /usr/bin/docker -H unix://%s rm -f $ids >/dev/null 2>&1",
			 k->sock, k->sock);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove test containers\n");
		}
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
	if (k->dir[0] != '\0' && getenv("SBX_KEEP_TEST_DIRS") == NULL) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "umount -R %s/data 2>/dev/null; umount -R %s/exec 2>/dev/null; rm -rf '%s'",
			 k->dir, k->dir, k->dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "could not remove %s\n", k->dir);
		}
	}
}

int harness_docker(struct dockerd *k, char **out, ...)
{
	char cmd[4096];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd), "/usr/bin/docker -H unix://%s", k->sock);
	va_list ap;
	va_start(ap, out);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < sizeof(cmd) - 8) {
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " '%s'", a);
	}
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (p == NULL) {
		return -1;
	}
	char *buf = slurp(fileno(p));
	int st = pclose(p);
	if (out) {
		*out = buf;
	} else {
		free(buf);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

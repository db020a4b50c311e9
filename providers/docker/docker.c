/* The Docker provider: sandboxes are containers driven through the Engine
 * API over its unix socket (API version pinned below), with libcurl. The
 * contract (paths, bodies, the multiplexed exec stream) is documented in
 * ../shared/reference/providers.md; docs/docker-provider.md says why the
 * pieces are as they are.
 *
 * Containers carry the labels sbx.managed=true and sbx.sandbox=<id>, run a
 * trivial long-lived process, and get /workspace from a host directory
 * under <data>/sandboxes/<id>/workspace so it is writable by the sandbox
 * user and survives stop/start. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "db.h"
#include "fdio.h"
#include "docker.h"
#include "clock.h"
#include "provider.h"

#define API "/v1.41"
#define API_MIN_VERSION 1.41
#define SANDBOX_UID 1000
#define RESP_CAP (8u << 20)
#define DEFAULT_SOCKET "/var/run/docker.sock"

static char data_dir[1024];

/* ---- where the engine is ---------------------------------------------- */

/* The provider's settings (api_endpoint) win, then DOCKER_HOST, then the
 * default socket. Read each call: a settings change applies at once. */
static void socket_path(char *out, size_t cap)
{
	char ep[1024] = "";
	err_t e;
	sqlite3 *db = db_acquire(&e);
	if (db != NULL) {
		sqlite3_stmt *st;
		if (db_prepare(db, "SELECT coalesce(api_endpoint,'') FROM sandbox_provider_settings"
				   " WHERE provider = 'docker'", &st, &e) == SBX_OK) {
			if (sqlite3_step(st) == SQLITE_ROW) {
				snprintf(ep, sizeof(ep), "%s", db_text(st, 0));
			}
			sqlite3_finalize(st);
		}
		db_release(db);
	}
	if (ep[0] == '\0') {
		const char *env = getenv("DOCKER_HOST");
		snprintf(ep, sizeof(ep), "%s", env && env[0] ? env : DEFAULT_SOCKET);
	}
	const char *p = strncmp(ep, "unix://", 7) == 0 ? ep + 7 : ep;
	snprintf(out, cap, "%s", p);
}

/* ---- HTTP over the socket ------------------------------------------------ */

struct buf {
	char *data;
	size_t len;
	int overflow;
};

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	if (b->len + add > RESP_CAP) {
		b->overflow = 1;
		return 0;
	}
	char *grown = realloc(b->data, b->len + add + 1);
	if (grown == NULL) {
		return 0;
	}
	memcpy(grown + b->len, ptr, add);
	b->len += add;
	grown[b->len] = '\0';
	b->data = grown;
	return add;
}

static __thread CURL *thread_curl;

/* One API call. *body_out (malloc'd, may be NULL) holds the response body.
 * Transport failures are UNAVAILABLE naming the socket. */
static sbx_status call(const char *method, const char *path, const char *json, long timeout_ms,
		       long *status, char **body_out, err_t *e)
{
	char sock[1024], url[2048];
	socket_path(sock, sizeof(sock));
	snprintf(url, sizeof(url), "http://docker" API "%s", path);
	if (thread_curl == NULL) {
		thread_curl = curl_easy_init();
	}
	CURL *c = thread_curl;
	if (c == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot make an HTTP client");
	}
	curl_easy_reset(c);
	struct buf b = {NULL, 0, 0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (json != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && b.overflow)) {
		free(b.data);
		return err_set(e, rc == CURLE_OPERATION_TIMEDOUT ? SBX_DEADLINE_EXCEEDED : SBX_UNAVAILABLE,
			       "Docker Engine at %s: %s", sock, curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (body_out != NULL) {
		*body_out = b.data;
	} else {
		free(b.data);
	}
	return SBX_OK;
}

/* The engine's error message, as a status: 404 NOT_FOUND, 409
 * FAILED_PRECONDITION, 400 INVALID_ARGUMENT, others INTERNAL. */
static sbx_status api_error(long status, const char *body, const char *what, err_t *e)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
	sbx_status code = status == 404 ? SBX_NOT_FOUND
			  : status == 409 ? SBX_FAILED_PRECONDITION
			  : status == 400 ? SBX_INVALID_ARGUMENT
					  : SBX_INTERNAL;
	err_set(e, code, "Docker %s: %s (HTTP %ld)", what, msg ? msg : "no message", status);
	json_decref(j);
	return code;
}

/* A call whose success is `ok1` or `ok2` (e.g. 204, or 304 "already"). */
static sbx_status simple(const char *method, const char *path, long ok1, long ok2, const char *what,
			 err_t *e)
{
	long st = 0;
	char *body = NULL;
	sbx_status s = call(method, path, NULL, 60000, &st, &body, e);
	if (s == SBX_OK && st != ok1 && st != ok2) {
		s = api_error(st, body, what, e);
	}
	free(body);
	return s;
}

/* ---- image pull progress ------------------------------------------------- */

void docker_pull_progress_init(docker_pull_progress *p)
{
	memset(p, 0, sizeof(*p));
}

/* One line of POST /images/create output: {"status","id","progressDetail":
 * {"current","total"}} or {"error"/"errorDetail":{"message"}}. Totals are
 * summed per layer id. */
void docker_pull_progress_line(docker_pull_progress *p, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	const char *err = json_string_value(json_object_get(j, "error"));
	json_t *detail = json_object_get(j, "errorDetail");
	if (err == NULL && json_is_object(detail)) {
		err = json_string_value(json_object_get(detail, "message"));
	}
	if (err != NULL && p->error[0] == '\0') {
		snprintf(p->error, sizeof(p->error), "%s", err);
	}
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *status = json_string_value(json_object_get(j, "status"));
	json_t *pd = json_object_get(j, "progressDetail");
	if (id != NULL && json_is_object(pd) && json_is_integer(json_object_get(pd, "total"))) {
		int k = 0;
		while (k < p->n_layers && strcmp(p->layers[k].id, id) != 0) {
			k++;
		}
		if (k == p->n_layers && k < DOCKER_PULL_MAX_LAYERS) {
			snprintf(p->layers[k].id, sizeof(p->layers[k].id), "%s", id);
			p->n_layers++;
		}
		if (k < p->n_layers) {
			p->layers[k].current = json_integer_value(json_object_get(pd, "current"));
			p->layers[k].total = json_integer_value(json_object_get(pd, "total"));
		}
	}
	if (status != NULL && id != NULL && (strcmp(status, "Pull complete") == 0 || strcmp(status, "Already exists") == 0)) {
		for (int k = 0; k < p->n_layers; k++) {
			if (strcmp(p->layers[k].id, id) == 0) {
				p->layers[k].current = p->layers[k].total;
			}
		}
	}
	p->current = p->total = 0;
	for (int k = 0; k < p->n_layers; k++) {
		p->current += p->layers[k].current;
		p->total += p->layers[k].total;
	}
	json_decref(j);
}

struct pull_stream {
	docker_pull_progress p;
	char line[8192];
	size_t len;
	const sandbox_spec *spec;
	int64_t last_ms;
	struct buf raw; /* the body, when the engine answers with one JSON error */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Progress lines as they arrive, reported at most every 100 ms. */
static size_t pull_chunk(char *ptr, size_t size, size_t n, void *arg)
{
	struct pull_stream *ps = arg;
	size_t total = size * n;
	if (ps->raw.len < 65536) {
		collect(ptr, 1, total < 65536 - ps->raw.len ? total : 65536 - ps->raw.len, &ps->raw);
	}
	for (size_t i = 0; i < total; i++) {
		if (ptr[i] == '\n' || ps->len == sizeof(ps->line) - 1) {
			docker_pull_progress_line(&ps->p, ps->line, ps->len);
			ps->len = 0;
			continue;
		}
		ps->line[ps->len++] = ptr[i];
	}
	const sandbox_spec *s = ps->spec;
	if (s != NULL && s->on_progress != NULL && now_ms() - ps->last_ms >= 100) {
		ps->last_ms = now_ms();
		s->on_progress(s->progress_arg, s->image, ps->p.current, ps->p.total);
	}
	return total;
}

static sbx_status pull(const sandbox_spec *spec, err_t *e)
{
	const char *image = spec->image;
	char sock[1024], url[1400];
	socket_path(sock, sizeof(sock));
	char *esc = curl_easy_escape(NULL, image, 0);
	snprintf(url, sizeof(url), "http://docker" API "/images/create?fromImage=%s", esc ? esc : "");
	curl_free(esc);
	struct pull_stream *ps = calloc(1, sizeof(*ps));
	CURL *c = curl_easy_init();
	if (ps == NULL || c == NULL) {
		free(ps);
		curl_easy_cleanup(c);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	docker_pull_progress_init(&ps->p);
	ps->spec = spec;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pull_chunk);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ps);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1800000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(c);
	long st = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	if (ps->len > 0) {
		docker_pull_progress_line(&ps->p, ps->line, ps->len);
	}
	sbx_status s = SBX_OK;
	if (rc != CURLE_OK) {
		s = err_set(e, SBX_UNAVAILABLE, "Docker Engine at %s: %s", sock, curl_easy_strerror(rc));
	} else {
		if (st != 200 && ps->p.error[0] == '\0') {
			/* Refused outright: the answer is one JSON message, not progress. */
			json_t *j = ps->raw.data ? json_loads(ps->raw.data, 0, NULL) : NULL;
			const char *m = json_string_value(json_object_get(j, "message"));
			snprintf(ps->p.error, sizeof(ps->p.error), "%s (HTTP %ld)", m ? m : "no message", st);
			json_decref(j);
		}
		if (ps->p.error[0] != '\0') {
			s = err_field(e, SBX_NOT_FOUND, "image", "%s is not on this engine and pulling it failed: %s",
				      image, ps->p.error);
		} else if (spec->on_progress != NULL) {
			spec->on_progress(spec->progress_arg, image, ps->p.total, ps->p.total);
		}
	}
	free(ps->raw.data);
	free(ps);
	return s;
}

/* ---- lifecycle ------------------------------------------------------------- */

static sbx_status docker_init(const char *dir, err_t *e)
{
	(void)e;
	snprintf(data_dir, sizeof(data_dir), "%s", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return SBX_OK;
}

static sbx_status docker_validate(err_t *e)
{
	long st = 0;
	char *body = NULL;
	sbx_status s = call("GET", "/version", NULL, 5000, &st, &body, e);
	if (s != SBX_OK) {
		return s;
	}
	json_t *j = st == 200 ? json_loads(body, 0, NULL) : NULL;
	const char *ver = j ? json_string_value(json_object_get(j, "Version")) : NULL;
	const char *api = j ? json_string_value(json_object_get(j, "ApiVersion")) : NULL;
	if (ver == NULL || api == NULL) {
		s = err_set(e, SBX_UNAVAILABLE, "the Docker Engine did not answer /version");
	} else if (atof(api) < API_MIN_VERSION) {
		s = err_set(e, SBX_FAILED_PRECONDITION, "Docker Engine %s speaks API %s; sbx needs %.2f or newer",
			    ver, api, API_MIN_VERSION);
	} else {
		s = err_set(e, SBX_OK, "Docker Engine %s (API %s)", ver, api);
	}
	json_decref(j);
	free(body);
	return s;
}

static void workspace_dir(const char *id, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/sandboxes/%s/workspace", data_dir, id);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static char *create_body(const sandbox_spec *s, const char *workspace)
{
	json_t *env = json_array();
	for (size_t i = 0; i < s->n_env; i++) {
		json_array_append_new(env, json_string(s->env[i]));
	}
	json_t *binds = json_array();
	char bind[2200];
	snprintf(bind, sizeof(bind), "%s:/workspace", workspace);
	json_array_append_new(binds, json_string(bind));
	for (size_t i = 0; i < s->n_volumes; i++) {
		snprintf(bind, sizeof(bind), "%s:%s%s", s->volumes[i].host_path, s->volumes[i].container_path,
			 s->volumes[i].read_only ? ":ro" : "");
		json_array_append_new(binds, json_string(bind));
	}
	json_t *host = json_pack("{s:I, s:I, s:I, s:s, s:o, s:[s], s:[s], s:b}",
				 "Memory", (json_int_t)(s->memory_mb * 1024 * 1024),
				 "NanoCpus", (json_int_t)(s->cpu_cores * 1e9),
				 "PidsLimit", (json_int_t)(s->pids_max > 0 ? s->pids_max : 4096),
				 "NetworkMode", strcmp(s->network, "host") == 0 ? "host" : "none",
				 "Binds", binds,
				 "CapDrop", "ALL",
				 "SecurityOpt", "no-new-privileges",
				 "Privileged", 0);
	if (s->disk_gb > 0) {
		/* Enforced by engines whose storage can (overlay2 on xfs with
		 * pquota, btrfs, zfs); the others refuse the create, and we say so. */
		char size[32];
		snprintf(size, sizeof(size), "%lldG", (long long)s->disk_gb);
		json_object_set_new(host, "StorageOpt", json_pack("{s:s}", "size", size));
	}
	if (s->run_as_root) {
		/* Root inside keeps docker's usual set, minus raw networking. */
		json_object_set_new(host, "CapAdd",
				    json_pack("[s,s,s,s,s,s,s,s,s,s,s]", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID",
					      "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE",
					      "SYS_CHROOT", "SETFCAP"));
	}
	char user[32];
	snprintf(user, sizeof(user), "%d:%d", SANDBOX_UID, SANDBOX_UID);
	json_t *body = json_pack("{s:s, s:[s,s], s:[], s:o, s:s, s:s, s:{s:s, s:s, s:s}, s:o}",
				 "Image", s->image,
				 "Cmd", "sleep", "2147483647",
				 "Entrypoint",
				 "Env", env,
				 "WorkingDir", "/workspace",
				 "User", s->run_as_root ? "" : user,
				 "Labels", "sbx.managed", "true", "sbx.sandbox", s->id, "sbx.name", s->name ? s->name : "",
				 "HostConfig", host);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static sbx_status create_container(const sandbox_spec *s, const char *workspace, char *id_out,
				   size_t cap, err_t *e)
{
	char *body = create_body(s, workspace);
	char path[256];
	snprintf(path, sizeof(path), "/containers/create?name=sbx-%s", s->id);
	for (int attempt = 0; attempt < 2; attempt++) {
		long st = 0;
		char *resp = NULL;
		sbx_status r = call("POST", path, body, 60000, &st, &resp, e);
		if (r == SBX_OK && st == 201) {
			json_t *j = json_loads(resp, 0, NULL);
			snprintf(id_out, cap, "%s", j ? json_string_value(json_object_get(j, "Id")) : "");
			json_decref(j);
			free(resp);
			free(body);
			return id_out[0] ? SBX_OK : err_set(e, SBX_INTERNAL, "Docker created no container id");
		}
		if (r == SBX_OK && st == 404 && attempt == 0) {
			/* No such image: try to pull it once. */
			free(resp);
			if ((r = pull(s, e)) != SBX_OK) {
				free(body);
				return r;
			}
			continue;
		}
		if (r == SBX_OK) {
			r = api_error(st, resp, "create", e);
			if (s->disk_gb > 0 && strstr(e->message, "storage-opt") != NULL) {
				r = err_field(e, SBX_FAILED_PRECONDITION, "resources.disk_gb",
					      "this Docker engine cannot limit a container's disk: %.300s", e->message);
			}
		}
		free(resp);
		free(body);
		return r;
	}
	free(body);
	return err_set(e, SBX_INTERNAL, "Docker create failed");
}

static sbx_status start_container(const char *cid, err_t *e)
{
	char path[256];
	snprintf(path, sizeof(path), "/containers/%.128s/start", cid);
	return simple("POST", path, 204, 304, "start", e);
}

static sbx_status docker_create(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	if (strcmp(s->network, "custom") == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, "network_mode", "the Docker provider supports none, isolated and host");
	}
	char ws[1200], dir[1200];
	snprintf(dir, sizeof(dir), "%s/sandboxes/%s", data_dir, s->id);
	workspace_dir(s->id, ws, sizeof(ws));
	mkdir(dir, 0711);
	if ((mkdir(ws, 0755) != 0 && errno != EEXIST) || chmod(ws, 0755) != 0 ||
	    (!s->run_as_root && chown(ws, SANDBOX_UID, SANDBOX_UID) != 0)) {
		return err_set(e, SBX_INTERNAL, "workspace %s: %s", ws, strerror(errno));
	}
	char cid[128];
	sbx_status st = create_container(s, ws, cid, sizeof(cid), e);
	if (st == SBX_OK && (st = start_container(cid, e)) != SBX_OK) {
		char path[256];
		err_t ignored;
		snprintf(path, sizeof(path), "/containers/%s?force=true&v=true", cid);
		simple("DELETE", path, 204, 404, "remove", &ignored);
	}
	if (st != SBX_OK) {
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		return st;
	}
	snprintf(h->ref, sizeof(h->ref), "%s", cid);
	snprintf(h->state, sizeof(h->state), "{\"container\":\"%s\"}", cid);
	return SBX_OK;
}

static sbx_status docker_start(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	(void)s;
	return start_container(h->ref, e);
}

static sbx_status ref_call(const char *fmt, const sandbox_handle *h, long ok1, long ok2,
			   const char *what, err_t *e)
{
	char path[512];
	snprintf(path, sizeof(path), fmt, h->ref);
	return simple("POST", path, ok1, ok2, what, e);
}

static sbx_status docker_stop(const char *id, sandbox_handle *h, err_t *e)
{
	(void)id;
	/* A paused container must be unpaused before it can stop. */
	err_t ignored;
	ref_call("/containers/%s/unpause", h, 204, 409, "unpause", &ignored);
	return ref_call("/containers/%s/stop?t=3", h, 204, 304, "stop", e);
}

static sbx_status docker_pause(const char *id, sandbox_handle *h, err_t *e)
{
	(void)id;
	return ref_call("/containers/%s/pause", h, 204, 204, "pause", e);
}

static sbx_status docker_resume(const char *id, sandbox_handle *h, err_t *e)
{
	(void)id;
	return ref_call("/containers/%s/unpause", h, 204, 204, "unpause", e);
}

static sbx_status docker_destroy(const char *id, sandbox_handle *h, err_t *e)
{
	sbx_status s = SBX_OK;
	if (h->ref[0] != '\0') {
		char path[512];
		snprintf(path, sizeof(path), "/containers/%s?force=true&v=true", h->ref);
		s = simple("DELETE", path, 204, 404, "remove", e);
	}
	if (s == SBX_OK && id[0] != '\0') {
		char dir[1200];
		snprintf(dir, sizeof(dir), "%s/sandboxes/%s", data_dir, id);
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
	return s;
}

static void kill_leftover_execs(json_t *container, const char *cid);

static sbx_status docker_reattach(const char *id, sandbox_handle *h, sandbox_liveness *out, err_t *e)
{
	(void)id;
	char path[512];
	snprintf(path, sizeof(path), "/containers/%s/json", h->ref);
	long st = 0;
	char *body = NULL;
	sbx_status s = call("GET", path, NULL, 10000, &st, &body, e);
	if (s != SBX_OK) {
		return s; /* engine unreachable: not proof that it is gone */
	}
	*out = SANDBOX_GONE;
	json_t *j = st == 200 ? json_loads(body, 0, NULL) : NULL;
	json_t *state = json_object_get(j, "State");
	if (json_is_true(json_object_get(state, "Running"))) {
		*out = json_is_true(json_object_get(state, "Paused")) ? SANDBOX_PAUSED_ALIVE : SANDBOX_ALIVE;
		kill_leftover_execs(j, h->ref);
	}
	json_decref(j);
	free(body);
	return SBX_OK;
}

static sbx_status docker_metrics(const char *id, const sandbox_handle *h, sandbox_metrics *m, err_t *e)
{
	(void)id;
	char path[512];
	/* one-shot: answer now, not after a second sample a second later. */
	snprintf(path, sizeof(path), "/containers/%s/stats?stream=false&one-shot=true", h->ref);
	long st = 0;
	char *body = NULL;
	sbx_status s = call("GET", path, NULL, 10000, &st, &body, e);
	if (s == SBX_OK && st != 200) {
		s = api_error(st, body, "stats", e);
	}
	if (s == SBX_OK) {
		json_t *j = json_loads(body, 0, NULL);
		memset(m, 0, sizeof(*m));
		m->cpu_usage_ns = json_integer_value(json_object_get(json_object_get(json_object_get(j, "cpu_stats"), "cpu_usage"), "total_usage"));
		m->memory_bytes = json_integer_value(json_object_get(json_object_get(j, "memory_stats"), "usage"));
		m->memory_limit = json_integer_value(json_object_get(json_object_get(j, "memory_stats"), "limit"));
		m->pids = json_integer_value(json_object_get(json_object_get(j, "pids_stats"), "current"));
		json_decref(j);
	}
	free(body);
	return s;
}

static sbx_status docker_list_managed(provider_managed **out, size_t *n, err_t *e)
{
	*out = NULL;
	*n = 0;
	char *filters = curl_easy_escape(NULL, "{\"label\":[\"sbx.managed=true\"]}", 0);
	char path[512];
	snprintf(path, sizeof(path), "/containers/json?all=true&filters=%s", filters ? filters : "");
	curl_free(filters);
	long st = 0;
	char *body = NULL;
	sbx_status s = call("GET", path, NULL, 10000, &st, &body, e);
	if (s == SBX_OK && st != 200) {
		s = api_error(st, body, "list", e);
	}
	json_t *j = s == SBX_OK ? json_loads(body, 0, NULL) : NULL;
	size_t cnt = json_array_size(j);
	if (cnt > 0) {
		*out = calloc(cnt, sizeof(provider_managed));
	}
	for (size_t i = 0; *out != NULL && i < cnt; i++) {
		json_t *c = json_array_get(j, i);
		const char *id = json_string_value(json_object_get(c, "Id"));
		const char *sb = json_string_value(json_object_get(json_object_get(c, "Labels"), "sbx.sandbox"));
		snprintf((*out)[*n].ref, sizeof((*out)[*n].ref), "%s", id ? id : "");
		snprintf((*out)[*n].sandbox_id, sizeof((*out)[*n].sandbox_id), "%s", sb ? sb : "");
		(*n)++;
	}
	json_decref(j);
	free(body);
	return s;
}

/* ---- exec ------------------------------------------------------------------ */

void docker_demux_init(docker_demux *d)
{
	memset(d, 0, sizeof(*d));
}

/* Feeds raw stream bytes; calls `fn` for each complete frame payload
 * (possibly in pieces: a frame's payload is passed on as it arrives). */
int docker_demux_feed(docker_demux *d, const uint8_t *p, size_t n, exec_output_fn fn, void *arg)
{
	while (n > 0) {
		if (d->left == 0) {
			size_t take = 8 - d->hlen < n ? 8 - d->hlen : n;
			memcpy(d->hdr + d->hlen, p, take);
			d->hlen += take;
			p += take;
			n -= take;
			if (d->hlen < 8) {
				return 0;
			}
			d->stream = d->hdr[0] == 2 ? 2 : 1;
			d->left = ((size_t)d->hdr[4] << 24) | ((size_t)d->hdr[5] << 16) | ((size_t)d->hdr[6] << 8) | d->hdr[7];
			d->hlen = 0;
			continue;
		}
		size_t take = d->left < n ? d->left : n;
		if (fn != NULL && fn(arg, d->stream, p, take) != 0) {
			return -1;
		}
		d->left -= take;
		p += take;
		n -= take;
	}
	return 0;
}

static int engine_connect(void)
{
	char sock[1024];
	socket_path(sock, sizeof(sock));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Signals a process and every descendant (the exec's process tree lives on
 * this host: Docker reports its pid). */
static void kill_tree(pid_t root, int sig)
{
	/* Never 0 or 1: kill(0) is our own process group, 1 is init. */
	if (root <= 1) {
		return;
	}
	pid_t pids[4096];
	int n = 0;
	pids[n++] = root;
	for (int i = 0; i < n; i++) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d != NULL && (de = readdir(d)) != NULL && n < 4096) {
			if (!isdigit((unsigned char)de->d_name[0])) {
				continue;
			}
			char path[64], buf[512];
			snprintf(path, sizeof(path), "/proc/%.20s/stat", de->d_name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				continue;
			}
			ssize_t len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[len > 0 ? len : 0] = '\0';
			char *rp = strrchr(buf, ')');
			long ppid = 0;
			if (rp && sscanf(rp + 2, "%*c %ld", &ppid) == 1 && ppid == pids[i]) {
				pids[n++] = (pid_t)atol(de->d_name);
			}
		}
		if (d != NULL) {
			closedir(d);
		}
	}
	for (int i = 0; i < n; i++) {
		kill(pids[i], sig);
	}
}

static sbx_status exec_inspect(const char *eid, int64_t *pid, int *exit_code, int *running, err_t *e)
{
	char path[256];
	snprintf(path, sizeof(path), "/exec/%s/json", eid);
	long st = 0;
	char *body = NULL;
	sbx_status s = call("GET", path, NULL, 10000, &st, &body, e);
	if (s == SBX_OK && st != 200) {
		s = api_error(st, body, "exec inspect", e);
	}
	if (s == SBX_OK) {
		json_t *j = json_loads(body, 0, NULL);
		*pid = json_integer_value(json_object_get(j, "Pid"));
		*exit_code = (int)json_integer_value(json_object_get(j, "ExitCode"));
		*running = json_is_true(json_object_get(j, "Running"));
		json_decref(j);
	}
	free(body);
	return s;
}

/* Whether host process `pid` lives in container `cid` (its cgroup names
 * the container's id): a pid Docker reported may since have been reused. */
static int in_container(int64_t pid, const char *cid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%lld/cgroup", (long long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	ssize_t n = fdio_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return cid[0] != '\0' && strstr(buf, cid) != NULL;
}

/* After a daemon restart, commands the previous daemon started in this
 * container have nobody reading them; their executions are recorded as
 * interrupted, so they are ended too, as native sandboxes' are. The
 * engine may already call an exec finished once its stream is gone, so
 * what counts is whether its process still runs in the container. */
static void kill_leftover_execs(json_t *container, const char *cid)
{
	const char *full = json_string_value(json_object_get(container, "Id"));
	json_t *ids = json_object_get(container, "ExecIDs");
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
	{
		int64_t pid = 0;
		int code = 0, running = 0;
		err_t ignored;
		if (json_is_string(v) && exec_inspect(json_string_value(v), &pid, &code, &running, &ignored) == SBX_OK &&
		    pid > 1 && in_container(pid, full ? full : cid)) {
			kill_tree((pid_t)pid, SIGKILL);
		}
	}
}

static sbx_status exec_create(const char *cid, const exec_request *r, char *eid, size_t cap, err_t *e)
{
	json_t *cmd = json_array(), *env = json_array();
	for (size_t i = 0; i < r->argc; i++) {
		json_array_append_new(cmd, json_string(r->argv[i]));
	}
	for (size_t i = 0; i < r->n_sandbox_env; i++) {
		json_array_append_new(env, json_string(r->sandbox_env[i]));
	}
	for (size_t i = 0; i < r->n_env; i++) {
		json_array_append_new(env, json_string(r->env[i]));
	}
	char user[32];
	snprintf(user, sizeof(user), "%d:%d", SANDBOX_UID, SANDBOX_UID);
	json_t *body = json_pack("{s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:s}", "AttachStdin", r->has_stdin,
				 "AttachStdout", 1, "AttachStderr", 1, "Tty", 0, "Cmd", cmd, "Env", env,
				 "WorkingDir", r->working_dir && r->working_dir[0] ? r->working_dir : "/workspace",
				 "User", r->run_as_root ? "" : user);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char path[256];
	snprintf(path, sizeof(path), "/containers/%.128s/exec", cid);
	long st = 0;
	char *resp = NULL;
	sbx_status s = call("POST", path, text, 30000, &st, &resp, e);
	free(text);
	if (s == SBX_OK && st == 409) {
		s = err_set(e, SBX_FAILED_PRECONDITION, "the container is not running (or paused)");
	} else if (s == SBX_OK && st != 201) {
		s = api_error(st, resp, "exec", e);
	}
	if (s == SBX_OK) {
		json_t *j = json_loads(resp, 0, NULL);
		snprintf(eid, cap, "%s", j ? json_string_value(json_object_get(j, "Id")) : "");
		json_decref(j);
	}
	free(resp);
	return s;
}

/* Starts the exec on a connection upgraded to a raw stream (the only way
 * the engine takes stdin), then demultiplexes output until it closes. */
static sbx_status exec_stream(const char *eid, const exec_request *r, exec_result *out, err_t *e)
{
	int fd = engine_connect();
	if (fd < 0) {
		char sock[1024];
		socket_path(sock, sizeof(sock));
		return err_set(e, SBX_UNAVAILABLE, "Docker Engine at %s: %s", sock, strerror(errno));
	}
	static const char body[] = "{\"Detach\":false,\"Tty\":false}";
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "POST " API "/exec/%s/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
			 "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: %zu\r\n\r\n%s",
			 eid, sizeof(body) - 1, body);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return err_set(e, SBX_UNAVAILABLE, "exec start: %s", strerror(errno));
	}
	/* Response head, then the stream. */
	char head[4096];
	size_t hl = 0;
	char *end = NULL;
	while (end == NULL && hl < sizeof(head) - 1) {
		ssize_t got = read(fd, head + hl, sizeof(head) - 1 - hl);
		if (got <= 0) {
			close(fd);
			return err_set(e, SBX_UNAVAILABLE, "exec start: the engine closed the connection");
		}
		hl += (size_t)got;
		head[hl] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	int code = 0;
	sscanf(head, "HTTP/1.%*d %d", &code);
	if (end == NULL || (code != 101 && code != 200)) {
		close(fd);
		return err_set(e, SBX_INTERNAL, "exec start: HTTP %d", code);
	}
	/* The exec's host pid is asked for only when a signal must be sent. */
	int64_t pid = 0;
	int exit_code = 0, running = 0;
	err_t ignored;
	docker_demux dm;
	docker_demux_init(&dm);
	size_t early = hl - (size_t)(end + 4 - head);
	docker_demux_feed(&dm, (const uint8_t *)end + 4, early, r->on_output, r->arg);
	if (r->has_stdin && r->stdin_len > 0) {
		fdio_write_all(fd, r->stdin_data, r->stdin_len); /* a command that stops reading ends it */
	}
	shutdown(fd, SHUT_WR); /* end of stdin */
	int64_t deadline = r->timeout_seconds > 0 ? clock_mono_ms() + r->timeout_seconds * 1000LL : 0;
	int signalled = 0, stopped = 0;
	uint8_t *buf = malloc(1 << 20);
	for (;;) {
		struct pollfd pf = {fd, POLLIN, 0};
		int rc = poll(&pf, 1, 100);
		int want_kill = deadline && clock_mono_ms() >= deadline && !out->timed_out;
		int want_signal = r->cancel_signal && *r->cancel_signal && !signalled;
		if ((want_kill || want_signal) && pid <= 1) {
			/* The engine may report the pid only once the process runs. */
			exec_inspect(eid, &pid, &exit_code, &running, &ignored);
		}
		if (want_kill && pid > 1) {
			out->timed_out = 1;
			kill_tree((pid_t)pid, SIGKILL);
		}
		if (want_signal && pid > 1) {
			signalled = 1;
			kill_tree((pid_t)pid, *r->cancel_signal);
		}
		if (rc <= 0) {
			continue;
		}
		ssize_t got = read(fd, buf, 1 << 20);
		if (got <= 0) {
			break;
		}
		if (!stopped && docker_demux_feed(&dm, buf, (size_t)got, r->on_output, r->arg) != 0) {
			stopped = 1;
			kill_tree((pid_t)pid, SIGKILL);
		}
	}
	free(buf);
	close(fd);
	/* The stream ends when the process did; its code follows shortly. */
	for (int i = 0; i < 100; i++) {
		if (exec_inspect(eid, &pid, &exit_code, &running, e) != SBX_OK) {
			return e->code;
		}
		if (!running) {
			break;
		}
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	out->exit_code = exit_code;
	if (exit_code > 128 && exit_code < 128 + 65) {
		out->signal = exit_code - 128;
		out->exit_code = -1;
	}
	return SBX_OK;
}

static sbx_status docker_exec(const char *id, const sandbox_handle *h, const exec_request *r,
			      exec_result *out, err_t *e)
{
	(void)id;
	memset(out, 0, sizeof(*out));
	if (r->argc == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, "argv", "empty command");
	}
	char eid[128];
	sbx_status s = exec_create(h->ref, r, eid, sizeof(eid), e);
	return s == SBX_OK ? exec_stream(eid, r, out, e) : s;
}

/* ---- copy in/out: the archive API ----------------------------------------- */

/* Where GET /archive's body goes: the caller's file on 200, a small
 * buffer (for the error message) otherwise. */
struct archive_sink {
	CURL *curl;
	int fd;
	uint64_t len;
	uint64_t cap;
	int over;
	int failed; /* errno of a failed write */
	struct buf err;
};

static size_t archive_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct archive_sink *k = arg;
	size_t add = size * n;
	long st = 0;
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &st);
	if (st != 200) {
		return collect(ptr, size, n, &k->err);
	}
	if (k->len + add > k->cap) {
		k->over = 1;
		return 0;
	}
	if (fdio_write_all(k->fd, ptr, add) != 0) {
		k->failed = errno;
		return 0;
	}
	k->len += add;
	return add;
}

static size_t archive_read(char *ptr, size_t size, size_t n, void *arg)
{
	int fd = *(int *)arg;
	for (;;) {
		ssize_t r = read(fd, ptr, size * n);
		if (r >= 0) {
			return (size_t)r;
		}
		if (errno != EINTR) {
			return CURL_READFUNC_ABORT;
		}
	}
}

/* PUT (in_fd >= 0: the archive to send) or GET (the archive appended to
 * out_fd, at most cap bytes) on /containers/{id}/archive. */
static sbx_status archive(const char *cid, const char *path, int in_fd, int out_fd, uint64_t cap,
			  err_t *e)
{
	char sock[1024], url[4096];
	socket_path(sock, sizeof(sock));
	char *esc = curl_easy_escape(NULL, path, 0);
	snprintf(url, sizeof(url), "http://docker" API "/containers/%.128s/archive?path=%s", cid, esc ? esc : "");
	curl_free(esc);
	CURL *c = curl_easy_init();
	if (c == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot make an HTTP client");
	}
	struct archive_sink k = {.curl = c, .fd = out_fd, .cap = cap};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-tar");
	/* The body follows at once: no wait for "100 Continue". */
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, archive_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 600000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (in_fd >= 0) {
		struct stat sb;
		if (fstat(in_fd, &sb) != 0) {
			curl_slist_free_all(h);
			curl_easy_cleanup(c);
			return err_set(e, SBX_INTERNAL, "staged archive: %s", strerror(errno));
		}
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L); /* PUT */
		curl_easy_setopt(c, CURLOPT_READFUNCTION, archive_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &in_fd);
		if (S_ISREG(sb.st_mode)) {
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)sb.st_size);
		} /* else a pipe (an upload still arriving): sent chunked */
	}
	CURLcode rc = curl_easy_perform(c);
	long st = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	sbx_status s = SBX_OK;
	if (k.over) {
		s = err_set(e, SBX_RESOURCE_EXHAUSTED, "the archive is larger than %llu bytes",
			    (unsigned long long)cap);
	} else if (k.failed) {
		s = err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot stage the archive: %s", strerror(k.failed));
	} else if (rc != CURLE_OK) {
		s = err_set(e, SBX_UNAVAILABLE, "Docker Engine at %s: %s", sock, curl_easy_strerror(rc));
	} else if (st != 200) {
		s = api_error(st, k.err.data, "archive", e);
	}
	free(k.err.data);
	return s;
}

static sbx_status docker_copy_in(const char *id, const sandbox_handle *h, const char *dest, int tar_fd,
				 int run_as_root, err_t *e)
{
	(void)id;
	(void)run_as_root;
	return archive(h->ref, dest, tar_fd, -1, 0, e);
}

static sbx_status docker_copy_out(const char *id, const sandbox_handle *h, const char *path, int tar_fd,
				  uint64_t cap, int run_as_root, err_t *e)
{
	(void)id;
	(void)run_as_root;
	return archive(h->ref, path, -1, tar_fd, cap, e);
}

const provider_ops docker_provider = {
	.id = "docker",
	.caps = PCAP_PAUSE | PCAP_PERSISTENT_WORKSPACE | PCAP_NETWORK_NONE | PCAP_NETWORK_HOST |
		PCAP_IMAGES | PCAP_REATTACH | PCAP_EXEC_STREAM,
	.init = docker_init,
	.validate = docker_validate,
	.create = docker_create,
	.start = docker_start,
	.stop = docker_stop,
	.pause = docker_pause,
	.resume = docker_resume,
	.destroy = docker_destroy,
	.exec = docker_exec,
	.copy_in = docker_copy_in,
	.copy_out = docker_copy_out,
	.metrics = docker_metrics,
	.reattach = docker_reattach,
	.list_managed = docker_list_managed,
};

/* Docker provider: create-to-running and exec `true` through sbx, against
 * the same operations through the docker CLI and through raw Engine API
 * calls (libcurl over the socket), on one private dockerd, in one run. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench.h"
#include "harness.h"

#define N 25

static struct dockerd k;

struct buf {
	char *p;
	size_t n;
};

static size_t sink(char *d, size_t s, size_t n, void *arg)
{
	struct buf *b = arg;
	b->p = realloc(b->p, b->n + s * n + 1);
	memcpy(b->p + b->n, d, s * n);
	b->n += s * n;
	b->p[b->n] = '\0';
	return s * n;
}

/* One raw API call with a reused handle (as a careful client would). */
static long api(CURL *c, const char *method, const char *path, const char *body, char **out)
{
	char url[512];
	snprintf(url, sizeof(url), "http://docker/v1.41%s", path);
	struct buf b = {NULL, 0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, k.sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, strcmp(method, "GET") == 0);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	if (out) {
		*out = b.p;
	} else {
		free(b.p);
	}
	return code;
}

static char *json_id(const char *body)
{
	json_t *j = json_loads(body ? body : "", 0, NULL);
	char *id = strdup(json_string_value(json_object_get(j, "Id")) ? json_string_value(json_object_get(j, "Id")) : "");
	json_decref(j);
	return id;
}

static const char *CREATE_BODY =
	"{\"Image\":\"sbx-busybox\",\"Cmd\":[\"sleep\",\"2147483647\"],\"Entrypoint\":[],\"User\":\"1000:1000\","
	"\"Labels\":{\"sbx.managed\":\"true\"},\"HostConfig\":{\"NetworkMode\":\"none\",\"CapDrop\":[\"ALL\"],"
	"\"SecurityOpt\":[\"no-new-privileges\"],\"PidsLimit\":4096}}";

static double raw_create(CURL *c, char **id)
{
	char *body = NULL;
	double t0 = bench_now_us();
	api(c, "POST", "/containers/create", CREATE_BODY, &body);
	*id = json_id(body);
	char path[256];
	snprintf(path, sizeof(path), "/containers/%s/start", *id);
	api(c, "POST", path, NULL, NULL);
	double us = bench_now_us() - t0;
	free(body);
	return us;
}

static void raw_remove(CURL *c, const char *id)
{
	char path[256];
	snprintf(path, sizeof(path), "/containers/%s?force=true", id);
	api(c, "DELETE", path, NULL, NULL);
}

static double raw_exec(CURL *c, const char *cid)
{
	char path[256], *body = NULL;
	double t0 = bench_now_us();
	snprintf(path, sizeof(path), "/containers/%s/exec", cid);
	api(c, "POST", path, "{\"AttachStdout\":true,\"AttachStderr\":true,\"Cmd\":[\"true\"]}", &body);
	char *eid = json_id(body);
	free(body);
	snprintf(path, sizeof(path), "/exec/%s/start", eid);
	api(c, "POST", path, "{\"Detach\":false,\"Tty\":false}", NULL);
	snprintf(path, sizeof(path), "/exec/%s/json", eid);
	api(c, "GET", path, NULL, NULL);
	double us = bench_now_us() - t0;
	free(eid);
	return us;
}

static double cli(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "/usr/bin/docker -H unix://%s %s >/dev/null 2>&1", k.sock, args);
	double t0 = bench_now_us();
	if (system(cmd) != 0) {
		fprintf(stderr, "bench: docker %s failed\n", args);
	}
	return bench_now_us() - t0;
}

static double ours_create(sbx_client *c, char **id)
{
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	r.provider = "docker";
	r.image = "sbx-busybox";
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	double t0 = bench_now_us();
	if (sbx_sandboxes_create(c, &r, &sb, &e) != SBX_OK) {
		fprintf(stderr, "bench: create: %s\n", e.message);
		exit(1);
	}
	double us = bench_now_us() - t0;
	*id = strdup(sb->id);
	sbx_free(sb);
	return us;
}

static void ours_remove(sbx_client *c, const char *id)
{
	Sbx__V1__DestroySandboxRequest r = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	r.force = 1;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_sandboxes_destroy(c, &r, &sb, NULL);
	sbx_free(sb);
}

static double ours_exec(sbx_client *c, sbx_subscription *sub, const char *sandbox)
{
	Sbx__V1__StartExecutionRequest r = SBX__V1__START_EXECUTION_REQUEST__INIT;
	char *argv[] = {"true"};
	r.sandbox_id = (char *)sandbox;
	r.argv = argv;
	r.n_argv = 1;
	Sbx__V1__StartExecutionResponse *s = NULL;
	double t0 = bench_now_us();
	if (sbx_executions_start(c, &r, &s, NULL) != SBX_OK) {
		exit(1);
	}
	for (;;) {
		Sbx__V1__Event *ev = NULL;
		if (sbx_next_event(sub, 10000, &ev, NULL) != SBX_OK) {
			exit(1);
		}
		int done = strcmp(ev->kind, "execution.finished") == 0 && strcmp(ev->subject, s->execution_id) == 0;
		sbx_free(ev);
		if (done) {
			break;
		}
	}
	double us = bench_now_us() - t0;
	sbx_free(s);
	return us;
}

/* Static: cleaned up at exit even when a step exit()s. */
static struct daemon d;

int main(void)
{
	if (harness_dockerd_start(&k) != 0 || harness_start(&d) != 0) {
		fprintf(stderr, "bench: dockerd or sbxd did not start\n");
		return 1;
	}
	harness_cleanup_at_exit(&d);
	sbx_options o = {.address = d.addr, .token = d.admin_token, .timeout_ms = 60000};
	sbx_client *c = NULL;
	if (sbx_connect(&c, &o, NULL) != SBX_OK) {
		return 1;
	}
	Sbx__V1__ProviderSettings ps = SBX__V1__PROVIDER_SETTINGS__INIT;
	char ep[400];
	snprintf(ep, sizeof(ep), "unix://%s", k.sock);
	ps.enabled = 1;
	ps.api_endpoint = ep;
	char *mask[] = {"enabled", "api_endpoint"};
	Sbx__V1__UpdateProviderRequest up = SBX__V1__UPDATE_PROVIDER_REQUEST__INIT;
	up.id = "docker";
	up.settings = &ps;
	up.update_mask = mask;
	up.n_update_mask = 2;
	Sbx__V1__Provider *pv = NULL;
	sbx_providers_update(c, &up, &pv, NULL);
	sbx_free(pv);
	CURL *curl = curl_easy_init();

	static double o_create[N], a_create[N], c_create[N];
	char *id = NULL, *cid = NULL;
	for (int i = 0; i < 3; i++) { /* warm-up */
		ours_create(c, &id);
		ours_remove(c, id);
		free(id);
		raw_create(curl, &cid);
		raw_remove(curl, cid);
		free(cid);
	}
	for (int i = 0; i < N; i++) {
		o_create[i] = ours_create(c, &id);
		ours_remove(c, id);
		free(id);
		a_create[i] = raw_create(curl, &cid);
		raw_remove(curl, cid);
		free(cid);
		char args[512];
		snprintf(args, sizeof(args), "run -d --name cli%d --network none --cap-drop ALL --security-opt no-new-privileges "
			 "--user 1000:1000 --label sbx.managed=true sbx-busybox sleep 2147483647", i);
		c_create[i] = cli(args);
		snprintf(args, sizeof(args), "rm -f cli%d", i);
		cli(args);
	}
	double oc = bench_percentile(o_create, N, 0.5), ac = bench_percentile(a_create, N, 0.5), cc = bench_percentile(c_create, N, 0.5);
	printf("bench: %d creates each (create-to-running, busybox image, network none)\n", N);
	bench_report("docker_create_vs_cli", oc, cc, "us");
	bench_report("docker_create_vs_api", oc, ac, "us");

	/* exec `true`: the same running container for all three paths. */
	char sandbox[64];
	ours_create(c, &id);
	snprintf(sandbox, sizeof(sandbox), "%s", id);
	free(id);
	char name[128];
	snprintf(name, sizeof(name), "sbx-%s", sandbox);
	sbx_subscription *sub = NULL;
	sbx_subscribe(c, "logs.", &sub, NULL);
	usleep(200000);
	static double o_exec[N], a_exec[N], c_exec[N];
	for (int i = 0; i < 3; i++) {
		ours_exec(c, sub, sandbox);
		raw_exec(curl, name);
	}
	for (int i = 0; i < N; i++) {
		o_exec[i] = ours_exec(c, sub, sandbox);
		a_exec[i] = raw_exec(curl, name);
		char args[256];
		snprintf(args, sizeof(args), "exec %s true", name);
		c_exec[i] = cli(args);
	}
	sbx_unsubscribe(sub);
	double oe = bench_percentile(o_exec, N, 0.5), ae = bench_percentile(a_exec, N, 0.5), ce = bench_percentile(c_exec, N, 0.5);
	printf("bench: %d execs of true each\n", N);
	bench_report("docker_exec_vs_cli", oe, ce, "us");
	bench_report("docker_exec_vs_api", oe, ae, "us");
	ours_remove(c, sandbox);
	curl_easy_cleanup(curl);
	sbx_disconnect(c);
	harness_cleanup(&d);
	harness_dockerd_stop(&k);
	return 0;
}

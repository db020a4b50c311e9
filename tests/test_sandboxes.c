/* Sandboxes on the native provider through a real sbxd: lifecycle,
 * settings enforcement, ownership, templates, restart recovery, cleanup. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct daemon d;
static sbx_client *admin;

static int setup(void **state)
{
	(void)state;
	if (harness_start(&d) != 0) {
		return -1;
	}
	admin = harness_client(&d, NULL);
	return admin ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sbx_disconnect(admin);
	harness_cleanup(&d);
	return 0;
}

/* Nothing of sandbox `id` is left on the host. */
static void assert_no_leftovers(const char *id)
{
	static const char *const dirs[] = {"/sys/fs/cgroup/memory/sbx", "/sys/fs/cgroup/pids/sbx",
					   "/sys/fs/cgroup/cpu/sbx", "/sys/fs/cgroup/freezer/sbx",
					   "/sys/fs/cgroup/sbx"};
	char path[512];
	struct stat st;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], id);
		assert_int_not_equal(stat(path, &st), 0);
	}
	snprintf(path, sizeof(path), "%s/data/sandboxes/%s", d.dir, id);
	assert_int_not_equal(stat(path, &st), 0);
}

static Sbx__V1__Sandbox *get(const char *id)
{
	Sbx__V1__GetSandboxRequest r = SBX__V1__GET_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	Sbx__V1__Sandbox *sb = NULL;
	assert_int_equal(sbx_sandboxes_get(admin, &r, &sb, NULL), SBX_OK);
	return sb;
}

static sbx_status ref_call(sbx_status (*fn)(sbx_client *, const Sbx__V1__SandboxRef *, Sbx__V1__Sandbox **, sbx_error *),
			   const char *id, Sbx__V1__SandboxStatus expect)
{
	Sbx__V1__SandboxRef r = SBX__V1__SANDBOX_REF__INIT;
	r.id = (char *)id;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	sbx_status s = fn(admin, &r, &sb, &e);
	if (s == SBX_OK) {
		assert_int_equal(sb->status, expect);
		sbx_free(sb);
	}
	return s;
}

static void destroy(const char *id)
{
	Sbx__V1__DestroySandboxRequest r = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	r.force = 1;
	Sbx__V1__Sandbox *sb = NULL;
	assert_int_equal(sbx_sandboxes_destroy(admin, &r, &sb, NULL), SBX_OK);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__TERMINATED);
	sbx_free(sb);
}

static void test_lifecycle_and_workspace(void **state)
{
	(void)state;
	char id[64];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "life", 256, 0, NULL));
	Sbx__V1__Sandbox *sb = get(id);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__RUNNING);
	assert_string_equal(sb->provider, "local");
	assert_string_equal(sb->image, "host");
	sbx_free(sb);
	int rc = -1;
	char *out = NULL;
	assert_int_equal(harness_sh(admin, id, "echo kept > /workspace/note; cat /workspace/note", 10, &out, NULL, &rc), SBX_OK);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "kept\n");
	free(out);

	assert_int_equal(ref_call(sbx_sandboxes_stop, id, SBX__V1__SANDBOX_STATUS__STOPPED), SBX_OK);
	/* exec in a stopped sandbox */
	Sbx__V1__StartExecutionRequest xr = SBX__V1__START_EXECUTION_REQUEST__INIT;
	xr.sandbox_id = id;
	xr.shell = "true";
	Sbx__V1__StartExecutionResponse *xs = NULL;
	sbx_error e;
	assert_int_equal(sbx_executions_start(admin, &xr, &xs, &e), SBX_FAILED_PRECONDITION);
	assert_int_equal(ref_call(sbx_sandboxes_start, id, SBX__V1__SANDBOX_STATUS__RUNNING), SBX_OK);
	assert_int_equal(harness_sh(admin, id, "cat /workspace/note", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "kept\n");
	free(out);

	assert_int_equal(ref_call(sbx_sandboxes_pause, id, SBX__V1__SANDBOX_STATUS__PAUSED), SBX_OK);
	assert_int_equal(sbx_executions_start(admin, &xr, &xs, &e), SBX_FAILED_PRECONDITION);
	assert_int_equal(ref_call(sbx_sandboxes_resume, id, SBX__V1__SANDBOX_STATUS__RUNNING), SBX_OK);
	assert_int_equal(ref_call(sbx_sandboxes_restart, id, SBX__V1__SANDBOX_STATUS__RUNNING), SBX_OK);
	sb = get(id);
	assert_int_equal(sb->restart_count, 1);
	sbx_free(sb);
	/* Destroy refuses a running sandbox without force. */
	Sbx__V1__DestroySandboxRequest dr = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	dr.id = id;
	assert_int_equal(sbx_sandboxes_destroy(admin, &dr, &sb, &e), SBX_FAILED_PRECONDITION);
	destroy(id);
	assert_no_leftovers(id);
}

static void set_setting(const char *key, const char *json_value_field, int64_t ival)
{
	(void)json_value_field;
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	char *mask[] = {(char *)key};
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(in.base.descriptor, key);
	if (f->type == PROTOBUF_C_TYPE_BOOL) {
		*(protobuf_c_boolean *)((char *)&in + f->offset) = ival != 0;
	} else {
		*(int32_t *)((char *)&in + f->offset) = (int32_t)ival;
	}
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *out = NULL;
	assert_int_equal(sbx_settings_update(admin, &u, &out, NULL), SBX_OK);
	sbx_free(out);
}

static sbx_status try_create(const char *name, double cpus, int64_t mem, const char *image,
			     Sbx__V1__Volume *vol, sbx_error *e)
{
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.cpu_cores = cpus;
	res.memory_mb = mem;
	r.name = (char *)name;
	r.resources = &res;
	r.image = (char *)(image ? image : "");
	if (vol) {
		r.volumes = &vol;
		r.n_volumes = 1;
	}
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = sbx_sandboxes_create(admin, &r, &sb, e);
	if (s == SBX_OK) {
		destroy(sb->id);
		sbx_free(sb);
	}
	return s;
}

static void test_settings_enforced(void **state)
{
	(void)state;
	sbx_error e;
	assert_int_equal(try_create("big", 64, 0, NULL, NULL, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "resources.cpu_cores");
	assert_int_equal(try_create("fat", 0, 1024 * 1024, NULL, NULL, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "resources.memory_mb");
	assert_int_equal(try_create("img", 0, 0, "ubuntu:24.04", NULL, &e), SBX_NOT_FOUND);
	assert_string_equal(e.field, "image");
	assert_int_equal(try_create("Bad Name!", 0, 0, NULL, NULL, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "name");
	Sbx__V1__Volume v = SBX__V1__VOLUME__INIT;
	v.host_path = "/etc";
	v.container_path = "/mnt/etc";
	assert_int_equal(try_create("vol", 0, 0, NULL, &v, &e), SBX_PERMISSION_DENIED);
	assert_string_equal(e.field, "volumes[0].host_path");

	/* max_concurrent_local: the second live sandbox is refused. */
	set_setting("max_concurrent_local", NULL, 1);
	char id[64];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "only", 0, 0, NULL));
	assert_int_equal(try_create("second", 0, 0, NULL, NULL, &e), SBX_RESOURCE_EXHAUSTED);
	destroy(id);
	set_setting("max_concurrent_local", NULL, 10);

	set_setting("enabled", NULL, 0);
	assert_int_equal(try_create("off", 0, 0, NULL, NULL, &e), SBX_FAILED_PRECONDITION);
	set_setting("enabled", NULL, 1);
}

static void test_ownership_and_get_or_create(void **state)
{
	(void)state;
	char id[64];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "mine", 0, 0, NULL));
	Sbx__V1__CreateTokenRequest ct = SBX__V1__CREATE_TOKEN_REQUEST__INIT;
	ct.user = "eve";
	Sbx__V1__CreateTokenResponse *tok = NULL;
	assert_int_equal(sbx_tokens_create(admin, &ct, &tok, NULL), SBX_OK);
	sbx_client *eve = harness_client(&d, tok->secret);
	Sbx__V1__GetSandboxRequest g = SBX__V1__GET_SANDBOX_REQUEST__INIT;
	g.id = id;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_get(eve, &g, &sb, &e), SBX_NOT_FOUND);
	Sbx__V1__StartExecutionRequest xr = SBX__V1__START_EXECUTION_REQUEST__INIT;
	xr.sandbox_id = id;
	xr.shell = "true";
	Sbx__V1__StartExecutionResponse *xs = NULL;
	assert_int_equal(sbx_executions_start(eve, &xr, &xs, &e), SBX_NOT_FOUND);
	Sbx__V1__ListSandboxesRequest lr = SBX__V1__LIST_SANDBOXES_REQUEST__INIT;
	Sbx__V1__ListSandboxesResponse *list = NULL;
	assert_int_equal(sbx_sandboxes_list(eve, &lr, &list, NULL), SBX_OK);
	assert_int_equal(list->n_sandboxes, 0);
	sbx_free(list);
	lr.all_owners = 1;
	assert_int_equal(sbx_sandboxes_list(eve, &lr, &list, &e), SBX_PERMISSION_DENIED);

	/* The same name for eve is hers, not a clash with admin's. */
	Sbx__V1__CreateSandboxRequest cr = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	cr.name = "mine";
	cr.get_or_create = 1;
	Sbx__V1__Sandbox *a = NULL, *b = NULL;
	assert_int_equal(sbx_sandboxes_create(eve, &cr, &a, &e), SBX_OK);
	assert_string_not_equal(a->id, id);
	/* Get-or-create returns the same one, started again if stopped. */
	Sbx__V1__SandboxRef sr = SBX__V1__SANDBOX_REF__INIT;
	sr.id = a->id;
	assert_int_equal(sbx_sandboxes_stop(eve, &sr, &sb, NULL), SBX_OK);
	sbx_free(sb);
	assert_int_equal(sbx_sandboxes_create(eve, &cr, &b, &e), SBX_OK);
	assert_string_equal(a->id, b->id);
	assert_int_equal(b->status, SBX__V1__SANDBOX_STATUS__RUNNING);
	/* Without get_or_create the name clashes. */
	cr.get_or_create = 0;
	assert_int_equal(sbx_sandboxes_create(eve, &cr, &sb, &e), SBX_ALREADY_EXISTS);
	assert_string_equal(e.field, "name");
	Sbx__V1__DestroySandboxRequest dr = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	dr.id = a->id;
	dr.force = 1;
	assert_int_equal(sbx_sandboxes_destroy(eve, &dr, &sb, NULL), SBX_OK);
	sbx_free(sb);
	sbx_free(a);
	sbx_free(b);
	sbx_free(tok);
	sbx_disconnect(eve);
	destroy(id);
}

static void test_templates(void **state)
{
	(void)state;
	Sbx__V1__Template t = SBX__V1__TEMPLATE__INIT;
	Sbx__V1__Template__EnvEntry ev = SBX__V1__TEMPLATE__ENV_ENTRY__INIT;
	Sbx__V1__Template__EnvEntry *evp = &ev;
	ev.key = "STAGE";
	ev.value = "template";
	t.name = "py";
	t.env = &evp;
	t.n_env = 1;
	char *setup[] = {"echo prepared > /workspace/ready"};
	t.setup_commands = setup;
	t.n_setup_commands = 1;
	Sbx__V1__Template *out = NULL;
	assert_int_equal(sbx_templates_create(admin, &t, &out, NULL), SBX_OK);
	sbx_free(out);
	sbx_error e;
	assert_int_equal(sbx_templates_create(admin, &t, &out, &e), SBX_ALREADY_EXISTS);

	Sbx__V1__CreateSandboxRequest cr = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	cr.template_ = "py";
	Sbx__V1__CreateSandboxRequest__EnvEntry over = SBX__V1__CREATE_SANDBOX_REQUEST__ENV_ENTRY__INIT;
	Sbx__V1__CreateSandboxRequest__EnvEntry *overp = &over;
	over.key = "EXTRA";
	over.value = "flag";
	cr.env = &overp;
	cr.n_env = 1;
	Sbx__V1__Sandbox *sb = NULL;
	assert_int_equal(sbx_sandboxes_create(admin, &cr, &sb, &e), SBX_OK);
	assert_string_equal(sb->template_, "py");
	char *o = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb->id, "cat /workspace/ready; echo $STAGE $EXTRA", 10, &o, NULL, &rc), SBX_OK);
	assert_string_equal(o, "prepared\ntemplate flag\n");
	free(o);
	destroy(sb->id);
	sbx_free(sb);
	/* A failing setup command leaves nothing behind. */
	char *bad[] = {"exit 7"};
	t.name = "broken";
	t.setup_commands = bad;
	assert_int_equal(sbx_templates_create(admin, &t, &out, NULL), SBX_OK);
	sbx_free(out);
	cr.template_ = "broken";
	cr.name = "brk";
	assert_int_equal(sbx_sandboxes_create(admin, &cr, &sb, &e), SBX_FAILED_PRECONDITION);
	Sbx__V1__TemplateRef tr = SBX__V1__TEMPLATE_REF__INIT;
	tr.name = "py";
	Sbx__V1__Empty *none = NULL;
	assert_int_equal(sbx_templates_delete(admin, &tr, &none, NULL), SBX_OK);
	sbx_free(none);
	assert_int_equal(sbx_templates_get(admin, &tr, &out, &e), SBX_NOT_FOUND);
}

static pid_t init_pid(const char *id)
{
	Sbx__V1__Sandbox *sb = get(id);
	long pid = 0;
	sscanf(sb->provider_ref, "pid:%ld:", &pid);
	sbx_free(sb);
	return (pid_t)pid;
}

static void test_daemon_kill9_and_recovery(void **state)
{
	(void)state;
	char keep[64], dies[64];
	snprintf(keep, sizeof(keep), "%s", harness_sandbox(admin, "survivor", 0, 0, NULL));
	snprintf(dies, sizeof(dies), "%s", harness_sandbox(admin, "victim", 0, 0, NULL));
	int rc;
	assert_int_equal(harness_sh(admin, keep, "echo before > /workspace/f", 10, NULL, NULL, &rc), SBX_OK);
	pid_t victim = init_pid(dies);
	sbx_disconnect(admin);
	harness_stop(&d, SIGKILL);
	/* While the daemon is down one sandbox dies. */
	kill(victim, SIGKILL);
	usleep(100000);
	assert_int_equal(harness_restart(&d), 0);
	admin = harness_client(&d, NULL);
	Sbx__V1__Sandbox *sb = get(keep);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__RUNNING);
	sbx_free(sb);
	char *out = NULL;
	assert_int_equal(harness_sh(admin, keep, "cat /workspace/f", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "before\n");
	free(out);
	sb = get(dies);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__DEAD);
	sbx_free(sb);
	/* clean destroys what died; its record stays, terminated. */
	Sbx__V1__CleanSandboxesRequest cr = SBX__V1__CLEAN_SANDBOXES_REQUEST__INIT;
	Sbx__V1__CleanSandboxesResponse *cl = NULL;
	assert_int_equal(sbx_sandboxes_clean(admin, &cr, &cl, NULL), SBX_OK);
	assert_int_equal(cl->n_removed, 1);
	assert_string_equal(cl->removed[0], dies);
	sbx_free(cl);
	sb = get(dies);
	assert_int_equal(sb->status, SBX__V1__SANDBOX_STATUS__TERMINATED);
	sbx_free(sb);
	assert_no_leftovers(dies);
	destroy(keep);
	assert_no_leftovers(keep);
}

static void test_volumes_under_allowed_roots(void **state)
{
	(void)state;
	char root[300], ro[320], rw[320], cmd[4096];
	snprintf(root, sizeof(root), "%s/shared", d.dir);
	snprintf(ro, sizeof(ro), "%s/ro", root);
	snprintf(rw, sizeof(rw), "%s/rw", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s %s && echo data > %s/in.txt && chmod 777 %s", ro, rw, ro, rw);
	assert_int_equal(system(cmd), 0);
	Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
	char *roots[] = {root};
	in.allowed_volume_roots = roots;
	in.n_allowed_volume_roots = 1;
	char *mask[] = {"allowed_volume_roots"};
	Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	u.settings = &in;
	u.update_mask = mask;
	u.n_update_mask = 1;
	Sbx__V1__SandboxSettings *so = NULL;
	assert_int_equal(sbx_settings_update(admin, &u, &so, NULL), SBX_OK);
	sbx_free(so);
	Sbx__V1__Volume v1 = SBX__V1__VOLUME__INIT, v2 = SBX__V1__VOLUME__INIT;
	v1.host_path = ro;
	v1.container_path = "/mnt/ro";
	v1.read_only = 1;
	v2.host_path = rw;
	v2.container_path = "/mnt/rw";
	Sbx__V1__Volume *vols[] = {&v1, &v2};
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	r.name = "vols";
	r.volumes = vols;
	r.n_volumes = 2;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_OK);
	assert_int_equal(sb->n_volumes, 2);
	char *out = NULL;
	int rc;
	assert_int_equal(harness_sh(admin, sb->id,
				    "cat /mnt/ro/in.txt; touch /mnt/ro/x 2>/dev/null || echo ro-refused;"
				    "echo back > /mnt/rw/out.txt && echo rw-ok",
				    10, &out, NULL, &rc),
			 SBX_OK);
	assert_string_equal(out, "data\nro-refused\nrw-ok\n");
	free(out);
	snprintf(cmd, sizeof(cmd), "%s/out.txt", rw);
	assert_true(harness_file_contains(cmd, "back"));
	destroy(sb->id);
	/* The host's files stay: destroy removes the sandbox, not its volumes. */
	snprintf(cmd, sizeof(cmd), "%s/in.txt", ro);
	assert_true(harness_file_contains(cmd, "data"));
	sbx_free(sb);
}

/* A running sandbox with a memory limit and a disk of its own; its id in `id`. */
static void create_with_disk(const char *name, int64_t memory_mb, int64_t disk_gb, char id[64])
{
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.disk_gb = disk_gb;
	res.memory_mb = memory_mb;
	r.name = (char *)name;
	r.resources = &res;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_OK);
	snprintf(id, 64, "%s", sb->id);
	sbx_free(sb);
}

/* resources.disk_gb gives a sandbox its own file system of that size:
 * filling it is ENOSPC inside, it outlives stop/start, and destroy leaves
 * no image, mount or loop device behind. */
static void test_disk_size_is_enforced(void **state)
{
	(void)state;
	char id[64];
	create_with_disk("smalldisk", 512, 1, id);
	char *out = NULL;
	int rc;
	/* A 1 GiB file system, the sandbox user's to write. */
	assert_int_equal(harness_sh(admin, id, "df -k /workspace | tail -1 | awk '{print ($2 > 900000 && $2 < 1100000)}'; echo kept > /workspace/marker", 10, &out, NULL, &rc), SBX_OK);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "1\n");
	free(out);
	assert_int_equal(harness_sh(admin, id, "dd if=/dev/zero of=/workspace/fill bs=1M count=1200 2>&1 | grep -c 'No space left'", 60, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "1\n");
	free(out);
	assert_int_equal(ref_call(sbx_sandboxes_stop, id, SBX__V1__SANDBOX_STATUS__STOPPED), SBX_OK);
	char cmd[2048];
	/* Stopped: unmounted, the loop device released, the image kept. */
	snprintf(cmd, sizeof(cmd), "! grep -q ' %s/data/sandboxes/%s/disk ' /proc/mounts && test -f %s/data/sandboxes/%s/disk.img && test -z \"$(losetup -j %s/data/sandboxes/%s/disk.img)\"",
		 d.dir, id, d.dir, id, d.dir, id);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ref_call(sbx_sandboxes_start, id, SBX__V1__SANDBOX_STATUS__RUNNING), SBX_OK);
	assert_int_equal(harness_sh(admin, id, "rm /workspace/fill; cat /workspace/marker; touch /workspace/more && echo writable", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "kept\nwritable\n");
	free(out);
	destroy(id);
	snprintf(cmd, sizeof(cmd), "test ! -e %s/data/sandboxes/%s && ! grep -q '%s' /proc/mounts && ! losetup -a | grep -q '%s'",
		 d.dir, id, id, id);
	assert_int_equal(system(cmd), 0);
}

/* Stats reads the sandbox's cgroups (and its own disk), records every
 * reading, and works out CPU use between readings; history reads them
 * back; the CLI shows them. */
static void test_stats_read_and_recorded(void **state)
{
	(void)state;
	char id[64];
	create_with_disk("measured", 256, 1, id);
	sbx_error e;
	Sbx__V1__SandboxRef r = SBX__V1__SANDBOX_REF__INIT;
	r.id = id;
	Sbx__V1__SandboxStats *s = NULL;
	assert_int_equal(sbx_sandboxes_stats(admin, &r, &s, &e), SBX_OK);
	assert_string_equal(s->sandbox_id, id);
	assert_int_equal(s->memory_limit, 256LL << 20);
	assert_true(s->pids >= 1);
	assert_true(s->disk_limit > (900LL << 20) && s->disk_limit <= (1LL << 30));
	int64_t cpu0 = s->cpu_usage_ns, disk0 = s->disk_bytes;
	sbx_free(s);
	/* Busy for a while, and 20 MB on its disk. */
	int rc;
	assert_int_equal(harness_sh(admin, id,
				    "head -c 20000000 /dev/urandom > /workspace/f; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
				    60, NULL, NULL, &rc),
			 SBX_OK);
	assert_int_equal(rc, 0);
	assert_int_equal(sbx_sandboxes_stats(admin, &r, &s, &e), SBX_OK);
	assert_true(s->cpu_usage_ns > cpu0);
	assert_true(s->cpu_percent > 0);
	assert_true(s->disk_bytes >= disk0 + 19000000);
	sbx_free(s);
	/* Both readings were recorded, newest first. */
	Sbx__V1__StatsHistoryRequest hr = SBX__V1__STATS_HISTORY_REQUEST__INIT;
	hr.id = id;
	Sbx__V1__StatsHistoryResponse *h = NULL;
	assert_int_equal(sbx_sandboxes_stats_history(admin, &hr, &h, &e), SBX_OK);
	assert_true(h->n_samples >= 2);
	assert_true(strcmp(h->samples[0]->recorded_at, h->samples[1]->recorded_at) > 0);
	assert_true(h->samples[0]->cpu_usage_ns > h->samples[1]->cpu_usage_ns);
	sbx_free(h);
	hr.since = "2999-01-01T00:00:00Z";
	assert_int_equal(sbx_sandboxes_stats_history(admin, &hr, &h, &e), SBX_OK);
	assert_int_equal(h->n_samples, 0);
	sbx_free(h);
	/* Bad input is named. */
	hr.since = "yesterday";
	assert_int_equal(sbx_sandboxes_stats_history(admin, &hr, &h, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "since");
	hr.since = "";
	hr.limit = 5000;
	assert_int_equal(sbx_sandboxes_stats_history(admin, &hr, &h, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "limit");
	r.id = "no-such-sandbox";
	assert_int_equal(sbx_sandboxes_stats(admin, &r, &s, &e), SBX_NOT_FOUND);
	/* The CLI's table. */
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "stats", id, (char *)NULL), 0);
	assert_non_null(strstr(out, "MEM USAGE / LIMIT"));
	assert_non_null(strstr(out, "/ 256.0MiB"));
	assert_non_null(strstr(out, id));
	free(out);
	free(err);
	/* Stopped: nothing to measure. */
	assert_int_equal(ref_call(sbx_sandboxes_stop, id, SBX__V1__SANDBOX_STATUS__STOPPED), SBX_OK);
	r.id = id;
	assert_int_equal(sbx_sandboxes_stats(admin, &r, &s, &e), SBX_FAILED_PRECONDITION);
	destroy(id);
}

static void test_image_import_and_overlay_sharing(void **state)
{
	(void)state;
	/* A busybox root filesystem, made here. */
	char cmd[4096], tar[400];
	snprintf(tar, sizeof(tar), "%s/busybox.tar", d.dir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; r=%s/rootfs; mkdir -p $r/bin $r/etc; cp /bin/busybox $r/bin/;"
		 "for a in sh ls cat echo touch id; do ln -sf busybox $r/bin/$a; done;"
		 "echo image-os > $r/etc/os-name; tar -C $r -cf %s .",
		 d.dir, tar);
	assert_int_equal(system(cmd), 0);
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "images", "import", "bb", tar, (char *)NULL), 0);
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "images", "import", "bb", tar, (char *)NULL), 1);
	assert_non_null(strstr(err, "ALREADY_EXISTS"));
	free(out);
	free(err);

	char a[64], b[64];
	Sbx__V1__CreateSandboxRequest r = SBX__V1__CREATE_SANDBOX_REQUEST__INIT;
	r.image = "bb";
	r.name = "img-a";
	/* a has its own disk: its overlay layers live there. */
	Sbx__V1__Resources res = SBX__V1__RESOURCES__INIT;
	res.disk_gb = 1;
	r.resources = &res;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_OK);
	snprintf(a, sizeof(a), "%s", sb->id);
	sbx_free(sb);
	r.resources = NULL;
	r.name = "img-b";
	assert_int_equal(sbx_sandboxes_create(admin, &r, &sb, &e), SBX_OK);
	snprintf(b, sizeof(b), "%s", sb->id);
	sbx_free(sb);
	int rc;
	/* Each sees the image and keeps its own changes (init writes each
	 * one's /etc/hostname into its upper layer). */
	assert_int_equal(harness_sh(admin, a, "cat /etc/os-name /etc/hostname", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "image-os\nimg-a\n");
	free(out);
	assert_int_equal(harness_sh(admin, b, "cat /etc/os-name /etc/hostname", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "image-os\nimg-b\n");
	free(out);
	/* The image itself is untouched; a's changes are on a's own disk. */
	snprintf(cmd, sizeof(cmd),
		 "test ! -e %s/data/images/bb/rootfs/etc/hostname && grep -qx img-a %s/data/sandboxes/%s/disk/upper/etc/hostname",
		 d.dir, d.dir, a);
	assert_int_equal(system(cmd), 0);
	/* In use: not deletable. */
	Sbx__V1__ImageRef ir = SBX__V1__IMAGE_REF__INIT;
	ir.name = "bb";
	Sbx__V1__Empty *none = NULL;
	assert_int_equal(sbx_images_delete(admin, &ir, &none, &e), SBX_FAILED_PRECONDITION);
	destroy(a);
	destroy(b);
	assert_no_leftovers(a);
	assert_int_equal(sbx_images_delete(admin, &ir, &none, &e), SBX_OK);
	sbx_free(none);
	snprintf(cmd, sizeof(cmd), "test ! -e %s/data/images/bb", d.dir);
	assert_int_equal(system(cmd), 0);
}

static void test_copy_in_and_out(void **state)
{
	(void)state;
	char id[64], src[400], back[400], cmd[2048];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "files", 0, 0, NULL));
	snprintf(src, sizeof(src), "%s/src", d.dir);
	snprintf(back, sizeof(back), "%s/back", d.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tree/sub %s && echo alpha > %s/tree/a.txt && head -c 100000 /dev/urandom > %s/tree/sub/blob",
		 src, back, src, src);
	assert_int_equal(system(cmd), 0);
	char target[512], dst[128];
	snprintf(target, sizeof(target), "%s/tree", src);
	snprintf(dst, sizeof(dst), "%s:/workspace", id);
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", target, dst, (char *)NULL), 0);
	free(out);
	free(err);
	int rc;
	assert_int_equal(harness_sh(admin, id, "cat /workspace/tree/a.txt; stat -c %U /workspace/tree/a.txt", 10, &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "alpha\nsandbox\n");
	free(out);
	assert_int_equal(harness_sh(admin, id, "echo made > /workspace/tree/new.txt", 10, NULL, NULL, &rc), SBX_OK);
	snprintf(dst, sizeof(dst), "%s:/workspace/tree", id);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", dst, back, (char *)NULL), 0);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "cmp %s/tree/sub/blob %s/tree/sub/blob && grep -q made %s/tree/new.txt", src, back, back);
	assert_int_equal(system(cmd), 0);
	/* Bad paths are named. */
	Sbx__V1__CopyOutRequest co = SBX__V1__COPY_OUT_REQUEST__INIT;
	co.id = id;
	co.path = "relative";
	Sbx__V1__CopyOutResponse *cr = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "path");
	co.path = "/workspace/none";
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_FAILED_PRECONDITION);
	destroy(id);
}

/* Archives larger than one message (4 MiB) travel in parts both ways; odd
 * file names survive; staged parts are gone afterwards; bad parts are
 * named. */
static void test_copy_large_in_parts(void **state)
{
	(void)state;
	char id[64], src[400], back[400], cmd[2048];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "bigfiles", 0, 0, NULL));
	snprintf(src, sizeof(src), "%s/bigsrc", d.dir);
	snprintf(back, sizeof(back), "%s/bigback", d.dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/big %s && head -c 20000000 /dev/urandom > %s/big/blob && echo q > \"%s/big/it's here\"",
		 src, back, src, src);
	assert_int_equal(system(cmd), 0);
	char target[512], dst[128];
	snprintf(target, sizeof(target), "%s/big", src);
	snprintf(dst, sizeof(dst), "%s:/workspace", id);
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", target, dst, (char *)NULL), 0);
	free(out);
	free(err);
	int rc;
	assert_int_equal(harness_sh(admin, id, "wc -c < /workspace/big/blob; cat \"/workspace/big/it's here\"", 10,
				    &out, NULL, &rc), SBX_OK);
	assert_string_equal(out, "20000000\nq\n");
	free(out);
	snprintf(dst, sizeof(dst), "%s:/workspace/big", id);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "cp", dst, back, (char *)NULL), 0);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "cmp %s/big/blob %s/big/blob && test -f \"%s/big/it's here\"", src, back, back);
	assert_int_equal(system(cmd), 0);
	/* Nothing was staged on the daemon's disk. */
	snprintf(cmd, sizeof(cmd), "test ! -e %s/data/transfers", d.dir);
	assert_int_equal(system(cmd), 0);

	/* Without parts, a large archive is refused, naming the way out. */
	Sbx__V1__CopyOutRequest co = SBX__V1__COPY_OUT_REQUEST__INIT;
	co.id = id;
	co.path = "/workspace/big";
	Sbx__V1__CopyOutResponse *cr = NULL;
	sbx_error e;
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_RESOURCE_EXHAUSTED);
	assert_string_equal(e.field, "parts");
	/* A part asked for again comes again; a part out of order is named. */
	co.parts = 1;
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_OK);
	assert_false(cr->eof);
	char dl[80];
	snprintf(dl, sizeof(dl), "%s", cr->download_id);
	size_t first_len = cr->tar.len;
	uint8_t *first = malloc(first_len);
	memcpy(first, cr->tar.data, first_len);
	sbx_free(cr);
	co.download_id = dl;
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_OK);
	assert_int_equal(cr->tar.len, first_len);
	assert_memory_equal(cr->tar.data, first, first_len);
	sbx_free(cr);
	free(first);
	co.offset = 12345;
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_FAILED_PRECONDITION);
	assert_string_equal(e.field, "offset");
	co.offset = 0;
	co.download_id = "nosuchdownload";
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_NOT_FOUND);
	assert_string_equal(e.field, "download_id");
	co.download_id = "../../etc";
	assert_int_equal(sbx_sandboxes_copy_out(admin, &co, &cr, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "download_id");

	Sbx__V1__CopyInRequest ci = SBX__V1__COPY_IN_REQUEST__INIT;
	uint8_t part[512] = {0};
	ci.id = id;
	ci.dest_dir = "/workspace";
	ci.tar.data = part;
	ci.tar.len = sizeof(part);
	ci.upload_id = "bad/id!!";
	Sbx__V1__Empty *none = NULL;
	assert_int_equal(sbx_sandboxes_copy_in(admin, &ci, &none, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "upload_id");
	ci.upload_id = "gapgapgap";
	ci.offset = 4096; /* nothing staged yet: a gap */
	assert_int_equal(sbx_sandboxes_copy_in(admin, &ci, &none, &e), SBX_FAILED_PRECONDITION);
	assert_string_equal(e.field, "offset");
	ci.upload_id = "";
	assert_int_equal(sbx_sandboxes_copy_in(admin, &ci, &none, &e), SBX_INVALID_ARGUMENT);
	assert_string_equal(e.field, "offset");
	/* An upload whose tar fails (no such directory) reports tar's
	 * complaint, and is over. */
	char tar_path[500];
	snprintf(tar_path, sizeof(tar_path), "%s/bigsrc.tar", d.dir);
	snprintf(cmd, sizeof(cmd), "tar -C %s -cf %s big", src, tar_path);
	assert_int_equal(system(cmd), 0);
	int fd = open(tar_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sbx_copy_in_fd(admin, id, "/no/such/dir", fd, &e), SBX_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, "tar"));
	close(fd);
	snprintf(cmd, sizeof(cmd), "test ! -e %s/data/transfers", d.dir);
	/* Refused parts staged nothing. */
	assert_int_equal(system(cmd), 0);
	destroy(id);
}

static void test_state_changes_are_announced(void **state)
{
	(void)state;
	char id[64];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "loud", 0, 0, NULL));
	char topic[128];
	snprintf(topic, sizeof(topic), "events.sandbox.%s.", id);
	sbx_subscription *sub = NULL;
	assert_int_equal(sbx_subscribe(admin, topic, &sub, NULL), SBX_OK);
	/* Events published before a subscription is live are not seen (the bus
	 * never waits): prime it with an event of our own until one arrives. */
	int live = 0;
	for (int i = 0; i < 50 && !live; i++) {
		Sbx__V1__SetEnvRequest se = SBX__V1__SET_ENV_REQUEST__INIT;
		se.id = id;
		Sbx__V1__Sandbox *sb = NULL;
		assert_int_equal(sbx_sandboxes_set_env(admin, &se, &sb, NULL), SBX_OK);
		sbx_free(sb);
		Sbx__V1__Event *ev = NULL;
		while (sbx_next_event(sub, 200, &ev, NULL) == SBX_OK) {
			live |= strcmp(ev->kind, "sandbox.env_changed") == 0;
			sbx_free(ev);
		}
	}
	assert_true(live);
	assert_int_equal(ref_call(sbx_sandboxes_pause, id, SBX__V1__SANDBOX_STATUS__PAUSED), SBX_OK);
	assert_int_equal(ref_call(sbx_sandboxes_resume, id, SBX__V1__SANDBOX_STATUS__RUNNING), SBX_OK);
	Sbx__V1__Event *ev = NULL;
	assert_int_equal(sbx_next_event(sub, 3000, &ev, NULL), SBX_OK);
	assert_string_equal(ev->kind, "sandbox.paused");
	uint64_t seq = ev->seq;
	sbx_free(ev);
	assert_int_equal(sbx_next_event(sub, 3000, &ev, NULL), SBX_OK);
	assert_string_equal(ev->kind, "sandbox.running");
	assert_int_equal(ev->seq, seq + 1);
	sbx_free(ev);
	sbx_unsubscribe(sub);
	destroy(id);
}

/* The CLI's list habits: `ls -q` prints ids only, one per line, and
 * forgets a removed sandbox. */
static void test_cli_ls_quiet(void **state)
{
	(void)state;
	char id[64];
	snprintf(id, sizeof(id), "%s", harness_sandbox(admin, "listed", 0, 0, NULL));
	char *out = NULL, *err = NULL;
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "ls", "-q", (char *)NULL), 0);
	char line[80];
	snprintf(line, sizeof(line), "%s\n", id);
	assert_non_null(strstr(out, line));
	assert_null(strstr(out, "NAME")); /* no header */
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "rm", "-f", id, (char *)NULL), 0);
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, NULL, &out, &err, "ls", "-q", (char *)NULL), 0);
	assert_null(strstr(out, line));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle_and_workspace),
		cmocka_unit_test(test_settings_enforced),
		cmocka_unit_test(test_ownership_and_get_or_create),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_daemon_kill9_and_recovery),
		cmocka_unit_test(test_volumes_under_allowed_roots),
		cmocka_unit_test(test_disk_size_is_enforced),
		cmocka_unit_test(test_stats_read_and_recorded),
		cmocka_unit_test(test_image_import_and_overlay_sharing),
		cmocka_unit_test(test_copy_in_and_out),
		cmocka_unit_test(test_copy_large_in_parts),
		cmocka_unit_test(test_state_changes_are_announced),
		cmocka_unit_test(test_cli_ls_quiet),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("sandboxes", tests, setup, teardown);
}

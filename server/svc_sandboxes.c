/* Sandboxes service: lifecycle of sandboxes on any provider, enforcing the
 * settings. Provider work (seconds, for cloud providers) runs outside any
 * database transaction; each state change is stored, then announced on
 * events.sandbox.<id>. Operations on one sandbox are serialized. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "daemon.h"
#include "db.h"
#include "events.h"
#include "providers.h"
#include "provider.h"
#include "sandboxes.h"
#include "services.h"

#define MAX_ENV 256
#define MAX_LABELS 64
#define MAX_VOLUMES 32
#define LOCK_STRIPES 64

static pthread_mutex_t locks[LOCK_STRIPES];
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;

static void locks_init(void)
{
	for (int i = 0; i < LOCK_STRIPES; i++) {
		pthread_mutex_init(&locks[i], NULL);
	}
}

static pthread_mutex_t *lock_for(const char *id)
{
	pthread_once(&locks_once, locks_init);
	unsigned h = 5381;
	for (; *id; id++) {
		h = h * 33 + (unsigned char)*id;
	}
	return &locks[h % LOCK_STRIPES];
}

/* Sandboxes a caller may see: their own; an admin sees all. */
static const char *owner_filter(const rpc_call *call)
{
	return call->caller.admin ? NULL : call->caller.user_id;
}

static void announce(rpc_call *call, const Sbx__V1__Sandbox *sb, const char *kind)
{
	char topic[160];
	snprintf(topic, sizeof(topic), "events.sandbox.%s.", sb->id);
	svc_announce(call, topic, kind, sb->id, NULL, 0);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0])) {
		return 0;
	}
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') {
			return 0;
		}
	}
	return 1;
}

static int valid_env_key(const char *k)
{
	if (k[0] == '\0' || strlen(k) > 256 || isdigit((unsigned char)k[0])) {
		return 0;
	}
	for (; *k; k++) {
		if (!isalnum((unsigned char)*k) && *k != '_') {
			return 0;
		}
	}
	return 1;
}

static int in_list(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], s) == 0) {
			return 1;
		}
	}
	return 0;
}

/* A host path is allowed when it lies under one of the admin's roots. */
static int under_roots(const Sbx__V1__SandboxSettings *set, const char *path)
{
	if (path[0] != '/' || strstr(path, "/..") != NULL) {
		return 0;
	}
	for (size_t i = 0; i < set->n_allowed_volume_roots; i++) {
		const char *r = set->allowed_volume_roots[i];
		size_t n = strlen(r);
		while (n > 1 && r[n - 1] == '/') {
			n--;
		}
		if (strncmp(path, r, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1)) {
			return 1;
		}
	}
	return 0;
}

static sbx_status check_volume(rpc_call *call, const Sbx__V1__SandboxSettings *set,
			       const Sbx__V1__Volume *v, const char *field)
{
	char f[64];
	snprintf(f, sizeof(f), "%s.host_path", field);
	if (v->host_path[0] != '/') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, f, "must be an absolute path");
	}
	if (!under_roots(set, v->host_path)) {
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, f,
				 "%s is not under an allowed volume root (settings.allowed_volume_roots)",
				 v->host_path);
	}
	snprintf(f, sizeof(f), "%s.container_path", field);
	if (v->container_path[0] != '/' || strstr(v->container_path, "..") != NULL ||
	    strlen(v->container_path) > 1024) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, f, "must be an absolute path without ..");
	}
	return SBX_OK;
}

static sbx_status check_resources(rpc_call *call, const Sbx__V1__SandboxSettings *set,
				  const Sbx__V1__Resources *r)
{
	if (r == NULL) {
		return SBX_OK;
	}
	if (r->cpu_cores < 0 || r->cpu_cores > set->max_cpu_cores_per_sandbox) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.cpu_cores",
				 "must be between 0 and %d (settings.max_cpu_cores_per_sandbox)",
				 set->max_cpu_cores_per_sandbox);
	}
	if (r->memory_mb < 0 || r->memory_mb > (int64_t)set->max_memory_gb_per_sandbox * 1024) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.memory_mb",
				 "must be between 0 and %lld (settings.max_memory_gb_per_sandbox)",
				 (long long)set->max_memory_gb_per_sandbox * 1024);
	}
	if (r->memory_mb > 0 && r->memory_mb < 16) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.memory_mb", "at least 16");
	}
	if (r->disk_gb < 0 || r->disk_gb > set->max_disk_gb_per_sandbox) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.disk_gb",
				 "must be between 0 and %d (settings.max_disk_gb_per_sandbox)",
				 set->max_disk_gb_per_sandbox);
	}
	if (r->gpu_count < 0 || r->gpu_count > set->max_gpu_per_sandbox) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.gpu_count",
				 "must be between 0 and %d (settings.max_gpu_per_sandbox)",
				 set->max_gpu_per_sandbox);
	}
	if (r->pids_max < 0 || r->pids_max > 1000000) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "resources.pids_max", "must be 0 to 1000000");
	}
	return SBX_OK;
}

static char *new_id(arena *a)
{
	unsigned char rnd[6];
	char hex[13];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	return arena_printf(a, "sb-%s", hex);
}

/* Copies map entries from a template (type Template.EnvEntry) into a
 * sandbox map (Sandbox.EnvEntry) unless the key is already there: request
 * values win over template values. The entry layouts are the same
 * (key, value strings), so entries are rebuilt for the right descriptor. */
static void merge_map(arena *a, ProtobufCMessage *dst, const char *field, const ProtobufCMessage *src)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field_by_name(dst->descriptor, field);
	const ProtobufCFieldDescriptor *fs =
		protobuf_c_message_descriptor_get_field_by_name(src->descriptor, field);
	void ***darr = (void ***)((char *)dst + fd->offset);
	size_t *dn = (size_t *)((char *)dst + fd->quantifier_offset);
	void *const *sarr = *(void *const *const *)((const char *)src + fs->offset);
	size_t sn = *(const size_t *)((const char *)src + fs->quantifier_offset);
	const ProtobufCMessageDescriptor *ed = fd->descriptor;
	const ProtobufCMessageDescriptor *sd = fs->descriptor;
	for (size_t i = 0; i < sn; i++) {
		const char *k = *(char *const *)((const char *)sarr[i] + sd->fields[0].offset);
		const char *v = *(char *const *)((const char *)sarr[i] + sd->fields[1].offset);
		int found = 0;
		for (size_t j = 0; j < *dn && !found; j++) {
			found = strcmp(*(char **)((char *)(*darr)[j] + ed->fields[0].offset), k) == 0;
		}
		if (found) {
			continue;
		}
		ProtobufCMessage *e = arena_alloc(a, ed->sizeof_message);
		if (e == NULL) {
			return;
		}
		ed->message_init(e);
		*(char **)((char *)e + ed->fields[0].offset) = arena_strdup(a, k);
		*(char **)((char *)e + ed->fields[1].offset) = arena_strdup(a, v);
		arena_append(a, darr, dn, e);
	}
}

/* A provider's default image: its settings' override, else the global
 * default for the local provider, else the catalogue's default_config. */
static const char *default_image(rpc_call *call, const char *provider,
				 const Sbx__V1__SandboxSettings *set)
{
	Sbx__V1__Provider *p = NULL;
	err_t ignored;
	if (providers_get(call->db, provider, &p, call->arena, &ignored) != SBX_OK) {
		return set->default_image;
	}
	if (p->settings && p->settings->default_image[0]) {
		return p->settings->default_image;
	}
	if (strcmp(provider, "local") == 0) {
		return set->default_image;
	}
	json_t *cfg = json_loads(p->default_config_json, 0, NULL);
	const char *img = json_string_value(json_object_get(cfg, "image"));
	const char *out = arena_strdup(call->arena, img ? img : set->default_image);
	json_decref(cfg);
	return out;
}

/* Builds the sandbox to create from the request, its template and the
 * settings, checking every field. */
static sbx_status build(rpc_call *call, const Sbx__V1__CreateSandboxRequest *r,
			const Sbx__V1__SandboxSettings *set, const Sbx__V1__Template *t,
			Sbx__V1__Sandbox **out)
{
	arena *a = call->arena;
	Sbx__V1__Sandbox *sb = ARENA_MSG(a, Sbx__V1__Sandbox, sbx__v1__sandbox__init);
	Sbx__V1__Resources *res = ARENA_MSG(a, Sbx__V1__Resources, sbx__v1__resources__init);
	if (sb == NULL || res == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sb->id = new_id(a);
	sb->name = r->name[0] ? r->name : sb->id;
	if (!valid_name(sb->name)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "name",
				 "1-63 letters, digits, '-', '_' or '.', starting with a letter or digit");
	}
	sb->owner = call->caller.user;
	sb->provider = r->provider[0] ? r->provider : (t && t->provider[0]) ? t->provider : set->default_provider;
	sb->template_ = t ? t->name : "";
	sb->image = r->image[0] ? r->image : (t && t->image[0]) ? t->image : (char *)default_image(call, sb->provider, set);
	if (set->n_allowed_base_images > 0 &&
	    !in_list(set->allowed_base_images, set->n_allowed_base_images, sb->image)) {
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, "image",
				 "\"%s\" is not in settings.allowed_base_images", sb->image);
	}
	const Sbx__V1__Resources *tr = t ? t->resources : NULL;
	const Sbx__V1__Resources *rr = r->resources;
	res->cpu_cores = rr && rr->cpu_cores ? rr->cpu_cores : tr ? tr->cpu_cores : 0;
	res->memory_mb = rr && rr->memory_mb ? rr->memory_mb : tr ? tr->memory_mb : 0;
	res->disk_gb = rr && rr->disk_gb ? rr->disk_gb : tr ? tr->disk_gb : 0;
	res->pids_max = rr && rr->pids_max ? rr->pids_max : tr ? tr->pids_max : 0;
	res->gpu_count = rr ? rr->gpu_count : 0;
	sb->resources = res;
	sbx_status s = check_resources(call, set, res);
	if (s != SBX_OK) {
		return s;
	}
	sb->network_mode = r->network_mode[0] ? r->network_mode
			   : (t && t->network_mode[0]) ? t->network_mode
						       : set->default_network_mode;
	static const char *const modes[] = {"none", "isolated", "host", "custom"};
	int ok = 0;
	for (size_t i = 0; i < 4; i++) {
		ok |= strcmp(modes[i], sb->network_mode) == 0;
	}
	if (!ok) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "network_mode",
				 "must be none, isolated, host or custom");
	}
	if (r->ttl_seconds < 0 || r->ttl_seconds > (int64_t)set->max_runtime_hours * 3600 + 3600 * 24 * 365) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "ttl_seconds", "must be 0 (none) or positive");
	}
	sb->ttl_seconds = r->ttl_seconds;
	/* Env and labels: request entries, then the template's where unset. */
	sb->env = (Sbx__V1__Sandbox__EnvEntry **)r->env;
	sb->n_env = r->n_env;
	sb->labels = (Sbx__V1__Sandbox__LabelsEntry **)r->labels;
	sb->n_labels = r->n_labels;
	if (t != NULL) {
		/* Request maps are read-only: copy before merging. */
		Sbx__V1__Sandbox tmp = SBX__V1__SANDBOX__INIT;
		merge_map(a, &tmp.base, "env", &r->base);
		merge_map(a, &tmp.base, "env", &t->base);
		merge_map(a, &tmp.base, "labels", &r->base);
		merge_map(a, &tmp.base, "labels", &t->base);
		sb->env = tmp.env;
		sb->n_env = tmp.n_env;
		sb->labels = tmp.labels;
		sb->n_labels = tmp.n_labels;
	}
	if (sb->n_env > MAX_ENV) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env", "at most %d variables", MAX_ENV);
	}
	for (size_t i = 0; i < sb->n_env; i++) {
		if (!valid_env_key(sb->env[i]->key)) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env",
					 "\"%.64s\" is not a valid variable name", sb->env[i]->key);
		}
	}
	if (sb->n_labels > MAX_LABELS) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "labels", "at most %d labels", MAX_LABELS);
	}
	for (size_t i = 0; i < sb->n_labels; i++) {
		if (sb->labels[i]->key[0] == '\0' || strlen(sb->labels[i]->key) > 63 ||
		    strchr(sb->labels[i]->key, '"') || strlen(sb->labels[i]->value) > 256) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "labels",
					 "keys are 1-63 characters without '\"', values at most 256");
		}
	}
	if (r->n_volumes > MAX_VOLUMES) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "volumes", "at most %d", MAX_VOLUMES);
	}
	for (size_t i = 0; i < r->n_volumes; i++) {
		char f[32];
		snprintf(f, sizeof(f), "volumes[%zu]", i);
		if ((s = check_volume(call, set, r->volumes[i], f)) != SBX_OK) {
			return s;
		}
	}
	sb->volumes = r->volumes;
	sb->n_volumes = r->n_volumes;
	*out = sb;
	return SBX_OK;
}

/* The provider's view of a stored sandbox. Arrays live in the call's arena. */
static void spec_of(rpc_call *call, const Sbx__V1__Sandbox *sb, const Sbx__V1__SandboxSettings *set,
		    sandbox_spec *spec)
{
	arena *a = call->arena;
	memset(spec, 0, sizeof(*spec));
	spec->id = sb->id;
	spec->name = sb->name;
	spec->image = sb->image;
	if (sb->resources) {
		spec->cpu_cores = sb->resources->cpu_cores;
		spec->memory_mb = sb->resources->memory_mb;
		spec->disk_gb = sb->resources->disk_gb;
		spec->pids_max = sb->resources->pids_max;
	}
	spec->network = sb->network_mode;
	spec->run_as_root = !set->require_non_root_user;
	spec->privileged = set->allow_privileged_containers;
	const char **env = arena_alloc(a, (sb->n_env + 1) * sizeof(char *));
	for (size_t i = 0; env && i < sb->n_env; i++) {
		env[i] = arena_printf(a, "%s=%s", sb->env[i]->key, sb->env[i]->value);
	}
	spec->env = env;
	spec->n_env = env ? sb->n_env : 0;
	sandbox_volume *vols = arena_alloc(a, (sb->n_volumes + 1) * sizeof(*vols));
	for (size_t i = 0; vols && i < sb->n_volumes; i++) {
		vols[i].host_path = sb->volumes[i]->host_path;
		vols[i].container_path = sb->volumes[i]->container_path;
		vols[i].read_only = sb->volumes[i]->read_only;
	}
	spec->volumes = vols;
	spec->n_volumes = vols ? sb->n_volumes : 0;
}

/* The provider driver for a sandbox's provider, enabled and present. */
static sbx_status driver_for(rpc_call *call, const char *provider, const provider_ops **out)
{
	Sbx__V1__Provider *p = NULL;
	sbx_status s = providers_get(call->db, provider, &p, call->arena, &call->err);
	if (s == SBX_NOT_FOUND) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "provider", "unknown provider \"%.64s\"",
				 provider);
	}
	if (s != SBX_OK) {
		return s;
	}
	*out = provider_find(provider);
	if (*out == NULL) {
		return RPC_FIELD(call, SBX_UNIMPLEMENTED, "provider",
				 "provider \"%s\" has no driver in this build of sbxd yet", provider);
	}
	if (!p->settings->enabled) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "provider",
				 "provider \"%s\" is disabled (sbx providers configure %s --enable)",
				 provider, provider);
	}
	return SBX_OK;
}

/* Inserts the row, enforcing the concurrency limit atomically with it. */
static sbx_status reserve(rpc_call *call, const Sbx__V1__Sandbox *sb,
			  const Sbx__V1__SandboxSettings *set, int cloud)
{
	sbx_status s = db_begin(call->db, &call->err);
	if (s != SBX_OK) {
		return s;
	}
	int live = 0;
	int max = cloud ? set->max_concurrent_cloud : set->max_concurrent_local;
	s = sandboxes_count_live(call->db, cloud, &live, &call->err);
	if (s == SBX_OK && live >= max) {
		s = RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED,
			     "%d %s sandboxes are live, the most settings.max_concurrent_%s allows",
			     live, cloud ? "cloud" : "local", cloud ? "cloud" : "local");
	}
	if (s == SBX_OK) {
		s = sandboxes_insert(call->db, sb, call->caller.user_id, &call->err);
	}
	if (s == SBX_OK) {
		return db_commit(call->db, &call->err);
	}
	db_rollback(call->db);
	return s;
}

static sbx_status reload(rpc_call *call, const char *id, ProtobufCMessage **resp)
{
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = sandboxes_get(call->db, id, NULL, &sb, NULL, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &sb->base;
	}
	return s;
}

static sbx_status start_locked(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			       const Sbx__V1__SandboxSettings *set);

static sbx_status run_setup(rpc_call *call, const provider_ops *p, const Sbx__V1__Sandbox *sb,
			    const sandbox_handle *h, const Sbx__V1__Template *t)
{
	for (size_t i = 0; t != NULL && i < t->n_setup_commands; i++) {
		if (p->exec == NULL) {
			return provider_unimplemented(p, "exec (template setup commands)", &call->err);
		}
		const char *argv[] = {"/bin/sh", "-c", t->setup_commands[i]};
		exec_request r = {.argv = argv, .argc = 3, .working_dir = "/workspace"};
		exec_result res;
		sbx_status s = p->exec(sb->id, h, &r, &res, &call->err);
		if (s != SBX_OK) {
			return s;
		}
		if (res.exit_code != 0) {
			return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "template",
					 "setup command %zu (%.200s) exited with %d", i, t->setup_commands[i],
					 res.exit_code);
		}
	}
	return SBX_OK;
}

/* Image pulls report on events.pulls.: subject the image, fields
 * [bytes done, bytes total], so `sbx create` can draw progress. */
static void pull_progress(void *arg, const char *what, int64_t current, int64_t total)
{
	const Sbx__V1__Sandbox *sb = arg;
	char cur[32], tot[32];
	snprintf(cur, sizeof(cur), "%lld", (long long)current);
	snprintf(tot, sizeof(tot), "%lld", (long long)total);
	char *fields[] = {cur, tot};
	Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
	ev.kind = "image.pull";
	ev.subject = (char *)what;
	ev.actor = (char *)sb->owner;
	ev.fields = fields;
	ev.n_fields = 2;
	events_publish("events.pulls.", &ev);
}

sbx_status svc_sandboxes_create(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CreateSandboxRequest *r = (const Sbx__V1__CreateSandboxRequest *)req;
	Sbx__V1__SandboxSettings *set = NULL;
	sbx_status s = svc_settings_current(call, &set);
	if (s != SBX_OK) {
		return s;
	}
	if (!set->enabled) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandboxes are disabled (settings.enabled)");
	}
	/* Get-or-create: the caller's live sandbox of that name, started if
	 * it was stopped. */
	if (r->name[0] != '\0') {
		Sbx__V1__Sandbox *old = NULL;
		sandbox_handle h;
		s = sandboxes_get(call->db, r->name, call->caller.user_id, &old, &h, call->arena,
				  &call->err);
		if (s == SBX_OK && strcmp(old->name, r->name) == 0) {
			if (!r->get_or_create) {
				return RPC_FIELD(call, SBX_ALREADY_EXISTS, "name",
						 "you already have a sandbox named \"%s\" (%s)", r->name, old->id);
			}
			pthread_mutex_t *mu = lock_for(old->id);
			pthread_mutex_lock(mu);
			s = start_locked(call, old, &h, set);
			pthread_mutex_unlock(mu);
			return s == SBX_OK ? reload(call, old->id, resp) : s;
		}
		if (s != SBX_OK && s != SBX_NOT_FOUND) {
			return s;
		}
		err_clear(&call->err);
	}
	Sbx__V1__Template *t = NULL;
	if (r->template_[0] != '\0') {
		s = templates_get(call->db, r->template_, call->caller.user_id, &t, call->arena, &call->err);
		if (s != SBX_OK) {
			return s;
		}
	}
	Sbx__V1__Sandbox *sb = NULL;
	const provider_ops *p = NULL;
	if ((s = build(call, r, set, t, &sb)) != SBX_OK || (s = driver_for(call, sb->provider, &p)) != SBX_OK) {
		return s;
	}
	Sbx__V1__Provider *cat = NULL;
	if ((s = providers_get(call->db, sb->provider, &cat, call->arena, &call->err)) != SBX_OK ||
	    (s = reserve(call, sb, set, cat->is_cloud)) != SBX_OK) {
		return s;
	}
	sandbox_spec spec;
	spec_of(call, sb, set, &spec);
	spec.on_progress = pull_progress;
	spec.progress_arg = sb;
	sandbox_handle h;
	memset(&h, 0, sizeof(h));
	pthread_mutex_t *mu = lock_for(sb->id);
	pthread_mutex_lock(mu);
	s = p->create(&spec, &h, &call->err);
	if (s == SBX_OK) {
		s = run_setup(call, p, sb, &h, t);
		if (s != SBX_OK) {
			err_t ignored;
			p->destroy(sb->id, &h, &ignored);
		}
	}
	if (s != SBX_OK) {
		/* Nothing was created: the reservation goes, not a half-made row. */
		err_t ignored;
		sandboxes_delete(call->db, sb->id, &ignored);
		pthread_mutex_unlock(mu);
		return s;
	}
	s = sandboxes_set_status(call->db, sb->id, SBX__V1__SANDBOX_STATUS__RUNNING, NULL, &h, &call->err);
	pthread_mutex_unlock(mu);
	if (s != SBX_OK) {
		return s;
	}
	announce(call, sb, "sandbox.running");
	return reload(call, sb->id, resp);
}

/* Loads a sandbox the caller may see, with its provider handle and driver. */
sbx_status svc_sandbox_load(rpc_call *call, const char *id, Sbx__V1__Sandbox **sb, sandbox_handle *h,
			    const provider_ops **p)
{
	if (id[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "id", "required (a sandbox id or name)");
	}
	sbx_status s = sandboxes_get(call->db, id, owner_filter(call), sb, h, call->arena, &call->err);
	if (s != SBX_OK || p == NULL) {
		return s;
	}
	*p = provider_find((*sb)->provider);
	if (*p == NULL) {
		return RPC_FAIL(call, SBX_UNIMPLEMENTED, "provider \"%s\" has no driver in this build",
				(*sb)->provider);
	}
	return SBX_OK;
}

sbx_status svc_sandboxes_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__GetSandboxRequest *r = (const Sbx__V1__GetSandboxRequest *)req;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = svc_sandbox_load(call, r->id, &sb, NULL, NULL);
	if (s == SBX_OK) {
		*resp = &sb->base;
	}
	return s;
}

sbx_status svc_sandboxes_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__ListSandboxesRequest *r = (const Sbx__V1__ListSandboxesRequest *)req;
	if (r->all_owners && !call->caller.admin) {
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, "all_owners", "needs an admin token");
	}
	Sbx__V1__ListSandboxesResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListSandboxesResponse,
							sbx__v1__list_sandboxes_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sandbox_filter f = {0};
	f.owner_id = r->all_owners ? NULL : call->caller.user_id;
	f.statuses = (const int *)r->status;
	f.n_statuses = r->n_status;
	f.provider = r->provider;
	char **keys = arena_alloc(call->arena, (r->n_labels + 1) * sizeof(char *));
	char **vals = arena_alloc(call->arena, (r->n_labels + 1) * sizeof(char *));
	for (size_t i = 0; keys && vals && i < r->n_labels; i++) {
		if (strchr(r->labels[i]->key, '"') != NULL) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "labels", "keys may not contain '\"'");
		}
		keys[i] = r->labels[i]->key;
		vals[i] = r->labels[i]->value;
	}
	f.label_keys = keys;
	f.label_values = vals;
	f.n_labels = r->n_labels;
	int size = r->page ? r->page->page_size : 0;
	if (size < 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "page.page_size", "must not be negative");
	}
	f.limit = size == 0 ? 50 : size > 1000 ? 1000 : size;
	if (r->page && r->page->page_token[0]) {
		char *end;
		long off = strtol(r->page->page_token, &end, 10);
		if (*end || off < 0 || off > 10000000) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "page.page_token", "not a token from this API");
		}
		f.offset = (int)off;
	}
	*resp = &out->base;
	return sandboxes_list(call->db, &f, out, call->arena, &call->err);
}

static sbx_status set_status(rpc_call *call, Sbx__V1__Sandbox *sb, Sbx__V1__SandboxStatus st,
			     const char *msg, const sandbox_handle *h, const char *kind)
{
	sbx_status s = sandboxes_set_status(call->db, sb->id, st, msg, h, &call->err);
	if (s == SBX_OK) {
		announce(call, sb, kind);
	}
	return s;
}

static sbx_status start_locked(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			       const Sbx__V1__SandboxSettings *set)
{
	switch (sb->status) {
	case SBX__V1__SANDBOX_STATUS__RUNNING:
		return SBX_OK;
	case SBX__V1__SANDBOX_STATUS__PAUSED:
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandbox %s is paused: resume it", sb->id);
	case SBX__V1__SANDBOX_STATUS__TERMINATED:
	case SBX__V1__SANDBOX_STATUS__CREATING:
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandbox %s is %s", sb->id,
				sandbox_status_name(sb->status));
	default:
		break;
	}
	const provider_ops *p = NULL;
	sbx_status s = driver_for(call, sb->provider, &p);
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__Provider *cat = NULL;
	int live = 0;
	if ((s = providers_get(call->db, sb->provider, &cat, call->arena, &call->err)) != SBX_OK ||
	    (s = sandboxes_count_live(call->db, cat->is_cloud, &live, &call->err)) != SBX_OK) {
		return s;
	}
	int max = cat->is_cloud ? set->max_concurrent_cloud : set->max_concurrent_local;
	if (live >= max) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "%d sandboxes are live, the most settings allow",
				live);
	}
	sandbox_spec spec;
	spec_of(call, sb, set, &spec);
	if (p->start == NULL) {
		return provider_unimplemented(p, "start", &call->err);
	}
	s = p->start(&spec, h, &call->err);
	if (s != SBX_OK) {
		return s;
	}
	return set_status(call, sb, SBX__V1__SANDBOX_STATUS__RUNNING, NULL, h, "sandbox.running");
}

/* Runs `fn` on the sandbox named by `id` under its lock. */
typedef sbx_status (*locked_fn)(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
				const provider_ops *p, const void *arg);

static sbx_status with_sandbox(rpc_call *call, const char *id, locked_fn fn, const void *arg,
			       ProtobufCMessage **resp)
{
	Sbx__V1__Sandbox *sb = NULL;
	sandbox_handle h;
	const provider_ops *p = NULL;
	sbx_status s = svc_sandbox_load(call, id, &sb, &h, &p);
	if (s != SBX_OK) {
		return s;
	}
	pthread_mutex_t *mu = lock_for(sb->id);
	pthread_mutex_lock(mu);
	/* Re-read under the lock: another call may have changed it. */
	s = sandboxes_get(call->db, sb->id, NULL, &sb, &h, call->arena, &call->err);
	if (s == SBX_OK) {
		s = fn(call, sb, &h, p, arg);
	}
	pthread_mutex_unlock(mu);
	return s == SBX_OK ? reload(call, sb->id, resp) : s;
}

static sbx_status do_start(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			   const provider_ops *p, const void *arg)
{
	(void)p;
	(void)arg;
	Sbx__V1__SandboxSettings *set = NULL;
	sbx_status s = svc_settings_current(call, &set);
	return s == SBX_OK ? start_locked(call, sb, h, set) : s;
}

static sbx_status do_stop(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			  const provider_ops *p, const void *arg)
{
	(void)arg;
	if (sb->status == SBX__V1__SANDBOX_STATUS__STOPPED) {
		return SBX_OK;
	}
	if (sb->status != SBX__V1__SANDBOX_STATUS__RUNNING && sb->status != SBX__V1__SANDBOX_STATUS__PAUSED) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandbox %s is %s", sb->id,
				sandbox_status_name(sb->status));
	}
	if (p->stop == NULL) {
		return provider_unimplemented(p, "stop", &call->err);
	}
	sbx_status s = p->stop(sb->id, h, &call->err);
	return s == SBX_OK ? set_status(call, sb, SBX__V1__SANDBOX_STATUS__STOPPED, NULL, h, "sandbox.stopped")
			   : s;
}

static sbx_status do_restart(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			     const provider_ops *p, const void *arg)
{
	sbx_status s = do_stop(call, sb, h, p, arg);
	if (s != SBX_OK) {
		return s;
	}
	sb->status = SBX__V1__SANDBOX_STATUS__STOPPED;
	s = do_start(call, sb, h, p, arg);
	if (s == SBX_OK) {
		sqlite3_stmt *st;
		if (db_prepare(call->db, "UPDATE sandboxes SET restart_count = restart_count + 1 WHERE id = ?1",
			       &st, NULL) == SBX_OK) {
			sqlite3_bind_text(st, 1, sb->id, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	return s;
}

/* Pause and resume: the same move between running and paused, one way
 * or the other. */
static sbx_status move_paused(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			      const provider_ops *p, int pause)
{
	Sbx__V1__SandboxStatus from = pause ? SBX__V1__SANDBOX_STATUS__RUNNING : SBX__V1__SANDBOX_STATUS__PAUSED;
	Sbx__V1__SandboxStatus to = pause ? SBX__V1__SANDBOX_STATUS__PAUSED : SBX__V1__SANDBOX_STATUS__RUNNING;
	if (sb->status == to) {
		return SBX_OK;
	}
	if (sb->status != from) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandbox %s is %s, not %s", sb->id,
				sandbox_status_name(sb->status), sandbox_status_name(from));
	}
	sbx_status (*op)(const char *, sandbox_handle *, err_t *) = pause ? p->pause : p->resume;
	if (op == NULL) {
		return provider_unimplemented(p, pause ? "pause" : "resume", &call->err);
	}
	sbx_status s = op(sb->id, h, &call->err);
	return s == SBX_OK ? set_status(call, sb, to, NULL, NULL, pause ? "sandbox.paused" : "sandbox.running") : s;
}

static sbx_status do_pause(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			   const provider_ops *p, const void *arg)
{
	(void)arg;
	return move_paused(call, sb, h, p, 1);
}

static sbx_status do_resume(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			    const provider_ops *p, const void *arg)
{
	(void)arg;
	return move_paused(call, sb, h, p, 0);
}

static sbx_status do_destroy(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			     const provider_ops *p, const void *arg)
{
	int force = arg != NULL && *(const int *)arg;
	if (sb->status == SBX__V1__SANDBOX_STATUS__TERMINATED) {
		return SBX_OK;
	}
	if (!force && (sb->status == SBX__V1__SANDBOX_STATUS__RUNNING ||
		       sb->status == SBX__V1__SANDBOX_STATUS__PAUSED)) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION,
				"sandbox %s is %s: stop it first or force (sbx rm -f)", sb->id,
				sandbox_status_name(sb->status));
	}
	sbx_status s = p->destroy(sb->id, h, &call->err);
	return s == SBX_OK ? set_status(call, sb, SBX__V1__SANDBOX_STATUS__TERMINATED, NULL, NULL,
					"sandbox.terminated")
			   : s;
}

#define REF_METHOD(fn, op)                                                                  \
	sbx_status svc_sandboxes_##fn(rpc_call *call, const ProtobufCMessage *req,           \
				      ProtobufCMessage **resp)                              \
	{                                                                                   \
		return with_sandbox(call, ((const Sbx__V1__SandboxRef *)req)->id, op, NULL, resp); \
	}
REF_METHOD(start, do_start)
REF_METHOD(stop, do_stop)
REF_METHOD(restart, do_restart)
REF_METHOD(pause, do_pause)
REF_METHOD(resume, do_resume)

sbx_status svc_sandboxes_destroy(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__DestroySandboxRequest *r = (const Sbx__V1__DestroySandboxRequest *)req;
	int force = r->force;
	return with_sandbox(call, r->id, do_destroy, &force, resp);
}

/* Things a provider holds under our labels that the database does not know
 * as live: reported always, removed when asked. An unreachable provider is
 * skipped unless orphans were asked for explicitly. */
static sbx_status clean_orphans(rpc_call *call, int remove, int asked,
				Sbx__V1__CleanSandboxesResponse *out)
{
	for (size_t i = 0; provider_at(i) != NULL; i++) {
		const provider_ops *p = provider_at(i);
		if (p->list_managed == NULL) {
			continue;
		}
		provider_managed *m = NULL;
		size_t n = 0;
		err_t pe;
		err_clear(&pe);
		if (p->list_managed(&m, &n, &pe) != SBX_OK) {
			free(m);
			if (asked && pe.code != SBX_OK) {
				call->err = pe;
				return pe.code;
			}
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			Sbx__V1__Sandbox *sb = NULL;
			err_t ge;
			int known = m[k].sandbox_id[0] &&
				    sandboxes_get(call->db, m[k].sandbox_id, NULL, &sb, NULL, call->arena, &ge) == SBX_OK &&
				    sb->status != SBX__V1__SANDBOX_STATUS__TERMINATED && strcmp(sb->provider, p->id) == 0;
			if (known) {
				continue;
			}
			char *label = arena_printf(call->arena, "%s:%s", p->id, m[k].ref);
			arena_append(call->arena, (void ***)&out->orphans, &out->n_orphans, label);
			if (remove) {
				sandbox_handle h;
				memset(&h, 0, sizeof(h));
				snprintf(h.ref, sizeof(h.ref), "%s", m[k].ref);
				err_t de;
				if (p->destroy("", &h, &de) != SBX_OK) {
					free(m);
					call->err = de;
					return de.code;
				}
				arena_append(call->arena, (void ***)&out->removed, &out->n_removed, label);
			}
		}
		free(m);
	}
	return SBX_OK;
}

sbx_status svc_sandboxes_clean(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CleanSandboxesRequest *r = (const Sbx__V1__CleanSandboxesRequest *)req;
	if (r->orphans && !call->caller.admin) {
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, "orphans", "removing orphans needs an admin token");
	}
	Sbx__V1__CleanSandboxesResponse *out = ARENA_MSG(call->arena, Sbx__V1__CleanSandboxesResponse,
							 sbx__v1__clean_sandboxes_response__init);
	char **ids = NULL;
	size_t n = 0;
	/* Expired (ttl passed) sandboxes and the ones that died or failed:
	 * their resources go; their records stay, with every execution. */
	sbx_status s = sandboxes_ids(call->db,
				     "status NOT IN ('terminated', 'creating') AND (status IN ('dead', 'error')"
				     " OR (expires_at IS NOT NULL AND expires_at <= strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
				     call->arena, &ids, &n, &call->err);
	for (size_t i = 0; s == SBX_OK && i < n; i++) {
		Sbx__V1__Sandbox *sb = NULL;
		if (sandboxes_get(call->db, ids[i], owner_filter(call), &sb, NULL, call->arena, &call->err) != SBX_OK) {
			err_clear(&call->err);
			continue; /* someone else's */
		}
		if (!r->dry_run) {
			int force = 1;
			ProtobufCMessage *ignored = NULL;
			s = with_sandbox(call, ids[i], do_destroy, &force, &ignored);
		}
		if (s == SBX_OK) {
			arena_append(call->arena, (void ***)&out->removed, &out->n_removed, ids[i]);
		}
	}
	if (s == SBX_OK && call->caller.admin) {
		s = clean_orphans(call, r->orphans && !r->dry_run, r->orphans, out);
	}
	*resp = &out->base;
	return s;
}

static sbx_status do_set_env(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			     const provider_ops *p, const void *arg)
{
	(void)h;
	(void)p;
	const Sbx__V1__SetEnvRequest *r = arg;
	if (r->n_env + sb->n_env > MAX_ENV) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env", "at most %d variables", MAX_ENV);
	}
	char **k = arena_alloc(call->arena, (r->n_env + 1) * sizeof(char *));
	char **v = arena_alloc(call->arena, (r->n_env + 1) * sizeof(char *));
	for (size_t i = 0; k && v && i < r->n_env; i++) {
		if (!valid_env_key(r->env[i]->key)) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env",
					 "\"%.64s\" is not a valid variable name", r->env[i]->key);
		}
		k[i] = r->env[i]->key;
		v[i] = r->env[i]->value;
	}
	sbx_status s = db_begin(call->db, &call->err);
	if (s == SBX_OK) {
		s = sandboxes_set_env(call->db, sb->id, k, v, r->n_env, r->unset, r->n_unset, &call->err);
		s = s == SBX_OK ? db_commit(call->db, &call->err) : (db_rollback(call->db), s);
	}
	if (s == SBX_OK) {
		announce(call, sb, "sandbox.env_changed");
	}
	return s;
}

sbx_status svc_sandboxes_set_env(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__SetEnvRequest *r = (const Sbx__V1__SetEnvRequest *)req;
	return with_sandbox(call, r->id, do_set_env, r, resp);
}

static sbx_status do_volume(rpc_call *call, Sbx__V1__Sandbox *sb, sandbox_handle *h,
			    const provider_ops *p, const void *arg)
{
	(void)h;
	(void)p;
	const Sbx__V1__VolumeRequest *r = arg;
	if (r->volume == NULL) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "volume", "required");
	}
	if (sb->status == SBX__V1__SANDBOX_STATUS__TERMINATED) {
		return RPC_FAIL(call, SBX_FAILED_PRECONDITION, "sandbox %s is terminated", sb->id);
	}
	sbx_status s;
	if (r->volume->host_path[0] != '\0') {
		Sbx__V1__SandboxSettings *set = NULL;
		if ((s = svc_settings_current(call, &set)) != SBX_OK ||
		    (s = check_volume(call, set, r->volume, "volume")) != SBX_OK) {
			return s;
		}
		if (sb->n_volumes >= MAX_VOLUMES) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "volume", "at most %d volumes", MAX_VOLUMES);
		}
		s = sandboxes_add_volume(call->db, sb->id, r->volume, &call->err);
	} else {
		s = sandboxes_remove_volume(call->db, sb->id, r->volume->container_path, &call->err);
	}
	if (s == SBX_OK) {
		/* Mounts change with the next start. */
		announce(call, sb, "sandbox.volumes_changed");
	}
	return s;
}

sbx_status svc_sandboxes_add_volume(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__VolumeRequest *r = (const Sbx__V1__VolumeRequest *)req;
	if (r->volume == NULL || r->volume->host_path[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "volume.host_path", "required");
	}
	return with_sandbox(call, r->id, do_volume, r, resp);
}

sbx_status svc_sandboxes_remove_volume(rpc_call *call, const ProtobufCMessage *req,
				       ProtobufCMessage **resp)
{
	const Sbx__V1__VolumeRequest *r = (const Sbx__V1__VolumeRequest *)req;
	if (r->volume == NULL || r->volume->container_path[0] == '\0') {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "volume.container_path", "required");
	}
	Sbx__V1__Volume v = *r->volume;
	v.host_path = "";
	Sbx__V1__VolumeRequest rr = *r;
	rr.volume = &v;
	return with_sandbox(call, r->id, do_volume, &rr, resp);
}

/* ---- templates --------------------------------------------------------- */

sbx_status svc_templates_create(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__Template *t = (const Sbx__V1__Template *)req;
	Sbx__V1__SandboxSettings *set = NULL;
	sbx_status s = svc_settings_current(call, &set);
	if (s != SBX_OK) {
		return s;
	}
	if (!set->allow_custom_templates && !call->caller.admin) {
		return RPC_FAIL(call, SBX_PERMISSION_DENIED, "custom templates are off (settings.allow_custom_templates)");
	}
	if (!valid_name(t->name)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "name", "1-63 letters, digits, '-', '_' or '.'");
	}
	if (t->shared && !call->caller.admin && !set->share_templates_globally) {
		return RPC_FIELD(call, SBX_PERMISSION_DENIED, "shared",
				 "sharing templates needs an admin or settings.share_templates_globally");
	}
	if ((s = check_resources(call, set, t->resources)) != SBX_OK) {
		return s;
	}
	if (t->network_mode[0] && strcmp(t->network_mode, "none") && strcmp(t->network_mode, "isolated") &&
	    strcmp(t->network_mode, "host") && strcmp(t->network_mode, "custom")) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "network_mode", "must be none, isolated, host or custom");
	}
	if (t->provider[0]) {
		Sbx__V1__Provider *p = NULL;
		if (providers_get(call->db, t->provider, &p, call->arena, &call->err) != SBX_OK) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "provider", "unknown provider \"%.64s\"", t->provider);
		}
	}
	for (size_t i = 0; i < t->n_env; i++) {
		if (!valid_env_key(t->env[i]->key)) {
			return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "env", "\"%.64s\" is not a valid variable name",
					 t->env[i]->key);
		}
	}
	if (t->n_setup_commands > 64) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "setup_commands", "at most 64");
	}
	if ((s = templates_insert(call->db, t, call->caller.user_id, &call->err)) != SBX_OK) {
		return s;
	}
	Sbx__V1__Template *out = NULL;
	s = templates_get(call->db, t->name, call->caller.user_id, &out, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &out->base;
	}
	return s;
}

sbx_status svc_templates_get(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__TemplateRef *r = (const Sbx__V1__TemplateRef *)req;
	Sbx__V1__Template *t = NULL;
	sbx_status s = templates_get(call->db, r->name, call->caller.user_id, &t, call->arena, &call->err);
	if (s == SBX_OK) {
		*resp = &t->base;
	}
	return s;
}

sbx_status svc_templates_list(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Sbx__V1__ListTemplatesResponse *out = ARENA_MSG(call->arena, Sbx__V1__ListTemplatesResponse,
							sbx__v1__list_templates_response__init);
	*resp = &out->base;
	return templates_list(call->db, call->caller.user_id, out, call->arena, &call->err);
}

sbx_status svc_templates_delete(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__TemplateRef *r = (const Sbx__V1__TemplateRef *)req;
	sbx_status s = templates_delete(call->db, r->name, call->caller.user_id, &call->err);
	if (s == SBX_OK) {
		*resp = &ARENA_MSG(call->arena, Sbx__V1__Empty, sbx__v1__empty__init)->base;
	}
	return s;
}

/* ---- start-up ------------------------------------------------------------ */

sbx_status sandboxes_recover(err_t *e)
{
	sqlite3 *db = db_get(e);
	arena *a = arena_new(16u << 20);
	if (db == NULL || a == NULL) {
		arena_free(a);
		return db ? err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory") : e->code;
	}
	char **ids = NULL;
	size_t n = 0;
	sbx_status s = sandboxes_ids(db, "status IN ('creating', 'running', 'paused')", a, &ids, &n, e);
	int alive = 0, gone = 0;
	for (size_t i = 0; s == SBX_OK && i < n; i++) {
		Sbx__V1__Sandbox *sb = NULL;
		sandbox_handle h;
		if (sandboxes_get(db, ids[i], NULL, &sb, &h, a, e) != SBX_OK) {
			continue;
		}
		const provider_ops *p = provider_find(sb->provider);
		sandbox_liveness live = SANDBOX_GONE;
		err_t pe;
		err_clear(&pe);
		if (sb->status == SBX__V1__SANDBOX_STATUS__CREATING) {
			/* The daemon died half-way through creating it. */
			if (p != NULL && p->destroy != NULL) {
				p->destroy(sb->id, &h, &pe);
			}
			sandboxes_set_status(db, sb->id, SBX__V1__SANDBOX_STATUS__DEAD,
					     "the daemon stopped while creating it", NULL, e);
			gone++;
			continue;
		}
		if (p == NULL || p->reattach == NULL || p->reattach(sb->id, &h, &live, &pe) != SBX_OK) {
			live = SANDBOX_GONE;
		}
		if (live == SANDBOX_GONE) {
			sandboxes_set_status(db, sb->id, SBX__V1__SANDBOX_STATUS__DEAD,
					     "found gone after a daemon restart", NULL, e);
			gone++;
		} else {
			Sbx__V1__SandboxStatus st = live == SANDBOX_PAUSED_ALIVE ? SBX__V1__SANDBOX_STATUS__PAUSED
										  : SBX__V1__SANDBOX_STATUS__RUNNING;
			if (st != sb->status) {
				sandboxes_set_status(db, sb->id, st, NULL, NULL, e);
			}
			alive++;
		}
	}
	if (n > 0) {
		fprintf(stderr, "sbxd: %d sandbox(es) found running again, %d gone\n", alive, gone);
	}
	arena_free(a);
	return s;
}

/* ---- from outside a call ---------------------------------------------- */

sbx_status sandboxes_stop_for(sqlite3 *db, const char *id, const char *reason, err_t *e)
{
	arena *a = arena_new(1u << 20);
	if (a == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_t *mu = lock_for(id);
	pthread_mutex_lock(mu);
	Sbx__V1__Sandbox *sb = NULL;
	sandbox_handle h;
	sbx_status s = sandboxes_get(db, id, NULL, &sb, &h, a, e);
	const provider_ops *p = s == SBX_OK ? provider_find(sb->provider) : NULL;
	if (s == SBX_OK && p != NULL && p->stop != NULL &&
	    (sb->status == SBX__V1__SANDBOX_STATUS__RUNNING || sb->status == SBX__V1__SANDBOX_STATUS__PAUSED)) {
		s = p->stop(sb->id, &h, e);
		if (s == SBX_OK) {
			s = sandboxes_set_status(db, sb->id, SBX__V1__SANDBOX_STATUS__STOPPED, reason, &h, e);
		}
		if (s == SBX_OK) {
			char topic[160];
			snprintf(topic, sizeof(topic), "events.sandbox.%s.", sb->id);
			Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
			ev.kind = "sandbox.stopped";
			ev.subject = sb->id;
			ev.actor = "sbxd";
			events_publish(topic, &ev);
		}
	}
	pthread_mutex_unlock(mu);
	arena_free(a);
	return s;
}

sbx_status sandboxes_destroy_for(sqlite3 *db, const char *id, const char *reason, err_t *e)
{
	arena *a = arena_new(1u << 20);
	if (a == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_t *mu = lock_for(id);
	pthread_mutex_lock(mu);
	Sbx__V1__Sandbox *sb = NULL;
	sandbox_handle h;
	sbx_status s = sandboxes_get(db, id, NULL, &sb, &h, a, e);
	const provider_ops *p = s == SBX_OK ? provider_find(sb->provider) : NULL;
	if (s == SBX_OK && sb->status != SBX__V1__SANDBOX_STATUS__TERMINATED) {
		s = p != NULL ? p->destroy(sb->id, &h, e) : SBX_OK;
		if (s == SBX_OK) {
			s = sandboxes_set_status(db, sb->id, SBX__V1__SANDBOX_STATUS__TERMINATED, reason, NULL, e);
		}
		if (s == SBX_OK) {
			char topic[160];
			snprintf(topic, sizeof(topic), "events.sandbox.%s.", sb->id);
			Sbx__V1__Event ev = SBX__V1__EVENT__INIT;
			ev.kind = "sandbox.terminated";
			ev.subject = sb->id;
			ev.actor = "sbxd";
			events_publish(topic, &ev);
		}
	}
	pthread_mutex_unlock(mu);
	arena_free(a);
	return s;
}


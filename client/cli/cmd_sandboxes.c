/* sbx create|ls|get|start|stop|restart|pause|resume|rm|clean, sbx templates */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

static const char *status_text(Sbx__V1__SandboxStatus s)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&sbx__v1__sandbox_status__descriptor, (int)s);
	return v ? v->name : "UNKNOWN";
}

/* Appends a KEY=VALUE into a map field of `m`. */
static int add_kv(struct cli *c, ProtobufCMessage *m, const char *field, const char *arg,
		  const char *usage)
{
	char key[256];
	const char *val;
	if (cli_split_kv(arg, key, sizeof(key), &val) != 0) {
		return cli_usage(usage, "expected KEY=VALUE, got \"%s\"", arg);
	}
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	ProtobufCMessage *e = arena_alloc(c->arena, ed->sizeof_message);
	ed->message_init(e);
	*(char **)((char *)e + ed->fields[0].offset) = arena_strdup(c->arena, key);
	*(char **)((char *)e + ed->fields[1].offset) = arena_strdup(c->arena, val);
	arena_append(c->arena, (void ***)((char *)m + f->offset),
		     (size_t *)((char *)m + f->quantifier_offset), e);
	return 0;
}

/* SRC:DST[:ro] */
static Sbx__V1__Volume *parse_volume(struct cli *c, const char *arg)
{
	char *copy = arena_strdup(c->arena, arg);
	char *dst = strchr(copy, ':');
	if (dst == NULL) {
		return NULL;
	}
	*dst++ = '\0';
	Sbx__V1__Volume *v = ARENA_MSG(c->arena, Sbx__V1__Volume, sbx__v1__volume__init);
	char *mode = strchr(dst, ':');
	if (mode != NULL) {
		*mode++ = '\0';
		if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0) {
			return NULL;
		}
		v->read_only = strcmp(mode, "ro") == 0;
	}
	v->host_path = copy;
	v->container_path = dst;
	return v;
}

/* Parses a size like 512m, 2g, 1024 (MiB). */
static long long parse_mb(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0) {
		return -1;
	}
	switch (*end) {
	case '\0':
	case 'm':
	case 'M':
		return (long long)v;
	case 'g':
	case 'G':
		return (long long)(v * 1024);
	case 'k':
	case 'K':
		return (long long)(v / 1024);
	default:
		return -1;
	}
}

/* Flags shared by `create` and `templates create`. Returns 1 if consumed
 * (advancing *i), 0 if not a shared flag, -1 on error (message printed). */
static int resource_flag(struct cli *c, int argc, char **argv, int *i, Sbx__V1__Resources *res,
			 const char *usage)
{
	const char *a = argv[*i];
	if (*i + 1 >= argc) {
		return 0;
	}
	if (strcmp(a, "--cpus") == 0) {
		char *end;
		res->cpu_cores = strtod(argv[++*i], &end);
		if (*end) {
			return cli_usage(usage, "--cpus: expected a number"), -1;
		}
		return 1;
	}
	if (strcmp(a, "--memory") == 0 || strcmp(a, "-m") == 0) {
		long long mb = parse_mb(argv[++*i]);
		if (mb < 0) {
			return cli_usage(usage, "--memory: expected a size like 512m or 2g"), -1;
		}
		res->memory_mb = mb;
		return 1;
	}
	if (strcmp(a, "--disk") == 0) {
		long long mb = parse_mb(argv[++*i]);
		if (mb < 0) {
			return cli_usage(usage, "--disk: expected a size like 10g"), -1;
		}
		res->disk_gb = (mb + 1023) / 1024;
		return 1;
	}
	if (strcmp(a, "--pids") == 0) {
		res->pids_max = atoi(argv[++*i]);
		return 1;
	}
	(void)c;
	return 0;
}

static void print_sandbox(struct cli *c, const Sbx__V1__Sandbox *sb)
{
	if (c->json) {
		cli_print_json(&sb->base);
	} else {
		cli_print_fields(&sb->base, "");
	}
}

struct create_call {
	struct cli *c;
	Sbx__V1__CreateSandboxRequest *r;
	Sbx__V1__Sandbox *sb;
	sbx_error e;
	sbx_status s;
	volatile int done;
};

static void *create_thread(void *arg)
{
	struct create_call *cc = arg;
	cc->s = sbx_sandboxes_create(cc->c->client, cc->r, &cc->sb, &cc->e);
	cc->done = 1;
	return NULL;
}

static void draw_bar(const char *image, long long cur, long long total)
{
	int width = 30, filled = total > 0 ? (int)(cur * width / total) : 0;
	char bar[64];
	for (int i = 0; i < width; i++) {
		bar[i] = i < filled ? '#' : ' ';
	}
	bar[width] = '\0';
	fprintf(stderr, "\rpulling %s [%s] %5.1f/%.1f MB", image, bar, (double)cur / 1e6, (double)total / 1e6);
}

/* Create, drawing image pull progress on a terminal while it runs (a pull
 * can take minutes; nothing else would show). */
static sbx_status create_with_progress(struct cli *c, Sbx__V1__CreateSandboxRequest *r, Sbx__V1__Sandbox **sb,
				       sbx_error *e)
{
	sbx_subscription *sub = NULL;
	if (!isatty(2) || c->json || sbx_subscribe(c->client, "events.pulls.", &sub, NULL) != SBX_OK) {
		return sbx_sandboxes_create(c->client, r, sb, e);
	}
	struct create_call cc = {c, r, NULL, {0}, SBX_OK, 0};
	pthread_t th;
	if (pthread_create(&th, NULL, create_thread, &cc) != 0) {
		sbx_unsubscribe(sub);
		return sbx_sandboxes_create(c->client, r, sb, e);
	}
	int drew = 0;
	while (!cc.done) {
		Sbx__V1__Event *ev = NULL;
		if (sbx_next_event(sub, 200, &ev, NULL) != SBX_OK) {
			continue;
		}
		if (ev->n_fields == 2) {
			draw_bar(ev->subject, atoll(ev->fields[0]), atoll(ev->fields[1]));
			drew = 1;
		}
		sbx_free(ev);
	}
	pthread_join(th, NULL);
	if (drew) {
		fputc('\n', stderr);
	}
	sbx_unsubscribe(sub);
	*sb = cc.sb;
	*e = cc.e;
	return cc.s;
}

static int create(struct cli *c, int argc, char **argv)
{
	static const char *usage =
		"create [--name N] [--provider P] [--image I] [--template T] [--cpus N] [--memory SIZE]"
		" [--disk SIZE] [--env K=V] [--volume SRC:DST[:ro]] [--label K=V] [--network MODE]"
		" [--ttl SECONDS] [--get-or-create]";
	Sbx__V1__CreateSandboxRequest *r =
		ARENA_MSG(c->arena, Sbx__V1__CreateSandboxRequest, sbx__v1__create_sandbox_request__init);
	Sbx__V1__Resources *res = ARENA_MSG(c->arena, Sbx__V1__Resources, sbx__v1__resources__init);
	r->resources = res;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int k = resource_flag(c, argc, argv, &i, res, usage);
		if (k < 0) {
			return 2;
		}
		if (k > 0) {
			continue;
		}
		if (strcmp(a, "--get-or-create") == 0) {
			r->get_or_create = 1;
			continue;
		}
		if (i + 1 >= argc) {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
		const char *v = argv[++i];
		if (strcmp(a, "--name") == 0) {
			r->name = (char *)v;
		} else if (strcmp(a, "--provider") == 0) {
			r->provider = (char *)v;
		} else if (strcmp(a, "--image") == 0) {
			r->image = (char *)v;
		} else if (strcmp(a, "--template") == 0) {
			r->template_ = (char *)v;
		} else if (strcmp(a, "--network") == 0) {
			r->network_mode = (char *)v;
		} else if (strcmp(a, "--ttl") == 0) {
			r->ttl_seconds = atoll(v);
		} else if (strcmp(a, "--env") == 0 || strcmp(a, "-e") == 0) {
			if (add_kv(c, &r->base, "env", v, usage)) {
				return 2;
			}
		} else if (strcmp(a, "--label") == 0 || strcmp(a, "-l") == 0) {
			if (add_kv(c, &r->base, "labels", v, usage)) {
				return 2;
			}
		} else if (strcmp(a, "--volume") == 0 || strcmp(a, "-v") == 0) {
			Sbx__V1__Volume *vol = parse_volume(c, v);
			if (vol == NULL) {
				return cli_usage(usage, "--volume: expected SRC:DST or SRC:DST:ro, got \"%s\"", v);
			}
			arena_append(c->arena, (void ***)&r->volumes, &r->n_volumes, vol);
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	if (create_with_progress(c, r, &sb, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&sb->base);
	} else {
		printf("%s\n", sb->id);
	}
	sbx_free(sb);
	return 0;
}

static int ls(struct cli *c, int argc, char **argv)
{
	static const char *usage = "ls [-a] [-q] [--status S] [--provider P] [--label K=V] [--all-users]";
	Sbx__V1__ListSandboxesRequest *r =
		ARENA_MSG(c->arena, Sbx__V1__ListSandboxesRequest, sbx__v1__list_sandboxes_request__init);
	Sbx__V1__PageRequest *page = ARENA_MSG(c->arena, Sbx__V1__PageRequest, sbx__v1__page_request__init);
	r->page = page;
	int all = 0, quiet = 0;
	static Sbx__V1__SandboxStatus live[] = {SBX__V1__SANDBOX_STATUS__CREATING, SBX__V1__SANDBOX_STATUS__RUNNING,
						SBX__V1__SANDBOX_STATUS__PAUSED, SBX__V1__SANDBOX_STATUS__STOPPED,
						SBX__V1__SANDBOX_STATUS__ERROR, SBX__V1__SANDBOX_STATUS__DEAD};
	Sbx__V1__SandboxStatus *st = arena_alloc(c->arena, 8 * sizeof(*st));
	size_t n_st = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
			all = 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			quiet = 1; /* ids only, one per line, for scripts */
		} else if (strcmp(a, "--all-users") == 0) {
			r->all_owners = 1;
		} else if (strcmp(a, "--status") == 0 && i + 1 < argc && n_st < 8) {
			char up[32];
			snprintf(up, sizeof(up), "%s", argv[++i]);
			for (char *p = up; *p; p++) {
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			}
			const ProtobufCEnumValue *v =
				protobuf_c_enum_descriptor_get_value_by_name(&sbx__v1__sandbox_status__descriptor, up);
			if (v == NULL || v->value == 0) {
				return cli_usage(usage, "--status: unknown status \"%s\"", argv[i]);
			}
			st[n_st++] = (Sbx__V1__SandboxStatus)v->value;
		} else if (strcmp(a, "--provider") == 0 && i + 1 < argc) {
			r->provider = argv[++i];
		} else if (strcmp(a, "--label") == 0 && i + 1 < argc) {
			if (add_kv(c, &r->base, "labels", argv[++i], usage)) {
				return 2;
			}
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
	}
	if (n_st > 0) {
		r->status = st;
		r->n_status = n_st;
	} else if (!all) {
		r->status = live; /* like `docker ps -a`: terminated only with -a */
		r->n_status = sizeof(live) / sizeof(live[0]);
	}
	if (cli_connect(c)) {
		return 1;
	}
	static const char *const h[] = {"ID", "NAME", "PROVIDER", "IMAGE", "STATUS", "CREATED", "OWNER"};
	char ***rows = NULL;
	size_t nrows = 0;
	page->page_size = 500;
	for (;;) {
		Sbx__V1__ListSandboxesResponse *resp = NULL;
		sbx_error e;
		if (sbx_sandboxes_list(c->client, r, &resp, &e) != SBX_OK) {
			return cli_fail(&e);
		}
		if (c->json) {
			cli_print_json(&resp->base);
			sbx_free(resp);
			return 0;
		}
		for (size_t i = 0; i < resp->n_sandboxes; i++) {
			Sbx__V1__Sandbox *sb = resp->sandboxes[i];
			if (quiet) {
				printf("%s\n", sb->id);
				continue;
			}
			char **row = arena_alloc(c->arena, 7 * sizeof(char *));
			row[0] = arena_strdup(c->arena, sb->id);
			row[1] = arena_strdup(c->arena, sb->name);
			row[2] = arena_strdup(c->arena, sb->provider);
			row[3] = arena_strdup(c->arena, sb->image);
			row[4] = arena_strdup(c->arena, status_text(sb->status));
			row[5] = arena_strdup(c->arena, sb->created_at);
			row[6] = arena_strdup(c->arena, sb->owner);
			arena_append(c->arena, (void ***)&rows, &nrows, row);
		}
		char *next = resp->next_page_token[0] ? arena_strdup(c->arena, resp->next_page_token) : NULL;
		sbx_free(resp);
		if (next == NULL) {
			break;
		}
		page->page_token = next;
	}
	if (!quiet) {
		cli_table(h, 7, rows, nrows);
	}
	return 0;
}

static int get(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("get ID", "name one sandbox (id or name)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__GetSandboxRequest r = SBX__V1__GET_SANDBOX_REQUEST__INIT;
	r.id = argv[1];
	Sbx__V1__Sandbox *sb = NULL;
	sbx_error e;
	if (sbx_sandboxes_get(c->client, &r, &sb, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	print_sandbox(c, sb);
	sbx_free(sb);
	return 0;
}

typedef sbx_status (*ref_fn)(sbx_client *, const Sbx__V1__SandboxRef *, Sbx__V1__Sandbox **, sbx_error *);

/* start/stop/...: each ID in turn, printing it on success (like docker). */
static int each_ref(struct cli *c, int argc, char **argv, ref_fn fn, const char *usage)
{
	if (argc < 2) {
		return cli_usage(usage, "name at least one sandbox");
	}
	if (cli_connect(c)) {
		return 1;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		Sbx__V1__SandboxRef r = SBX__V1__SANDBOX_REF__INIT;
		r.id = argv[i];
		Sbx__V1__Sandbox *sb = NULL;
		sbx_error e;
		if (fn(c->client, &r, &sb, &e) != SBX_OK) {
			rc = cli_fail(&e);
			continue;
		}
		if (c->json) {
			cli_print_json(&sb->base);
		} else {
			printf("%s\n", argv[i]);
		}
		sbx_free(sb);
	}
	return rc;
}

#define REF_CMD(name, fn)                                                       \
	static int verb_##name(struct cli *c, int argc, char **argv)              \
	{                                                                         \
		return each_ref(c, argc, argv, fn, #name " ID...");                 \
	}
REF_CMD(start, sbx_sandboxes_start)
REF_CMD(stop, sbx_sandboxes_stop)
REF_CMD(restart, sbx_sandboxes_restart)
REF_CMD(pause, sbx_sandboxes_pause)
REF_CMD(resume, sbx_sandboxes_resume)

/* Runs `one` on each name, printing each name done (docker's rm habit)
 * and going on past failures; the exit code is 1 if any failed. */
typedef sbx_status (*name_op)(struct cli *c, const char *name, const void *arg, sbx_error *e);

static int each_name(struct cli *c, char **names, int n, name_op one, const void *arg)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		sbx_error e;
		if (one(c, names[i], arg, &e) != SBX_OK) {
			rc = cli_fail(&e);
		} else {
			printf("%s\n", names[i]);
		}
	}
	return rc;
}

static sbx_status destroy_one(struct cli *c, const char *id, const void *force, sbx_error *e)
{
	Sbx__V1__DestroySandboxRequest r = SBX__V1__DESTROY_SANDBOX_REQUEST__INIT;
	r.id = (char *)id;
	r.force = *(const int *)force;
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = sbx_sandboxes_destroy(c->client, &r, &sb, e);
	sbx_free(sb);
	return s;
}

static int rm(struct cli *c, int argc, char **argv)
{
	int force = 0, first = 1;
	if (argc > 1 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "--force") == 0)) {
		force = 1;
		first = 2;
	}
	if (argc <= first) {
		return cli_usage("rm [-f] ID...", "name at least one sandbox");
	}
	if (cli_connect(c)) {
		return 1;
	}
	return each_name(c, argv + first, argc - first, destroy_one, &force);
}

static int clean(struct cli *c, int argc, char **argv)
{
	Sbx__V1__CleanSandboxesRequest r = SBX__V1__CLEAN_SANDBOXES_REQUEST__INIT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--orphans") == 0) {
			r.orphans = 1;
		} else if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			r.dry_run = 1;
		} else {
			return cli_usage("clean [--dry-run] [--orphans]", "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__CleanSandboxesResponse *resp = NULL;
	sbx_error e;
	if (sbx_sandboxes_clean(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&resp->base);
	} else {
		for (size_t i = 0; i < resp->n_removed; i++) {
			printf("%s%s\n", r.dry_run ? "would remove " : "", resp->removed[i]);
		}
		if (resp->n_orphans > 0 && !r.orphans) {
			fprintf(stderr, "%zu orphan(s) carry sbx labels but are unknown here:\n", resp->n_orphans);
			for (size_t i = 0; i < resp->n_orphans; i++) {
				fprintf(stderr, "  %s\n", resp->orphans[i]);
			}
			fprintf(stderr, "remove them with: sbx clean --orphans\n");
		}
	}
	sbx_free(resp);
	return 0;
}

int cmd_create(struct cli *c, int argc, char **argv)
{
	return create(c, argc + 1, argv - 1);
}

static const struct { const char *name; cli_fn fn; } top[] = {
	{"ls", ls}, {"get", get}, {"start", verb_start}, {"stop", verb_stop}, {"restart", verb_restart},
	{"pause", verb_pause}, {"resume", verb_resume}, {"rm", rm}, {"clean", clean},
};

/* Top-level sandbox verbs share one entry: argv[-1] is the verb. */
int cmd_sandbox_verb(struct cli *c, int argc, char **argv)
{
	const char *verb = argv[-1];
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		if (strcmp(top[i].name, verb) == 0) {
			return top[i].fn(c, argc + 1, argv - 1);
		}
	}
	return 2;
}

/* ---- templates ------------------------------------------------------- */

static int tcreate(struct cli *c, int argc, char **argv)
{
	static const char *usage =
		"templates create NAME [--provider P] [--image I] [--cpus N] [--memory SIZE] [--env K=V]"
		" [--label K=V] [--network MODE] [--setup CMD]... [--description D] [--shared]";
	if (argc < 2 || argv[1][0] == '-') {
		return cli_usage(usage, "name the template first");
	}
	Sbx__V1__Template *t = ARENA_MSG(c->arena, Sbx__V1__Template, sbx__v1__template__init);
	Sbx__V1__Resources *res = ARENA_MSG(c->arena, Sbx__V1__Resources, sbx__v1__resources__init);
	t->resources = res;
	t->name = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		int k = resource_flag(c, argc, argv, &i, res, usage);
		if (k < 0) {
			return 2;
		}
		if (k > 0) {
			continue;
		}
		if (strcmp(a, "--shared") == 0) {
			t->shared = 1;
			continue;
		}
		if (i + 1 >= argc) {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
		const char *v = argv[++i];
		if (strcmp(a, "--provider") == 0) {
			t->provider = (char *)v;
		} else if (strcmp(a, "--image") == 0) {
			t->image = (char *)v;
		} else if (strcmp(a, "--network") == 0) {
			t->network_mode = (char *)v;
		} else if (strcmp(a, "--description") == 0) {
			t->description = (char *)v;
		} else if (strcmp(a, "--setup") == 0) {
			arena_append(c->arena, (void ***)&t->setup_commands, &t->n_setup_commands, (void *)v);
		} else if (strcmp(a, "--env") == 0 || strcmp(a, "-e") == 0) {
			if (add_kv(c, &t->base, "env", v, usage)) {
				return 2;
			}
		} else if (strcmp(a, "--label") == 0 || strcmp(a, "-l") == 0) {
			if (add_kv(c, &t->base, "labels", v, usage)) {
				return 2;
			}
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Template *out = NULL;
	sbx_error e;
	if (sbx_templates_create(c->client, t, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
	} else {
		printf("%s\n", out->name);
	}
	sbx_free(out);
	return 0;
}

static int tls(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		return cli_usage("templates ls", "no arguments expected");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Empty r = SBX__V1__EMPTY__INIT;
	Sbx__V1__ListTemplatesResponse *resp = NULL;
	sbx_error e;
	if (sbx_templates_list(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&resp->base);
		sbx_free(resp);
		return 0;
	}
	static const char *const h[] = {"NAME", "OWNER", "PROVIDER", "IMAGE", "SETUP", "SHARED"};
	char ***rows = arena_alloc(c->arena, (resp->n_templates + 1) * sizeof(char **));
	for (size_t i = 0; i < resp->n_templates; i++) {
		Sbx__V1__Template *t = resp->templates[i];
		char **row = arena_alloc(c->arena, 6 * sizeof(char *));
		row[0] = t->name;
		row[1] = t->owner;
		row[2] = t->provider;
		row[3] = t->image;
		row[4] = arena_printf(c->arena, "%zu", t->n_setup_commands);
		row[5] = t->shared ? "yes" : "no";
		rows[i] = row;
	}
	cli_table(h, 6, rows, resp->n_templates);
	sbx_free(resp);
	return 0;
}

static int tget(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("templates get NAME", "name one template");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__TemplateRef r = SBX__V1__TEMPLATE_REF__INIT;
	r.name = argv[1];
	Sbx__V1__Template *t = NULL;
	sbx_error e;
	if (sbx_templates_get(c->client, &r, &t, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&t->base);
	} else {
		cli_print_fields(&t->base, "");
	}
	sbx_free(t);
	return 0;
}

static sbx_status template_delete_one(struct cli *c, const char *name, const void *arg, sbx_error *e)
{
	(void)arg;
	Sbx__V1__TemplateRef r = SBX__V1__TEMPLATE_REF__INIT;
	r.name = (char *)name;
	Sbx__V1__Empty *out = NULL;
	sbx_status s = sbx_templates_delete(c->client, &r, &out, e);
	sbx_free(out);
	return s;
}

static int trm(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		return cli_usage("templates rm NAME...", "name at least one template");
	}
	if (cli_connect(c)) {
		return 1;
	}
	return each_name(c, argv + 1, argc - 1, template_delete_one, NULL);
}

static const struct cli_command tcmds[] = {
	{"ls", tls, "templates ls", "your templates and shared ones"},
	{"get", tget, "templates get NAME", "one template"},
	{"create", tcreate, "templates create NAME [flags]", "a reusable sandbox configuration"},
	{"rm", trm, "templates rm NAME...", "delete templates"},
	{NULL, NULL, NULL, NULL},
};

int cmd_templates(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "templates", tcmds, argc, argv);
}

/* ---- images ---------------------------------------------------------- */

static int iimport(struct cli *c, int argc, char **argv)
{
	static const char *usage = "images import NAME FILE.tar";
	if (argc != 3) {
		return cli_usage(usage, "name the image and the tar file");
	}
	/* The daemon reads the file: hand it an absolute path. */
	char *path = realpath(argv[2], NULL);
	if (path == NULL) {
		fprintf(stderr, "sbx: INVALID_ARGUMENT: %s: cannot read it\n", argv[2]);
		return 1;
	}
	if (cli_connect(c)) {
		free(path);
		return 1;
	}
	Sbx__V1__ImportImageRequest r = SBX__V1__IMPORT_IMAGE_REQUEST__INIT;
	r.name = argv[1];
	r.tar_path = path;
	Sbx__V1__Image *im = NULL;
	sbx_error e;
	sbx_status s = sbx_images_import(c->client, &r, &im, &e);
	free(path);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&im->base);
	} else {
		printf("%s\n", im->name);
	}
	sbx_free(im);
	return 0;
}

static int ils(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		return cli_usage("images ls", "no arguments expected");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Empty r = SBX__V1__EMPTY__INIT;
	Sbx__V1__ListImagesResponse *resp = NULL;
	sbx_error e;
	if (sbx_images_list(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&resp->base);
		sbx_free(resp);
		return 0;
	}
	static const char *const h[] = {"NAME", "PROVIDER", "SIZE", "SANDBOXES", "CREATED"};
	char ***rows = arena_alloc(c->arena, (resp->n_images + 2) * sizeof(char **));
	char *host[] = {"host", "local", "-", "-", "(built in: the host's /usr, read-only)"};
	rows[0] = host;
	for (size_t i = 0; i < resp->n_images; i++) {
		Sbx__V1__Image *im = resp->images[i];
		char **row = arena_alloc(c->arena, 5 * sizeof(char *));
		row[0] = im->name;
		row[1] = im->provider;
		row[2] = arena_printf(c->arena, "%.1f MB", (double)im->size_bytes / 1e6);
		row[3] = arena_printf(c->arena, "%d", im->sandboxes);
		row[4] = im->created_at;
		rows[i + 1] = row;
	}
	cli_table(h, 5, rows, resp->n_images + 1);
	sbx_free(resp);
	return 0;
}

static sbx_status image_delete_one(struct cli *c, const char *name, const void *arg, sbx_error *e)
{
	(void)arg;
	Sbx__V1__ImageRef r = SBX__V1__IMAGE_REF__INIT;
	r.name = (char *)name;
	Sbx__V1__Empty *out = NULL;
	sbx_status s = sbx_images_delete(c->client, &r, &out, e);
	sbx_free(out);
	return s;
}

static int irm(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		return cli_usage("images rm NAME...", "name at least one image");
	}
	if (cli_connect(c)) {
		return 1;
	}
	return each_name(c, argv + 1, argc - 1, image_delete_one, NULL);
}

static const struct cli_command icmds[] = {
	{"import", iimport, "images import NAME FILE.tar", "a root filesystem from a tarball (admin)"},
	{"ls", ils, "images ls", "images for native sandboxes"},
	{"rm", irm, "images rm NAME...", "delete unused images (admin)"},
	{NULL, NULL, NULL, NULL},
};

int cmd_images(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "images", icmds, argc, argv);
}

/* sbx stats [ID...]                 resource use now, like `docker stats --no-stream`
 * sbx stats --history ID [--since T] [--limit N]   recorded readings, newest first */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static const char *usage = "stats [ID...] | stats --history ID [--since TIME] [--limit N]";

/* 1536 -> "1.5KiB", in `a`. */
static char *human_bytes(arena *a, int64_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.1f%s", v, units[u]);
	return arena_strdup(a, buf);
}

static char *usage_of(arena *a, int64_t used, int64_t limit)
{
	char buf[80];
	char *u = human_bytes(a, used);
	snprintf(buf, sizeof(buf), "%s / %s", u, limit > 0 ? human_bytes(a, limit) : "-");
	return arena_strdup(a, buf);
}

static char **stats_row(arena *a, const char *label, const Sbx__V1__SandboxStats *s)
{
	char **row = arena_alloc(a, 6 * sizeof(char *));
	char pct[32], pids[32];
	snprintf(pct, sizeof(pct), "%.1f%%", s->cpu_percent);
	snprintf(pids, sizeof(pids), "%lld", (long long)s->pids);
	row[0] = arena_strdup(a, label);
	row[1] = arena_strdup(a, pct);
	row[2] = usage_of(a, s->memory_bytes, s->memory_limit);
	row[3] = arena_strdup(a, pids);
	row[4] = s->disk_limit > 0 ? usage_of(a, s->disk_bytes, s->disk_limit) : arena_strdup(a, "-");
	row[5] = arena_strdup(a, s->recorded_at);
	return row;
}

static const char *const headers[] = {"SANDBOX", "CPU %", "MEM USAGE / LIMIT", "PIDS", "DISK USAGE / LIMIT", "AT"};

/* The ids of the caller's sandboxes that have processes, in `a`. */
static int live_ids(struct cli *c, char ***ids, size_t *n)
{
	static Sbx__V1__SandboxStatus live[] = {SBX__V1__SANDBOX_STATUS__RUNNING, SBX__V1__SANDBOX_STATUS__PAUSED};
	Sbx__V1__ListSandboxesRequest r = SBX__V1__LIST_SANDBOXES_REQUEST__INIT;
	Sbx__V1__PageRequest page = SBX__V1__PAGE_REQUEST__INIT;
	page.page_size = 500;
	r.page = &page;
	r.status = live;
	r.n_status = 2;
	for (;;) {
		Sbx__V1__ListSandboxesResponse *resp = NULL;
		sbx_error e;
		if (sbx_sandboxes_list(c->client, &r, &resp, &e) != SBX_OK) {
			return cli_fail(&e);
		}
		for (size_t i = 0; i < resp->n_sandboxes; i++) {
			arena_append(c->arena, (void ***)ids, n, arena_strdup(c->arena, resp->sandboxes[i]->id));
		}
		char *next = resp->next_page_token[0] ? arena_strdup(c->arena, resp->next_page_token) : NULL;
		sbx_free(resp);
		if (next == NULL) {
			return 0;
		}
		page.page_token = next;
	}
}

static int now(struct cli *c, char **ids, size_t n)
{
	char ***rows = NULL;
	size_t nrows = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		Sbx__V1__SandboxRef r = SBX__V1__SANDBOX_REF__INIT;
		r.id = ids[i];
		Sbx__V1__SandboxStats *s = NULL;
		sbx_error e;
		if (sbx_sandboxes_stats(c->client, &r, &s, &e) != SBX_OK) {
			rc = cli_fail(&e); /* the others are still shown */
			continue;
		}
		if (c->json) {
			cli_print_json(&s->base);
		} else {
			arena_append(c->arena, (void ***)&rows, &nrows, stats_row(c->arena, ids[i], s));
		}
		sbx_free(s);
	}
	if (!c->json) {
		cli_table(headers, 6, rows, nrows);
	}
	return rc;
}

static int history(struct cli *c, const char *id, const char *since, int limit)
{
	Sbx__V1__StatsHistoryRequest r = SBX__V1__STATS_HISTORY_REQUEST__INIT;
	r.id = (char *)id;
	r.since = (char *)since;
	r.limit = limit;
	Sbx__V1__StatsHistoryResponse *resp = NULL;
	sbx_error e;
	if (sbx_sandboxes_stats_history(c->client, &r, &resp, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&resp->base);
	} else {
		char ***rows = NULL;
		size_t nrows = 0;
		for (size_t i = 0; i < resp->n_samples; i++) {
			arena_append(c->arena, (void ***)&rows, &nrows, stats_row(c->arena, id, resp->samples[i]));
		}
		cli_table(headers, 6, rows, nrows);
	}
	sbx_free(resp);
	return 0;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
	const char *hist = NULL, *since = "";
	int limit = 0;
	char **ids = NULL;
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
			hist = argv[++i];
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			since = argv[++i];
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end != '\0' || v < 0 || v > 1000) {
				return cli_usage(usage, "--limit: a number from 0 to 1000");
			}
			limit = (int)v;
		} else if (argv[i][0] == '-') {
			return cli_usage(usage, "unexpected flag \"%s\"", argv[i]);
		} else {
			arena_append(c->arena, (void ***)&ids, &n, argv[i]);
		}
	}
	if (hist != NULL && n > 0) {
		return cli_usage(usage, "--history takes one sandbox");
	}
	if (cli_connect(c)) {
		return 1;
	}
	if (hist != NULL) {
		return history(c, hist, since, limit);
	}
	if (n == 0 && live_ids(c, &ids, &n) != 0) {
		return 1;
	}
	return now(c, ids, n);
}

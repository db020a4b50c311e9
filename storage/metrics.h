/* Recorded readings of sandboxes' resource use (table sandbox_metrics),
 * pruned after settings.metrics_retention_days by the janitor. */
#ifndef SBX_STORAGE_METRICS_H
#define SBX_STORAGE_METRICS_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "sbx/v1/sandboxes.pb-c.h"

/* CPU use since the sandbox's newest recorded reading, as a percentage of
 * one core, for a reading of `cpu_usage_ns` taken at `recorded_at`; 0
 * without an earlier reading (or after a restart reset the counter). */
double metrics_cpu_percent(sqlite3 *db, const char *sandbox_id, int64_t cpu_usage_ns,
			   const char *recorded_at);

sbx_status metrics_record(sqlite3 *db, const Sbx__V1__SandboxStats *s, err_t *e);

/* Readings of one sandbox, newest first, from `since` (RFC 3339, or "")
 * on, at most `limit`; in `a`. */
sbx_status metrics_list(sqlite3 *db, const char *sandbox_id, const char *since, int limit,
			Sbx__V1__StatsHistoryResponse *out, arena *a, err_t *e);

/* 1 when `t` is a time SQLite reads (RFC 3339 and its shorter forms). */
int metrics_time_ok(sqlite3 *db, const char *t);

#endif

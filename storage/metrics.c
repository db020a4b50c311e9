#include "metrics.h"

#include <string.h>

#include "db.h"

double metrics_cpu_percent(sqlite3 *db, const char *sandbox_id, int64_t cpu_usage_ns,
			   const char *recorded_at)
{
	sqlite3_stmt *st;
	err_t e;
	if (db_prepare(db,
		       "SELECT cpu_usage_ns, (julianday(?2) - julianday(recorded_at)) * 86400000.0"
		       " FROM sandbox_metrics WHERE sandbox_id = ?1 ORDER BY recorded_at DESC LIMIT 1",
		       &st, &e) != SBX_OK) {
		return 0;
	}
	sqlite3_bind_text(st, 1, sandbox_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, recorded_at, -1, SQLITE_STATIC);
	double pct = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t prev = sqlite3_column_int64(st, 0);
		double elapsed_ms = sqlite3_column_double(st, 1);
		if (elapsed_ms >= 1 && cpu_usage_ns >= prev) {
			pct = (double)(cpu_usage_ns - prev) / (elapsed_ms * 1e6) * 100.0;
		}
	}
	sqlite3_finalize(st);
	return pct;
}

sbx_status metrics_record(sqlite3 *db, const Sbx__V1__SandboxStats *s, err_t *e)
{
	sqlite3_stmt *st;
	/* Two readings in the same millisecond are one. */
	sbx_status rc = db_prepare(db,
				   "INSERT OR REPLACE INTO sandbox_metrics(sandbox_id, recorded_at, cpu_usage_ns,"
				   " cpu_percent, memory_bytes, memory_limit, pids, disk_bytes, disk_limit)"
				   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
				   &st, e);
	if (rc != SBX_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, s->sandbox_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->recorded_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->cpu_usage_ns);
	sqlite3_bind_double(st, 4, s->cpu_percent);
	sqlite3_bind_int64(st, 5, s->memory_bytes);
	sqlite3_bind_int64(st, 6, s->memory_limit);
	sqlite3_bind_int64(st, 7, s->pids);
	sqlite3_bind_int64(st, 8, s->disk_bytes);
	sqlite3_bind_int64(st, 9, s->disk_limit);
	return db_step_done(db, st, "sandbox_metrics", e);
}

sbx_status metrics_list(sqlite3 *db, const char *sandbox_id, const char *since, int limit,
			Sbx__V1__StatsHistoryResponse *out, arena *a, err_t *e)
{
	out->samples = arena_alloc(a, (size_t)limit * sizeof(*out->samples));
	out->n_samples = 0;
	if (out->samples == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sqlite3_stmt *st;
	sbx_status rc = db_prepare(db,
				   "SELECT recorded_at, cpu_usage_ns, cpu_percent, memory_bytes, memory_limit, pids,"
				   " disk_bytes, disk_limit FROM sandbox_metrics WHERE sandbox_id = ?1"
				   " AND (?2 = '' OR julianday(recorded_at) >= julianday(?2))"
				   " ORDER BY recorded_at DESC LIMIT ?3",
				   &st, e);
	if (rc != SBX_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, sandbox_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		Sbx__V1__SandboxStats *s = ARENA_MSG(a, Sbx__V1__SandboxStats, sbx__v1__sandbox_stats__init);
		if (s == NULL || (s->sandbox_id = arena_strdup(a, sandbox_id)) == NULL ||
		    (s->recorded_at = arena_strdup(a, db_text(st, 0))) == NULL) {
			sqlite3_finalize(st);
			return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
		}
		s->cpu_usage_ns = sqlite3_column_int64(st, 1);
		s->cpu_percent = sqlite3_column_double(st, 2);
		s->memory_bytes = sqlite3_column_int64(st, 3);
		s->memory_limit = sqlite3_column_int64(st, 4);
		s->pids = sqlite3_column_int64(st, 5);
		s->disk_bytes = sqlite3_column_int64(st, 6);
		s->disk_limit = sqlite3_column_int64(st, 7);
		out->samples[out->n_samples++] = s;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? SBX_OK : db_error(db, step, "sandbox_metrics", e);
}

int metrics_time_ok(sqlite3 *db, const char *t)
{
	sqlite3_stmt *st;
	err_t e;
	if (db_prepare(db, "SELECT julianday(?1) IS NOT NULL", &st, &e) != SBX_OK) {
		return 0;
	}
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	int ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ok;
}

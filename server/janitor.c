#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "daemon.h"
#include "db.h"
#include "executions.h"
#include "idempotency.h"
#include "transfers.h"
#include "janitor.h"
#include "sandboxes.h"
#include "services.h"
#include "settings.h"

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stopping, started;

/* Runs `act` on every sandbox selected by `where` (a constant). */
static void for_each(sqlite3 *db, arena *a, const char *where,
		     sbx_status (*act)(sqlite3 *, const char *, const char *, err_t *),
		     const char *reason)
{
	char **ids = NULL;
	size_t n = 0;
	err_t e;
	if (sandboxes_ids(db, where, a, &ids, &n, &e) != SBX_OK) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (act(db, ids[i], reason, &e) != SBX_OK) {
			fprintf(stderr, "sbxd: janitor: %s: %s\n", ids[i], e.message);
		}
	}
}

static void prune_metrics(sqlite3 *db, int days)
{
	sqlite3_stmt *st;
	err_t e;
	if (db_prepare(db, "DELETE FROM sandbox_metrics WHERE recorded_at <"
			   " strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d days', ?1))",
		       &st, &e) == SBX_OK) {
		sqlite3_bind_int(st, 1, days);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
}

static int pass(void)
{
	err_t e;
	sqlite3 *db = db_acquire(&e);
	arena *a = arena_new(8u << 20);
	Sbx__V1__SandboxSettings *set = NULL;
	int interval_s = 600;
	if (db != NULL && a != NULL && settings_load(db, &set, a, &e) == SBX_OK) {
		interval_s = set->cleanup_interval_minutes * 60;
		for_each(db, a,
			 "status NOT IN ('terminated', 'creating') AND expires_at IS NOT NULL"
			 " AND expires_at <= strftime('%Y-%m-%dT%H:%M:%SZ','now')",
			 sandboxes_destroy_for, "ttl expired");
		if (set->auto_stop_idle_minutes > 0) {
			char where[256];
			snprintf(where, sizeof(where),
				 "status = 'running' AND last_activity_at <="
				 " strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now','-%d minutes')",
				 set->auto_stop_idle_minutes);
			for_each(db, a, where, sandboxes_stop_for, "stopped after being idle");
		}
		if (set->max_runtime_hours > 0) {
			char where[256];
			snprintf(where, sizeof(where),
				 "status IN ('running', 'paused') AND started_at <="
				 " strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now','-%d hours')",
				 set->max_runtime_hours);
			for_each(db, a, where, sandboxes_stop_for, "stopped at max_runtime_hours");
		}
		for_each(db, a, "status IN ('running', 'paused')", sandboxes_record_stats_for, "");
		char dir[1100];
		snprintf(dir, sizeof(dir), "%s/executions", daemon_info.data_dir);
		output_prune(dir, set->log_retention_days);
		transfers_expire(10 * 60 * 1000);
		prune_metrics(db, set->metrics_retention_days);
		idem_prune(db, 24, &e);
	}
	arena_free(a);
	db_release(db);
	return interval_s > 0 ? interval_s : 60;
}

void janitor_run_once(void)
{
	pass();
}

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		pthread_mutex_unlock(&mu);
		int wait_s = pass();
		pthread_mutex_lock(&mu);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_s;
		while (!stopping && pthread_cond_timedwait(&cv, &mu, &ts) == 0) {
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

sbx_status janitor_start(err_t *e)
{
	if (pthread_create(&thread, NULL, loop, NULL) != 0) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start the janitor thread");
	}
	started = 1;
	return SBX_OK;
}

void janitor_stop(void)
{
	if (!started) {
		return;
	}
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	started = 0;
}

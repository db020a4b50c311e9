#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "migrate.h"

static char *db_path;
static __thread sqlite3 *thread_db;
static __thread int64_t thread_deadline_ms;

static int progress(void *arg)
{
	(void)arg;
	return thread_deadline_ms != 0 && clock_mono_ms() > thread_deadline_ms;
}

sqlite3 *db_open(const char *path, err_t *e)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		err_set(e, rc == SQLITE_CANTOPEN ? SBX_UNAVAILABLE : SBX_INTERNAL,
			"open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	/* NORMAL in WAL mode loses nothing when the process dies; only a power
	 * failure can drop the last transactions. */
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			"PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;", e) != SBX_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_progress_handler(db, 1000, progress, NULL);
	return db;
}

sbx_status db_init(const char *path, err_t *e)
{
	free(db_path);
	db_path = strdup(path);
	if (db_path == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sqlite3 *db = db_get(e);
	if (db == NULL) {
		return e->code;
	}
	return migrate_up(db, -1, e);
}

sqlite3 *db_get(err_t *e)
{
	if (thread_db == NULL) {
		if (db_path == NULL) {
			err_set(e, SBX_INTERNAL, "database not initialised");
			return NULL;
		}
		thread_db = db_open(db_path, e);
	}
	return thread_db;
}

#define POOL_MAX 16
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *pool[POOL_MAX];
static int pool_n;

sqlite3 *db_acquire(err_t *e)
{
	pthread_mutex_lock(&pool_mu);
	sqlite3 *db = pool_n > 0 ? pool[--pool_n] : NULL;
	pthread_mutex_unlock(&pool_mu);
	if (db == NULL) {
		if (db_path == NULL) {
			err_set(e, SBX_INTERNAL, "database not initialised");
			return NULL;
		}
		db = db_open(db_path, e);
	}
	return db;
}

void db_release(sqlite3 *db)
{
	if (db == NULL) {
		return;
	}
	db_rollback(db);
	pthread_mutex_lock(&pool_mu);
	if (pool_n < POOL_MAX) {
		pool[pool_n++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	if (db != NULL) {
		sqlite3_close(db);
	}
}

void db_thread_close(void)
{
	if (thread_db != NULL) {
		sqlite3_close(thread_db);
		thread_db = NULL;
	}
}

void db_set_deadline(int64_t deadline_ms)
{
	thread_deadline_ms = deadline_ms;
}

sbx_status db_error(sqlite3 *db, int rc, const char *what, err_t *e)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	sbx_status code;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = SBX_UNAVAILABLE;
		break;
	case SQLITE_FULL:
		code = SBX_RESOURCE_EXHAUSTED;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = SBX_DATA_LOSS;
		break;
	case SQLITE_INTERRUPT:
		code = SBX_DEADLINE_EXCEEDED;
		msg = "deadline exceeded during a database query";
		break;
	case SQLITE_CONSTRAINT:
		code = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			       ? SBX_ALREADY_EXISTS
			       : SBX_INVALID_ARGUMENT;
		break;
	default:
		code = SBX_INTERNAL;
	}
	return err_set(e, code, "%s: %s", what, msg);
}

sbx_status db_exec(sqlite3 *db, const char *sql, err_t *e)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? SBX_OK : db_error(db, rc, "database", e);
}

sbx_status db_begin(sqlite3 *db, err_t *e)
{
	return db_exec(db, "BEGIN IMMEDIATE", e);
}

sbx_status db_commit(sqlite3 *db, err_t *e)
{
	sbx_status s = db_exec(db, "COMMIT", e);
	if (s != SBX_OK) {
		db_rollback(db);
	}
	return s;
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
}

sbx_status db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, err_t *e)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? SBX_OK : db_error(db, rc, "prepare", e);
}

const char *db_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

void db_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || s[0] == '\0') {
		sqlite3_bind_null(st, i);
	} else {
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	}
}

sbx_status db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, err_t *e)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, what, e);
}

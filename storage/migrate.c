#include <stdio.h>

#include "db.h"
#include "migrate.h"

static int ensure_table(sqlite3 *db)
{
	return sqlite3_exec(db,
			    "CREATE TABLE IF NOT EXISTS schema_migrations ("
			    " version INTEGER PRIMARY KEY,"
			    " name TEXT NOT NULL,"
			    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
			    NULL, NULL, NULL);
}

int migrate_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = 0;
	if (ensure_table(db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT coalesce(max(version),0) FROM schema_migrations",
			       -1, &st, NULL) != SQLITE_OK) {
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

static sbx_status run(sqlite3 *db, const char *sql, const char *what, err_t *e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err_set(e, SBX_INTERNAL, "migration %s: %s", what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return SBX_INTERNAL;
	}
	return SBX_OK;
}

static sbx_status record(sqlite3 *db, const struct migration *m, int up, err_t *e)
{
	sqlite3_stmt *st;
	const char *sql = up ? "INSERT INTO schema_migrations(version, name) VALUES(?1, ?2)"
			     : "DELETE FROM schema_migrations WHERE version = ?1";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		return err_set(e, SBX_INTERNAL, "migration record: %s", sqlite3_errmsg(db));
	}
	sqlite3_bind_int(st, 1, m->version);
	if (up) {
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK
				 : err_set(e, SBX_INTERNAL, "migration record: %s", sqlite3_errmsg(db));
}

static sbx_status migrate(sqlite3 *db, int target, int up, err_t *e)
{
	if (ensure_table(db) != SQLITE_OK) {
		return err_set(e, SBX_INTERNAL, "schema_migrations: %s", sqlite3_errmsg(db));
	}
	sbx_status s = run(db, "BEGIN IMMEDIATE", "begin", e);
	if (s != SBX_OK) {
		return s;
	}
	int current = migrate_version(db);
	if (up) {
		for (int i = 0; i < migrations_count && s == SBX_OK; i++) {
			const struct migration *m = &migrations[i];
			if (m->version <= current || (target >= 0 && m->version > target)) {
				continue;
			}
			s = run(db, m->up, m->name, e);
			if (s == SBX_OK) {
				s = record(db, m, 1, e);
			}
		}
	} else {
		for (int i = migrations_count - 1; i >= 0 && s == SBX_OK; i--) {
			const struct migration *m = &migrations[i];
			if (m->version > current || m->version <= target) {
				continue;
			}
			s = run(db, m->down, m->name, e);
			if (s == SBX_OK) {
				s = record(db, m, 0, e);
			}
		}
	}
	if (s != SBX_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return s;
	}
	return run(db, "COMMIT", "commit", e);
}

sbx_status migrate_up(sqlite3 *db, int target, err_t *e)
{
	return migrate(db, target, 1, e);
}

sbx_status migrate_down(sqlite3 *db, int target, err_t *e)
{
	return migrate(db, target, 0, e);
}

/* SQLite access: one connection per thread (WAL lets readers run beside the
 * writer), migrations at start-up, and the translation of SQLite result
 * codes into sbx statuses. */
#ifndef SBX_STORAGE_DB_H
#define SBX_STORAGE_DB_H

#include <stdint.h>
#include <sqlite3.h>

#include "err.h"

/* Opens (creating) the database at `path`, sets WAL and applies pending
 * migrations. Call once before db_get(). `path` is copied. */
sbx_status db_init(const char *path, err_t *e);

/* Opens a connection with the product's pragmas. Caller closes it with
 * sqlite3_close(). For tools and tests; threads use db_get(). */
sqlite3 *db_open(const char *path, err_t *e);

/* The calling thread's connection, opened on first use; owned by the
 * thread, closed by db_thread_close(). NULL with `e` set on failure. */
sqlite3 *db_get(err_t *e);
void db_thread_close(void);

/* A connection from a shared pool, for short-lived threads (execution
 * runners) that would otherwise open one each time. Return it with
 * db_release(); NULL with `e` set on failure. */
sqlite3 *db_acquire(err_t *e);
void db_release(sqlite3 *db);

/* Bounds the statements run by this thread: past the monotonic deadline
 * (ms, 0 = none) they stop with DEADLINE_EXCEEDED. */
void db_set_deadline(int64_t deadline_ms);

/* Maps a SQLite result code (and the connection's message) to a status:
 * BUSY/LOCKED -> UNAVAILABLE, FULL -> RESOURCE_EXHAUSTED, CORRUPT/NOTADB ->
 * DATA_LOSS, UNIQUE/PRIMARY KEY -> ALREADY_EXISTS, CHECK/FOREIGN KEY ->
 * INVALID_ARGUMENT, INTERRUPT -> DEADLINE_EXCEEDED, else INTERNAL. */
sbx_status db_error(sqlite3 *db, int rc, const char *what, err_t *e);

sbx_status db_exec(sqlite3 *db, const char *sql, err_t *e);
sbx_status db_begin(sqlite3 *db, err_t *e);   /* BEGIN IMMEDIATE */
sbx_status db_commit(sqlite3 *db, err_t *e);
void db_rollback(sqlite3 *db);

/* Prepares `sql`; on failure fills `e`. */
sbx_status db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, err_t *e);
/* Runs a statement that returns no rows and finalizes it; `what` names
 * the table in the error. */
sbx_status db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, err_t *e);

/* Text of column `i`, "" for NULL (never NULL). */
const char *db_text(sqlite3_stmt *st, int i);

/* Binds a text parameter, NULL when `s` is empty. */
void db_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);

#endif

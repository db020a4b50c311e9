#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "idempotency.h"

sbx_status idem_lookup(sqlite3 *db, const char *user_id, const char *key,
		       idem_record *rec, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "SELECT method, request_hash, code, reply FROM idempotency_keys"
				  " WHERE user_id = ?1 AND key = ?2",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(rec->method, sizeof(rec->method), "%s", db_text(st, 0));
		snprintf(rec->request_hash, sizeof(rec->request_hash), "%s", db_text(st, 1));
		rec->code = sqlite3_column_int(st, 2);
		rec->reply_len = (size_t)sqlite3_column_bytes(st, 3);
		rec->reply = malloc(rec->reply_len ? rec->reply_len : 1);
		if (rec->reply == NULL) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
		} else {
			if (rec->reply_len) {
				memcpy(rec->reply, sqlite3_column_blob(st, 3), rec->reply_len);
			}
			s = SBX_OK;
		}
	} else if (rc == SQLITE_DONE) {
		s = SBX_NOT_FOUND;
	} else {
		s = db_error(db, rc, "idempotency_keys", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status idem_store(sqlite3 *db, const char *user_id, const char *key,
		      const char *method, const char *request_hash, int code,
		      const uint8_t *reply, size_t reply_len, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO idempotency_keys(user_id, key, method, request_hash, code, reply)"
				  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, request_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, code);
	sqlite3_bind_blob(st, 6, reply_len ? (const void *)reply : "", (int)reply_len,
			  SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "idempotency_keys", e);
}

sbx_status idem_prune(sqlite3 *db, int max_age_hours, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "DELETE FROM idempotency_keys WHERE created_at <"
				  " strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d hours', ?1))",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_int(st, 1, max_age_hours);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "idempotency_keys", e);
}

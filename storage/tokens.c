#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "tokens.h"

sbx_status users_ensure(sqlite3 *db, const char *name, char id_out[40], err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT id FROM users WHERE name = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(id_out, 40, "%s", db_text(st, 0));
		sqlite3_finalize(st);
		return SBX_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return db_error(db, rc, "users", e);
	}
	unsigned char rnd[8];
	char hex[17];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(id_out, 40, "usr_%s", hex);
	s = db_prepare(db, "INSERT INTO users(id, name) VALUES(?1, ?2)", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id_out, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "users", e);
}

sbx_status tokens_insert(sqlite3 *db, const char *token_id, const char *user_id,
			 const char *name, const char *hash_hex, int admin,
			 const char *created_by, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO api_tokens(id, user_id, name, token_hash, is_admin, created_by)"
				  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, admin ? 1 : 0);
	db_bind_text_or_null(st, 6, created_by);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "api_tokens", e);
}

sbx_status tokens_find(sqlite3 *db, const char *hash_hex, token_identity *out, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "SELECT t.id, t.user_id, u.name, t.is_admin FROM api_tokens t"
				  " JOIN users u ON u.id = t.user_id"
				  " WHERE t.token_hash = ?1 AND t.revoked_at IS NULL",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->token_id, sizeof(out->token_id), "%s", db_text(st, 0));
		snprintf(out->user_id, sizeof(out->user_id), "%s", db_text(st, 1));
		snprintf(out->user, sizeof(out->user), "%s", db_text(st, 2));
		out->admin = sqlite3_column_int(st, 3);
		s = SBX_OK;
	} else if (rc == SQLITE_DONE) {
		s = err_set(e, SBX_NOT_FOUND, "no such token");
	} else {
		s = db_error(db, rc, "api_tokens", e);
	}
	sqlite3_finalize(st);
	return s;
}

int tokens_admin_exists(sqlite3 *db, const char *hash_hex)
{
	token_identity id;
	err_t e;
	return tokens_find(db, hash_hex, &id, &e) == SBX_OK && id.admin;
}

#define TOKEN_COLUMNS                                                          \
	"SELECT t.id, u.name, t.name, t.is_admin, t.created_at,"               \
	" coalesce(t.last_used_at,''), coalesce(t.revoked_at,''), coalesce(t.created_by,'')" \
	" FROM api_tokens t JOIN users u ON u.id = t.user_id"

static Sbx__V1__Token *token_from_row(sqlite3_stmt *st, arena *a)
{
	Sbx__V1__Token *t = ARENA_MSG(a, Sbx__V1__Token, sbx__v1__token__init);
	if (t == NULL) {
		return NULL;
	}
	t->id = arena_strdup(a, db_text(st, 0));
	t->user = arena_strdup(a, db_text(st, 1));
	t->name = arena_strdup(a, db_text(st, 2));
	t->admin = sqlite3_column_int(st, 3) != 0;
	t->created_at = arena_strdup(a, db_text(st, 4));
	t->last_used_at = arena_strdup(a, db_text(st, 5));
	t->revoked_at = arena_strdup(a, db_text(st, 6));
	t->created_by = arena_strdup(a, db_text(st, 7));
	return t;
}

sbx_status tokens_get(sqlite3 *db, const char *token_id, Sbx__V1__Token **out,
		      arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, TOKEN_COLUMNS " WHERE t.id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = token_from_row(st, a);
		s = *out ? SBX_OK : err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "id", "no token %s", token_id);
	} else {
		s = db_error(db, rc, "api_tokens", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status tokens_list(sqlite3 *db, const char *user, int include_revoked,
		       Sbx__V1__ListTokensResponse *out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  TOKEN_COLUMNS " WHERE (?1 = '' OR u.name = ?1)"
						" AND (?2 OR t.revoked_at IS NULL)"
						" ORDER BY t.created_at, t.id LIMIT 10000",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, user ? user : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, include_revoked ? 1 : 0);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (arena_append(a, (void ***)&out->tokens, &out->n_tokens,
				 token_from_row(st, a)) != 0) {
			break;
		}
	}
	sqlite3_finalize(st);
	if (arena_exhausted(a)) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	}
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SBX_OK : db_error(db, rc, "api_tokens", e);
}

static sbx_status update_one(sqlite3 *db, const char *sql, const char *token_id, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, sql, &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, token_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "api_tokens", e);
}

sbx_status tokens_revoke(sqlite3 *db, const char *token_id, err_t *e)
{
	return update_one(db,
			  "UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')"
			  " WHERE id = ?1 AND revoked_at IS NULL",
			  token_id, e);
}

sbx_status tokens_touch(sqlite3 *db, const char *token_id, err_t *e)
{
	return update_one(db,
			  "UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')"
			  " WHERE id = ?1",
			  token_id, e);
}

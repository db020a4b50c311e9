/* Users and API tokens. Only the SHA-256 of a token secret is stored. */
#ifndef SBX_STORAGE_TOKENS_H
#define SBX_STORAGE_TOKENS_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "sbx/v1/tokens.pb-c.h"

typedef struct token_identity {
	char token_id[40];
	char user_id[40];
	char user[129];
	int admin;
} token_identity;

/* The user id for `name`, creating the user when unknown. */
sbx_status users_ensure(sqlite3 *db, const char *name, char id_out[40], err_t *e);

/* Stores a new token. `hash_hex` is the hex SHA-256 of the secret. */
sbx_status tokens_insert(sqlite3 *db, const char *token_id, const char *user_id,
			 const char *name, const char *hash_hex, int admin,
			 const char *created_by, err_t *e);

/* The live (not revoked) token with this hash: NOT_FOUND otherwise. */
sbx_status tokens_find(sqlite3 *db, const char *hash_hex, token_identity *out, err_t *e);

/* 1 if a live admin token with this hash exists. */
int tokens_admin_exists(sqlite3 *db, const char *hash_hex);

sbx_status tokens_get(sqlite3 *db, const char *token_id, Sbx__V1__Token **out,
		      arena *a, err_t *e);
sbx_status tokens_list(sqlite3 *db, const char *user, int include_revoked,
		       Sbx__V1__ListTokensResponse *out, arena *a, err_t *e);
/* Marks revoked (idempotent: revoking twice keeps the first time). */
sbx_status tokens_revoke(sqlite3 *db, const char *token_id, err_t *e);
sbx_status tokens_touch(sqlite3 *db, const char *token_id, err_t *e);

#endif

/* Authentication: bearer tokens checked against their stored SHA-256, with
 * a small in-memory cache so a call costs no database read. */
#ifndef SBX_SERVER_AUTH_H
#define SBX_SERVER_AUTH_H

#include <sqlite3.h>

#include "err.h"
#include "tokens.h"

#define AUTH_SECRET_MAX 128

/* Ensures an admin token exists whose secret is in `admin_token_path`
 * (0600); creates both on first start, or when the file is gone. */
sbx_status auth_init(sqlite3 *db, const char *admin_token_path, err_t *e);

/* Identifies the caller: UNAUTHENTICATED for a missing, unknown or revoked
 * token. */
sbx_status auth_verify(const char *secret, token_identity *out, err_t *e);

/* Creates a token; `secret` receives the one-time secret (NUL-terminated). */
sbx_status auth_issue(sqlite3 *db, const char *user, const char *name, int admin,
		      const char *created_by, char token_id[40],
		      char secret[AUTH_SECRET_MAX], err_t *e);

/* Drops a token from the cache (after its revocation committed). */
void auth_forget(const char *token_id);

/* Hex SHA-256 of a secret. */
void auth_hash(const char *secret, char hex[65]);

void auth_shutdown(void);

#endif

/* Stored answers to writes, keyed by (user, idempotency key). Written in
 * the same transaction as the write it answers, so either both exist or
 * neither does. */
#ifndef SBX_STORAGE_IDEMPOTENCY_H
#define SBX_STORAGE_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "err.h"

#define IDEM_KEY_MAX 128

typedef struct idem_record {
	char method[128];
	char request_hash[65];
	int code;
	uint8_t *reply; /* malloc'd; caller frees */
	size_t reply_len;
} idem_record;

/* OK with *rec filled, NOT_FOUND when the key is new. */
sbx_status idem_lookup(sqlite3 *db, const char *user_id, const char *key,
		       idem_record *rec, err_t *e);

sbx_status idem_store(sqlite3 *db, const char *user_id, const char *key,
		      const char *method, const char *request_hash, int code,
		      const uint8_t *reply, size_t reply_len, err_t *e);

/* Deletes records older than `max_age_hours`. */
sbx_status idem_prune(sqlite3 *db, int max_age_hours, err_t *e);

#endif

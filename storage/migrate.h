/* Numbered schema migrations, embedded in the binary from migrations/
 * (tools/embed.sh). Each has an up and a down script. */
#ifndef SBX_STORAGE_MIGRATE_H
#define SBX_STORAGE_MIGRATE_H

#include <sqlite3.h>

#include "err.h"

struct migration {
	int version;
	const char *name;
	const char *up;
	const char *down;
};

extern const struct migration migrations[];
extern const int migrations_count;

/* Version recorded in schema_migrations (0 for a new database). */
int migrate_version(sqlite3 *db);

/* Applies every pending migration up to `target` (-1: latest) in one
 * transaction, recording each; nothing is applied if one fails. */
sbx_status migrate_up(sqlite3 *db, int target, err_t *e);

/* Reverts migrations above `target` (0: all) in one transaction. */
sbx_status migrate_down(sqlite3 *db, int target, err_t *e);

#endif

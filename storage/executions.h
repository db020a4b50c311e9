/* Execution records (table sandbox_executions) and their output.
 *
 * Output lives in two files per execution under <data>/executions/:
 *   <id>.out  the bytes of stdout and stderr as they arrived, in order
 *   <id>.idx  one fixed 32-byte record per chunk: seq, stream, offset,
 *             length, time, so ReadOutput(offset) is a binary search.
 * A chunk is written to both before it is published, so whatever a
 * subscriber has seen can be read back. */
#ifndef SBX_STORAGE_EXECUTIONS_H
#define SBX_STORAGE_EXECUTIONS_H

#include <stdint.h>
#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "sbx/v1/executions.pb-c.h"

const char *execution_status_name(Sbx__V1__ExecutionStatus s);
Sbx__V1__ExecutionStatus execution_status_parse(const char *s);

sbx_status executions_insert(sqlite3 *db, const Sbx__V1__Execution *x, const char *owner_id,
			     err_t *e);

/* Final state: status, exit code/signal, duration, output size, usage. */
sbx_status executions_finish(sqlite3 *db, const Sbx__V1__Execution *x, err_t *e);

/* With owner_id NULL any owner matches. NOT_FOUND naming `id`. */
sbx_status executions_get(sqlite3 *db, const char *id, const char *owner_id,
			  Sbx__V1__Execution **out, arena *a, err_t *e);

typedef struct execution_filter {
	const char *owner_id;
	const char *sandbox_id;
	const char *agent;
	const char *model;
	const int *statuses;
	size_t n_statuses;
	const char *since;
	const char *until;
	int offset;
	int limit;
} execution_filter;

sbx_status executions_list(sqlite3 *db, const execution_filter *f,
			   Sbx__V1__ListExecutionsResponse *out, arena *a, err_t *e);

/* Cost roll-up for a sandbox ("" = all of the owner's, NULL owner = all). */
sbx_status executions_cost(sqlite3 *db, const char *sandbox_id, const char *owner_id,
			   Sbx__V1__CostResponse *out, err_t *e);

/* ---- output files -------------------------------------------------------- */

typedef struct output_log output_log;

/* Creates the files for a new execution; `cap` bytes are kept, past it the
 * log is marked truncated. */
output_log *output_open(const char *dir, const char *id, int64_t cap, err_t *e);
/* Appends a chunk; returns 0, or -1 once past the cap (nothing stored). */
int output_append(output_log *l, uint64_t seq, int stream, int64_t time_ms, const void *data,
		  size_t len, int64_t *offset);
int64_t output_bytes(const output_log *l);
int output_truncated(const output_log *l);
void output_close(output_log *l);

/* Reads chunks from byte `offset`, at most `limit` bytes (whole chunks,
 * split at the edges). */
sbx_status output_read(const char *dir, const char *id, int64_t offset, int64_t limit,
		       Sbx__V1__ReadOutputResponse *out, arena *a, err_t *e);

/* Removes output files older than `days`. */
void output_prune(const char *dir, int days);

#endif

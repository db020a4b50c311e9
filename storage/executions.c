#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "executions.h"
#include "fdio.h"
#include "rowmap.h"

static const char *const status_names[] = {
	[SBX__V1__EXECUTION_STATUS__QUEUED] = "queued",
	[SBX__V1__EXECUTION_STATUS__EXEC_RUNNING] = "running",
	[SBX__V1__EXECUTION_STATUS__SUCCEEDED] = "succeeded",
	[SBX__V1__EXECUTION_STATUS__FAILED] = "failed",
	[SBX__V1__EXECUTION_STATUS__CANCELLED] = "cancelled",
	[SBX__V1__EXECUTION_STATUS__TIMED_OUT] = "timed_out",
	[SBX__V1__EXECUTION_STATUS__INTERRUPTED] = "interrupted",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *execution_status_name(Sbx__V1__ExecutionStatus s)
{
	return rowmap_enum_name(status_names, N_STATUS, (int)s);
}

Sbx__V1__ExecutionStatus execution_status_parse(const char *s)
{
	return (Sbx__V1__ExecutionStatus)rowmap_enum_value(status_names, N_STATUS, s);
}

sbx_status executions_insert(sqlite3 *db, const Sbx__V1__Execution *x, const char *owner_id,
			     err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO sandbox_executions(id, sandbox_id, owner_id, command, argv,"
				  " working_dir, status, agent, model, output_location)"
				  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	json_t *argv = json_array();
	for (size_t i = 0; i < x->n_argv; i++) {
		json_array_append_new(argv, json_string(x->argv[i]));
	}
	char *aj = json_dumps(argv, JSON_COMPACT);
	json_decref(argv);
	sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->sandbox_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, x->command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, aj ? aj : "[]", -1, SQLITE_TRANSIENT);
	db_bind_text_or_null(st, 6, x->working_dir);
	db_bind_text_or_null(st, 7, x->agent);
	db_bind_text_or_null(st, 8, x->model);
	db_bind_text_or_null(st, 9, x->output_location);
	free(aj);
	return db_step_done(db, st, "sandbox_executions", e);
}

sbx_status executions_finish(sqlite3 *db, const Sbx__V1__Execution *x, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(
		db,
		"UPDATE sandbox_executions SET status = ?2, exit_code = ?3, signal = ?4, error = ?5,"
		" duration_ms = ?6, output_bytes = ?7, output_truncated = ?8,"
		" input_tokens = ?9, output_tokens = ?10, cached_input_tokens = ?11,"
		" cache_write_tokens = ?12, tokens_known = ?13, cost_usd = ?14, cost_source = ?15,"
		" finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), runner_pid = NULL WHERE id = ?1",
		&st, e);
	if (s != SBX_OK) {
		return s;
	}
	const Sbx__V1__Usage *u = x->usage;
	sqlite3_bind_text(st, 1, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, execution_status_name(x->status), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, x->exit_code);
	if (x->signal) {
		sqlite3_bind_int(st, 4, x->signal);
	}
	db_bind_text_or_null(st, 5, x->error);
	sqlite3_bind_int64(st, 6, x->duration_ms);
	sqlite3_bind_int64(st, 7, x->output_bytes);
	sqlite3_bind_int(st, 8, x->output_truncated ? 1 : 0);
	if (u && u->tokens_known) {
		sqlite3_bind_int64(st, 9, u->input_tokens);
		sqlite3_bind_int64(st, 10, u->output_tokens);
		sqlite3_bind_int64(st, 11, u->cached_input_tokens);
		sqlite3_bind_int64(st, 12, u->cache_write_tokens);
	}
	sqlite3_bind_int(st, 13, u && u->tokens_known ? 1 : 0);
	sqlite3_bind_double(st, 14, u ? u->cost_usd : 0);
	db_bind_text_or_null(st, 15, u ? u->cost_source : NULL);
	return db_step_done(db, st, "sandbox_executions", e);
}

#define EXEC_SELECT                                                                           \
	"SELECT x.id, x.sandbox_id, x.argv, x.command, coalesce(x.working_dir,''), x.status,"   \
	" coalesce(x.exit_code,0), coalesce(x.signal,0), coalesce(x.agent,''), coalesce(x.model,''),"\
	" coalesce(x.input_tokens,0), coalesce(x.output_tokens,0), coalesce(x.cached_input_tokens,0)," \
	" coalesce(x.cache_write_tokens,0), x.tokens_known, x.cost_usd, coalesce(x.cost_source,''),"  \
	" coalesce(x.duration_ms,0), x.started_at, coalesce(x.finished_at,''), x.output_bytes,"   \
	" x.output_truncated, coalesce(x.output_location,''), coalesce(u.name,''), coalesce(x.error,'')" \
	" FROM sandbox_executions x LEFT JOIN users u ON u.id = x.owner_id"

static Sbx__V1__Execution *from_row(sqlite3_stmt *st, arena *a)
{
	Sbx__V1__Execution *x = ARENA_MSG(a, Sbx__V1__Execution, sbx__v1__execution__init);
	Sbx__V1__Usage *u = ARENA_MSG(a, Sbx__V1__Usage, sbx__v1__usage__init);
	if (x == NULL || u == NULL) {
		return NULL;
	}
	int c = 0;
	x->id = arena_strdup(a, db_text(st, c++));
	x->sandbox_id = arena_strdup(a, db_text(st, c++));
	rowmap_json_strings(db_text(st, c++), a, &x->argv, &x->n_argv);
	x->command = arena_strdup(a, db_text(st, c++));
	x->working_dir = arena_strdup(a, db_text(st, c++));
	x->status = execution_status_parse(db_text(st, c++));
	x->exit_code = sqlite3_column_int(st, c++);
	x->signal = sqlite3_column_int(st, c++);
	x->agent = arena_strdup(a, db_text(st, c++));
	x->model = arena_strdup(a, db_text(st, c++));
	u->input_tokens = sqlite3_column_int64(st, c++);
	u->output_tokens = sqlite3_column_int64(st, c++);
	u->cached_input_tokens = sqlite3_column_int64(st, c++);
	u->cache_write_tokens = sqlite3_column_int64(st, c++);
	u->tokens_known = sqlite3_column_int(st, c++) != 0;
	u->cost_usd = sqlite3_column_double(st, c++);
	u->cost_source = arena_strdup(a, db_text(st, c++));
	x->usage = u;
	x->duration_ms = sqlite3_column_int64(st, c++);
	x->started_at = arena_strdup(a, db_text(st, c++));
	x->finished_at = arena_strdup(a, db_text(st, c++));
	x->output_bytes = sqlite3_column_int64(st, c++);
	x->output_truncated = sqlite3_column_int(st, c++) != 0;
	x->output_location = arena_strdup(a, db_text(st, c++));
	x->owner = arena_strdup(a, db_text(st, c++));
	x->error = arena_strdup(a, db_text(st, c++));
	return x;
}

sbx_status executions_get(sqlite3 *db, const char *id, const char *owner_id,
			  Sbx__V1__Execution **out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, EXEC_SELECT " WHERE x.id = ?1 AND (?2 IS NULL OR x.owner_id = ?2)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (owner_id) {
		sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = from_row(st, a);
		s = *out ? SBX_OK : err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "id", "no execution \"%.128s\"", id);
	} else {
		s = db_error(db, rc, "sandbox_executions", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status executions_list(sqlite3 *db, const execution_filter *f,
			   Sbx__V1__ListExecutionsResponse *out, arena *a, err_t *e)
{
	json_t *statuses = json_array();
	for (size_t i = 0; i < f->n_statuses; i++) {
		json_array_append_new(statuses,
				      json_string(execution_status_name((Sbx__V1__ExecutionStatus)f->statuses[i])));
	}
	char *sj = json_dumps(statuses, JSON_COMPACT);
	json_decref(statuses);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(
		db,
		EXEC_SELECT " WHERE (?1 IS NULL OR x.owner_id = ?1) AND (?2 = '' OR x.sandbox_id = ?2)"
			    " AND (?3 = '' OR x.agent = ?3) AND (?4 = '' OR x.model = ?4)"
			    " AND (json_array_length(?5) = 0 OR x.status IN (SELECT value FROM json_each(?5)))"
			    " AND (?6 = '' OR x.started_at >= ?6) AND (?7 = '' OR x.started_at < ?7)"
			    " ORDER BY x.started_at DESC, x.id LIMIT ?8 OFFSET ?9",
		&st, e);
	if (s == SBX_OK) {
		if (f->owner_id) {
			sqlite3_bind_text(st, 1, f->owner_id, -1, SQLITE_STATIC);
		}
		sqlite3_bind_text(st, 2, f->sandbox_id ? f->sandbox_id : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, f->agent ? f->agent : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, f->model ? f->model : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, sj ? sj : "[]", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, f->since ? f->since : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, f->until ? f->until : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, f->limit + 1);
		sqlite3_bind_int(st, 9, f->offset);
		int rc, n = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n++ == f->limit) {
				out->next_page_token = arena_printf(a, "%d", f->offset + f->limit);
				break;
			}
			Sbx__V1__Execution *x = from_row(st, a);
			if (x == NULL || arena_append(a, (void ***)&out->executions, &out->n_executions, x)) {
				s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
				break;
			}
		}
		if (s == SBX_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
			s = db_error(db, rc, "sandbox_executions", e);
		}
		sqlite3_finalize(st);
	}
	free(sj);
	return s;
}

sbx_status executions_cost(sqlite3 *db, const char *sandbox_id, const char *owner_id,
			   Sbx__V1__CostResponse *out, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(
		db,
		"SELECT coalesce(sum(x.cost_usd),0), coalesce(sum(x.input_tokens),0),"
		" coalesce(sum(x.output_tokens),0), coalesce(sum(x.cached_input_tokens),0), count(x.id),"
		" (SELECT coalesce(sum(runtime_cost_usd + CASE WHEN status IN ('running', 'paused')"
		"   AND started_at IS NOT NULL THEN (julianday('now') - julianday(started_at)) * 24 *"
		"   (SELECT coalesce(ps.cost_per_hour, p.price_per_hour) FROM providers p"
		"    JOIN sandbox_provider_settings ps ON ps.provider = p.id WHERE p.id = s2.provider)"
		"   ELSE 0 END),0) FROM sandboxes s2 WHERE (?1 = '' OR s2.id = ?1)"
		"   AND (?2 IS NULL OR s2.owner_id = ?2))"
		" FROM sandbox_executions x JOIN sandboxes s ON s.id = x.sandbox_id"
		" WHERE (?1 = '' OR x.sandbox_id = ?1) AND (?2 IS NULL OR s.owner_id = ?2)",
		&st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, sandbox_id, -1, SQLITE_STATIC);
	if (owner_id) {
		sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->token_cost_usd = sqlite3_column_double(st, 0);
		out->input_tokens = sqlite3_column_int64(st, 1);
		out->output_tokens = sqlite3_column_int64(st, 2);
		out->cached_input_tokens = sqlite3_column_int64(st, 3);
		out->executions = sqlite3_column_int64(st, 4);
		out->runtime_cost_usd = sqlite3_column_double(st, 5);
		s = SBX_OK;
	} else {
		s = db_error(db, rc, "sandbox_executions", e);
	}
	sqlite3_finalize(st);
	return s;
}

/* ---- output files ---------------------------------------------------------- */

struct idx_record {
	uint64_t seq;
	int64_t offset;
	int64_t time_ms;
	uint32_t len;
	uint32_t stream;
};

/* Output is written behind the page cache where the filesystem allows
 * (O_DIRECT): a command streaming gigabytes would otherwise fill memory
 * with pages nobody reads again, and on a VM, touching fresh pages is the
 * slowest part of the whole stream. Whole blocks go out from an aligned
 * buffer; the unaligned tail is also written through the page cache at
 * once, so every byte an index record names is readable when the record
 * is. A later direct write covers the same tail bytes again. */
enum { OUT_BLOCK = 4096, OUT_PEND = 4 << 20 };

struct output_log {
	int data_fd;   /* buffered: the tail, and everything when direct_fd < 0 */
	int direct_fd; /* O_DIRECT, or -1 */
	int idx_fd;
	unsigned char *pend; /* bytes from `flushed` on, OUT_BLOCK-aligned */
	size_t pend_len;
	int64_t flushed; /* bytes written directly; a multiple of OUT_BLOCK */
	int64_t bytes;
	int64_t cap;
	int truncated;
};

output_log *output_open(const char *dir, const char *id, int64_t cap, err_t *e)
{
	char path[1200];
	output_log *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	l->cap = cap;
	l->direct_fd = -1;
	snprintf(path, sizeof(path), "%s/%s.out", dir, id);
	l->data_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (l->data_fd >= 0) {
		l->direct_fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (l->direct_fd >= 0 && posix_memalign((void **)&l->pend, OUT_BLOCK, OUT_PEND) != 0) {
			l->pend = NULL;
			close(l->direct_fd);
			l->direct_fd = -1;
		}
	}
	snprintf(path, sizeof(path), "%s/%s.idx", dir, id);
	l->idx_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (l->data_fd < 0 || l->idx_fd < 0) {
		err_set(e, errno == ENOSPC ? SBX_RESOURCE_EXHAUSTED : SBX_INTERNAL, "output %s: %s", path,
			strerror(errno));
		output_close(l);
		return NULL;
	}
	return l;
}

/* Writes pending whole blocks directly; keeps the rest pending. */
static int flush_blocks(output_log *l)
{
	size_t whole = l->pend_len & ~(size_t)(OUT_BLOCK - 1);
	if (whole == 0) {
		return 0;
	}
	if (fdio_pwrite_all(l->direct_fd, l->pend, whole, l->flushed) != 0) {
		return -1;
	}
	l->flushed += (int64_t)whole;
	l->pend_len -= whole;
	memmove(l->pend, l->pend + whole, l->pend_len);
	return 0;
}

static int write_direct(output_log *l, const unsigned char *data, size_t len)
{
	int64_t end = l->bytes + (int64_t)len;
	/* Whole blocks straight from an aligned source (the common case: a
	 * full read of the command's pipe). */
	size_t whole = len & ~(size_t)(OUT_BLOCK - 1);
	if (l->pend_len == 0 && whole > 0 && ((uintptr_t)data & (OUT_BLOCK - 1)) == 0) {
		if (fdio_pwrite_all(l->direct_fd, data, whole, l->flushed) != 0) {
			return -1;
		}
		l->flushed += (int64_t)whole;
		data += whole;
		len -= whole;
	}
	while (len > 0) {
		size_t n = len < OUT_PEND - l->pend_len ? len : OUT_PEND - l->pend_len;
		memcpy(l->pend + l->pend_len, data, n);
		l->pend_len += n;
		data += n;
		len -= n;
		if ((len == 0 || l->pend_len == OUT_PEND) && flush_blocks(l) != 0) {
			return -1;
		}
	}
	/* The new bytes still only pending: readable now, through the cache. */
	int64_t from = l->bytes > l->flushed ? l->bytes : l->flushed;
	return end > from ? fdio_pwrite_all(l->data_fd, l->pend + (from - l->flushed), (size_t)(end - from), from) : 0;
}

/* Appends to the data file at l->bytes. */
static int write_data(output_log *l, const unsigned char *data, size_t len)
{
	if (l->direct_fd >= 0) {
		int rc = write_direct(l, data, len);
		if (rc == 0 || errno != EINVAL) {
			return rc;
		}
		/* The filesystem refused O_DIRECT: from here on, through the
		 * page cache. What the file holds before l->bytes is complete
		 * (direct blocks, then the cached tail); this append is written
		 * again whole. */
		close(l->direct_fd);
		l->direct_fd = -1;
		free(l->pend);
		l->pend = NULL;
		l->pend_len = 0;
	}
	return fdio_pwrite_all(l->data_fd, data, len, l->bytes);
}

int output_append(output_log *l, uint64_t seq, int stream, int64_t time_ms, const void *data,
		  size_t len, int64_t *offset)
{
	*offset = l->bytes;
	if (l->truncated || l->bytes + (int64_t)len > l->cap) {
		l->truncated = 1;
		return -1;
	}
	if (write_data(l, data, len) != 0) {
		l->truncated = 1; /* disk full: keep what we have, say so */
		return -1;
	}
	struct idx_record r = {seq, l->bytes, time_ms, (uint32_t)len, (uint32_t)stream};
	if (write(l->idx_fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		l->truncated = 1;
		return -1;
	}
	l->bytes += (int64_t)len;
	return 0;
}

int64_t output_bytes(const output_log *l)
{
	return l->bytes;
}

int output_truncated(const output_log *l)
{
	return l->truncated;
}

void output_close(output_log *l)
{
	if (l == NULL) {
		return;
	}
	if (l->data_fd >= 0) {
		close(l->data_fd);
	}
	if (l->direct_fd >= 0) {
		close(l->direct_fd);
	}
	free(l->pend);
	if (l->idx_fd >= 0) {
		close(l->idx_fd);
	}
	free(l);
}

sbx_status output_read(const char *dir, const char *id, int64_t offset, int64_t limit,
		       Sbx__V1__ReadOutputResponse *out, arena *a, err_t *e)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s.idx", dir, id);
	int ifd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%s.out", dir, id);
	int dfd = open(path, O_RDONLY | O_CLOEXEC);
	out->next_offset = offset;
	if (ifd < 0 || dfd < 0) {
		if (ifd >= 0) {
			close(ifd);
		}
		if (dfd >= 0) {
			close(dfd);
		}
		return SBX_OK; /* no output (yet, or pruned) */
	}
	struct stat st;
	fstat(ifd, &st);
	int64_t n = st.st_size / (int64_t)sizeof(struct idx_record);
	/* Binary search for the chunk holding `offset`. */
	int64_t lo = 0, hi = n - 1, first = n;
	struct idx_record r;
	while (lo <= hi) {
		int64_t mid = (lo + hi) / 2;
		if (pread(ifd, &r, sizeof(r), mid * (off_t)sizeof(r)) != (ssize_t)sizeof(r)) {
			break;
		}
		if (r.offset + r.len > offset) {
			first = mid;
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	int64_t taken = 0;
	sbx_status s = SBX_OK;
	for (int64_t i = first; i < n && taken < limit; i++) {
		if (pread(ifd, &r, sizeof(r), i * (off_t)sizeof(r)) != (ssize_t)sizeof(r)) {
			break;
		}
		int64_t start = offset > r.offset ? offset - r.offset : 0;
		int64_t len = (int64_t)r.len - start;
		if (len > limit - taken) {
			len = limit - taken;
		}
		Sbx__V1__OutputChunk *c = ARENA_MSG(a, Sbx__V1__OutputChunk, sbx__v1__output_chunk__init);
		uint8_t *buf = len > 0 ? arena_alloc(a, (size_t)len) : NULL;
		if (c == NULL || (len > 0 && buf == NULL)) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large: ask for less");
			break;
		}
		if (len > 0 && pread(dfd, buf, (size_t)len, r.offset + start) != len) {
			s = err_set(e, SBX_DATA_LOSS, "output of %s is shorter than its index", id);
			break;
		}
		c->stream = (Sbx__V1__OutputStream)r.stream;
		c->seq = r.seq;
		c->offset = r.offset + start;
		c->time_unix_ms = r.time_ms;
		c->data.data = buf;
		c->data.len = (size_t)len;
		arena_append(a, (void ***)&out->chunks, &out->n_chunks, c);
		taken += len;
		out->next_offset = c->offset + len;
	}
	close(ifd);
	close(dfd);
	return s;
}

void output_prune(const char *dir, int days)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	time_t cutoff = time(NULL) - (time_t)days * 86400;
	struct dirent *de;
	char path[1200];
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff) {
			unlink(path);
		}
	}
	closedir(d);
}

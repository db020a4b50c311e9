/* Sandboxes.CopyIn and CopyOut: files travel as tar archives, whole when
 * they fit in one message, otherwise in parts:
 *   uploads are streamed into the provider's copy as their parts arrive
 *   (uploads.c), never landing on the daemon's disk;
 *   downloads are made once into <data_dir>/transfers/<sandbox>.<id>.out
 *   and read in parts, then removed.
 * The sandbox id in a download's name ties it to its sandbox, so whoever
 * may use the sandbox may read it and nobody else. The janitor removes
 * downloads left untouched for an hour and ends uploads idle for ten
 * minutes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "fdio.h"
#include "sandboxes.h"
#include "services.h"
#include "uploads.h"

#define TRANSFER_ID_MIN 8
#define TRANSFER_ID_MAX 64

static int absolute_clean(const char *p)
{
	return p[0] == '/' && strstr(p, "/..") == NULL && strlen(p) < 1024;
}

static int transfer_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n < TRANSFER_ID_MIN || n > TRANSFER_ID_MAX) {
		return 0;
	}
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static void staging_dir(char *out, size_t cap)
{
	snprintf(out, cap, "%s/transfers", daemon_info.data_dir);
}

static void staging_path(char *out, size_t cap, const char *sandbox, const char *id, const char *kind)
{
	char dir[1100];
	staging_dir(dir, sizeof(dir));
	mkdir(dir, 0700);
	snprintf(out, cap, "%s/%s.%s.%s", dir, sandbox, id, kind);
}

void copy_staging_prune(int max_age_s)
{
	char dir[1100], path[1400];
	staging_dir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	time_t cutoff = time(NULL) - max_age_s;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff) {
			unlink(path);
		}
	}
	closedir(d);
}

enum direction { COPY_IN, COPY_OUT };

/* The running sandbox a copy goes to or from. */
struct copy_target {
	Sbx__V1__Sandbox *sb;
	sandbox_handle h;
	const provider_ops *p; /* can copy the wanted way */
	int as_root;           /* tar runs as root there */
	uint64_t cap;          /* the largest archive: what the sandbox's disk holds */
};

static sbx_status for_copy(rpc_call *call, const char *id, enum direction dir, struct copy_target *t)
{
	memset(t, 0, sizeof(*t));
	sbx_status s = svc_sandbox_load(call, id, &t->sb, &t->h, &t->p);
	if (s != SBX_OK) {
		return s;
	}
	if (dir == COPY_IN ? t->p->copy_in == NULL : t->p->copy_out == NULL) {
		return provider_unimplemented(t->p, dir == COPY_IN ? "copying files in" : "copying files out",
					      &call->err);
	}
	if (t->sb->status != SBX__V1__SANDBOX_STATUS__RUNNING) {
		return RPC_FIELD(call, SBX_FAILED_PRECONDITION, "id", "sandbox %s is %s: start it first",
				 t->sb->id, sandbox_status_name(t->sb->status));
	}
	Sbx__V1__SandboxSettings *set = NULL;
	if ((s = svc_settings_current(call, &set)) != SBX_OK) {
		return s;
	}
	t->as_root = !set->require_non_root_user;
	const Sbx__V1__Resources *res = t->sb->resources;
	int64_t gb = res && res->disk_gb > 0 ? res->disk_gb : set->max_disk_gb_per_sandbox;
	t->cap = (uint64_t)gb << 30;
	return SBX_OK;
}

/* A whole archive from one message: staged in memory, not on disk. */
static int stage_in_memory(const uint8_t *p, size_t len)
{
	int fd = memfd_create("sbx-copy-in", MFD_CLOEXEC);
	if (fd >= 0 && fdio_pwrite_all(fd, p, len, 0) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

sbx_status svc_sandboxes_copy_in(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CopyInRequest *r = (const Sbx__V1__CopyInRequest *)req;
	int parts = r->upload_id[0] != '\0';
	if (!absolute_clean(r->dest_dir)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "dest_dir", "must be an absolute path without ..");
	}
	if (parts && !transfer_id_ok(r->upload_id)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "upload_id", "%d to %d of A-Z a-z 0-9 _ -",
				 TRANSFER_ID_MIN, TRANSFER_ID_MAX);
	}
	if (!parts && r->offset != 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "offset", "parts need an upload_id");
	}
	if (r->tar.len == 0 && !(parts && r->last && r->offset > 0)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "tar", "empty archive");
	}
	struct copy_target t;
	sbx_status s = for_copy(call, r->id, COPY_IN, &t);
	if (s != SBX_OK) {
		return s;
	}
	if (parts) {
		upload_target u = {.p = t.p, .h = t.h, .as_root = t.as_root, .cap = t.cap};
		snprintf(u.sandbox_id, sizeof(u.sandbox_id), "%s", t.sb->id);
		snprintf(u.dest_dir, sizeof(u.dest_dir), "%s", r->dest_dir);
		char key[160];
		snprintf(key, sizeof(key), "%s.%s", t.sb->id, r->upload_id);
		s = uploads_write(key, &u, r->offset, r->tar.data, r->tar.len, r->last, &call->err);
	} else {
		int fd = stage_in_memory(r->tar.data, r->tar.len);
		s = fd >= 0 ? t.p->copy_in(t.sb->id, &t.h, r->dest_dir, fd, t.as_root, &call->err)
			    : RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "cannot stage the archive: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
	}
	if (s != SBX_OK) {
		return s;
	}
	sandboxes_touch(call->db, t.sb->id, &call->err);
	*resp = &ARENA_MSG(call->arena, Sbx__V1__Empty, sbx__v1__empty__init)->base;
	return SBX_OK;
}

/* Replies with the part of the archive in `fd` at `offset`; at its end
 * the staged file (`path`, when not empty) is removed. */
static sbx_status reply_part(rpc_call *call, int fd, int64_t offset, size_t part, const char *path,
			     Sbx__V1__CopyOutResponse *out)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		return RPC_FAIL(call, SBX_INTERNAL, "staged archive: %s", strerror(errno));
	}
	if (offset < 0 || offset > st.st_size) {
		return RPC_FIELD(call, SBX_OUT_OF_RANGE, "offset", "the archive has %lld bytes",
				 (long long)st.st_size);
	}
	size_t n = (size_t)(st.st_size - offset) < part ? (size_t)(st.st_size - offset) : part;
	uint8_t *buf = arena_alloc(call->arena, n ? n : 1);
	if (buf == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	ssize_t got = fdio_pread_full(fd, buf, n, offset);
	if (got != (ssize_t)n) {
		return RPC_FAIL(call, SBX_INTERNAL, "staged archive: %s", got < 0 ? strerror(errno) : "short read");
	}
	out->tar.data = buf;
	out->tar.len = n;
	out->offset = offset;
	out->total_bytes = st.st_size;
	out->eof = offset + (int64_t)n == st.st_size;
	if (path[0] != '\0') {
		if (out->eof) {
			unlink(path);
		} else {
			futimens(fd, NULL); /* in use: not for the janitor */
		}
	}
	return SBX_OK;
}

/* The first request of a download in parts: makes the archive. */
static sbx_status make_download(rpc_call *call, const Sbx__V1__CopyOutRequest *r, char *path, size_t path_cap,
				char *id, int *fd_out)
{
	struct copy_target t;
	sbx_status s = for_copy(call, r->id, COPY_OUT, &t);
	if (s != SBX_OK) {
		return s;
	}
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, 17, rnd, sizeof(rnd));
	staging_path(path, path_cap, t.sb->id, id, "out");
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return RPC_FAIL(call, SBX_INTERNAL, "cannot stage the download: %s", strerror(errno));
	}
	s = t.p->copy_out(t.sb->id, &t.h, r->path, fd, t.cap, t.as_root, &call->err);
	if (s != SBX_OK) {
		close(fd);
		unlink(path);
		return s;
	}
	sandboxes_touch(call->db, t.sb->id, &call->err);
	*fd_out = fd;
	return SBX_OK;
}

/* A later request of a download in parts: the sandbox must still be the
 * caller's, not necessarily running. */
static sbx_status open_download(rpc_call *call, const Sbx__V1__CopyOutRequest *r, char *path, size_t path_cap,
				int *fd_out)
{
	if (!transfer_id_ok(r->download_id)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "download_id", "not one this daemon hands out");
	}
	Sbx__V1__Sandbox *sb = NULL;
	sbx_status s = svc_sandbox_load(call, r->id, &sb, NULL, NULL);
	if (s != SBX_OK) {
		return s;
	}
	staging_path(path, path_cap, sb->id, r->download_id, "out");
	*fd_out = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd_out < 0) {
		return RPC_FIELD(call, SBX_NOT_FOUND, "download_id",
				 "no download %s: it was read to its end or left for an hour; start again",
				 r->download_id);
	}
	return SBX_OK;
}

/* The archive in one reply, made in memory. */
static sbx_status whole_download(rpc_call *call, const Sbx__V1__CopyOutRequest *r, Sbx__V1__CopyOutResponse *out)
{
	struct copy_target t;
	sbx_status s = for_copy(call, r->id, COPY_OUT, &t);
	if (s != SBX_OK) {
		return s;
	}
	int fd = memfd_create("sbx-copy-out", MFD_CLOEXEC);
	if (fd < 0) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "cannot stage the archive: %s", strerror(errno));
	}
	/* The reply must fit in one message. */
	size_t one = daemon_info.max_message - 4096;
	s = t.p->copy_out(t.sb->id, &t.h, r->path, fd, one, t.as_root, &call->err);
	if (s == SBX_RESOURCE_EXHAUSTED) {
		RPC_FIELD(call, s, "parts", "the archive is larger than one message (%zu bytes): ask for it in parts",
			  one);
	}
	if (s == SBX_OK) {
		s = reply_part(call, fd, 0, one, "", out);
		sandboxes_touch(call->db, t.sb->id, &call->err);
	}
	close(fd);
	return s;
}

sbx_status svc_sandboxes_copy_out(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Sbx__V1__CopyOutRequest *r = (const Sbx__V1__CopyOutRequest *)req;
	Sbx__V1__CopyOutResponse *out = ARENA_MSG(call->arena, Sbx__V1__CopyOutResponse, sbx__v1__copy_out_response__init);
	if (out == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (!absolute_clean(r->path)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "path", "must be an absolute path without ..");
	}
	if (!r->parts && (r->download_id[0] != '\0' || r->offset != 0)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "parts", "download_id and offset need parts");
	}
	if (r->parts && r->download_id[0] == '\0' && r->offset != 0) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "offset",
				 "a download starts at 0; later parts name its download_id");
	}
	sbx_status s;
	if (!r->parts) {
		s = whole_download(call, r, out);
	} else {
		char path[1400], id[TRANSFER_ID_MAX + 1];
		int fd = -1;
		if (r->download_id[0] == '\0') {
			s = make_download(call, r, path, sizeof(path), id, &fd);
		} else {
			snprintf(id, sizeof(id), "%s", r->download_id);
			s = open_download(call, r, path, sizeof(path), &fd);
		}
		/* Half a message per part leaves room for everything else. */
		if (s == SBX_OK) {
			s = reply_part(call, fd, r->offset, daemon_info.max_message / 2, path, out);
			close(fd);
		}
		if (s == SBX_OK && (out->download_id = arena_strdup(call->arena, id)) == NULL) {
			s = RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
		}
	}
	if (s == SBX_OK) {
		*resp = &out->base;
	}
	return s;
}

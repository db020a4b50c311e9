/* Sandboxes.CopyIn and CopyOut: files travel as tar archives, whole (in a
 * memfd) when they fit in one message, otherwise in parts streamed through
 * transfers.c, so an archive of any size never lands on the daemon's disk.
 * A transfer's key holds its sandbox's id, so whoever may use the sandbox
 * may continue it and nobody else. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "fdio.h"
#include "sandboxes.h"
#include "services.h"
#include "transfers.h"

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

/* What a streamed transfer needs of a copy target, with its path. */
static void target_of(const struct copy_target *t, const char *path, transfer_target *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->sandbox_id, sizeof(out->sandbox_id), "%s", t->sb->id);
	out->h = t->h;
	out->p = t->p;
	snprintf(out->path, sizeof(out->path), "%s", path);
	out->as_root = t->as_root;
	out->cap = t->cap;
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
		transfer_target u;
		target_of(&t, r->dest_dir, &u);
		char key[160];
		snprintf(key, sizeof(key), "%s.%s", t.sb->id, r->upload_id);
		s = transfers_upload(key, &u, r->offset, r->tar.data, r->tar.len, r->last, &call->err);
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

/* A part of a download: the first request (no download_id) starts it on a
 * running sandbox; later ones need only the sandbox to be the caller's. */
static sbx_status download_part(rpc_call *call, const Sbx__V1__CopyOutRequest *r, Sbx__V1__CopyOutResponse *out)
{
	int first = r->download_id[0] == '\0';
	if (!first && !transfer_id_ok(r->download_id)) {
		return RPC_FIELD(call, SBX_INVALID_ARGUMENT, "download_id", "not one this daemon hands out");
	}
	struct copy_target t;
	transfer_target target;
	sbx_status s = first ? for_copy(call, r->id, COPY_OUT, &t) : svc_sandbox_load(call, r->id, &t.sb, NULL, NULL);
	if (s != SBX_OK) {
		return s;
	}
	char id[TRANSFER_ID_MAX + 1];
	if (first) {
		target_of(&t, r->path, &target);
		unsigned char rnd[8];
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(id, 17, rnd, sizeof(rnd));
	} else {
		snprintf(id, sizeof(id), "%s", r->download_id);
	}
	char key[160];
	snprintf(key, sizeof(key), "%s.%s", t.sb->id, id);
	/* Half a message per part leaves room for everything else. */
	size_t cap = daemon_info.max_message / 2, n = 0;
	uint8_t *buf = arena_alloc(call->arena, cap);
	if (buf == NULL || (out->download_id = arena_strdup(call->arena, id)) == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	int eof = 0;
	s = transfers_download(key, first ? &target : NULL, first, r->offset, buf, cap, &n, &eof, &call->err);
	if (s != SBX_OK) {
		return s;
	}
	out->tar.data = buf;
	out->tar.len = n;
	out->offset = r->offset;
	out->eof = eof;
	out->total_bytes = eof ? r->offset + (int64_t)n : 0;
	if (first || eof) {
		sandboxes_touch(call->db, t.sb->id, &call->err);
	}
	return SBX_OK;
}

/* Replies with the whole archive in the memfd `fd`. */
static sbx_status whole_reply(rpc_call *call, int fd, Sbx__V1__CopyOutResponse *out)
{
	off_t len = lseek(fd, 0, SEEK_END);
	uint8_t *buf = len >= 0 ? arena_alloc(call->arena, len ? (size_t)len : 1) : NULL;
	if (buf == NULL) {
		return RPC_FAIL(call, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	if (fdio_pread_full(fd, buf, (size_t)len, 0) != (ssize_t)len) {
		return RPC_FAIL(call, SBX_INTERNAL, "reading the archive back: %s", strerror(errno));
	}
	out->tar.data = buf;
	out->tar.len = (size_t)len;
	out->total_bytes = len;
	out->eof = 1;
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
		s = whole_reply(call, fd, out);
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
	sbx_status s = r->parts ? download_part(call, r, out) : whole_download(call, r, out);
	if (s == SBX_OK) {
		*resp = &out->base;
	}
	return s;
}

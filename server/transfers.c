#include "transfers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

/* Each transfer holds a thread and a pipe until its end. */
#define MAX_TRANSFERS 64

enum direction { UPLOAD, DOWNLOAD };

struct transfer {
	struct transfer *next;
	char key[160];
	enum direction dir;
	transfer_target t;
	int fd;           /* our end of the pipe */
	int thread_fd;    /* the copy's end; closed by its thread when done */
	int64_t offset;   /* bytes written (upload) or read (download) */
	int busy;         /* a part is being moved */
	int64_t touched_ms;
	pthread_t thread;
	sbx_status result; /* the copy's, once its thread ended */
	err_t err;
	/* Downloads: the part read last, for a request sent again. */
	uint8_t *last;
	size_t last_len;
	int64_t last_offset;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct transfer *transfers;
static int n_transfers;

static void *copy_thread(void *arg)
{
	struct transfer *x = arg;
	const transfer_target *t = &x->t;
	err_clear(&x->err);
	x->result = x->dir == UPLOAD ? t->p->copy_in(t->sandbox_id, &t->h, t->path, x->thread_fd, t->as_root, &x->err)
				     : t->p->copy_out(t->sandbox_id, &t->h, t->path, x->thread_fd, t->cap, t->as_root,
						      &x->err);
	/* With the copy's end closed, our side learns the copy is over: a
	 * writer gets EPIPE, a reader the end of the archive. */
	close(x->thread_fd);
	return NULL;
}

/* Caller holds mu. */
static struct transfer *find(const char *key)
{
	for (struct transfer *x = transfers; x != NULL; x = x->next) {
		if (strcmp(x->key, key) == 0) {
			return x;
		}
	}
	return NULL;
}

/* Caller holds mu. */
static void unlist(struct transfer *x)
{
	for (struct transfer **pp = &transfers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			n_transfers--;
			return;
		}
	}
}

/* Closes our end and waits for the copy's verdict; frees x, which is no
 * longer listed. */
static sbx_status finish(struct transfer *x, err_t *e)
{
	close(x->fd);
	pthread_join(x->thread, NULL);
	sbx_status s = x->result;
	if (s != SBX_OK && e != NULL) {
		*e = x->err;
	}
	free(x->last);
	free(x);
	return s;
}

/* Caller holds mu. */
static struct transfer *start(const char *key, enum direction dir, const transfer_target *t, err_t *e)
{
	if (n_transfers >= MAX_TRANSFERS) {
		err_set(e, SBX_RESOURCE_EXHAUSTED, "%d copies are in progress: finish one first", MAX_TRANSFERS);
		return NULL;
	}
	struct transfer *x = calloc(1, sizeof(*x));
	int p[2] = {-1, -1};
	if (x == NULL || pipe2(p, O_CLOEXEC) != 0) {
		free(x);
		err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start the copy: %s", strerror(errno));
		return NULL;
	}
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer hand-overs per part */
	snprintf(x->key, sizeof(x->key), "%s", key);
	x->dir = dir;
	x->t = *t;
	x->fd = dir == UPLOAD ? p[1] : p[0];
	x->thread_fd = dir == UPLOAD ? p[0] : p[1];
	x->last_offset = -1;
	x->touched_ms = clock_mono_ms();
	if (pthread_create(&x->thread, NULL, copy_thread, x) != 0) {
		close(p[0]);
		close(p[1]);
		free(x);
		err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start the copy's thread");
		return NULL;
	}
	x->next = transfers;
	transfers = x;
	n_transfers++;
	return x;
}

/* Takes the transfer for one part: found, or started when `start_it`, and
 * not busy with another part. */
static struct transfer *take(const char *key, enum direction dir, const transfer_target *t, int start_it, err_t *e)
{
	pthread_mutex_lock(&mu);
	struct transfer *x = find(key);
	if (x == NULL && start_it) {
		x = start(key, dir, t, e);
	} else if (x == NULL && dir == UPLOAD) {
		err_field(e, SBX_FAILED_PRECONDITION, "offset",
			  "no such upload in progress (it ended, failed or sat idle): start again at offset 0");
	} else if (x == NULL) {
		err_field(e, SBX_NOT_FOUND, "download_id",
			  "no such download in progress (it ended, failed or sat idle): start again");
	} else if (x->busy) {
		err_set(e, SBX_ABORTED, "another part of this copy is being moved: ask for parts one at a time");
		x = NULL;
	}
	if (x != NULL) {
		x->busy = 1;
	}
	pthread_mutex_unlock(&mu);
	return x;
}

static void release(struct transfer *x)
{
	pthread_mutex_lock(&mu);
	x->busy = 0;
	x->touched_ms = clock_mono_ms();
	pthread_mutex_unlock(&mu);
}

/* The transfer is over: unlisted, then finished. */
static sbx_status end(struct transfer *x, err_t *e)
{
	pthread_mutex_lock(&mu);
	unlist(x);
	pthread_mutex_unlock(&mu);
	return finish(x, e);
}

sbx_status transfers_upload(const char *key, const transfer_target *t, int64_t offset, const uint8_t *data,
			    size_t len, int last, err_t *e)
{
	struct transfer *x = take(key, UPLOAD, t, offset == 0, e);
	if (x == NULL) {
		return e->code;
	}
	if (offset > x->offset) {
		int64_t have = x->offset;
		release(x);
		return err_field(e, SBX_FAILED_PRECONDITION, "offset",
				 "the upload holds %lld bytes: send the part that starts there", (long long)have);
	}
	/* A part sent again: skip what is already written. */
	size_t skip = (size_t)(x->offset - offset) < len ? (size_t)(x->offset - offset) : len;
	size_t n = len - skip;
	if ((uint64_t)x->offset + n > x->t.cap) {
		end(x, NULL);
		return err_field(e, SBX_RESOURCE_EXHAUSTED, "tar",
				 "the archive would pass %llu bytes, what the sandbox's disk holds",
				 (unsigned long long)x->t.cap);
	}
	if (n > 0 && fdio_write_all(x->fd, data + skip, n) != 0) {
		/* The copy stopped reading: it ended, and says why. */
		sbx_status s = end(x, e);
		return s != SBX_OK ? s : err_set(e, SBX_FAILED_PRECONDITION, "the copy ended before the archive did");
	}
	x->offset += (int64_t)n;
	if (last) {
		return end(x, e);
	}
	release(x);
	return SBX_OK;
}

sbx_status transfers_download(const char *key, const transfer_target *t, int start_it, int64_t offset,
			      uint8_t *buf, size_t cap, size_t *n, int *eof, err_t *e)
{
	*n = 0;
	*eof = 0;
	struct transfer *x = take(key, DOWNLOAD, t, start_it, e);
	if (x == NULL) {
		return e->code;
	}
	if (x->last != NULL && offset == x->last_offset) {
		/* A request sent again: the same part again. */
		memcpy(buf, x->last, x->last_len);
		*n = x->last_len;
		release(x);
		return SBX_OK;
	}
	if (offset != x->offset) {
		int64_t at = x->offset;
		release(x);
		return err_field(e, SBX_FAILED_PRECONDITION, "offset",
				 "the download is at byte %lld: ask for the part that starts there", (long long)at);
	}
	ssize_t got = fdio_read_full(x->fd, buf, cap);
	if (got < 0) {
		int err = errno;
		end(x, NULL);
		return err_set(e, SBX_INTERNAL, "reading the archive: %s", strerror(err));
	}
	*n = (size_t)got;
	if ((size_t)got < cap) {
		/* The archive's end: the download is over, with the copy's verdict. */
		*eof = 1;
		return end(x, e);
	}
	if (x->last == NULL && (x->last = malloc(cap)) == NULL) {
		end(x, NULL);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	memcpy(x->last, buf, (size_t)got);
	x->last_len = (size_t)got;
	x->last_offset = offset;
	x->offset += got;
	release(x);
	return SBX_OK;
}

void transfers_expire(int64_t max_idle_ms)
{
	int64_t now = clock_mono_ms();
	struct transfer *idle = NULL;
	pthread_mutex_lock(&mu);
	for (struct transfer **pp = &transfers; *pp != NULL;) {
		struct transfer *x = *pp;
		if (!x->busy && now - x->touched_ms >= max_idle_ms) {
			*pp = x->next;
			n_transfers--;
			x->next = idle;
			idle = x;
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&mu);
	while (idle != NULL) {
		struct transfer *x = idle;
		idle = x->next;
		char id[64];
		snprintf(id, sizeof(id), "%s", x->t.sandbox_id);
		int dir = x->dir;
		finish(x, NULL);
		fprintf(stderr, "sbxd: a copy %s %s sat idle and was ended\n", dir == UPLOAD ? "into" : "out of", id);
	}
}

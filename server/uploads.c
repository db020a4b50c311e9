#include "uploads.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

/* Each upload holds a thread and a pipe until its last part. */
#define MAX_UPLOADS 64

struct upload {
	struct upload *next;
	char key[160];
	upload_target t;
	int wfd;          /* we write the archive here */
	int rfd;          /* copy_in reads it; closed by the thread when done */
	int64_t offset;   /* bytes written */
	int busy;         /* a part is being written */
	int64_t touched_ms;
	pthread_t thread;
	sbx_status result; /* copy_in's, once the thread ended */
	err_t err;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct upload *uploads;
static int n_uploads;

static void *copy_thread(void *arg)
{
	struct upload *u = arg;
	err_clear(&u->err);
	u->result = u->t.p->copy_in(u->t.sandbox_id, &u->t.h, u->t.dest_dir, u->rfd, u->t.as_root, &u->err);
	/* With our read end gone too, a writer learns (EPIPE) that nobody
	 * reads any more. */
	close(u->rfd);
	return NULL;
}

/* Caller holds mu. */
static struct upload *find(const char *key)
{
	for (struct upload *u = uploads; u != NULL; u = u->next) {
		if (strcmp(u->key, key) == 0) {
			return u;
		}
	}
	return NULL;
}

/* Caller holds mu. */
static void unlink_upload(struct upload *u)
{
	for (struct upload **pp = &uploads; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			n_uploads--;
			return;
		}
	}
}

/* Ends the archive and waits for the copy's verdict; frees u, which is
 * no longer listed. */
static sbx_status finish(struct upload *u, err_t *e)
{
	close(u->wfd);
	pthread_join(u->thread, NULL);
	sbx_status s = u->result;
	if (s != SBX_OK && e != NULL) {
		*e = u->err;
	}
	free(u);
	return s;
}

/* Caller holds mu. */
static struct upload *start(const char *key, const upload_target *t, err_t *e)
{
	if (n_uploads >= MAX_UPLOADS) {
		err_set(e, SBX_RESOURCE_EXHAUSTED, "%d uploads are in progress: finish one first", MAX_UPLOADS);
		return NULL;
	}
	struct upload *u = calloc(1, sizeof(*u));
	int p[2] = {-1, -1};
	if (u == NULL || pipe2(p, O_CLOEXEC) != 0) {
		free(u);
		err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start the upload: %s", strerror(errno));
		return NULL;
	}
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer hand-overs per part */
	snprintf(u->key, sizeof(u->key), "%s", key);
	u->t = *t;
	u->rfd = p[0];
	u->wfd = p[1];
	u->touched_ms = clock_mono_ms();
	if (pthread_create(&u->thread, NULL, copy_thread, u) != 0) {
		close(p[0]);
		close(p[1]);
		free(u);
		err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start the upload's thread");
		return NULL;
	}
	u->next = uploads;
	uploads = u;
	n_uploads++;
	return u;
}

/* Takes the upload for one part: found (or started, at offset 0) and not
 * busy with another. */
static struct upload *take(const char *key, const upload_target *t, int64_t offset, err_t *e)
{
	pthread_mutex_lock(&mu);
	struct upload *u = find(key);
	if (u == NULL && offset == 0) {
		u = start(key, t, e);
	} else if (u == NULL) {
		err_field(e, SBX_FAILED_PRECONDITION, "offset",
			  "no such upload in progress (it ended, failed or sat idle): start again at offset 0");
	} else if (u->busy) {
		err_set(e, SBX_ABORTED, "another part of this upload is being written: send parts one at a time");
		u = NULL;
	}
	if (u != NULL) {
		u->busy = 1;
	}
	pthread_mutex_unlock(&mu);
	return u;
}

/* The upload is over: unlisted, then finished. */
static sbx_status end(struct upload *u, err_t *e)
{
	pthread_mutex_lock(&mu);
	unlink_upload(u);
	pthread_mutex_unlock(&mu);
	return finish(u, e);
}

sbx_status uploads_write(const char *key, const upload_target *t, int64_t offset, const uint8_t *data,
			 size_t len, int last, err_t *e)
{
	struct upload *u = take(key, t, offset, e);
	if (u == NULL) {
		return e->code;
	}
	if (offset > u->offset) {
		int64_t have = u->offset;
		pthread_mutex_lock(&mu);
		u->busy = 0;
		pthread_mutex_unlock(&mu);
		return err_field(e, SBX_FAILED_PRECONDITION, "offset",
				 "the upload holds %lld bytes: send the part that starts there", (long long)have);
	}
	/* A part sent again: skip what is already written. */
	size_t skip = (size_t)(u->offset - offset) < len ? (size_t)(u->offset - offset) : len;
	size_t n = len - skip;
	if ((uint64_t)u->offset + n > u->t.cap) {
		end(u, NULL);
		return err_field(e, SBX_RESOURCE_EXHAUSTED, "tar",
				 "the archive would pass %llu bytes, what the sandbox's disk holds",
				 (unsigned long long)u->t.cap);
	}
	if (n > 0 && fdio_write_all(u->wfd, data + skip, n) != 0) {
		/* The copy stopped reading: it ended, and says why. */
		sbx_status s = end(u, e);
		return s != SBX_OK ? s : err_set(e, SBX_FAILED_PRECONDITION, "the copy ended before the archive did");
	}
	u->offset += (int64_t)n;
	if (last) {
		return end(u, e);
	}
	pthread_mutex_lock(&mu);
	u->busy = 0;
	u->touched_ms = clock_mono_ms();
	pthread_mutex_unlock(&mu);
	return SBX_OK;
}

void uploads_expire(int64_t max_idle_ms)
{
	int64_t now = clock_mono_ms();
	struct upload *idle = NULL;
	pthread_mutex_lock(&mu);
	for (struct upload **pp = &uploads; *pp != NULL;) {
		struct upload *u = *pp;
		if (!u->busy && now - u->touched_ms >= max_idle_ms) {
			*pp = u->next;
			n_uploads--;
			u->next = idle;
			idle = u;
		} else {
			pp = &u->next;
		}
	}
	pthread_mutex_unlock(&mu);
	while (idle != NULL) {
		struct upload *u = idle;
		idle = u->next;
		char id[64];
		snprintf(id, sizeof(id), "%s", u->t.sandbox_id);
		finish(u, NULL);
		fprintf(stderr, "sbxd: an upload into %s sat idle and was ended\n", id);
	}
}

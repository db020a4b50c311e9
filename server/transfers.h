/* Copies into and out of sandboxes that travel in parts (Sandboxes.CopyIn
 * with an upload_id, CopyOut with parts) are streamed, never staged: the
 * first part starts the provider's copy_in or copy_out on a thread of its
 * own, at one end of a pipe, and each part is written into or read from
 * the other end as it is asked for. An archive is packed or unpacked while
 * it travels and never lands on the daemon's disk. */
#ifndef SBX_SERVER_TRANSFERS_H
#define SBX_SERVER_TRANSFERS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "provider.h"

/* Where a transfer goes or comes from; copied when its first part starts it. */
typedef struct transfer_target {
	char sandbox_id[64];
	sandbox_handle h;
	const provider_ops *p;
	char path[1024]; /* copy_in's destination directory, copy_out's source */
	int as_root;
	uint64_t cap;    /* the largest archive */
} transfer_target;

/* Writes the part at `offset` of upload `key` (unique per sandbox and
 * upload id). Offset 0 starts an upload; later parts continue where the
 * previous ended, and bytes already written are skipped (a part sent
 * again). `last` ends the archive and returns the copy's verdict. An
 * upload that fails is over: its next part is FAILED_PRECONDITION. */
sbx_status transfers_upload(const char *key, const transfer_target *t, int64_t offset, const uint8_t *data,
			    size_t len, int last, err_t *e);

/* Reads the part at `offset` of download `key` into buf (at most `cap`
 * bytes; *n says how many). With `start` a new download begins (offset
 * 0); otherwise it must be in progress (NOT_FOUND names download_id).
 * The part just read is kept, so a request sent again gets it again. *eof
 * is set at the archive's end, when the download is over and the copy's
 * verdict is returned. */
sbx_status transfers_download(const char *key, const transfer_target *t, int start, int64_t offset, uint8_t *buf,
			      size_t cap, size_t *n, int *eof, err_t *e);

/* Ends transfers no part has reached for `max_idle_ms` (0: all): their
 * archives end where they stopped. */
void transfers_expire(int64_t max_idle_ms);

#endif

/* Copies into sandboxes that arrive in parts (Sandboxes.CopyIn with an
 * upload_id) are streamed, not staged: the first part starts the
 * provider's copy_in on a thread of its own, reading a pipe, and each part
 * is written into that pipe as it comes, so the archive is unpacked while
 * it is still arriving and never lands on the daemon's disk. */
#ifndef SBX_SERVER_UPLOADS_H
#define SBX_SERVER_UPLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "provider.h"

/* Where an upload goes; copied when the first part starts it. */
typedef struct upload_target {
	char sandbox_id[64];
	sandbox_handle h;
	const provider_ops *p;
	char dest_dir[1024];
	int as_root;
	uint64_t cap; /* the largest archive */
} upload_target;

/* Writes the part at `offset` of upload `key` (unique per sandbox and
 * upload id). Offset 0 starts an upload; later parts continue where the
 * previous ended, and bytes already written are skipped (a part sent
 * again). `last` ends the archive and returns the copy's verdict. An
 * upload that fails is over: its next part is FAILED_PRECONDITION. */
sbx_status uploads_write(const char *key, const upload_target *t, int64_t offset, const uint8_t *data,
			 size_t len, int last, err_t *e);

/* Ends uploads no part has reached for `max_idle_ms`: their archives end
 * where they stopped, which tar reports as an error. */
void uploads_expire(int64_t max_idle_ms);

#endif

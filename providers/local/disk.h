/* A native sandbox's own disk, for sandboxes that ask for a size
 * (resources.disk_gb): a sparse ext4 image, SANDBOX_DIR/disk.img, on a
 * loop device mounted at SANDBOX_DIR/disk. The sandbox's writable places
 * (workspace, and an image's upper and work layers) live on it, so a
 * sandbox that fills its disk gets ENOSPC without touching the host's.
 * Without a size, nothing here is used and the sandbox shares the host's
 * disk. */
#ifndef SBX_PROVIDERS_LOCAL_DISK_H
#define SBX_PROVIDERS_LOCAL_DISK_H

#include <stdint.h>

#include "err.h"

/* Makes the image (first time only: its size is fixed at creation) and
 * mounts it unless it already is. `dir` is the sandbox's directory. */
sbx_status disk_attach(const char *dir, int64_t gb, err_t *e);

/* Unmounts the disk; the loop device goes with it, the image stays. A
 * no-op for a sandbox without one. */
void disk_detach(const char *dir);

/* Whether the sandbox in `dir` has its disk mounted; with its used and
 * total bytes. */
int disk_usage(const char *dir, int64_t *used, int64_t *total);

#endif

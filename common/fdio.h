/* Whole reads and writes on file descriptors: short transfers are carried
 * on and EINTR retried, so callers see all or an error. */
#ifndef SBX_COMMON_FDIO_H
#define SBX_COMMON_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 0 when all `len` bytes were written; -1 with errno otherwise (ENOSPC
 * when the descriptor stopped taking bytes). */
int fdio_write_all(int fd, const void *data, size_t len);
int fdio_pwrite_all(int fd, const void *data, size_t len, int64_t at);

/* Bytes read: `cap` unless the end came first; -1 with errno on error. */
ssize_t fdio_read_full(int fd, void *buf, size_t cap);
ssize_t fdio_pread_full(int fd, void *buf, size_t cap, int64_t at);

#endif

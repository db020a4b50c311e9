#include "fdio.h"

#include <errno.h>
#include <unistd.h>

/* at < 0: write()/read() at the file position; else pwrite()/pread(). */
static int write_loop(int fd, const char *p, size_t len, int64_t at)
{
	while (len > 0) {
		ssize_t w = at < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)at);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			if (w == 0) {
				errno = ENOSPC;
			}
			return -1;
		}
		p += w;
		len -= (size_t)w;
		if (at >= 0) {
			at += w;
		}
	}
	return 0;
}

static ssize_t read_loop(int fd, char *buf, size_t cap, int64_t at)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = at < 0 ? read(fd, buf + got, cap - got) : pread(fd, buf + got, cap - got, (off_t)(at + (int64_t)got));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -1;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int fdio_write_all(int fd, const void *data, size_t len)
{
	return write_loop(fd, data, len, -1);
}

int fdio_pwrite_all(int fd, const void *data, size_t len, int64_t at)
{
	return at < 0 ? (errno = EINVAL, -1) : write_loop(fd, data, len, at);
}

ssize_t fdio_read_full(int fd, void *buf, size_t cap)
{
	return read_loop(fd, buf, cap, -1);
}

ssize_t fdio_pread_full(int fd, void *buf, size_t cap, int64_t at)
{
	return at < 0 ? (errno = EINVAL, -1) : read_loop(fd, buf, cap, at);
}

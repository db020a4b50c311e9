#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOOP_TRIES 16

extern char **environ;

/* A mount point's device differs from its parent's. */
static int is_mounted(const char *mnt)
{
	char parent[1300];
	snprintf(parent, sizeof(parent), "%s/..", mnt);
	struct stat a, b;
	return stat(mnt, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static const char *mkfs_path(void)
{
	static const char *const candidates[] = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (access(candidates[i], X_OK) == 0) {
			return candidates[i];
		}
	}
	return NULL;
}

/* Runs mkfs.ext4 on `img`, quietly; its exit status, -1 if it did not run. */
static int run_mkfs(const char *mkfs, const char *img)
{
	/* Lazy inode tables and journal: the image is sparse, so what mkfs
	 * would zero already reads as zeros and need not be written. */
	char *const argv[] = {"mkfs.ext4", "-q", "-F", "-m", "0",
			      "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", (char *)img, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, mkfs, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return -1;
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Makes the image under a temporary name and renames it into place, so a
 * crash never leaves an image without a file system. */
static sbx_status make_image(const char *img, int64_t gb, err_t *e)
{
	if (access(img, F_OK) == 0) {
		return SBX_OK;
	}
	const char *mkfs = mkfs_path();
	if (mkfs == NULL) {
		return err_set(e, SBX_FAILED_PRECONDITION,
			       "a disk size needs mkfs.ext4 on the host (Debian package e2fsprogs)");
	}
	char tmp[1320];
	snprintf(tmp, sizeof(tmp), "%s.new", img);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)gb << 30) != 0) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
		}
		unlink(tmp);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "disk image of %lld GiB: %s", (long long)gb, strerror(err));
	}
	close(fd);
	int rc = run_mkfs(mkfs, tmp);
	if (rc != 0 || rename(tmp, img) != 0) {
		unlink(tmp);
		return err_set(e, SBX_INTERNAL, "mkfs.ext4 on the sandbox's disk image failed (%d)", rc);
	}
	return SBX_OK;
}

/* Binds a free loop device to img_fd; its descriptor, or -1. The device
 * clears itself when its last user (the mount) goes. */
static int loop_attach(int img_fd, char *dev, size_t cap)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		return -1;
	}
	int lfd = -1;
	for (int i = 0; i < LOOP_TRIES && lfd < 0; i++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			break;
		}
		snprintf(dev, cap, "/dev/loop%d", n);
		int fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			break;
		}
		struct loop_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)img_fd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			lfd = fd;
		} else {
			int err = errno;
			close(fd);
			if (err != EBUSY) { /* EBUSY: another taker won the race */
				errno = err;
				break;
			}
		}
	}
	int err = errno;
	close(ctl);
	errno = err;
	return lfd;
}

sbx_status disk_attach(const char *dir, int64_t gb, err_t *e)
{
	char img[1300], mnt[1300];
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/disk", dir);
	if (mkdir(mnt, 0755) != 0 && errno != EEXIST) {
		return err_set(e, SBX_INTERNAL, "mkdir %s: %s", mnt, strerror(errno));
	}
	if (is_mounted(mnt)) {
		return SBX_OK;
	}
	sbx_status st = make_image(img, gb, e);
	if (st != SBX_OK) {
		return st;
	}
	int img_fd = open(img, O_RDWR | O_CLOEXEC);
	char dev[64] = "";
	int lfd = img_fd >= 0 ? loop_attach(img_fd, dev, sizeof(dev)) : -1;
	int rc = lfd >= 0 ? mount(dev, mnt, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "noinit_itable") : -1;
	int err = errno;
	/* The mount holds the device now; closing ours lets it clear itself
	 * at unmount (or at once, if the mount failed). */
	if (lfd >= 0) {
		close(lfd);
	}
	if (img_fd >= 0) {
		close(img_fd);
	}
	if (rc != 0) {
		return err_set(e, SBX_INTERNAL, "mounting the sandbox's disk%s%s: %s", dev[0] ? " on " : "", dev,
			       strerror(err));
	}
	return SBX_OK;
}

void disk_detach(const char *dir)
{
	char mnt[1300];
	snprintf(mnt, sizeof(mnt), "%s/disk", dir);
	if (is_mounted(mnt)) {
		umount2(mnt, MNT_DETACH);
	}
}

int disk_usage(const char *dir, int64_t *used, int64_t *total)
{
	char mnt[1300];
	snprintf(mnt, sizeof(mnt), "%s/disk", dir);
	struct statvfs v;
	if (!is_mounted(mnt) || statvfs(mnt, &v) != 0) {
		return 0;
	}
	*total = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
	*used = (int64_t)(v.f_blocks - v.f_bfree) * (int64_t)v.f_frsize;
	return 1;
}

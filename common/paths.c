#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static int fits(int n, size_t cap)
{
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

static int set(const char *env)
{
	const char *v = getenv(env);
	return v != NULL && v[0] != '\0';
}

int paths_data_dir(char *buf, size_t cap)
{
	if (set("SBX_DATA_DIR")) {
		return fits(snprintf(buf, cap, "%s", getenv("SBX_DATA_DIR")), cap);
	}
	if (geteuid() == 0) {
		return fits(snprintf(buf, cap, "/var/lib/sbx"), cap);
	}
	if (set("XDG_DATA_HOME")) {
		return fits(snprintf(buf, cap, "%s/sbx", getenv("XDG_DATA_HOME")), cap);
	}
	const char *home = getenv("HOME");
	return fits(snprintf(buf, cap, "%s/.local/share/sbx", home ? home : "/tmp"), cap);
}

int paths_runtime_dir(char *buf, size_t cap)
{
	if (set("SBX_RUNTIME_DIR")) {
		return fits(snprintf(buf, cap, "%s", getenv("SBX_RUNTIME_DIR")), cap);
	}
	if (geteuid() == 0) {
		return fits(snprintf(buf, cap, "/run/sbx"), cap);
	}
	if (set("XDG_RUNTIME_DIR")) {
		return fits(snprintf(buf, cap, "%s/sbx", getenv("XDG_RUNTIME_DIR")), cap);
	}
	return fits(snprintf(buf, cap, "/tmp/sbx-%u", (unsigned)geteuid()), cap);
}

static int in_runtime(const char *file, char *buf, size_t cap)
{
	char dir[512];
	if (paths_runtime_dir(dir, sizeof(dir)) != 0) {
		return -1;
	}
	return fits(snprintf(buf, cap, "ipc://%s/%s", dir, file), cap);
}

int paths_default_listen(char *buf, size_t cap)
{
	return in_runtime("sbxd.sock", buf, cap);
}

int paths_default_events(char *buf, size_t cap)
{
	return in_runtime("events.sock", buf, cap);
}

int paths_admin_token(const char *data_dir, char *buf, size_t cap)
{
	return fits(snprintf(buf, cap, "%s/admin.token", data_dir), cap);
}

int paths_mkdirs(const char *path, unsigned mode)
{
	char tmp[1024];
	if (fits(snprintf(tmp, sizeof(tmp), "%s", path), sizeof(tmp)) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
				return -1;
			}
			*p = '/';
		}
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
		return -1;
	}
	return 0;
}

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* v1 hierarchies a sandbox joins. cpuacct is its own hierarchy on our
 * hosts but mounted together with cpu on many others: both are handled. */
static const char *const v1_controllers[] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
#define N_V1 (sizeof(v1_controllers) / sizeof(v1_controllers[0]))

static char root[512] = "/sys/fs/cgroup";
static cg_mode mode;
static int v1_present[N_V1];

cg_mode cg_version(void)
{
	return mode;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int64_t read_int(const char *path, const char *key)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return -1;
	}
	buf[n] = '\0';
	if (key == NULL) {
		return strtoll(buf, NULL, 10);
	}
	char *p = strstr(buf, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

sbx_status cg_init(err_t *e)
{
	const char *env = getenv("SBX_CGROUP_ROOT");
	if (env != NULL && env[0] != '\0') {
		snprintf(root, sizeof(root), "%s", env);
	}
	struct statfs sf;
	if (statfs(root, &sf) != 0) {
		return err_set(e, SBX_FAILED_PRECONDITION, "cgroups: %s: %s", root, strerror(errno));
	}
	char path[700];
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		mode = CG_V2;
		/* Controllers must be enabled down to sbx/ for its children. */
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
		write_text(path, "+memory +cpu +pids");
		snprintf(path, sizeof(path), "%s/sbx", root);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			return err_set(e, SBX_FAILED_PRECONDITION, "cgroups: mkdir %s: %s", path, strerror(errno));
		}
		snprintf(path, sizeof(path), "%s/sbx/cgroup.subtree_control", root);
		if (write_text(path, "+memory +cpu +pids") != 0) {
			return err_set(e, SBX_FAILED_PRECONDITION, "cgroups: enable controllers in %s: %s",
				       path, strerror(errno));
		}
		return SBX_OK;
	}
	mode = CG_V1;
	int any = 0;
	for (size_t i = 0; i < N_V1; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, v1_controllers[i]);
		struct stat st;
		v1_present[i] = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		if (v1_present[i]) {
			snprintf(path, sizeof(path), "%s/%s/sbx", root, v1_controllers[i]);
			if (mkdir(path, 0755) != 0 && errno != EEXIST) {
				return err_set(e, SBX_FAILED_PRECONDITION, "cgroups: mkdir %s: %s", path,
					       strerror(errno));
			}
			any = 1;
		}
	}
	if (!any || !v1_present[0] || !v1_present[3]) {
		return err_set(e, SBX_FAILED_PRECONDITION,
			       "cgroups: neither a cgroup2 mount nor v1 memory and pids hierarchies under %s",
			       root);
	}
	return SBX_OK;
}

/* Directory of the sandbox in hierarchy `i` (v1) or the unified one (v2). */
static void dir_of(const char *id, size_t i, char *buf, size_t cap)
{
	if (mode == CG_V2) {
		snprintf(buf, cap, "%s/sbx/%s", root, id);
	} else {
		snprintf(buf, cap, "%s/%s/sbx/%s", root, v1_controllers[i], id);
	}
}

static size_t n_dirs(void)
{
	return mode == CG_V2 ? 1 : N_V1;
}

static int present(size_t i)
{
	return mode == CG_V2 || v1_present[i];
}

static sbx_status set(const char *dir, const char *file, const char *value, err_t *e)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (write_text(path, value) != 0) {
		return err_set(e, SBX_INTERNAL, "cgroups: write %s = %s: %s", path, value, strerror(errno));
	}
	return SBX_OK;
}

static sbx_status limits_v1(const char *id, const cg_limits *l, err_t *e)
{
	char dir[4096], v[64];
	sbx_status s = SBX_OK;
	if (l->memory_mb > 0) {
		dir_of(id, 0, dir, sizeof(dir));
		snprintf(v, sizeof(v), "%lld", (long long)l->memory_mb * 1024 * 1024);
		s = set(dir, "memory.limit_in_bytes", v, e);
		/* Without swap accounting the limit may be escaped into swap;
		 * where the knob exists, cap memory+swap at the same value. */
		char path[4200];
		snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", dir);
		if (s == SBX_OK && access(path, W_OK) == 0) {
			s = set(dir, "memory.memsw.limit_in_bytes", v, e);
		}
	}
	if (s == SBX_OK && l->cpu_cores > 0 && present(1)) {
		dir_of(id, 1, dir, sizeof(dir));
		snprintf(v, sizeof(v), "%lld", (long long)(l->cpu_cores * 100000));
		s = set(dir, "cpu.cfs_period_us", "100000", e);
		if (s == SBX_OK) {
			s = set(dir, "cpu.cfs_quota_us", v, e);
		}
	}
	if (s == SBX_OK && l->pids_max > 0) {
		dir_of(id, 3, dir, sizeof(dir));
		snprintf(v, sizeof(v), "%d", l->pids_max);
		s = set(dir, "pids.max", v, e);
	}
	return s;
}

static sbx_status limits_v2(const char *id, const cg_limits *l, err_t *e)
{
	char dir[4096], v[64];
	dir_of(id, 0, dir, sizeof(dir));
	sbx_status s = SBX_OK;
	if (l->memory_mb > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory_mb * 1024 * 1024);
		s = set(dir, "memory.max", v, e);
		if (s == SBX_OK) {
			set(dir, "memory.swap.max", "0", NULL);
		}
	}
	if (s == SBX_OK && l->cpu_cores > 0) {
		snprintf(v, sizeof(v), "%lld 100000", (long long)(l->cpu_cores * 100000));
		s = set(dir, "cpu.max", v, e);
	}
	if (s == SBX_OK && l->pids_max > 0) {
		snprintf(v, sizeof(v), "%d", l->pids_max);
		s = set(dir, "pids.max", v, e);
	}
	return s;
}

sbx_status cg_create(const char *id, const cg_limits *l, err_t *e)
{
	char dir[4096];
	for (size_t i = 0; i < n_dirs(); i++) {
		if (!present(i)) {
			continue;
		}
		dir_of(id, i, dir, sizeof(dir));
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			err_set(e, SBX_INTERNAL, "cgroups: mkdir %s: %s", dir, strerror(errno));
			cg_destroy(id, NULL);
			return SBX_INTERNAL;
		}
	}
	sbx_status s = mode == CG_V2 ? limits_v2(id, l, e) : limits_v1(id, l, e);
	if (s != SBX_OK) {
		cg_destroy(id, NULL);
	}
	return s;
}

int cg_procs_files(const char *id, char paths[][4096], int max)
{
	int n = 0;
	char dir[4096];
	for (size_t i = 0; i < n_dirs() && n < max; i++) {
		if (!present(i)) {
			continue;
		}
		dir_of(id, i, dir, sizeof(dir));
		snprintf(paths[n++], 4096, "%.4000s/cgroup.procs", dir);
	}
	return n;
}

static void freezer_dir(const char *id, char *dir, size_t cap)
{
	dir_of(id, mode == CG_V2 ? 0 : 4, dir, cap);
}

sbx_status cg_freeze(const char *id, int frozen, err_t *e)
{
	char dir[4096];
	freezer_dir(id, dir, sizeof(dir));
	if (mode == CG_V1 && !v1_present[4]) {
		return err_set(e, SBX_FAILED_PRECONDITION, "cgroups: no freezer hierarchy on this host");
	}
	sbx_status s = mode == CG_V2 ? set(dir, "cgroup.freeze", frozen ? "1" : "0", e)
				     : set(dir, "freezer.state", frozen ? "FROZEN" : "THAWED", e);
	if (s != SBX_OK) {
		return s;
	}
	/* Freezing is asynchronous: wait (briefly) until it is done. */
	for (int i = 0; i < 200 && cg_is_frozen(id) != frozen; i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return SBX_OK;
}

int cg_is_frozen(const char *id)
{
	char dir[4096], path[4200], buf[64] = "";
	freezer_dir(id, dir, sizeof(dir));
	if (mode == CG_V2) {
		snprintf(path, sizeof(path), "%s/cgroup.events", dir);
		return read_int(path, "frozen ") == 1;
	}
	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strncmp(buf, "FROZEN", 6) == 0;
}

static int kill_listed(const char *procs)
{
	FILE *f = fopen(procs, "re");
	if (f == NULL) {
		return 0;
	}
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		kill((pid_t)pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

int cg_count(const char *id)
{
	char dir[4096], path[4200];
	dir_of(id, mode == CG_V2 ? 0 : 3, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return 0;
	}
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		n++;
	}
	fclose(f);
	return n;
}

void cg_kill_all(const char *id)
{
	char dir[4096], path[4200];
	if (cg_is_frozen(id)) {
		cg_freeze(id, 0, NULL);
	}
	if (mode == CG_V2) {
		dir_of(id, 0, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
		write_text(path, "1");
	}
	for (int round = 0; round < 500; round++) {
		int n = 0;
		for (size_t i = 0; i < n_dirs(); i++) {
			if (present(i)) {
				dir_of(id, i, dir, sizeof(dir));
				snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
				n += kill_listed(path);
			}
		}
		if (n == 0) {
			return;
		}
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
}

sbx_status cg_destroy(const char *id, err_t *e)
{
	char dir[4096];
	sbx_status s = SBX_OK;
	for (size_t i = 0; i < n_dirs(); i++) {
		if (!present(i)) {
			continue;
		}
		dir_of(id, i, dir, sizeof(dir));
		/* rmdir fails with EBUSY while exiting tasks linger: retry, for
		 * up to 5 s (hundreds of sandboxes torn down on a busy VM). */
		int rc = -1;
		for (int k = 0; k < 2500 && (rc = rmdir(dir)) != 0 && errno == EBUSY; k++) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
		if (rc != 0 && errno != ENOENT && s == SBX_OK) {
			s = err_set(e, SBX_INTERNAL, "cgroups: rmdir %s: %s", dir, strerror(errno));
		}
	}
	return s;
}

int cg_exists(const char *id)
{
	char dir[4096];
	struct stat st;
	for (size_t i = 0; i < n_dirs(); i++) {
		dir_of(id, i, dir, sizeof(dir));
		if (present(i) && stat(dir, &st) == 0) {
			return 1;
		}
	}
	return 0;
}

sbx_status cg_metrics(const char *id, sandbox_metrics *m, err_t *e)
{
	char dir[4096], path[4200];
	(void)e;
	memset(m, 0, sizeof(*m));
	if (mode == CG_V2) {
		dir_of(id, 0, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/cpu.stat", dir);
		m->cpu_usage_ns = read_int(path, "usage_usec ") * 1000;
		snprintf(path, sizeof(path), "%s/memory.current", dir);
		m->memory_bytes = read_int(path, NULL);
		snprintf(path, sizeof(path), "%s/memory.max", dir);
		m->memory_limit = read_int(path, NULL);
		snprintf(path, sizeof(path), "%s/pids.current", dir);
		m->pids = read_int(path, NULL);
		return SBX_OK;
	}
	dir_of(id, 2, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cpuacct.usage", dir);
	m->cpu_usage_ns = read_int(path, NULL);
	dir_of(id, 0, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir);
	m->memory_bytes = read_int(path, NULL);
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
	m->memory_limit = read_int(path, NULL);
	dir_of(id, 3, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pids.current", dir);
	m->pids = read_int(path, NULL);
	return SBX_OK;
}

/* The native `local` provider: a sandbox is sbx-init (PID 1) in new pid,
 * mount, uts, ipc and (unless network is "host") net namespaces, inside its
 * own cgroups; files live under <data>/sandboxes/<id>/. See sbx_init.c for
 * what happens inside, docs/local-provider.md for the why. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "provider.h"

#define SANDBOX_UID 1000
#define SANDBOX_GID 1000
#define DEFAULT_PIDS_MAX 4096
#define CHILD_STACK (64 * 1024)

static char base_dir[1024];  /* <data>/sandboxes */
static err_t init_error;     /* why the provider cannot work here, if it cannot */
static char init_path[PATH_MAX + 64]; /* the sbx-init binary */

static sbx_status find_init(err_t *e)
{
	const char *env = getenv("SBX_INIT_PATH");
	if (env != NULL && env[0] != '\0') {
		snprintf(init_path, sizeof(init_path), "%s", env);
		return access(init_path, X_OK) == 0
			       ? SBX_OK
			       : err_set(e, SBX_FAILED_PRECONDITION, "SBX_INIT_PATH=%s is not executable", env);
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		return err_set(e, SBX_INTERNAL, "readlink /proc/self/exe: %s", strerror(errno));
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	/* Beside sbxd (build tree), or in ../lib/sbx (installed). */
	const char *const candidates[] = {"%s/sbx-init", "%s/../lib/sbx/sbx-init"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(init_path, sizeof(init_path), candidates[i], self);
		if (access(init_path, X_OK) == 0) {
			return SBX_OK;
		}
	}
	return err_set(e, SBX_FAILED_PRECONDITION, "sbx-init not found beside %s/sbxd", self);
}

/* A host without what the provider needs still runs the daemon: the
 * provider then answers every call with the reason. */
static sbx_status local_init(const char *data_dir, err_t *e)
{
	err_t *ie = &init_error;
	sbx_status s = SBX_OK;
	snprintf(base_dir, sizeof(base_dir), "%s/sandboxes", data_dir);
	if (geteuid() != 0) {
		s = err_set(ie, SBX_FAILED_PRECONDITION,
			    "the local provider needs sbxd to run as root (namespaces, cgroups)");
	} else if (mkdir(base_dir, 0711) != 0 && errno != EEXIST) {
		s = err_set(ie, SBX_INTERNAL, "mkdir %s: %s", base_dir, strerror(errno));
	} else if ((s = find_init(ie)) == SBX_OK) {
		s = cg_init(ie);
	}
	if (s != SBX_OK) {
		*e = *ie;
	}
	return s;
}

static sbx_status ready(err_t *e)
{
	if (init_error.code != SBX_OK) {
		*e = init_error;
		return e->code;
	}
	return SBX_OK;
}

static sbx_status local_validate(err_t *e)
{
	return ready(e);
}

static void sandbox_dir(const char *id, const char *sub, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s%s%s", base_dir, id, sub ? "/" : "", sub ? sub : "");
}

/* Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. With
 * the pid it identifies a process across pid reuse. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command may contain spaces */
	if (p == NULL) {
		return 0;
	}
	unsigned long long v = 0;
	/* After ")": state is field 3; start time is field 22. A zombie is
	 * dead: reap it if it is ours and report it gone. */
	int field = 2;
	char *save = NULL;
	for (char *tok = strtok_r(p + 1, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		if (++field == 3 && (tok[0] == 'Z' || tok[0] == 'X')) {
			waitpid(pid, NULL, WNOHANG);
			return 0;
		}
		if (field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	}
	return v;
}

static int parse_ref(const sandbox_handle *h, pid_t *pid, unsigned long long *st)
{
	long p;
	unsigned long long s;
	if (sscanf(h->ref, "pid:%ld:%llu", &p, &s) != 2 || p <= 1) {
		return -1;
	}
	*pid = (pid_t)p;
	*st = s;
	return 0;
}

/* The init process of `h`, if it is still the same process. */
static pid_t live_init(const sandbox_handle *h)
{
	pid_t pid;
	unsigned long long st;
	if (parse_ref(h, &pid, &st) != 0) {
		return 0;
	}
	return start_time(pid) == st ? pid : 0;
}

struct child_args {
	char procs[CG_MAX_PROCS_FILES][4096];
	int n_procs;
	int init_fd;
	int null_fd;
	int ready_fd; /* the child's end */
	char *argv[8];
	char *envp[2];
};

/* Runs in the new namespaces, sharing the parent's memory until exec
 * (CLONE_VM | CLONE_VFORK): system calls only, nothing that allocates or
 * locks. Joins the cgroups (writing "0" moves the writer), then execs
 * sbx-init. */
static int child_main(void *arg)
{
	struct child_args *a = arg;
	for (int i = 0; i < a->n_procs; i++) {
		int fd = open(a->procs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			_exit(121);
		}
		close(fd);
	}
	if (dup2(a->null_fd, 0) < 0 || dup2(a->null_fd, 1) < 0 || dup2(a->null_fd, 2) < 0) {
		_exit(122);
	}
	syscall(SYS_execveat, a->init_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
	_exit(123);
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static sbx_status spawn_init(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	char dir[1200], uid[16], gid[16], fdbuf[16];
	sandbox_dir(s->id, NULL, dir, sizeof(dir));
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) != 0) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno));
	}
	/* The child's end must survive exec: a fresh descriptor without CLOEXEC. */
	int child_ready = fcntl(ready[1], F_DUPFD, 3);
	struct child_args *a = calloc(1, sizeof(*a));
	char *stack = malloc(CHILD_STACK);
	int init_fd = open(init_path, O_PATH | O_CLOEXEC);
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	sbx_status st = SBX_OK;
	if (a == NULL || stack == NULL || child_ready < 0 || init_fd < 0 || null_fd < 0) {
		st = err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot prepare sandbox process: %s", strerror(errno));
		goto out;
	}
	a->n_procs = cg_procs_files(s->id, a->procs, CG_MAX_PROCS_FILES);
	a->init_fd = init_fd;
	a->null_fd = null_fd;
	snprintf(uid, sizeof(uid), "%d", s->run_as_root ? 0 : SANDBOX_UID);
	snprintf(gid, sizeof(gid), "%d", s->run_as_root ? 0 : SANDBOX_GID);
	snprintf(fdbuf, sizeof(fdbuf), "%d", child_ready);
	char host[64];
	snprintf(host, sizeof(host), "%.63s", s->name && s->name[0] ? s->name : s->id);
	char *argv[] = {"sbx-init", dir, host, (char *)(strcmp(s->network, "host") == 0 ? "host" : "none"),
			uid, gid, fdbuf, NULL};
	memcpy(a->argv, argv, sizeof(argv));
	a->envp[0] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_VM |
		    CLONE_VFORK | SIGCHLD;
	if (strcmp(s->network, "host") != 0) {
		flags |= CLONE_NEWNET;
	}
	pid_t pid = clone(child_main, stack + CHILD_STACK, flags, a);
	if (pid < 0) {
		st = err_set(e, errno == ENOMEM || errno == ENOSPC ? SBX_RESOURCE_EXHAUSTED : SBX_INTERNAL,
			     "clone: %s", strerror(errno));
		goto out;
	}
	/* The child has exec'd (or died): wait for sbx-init's verdict. */
	close(child_ready);
	child_ready = -1;
	close(ready[1]);
	ready[1] = -1;
	char msg[512];
	ssize_t n = read(ready[0], msg, sizeof(msg) - 1);
	if (n == 2 && memcmp(msg, "ok", 2) == 0) {
		snprintf(h->ref, sizeof(h->ref), "pid:%d:%llu", (int)pid, start_time(pid));
		snprintf(h->state, sizeof(h->state), "{\"pid\":%d,\"cgroup\":\"v%d\"}", (int)pid,
			 (int)cg_version());
	} else {
		msg[n > 0 ? n : 0] = '\0';
		int status = 0;
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		st = err_set(e, SBX_INTERNAL, "sandbox init failed: %s",
			     n > 0 ? msg
				   : WIFEXITED(status) ? (WEXITSTATUS(status) == 121 ? "cannot join cgroups"
											  : "exited before it was ready")
						       : "killed before it was ready");
	}
out:
	if (child_ready >= 0) {
		close(child_ready);
	}
	close(ready[0]);
	if (ready[1] >= 0) {
		close(ready[1]);
	}
	if (init_fd >= 0) {
		close(init_fd);
	}
	if (null_fd >= 0) {
		close(null_fd);
	}
	free(stack);
	free(a);
	return st;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP) {
		rmdir(path);
	} else {
		unlink(path);
	}
	return 0;
}

/* rm -rf that never crosses into another file system. */
static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static sbx_status make_dirs(const sandbox_spec *s, err_t *e)
{
	char dir[1200], sub[1300];
	sandbox_dir(s->id, NULL, dir, sizeof(dir));
	if (mkdir(dir, 0711) != 0 && errno != EEXIST) {
		return err_set(e, SBX_INTERNAL, "mkdir %s: %s", dir, strerror(errno));
	}
	static const char *const subs[] = {"root", "workspace"};
	for (size_t i = 0; i < 2; i++) {
		sandbox_dir(s->id, subs[i], sub, sizeof(sub));
		if (mkdir(sub, 0755) != 0 && errno != EEXIST) {
			return err_set(e, SBX_INTERNAL, "mkdir %s: %s", sub, strerror(errno));
		}
	}
	sandbox_dir(s->id, "workspace", sub, sizeof(sub));
	if (!s->run_as_root && chown(sub, SANDBOX_UID, SANDBOX_GID) != 0) {
		return err_set(e, SBX_INTERNAL, "chown %s: %s", sub, strerror(errno));
	}
	return SBX_OK;
}

static sbx_status check_spec(const sandbox_spec *s, err_t *e)
{
	if (strcmp(s->image, "host") != 0) {
		return err_field(e, SBX_NOT_FOUND, "image",
				 "no image \"%.128s\" for the local provider (available: host)", s->image);
	}
	if (s->n_volumes > 0) {
		return err_field(e, SBX_UNIMPLEMENTED, "volumes",
				 "host volumes are not supported by the local provider in this build");
	}
	if (strcmp(s->network, "custom") == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, "network_mode",
				 "the local provider supports none, isolated and host");
	}
	return SBX_OK;
}

static sbx_status start_common(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	cg_limits l = {.cpu_cores = s->cpu_cores, .memory_mb = s->memory_mb,
		       .pids_max = s->pids_max > 0 ? s->pids_max : DEFAULT_PIDS_MAX};
	sbx_status st = cg_create(s->id, &l, e);
	if (st != SBX_OK) {
		return st;
	}
	st = spawn_init(s, h, e);
	if (st != SBX_OK) {
		cg_kill_all(s->id);
		cg_destroy(s->id, NULL);
	}
	return st;
}

static sbx_status local_create(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	sbx_status st = ready(e);
	if (st != SBX_OK) {
		return st;
	}
	st = check_spec(s, e);
	if (st == SBX_OK) {
		st = make_dirs(s, e);
	}
	if (st == SBX_OK) {
		st = start_common(s, h, e);
	}
	if (st != SBX_OK) {
		char dir[1200];
		sandbox_dir(s->id, NULL, dir, sizeof(dir));
		remove_tree(dir);
	}
	return st;
}

static sbx_status local_start(const sandbox_spec *s, sandbox_handle *h, err_t *e)
{
	if (live_init(h) != 0) {
		return SBX_OK;
	}
	sbx_status st = ready(e);
	if (st == SBX_OK) {
		st = check_spec(s, e);
	}
	if (st == SBX_OK) {
		st = make_dirs(s, e); /* no-op for a kept sandbox */
	}
	return st == SBX_OK ? start_common(s, h, e) : st;
}

static sbx_status local_stop(const char *id, sandbox_handle *h, err_t *e)
{
	(void)e;
	pid_t pid = live_init(h);
	if (pid != 0) {
		if (cg_is_frozen(id)) {
			cg_freeze(id, 0, NULL);
		}
		/* PID 1 dying takes the whole pid namespace with it. */
		kill_and_reap(pid);
	}
	cg_kill_all(id);
	cg_destroy(id, NULL);
	return SBX_OK;
}

static sbx_status local_pause(const char *id, sandbox_handle *h, err_t *e)
{
	if (live_init(h) == 0) {
		return err_set(e, SBX_FAILED_PRECONDITION, "sandbox %s is not running", id);
	}
	return cg_freeze(id, 1, e);
}

static sbx_status local_resume(const char *id, sandbox_handle *h, err_t *e)
{
	if (live_init(h) == 0) {
		return err_set(e, SBX_FAILED_PRECONDITION, "sandbox %s is not running", id);
	}
	return cg_freeze(id, 0, e);
}

static sbx_status local_destroy(const char *id, sandbox_handle *h, err_t *e)
{
	local_stop(id, h, e);
	sbx_status st = cg_destroy(id, e);
	char dir[1200];
	sandbox_dir(id, NULL, dir, sizeof(dir));
	remove_tree(dir);
	struct stat sb;
	if (st == SBX_OK && stat(dir, &sb) == 0) {
		st = err_set(e, SBX_INTERNAL, "could not remove %s", dir);
	}
	return st;
}

static sbx_status local_metrics(const char *id, const sandbox_handle *h, sandbox_metrics *m,
				err_t *e)
{
	(void)h;
	return cg_metrics(id, m, e);
}

static sbx_status local_reattach(const char *id, sandbox_handle *h, sandbox_liveness *out,
				 err_t *e)
{
	(void)e;
	if (live_init(h) == 0) {
		*out = SANDBOX_GONE;
		/* Whatever the dead init left behind (rare: processes escaped
		 * into the cgroup by another route) goes too. */
		cg_kill_all(id);
		cg_destroy(id, NULL);
		return SBX_OK;
	}
	*out = cg_is_frozen(id) ? SANDBOX_PAUSED_ALIVE : SANDBOX_ALIVE;
	return SBX_OK;
}

const provider_ops local_provider = {
	.id = "local",
	.caps = PCAP_PAUSE | PCAP_PERSISTENT_WORKSPACE | PCAP_NETWORK_NONE | PCAP_NETWORK_HOST |
		PCAP_REATTACH,
	.init = local_init,
	.validate = local_validate,
	.create = local_create,
	.start = local_start,
	.stop = local_stop,
	.pause = local_pause,
	.resume = local_resume,
	.destroy = local_destroy,
	.metrics = local_metrics,
	.reattach = local_reattach,
};

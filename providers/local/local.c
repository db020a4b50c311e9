/* The native `local` provider: a sandbox is sbx-init (PID 1) in new pid,
 * mount, uts, ipc and (unless network is "host") net namespaces, inside its
 * own cgroups; files live under <data>/sandboxes/<id>/. See sbx_init.c for
 * what happens inside, docs/local-provider.md for the why. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "disk.h"
#include "fdio.h"
#include "provider.h"

#define SANDBOX_UID 1000
#define SANDBOX_GID 1000
#define DEFAULT_PIDS_MAX 4096
#define CHILD_STACK (64 * 1024)

static char base_dir[1024];  /* <data>/sandboxes */
static char images_dir[1024]; /* <data>/images */
static err_t init_error;     /* why the provider cannot work here, if it cannot */
static char init_path[PATH_MAX + 64]; /* the sbx-init binary */
static int dev_null = -1;            /* init's stdio, stdin of commands without one */

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
	snprintf(images_dir, sizeof(images_dir), "%s/images", data_dir);
	if (geteuid() != 0) {
		s = err_set(ie, SBX_FAILED_PRECONDITION,
			    "the local provider needs sbxd to run as root (namespaces, cgroups)");
	} else if (mkdir(base_dir, 0711) != 0 && errno != EEXIST) {
		s = err_set(ie, SBX_INTERNAL, "mkdir %s: %s", base_dir, strerror(errno));
	} else if (dev_null < 0 && (dev_null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		s = err_set(ie, SBX_INTERNAL, "/dev/null: %s", strerror(errno));
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
	char **argv;
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
	sbx_status st = SBX_OK;
	if (a == NULL || stack == NULL || child_ready < 0 || init_fd < 0) {
		st = err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot prepare sandbox process: %s", strerror(errno));
		goto out;
	}
	a->n_procs = cg_procs_files(s->id, a->procs, CG_MAX_PROCS_FILES);
	a->init_fd = init_fd;
	a->null_fd = dev_null;
	snprintf(uid, sizeof(uid), "%d", s->run_as_root ? 0 : SANDBOX_UID);
	snprintf(gid, sizeof(gid), "%d", s->run_as_root ? 0 : SANDBOX_GID);
	snprintf(fdbuf, sizeof(fdbuf), "%d", child_ready);
	char host[64];
	snprintf(host, sizeof(host), "%.63s", s->name && s->name[0] ? s->name : s->id);
	char **argv = calloc(10 + 4 * s->n_volumes, sizeof(char *));
	char rootfs[1200];
	snprintf(rootfs, sizeof(rootfs), "%s/%s/rootfs", images_dir, s->image);
	if (argv == NULL) {
		st = err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	size_t k = 0;
	argv[k++] = "sbx-init";
	argv[k++] = dir;
	argv[k++] = host;
	argv[k++] = (char *)(strcmp(s->network, "host") == 0 ? "host" : "none");
	argv[k++] = uid;
	argv[k++] = gid;
	argv[k++] = fdbuf;
	for (size_t i = 0; i < s->n_volumes; i++) {
		argv[k++] = "--vol";
		argv[k++] = (char *)s->volumes[i].host_path;
		argv[k++] = (char *)s->volumes[i].container_path;
		argv[k++] = (char *)(s->volumes[i].read_only ? "ro" : "rw");
	}
	if (strcmp(s->image, "host") != 0) {
		argv[k++] = "--image";
		argv[k++] = rootfs;
	}
	argv[k] = NULL;
	a->argv = argv;
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
	free(stack);
	if (a != NULL) {
		free(a->argv);
	}
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

/* The sandbox's writable places. With a disk size they live on the
 * sandbox's own disk (disk.h), reached through links of the same names,
 * so everything else finds them where it always does. */
static const char *const writable_dirs[] = {"workspace", "upper", "work"};

static sbx_status make_dir(const char *path, err_t *e)
{
	/* Explicit modes: sbxd's umask (077) is for its own files, and the
	 * upper dir's mode becomes the mode of the sandbox's "/". */
	if ((mkdir(path, 0755) != 0 && errno != EEXIST) || chmod(path, 0755) != 0) {
		return err_set(e, SBX_INTERNAL, "mkdir %s: %s", path, strerror(errno));
	}
	return SBX_OK;
}

static sbx_status make_dirs(const sandbox_spec *s, err_t *e)
{
	char dir[1200], sub[1300], target[1300];
	sandbox_dir(s->id, NULL, dir, sizeof(dir));
	if (mkdir(dir, 0711) != 0 && errno != EEXIST) {
		return err_set(e, SBX_INTERNAL, "mkdir %s: %s", dir, strerror(errno));
	}
	sandbox_dir(s->id, "root", sub, sizeof(sub));
	sbx_status st = make_dir(sub, e);
	if (st == SBX_OK && s->disk_gb > 0) {
		st = disk_attach(dir, s->disk_gb, e);
	}
	for (size_t i = 0; st == SBX_OK && i < sizeof(writable_dirs) / sizeof(writable_dirs[0]); i++) {
		sandbox_dir(s->id, writable_dirs[i], sub, sizeof(sub));
		if (s->disk_gb > 0) {
			snprintf(target, sizeof(target), "%s/disk/%s", dir, writable_dirs[i]);
			st = make_dir(target, e);
			char rel[64];
			snprintf(rel, sizeof(rel), "disk/%s", writable_dirs[i]);
			if (st == SBX_OK && symlink(rel, sub) != 0 && errno != EEXIST) {
				st = err_set(e, SBX_INTERNAL, "symlink %s: %s", sub, strerror(errno));
			}
		} else {
			st = make_dir(sub, e);
		}
	}
	sandbox_dir(s->id, "workspace", sub, sizeof(sub));
	if (st == SBX_OK && !s->run_as_root && chown(sub, SANDBOX_UID, SANDBOX_GID) != 0) {
		st = err_set(e, SBX_INTERNAL, "chown %s: %s", sub, strerror(errno));
	}
	return st;
}

static sbx_status check_spec(const sandbox_spec *s, err_t *e)
{
	char rootfs[1200];
	struct stat is;
	snprintf(rootfs, sizeof(rootfs), "%s/%s/rootfs", images_dir, s->image);
	if (strcmp(s->image, "host") != 0 &&
	    (strchr(s->image, '/') != NULL || s->image[0] == '.' || stat(rootfs, &is) != 0)) {
		return err_field(e, SBX_NOT_FOUND, "image",
				 "no image \"%.128s\" for the local provider (host, or see `sbx images ls`)",
				 s->image);
	}
	for (size_t i = 0; i < s->n_volumes; i++) {
		struct stat vs;
		if (stat(s->volumes[i].host_path, &vs) != 0 || !S_ISDIR(vs.st_mode)) {
			return err_field(e, SBX_FAILED_PRECONDITION, "volumes",
					 "%s is not a directory on this host", s->volumes[i].host_path);
		}
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
		disk_detach(dir);
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
	char dir[1200];
	sandbox_dir(id, NULL, dir, sizeof(dir));
	disk_detach(dir);
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

/* ---- exec ---------------------------------------------------------------- */

struct exec_pipes {
	int out[2];
	int err[2];
	int in[2];
	int status[2];
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void close_pipes(struct exec_pipes *p)
{
	int *all[] = {&p->out[0], &p->out[1], &p->err[0], &p->err[1], &p->in[0], &p->in[1],
		      &p->status[0], &p->status[1]};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		close_fd(all[i]);
	}
}

/* Every command's environment starts here; the sandbox's and then the
 * command's own variables override it. */
static const char *const base_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/workspace", "LANG=C.UTF-8", "TERM=dumb"};
enum { N_BASE_ENV = sizeof(base_env) / sizeof(base_env[0]) };

/* argv for `sbx-init exec`, in an array the caller frees (strings in `buf`
 * or borrowed from the request). */
static char **helper_argv(const exec_request *r, pid_t init, const char *cwd, int status_fd,
			  const char *const *sandbox_env, size_t n_sandbox_env, char *nums, char procs[][4096],
			  int n_procs)
{
	size_t n = 16 + 2 * (size_t)n_procs + 2 * (r->n_env + n_sandbox_env + 4) + r->argc;
	char **v = calloc(n, sizeof(char *));
	if (v == NULL) {
		return NULL;
	}
	size_t k = 0;
	v[k++] = "sbx-init";
	v[k++] = "exec";
	char *pidbuf = nums, *uidbuf = nums + 16, *gidbuf = nums + 32, *fdbuf = nums + 48;
	snprintf(pidbuf, 16, "%d", (int)init);
	snprintf(uidbuf, 16, "%d", r->run_as_root ? 0 : SANDBOX_UID);
	snprintf(gidbuf, 16, "%d", r->run_as_root ? 0 : SANDBOX_GID);
	snprintf(fdbuf, 16, "%d", status_fd);
	v[k++] = pidbuf;
	v[k++] = uidbuf;
	v[k++] = gidbuf;
	v[k++] = (char *)cwd;
	v[k++] = fdbuf;
	for (int i = 0; i < n_procs; i++) {
		v[k++] = "--cg";
		v[k++] = procs[i];
	}
	for (size_t i = 0; i < N_BASE_ENV; i++) {
		v[k++] = "--env";
		v[k++] = (char *)base_env[i];
	}
	for (size_t i = 0; i < n_sandbox_env; i++) {
		v[k++] = "--env";
		v[k++] = (char *)sandbox_env[i];
	}
	for (size_t i = 0; i < r->n_env; i++) {
		v[k++] = "--env";
		v[k++] = (char *)r->env[i];
	}
	v[k++] = "--";
	for (size_t i = 0; i < r->argc; i++) {
		v[k++] = (char *)r->argv[i];
	}
	v[k] = NULL;
	return v;
}

static sbx_status spawn_helper(char **argv, struct exec_pipes *p, int has_stdin, pid_t *pid,
			       err_t *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, has_stdin ? p->in[0] : dev_null, 0);
	posix_spawn_file_actions_adddup2(&fa, p->out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p->err[1], 2);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	static char *const envp[] = {NULL};
	int rc = posix_spawn(pid, init_path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return err_set(e, SBX_INTERNAL, "spawn exec helper: %s", strerror(rc));
	}
	return SBX_OK;
}

/* Sends `sig` to the command's process group: through the exec helper
 * (SIGUSR2 stands for SIGKILL there), or as one byte on the init's
 * control connection. */
static void signal_command(pid_t helper, int ctl, int sig)
{
	if (helper > 0) {
		kill(helper, sig == SIGKILL ? SIGUSR2 : sig);
	} else if (ctl >= 0) {
		unsigned char b = (unsigned char)sig;
		if (send(ctl, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* The command has ended; nothing to signal. */
		}
	}
}

/* The request for sbx-init's exec server: tagged, NUL-terminated strings
 * ('C' working dir, 'E' environment, 'A' argument). Heap buffer, or NULL
 * when it would exceed what the server takes. */
static char *init_request(const exec_request *r, const char *cwd, size_t *len)
{
	enum { MAX_REQUEST = 64 * 1024 };
	size_t n = strlen(cwd) + 2;
	for (size_t i = 0; i < N_BASE_ENV; i++) {
		n += strlen(base_env[i]) + 2;
	}
	for (size_t i = 0; i < r->n_sandbox_env; i++) {
		n += strlen(r->sandbox_env[i]) + 2;
	}
	for (size_t i = 0; i < r->n_env; i++) {
		n += strlen(r->env[i]) + 2;
	}
	for (size_t i = 0; i < r->argc; i++) {
		n += strlen(r->argv[i]) + 2;
	}
	char *buf = n <= MAX_REQUEST ? malloc(n) : NULL;
	if (buf == NULL) {
		return NULL;
	}
	char *w = buf;
#define PUT(tag, str) (w += sprintf(w, "%c%s", (tag), (str)) + 1)
	PUT('C', cwd);
	for (size_t i = 0; i < N_BASE_ENV; i++) {
		PUT('E', base_env[i]);
	}
	for (size_t i = 0; i < r->n_sandbox_env; i++) {
		PUT('E', r->sandbox_env[i]);
	}
	for (size_t i = 0; i < r->n_env; i++) {
		PUT('E', r->env[i]);
	}
	for (size_t i = 0; i < r->argc; i++) {
		PUT('A', r->argv[i]);
	}
#undef PUT
	*len = (size_t)(w - buf);
	return buf;
}

/* Asks the sandbox's init to fork the command (see sbx-init's exec
 * server): no helper process, no namespace entry, no cgroup migration.
 * Returns the control connection, or -1 when the init offers no socket
 * for this user (a root command in a user sandbox, a sandbox started by an
 * older sbx-init, a data dir path too long for a socket) or the request is
 * over 64 KiB: the exec helper runs those. */
static int exec_via_init(const char *id, const exec_request *r, const char *cwd, struct exec_pipes *p)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char dir[1200];
	sandbox_dir(id, NULL, dir, sizeof(dir));
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s/ctl-%d.sock", dir,
			 r->run_as_root ? 0 : SANDBOX_UID);
	if (n < 0 || (size_t)n >= sizeof(a.sun_path)) {
		return -1;
	}
	size_t len = 0;
	char *req = init_request(r, cwd, &len);
	if (req == NULL) {
		return -1;
	}
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int fds[3] = {r->has_stdin ? p->in[0] : dev_null, p->out[1], p->err[1]};
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {req, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (s < 0 || fds[0] < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)len) {
		if (s >= 0) {
			close(s);
		}
		s = -1;
	}
	free(req);
	return s;
}

/* Feeds stdin, streams stdout/stderr to the callback, enforces timeout and
 * cancel, and collects the helper's verdict. */
static sbx_status pump(const exec_request *r, struct exec_pipes *p, pid_t helper, exec_result *out,
		       err_t *e)
{
	/* Reads as large as the pipe (1 MiB): a fast writer fills whole reads
	 * and per-read costs (one chunk, one message) stay small. */
	enum { READ_SIZE = 1 << 20 };
	/* Page-aligned: full reads go to the output file without a copy. */
	char *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, READ_SIZE) != 0) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	char status[128] = "";
	size_t status_len = 0;
	size_t in_off = 0;
	int64_t deadline = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (r->timeout_seconds > 0) {
		deadline = now + (int64_t)r->timeout_seconds * 1000;
	}
	int sent_signal = 0, stopped = 0;
	if (r->has_stdin && r->stdin_len == 0) {
		close_fd(&p->in[1]);
	}
	while (p->out[0] >= 0 || p->err[0] >= 0 || p->status[0] >= 0) {
		struct pollfd pf[4];
		int n = 0, io = -1, oo = -1, eo = -1, so = -1;
		if (p->out[0] >= 0) {
			oo = n;
			pf[n++] = (struct pollfd){p->out[0], POLLIN, 0};
		}
		if (p->err[0] >= 0) {
			eo = n;
			pf[n++] = (struct pollfd){p->err[0], POLLIN, 0};
		}
		if (p->status[0] >= 0) {
			so = n;
			pf[n++] = (struct pollfd){p->status[0], POLLIN, 0};
		}
		if (p->in[1] >= 0) {
			io = n;
			pf[n++] = (struct pollfd){p->in[1], POLLOUT, 0};
		}
		int wait_ms = 100;
		int rc = poll(pf, (nfds_t)n, wait_ms);
		if (rc < 0 && errno != EINTR) {
			free(buf);
			return err_set(e, SBX_INTERNAL, "poll: %s", strerror(errno));
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (deadline && now >= deadline && !out->timed_out) {
			out->timed_out = 1;
			signal_command(helper, p->status[0], SIGKILL); /* the whole process group */
		}
		if (r->cancel_signal && *r->cancel_signal && !sent_signal) {
			sent_signal = *r->cancel_signal;
			signal_command(helper, p->status[0], sent_signal);
		}
		if (rc <= 0) {
			continue;
		}
		if (io >= 0 && (pf[io].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = pf[io].revents & POLLOUT
					    ? write(p->in[1], (const char *)r->stdin_data + in_off, r->stdin_len - in_off)
					    : -1;
			if (w > 0) {
				in_off += (size_t)w;
			}
			if (w < 0 || in_off >= r->stdin_len) {
				close_fd(&p->in[1]);
			}
		}
		int streams[2] = {oo, eo};
		int *fds[2] = {&p->out[0], &p->err[0]};
		for (int k = 0; k < 2; k++) {
			if (streams[k] < 0 || !(pf[streams[k]].revents & (POLLIN | POLLHUP | POLLERR))) {
				continue;
			}
			ssize_t got = read(*fds[k], buf, READ_SIZE);
			if (got <= 0) {
				close_fd(fds[k]);
			} else if (!stopped && r->on_output && r->on_output(r->arg, k + 1, buf, (size_t)got) != 0) {
				stopped = 1;
				signal_command(helper, p->status[0], SIGKILL);
			}
		}
		if (so >= 0 && (pf[so].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(p->status[0], status + status_len, sizeof(status) - 1 - status_len);
			if (got <= 0) {
				close_fd(&p->status[0]);
				/* The command ended: take what its streams still hold,
				 * then stop even if a background process keeps them open. */
				for (int k = 0; k < 2; k++) {
					if (*fds[k] < 0) {
						continue;
					}
					fcntl(*fds[k], F_SETFL, O_NONBLOCK);
					ssize_t m;
					while ((m = read(*fds[k], buf, READ_SIZE)) > 0) {
						if (!stopped && r->on_output) {
							r->on_output(r->arg, k + 1, buf, (size_t)m);
						}
					}
					close_fd(fds[k]);
				}
			} else {
				status_len += (size_t)got;
			}
		}
	}
	free(buf);
	status[status_len] = '\0';
	int st = 0;
	if (helper > 0) {
		waitpid(helper, &st, 0);
	}
	int v;
	if (sscanf(status, "exit %d", &v) == 1) {
		out->exit_code = v;
	} else if (sscanf(status, "signal %d", &v) == 1) {
		out->exit_code = -1;
		out->signal = v;
	} else {
		return err_set(e, SBX_INTERNAL, "exec in sandbox failed: %s",
			       status_len ? status : "the helper died");
	}
	return SBX_OK;
}

/* The exec helper: `sbx-init exec` joins the sandbox's cgroups and
 * namespaces and forks the command there. */
static sbx_status spawn_via_helper(const char *id, const exec_request *r, pid_t init, const char *cwd,
				   struct exec_pipes *p, pid_t *helper, err_t *e)
{
	if (pipe2(p->status, O_CLOEXEC) != 0) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno));
	}
	/* The helper's status end survives exec: dup without CLOEXEC. */
	int status_child = fcntl(p->status[1], F_DUPFD, 3);
	char procs[CG_MAX_PROCS_FILES][4096];
	int n_procs = cg_procs_files(id, procs, CG_MAX_PROCS_FILES);
	char nums[64];
	char **argv = helper_argv(r, init, cwd, status_child, r->sandbox_env, r->n_sandbox_env, nums,
				  procs, n_procs);
	sbx_status st = argv ? spawn_helper(argv, p, r->has_stdin, helper, e)
			     : err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	free(argv);
	close(status_child);
	return st;
}

static sbx_status local_exec(const char *id, const sandbox_handle *h, const exec_request *r,
			     exec_result *out, err_t *e)
{
	sbx_status st = ready(e);
	if (st != SBX_OK) {
		return st;
	}
	memset(out, 0, sizeof(*out));
	pid_t init = live_init(h);
	if (init == 0) {
		return err_set(e, SBX_FAILED_PRECONDITION, "sandbox %s is not running", id);
	}
	if (cg_is_frozen(id)) {
		return err_set(e, SBX_FAILED_PRECONDITION, "sandbox %s is paused", id);
	}
	if (r->argc == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, "argv", "empty command");
	}
	struct exec_pipes p = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
	int stdin_file = r->has_stdin && r->stdin_fd > 0;
	if (stdin_file) {
		p.in[0] = fcntl(r->stdin_fd, F_DUPFD_CLOEXEC, 3);
	}
	if (pipe2(p.out, O_CLOEXEC) || pipe2(p.err, O_CLOEXEC) || (stdin_file && p.in[0] < 0) ||
	    (r->has_stdin && !stdin_file && pipe2(p.in, O_CLOEXEC))) {
		close_pipes(&p);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno));
	}
	/* Big pipes: fewer wake-ups for streaming output. */
	fcntl(p.out[0], F_SETPIPE_SZ, 1 << 20);
	fcntl(p.err[0], F_SETPIPE_SZ, 1 << 18);
	const char *cwd = r->working_dir && r->working_dir[0] ? r->working_dir : "/workspace";
	pid_t helper = 0;
	/* The command's verdict arrives on p.status[0]: the init's control
	 * connection, or the helper's status pipe. */
	p.status[0] = exec_via_init(id, r, cwd, &p);
	if (p.status[0] < 0) {
		st = spawn_via_helper(id, r, init, cwd, &p, &helper, e);
	}
	close_fd(&p.out[1]);
	close_fd(&p.err[1]);
	close_fd(&p.status[1]);
	close_fd(&p.in[0]);
	if (st == SBX_OK) {
		st = pump(r, &p, helper, out, e);
	}
	close_pipes(&p);
	return st;
}

/* ---- copy in/out: the sandbox's own tar, run as the sandbox user ------ */

struct capture {
	int fd;       /* the archive goes here (copy_out), or -1 */
	uint64_t len;
	uint64_t cap;
	int over;     /* past cap */
	int failed;   /* errno of a failed write, or 0 */
	char err[256];
	size_t err_len;
};

static int capture_out(void *arg, int stream, const void *data, size_t len)
{
	struct capture *c = arg;
	if (stream == 2) {
		size_t n = len < sizeof(c->err) - 1 - c->err_len ? len : sizeof(c->err) - 1 - c->err_len;
		memcpy(c->err + c->err_len, data, n);
		c->err_len += n;
		c->err[c->err_len] = '\0';
		return 0;
	}
	if (c->fd < 0) {
		return 0;
	}
	if (c->len + len > c->cap) {
		c->over = 1;
		return -1;
	}
	if (fdio_write_all(c->fd, data, len) != 0) {
		c->failed = errno;
		return -1;
	}
	c->len += len;
	return 0;
}

static sbx_status run_tar(const char *id, const sandbox_handle *h, const char *const *argv, size_t argc,
			  int in_fd, struct capture *cap, int run_as_root, err_t *e)
{
	exec_request r = {.argv = argv, .argc = argc, .working_dir = "/", .has_stdin = in_fd > 0,
			  .stdin_fd = in_fd, .timeout_seconds = 3600, .run_as_root = run_as_root,
			  .on_output = capture_out, .arg = cap};
	exec_result res;
	sbx_status s = local_exec(id, h, &r, &res, e);
	if (s == SBX_OK && cap->over) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "the archive is larger than %llu bytes",
			       (unsigned long long)cap->cap);
	}
	if (s == SBX_OK && cap->failed) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot stage the archive: %s", strerror(cap->failed));
	}
	if (s == SBX_OK && res.exit_code != 0) {
		return err_set(e, SBX_FAILED_PRECONDITION, "tar in the sandbox failed (exit %d): %s",
			       res.exit_code, cap->err[0] ? cap->err : "no message");
	}
	return s;
}

static sbx_status local_copy_in(const char *id, const sandbox_handle *h, const char *dest, int tar_fd,
				int run_as_root, err_t *e)
{
	const char *argv[] = {"tar", "-x", "-f", "-", "-C", dest, "--no-same-owner"};
	struct capture cap = {.fd = -1};
	return run_tar(id, h, argv, 7, tar_fd, &cap, run_as_root, e);
}

static sbx_status local_copy_out(const char *id, const sandbox_handle *h, const char *path, int tar_fd,
				 uint64_t cap_bytes, int run_as_root, err_t *e)
{
	char dir[1100], base[1100];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : dir);
	if (slash == dir) {
		dir[1] = '\0';
	} else if (slash != NULL) {
		*slash = '\0';
	}
	const char *argv[] = {"tar", "-c", "-f", "-", "-C", dir, base[0] ? base : "."};
	struct capture cap = {.fd = tar_fd, .cap = cap_bytes};
	return run_tar(id, h, argv, 7, -1, &cap, run_as_root, e);
}

static sbx_status local_metrics(const char *id, const sandbox_handle *h, sandbox_metrics *m,
				err_t *e)
{
	(void)h;
	sbx_status st = cg_metrics(id, m, e);
	char dir[1200];
	sandbox_dir(id, NULL, dir, sizeof(dir));
	if (st == SBX_OK && !disk_usage(dir, &m->disk_bytes, &m->disk_limit)) {
		m->disk_bytes = m->disk_limit = 0;
	}
	return st;
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
		PCAP_REATTACH | PCAP_EXEC_STREAM,
	.init = local_init,
	.validate = local_validate,
	.create = local_create,
	.start = local_start,
	.stop = local_stop,
	.pause = local_pause,
	.resume = local_resume,
	.destroy = local_destroy,
	.exec = local_exec,
	.copy_in = local_copy_in,
	.copy_out = local_copy_out,
	.metrics = local_metrics,
	.reattach = local_reattach,
};

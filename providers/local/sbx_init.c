/* sbx-init: PID 1 of a native sandbox. Statically linked, so it runs
 * whatever the sandbox's root filesystem holds.
 *
 * sbxd clones it into new pid, mount, uts, ipc (and net) namespaces and
 * into the sandbox's cgroups, then it:
 *   1. builds the sandbox's root: a read-only view of the host's /usr, /bin,
 *      /lib*, a minimal /etc, private /proc, a minimal /dev, tmpfs /tmp and
 *      the persistent /workspace; pivots into it;
 *   2. brings loopback up, sets the hostname;
 *   3. drops privileges: capability bounding set, user (unless root is
 *      allowed), no_new_privs, a seccomp filter;
 *   4. reports "ok" (or the failed step) on the ready fd, then serves: reaps
 *      zombies, forwards termination signals and runs commands sbxd asks
 *      for on its control socket (see "exec server" below).
 *
 * usage: sbx-init SANDBOX_DIR HOSTNAME NET(none|host) UID GID READY_FD
 *                 [--vol HOST_PATH SANDBOX_PATH ro|rw]... [--image ROOTFS]
 * With --image the root is an overlay: the shared, read-only image below,
 * the sandbox's own changes in SANDBOX_DIR/upper.
 *
 * The same binary is the exec helper (see exec_main below):
 *        sbx-init exec INIT_PID UID GID CWD STATUS_FD [--cg PROCS_FILE]...
 *                 [--env K=V]... -- ARGV... */
#define _GNU_SOURCE 1
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#ifdef SBX_SECCOMP_GEN
#include <seccomp.h>
#endif

static int ready_fd = -1;

static void die(const char *step)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s: %s", step, strerror(errno));
	if (ready_fd >= 0 && n > 0) {
		if (write(ready_fd, msg, (size_t)n) < 0) {
			_exit(126);
		}
	}
	_exit(125);
}

static void must(int rc, const char *step)
{
	if (rc != 0) {
		die(step);
	}
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		die(path);
	}
	close(fd);
}

/* Binds host path `src` read-only at root/`src`, or mirrors it when it is a
 * symlink (merged /usr: /bin -> usr/bin). Missing sources are skipped. */
static void bind_ro(const char *root, const char *src)
{
	char dst[4096], link[4096];
	struct stat st;
	if (lstat(src, &st) != 0) {
		return;
	}
	snprintf(dst, sizeof(dst), "%s%s", root, src);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, link, sizeof(link) - 1);
		if (n < 0) {
			die(src);
		}
		link[n] = '\0';
		must(symlink(link, dst), "symlink");
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		mkdir(dst, 0755);
	} else {
		close(open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	}
	must(mount(src, dst, NULL, MS_BIND | MS_REC, NULL), src);
	must(mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_REC, NULL),
	     "remount read-only");
}

static void make_dev(const char *root)
{
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	char path[4096], src[64];
	snprintf(path, sizeof(path), "%s/dev", root);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k"), "/dev");
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, nodes[i]);
		snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
		close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
		must(mount(src, path, NULL, MS_BIND, NULL), src);
	}
	snprintf(path, sizeof(path), "%s/dev/pts", root);
	mkdir(path, 0755);
	must(mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"), "devpts");
	snprintf(path, sizeof(path), "%s/dev/ptmx", root);
	must(symlink("pts/ptmx", path), "ptmx");
	snprintf(path, sizeof(path), "%s/dev/shm", root);
	mkdir(path, 01777);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"), "/dev/shm");
	static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, links[i][1]);
		must(symlink(links[i][0], path), "dev link");
	}
}

static void make_etc(const char *root, const char *hostname, unsigned uid, unsigned gid)
{
	char path[4096], text[1024];
	snprintf(path, sizeof(path), "%s/etc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	snprintf(text, sizeof(text),
		 "root:x:0:0:root:/root:/bin/sh\nsandbox:x:%u:%u:sandbox:/workspace:/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 uid, gid);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/group", root);
	snprintf(text, sizeof(text), "root:x:0:\nsandbox:x:%u:\nnogroup:x:65534:\n", gid);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/hostname", root);
	snprintf(text, sizeof(text), "%s\n", hostname);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/hosts", root);
	snprintf(text, sizeof(text), "127.0.0.1 localhost %s\n::1 localhost\n", hostname);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/nsswitch.conf", root);
	write_file(path, "passwd: files\ngroup: files\nhosts: files dns\n");
	/* Read-only views of what programs commonly need from /etc. */
	static const char *const ro[] = {"/etc/alternatives", "/etc/ssl", "/etc/ca-certificates",
					 "/etc/resolv.conf", "/etc/ld.so.cache", "/etc/localtime"};
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		bind_ro(root, ro[i]);
	}
}

struct volume {
	const char *src;
	const char *dst;
	int ro;
};

static void mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

/* Host directories bound into the sandbox (validated by sbxd against the
 * admin's allowed roots). */
static void mount_volumes(const char *root, const struct volume *v, int n)
{
	for (int i = 0; i < n; i++) {
		char dst[4096];
		snprintf(dst, sizeof(dst), "%s%s", root, v[i].dst);
		mkdir_p(dst);
		must(mount(v[i].src, dst, NULL, MS_BIND | MS_REC, NULL), v[i].src);
		unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (v[i].ro ? MS_RDONLY : 0);
		must(mount(NULL, dst, NULL, fl, NULL), "volume flags");
	}
}

/* An imported image keeps its own /etc; it gets this sandbox's name and,
 * where it has none, the minimal passwd and group. */
static void image_etc(const char *root, const char *hostname, unsigned uid, unsigned gid)
{
	char path[4096], text[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/etc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/hostname", root);
	snprintf(text, sizeof(text), "%s\n", hostname);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/hosts", root);
	snprintf(text, sizeof(text), "127.0.0.1 localhost %s\n::1 localhost\n", hostname);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	if (stat(path, &st) != 0) {
		snprintf(text, sizeof(text), "root:x:0:0:root:/root:/bin/sh\nsandbox:x:%u:%u:sandbox:/workspace:/bin/sh\n",
			 uid, gid);
		write_file(path, text);
		snprintf(path, sizeof(path), "%s/etc/group", root);
		snprintf(text, sizeof(text), "root:x:0:\nsandbox:x:%u:\n", gid);
		write_file(path, text);
	}
}

static void build_root(const char *dir, const char *hostname, unsigned uid, unsigned gid,
		       const struct volume *vols, int n_vols, const char *image)
{
	char root[1536], path[4096];
	snprintf(root, sizeof(root), "%s/root", dir);
	/* Nothing we mount may propagate back to the host. */
	must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
	if (image != NULL) {
		char opts[4096];
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", image, dir, dir);
		must(mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opts), "overlay root");
		image_etc(root, hostname, uid, gid);
	} else {
		must(mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m"), "root tmpfs");
		static const char *const host[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
		for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
			bind_ro(root, host[i]);
		}
		make_etc(root, hostname, uid, gid);
	}
	static const char *const dirs[] = {"proc", "dev", "tmp", "workspace", "root", "run", "var", "var/tmp", ".old"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/proc", root);
	must(mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "/proc");
	make_dev(root);
	snprintf(path, sizeof(path), "%s/tmp", root);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"), "/tmp");
	snprintf(path, sizeof(path), "%s/var/tmp", root);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"), "/var/tmp");
	snprintf(path, sizeof(path), "%s/run", root);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755"), "/run");
	char ws[1536];
	snprintf(ws, sizeof(ws), "%s/workspace", dir);
	snprintf(path, sizeof(path), "%s/workspace", root);
	must(mount(ws, path, NULL, MS_BIND, NULL), "/workspace");
	must(mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL), "/workspace flags");
	mount_volumes(root, vols, n_vols);

	snprintf(path, sizeof(path), "%s/.old", root);
	must(chdir(root), "chdir root");
	must((int)syscall(SYS_pivot_root, ".", ".old"), "pivot_root");
	must(chdir("/"), "chdir /");
	must(umount2("/.old", MNT_DETACH), "detach old root");
	rmdir("/.old");
	/* The host view becomes read-only (/tmp, /workspace... stay writable);
	 * an image's root keeps its writable upper layer. */
	if (image == NULL) {
		must(mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
		     "root read-only");
	}
}

static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
		die("loopback");
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	must(ioctl(s, SIOCSIFFLAGS, &ifr), "loopback up");
	close(s);
}

/* Capabilities a root user inside a sandbox keeps when root is allowed:
 * docker's default set, minus raw network access. */
static const int root_caps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL,
				CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
				CAP_SYS_CHROOT, CAP_AUDIT_WRITE, CAP_SETFCAP, CAP_MKNOD};

static int kept(int cap, int as_root)
{
	for (size_t i = 0; as_root && i < sizeof(root_caps) / sizeof(root_caps[0]); i++) {
		if (root_caps[i] == cap) {
			return 1;
		}
	}
	return 0;
}

static void drop_privileges(unsigned uid, unsigned gid)
{
	int as_root = uid == 0;
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		if (!kept(cap, as_root) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
			die("drop capability");
		}
	}
	must(setgroups(0, NULL), "setgroups");
	must(setresgid(gid, gid, gid), "setgid");
	must(setresuid(uid, uid, uid), "setuid");
	if (as_root) {
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2];
		memset(d, 0, sizeof(d));
		for (size_t i = 0; i < sizeof(root_caps) / sizeof(root_caps[0]); i++) {
			int c = root_caps[i];
			d[c / 32].effective |= 1u << (c % 32);
			d[c / 32].permitted |= 1u << (c % 32);
		}
		must((int)syscall(SYS_capset, &h, d), "capset");
	}
	must(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
}

/* What sandboxed code has no business doing. Everything else is allowed:
 * the namespaces and cgroups are the walls, this removes the kernel's
 * riskiest doors. Inherited by every process of the sandbox.
 *
 * The rules are compiled to BPF once, at build time (sbx-seccomp-gen runs
 * build_filter and exports it; the blob is linked into sbx-init): compiling
 * with libseccomp on every exec cost over a millisecond. */
#ifdef SBX_SECCOMP_GEN
static scmp_filter_ctx build_filter(void)
{
	static const int denied[] = {
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
		SCMP_SYS(move_mount), SCMP_SYS(open_tree), SCMP_SYS(fsopen), SCMP_SYS(fsmount),
		SCMP_SYS(fsconfig), SCMP_SYS(fspick), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
		SCMP_SYS(bpf), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(init_module),
		SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(swapon), SCMP_SYS(swapoff),
		SCMP_SYS(reboot), SCMP_SYS(setns), SCMP_SYS(unshare), SCMP_SYS(open_by_handle_at),
		SCMP_SYS(name_to_handle_at), SCMP_SYS(perf_event_open), SCMP_SYS(acct),
		SCMP_SYS(quotactl), SCMP_SYS(userfaultfd), SCMP_SYS(iopl), SCMP_SYS(ioperm),
		SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(adjtimex), SCMP_SYS(syslog),
		SCMP_SYS(vhangup), SCMP_SYS(lookup_dcookie), SCMP_SYS(personality),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0) != 0) {
			return NULL;
		}
	}
	/* No new namespaces through clone flags; clone3 hides its flags in
	 * memory, so it answers ENOSYS and libc falls back to clone. */
	static const unsigned long ns_flags[] = {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
						CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i])) != 0) {
			return NULL;
		}
	}
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0) {
		return NULL;
	}
	return ctx;
}

int main(void)
{
	scmp_filter_ctx ctx = build_filter();
	return ctx != NULL && seccomp_export_bpf(ctx, 1) == 0 ? 0 : 1;
}
#else
extern const unsigned char sbx_seccomp_bpf[];
extern const size_t sbx_seccomp_bpf_len;

static void install_seccomp(void)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sbx_seccomp_bpf_len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)sbx_seccomp_bpf,
	};
	must(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0), "seccomp load");
}

/* Every signal back to its default action: commands must not inherit
 * what sbxd ignores (SIGPIPE: `seq | head` would report EPIPE). */
static void default_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		signal(sig, SIG_DFL);
	}
}

/* The last step of every command, in its own process: working dir, then
 * exec. Never returns; exit codes as a shell's (126 cannot run, 127 not
 * found). */
static void exec_command(const char *cwd, char **argv, char **envp)
{
	if (chdir(cwd) != 0) {
		fprintf(stderr, "sbx: cannot enter working directory %s: %s\n", cwd, strerror(errno));
		_exit(126);
	}
	/* execvpe searches this process's PATH, not envp's: take the
	 * command's (the last PATH= wins, as in the env it will see). */
	for (int k = 0; envp[k] != NULL; k++) {
		if (strncmp(envp[k], "PATH=", 5) == 0) {
			setenv("PATH", envp[k] + 5, 1);
		}
	}
	execvpe(argv[0], argv, envp);
	fprintf(stderr, "sbx: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* ---- exec server -----------------------------------------------------
 * The fast way into a sandbox: sbxd connects to SANDBOX_DIR/ctl-UID.sock
 * (bound before pivot_root, so it lives on the host's filesystem, mode
 * 0600, root's) and sends one request; init forks the command. The child
 * is already in every namespace, cgroup, user, capability set and seccomp
 * filter of the sandbox: no setns, no cgroup migration, no second exec.
 *
 * Request: one SOCK_SEQPACKET message of NUL-terminated strings, each
 * tagged by its first byte ('C' working dir, 'E' KEY=VALUE, 'A' argument),
 * carrying stdin, stdout and stderr as SCM_RIGHTS. Replies on the same
 * connection: "exit N", "signal N" or "error TEXT", then close. While the
 * command runs, each byte sbxd sends is a signal for its process group;
 * a closed connection (sbxd died) kills the group. */
enum { MAX_RUNS = 512, MAX_REQUEST = 64 * 1024, MAX_ENV = 300, MAX_ARGS = 4096 };

struct run {
	int conn;  /* -1: free slot */
	pid_t pid; /* 0 until the request came and the command was forked */
};
static struct run runs[MAX_RUNS];
static int control_fd = -1;

static void open_control(const char *dir, unsigned uid)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s/ctl-%u.sock", dir, uid);
	if (n < 0 || (size_t)n >= sizeof(a.sun_path)) {
		return; /* too long a path: sbxd falls back to the exec helper */
	}
	unlink(a.sun_path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0) {
		return;
	}
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || chmod(a.sun_path, 0600) != 0 ||
	    listen(s, 64) != 0) {
		close(s);
		return;
	}
	control_fd = s;
}

static void reply(struct run *r, const char *fmt, int v, const char *text)
{
	char buf[256];
	int n = text ? snprintf(buf, sizeof(buf), "error %s: %s", fmt, text) : snprintf(buf, sizeof(buf), fmt, v);
	if (n > 0) {
		send(r->conn, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(r->conn);
	r->conn = -1;
	r->pid = 0;
}

/* Adds KEY=VALUE; a later entry replaces an earlier one of the same key
 * (base, then the sandbox's, then the command's). */
static void env_put(char **envp, int *n, char *kv)
{
	size_t klen = strcspn(kv, "=");
	int k = 0;
	while (k < *n && !(strncmp(envp[k], kv, klen) == 0 && envp[k][klen] == '=')) {
		k++;
	}
	if (k == *n) {
		if (*n >= MAX_ENV - 1) {
			return;
		}
		(*n)++;
	}
	envp[k] = kv;
}

/* In the forked child: becomes the command. Never returns. */
static void become_command(int fds[3], const char *cwd, char **argv, char **envp)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	for (int i = 0; i < 3; i++) {
		if (dup2(fds[i], i) < 0) {
			_exit(126);
		}
	}
	exec_command(cwd, argv, envp);
}

static void start_run(struct run *r)
{
	static char req[MAX_REQUEST + 1];
	static char *envp[MAX_ENV], *argv[MAX_ARGS + 1];
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {req, MAX_REQUEST};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	ssize_t got = recvmsg(r->conn, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	int fds[3] = {-1, -1, -1}, n_fds = 0;
	struct cmsghdr *c = got > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		n_fds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)(n_fds < 3 ? n_fds : 3));
	}
	const char *cwd = "/";
	int n_env = 0, n_args = 0;
	for (ssize_t off = 0; got > 0 && off < got;) {
		char *str = req + off;
		size_t len = strnlen(str, (size_t)(got - off));
		if ((ssize_t)(off + (ssize_t)len) >= got) {
			break; /* not terminated: the check below refuses it */
		}
		if (str[0] == 'C') {
			cwd = str + 1;
		} else if (str[0] == 'E') {
			env_put(envp, &n_env, str + 1);
		} else if (str[0] == 'A' && n_args < MAX_ARGS) {
			argv[n_args++] = str + 1;
		}
		off += (ssize_t)len + 1;
	}
	envp[n_env] = NULL;
	argv[n_args] = NULL;
	if (got <= 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_fds != 3 || n_args == 0 ||
	    req[got - 1] != '\0') {
		reply(r, "request", 0, got <= 0 ? "no request" : "malformed or too large");
	} else {
		pid_t pid = fork();
		if (pid == 0) {
			become_command(fds, cwd, argv, envp);
		}
		if (pid < 0) {
			reply(r, "fork", 0, strerror(errno));
		} else {
			setpgid(pid, pid);
			r->pid = pid;
		}
	}
	for (int i = 0; i < n_fds && i < 3; i++) {
		close(fds[i]);
	}
}

/* A byte from sbxd while the command runs: a signal for its group. EOF:
 * sbxd is gone, and so is the command. */
static void control_run(struct run *r)
{
	unsigned char sig;
	ssize_t got = recv(r->conn, &sig, 1, MSG_DONTWAIT);
	if (got == 1) {
		kill(-r->pid, sig);
	} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
		kill(-r->pid, SIGKILL);
		close(r->conn);
		r->conn = -1;
		r->pid = 0;
	}
}

static void accept_runs(void)
{
	int c;
	while ((c = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct run *free_slot = NULL;
		for (int i = 0; i < MAX_RUNS && free_slot == NULL; i++) {
			if (runs[i].conn < 0) {
				free_slot = &runs[i];
			}
		}
		if (free_slot == NULL || getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.uid != 0) {
			close(c);
			continue;
		}
		free_slot->conn = c;
		free_slot->pid = 0;
	}
}

static void reap(void)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_RUNS; i++) {
			if (runs[i].conn >= 0 && runs[i].pid == pid) {
				/* Background processes it started keep running (a dev
				 * server started with `&`); timeouts and cancel kill the
				 * whole group. */
				reply(&runs[i], WIFEXITED(st) ? "exit %d" : "signal %d",
				      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), NULL);
				break;
			}
		}
	}
}

/* Forwards a termination signal to everything in the sandbox, then leaves:
 * the kernel kills what remains when PID 1 exits. */
static void shut_down(int sig)
{
	kill(-1, sig);
	struct timespec ts = {2, 0};
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (waitpid(-1, NULL, WNOHANG) >= 0) {
		if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EAGAIN) {
			break;
		}
	}
	_exit(0);
}

static void serve(void)
{
	default_signals(); /* commands inherit init's dispositions */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		_exit(123);
	}
	for (int i = 0; i < MAX_RUNS; i++) {
		runs[i].conn = -1;
	}
	static struct pollfd pf[MAX_RUNS + 2];
	static int slot_of[MAX_RUNS + 2];
	for (;;) {
		int n = 0;
		pf[n++] = (struct pollfd){sfd, POLLIN, 0};
		if (control_fd >= 0) {
			pf[n++] = (struct pollfd){control_fd, POLLIN, 0};
		}
		int first_run = n;
		for (int i = 0; i < MAX_RUNS; i++) {
			if (runs[i].conn >= 0) {
				slot_of[n] = i;
				pf[n++] = (struct pollfd){runs[i].conn, POLLIN, 0};
			}
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			continue;
		}
		for (int k = first_run; k < n; k++) {
			struct run *r = &runs[slot_of[k]];
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)) || r->conn != pf[k].fd) {
				continue;
			}
			if (r->pid == 0) {
				start_run(r);
			} else {
				control_run(r);
			}
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
					shut_down(sig);
				}
			}
			reap();
		}
		if (control_fd >= 0 && (pf[1].revents & POLLIN)) {
			accept_runs();
		}
	}
}

/* ---- exec helper ------------------------------------------------------
 * Started by sbxd (posix_spawn) for each command run in a sandbox. Joins
 * the sandbox's cgroups, enters its namespaces and root, then forks: the
 * child is inside the pid namespace, drops privileges exactly as the
 * sandbox's init did and execs the command in a new process group. The
 * helper waits, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the group, turns
 * SIGUSR2 into SIGKILL of the group (timeouts, cancel), and reports
 * "exit N" or "signal N" on STATUS_FD. */

static void status_report(int fd, const char *fmt, int v)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), fmt, v);
	if (n > 0 && write(fd, buf, (size_t)n) < 0) {
		_exit(126);
	}
}

static int join_namespaces(pid_t init)
{
	static const char *const ns[] = {"ipc", "uts", "net", "pid", "mnt"};
	char path[64];
	int fds[5];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)init);
	int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, ns[i]);
		if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			return -1;
		}
	}
	for (int i = 0; i < 5; i++) {
		if (setns(fds[i], 0) != 0) {
			return -1;
		}
		close(fds[i]);
	}
	if (fchdir(root) != 0 || chroot(".") != 0) {
		return -1;
	}
	close(root);
	return chdir("/");
}

static int exec_main(int argc, char **argv)
{
	if (argc < 8) {
		return 2;
	}
	pid_t init = (pid_t)atoi(argv[2]);
	unsigned uid = (unsigned)strtoul(argv[3], NULL, 10);
	unsigned gid = (unsigned)strtoul(argv[4], NULL, 10);
	const char *cwd = argv[5];
	ready_fd = atoi(argv[6]); /* the status fd doubles as die()'s report */
	char *envp[MAX_ENV];
	int n_env = 0;
	int i = 7;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--cg") == 0 && i + 1 < argc) {
			int fd = open(argv[++i], O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0", 1) != 1) {
				die("join cgroup");
			}
			close(fd);
		} else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
			env_put(envp, &n_env, argv[++i]);
		} else {
			errno = EINVAL;
			die("arguments");
		}
	}
	envp[n_env] = NULL;
	if (i + 1 >= argc) {
		errno = EINVAL;
		die("no command");
	}
	char **cmd = &argv[i + 1];
	if (join_namespaces(init) != 0) {
		die("enter sandbox");
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0) {
		die("fork");
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		default_signals();
		setpgid(0, 0);
		close(ready_fd);
		drop_privileges(uid, gid);
		install_seccomp();
		exec_command(cwd, cmd, envp);
	}
	setpgid(child, child);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig == SIGCHLD) {
			int st;
			pid_t w = waitpid(child, &st, WNOHANG);
			if (w == child) {
				/* Background processes it started keep running (a dev
				 * server started with `&`); timeouts and cancel kill the
				 * whole group. */
				if (WIFEXITED(st)) {
					status_report(ready_fd, "exit %d", WEXITSTATUS(st));
				} else {
					status_report(ready_fd, "signal %d", WTERMSIG(st));
				}
				return 0;
			}
		} else if (sig == SIGUSR2) {
			kill(-child, SIGKILL);
		} else if (sig > 0) {
			kill(-child, sig);
		}
	}
}

int main(int argc, char **argv)
{
	/* sbxd runs with umask 077 (its files are private); inside a sandbox
	 * the usual 022 applies. */
	umask(022);
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		return exec_main(argc, argv);
	}
	if (argc < 7 || getpid() != 1) {
		fprintf(stderr, "sbx-init runs as PID 1 of a sandbox, started by sbxd\n");
		return 2;
	}
	ready_fd = atoi(argv[6]);
	const char *dir = argv[1], *hostname = argv[2], *net = argv[3];
	if (strlen(dir) > 1024 || strlen(hostname) > 63) {
		errno = ENAMETOOLONG;
		die("arguments");
	}
	unsigned uid = (unsigned)strtoul(argv[4], NULL, 10);
	unsigned gid = (unsigned)strtoul(argv[5], NULL, 10);
	/* No fd of the daemon's leaks in: only 0-2 (/dev/null) and the ready fd. */
	for (int fd = 3; fd < 1024; fd++) {
		if (fd != ready_fd) {
			close(fd);
		}
	}
	struct volume vols[32];
	int n_vols = 0;
	const char *image = NULL;
	for (int i = 7; i < argc;) {
		if (strcmp(argv[i], "--vol") == 0 && i + 3 < argc && n_vols < 32) {
			vols[n_vols++] = (struct volume){argv[i + 1], argv[i + 2], strcmp(argv[i + 3], "ro") == 0};
			i += 4;
		} else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc) {
			image = argv[i + 1];
			i += 2;
		} else {
			errno = EINVAL;
			die("arguments");
		}
	}
	open_control(dir, uid);
	build_root(dir, hostname, uid, gid, vols, n_vols, image);
	must(sethostname(hostname, strlen(hostname)), "sethostname");
	if (strcmp(net, "host") != 0) {
		loopback_up();
	}
	drop_privileges(uid, gid);
	install_seccomp();
	if (write(ready_fd, "ok", 2) != 2) {
		_exit(124);
	}
	close(ready_fd);
	serve();
	return 0;
}
#endif /* SBX_SECCOMP_GEN */

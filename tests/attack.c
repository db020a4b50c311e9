/* Attacks run from inside a sandbox by test_isolation. Each subcommand
 * tries one thing sandboxed code must not be able to do, prints what
 * happened, and exits 0 when it was stopped, 1 when it got through.
 * Statically linked: copied into a sandbox's /workspace. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int blocked(const char *what, int rc)
{
	if (rc == 0) {
		printf("GOT THROUGH: %s\n", what);
		return 1;
	}
	printf("blocked: %s: %s\n", what, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		return 2;
	}
	const char *a = argv[1];
	if (strcmp(a, "mount") == 0) {
		return blocked("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, "")) |
		       blocked("remount / rw", mount(NULL, "/", NULL, MS_REMOUNT, NULL)) |
		       blocked("bind /", mount("/", "/tmp", NULL, MS_BIND, NULL));
	}
	if (strcmp(a, "module") == 0) {
		static char image[64];
		return blocked("init_module", (int)syscall(SYS_init_module, image, sizeof(image), "")) |
		       blocked("finit_module", (int)syscall(SYS_finit_module, 0, "", 0)) |
		       blocked("delete_module", (int)syscall(SYS_delete_module, "loop", 0));
	}
	if (strcmp(a, "ptrace") == 0) {
		pid_t child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		int r1 = blocked("ptrace attach", (int)ptrace(PTRACE_ATTACH, child, NULL, NULL));
		int r2 = blocked("ptrace seize init", (int)ptrace(PTRACE_SEIZE, 1, NULL, NULL));
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return r1 | r2;
	}
	if (strcmp(a, "namespaces") == 0) {
		return blocked("unshare user", unshare(CLONE_NEWUSER)) |
		       blocked("unshare mount", unshare(CLONE_NEWNS)) |
		       blocked("unshare net", unshare(CLONE_NEWNET)) |
		       blocked("chroot", chroot("/tmp")) |
		       blocked("setns", setns(0, 0));
	}
	if (strcmp(a, "kernel") == 0) {
		return blocked("bpf", (int)syscall(SYS_bpf, 0, NULL, 0)) |
		       blocked("kexec_load", (int)syscall(SYS_kexec_load, 0, 0, NULL, 0)) |
		       blocked("reboot", reboot(RB_POWER_OFF)) |
		       blocked("keyctl", (int)syscall(SYS_keyctl, 0, 0, 0, 0, 0) < 0 ? -1 : 0) |
		       blocked("swapoff", (int)syscall(SYS_swapoff, "/")) |
		       blocked("settimeofday", (int)syscall(SYS_settimeofday, NULL, NULL) < 0 ? -1 : 0);
	}
	if (strcmp(a, "proc") == 0) {
		int r = 0;
		int fd = open("/proc/sysrq-trigger", O_WRONLY);
		r |= blocked("open /proc/sysrq-trigger", fd >= 0 ? 0 : -1);
		fd = open("/proc/sys/kernel/hostname", O_WRONLY);
		r |= blocked("write /proc/sys/kernel/hostname", fd >= 0 && write(fd, "x", 1) == 1 ? 0 : -1);
		/* /proc/1 is the sandbox's own init: its root is ours. */
		char buf[256] = "";
		fd = open("/proc/1/root/etc/hostname", O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		printf("init's hostname: %s", buf);
		fd = open("/proc/1/root/../../../../etc/shadow", O_RDONLY);
		r |= blocked("read shadow through /proc/1/root", fd >= 0 ? 0 : -1);
		return r;
	}
	if (strcmp(a, "connect") == 0 && argc == 3) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		return blocked("connect to the host's loopback", connect(s, (struct sockaddr *)&sa, sizeof(sa)));
	}
	if (strcmp(a, "kill") == 0 && argc == 3) {
		return blocked("signal a host process", kill((pid_t)atoi(argv[2]), 0));
	}
	if (strcmp(a, "mem") == 0 && argc == 3) {
		size_t mb = (size_t)atoi(argv[2]);
		for (size_t i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (p == NULL) {
				printf("blocked: malloc failed at %zu MiB\n", i);
				return 0;
			}
			memset(p, 1, 1 << 20);
		}
		printf("GOT THROUGH: %zu MiB allocated\n", mb);
		return 1;
	}
	return 2;
}

/* sbx cp SRC SANDBOX:DIR | sbx cp SANDBOX:PATH DIR
 * Files travel as a tar archive, made and unpacked here by tar(1), streamed
 * through a pipe in parts: no size limit but the sandbox's disk. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"

extern char **environ;

/* "ID:PATH" -> id and path; 0 if `arg` names a sandbox path. */
static int split_remote(const char *arg, char *id, size_t cap, const char **path)
{
	const char *colon = strchr(arg, ':');
	if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.') {
		return -1;
	}
	size_t n = (size_t)(colon - arg);
	if (n >= cap) {
		return -1;
	}
	memcpy(id, arg, n);
	id[n] = '\0';
	*path = colon + 1;
	return 0;
}

/* Starts tar with argv; *fd is the pipe end we keep: its stdout when
 * `reading`, else its stdin. No shell: any file name works. */
static pid_t spawn_tar(char *const argv[], int reading, int *fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, reading ? p[1] : p[0], reading ? 1 : 0);
	pid_t pid = -1;
	if (posix_spawnp(&pid, "tar", &fa, NULL, argv, environ) != 0) {
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(reading ? p[1] : p[0]);
	*fd = reading ? p[0] : p[1];
	if (pid < 0) {
		close(*fd);
	}
	return pid;
}

static int tar_ok(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int copy_in(struct cli *c, const char *src, const char *id, const char *dest)
{
	struct stat st;
	if (lstat(src, &st) != 0) {
		fprintf(stderr, "sbx: NOT_FOUND: %s: %s\n", src, strerror(errno));
		return 1;
	}
	char *a = strdup(src), *b = strdup(src);
	char *argv[] = {"tar", "-c", "-f", "-", "-C", dirname(a), basename(b), NULL};
	int fd = -1;
	pid_t pid = spawn_tar(argv, 1, &fd);
	if (pid < 0) {
		free(a);
		free(b);
		fprintf(stderr, "sbx: INTERNAL: cannot run tar: %s\n", strerror(errno));
		return 1;
	}
	sbx_error e;
	sbx_status s = sbx_copy_in_fd(c->client, id, dest, fd, &e);
	if (s != SBX_OK) {
		kill(pid, SIGTERM); /* it may be blocked on a pipe nobody reads */
	}
	close(fd);
	int ok = tar_ok(pid);
	free(a);
	free(b);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	if (!ok) {
		/* tar said why on stderr; what it managed to pack was copied. */
		fprintf(stderr, "sbx: INVALID_ARGUMENT: cannot read all of %s\n", src);
		return 1;
	}
	return 0;
}

static int copy_out(struct cli *c, const char *id, const char *path, const char *dest)
{
	char *argv[] = {"tar", "-x", "-f", "-", "-C", (char *)dest, NULL};
	int fd = -1;
	pid_t pid = spawn_tar(argv, 0, &fd);
	if (pid < 0) {
		fprintf(stderr, "sbx: INTERNAL: cannot run tar: %s\n", strerror(errno));
		return 1;
	}
	/* A tar that quits early (a bad destination) must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sbx_error e;
	sbx_status s = sbx_copy_out_fd(c->client, id, path, fd, &e);
	if (s != SBX_OK) {
		kill(pid, SIGTERM); /* no archive came: spare tar's complaint */
	}
	close(fd);
	int ok = tar_ok(pid);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	if (!ok) {
		fprintf(stderr, "sbx: INTERNAL: could not unpack into %s\n", dest);
		return 1;
	}
	return 0;
}

int cmd_cp(struct cli *c, int argc, char **argv)
{
	static const char *usage = "cp SRC SANDBOX:DIR | cp SANDBOX:PATH DIR";
	if (argc != 2) {
		return cli_usage(usage, "give a source and a destination");
	}
	char id[128];
	const char *path;
	if (cli_connect(c)) {
		return 1;
	}
	if (split_remote(argv[1], id, sizeof(id), &path) == 0) {
		return copy_in(c, argv[0], id, path);
	}
	if (split_remote(argv[0], id, sizeof(id), &path) == 0) {
		return copy_out(c, id, path, argv[1]);
	}
	return cli_usage(usage, "one side must be SANDBOX:PATH");
}

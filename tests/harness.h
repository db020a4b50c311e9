/* Test harness: a real sbxd on a temporary data dir and ipc:// sockets,
 * and helpers to call it through libsbx or the sbx CLI. */
#ifndef SBX_TESTS_HARNESS_H
#define SBX_TESTS_HARNESS_H

#include <sys/types.h>

#include "sbx/sbx.h"

struct daemon {
	char dir[256];
	char addr[320];
	char events[320];
	char admin_token[256];
	pid_t pid;
};

/* The build directory holding sbxd and sbx ($SBX_BUILD_DIR, else "build"). */
const char *harness_build_dir(void);

/* Creates a temp dir and starts sbxd in it; returns 0 once it is serving. */
int harness_start(struct daemon *d);
/* Starts sbxd again on the same dir (after harness_stop/kill). */
int harness_restart(struct daemon *d);
/* Sends `sig` and waits for the process. Returns its exit status (raw). */
int harness_stop(struct daemon *d, int sig);
/* Stops (SIGTERM) if running and removes the temp dir. */
void harness_cleanup(struct daemon *d);
/* For programs that exit() on failure (benchmarks): the daemon, its
 * sandboxes and its directory are cleaned up at exit. `d` must have static
 * storage; forked children must leave with _exit(). */
void harness_cleanup_at_exit(struct daemon *d);

/* A client with `token` (NULL: the admin token). Caller disconnects. */
sbx_client *harness_client(struct daemon *d, const char *token);

/* Runs `sbx ARGS...` (NULL-terminated) with SBX_ADDR/SBX_TOKEN set;
 * captures stdout and stderr (malloc'd, caller frees). Returns the exit
 * code. `token` NULL: admin; "" : no token at all. */
int harness_cli(struct daemon *d, const char *token, char **out, char **err, ...);

/* Runs `sh -c CMD` in a sandbox through Executions.Start and
 * sbx_follow_output. out and err (may be NULL) get the output, malloc'd.
 * Returns the RPC status; *exit_code the command's. */
sbx_status harness_sh(sbx_client *c, const char *sandbox, const char *cmd, int timeout_s,
		      char **out, char **err, int *exit_code);

/* Creates a sandbox (name, memory MiB, pids) and returns its id (static
 * buffer per call site: copy it). NULL on failure, with the error printed. */
const char *harness_sandbox(sbx_client *c, const char *name, int64_t memory_mb, int pids_max,
			    const char *network);

/* A private dockerd for tests: its own data root, exec root and socket, and
 * flags that leave the host's firewall and bridges alone. */
struct dockerd {
	char dir[256];
	char sock[320];
	pid_t pid;
};

/* Starts dockerd and imports a busybox root filesystem as `sbx-busybox`.
 * 0 once the engine answers. */
int harness_dockerd_start(struct dockerd *k);
void harness_dockerd_stop(struct dockerd *k);

/* Runs `docker -H unix://SOCK ARGS...` (the Debian client), stdout into
 * *out (malloc'd, may be NULL). Returns the exit code. */
int harness_docker(struct dockerd *k, char **out, ...);

/* 1 if `needle` occurs in the file's bytes. */
int harness_file_contains(const char *path, const char *needle);

#endif

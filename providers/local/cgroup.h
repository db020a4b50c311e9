/* cgroups for native sandboxes, v1 (one hierarchy per controller, cpu and
 * cpuacct apart, as on our hosts) or v2 (unified), detected once at
 * start-up. Each sandbox gets sbx/<id> in every hierarchy it needs. */
#ifndef SBX_PROVIDERS_LOCAL_CGROUP_H
#define SBX_PROVIDERS_LOCAL_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "provider.h"

typedef enum cg_mode { CG_V1 = 1, CG_V2 = 2 } cg_mode;

typedef struct cg_limits {
	double cpu_cores;  /* 0: none */
	int64_t memory_mb; /* 0: none */
	int pids_max;      /* 0: none */
} cg_limits;

#define CG_MAX_PROCS_FILES 6

/* Detects the layout under /sys/fs/cgroup (or $SBX_CGROUP_ROOT). */
sbx_status cg_init(err_t *e);
cg_mode cg_version(void);

/* Creates the sandbox's cgroups and sets the limits. */
sbx_status cg_create(const char *id, const cg_limits *l, err_t *e);

/* The cgroup.procs files a process writes "0" into to join the sandbox:
 * fills `paths` (each of PATH_MAX) and returns how many. */
int cg_procs_files(const char *id, char paths[][4096], int max);

sbx_status cg_freeze(const char *id, int frozen, err_t *e);
int cg_is_frozen(const char *id);

/* Kills every process in the sandbox's cgroups (SIGKILL) and waits, briefly,
 * for them to go. */
void cg_kill_all(const char *id);

/* Number of processes in the sandbox's cgroup. */
int cg_count(const char *id);

/* Removes the cgroups; fine if they do not exist. */
sbx_status cg_destroy(const char *id, err_t *e);

sbx_status cg_metrics(const char *id, sandbox_metrics *m, err_t *e);

/* 1 if `id` has a cgroup directory (for leak checks). */
int cg_exists(const char *id);

#endif

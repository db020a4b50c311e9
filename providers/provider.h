/* The provider interface. Every way of running sandboxes (the native
 * `local` provider, Docker, cloud APIs) implements these operations; a NULL
 * operation answers UNIMPLEMENTED naming the provider. Providers register in
 * the table in providers/registry.c; the catalogue in the database says
 * which exist and which are enabled.
 *
 * A provider keeps no state of its own that the daemon could lose: what it
 * needs to find a sandbox again (pid and start time, container id, cloud id
 * and tokens) goes into sandbox_handle, which the daemon stores with the
 * sandbox and passes back, also after a restart. */
#ifndef SBX_PROVIDERS_PROVIDER_H
#define SBX_PROVIDERS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Provider capabilities. */
enum provider_cap {
	PCAP_PAUSE = 1u << 0,
	PCAP_PERSISTENT_WORKSPACE = 1u << 1,
	PCAP_NETWORK_NONE = 1u << 2,
	PCAP_NETWORK_HOST = 1u << 3,
	PCAP_IMAGES = 1u << 4,
	PCAP_REATTACH = 1u << 5,
	PCAP_EXEC_STREAM = 1u << 6,
};

typedef struct sandbox_volume {
	const char *host_path;
	const char *container_path;
	int read_only;
} sandbox_volume;

/* What to create. Strings are borrowed for the duration of the call. */
typedef struct sandbox_spec {
	const char *id;
	const char *name;
	const char *image;
	double cpu_cores;      /* 0: no limit */
	int64_t memory_mb;     /* 0: no limit */
	int64_t disk_gb;       /* 0: no limit (where the host can enforce it) */
	int pids_max;          /* 0: provider default */
	const char *network;   /* "none", "isolated", "host" */
	int run_as_root;       /* settings.require_non_root_user == false */
	int privileged;        /* settings.allow_privileged_containers */
	const char *const *env;/* "K=V" */
	size_t n_env;
	const sandbox_volume *volumes;
	size_t n_volumes;
	/* Long steps (an image pull) report progress here; may be NULL. */
	void (*on_progress)(void *arg, const char *what, int64_t current, int64_t total);
	void *progress_arg;
} sandbox_spec;

/* A provider's handle on one sandbox: an opaque reference (container id,
 * cloud id, "pid:starttime") and provider state as JSON, both stored. */
#define HANDLE_REF_MAX 256
#define HANDLE_STATE_MAX 2048
typedef struct sandbox_handle {
	char ref[HANDLE_REF_MAX];
	char state[HANDLE_STATE_MAX];
} sandbox_handle;

typedef struct sandbox_metrics {
	int64_t cpu_usage_ns;
	int64_t memory_bytes;
	int64_t memory_limit;
	int64_t pids;
	int64_t disk_bytes; /* on the sandbox's own disk */
	int64_t disk_limit; /* 0: no disk of its own */
} sandbox_metrics;

/* Liveness of a sandbox found in the database at start-up. */
typedef enum sandbox_liveness {
	SANDBOX_ALIVE,
	SANDBOX_PAUSED_ALIVE,
	SANDBOX_GONE,
} sandbox_liveness;

/* Output callback for exec: stream 1 stdout, 2 stderr. Returns 0 to go on,
 * non-zero to stop reading (the process is then killed). */
typedef int (*exec_output_fn)(void *arg, int stream, const void *data, size_t len);

typedef struct exec_request {
	const char *const *argv;
	size_t argc;
	const char *working_dir;
	const char *const *sandbox_env; /* the sandbox's own "K=V" */
	size_t n_sandbox_env;
	const char *const *env;  /* "K=V" of this call, over the sandbox's */
	size_t n_env;
	const void *stdin_data;
	size_t stdin_len;
	int has_stdin;
	/* With has_stdin, when > 0: the command reads this file (borrowed,
	 * from its current offset) instead of stdin_data. 0 is never a file
	 * sbxd opened, so zero-initialised requests keep stdin_data. */
	int stdin_fd;
	int timeout_seconds;     /* 0: none */
	int run_as_root;
	volatile int *cancel_signal; /* set non-zero from another thread to signal */
	exec_output_fn on_output;
	void *arg;
} exec_request;

typedef struct exec_result {
	int exit_code;   /* -1 when killed by a signal */
	int signal;
	int timed_out;
} exec_result;

/* A sandbox the provider holds, as labelled by us (for orphan checks). */
typedef struct provider_managed {
	char ref[HANDLE_REF_MAX];
	char sandbox_id[64];
} provider_managed;

typedef struct provider_ops {
	const char *id;
	unsigned caps;
	/* Called once at start-up with the daemon's data dir. May be NULL. */
	sbx_status (*init)(const char *data_dir, err_t *e);
	sbx_status (*validate)(err_t *e);
	/* Creates and starts; fills `h`. On failure leaves nothing behind. */
	sbx_status (*create)(const sandbox_spec *s, sandbox_handle *h, err_t *e);
	/* Starts a stopped sandbox with its kept files; updates `h`. */
	sbx_status (*start)(const sandbox_spec *s, sandbox_handle *h, err_t *e);
	/* Ends every process, keeps the files. */
	sbx_status (*stop)(const char *id, sandbox_handle *h, err_t *e);
	sbx_status (*pause)(const char *id, sandbox_handle *h, err_t *e);
	sbx_status (*resume)(const char *id, sandbox_handle *h, err_t *e);
	/* Removes everything; succeeds on a sandbox already gone. */
	sbx_status (*destroy)(const char *id, sandbox_handle *h, err_t *e);
	sbx_status (*exec)(const char *id, const sandbox_handle *h, const exec_request *r,
			   exec_result *out, err_t *e);
	/* Tar archives in and out of the sandbox, as the sandbox user, through
	 * descriptors the caller owns: copy_in reads tar_fd (a file at offset 0,
	 * or a pipe) to its end; copy_out appends the archive to tar_fd,
	 * failing with RESOURCE_EXHAUSTED past `cap` bytes. */
	sbx_status (*copy_in)(const char *id, const sandbox_handle *h, const char *dest_dir,
			      int tar_fd, int run_as_root, err_t *e);
	sbx_status (*copy_out)(const char *id, const sandbox_handle *h, const char *src_path,
			       int tar_fd, uint64_t cap, int run_as_root, err_t *e);
	sbx_status (*metrics)(const char *id, const sandbox_handle *h, sandbox_metrics *m, err_t *e);
	/* After a daemon restart: is this sandbox still there? */
	sbx_status (*reattach)(const char *id, sandbox_handle *h, sandbox_liveness *out, err_t *e);
	/* Everything the provider holds that carries our labels; *out is
	 * malloc'd. NULL for providers whose sandboxes cannot outlive us
	 * unnoticed. */
	sbx_status (*list_managed)(provider_managed **out, size_t *n, err_t *e);
} provider_ops;

/* The driver for a provider id, or NULL when this build has none. */
const provider_ops *provider_find(const char *id);

/* The i-th driver of this build, or NULL past the last. */
const provider_ops *provider_at(size_t i);

/* Runs every driver's init. A driver that cannot work on this host is
 * reported (stderr and the returned status) and answers every call with the
 * reason; the others work. */
sbx_status providers_init(const char *data_dir, err_t *e);

/* UNIMPLEMENTED for operation `op` of provider `p`. */
sbx_status provider_unimplemented(const provider_ops *p, const char *op, err_t *e);

#endif

/* A running execution, shared by the Executions and Agents services. */
#ifndef SBX_SERVER_RUNS_H
#define SBX_SERVER_RUNS_H

#include <stdint.h>

#include "executions.h"
#include "provider.h"
#include "rpc.h"
#include "sbx/v1/executions.pb-c.h"

struct run {
	struct run *next;
	char id[40];
	char sandbox_id[40];
	char topic[64];
	char working_dir[1024];
	char **argv;
	size_t argc;
	char **env;
	size_t n_env;
	char **sandbox_env;
	size_t n_sandbox_env;
	uint8_t *stdin_data;
	size_t stdin_len;
	int has_stdin;
	int timeout_seconds;
	int run_as_root;
	volatile int cancel_signal;
	const provider_ops *provider;
	sandbox_handle handle;
	output_log *log;
	sqlite3 *db; /* pooled, held by the runner thread */
	/* Agent runs: parse the CLI's output as it streams, then price it and
	 * apply cost limits once it ended. */
	void *parser;
	void (*parser_feed)(void *parser, int stream, const void *data, size_t len);
	void (*parser_finish)(struct run *r, Sbx__V1__Execution *x);
	void (*parser_free)(void *parser);
	void (*after_finish)(struct run *r, sqlite3 *db, const Sbx__V1__Execution *x);
	char agent[32];
	char model[128];
	char owner_id[40];
};

/* Validates and starts an execution; takes ownership of `r` (freed on
 * failure). On success *id_out (in the call's arena) names it. */
sbx_status runs_start(rpc_call *call, struct run *r, const char *sandbox_ref, char *const *argv,
		      size_t argc, const char *shell, const char *working_dir,
		      Sbx__V1__StartExecutionRequest__EnvEntry *const *env, size_t n_env,
		      const ProtobufCBinaryData *stdin_data, int has_stdin, int timeout_seconds,
		      const char *agent, const char *model, char **id_out);

/* At start-up: executions the database says are running are recorded as
 * interrupted, and their runners, if still alive, killed. */
sbx_status executions_recover(err_t *e);

#endif

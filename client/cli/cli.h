/* Shared pieces of the sbx CLI: connection, error reporting, output. */
#ifndef SBX_CLI_H
#define SBX_CLI_H

#include <stddef.h>

#include "arena.h"
#include "sbx/sbx.h"

struct cli {
	sbx_client *client;
	const char *addr;
	const char *token;
	int timeout_ms;
	int json;
	arena *arena; /* for request messages; freed at exit */
};

typedef int (*cli_fn)(struct cli *c, int argc, char **argv);

struct cli_command {
	const char *name;
	cli_fn fn;
	const char *usage;
	const char *help;
};

/* Connects on first use; prints the error and returns 1 on failure. */
int cli_connect(struct cli *c);

/* Prints "sbx: CODE: message" to stderr; returns the exit code (1). */
int cli_fail(const sbx_error *e);

/* Prints "sbx: <message>" and the usage line; returns 2. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs the subcommand argv[0] from `cmds` (NULL-name terminated). */
int cli_dispatch(struct cli *c, const char *group, const struct cli_command *cmds, int argc,
		 char **argv);

/* Output: JSON (--json) or a human form chosen by the caller. */
void cli_print_json(const ProtobufCMessage *m);

/* "key: value" lines for every scalar field; nested messages with a
 * dotted prefix; repeated fields joined by ", ". */
void cli_print_fields(const ProtobufCMessage *m, const char *prefix);

/* A field's value as display text into buf. */
void cli_field_text(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *buf,
		    size_t cap);

/* Aligned columns: rows[r][c], strings owned by the caller. */
void cli_table(const char *const *headers, size_t ncol, char ***rows, size_t nrows);

/* Sets `field` of `m` from text: bools (true/false/yes/no/on/off/1/0),
 * numbers, strings, repeated strings (a JSON array or comma-separated).
 * Memory from `a`. Returns 0, or -1 with a message in `why`. */
int cli_set_field(ProtobufCMessage *m, const char *field, const char *text, arena *a,
		  char *why, size_t cap);

/* Splits KEY=VALUE; returns -1 if there is no '='. key points into a copy. */
int cli_split_kv(const char *arg, char *key, size_t keycap, const char **value);

#endif

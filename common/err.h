/* A status with its message and, for INVALID_ARGUMENT, the offending field.
 * Filled by whoever detects the problem; carried up unchanged. */
#ifndef SBX_COMMON_ERR_H
#define SBX_COMMON_ERR_H

#include "sbx/status.h"

typedef struct err {
	sbx_status code;
	char message[512];
	char field[128];
} err_t;

/* Sets code and message; returns code so callers can `return err_set(...)`. */
sbx_status err_set(err_t *e, sbx_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, naming the field (a field violation in the reply). */
sbx_status err_field(err_t *e, sbx_status code, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void err_clear(err_t *e);

#endif

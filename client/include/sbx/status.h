/* sbx status codes: gRPC's numbers, never renumbered. Every module boundary
 * speaks this enum; nng, SQLite, libcurl and errno values are translated
 * where they enter. */
#ifndef SBX_STATUS_H
#define SBX_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sbx_status {
	SBX_OK = 0,
	SBX_CANCELLED = 1,
	SBX_UNKNOWN = 2,
	SBX_INVALID_ARGUMENT = 3,
	SBX_DEADLINE_EXCEEDED = 4,
	SBX_NOT_FOUND = 5,
	SBX_ALREADY_EXISTS = 6,
	SBX_PERMISSION_DENIED = 7,
	SBX_RESOURCE_EXHAUSTED = 8,
	SBX_FAILED_PRECONDITION = 9,
	SBX_ABORTED = 10,
	SBX_OUT_OF_RANGE = 11,
	SBX_UNIMPLEMENTED = 12,
	SBX_INTERNAL = 13,
	SBX_UNAVAILABLE = 14,
	SBX_DATA_LOSS = 15,
	SBX_UNAUTHENTICATED = 16,
} sbx_status;

#define SBX_STATUS_MAX 16

/* "NOT_FOUND" etc.; "UNKNOWN" for values outside the enum. Static storage. */
const char *sbx_status_name(int code);

/* The code for a name as printed by sbx_status_name, or -1. */
int sbx_status_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif

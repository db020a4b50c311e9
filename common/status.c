#include <string.h>

#include "sbx/status.h"

static const char *const status_names[SBX_STATUS_MAX + 1] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

const char *sbx_status_name(int code)
{
	if (code < 0 || code > SBX_STATUS_MAX) {
		return "UNKNOWN";
	}
	return status_names[code];
}

int sbx_status_from_name(const char *name)
{
	for (int i = 0; i <= SBX_STATUS_MAX; i++) {
		if (strcmp(status_names[i], name) == 0) {
			return i;
		}
	}
	return -1;
}

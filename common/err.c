#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

sbx_status err_set(err_t *e, sbx_status code, const char *fmt, ...)
{
	if (e == NULL) {
		return code;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	e->code = code;
	e->field[0] = '\0';
	return code;
}

sbx_status err_field(err_t *e, sbx_status code, const char *field,
		     const char *fmt, ...)
{
	if (e == NULL) {
		return code;
	}
	char msg[sizeof(e->message) - 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(e->message, sizeof(e->message), "%s: %s", field, msg);
	snprintf(e->field, sizeof(e->field), "%s", field);
	e->code = code;
	return code;
}

void err_clear(err_t *e)
{
	e->code = SBX_OK;
	e->message[0] = '\0';
	e->field[0] = '\0';
}

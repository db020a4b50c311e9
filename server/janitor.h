/* Background upkeep, on the settings' own schedule (re-read each pass, so
 * changes apply at once): destroys sandboxes whose ttl expired, stops idle
 * ones (auto_stop_idle_minutes) and those past max_runtime_hours, prunes
 * execution output past log_retention_days, metrics past
 * metrics_retention_days and idempotency records older than a day. */
#ifndef SBX_SERVER_JANITOR_H
#define SBX_SERVER_JANITOR_H

#include "err.h"

sbx_status janitor_start(err_t *e);
void janitor_stop(void);

/* One pass now (tests, `sbx clean`). */
void janitor_run_once(void);

#endif

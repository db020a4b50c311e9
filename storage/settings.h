/* The sandbox settings singleton: rules for every field and its storage. */
#ifndef SBX_STORAGE_SETTINGS_H
#define SBX_STORAGE_SETTINGS_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "fields.h"
#include "sbx/v1/settings.pb-c.h"

extern const field_table settings_fields;

/* Reads the singleton into a message allocated in `a`. */
sbx_status settings_load(sqlite3 *db, Sbx__V1__SandboxSettings **out, arena *a, err_t *e);

/* Validates and applies the masked fields (inside the caller's transaction). */
sbx_status settings_update(sqlite3 *db, const Sbx__V1__SandboxSettings *in,
			   char *const *mask, size_t n_mask, const char *actor, err_t *e);

#endif

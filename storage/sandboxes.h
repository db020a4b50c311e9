/* Sandboxes, their env vars, volumes and templates. */
#ifndef SBX_STORAGE_SANDBOXES_H
#define SBX_STORAGE_SANDBOXES_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "provider.h"
#include "sbx/v1/sandboxes.pb-c.h"

/* Status names as stored ("running"), and back. */
const char *sandbox_status_name(Sbx__V1__SandboxStatus s);
Sbx__V1__SandboxStatus sandbox_status_parse(const char *s);

/* Inserts a new sandbox (status creating) with its env and volumes. The
 * caller holds a write transaction. */
sbx_status sandboxes_insert(sqlite3 *db, const Sbx__V1__Sandbox *sb, const char *owner_id,
			    err_t *e);

/* A sandbox by id, or by name among `owner_id`'s live sandboxes. With
 * owner_id NULL any owner matches (admin). NOT_FOUND naming `id`. */
sbx_status sandboxes_get(sqlite3 *db, const char *id_or_name, const char *owner_id,
			 Sbx__V1__Sandbox **out, sandbox_handle *h, arena *a, err_t *e);

typedef struct sandbox_filter {
	const char *owner_id;      /* NULL: all */
	const int *statuses;       /* Sbx__V1__SandboxStatus values */
	size_t n_statuses;
	const char *provider;      /* "" : any */
	char *const *label_keys;
	char *const *label_values;
	size_t n_labels;
	int offset;
	int limit;
} sandbox_filter;

sbx_status sandboxes_list(sqlite3 *db, const sandbox_filter *f,
			  Sbx__V1__ListSandboxesResponse *out, arena *a, err_t *e);

/* Records a new status (and the provider handle when `h` is not NULL),
 * stamping started/stopped/terminated times as the status implies. */
sbx_status sandboxes_set_status(sqlite3 *db, const char *id, Sbx__V1__SandboxStatus st,
				const char *message, const sandbox_handle *h, err_t *e);

sbx_status sandboxes_delete(sqlite3 *db, const char *id, err_t *e);

/* Live sandboxes (creating, running, paused) on local or on cloud providers. */
sbx_status sandboxes_count_live(sqlite3 *db, int cloud, int *out, err_t *e);

/* Ids of sandboxes in `statuses`, for start-up re-attachment and cleaning. */
sbx_status sandboxes_ids(sqlite3 *db, const char *where, arena *a, char ***ids, size_t *n,
			 err_t *e);

sbx_status sandboxes_set_env(sqlite3 *db, const char *id, char *const *keys,
			     char *const *values, size_t n, char *const *unset, size_t n_unset,
			     err_t *e);
sbx_status sandboxes_add_volume(sqlite3 *db, const char *id, const Sbx__V1__Volume *v, err_t *e);
sbx_status sandboxes_remove_volume(sqlite3 *db, const char *id, const char *container_path,
				   err_t *e);
sbx_status sandboxes_touch(sqlite3 *db, const char *id, err_t *e);

/* Current cost (tokens + runtime, the running stretch counted live) of
 * sandbox `id` and of all sandboxes. */
sbx_status sandboxes_costs(sqlite3 *db, const char *id, double *sandbox_cost, double *total_cost,
			   err_t *e);
sbx_status sandboxes_add_token_cost(sqlite3 *db, const char *id, double cost, err_t *e);

/* Templates, per owner. */
sbx_status templates_insert(sqlite3 *db, const Sbx__V1__Template *t, const char *owner_id,
			    err_t *e);
sbx_status templates_get(sqlite3 *db, const char *name, const char *owner_id,
			 Sbx__V1__Template **out, arena *a, err_t *e);
sbx_status templates_list(sqlite3 *db, const char *owner_id, Sbx__V1__ListTemplatesResponse *out,
			  arena *a, err_t *e);
sbx_status templates_delete(sqlite3 *db, const char *name, const char *owner_id, err_t *e);

#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "rowmap.h"
#include "sandboxes.h"

/* The hourly price of a sandbox's provider: the admin's override, else the
 * catalogue's. Used inside statements on `sandboxes`. */
#define SANDBOX_PRICE_PER_HOUR                                                              \
	"(SELECT coalesce(ps.cost_per_hour, p.price_per_hour) FROM providers p"             \
	" JOIN sandbox_provider_settings ps ON ps.provider = p.id WHERE p.id = sandboxes.provider)"

static const char *const status_names[] = {
	[SBX__V1__SANDBOX_STATUS__CREATING] = "creating",
	[SBX__V1__SANDBOX_STATUS__RUNNING] = "running",
	[SBX__V1__SANDBOX_STATUS__PAUSED] = "paused",
	[SBX__V1__SANDBOX_STATUS__STOPPED] = "stopped",
	[SBX__V1__SANDBOX_STATUS__ERROR] = "error",
	[SBX__V1__SANDBOX_STATUS__TERMINATED] = "terminated",
	[SBX__V1__SANDBOX_STATUS__DEAD] = "dead",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *sandbox_status_name(Sbx__V1__SandboxStatus s)
{
	return rowmap_enum_name(status_names, N_STATUS, (int)s);
}

Sbx__V1__SandboxStatus sandbox_status_parse(const char *s)
{
	return (Sbx__V1__SandboxStatus)rowmap_enum_value(status_names, N_STATUS, s);
}

static sbx_status insert_env(sqlite3 *db, const char *id, const char *k, const char *v, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO sandbox_env_vars(sandbox_id, name, value) VALUES(?1, ?2, ?3)"
				  " ON CONFLICT(sandbox_id, name) DO UPDATE SET value = excluded.value",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
	return db_step_done(db, st, "sandbox_env_vars", e);
}

sbx_status sandboxes_add_volume(sqlite3 *db, const char *id, const Sbx__V1__Volume *v, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO sandbox_volumes(sandbox_id, host_path, container_path, read_only)"
				  " VALUES(?1, ?2, ?3, ?4)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->host_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->container_path, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, v->read_only ? 1 : 0);
	s = db_step_done(db, st, "sandbox_volumes", e);
	if (s == SBX_ALREADY_EXISTS) {
		return err_field(e, SBX_ALREADY_EXISTS, "volume.container_path",
				 "%s is already mounted", v->container_path);
	}
	return s;
}

sbx_status sandboxes_insert(sqlite3 *db, const Sbx__V1__Sandbox *sb, const char *owner_id,
			    err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO sandboxes(id, name, owner_id, provider, image, template, status,"
				  " cpu_cores, memory_mb, disk_gb, pids_max, labels, network_mode, ttl_seconds,"
				  " expires_at, last_activity_at)"
				  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'creating', ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
				  " CASE WHEN ?13 > 0 THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('+%d seconds', ?13)) END,"
				  " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	char *labels = rowmap_map_to_json(&sb->base, "labels");
	const Sbx__V1__Resources *r = sb->resources;
	sqlite3_bind_text(st, 1, sb->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sb->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sb->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, sb->image, -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 6, sb->template_);
	sqlite3_bind_double(st, 7, r ? r->cpu_cores : 0);
	sqlite3_bind_int64(st, 8, r ? r->memory_mb : 0);
	sqlite3_bind_int64(st, 9, r ? r->disk_gb : 0);
	sqlite3_bind_int(st, 10, r ? r->pids_max : 0);
	sqlite3_bind_text(st, 11, labels ? labels : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 12, sb->network_mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, sb->ttl_seconds);
	free(labels);
	s = db_step_done(db, st, "sandboxes", e);
	if (s == SBX_ALREADY_EXISTS) {
		return err_field(e, SBX_ALREADY_EXISTS, "name", "a sandbox named \"%s\" already exists",
				 sb->name);
	}
	for (size_t i = 0; s == SBX_OK && i < sb->n_env; i++) {
		s = insert_env(db, sb->id, sb->env[i]->key, sb->env[i]->value, e);
	}
	for (size_t i = 0; s == SBX_OK && i < sb->n_volumes; i++) {
		s = sandboxes_add_volume(db, sb->id, sb->volumes[i], e);
	}
	return s;
}

#define SANDBOX_SELECT                                                                     \
	"SELECT s.id, s.name, u.name AS owner, s.provider, s.image, coalesce(s.template,'') AS" \
	" template, s.status, coalesce(s.status_message,'') AS status_message,"             \
	" coalesce(s.cpu_cores,0), coalesce(s.memory_mb,0), coalesce(s.disk_gb,0),"         \
	" coalesce(s.pids_max,0), s.gpu_count, s.labels, s.network_mode, s.ttl_seconds,"     \
	" coalesce(s.provider_ref,''), coalesce(s.provider_state,''), s.created_at,"          \
	" coalesce(s.started_at,''), coalesce(s.stopped_at,''), coalesce(s.last_activity_at,''),"\
	" coalesce(s.expires_at,''), s.token_cost_usd, s.runtime_cost_usd, s.restart_count"  \
	" FROM sandboxes s JOIN users u ON u.id = s.owner_id"

static sbx_status load_env_volumes(sqlite3 *db, Sbx__V1__Sandbox *sb, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT name, value FROM sandbox_env_vars WHERE sandbox_id = ?1"
				      " ORDER BY name", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, sb->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		Sbx__V1__Sandbox__EnvEntry *kv =
			ARENA_MSG(a, Sbx__V1__Sandbox__EnvEntry, sbx__v1__sandbox__env_entry__init);
		if (kv == NULL) {
			break;
		}
		kv->key = arena_strdup(a, db_text(st, 0));
		kv->value = arena_strdup(a, db_text(st, 1));
		arena_append(a, (void ***)&sb->env, &sb->n_env, kv);
	}
	sqlite3_finalize(st);
	s = db_prepare(db, "SELECT host_path, container_path, read_only FROM sandbox_volumes"
			   " WHERE sandbox_id = ?1 ORDER BY container_path", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, sb->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		Sbx__V1__Volume *v = ARENA_MSG(a, Sbx__V1__Volume, sbx__v1__volume__init);
		if (v == NULL) {
			break;
		}
		v->host_path = arena_strdup(a, db_text(st, 0));
		v->container_path = arena_strdup(a, db_text(st, 1));
		v->read_only = sqlite3_column_int(st, 2) != 0;
		arena_append(a, (void ***)&sb->volumes, &sb->n_volumes, v);
	}
	sqlite3_finalize(st);
	return arena_exhausted(a) ? err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large") : SBX_OK;
}

static Sbx__V1__Sandbox *from_row(sqlite3_stmt *st, sandbox_handle *h, arena *a)
{
	Sbx__V1__Sandbox *sb = ARENA_MSG(a, Sbx__V1__Sandbox, sbx__v1__sandbox__init);
	Sbx__V1__Resources *r = ARENA_MSG(a, Sbx__V1__Resources, sbx__v1__resources__init);
	if (sb == NULL || r == NULL) {
		return NULL;
	}
	int c = 0;
	sb->id = arena_strdup(a, db_text(st, c++));
	sb->name = arena_strdup(a, db_text(st, c++));
	sb->owner = arena_strdup(a, db_text(st, c++));
	sb->provider = arena_strdup(a, db_text(st, c++));
	sb->image = arena_strdup(a, db_text(st, c++));
	sb->template_ = arena_strdup(a, db_text(st, c++));
	sb->status = sandbox_status_parse(db_text(st, c++));
	sb->status_message = arena_strdup(a, db_text(st, c++));
	r->cpu_cores = sqlite3_column_double(st, c++);
	r->memory_mb = sqlite3_column_int64(st, c++);
	r->disk_gb = sqlite3_column_int64(st, c++);
	r->pids_max = sqlite3_column_int(st, c++);
	r->gpu_count = sqlite3_column_int(st, c++);
	sb->resources = r;
	rowmap_map_from_json(&sb->base, "labels", db_text(st, c++), a);
	sb->network_mode = arena_strdup(a, db_text(st, c++));
	sb->ttl_seconds = sqlite3_column_int64(st, c++);
	sb->provider_ref = arena_strdup(a, db_text(st, c));
	if (h != NULL) {
		snprintf(h->ref, sizeof(h->ref), "%s", db_text(st, c));
		snprintf(h->state, sizeof(h->state), "%s", db_text(st, c + 1));
	}
	c += 2;
	sb->created_at = arena_strdup(a, db_text(st, c++));
	sb->started_at = arena_strdup(a, db_text(st, c++));
	sb->stopped_at = arena_strdup(a, db_text(st, c++));
	sb->last_activity_at = arena_strdup(a, db_text(st, c++));
	sb->expires_at = arena_strdup(a, db_text(st, c++));
	sb->token_cost_usd = sqlite3_column_double(st, c++);
	sb->runtime_cost_usd = sqlite3_column_double(st, c++);
	sb->restart_count = sqlite3_column_int(st, c++);
	return sb;
}

sbx_status sandboxes_get(sqlite3 *db, const char *id_or_name, const char *owner_id,
			 Sbx__V1__Sandbox **out, sandbox_handle *h, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	/* An id matches whatever its status; a name only among live ones
	 * (terminated sandboxes free their name). */
	sbx_status s = db_prepare(db,
				  SANDBOX_SELECT " WHERE (s.id = ?1 OR (s.name = ?1 AND s.status != 'terminated'"
						 " AND s.owner_id = coalesce(?2, s.owner_id)))"
						 " AND (?2 IS NULL OR s.owner_id = ?2)"
						 " ORDER BY s.id = ?1 DESC LIMIT 1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id_or_name, -1, SQLITE_STATIC);
	if (owner_id) {
		sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = from_row(st, h, a);
		s = *out ? SBX_OK : err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "id", "no sandbox \"%.128s\"", id_or_name);
	} else {
		s = db_error(db, rc, "sandboxes", e);
	}
	sqlite3_finalize(st);
	if (s == SBX_OK) {
		s = load_env_volumes(db, *out, a, e);
	}
	return s;
}

sbx_status sandboxes_list(sqlite3 *db, const sandbox_filter *f,
			  Sbx__V1__ListSandboxesResponse *out, arena *a, err_t *e)
{
	/* Status and label filters are bound as JSON arrays and matched with
	 * json_each, so the statement text never depends on the request. */
	json_t *statuses = json_array();
	for (size_t i = 0; i < f->n_statuses; i++) {
		json_array_append_new(statuses,
				      json_string(sandbox_status_name((Sbx__V1__SandboxStatus)f->statuses[i])));
	}
	json_t *labels = json_object();
	for (size_t i = 0; i < f->n_labels; i++) {
		json_object_set_new(labels, f->label_keys[i], json_string(f->label_values[i]));
	}
	char *sj = json_dumps(statuses, JSON_COMPACT);
	char *lj = json_dumps(labels, JSON_COMPACT);
	json_decref(statuses);
	json_decref(labels);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(
		db,
		SANDBOX_SELECT " WHERE (?1 IS NULL OR s.owner_id = ?1)"
			       " AND (json_array_length(?2) = 0 OR s.status IN (SELECT value FROM json_each(?2)))"
			       " AND (?3 = '' OR s.provider = ?3)"
			       " AND NOT EXISTS (SELECT 1 FROM json_each(?4) l WHERE"
			       "   json_extract(s.labels, '$.\"' || l.key || '\"') IS NOT l.value)"
			       " ORDER BY s.created_at, s.id LIMIT ?5 OFFSET ?6",
		&st, e);
	if (s == SBX_OK) {
		if (f->owner_id) {
			sqlite3_bind_text(st, 1, f->owner_id, -1, SQLITE_STATIC);
		}
		sqlite3_bind_text(st, 2, sj ? sj : "[]", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, f->provider ? f->provider : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, lj ? lj : "{}", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, f->limit + 1);
		sqlite3_bind_int(st, 6, f->offset);
		int rc, n = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n++ == f->limit) {
				out->next_page_token = arena_printf(a, "%d", f->offset + f->limit);
				break;
			}
			Sbx__V1__Sandbox *sb = from_row(st, NULL, a);
			if (sb == NULL || arena_append(a, (void ***)&out->sandboxes, &out->n_sandboxes, sb)) {
				s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
				break;
			}
		}
		if (s == SBX_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
			s = db_error(db, rc, "sandboxes", e);
		}
		sqlite3_finalize(st);
	}
	for (size_t i = 0; s == SBX_OK && i < out->n_sandboxes; i++) {
		s = load_env_volumes(db, out->sandboxes[i], a, e);
	}
	free(sj);
	free(lj);
	return s;
}

sbx_status sandboxes_set_status(sqlite3 *db, const char *id, Sbx__V1__SandboxStatus status,
				const char *message, const sandbox_handle *h, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(
		db,
		"UPDATE sandboxes SET status = ?2, status_message = ?3,"
		" provider_ref = CASE WHEN ?4 IS NULL THEN provider_ref ELSE ?4 END,"
		" provider_state = CASE WHEN ?5 IS NULL THEN provider_state ELSE ?5 END,"
		" started_at = CASE WHEN ?2 = 'running' AND status NOT IN ('running', 'paused')"
		"   THEN strftime('%Y-%m-%dT%H:%M:%fZ','now') ELSE started_at END,"
		" stopped_at = CASE WHEN ?2 IN ('stopped', 'dead', 'error', 'terminated')"
		"   AND status IN ('running', 'paused', 'creating')"
		"   THEN strftime('%Y-%m-%dT%H:%M:%fZ','now') ELSE stopped_at END,"
		" terminated_at = CASE WHEN ?2 = 'terminated' THEN strftime('%Y-%m-%dT%H:%M:%fZ','now')"
		"   ELSE terminated_at END,"
		/* Runtime cost: the time it ran at the provider's hourly price. */
		" runtime_cost_usd = runtime_cost_usd + CASE WHEN status IN ('running', 'paused')"
		"   AND ?2 NOT IN ('running', 'paused') AND started_at IS NOT NULL"
		"   THEN (julianday('now') - julianday(started_at)) * 24 * " SANDBOX_PRICE_PER_HOUR " ELSE 0 END,"
		" last_activity_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')"
		" WHERE id = ?1",
		&st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sandbox_status_name(status), -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 3, message);
	if (h != NULL) {
		sqlite3_bind_text(st, 4, h->ref, -1, SQLITE_STATIC);
		db_bind_text_or_null(st, 5, h->state);
	}
	return db_step_done(db, st, "sandboxes", e);
}

sbx_status sandboxes_delete(sqlite3 *db, const char *id, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "DELETE FROM sandboxes WHERE id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return db_step_done(db, st, "sandboxes", e);
}

sbx_status sandboxes_count_live(sqlite3 *db, int cloud, int *out, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "SELECT count(*) FROM sandboxes s JOIN providers p ON p.id = s.provider"
				  " WHERE s.status IN ('creating', 'running', 'paused') AND p.is_cloud = ?1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_int(st, 1, cloud);
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SBX_OK : db_error(db, rc, "sandboxes", e);
}

sbx_status sandboxes_ids(sqlite3 *db, const char *where, arena *a, char ***ids, size_t *n,
			 err_t *e)
{
	char sql[512];
	/* `where` is a constant of the caller's, never request text. */
	snprintf(sql, sizeof(sql), "SELECT id FROM sandboxes WHERE %s ORDER BY created_at", where);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, sql, &st, e);
	if (s != SBX_OK) {
		return s;
	}
	*ids = NULL;
	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (arena_append(a, (void ***)ids, n, arena_strdup(a, db_text(st, 0))) != 0) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "too many sandboxes");
			break;
		}
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status sandboxes_set_env(sqlite3 *db, const char *id, char *const *keys,
			     char *const *values, size_t n, char *const *unset, size_t n_unset,
			     err_t *e)
{
	sbx_status s = SBX_OK;
	for (size_t i = 0; s == SBX_OK && i < n; i++) {
		s = insert_env(db, id, keys[i], values[i], e);
	}
	for (size_t i = 0; s == SBX_OK && i < n_unset; i++) {
		sqlite3_stmt *st;
		s = db_prepare(db, "DELETE FROM sandbox_env_vars WHERE sandbox_id = ?1 AND name = ?2", &st, e);
		if (s == SBX_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, unset[i], -1, SQLITE_STATIC);
			s = db_step_done(db, st, "sandbox_env_vars", e);
		}
	}
	return s;
}

sbx_status sandboxes_remove_volume(sqlite3 *db, const char *id, const char *container_path,
				   err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "DELETE FROM sandbox_volumes WHERE sandbox_id = ?1 AND container_path = ?2",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, container_path, -1, SQLITE_STATIC);
	return db_step_done(db, st, "sandbox_volumes", e);
}

sbx_status sandboxes_touch(sqlite3 *db, const char *id, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "UPDATE sandboxes SET last_activity_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')"
				  " WHERE id = ?1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return db_step_done(db, st, "sandboxes", e);
}

/* ---- templates --------------------------------------------------------- */

sbx_status templates_insert(sqlite3 *db, const Sbx__V1__Template *t, const char *owner_id,
			    err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "INSERT INTO templates(name, owner_id, description, provider, image, cpu_cores,"
				  " memory_mb, disk_gb, pids_max, env, labels, network_mode, setup_commands, shared)"
				  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	char *env = rowmap_map_to_json(&t->base, "env");
	char *labels = rowmap_map_to_json(&t->base, "labels");
	json_t *cmds = json_array();
	for (size_t i = 0; i < t->n_setup_commands; i++) {
		json_array_append_new(cmds, json_string(t->setup_commands[i]));
	}
	char *cj = json_dumps(cmds, JSON_COMPACT);
	json_decref(cmds);
	const Sbx__V1__Resources *r = t->resources;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->description, -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 4, t->provider);
	db_bind_text_or_null(st, 5, t->image);
	if (r && r->cpu_cores > 0) {
		sqlite3_bind_double(st, 6, r->cpu_cores);
	}
	if (r && r->memory_mb > 0) {
		sqlite3_bind_int64(st, 7, r->memory_mb);
	}
	if (r && r->disk_gb > 0) {
		sqlite3_bind_int64(st, 8, r->disk_gb);
	}
	if (r && r->pids_max > 0) {
		sqlite3_bind_int(st, 9, r->pids_max);
	}
	sqlite3_bind_text(st, 10, env ? env : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, labels ? labels : "{}", -1, SQLITE_TRANSIENT);
	db_bind_text_or_null(st, 12, t->network_mode);
	sqlite3_bind_text(st, 13, cj ? cj : "[]", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 14, t->shared ? 1 : 0);
	free(env);
	free(labels);
	free(cj);
	s = db_step_done(db, st, "templates", e);
	if (s == SBX_ALREADY_EXISTS) {
		return err_field(e, s, "name", "a template named \"%s\" already exists", t->name);
	}
	return s;
}

#define TEMPLATE_SELECT                                                                      \
	"SELECT t.name, u.name, t.description, coalesce(t.provider,''), coalesce(t.image,''),"  \
	" coalesce(t.cpu_cores,0), coalesce(t.memory_mb,0), coalesce(t.disk_gb,0),"           \
	" coalesce(t.pids_max,0), t.env, t.labels, coalesce(t.network_mode,''), t.setup_commands," \
	" t.shared, t.created_at FROM templates t JOIN users u ON u.id = t.owner_id"

static Sbx__V1__Template *template_from_row(sqlite3_stmt *st, arena *a)
{
	Sbx__V1__Template *t = ARENA_MSG(a, Sbx__V1__Template, sbx__v1__template__init);
	Sbx__V1__Resources *r = ARENA_MSG(a, Sbx__V1__Resources, sbx__v1__resources__init);
	if (t == NULL || r == NULL) {
		return NULL;
	}
	t->name = arena_strdup(a, db_text(st, 0));
	t->owner = arena_strdup(a, db_text(st, 1));
	t->description = arena_strdup(a, db_text(st, 2));
	t->provider = arena_strdup(a, db_text(st, 3));
	t->image = arena_strdup(a, db_text(st, 4));
	r->cpu_cores = sqlite3_column_double(st, 5);
	r->memory_mb = sqlite3_column_int64(st, 6);
	r->disk_gb = sqlite3_column_int64(st, 7);
	r->pids_max = sqlite3_column_int(st, 8);
	t->resources = r;
	rowmap_map_from_json(&t->base, "env", db_text(st, 9), a);
	rowmap_map_from_json(&t->base, "labels", db_text(st, 10), a);
	t->network_mode = arena_strdup(a, db_text(st, 11));
	rowmap_json_strings(db_text(st, 12), a, &t->setup_commands, &t->n_setup_commands);
	t->shared = sqlite3_column_int(st, 13) != 0;
	t->created_at = arena_strdup(a, db_text(st, 14));
	return t;
}

/* Templates visible to an owner: their own, and shared ones. */
sbx_status templates_get(sqlite3 *db, const char *name, const char *owner_id,
			 Sbx__V1__Template **out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  TEMPLATE_SELECT " WHERE t.name = ?1 AND (t.owner_id = ?2 OR t.shared = 1)"
						  " ORDER BY t.owner_id = ?2 DESC LIMIT 1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = template_from_row(st, a);
		s = *out ? SBX_OK : err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "template", "no template \"%.128s\"", name);
	} else {
		s = db_error(db, rc, "templates", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status templates_list(sqlite3 *db, const char *owner_id, Sbx__V1__ListTemplatesResponse *out,
			  arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, TEMPLATE_SELECT " WHERE t.owner_id = ?1 OR t.shared = 1"
						      " ORDER BY t.name LIMIT 10000", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, owner_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (arena_append(a, (void ***)&out->templates, &out->n_templates,
				 template_from_row(st, a)) != 0) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
			break;
		}
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status templates_delete(sqlite3 *db, const char *name, const char *owner_id, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "DELETE FROM templates WHERE name = ?1 AND owner_id = ?2", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
	s = db_step_done(db, st, "templates", e);
	if (s == SBX_OK && sqlite3_changes(db) == 0) {
		return err_field(e, SBX_NOT_FOUND, "name", "no template \"%.128s\" of yours", name);
	}
	return s;
}

sbx_status sandboxes_costs(sqlite3 *db, const char *id, double *sandbox_cost, double *total_cost,
			   err_t *e)
{
	/* Token cost plus runtime cost, with the running stretch counted live. */
	static const char *const sql =
		"SELECT coalesce(sum(CASE WHEN id = ?1 THEN c END), 0), coalesce(sum(c), 0) FROM ("
		" SELECT id, token_cost_usd + runtime_cost_usd + CASE WHEN status IN ('running', 'paused')"
		"  AND started_at IS NOT NULL THEN (julianday('now') - julianday(started_at)) * 24 * "
		SANDBOX_PRICE_PER_HOUR " ELSE 0 END AS c FROM sandboxes)";
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, sql, &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*sandbox_cost = sqlite3_column_double(st, 0);
		*total_cost = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SBX_OK : db_error(db, rc, "sandboxes", e);
}

sbx_status sandboxes_add_token_cost(sqlite3 *db, const char *id, double cost, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "UPDATE sandboxes SET token_cost_usd = token_cost_usd + ?2 WHERE id = ?1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, cost);
	return db_step_done(db, st, "sandboxes", e);
}

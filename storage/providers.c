#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "providers.h"
#include "rowmap.h"
#include "secrets.h"

#define T(n, max) {#n, F_TEXT, 0, max, NULL, NULL}
#define N(n, kind, hi) {#n, kind, 0, hi, NULL, NULL}

static const field_rule rules[] = {
	{"enabled", F_BOOL, 0, 0, NULL, NULL},
	{"api_endpoint", F_URL, 0, 0, NULL, NULL},
	T(workspace_id, 256),
	T(project_id, 256),
	T(account_id, 256),
	T(organization_id, 256),
	T(app_name, 256),
	T(namespace_id, 256),
	T(default_region, 64),
	T(default_instance_type, 128),
	T(default_image, 512),
	N(default_cpu_cores, F_REAL, 1024),
	N(default_memory_mb, F_INT, 16777216),
	N(default_disk_gb, F_INT, 1048576),
	T(default_gpu_type, 64),
	N(cost_per_hour, F_REAL, 1e6),
	N(cost_per_gb_memory, F_REAL, 1e6),
	N(cost_per_vcpu, F_REAL, 1e6),
	N(cost_per_gpu_hour, F_REAL, 1e6),
	N(max_sandboxes, F_INT, 1000000),
	N(max_runtime_hours, F_INT, 87600),
	N(max_total_cost, F_REAL, 1e9),
	{"custom_config", F_JSON_OBJECT, 0, 0, NULL, NULL},
	{"provider", F_READONLY, 0, 0, NULL, NULL},
	{"configured", F_READONLY, 0, 0, NULL, NULL},
	{"validated_at", F_READONLY, 0, 0, NULL, NULL},
	{"validation_error", F_READONLY, 0, 0, NULL, NULL},
	{"updated_at", F_READONLY, 0, 0, NULL, NULL},
	{"updated_by", F_READONLY, 0, 0, NULL, NULL},
};

const field_table provider_fields = {
	.table = "sandbox_provider_settings",
	.key_column = "provider",
	.rules = rules,
	.n_rules = sizeof(rules) / sizeof(rules[0]),
	.zero_is_null = 1,
	.mask_name = "update_mask",
	.value_prefix = "settings.",
};

static const char *const secret_fields[] = {"api_key", "api_secret"};

static int is_secret_field(const char *name)
{
	return strcmp(name, secret_fields[0]) == 0 || strcmp(name, secret_fields[1]) == 0;
}

/* Secrets are shown as configured + last 4 characters, and only when the
 * secret is long enough that 4 characters give little of it away. */
static Sbx__V1__SecretStatus *secret_status(const char *provider, const char *field,
					    const char *stored, arena *a)
{
	Sbx__V1__SecretStatus *s = ARENA_MSG(a, Sbx__V1__SecretStatus, sbx__v1__secret_status__init);
	if (s == NULL || stored[0] == '\0') {
		return s;
	}
	s->configured = 1;
	char *plain = NULL;
	err_t e;
	if (secrets_open(provider, field, stored, &plain, &e) == SBX_OK) {
		size_t n = strlen(plain);
		if (n >= 12) {
			s->last4 = arena_strdup(a, plain + n - 4);
		}
		secrets_free(plain);
	}
	return s;
}

static void capabilities(const char *json, Sbx__V1__Provider *p, arena *a)
{
	Sbx__V1__ProviderCapabilities *c =
		ARENA_MSG(a, Sbx__V1__ProviderCapabilities, sbx__v1__provider_capabilities__init);
	json_t *j = json_loads(json, 0, NULL);
	if (c == NULL || j == NULL) {
		json_decref(j);
		p->capabilities = c;
		return;
	}
	c->gpu = json_is_true(json_object_get(j, "gpu"));
	c->persistent_storage = json_is_true(json_object_get(j, "persistent_storage"));
	c->public_urls = json_is_true(json_object_get(j, "public_urls"));
	c->ssh_access = json_is_true(json_object_get(j, "ssh_access"));
	c->auto_scaling = json_is_true(json_object_get(j, "auto_scaling"));
	json_t *regions = json_object_get(j, "regions");
	size_t i;
	json_t *r;
	json_array_foreach(regions, i, r)
	{
		if (json_is_string(r)) {
			arena_append(a, (void ***)&c->regions, &c->n_regions,
				     arena_strdup(a, json_string_value(r)));
		}
	}
	json_decref(j);
	p->capabilities = c;
}

#define PROVIDER_SELECT                                                              \
	"SELECT p.id, p.name, p.display_name, p.description, p.provider_type, p.is_cloud," \
	" p.is_available, p.requires_auth, p.auth_fields, p.price_per_hour,"         \
	" p.pricing AS pricing_json, p.limits AS limits_json,"                        \
	" p.default_config AS default_config_json, p.capabilities,"                  \
	" s.provider, s.enabled, s.configured, s.validated_at, s.validation_error,"  \
	" s.api_endpoint, s.workspace_id, s.project_id, s.account_id,"               \
	" s.organization_id, s.app_name, s.namespace_id, s.default_region,"          \
	" s.default_instance_type, s.default_image, s.default_cpu_cores,"            \
	" s.default_memory_mb, s.default_disk_gb, s.default_gpu_type,"               \
	" s.cost_per_hour, s.cost_per_gb_memory, s.cost_per_vcpu,"                    \
	" s.cost_per_gpu_hour, s.max_sandboxes, s.max_runtime_hours,"                \
	" s.max_total_cost, s.custom_config, s.updated_at, s.updated_by,"            \
	" coalesce(s.api_key,''), coalesce(s.api_secret,'')"                          \
	" FROM providers p JOIN sandbox_provider_settings s ON s.provider = p.id"

/* Column index where the settings part of PROVIDER_SELECT begins, and of
 * the two credential columns at its end. */
#define SETTINGS_FIRST_COL 14
#define CAPABILITIES_COL 13

static Sbx__V1__Provider *provider_from_row(sqlite3_stmt *st, arena *a, err_t *e)
{
	Sbx__V1__Provider *p = ARENA_MSG(a, Sbx__V1__Provider, sbx__v1__provider__init);
	Sbx__V1__ProviderSettings *s =
		ARENA_MSG(a, Sbx__V1__ProviderSettings, sbx__v1__provider_settings__init);
	if (p == NULL || s == NULL) {
		err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
		return NULL;
	}
	/* rowmap fills each message from the columns whose names it has; the
	 * two messages share no names but `provider`/`id`. */
	if (rowmap_read(st, &p->base, a, e) != SBX_OK || rowmap_read(st, &s->base, a, e) != SBX_OK) {
		return NULL;
	}
	capabilities(db_text(st, CAPABILITIES_COL), p, a);
	int ncol = sqlite3_column_count(st);
	s->api_key = secret_status(p->id, "api_key", db_text(st, ncol - 2), a);
	s->api_secret = secret_status(p->id, "api_secret", db_text(st, ncol - 1), a);
	p->settings = s;
	return p;
}

sbx_status providers_get(sqlite3 *db, const char *id, Sbx__V1__Provider **out, arena *a,
			 err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, PROVIDER_SELECT " WHERE p.id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = provider_from_row(st, a, e);
		s = *out ? SBX_OK : e->code;
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "id", "no provider \"%.64s\" (see `sbx providers ls`)",
			      id);
	} else {
		s = db_error(db, rc, "providers", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status providers_list(sqlite3 *db, int enabled_only,
			  Sbx__V1__ListProvidersResponse *out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  PROVIDER_SELECT " WHERE (?1 = 0 OR s.enabled = 1)"
						  " ORDER BY p.is_cloud, p.id",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_int(st, 1, enabled_only);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		Sbx__V1__Provider *p = provider_from_row(st, a, e);
		if (p == NULL || arena_append(a, (void ***)&out->providers, &out->n_providers, p)) {
			sqlite3_finalize(st);
			return p ? err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large") : e->code;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "providers", e);
}

static sbx_status store_secret(sqlite3 *db, const char *id, const char *field,
			       const char *plaintext, err_t *e)
{
	char *sealed = NULL;
	if (plaintext[0] != '\0') {
		sbx_status s = secrets_seal(id, field, plaintext, &sealed, e);
		if (s != SBX_OK) {
			return s;
		}
	}
	char sql[160];
	/* `field` is one of secret_fields, never request text. */
	snprintf(sql, sizeof(sql), "UPDATE sandbox_provider_settings SET %s = ?1 WHERE provider = ?2",
		 field);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, sql, &st, e);
	if (s == SBX_OK) {
		if (sealed) {
			sqlite3_bind_text(st, 1, sealed, -1, SQLITE_STATIC);
		} else {
			sqlite3_bind_null(st, 1);
		}
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		s = rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "sandbox_provider_settings", e);
	}
	free(sealed);
	return s;
}

sbx_status providers_update(sqlite3 *db, const char *id, const Sbx__V1__ProviderSettings *in,
			    char *const *mask, size_t n_mask, const char *api_key,
			    const char *api_secret, const char *actor, err_t *e)
{
	char *plain[64];
	size_t n_plain = 0;
	int set_key = 0, set_secret = 0;
	if (n_mask == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, "update_mask",
				 "empty: name the fields to update");
	}
	for (size_t i = 0; i < n_mask; i++) {
		if (strcmp(mask[i], "api_key") == 0) {
			set_key = 1;
		} else if (strcmp(mask[i], "api_secret") == 0) {
			set_secret = 1;
		} else if (n_plain < sizeof(plain) / sizeof(plain[0])) {
			plain[n_plain++] = mask[i];
		} else {
			return err_field(e, SBX_INVALID_ARGUMENT, "update_mask", "too many entries");
		}
	}
	sbx_status s = SBX_OK;
	if (n_plain > 0) {
		s = fields_update(db, &provider_fields, id, &in->base, plain, n_plain, actor, e);
	} else {
		/* Credentials only: still record who changed them, and 404 if unknown. */
		sqlite3_stmt *st;
		s = db_prepare(db,
			       "UPDATE sandbox_provider_settings SET updated_by = ?1,"
			       " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE provider = ?2",
			       &st, e);
		if (s == SBX_OK) {
			sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			int rc = sqlite3_step(st);
			sqlite3_finalize(st);
			s = rc != SQLITE_DONE ? db_error(db, rc, "sandbox_provider_settings", e)
			    : sqlite3_changes(db) == 0
				    ? err_field(e, SBX_NOT_FOUND, "id", "no provider \"%.64s\"", id)
				    : SBX_OK;
		}
	}
	if (s == SBX_OK && set_key) {
		s = store_secret(db, id, "api_key", api_key ? api_key : "", e);
	}
	if (s == SBX_OK && set_secret) {
		s = store_secret(db, id, "api_secret", api_secret ? api_secret : "", e);
	}
	if (s == SBX_OK) {
		sqlite3_stmt *st;
		s = db_prepare(db,
			       "UPDATE sandbox_provider_settings SET configured ="
			       " (api_key IS NOT NULL OR (SELECT requires_auth FROM providers WHERE id = ?1) = 0)"
			       " WHERE provider = ?1",
			       &st, e);
		if (s == SBX_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			int rc = sqlite3_step(st);
			sqlite3_finalize(st);
			s = rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "sandbox_provider_settings", e);
		}
	}
	return s;
}

sbx_status providers_credential(sqlite3 *db, const char *id, const char *field, char **out,
				err_t *e)
{
	*out = NULL;
	if (!is_secret_field(field)) {
		return err_set(e, SBX_INTERNAL, "%s is not a credential", field);
	}
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT %s FROM sandbox_provider_settings WHERE provider = ?1",
		 field);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, sql, &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		s = secrets_open(id, field, db_text(st, 0), out, e);
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		s = err_set(e, SBX_NOT_FOUND, "provider %s has no %s configured", id, field);
	} else {
		s = db_error(db, rc, "sandbox_provider_settings", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status providers_record_validation(sqlite3 *db, const char *id, const char *error,
				       err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "UPDATE sandbox_provider_settings SET"
				  " validated_at = CASE WHEN ?2 IS NULL THEN strftime('%Y-%m-%dT%H:%M:%SZ','now') ELSE validated_at END,"
				  " validation_error = ?2 WHERE provider = ?1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	db_bind_text_or_null(st, 2, error);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SBX_OK : db_error(db, rc, "sandbox_provider_settings", e);
}

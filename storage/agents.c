#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents.h"
#include "db.h"
#include "rowmap.h"
#include "secrets.h"

static const field_rule rules[] = {
	{"display_name", F_TEXT, 1, 128, NULL, NULL},
	{"input_price_per_mtok", F_REAL, 0, 10000, NULL, NULL},
	{"output_price_per_mtok", F_REAL, 0, 10000, NULL, NULL},
	{"cached_input_price_per_mtok", F_REAL, 0, 10000, NULL, NULL},
	{"cache_write_price_per_mtok", F_REAL, 0, 10000, NULL, NULL},
	{"context_window", F_INT, 0, 1e9, NULL, NULL},
	{"id", F_READONLY, 0, 0, NULL, NULL},
	{"provider", F_READONLY, 0, 0, NULL, NULL},
	{"updated_at", F_READONLY, 0, 0, NULL, NULL},
	{"updated_by", F_READONLY, 0, 0, NULL, NULL},
};

const field_table model_fields = {
	.table = "models",
	.key_column = "id",
	.rules = rules,
	.n_rules = sizeof(rules) / sizeof(rules[0]),
	.zero_is_null = 0,
	.mask_name = "update_mask",
	.value_prefix = "model.",
};

#define MODEL_SELECT "SELECT m.* FROM models m"

static sbx_status collect_models(sqlite3 *db, sqlite3_stmt *st, Sbx__V1__Model ***arr,
				 size_t *n, arena *a, err_t *e)
{
	int rc;
	sbx_status s = SBX_OK;
	while (s == SBX_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		Sbx__V1__Model *m = ARENA_MSG(a, Sbx__V1__Model, sbx__v1__model__init);
		if (m == NULL) {
			return err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
		}
		s = rowmap_read(st, &m->base, a, e);
		if (s == SBX_OK && arena_append(a, (void ***)arr, n, m) != 0) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
		}
	}
	if (s == SBX_OK && rc != SQLITE_DONE) {
		s = db_error(db, rc, "models", e);
	}
	return s;
}

sbx_status models_list(sqlite3 *db, const char *agent, Sbx__V1__ListModelsResponse *out,
		       arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  agent[0] ? MODEL_SELECT " JOIN agent_models am ON am.model_id = m.id"
							  " WHERE am.agent_id = ?1 ORDER BY am.position"
					   : MODEL_SELECT " ORDER BY m.provider, m.id",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	if (agent[0]) {
		sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	}
	s = collect_models(db, st, &out->models, &out->n_models, a, e);
	sqlite3_finalize(st);
	return s;
}

sbx_status models_get(sqlite3 *db, const char *id, Sbx__V1__Model **out, arena *a, err_t *e)
{
	Sbx__V1__ListModelsResponse tmp = SBX__V1__LIST_MODELS_RESPONSE__INIT;
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, MODEL_SELECT " WHERE m.id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	s = collect_models(db, st, &tmp.models, &tmp.n_models, a, e);
	sqlite3_finalize(st);
	if (s == SBX_OK && tmp.n_models == 0) {
		return err_field(e, SBX_NOT_FOUND, "id", "no model \"%.128s\"", id);
	}
	if (s == SBX_OK) {
		*out = tmp.models[0];
	}
	return s;
}

static sbx_status fill_agent(sqlite3 *db, sqlite3_stmt *st, Sbx__V1__Agent **out, arena *a,
			     err_t *e)
{
	Sbx__V1__Agent *ag = ARENA_MSG(a, Sbx__V1__Agent, sbx__v1__agent__init);
	if (ag == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
	}
	sbx_status s = rowmap_read(st, &ag->base, a, e);
	if (s != SBX_OK) {
		return s;
	}
	Sbx__V1__ListModelsResponse models = SBX__V1__LIST_MODELS_RESPONSE__INIT;
	s = models_list(db, ag->id, &models, a, e);
	ag->models = models.models;
	ag->n_models = models.n_models;
	*out = ag;
	return s;
}

sbx_status agents_list(sqlite3 *db, Sbx__V1__ListAgentsResponse *out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT * FROM agents ORDER BY id", &st, e);
	int rc;
	while (s == SBX_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		Sbx__V1__Agent *ag = NULL;
		s = fill_agent(db, st, &ag, a, e);
		if (s == SBX_OK && arena_append(a, (void ***)&out->agents, &out->n_agents, ag) != 0) {
			s = err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large");
		}
	}
	if (s == SBX_OK && rc != SQLITE_DONE) {
		s = db_error(db, rc, "agents", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status agents_get(sqlite3 *db, const char *id, Sbx__V1__Agent **out, arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT * FROM agents WHERE id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s = fill_agent(db, st, out, a, e);
	} else if (rc == SQLITE_DONE) {
		s = err_field(e, SBX_NOT_FOUND, "id",
			      "no agent \"%.64s\" (known: claude, codex, gemini, grok, opencode)", id);
	} else {
		s = db_error(db, rc, "agents", e);
	}
	sqlite3_finalize(st);
	return s;
}

sbx_status models_update(sqlite3 *db, const char *id, const Sbx__V1__Model *in,
			 char *const *mask, size_t n_mask, const char *actor, err_t *e)
{
	sbx_status s = fields_update(db, &model_fields, id, &in->base, mask, n_mask, actor, e);
	if (s == SBX_NOT_FOUND) {
		return err_field(e, SBX_NOT_FOUND, "id", "no model \"%.128s\"", id);
	}
	return s;
}

/* ---- model vendors' keys ---------------------------------------------- */

static void key_ad(char *buf, size_t cap, const char *provider)
{
	snprintf(buf, cap, "model/%s", provider);
}

sbx_status model_credentials_set(sqlite3 *db, const char *provider, const char *api_key,
				 const char *base_url, const char *actor, err_t *e)
{
	char ad[64];
	key_ad(ad, sizeof(ad), provider);
	char *sealed = NULL;
	if (api_key[0] != '\0') {
		sbx_status s = secrets_seal(ad, "api_key", api_key, &sealed, e);
		if (s != SBX_OK) {
			return s;
		}
	}
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "UPDATE model_credentials SET api_key = ?2, base_url = ?3, updated_by = ?4,"
				  " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE provider = ?1",
				  &st, e);
	if (s == SBX_OK) {
		sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
		if (sealed) {
			sqlite3_bind_text(st, 2, sealed, -1, SQLITE_STATIC);
		}
		db_bind_text_or_null(st, 3, base_url);
		sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			s = db_error(db, rc, "model_credentials", e);
		} else if (sqlite3_changes(db) == 0) {
			s = err_field(e, SBX_INVALID_ARGUMENT, "provider",
				      "must be anthropic, openai, google or xai");
		}
	}
	free(sealed);
	return s;
}

sbx_status model_credentials_list(sqlite3 *db, Sbx__V1__ListModelCredentialsResponse *out,
				  arena *a, err_t *e)
{
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "SELECT provider, coalesce(api_key,''), coalesce(base_url,''), updated_at,"
				  " coalesce(updated_by,'') FROM model_credentials ORDER BY provider",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		Sbx__V1__ModelCredential *c =
			ARENA_MSG(a, Sbx__V1__ModelCredential, sbx__v1__model_credential__init);
		if (c == NULL) {
			break;
		}
		c->provider = arena_strdup(a, db_text(st, 0));
		const char *sealed = db_text(st, 1);
		c->configured = sealed[0] != '\0';
		if (c->configured) {
			char ad[64], *plain = NULL;
			err_t ignored;
			key_ad(ad, sizeof(ad), c->provider);
			if (secrets_open(ad, "api_key", sealed, &plain, &ignored) == SBX_OK) {
				size_t n = strlen(plain);
				c->last4 = arena_strdup(a, n >= 12 ? plain + n - 4 : "");
				secrets_free(plain);
			}
		}
		c->base_url = arena_strdup(a, db_text(st, 2));
		c->updated_at = arena_strdup(a, db_text(st, 3));
		c->updated_by = arena_strdup(a, db_text(st, 4));
		arena_append(a, (void ***)&out->credentials, &out->n_credentials, c);
	}
	sqlite3_finalize(st);
	return arena_exhausted(a) ? err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large") : SBX_OK;
}

sbx_status model_credentials_get(sqlite3 *db, const char *provider, char **api_key,
				 char **base_url, arena *a, err_t *e)
{
	*api_key = NULL;
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db,
				  "SELECT coalesce(api_key,''), coalesce(base_url,'') FROM model_credentials"
				  " WHERE provider = ?1",
				  &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && db_text(st, 0)[0] != '\0') {
		char ad[64];
		key_ad(ad, sizeof(ad), provider);
		s = secrets_open(ad, "api_key", db_text(st, 0), api_key, e);
		*base_url = arena_strdup(a, db_text(st, 1));
	} else {
		s = err_set(e, SBX_NOT_FOUND, "no %s API key is configured", provider);
	}
	sqlite3_finalize(st);
	return s;
}

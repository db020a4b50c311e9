/* The agent registry and the model price table. */
#ifndef SBX_STORAGE_AGENTS_H
#define SBX_STORAGE_AGENTS_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "fields.h"
#include "sbx/v1/agents.pb-c.h"

extern const field_table model_fields;

sbx_status agents_list(sqlite3 *db, Sbx__V1__ListAgentsResponse *out, arena *a, err_t *e);
/* NOT_FOUND naming `id` when unknown. */
sbx_status agents_get(sqlite3 *db, const char *id, Sbx__V1__Agent **out, arena *a, err_t *e);
/* Models of one agent, or all models when `agent` is "". */
sbx_status models_list(sqlite3 *db, const char *agent, Sbx__V1__ListModelsResponse *out,
		       arena *a, err_t *e);
sbx_status models_get(sqlite3 *db, const char *id, Sbx__V1__Model **out, arena *a, err_t *e);
sbx_status models_update(sqlite3 *db, const char *id, const Sbx__V1__Model *in,
			 char *const *mask, size_t n_mask, const char *actor, err_t *e);

/* Model vendors' API keys. */
sbx_status model_credentials_set(sqlite3 *db, const char *provider, const char *api_key,
				 const char *base_url, const char *actor, err_t *e);
sbx_status model_credentials_list(sqlite3 *db, Sbx__V1__ListModelCredentialsResponse *out,
				  arena *a, err_t *e);
/* The decrypted key (free with secrets_free) and base URL (in `a`, "" if
 * none) of a vendor; NOT_FOUND when no key is set. */
sbx_status model_credentials_get(sqlite3 *db, const char *provider, char **api_key,
				 char **base_url, arena *a, err_t *e);

#endif

/* The provider catalogue and each provider's settings and credentials. */
#ifndef SBX_STORAGE_PROVIDERS_H
#define SBX_STORAGE_PROVIDERS_H

#include <sqlite3.h>

#include "arena.h"
#include "err.h"
#include "fields.h"
#include "sbx/v1/providers.pb-c.h"

extern const field_table provider_fields;

/* One provider with its settings; secrets appear only as SecretStatus.
 * NOT_FOUND naming `id` if unknown. */
sbx_status providers_get(sqlite3 *db, const char *id, Sbx__V1__Provider **out, arena *a,
			 err_t *e);

sbx_status providers_list(sqlite3 *db, int enabled_only,
			  Sbx__V1__ListProvidersResponse *out, arena *a, err_t *e);

/* Applies a masked update; "api_key"/"api_secret" in the mask store the
 * given plaintexts encrypted (empty clears). Keeps `configured` true exactly
 * when the provider needs no credentials or has an api_key. */
sbx_status providers_update(sqlite3 *db, const char *id, const Sbx__V1__ProviderSettings *in,
			    char *const *mask, size_t n_mask, const char *api_key,
			    const char *api_secret, const char *actor, err_t *e);

/* The decrypted credential `field` ("api_key" / "api_secret") of provider
 * `id`; NOT_FOUND when unset. Free with secrets_free(). */
sbx_status providers_credential(sqlite3 *db, const char *id, const char *field, char **out,
				err_t *e);

/* Records the outcome of a validation. */
sbx_status providers_record_validation(sqlite3 *db, const char *id, const char *error,
				       err_t *e);

#endif

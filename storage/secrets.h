/* Credentials at rest: XChaCha20-Poly1305 (libsodium's IETF AEAD) with a
 * random 24-byte nonce per value and "<provider>/<field>" as associated
 * data, so a ciphertext copied to another provider or column fails to open.
 * Stored form: "enc:v1:" + base64(nonce | ciphertext | tag). */
#ifndef SBX_STORAGE_SECRETS_H
#define SBX_STORAGE_SECRETS_H

#include <stddef.h>

#include "err.h"

#define SECRETS_KEY_ENV "SBX_SECRET_KEY"
#define SECRETS_MAX_PLAINTEXT 8192

/* Loads the key: from $SBX_SECRET_KEY (64 hex digits) if set, else from
 * `key_path`, which is created 0600 with a random key on first start. */
sbx_status secrets_init(const char *key_path, err_t *e);

/* Encrypts; *out is malloc'd, the caller frees it. */
sbx_status secrets_seal(const char *provider, const char *field,
			const char *plaintext, char **out, err_t *e);

/* Decrypts a stored value; *out is malloc'd (and wiped by secrets_free). */
sbx_status secrets_open(const char *provider, const char *field,
			const char *stored, char **out, err_t *e);

/* Zeroes and frees a plaintext from secrets_open. */
void secrets_free(char *plaintext);

#endif

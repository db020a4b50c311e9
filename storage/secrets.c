#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "secrets.h"

#define PREFIX "enc:v1:"
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64 sodium_base64_VARIANT_ORIGINAL

static unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static int key_loaded;

static sbx_status key_from_hex(const char *hex, err_t *e)
{
	size_t n = 0;
	if (strlen(hex) != 2 * sizeof(key) ||
	    sodium_hex2bin(key, sizeof(key), hex, strlen(hex), NULL, &n, NULL) != 0 ||
	    n != sizeof(key)) {
		return err_set(e, SBX_INVALID_ARGUMENT,
			       "%s must be %zu hex digits", SECRETS_KEY_ENV, 2 * sizeof(key));
	}
	key_loaded = 1;
	return SBX_OK;
}

static sbx_status key_from_file(const char *path, err_t *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		randombytes_buf(key, sizeof(key));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			return err_set(e, SBX_INTERNAL, "create %s: %s", path, strerror(errno));
		}
		ssize_t w = write(fd, key, sizeof(key));
		int fs = fsync(fd);
		close(fd);
		if (w != (ssize_t)sizeof(key) || fs != 0) {
			unlink(path);
			return err_set(e, SBX_INTERNAL, "write %s: %s", path, strerror(errno));
		}
		key_loaded = 1;
		return SBX_OK;
	}
	if (fd < 0) {
		return err_set(e, SBX_INTERNAL, "open %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return err_set(e, SBX_PERMISSION_DENIED,
			       "%s must not be readable by group or others (chmod 600)", path);
	}
	ssize_t r = read(fd, key, sizeof(key));
	close(fd);
	if (r != (ssize_t)sizeof(key)) {
		return err_set(e, SBX_DATA_LOSS, "%s: expected a %zu-byte key", path, sizeof(key));
	}
	key_loaded = 1;
	return SBX_OK;
}

sbx_status secrets_init(const char *key_path, err_t *e)
{
	if (sodium_init() < 0) {
		return err_set(e, SBX_INTERNAL, "libsodium failed to initialise");
	}
	const char *hex = getenv(SECRETS_KEY_ENV);
	if (hex != NULL && hex[0] != '\0') {
		return key_from_hex(hex, e);
	}
	return key_from_file(key_path, e);
}

static void make_ad(char *ad, size_t cap, const char *provider, const char *field)
{
	snprintf(ad, cap, "%s/%s", provider, field);
}

sbx_status secrets_seal(const char *provider, const char *field,
			const char *plaintext, char **out, err_t *e)
{
	if (!key_loaded) {
		return err_set(e, SBX_INTERNAL, "secret key not loaded");
	}
	size_t plen = strlen(plaintext);
	if (plen > SECRETS_MAX_PLAINTEXT) {
		return err_field(e, SBX_INVALID_ARGUMENT, field, "longer than %d bytes",
				 SECRETS_MAX_PLAINTEXT);
	}
	char ad[256];
	make_ad(ad, sizeof(ad), provider, field);
	size_t blen = NONCE + plen + ABYTES;
	unsigned char *buf = malloc(blen);
	size_t b64len = sodium_base64_ENCODED_LEN(blen, B64);
	char *res = malloc(strlen(PREFIX) + b64len);
	if (buf == NULL || res == NULL) {
		free(buf);
		free(res);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	randombytes_buf(buf, NONCE);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE, &clen,
						   (const unsigned char *)plaintext, plen,
						   (const unsigned char *)ad, strlen(ad), NULL,
						   buf, key);
	strcpy(res, PREFIX);
	sodium_bin2base64(res + strlen(PREFIX), b64len, buf, NONCE + clen, B64);
	free(buf);
	*out = res;
	return SBX_OK;
}

sbx_status secrets_open(const char *provider, const char *field,
			const char *stored, char **out, err_t *e)
{
	*out = NULL;
	if (!key_loaded) {
		return err_set(e, SBX_INTERNAL, "secret key not loaded");
	}
	if (strncmp(stored, PREFIX, strlen(PREFIX)) != 0) {
		return err_set(e, SBX_DATA_LOSS, "%s/%s: not an encrypted value", provider, field);
	}
	const char *b64 = stored + strlen(PREFIX);
	size_t cap = strlen(b64);
	unsigned char *buf = malloc(cap + 1);
	char *pt = malloc(cap + 1);
	size_t blen = 0;
	if (buf == NULL || pt == NULL) {
		free(buf);
		free(pt);
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	char ad[256];
	make_ad(ad, sizeof(ad), provider, field);
	unsigned long long plen = 0;
	if (sodium_base642bin(buf, cap, b64, cap, NULL, &blen, NULL, B64) != 0 ||
	    blen < NONCE + ABYTES ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)pt, &plen, NULL,
						       buf + NONCE, blen - NONCE,
						       (const unsigned char *)ad, strlen(ad),
						       buf, key) != 0) {
		free(buf);
		free(pt);
		return err_set(e, SBX_DATA_LOSS,
			       "%s/%s: cannot decrypt (wrong key or tampered value)", provider, field);
	}
	free(buf);
	pt[plen] = '\0';
	*out = pt;
	return SBX_OK;
}

void secrets_free(char *plaintext)
{
	if (plaintext != NULL) {
		sodium_memzero(plaintext, strlen(plaintext));
		free(plaintext);
	}
}

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "clock.h"
#include "db.h"

#define CACHE_BUCKETS 256
#define TOUCH_INTERVAL_MS 60000

struct cached {
	struct cached *next;
	char hash[65];
	token_identity id;
	int64_t touched_ms;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache[CACHE_BUCKETS];

void auth_hash(const char *secret, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(hex, 65, h, sizeof(h));
}

/* The hash is uniformly distributed: its first two hex digits pick one of
 * 256 buckets. */
static unsigned bucket(const char *hash)
{
	char two[3] = {hash[0], hash[1], 0};
	return (unsigned)strtoul(two, NULL, 16) % CACHE_BUCKETS;
}

static void random_secret(char secret[AUTH_SECRET_MAX], char token_id[40])
{
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof(rnd));
	strcpy(secret, "sbx_");
	sodium_bin2base64(secret + 4, AUTH_SECRET_MAX - 4, rnd, sizeof(rnd),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	unsigned char idr[6];
	char hex[13];
	randombytes_buf(idr, sizeof(idr));
	sodium_bin2hex(hex, sizeof(hex), idr, sizeof(idr));
	snprintf(token_id, 40, "tok_%s", hex);
}

sbx_status auth_issue(sqlite3 *db, const char *user, const char *name, int admin,
		      const char *created_by, char token_id[40],
		      char secret[AUTH_SECRET_MAX], err_t *e)
{
	char user_id[40];
	char hash[65];
	sbx_status s = users_ensure(db, user, user_id, e);
	if (s != SBX_OK) {
		return s;
	}
	random_secret(secret, token_id);
	auth_hash(secret, hash);
	return tokens_insert(db, token_id, user_id, name, hash, admin, created_by, e);
}

static int read_secret_file(const char *path, char secret[AUTH_SECRET_MAX])
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return -1;
	}
	int ok = fgets(secret, AUTH_SECRET_MAX, f) != NULL;
	fclose(f);
	secret[strcspn(secret, "\r\n")] = '\0';
	return ok && secret[0] ? 0 : -1;
}

static sbx_status write_secret_file(const char *path, const char *secret, err_t *e)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return err_set(e, SBX_INTERNAL, "create %s: %s", tmp, strerror(errno));
	}
	size_t n = strlen(secret);
	int ok = write(fd, secret, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return err_set(e, SBX_INTERNAL, "write %s: %s", path, strerror(errno));
	}
	return SBX_OK;
}

sbx_status auth_init(sqlite3 *db, const char *admin_token_path, err_t *e)
{
	char secret[AUTH_SECRET_MAX];
	char hash[65];
	if (read_secret_file(admin_token_path, secret) == 0) {
		auth_hash(secret, hash);
		if (tokens_admin_exists(db, hash)) {
			sodium_memzero(secret, sizeof(secret));
			return SBX_OK;
		}
	}
	char token_id[40];
	sbx_status s = db_begin(db, e);
	if (s != SBX_OK) {
		return s;
	}
	s = auth_issue(db, "admin", "bootstrap admin token", 1, "sbxd", token_id, secret, e);
	if (s == SBX_OK) {
		/* Commit only once the file holds the secret: a token nobody
		 * can read is worse than none. */
		s = write_secret_file(admin_token_path, secret, e);
	}
	if (s == SBX_OK) {
		s = db_commit(db, e);
	} else {
		db_rollback(db);
	}
	sodium_memzero(secret, sizeof(secret));
	return s;
}

sbx_status auth_verify(const char *secret, token_identity *out, err_t *e)
{
	if (secret == NULL || secret[0] == '\0') {
		return err_set(e, SBX_UNAUTHENTICATED,
			       "missing token: pass --token or SBX_TOKEN (the admin token is in the data dir)");
	}
	if (strlen(secret) >= AUTH_SECRET_MAX) {
		return err_set(e, SBX_UNAUTHENTICATED, "invalid token");
	}
	char hash[65];
	auth_hash(secret, hash);
	unsigned b = bucket(hash);
	int64_t now = clock_mono_ms();
	int touch = 0;
	pthread_mutex_lock(&mu);
	for (struct cached *c = cache[b]; c != NULL; c = c->next) {
		if (strcmp(c->hash, hash) == 0) {
			*out = c->id;
			if (now - c->touched_ms > TOUCH_INTERVAL_MS) {
				c->touched_ms = now;
				touch = 1;
			}
			pthread_mutex_unlock(&mu);
			sqlite3 *db = touch ? db_get(NULL) : NULL;
			if (db != NULL) {
				err_t ignored;
				tokens_touch(db, out->token_id, &ignored);
			}
			return SBX_OK;
		}
	}
	pthread_mutex_unlock(&mu);

	sqlite3 *db = db_get(e);
	if (db == NULL) {
		return e->code;
	}
	sbx_status s = tokens_find(db, hash, out, e);
	if (s == SBX_NOT_FOUND) {
		return err_set(e, SBX_UNAUTHENTICATED, "invalid or revoked token");
	}
	if (s != SBX_OK) {
		return s;
	}
	tokens_touch(db, out->token_id, e);
	struct cached *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		memcpy(c->hash, hash, sizeof(c->hash));
		c->id = *out;
		c->touched_ms = now;
		pthread_mutex_lock(&mu);
		c->next = cache[b];
		cache[b] = c;
		pthread_mutex_unlock(&mu);
	}
	return SBX_OK;
}

void auth_forget(const char *token_id)
{
	pthread_mutex_lock(&mu);
	for (int b = 0; b < CACHE_BUCKETS; b++) {
		struct cached **pp = &cache[b];
		while (*pp != NULL) {
			if (strcmp((*pp)->id.token_id, token_id) == 0) {
				struct cached *c = *pp;
				*pp = c->next;
				free(c);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	pthread_mutex_unlock(&mu);
}

void auth_shutdown(void)
{
	pthread_mutex_lock(&mu);
	for (int b = 0; b < CACHE_BUCKETS; b++) {
		while (cache[b] != NULL) {
			struct cached *c = cache[b];
			cache[b] = c->next;
			free(c);
		}
	}
	pthread_mutex_unlock(&mu);
}

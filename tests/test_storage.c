/* Storage pieces tested directly: migrations, credential sealing, the
 * wire codec's guards, the output log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "db.h"
#include "executions.h"
#include "migrate.h"
#include "secrets.h"
#include "wire.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sbxstore.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* The schema as text: every object's SQL, sorted. */
static char *schema(sqlite3 *db)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT group_concat(sql, ';\n') FROM (SELECT sql FROM sqlite_master"
					    " WHERE sql IS NOT NULL AND name != 'schema_migrations' ORDER BY name)",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(st, 0);
	char *s = strdup(t ? (const char *)t : "");
	sqlite3_finalize(st);
	return s;
}

static int count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_migrations_up_down_up(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/m.db", dir);
	err_t e;
	sqlite3 *db = db_open(path, &e);
	assert_non_null(db);
	assert_int_equal(migrate_up(db, -1, &e), SBX_OK);
	assert_int_equal(migrate_version(db), migrations[migrations_count - 1].version);
	char *first = schema(db);
	assert_true(strlen(first) > 1000);
	assert_int_equal(count(db, "SELECT count(*) FROM providers"), 11);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 5);
	assert_int_equal(count(db, "SELECT count(*) FROM sandbox_settings"), 1);

	assert_int_equal(migrate_down(db, 0, &e), SBX_OK);
	assert_int_equal(migrate_version(db), 0);
	char *empty = schema(db);
	assert_string_equal(empty, "");

	assert_int_equal(migrate_up(db, -1, &e), SBX_OK);
	char *again = schema(db);
	assert_string_equal(first, again);
	assert_int_equal(count(db, "SELECT count(*) FROM providers"), 11);

	/* Stepping: down one, up one. */
	assert_int_equal(migrate_down(db, 1, &e), SBX_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM providers"), 0);
	assert_int_equal(migrate_up(db, -1, &e), SBX_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM agents"), 5);
	free(first);
	free(empty);
	free(again);
	sqlite3_close(db);
}

static void test_schema_checks(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/c.db", dir);
	err_t e;
	sqlite3 *db = db_open(path, &e);
	assert_int_equal(migrate_up(db, -1, &e), SBX_OK);
	/* CHECKs stop a bad value even if code forgot to validate it. */
	int rc = sqlite3_exec(db, "UPDATE sandbox_settings SET default_network_mode = 'bogus'", 0, 0, 0);
	assert_int_equal(db_error(db, rc, "t", &e), SBX_INVALID_ARGUMENT);
	rc = sqlite3_exec(db, "UPDATE sandbox_settings SET blocked_commands = 'not json'", 0, 0, 0);
	assert_int_equal(db_error(db, rc, "t", &e), SBX_INVALID_ARGUMENT);
	rc = sqlite3_exec(db, "UPDATE sandbox_provider_settings SET api_key = 'plaintext-key-that-is-long-enough-0123456789' WHERE provider='e2b'", 0, 0, 0);
	assert_int_equal(db_error(db, rc, "t", &e), SBX_INVALID_ARGUMENT);
	rc = sqlite3_exec(db, "INSERT INTO users(id, name) VALUES('u1','x'),('u2','x')", 0, 0, 0);
	assert_int_equal(db_error(db, rc, "t", &e), SBX_ALREADY_EXISTS);
	sqlite3_close(db);
}

static void test_secrets_roundtrip_and_binding(void **state)
{
	(void)state;
	char key[128];
	snprintf(key, sizeof(key), "%s/secret.key", dir);
	err_t e;
	unsetenv(SECRETS_KEY_ENV);
	assert_int_equal(secrets_init(key, &e), SBX_OK);
	char *sealed = NULL, *plain = NULL;
	assert_int_equal(secrets_seal("e2b", "api_key", "e2b_0123456789abcdef", &sealed, &e), SBX_OK);
	assert_non_null(strstr(sealed, "enc:v1:"));
	assert_null(strstr(sealed, "0123456789abcdef"));
	assert_int_equal(secrets_open("e2b", "api_key", sealed, &plain, &e), SBX_OK);
	assert_string_equal(plain, "e2b_0123456789abcdef");
	secrets_free(plain);
	/* Bound to provider and field: a copied ciphertext does not open. */
	assert_int_equal(secrets_open("modal", "api_key", sealed, &plain, &e), SBX_DATA_LOSS);
	assert_int_equal(secrets_open("e2b", "api_secret", sealed, &plain, &e), SBX_DATA_LOSS);
	/* Tampering is detected. */
	size_t n = strlen(sealed);
	sealed[n - 3] = sealed[n - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(secrets_open("e2b", "api_key", sealed, &plain, &e), SBX_DATA_LOSS);
	free(sealed);
	/* The same key file is read back on the next start. */
	assert_int_equal(secrets_init(key, &e), SBX_OK);
}

static void test_wire_guards(void **state)
{
	(void)state;
	const uint8_t *h, *b;
	size_t hl, bl;
	static const uint8_t huge_len[] = {0xff, 0xff, 0x7f, 0x00};
	assert_int_equal(wire_split(huge_len, sizeof(huge_len), &h, &hl, &b, &bl), -1);
	static const uint8_t ok[] = {0x00, 0x01, 0x02};
	assert_int_equal(wire_split(ok, sizeof(ok), &h, &hl, &b, &bl), 0);
	assert_int_equal(hl, 0);
	assert_int_equal(bl, 2);
	assert_true(wire_utf8_valid("h\xc3\xa9llo", 6));
	assert_false(wire_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(wire_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(wire_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(wire_utf8_valid("\xe2\x82", 2));         /* truncated */
}

static void test_arena_cap(void **state)
{
	(void)state;
	arena *a = arena_new(64 * 1024);
	assert_non_null(arena_alloc(a, 1000));
	assert_null(arena_alloc(a, 128 * 1024));
	assert_true(arena_exhausted(a));
	arena_reset(a);
	assert_false(arena_exhausted(a));
	void **arr = NULL;
	size_t n = 0;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(arena_append(a, &arr, &n, (void *)(intptr_t)(i + 1)), 0);
	}
	for (int i = 0; i < 100; i++) {
		assert_int_equal((intptr_t)arr[i], i + 1);
	}
	arena_free(a);
}

/* Reads the whole output back through output_read, in pieces. */
static size_t read_back(const char *id, unsigned char *into, size_t cap)
{
	size_t got = 0;
	for (;;) {
		arena *a = arena_new(8 << 20);
		Sbx__V1__ReadOutputResponse r = SBX__V1__READ_OUTPUT_RESPONSE__INIT;
		err_t e;
		assert_int_equal(output_read(dir, id, (int64_t)got, 3 << 20, &r, a, &e), SBX_OK);
		size_t before = got;
		for (size_t i = 0; i < r.n_chunks; i++) {
			assert_int_equal(r.chunks[i]->offset, (int64_t)got);
			assert_true(got + r.chunks[i]->data.len <= cap);
			memcpy(into + got, r.chunks[i]->data.data, r.chunks[i]->data.len);
			got += r.chunks[i]->data.len;
		}
		arena_free(a);
		if (got == before) {
			return got;
		}
	}
}

/* Appends of every shape (tiny, unaligned, aligned and large, from
 * aligned and unaligned memory): every byte is readable as soon as its
 * append returns, and the file ends up exactly what was written. */
static void test_output_log_exact(void **state)
{
	(void)state;
	enum { TOTAL = 12 << 20 };
	unsigned char *want = malloc(TOTAL), *got = malloc(TOTAL), *aligned = NULL;
	assert_int_equal(posix_memalign((void **)&aligned, 4096, 2 << 20), 0);
	for (size_t i = 0; i < TOTAL; i++) {
		want[i] = (unsigned char)(i * 2654435761u >> 13);
	}
	err_t e;
	output_log *l = output_open(dir, "ex-shapes", 1 << 30, &e);
	assert_non_null(l);
	static const size_t sizes[] = {1, 7, 4096, 100, 1 << 20, 4095, 3 << 20, 13, 2 << 20, 65536, 5000};
	size_t off = 0;
	uint64_t seq = 0;
	for (size_t k = 0; off < TOTAL; k++) {
		size_t n = sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];
		n = n > TOTAL - off ? TOTAL - off : n;
		const unsigned char *src = want + off;
		if (n <= (2u << 20) && k % 2 == 0) {
			memcpy(aligned, want + off, n);
			src = aligned;
		}
		int64_t at = -1;
		assert_int_equal(output_append(l, ++seq, 1, 0, src, n, &at), 0);
		assert_int_equal(at, (int64_t)off);
		off += n;
		if (k % 5 == 0) {
			size_t r = read_back("ex-shapes", got, TOTAL);
			assert_int_equal(r, off);
			assert_memory_equal(got, want, off);
		}
	}
	assert_int_equal(output_bytes(l), TOTAL);
	output_close(l);
	assert_int_equal(read_back("ex-shapes", got, TOTAL), TOTAL);
	assert_memory_equal(got, want, TOTAL);
	free(want);
	free(got);
	free(aligned);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_up_down_up),
		cmocka_unit_test(test_schema_checks),
		cmocka_unit_test(test_secrets_roundtrip_and_binding),
		cmocka_unit_test(test_wire_guards),
		cmocka_unit_test(test_arena_cap),
		cmocka_unit_test(test_output_log_exact),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("storage", tests, setup, teardown);
}

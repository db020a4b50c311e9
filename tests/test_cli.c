/* The sbx CLI against a real sbxd, plus durability: restart, SIGKILL. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness.h"

static struct daemon d;

static int setup(void **state)
{
	(void)state;
	return harness_start(&d);
}

static int teardown(void **state)
{
	(void)state;
	harness_cleanup(&d);
	return 0;
}

#define CLI(out, err, ...) harness_cli(&d, NULL, out, err, __VA_ARGS__, (char *)NULL)

static void test_health_and_info(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "health"), 0);
	assert_string_equal(out, "SERVING\n");
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "health", "sbx.v1.Sandboxes"), 0);
	assert_string_equal(out, "SERVING\n");
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "health", "sbx.v1.Nothing"), 1);
	assert_non_null(strstr(err, "sbx: NOT_FOUND: service"));
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "info", "--json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "eventAddress")), d.events);
	/* proto3 JSON: int64 as a string. */
	assert_true(json_is_string(json_object_get(j, "maxMessageBytes")));
	json_decref(j);
	free(out);
	free(err);
}

static void test_settings_roundtrip(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "settings", "set", "max_concurrent_local=12",
			     "blocked_commands=[\"rm -rf /\",\"shutdown\"]", "cost_alert_threshold=2.5"),
			 0);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "settings", "get", "max_concurrent_local"), 0);
	assert_string_equal(out, "12\n");
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "settings", "get", "--json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "maxConcurrentLocal")), 12);
	assert_int_equal(json_array_size(json_object_get(j, "blockedCommands")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "updatedBy")), "admin");
	assert_true(json_real_value(json_object_get(j, "costAlertThreshold")) == 2.5);
	json_decref(j);
	free(out);
	free(err);
}

static void test_cli_errors(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "settings", "set", "log_retention_days=0"), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "sbx: INVALID_ARGUMENT: settings.log_retention_days"));
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "providers", "get", "nope"), 1);
	assert_non_null(strstr(err, "sbx: NOT_FOUND: id: no provider"));
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "frobnicate"), 2);
	assert_non_null(strstr(err, "unknown command"));
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, "", &out, &err, "settings", "get", (char *)NULL), 1);
	assert_non_null(strstr(err, "sbx: UNAUTHENTICATED:"));
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, "sbx_bogus", &out, &err, "settings", "get", (char *)NULL), 1);
	assert_non_null(strstr(err, "sbx: UNAUTHENTICATED:"));
	free(out);
	free(err);
}

static void test_credentials_never_leak(void **state)
{
	(void)state;
	const char *secret = "e2b_live_5f3a9c1d7e2b4a6f8091";
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "providers", "configure", "e2b", "--enable", "--api-key",
			     secret, "default_region=eu-west-1"),
			 0);
	assert_null(strstr(out, secret));
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "providers", "get", "e2b", "--json"), 0);
	assert_null(strstr(out, secret));
	json_t *j = json_loads(out, 0, NULL);
	json_t *s = json_object_get(j, "settings");
	assert_true(json_is_true(json_object_get(s, "enabled")));
	assert_true(json_is_true(json_object_get(s, "configured")));
	json_t *key = json_object_get(s, "apiKey");
	assert_true(json_is_true(json_object_get(key, "configured")));
	assert_string_equal(json_string_value(json_object_get(key, "last4")), "8091");
	assert_string_equal(json_string_value(json_object_get(s, "defaultRegion")), "eu-west-1");
	json_decref(j);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "providers", "ls", "--json"), 0);
	assert_null(strstr(out, secret));
	free(out);
	free(err);

	/* Force everything to disk, then look for the plaintext in every file. */
	harness_stop(&d, SIGTERM);
	const char *files[] = {"sbx.db", "sbx.db-wal", "sbx.db-shm", "secret.key", "admin.token"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/data/%s", d.dir, files[i]);
		assert_false(harness_file_contains(path, secret));
		assert_false(harness_file_contains(path, "5f3a9c1d7e2b4a6f"));
	}
	char log[512];
	snprintf(log, sizeof(log), "%s/sbxd.log", d.dir);
	assert_false(harness_file_contains(log, secret));
	assert_int_equal(harness_restart(&d), 0);

	/* Validate answers UNIMPLEMENTED while no driver exists. */
	assert_int_equal(CLI(&out, &err, "providers", "get", "e2b"), 0);
	free(out);
	free(err);
}

static void test_tokens_cli(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "tokens", "create", "--user", "carol"), 0);
	char secret[256];
	snprintf(secret, sizeof(secret), "%s", out);
	secret[strcspn(secret, "\n")] = '\0';
	assert_true(strncmp(secret, "sbx_", 4) == 0);
	free(out);
	free(err);
	/* carol reads; carol may not write settings or manage tokens. */
	assert_int_equal(harness_cli(&d, secret, &out, &err, "agents", "ls", (char *)NULL), 0);
	assert_non_null(strstr(out, "claude"));
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, secret, &out, &err, "settings", "set", "enabled=false", (char *)NULL), 1);
	assert_non_null(strstr(err, "sbx: PERMISSION_DENIED:"));
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, secret, &out, &err, "tokens", "ls", (char *)NULL), 1);
	assert_non_null(strstr(err, "PERMISSION_DENIED"));
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "tokens", "ls", "--json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	json_t *toks = json_object_get(j, "tokens");
	const char *carol_id = NULL;
	size_t i;
	json_t *t;
	json_array_foreach(toks, i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "user")), "carol") == 0) {
			carol_id = json_string_value(json_object_get(t, "id"));
		}
	}
	assert_non_null(carol_id);
	/* The hash, not the secret, is what the database keeps. */
	assert_null(strstr(out, secret));
	char id[64];
	snprintf(id, sizeof(id), "%s", carol_id);
	json_decref(j);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "tokens", "revoke", id), 0);
	free(out);
	free(err);
	assert_int_equal(harness_cli(&d, secret, &out, &err, "agents", "ls", (char *)NULL), 1);
	assert_non_null(strstr(err, "UNAUTHENTICATED"));
	free(out);
	free(err);
}

static void test_agents_and_prices(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "agents", "get", "codex", "--json"), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "defaultModel")), "gpt-5-codex");
	assert_int_equal(json_array_size(json_object_get(j, "models")), 5);
	json_decref(j);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "agents", "set-price", "gpt-5", "input=1.5", "output=12"), 0);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "agents", "models", "codex", "--json"), 0);
	j = json_loads(out, 0, NULL);
	json_t *models = json_object_get(j, "models");
	size_t i;
	json_t *m;
	int seen = 0;
	json_array_foreach(models, i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "id")), "gpt-5") == 0) {
			assert_true(json_real_value(json_object_get(m, "inputPricePerMtok")) == 1.5);
			assert_true(json_real_value(json_object_get(m, "outputPricePerMtok")) == 12);
			assert_string_equal(json_string_value(json_object_get(m, "updatedBy")), "admin");
			seen = 1;
		}
	}
	assert_true(seen);
	json_decref(j);
	free(out);
	free(err);
	assert_int_equal(CLI(&out, &err, "agents", "set-price", "gpt-5", "input=-1"), 1);
	assert_non_null(strstr(err, "model.input_price_per_mtok"));
	free(out);
	free(err);
}

static void test_settings_survive_restart(void **state)
{
	(void)state;
	char *out, *err;
	assert_int_equal(CLI(&out, &err, "settings", "set", "max_runtime_hours=48"), 0);
	free(out);
	free(err);
	harness_stop(&d, SIGTERM);
	assert_int_equal(harness_restart(&d), 0);
	assert_int_equal(CLI(&out, &err, "settings", "get", "max_runtime_hours"), 0);
	assert_string_equal(out, "48\n");
	free(out);
	free(err);
}

struct killer {
	pid_t pid;
	int delay_ms;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = {0, k->delay_ms * 1000000L};
	nanosleep(&ts, NULL);
	kill(k->pid, SIGKILL);
	return NULL;
}

static void test_sigkill_keeps_acknowledged_updates(void **state)
{
	(void)state;
	sbx_client *c = harness_client(&d, NULL);
	assert_non_null(c);
	struct killer k = {d.pid, 300};
	pthread_t th;
	pthread_create(&th, NULL, kill_later, &k);
	int last_ack = 0;
	for (int i = 1; i < 100000; i++) {
		Sbx__V1__SandboxSettings in = SBX__V1__SANDBOX_SETTINGS__INIT;
		in.max_concurrent_cloud = i % 10000;
		char *mask[] = {"max_concurrent_cloud"};
		Sbx__V1__UpdateSettingsRequest u = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
		u.settings = &in;
		u.update_mask = mask;
		u.n_update_mask = 1;
		Sbx__V1__SandboxSettings *out = NULL;
		sbx_call_options o = {.timeout_ms = 1000};
		if (sbx_call(c, "/sbx.v1.Settings/Update", &u.base, (ProtobufCMessage **)&out, &o, NULL) != SBX_OK) {
			break;
		}
		last_ack = out->max_concurrent_cloud;
		sbx_free(out);
	}
	pthread_join(th, NULL);
	sbx_disconnect(c);
	int st;
	waitpid(d.pid, &st, 0);
	d.pid = 0;
	assert_true(last_ack > 0);

	char path[512];
	snprintf(path, sizeof(path), "%s/data/sbx.db", d.dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);

	assert_int_equal(harness_restart(&d), 0);
	c = harness_client(&d, NULL);
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *now = NULL;
	assert_int_equal(sbx_settings_get(c, &req, &now, NULL), SBX_OK);
	/* The last acknowledged update is there; at most the one in flight
	 * when the process died went through too. */
	assert_true(now->max_concurrent_cloud == last_ack || now->max_concurrent_cloud == last_ack + 1);
	sbx_free(now);
	sbx_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_and_info),
		cmocka_unit_test(test_settings_roundtrip),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_credentials_never_leak),
		cmocka_unit_test(test_tokens_cli),
		cmocka_unit_test(test_agents_and_prices),
		cmocka_unit_test(test_settings_survive_restart),
		cmocka_unit_test(test_sigkill_keeps_acknowledged_updates),
	};
	if (getenv("SBX_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("SBX_TEST_FILTER"));
	}
	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}

#include <string.h>

#include "db.h"
#include "rowmap.h"
#include "settings.h"

static const char *const network_modes[] = {"none", "isolated", "host", "custom", NULL};

static sbx_status provider_exists(sqlite3 *db, const ProtobufCMessage *msg,
				  const ProtobufCFieldDescriptor *f, err_t *e)
{
	const char *id = *(char *const *)((const char *)msg + f->offset);
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT 1 FROM providers WHERE id = ?1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW) {
		return SBX_OK;
	}
	return rc == SQLITE_DONE
		       ? err_field(e, SBX_INVALID_ARGUMENT, "settings.default_provider",
				   "unknown provider \"%.64s\" (see `sbx providers ls`)", id)
		       : db_error(db, rc, "providers", e);
}

static sbx_status absolute_paths(sqlite3 *db, const ProtobufCMessage *msg,
				 const ProtobufCFieldDescriptor *f, err_t *e)
{
	(void)db;
	size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
	char *const *v = *(char *const *const *)((const char *)msg + f->offset);
	for (size_t i = 0; i < n; i++) {
		if (v[i][0] != '/' || strstr(v[i], "/../") != NULL) {
			return err_field(e, SBX_INVALID_ARGUMENT, "settings.allowed_volume_roots",
					 "entry %zu must be an absolute path without ..", i);
		}
	}
	return SBX_OK;
}

#define B(n) {#n, F_BOOL, 0, 0, NULL, NULL}
#define I(n, lo, hi) {#n, F_INT, lo, hi, NULL, NULL}
#define R(n, lo, hi) {#n, F_REAL, lo, hi, NULL, NULL}

/* Ranges mirror the CHECK constraints in migrations/0001_initial.up.sql. */
static const field_rule rules[] = {
	B(enabled),
	{"default_provider", F_TEXT, 1, 64, NULL, provider_exists},
	{"default_image", F_TEXT, 1, 512, NULL, NULL},
	I(max_concurrent_local, 0, 10000),
	I(max_concurrent_cloud, 0, 10000),
	I(max_cpu_cores_per_sandbox, 1, 1024),
	I(max_memory_gb_per_sandbox, 1, 65536),
	I(max_disk_gb_per_sandbox, 1, 1048576),
	I(max_gpu_per_sandbox, 0, 64),
	I(auto_stop_idle_minutes, 0, 525600),
	I(max_runtime_hours, 0, 87600),
	I(cleanup_interval_minutes, 1, 10080),
	B(preserve_stopped_sandboxes),
	B(auto_restart_failed),
	I(max_restart_attempts, 0, 100),
	B(cost_tracking_enabled),
	R(cost_alert_threshold, 0, 1e9),
	R(max_cost_per_sandbox, 0, 1e9),
	R(max_total_cost, 0, 1e9),
	B(auto_stop_at_cost_limit),
	{"default_network_mode", F_CHOICE, 0, 0, network_modes, NULL},
	B(allow_public_endpoints),
	B(require_auth_for_web),
	B(allow_privileged_containers),
	B(require_non_root_user),
	B(enable_security_scanning),
	{"allowed_base_images", F_LIST, 0, 256, NULL, NULL},
	{"blocked_commands", F_LIST, 0, 256, NULL, NULL},
	{"allowed_volume_roots", F_LIST, 0, 64, NULL, absolute_paths},
	I(resource_monitoring_interval_seconds, 1, 86400),
	I(health_check_interval_seconds, 1, 86400),
	I(log_retention_days, 1, 3650),
	I(metrics_retention_days, 1, 3650),
	I(max_output_bytes_per_execution, 1024, 17179869184.0),
	B(allow_custom_templates),
	B(require_template_approval),
	B(share_templates_globally),
	{"updated_at", F_READONLY, 0, 0, NULL, NULL},
	{"updated_by", F_READONLY, 0, 0, NULL, NULL},
};

const field_table settings_fields = {
	.table = "sandbox_settings",
	.key_column = "id",
	.rules = rules,
	.n_rules = sizeof(rules) / sizeof(rules[0]),
	.zero_is_null = 0,
	.mask_name = "update_mask",
	.value_prefix = "settings.",
};

sbx_status settings_load(sqlite3 *db, Sbx__V1__SandboxSettings **out, arena *a, err_t *e)
{
	Sbx__V1__SandboxSettings *m =
		ARENA_MSG(a, Sbx__V1__SandboxSettings, sbx__v1__sandbox_settings__init);
	if (m == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	sqlite3_stmt *st;
	sbx_status s = db_prepare(db, "SELECT * FROM sandbox_settings WHERE id = 1", &st, e);
	if (s != SBX_OK) {
		return s;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s = rowmap_read(st, &m->base, a, e);
	} else {
		s = rc == SQLITE_DONE ? err_set(e, SBX_DATA_LOSS, "settings row is missing")
				      : db_error(db, rc, "sandbox_settings", e);
	}
	sqlite3_finalize(st);
	if (s == SBX_OK) {
		*out = m;
	}
	return s;
}

sbx_status settings_update(sqlite3 *db, const Sbx__V1__SandboxSettings *in,
			   char *const *mask, size_t n_mask, const char *actor, err_t *e)
{
	return fields_update(db, &settings_fields, "1", &in->base, mask, n_mask, actor, e);
}

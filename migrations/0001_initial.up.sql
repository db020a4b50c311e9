-- sbx schema, version 1: the whole product's tables.
-- Timestamps are RFC 3339 UTC text; JSON columns are CHECKed with json_valid.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    token_hash    TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the secret
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    created_by    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX idx_api_tokens_user ON api_tokens(user_id);

-- Provider catalogue (seeded from the product's providers.json).
CREATE TABLE providers (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    provider_type   TEXT NOT NULL,
    is_cloud        INTEGER NOT NULL DEFAULT 1 CHECK (is_cloud IN (0, 1)),
    capabilities    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(capabilities)),
    pricing         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(pricing)),
    limits          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(limits)),
    default_config  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(default_config)),
    is_available    INTEGER NOT NULL DEFAULT 1 CHECK (is_available IN (0, 1)),
    requires_auth   INTEGER NOT NULL DEFAULT 1 CHECK (requires_auth IN (0, 1)),
    auth_fields     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(auth_fields)),
    price_per_hour  REAL NOT NULL DEFAULT 0 CHECK (price_per_hour >= 0)
);

CREATE TABLE sandbox_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),

    enabled                     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    default_provider            TEXT NOT NULL DEFAULT 'local' REFERENCES providers(id),
    default_image               TEXT NOT NULL DEFAULT 'host' CHECK (length(default_image) BETWEEN 1 AND 512),

    max_concurrent_local        INTEGER NOT NULL DEFAULT 10 CHECK (max_concurrent_local BETWEEN 0 AND 10000),
    max_concurrent_cloud        INTEGER NOT NULL DEFAULT 50 CHECK (max_concurrent_cloud BETWEEN 0 AND 10000),
    max_cpu_cores_per_sandbox   INTEGER NOT NULL DEFAULT 16 CHECK (max_cpu_cores_per_sandbox BETWEEN 1 AND 1024),
    max_memory_gb_per_sandbox   INTEGER NOT NULL DEFAULT 64 CHECK (max_memory_gb_per_sandbox BETWEEN 1 AND 65536),
    max_disk_gb_per_sandbox     INTEGER NOT NULL DEFAULT 100 CHECK (max_disk_gb_per_sandbox BETWEEN 1 AND 1048576),
    max_gpu_per_sandbox         INTEGER NOT NULL DEFAULT 1 CHECK (max_gpu_per_sandbox BETWEEN 0 AND 64),

    auto_stop_idle_minutes      INTEGER NOT NULL DEFAULT 120 CHECK (auto_stop_idle_minutes BETWEEN 0 AND 525600),
    max_runtime_hours           INTEGER NOT NULL DEFAULT 24 CHECK (max_runtime_hours BETWEEN 0 AND 87600),
    cleanup_interval_minutes    INTEGER NOT NULL DEFAULT 10 CHECK (cleanup_interval_minutes BETWEEN 1 AND 10080),
    preserve_stopped_sandboxes  INTEGER NOT NULL DEFAULT 0 CHECK (preserve_stopped_sandboxes IN (0, 1)),
    auto_restart_failed         INTEGER NOT NULL DEFAULT 0 CHECK (auto_restart_failed IN (0, 1)),
    max_restart_attempts        INTEGER NOT NULL DEFAULT 3 CHECK (max_restart_attempts BETWEEN 0 AND 100),

    cost_tracking_enabled       INTEGER NOT NULL DEFAULT 1 CHECK (cost_tracking_enabled IN (0, 1)),
    cost_alert_threshold        REAL NOT NULL DEFAULT 10.00 CHECK (cost_alert_threshold >= 0),
    max_cost_per_sandbox        REAL NOT NULL DEFAULT 50.00 CHECK (max_cost_per_sandbox >= 0),
    max_total_cost              REAL NOT NULL DEFAULT 500.00 CHECK (max_total_cost >= 0),
    auto_stop_at_cost_limit     INTEGER NOT NULL DEFAULT 1 CHECK (auto_stop_at_cost_limit IN (0, 1)),

    default_network_mode        TEXT NOT NULL DEFAULT 'isolated' CHECK (default_network_mode IN ('none', 'isolated', 'host', 'custom')),
    allow_public_endpoints      INTEGER NOT NULL DEFAULT 0 CHECK (allow_public_endpoints IN (0, 1)),
    require_auth_for_web        INTEGER NOT NULL DEFAULT 1 CHECK (require_auth_for_web IN (0, 1)),

    allow_privileged_containers INTEGER NOT NULL DEFAULT 0 CHECK (allow_privileged_containers IN (0, 1)),
    require_non_root_user       INTEGER NOT NULL DEFAULT 1 CHECK (require_non_root_user IN (0, 1)),
    enable_security_scanning    INTEGER NOT NULL DEFAULT 1 CHECK (enable_security_scanning IN (0, 1)),
    allowed_base_images         TEXT CHECK (allowed_base_images IS NULL OR (json_valid(allowed_base_images) AND json_type(allowed_base_images) = 'array')),
    blocked_commands            TEXT CHECK (blocked_commands IS NULL OR (json_valid(blocked_commands) AND json_type(blocked_commands) = 'array')),
    allowed_volume_roots        TEXT CHECK (allowed_volume_roots IS NULL OR (json_valid(allowed_volume_roots) AND json_type(allowed_volume_roots) = 'array')),

    resource_monitoring_interval_seconds INTEGER NOT NULL DEFAULT 30 CHECK (resource_monitoring_interval_seconds BETWEEN 1 AND 86400),
    health_check_interval_seconds        INTEGER NOT NULL DEFAULT 60 CHECK (health_check_interval_seconds BETWEEN 1 AND 86400),
    log_retention_days                   INTEGER NOT NULL DEFAULT 7 CHECK (log_retention_days BETWEEN 1 AND 3650),
    metrics_retention_days               INTEGER NOT NULL DEFAULT 30 CHECK (metrics_retention_days BETWEEN 1 AND 3650),
    max_output_bytes_per_execution       INTEGER NOT NULL DEFAULT 268435456 CHECK (max_output_bytes_per_execution BETWEEN 1024 AND 17179869184),

    allow_custom_templates      INTEGER NOT NULL DEFAULT 1 CHECK (allow_custom_templates IN (0, 1)),
    require_template_approval   INTEGER NOT NULL DEFAULT 0 CHECK (require_template_approval IN (0, 1)),
    share_templates_globally    INTEGER NOT NULL DEFAULT 0 CHECK (share_templates_globally IN (0, 1)),

    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by TEXT
);

CREATE TABLE sandbox_provider_settings (
    provider TEXT PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE
        CHECK (provider IN ('local', 'docker', 'beam', 'cloudflare', 'daytona', 'e2b', 'flyio', 'modal', 'northflank', 'vercel', 'dagger')),

    enabled          INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    configured       INTEGER NOT NULL DEFAULT 0 CHECK (configured IN (0, 1)),
    validated_at     TEXT,
    validation_error TEXT,

    -- Credentials: "enc:v1:" + base64(nonce | XChaCha20-Poly1305 ciphertext),
    -- associated data "<provider>/<column>".
    api_key      TEXT CHECK (api_key IS NULL OR (length(api_key) >= 38 AND api_key LIKE 'enc:v1:%')),
    api_secret   TEXT CHECK (api_secret IS NULL OR (length(api_secret) >= 38 AND api_secret LIKE 'enc:v1:%')),
    api_endpoint TEXT,

    workspace_id    TEXT,
    project_id      TEXT,
    account_id      TEXT,
    organization_id TEXT,
    app_name        TEXT,
    namespace_id    TEXT,

    default_region        TEXT,
    default_instance_type TEXT,
    default_image         TEXT,

    default_cpu_cores REAL CHECK (default_cpu_cores IS NULL OR default_cpu_cores > 0),
    default_memory_mb INTEGER CHECK (default_memory_mb IS NULL OR default_memory_mb > 0),
    default_disk_gb   INTEGER CHECK (default_disk_gb IS NULL OR default_disk_gb > 0),
    default_gpu_type  TEXT,

    cost_per_hour      REAL CHECK (cost_per_hour IS NULL OR cost_per_hour >= 0),
    cost_per_gb_memory REAL CHECK (cost_per_gb_memory IS NULL OR cost_per_gb_memory >= 0),
    cost_per_vcpu      REAL CHECK (cost_per_vcpu IS NULL OR cost_per_vcpu >= 0),
    cost_per_gpu_hour  REAL CHECK (cost_per_gpu_hour IS NULL OR cost_per_gpu_hour >= 0),

    max_sandboxes     INTEGER CHECK (max_sandboxes IS NULL OR max_sandboxes >= 0),
    max_runtime_hours INTEGER CHECK (max_runtime_hours IS NULL OR max_runtime_hours >= 0),
    max_total_cost    REAL CHECK (max_total_cost IS NULL OR max_total_cost >= 0),

    custom_config TEXT CHECK (custom_config IS NULL OR (json_valid(custom_config) AND json_type(custom_config) = 'object')),

    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by TEXT
);

CREATE TRIGGER sandbox_settings_updated_at AFTER UPDATE ON sandbox_settings
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE sandbox_settings SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;
END;

CREATE TRIGGER sandbox_provider_settings_updated_at AFTER UPDATE ON sandbox_provider_settings
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE sandbox_provider_settings SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE provider = NEW.provider;
END;

-- Agents and models (seeded from the product's agents.json; prices in USD
-- per million tokens live on the models so a price change is a settings edit).
CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    provider            TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    capabilities        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(capabilities)),
    supported_providers TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(supported_providers)),
    default_model       TEXT NOT NULL,
    system_prompt       TEXT NOT NULL DEFAULT '',
    temperature_min     REAL NOT NULL DEFAULT 0,
    temperature_max     REAL NOT NULL DEFAULT 1,
    default_temperature REAL NOT NULL DEFAULT 0.7,
    max_tokens          INTEGER NOT NULL DEFAULT 0,
    max_context         INTEGER NOT NULL DEFAULT 0,
    is_available        INTEGER NOT NULL DEFAULT 1 CHECK (is_available IN (0, 1)),
    requires_auth       INTEGER NOT NULL DEFAULT 1 CHECK (requires_auth IN (0, 1)),
    auth_type           TEXT NOT NULL DEFAULT 'api_key',
    cli_package         TEXT NOT NULL DEFAULT '',
    api_key_env         TEXT NOT NULL DEFAULT '',
    CHECK (temperature_min <= default_temperature AND default_temperature <= temperature_max)
);

CREATE TABLE models (
    id                          TEXT PRIMARY KEY,
    provider                    TEXT NOT NULL,
    display_name                TEXT NOT NULL DEFAULT '',
    input_price_per_mtok        REAL NOT NULL DEFAULT 0 CHECK (input_price_per_mtok >= 0),
    output_price_per_mtok       REAL NOT NULL DEFAULT 0 CHECK (output_price_per_mtok >= 0),
    cached_input_price_per_mtok REAL NOT NULL DEFAULT 0 CHECK (cached_input_price_per_mtok >= 0),
    cache_write_price_per_mtok  REAL NOT NULL DEFAULT 0 CHECK (cache_write_price_per_mtok >= 0),
    context_window              INTEGER NOT NULL DEFAULT 0,
    updated_at                  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by                  TEXT
);

CREATE TABLE agent_models (
    agent_id  TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    model_id  TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, model_id)
);

CREATE TABLE templates (
    name           TEXT NOT NULL,
    owner_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description    TEXT NOT NULL DEFAULT '',
    provider       TEXT REFERENCES providers(id),
    image          TEXT,
    cpu_cores      REAL,
    memory_mb      INTEGER,
    disk_gb        INTEGER,
    pids_max       INTEGER,
    env            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(env)),
    labels         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    network_mode   TEXT CHECK (network_mode IS NULL OR network_mode IN ('none', 'isolated', 'host', 'custom')),
    setup_commands TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(setup_commands)),
    shared         INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    approved       INTEGER NOT NULL DEFAULT 1 CHECK (approved IN (0, 1)),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (owner_id, name)
);

CREATE TABLE sandboxes (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    owner_id         TEXT NOT NULL REFERENCES users(id),
    provider         TEXT NOT NULL REFERENCES providers(id),
    image            TEXT NOT NULL,
    template         TEXT,
    status           TEXT NOT NULL DEFAULT 'creating'
        CHECK (status IN ('creating', 'running', 'paused', 'stopped', 'error', 'terminated', 'dead')),
    status_message   TEXT,
    cpu_cores        REAL,
    memory_mb        INTEGER,
    disk_gb          INTEGER,
    pids_max         INTEGER,
    gpu_count        INTEGER NOT NULL DEFAULT 0,
    labels           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    network_mode     TEXT NOT NULL DEFAULT 'isolated' CHECK (network_mode IN ('none', 'isolated', 'host', 'custom')),
    ttl_seconds      INTEGER NOT NULL DEFAULT 0 CHECK (ttl_seconds >= 0),
    provider_ref     TEXT,                   -- container id, init pid, cloud id
    provider_state   TEXT CHECK (provider_state IS NULL OR json_valid(provider_state)),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_at       TEXT,
    stopped_at       TEXT,
    last_activity_at TEXT,
    expires_at       TEXT,
    terminated_at    TEXT,
    restart_count    INTEGER NOT NULL DEFAULT 0,
    token_cost_usd   REAL NOT NULL DEFAULT 0,
    runtime_cost_usd REAL NOT NULL DEFAULT 0
);
CREATE INDEX idx_sandboxes_owner ON sandboxes(owner_id);
CREATE INDEX idx_sandboxes_status ON sandboxes(status);
CREATE INDEX idx_sandboxes_provider ON sandboxes(provider);
-- One live sandbox per (owner, name): terminated ones free the name.
CREATE UNIQUE INDEX idx_sandboxes_owner_name ON sandboxes(owner_id, name) WHERE status != 'terminated';

CREATE TABLE sandbox_env_vars (
    sandbox_id TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    is_secret  INTEGER NOT NULL DEFAULT 0 CHECK (is_secret IN (0, 1)),
    PRIMARY KEY (sandbox_id, name)
);

CREATE TABLE sandbox_volumes (
    sandbox_id     TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    host_path      TEXT NOT NULL,
    container_path TEXT NOT NULL,
    read_only      INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
    PRIMARY KEY (sandbox_id, container_path)
);

CREATE TABLE sandbox_executions (
    id                  TEXT PRIMARY KEY,
    sandbox_id          TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    owner_id            TEXT REFERENCES users(id),
    command             TEXT NOT NULL,
    argv                TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(argv)),
    working_dir         TEXT,
    status              TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted')),
    exit_code           INTEGER,
    signal              INTEGER,
    error               TEXT,
    agent               TEXT REFERENCES agents(id),
    model               TEXT,
    input_tokens        INTEGER,
    output_tokens       INTEGER,
    cached_input_tokens INTEGER,
    cache_write_tokens  INTEGER,
    tokens_known        INTEGER NOT NULL DEFAULT 0 CHECK (tokens_known IN (0, 1)),
    cost_usd            REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    cost_source         TEXT,
    duration_ms         INTEGER,
    output_bytes        INTEGER NOT NULL DEFAULT 0,
    output_truncated    INTEGER NOT NULL DEFAULT 0 CHECK (output_truncated IN (0, 1)),
    output_location     TEXT,
    runner_pid          INTEGER,
    started_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at         TEXT
);
CREATE INDEX idx_executions_sandbox ON sandbox_executions(sandbox_id, started_at);
CREATE INDEX idx_executions_status ON sandbox_executions(status);
CREATE INDEX idx_executions_agent ON sandbox_executions(agent, model);
CREATE INDEX idx_executions_started ON sandbox_executions(started_at);

CREATE TABLE sandbox_metrics (
    sandbox_id     TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    recorded_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    cpu_usage_ns   INTEGER,
    cpu_percent    REAL,
    memory_bytes   INTEGER,
    memory_limit   INTEGER,
    pids           INTEGER,
    disk_bytes     INTEGER,
    net_rx_bytes   INTEGER,
    net_tx_bytes   INTEGER,
    PRIMARY KEY (sandbox_id, recorded_at)
);

-- Answers to writes, keyed by the caller's idempotency key: a replay gets
-- the stored answer and the write is not applied twice.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    method       TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    code         INTEGER NOT NULL,
    reply        BLOB NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_idempotency_created ON idempotency_keys(created_at);

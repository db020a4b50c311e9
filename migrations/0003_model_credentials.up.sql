-- API keys of the model vendors agents call, sealed like provider
-- credentials ("enc:v1:...", associated data "model/<provider>/api_key").
CREATE TABLE model_credentials (
    provider   TEXT PRIMARY KEY CHECK (provider IN ('anthropic', 'openai', 'google', 'xai')),
    api_key    TEXT CHECK (api_key IS NULL OR (length(api_key) >= 38 AND api_key LIKE 'enc:v1:%')),
    base_url   TEXT CHECK (base_url IS NULL OR base_url LIKE 'http://%' OR base_url LIKE 'https://%'),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by TEXT
);
INSERT INTO model_credentials (provider) VALUES ('anthropic'), ('openai'), ('google'), ('xai');

-- Which vendor key each agent's CLI needs when the model does not say.
CREATE INDEX idx_models_provider ON models(provider);

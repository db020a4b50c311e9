DROP INDEX IF EXISTS idx_models_provider;
DROP TABLE IF EXISTS model_credentials;

DELETE FROM agent_models;
DELETE FROM agents;
DELETE FROM models;
DELETE FROM sandbox_provider_settings;
DELETE FROM sandbox_settings;
DELETE FROM providers;

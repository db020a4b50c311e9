/* sbx agents ls|get|models|set-price */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static char **model_row(struct cli *c, const Sbx__V1__Model *m)
{
	char **row = arena_alloc(c->arena, 6 * sizeof(char *));
	row[0] = m->id;
	row[1] = m->provider;
	row[2] = arena_printf(c->arena, "%g", m->input_price_per_mtok);
	row[3] = arena_printf(c->arena, "%g", m->output_price_per_mtok);
	row[4] = arena_printf(c->arena, "%g", m->cached_input_price_per_mtok);
	row[5] = arena_printf(c->arena, "%lld", (long long)m->context_window);
	return row;
}

static void models_table(struct cli *c, Sbx__V1__Model **models, size_t n)
{
	static const char *const h[] = {"MODEL", "PROVIDER", "$IN/MTOK", "$OUT/MTOK", "$CACHED/MTOK", "CONTEXT"};
	char ***rows = arena_alloc(c->arena, (n + 1) * sizeof(char **));
	for (size_t i = 0; rows && i < n; i++) {
		rows[i] = model_row(c, models[i]);
	}
	cli_table(h, 6, rows, n);
}

static int ls(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		return cli_usage("agents ls", "no arguments expected");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListAgentsRequest req = SBX__V1__LIST_AGENTS_REQUEST__INIT;
	Sbx__V1__ListAgentsResponse *r = NULL;
	sbx_error e;
	if (sbx_agents_list(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
		sbx_free(r);
		return 0;
	}
	static const char *const h[] = {"ID", "NAME", "PROVIDER", "DEFAULT MODEL", "MODELS", "CLI"};
	char ***rows = arena_alloc(c->arena, (r->n_agents + 1) * sizeof(char **));
	for (size_t i = 0; rows && i < r->n_agents; i++) {
		Sbx__V1__Agent *a = r->agents[i];
		char **row = arena_alloc(c->arena, 6 * sizeof(char *));
		row[0] = a->id;
		row[1] = a->name;
		row[2] = a->provider;
		row[3] = a->default_model;
		row[4] = arena_printf(c->arena, "%zu", a->n_models);
		row[5] = a->cli_package;
		rows[i] = row;
	}
	cli_table(h, 6, rows, r->n_agents);
	sbx_free(r);
	return 0;
}

static int get(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("agents get ID", "name one agent (see `sbx agents ls`)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__GetAgentRequest req = SBX__V1__GET_AGENT_REQUEST__INIT;
	req.id = argv[1];
	Sbx__V1__Agent *a = NULL;
	sbx_error e;
	if (sbx_agents_get(c->client, &req, &a, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&a->base);
		sbx_free(a);
		return 0;
	}
	size_t n = a->n_models;
	Sbx__V1__Model **models = a->models;
	a->n_models = 0; /* printed as a table below */
	cli_print_fields(&a->base, "");
	a->n_models = n;
	printf("\n");
	models_table(c, models, n);
	sbx_free(a);
	return 0;
}

static int models(struct cli *c, int argc, char **argv)
{
	if (argc > 2) {
		return cli_usage("agents models [AGENT]", "too many arguments");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListModelsRequest req = SBX__V1__LIST_MODELS_REQUEST__INIT;
	req.agent = argc == 2 ? argv[1] : "";
	Sbx__V1__ListModelsResponse *r = NULL;
	sbx_error e;
	if (sbx_agents_list_models(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
	} else {
		models_table(c, r->models, r->n_models);
	}
	sbx_free(r);
	return 0;
}

/* Short names accepted for the price fields. */
static const char *price_field(const char *k)
{
	static const char *const alias[][2] = {
		{"input", "input_price_per_mtok"},
		{"output", "output_price_per_mtok"},
		{"cached", "cached_input_price_per_mtok"},
		{"cache_write", "cache_write_price_per_mtok"},
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcmp(k, alias[i][0]) == 0) {
			return alias[i][1];
		}
	}
	return k;
}

static int set_price(struct cli *c, int argc, char **argv)
{
	static const char *usage = "agents set-price MODEL input=USD output=USD [cached=USD] [cache_write=USD]";
	if (argc < 3) {
		return cli_usage(usage, "name a model and at least one price (USD per million tokens)");
	}
	Sbx__V1__Model *m = ARENA_MSG(c->arena, Sbx__V1__Model, sbx__v1__model__init);
	Sbx__V1__UpdateModelRequest req = SBX__V1__UPDATE_MODEL_REQUEST__INIT;
	req.id = argv[1];
	req.model = m;
	char *mask[16];
	size_t n = 0;
	for (int i = 2; i < argc && n < 16; i++) {
		char key[128], why[256];
		const char *val;
		if (cli_split_kv(argv[i], key, sizeof(key), &val) != 0) {
			return cli_usage(usage, "expected KEY=VALUE, got \"%s\"", argv[i]);
		}
		const char *field = price_field(key);
		if (cli_set_field(&m->base, field, val, c->arena, why, sizeof(why)) != 0) {
			fprintf(stderr, "sbx: INVALID_ARGUMENT: %s\n", why);
			return 1;
		}
		mask[n++] = (char *)field;
	}
	req.update_mask = mask;
	req.n_update_mask = n;
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Model *out = NULL;
	sbx_error e;
	if (sbx_agents_update_model(c->client, &req, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
	} else {
		models_table(c, &out, 1);
	}
	sbx_free(out);
	return 0;
}

static int set_key(struct cli *c, int argc, char **argv)
{
	static const char *usage = "agents set-key VENDOR --api-key KEY|- [--base-url URL]";
	if (argc < 2 || argv[1][0] == '-') {
		return cli_usage(usage, "name the vendor: anthropic, openai, google or xai");
	}
	Sbx__V1__SetModelCredentialRequest r = SBX__V1__SET_MODEL_CREDENTIAL_REQUEST__INIT;
	r.provider = argv[1];
	int have_key = 0;
	char keybuf[8192];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--api-key") == 0 && i + 1 < argc) {
			r.api_key = argv[++i];
			if (strcmp(r.api_key, "-") == 0) {
				if (fgets(keybuf, sizeof(keybuf), stdin) == NULL) {
					keybuf[0] = '\0';
				}
				keybuf[strcspn(keybuf, "\r\n")] = '\0';
				r.api_key = keybuf;
			}
			have_key = 1;
		} else if (strcmp(argv[i], "--base-url") == 0 && i + 1 < argc) {
			r.base_url = argv[++i];
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!have_key) {
		return cli_usage(usage, "--api-key is required (\"\" clears the key)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ModelCredential *out = NULL;
	sbx_error e;
	sbx_status s = sbx_agents_set_credential(c->client, &r, &out, &e);
	memset(keybuf, 0, sizeof(keybuf));
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
	} else {
		printf("%s: %s%s%s\n", out->provider, out->configured ? "configured" : "no key",
		       out->last4[0] ? ", ends in " : "", out->last4);
	}
	sbx_free(out);
	return 0;
}

static int keys(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		return cli_usage("agents keys", "no arguments expected");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListModelCredentialsRequest r = SBX__V1__LIST_MODEL_CREDENTIALS_REQUEST__INIT;
	Sbx__V1__ListModelCredentialsResponse *out = NULL;
	sbx_error e;
	if (sbx_agents_list_credentials(c->client, &r, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
		sbx_free(out);
		return 0;
	}
	static const char *const h[] = {"VENDOR", "KEY", "BASE URL", "UPDATED", "BY"};
	char ***rows = arena_alloc(c->arena, (out->n_credentials + 1) * sizeof(char **));
	for (size_t i = 0; i < out->n_credentials; i++) {
		Sbx__V1__ModelCredential *k = out->credentials[i];
		char **row = arena_alloc(c->arena, 5 * sizeof(char *));
		row[0] = k->provider;
		row[1] = k->configured ? arena_printf(c->arena, "configured%s%s", k->last4[0] ? " ...": "", k->last4) : "-";
		row[2] = k->base_url;
		row[3] = k->updated_at;
		row[4] = k->updated_by;
		rows[i] = row;
	}
	cli_table(h, 5, rows, out->n_credentials);
	sbx_free(out);
	return 0;
}

static const struct cli_command cmds[] = {
	{"ls", ls, "agents ls", "the agent registry"},
	{"set-key", set_key, "agents set-key VENDOR --api-key KEY|-", "a model vendor's API key (admin)"},
	{"keys", keys, "agents keys", "which vendor keys are configured (admin)"},
	{"get", get, "agents get ID", "one agent with its models and prices"},
	{"models", models, "agents models [AGENT]", "models and prices"},
	{"set-price", set_price, "agents set-price MODEL KEY=USD...", "change a model's prices (admin)"},
	{NULL, NULL, NULL, NULL},
};

int cmd_agents(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "agents", cmds, argc, argv);
}

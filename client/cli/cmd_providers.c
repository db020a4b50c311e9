/* sbx providers ls|get|configure */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const char *yes_no(int b)
{
	return b ? "yes" : "no";
}

static int ls(struct cli *c, int argc, char **argv)
{
	Sbx__V1__ListProvidersRequest req = SBX__V1__LIST_PROVIDERS_REQUEST__INIT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--enabled") == 0) {
			req.enabled_only = 1;
		} else {
			return cli_usage("providers ls [--enabled]", "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListProvidersResponse *r = NULL;
	sbx_error e;
	if (sbx_providers_list(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
		sbx_free(r);
		return 0;
	}
	static const char *const h[] = {"ID", "NAME", "TYPE", "ENABLED", "CONFIGURED", "DRIVER", "$/HOUR"};
	char ***rows = arena_alloc(c->arena, (r->n_providers + 1) * sizeof(char **));
	for (size_t i = 0; rows && i < r->n_providers; i++) {
		Sbx__V1__Provider *p = r->providers[i];
		char **row = arena_alloc(c->arena, 7 * sizeof(char *));
		row[0] = p->id;
		row[1] = p->name;
		row[2] = p->provider_type;
		row[3] = (char *)yes_no(p->settings && p->settings->enabled);
		row[4] = (char *)yes_no(p->settings && p->settings->configured);
		row[5] = p->implemented ? "ready" : "not in this build";
		row[6] = arena_printf(c->arena, "%g", p->price_per_hour);
		rows[i] = row;
	}
	cli_table(h, 7, rows, r->n_providers);
	sbx_free(r);
	return 0;
}

static int get(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("providers get ID", "name one provider (see `sbx providers ls`)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__GetProviderRequest req = SBX__V1__GET_PROVIDER_REQUEST__INIT;
	req.id = argv[1];
	Sbx__V1__Provider *p = NULL;
	sbx_error e;
	if (sbx_providers_get(c->client, &req, &p, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&p->base);
	} else {
		cli_print_fields(&p->base, "");
	}
	sbx_free(p);
	return 0;
}

/* A credential value "-" is read from stdin (keeps it out of shell history
 * and process listings). */
static const char *credential(struct cli *c, const char *v)
{
	if (strcmp(v, "-") != 0) {
		return v;
	}
	char buf[8192];
	if (fgets(buf, sizeof(buf), stdin) == NULL) {
		return "";
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return arena_strdup(c->arena, buf);
}

static int configure(struct cli *c, int argc, char **argv)
{
	static const char *usage =
		"providers configure ID [--enable|--disable] [--api-key KEY|-] [--api-secret S|-] [FIELD=VALUE...]";
	if (argc < 2 || argv[1][0] == '-') {
		return cli_usage(usage, "name the provider first");
	}
	Sbx__V1__ProviderSettings *s =
		ARENA_MSG(c->arena, Sbx__V1__ProviderSettings, sbx__v1__provider_settings__init);
	Sbx__V1__UpdateProviderRequest req = SBX__V1__UPDATE_PROVIDER_REQUEST__INIT;
	req.id = argv[1];
	req.settings = s;
	char *mask[64];
	size_t n = 0;
	for (int i = 2; i < argc && n < 64; i++) {
		const char *a = argv[i];
		char key[128], why[256];
		const char *val;
		if (strcmp(a, "--enable") == 0 || strcmp(a, "--disable") == 0) {
			s->enabled = a[2] == 'e';
			mask[n++] = "enabled";
		} else if (strcmp(a, "--api-key") == 0 && i + 1 < argc) {
			req.api_key = (char *)credential(c, argv[++i]);
			mask[n++] = "api_key";
		} else if (strcmp(a, "--api-secret") == 0 && i + 1 < argc) {
			req.api_secret = (char *)credential(c, argv[++i]);
			mask[n++] = "api_secret";
		} else if (cli_split_kv(a, key, sizeof(key), &val) == 0) {
			if (strcmp(key, "api_key") == 0 || strcmp(key, "api_secret") == 0) {
				return cli_usage(usage, "pass credentials with --%s (or - to read stdin)",
						 key[4] == 'k' ? "api-key" : "api-secret");
			}
			if (cli_set_field(&s->base, key, val, c->arena, why, sizeof(why)) != 0) {
				fprintf(stderr, "sbx: INVALID_ARGUMENT: %s\n", why);
				return 1;
			}
			mask[n++] = arena_strdup(c->arena, key);
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", a);
		}
	}
	if (n == 0) {
		return cli_usage(usage, "nothing to change");
	}
	req.update_mask = mask;
	req.n_update_mask = n;
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__Provider *p = NULL;
	sbx_error e;
	if (sbx_providers_update(c->client, &req, &p, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&p->base);
	} else {
		cli_print_fields(&p->settings->base, "");
	}
	sbx_free(p);
	return 0;
}

static int validate(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("providers validate ID", "name one provider");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ValidateProviderRequest r = SBX__V1__VALIDATE_PROVIDER_REQUEST__INIT;
	r.id = argv[1];
	Sbx__V1__ValidateProviderResponse *out = NULL;
	sbx_error e;
	if (sbx_providers_validate(c->client, &r, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&out->base);
	} else {
		printf("%s: %s\n", out->ok ? "ok" : "failed", out->message);
	}
	int rc = out->ok ? 0 : 1;
	sbx_free(out);
	return rc;
}

static const struct cli_command cmds[] = {
	{"ls", ls, "providers ls [--enabled]", "the provider catalogue"},
	{"validate", validate, "providers validate ID", "check credentials and reachability (admin)"},
	{"get", get, "providers get ID", "one provider with its settings"},
	{"configure", configure, "providers configure ID [flags] [FIELD=VALUE...]",
	 "settings and credentials (admin)"},
	{NULL, NULL, NULL, NULL},
};

int cmd_providers(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "providers", cmds, argc, argv);
}

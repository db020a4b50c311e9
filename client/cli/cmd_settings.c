/* sbx settings get [KEY...] | set KEY=VALUE... */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int print_keys(struct cli *c, const Sbx__V1__SandboxSettings *s, int n, char **keys,
		      int named)
{
	if (c->json || n == 0) {
		if (c->json) {
			cli_print_json(&s->base);
		} else {
			cli_print_fields(&s->base, "");
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(s->base.descriptor, keys[i]);
		if (f == NULL) {
			fprintf(stderr, "sbx: INVALID_ARGUMENT: unknown setting \"%s\"\n", keys[i]);
			return 1;
		}
		char val[4096];
		cli_field_text(&s->base, f, val, sizeof(val));
		if (n == 1 && !named) {
			printf("%s\n", val);
		} else {
			printf("%-40s %s\n", keys[i], val);
		}
	}
	return 0;
}

static int get(struct cli *c, int argc, char **argv)
{
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__GetSettingsRequest req = SBX__V1__GET_SETTINGS_REQUEST__INIT;
	Sbx__V1__SandboxSettings *s = NULL;
	sbx_error e;
	if (sbx_settings_get(c->client, &req, &s, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	int rc = print_keys(c, s, argc - 1, argv + 1, 0);
	sbx_free(s);
	return rc;
}

static int set(struct cli *c, int argc, char **argv)
{
	static const char *usage = "settings set KEY=VALUE...";
	if (argc < 2) {
		return cli_usage(usage, "name at least one KEY=VALUE (see `sbx settings get`)");
	}
	Sbx__V1__SandboxSettings *in =
		ARENA_MSG(c->arena, Sbx__V1__SandboxSettings, sbx__v1__sandbox_settings__init);
	Sbx__V1__UpdateSettingsRequest req = SBX__V1__UPDATE_SETTINGS_REQUEST__INIT;
	req.settings = in;
	char *keys[64];
	int n = 0;
	for (int i = 1; i < argc; i++) {
		char key[128], why[256];
		const char *val;
		if (n == 64 || cli_split_kv(argv[i], key, sizeof(key), &val) != 0) {
			return cli_usage(usage, "expected KEY=VALUE, got \"%s\"", argv[i]);
		}
		if (cli_set_field(&in->base, key, val, c->arena, why, sizeof(why)) != 0) {
			fprintf(stderr, "sbx: INVALID_ARGUMENT: %s\n", why);
			return 1;
		}
		keys[n++] = arena_strdup(c->arena, key);
	}
	req.update_mask = keys;
	req.n_update_mask = (size_t)n;
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__SandboxSettings *out = NULL;
	sbx_error e;
	if (sbx_settings_update(c->client, &req, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	int rc = print_keys(c, out, n, keys, 1);
	sbx_free(out);
	return rc;
}

static const struct cli_command cmds[] = {
	{"get", get, "settings get [KEY...]", "show all settings, or the named ones"},
	{"set", set, "settings set KEY=VALUE...", "change settings (admin); applies at once"},
	{NULL, NULL, NULL, NULL},
};

int cmd_settings(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "settings", cmds, argc, argv);
}

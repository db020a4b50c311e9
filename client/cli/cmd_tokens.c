/* sbx tokens create|ls|revoke */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int create(struct cli *c, int argc, char **argv)
{
	static const char *usage = "tokens create --user NAME [--admin] [--name LABEL]";
	Sbx__V1__CreateTokenRequest req = SBX__V1__CREATE_TOKEN_REQUEST__INIT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			req.user = argv[++i];
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			req.name = argv[++i];
		} else if (strcmp(argv[i], "--admin") == 0) {
			req.admin = 1;
		} else {
			return cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (req.user[0] == '\0') {
		return cli_usage(usage, "--user is required");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__CreateTokenResponse *r = NULL;
	sbx_error e;
	if (sbx_tokens_create(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
	} else {
		printf("%s\n", r->secret);
		fprintf(stderr, "token %s for user %s%s: store the secret above now, it is not shown again\n",
			r->token->id, r->token->user, r->token->admin ? " (admin)" : "");
	}
	sbx_free(r);
	return 0;
}

static int ls(struct cli *c, int argc, char **argv)
{
	Sbx__V1__ListTokensRequest req = SBX__V1__LIST_TOKENS_REQUEST__INIT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			req.user = argv[++i];
		} else if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0) {
			req.include_revoked = 1;
		} else {
			return cli_usage("tokens ls [--user NAME] [--all]", "unexpected argument \"%s\"",
					 argv[i]);
		}
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__ListTokensResponse *r = NULL;
	sbx_error e;
	if (sbx_tokens_list(c->client, &req, &r, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&r->base);
		sbx_free(r);
		return 0;
	}
	static const char *const h[] = {"ID", "USER", "ADMIN", "NAME", "CREATED", "LAST USED", "REVOKED"};
	char ***rows = arena_alloc(c->arena, (r->n_tokens + 1) * sizeof(char **));
	for (size_t i = 0; rows && i < r->n_tokens; i++) {
		Sbx__V1__Token *t = r->tokens[i];
		char **row = arena_alloc(c->arena, 7 * sizeof(char *));
		row[0] = t->id;
		row[1] = t->user;
		row[2] = t->admin ? "yes" : "no";
		row[3] = t->name;
		row[4] = t->created_at;
		row[5] = t->last_used_at;
		row[6] = t->revoked_at;
		rows[i] = row;
	}
	cli_table(h, 7, rows, r->n_tokens);
	sbx_free(r);
	return 0;
}

static int revoke(struct cli *c, int argc, char **argv)
{
	if (argc != 2) {
		return cli_usage("tokens revoke ID", "name one token id (see `sbx tokens ls`)");
	}
	if (cli_connect(c)) {
		return 1;
	}
	Sbx__V1__RevokeTokenRequest req = SBX__V1__REVOKE_TOKEN_REQUEST__INIT;
	req.id = argv[1];
	Sbx__V1__Token *t = NULL;
	sbx_error e;
	if (sbx_tokens_revoke(c->client, &req, &t, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	if (c->json) {
		cli_print_json(&t->base);
	} else {
		printf("%s revoked at %s\n", t->id, t->revoked_at);
	}
	sbx_free(t);
	return 0;
}

static const struct cli_command cmds[] = {
	{"create", create, "tokens create --user NAME [--admin] [--name L]", "issue a token (prints the secret once)"},
	{"ls", ls, "tokens ls [--user NAME] [--all]", "list tokens"},
	{"revoke", revoke, "tokens revoke ID", "revoke a token at once"},
	{NULL, NULL, NULL, NULL},
};

int cmd_tokens(struct cli *c, int argc, char **argv)
{
	return cli_dispatch(c, "tokens", cmds, argc, argv);
}

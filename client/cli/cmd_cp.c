/* sbx cp SRC SANDBOX:DIR | sbx cp SANDBOX:PATH DIR
 * Files travel as a tar archive, made and unpacked here with tar(1). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"

#define CP_CAP (3u << 20) /* what fits in one message with room to spare */

/* "ID:PATH" -> id and path; 0 if `arg` names a sandbox path. */
static int split_remote(const char *arg, char *id, size_t cap, const char **path)
{
	const char *colon = strchr(arg, ':');
	if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.') {
		return -1;
	}
	size_t n = (size_t)(colon - arg);
	if (n >= cap) {
		return -1;
	}
	memcpy(id, arg, n);
	id[n] = '\0';
	*path = colon + 1;
	return 0;
}

static int copy_in(struct cli *c, const char *src, const char *id, const char *dest)
{
	char *a = strdup(src), *b = strdup(src);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "tar -c -f - -C '%s' '%s'", dirname(a), basename(b));
	free(a);
	free(b);
	FILE *p = popen(cmd, "r");
	size_t len = 0;
	uint8_t *buf = malloc(CP_CAP + 1);
	size_t got;
	while (p != NULL && buf != NULL && (got = fread(buf + len, 1, CP_CAP + 1 - len, p)) > 0) {
		len += got;
		if (len > CP_CAP) {
			break;
		}
	}
	int st = p ? pclose(p) : -1;
	if (buf == NULL || st != 0 || len > CP_CAP) {
		fprintf(stderr, "sbx: %s: %s\n", len > CP_CAP ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT",
			len > CP_CAP ? "more than 3 MiB: copy it in parts" : "cannot read the source");
		free(buf);
		return 1;
	}
	Sbx__V1__CopyInRequest r = SBX__V1__COPY_IN_REQUEST__INIT;
	r.id = (char *)id;
	r.dest_dir = (char *)dest;
	r.tar.data = buf;
	r.tar.len = len;
	Sbx__V1__Empty *out = NULL;
	sbx_error e;
	sbx_status s = sbx_sandboxes_copy_in(c->client, &r, &out, &e);
	free(buf);
	if (s != SBX_OK) {
		return cli_fail(&e);
	}
	sbx_free(out);
	return 0;
}

static int copy_out(struct cli *c, const char *id, const char *path, const char *dest)
{
	Sbx__V1__CopyOutRequest r = SBX__V1__COPY_OUT_REQUEST__INIT;
	r.id = (char *)id;
	r.path = (char *)path;
	Sbx__V1__CopyOutResponse *out = NULL;
	sbx_error e;
	if (sbx_sandboxes_copy_out(c->client, &r, &out, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "tar -x -f - -C '%s'", dest);
	FILE *p = popen(cmd, "w");
	int ok = p != NULL && fwrite(out->tar.data, 1, out->tar.len, p) == out->tar.len;
	ok = (p != NULL && pclose(p) == 0) && ok;
	sbx_free(out);
	if (!ok) {
		fprintf(stderr, "sbx: INTERNAL: could not unpack into %s\n", dest);
		return 1;
	}
	return 0;
}

int cmd_cp(struct cli *c, int argc, char **argv)
{
	static const char *usage = "cp SRC SANDBOX:DIR | cp SANDBOX:PATH DIR";
	if (argc != 2) {
		return cli_usage(usage, "give a source and a destination");
	}
	char id[128];
	const char *path;
	if (cli_connect(c)) {
		return 1;
	}
	if (split_remote(argv[1], id, sizeof(id), &path) == 0) {
		return copy_in(c, argv[0], id, path);
	}
	if (split_remote(argv[0], id, sizeof(id), &path) == 0) {
		return copy_out(c, id, path, argv[1]);
	}
	return cli_usage(usage, "one side must be SANDBOX:PATH");
}

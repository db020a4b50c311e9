#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "pbjson.h"

int cli_connect(struct cli *c)
{
	if (c->client != NULL) {
		return 0;
	}
	sbx_options o = {.address = c->addr, .token = c->token, .timeout_ms = c->timeout_ms};
	sbx_error e;
	if (sbx_connect(&c->client, &o, &e) != SBX_OK) {
		return cli_fail(&e);
	}
	return 0;
}

int cli_fail(const sbx_error *e)
{
	fprintf(stderr, "sbx: %s: %s\n", sbx_status_name(e->code), sbx_error_message(e));
	return 1;
}

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sbx: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (usage != NULL) {
		fprintf(stderr, "usage: sbx %s\n", usage);
	}
	return 2;
}

int cli_dispatch(struct cli *c, const char *group, const struct cli_command *cmds, int argc,
		 char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		FILE *out = argc < 1 ? stderr : stdout;
		fprintf(out, "usage: sbx %s COMMAND\n\ncommands:\n", group);
		for (const struct cli_command *k = cmds; k->name; k++) {
			fprintf(out, "  %-44s %s\n", k->usage, k->help);
		}
		return argc < 1 ? 2 : 0;
	}
	for (const struct cli_command *k = cmds; k->name; k++) {
		if (strcmp(k->name, argv[0]) == 0) {
			return k->fn(c, argc, argv);
		}
	}
	return cli_usage(NULL, "unknown command \"%s %s\" (see sbx %s --help)", group, argv[0],
			 group);
}

void cli_print_json(const ProtobufCMessage *m)
{
	pbjson_print(m);
}

void cli_field_text(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *buf,
		    size_t cap)
{
	json_t *j = pbjson_from_message(m);
	char name[128];
	pbjson_camel(f->name, name, sizeof(name));
	json_t *v = json_object_get(j, name);
	buf[0] = '\0';
	if (json_is_string(v)) {
		snprintf(buf, cap, "%s", json_string_value(v));
	} else if (json_is_array(v)) {
		size_t i, n = 0;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			char *s = json_is_string(x) ? strdup(json_string_value(x))
						    : json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", i ? ", " : "",
					      s ? s : "");
			free(s);
		}
	} else if (json_is_real(v)) {
		snprintf(buf, cap, "%.15g", json_real_value(v));
	} else if (v != NULL) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, cap, "%s", s ? s : "");
		free(s);
	}
	json_decref(j);
}

void cli_print_fields(const ProtobufCMessage *m, const char *prefix)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char key[160];
		snprintf(key, sizeof(key), "%s%s", prefix, f->name);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
			const ProtobufCMessage *sub =
				*(ProtobufCMessage *const *)((const char *)m + f->offset);
			if (sub != NULL) {
				char p[170];
				snprintf(p, sizeof(p), "%s.", key);
				cli_print_fields(sub, p);
			}
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_BYTES) {
			const ProtobufCBinaryData *b =
				(const ProtobufCBinaryData *)((const char *)m + f->offset);
			printf("%-40s (%zu bytes)\n", key, b->len);
			continue;
		}
		char val[4096];
		cli_field_text(m, f, val, sizeof(val));
		printf("%-40s %s\n", key, val);
	}
}

void cli_table(const char *const *headers, size_t ncol, char ***rows, size_t nrows)
{
	size_t w[32] = {0};
	if (ncol > 32) {
		ncol = 32;
	}
	for (size_t c = 0; c < ncol; c++) {
		w[c] = strlen(headers[c]);
		for (size_t r = 0; r < nrows; r++) {
			size_t n = strlen(rows[r][c] ? rows[r][c] : "");
			w[c] = n > w[c] ? n : w[c];
		}
	}
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < ncol; c++) {
			const char *s = r == 0 ? headers[c] : rows[r - 1][c] ? rows[r - 1][c] : "";
			if (c + 1 < ncol) {
				printf("%-*s  ", (int)w[c], s);
			} else {
				printf("%s\n", s);
			}
		}
	}
}

int cli_split_kv(const char *arg, char *key, size_t keycap, const char **value)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg) {
		return -1;
	}
	size_t n = (size_t)(eq - arg);
	if (n >= keycap) {
		n = keycap - 1;
	}
	memcpy(key, arg, n);
	key[n] = '\0';
	*value = eq + 1;
	return 0;
}

static int parse_bool(const char *t, protobuf_c_boolean *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1", NULL};
	static const char *const no[] = {"false", "no", "off", "0", NULL};
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(t, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(t, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int set_strings(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *t,
		       arena *a, char *why, size_t cap)
{
	char ***arr = (char ***)((char *)m + f->offset);
	size_t *n = (size_t *)((char *)m + f->quantifier_offset);
	*arr = NULL;
	*n = 0;
	if (t[0] == '[') {
		json_error_t je;
		json_t *j = json_loads(t, 0, &je);
		size_t i;
		json_t *x;
		if (!json_is_array(j)) {
			json_decref(j);
			snprintf(why, cap, "not a JSON array");
			return -1;
		}
		json_array_foreach(j, i, x)
		{
			if (!json_is_string(x)) {
				json_decref(j);
				snprintf(why, cap, "array entries must be strings");
				return -1;
			}
			arena_append(a, (void ***)arr, n, arena_strdup(a, json_string_value(x)));
		}
		json_decref(j);
		return 0;
	}
	const char *p = t;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > 0) {
			arena_append(a, (void ***)arr, n, arena_strndup(a, p, len));
		}
		p += len + (comma ? 1 : 0);
	}
	return 0;
}

int cli_set_field(ProtobufCMessage *m, const char *field, const char *t, arena *a, char *why,
		  size_t cap)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
	if (f == NULL) {
		snprintf(why, cap, "unknown field \"%s\"", field);
		return -1;
	}
	void *p = (char *)m + f->offset;
	char *end = NULL;
	errno = 0;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (f->type != PROTOBUF_C_TYPE_STRING) {
			snprintf(why, cap, "%s cannot be set from text", field);
			return -1;
		}
		return set_strings(m, f, t, a, why, cap);
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		if (parse_bool(t, p) != 0) {
			snprintf(why, cap, "%s: expected true or false, got \"%s\"", field, t);
			return -1;
		}
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_INT64: {
		long long v = strtoll(t, &end, 10);
		if (errno || end == t || *end || (f->type == PROTOBUF_C_TYPE_INT32 && (v < INT32_MIN || v > INT32_MAX))) {
			snprintf(why, cap, "%s: expected a whole number, got \"%s\"", field, t);
			return -1;
		}
		if (f->type == PROTOBUF_C_TYPE_INT32) {
			*(int32_t *)p = (int32_t)v;
		} else {
			*(int64_t *)p = v;
		}
		return 0;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v = strtod(t, &end);
		if (errno || end == t || *end || !isfinite(v)) {
			snprintf(why, cap, "%s: expected a number, got \"%s\"", field, t);
			return -1;
		}
		*(double *)p = v;
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = arena_strdup(a, t);
		return 0;
	default:
		snprintf(why, cap, "%s cannot be set from text", field);
		return -1;
	}
}

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pbjson.h"

void pbjson_camel(const char *name, char *buf, size_t cap)
{
	size_t n = 0;
	int up = 0;
	for (; *name && n + 1 < cap; name++) {
		if (*name == '_') {
			up = 1;
			continue;
		}
		buf[n++] = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 32) : *name;
		up = 0;
	}
	buf[n] = '\0';
}

static json_t *enum_value(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	return ev ? json_string(ev->name) : json_integer(v);
}

static json_t *bytes_value(const ProtobufCBinaryData *b)
{
	size_t cap = sodium_base64_ENCODED_LEN(b->len, sodium_base64_VARIANT_ORIGINAL);
	char *buf = malloc(cap);
	if (buf == NULL) {
		return json_null();
	}
	sodium_bin2base64(buf, cap, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
	json_t *j = json_string(buf);
	free(buf);
	return j;
}

static json_t *int64_string(long long v, int is_unsigned)
{
	char buf[32];
	if (is_unsigned) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	} else {
		snprintf(buf, sizeof(buf), "%lld", v);
	}
	return json_string(buf);
}

/* One value of field f stored at p. */
static json_t *value(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return int64_string(*(const int64_t *)p, 0);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return int64_string((long long)*(const uint64_t *)p, 1);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_value(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return json_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_value(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		return sub ? pbjson_from_message(sub) : json_null();
	}
	}
	return json_null();
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static int is_map_entry(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
		return 0;
	}
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n = strlen(d->short_name);
	return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0;
}

static json_t *map_value(const ProtobufCFieldDescriptor *f, size_t n, void *const *entries)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *e = entries[i];
		const ProtobufCFieldDescriptor *kf = &e->descriptor->fields[0];
		const ProtobufCFieldDescriptor *vf = &e->descriptor->fields[1];
		json_t *k = value(kf, (const char *)e + kf->offset);
		char kbuf[64];
		const char *key = json_string_value(k);
		if (key == NULL) {
			snprintf(kbuf, sizeof(kbuf), "%lld", (long long)json_integer_value(k));
			key = kbuf;
		}
		json_object_set_new(obj, key, value(vf, (const char *)e + vf->offset));
		json_decref(k);
	}
	(void)f;
	return obj;
}

json_t *pbjson_from_message(const ProtobufCMessage *m)
{
	json_t *obj = json_object();
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;
		char name[128];
		pbjson_camel(f->name, name, sizeof(name));
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
			if (which != f->id) {
				continue;
			}
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)(base + f->offset);
			if (is_map_entry(f)) {
				json_object_set_new(obj, name, map_value(f, n, (void *const *)arr));
				continue;
			}
			json_t *ja = json_array();
			for (size_t k = 0; k < n; k++) {
				json_array_append_new(ja, value(f, arr + k * elem_size(f)));
			}
			json_object_set_new(obj, name, ja);
			continue;
		}
		json_t *v = value(f, base + f->offset);
		if (json_is_null(v)) {
			json_decref(v);
			continue;
		}
		json_object_set_new(obj, name, v);
	}
	return obj;
}

void pbjson_print(const ProtobufCMessage *m)
{
	json_t *j = pbjson_from_message(m);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(j);
}

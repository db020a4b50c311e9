#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "rowmap.h"

#define MEMBER(msg, f) ((char *)(msg) + (f)->offset)

int rowmap_json_strings(const char *json, arena *a, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	json_t *arr = json_loads(json, JSON_DECODE_ANY, NULL);
	if (arr == NULL || !json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	size_t cnt = json_array_size(arr);
	char **v = cnt ? arena_alloc(a, cnt * sizeof(char *)) : NULL;
	for (size_t i = 0; i < cnt; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s) || v == NULL) {
			json_decref(arr);
			return -1;
		}
		v[i] = arena_strdup(a, json_string_value(s));
	}
	json_decref(arr);
	*out = v;
	*n = cnt;
	return 0;
}

static sbx_status set_field(sqlite3_stmt *st, int col, ProtobufCMessage *msg,
			    const ProtobufCFieldDescriptor *f, arena *a, err_t *e)
{
	void *m = MEMBER(msg, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (f->type != PROTOBUF_C_TYPE_STRING) {
			return SBX_OK;
		}
		size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
		if (rowmap_json_strings(db_text(st, col), a, (char ***)m, n) != 0) {
			return err_set(e, SBX_DATA_LOSS, "column %s: not a JSON array of strings",
				       f->name);
		}
		return SBX_OK;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)m = sqlite3_column_int(st, col) != 0;
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		*(int32_t *)m = sqlite3_column_int(st, col);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)m = (uint32_t)sqlite3_column_int64(st, col);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(int64_t *)m = sqlite3_column_int64(st, col);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)m = sqlite3_column_double(st, col);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)m = (float)sqlite3_column_double(st, col);
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)m = arena_strdup(a, db_text(st, col));
		break;
	default:
		break; /* messages and bytes are mapped by hand */
	}
	return SBX_OK;
}

sbx_status rowmap_read(sqlite3_stmt *st, ProtobufCMessage *msg, arena *a, err_t *e)
{
	int ncol = sqlite3_column_count(st);
	for (int c = 0; c < ncol; c++) {
		if (sqlite3_column_type(st, c) == SQLITE_NULL) {
			continue;
		}
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(msg->descriptor,
									 sqlite3_column_name(st, c));
		if (f == NULL) {
			continue;
		}
		sbx_status s = set_field(st, c, msg, f, a, e);
		if (s != SBX_OK) {
			return s;
		}
	}
	return arena_exhausted(a) ? err_set(e, SBX_RESOURCE_EXHAUSTED, "reply too large")
				  : SBX_OK;
}

static sbx_status bind_strings(sqlite3_stmt *st, int i, char **v, size_t n, err_t *e)
{
	if (n == 0) {
		sqlite3_bind_null(st, i);
		return SBX_OK;
	}
	json_t *arr = json_array();
	for (size_t k = 0; k < n; k++) {
		json_array_append_new(arr, json_string(v[k]));
	}
	char *txt = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (txt == NULL) {
		return err_set(e, SBX_INVALID_ARGUMENT, "array holds invalid UTF-8");
	}
	sqlite3_bind_text(st, i, txt, -1, free);
	return SBX_OK;
}

sbx_status rowmap_bind(sqlite3_stmt *st, int i, const ProtobufCMessage *msg,
		       const ProtobufCFieldDescriptor *f, int zero_is_null, err_t *e)
{
	const void *m = MEMBER(msg, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
		return bind_strings(st, i, *(char **const *)m, n, e);
	}
	int64_t iv = 0;
	double dv = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		sqlite3_bind_int(st, i, *(const protobuf_c_boolean *)m ? 1 : 0);
		return SBX_OK;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		iv = *(const int32_t *)m;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		iv = *(const uint32_t *)m;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		iv = *(const int64_t *)m;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		dv = f->type == PROTOBUF_C_TYPE_DOUBLE ? *(const double *)m : *(const float *)m;
		if (zero_is_null && dv == 0) {
			sqlite3_bind_null(st, i);
		} else {
			sqlite3_bind_double(st, i, dv);
		}
		return SBX_OK;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)m;
		if (zero_is_null) {
			db_bind_text_or_null(st, i, s);
		} else {
			sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
		}
		return SBX_OK;
	}
	default:
		return err_set(e, SBX_INTERNAL, "field %s cannot be stored", f->name);
	}
	if (zero_is_null && iv == 0) {
		sqlite3_bind_null(st, i);
	} else {
		sqlite3_bind_int64(st, i, iv);
	}
	return SBX_OK;
}

int rowmap_map_from_json(ProtobufCMessage *msg, const char *field, const char *json, arena *a)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
	if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE) {
		return -1;
	}
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	json_t *obj = json_loads(json, 0, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return json[0] == '\0' ? 0 : -1;
	}
	void ***arr = (void ***)((char *)msg + f->offset);
	size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		ProtobufCMessage *entry = arena_alloc(a, ed->sizeof_message);
		if (entry == NULL) {
			json_decref(obj);
			return -1;
		}
		ed->message_init(entry);
		*(char **)((char *)entry + ed->fields[0].offset) = arena_strdup(a, k);
		*(char **)((char *)entry + ed->fields[1].offset) =
			arena_strdup(a, json_is_string(v) ? json_string_value(v) : "");
		if (arena_append(a, arr, n, entry) != 0) {
			json_decref(obj);
			return -1;
		}
	}
	json_decref(obj);
	return 0;
}

char *rowmap_map_to_json(const ProtobufCMessage *msg, const char *field)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
	json_t *obj = json_object();
	if (f != NULL) {
		const ProtobufCMessageDescriptor *ed = f->descriptor;
		size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
		void *const *arr = *(void *const *const *)((const char *)msg + f->offset);
		for (size_t i = 0; i < n; i++) {
			const char *k = *(char *const *)((const char *)arr[i] + ed->fields[0].offset);
			const char *v = *(char *const *)((const char *)arr[i] + ed->fields[1].offset);
			json_object_set_new(obj, k, json_string(v ? v : ""));
		}
	}
	char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return s;
}

const char *rowmap_enum_name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] != NULL ? names[v] : "unknown";
}

int rowmap_enum_value(const char *const *names, size_t n, const char *text)
{
	for (size_t i = 1; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], text) == 0) {
			return (int)i;
		}
	}
	return 0;
}

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "fields.h"
#include "rowmap.h"

#define MAX_MASK 64
#define LIST_ITEM_MAX 1024

const field_rule *fields_rule(const field_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_rules; i++) {
		if (strcmp(t->rules[i].name, name) == 0) {
			return &t->rules[i];
		}
	}
	return NULL;
}

static const void *member(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (const char *)m + f->offset;
}

static double number(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = member(m, f);
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return *(const int32_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return (double)*(const int64_t *)p;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return (double)*(const uint64_t *)p;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p;
	default:
		return NAN;
	}
}

static const char *text(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *s = *(char *const *)member(m, f);
	return s ? s : "";
}

static sbx_status check_number(const field_table *t, const field_rule *r, const char *fname,
			       double v, err_t *e)
{
	if (t->zero_is_null && v == 0) {
		return SBX_OK; /* clears the override */
	}
	if (isnan(v) || v < r->min || v > r->max) {
		return err_field(e, SBX_INVALID_ARGUMENT, fname, "must be between %g and %g, got %g",
				 r->min, r->max, v);
	}
	if (r->kind == F_INT && v != floor(v)) {
		return err_field(e, SBX_INVALID_ARGUMENT, fname, "must be a whole number");
	}
	return SBX_OK;
}

static sbx_status check_list(const field_rule *r, const char *fname, const ProtobufCMessage *m,
			     const ProtobufCFieldDescriptor *f, err_t *e)
{
	size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
	char *const *v = *(char *const *const *)member(m, f);
	if ((double)n > r->max) {
		return err_field(e, SBX_INVALID_ARGUMENT, fname, "at most %g entries", r->max);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]);
		if (len == 0 || len > LIST_ITEM_MAX) {
			return err_field(e, SBX_INVALID_ARGUMENT, fname,
					 "entry %zu must be 1 to %d characters", i, LIST_ITEM_MAX);
		}
	}
	return SBX_OK;
}

static sbx_status check_value(const field_table *t, const field_rule *r,
			      const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
			      err_t *e)
{
	char fname[160];
	snprintf(fname, sizeof(fname), "%s%s", t->value_prefix, r->name);
	const char *s;
	switch (r->kind) {
	case F_BOOL:
		return SBX_OK;
	case F_INT:
	case F_REAL:
		return check_number(t, r, fname, number(m, f), e);
	case F_TEXT:
		s = text(m, f);
		if (t->zero_is_null && s[0] == '\0') {
			return SBX_OK;
		}
		if ((double)strlen(s) < r->min || (double)strlen(s) > r->max) {
			return err_field(e, SBX_INVALID_ARGUMENT, fname,
					 "must be %g to %g characters long", r->min, r->max);
		}
		return SBX_OK;
	case F_CHOICE:
		s = text(m, f);
		for (const char *const *c = r->choices; *c != NULL; c++) {
			if (strcmp(*c, s) == 0) {
				return SBX_OK;
			}
		}
		{
			char list[256] = "";
			for (const char *const *c = r->choices; *c != NULL; c++) {
				strncat(list, *c, sizeof(list) - strlen(list) - 3);
				if (c[1] != NULL) {
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				}
			}
			return err_field(e, SBX_INVALID_ARGUMENT, fname,
					 "must be one of %s, got \"%.64s\"", list, s);
		}
	case F_LIST:
		return check_list(r, fname, m, f, e);
	case F_JSON_OBJECT: {
		s = text(m, f);
		if (s[0] == '\0') {
			return SBX_OK;
		}
		json_error_t je;
		json_t *j = json_loads(s, 0, &je);
		int ok = j != NULL && json_is_object(j);
		json_decref(j);
		return ok ? SBX_OK
			  : err_field(e, SBX_INVALID_ARGUMENT, fname, "must be a JSON object");
	}
	case F_URL:
		s = text(m, f);
		if (s[0] == '\0' || strncmp(s, "http://", 7) == 0 ||
		    strncmp(s, "https://", 8) == 0 || strncmp(s, "unix://", 7) == 0 ||
		    s[0] == '/') {
			return strlen(s) <= 2048 ? SBX_OK
						 : err_field(e, SBX_INVALID_ARGUMENT, fname, "too long");
		}
		return err_field(e, SBX_INVALID_ARGUMENT, fname,
				 "must be an http(s)://, unix:// URL or an absolute socket path");
	case F_READONLY:
		return err_field(e, SBX_INVALID_ARGUMENT, t->mask_name, "%s is read-only",
				 r->name);
	}
	return SBX_OK;
}

sbx_status fields_validate(sqlite3 *db, const field_table *t, const ProtobufCMessage *msg,
			   char *const *mask, size_t n_mask, err_t *e)
{
	if (n_mask == 0) {
		return err_field(e, SBX_INVALID_ARGUMENT, t->mask_name,
				 "empty: name the fields to update");
	}
	if (n_mask > MAX_MASK) {
		return err_field(e, SBX_INVALID_ARGUMENT, t->mask_name, "more than %d entries",
				 MAX_MASK);
	}
	for (size_t i = 0; i < n_mask; i++) {
		const field_rule *r = fields_rule(t, mask[i]);
		const ProtobufCFieldDescriptor *f =
			r ? protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, r->name)
			  : NULL;
		if (r == NULL || f == NULL) {
			return err_field(e, SBX_INVALID_ARGUMENT, t->mask_name,
					 "unknown field \"%.64s\"", mask[i]);
		}
		sbx_status s = check_value(t, r, msg, f, e);
		if (s == SBX_OK && r->check != NULL) {
			s = r->check(db, msg, f, e);
		}
		if (s != SBX_OK) {
			return s;
		}
	}
	return SBX_OK;
}

sbx_status fields_update(sqlite3 *db, const field_table *t, const char *key,
			 const ProtobufCMessage *msg, char *const *mask, size_t n_mask,
			 const char *actor, err_t *e)
{
	sbx_status s = fields_validate(db, t, msg, mask, n_mask, e);
	if (s != SBX_OK) {
		return s;
	}
	/* Column names come from the rule table, never from the request. */
	char sql[4096];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "UPDATE %s SET ", t->table);
	const field_rule *cols[MAX_MASK];
	size_t ncols = 0;
	for (size_t i = 0; i < n_mask; i++) {
		const field_rule *r = fields_rule(t, mask[i]);
		int dup = 0;
		for (size_t k = 0; k < ncols; k++) {
			dup |= cols[k] == r;
		}
		if (dup) {
			continue;
		}
		cols[ncols++] = r;
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s = ?%zu, ", r->name, ncols);
	}
	snprintf(sql + len, sizeof(sql) - len,
		 "updated_by = ?%zu, updated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now')"
		 " WHERE %s = ?%zu",
		 ncols + 1, t->key_column, ncols + 2);
	sqlite3_stmt *st;
	s = db_prepare(db, sql, &st, e);
	if (s != SBX_OK) {
		return s;
	}
	for (size_t k = 0; k < ncols && s == SBX_OK; k++) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, cols[k]->name);
		s = rowmap_bind(st, (int)k + 1, msg, f, t->zero_is_null, e);
	}
	if (s != SBX_OK) {
		sqlite3_finalize(st);
		return s;
	}
	sqlite3_bind_text(st, (int)ncols + 1, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, (int)ncols + 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return db_error(db, rc, t->table, e);
	}
	if (sqlite3_changes(db) == 0) {
		return err_set(e, SBX_NOT_FOUND, "%s: no row %s", t->table, key);
	}
	return SBX_OK;
}

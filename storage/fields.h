/* Field rules as data, and the masked update they drive. A settings-like
 * table (sandbox_settings, sandbox_provider_settings, models) is updated
 * from a protobuf message plus a field mask: each mask entry must name a
 * writable field, each value must pass its rule, and the whole update is one
 * UPDATE statement, so it applies entirely or not at all. */
#ifndef SBX_STORAGE_FIELDS_H
#define SBX_STORAGE_FIELDS_H

#include <stddef.h>
#include <sqlite3.h>
#include <protobuf-c/protobuf-c.h>

#include "err.h"

typedef enum field_kind {
	F_BOOL,
	F_INT,        /* integer in [min, max] */
	F_REAL,       /* number in [min, max] */
	F_TEXT,       /* string of at most `max` bytes, at least `min` */
	F_CHOICE,     /* one of `choices` */
	F_LIST,       /* repeated string: at most `max` items, each non-empty */
	F_JSON_OBJECT,/* a JSON object as text, or empty */
	F_URL,        /* empty, http(s)://..., unix:///path or /path */
	F_READONLY,   /* reported, never written through a mask */
} field_kind;

typedef struct field_rule {
	const char *name;
	field_kind kind;
	double min;
	double max;
	const char *const *choices; /* NULL-terminated, for F_CHOICE */
	/* Extra check (e.g. a provider must exist); may be NULL. */
	sbx_status (*check)(sqlite3 *db, const ProtobufCMessage *msg,
			    const ProtobufCFieldDescriptor *f, err_t *e);
} field_rule;

typedef struct field_table {
	const char *table;         /* SQL table */
	const char *key_column;    /* WHERE key_column = key */
	const field_rule *rules;
	size_t n_rules;
	int zero_is_null;          /* 0 and "" store NULL ("not set") */
	const char *mask_name;     /* "update_mask", for error messages */
	const char *value_prefix;  /* "settings.", for field violations */
} field_table;

/* Validates the mask against the rules and the values against their rules.
 * Errors are INVALID_ARGUMENT naming the field. */
sbx_status fields_validate(sqlite3 *db, const field_table *t, const ProtobufCMessage *msg,
			   char *const *mask, size_t n_mask, err_t *e);

/* Validates, then applies the masked fields of `msg` to the row `key`,
 * setting updated_by = actor. NOT_FOUND when there is no such row.
 * Runs inside the caller's transaction. */
sbx_status fields_update(sqlite3 *db, const field_table *t, const char *key,
			 const ProtobufCMessage *msg, char *const *mask, size_t n_mask,
			 const char *actor, err_t *e);

/* The rule for `name`, or NULL. */
const field_rule *fields_rule(const field_table *t, const char *name);

#endif

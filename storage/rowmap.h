/* Rows <-> protobuf messages by name: a column and a field with the same
 * name carry the same value (bool <-> 0/1, repeated string <-> JSON array
 * text). Settings, provider settings and models are mapped this way, so a
 * new column needs a new proto field and nothing else. */
#ifndef SBX_STORAGE_ROWMAP_H
#define SBX_STORAGE_ROWMAP_H

#include <sqlite3.h>
#include <protobuf-c/protobuf-c.h>

#include "arena.h"
#include "err.h"

/* Fills the fields of `msg` named like the current row's columns. Strings and
 * arrays are allocated in `a`. NULL columns leave the field at its default. */
/* A proto enum stored as text: names[v] is value v's column text (NULL
 * for values without one). Unknown values read "unknown"; unknown text
 * parses to 0 (the enum's UNSPECIFIED). */
const char *rowmap_enum_name(const char *const *names, size_t n, int v);
int rowmap_enum_value(const char *const *names, size_t n, const char *text);

sbx_status rowmap_read(sqlite3_stmt *st, ProtobufCMessage *msg, arena *a, err_t *e);

/* Binds field `f` of `msg` to parameter `i`. With `zero_is_null`, 0 and ""
 * bind as NULL (columns where NULL means "not set"); an empty repeated field
 * always binds NULL. */
sbx_status rowmap_bind(sqlite3_stmt *st, int i, const ProtobufCMessage *msg,
		       const ProtobufCFieldDescriptor *f, int zero_is_null, err_t *e);

/* A JSON array of strings as a malloc'd repeated-string array in `a`.
 * Returns -1 if `json` is not an array of strings. */
int rowmap_json_strings(const char *json, arena *a, char ***out, size_t *n);


/* map<string,string> fields <-> JSON object text. */
int rowmap_map_from_json(ProtobufCMessage *msg, const char *field, const char *json, arena *a);
/* malloc'd JSON object text of the map field (caller frees). */
char *rowmap_map_to_json(const ProtobufCMessage *msg, const char *field);
#endif

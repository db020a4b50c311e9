/* protobuf-c messages as proto3 JSON (the canonical mapping: lowerCamelCase
 * names, 64-bit integers as strings, bytes as base64, enums by name, maps
 * as objects). Every field is printed, defaults included, so scripts can
 * rely on a key being there. */
#ifndef SBX_CLI_PBJSON_H
#define SBX_CLI_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new reference; NULL only on allocation failure. */
json_t *pbjson_from_message(const ProtobufCMessage *m);

/* Prints the message as indented JSON to stdout. */
void pbjson_print(const ProtobufCMessage *m);

/* snake_case -> lowerCamelCase into buf. */
void pbjson_camel(const char *name, char *buf, size_t cap);

#endif

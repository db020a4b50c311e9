/* The call envelope on the wire (see proto/sbx/v1/rpc.proto):
 *   varint(len(header)) | header | body
 * Header and body are unpacked straight from the received buffer. */
#ifndef SBX_COMMON_WIRE_H
#define SBX_COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "sbx/status.h"

/* Default cap for one message on any listener or client (4 MiB). */
#define SBX_DEFAULT_MAX_MESSAGE (4u * 1024u * 1024u)
/* Headers are small: a hard cap keeps a hostile length prefix harmless. */
#define SBX_MAX_HEADER_BYTES (64u * 1024u)

/* Splits a frame. Returns 0, or -1 when the prefix is malformed or the
 * header length exceeds the buffer or SBX_MAX_HEADER_BYTES. Pointers refer
 * into `buf`. */
int wire_split(const uint8_t *buf, size_t len, const uint8_t **hdr,
	       size_t *hdr_len, const uint8_t **body, size_t *body_len);

/* Size of the frame for a header and body message (body may be NULL). */
size_t wire_frame_size(const ProtobufCMessage *hdr, const ProtobufCMessage *body);

/* Packs header and body into `out`, which holds wire_frame_size() bytes.
 * Returns the bytes written. */
size_t wire_pack(const ProtobufCMessage *hdr, const ProtobufCMessage *body,
		 uint8_t *out);

/* Same as wire_pack with the body already serialized. */
size_t wire_pack_raw(const ProtobufCMessage *hdr, const uint8_t *body,
		     size_t body_len, uint8_t *out);

/* An allocator with a byte budget for unpacking untrusted input: protobuf-c
 * amplifies memory (1 MB of empty map entries becomes ~40 MB), so every
 * unpack of wire data goes through one of these. Frees are plain free(), so
 * messages unpacked with it can be freed with the default allocator. */
typedef struct wire_budget {
	ProtobufCAllocator alloc;
	size_t used;
	size_t cap;
	int exceeded;
} wire_budget;

void wire_budget_init(wire_budget *b, size_t cap);

/* Unpacks with a budget of `cap` bytes. On failure *out is NULL and the
 * result is RESOURCE_EXHAUSTED (budget) or INVALID_ARGUMENT (malformed).
 * The caller frees *out with protobuf_c_message_free_unpacked(*out, NULL). */
sbx_status wire_unpack(const ProtobufCMessageDescriptor *desc,
		       const uint8_t *data, size_t len, size_t cap,
		       ProtobufCMessage **out);

/* Budget for unpacking a message of `len` bytes. */
size_t wire_unpack_budget(size_t len);

/* Checks every string field, recursively, for valid UTF-8. Returns 0, or -1
 * and writes the dotted path of the first bad field into `path`. */
int wire_check_utf8(const ProtobufCMessage *msg, char *path, size_t path_cap);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int wire_utf8_valid(const char *s, size_t len);

#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static size_t varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int wire_split(const uint8_t *buf, size_t len, const uint8_t **hdr,
	       size_t *hdr_len, const uint8_t **body, size_t *body_len)
{
	uint64_t v = 0;
	size_t i = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		if (i >= len) {
			return -1;
		}
		uint8_t b = buf[i++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			if (v > SBX_MAX_HEADER_BYTES || v > len - i) {
				return -1;
			}
			*hdr = buf + i;
			*hdr_len = (size_t)v;
			*body = buf + i + v;
			*body_len = len - i - (size_t)v;
			return 0;
		}
	}
	return -1;
}

size_t wire_frame_size(const ProtobufCMessage *hdr, const ProtobufCMessage *body)
{
	size_t h = protobuf_c_message_get_packed_size(hdr);
	size_t b = body ? protobuf_c_message_get_packed_size(body) : 0;
	return varint_size(h) + h + b;
}

size_t wire_pack(const ProtobufCMessage *hdr, const ProtobufCMessage *body,
		 uint8_t *out)
{
	size_t h = protobuf_c_message_get_packed_size(hdr);
	size_t n = varint_put(out, h);
	n += protobuf_c_message_pack(hdr, out + n);
	if (body != NULL) {
		n += protobuf_c_message_pack(body, out + n);
	}
	return n;
}

size_t wire_pack_raw(const ProtobufCMessage *hdr, const uint8_t *body,
		     size_t body_len, uint8_t *out)
{
	size_t h = protobuf_c_message_get_packed_size(hdr);
	size_t n = varint_put(out, h);
	n += protobuf_c_message_pack(hdr, out + n);
	if (body_len > 0) {
		memcpy(out + n, body, body_len);
	}
	return n + body_len;
}

static void *budget_alloc(void *data, size_t size)
{
	wire_budget *b = data;
	if (size > b->cap - b->used) {
		b->exceeded = 1;
		return NULL;
	}
	b->used += size;
	return malloc(size);
}

static void budget_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

void wire_budget_init(wire_budget *b, size_t cap)
{
	b->alloc.alloc = budget_alloc;
	b->alloc.free = budget_free;
	b->alloc.allocator_data = b;
	b->used = 0;
	b->cap = cap;
	b->exceeded = 0;
}

size_t wire_unpack_budget(size_t len)
{
	/* Ordinary messages unpack to a few times their size; 16x plus a
	 * floor leaves room for that and stops the pathological cases. */
	return 64u * 1024u + 16u * len;
}

sbx_status wire_unpack(const ProtobufCMessageDescriptor *desc,
		       const uint8_t *data, size_t len, size_t cap,
		       ProtobufCMessage **out)
{
	wire_budget b;
	wire_budget_init(&b, cap);
	*out = protobuf_c_message_unpack(desc, &b.alloc, len, data);
	if (*out != NULL) {
		return SBX_OK;
	}
	return b.exceeded ? SBX_RESOURCE_EXHAUSTED : SBX_INVALID_ARGUMENT;
}

int wire_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned min;
		if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0;
		}
		if (n > len - i - 1) {
			return 0;
		}
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return 0;
			}
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			return 0;
		}
		i += n + 1;
	}
	return 1;
}

static int oneof_inactive(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0) {
		return 0;
	}
	uint32_t which = *(const uint32_t *)((const char *)m + f->quantifier_offset);
	return which != f->id;
}

static int check_msg(const ProtobufCMessage *m, char *path, size_t cap, size_t at);

static int check_value(const ProtobufCFieldDescriptor *f, const void *member,
		       char *path, size_t cap, size_t at)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)member;
		return (s == NULL || wire_utf8_valid(s, strlen(s))) ? 0 : -1;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
		return sub == NULL ? 0 : check_msg(sub, path, cap, at);
	}
	return 0;
}

static int check_msg(const ProtobufCMessage *m, char *path, size_t cap, size_t at)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		if (oneof_inactive(m, f)) {
			continue;
		}
		int w = snprintf(path + at, cap - at, "%s%s", at ? "." : "", f->name);
		size_t next = (w < 0 || (size_t)w >= cap - at) ? cap - 1 : at + (size_t)w;
		const char *member = (const char *)m + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *arr = *(void *const *const *)member;
			for (size_t k = 0; k < n; k++) {
				if (check_value(f, &arr[k], path, cap, next) != 0) {
					return -1;
				}
			}
		} else if (check_value(f, member, path, cap, next) != 0) {
			return -1;
		}
		path[at] = '\0';
	}
	return 0;
}

int wire_check_utf8(const ProtobufCMessage *msg, char *path, size_t path_cap)
{
	if (path_cap == 0) {
		return -1;
	}
	path[0] = '\0';
	return check_msg(msg, path, path_cap, 0);
}

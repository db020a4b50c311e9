/* A bump allocator with a hard cap, for everything one RPC call builds:
 * response messages, their strings and arrays. Freed in one go when the
 * reply has been packed. */
#ifndef SBX_COMMON_ARENA_H
#define SBX_COMMON_ARENA_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct arena arena;

/* A new arena that refuses to grow past `cap` bytes. NULL on ENOMEM. */
arena *arena_new(size_t cap);
void arena_free(arena *a);
/* Frees all but the first block and empties it, for reuse. */
void arena_reset(arena *a);

/* Zeroed memory owned by the arena; NULL past the cap. */
void *arena_alloc(arena *a, size_t n);
/* Copies; "" for NULL. Returns NULL only past the cap. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An allocator whose frees do nothing, to unpack into the arena. */
ProtobufCAllocator *arena_allocator(arena *a);

/* True once an allocation was refused. */
int arena_exhausted(const arena *a);

/* Allocates and initialises a protobuf-c message of type T. */
#define ARENA_MSG(a, T, init)                                                     \
	({                                                                        \
		T *m_ = arena_alloc((a), sizeof(T));                              \
		if (m_ != NULL) {                                                 \
			init(m_);                                                 \
		}                                                                 \
		m_;                                                               \
	})

/* Appends `p` to a pointer array that lives in the arena (capacity is the
 * next power of two >= n, so no separate capacity field). Returns 0, or -1
 * past the cap. Usage: arena_append(a, (void ***)&m->items, &m->n_items, x). */
int arena_append(arena *a, void ***arr, size_t *n, void *p);

#endif

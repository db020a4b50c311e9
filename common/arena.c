#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct block {
	struct block *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

struct arena {
	struct block *head;
	size_t total;
	size_t cap;
	int exhausted;
	ProtobufCAllocator pa;
};

#define FIRST_BLOCK 8192u

static struct block *block_new(size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);
	if (b != NULL) {
		b->next = NULL;
		b->size = size;
		b->used = 0;
	}
	return b;
}

static void *pa_alloc(void *data, size_t n)
{
	return arena_alloc(data, n);
}

static void pa_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

arena *arena_new(size_t cap)
{
	arena *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return NULL;
	}
	a->head = block_new(FIRST_BLOCK);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	a->total = FIRST_BLOCK;
	a->cap = cap;
	a->pa.alloc = pa_alloc;
	a->pa.free = pa_free;
	a->pa.allocator_data = a;
	return a;
}

void arena_free(arena *a)
{
	if (a == NULL) {
		return;
	}
	struct block *b = a->head;
	while (b != NULL) {
		struct block *n = b->next;
		free(b);
		b = n;
	}
	free(a);
}

void arena_reset(arena *a)
{
	struct block *b = a->head;
	while (b->next != NULL) {
		struct block *n = b->next;
		free(b);
		b = n;
	}
	b->used = 0;
	a->head = b;
	a->total = b->size;
	a->exhausted = 0;
}

void *arena_alloc(arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	if (n == 0) {
		n = align;
	}
	struct block *b = a->head;
	if (b->size - b->used < n) {
		size_t room = a->cap > a->total ? a->cap - a->total : 0;
		if (n > room) {
			a->exhausted = 1;
			return NULL;
		}
		size_t size = b->size * 2 > n ? b->size * 2 : n;
		if (size > room) {
			size = room;
		}
		struct block *nb = block_new(size);
		if (nb == NULL) {
			a->exhausted = 1;
			return NULL;
		}
		/* The new block becomes the head; the last one keeps its data. */
		struct block *tail = a->head;
		a->head = nb;
		nb->next = tail;
		a->total += size;
		b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *arena_strdup(arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : arena_strndup(a, "", 0);
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return NULL;
	}
	char *p = arena_alloc(a, (size_t)n + 1);
	if (p != NULL) {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}

ProtobufCAllocator *arena_allocator(arena *a)
{
	return &a->pa;
}

int arena_exhausted(const arena *a)
{
	return a->exhausted;
}

int arena_append(arena *a, void ***arr, size_t *n, void *p)
{
	size_t k = *n;
	if (p == NULL) {
		return -1;
	}
	if (k < 4 ? *arr == NULL : (k & (k - 1)) == 0) {
		size_t cap = k < 4 ? 4 : 2 * k;
		void **grown = arena_alloc(a, cap * sizeof(void *));
		if (grown == NULL) {
			return -1;
		}
		if (k > 0) {
			memcpy(grown, *arr, k * sizeof(void *));
		}
		*arr = grown;
	}
	(*arr)[k] = p;
	*n = k + 1;
	return 0;
}

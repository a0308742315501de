#include "util/arena.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DATA starts right after the header, 8-aligned like every block after a
 * chunk's first (CR_ARENA_ALIGN): 24 B a chunk, not 32 (a call's first
 * chunk holds 8 B more in the same block: engine/calls.c). */
struct cr_arena_chunk {
    cr_arena_chunk *prev;
    size_t size, used;
    unsigned char data[];
};
_Static_assert(sizeof(cr_arena_chunk) == CR_ARENA_CHUNK_OVERHEAD, "arena.h's CR_ARENA_CHUNK_OVERHEAD");

void cr_arena_init(cr_arena *a, size_t first_chunk)
{
    a->head = NULL;
    a->chunk_size = first_chunk ? first_chunk : 1024;
    a->used_total = 0;
}

void cr_arena_free(cr_arena *a)
{
    cr_arena_chunk *c = a->head;
    while (c) {
        cr_arena_chunk *prev = c->prev;
        free(c);
        c = prev;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *cr_arena_alloc(cr_arena *a, size_t n)
{
    n = (n + CR_ARENA_ALIGN - 1) & ~(size_t)(CR_ARENA_ALIGN - 1);
    if (n == 0)
        n = CR_ARENA_ALIGN;
    cr_arena_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = a->chunk_size;
        if (size < n)
            size = n;
        c = cr_xmalloc(sizeof *c + size);
        c->size = size;
        c->used = 0;
        /* A request larger than a chunk gets its own; so does one that
         * would leave the new chunk less room than the current one has
         * left, which is filled on. (Before, any request over half a
         * chunk did: into a nearly full chunk it now starts the next
         * regular one, a call's small second chunk: engine/calls.c.) */
        if (a->head && (n > a->chunk_size || a->head->size - a->head->used > size - n)) {
            c->prev = a->head->prev;
            a->head->prev = c;
        } else {
            c->prev = a->head;
            a->head = c;
            if (a->chunk_size < 64 * 1024)
                a->chunk_size *= 2;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

char *cr_arena_strndup(cr_arena *a, const char *s, size_t n)
{
    char *p = cr_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cr_arena_strdup(cr_arena *a, const char *s)
{
    return cr_arena_strndup(a, s, strlen(s));
}

char *cr_arena_printf(cr_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = cr_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* arena.h — bump allocator with one owner; everything in it is freed at once.
 * A call's variables, strands and trace live in its arena (DESIGN.md: Memory);
 * a compiled program lives in the program's arena. */
#ifndef CR_ARENA_H
#define CR_ARENA_H

#include <stddef.h>

typedef struct cr_arena_chunk cr_arena_chunk;

/* Bytes a chunk takes beside its FIRST_CHUNK (or later) bytes of data: an
 * owner that sizes its first chunk to an allocator size class (a call:
 * engine/calls.c) counts them in. */
#define CR_ARENA_CHUNK_OVERHEAD 24
/* Every allocation is rounded up to a multiple of this, which is its
 * alignment too: 8, enough for what callroute keeps in an arena (pointers,
 * doubles, 64-bit integers; nothing asks for more), and half the rounding
 * waste of 16 in a call's few dozen small blocks. */
#define CR_ARENA_ALIGN 8

typedef struct cr_arena {
    cr_arena_chunk *head;   /* current chunk; older chunks hang off ->prev */
    size_t chunk_size;      /* size of the next regular chunk */
    size_t used_total;      /* bytes handed out, for accounting */
} cr_arena;

void  cr_arena_init(cr_arena *a, size_t first_chunk);
void  cr_arena_free(cr_arena *a);               /* frees every chunk */
void *cr_arena_alloc(cr_arena *a, size_t n);    /* zeroed, CR_ARENA_ALIGN-aligned; aborts on OOM */
char *cr_arena_strndup(cr_arena *a, const char *s, size_t n);
char *cr_arena_strdup(cr_arena *a, const char *s);
char *cr_arena_printf(cr_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

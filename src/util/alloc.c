/* alloc.c — malloc and friends that abort instead of returning NULL. */
#include "util/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void cr_oom(const char *what)
{
    fprintf(stderr, "callroute: out of memory (%s)\n", what);
    abort();
}

/* The size goes into the message: a post-mortem wants to know whether it
 * was a huge request or a heap that was full. */
static _Noreturn void oom_size(const char *fn, size_t n)
{
    char what[64];
    snprintf(what, sizeof what, "%s of %zu bytes", fn, n);
    cr_oom(what);
}

void *cr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom_size("malloc", n);
    return p;
}

void *cr_xcalloc(size_t count, size_t size)
{
    void *p = count && size ? calloc(count, size) : calloc(1, 1);
    if (!p)
        oom_size("calloc", count > 0 && size > SIZE_MAX / count ? SIZE_MAX : count * size);
    return p;
}

void *cr_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom_size("realloc", n);
    return q;
}

char *cr_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        oom_size("strdup", strlen(s) + 1);
    return d;
}

char *cr_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = strndup(s, n);
    if (!d)
        oom_size("strndup", strnlen(s, n) + 1);
    return d;
}

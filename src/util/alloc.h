/* alloc.h — the one allocation policy (docs/decisions/allocation-policy.md).
 * Running out of memory is fatal: these print "callroute: out of memory
 * (WHAT)" and abort(), so they never return NULL (a size of 0 is taken as
 * 1). Callers do not check their results. Memory from them is freed with
 * free(). Libraries' own allocators (jansson, sqlite3, sofia's su_home,
 * libcurl) are not wrapped. */
#ifndef CR_ALLOC_H
#define CR_ALLOC_H

#include <stddef.h>

void *cr_xmalloc(size_t n);
void *cr_xcalloc(size_t count, size_t size);      /* zeroed; COUNT * SIZE overflow is OOM */
void *cr_xrealloc(void *p, size_t n);
char *cr_xstrdup(const char *s);                  /* NULL in, NULL out */
char *cr_xstrndup(const char *s, size_t n);       /* at most N bytes; NULL in, NULL out */

/* "callroute: out of memory (WHAT)" on stderr, then abort(): for a library
 * or system call that failed for want of memory. */
_Noreturn void cr_oom(const char *what);

#endif

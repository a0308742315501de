/* strbuf.h — growable, always NUL-terminated byte buffer on the heap. */
#ifndef CR_STRBUF_H
#define CR_STRBUF_H

#include <stddef.h>

typedef struct cr_strbuf {
    char *s;        /* NUL-terminated; NULL until first append */
    size_t len, cap;
} cr_strbuf;

#define CR_STRBUF_INIT { NULL, 0, 0 }

void cr_strbuf_append(cr_strbuf *b, const char *s, size_t n);
void cr_strbuf_puts(cr_strbuf *b, const char *s);
void cr_strbuf_putc(cr_strbuf *b, char c);
/* V in decimal, as "%lld" prints it, without printf's cost (~2,000
 * instructions a call for a route's "(priority %d)"). */
void cr_strbuf_put_int(cr_strbuf *b, long long v);
void cr_strbuf_printf(cr_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* JSON string literal with quotes and escapes. */
void cr_strbuf_json_str(cr_strbuf *b, const char *s, size_t n);
void cr_strbuf_reset(cr_strbuf *b);            /* len = 0, keeps memory */
void cr_strbuf_fit(cr_strbuf *b);              /* memory = len + 1: a buffer that stops growing */
void cr_strbuf_free(cr_strbuf *b);
const char *cr_strbuf_cstr(const cr_strbuf *b); /* "" when empty */

#endif

#include "util/strbuf.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new block and a copy, not realloc: mimalloc's realloc keeps a block
 * that is at most half wasted (667 B in a 1,024 B block stays there). */
void cr_strbuf_fit(cr_strbuf *b)
{
    if (b->s && b->cap > b->len + 1) {
        char *s = cr_xmalloc(b->len + 1);
        memcpy(s, b->s, b->len + 1);
        free(b->s);
        b->s = s;
        b->cap = b->len + 1;
    }
}

static void reserve(cr_strbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->s = cr_xrealloc(b->s, cap);
    b->cap = cap;
}

void cr_strbuf_append(cr_strbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void cr_strbuf_puts(cr_strbuf *b, const char *s) { cr_strbuf_append(b, s, strlen(s)); }

void cr_strbuf_putc(cr_strbuf *b, char c) { cr_strbuf_append(b, &c, 1); }

void cr_strbuf_put_int(cr_strbuf *b, long long v)
{
    char d[24];   /* 19 digits of 2^63 and a sign */
    char *p = d + sizeof d;
    /* The magnitude as unsigned: -LLONG_MIN does not fit a long long. */
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    cr_strbuf_append(b, p, (size_t)(d + sizeof d - p));
}

void cr_strbuf_printf(cr_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cr_strbuf_json_str(cr_strbuf *b, const char *s, size_t n)
{
    cr_strbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': cr_strbuf_puts(b, "\\\""); break;
        case '\\': cr_strbuf_puts(b, "\\\\"); break;
        case '\n': cr_strbuf_puts(b, "\\n"); break;
        case '\r': cr_strbuf_puts(b, "\\r"); break;
        case '\t': cr_strbuf_puts(b, "\\t"); break;
        default:
            if (c < 0x20)
                cr_strbuf_printf(b, "\\u%04x", c);
            else
                cr_strbuf_putc(b, (char)c);
        }
    }
    cr_strbuf_putc(b, '"');
}

void cr_strbuf_reset(cr_strbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void cr_strbuf_free(cr_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *cr_strbuf_cstr(const cr_strbuf *b) { return b->s ? b->s : ""; }

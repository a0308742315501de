/* prom.c — the Prometheus text exposition format (prom.h). */
#include "admin/prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 sequence at S (N bytes left), 0 when it is not
 * one (overlong forms, surrogates and code points past U+10FFFF too). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* S with backslash and line feed escaped, and with QUOTE also '"'. */
static void escape(cr_strbuf *b, const char *s, int quote)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    while (n > 0) {
        size_t len = utf8_len(p, n);
        if (len == 0) {
            cr_strbuf_puts(b, "\xef\xbf\xbd");   /* U+FFFD for a byte that is not UTF-8 */
            len = 1;
        } else if (*p == '\\') {
            cr_strbuf_puts(b, "\\\\");
        } else if (*p == '\n') {
            cr_strbuf_puts(b, "\\n");
        } else if (*p == '"' && quote) {
            cr_strbuf_puts(b, "\\\"");
        } else {
            cr_strbuf_append(b, (const char *)p, len);
        }
        p += len;
        n -= len;
    }
}

void prom_escape_label(cr_strbuf *b, const char *s) { escape(b, s, 1); }
void prom_escape_help(cr_strbuf *b, const char *s) { escape(b, s, 0); }

/* V as the format writes numbers, into BUF (40 bytes). */
static const char *number(char *buf, double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, 40, "%.0f", v);
        return buf;
    }
    snprintf(buf, 40, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 40, "%.17g", v);
    return buf;
}

void prom_value(cr_strbuf *b, double v)
{
    char buf[40];
    cr_strbuf_puts(b, number(buf, v));
}

void prom_family(cr_strbuf *b, const char *name, const char *type, const char *help)
{
    cr_strbuf_printf(b, "# HELP %s ", name);
    prom_escape_help(b, help);
    cr_strbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* NAME{labels[,le="LE"]} */
static void series(cr_strbuf *b, const char *name, const char *suffix, const prom_label *labels, size_t n,
                   const char *le)
{
    cr_strbuf_puts(b, name);
    cr_strbuf_puts(b, suffix);
    if (n == 0 && !le)
        return;
    cr_strbuf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        cr_strbuf_printf(b, "%s%s=\"", i ? "," : "", labels[i].name);
        prom_escape_label(b, labels[i].value);
        cr_strbuf_putc(b, '"');
    }
    if (le)
        cr_strbuf_printf(b, "%sle=\"%s\"", n ? "," : "", le);
    cr_strbuf_putc(b, '}');
}

void prom_sample(cr_strbuf *b, const char *name, const prom_label *labels, size_t nlabels, double value)
{
    series(b, name, "", labels, nlabels, NULL);
    cr_strbuf_putc(b, ' ');
    prom_value(b, value);
    cr_strbuf_putc(b, '\n');
}

void prom_histogram(cr_strbuf *b, const char *name, const prom_label *labels, size_t nlabels,
                    const cr_histogram *h)
{
    char buf[40];
    for (size_t i = 0; i <= h->n; i++) {
        series(b, name, "_bucket", labels, nlabels, i < h->n ? number(buf, h->bounds[i]) : "+Inf");
        cr_strbuf_putc(b, ' ');
        prom_value(b, (double)cr_hist_cumulative(h, i));
        cr_strbuf_putc(b, '\n');
    }
    series(b, name, "_sum", labels, nlabels, NULL);
    cr_strbuf_putc(b, ' ');
    prom_value(b, h->sum);
    cr_strbuf_putc(b, '\n');
    series(b, name, "_count", labels, nlabels, NULL);
    cr_strbuf_putc(b, ' ');
    prom_value(b, (double)h->count);
    cr_strbuf_putc(b, '\n');
}

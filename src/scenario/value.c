#include "scenario/value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cr_val_kind_name(cr_val_kind k)
{
    static const char *const names[] = {
#define CR_VAL_NAME(k, s) s,
        CR_VAL_KINDS(CR_VAL_NAME)
#undef CR_VAL_NAME
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

cr_value cr_val_cstr(const char *s) { return cr_val_str(s, strlen(s)); }

cr_value cr_val_err(cr_arena *a, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cr_value v = {CR_VAL_ERR, false, 0, NULL, 0};
    v.len = strlen(buf);
    v.str = a ? cr_arena_strndup(a, buf, v.len) : "error";
    return v;
}

bool cr_val_truthy(cr_value v)
{
    switch (v.kind) {
    case CR_VAL_BOOL: return v.b;
    case CR_VAL_NUM: return v.num != 0 && !isnan(v.num);
    case CR_VAL_STR: return v.len > 0;
    default: return false;
    }
}

bool cr_val_as_number(cr_value v, double *out)
{
    if (v.kind == CR_VAL_NUM) {
        *out = v.num;
        return true;
    }
    if (v.kind != CR_VAL_STR || v.len == 0 || v.len > 63)
        return false;
    char buf[64];
    memcpy(buf, v.str, v.len);
    buf[v.len] = '\0';
    /* Only plain decimal numbers: no hex, inf, nan or surrounding spaces. */
    for (size_t i = 0; i < v.len; i++) {
        char c = buf[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return false;
    }
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + v.len || !isfinite(d)) /* "1e999" is text, not infinity */
        return false;
    *out = d;
    return true;
}

static int int_text(long long x, char *buf)
{
    char tmp[24];
    int n = 0, k = 0;
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (x < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

const char *cr_val_text(cr_value v, char *buf, size_t *len)
{
    int n = 0;
    switch (v.kind) {
    case CR_VAL_STR:
    case CR_VAL_ERR:
        *len = v.len;
        return v.str ? v.str : "";
    case CR_VAL_NULL: break;
    case CR_VAL_BOOL: n = snprintf(buf, CR_VAL_TEXT_MAX, "%s", v.b ? "true" : "false"); break;
    case CR_VAL_NUM:
        if (v.num == 0) /* also -0, which %.0f would print as "-0" */
            n = snprintf(buf, CR_VAL_TEXT_MAX, "0");
        else if (v.num == floor(v.num) && fabs(v.num) < 1e15)
            n = int_text((long long)v.num, buf); /* the common case, without printf */
        else
            n = snprintf(buf, CR_VAL_TEXT_MAX, "%.15g", v.num);
        break;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

void cr_val_to_text(cr_value v, cr_strbuf *out)
{
    char buf[CR_VAL_TEXT_MAX];
    size_t n;
    const char *s = cr_val_text(v, buf, &n);
    cr_strbuf_append(out, s, n);
}

const char *cr_val_to_cstr(cr_value v, cr_arena *a, size_t *len)
{
    if (v.kind == CR_VAL_STR && v.str) {
        if (len)
            *len = v.len;
        return v.str;
    }
    char buf[CR_VAL_TEXT_MAX];
    size_t n;
    const char *s = cr_val_text(v, buf, &n);
    if (len)
        *len = n;
    return cr_arena_strndup(a, s, n);
}

bool cr_val_equal(cr_value a, cr_value b)
{
    double x, y;
    if (a.kind == CR_VAL_NULL || b.kind == CR_VAL_NULL)
        return a.kind == b.kind;
    if (a.kind == CR_VAL_BOOL || b.kind == CR_VAL_BOOL)
        return cr_val_truthy(a) == cr_val_truthy(b) && a.kind == b.kind;
    /* Two strings compare as text: "0044" and "44", or "+7916" and "7916",
     * are different phone numbers. A number against a numeric string
     * compares numerically ("42" == 42). */
    if (a.kind == CR_VAL_STR && b.kind == CR_VAL_STR)
        return a.len == b.len && (a.len == 0 || memcmp(a.str, b.str, a.len) == 0);
    if (cr_val_as_number(a, &x) && cr_val_as_number(b, &y))
        return x == y;
    return false;
}

cr_value cr_val_copy(cr_value v, cr_arena *a)
{
    if ((v.kind == CR_VAL_STR || v.kind == CR_VAL_ERR) && v.str)
        v.str = cr_arena_strndup(a, v.str, v.len);
    return v;
}

/* template.c — string templates, compiled once into literal and variable
 * parts.
 *
 *   "User {agent_name} put on hold {caller_number}."
 *
 * {name} is replaced by the text form of the variable NAME (a dotted name:
 * letters, digits, _, - and dots, starting with a letter or _; spaces inside
 * the braces are allowed: { name }). {{ and }} are literal braces. A lone },
 * an unclosed { and an empty {} are errors. An undefined variable renders
 * empty and is reported through env->undefined. Escaping (URL, mail header,
 * file path) applies to variable values only, never to the literal text. */
#include "scenario/template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *s;   /* literal text, or the variable's name (NUL-terminated) */
    size_t len;
    bool var;
} tpl_part;

struct scn_template {
    const char *src;
    tpl_part *parts;
    size_t nparts;
    bool literal;        /* no variables: LIT is the whole rendering */
    const char *lit;     /* NUL-terminated */
    size_t lit_len;
};

static void fail(scn_parse_error *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(scn_parse_error *err, size_t offset, const char *fmt, ...)
{
    if (!err)
        return;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static bool name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.'; }

/* Parses "{ name }" starting at the '{' at I; returns the offset after the
 * '}', or 0 after filling ERR. */
static size_t parse_var(const char *src, size_t len, size_t i, size_t *ns, size_t *nl,
                        scn_parse_error *err)
{
    size_t open = i++;
    const char *close = memchr(src + i, '}', len - i);
    if (!close) {
        fail(err, open, "unclosed '{' (write '{{' for a literal brace)");
        return 0;
    }
    size_t end = (size_t)(close - src);
    while (i < end && (src[i] == ' ' || src[i] == '\t'))
        i++;
    if (i == end) {
        fail(err, open, "empty '{}' (write '{{}}' for literal braces)");
        return 0;
    }
    *ns = i;
    if (!name_start(src[i])) {
        fail(err, i, "a variable name must start with a letter or '_' (write '{{' for a literal brace)");
        return 0;
    }
    while (i < end && name_char(src[i])) {
        if (src[i] == '.' && (src[i - 1] == '.' || i + 1 == end || !name_char(src[i + 1]))) {
            fail(err, i, "misplaced '.' in variable name");
            return 0;
        }
        i++;
    }
    *nl = i - *ns;
    while (i < end && (src[i] == ' ' || src[i] == '\t'))
        i++;
    if (i != end) {
        unsigned char c = (unsigned char)src[i];
        if (c < 0x20 || c >= 0x7f)
            fail(err, i, "unexpected byte 0x%02x in variable name (write '{{' for a literal brace)", c);
        else
            fail(err, i, "unexpected '%c' in variable name (write '{{' for a literal brace)", c);
        return 0;
    }
    return end + 1;
}

scn_template *scn_template_compile(cr_arena *arena, const char *src, size_t len,
                                   scn_parse_error *err)
{
    if (err) {
        err->offset = 0;
        err->msg[0] = '\0';
    }
    /* Pass 1: validate and count parts, so that pass 2 fills exact arrays. */
    size_t nparts = 0;
    bool in_lit = false;
    for (size_t i = 0; i < len;) {
        char c = src[i];
        if ((c == '{' || c == '}') && i + 1 < len && src[i + 1] == c) {
            nparts += !in_lit;
            in_lit = true;
            i += 2;
        } else if (c == '}') {
            fail(err, i, "lone '}' (write '}}' for a literal brace)");
            return NULL;
        } else if (c == '{') {
            size_t ns, nl;
            i = parse_var(src, len, i, &ns, &nl, err);
            if (!i)
                return NULL;
            nparts++;
            in_lit = false;
        } else {
            nparts += !in_lit;
            in_lit = true;
            i++;
        }
    }

    scn_template *t = cr_arena_alloc(arena, sizeof *t);
    t->src = cr_arena_strndup(arena, src, len);
    t->parts = cr_arena_alloc(arena, (nparts ? nparts : 1) * sizeof *t->parts);
    char *text = cr_arena_alloc(arena, len + 1); /* literal text, braces undoubled */
    size_t tl = 0;
    tpl_part *cur = NULL;
    for (size_t i = 0; i < len;) {
        char c = src[i];
        if (c == '{' && !(i + 1 < len && src[i + 1] == '{')) {
            size_t ns = 0, nl = 0;
            i = parse_var(src, len, i, &ns, &nl, NULL);
            cur = &t->parts[t->nparts++];
            cur->var = true;
            cur->s = cr_arena_strndup(arena, src + ns, nl);
            cur->len = nl;
            cur = NULL;
            continue;
        }
        if (!cur) {
            cur = &t->parts[t->nparts++];
            cur->s = text + tl;
        }
        text[tl++] = c;
        cur->len++;
        i += (c == '{' || c == '}') ? 2 : 1;
    }
    text[tl] = '\0';
    t->literal = t->nparts == 0 || (t->nparts == 1 && !t->parts[0].var);
    if (t->literal) {
        t->lit = text;
        t->lit_len = tl;
    }
    return t;
}

/* URL escaping keeps RFC 3986 unreserved characters. */
static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Writes S escaped into DST (NULL: only counts); returns the length. START:
 * S begins the value (a slice of a long value does not). */
static size_t escape(const char *s, size_t n, scn_escape esc, char *dst, bool start)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (esc == SCN_ESC_PATH && (c == '/' || c == '\\' || c == '\0' || (c == '.' && i == 0 && start))) {
            if (dst)
                dst[k] = '_';
            k++;
        } else if (esc == SCN_ESC_URL && !unreserved(c)) {
            if (dst) {
                dst[k] = '%';
                dst[k + 1] = hex[c >> 4];
                dst[k + 2] = hex[c & 15];
            }
            k += 3;
        } else if (esc == SCN_ESC_HEADER && (c == '\r' || c == '\n')) {
            continue;
        } else {
            if (dst)
                dst[k] = (char)c;
            k++;
        }
    }
    return k;
}

size_t scn_escape_value(const char *s, size_t n, scn_escape esc, char *dst)
{
    if (esc == SCN_ESC_NONE) {
        if (dst)
            memcpy(dst, s, n);
        return n;
    }
    return escape(s, n, esc, dst, true);
}

/* The value of a variable part as text; empty (and reported) when undefined.
 * BUF holds the text of non-string values. */
static const char *part_value(const tpl_part *p, const scn_env *env, char *buf, size_t *len)
{
    cr_value v;
    if (env->lookup && env->lookup(env->ctx, p->s, p->len, &v))
        return cr_val_text(v, buf, len);
    if (env->undefined)
        env->undefined(env->ctx, p->s, p->len);
    *len = 0;
    return "";
}

void scn_template_render(const scn_template *t, const scn_env *env, scn_escape esc,
                         cr_strbuf *out)
{
    if (t->literal) {
        cr_strbuf_append(out, t->lit, t->lit_len);
        return;
    }
    for (size_t i = 0; i < t->nparts; i++) {
        const tpl_part *p = &t->parts[i];
        if (!p->var) {
            cr_strbuf_append(out, p->s, p->len);
            continue;
        }
        char buf[CR_VAL_TEXT_MAX];
        size_t len;
        const char *s = part_value(p, env, buf, &len);
        if (esc == SCN_ESC_NONE) {
            cr_strbuf_append(out, s, len);
            continue;
        }
        /* Escape in slices through a stack buffer: at most 3 bytes per byte. */
        char tmp[3 * 128];
        for (size_t off = 0; off < len; off += 128) {
            size_t n = len - off < 128 ? len - off : 128;
            cr_strbuf_append(out, tmp, escape(s + off, n, esc, tmp, off == 0));
        }
    }
}

const char *scn_template_render_cstr(const scn_template *t, const scn_env *env, scn_escape esc)
{
    if (t->literal)
        return t->lit;
    /* Look each variable up once: values and their text go in a small array,
     * then the exact size is allocated in the scratch arena. */
    typedef struct { const char *s; size_t len; char buf[CR_VAL_TEXT_MAX]; } piece;
    piece local[8];
    piece *pcs = t->nparts <= 8 ? local : cr_arena_alloc(env->scratch, t->nparts * sizeof *pcs);
    size_t total = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        const tpl_part *p = &t->parts[i];
        if (!p->var) {
            pcs[i].s = p->s;
            pcs[i].len = p->len;
            total += p->len;
            continue;
        }
        pcs[i].s = part_value(p, env, pcs[i].buf, &pcs[i].len);
        total += esc == SCN_ESC_NONE ? pcs[i].len : escape(pcs[i].s, pcs[i].len, esc, NULL, true);
    }
    char *out = cr_arena_alloc(env->scratch, total + 1), *w = out;
    for (size_t i = 0; i < t->nparts; i++) {
        if (!t->parts[i].var || esc == SCN_ESC_NONE) {
            memcpy(w, pcs[i].s, pcs[i].len);
            w += pcs[i].len;
        } else {
            w += escape(pcs[i].s, pcs[i].len, esc, w, true);
        }
    }
    *w = '\0';
    return out;
}

bool scn_template_literal(const scn_template *t, const char **s, size_t *len)
{
    if (!t->literal)
        return false;
    if (s)
        *s = t->lit;
    if (len)
        *len = t->lit_len;
    return true;
}

const char *scn_template_source(const scn_template *t) { return t->src; }

void scn_template_vars(const scn_template *t, void (*fn)(void *arg, const char *name), void *arg)
{
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].var)
            fn(arg, t->parts[i].s);
}

/* cond_dialpat.c — PBX dial patterns (Asterisk style): `_` then X=0-9,
 * Z=1-9, N=2-9 (either case), [1-5] / [135] / [1-57] sets, `.` one or more
 * of anything, `!` zero or more; every other character is literal. Without
 * the leading `_` the text is a literal number. A pattern must match the
 * whole value.
 *
 * Compiled into an element array; fixed-length patterns (the common
 * `_7495XXXXXXX`) match with one pass, patterns with `.` or `!` with a small
 * NFA simulation (linear in pattern × value, no backtracking blow-up). */
#include "scenario/cond.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DIALPAT_MAX_ELEMS 256

typedef enum { EL_LIT, EL_SET, EL_ONE_OR_MORE, EL_ZERO_OR_MORE } el_kind;

typedef struct {
    el_kind kind;
    unsigned char lit;
    uint32_t set[8];        /* 256-bit membership for EL_SET */
} dial_el;

struct scn_dialpat {
    dial_el *els;
    size_t count;
    bool wild;              /* has `.` or `!`: needs the NFA */
    const char *prefix;     /* literal characters every match starts with */
    size_t prefix_len;
};

static void set_add(dial_el *e, unsigned char lo, unsigned char hi)
{
    for (unsigned c = lo; c <= hi; c++)
        e->set[c >> 5] |= 1u << (c & 31);
}

static inline bool el_accepts(const dial_el *e, unsigned char c)
{
    switch (e->kind) {
    case EL_LIT: return e->lit == c;
    case EL_SET: return (e->set[c >> 5] >> (c & 31)) & 1u;
    default: return true;
    }
}

static void fail(scn_parse_error *err, size_t off, const char *msg)
{
    if (!err)
        return;
    err->offset = off;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
}

/* Parses a [...] set starting at P[I] == '['; returns the index after ']'
 * or 0 on error. */
static size_t parse_set(const char *p, size_t len, size_t i, dial_el *e, scn_parse_error *err)
{
    size_t open = i++;
    bool any = false;
    e->kind = EL_SET;
    while (i < len && p[i] != ']') {
        unsigned char lo = (unsigned char)p[i];
        if (i + 2 < len && p[i + 1] == '-' && p[i + 2] != ']') {
            unsigned char hi = (unsigned char)p[i + 2];
            if (hi < lo) {
                fail(err, i, "range in [...] goes backwards");
                return 0;
            }
            set_add(e, lo, hi);
            i += 3;
        } else {
            set_add(e, lo, lo);
            i++;
        }
        any = true;
    }
    if (i >= len) {
        fail(err, open, "'[' without a closing ']'");
        return 0;
    }
    if (!any) {
        fail(err, open, "empty set '[]'");
        return 0;
    }
    return i + 1;
}

scn_dialpat *scn_dialpat_compile(cr_arena *a, const char *pat, size_t len, scn_parse_error *err)
{
    scn_dialpat *dp = cr_arena_alloc(a, sizeof *dp);
    if (len == 0 || (pat[0] == '_' && len == 1)) {
        fail(err, len ? 1 : 0, "empty dial pattern");
        return NULL;
    }
    if (pat[0] != '_') {
        /* No leading `_`: a literal number, as in Asterisk. */
        dp->els = cr_arena_alloc(a, len * sizeof *dp->els);
        for (size_t i = 0; i < len; i++) {
            dp->els[i].kind = EL_LIT;
            dp->els[i].lit = (unsigned char)pat[i];
        }
        dp->count = len;
        dp->prefix = cr_arena_strndup(a, pat, len);
        dp->prefix_len = len;
        return dp;
    }
    dial_el tmp[DIALPAT_MAX_ELEMS];
    size_t n = 0;
    for (size_t i = 1; i < len;) {
        if (n == DIALPAT_MAX_ELEMS) {
            fail(err, i, "dial pattern too long");
            return NULL;
        }
        dial_el *e = &tmp[n];
        memset(e, 0, sizeof *e);
        char c = pat[i];
        switch (c) {
        case 'X': case 'x': e->kind = EL_SET; set_add(e, '0', '9'); i++; break;
        case 'Z': case 'z': e->kind = EL_SET; set_add(e, '1', '9'); i++; break;
        case 'N': case 'n': e->kind = EL_SET; set_add(e, '2', '9'); i++; break;
        case '.': e->kind = EL_ONE_OR_MORE; dp->wild = true; i++; break;
        case '!': e->kind = EL_ZERO_OR_MORE; dp->wild = true; i++; break;
        case '[':
            i = parse_set(pat, len, i, e, err);
            if (!i)
                return NULL;
            break;
        case ']':
            fail(err, i, "']' without an opening '['");
            return NULL;
        default: e->kind = EL_LIT; e->lit = (unsigned char)c; i++; break;
        }
        n++;
    }
    dp->els = cr_arena_alloc(a, n * sizeof *dp->els);
    memcpy(dp->els, tmp, n * sizeof *dp->els);
    dp->count = n;
    size_t pl = 0;
    char pbuf[DIALPAT_MAX_ELEMS];
    while (pl < n && dp->els[pl].kind == EL_LIT) {
        pbuf[pl] = (char)dp->els[pl].lit;
        pl++;
    }
    dp->prefix = cr_arena_strndup(a, pbuf, pl);
    dp->prefix_len = pl;
    return dp;
}

/* Adds state I and what it reaches without input (`!` may match nothing). */
static void nfa_add(const scn_dialpat *p, unsigned char *on, size_t i)
{
    while (i <= p->count && !on[i]) {
        on[i] = 1;
        if (i < p->count && p->els[i].kind == EL_ZERO_OR_MORE)
            i++;
        else
            break;
    }
}

bool scn_dialpat_match(const scn_dialpat *p, const char *s, size_t len)
{
    if (!p->wild) {
        if (len != p->count)
            return false;
        for (size_t i = 0; i < len; i++)
            if (!el_accepts(&p->els[i], (unsigned char)s[i]))
                return false;
        return true;
    }
    /* State i: the first i elements are matched. `.` at i consumes a
     * character into {i, i+1} (so it takes at least one); `!` at i is
     * skippable and loops on itself. */
    unsigned char cur[DIALPAT_MAX_ELEMS + 1], nxt[DIALPAT_MAX_ELEMS + 1];
    size_t n = p->count;
    memset(cur, 0, n + 1);
    nfa_add(p, cur, 0);
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        bool alive = false;
        memset(nxt, 0, n + 1);
        for (size_t i = 0; i < n; i++) {
            if (!cur[i])
                continue;
            const dial_el *e = &p->els[i];
            if (e->kind == EL_ONE_OR_MORE || e->kind == EL_ZERO_OR_MORE) {
                nfa_add(p, nxt, i);
                nfa_add(p, nxt, i + 1);
                alive = true;
            } else if (el_accepts(e, c)) {
                nfa_add(p, nxt, i + 1);
                alive = true;
            }
        }
        if (!alive)
            return false;
        memcpy(cur, nxt, n + 1);
    }
    return cur[n] != 0;
}

const char *scn_dialpat_prefix(const scn_dialpat *p, size_t *len)
{
    *len = p->prefix_len;
    return p->prefix;
}

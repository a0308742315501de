/* header_reads.c — which of an INVITE's headers a program can read, so a
 * call keeps only those (engine/vars.c, eng_var_headers) instead of every
 * header of every held call (~320 B of its arena).
 *
 * A header is read only through its variable sip.header.NAME, and a
 * variable is named only in the scenario's text: an expression's VAR or
 * var('...'), a template's ${...}, a condition's `var:`. So every scalar of
 * the scenario (keys too; includes are merged into the tree by then) is
 * searched for "sip.header." and what follows it, cut at the first
 * character that cannot be in a header name. A name built at run time —
 * var() of anything but one string literal, or "sip.header." followed by
 * no name (var('sip.header.' + h)) — reads any header: the program keeps
 * them all. The search errs only towards keeping: a mention in a comment
 * string or a message keeps that header too. */
#include <string.h>
#include <strings.h>

#include "scenario/node.h"
#include "scenario/program.h"

#define PREFIX "sip.header."
#define PREFIX_LEN (sizeof PREFIX - 1)

typedef struct reads {
    cr_arena *arena;
    const char **names;
    size_t n, cap;
    bool any;
} reads;

/* RFC 3261 token characters but the quote (which closes a literal). */
static bool name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("-.!%*_+`~", c));
}

static void add(reads *r, const char *s, size_t len)
{
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->names[i]) == len && strncasecmp(r->names[i], s, len) == 0)
            return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        const char **nn = cr_arena_alloc(r->arena, cap * sizeof *nn);
        if (r->n)
            memcpy(nn, r->names, r->n * sizeof *nn);
        r->names = nn;
        r->cap = cap;
    }
    r->names[r->n++] = cr_arena_strndup(r->arena, s, len);
}

/* var( at P (not the end of a longer name) whose argument is not one
 * string literal and nothing else. */
static bool dynamic_var(const char *text, const char *p, const char *end)
{
    if (p > text && (name_char((unsigned char)p[-1]) || p[-1] == '.'))
        return false;
    p += 4;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || (*p != '\'' && *p != '"'))
        return true;
    char q = *p++;
    while (p < end && *p != q) {
        if (*p == '\\')
            p++;
        p++;
    }
    if (p >= end)
        return true;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p >= end || *p != ')';
}

static void scan_text(reads *r, const char *s, size_t len)
{
    const char *end = s + len;
    for (const char *p = s; p < end; p++) {
        if ((size_t)(end - p) >= 4 && memcmp(p, "var(", 4) == 0 && dynamic_var(s, p, end))
            r->any = true;
        if ((size_t)(end - p) >= PREFIX_LEN && strncasecmp(p, PREFIX, PREFIX_LEN) == 0) {
            const char *n = p + PREFIX_LEN, *e = n;
            while (e < end && name_char((unsigned char)*e))
                e++;
            if (e == n)
                r->any = true;
            else
                add(r, n, (size_t)(e - n));
        }
    }
}

static void scan(reads *r, const scn_node *n, unsigned depth)
{
    if (!n || depth > SCN_MAX_DEPTH)
        return;
    switch (n->kind) {
    case SCN_NODE_SCALAR:
        if (n->str)
            scan_text(r, n->str, n->len);
        return;
    case SCN_NODE_MAP:
        for (size_t i = 0; i < n->count; i++) {
            scan(r, n->pairs[i].key, depth + 1);
            scan(r, n->pairs[i].val, depth + 1);
        }
        return;
    case SCN_NODE_SEQ:
        for (size_t i = 0; i < n->count; i++)
            scan(r, n->items[i], depth + 1);
        return;
    }
}

void scn_note_header_reads(scn_program *p, const scn_node *root)
{
    reads r = {.arena = &p->arena};
    scan(&r, root, 0);
    p->header_reads_known = true;
    p->header_reads_any = r.any;
    p->header_reads = r.names;
    p->header_read_count = r.n;
}

bool scn_program_reads_header(const scn_program *p, const char *name)
{
    if (!p || !p->header_reads_known || p->header_reads_any)
        return true;
    /* Either a prefix of the other: a mention cut short at a character
     * that can be in a name (var('sip.header.X\'Y')) keeps every header it
     * could have meant; a variable name is cut at HEADER_NAME_MAX. */
    size_t len = strlen(name);
    for (size_t i = 0; i < p->header_read_count; i++) {
        size_t rl = strlen(p->header_reads[i]);
        if (strncasecmp(p->header_reads[i], name, rl < len ? rl : len) == 0)
            return true;
    }
    return false;
}

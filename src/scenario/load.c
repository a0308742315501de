/* load.c — YAML/JSON text to a scn_node tree with file:line:col on every
 * node, using libyaml's event API. Hostile input (binary junk, huge files,
 * deep nesting, alias bombs) is refused with a plain error, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "scenario/load_int.h"
#include "util/alloc.h"
#include "util/hash.h"

/* Aliases share the anchored node; a chain of aliases can still make a small
 * file stand for billions of nodes for whoever walks the tree. Cap the nodes
 * the aliases stand for, summed over the whole document. */
#define SCN_MAX_ALIAS_NODES 1000000u

/* ---- reading files ---- */

char *scn_read_file(const char *path, size_t *size, int *err)
{
    *size = 0;
    /* O_NONBLOCK: a FIFO must not hang us in open(); we refuse non-files anyway. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err = errno;
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        *err = EISDIR;
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = EINVAL;   /* reported as "not a regular file" by callers */
        close(fd);
        return NULL;
    }
    /* Checked before reading: a 50 MB file is refused at once. */
    if ((uintmax_t)st.st_size > SCN_MAX_FILE_BYTES) {
        *err = EFBIG;
        *size = (size_t)st.st_size;
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = cr_xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {   /* the file grew while we read it: stay under the cap */
            if (cap > SCN_MAX_FILE_BYTES) {
                free(buf);
                close(fd);
                *err = EFBIG;
                *size = len;
                return NULL;
            }
            cap = cap * 2 > SCN_MAX_FILE_BYTES + 1 ? SCN_MAX_FILE_BYTES + 1 : cap * 2;
            buf = cr_xrealloc(buf, cap + 1);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *size = len;
    *err = 0;
    return buf;
}

/* ---- checking the bytes before libyaml sees them ---- */

/* libyaml rejects bad bytes with a byte offset and a terse message; we find
 * them first so the error names line:col and says what is wrong. Columns
 * count characters, as libyaml's do. */
static bool check_text(const char *file, const unsigned char *s, size_t len, scn_diags *d)
{
    unsigned line = 1, col = 1;
    size_t i = 0;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        i = 3;   /* UTF-8 byte order mark */
    while (i < len) {
        unsigned c = s[i];
        size_t w = 1;
        uint32_t cp = c;
        if (c >= 0x80) {
            uint32_t min;
            if (c >= 0xC2 && c <= 0xDF)
                w = 2, cp = c & 0x1F, min = 0x80;
            else if (c >= 0xE0 && c <= 0xEF)
                w = 3, cp = c & 0x0F, min = 0x800;
            else if (c >= 0xF0 && c <= 0xF4)
                w = 4, cp = c & 0x07, min = 0x10000;
            else
                goto bad_utf8;
            if (i + w > len)
                goto bad_utf8;
            for (size_t k = 1; k < w; k++) {
                if ((s[i + k] & 0xC0) != 0x80)
                    goto bad_utf8;
                cp = (cp << 6) | (s[i + k] & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto bad_utf8;
        }
        /* YAML's printable set: no C0 controls but tab/LF/CR, no DEL, no C1
         * but NEL, no U+FFFE/U+FFFF. */
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F ||
            (cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF) {
            scn_diag_at(d, SCN_SEV_ERROR, file, line, col, "",
                        "binary data: control character U+%04X is not allowed in a scenario "
                        "file (is this a text file?)",
                        (unsigned)cp);
            return false;
        }
        if (cp == '\n' || (cp == '\r' && !(i + 1 < len && s[i + 1] == '\n'))) {
            line++;
            col = 1;
        } else if (cp != '\r') {
            col++;
        }
        i += w;
        continue;
    bad_utf8:
        scn_diag_at(d, SCN_SEV_ERROR, file, line, col, "",
                    "invalid UTF-8 byte 0x%02X: scenario files must be UTF-8 text", c);
        return false;
    }
    return true;
}

/* ---- building the tree from events ---- */

typedef struct frame {
    scn_node *node;
    size_t base;       /* first child in builder.kids */
    size_t expanded;   /* nodes this one stands for, aliases expanded */
    char *anchor;      /* malloc'd, registered when the node is complete */
} frame;

typedef struct anchor {
    char *name;
    scn_node *node;
    size_t expanded;
} anchor;

typedef struct builder {
    cr_arena *arena;
    scn_diags *d;
    const char *file;
    const char *buf;
    size_t len;
    frame *frames;
    size_t nframes, capframes;
    scn_node **kids;
    size_t *kid_exp;
    size_t nkids, capkids;
    anchor *anchors;      /* open-addressing hash table */
    size_t nanchors, capanchors;
    size_t alias_nodes;
    unsigned docs;
    bool stop;            /* a fatal error: no point reading further */
    bool failed;
    scn_node *root;
} builder;

static size_t hash_str(const char *s)
{
    return (size_t)cr_fnv1a64_str(CR_FNV64_BASIS, s);
}

static anchor *anchor_slot(builder *b, const char *name)
{
    size_t mask = b->capanchors - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask)
        if (!b->anchors[i].name || strcmp(b->anchors[i].name, name) == 0)
            return &b->anchors[i];
}

static const anchor *anchor_find(builder *b, const char *name)
{
    if (!b->capanchors)
        return NULL;
    anchor *a = anchor_slot(b, name);
    return a->name ? a : NULL;
}

/* A later anchor of the same name replaces the earlier one (YAML's rule). */
static void anchor_put(builder *b, char *name, scn_node *node, size_t expanded)
{
    if (2 * (b->nanchors + 1) > b->capanchors) {
        anchor *old = b->anchors;
        size_t oldcap = b->capanchors;
        b->capanchors = oldcap ? oldcap * 2 : 16;
        b->anchors = cr_xcalloc(b->capanchors, sizeof *b->anchors);
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].name)
                *anchor_slot(b, old[i].name) = old[i];
        free(old);
    }
    anchor *a = anchor_slot(b, name);
    if (a->name) {
        free(a->name);
    } else {
        b->nanchors++;
    }
    a->name = name;
    a->node = node;
    a->expanded = expanded;
}

static void err_at(builder *b, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err_at(builder *b, yaml_mark_t m, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scn_diag_at(b->d, SCN_SEV_ERROR, b->file, (unsigned)m.line + 1, (unsigned)m.column + 1, "",
                "%s", msg);
    b->failed = true;
}

static scn_node *new_node(builder *b, scn_node_kind kind, yaml_mark_t m)
{
    scn_node *n = cr_arena_alloc(b->arena, sizeof *n);
    n->kind = kind;
    n->file = b->file;
    n->line = (unsigned)m.line + 1;
    n->col = (unsigned)m.column + 1;
    n->str = "";
    return n;
}

scn_node *scn_node_null(cr_arena *arena, const scn_node *at)
{
    scn_node *n = cr_arena_alloc(arena, sizeof *n);
    n->kind = SCN_NODE_SCALAR;
    n->file = at ? at->file : "";
    n->line = at ? at->line : 0;
    n->col = at ? at->col : 0;
    n->str = "";
    return n;
}

/* Adds a finished node to the collection being built (or makes it the root). */
static void add_child(builder *b, scn_node *n, size_t expanded)
{
    if (b->nframes == 0) {
        b->root = n;
        return;
    }
    frame *f = &b->frames[b->nframes - 1];
    if (f->node->kind == SCN_NODE_MAP && (b->nkids - f->base) % 2 == 0) {
        /* A key. Keys are names: a list or map as key is a mistake. */
        if (n->kind != SCN_NODE_SCALAR) {
            scn_error(b->d, n, "", "a key must be a plain name, not a %s",
                      n->kind == SCN_NODE_MAP ? "map" : "list");
            b->failed = true;
            n = scn_node_null(b->arena, n);
        } else if (!n->quoted && strcmp(n->str, "<<") == 0) {
            scn_error(b->d, n, "", "merge keys ('<<') are not supported; write the keys out "
                                   "(or use an alias as the whole value)");
            b->failed = true;
        }
    }
    if (b->nkids == b->capkids) {
        b->capkids = b->capkids ? b->capkids * 2 : 256;
        b->kids = cr_xrealloc(b->kids, b->capkids * sizeof *b->kids);
        b->kid_exp = cr_xrealloc(b->kid_exp, b->capkids * sizeof *b->kid_exp);
    }
    b->kids[b->nkids] = n;
    b->kid_exp[b->nkids++] = expanded;
    f->expanded += expanded;
}

static char *dup_anchor(const yaml_char_t *a)
{
    return cr_xstrdup((const char *)a);
}

/* Standard tags are fine (!!str makes a plain scalar a string); others are
 * not part of the language. */
static bool check_tag(builder *b, const yaml_char_t *tag, yaml_mark_t m, bool *is_str)
{
    if (!tag)
        return true;
    const char *t = (const char *)tag;
    if (strcmp(t, "tag:yaml.org,2002:str") == 0) {
        if (is_str)
            *is_str = true;
        return true;
    }
    if (strncmp(t, "tag:yaml.org,2002:", 18) == 0 || strcmp(t, "!") == 0)
        return true;
    err_at(b, m, "unsupported YAML tag '%s' (tags are not part of the scenario language)", t);
    return false;
}

static void open_collection(builder *b, scn_node_kind kind, yaml_mark_t m, const yaml_char_t *anc,
                            const yaml_char_t *tag)
{
    if (b->nframes >= SCN_MAX_DEPTH) {
        err_at(b, m, "nesting is deeper than %d levels; flatten the document", SCN_MAX_DEPTH);
        b->stop = true;
        return;
    }
    check_tag(b, tag, m, NULL);
    if (b->nframes == b->capframes) {
        b->capframes = b->capframes ? b->capframes * 2 : 16;
        b->frames = cr_xrealloc(b->frames, b->capframes * sizeof *b->frames);
    }
    frame *f = &b->frames[b->nframes++];
    f->node = new_node(b, kind, m);
    f->base = b->nkids;
    f->expanded = 1;
    f->anchor = dup_anchor(anc);
}

static int key_cmp(const scn_node *x, const scn_node *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static const scn_pair *dup_sort_pairs;

static int dup_cmp(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int c = key_cmp(dup_sort_pairs[ia].key, dup_sort_pairs[ib].key);
    return c ? c : (ia > ib) - (ia < ib);
}

/* The path of open frame UPTO (routes[2].script[0]): each frame's place in
 * its parent is the key just before its first child, or its index. */
static void frame_path(const builder *b, size_t upto, scn_path *p)
{
    p->len = 0;
    p->buf[0] = '\0';
    for (size_t k = 1; k <= upto; k++) {
        const frame *parent = &b->frames[k - 1];
        size_t at = b->frames[k].base;
        if (parent->node->kind == SCN_NODE_MAP)   /* a map as key ("? {..}"): "?" */
            scn_path_key(p, (at - parent->base) % 2 ? b->kids[at - 1]->str : "?");
        else
            scn_path_index(p, at - parent->base);
    }
}

static void report_dup(builder *b, const scn_path *map_path, const scn_node *first,
                       const scn_node *again)
{
    scn_path p = *map_path;
    scn_path_key(&p, again->str);
    scn_diag_at(b->d, SCN_SEV_ERROR, again->file, again->line, again->col, scn_path_str(&p),
                "duplicate key '%.80s' (first defined at line %u)", again->str, first->line);
    b->failed = true;
}

/* Duplicate keys: error at each repeat, naming the line of the first. Sorting
 * an index keeps big maps (thousands of users) fast. */
static void check_dups(builder *b, size_t frame_index, const scn_pair *pairs, size_t count)
{
    if (count < 2)
        return;
    scn_path path;
    frame_path(b, frame_index, &path);
    if (count <= 16) {
        for (size_t i = 1; i < count; i++)
            for (size_t j = 0; j < i; j++)
                if (key_cmp(pairs[i].key, pairs[j].key) == 0) {
                    report_dup(b, &path, pairs[j].key, pairs[i].key);
                    break;
                }
        return;
    }
    size_t *idx = cr_xmalloc(count * sizeof *idx);
    for (size_t i = 0; i < count; i++)
        idx[i] = i;
    dup_sort_pairs = pairs;
    qsort(idx, count, sizeof *idx, dup_cmp);
    for (size_t i = 1, first = 0; i < count; i++) {
        if (key_cmp(pairs[idx[i]].key, pairs[idx[first]].key) == 0)
            report_dup(b, &path, pairs[idx[first]].key, pairs[idx[i]].key);
        else
            first = i;
    }
    free(idx);
}

static void close_collection(builder *b)
{
    frame f = b->frames[--b->nframes];
    scn_node *n = f.node;
    size_t nk = b->nkids - f.base;
    if (n->kind == SCN_NODE_MAP) {
        n->count = nk / 2;
        n->pairs = cr_arena_alloc(b->arena, (n->count ? n->count : 1) * sizeof *n->pairs);
        for (size_t i = 0; i < n->count; i++) {
            n->pairs[i].key = b->kids[f.base + 2 * i];
            n->pairs[i].val = b->kids[f.base + 2 * i + 1];
        }
        check_dups(b, b->nframes, n->pairs, n->count);   /* frames[nframes] is f */
    } else {
        n->count = nk;
        n->items = cr_arena_alloc(b->arena, (nk ? nk : 1) * sizeof *n->items);
        if (nk)
            memcpy(n->items, b->kids + f.base, nk * sizeof *n->items);
    }
    b->nkids = f.base;
    if (f.anchor)
        anchor_put(b, f.anchor, n, f.expanded);
    add_child(b, n, f.expanded);
}

static void on_scalar(builder *b, const yaml_event_t *ev)
{
    scn_node *n = new_node(b, SCN_NODE_SCALAR, ev->start_mark);
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, '\0', len)) {
        err_at(b, ev->start_mark, "%s", "a string may not contain a NUL character (\\0)");
        len = strlen(v);
    }
    n->str = cr_arena_strndup(b->arena, v, len);
    n->len = len;
    bool is_str = false;
    check_tag(b, ev->data.scalar.tag, ev->start_mark, &is_str);
    /* Quoted and block (| >) scalars are never null, bool or number. */
    n->quoted = is_str || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if (ev->data.scalar.anchor)
        anchor_put(b, dup_anchor(ev->data.scalar.anchor), n, 1);
    add_child(b, n, 1);
}

static void on_alias(builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const anchor *a = anchor_find(b, name);
    if (!a) {
        for (size_t i = 0; i < b->nframes; i++)
            if (b->frames[i].anchor && strcmp(b->frames[i].anchor, name) == 0) {
                err_at(b, ev->start_mark,
                       "alias '*%s' is inside the node it refers to (recursive data is not "
                       "allowed)",
                       name);
                add_child(b, new_node(b, SCN_NODE_SCALAR, ev->start_mark), 1);
                return;
            }
        err_at(b, ev->start_mark, "unknown alias '*%s' (define it with '&' before using it)",
               name);
        add_child(b, new_node(b, SCN_NODE_SCALAR, ev->start_mark), 1);
        return;
    }
    b->alias_nodes += a->expanded;
    if (b->alias_nodes > SCN_MAX_ALIAS_NODES) {
        err_at(b, ev->start_mark, "aliases expand to more than %u nodes; write the data out "
                                  "instead of nesting aliases", SCN_MAX_ALIAS_NODES);
        b->stop = true;
        return;
    }
    add_child(b, a->node, a->expanded);
}

/* ---- libyaml's problems in plain words ---- */

static size_t line_offset(const char *buf, size_t len, size_t line)
{
    size_t off = 0;
    while (line > 0 && off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        if (!nl)
            return len;
        off = (size_t)(nl - buf) + 1;
        line--;
    }
    return off;
}

static bool has(const char *s, const char *sub)
{
    return s && strstr(s, sub);
}

static void syntax_error(builder *b, const yaml_parser_t *p)
{
    yaml_mark_t m = p->problem_mark;
    const char *prob = p->problem ? p->problem : "unknown problem";
    const char *ctx = p->context;
    unsigned ctx_line = (unsigned)p->context_mark.line + 1;
    char msg[512];

    if (p->error == YAML_READER_ERROR) {
        /* check_text() catches these first; this is a fallback. */
        scn_diag_at(b->d, SCN_SEV_ERROR, b->file, 1, 1, "", "unreadable text at byte %zu: %s",
                    p->problem_offset, prob);
        b->failed = true;
        return;
    }
    /* Tabs: YAML forbids them in block indentation (libyaml's words for it
     * vary); inside [ ] and { } (JSON) they are plain whitespace. */
    size_t ls = line_offset(b->buf, b->len, m.line);
    size_t i = ls;
    unsigned col = 1;
    while (p->flow_level == 0 && i < b->len && (b->buf[i] == ' ' || b->buf[i] == '\t')) {
        if (b->buf[i] == '\t') {
            scn_diag_at(b->d, SCN_SEV_ERROR, b->file, (unsigned)m.line + 1, col, "",
                        "tabs are not allowed for indentation in YAML; use spaces");
            b->failed = true;
            return;
        }
        i++;
        col++;
    }
    if (has(prob, "tab") || (m.index < b->len && has(prob, "cannot start any token") &&
                             ls + m.column < b->len && b->buf[ls + m.column] == '\t')) {
        snprintf(msg, sizeof msg, "tabs are not allowed here in YAML; use spaces");
    } else if (has(prob, "cannot start any token")) {
        size_t at = ls + m.column;
        char c = at < b->len ? b->buf[at] : '?';
        if (c == '@' || c == '`')
            snprintf(msg, sizeof msg, "'%c' cannot start a plain value; put the value in quotes",
                     c);
        else
            snprintf(msg, sizeof msg, "unexpected character '%c'", c);
    } else if (has(prob, "mapping values are not allowed")) {
        snprintf(msg, sizeof msg,
                 "unexpected ':' here; check the indentation, or quote a value that contains "
                 "': '");
    } else if (has(prob, "could not find expected ':'")) {
        snprintf(msg, sizeof msg,
                 "expected ':' after the key started at line %u (a value that spans lines "
                 "must be quoted or indented)",
                 ctx_line);
    } else if (has(ctx, "quoted scalar") && has(prob, "end of stream")) {
        snprintf(msg, sizeof msg, "unterminated quoted string (started at line %u)", ctx_line);
    } else if (has(prob, "unknown escape character")) {
        snprintf(msg, sizeof msg,
                 "unknown escape sequence in a double-quoted string (write '\\\\' for a "
                 "backslash, or use single quotes)");
    } else if (has(prob, "did not find expected key")) {
        snprintf(msg, sizeof msg,
                 "bad indentation: expected a 'key: value' at the indentation of the map "
                 "started at line %u",
                 ctx_line);
    } else if (has(prob, "did not find expected '-' indicator")) {
        snprintf(msg, sizeof msg,
                 "bad indentation: expected a '- ' item of the list started at line %u",
                 ctx_line);
    } else if (has(prob, "expected ',' or ']'")) {
        snprintf(msg, sizeof msg, "expected ',' or ']' to continue the list started at line %u",
                 ctx_line);
    } else if (has(prob, "expected ',' or '}'")) {
        snprintf(msg, sizeof msg, "expected ',' or '}' to continue the map started at line %u",
                 ctx_line);
    } else if (has(prob, "block sequence entries are not allowed")) {
        snprintf(msg, sizeof msg, "a '- ' list item is not allowed here; check the indentation");
    } else if (has(prob, "did not find expected node content")) {
        snprintf(msg, sizeof msg, "expected a value here");
    } else if (has(prob, "did not find expected <document start>")) {
        snprintf(msg, sizeof msg,
                 "unexpected text after the end of the document; check the indentation");
    } else if (has(prob, "expected alphabetic or numeric character") &&
               (has(ctx, "anchor") || has(ctx, "alias"))) {
        snprintf(msg, sizeof msg, "an %s needs a name of letters, digits, '-' or '_' (%s)",
                 has(ctx, "anchor") ? "anchor" : "alias", has(ctx, "anchor") ? "&name" : "*name");
    } else if (has(prob, "incompatible YAML document")) {
        snprintf(msg, sizeof msg, "unsupported %%YAML version; scenario files are YAML 1.x");
    } else if (has(prob, "end of stream")) {
        snprintf(msg, sizeof msg, "unexpected end of file%s%s", ctx ? " " : "", ctx ? ctx : "");
    } else {
        snprintf(msg, sizeof msg, "YAML syntax error: %s%s%s", prob, ctx ? " " : "",
                 ctx ? ctx : "");
    }
    scn_diag_at(b->d, SCN_SEV_ERROR, b->file, (unsigned)m.line + 1, (unsigned)m.column + 1, "",
                "%s", msg);
    b->failed = true;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->nframes; i++)
        free(b->frames[i].anchor);
    for (size_t i = 0; i < b->capanchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    free(b->frames);
    free(b->kids);
    free(b->kid_exp);
}

scn_node *scn_parse_buffer(cr_arena *arena, const char *file, const char *buf, size_t len,
                           scn_diags *diags)
{
    if (len > SCN_MAX_FILE_BYTES) {
        scn_diag_at(diags, SCN_SEV_ERROR, file, 1, 1, "",
                    "file is too large (%zu bytes; the limit is %u bytes)", len,
                    (unsigned)SCN_MAX_FILE_BYTES);
        return NULL;
    }
    if (!check_text(file, (const unsigned char *)buf, len, diags))
        return NULL;

    builder b = { .arena = arena, .d = diags, .file = file, .buf = buf, .len = len };
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        cr_oom("YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    bool done = false;
    while (!done && !b.stop) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(&b, &parser);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++b.docs > 1) {
                err_at(&b, ev.start_mark, "%s",
                       "a scenario file holds one YAML document; found a second one");
                b.stop = true;
            }
            break;
        case YAML_MAPPING_START_EVENT:
            open_collection(&b, SCN_NODE_MAP, ev.start_mark, ev.data.mapping_start.anchor,
                            ev.data.mapping_start.tag);
            break;
        case YAML_SEQUENCE_START_EVENT:
            open_collection(&b, SCN_NODE_SEQ, ev.start_mark, ev.data.sequence_start.anchor,
                            ev.data.sequence_start.tag);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (b.nframes)
                close_collection(&b);
            break;
        case YAML_SCALAR_EVENT:
            on_scalar(&b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&b, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    builder_free(&b);

    if (b.failed || b.stop)
        return NULL;
    /* No document, or a document that is only an empty value. */
    if (!b.root || (b.root->kind == SCN_NODE_SCALAR && !b.root->quoted && b.root->len == 0)) {
        scn_diag_at(diags, SCN_SEV_ERROR, file, 1, 1, "", "empty scenario file");
        return NULL;
    }
    return b.root;
}

scn_node *scn_load_buffer(cr_arena *arena, const char *name, const char *buf, size_t len,
                          struct scn_diags *diags)
{
    const char *file = cr_arena_strdup(arena, name ? name : "<input>");
    return scn_parse_buffer(arena, file, buf ? buf : "", buf ? len : 0, diags);
}

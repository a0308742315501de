/* load_include.c — scn_load_file: reads the top file and merges the files
 * its top-level `include:` names (glob patterns relative to the including
 * file). Included files may hold routes, users, groups, queues, gateways,
 * conferences and scenarios; routes are concatenated (the including file's first, then each
 * include in order), the maps merged (a name defined twice is an error that
 * names both places). A file is read once even when several patterns or
 * files include it (and a wildcard never matches the including file
 * itself); a file that includes one of its includers is a cycle. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/load_int.h"
#include "util/alloc.h"

typedef struct inc_ctx {
    cr_arena *arena;
    scn_diags *d;
    const char *chain_real[SCN_MAX_INCLUDE_DEPTH + 1];   /* realpaths, top first */
    const char *chain_name[SCN_MAX_INCLUDE_DEPTH + 1];   /* names as shown */
    size_t depth;
    char **seen;          /* realpaths of every file read so far (malloc'd) */
    size_t nseen;
    char at_path[48];     /* "include" or "include[3]": the entry being followed */
} inc_ctx;

/* The sections an included file may contribute; "routes" is a list, the
 * others are maps of names. */
static const char *const map_sections[] = { "users", "groups", "queues", "gateways", "scenarios", "conferences", NULL };
static const char *const map_singular[] = { "user", "group", "queue", "gateway", "scenario", "conference room" };
static const char *const included_keys[] = { "include", "routes", "users", "groups", "queues",
                                             "gateways", "scenarios", "conferences", NULL };
enum { N_MAPS = 5 };

typedef struct vec {
    void **v;
    size_t n, cap;
} vec;

static void vec_push(vec *x, void *p)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->v = cr_xrealloc(x->v, x->cap * sizeof *x->v);
    }
    x->v[x->n++] = p;
}

static scn_node *load_tree(inc_ctx *c, const char *path, const scn_node *from, bool *unreadable);

/* ---- merging ---- */

typedef struct merge {
    const scn_node *routes_at;    /* where the merged routes list says it is */
    const scn_node *routes_key;
    vec routes;                   /* scn_node * */
    const scn_node *map_at[N_MAPS], *map_key[N_MAPS];
    vec maps[N_MAPS];             /* scn_pair * */
    bool failed;
} merge;

static int section_index(const scn_node *key)
{
    for (int i = 0; map_sections[i]; i++)
        if (scn_scalar_is(key, map_sections[i]))
            return i;
    return -1;
}

/* Adds one file's sections. TOP: the including file itself (anything goes;
 * the validator checks it) or an included one (only the sections above). */
static void merge_add(inc_ctx *c, merge *m, const scn_node *root, bool top)
{
    for (size_t i = 0; i < root->count; i++) {
        const scn_node *k = root->pairs[i].key, *v = root->pairs[i].val;
        int s = section_index(k);
        if (scn_scalar_is(k, "routes")) {
            if (scn_is_null(v))
                continue;
            if (v->kind != SCN_NODE_SEQ) {
                if (top)
                    continue;   /* left in place for the validator */
                scn_error(c->d, v, "routes", "routes must be a list of routes");
                m->failed = true;
                continue;
            }
            if (!m->routes_at) {
                m->routes_at = v;
                m->routes_key = k;
            }
            for (size_t j = 0; j < v->count; j++)
                vec_push(&m->routes, v->items[j]);
        } else if (s >= 0) {
            if (scn_is_null(v))
                continue;
            if (v->kind != SCN_NODE_MAP) {
                if (top)
                    continue;
                scn_error(c->d, v, map_sections[s], "%s must be a map of names", map_sections[s]);
                m->failed = true;
                continue;
            }
            if (!m->map_at[s]) {
                m->map_at[s] = v;
                m->map_key[s] = k;
            }
            for (size_t j = 0; j < v->count; j++)
                vec_push(&m->maps[s], &v->pairs[j]);
        } else if (top || scn_scalar_is(k, "include")) {
            continue;
        } else if (scn_scalar_is(k, "settings") || scn_scalar_is(k, "version")) {
            scn_error(c->d, k, "", "'%s' is allowed only in the top file (%s), not in an "
                                   "included file", k->str, c->chain_name[0]);
            m->failed = true;
        } else {
            const char *hint = scn_suggest(k->str, included_keys);
            scn_error(c->d, k, "",
                      "unknown key '%s' in an included file%s%s%s; included files may hold "
                      "routes, users, groups, queues, gateways, conferences and scenarios",
                      k->str, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            m->failed = true;
        }
    }
}

static const scn_pair *const *dup_base;

static int pair_cmp(const void *a, const void *b)
{
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    const scn_node *x = dup_base[ia]->key, *y = dup_base[ib]->key;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->str, y->str, n);
    if (!r)
        r = (x->len > y->len) - (x->len < y->len);
    return r ? r : (ia > ib) - (ia < ib);
}

/* A name defined in two files: error at the later one, naming the first. */
static void check_names(inc_ctx *c, merge *m, int s)
{
    vec *x = &m->maps[s];
    if (x->n < 2)
        return;
    size_t *idx = cr_xmalloc(x->n * sizeof *idx);
    for (size_t i = 0; i < x->n; i++)
        idx[i] = i;
    dup_base = (const scn_pair *const *)x->v;
    qsort(idx, x->n, sizeof *idx, pair_cmp);
    for (size_t i = 1, first = 0; i < x->n; i++) {
        const scn_node *a = ((scn_pair *)x->v[idx[first]])->key;
        const scn_node *b = ((scn_pair *)x->v[idx[i]])->key;
        if (a->len == b->len && memcmp(a->str, b->str, a->len) == 0) {
            scn_path p = { .len = 0 };
            scn_path_key(&p, map_sections[s]);
            scn_path_key(&p, b->str);
            scn_error(c->d, b, scn_path_str(&p), "%s '%s' is defined twice: first at %s:%u:%u",
                      map_singular[s], b->str, a->file, a->line, a->col);
            m->failed = true;
        } else {
            first = i;
        }
    }
    free(idx);
}

/* The including file's root with the merged sections. The `include` key is
 * removed: the merged document no longer includes anything, and the
 * validator need not know about it. */
static scn_node *merge_build(inc_ctx *c, merge *m, const scn_node *root)
{
    scn_node *out = cr_arena_alloc(c->arena, sizeof *out);
    *out = *root;
    out->pairs = cr_arena_alloc(c->arena, (root->count + 1 + N_MAPS) * sizeof *out->pairs);
    out->count = 0;
    bool placed_routes = false, placed[N_MAPS] = { false };

    scn_node *routes = NULL;
    if (m->routes_at) {
        routes = cr_arena_alloc(c->arena, sizeof *routes);
        *routes = *m->routes_at;
        routes->count = m->routes.n;
        routes->items = cr_arena_alloc(c->arena, (m->routes.n ? m->routes.n : 1) * sizeof(void *));
        if (m->routes.n)
            memcpy(routes->items, m->routes.v, m->routes.n * sizeof(void *));
    }
    scn_node *maps[N_MAPS] = { NULL };
    for (int s = 0; s < N_MAPS; s++) {
        if (!m->map_at[s])
            continue;
        maps[s] = cr_arena_alloc(c->arena, sizeof *maps[s]);
        *maps[s] = *m->map_at[s];
        maps[s]->count = m->maps[s].n;
        maps[s]->pairs = cr_arena_alloc(c->arena, (m->maps[s].n ? m->maps[s].n : 1) *
                                                      sizeof(scn_pair));
        for (size_t j = 0; j < m->maps[s].n; j++)
            maps[s]->pairs[j] = *(scn_pair *)m->maps[s].v[j];
    }
    for (size_t i = 0; i < root->count; i++) {
        scn_pair p = root->pairs[i];
        int s = section_index(p.key);
        if (scn_scalar_is(p.key, "include"))
            continue;
        if (scn_scalar_is(p.key, "routes") && routes && !placed_routes &&
            (scn_is_null(p.val) || p.val->kind == SCN_NODE_SEQ)) {
            p.val = routes;
            placed_routes = true;
        } else if (s >= 0 && maps[s] && !placed[s] &&
                   (scn_is_null(p.val) || p.val->kind == SCN_NODE_MAP)) {
            p.val = maps[s];
            placed[s] = true;
        } else if ((scn_scalar_is(p.key, "routes") && routes) || (s >= 0 && maps[s])) {
            /* The top file's section is not a list/map but includes add to it. */
            scn_error(c->d, p.val, p.key->str, "%s must be a %s", p.key->str,
                      s >= 0 ? "map of names" : "list of routes");
            m->failed = true;
        }
        out->pairs[out->count++] = p;
    }
    if (routes && !placed_routes)
        out->pairs[out->count++] = (scn_pair){ (scn_node *)m->routes_key, routes };
    for (int s = 0; s < N_MAPS; s++)
        if (maps[s] && !placed[s])
            out->pairs[out->count++] = (scn_pair){ (scn_node *)m->map_key[s], maps[s] };
    return out;
}

static void merge_free(merge *m)
{
    free(m->routes.v);
    for (int s = 0; s < N_MAPS; s++)
        free(m->maps[s].v);
}

/* ---- following includes ---- */

static bool has_glob_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* DIR/PATTERN, with DIR's own glob characters escaped. */
static char *join_pattern(const char *including, const char *pattern)
{
    const char *slash = strrchr(including, '/');
    size_t dlen = slash ? (size_t)(slash - including) + 1 : 0;
    if (pattern[0] == '/' || dlen == 0)
        return cr_xstrdup(pattern);
    size_t plen = strlen(pattern);
    char *out = cr_xmalloc(2 * dlen + plen + 1), *o = out;
    for (size_t i = 0; i < dlen; i++) {
        if (strchr("*?[]\\", including[i]))
            *o++ = '\\';
        *o++ = including[i];
    }
    memcpy(o, pattern, plen + 1);
    return out;
}

static bool seen_before(inc_ctx *c, const char *real)
{
    for (size_t i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i], real) == 0)
            return true;
    return false;
}

/* GLOBBED: PATH came from a wildcard; a wildcard that matches the including
 * file itself ("*.yaml" beside it) skips it rather than being a cycle. */
static void include_one(inc_ctx *c, merge *m, const char *path, const scn_node *at, bool globbed)
{
    char *real = realpath(path, NULL);
    if (!real) {
        scn_error(c->d, at, c->at_path, "cannot read %s: %s", path, strerror(errno));
        m->failed = true;
        return;
    }
    if (globbed && c->depth && strcmp(c->chain_real[c->depth - 1], real) == 0) {
        free(real);
        return;
    }
    for (size_t i = 0; i < c->depth; i++) {
        if (strcmp(c->chain_real[i], real) != 0)
            continue;
        cr_strbuf chain = CR_STRBUF_INIT;
        for (size_t j = i; j < c->depth; j++)
            cr_strbuf_printf(&chain, "%s -> ", c->chain_name[j]);
        cr_strbuf_puts(&chain, path);
        scn_error(c->d, at, c->at_path, "include cycle: %s", cr_strbuf_cstr(&chain));
        cr_strbuf_free(&chain);
        m->failed = true;
        free(real);
        return;
    }
    if (seen_before(c, real)) {   /* included already, by another pattern or file */
        free(real);
        return;
    }
    if (c->depth >= SCN_MAX_INCLUDE_DEPTH) {
        scn_error(c->d, at, c->at_path, "includes are nested more than %d files deep (at %s)",
                  SCN_MAX_INCLUDE_DEPTH, path);
        m->failed = true;
        free(real);
        return;
    }
    c->seen = cr_xrealloc(c->seen, (c->nseen + 1) * sizeof *c->seen);
    c->seen[c->nseen++] = real;
    c->chain_real[c->depth] = real;
    c->chain_name[c->depth] = cr_arena_strdup(c->arena, path);
    c->depth++;
    char saved[sizeof c->at_path];
    memcpy(saved, c->at_path, sizeof saved);
    scn_node *child = load_tree(c, path, at, NULL);
    memcpy(c->at_path, saved, sizeof saved);   /* nested includes reuse it */
    c->depth--;
    if (!child) {
        m->failed = true;
        return;
    }
    if (child->kind != SCN_NODE_MAP) {
        scn_error(c->d, child, "", "an included file must be a map with routes, users, groups, "
                                   "queues, gateways or scenarios");
        m->failed = true;
        return;
    }
    merge_add(c, m, child, false);
}

static void include_pattern(inc_ctx *c, merge *m, const char *including, const scn_node *pat)
{
    if (pat->kind != SCN_NODE_SCALAR || pat->len == 0) {
        scn_error(c->d, pat, c->at_path, "include needs a file name or pattern (a string)");
        m->failed = true;
        return;
    }
    char *full = join_pattern(including, pat->str);
    glob_t g;
    int rc = glob(full, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        if (has_glob_magic(pat->str)) {
            scn_warning(c->d, pat, c->at_path, "include pattern '%s' matches no file", pat->str);
        } else {
            scn_error(c->d, pat, c->at_path, "cannot read %s: %s", pat->str, strerror(ENOENT));
            m->failed = true;
        }
    } else if (rc != 0) {
        scn_error(c->d, pat, c->at_path, "cannot read %s: %s", pat->str,
                  rc == GLOB_NOSPACE ? "out of memory" : "read error");
        m->failed = true;
    } else {
        for (size_t i = 0; i < g.gl_pathc; i++)
            include_one(c, m, g.gl_pathv[i], pat, has_glob_magic(pat->str));
    }
    if (rc != GLOB_NOMATCH)
        globfree(&g);
    free(full);
}

static scn_node *resolve_includes(inc_ctx *c, const char *path, scn_node *root)
{
    const scn_node *inc = scn_map_get(root, "include");
    if (!inc)
        return root;
    merge m = { .failed = false };
    merge_add(c, &m, root, true);
    if (inc->kind == SCN_NODE_SEQ) {
        for (size_t i = 0; i < inc->count; i++) {
            snprintf(c->at_path, sizeof c->at_path, "include[%zu]", i);
            include_pattern(c, &m, path, inc->items[i]);
        }
    } else if (inc->kind == SCN_NODE_SCALAR && !scn_is_null(inc)) {
        snprintf(c->at_path, sizeof c->at_path, "include");
        include_pattern(c, &m, path, inc);
    } else if (!scn_is_null(inc)) {
        scn_error(c->d, inc, "include", "include must be a file pattern or a list of them");
        m.failed = true;
    }
    for (int s = 0; s < N_MAPS && !m.failed; s++)
        check_names(c, &m, s);
    scn_node *out = m.failed ? NULL : merge_build(c, &m, root);
    if (m.failed)
        out = NULL;
    merge_free(&m);
    return out;
}

/* Reads PATH for load_tree or scn_read_source; NULL with the error reported
 * (at FROM, the include entry, or at the top file itself). */
static char *read_source(cr_arena *arena, scn_diags *d, const char *path, const scn_node *from,
                         const char *at_path, size_t *size, bool *unreadable)
{
    int err;
    char *buf = scn_read_file(path, size, &err);
    if (buf)
        return buf;
    const char *file = cr_arena_strdup(arena, path);
    if (err == EFBIG) {
        scn_diag_at(d, SCN_SEV_ERROR, file, 1, 1, "", "file is too large (%zu bytes; the limit is %u bytes)",
                    *size, (unsigned)SCN_MAX_FILE_BYTES);
        return NULL;
    }
    const char *why = err == EINVAL ? "not a regular file" : strerror(err);
    if (from) {
        scn_error(d, from, at_path, "cannot read %s: %s", path, why);
    } else {
        scn_diag_at(d, SCN_SEV_ERROR, file, 0, 0, "", "cannot read %s: %s", path, why);
        if (unreadable)
            *unreadable = true;
    }
    return NULL;
}

/* BUF (SIZE bytes) as the content of PATH: parsed, its includes merged. */
static scn_node *parse_tree(inc_ctx *c, const char *path, const char *buf, size_t size)
{
    const char *file = cr_arena_strdup(c->arena, path);
    scn_node *root = scn_parse_buffer(c->arena, file, buf, size, c->d);
    if (!root || root->kind != SCN_NODE_MAP)
        return root;
    return resolve_includes(c, file, root);
}

static scn_node *load_tree(inc_ctx *c, const char *path, const scn_node *from, bool *unreadable)
{
    size_t size;
    char *buf = read_source(c->arena, c->d, path, from, c->at_path, &size, unreadable);
    if (!buf)
        return NULL;
    scn_node *root = parse_tree(c, path, buf, size);
    free(buf);
    return root;
}

/* The top of an include chain: PATH itself, read from disk (TEXT NULL) or
 * given as TEXT. */
static scn_node *load_top(cr_arena *arena, const char *path, const char *text, size_t len,
                          struct scn_diags *diags, bool *unreadable)
{
    if (unreadable)
        *unreadable = false;
    inc_ctx c = { .arena = arena, .d = diags };
    char *real = realpath(path, NULL);
    if (real) {
        c.seen = cr_xmalloc(sizeof *c.seen);
        c.seen[c.nseen++] = real;
        c.chain_real[0] = real;
        c.chain_name[0] = path;
        c.depth = 1;
    } else {
        c.chain_name[0] = path;   /* load_tree reports why it cannot be read */
    }
    scn_node *root = text ? parse_tree(&c, path, text, len) : load_tree(&c, path, NULL, unreadable);
    for (size_t i = 0; i < c.nseen; i++)
        free(c.seen[i]);
    free(c.seen);
    return root;
}

scn_node *scn_load_file(cr_arena *arena, const char *path, struct scn_diags *diags,
                        bool *unreadable)
{
    return load_top(arena, path, NULL, 0, diags, unreadable);
}

scn_node *scn_load_text(cr_arena *arena, const char *path, const char *text, size_t len,
                        struct scn_diags *diags)
{
    return load_top(arena, path, text ? text : "", text ? len : 0, diags, NULL);
}

char *scn_read_source(const char *path, size_t *len, struct scn_diags *diags, bool *unreadable)
{
    if (unreadable)
        *unreadable = false;
    /* The diagnostic's file name lives in the diagnostics' own arena. */
    return read_source(&diags->arena, diags, path, NULL, NULL, len, unreadable);
}

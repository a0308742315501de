/* route_index.c — the route table compiled for selection.
 *
 * Per route type, the enabled routes are ranked (priority high to low, then
 * file order): the first route in rank order whose conditions hold wins.
 * From each route's conditions we derive a necessary "key": the value of
 * one variable must equal one of some strings (equals, in, a dial pattern
 * without `_`) or start with one of some prefixes (starts_with, the literal
 * start of a dial pattern or of a `^...` regex). An all-group takes its most
 * selective item's key; an any-group the union of its items' keys (when all
 * of them have one). Routes without a key (schedules, expressions, `not`,
 * no conditions) go to the "always" list.
 *
 * Selection looks the call's values up — one hash probe for the exact value
 * and one per prefix length that some key has — giving rank-sorted candidate
 * lists; they are merged in rank order with the always list and the
 * candidates' full conditions evaluated until one holds. The key is only a
 * filter: the full conditions always decide, so the index can only ever
 * skip routes that could not hold. */
#include "route/route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"
#include "util/alloc.h"
#include "util/hash.h"

#define MAX_VARS 8          /* distinct indexed variables per type */
#define MAX_PREFIX 63       /* longer prefixes are cut: still a necessary condition */
#define MAX_LISTS 128

enum { KEY_EXACT, KEY_PREFIX };

typedef struct {
    uint8_t var, kind;
    uint32_t len;
    const char *s;
    uint32_t start, count;   /* slice of type_index.ranks */
} bucket;

typedef struct {
    const scn_route **routes;   /* enabled routes of the type, by rank */
    size_t count;
    size_t total;               /* routes of the type, disabled ones too */
    const char *vars[MAX_VARS];
    size_t var_len[MAX_VARS];
    size_t var_count;
    uint64_t prefix_lens[MAX_VARS];   /* bit L: some prefix key of length L */
    bucket *table;              /* open addressing, cap a power of two */
    size_t cap;
    uint32_t *ranks;
    uint32_t *always;
    size_t always_count;
    cr_arena *arena;            /* the index's: regex prefixes are copied here */
} type_index;

typedef struct route_index {
    type_index types[SCN_ROUTE__COUNT];
    cr_arena arena;
} route_index;

/* ---- keys of a condition ---- */

typedef struct {
    uint8_t var, kind;
    const char *s;
    size_t len;
} key;

typedef struct {
    key *items;
    size_t count, cap;
} keyset;

static void keyset_add(keyset *k, key x)
{
    if (k->count == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4;
        k->items = cr_xrealloc(k->items, k->cap * sizeof *k->items);
    }
    k->items[k->count++] = x;
}

static int var_id(type_index *ti, const char *name)
{
    for (size_t i = 0; i < ti->var_count; i++)
        if (strcmp(ti->vars[i], name) == 0)
            return (int)i;
    if (ti->var_count == MAX_VARS)
        return -1;
    ti->vars[ti->var_count] = name;
    ti->var_len[ti->var_count] = strlen(name);
    return (int)ti->var_count++;
}

/* Selectivity of a key set: exact keys beat prefixes, longer prefixes beat
 * shorter; 0 means useless (an empty prefix lets everything through). */
static size_t keyset_score(const keyset *k)
{
    size_t score = SIZE_MAX;
    for (size_t i = 0; i < k->count; i++) {
        size_t s = k->items[i].kind == KEY_EXACT ? 1000 : k->items[i].len;
        if (s < score)
            score = s;
    }
    return k->count ? score : 0;
}

/* Keys of a leaf, or false when it has none. */
static bool leaf_keys(type_index *ti, const scn_cond *c, keyset *out)
{
    int v;
    size_t plen;
    const char *p;
    switch (c->op) {
    case SCN_OP_EQUALS:
    case SCN_OP_STARTS_WITH:
    case SCN_OP_IN:
    case SCN_OP_PATTERN:
    case SCN_OP_MATCHES:
        break;
    default:
        return false;
    }
    if ((v = var_id(ti, c->var)) < 0)
        return false;
    switch (c->op) {
    case SCN_OP_EQUALS:
        keyset_add(out, (key){(uint8_t)v, KEY_EXACT, c->value, c->value_len});
        return true;
    case SCN_OP_IN:
        for (size_t i = 0; i < c->list_count; i++)
            keyset_add(out, (key){(uint8_t)v, KEY_EXACT, c->list[i], strlen(c->list[i])});
        return true;
    case SCN_OP_STARTS_WITH:
        keyset_add(out, (key){(uint8_t)v, KEY_PREFIX, c->value, c->value_len});
        return true;
    case SCN_OP_PATTERN:
        if (!c->pattern)
            return false;
        if (c->value[0] != '_') {   /* a literal number */
            keyset_add(out, (key){(uint8_t)v, KEY_EXACT, c->value, c->value_len});
            return true;
        }
        p = scn_dialpat_prefix(c->pattern, &plen);
        keyset_add(out, (key){(uint8_t)v, KEY_PREFIX, p, plen});
        return true;
    case SCN_OP_MATCHES:
        p = route_regex_prefix(c->value, c->value_len, &plen, ti->arena);
        if (!p)
            return false;
        keyset_add(out, (key){(uint8_t)v, KEY_PREFIX, p, plen});
        return true;
    default:
        return false;
    }
}

/* Keys of any condition; false when it cannot be indexed. */
static bool cond_keys(type_index *ti, const scn_cond *c, keyset *out)
{
    switch (c->kind) {
    case SCN_COND_VAR:
        return leaf_keys(ti, c, out);
    case SCN_COND_GROUP:
        if (c->count == 0)
            return false;
        if (c->any) {
            for (size_t i = 0; i < c->count; i++)
                if (!cond_keys(ti, c->items[i], out))
                    return false;
            return keyset_score(out) > 0;
        } else {
            keyset best = {0};
            size_t best_score = 0;
            for (size_t i = 0; i < c->count; i++) {
                keyset k = {0};
                size_t s = cond_keys(ti, c->items[i], &k) ? keyset_score(&k) : 0;
                if (s > best_score || (s == best_score && s > 0 && k.count < best.count)) {
                    free(best.items);
                    best = k;
                    best_score = s;
                } else {
                    free(k.items);
                }
            }
            for (size_t i = 0; i < best.count; i++)
                keyset_add(out, best.items[i]);
            free(best.items);
            return best_score > 0;
        }
    default:
        return false;
    }
}

/* ---- hash table ---- */

static uint64_t hash_start(uint8_t var, uint8_t kind)
{
    return cr_fnv1a64_byte(cr_fnv1a64_byte(CR_FNV64_BASIS, var), kind);
}

static uint64_t hash_key(uint8_t var, uint8_t kind, const char *s, size_t len)
{
    uint64_t h = hash_start(var, kind);
    for (size_t i = 0; i < len; i++)
        h = cr_fnv1a64_byte(h, (unsigned char)s[i]);
    return h;
}

static const bucket *table_get(const type_index *ti, uint64_t h, uint8_t var, uint8_t kind,
                               const char *s, size_t len)
{
    if (!ti->cap)
        return NULL;
    for (size_t j = h & (ti->cap - 1);; j = (j + 1) & (ti->cap - 1)) {
        const bucket *b = &ti->table[j];
        if (!b->s)
            return NULL;
        if (b->var == var && b->kind == kind && b->len == len && memcmp(b->s, s, len) == 0)
            return b;
    }
}

typedef struct {
    key k;
    uint32_t rank;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->k.var != y->k.var)
        return x->k.var - y->k.var;
    if (x->k.kind != y->k.kind)
        return x->k.kind - y->k.kind;
    if (x->k.len != y->k.len)
        return x->k.len < y->k.len ? -1 : 1;
    int c = memcmp(x->k.s, y->k.s, x->k.len);
    if (c)
        return c;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int rank_cmp(const void *a, const void *b)
{
    const scn_route *x = *(const scn_route *const *)a, *y = *(const scn_route *const *)b;
    if (x->priority != y->priority)
        return y->priority - x->priority;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const char empty_key[1] = "";

static void build_type(route_index *ri, const scn_program *p, scn_route_type type)
{
    type_index *ti = &ri->types[type];
    ti->arena = &ri->arena;
    size_t n = 0;
    for (size_t i = 0; i < p->route_count; i++) {
        n += p->routes[i].type == type && p->routes[i].enabled;
        ti->total += p->routes[i].type == type;
    }
    ti->routes = cr_arena_alloc(&ri->arena, (n ? n : 1) * sizeof *ti->routes);
    for (size_t i = 0; i < p->route_count; i++)
        if (p->routes[i].type == type && p->routes[i].enabled)
            ti->routes[ti->count++] = &p->routes[i];
    qsort(ti->routes, ti->count, sizeof *ti->routes, rank_cmp);

    entry *es = NULL;
    size_t ne = 0, ce = 0;
    ti->always = cr_arena_alloc(&ri->arena, (n ? n : 1) * sizeof *ti->always);
    for (size_t r = 0; r < ti->count; r++) {
        keyset k = {0};
        const scn_cond *c = ti->routes[r]->cond;
        if (!c || !cond_keys(ti, c, &k)) {
            ti->always[ti->always_count++] = (uint32_t)r;
            free(k.items);
            continue;
        }
        for (size_t i = 0; i < k.count; i++) {
            key x = k.items[i];
            if (x.kind == KEY_PREFIX && x.len > MAX_PREFIX)
                x.len = MAX_PREFIX;
            if (!x.s)
                x.s = empty_key;
            if (ne == ce) {
                ce = ce ? ce * 2 : 64;
                es = cr_xrealloc(es, ce * sizeof *es);
            }
            es[ne++] = (entry){x, (uint32_t)r};
        }
        free(k.items);
    }
    if (ne)
        qsort(es, ne, sizeof *es, entry_cmp);
    ti->ranks = cr_arena_alloc(&ri->arena, (ne ? ne : 1) * sizeof *ti->ranks);
    size_t distinct = 0;
    for (size_t i = 0; i < ne; i++)
        distinct += i == 0 || entry_cmp(&(entry){es[i - 1].k, 0}, &(entry){es[i].k, 0}) != 0;
    ti->cap = 16;
    while (ti->cap < distinct * 2)
        ti->cap *= 2;
    ti->table = cr_arena_alloc(&ri->arena, ti->cap * sizeof *ti->table);
    size_t out = 0;
    for (size_t i = 0; i < ne;) {
        size_t j = i;
        size_t start = out;
        while (j < ne && entry_cmp(&(entry){es[i].k, 0}, &(entry){es[j].k, 0}) == 0) {
            /* The same route twice under one key (in: ['1', '1']) once. */
            if (out == start || ti->ranks[out - 1] != es[j].rank)
                ti->ranks[out++] = es[j].rank;
            j++;
        }
        const key *x = &es[i].k;
        uint64_t h = hash_key(x->var, x->kind, x->s, x->len);
        size_t slot = h & (ti->cap - 1);
        while (ti->table[slot].s)
            slot = (slot + 1) & (ti->cap - 1);
        ti->table[slot] = (bucket){x->var, x->kind, (uint32_t)x->len, x->s, (uint32_t)start,
                                   (uint32_t)(out - start)};
        if (x->kind == KEY_PREFIX)
            ti->prefix_lens[x->var] |= 1ull << x->len;
        i = j;
    }
    free(es);
}

static void index_free_cb(void *arg)
{
    route_index *ri = arg;
    cr_arena_free(&ri->arena);
    free(ri);
}

void route_prepare(scn_program *p)
{
    if (p->route_index)
        return;
    route_index *ri = cr_xcalloc(1, sizeof *ri);
    cr_arena_init(&ri->arena, 16384);
    for (int t = 0; t < SCN_ROUTE__COUNT; t++)
        build_type(ri, p, (scn_route_type)t);
    p->route_index = ri;
    p->route_index_free = index_free_cb;
}

/* ---- selection ---- */

typedef struct {
    const uint32_t *at, *end;
} cursor;

static void trail_add(route_trail *tr, const scn_route *r)
{
    tr->evaluated++;
    if (tr->count < tr->cap)
        tr->items[tr->count++] = r;
}

static const scn_route *first_holding(const type_index *ti, const scn_env *env, route_trail *tr)
{
    for (size_t r = 0; r < ti->count; r++) {
        trail_add(tr, ti->routes[r]);
        if (!ti->routes[r]->cond || scn_cond_eval(ti->routes[r]->cond, env, NULL))
            return ti->routes[r];
    }
    return NULL;
}

static const type_index *type_of(const scn_program *p, scn_route_type type)
{
    if (!p->route_index)
        route_prepare((scn_program *)p);
    if ((unsigned)type >= SCN_ROUTE__COUNT)
        return NULL;
    return &((const route_index *)p->route_index)->types[type];
}

const scn_route *route_select_linear(const scn_program *p, scn_route_type type, const scn_env *env)
{
    const type_index *ti = type_of(p, type);
    route_trail tr = {0};
    return ti ? first_holding(ti, env, &tr) : NULL;
}

static void add_list(cursor *lists, size_t *n, const bucket *b, const uint32_t *ranks)
{
    if (b && b->count && *n < MAX_LISTS) {
        lists[*n].at = ranks + b->start;
        lists[*n].end = ranks + b->start + b->count;
        (*n)++;
    }
}

static const scn_route *select_indexed(const type_index *ti, const scn_env *env, route_trail *tr)
{
    cursor lists[MAX_LISTS];
    size_t n = 0;
    if (ti->always_count) {
        lists[n].at = ti->always;
        lists[n].end = ti->always + ti->always_count;
        n++;
    }
    for (size_t v = 0; v < ti->var_count; v++) {
        cr_value val = cr_val_null();
        bool def = env->lookup && env->lookup(env->ctx, ti->vars[v], ti->var_len[v], &val);
        const char *s = "";
        size_t len = 0;
        if (def && val.kind == CR_VAL_STR) {
            s = val.str;
            len = val.len;
        } else if (def && val.kind != CR_VAL_NULL) {
            /* A number or a boolean: equality may be numeric; play safe. */
            return first_holding(ti, env, tr);
        }
        add_list(lists, &n, table_get(ti, hash_key((uint8_t)v, KEY_EXACT, s, len), (uint8_t)v,
                                      KEY_EXACT, s, len), ti->ranks);
        uint64_t lens = ti->prefix_lens[v];
        uint64_t h = hash_start((uint8_t)v, KEY_PREFIX);
        for (size_t l = 0; lens && l <= len && l <= MAX_PREFIX; l++) {
            if (lens & 1ull << l) {
                add_list(lists, &n, table_get(ti, h, (uint8_t)v, KEY_PREFIX, s, l), ti->ranks);
                lens &= ~(1ull << l);
            }
            if (l < len)
                h = cr_fnv1a64_byte(h, (unsigned char)s[l]);
        }
        if (n == MAX_LISTS)
            return first_holding(ti, env, tr);
    }
    /* Merge in rank order; the first candidate that holds wins. */
    uint32_t last = UINT32_MAX;
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (lists[i].at < lists[i].end && (best == SIZE_MAX || *lists[i].at < *lists[best].at))
                best = i;
        if (best == SIZE_MAX)
            return NULL;
        uint32_t r = *lists[best].at++;
        if (r == last)
            continue;
        last = r;
        const scn_route *rt = ti->routes[r];
        trail_add(tr, rt);
        if (!rt->cond || scn_cond_eval(rt->cond, env, NULL))
            return rt;
    }
}

const scn_route *route_select(const scn_program *p, scn_route_type type, const scn_env *env,
                              cr_strbuf *explain)
{
    const type_index *ti = type_of(p, type);
    if (!ti)
        return NULL;
    const scn_route *seen[ROUTE_EXPLAIN_FULL];
    route_trail tr = {seen, 0, explain ? ROUTE_EXPLAIN_FULL : 0, 0};
    const scn_route *r = select_indexed(ti, env, &tr);
    if (explain && ti->total <= ROUTE_EXPLAIN_FULL) {
        route_explanation e;
        route_explain(p, type, env, &e);
        route_explanation_text(&e, explain);
        route_explanation_free(&e);
    } else if (explain) {
        /* A big table: only what the index looked at, then a count. */
        route_explain_trail(&tr, r, ti->total, type, env, explain);
    }
    return r;
}

const scn_route *route_select_counted(const scn_program *p, int type, const scn_env *env,
                                      size_t *evaluated)
{
    route_trail tr = {0};
    const type_index *ti = type_of(p, (scn_route_type)type);
    const scn_route *r = ti ? select_indexed(ti, env, &tr) : NULL;
    *evaluated = tr.evaluated;
    return r;
}

/* program.c — the compiled program's life (reference count, release hooks)
 * and its name lookups. */
#include "scenario/program.h"

#include <stdlib.h>
#include <string.h>

#include "scenario/compile_int.h"
#include "util/hash.h"

const char *const scn_route_type_names[] = {
#define SCN_RT_NAME(e, s) s,
    SCN_ROUTE_TYPES(SCN_RT_NAME)
#undef SCN_RT_NAME
    NULL};

const char *const scn_group_strategy_names[] = {
#define SCN_GS_NAME(e, s) s,
    SCN_GROUP_STRATEGIES(SCN_GS_NAME)
#undef SCN_GS_NAME
    NULL};

struct scn_release {
    void (*fn)(void *);
    void *arg;
    struct scn_release *next;
};

/* FNV-1a: short names, a few thousand of them at most per table. */
static size_t hash_str(const char *s)
{
    return (size_t)cr_fnv1a64_str(CR_FNV64_BASIS, s);
}

static void strmap_grow(cr_arena *a, scn_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    const char **keys = cr_arena_alloc(a, cap * sizeof *keys);
    void **vals = cr_arena_alloc(a, cap * sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = hash_str(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    /* The old arrays stay in the arena: at most as much again. */
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

void *scn_strmap_put(cr_arena *a, scn_strmap *m, const char *key, void *val)
{
    if ((m->count + 1) * 2 > m->cap)
        strmap_grow(a, m);
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->count++;
    return NULL;
}

void *scn_strmap_get(const scn_strmap *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

scn_program *scn_program_ref(scn_program *p)
{
    if (p)
        __atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
    return p;
}

void scn_program_unref(scn_program *p)
{
    if (!p || __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (p->route_index && p->route_index_free)
        p->route_index_free(p->route_index);
    /* Newest first: later registrations may depend on earlier ones. */
    for (struct scn_release *r = p->releases; r; r = r->next)
        r->fn(r->arg);
    cr_arena_free(&p->arena);
    free(p);
}

void scn_program_on_release(scn_program *p, void (*fn)(void *), void *arg)
{
    struct scn_release *r = cr_arena_alloc(&p->arena, sizeof *r);
    r->fn = fn;
    r->arg = arg;
    r->next = p->releases;
    p->releases = r;
}

#define LOOKUP(fn, type, field)                                                \
    const type *fn(const scn_program *p, const char *name)                     \
    {                                                                          \
        return p && p->lookup ? scn_strmap_get(&p->lookup->field, name) : NULL; \
    }

LOOKUP(scn_program_user, scn_user, users)
LOOKUP(scn_program_group, scn_group, groups)
LOOKUP(scn_program_gateway, scn_gateway, gateways)
LOOKUP(scn_program_queue, scn_queue, queues)
LOOKUP(scn_program_database, scn_database, databases)
LOOKUP(scn_program_conference, scn_conference, conferences)
LOOKUP(scn_program_scenario, scn_named_scenario, scenarios)
LOOKUP(scn_program_route, scn_route, routes)

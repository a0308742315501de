/* compile_routes.c — named scenarios and routes, and the warnings about
 * them: a route shadowed by an earlier one, a scenario nobody uses. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/compile_int.h"
#include "util/alloc.h"
#include "util/hash.h"

/* ---- named scenarios ----------------------------------------------------- */

static const char **scenario_names(scn_cx *x)
{
    scn_program *p = x->pub.prog;
    const char **v = cr_arena_alloc(x->pub.arena, (p->scenario_count + 1) * sizeof *v);
    for (size_t i = 0; i < p->scenario_count; i++)
        v[i] = p->scenarios[i].name;
    return v;
}

const scn_named_scenario *scn_ref_scenario(scn_cx *x, const scn_node *n)
{
    const char *name = scn_expect_string(x, n, "the name of a scenario (from scenarios:)");
    if (!name)
        return NULL;
    scn_named_scenario *s = scn_strmap_get(&x->pub.prog->lookup->scenarios, name);
    if (s) {
        x->scenario_used[s - x->pub.prog->scenarios] = true;
        return s;
    }
    const char *sug = scn_suggest(name, scenario_names(x));
    if (sug)
        scn_cx_error(&x->pub, n, "unknown scenario '%s'; did you mean '%s'?", name, sug);
    else
        scn_cx_error(&x->pub, n, "unknown scenario '%s' (not in scenarios:)", name);
    return NULL;
}

/* Pass 1: names and arguments, so that any script may call any scenario. */
void scn_declare_scenarios(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"args", "script", "comment", NULL};
    scn_program *p = x->pub.prog;
    if (!n || scn_is_null(n)) {
        x->scenario_used = cr_arena_alloc(x->pub.arena, sizeof *x->scenario_used);
        return;
    }
    SCN_WITH_KEY(x, "scenarios") {
        if (scn_expect_map(x, n, "scenarios (name: {args, script})")) {
            p->scenarios = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->scenarios);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
                scn_named_scenario *s = &p->scenarios[p->scenario_count];
                s->name = k->str;
                SCN_WITH_KEY(x, k->str) {
                    s->path = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
                    if (scn_expect_map(x, v, "a scenario ({args, script})")) {
                        scn_check_keys(x, v, keys, "a scenario");
                        const scn_node *a = scn_map_get(v, "args");
                        if (a && !(a->kind == SCN_NODE_SCALAR && scn_is_null(a)))
                            SCN_WITH_KEY(x, "args") {
                                if (a->kind != SCN_NODE_SEQ) {
                                    char buf[64];
                                    scn_cx_error(&x->pub, a, "expected a list of argument names, got %s",
                                                 scn_node_describe(a, buf, sizeof buf));
                                } else {
                                    s->args = cr_arena_alloc(x->pub.arena, (a->count + 1) * sizeof *s->args);
                                    for (size_t j = 0; j < a->count; j++)
                                        SCN_WITH_INDEX(x, j) {
                                            const char *arg = scn_expect_string(x, a->items[j], "an argument name");
                                            for (size_t m = 0; arg && m < s->arg_count; m++)
                                                if (strcmp(s->args[m], arg) == 0) {
                                                    scn_cx_error(&x->pub, a->items[j], "argument '%s' is listed twice", arg);
                                                    arg = NULL;
                                                }
                                            if (arg)
                                                s->args[s->arg_count++] = arg;
                                        }
                                }
                            }
                        if (!scn_map_get(v, "script"))
                            scn_cx_error(&x->pub, v, "scenario '%s' needs 'script' (a list of actions)", k->str);
                    }
                }
                if (!scn_strmap_put(x->pub.arena, &p->lookup->scenarios, s->name, s))
                    p->scenario_count++;
            }
        }
    }
    x->scenario_used = cr_arena_alloc(x->pub.arena, (p->scenario_count + 1) * sizeof *x->scenario_used);
}

/* Pass 2: the scripts. */
void scn_compile_scenarios(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    if (!n || n->kind != SCN_NODE_MAP)
        return;
    SCN_WITH_KEY(x, "scenarios") {
        for (size_t i = 0; i < n->count; i++) {
            const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
            scn_named_scenario *s = scn_strmap_get(&p->lookup->scenarios, k->str);
            const scn_node *script = v->kind == SCN_NODE_MAP ? scn_map_get(v, "script") : NULL;
            if (!s || !script)
                continue;
            SCN_WITH_KEY(x, k->str) SCN_WITH_KEY(x, "script") scn_compile_actions(&x->pub, script, &s->script);
        }
    }
}

void scn_warn_unused_scenarios(scn_cx *x)
{
    scn_program *p = x->pub.prog;
    const scn_node *n = x->pub.root->kind == SCN_NODE_MAP ? scn_map_get(x->pub.root, "scenarios") : NULL;
    if (!n || n->kind != SCN_NODE_MAP)
        return;
    SCN_WITH_KEY(x, "scenarios") {
        for (size_t i = 0; i < n->count; i++) {
            const scn_node *k = n->pairs[i].key;
            scn_named_scenario *s = scn_strmap_get(&p->lookup->scenarios, k->str);
            if (s && !x->scenario_used[s - p->scenarios])
                SCN_WITH_KEY(x, k->str)
                    scn_cx_warning(&x->pub, k,
                                   "scenario '%s' is never used (no route, `app: scenario` or `originate` "
                                   "names it; only the admin API's POST /calls could run it)",
                                   k->str);
        }
    }
}

/* ---- routes -------------------------------------------------------------- */

/* What the shadowing check needs of each route. */
typedef struct route_shape {
    const scn_node *conds;     /* NULL: no conditions */
    bool any;
    uint64_t hash;
    size_t index;
} route_shape;

static uint64_t node_hash(const scn_node *n)
{
    uint64_t h = CR_FNV64_BASIS ^ (uint64_t)n->kind;
    if (n->kind == SCN_NODE_SCALAR) {
        h = cr_fnv1a64(h, n->str, n->len);
    } else if (n->kind == SCN_NODE_SEQ) {
        for (size_t i = 0; i < n->count; i++)
            h = (h ^ node_hash(n->items[i])) * CR_FNV64_PRIME;
    } else {
        uint64_t sum = 0;   /* key order does not matter in a mapping */
        for (size_t i = 0; i < n->count; i++)
            sum += node_hash(n->pairs[i].key) * 31 + node_hash(n->pairs[i].val);
        h = (h ^ sum) * CR_FNV64_PRIME;
    }
    return h;
}

static bool node_equal(const scn_node *a, const scn_node *b)
{
    if (a->kind != b->kind || a->count != b->count)
        return false;
    if (a->kind == SCN_NODE_SCALAR)
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    if (a->kind == SCN_NODE_SEQ) {
        for (size_t i = 0; i < a->count; i++)
            if (!node_equal(a->items[i], b->items[i]))
                return false;
        return true;
    }
    for (size_t i = 0; i < a->count; i++) {
        const scn_node *bv = scn_map_get(b, a->pairs[i].key->str);
        if (!bv || !node_equal(a->pairs[i].val, bv))
            return false;
    }
    return true;
}

static int shape_cmp(const void *pa, const void *pb)
{
    const route_shape *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void warn_shadowed_at(scn_cx *x, const scn_route *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn_shadowed_at(scn_cx *x, const scn_route *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scn_diag_at(x->pub.diags, SCN_SEV_WARNING, r->file, r->line, r->col, r->path, "%s", msg);
}

static void warn_shadowed(scn_cx *x, route_shape *shapes)
{
    scn_program *p = x->pub.prog;
    size_t n = p->route_count;
    bool *warned = cr_xcalloc(n + 1, sizeof *warned);
    /* 1. An always-matching route shadows every route of its type below its
     * priority, and those of equal priority after it. */
    for (int t = 0; t < SCN_ROUTE__COUNT; t++) {
        const scn_route *top = NULL;
        for (size_t i = 0; i < n; i++) {
            const scn_route *r = &p->routes[i];
            if (r->type == (scn_route_type)t && r->enabled && !shapes[i].conds && (!top || r->priority > top->priority))
                top = r;
        }
        for (size_t i = 0; top && i < n; i++) {
            const scn_route *r = &p->routes[i];
            if (r == top || r->type != (scn_route_type)t || !r->enabled)
                continue;
            if (r->priority < top->priority || (r->priority == top->priority && r->order > top->order)) {
                warned[i] = true;
                warn_shadowed_at(x, r,
                                 "route '%s' can never run: route '%s' (%s:%u) has no conditions, so it takes "
                                 "every %s call at priority %d%s",
                                 r->name, top->name, top->file, top->line, scn_route_type_names[t], top->priority,
                                 r->priority == top->priority ? " and comes first" : "");
            }
        }
    }
    /* 2. Identical conditions at the same type and priority: the earlier wins. */
    route_shape *sorted = cr_xmalloc((n + 1) * sizeof *sorted);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (shapes[i].conds && p->routes[i].enabled && !warned[i])
            sorted[m++] = shapes[i];
    qsort(sorted, m, sizeof *sorted, shape_cmp);
    for (size_t start = 0; start < m;) {
        size_t end = start + 1;
        while (end < m && sorted[end].hash == sorted[start].hash)
            end++;
        for (size_t j = start + 1; j < end; j++) {
            const scn_route *r = &p->routes[sorted[j].index];
            for (size_t i = start; i < j; i++) {
                const scn_route *e = &p->routes[sorted[i].index];
                if (e->type == r->type && e->priority == r->priority && sorted[i].any == sorted[j].any &&
                    node_equal(sorted[i].conds, sorted[j].conds)) {
                    warn_shadowed_at(x, r,
                                     "route '%s' can never run: route '%s' (%s:%u) comes first with the same "
                                     "type, priority and conditions",
                                     r->name, e->name, e->file, e->line);
                    break;
                }
            }
        }
        start = end;
    }
    free(sorted);
    free(warned);
}

static const char *const route_keys[] = {"name", "type", "priority", "match", "conditions", "script",
                                         "scenario", "enabled", "hold_music", "media", "comment", NULL};
static const char *const match_choices[] = {"all", "any", NULL};
static const char *const media_choices[] = {"anchor", "bypass", NULL};

static void compile_route(scn_cx *x, const scn_node *n, scn_route *r, route_shape *shape)
{
    scn_program *p = x->pub.prog;
    r->type = SCN_ROUTE_FROM_GATEWAY;
    r->priority = 50;
    r->enabled = true;
    r->file = n->file;
    r->line = n->line;
    r->col = n->col;
    r->path = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
    if (!scn_expect_map(x, n, "a route ({name, type, priority, conditions, script})"))
        return;
    scn_check_keys(x, n, route_keys, "a route");
    const scn_node *v;
    if (!(v = scn_map_get(n, "name")))
        scn_cx_error(&x->pub, n, "a route needs 'name' (unique)");
    else
        SCN_WITH_KEY(x, "name") {
            r->name = scn_expect_string(x, v, "a route name");
            const scn_route *first = r->name ? scn_strmap_put(x->pub.arena, &p->lookup->routes, r->name, r) : NULL;
            if (first)
                scn_cx_error(&x->pub, v, "duplicate route name '%s' (first used at %s:%u)", r->name, first->file,
                             first->line);
        }
    const char *shown = r->name ? r->name : "(unnamed)";
    if ((v = scn_map_get(n, "type")))
        SCN_WITH_KEY(x, "type") {
            int e;
            if (scn_expect_enum(x, v, scn_route_type_names, &e))
                r->type = (scn_route_type)e;
        }
    if ((v = scn_map_get(n, "priority")))
        SCN_WITH_KEY(x, "priority") {
            long l;
            if (scn_expect_int(x, v, 0, 99, &l))
                r->priority = (int)l;
        }
    if ((v = scn_map_get(n, "enabled")))
        SCN_WITH_KEY(x, "enabled") scn_expect_bool(x, v, &r->enabled);
    if ((v = scn_map_get(n, "hold_music")))
        SCN_WITH_KEY(x, "hold_music") {
            const char *f = scn_expect_string(x, v, "a prompt file below settings.media.sounds, or off");
            bool b;
            if (f && (strcmp(f, "off") == 0 || (scn_scalar_bool(v, &b) && !b))) {
                r->hold_music_off = true;
            } else if (f) {
                r->hold_music = f;
                scn_check_sound_file(x, v, "hold_music", f);
            }
        }
    /* settings.media.mode is the default; a message has no media at all. */
    r->media_bypass = p->settings.media_bypass && r->type != SCN_ROUTE_MESSAGE;
    if ((v = scn_map_get(n, "media")))
        SCN_WITH_KEY(x, "media") {
            int e;
            if (scn_expect_enum(x, v, media_choices, &e))
                r->media_bypass = e == 1;
        }
    const scn_node *match = scn_map_get(n, "match");
    if (match)
        SCN_WITH_KEY(x, "match") {
            int e;
            if (scn_expect_enum(x, match, match_choices, &e))
                shape->any = e == 1;
            else
                match = NULL;   /* reported; keep the condition compiler quiet about it */
        }
    const scn_node *conds = scn_map_get(n, "conditions");
    bool none = !conds || (conds->kind == SCN_NODE_SCALAR && scn_is_null(conds)) ||
                (conds->kind == SCN_NODE_SEQ && conds->count == 0);
    if (!none)
        SCN_WITH_KEY(x, "conditions") {
            scn_cond *c = scn_cond_compile(&x->pub, conds, match);
            r->cond = c;
            shape->conds = conds;
            shape->hash = node_hash(conds) ^ (uint64_t)r->type * 7919 ^ (uint64_t)r->priority * 104729;
        }
    const scn_node *script = scn_map_get(n, "script"), *scen = scn_map_get(n, "scenario");
    if (script && scen)
        SCN_WITH_KEY(x, "scenario")
            scn_cx_error(&x->pub, scen, "route '%s' has both 'script' and 'scenario'; give one of them", shown);
    else if (!script && !scen)
        scn_cx_error(&x->pub, n, "%s%s%s needs 'script' (a list of actions) or 'scenario' (a name)",
                     r->name ? "route '" : "this route", r->name ? r->name : "", r->name ? "'" : "");
    if (script) {
        /* A message has no media and no call to control: those apps are
         * errors in its script (a named scenario is checked when it runs). */
        x->message_route = r->type == SCN_ROUTE_MESSAGE;
        x->bypass_route = r->media_bypass;
        SCN_WITH_KEY(x, "script") scn_compile_actions(&x->pub, script, &r->script);
        x->message_route = false;
        x->bypass_route = false;
    } else if (scen)
        SCN_WITH_KEY(x, "scenario") {
            r->scenario = scn_ref_scenario(x, scen);
            if (r->scenario && r->scenario->arg_count)
                scn_cx_warning(&x->pub, scen,
                               "scenario '%s' takes arguments (%s, ...), which a route cannot pass: they start empty",
                               r->scenario->name, r->scenario->args[0]);
        }
}

void scn_compile_routes(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    if (!n || (n->kind == SCN_NODE_SCALAR && scn_is_null(n))) {
        scn_cx_warning(&x->pub, x->pub.root, "no routes: every call will be rejected");
        return;
    }
    size_t errors = x->pub.diags->errors;
    SCN_WITH_KEY(x, "routes") {
        if (n->kind != SCN_NODE_SEQ) {
            char buf[64];
            scn_cx_error(&x->pub, n, "expected routes to be a list of routes, got %s",
                         scn_node_describe(n, buf, sizeof buf));
        } else {
            p->routes = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->routes);
            route_shape *shapes = cr_xcalloc(n->count + 1, sizeof *shapes);
            for (size_t i = 0; i < n->count; i++) {
                scn_route *r = &p->routes[i];
                r->order = i;
                shapes[i].index = i;
                SCN_WITH_INDEX(x, i) compile_route(x, n->items[i], r, &shapes[i]);
            }
            p->route_count = n->count;
            /* Only about a file that is otherwise sound: noise next to real errors. */
            if (x->pub.diags->errors == errors)
                warn_shadowed(x, shapes);
            free(shapes);
        }
    }
}

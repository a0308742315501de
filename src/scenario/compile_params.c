/* compile_params.c — the generic parameter compiler: reads an application's
 * scn_param table and turns the action's mapping into its typed struct
 * (STYLE.md: check once, at load). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "scenario/compile_int.h"
#include "scenario/events.h"
#include "util/path.h"

const char *const scn_param_type_names[] = {
    [P_STRING] = "string",       [P_TEMPLATE] = "template",   [P_EXPR] = "expression",
    [P_DURATION] = "duration",   [P_NUMBER] = "number",       [P_INT] = "integer",
    [P_BOOL] = "boolean",        [P_ENUM] = "enum",           [P_ACTIONS] = "actions",
    [P_CONDITION] = "condition", [P_TEMPLATES] = "templates", [P_TEMPLATE_MAP] = "template map",
    [P_STRING_MAP] = "string map", [P_CASES] = "cases",       [P_EVENTS] = "events",
    [P_HANDLERS] = "handlers",   [P_JSON] = "json",           [P_GATEWAYS] = "gateways",
    [P_DATABASE] = "database",   [P_SCENARIO] = "scenario",   [P__TYPE_COUNT] = NULL,
};

static const char *const common_keys[] = {"app", "id", "label", "comment", "disabled", "on_error", "timeout", NULL};

/* ---- references ---------------------------------------------------------- */

/* A name that must be one of a section's entries; reports a miss with the
 * closest known name. NAMES is read through STRIDE-spaced structs whose first
 * member is the name. */
static void unknown_ref(scn_cx *x, const scn_node *n, const char *kind, const char *where,
                        const char *name, const void *entries, size_t count, size_t stride)
{
    const char **names = cr_arena_alloc(x->pub.arena, (count + 1) * sizeof *names);
    for (size_t i = 0; i < count; i++)
        names[i] = *(const char *const *)((const char *)entries + i * stride);
    const char *s = scn_suggest(name, names);
    if (s)
        scn_cx_error(&x->pub, n, "unknown %s '%s'; did you mean '%s'?", kind, name, s);
    else
        scn_cx_error(&x->pub, n, "unknown %s '%s' (not in %s)", kind, name, where);
}

const scn_gateway *scn_ref_gateway(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    const char *name = scn_expect_string(x, n, "a gateway name (from gateways:)");
    if (!name)
        return NULL;
    const scn_gateway *g = scn_program_gateway(p, name);
    if (!g)
        unknown_ref(x, n, "gateway", "gateways:", name, p->gateways, p->gateway_count, sizeof *p->gateways);
    return g;
}

const scn_database *scn_ref_database(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    const char *name = scn_expect_string(x, n, "a database name (from settings.databases)");
    if (!name)
        return NULL;
    const scn_database *d = scn_program_database(p, name);
    if (!d)
        unknown_ref(x, n, "database", "settings.databases", name, p->databases, p->database_count,
                    sizeof *p->databases);
    return d;
}

/* ---- composite types ------------------------------------------------------ */

/* One scalar or a list of them: the items to walk (with per-item paths). */
static bool as_list(scn_cx *x, const scn_node *v, const char *what, const scn_node *const **items, size_t *count,
                    const scn_node **one)
{
    if (v->kind == SCN_NODE_SEQ) {
        *items = (const scn_node *const *)v->items;
        *count = v->count;
        return true;
    }
    if (v->kind == SCN_NODE_SCALAR && !(scn_is_null(v) && !v->quoted)) {
        *one = v;
        *items = one;
        *count = 1;
        return true;
    }
    char buf[64];
    scn_cx_error(&x->pub, v, "expected %s or a list of them, got %s", what, scn_node_describe(v, buf, sizeof buf));
    return false;
}

static void compile_templates(scn_cx *x, const scn_node *v, scn_templates *out)
{
    const scn_node *const *items, *one;
    size_t count;
    if (!as_list(x, v, "a template", &items, &count, &one))
        return;
    out->items = cr_arena_alloc(x->pub.arena, (count + 1) * sizeof *out->items);
    for (size_t i = 0; i < count; i++) {
        size_t old = v->kind == SCN_NODE_SEQ ? scn_path_index(&x->pub.path, i) : x->pub.path.len;
        out->items[i] = scn_compile_template(&x->pub, items[i]);
        scn_path_pop(&x->pub.path, old);
    }
    out->count = count;
}

static void compile_gateways(scn_cx *x, const scn_node *v, scn_refs *out)
{
    const scn_node *const *items, *one;
    size_t count;
    if (!as_list(x, v, "a gateway name", &items, &count, &one))
        return;
    out->items = cr_arena_alloc(x->pub.arena, (count + 1) * sizeof *out->items);
    for (size_t i = 0; i < count; i++) {
        size_t old = v->kind == SCN_NODE_SEQ ? scn_path_index(&x->pub.path, i) : x->pub.path.len;
        out->items[i] = scn_ref_gateway(x, items[i]);
        scn_path_pop(&x->pub.path, old);
    }
    out->count = count;
}

static bool expect_map_of(scn_cx *x, const scn_node *v, const char *what)
{
    if (v->kind == SCN_NODE_MAP)
        return true;
    char buf[64];
    scn_cx_error(&x->pub, v, "expected %s, got %s", what, scn_node_describe(v, buf, sizeof buf));
    return false;
}

static void compile_template_map(scn_cx *x, const scn_node *v, scn_template_map *out)
{
    if (!expect_map_of(x, v, "a mapping of name: template"))
        return;
    out->names = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->names);
    out->items = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->items);
    for (size_t i = 0; i < v->count; i++)
        SCN_WITH_KEY(x, v->pairs[i].key->str) {
            out->names[i] = v->pairs[i].key->str;
            out->items[i] = scn_compile_template(&x->pub, v->pairs[i].val);
        }
    out->count = v->count;
}

static void compile_string_map(scn_cx *x, const scn_node *v, scn_string_map *out)
{
    if (!expect_map_of(x, v, "a mapping of name: text"))
        return;
    out->names = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->names);
    out->items = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->items);
    for (size_t i = 0; i < v->count; i++)
        SCN_WITH_KEY(x, v->pairs[i].key->str) {
            out->names[i] = v->pairs[i].key->str;
            out->items[i] = scn_expect_string(x, v->pairs[i].val, "text");
        }
    out->count = v->count;
}

/* With CHOICES (NULL-terminated) the keys must be among them (an
 * application's outcomes: queue's `on:`). */
static void compile_cases(scn_cx *x, const scn_node *v, scn_cases *out, const char *const *choices)
{
    if (!expect_map_of(x, v, "a mapping of value: [actions]"))
        return;
    out->keys = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->keys);
    scn_actions *lists = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *lists);
    for (size_t i = 0; i < v->count; i++)
        SCN_WITH_KEY(x, v->pairs[i].key->str) {
            out->keys[i] = v->pairs[i].key->str;
            if (choices) {
                size_t c = 0;
                while (choices[c] && strcmp(choices[c], out->keys[i]) != 0)
                    c++;
                if (!choices[c]) {
                    char list[256];
                    const char *sug = scn_suggest(out->keys[i], choices);
                    if (sug)
                        scn_cx_error(&x->pub, v->pairs[i].key, "unknown outcome '%s'; did you mean '%s'?",
                                     out->keys[i], sug);
                    else
                        scn_cx_error(&x->pub, v->pairs[i].key, "unknown outcome '%s'; expected %s", out->keys[i],
                                     scn_join_choices(choices, list, sizeof list));
                }
            }
            scn_compile_actions(&x->pub, v->pairs[i].val, &lists[i]);
        }
    out->lists = lists;
    out->count = v->count;
}

static void compile_events(scn_cx *x, const scn_node *v, unsigned *mask)
{
    const scn_node *const *items, *one;
    size_t count;
    char list[512];
    if (!as_list(x, v, "an event name", &items, &count, &one))
        return;
    for (size_t i = 0; i < count; i++) {
        size_t old = v->kind == SCN_NODE_SEQ ? scn_path_index(&x->pub.path, i) : x->pub.path.len;
        const char *name = scn_expect_string(x, items[i], "an event name");
        int ev = name ? scn_event_lookup(name) : -1;
        if (name && scn_event_is_call(ev)) {
            *mask |= 1u << ev;
        } else if (name && ev >= 0) {
            scn_cx_error(&x->pub, items[i],
                         "'%s' is a dial leg event: handle it under dial's 'on:'; event 'on:' takes call events (%s)",
                         name, scn_join_choices(scn_call_event_names, list, sizeof list));
        } else if (name) {
            const char *s = scn_suggest(name, scn_call_event_names);
            if (s)
                scn_cx_error(&x->pub, items[i], "unknown call event '%s'; did you mean '%s'?", name, s);
            else
                scn_cx_error(&x->pub, items[i], "unknown call event '%s'; expected %s", name,
                             scn_join_choices(scn_call_event_names, list, sizeof list));
        }
        scn_path_pop(&x->pub.path, old);
    }
}

static void compile_handlers(scn_cx *x, const scn_node *v, scn_handlers *out)
{
    if (!expect_map_of(x, v, "a mapping of leg event: [actions]"))
        return;
    int *events = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *events);
    scn_actions *lists = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *lists);
    for (size_t i = 0; i < v->count; i++) {
        const scn_node *k = v->pairs[i].key;
        SCN_WITH_KEY(x, k->str) {
            int ev = scn_event_lookup(k->str);
            if (ev >= 0 && !scn_event_is_dial(ev)) {
                char list[512];
                scn_cx_error(&x->pub, k, "'%s' is a call event, not a dial leg event (use `app: event`); dial 'on:' takes %s",
                             k->str, scn_join_choices(scn_dial_event_names, list, sizeof list));
            } else if (ev < 0) {
                const char *s = scn_suggest(k->str, scn_dial_event_names);
                if (s)
                    scn_cx_error(&x->pub, k, "unknown dial leg event '%s'; did you mean '%s'?", k->str, s);
                else
                    scn_cx_error(&x->pub, k, "unknown dial leg event '%s'", k->str);
            }
            events[i] = ev;
            scn_compile_actions(&x->pub, v->pairs[i].val, &lists[i]);
        }
    }
    out->events = events;
    out->lists = lists;
    out->count = v->count;
}

static void compile_json(scn_cx *x, const scn_node *v, scn_jval *out)
{
    double d;
    bool b;
    if (v->kind == SCN_NODE_MAP) {
        out->kind = SCN_J_OBJ;
        out->count = v->count;
        out->keys = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->keys);
        out->items = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->items);
        for (size_t i = 0; i < v->count; i++)
            SCN_WITH_KEY(x, v->pairs[i].key->str) {
                out->keys[i] = v->pairs[i].key->str;
                compile_json(x, v->pairs[i].val, &out->items[i]);
            }
    } else if (v->kind == SCN_NODE_SEQ) {
        out->kind = SCN_J_ARR;
        out->count = v->count;
        out->items = cr_arena_alloc(x->pub.arena, (v->count + 1) * sizeof *out->items);
        for (size_t i = 0; i < v->count; i++)
            SCN_WITH_INDEX(x, i) compile_json(x, v->items[i], &out->items[i]);
    } else if (!v->quoted && scn_is_null(v)) {
        out->kind = SCN_J_NULL;
    } else if (!v->quoted && scn_scalar_bool(v, &b)) {
        out->kind = SCN_J_BOOL;
        out->b = b;
    } else if (!v->quoted && scn_scalar_number(v, &d)) {
        out->kind = SCN_J_NUM;
        out->num = d;
    } else {
        out->kind = SCN_J_STR;
        out->str = scn_compile_template(&x->pub, v);
    }
}

/* ---- one parameter ------------------------------------------------------- */

static bool in_range(const scn_param *p, double d) { return (p->min == 0 && p->max == 0) || (d >= p->min && d <= p->max); }

/* The compiled shapes of lists and maps all start with their item count. */
_Static_assert(offsetof(scn_actions, count) == 0 && offsetof(scn_templates, count) == 0 &&
                   offsetof(scn_template_map, count) == 0 && offsetof(scn_string_map, count) == 0 &&
                   offsetof(scn_cases, count) == 0 && offsetof(scn_handlers, count) == 0 &&
                   offsetof(scn_refs, count) == 0,
               "collections start with their count");

static bool is_collection(scn_param_type t)
{
    return t == P_ACTIONS || t == P_TEMPLATES || t == P_TEMPLATE_MAP || t == P_STRING_MAP || t == P_CASES ||
           t == P_HANDLERS || t == P_GATEWAYS;
}

/* ---- file paths (P_FILE_*) ------------------------------------------------ */

static bool stub_lookup(void *ctx, const char *name, size_t len, cr_value *out)
{
    (void)ctx, (void)name, (void)len;
    *out = cr_val_cstr("x");
    return true;
}

/* A file path whose own text leads outside its directory would fail on
 * every call: an error at load. Each variable stands in as "x" (a rendered
 * value is at most part of one name). Only the text is checked here; the
 * rendered path, after symlinks, is checked on every use (eng_file_path). */
static void check_file(scn_cx *x, const scn_param *p, const scn_node *v, const char *src, const scn_template *t)
{
    const scn_settings *set = &x->pub.prog->settings;
    bool sounds = p->flags & P_FILE_SOUNDS;
    const char *base = sounds ? set->sounds : set->recordings;
    const char *name = src;
    if (t) {
        scn_env env = {.lookup = stub_lookup, .scratch = x->pub.arena};
        name = scn_template_render_cstr(t, &env, SCN_ESC_PATH);
    }
    char out[PATH_MAX];
    cr_path_status st = cr_path_resolve(base && *base ? base : ".", name, out, sizeof out);
    if (st == CR_PATH_EMPTY)
        scn_cx_error(&x->pub, v, "'%s' may not be empty: it names a file", p->name);
    else if (st == CR_PATH_OUTSIDE)
        scn_cx_error(&x->pub, v, "'%s' is outside settings.media.%s (%s): file names are relative to it, "
                     "and an absolute one must be inside it", src, sounds ? "sounds" : "recordings", base);
    else if (sounds && (!t || scn_template_literal(t, &(const char *){0}, &(size_t){0}))) {
        scn_prompt_ref *r = cr_arena_alloc(x->pub.arena, sizeof *r);
        r->name = cr_arena_strdup(x->pub.arena, src);
        r->path = cr_arena_strdup(x->pub.arena, out);
        r->file = v->file;
        r->line = v->line;
        r->col = v->col;
        r->at = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
        r->next = x->pub.prog->prompts;
        x->pub.prog->prompts = r;
    }
}

void scn_check_sound_file(scn_cx *x, const scn_node *v, const char *what, const char *name)
{
    scn_param p = {.name = what, .type = P_STRING, .flags = P_FILE_SOUNDS};
    check_file(x, &p, v, name, NULL);
}

static void check_files(scn_cx *x, const scn_param *p, const scn_node *v, const void *field)
{
    if (p->type == P_STRING) {
        const char *s = *(const char *const *)field;
        for (const char *const *c = p->choices; s && c && *c; c++)
            if (strcmp(s, *c) == 0)
                return;
        if (s)
            check_file(x, p, v, s, NULL);
    } else if (p->type == P_TEMPLATE) {
        const scn_template *t = *(const scn_template *const *)field;
        if (t)
            check_file(x, p, v, scn_template_source(t), t);
    } else if (p->type == P_TEMPLATES) {
        const scn_templates *ts = field;
        for (size_t i = 0; i < ts->count; i++) {
            const scn_node *item = v->kind == SCN_NODE_SEQ && i < v->count ? v->items[i] : v;
            if (ts->items[i])
                check_file(x, p, item, scn_template_source(ts->items[i]), ts->items[i]);
        }
    }
}

static void compile_value(scn_cx *x, const scn_param *p, const scn_node *v, const scn_node *action, void *field)
{
    switch (p->type) {
    case P_STRING: {
        const char *s = scn_expect_string(x, v, "text");
        *(const char **)field = s;
        if (s && (p->flags & P_NONEMPTY) && !*s)
            scn_cx_error(&x->pub, v, "'%s' may not be empty", p->name);
        break;
    }
    case P_TEMPLATE:
        *(const scn_template **)field = scn_compile_template(&x->pub, v);
        if (v->kind == SCN_NODE_SCALAR && (p->flags & P_NONEMPTY) && v->len == 0)
            scn_cx_error(&x->pub, v, "'%s' may not be empty", p->name);
        break;
    case P_EXPR:
        *(const scn_expr **)field = scn_compile_expr(&x->pub, v);
        break;
    case P_DURATION: {
        double d;
        if (scn_compile_duration(&x->pub, v, &d)) {
            if (!in_range(p, d))
                scn_cx_error(&x->pub, v, "'%s' must be from %gs to %gs, got %s", p->name, p->min, p->max, v->str);
            *(double *)field = d;
        }
        break;
    }
    case P_NUMBER:
        scn_expect_number(x, v, p->min, p->max, (double *)field);
        break;
    case P_INT:
        scn_expect_int(x, v, (long)p->min, (long)p->max, (long *)field);
        break;
    case P_BOOL:
        scn_expect_bool(x, v, (bool *)field);
        break;
    case P_ENUM:
        scn_expect_enum(x, v, p->choices, (int *)field);
        break;
    case P_ACTIONS: {
        scn_actions *acts = field;
        scn_compile_actions(&x->pub, v, acts);
        break;
    }
    case P_CONDITION: {
        /* The sibling `match:` is validated as its own parameter; pass it on only when sound. */
        const scn_node *m = scn_map_get(action, "match");
        if (m && !(scn_scalar_is(m, "any") || scn_scalar_is(m, "all")))
            m = NULL;
        scn_cond *c = scn_cond_compile(&x->pub, v, m);
        *(const scn_cond **)field = c;
        break;
    }
    case P_TEMPLATES: {
        scn_templates *t = field;
        compile_templates(x, v, t);
        break;
    }
    case P_TEMPLATE_MAP:
        compile_template_map(x, v, field);
        break;
    case P_STRING_MAP:
        compile_string_map(x, v, field);
        break;
    case P_CASES:
        compile_cases(x, v, field, p->choices);
        break;
    case P_EVENTS:
        compile_events(x, v, field);
        break;
    case P_HANDLERS:
        compile_handlers(x, v, field);
        break;
    case P_JSON: {
        scn_jval *j = cr_arena_alloc(x->pub.arena, sizeof *j);
        compile_json(x, v, j);
        *(const scn_jval **)field = j;
        break;
    }
    case P_GATEWAYS: {
        scn_refs *r = field;
        compile_gateways(x, v, r);
        break;
    }
    case P_DATABASE:
        *(const scn_database **)field = scn_ref_database(x, v);
        break;
    case P_SCENARIO:
        *(const scn_named_scenario **)field = scn_ref_scenario(x, v);
        break;
    case P__TYPE_COUNT:
        break;
    }
    if ((p->flags & P_NONEMPTY) && is_collection(p->type) && *(const size_t *)field == 0)
        scn_cx_error(&x->pub, v, "'%s' needs at least one item", p->name);
    if (p->flags & (P_FILE_SOUNDS | P_FILE_RECORDINGS))
        check_files(x, p, v, field);
}

/* Nested action lists compile after the action's own scalars, so that what
 * they depend on (the events of `event.on`) is known. */
static bool is_nested(scn_param_type t) { return t == P_ACTIONS || t == P_CASES || t == P_HANDLERS; }

/* The keys an action of APP may have: its parameters, then the common keys. */
static const char **known_keys(scn_cx *x, const app_def *app, size_t *nparams)
{
    size_t np = 0;
    while (app->params[np].name)
        np++;
    *nparams = np;
    const char **known = scn_strmap_get(&x->known_keys, app->name);
    if (known)
        return known;
    known = cr_arena_alloc(x->pub.arena, (np + 8) * sizeof *known);
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
        known[k++] = app->params[i].name;
    for (size_t i = 0; common_keys[i]; i++)
        if (strcmp(common_keys[i], "timeout") != 0 || (app->flags & APP_WAITS))
            known[k++] = common_keys[i];
    scn_strmap_put(x->pub.arena, &x->known_keys, app->name, known);
    return known;
}

static void check_unknown_keys(scn_cx *x, const app_def *app, const scn_node *n)
{
    size_t np;
    const char **known = known_keys(x, app, &np);
    size_t k = 0;
    while (known[k])
        k++;
    for (size_t i = 0; i < n->count; i++) {
        const scn_node *key = n->pairs[i].key;
        bool found = false;
        for (size_t j = 0; j < k && !found; j++)
            found = strcmp(known[j], key->str) == 0;
        if (found)
            continue;
        size_t old = scn_path_key(&x->pub.path, key->str);
        if (strcmp(key->str, "timeout") == 0) {
            scn_cx_error(&x->pub, key, "'%s' does not wait, so it takes no 'timeout'", app->name);
            scn_path_pop(&x->pub.path, old);
            continue;
        }
        const char *s = scn_suggest(key->str, known);
        char list[512];
        size_t len = 0;
        for (size_t j = 0; j < np; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", known[j]);
        if (s)
            scn_cx_error(&x->pub, key, "unknown key '%s' for '%s'; did you mean '%s'?", key->str, app->name, s);
        else if (np)
            scn_cx_error(&x->pub, key, "unknown key '%s' for '%s'; it takes %s", key->str, app->name, list);
        else
            scn_cx_error(&x->pub, key, "unknown key '%s': '%s' takes no parameters", key->str, app->name);
        scn_path_pop(&x->pub.path, old);
    }
}

/* True when an unknown key of N looks like a misspelling of NAME. */
static bool misspelt(const app_def *app, const scn_node *n, const char *name)
{
    const char *one[2] = {name, NULL};
    for (size_t i = 0; i < n->count; i++) {
        const char *k = n->pairs[i].key->str;
        if (strcmp(k, name) != 0 && scn_suggest(k, one)) {
            bool known = false;
            for (const scn_param *p = app->params; p->name && !known; p++)
                known = strcmp(p->name, k) == 0;
            for (size_t j = 0; common_keys[j] && !known; j++)
                known = strcmp(common_keys[j], k) == 0;
            if (!known)
                return true;
        }
    }
    return false;
}

/* P_EXACTLY_ONE: exactly one of the group; P_AT_MOST_ONE: at most one (param.h). */
static void check_oneof(scn_cx *x, const app_def *app, const scn_node *n, unsigned flag, bool need_one)
{
    char names[256];
    size_t len = 0, given = 0, members = 0;
    const scn_node *second = NULL;
    const char *second_name = NULL;
    names[0] = 0;
    for (const scn_param *p = app->params; p->name; p++) {
        if (!(p->flags & flag))
            continue;
        members++;
        len += (size_t)snprintf(names + len, sizeof names - len, "%s'%s'", members > 1 ? " or " : "", p->name);
        const scn_node *v = scn_map_get(n, p->name);
        if (v && ++given == 2) {
            second = v;
            second_name = p->name;
        }
    }
    if (members == 0)
        return;
    if (given == 0 && need_one)
        scn_cx_error(&x->pub, n, "'%s' needs one of %s", app->name, names);
    else if (given > 1)
        SCN_WITH_KEY(x, second_name) scn_cx_error(&x->pub, second, "'%s' takes only one of %s", app->name, names);
}

/* `app: scenario`: the arguments given must be the ones the scenario declares. */
static void check_scenario_args(scn_cx *x, const app_def *app, const scn_node *n, void *params)
{
    const scn_named_scenario *s = NULL;
    const scn_param *args = NULL;
    for (const scn_param *p = app->params; p->name; p++) {
        if (p->type == P_SCENARIO)
            s = *(const scn_named_scenario **)((char *)params + p->offset);
        else if (p->type == P_TEMPLATE_MAP && strcmp(p->name, "args") == 0)
            args = p;
    }
    if (!s || !args)
        return;
    const scn_template_map *given = (const scn_template_map *)((char *)params + args->offset);
    const scn_node *an = scn_map_get(n, "args");
    SCN_WITH_KEY(x, "args") {
        for (size_t i = 0; an && an->kind == SCN_NODE_MAP && i < an->count; i++) {
            const scn_node *k = an->pairs[i].key;
            size_t j = 0;
            while (j < s->arg_count && strcmp(s->args[j], k->str) != 0)
                j++;
            if (j < s->arg_count)
                continue;
            size_t old = scn_path_key(&x->pub.path, k->str);
            const char **names = cr_arena_alloc(x->pub.arena, (s->arg_count + 1) * sizeof *names);
            for (j = 0; j < s->arg_count; j++)
                names[j] = s->args[j];
            const char *sug = scn_suggest(k->str, names);
            if (sug)
                scn_cx_error(&x->pub, k, "scenario '%s' has no argument '%s'; did you mean '%s'?", s->name, k->str, sug);
            else if (s->arg_count)
                scn_cx_error(&x->pub, k, "scenario '%s' has no argument '%s' (its args: %s%s)", s->name, k->str,
                             s->args[0], s->arg_count > 1 ? ", ..." : "");
            else
                scn_cx_error(&x->pub, k, "scenario '%s' takes no arguments, got '%s'", s->name, k->str);
            scn_path_pop(&x->pub.path, old);
        }
    }
    for (size_t j = 0; j < s->arg_count; j++) {
        bool found = false;
        const char *one[2] = {s->args[j], NULL};
        for (size_t i = 0; i < given->count && !found; i++)
            found = strcmp(given->names[i], s->args[j]) == 0 || scn_suggest(given->names[i], one);
        if (!found)
            scn_cx_warning(&x->pub, n, "scenario '%s' argument '%s' is not given: it starts empty", s->name, s->args[j]);
    }
}

static bool hangup_only(const app_def *app, void *params)
{
    for (const scn_param *p = app->params; p->name; p++)
        if (p->type == P_EVENTS)
            return *(unsigned *)((char *)params + p->offset) == 1u << SCN_EV_HANGUP;
    return false;
}

bool scn_compile_params(scn_cx *x, const app_def *app, const scn_node *n, void **params_out)
{
    size_t errors = x->pub.diags->errors;
    void *params = app->params_size ? cr_arena_alloc(x->pub.arena, app->params_size) : NULL;
    check_unknown_keys(x, app, n);
    for (int pass = 0; pass < 2; pass++) {
        bool in_hangup = pass == 1 && params && hangup_only(app, params);
        x->hangup_depth += in_hangup;
        for (const scn_param *p = app->params; p->name; p++) {
            if (is_nested(p->type) != (pass == 1))
                continue;
            const scn_node *v = scn_map_get(n, p->name);
            scn_node def;
            if (!v && (p->flags & P_REQ)) {
                if (misspelt(app, n, p->name))
                    continue;   /* "did you mean 'file'?" already says it */
                if (p->doc)
                    scn_cx_error(&x->pub, n, "'%s' needs '%s': %s", app->name, p->name, p->doc);
                else
                    scn_cx_error(&x->pub, n, "'%s' needs '%s'", app->name, p->name);
                continue;
            }
            if (!v && p->def) {
                /* A default is compiled as if it had been written on the action. */
                memset(&def, 0, sizeof def);
                def.kind = SCN_NODE_SCALAR;
                def.file = n->file;
                def.line = n->line;
                def.col = n->col;
                def.str = p->def;
                def.len = strlen(p->def);
                v = &def;
            }
            if (!v || !params)
                continue;
            SCN_WITH_KEY(x, p->name) compile_value(x, p, v, n, (char *)params + p->offset);
        }
        x->hangup_depth -= in_hangup;
    }
    check_oneof(x, app, n, P_EXACTLY_ONE, true);
    check_oneof(x, app, n, P_AT_MOST_ONE, false);
    if (params && x->pub.diags->errors == errors)
        check_scenario_args(x, app, n, params);
    *params_out = params;
    return x->pub.diags->errors == errors;
}

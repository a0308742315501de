/* route_explain.c — "why this route": every route of the call's type in
 * priority order with its verdict (the slow path: every condition is
 * evaluated, with the reason it failed). Shared by `callroute route` and
 * the simulate trace. */
#include "route/route.h"

#include "route/route_int.h"

#include <stdlib.h>
#include <string.h>

static int rank_cmp(const void *a, const void *b)
{
    const route_verdict *x = a, *y = b;
    if (x->route->priority != y->route->priority)
        return y->route->priority - x->route->priority;
    return x->route->order < y->route->order ? -1 : x->route->order > y->route->order;
}

void route_explain(const scn_program *p, scn_route_type type, const scn_env *env,
                   route_explanation *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    cr_arena_init(&out->arena, 4096);
    size_t n = 0;
    for (size_t i = 0; i < p->route_count; i++)
        n += p->routes[i].type == type;
    out->items = cr_arena_alloc(&out->arena, (n ? n : 1) * sizeof *out->items);
    for (size_t i = 0; i < p->route_count; i++)
        if (p->routes[i].type == type)
            out->items[out->count++].route = &p->routes[i];
    qsort(out->items, out->count, sizeof *out->items, rank_cmp);
    cr_strbuf why = CR_STRBUF_INIT;
    for (size_t i = 0; i < out->count; i++) {
        route_verdict *v = &out->items[i];
        if (!v->route->enabled) {
            v->kind = ROUTE_DISABLED;
            continue;
        }
        cr_strbuf_reset(&why);
        if (!v->route->cond || scn_cond_eval(v->route->cond, env, &why)) {
            v->kind = out->chosen ? ROUTE_MATCHED : ROUTE_CHOSEN;
            if (!out->chosen)
                out->chosen = v->route;
        } else {
            v->kind = ROUTE_NOT_MATCHED;
            v->why = cr_arena_strdup(&out->arena, cr_strbuf_cstr(&why));
        }
    }
    cr_strbuf_free(&why);
}

void route_explanation_free(route_explanation *e)
{
    cr_arena_free(&e->arena);
    memset(e, 0, sizeof *e);
}

/* "NAME (priority N): ", the start of each route's line, appended by hand:
 * cr_strbuf_printf was ~2,300 instructions a call for the admin trace's
 * route explanation (docs/decisions/sip-core.md, "CPU per call, cut
 * again: engine"). */
static void put_route(cr_strbuf *out, const scn_route *r)
{
    cr_strbuf_puts(out, r->name ? r->name : "(null)");   /* as printf shows one */
    cr_strbuf_append(out, " (priority ", sizeof " (priority " - 1);
    cr_strbuf_put_int(out, r->priority);
    cr_strbuf_append(out, "): ", 3);
}

void route_explanation_text(const route_explanation *e, cr_strbuf *out)
{
    if (e->count == 0) {
        cr_strbuf_printf(out, "no %s routes\n", scn_route_type_names[e->type]);
        return;
    }
    for (size_t i = 0; i < e->count; i++) {
        const route_verdict *v = &e->items[i];
        put_route(out, v->route);
        switch (v->kind) {
        case ROUTE_CHOSEN: cr_strbuf_puts(out, "chosen"); break;
        case ROUTE_MATCHED:
            cr_strbuf_printf(out, "matched, but '%s' wins (%s)", e->chosen->name,
                             e->chosen->priority > v->route->priority
                                 ? "higher priority"
                                 : "same priority, earlier in the file");
            break;
        case ROUTE_NOT_MATCHED:
            cr_strbuf_puts(out, "not matched: ");
            cr_strbuf_puts(out, v->why);
            break;
        case ROUTE_DISABLED: cr_strbuf_puts(out, "disabled"); break;
        }
        cr_strbuf_putc(out, '\n');
    }
}

void route_explain_trail(const route_trail *tr, const scn_route *chosen, size_t total,
                         scn_route_type type, const scn_env *env, cr_strbuf *out)
{
    cr_strbuf why = CR_STRBUF_INIT;
    bool chosen_listed = false;
    for (size_t i = 0; i < tr->count; i++) {
        const scn_route *r = tr->items[i];
        put_route(out, r);
        if (r == chosen) {
            cr_strbuf_puts(out, "chosen\n");
            chosen_listed = true;
            continue;
        }
        cr_strbuf_reset(&why);
        if (r->cond)
            scn_cond_eval(r->cond, env, &why);
        cr_strbuf_printf(out, "not matched: %s\n", cr_strbuf_cstr(&why));
    }
    cr_strbuf_free(&why);
    if (tr->evaluated > tr->count)
        cr_strbuf_printf(out, "(%zu more routes evaluated, not matched)\n",
                         tr->evaluated - tr->count - (chosen && !chosen_listed));
    if (chosen && !chosen_listed)
        cr_strbuf_printf(out, "%s (priority %d): chosen\n", chosen->name, chosen->priority);
    size_t rest = total - tr->evaluated;
    if (rest)
        cr_strbuf_printf(out, "(%zu other %s routes not evaluated: ruled out by the index%s%s%s, or "
                         "disabled; `callroute route` lists every route)\n",
                         rest, scn_route_type_names[type], chosen ? ", ranked below '" : "",
                         chosen ? chosen->name : "", chosen ? "'" : "");
}

static void json_str_or_null(cr_strbuf *out, const char *s)
{
    if (s)
        cr_strbuf_json_str(out, s, strlen(s));
    else
        cr_strbuf_puts(out, "null");
}

void route_explanation_json(const route_explanation *e, cr_strbuf *out)
{
    cr_strbuf_puts(out, "{\"route\":");
    json_str_or_null(out, e->chosen ? e->chosen->name : NULL);
    cr_strbuf_puts(out, ",\"type\":");
    json_str_or_null(out, scn_route_type_names[e->type]);
    cr_strbuf_puts(out, ",\"routes\":[");
    for (size_t i = 0; i < e->count; i++) {
        const route_verdict *v = &e->items[i];
        if (i)
            cr_strbuf_putc(out, ',');
        cr_strbuf_puts(out, "{\"name\":");
        json_str_or_null(out, v->route->name);
        cr_strbuf_printf(out, ",\"priority\":%d,\"enabled\":%s,\"matched\":%s,\"chosen\":%s,\"reason\":",
                         v->route->priority, v->kind == ROUTE_DISABLED ? "false" : "true",
                         v->kind == ROUTE_CHOSEN || v->kind == ROUTE_MATCHED ? "true" : "false",
                         v->kind == ROUTE_CHOSEN ? "true" : "false");
        json_str_or_null(out, v->why);
        cr_strbuf_puts(out, ",\"file\":");
        json_str_or_null(out, v->route->file);
        cr_strbuf_printf(out, ",\"line\":%u}", v->route->line);
    }
    cr_strbuf_puts(out, "]}");
}

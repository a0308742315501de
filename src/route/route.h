/* route.h — route selection: which route a call (or a dialled leg) takes,
 * and why. The engine calls route_select for incoming calls and for `dial`
 * legs (to_user / to_gateway); `callroute route` and the simulate trace use
 * the explanation.
 *
 * Among the enabled routes of the call's type whose conditions hold, the
 * highest priority wins; ties go to the earlier route in the file. The
 * table is indexed once per program (route_prepare) so that selection does
 * not evaluate every route: exact numbers, prefixes and dial-pattern /
 * regex prefixes on called_number, caller_number and source give candidate
 * sets; candidates and the routes that cannot be indexed are evaluated in
 * priority order and the first that holds wins. */
#ifndef ROUTE_H
#define ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/env.h"
#include "scenario/program.h"
#include "util/strbuf.h"

/* Builds the index and stores it in p->route_index (freed with the
 * program). Idempotent; route_select calls it when it was not called. Not
 * safe to race with itself: call it once after loading (the loader thread). */
void route_prepare(scn_program *p);

/* The route a call of TYPE takes, or NULL when none matches. With EXPLAIN
 * non-NULL, appends the explanation for a trace: for up to 64 routes of the
 * type, one line per route in priority order (route_explanation_text); for
 * a bigger table, a line per route the index evaluated and then
 *   (N other from_gateway routes not evaluated: ruled out by the index,
 *    ranked below 'vip', or disabled; `callroute route` lists every route)
 * so that explaining stays cheap for every call. */
const scn_route *route_select(const scn_program *p, scn_route_type type, const scn_env *env,
                              cr_strbuf *explain);

/* The same selection by evaluating every route in priority order, without
 * the index: the reference the index is tested against, and the baseline
 * of the benchmark. */
const scn_route *route_select_linear(const scn_program *p, scn_route_type type, const scn_env *env);

/* One route's verdict. */
typedef enum {
    ROUTE_CHOSEN,          /* conditions hold and it wins */
    ROUTE_MATCHED,         /* conditions hold, but a better route wins */
    ROUTE_NOT_MATCHED,     /* a condition failed: see why */
    ROUTE_DISABLED,        /* enabled: false */
} route_verdict_kind;

typedef struct route_verdict {
    const scn_route *route;
    route_verdict_kind kind;
    const char *why;       /* NOT_MATCHED: the first failing condition and what it saw */
} route_verdict;

typedef struct route_explanation {
    const scn_route *chosen;     /* NULL: no route */
    scn_route_type type;
    route_verdict *items;        /* every route of the type, priority order */
    size_t count;
    cr_arena arena;              /* owns items and the why strings */
} route_explanation;

/* Evaluates every route of TYPE (slow path) and fills OUT; free it with
 * route_explanation_free. The chosen route is the one route_select picks. */
void route_explain(const scn_program *p, scn_route_type type, const scn_env *env,
                   route_explanation *out);
void route_explanation_free(route_explanation *e);

/* Text, one line per route, e.g.
 *   vip (priority 90): chosen
 *   office (priority 50): matched, but 'vip' wins (higher priority)
 *   night (priority 50): not matched: schedule time 22:00-06:00 (saw fri 2026-11-27 10:00 UTC)
 *   old (priority 10): disabled
 * Each line ends in '\n'. With no route of the type: "no from_user routes\n". */
void route_explanation_text(const route_explanation *e, cr_strbuf *out);
/* {"route":"vip"|null,"type":"from_gateway","routes":[{"name":..,"priority":..,
 *  "enabled":..,"matched":..,"chosen":..,"reason":..|null,"file":..,"line":..}]} */
void route_explanation_json(const route_explanation *e, cr_strbuf *out);

#endif

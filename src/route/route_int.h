/* route_int.h — private to route/. */
#ifndef ROUTE_INT_H
#define ROUTE_INT_H

#include <stddef.h>

#include "util/arena.h"

/* The literal text every match of regex SRC starts with, when that can be
 * told safely: SRC starts with `^` and has no `|` ("^\+?7495" -> "",
 * "^7495\d+" -> "7495", "^12?3" -> "1"). NULL when unknown. The result is
 * copied into ARENA (or a static buffer when ARENA is NULL: tests). */
const char *route_regex_prefix(const char *src, size_t len, size_t *plen, cr_arena *arena);

#include "route/route.h"

/* The routes selection evaluated, in order (the first CAP of them). */
typedef struct route_trail {
    const scn_route **items;
    size_t count, cap;
    size_t evaluated;   /* all of them, also past CAP */
} route_trail;

/* Up to this many routes of a type, explanations list every route; above,
 * only those the index evaluated, then a count of the others. */
#define ROUTE_EXPLAIN_FULL 64

void route_explain_trail(const route_trail *tr, const scn_route *chosen, size_t total,
                         scn_route_type type, const scn_env *env, cr_strbuf *out);

struct scn_program;
struct scn_env;
struct scn_route;

/* route_select without explanation that also reports how many routes' full
 * conditions were evaluated (tests: the index must skip most routes). */
const struct scn_route *route_select_counted(const struct scn_program *p, int type,
                                             const struct scn_env *env, size_t *evaluated);

#endif

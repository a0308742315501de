/* expr.h — expressions (`expr:`, `if:`, `while:`), compiled once at load into
 * a tree and evaluated many times. Type errors and division by zero yield an
 * error value (CR_VAL_ERR), never a crash. */
#ifndef SCN_EXPR_H
#define SCN_EXPR_H

#include "scenario/env.h"

typedef struct scn_expr scn_expr;

/* Compiles SRC; all memory in ARENA. NULL and ERR filled on a syntax error,
 * an unknown function, a wrong argument count or an invalid literal regex. */
scn_expr *scn_expr_compile(cr_arena *arena, const char *src, size_t len, scn_parse_error *err);
cr_value scn_expr_eval(const scn_expr *e, const scn_env *env);

/* Calls FN for every variable name the expression reads (for validation
 * and for the route index). */
void scn_expr_vars(const scn_expr *e, void (*fn)(void *arg, const char *name), void *arg);

#endif

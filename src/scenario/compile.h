/* compile.h — the compile context handed to application check hooks and
 * shared by the validator's parts. */
#ifndef SCN_COMPILE_H
#define SCN_COMPILE_H

#include "scenario/appdef.h"
#include "scenario/diag.h"
#include "scenario/program.h"

typedef struct scn_compile_ctx {
    cr_arena *arena;              /* the program's arena */
    scn_diags *diags;
    scn_path path;                /* path of the node being compiled */
    scn_program *prog;
    const app_table *registry;
    const scn_node *root;
} scn_compile_ctx;

/* Report at node N with the current path. */
void scn_cx_error(scn_compile_ctx *cx, const scn_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void scn_cx_warning(scn_compile_ctx *cx, const scn_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed compile helpers; each reports its own errors and returns false/NULL. */
const scn_template *scn_compile_template(scn_compile_ctx *cx, const scn_node *n);
const scn_expr *scn_compile_expr(scn_compile_ctx *cx, const scn_node *n);
bool scn_compile_duration(scn_compile_ctx *cx, const scn_node *n, double *seconds);
/* N is a sequence of actions; the path must already name the list. */
bool scn_compile_actions(scn_compile_ctx *cx, const scn_node *n, scn_actions *out);
/* Duration text: 30, 2.5, 500ms, 1m, 1h, 1m30s. */
bool scn_parse_duration(const char *s, size_t len, double *seconds);

/* Looks an application up by name. */
const app_def *scn_app_lookup(const app_table *registry, const char *name);

#endif

/* expr_int.h — private to expr.c (parser), expr_eval.c and expr_func.c: the
 * compiled expression tree and the function table. */
#ifndef SCN_EXPR_INT_H
#define SCN_EXPR_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "scenario/expr.h"

/* Deepest tree accepted: evaluation recurses, so this bounds its stack. */
#define EX_MAX_DEPTH 200
/* Most arguments any function takes. */
#define EX_MAX_ARGS 3

typedef enum {
    EX_LIT, EX_VAR, EX_CALL,
    EX_NOT, EX_NEG,
    EX_AND, EX_OR,
    EX_EQ, EX_NE, EX_LT, EX_LE, EX_GT, EX_GE, EX_MATCH, EX_NMATCH,
    EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_MOD,
} ex_op;

/* ARGS are evaluated and free of errors when a function is called. */
typedef cr_value (*ex_fn)(const scn_env *env, const cr_value *args, unsigned n);

typedef struct ex_func {
    const char *name;
    unsigned char min_args, max_args;
    ex_fn fn;
} ex_func;

/* One node; the union keeps it small (a program may hold many). */
struct scn_expr {
    ex_op op;
    unsigned nargs;          /* EX_CALL */
    unsigned depth;          /* height of the subtree, bounded by EX_MAX_DEPTH */
    size_t offset;           /* where the node starts in the source */
    union {
        cr_value lit;                                      /* EX_LIT */
        struct { const char *name; size_t name_len; };     /* EX_VAR, NUL-terminated */
        struct { const ex_func *fn; scn_expr **args; };    /* EX_CALL */
        struct {                                           /* operators */
            scn_expr *a, *b;   /* b is NULL for unary ones */
            pcre2_code *re;    /* EX_MATCH / EX_NMATCH with a literal pattern */
        };
    };
};

/* NULL-terminated table of every function (expr_func.c). */
extern const ex_func ex_funcs[];
const ex_func *ex_func_find(const char *name, size_t len);
/* The names only, NULL-terminated, for "did you mean". */
extern const char *const ex_func_names[];

/* Regex match of SUBJECT against RE: a bool, or an error value (expr_eval.c). */
cr_value ex_regex_match(const pcre2_code *re, const char *subject, size_t len, const scn_env *env);

#endif

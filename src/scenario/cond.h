/* cond.h — the condition language, one implementation shared by routes and
 * the `condition` application: variable tests (equals … pattern … in … lt …
 * empty), schedules, expressions, groups (match any|all) and `not`.
 * Compiled at load (regexes with PCRE2, JIT where available; dial patterns;
 * schedules with their tz); evaluated without parsing.
 *
 * The struct is public so that route/ can index the conditions it can
 * (exact numbers, prefixes, dial patterns) instead of evaluating them. */
#ifndef SCN_COND_H
#define SCN_COND_H

#include <stdbool.h>

#include "scenario/env.h"
#include "scenario/node.h"
#include "util/strbuf.h"

struct scn_compile_ctx;

/* The operators of a variable test: enum, name, what it holds for (docs:
 * "holds when the variable ..."), the value it takes. This one list makes
 * the names the loader knows, the JSON Schema's enum, the table of
 * docs/scenario.md (`callroute schema --markdown`) and the messages. */
#define SCN_COND_OPS(X)                                                                          \
    X(EQUALS, "equals", "is the text V", "text")                                                 \
    X(NOT_EQUALS, "not_equals", "is not the text V", "text")                                     \
    X(STARTS_WITH, "starts_with", "starts with V", "text")                                       \
    X(ENDS_WITH, "ends_with", "ends with V", "text")                                             \
    X(CONTAINS, "contains", "contains V", "text")                                                \
    X(MATCHES, "matches", "matches the PCRE2 regex V (unanchored: use `^`, `$`)", "regex")       \
    X(NOT_MATCHES, "not_matches", "does not match the PCRE2 regex V", "regex")                   \
    X(PATTERN, "pattern", "matches the dial pattern V entirely", "pattern")                      \
    X(IN, "in", "is one of the list", "list")                                                    \
    X(NOT_IN, "not_in", "is not one of the list", "list")                                        \
    X(LT, "lt", "is a number < V (not a number: false)", "number")                               \
    X(LE, "le", "is a number <= V (not a number: false)", "number")                              \
    X(GT, "gt", "is a number > V (not a number: false)", "number")                               \
    X(GE, "ge", "is a number >= V (not a number: false)", "number")                              \
    X(EMPTY, "empty", "is empty or undefined", "none")                                           \
    X(NOT_EMPTY, "not_empty", "is not empty (and defined)", "none")                              \
    X(NOT_CONTAINS, "not_contains", "does not contain V", "text")                                \
    X(NOT_PATTERN, "not_pattern", "does not match the dial pattern V", "pattern")                \
    X(BETWEEN, "between", "is a number from A to B, both included (not a number: false)",        \
      "[A, B] numbers")                                                                          \
    X(NOT_BETWEEN, "not_between", "is a number outside A to B (not a number: false)",            \
      "[A, B] numbers")

typedef enum {
#define SCN_COND_OP_ENUM(e, s, doc, value) SCN_OP_##e,
    SCN_COND_OPS(SCN_COND_OP_ENUM)
#undef SCN_COND_OP_ENUM
    SCN_OP__COUNT
} scn_cond_op;

extern const char *const scn_cond_op_names[]; /* NULL-terminated, in enum order */
extern const char *const scn_cond_op_docs[];  /* what each holds for, in enum order */
extern const char *const scn_cond_op_values[];/* the value each takes, in enum order */

typedef enum {
    SCN_COND_VAR,       /* { var, op, value } */
    SCN_COND_SCHEDULE,  /* { schedule: {...} } */
    SCN_COND_EXPR,      /* { expr: "..." } or an expression string */
    SCN_COND_GROUP,     /* { match, conditions } or a list */
    SCN_COND_NOT,       /* { not: {...} } */
    SCN_COND_CALLER_GROUP, /* { caller_group: NAME }: the caller is a user of the group */
} scn_cond_kind;

typedef struct scn_cond scn_cond;
typedef struct scn_schedule scn_schedule;   /* private to cond.c */
typedef struct scn_dialpat scn_dialpat;     /* private to cond.c */

struct scn_cond {
    scn_cond_kind kind;
    const char *file;
    unsigned line, col;
    const char *path;            /* routes[3].conditions[1] */
    /* VAR */
    const char *var;             /* dotted variable name */
    scn_cond_op op;
    const char *value;           /* literal operand (NULL for empty/not_empty, in/not_in) */
    size_t value_len;
    double number;               /* lt/le/gt/ge operand; between: the lower bound */
    double number2;              /* between/not_between: the upper bound */
    const char **list;           /* in/not_in; CALLER_GROUP: the group's members */
    size_t list_count;
    void *regex;                 /* pcre2_code* for matches/not_matches */
    scn_dialpat *pattern;        /* pattern */
    /* SCHEDULE */
    scn_schedule *schedule;
    /* EXPR */
    struct scn_expr *expr;
    const char *expr_src;
    /* GROUP */
    bool any;
    scn_cond **items;
    size_t count;
    /* NOT */
    scn_cond *inner;
    /* CALLER_GROUP: the group's name (list/list_count: its members) */
    const char *group;
};

/* Compiles N: a condition mapping, a list of them (SIBLING_MATCH, if given,
 * is the `match:` node next to the list: any|all), or an expression string.
 * Reports problems through CX and returns NULL on error. */
scn_cond *scn_cond_compile(struct scn_compile_ctx *cx, const scn_node *n,
                           const scn_node *sibling_match);

/* True when the condition holds. When it does not and WHY is not NULL, WHY
 * gets the first condition that failed and the value it saw, e.g.
 * "called_number starts_with '7495' (saw '7916')". */
bool scn_cond_eval(const scn_cond *c, const scn_env *env, cr_strbuf *why);

/* Dial patterns on their own (used by the route index too). */
scn_dialpat *scn_dialpat_compile(cr_arena *a, const char *pat, size_t len, scn_parse_error *err);
bool scn_dialpat_match(const scn_dialpat *p, const char *s, size_t len);
/* The longest literal prefix every match starts with ("_7495XXX" -> "7495"). */
const char *scn_dialpat_prefix(const scn_dialpat *p, size_t *len);

/* Frees what the arena does not own (PCRE2 codes). Called by the program. */
void scn_cond_release(scn_cond *c);

#endif

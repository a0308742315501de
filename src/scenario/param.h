/* param.h — how an application declares its parameters. The generic compiler
 * (compile.c) reads these tables to validate the YAML (unknown keys with
 * "did you mean", types, enums, ranges, required keys, references) and to fill
 * the application's typed parameter struct at OFFSET. The JSON Schema and
 * docs are generated from the same tables. */
#ifndef SCN_PARAM_H
#define SCN_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/cond.h"
#include "scenario/expr.h"
#include "scenario/template.h"


typedef enum {
    P_STRING,        /* const char *       literal text */
    P_TEMPLATE,      /* const scn_template *            */
    P_EXPR,          /* const scn_expr *                */
    P_DURATION,      /* double seconds: 30, 2.5, "500ms", "1m", "1h" */
    P_NUMBER,        /* double                          */
    P_INT,           /* long                            */
    P_BOOL,          /* bool                            */
    P_ENUM,          /* int: index into choices         */
    P_ACTIONS,       /* scn_actions                     */
    P_CONDITION,     /* const scn_cond *: expression string or list of conditions;
                        a sibling `match:` key (any|all) applies to a list */
    P_TEMPLATES,     /* scn_templates: one string or a list of strings */
    P_TEMPLATE_MAP,  /* scn_template_map: { name: template } */
    P_STRING_MAP,    /* scn_string_map: { name: literal } (save: paths) */
    P_CASES,         /* scn_cases: { "value": [actions] } */
    P_EVENTS,        /* unsigned mask of (1u << scn_event): name or list; call events */
    P_HANDLERS,      /* scn_handlers: { dial_event: [actions] } */
    P_JSON,          /* const scn_jval *: any YAML value; strings are templates */
    P_GATEWAYS,      /* scn_refs: gateway name or list; must exist */
    P_DATABASE,      /* const scn_database *: must exist */
    P_SCENARIO,      /* const scn_named_scenario *: must exist */
    P__TYPE_COUNT
} scn_param_type;

extern const char *const scn_param_type_names[];   /* for docs: "duration", ... */

enum {
    P_REQ = 1u << 0,         /* must be given */
    P_EXACTLY_ONE = 1u << 1, /* exactly one of the parameters so flagged (set: vars | var) */
    P_AT_MOST_ONE = 1u << 2, /* at most one of the parameters so flagged (http: body | json) */
    P_NONEMPTY = 1u << 3,    /* a list/map/string that may not be empty */
    /* A file path (P_TEMPLATE, P_TEMPLATES, P_STRING): below
     * settings.media.sounds / .recordings. Text that is outside it before
     * any value is rendered is an error at load; at run time the app
     * resolves it with eng_file_path. A P_STRING's CHOICES are words that
     * are not files (dial's ringback: `tone`). */
    P_FILE_SOUNDS = 1u << 4,
    P_FILE_RECORDINGS = 1u << 5,
};

typedef struct scn_param {
    const char *name;
    scn_param_type type;
    size_t offset;                 /* offsetof(params struct, field) */
    unsigned flags;
    const char *const *choices;    /* P_ENUM: NULL-terminated */
    double min, max;               /* P_INT / P_NUMBER / P_DURATION range; both 0: none */
    const char *def;               /* default, written as it would be in YAML (NULL: none) */
    const char *doc;               /* one line */
} scn_param;

#define SCN_PARAM_END {.name = NULL}

/* Compiled shapes of the composite types. */
typedef struct scn_templates {
    size_t count;
    const scn_template **items;
} scn_templates;

typedef struct scn_template_map {
    size_t count;
    const char **names;
    const scn_template **items;
} scn_template_map;

typedef struct scn_string_map {
    size_t count;
    const char **names;
    const char **items;
} scn_string_map;

struct scn_actions;
typedef struct scn_cases {
    size_t count;
    const char **keys;
    const struct scn_actions *lists;
} scn_cases;

typedef struct scn_handlers {
    size_t count;
    const int *events;             /* scn_event */
    const struct scn_actions *lists;
} scn_handlers;

typedef struct scn_refs {
    size_t count;
    const void **items;            /* const scn_gateway * */
} scn_refs;

typedef enum { SCN_J_NULL, SCN_J_BOOL, SCN_J_NUM, SCN_J_STR, SCN_J_OBJ, SCN_J_ARR } scn_jkind;
typedef struct scn_jval {
    scn_jkind kind;
    bool b;
    double num;
    const scn_template *str;       /* SCN_J_STR: a template */
    size_t count;                  /* OBJ / ARR */
    const char **keys;             /* OBJ */
    struct scn_jval *items;
} scn_jval;

#endif

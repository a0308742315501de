/* db.c — the `db` application: a query with bound parameters. */
#include <stddef.h>

#include "apps/registry.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

typedef struct db_params {
    const scn_database *database;
    const char *query;        /* literal SQL with ? placeholders: never a template */
    scn_templates params;
    scn_string_map save;      /* variable -> column of the first row */
} db_params;

static const scn_param db_spec[] = {
    {.name = "database", .type = P_DATABASE, .offset = F(db_params, database), .flags = P_REQ,
     .doc = "a name from settings.databases"},
    {.name = "query", .type = P_STRING, .offset = F(db_params, query), .flags = P_REQ | P_NONEMPTY,
     .doc = "SQL with ? placeholders (no templates: values go in params)"},
    {.name = "params", .type = P_TEMPLATES, .offset = F(db_params, params),
     .doc = "values bound to the placeholders, in order (templates)"},
    {.name = "save", .type = P_STRING_MAP, .offset = F(db_params, save),
     .doc = "variable: column of the first row"},
    SCN_PARAM_END,
};

const app_def app_db_table[] = {
    {.name = "db", .family = "integration",
     .summary = "Query a database; results in db_rows, db_error and `save`.",
     .params = db_spec, .params_size = sizeof(db_params), .flags = APP_WAITS, .default_timeout = 5},
    APP_END,
};

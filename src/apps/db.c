/* db.c — the `db` application: one query with bound parameters, through
 * the services layer (SQLite on the worker pool, PostgreSQL on the loop).
 *
 * Results: db_rows (rows returned by a SELECT, or rows changed), db_error
 * ("" on success; "timeout" or "cancelled" when the engine stopped it;
 * "unknown" when a write was sent and no answer came: it may have been
 * done). `save:` copies columns of the first row into variables; with no
 * rows they become null (render ""). An error, a timeout or a `save:`
 * column missing from the result fails the action.
 *
 * `durable: true` (a write only): the query becomes a durable job
 * (apps/durable.c): durable_id, durable_status. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/durable.h"
#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"
#include "services/svc.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct db_params {
    const cfg_database *database;   /* the program's entry, handed to services as it is */
    const char *query;        /* literal SQL with ? placeholders: never a template */
    scn_templates params;
    scn_string_map save;      /* variable -> column of the first row */
    bool durable;
    bool read;                /* set at load: the query only reads (svc_sql_is_read) */
} db_params;

typedef struct db_op {
    eng_strand *s;
    const scn_action *a;
    svc_db *q;
} db_op;

static app_status answer(eng_strand *s, const db_params *p, const svc_db_res *res)
{
    eng_strand_var_set(s, "db_rows", cr_val_num((double)(res->error ? 0 : res->rows)));
    if (res->error && res->unknown && !p->read)
        return app_unknown(s, "db_error", res->error);
    eng_strand_var_set(s, "db_error", cr_val_cstr(res->error ? res->error : ""));
    if (res->error)
        return eng_fail(s, "%s", res->error);
    const char *missing = NULL;
    for (size_t i = 0; i < p->save.count; i++) {
        cr_value v = cr_val_null();
        bool found = res->ncols == 0;   /* no row: nothing to look for */
        for (size_t c = 0; c < res->ncols; c++) {
            if (strcmp(res->cols[c], p->save.items[i]) == 0) {
                found = true;
                if (res->vals[c])
                    v = cr_val_cstr(res->vals[c]);
                break;
            }
        }
        if (!found && !missing)
            missing = p->save.items[i];
        eng_strand_var_set(s, p->save.names[i], v);
    }
    if (missing)
        return eng_fail(s, "save: the result has no column '%s'", missing);
    return APP_DONE;
}

static void db_done_cb(void *arg, const svc_db_res *res)
{
    db_op *op = arg;
    eng_strand *s = op->s;
    const db_params *p = op->a->params;
    free(op);
    eng_strand_set_pending(s, NULL);
    eng_strand_resume(s, answer(s, p, res));
}

static app_status db_run(eng_strand *s, const scn_action *a)
{
    const db_params *p = a->params;
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    if (!svc)
        return eng_fail(s, "no database service in this run");
    /* The key is set before rendering: the params may carry it. */
    const char *key = p->durable ? app_durable_key(s) : NULL;
    const char **vals = cr_xcalloc(p->params.count + 1, sizeof *vals);
    for (size_t i = 0; i < p->params.count; i++)
        vals[i] = eng_render(s, p->params.items[i], SCN_ESC_NONE);
    double t = a->timeout >= 0 ? a->timeout : a->app->default_timeout;
    if (p->durable) {
        /* The action's timeout bounds each attempt in the background. */
        svc_job j = {.key = key, .timeout = t, .database = p->database->name,
                     .sql = p->query, .params = vals, .nparams = p->params.count};
        app_status st = app_durable_queue(s, &j);
        free(vals);
        return st;
    }
    /* The engine's `timeout:` cancels first; the services' is a backstop. */
    db_op *op = cr_xcalloc(1, sizeof *op);
    op->s = s;
    op->a = a;
    op->q = svc_db_query(svc, p->database, p->query, vals, p->params.count, t > 0 ? t + 1 : 0, db_done_cb, op);
    free(vals);
    eng_strand_set_pending(s, op);
    return APP_PENDING;
}

static void db_cancel(eng_strand *s, const scn_action *a)
{
    const db_params *p = a->params;
    if (p->durable) {
        app_durable_cancel(s);
        return;
    }
    db_op *op = eng_strand_pending(s);
    if (!op)
        return;
    eng_strand_set_pending(s, NULL);
    bool ran = svc_db_cancel(op->q);
    free(op);
    /* Cancelled by a hangup, or else by the action's timeout: a write that
     * reached the database may have been done. */
    eng_strand_var_set(s, "db_rows", cr_val_num(0));
    if (eng_call_ended(eng_strand_call(s)))
        eng_strand_var_set(s, "db_error", cr_val_cstr("cancelled"));
    else if (ran && !p->read)
        app_unknown(s, "db_error", "timeout");
    else
        eng_strand_var_set(s, "db_error", cr_val_cstr("timeout"));
}

/* Load time: as many params as placeholders (SQLite's ?NNN and :name
 * forms are not counted: SQLite checks those when the query runs); a
 * durable query writes and saves nothing (its answer comes after the
 * strand went on). */
static bool db_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    db_params *p = params;
    if (!p->query)
        return true;
    p->read = svc_sql_is_read(p->query);
    if (p->durable && p->read) {
        scn_cx_error(cx, scn_map_get(action, "durable"),
                     "durable: true is for writes, and this query only reads: a durable job runs after the "
                     "call went on, so nothing could use its rows; remove durable: true, or make the query "
                     "an INSERT, UPDATE or DELETE");
        return false;
    }
    if (p->durable && p->save.count) {
        scn_cx_error(cx, scn_map_get(action, "save"),
                     "save: cannot be used with durable: true (the write happens in the background, after "
                     "the call went on); remove save:, or durable: true to wait for the answer");
        return false;
    }
    size_t want = svc_sql_placeholders(p->query);
    bool numbered = false;
    for (const char *c = strchr(p->query, '?'); c; c = strchr(c + 1, '?'))
        if (c[1] >= '0' && c[1] <= '9')
            numbered = true;
    if (want != p->params.count && !numbered) {
        const scn_node *n = scn_map_get(action, "params");
        scn_cx_error(cx, n ? n : scn_map_get(action, "query"),
                     "the query has %zu placeholder%s (?) but %zu param%s given", want, want == 1 ? "" : "s",
                     p->params.count, p->params.count == 1 ? " is" : "s are");
        return false;
    }
    return true;
}

static const scn_param db_spec[] = {
    {.name = "database", .type = P_DATABASE, .offset = F(db_params, database), .flags = P_REQ,
     .doc = "a name from settings.databases"},
    {.name = "query", .type = P_STRING, .offset = F(db_params, query), .flags = P_REQ | P_NONEMPTY,
     .doc = "SQL with ? placeholders (no templates: values go in params)"},
    {.name = "params", .type = P_TEMPLATES, .offset = F(db_params, params),
     .doc = "values bound to the placeholders, in order (templates)"},
    {.name = "save", .type = P_STRING_MAP, .offset = F(db_params, save),
     .doc = "variable: column of the first row"},
    {.name = "durable", .type = P_BOOL, .offset = F(db_params, durable), .def = "false",
     .doc = "a write done in the background until it succeeds, across outages and restarts "
            "(durable_id, durable_status)"},
    SCN_PARAM_END,
};

const app_def app_db_table[] = {
    {.name = "db", .family = "integration",
     .summary = "Query a database; results in db_rows, db_error and `save` (durable: in the background).",
     .params = db_spec, .params_size = sizeof(db_params), .flags = APP_WAITS, .default_timeout = 5,
     .check = db_check, .run = db_run, .cancel = db_cancel},
    APP_END,
};

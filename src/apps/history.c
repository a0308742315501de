/* history.c — the `history` application (Carusto's "Search in history"):
 * the calls a number made recently, from the call detail records
 * (settings.cdr; records/cdr.h), so a route can send a returning caller to
 * the agent who served them last.
 *
 * Results: history_found (true when there is at least one call),
 * history_calls (how many), history_last_time (when the last one ended,
 * ISO 8601 UTC; "" when none), history_last_agent (who answered the most
 * recent call an agent answered; "" when none). The current call is not
 * in the records yet (its record is written when it ends). A store that
 * cannot be read fails the action (on_error). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "records/cdr.h"
#include "scenario/compile.h"
#include "scenario/param.h"
#include "services/svc.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct history_params {
    const scn_template *caller;
    double within;
    bool answered;
} history_params;

typedef struct history_op {
    eng_strand *s;
    svc_db *q;
} history_op;

/* One row: how many calls, when the last ended, and the agent of the most
 * recent call an agent answered (indexed by caller_number, end_ms). */
static const char sql_all[] =
    "SELECT COUNT(*), MAX(end_ms), (SELECT agent_number FROM cdr WHERE caller_number = ? AND end_ms >= ?"
    " AND agent_number IS NOT NULL AND agent_number <> '' ORDER BY end_ms DESC LIMIT 1)"
    " FROM cdr WHERE caller_number = ? AND end_ms >= ?";
static const char sql_answered[] =
    "SELECT COUNT(*), MAX(end_ms), (SELECT agent_number FROM cdr WHERE caller_number = ? AND end_ms >= ?"
    " AND agent_number IS NOT NULL AND agent_number <> '' ORDER BY end_ms DESC LIMIT 1)"
    " FROM cdr WHERE caller_number = ? AND end_ms >= ? AND answer_ms IS NOT NULL";

/* The table is made when the first record is stored: before that there
 * is no history, which is not an error. */
static bool no_table(const char *error)
{
    return strstr(error, "no such table: cdr") || strstr(error, "relation \"cdr\" does not exist");
}

static app_status answer(eng_strand *s, const svc_db_res *res)
{
    if (res->error && !no_table(res->error))
        return eng_fail(s, "call history: %s", res->error);
    double calls = !res->error && res->rows > 0 && res->ncols >= 3 && res->vals[0] ? atof(res->vals[0]) : 0;
    const char *last = calls > 0 && res->vals[1] ? res->vals[1] : NULL;
    const char *agent = calls > 0 && res->vals[2] ? res->vals[2] : "";
    char when[32] = "";
    if (last)
        rec_time(atof(last) / 1000.0, when);
    eng_strand_var_set(s, "history_found", cr_val_bool(calls > 0));
    eng_strand_var_set(s, "history_calls", cr_val_num(calls));
    eng_strand_var_set(s, "history_last_time", cr_val_cstr(when));
    eng_strand_var_set(s, "history_last_agent", cr_val_cstr(agent));
    return APP_DONE;
}

static void history_done_cb(void *arg, const svc_db_res *res)
{
    history_op *op = arg;
    eng_strand *s = op->s;
    free(op);
    eng_strand_set_pending(s, NULL);
    eng_strand_resume(s, answer(s, res));
}

static app_status history_run(eng_strand *s, const scn_action *a)
{
    const history_params *p = a->params;
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    const scn_cdr_settings *cdr = &eng_call_program(eng_strand_call(s))->settings.cdr;
    if (!svc)
        return eng_fail(s, "no database service in this run");
    if (!cdr->enabled)
        return eng_fail(s, "call records are off (settings.cdr.database: off): there is no history");
    const char *caller = eng_render(s, p->caller, SCN_ESC_NONE);
    char since[32];
    snprintf(since, sizeof since, "%lld",
             llround((loop_now(eng_engine_loop(eng_strand_engine(s))) - p->within) * 1000.0));
    const char *params[] = {caller, since, caller, since};
    double t = a->timeout >= 0 ? a->timeout : a->app->default_timeout;
    history_op *op = cr_xcalloc(1, sizeof *op);
    op->s = s;
    op->q = svc_db_query(svc, &cdr->db, p->answered ? sql_answered : sql_all, params, 4, t > 0 ? t + 1 : 0,
                         history_done_cb, op);
    eng_strand_set_pending(s, op);
    return APP_PENDING;
}

static void history_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    history_op *op = eng_strand_pending(s);
    if (!op)
        return;
    eng_strand_set_pending(s, NULL);
    svc_db_cancel(op->q);
    free(op);
}

static const scn_param history_spec[] = {
    {.name = "caller", .type = P_TEMPLATE, .offset = F(history_params, caller), .def = "{caller_number}",
     .doc = "the number whose calls are looked for"},
    {.name = "within", .type = P_DURATION, .offset = F(history_params, within), .def = "30d",
     .min = 1, .max = 3660 * 86400, .doc = "how far back: calls that ended within this time (e.g. 30d, 12h)"},
    {.name = "answered", .type = P_BOOL, .offset = F(history_params, answered), .def = "false",
     .doc = "count answered calls only"},
    SCN_PARAM_END,
};

const app_def app_history_table[] = {
    {.name = "history", .family = "integration",
     .summary = "Search the call records for a caller's recent calls: history_found, history_calls, "
                "history_last_time, history_last_agent.",
     .params = history_spec, .params_size = sizeof(history_params), .flags = APP_WAITS, .default_timeout = 5,
     .run = history_run, .cancel = history_cancel},
    APP_END,
};

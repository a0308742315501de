/* simulate.c — POST /simulate: one call of a scenario text (the editor's
 * unsaved flow, or the running revision's) on the simulator, as `callroute
 * simulate --json` runs it: a virtual clock, scripted caller and parties,
 * mail captured. It runs on serve's loop, so it is bounded: at most
 * ADMIN_SIM_MAX_RECORDS trace records and ADMIN_SIM_MAX_WALL seconds of
 * real time (a call of hours runs in milliseconds), and it never reaches a
 * real service: HTTP and database requests are answered by the request's
 * mocks or fail ("no mock for ..."), so nothing waits on the network and
 * nothing is written anywhere. The text is compiled as PUT /scenario
 * would (serve's compile: includes resolve from the file's folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "admin/revisions.h"
#include "admin/simulate_req.h"
#include "scenario/diag.h"
#include "simulate/simrun.h"
#include "util/alloc.h"

#define ADMIN_SIM_MAX_RECORDS 5000
#define ADMIN_SIM_MAX_BYTES (4 * 1024 * 1024)
#define ADMIN_SIM_MAX_WALL 2.0

typedef struct sink {
    cr_strbuf trace;               /* JSON records, comma-separated */
    size_t records;
    bool truncated;
} sink;

/* Records as GET /calls/ID keeps them; past the byte bound only the
 * hangup and call records, so how the call ended is always there. */
static void trace_cb(void *arg, const eng_trace_rec *rec)
{
    sink *k = arg;
    if (k->trace.len >= ADMIN_SIM_MAX_BYTES && rec->kind != ENG_TR_HANGUP && rec->kind != ENG_TR_CALL) {
        k->truncated = true;
        return;
    }
    if (k->records)
        cr_strbuf_putc(&k->trace, ',');
    eng_trace_json(rec, &k->trace);
    k->records++;
}

static void unmatched_cb(void *arg, const char *what)
{
    (void)arg;
    (void)what;   /* the action fails with "no mock for ...": the trace says it */
}

static json_t *diag_list(scn_diags *d, scn_severity sev)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < d->count; i++) {
        const scn_diag *g = &d->items[i];
        if (g->sev != sev)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "line", json_integer(g->line));
        json_object_set_new(o, "col", json_integer(g->col));
        json_object_set_new(o, "column", json_integer(g->col));
        json_object_set_new(o, "severity", json_string(sev == SCN_SEV_ERROR ? "error" : "warning"));
        json_object_set_new(o, "message", admin_jstr(g->msg));
        json_object_set_new(o, "path", admin_jstr(g->path));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *result_json(const simrun_result *res, scn_diags *d, const sink *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "route", admin_jstr(simrun_route(res)));
    json_object_set_new(o, "rejected", json_boolean(simrun_rejected(res)));
    json_object_set_new(o, "hangup_by", admin_jstr(simrun_hangup_by(res)));
    json_object_set_new(o, "hangup_cause", admin_jstr(simrun_hangup_cause(res)));
    json_object_set_new(o, "duration", json_real((double)(long long)(simrun_duration(res) * 1000) / 1000));
    json_t *vars = json_object();
    for (size_t i = 0; i < simrun_var_count(res); i++)
        json_object_set_new(vars, simrun_var_name(res, i), admin_jstr(simrun_var_value(res, i)));
    json_object_set_new(o, "vars", vars);
    json_object_set_new(o, "stopped", admin_jstr(simrun_stopped(res)));
    json_object_set_new(o, "truncated", json_boolean(k->truncated));
    json_object_set_new(o, "records", json_integer((json_int_t)k->records));
    json_object_set_new(o, "warnings", diag_list(d, SCN_SEV_WARNING));
    return o;
}

/* O (its last '}' dropped), then "trace": the records spliced in. */
static void reply_with_trace(admin_req *r, json_t *o, const sink *k)
{
    char *head = admin_dump(o);
    if (!head) {
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot encode the result", NULL);
        return;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_append(&b, head, strlen(head) - 1);
    free(head);
    cr_strbuf_puts(&b, ",\"trace\":[");
    cr_strbuf_append(&b, k->trace.s ? k->trace.s : "", k->trace.len);
    cr_strbuf_puts(&b, "]}");
    admin_reply_text(r, MHD_HTTP_OK, b.s);
}

void admin_simulate(admin_req *r)
{
    admin *a = r->a;
    if (!a->opt.compile) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the scenario is not managed by this server", NULL);
        return;
    }
    admin_sim_req q;
    char err[300];
    if (!admin_sim_req_parse(cr_strbuf_cstr(&r->body), r->body.len, &q, err, sizeof err)) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, err, NULL);
        admin_sim_req_free(&q);
        return;
    }
    const char *text = q.scenario;
    size_t len = q.scenario_len;
    if (!text && a->opt.revisions)
        text = admin_revisions_current_source(a->opt.revisions, &len);
    if (!text) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "no `scenario` given and none running", NULL);
        admin_sim_req_free(&q);
        return;
    }
    scn_diags d;
    scn_diags_init(&d);
    scn_program *prog = a->opt.compile(a->opt.scenario_arg, text, len, &d);
    if (!prog) {
        scn_diags_sort(&d);
        json_t *x = json_object();
        json_object_set_new(x, "errors", diag_list(&d, SCN_SEV_ERROR));
        json_object_set_new(x, "warnings", diag_list(&d, SCN_SEV_WARNING));
        admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "the scenario has errors", x);
        scn_diags_free(&d);
        admin_sim_req_free(&q);
        return;
    }
    sink k = {.records = 0};
    svc_mocks mocks = {.http = q.http, .http_count = q.http_count, .db = q.db, .db_count = q.db_count,
                       .unmatched = unmatched_cb};
    svc_options so = {.mail = SVC_MAIL_CAPTURE, .mocks = &mocks};
    simrun_params p = {
        .from = q.from, .to = q.to, .source = q.source, .caller_name = q.caller_name,
        .call_id = "try-1", .at = q.at, .utc_offset = q.utc_offset, .utc_offset_set = q.utc_offset_set,
        .caller = q.caller, .party_targets = q.party_targets, .party_specs = q.party_specs,
        .party_count = q.party_count, .var_names = q.var_names, .var_values = q.var_values,
        .var_count = q.var_count, .max_time = q.max_time, .trace = trace_cb, .trace_arg = &k, .svc = &so,
        .max_records = ADMIN_SIM_MAX_RECORDS, .max_wall = ADMIN_SIM_MAX_WALL,
    };
    simrun_result *res = simrun_call(prog, &p, err, sizeof err);
    if (!res) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, err, NULL);   /* a bad caller or party SPEC */
    } else {
        scn_diags_sort(&d);
        reply_with_trace(r, result_json(res, &d, &k), &k);
        simrun_result_free(res);
    }
    cr_strbuf_free(&k.trace);
    scn_program_unref(prog);
    scn_diags_free(&d);
    admin_sim_req_free(&q);
}

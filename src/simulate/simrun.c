/* simrun.c — one simulated call on a virtual loop (simrun.h). */
#include "simulate/simrun.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/from_program.h"
#include "services/svc.h"
#include "telephony/sim/sim.h"
#include "util/alloc.h"

struct simrun_result {
    char *route;
    bool rejected;
    char *hangup_by, *hangup_cause;
    double duration;
    size_t var_count, var_cap;
    char **names, **values;
    const char *stopped;
};

typedef struct run_ctx {
    const simrun_params *p;
    simrun_result *r;
    eng_engine *e;
    eng_call *call;                 /* the incoming call while it lives */
    loop *l;
    size_t records;
    double wall_start;
    const char *first_id;           /* its Call-ID (the others' are sim-2, ...) */
    sim_driver *sd;
    const char *default_source;
} run_ctx;

typedef struct extra_call {
    run_ctx *x;
    const simrun_call_spec *spec;
    char id[32];
    loop_timer *t;
} extra_call;

typedef struct app_event_timer {
    run_ctx *x;
    const simrun_app_event *ev;
    loop_timer *t;
} app_event_timer;

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every record passes here: the bounds are checked, then the caller's sink
 * sees it. A run past a bound stops at once; the records of its end (the
 * call ended as at shutdown) still come. */
static void trace_cb(void *arg, const eng_trace_rec *rec)
{
    run_ctx *x = arg;
    const simrun_params *p = x->p;
    x->records++;
    if (!x->r->stopped) {
        if (p->max_records && x->records > p->max_records)
            x->r->stopped = "max_records";
        else if (p->max_wall > 0 && monotonic() - x->wall_start > p->max_wall)
            x->r->stopped = "max_wall";
        if (x->r->stopped)
            loop_stop(x->l);
    }
    if (p->trace)
        p->trace(p->trace_arg, rec);
}

static void call_start_cb(void *arg, eng_call *c)
{
    run_ctx *x = arg;
    if (eng_call_originated(c) || strcmp(eng_call_id(c), x->first_id) != 0)
        return;
    x->call = c;
    for (size_t i = 0; i < x->p->var_count; i++)
        eng_var_set_str(c, x->p->var_names[i], x->p->var_values[i]);
}

static void keep_var(void *arg, const char *name, cr_value v)
{
    simrun_result *r = arg;
    if (r->var_count == r->var_cap) {
        r->var_cap = r->var_cap ? r->var_cap * 2 : 32;
        r->names = cr_xrealloc(r->names, r->var_cap * sizeof *r->names);
        r->values = cr_xrealloc(r->values, r->var_cap * sizeof *r->values);
    }
    cr_strbuf b = CR_STRBUF_INIT;
    cr_val_to_text(v, &b);
    r->names[r->var_count] = cr_xstrdup(name ? name : "");
    r->values[r->var_count] = cr_xstrdup(cr_strbuf_cstr(&b));
    r->var_count++;
    cr_strbuf_free(&b);
}

static void call_done_cb(void *arg, eng_call *c)
{
    run_ctx *x = arg;
    simrun_result *r = x->r;
    if (c != x->call)
        return;   /* a call the scenario placed */
    x->call = NULL;
    const char *route = eng_call_route(c);
    r->route = cr_xstrdup(route);
    r->rejected = route == NULL;
    eng_var_foreach(c, keep_var, r);
    const char *by = simrun_var(r, "hangup_by");
    const char *cause = simrun_var(r, "hangup_cause");
    r->hangup_by = cr_xstrdup(by);
    r->hangup_cause = cr_xstrdup(cause);
    r->duration = loop_now(eng_engine_loop(x->e)) - eng_call_start(c);
}

static void app_event_cb(loop *l, void *arg)
{
    (void)l;
    app_event_timer *t = arg;
    t->t = NULL;
    if (t->x->call)
        eng_call_app_event(t->x->call, "simulate", t->ev->name, t->ev->keys, t->ev->values, t->ev->count);
}

static void extra_call_cb(loop *l, void *arg)
{
    (void)l;
    extra_call *ec = arg;
    ec->t = NULL;
    const simrun_call_spec *cs = ec->spec;
    tel_call_info info = {
        .call_id = ec->id,
        .caller_number = cs->from ? cs->from : "",
        .caller_name = "",
        .called_number = cs->to ? cs->to : "",
        .source = cs->source ? cs->source : ec->x->default_source,
    };
    char err[256];
    if (sim_call(ec->x->sd, &info, cs->spec, err, sizeof err) < 0)
        fprintf(stderr, "callroute simulate: call %s: %s\n", ec->id, err);
}

static void mail_flushed_cb(void *arg)
{
    loop_stop(arg);
}

simrun_result *simrun_call(scn_program *prog, const simrun_params *p, char *err, size_t errlen)
{
    double at = p->at > 0 ? p->at : (double)time(NULL);
    int offset = p->utc_offset;
    if (!p->utc_offset_set) {
        time_t t = (time_t)at;
        struct tm tm;
        localtime_r(&t, &tm);
        offset = (int)tm.tm_gmtoff;
    }
    double max_time = p->max_time > 0 ? p->max_time : 3600;

    loop *l = loop_new_virtual(at);
    sim_driver *sd = sim_driver_new(l);
    sim_set_max_media(sd, max_time);
    for (size_t i = 0; i < p->party_count; i++)
        if (!sim_party_add(sd, p->party_targets[i], p->party_specs[i], err, errlen)) {
            sim_driver_free(sd);
            loop_destroy(l);
            return NULL;
        }
    svc_options def = {.mail = SVC_MAIL_CAPTURE};
    const svc_options *so = p->svc ? p->svc : &def;
    svc_config sc = cfg_services_of(prog);
    svc_ctx *svc = svc_new(l, &sc, so, err, errlen);
    if (!svc) {
        sim_driver_free(sd);
        loop_destroy(l);
        return NULL;
    }
    simrun_result *r = cr_xcalloc(1, sizeof *r);
    run_ctx x = {.p = p, .r = r, .l = l, .wall_start = monotonic()};
    bool bounded = p->max_records || p->max_wall > 0;
    eng_options o = {
        .trace = bounded ? trace_cb : p->trace,
        .trace_arg = bounded ? (void *)&x : p->trace_arg,
        .utc_offset = offset,
        .max_duration = max_time,
        .call_start = call_start_cb,
        .call_start_arg = &x,
        .call_done = call_done_cb,
        .call_done_arg = &x,
        .random_seed = p->random_seed ? p->random_seed : 1,
        .dry_run = true,   /* voicemail boxes in memory: a simulation writes no message */
        .keep_all_headers = true,   /* its result lists every variable */
    };
    x.e = eng_engine_new(l, sim_driver_tel(sd), svc, prog, &o);

    const char *source = p->source;
    if (!source)
        source = prog->gateway_count ? prog->gateways[0].name : "";
    x.first_id = p->call_id ? p->call_id : "sim-1";
    x.sd = sd;
    x.default_source = prog->gateway_count ? prog->gateways[0].name : "";
    tel_call_info info = {
        .call_id = x.first_id,
        .caller_number = p->from ? p->from : "",
        .caller_name = p->caller_name ? p->caller_name : "",
        .called_number = p->to ? p->to : "",
        .source = source,
        .header_names = p->header_names,
        .header_values = p->header_values,
        .header_count = p->header_count,
    };
    int rc = 0;
    if (p->message)
        sim_message(sd, &info, p->message);
    else
        rc = sim_call(sd, &info, p->caller, err, errlen);
    extra_call *extras = cr_xcalloc(p->call_count ? p->call_count : 1, sizeof *extras);
    for (size_t i = 0; rc >= 0 && i < p->call_count; i++) {
        extras[i] = (extra_call){.x = &x, .spec = &p->calls[i]};
        snprintf(extras[i].id, sizeof extras[i].id, "sim-%zu", i + 2);
        extras[i].t = loop_timer_start(l, p->calls[i].at, extra_call_cb, &extras[i]);
    }
    app_event_timer *timers = cr_xcalloc(p->app_event_count ? p->app_event_count : 1, sizeof *timers);
    for (size_t i = 0; rc >= 0 && i < p->app_event_count; i++) {
        timers[i] = (app_event_timer){.x = &x, .ev = &p->app_events[i]};
        timers[i].t = loop_timer_start(l, p->app_events[i].at, app_event_cb, &timers[i]);
    }
    if (rc >= 0) {
        loop_run(l);
        if (so->mail == SVC_MAIL_SEND_ONCE && !r->stopped) {
            svc_flush(svc, mail_flushed_cb, l);
            loop_run(l);
        }
    }
    for (size_t i = 0; i < p->app_event_count; i++)
        if (timers[i].t)
            loop_timer_stop(l, timers[i].t);
    free(timers);
    for (size_t i = 0; i < p->call_count; i++)
        if (extras[i].t)
            loop_timer_stop(l, extras[i].t);
    free(extras);
    eng_engine_free(x.e);
    svc_free(svc);
    sim_driver_free(sd);
    loop_destroy(l);
    if (rc < 0) {
        simrun_result_free(r);
        return NULL;
    }
    return r;
}

void simrun_result_free(simrun_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->var_count; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->names);
    free(r->values);
    free(r->route);
    free(r->hangup_by);
    free(r->hangup_cause);
    free(r);
}

const char *simrun_route(const simrun_result *r) { return r->route; }
bool simrun_rejected(const simrun_result *r) { return r->rejected; }
const char *simrun_stopped(const simrun_result *r) { return r->stopped; }
const char *simrun_hangup_by(const simrun_result *r) { return r->hangup_by; }
const char *simrun_hangup_cause(const simrun_result *r) { return r->hangup_cause; }
double simrun_duration(const simrun_result *r) { return r->duration; }
size_t simrun_var_count(const simrun_result *r) { return r->var_count; }
const char *simrun_var_name(const simrun_result *r, size_t i) { return r->names[i]; }
const char *simrun_var_value(const simrun_result *r, size_t i) { return r->values[i]; }

const char *simrun_var(const simrun_result *r, const char *name)
{
    for (size_t i = 0; i < r->var_count; i++)
        if (strcmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}



/* records_hook.c — serve's calls into call detail records (records/cdr.h):
 * the engine's hooks wrapped (as the admin API wraps them) so each call's
 * record is spooled when its route is chosen, again when it is answered,
 * and finally when the call is over, after its hangup handlers (they may
 * still set cdr.* variables). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/records_hook.h"
#include "util/alloc.h"

struct records_hook {
    rec_ctx *rec;
    const char *node;
    char node_buf[256];
};

static const char *var(eng_call *c, const char *name)
{
    cr_value v;
    return eng_var_get(c, name, &v) && v.kind == CR_VAL_STR && v.str && *v.str ? v.str : NULL;
}

typedef struct cdr_vars {
    cr_arena *a;
    const char **names, **values;
    size_t n, cap;
} cdr_vars;

static void collect_cdr_var(void *arg, const char *name, cr_value v)
{
    cdr_vars *cv = arg;
    if (strncmp(name, "cdr.", 4) != 0 || !name[4])
        return;
    if (cv->n == cv->cap) {
        size_t cap = cv->cap ? cv->cap * 2 : 8;
        const char **nn = cr_arena_alloc(cv->a, cap * sizeof *nn), **vv = cr_arena_alloc(cv->a, cap * sizeof *vv);
        if (cv->n) {
            memcpy(nn, cv->names, cv->n * sizeof *nn);
            memcpy(vv, cv->values, cv->n * sizeof *vv);
        }
        cv->names = nn;
        cv->values = vv;
        cv->cap = cap;
    }
    cv->names[cv->n] = cr_arena_strdup(cv->a, name + 4);
    size_t len;
    cv->values[cv->n] = cr_val_to_cstr(v, cv->a, &len);
    cv->n++;
}

/* The record of C as it stands now (ENDED: with its outcome). */
static void build(records_hook *h, eng_call *c, bool ended)
{
    const char *id = var(c, "cdr_id");
    if (!h->rec || !id)
        return;
    cr_arena *a = eng_call_arena(c);
    rec_cdr r = {.node = h->node,
                 .call_id = eng_call_id(c),
                 .route = eng_call_route(c),
                 .source = var(c, "source"),
                 .caller_number = var(c, "caller_number"),
                 .caller_name = var(c, "caller_name"),
                 .called_number = var(c, "called_number"),
                 .revision = eng_call_program(c)->revision,
                 .start = eng_call_start(c),
                 .answer = eng_call_answer_time(c),
                 .end = ended ? loop_now(eng_engine_loop(eng_call_engine(c))) : 0,
                 .hangup_by = eng_call_hangup_by(c),
                 .hangup_cause = eng_call_hangup_cause(c),
                 .sip_code = eng_call_hangup_code(c),
                 .recording = var(c, "record_file")};
    snprintf(r.id, sizeof r.id, "%s", id);
    size_t n = 0;
    const eng_leg_log *legs = eng_call_legs(c, &n);
    rec_leg *rl = n ? cr_arena_alloc(a, n * sizeof *rl) : NULL;
    for (size_t i = 0; i < n; i++) {
        rl[i] = (rec_leg){.agent_number = legs[i].agent_number, .gateway = legs[i].gateway,
                          .dial_status = legs[i].status, .start = legs[i].start, .answer = legs[i].answer,
                          .end = legs[i].end, .sip_code = legs[i].sip_code};
        if (legs[i].answer > 0)
            r.agent_number = legs[i].agent_number;   /* the last one who answered */
    }
    r.legs = rl;
    r.leg_count = n;
    cdr_vars cv = {.a = a};
    eng_var_foreach(c, collect_cdr_var, &cv);
    r.var_names = cv.names;
    r.var_values = cv.values;
    r.var_count = cv.n;
    rec_call_update(h->rec, &r, ended);
}

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    records_hook *h = arg;
    /* The record is spooled once there is something to bill: the route is
     * chosen (or callroute places the call: source "originate", the
     * caller_id as caller_number); and again when the call is answered. */
    if (r->call && ((r->kind == ENG_TR_ROUTE && !r->leg && r->route) || r->kind == ENG_TR_ORIGINATE ||
                    (r->kind == ENG_TR_EVENT && !r->leg && r->event && strcmp(r->event, "answer") == 0)))
        build(h, (eng_call *)r->call, false);
}

static void call_start_cb(void *arg, eng_call *c)
{
    (void)arg;
    char id[40];
    rec_new_id(id);
    eng_var_set_str(c, "cdr_id", id);
}

static void call_done_cb(void *arg, eng_call *c)
{
    records_hook *h = arg;
    build(h, c, true);
}

records_hook *records_hook_new(rec_ctx *rec, const char *node, eng_options *eo)
{
    records_hook *h = cr_xcalloc(1, sizeof *h);
    h->rec = rec;
    if (node)
        snprintf(h->node_buf, sizeof h->node_buf, "%s", node);
    else if (gethostname(h->node_buf, sizeof h->node_buf - 1) != 0)
        snprintf(h->node_buf, sizeof h->node_buf, "callroute");
    h->node = h->node_buf;
    eng_observer o = {.trace = trace_cb, .call_start = call_start_cb, .call_done = call_done_cb, .arg = h};
    eng_observe(eo, &o);
    eo->call_start_arena += eng_var_bytes("cdr_id", 36);   /* call_start_cb's: a UUID */
    return h;
}

void records_hook_free(records_hook *h) { free(h); }

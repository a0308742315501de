/* call.c — the Call control family: answer, ringing, hangup, dial, transfer.
 * The dial machinery (legs, first answer wins, bridge, handlers) lives in
 * engine/dial.c; here `to:` is resolved into targets. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct ringing_params {
    bool early_media;
} ringing_params;

typedef struct hangup_params {
    const char *cause;        /* busy | congestion | normal | a SIP code */
} hangup_params;

typedef struct dial_params {
    scn_templates to;         /* user, group, number, SIP URI; a list rings all */
    scn_refs gateway;         /* tried in order for numbers */
    double timeout;           /* ring time, seconds */
    const scn_template *caller_id;
    const char *ringback;     /* "tone" or a file */
    scn_handlers on;
} dial_params;

typedef struct transfer_params {
    const scn_template *to;
} transfer_params;

typedef struct originate_params {
    scn_templates to;         /* as dial's */
    scn_refs gateway;
    const scn_template *caller_id;
    const scn_named_scenario *scenario;
    scn_template_map vars;    /* the new call's variables */
    double timeout;           /* ring time, seconds */
    double delay;             /* before ringing, seconds */
    scn_handlers on;          /* leg events of the new call */
} originate_params;

static const scn_param answer_spec[] = {SCN_PARAM_END};

static const scn_param ringing_spec[] = {
    {.name = "early_media", .type = P_BOOL, .offset = F(ringing_params, early_media), .def = "false",
     .doc = "send 183 Session Progress with media instead of 180 Ringing"},
    SCN_PARAM_END,
};

static const scn_param hangup_spec[] = {
    {.name = "cause", .type = P_STRING, .offset = F(hangup_params, cause), .def = "normal",
     .doc = "busy, congestion, normal, or a SIP code (400-699)"},
    SCN_PARAM_END,
};

static const char *const ringback_words[] = {"tone", NULL};   /* not a file */

static const scn_param dial_spec[] = {
    {.name = "to", .type = P_TEMPLATES, .offset = F(dial_params, to), .flags = P_REQ | P_NONEMPTY,
     .doc = "a user, a group, a number, a SIP URI, or a list (ring all, first answer wins)"},
    {.name = "gateway", .type = P_GATEWAYS, .offset = F(dial_params, gateway),
     .doc = "gateway name or list, tried in order for numbers"},
    {.name = "timeout", .type = P_DURATION, .offset = F(dial_params, timeout), .def = "30",
     .min = 1, .max = 3600, .doc = "ring time before the dial gives up (no_answer)"},
    {.name = "caller_id", .type = P_TEMPLATE, .offset = F(dial_params, caller_id),
     .doc = "caller number presented to the dialled party"},
    {.name = "ringback", .type = P_STRING, .offset = F(dial_params, ringback), .flags = P_FILE_SOUNDS,
     .choices = ringback_words,
     .doc = "`tone` or a prompt file (below settings.media.sounds) played to the caller while the leg rings"},
    {.name = "on", .type = P_HANDLERS, .offset = F(dial_params, on),
     .doc = "leg event -> actions, each run in a new strand"},
    SCN_PARAM_END,
};

static const scn_param transfer_spec[] = {
    {.name = "to", .type = P_TEMPLATE, .offset = F(transfer_params, to), .flags = P_REQ,
     .doc = "where to send the caller (number, user or SIP URI)"},
    SCN_PARAM_END,
};

static const scn_param originate_spec[] = {
    {.name = "to", .type = P_TEMPLATES, .offset = F(originate_params, to), .flags = P_REQ | P_NONEMPTY,
     .doc = "whom to call, as dial's `to`: a user, a group, a number, a SIP URI, or a list"},
    {.name = "gateway", .type = P_GATEWAYS, .offset = F(originate_params, gateway),
     .doc = "gateway name or list, tried in order for numbers"},
    {.name = "caller_id", .type = P_TEMPLATE, .offset = F(originate_params, caller_id),
     .doc = "caller number presented to the party (the new call's caller_number)"},
    {.name = "scenario", .type = P_SCENARIO, .offset = F(originate_params, scenario), .flags = P_REQ,
     .doc = "the named scenario the new call runs when the party answers"},
    {.name = "vars", .type = P_TEMPLATE_MAP, .offset = F(originate_params, vars),
     .doc = "the new call's variables, each from a template of this call"},
    {.name = "timeout", .type = P_DURATION, .offset = F(originate_params, timeout), .def = "30",
     .min = 1, .max = 3600, .doc = "ring time before giving up (no_answer)"},
    {.name = "delay", .type = P_DURATION, .offset = F(originate_params, delay), .def = "0",
     .min = 0, .max = 86400, .doc = "wait this long before ringing (a callback after this call is over)"},
    {.name = "on", .type = P_HANDLERS, .offset = F(originate_params, on),
     .doc = "leg event -> actions, each run in a new strand of the new call"},
    SCN_PARAM_END,
};

/* ---- run ---- */

static app_status answer_run(eng_strand *s, const scn_action *a)
{
    (void)a;
    if (eng_call_answer(eng_strand_call(s)) < 0)
        return eng_fail(s, "cannot answer the call");
    return APP_DONE;
}

static app_status ringing_run(eng_strand *s, const scn_action *a)
{
    const ringing_params *p = a->params;
    if (eng_call_ringing(eng_strand_call(s), p->early_media) < 0)
        return eng_fail(s, "cannot signal ringing");
    return APP_DONE;
}

static bool hangup_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    hangup_params *p = params;
    if (eng_hangup_cause_valid(p->cause))
        return true;
    scn_cx_error(cx, scn_map_get(action, "cause"),
                 "cause must be busy, congestion, normal or a SIP code 400-699, got '%s'", p->cause);
    return false;
}

static app_status hangup_run(eng_strand *s, const scn_action *a)
{
    const hangup_params *p = a->params;
    eng_call_hangup(eng_strand_call(s), "scenario", p->cause ? p->cause : "normal", 0);
    return APP_STOP;
}

static app_status transfer_run(eng_strand *s, const scn_action *a)
{
    const transfer_params *p = a->params;
    const char *to = eng_render(s, p->to, SCN_ESC_NONE);
    if (!*to)
        return eng_fail(s, "transfer: empty target");
    if (eng_call_transfer(eng_strand_call(s), to, "scenario") < 0)
        return eng_fail(s, "transfer to %s failed", to);
    return APP_STOP;
}

/* ---- dial ---- */

static app_status dial_run(eng_strand *s, const scn_action *a)
{
    const dial_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const scn_program *prog = eng_call_program(c);
    eng_targets t = {0};
    const scn_gateway *const *gws = (const scn_gateway *const *)p->gateway.items;
    app_status st = APP_PENDING;
    char err[256];
    for (size_t i = 0; i < p->to.count && st == APP_PENDING; i++)
        if (!eng_targets_add(eng_call_engine(c), prog, &t, eng_render(s, p->to.items[i], SCN_ESC_NONE), gws,
                             p->gateway.count, p->to.count == 1, err, sizeof err))
            st = eng_fail(s, "%s", err);
    if (st == APP_PENDING && t.count == 0)
        st = eng_fail(s, "nothing to dial: `to` rendered empty");
    /* The action's gateway list is the program's, which the call holds
     * until its end: the dial points at it (8 B less a held call). */
    for (size_t i = 0; i < t.count; i++)
        if (gws && t.items[i].gateways == gws)
            t.items[i].gateways_kept = true;
    if (st == APP_PENDING && t.count == 1 && t.items[0].kind != TEL_DIAL_URI) {
        /* Per-user / per-number behaviour: a to_user / to_gateway route for
         * the leg runs instead (its own dial of the same target rings it). */
        scn_route_type rt = t.items[0].kind == TEL_DIAL_USER ? SCN_ROUTE_TO_USER : SCN_ROUTE_TO_GATEWAY;
        bool inside = false;
        for (size_t i = 0; i < prog->route_count; i++)
            if (prog->routes[i].type == rt && eng_strand_has_tag(s, &prog->routes[i]))
                inside = true;
        const scn_route *r = inside ? NULL : eng_route_leg(s, rt, t.items[0].target);
        if (r) {
            eng_var_set_str(c, "dial_target", t.items[0].target);
            eng_strand_push(s, r->scenario ? &r->scenario->script : &r->script, ENG_FRAME_SCENARIO, r);
            st = APP_DONE;
        }
    }
    const char *ringback = p->ringback, *why = NULL;
    if (st == APP_PENDING && ringback && strcmp(ringback, "tone") != 0 &&
        !(ringback = eng_file_resolve(s, ENG_DIR_SOUNDS, "ringback prompt", p->ringback, &why)))
        st = eng_fail(s, "%s", why);
    if (st == APP_PENDING) {
        eng_dial_req req = {
            .targets = t.items,
            .count = t.count,
            .sequential = t.sequential,
            .ring_timeout = p->timeout,
            .caller_id = p->caller_id ? eng_render(s, p->caller_id, SCN_ESC_NONE) : NULL,
            .ringback = ringback,
            .on = &p->on,
        };
        st = eng_dial_start(s, &req);
    }
    eng_targets_free(&t);
    if (st == APP_FAILED && !eng_strand_pending(s)) {
        /* Failed before any leg was dialled: the outcome is still set. */
        eng_strand_var_set(s, "dial_status", cr_val_cstr("failed"));
        eng_strand_var_set(s, "dial_sip_code", cr_val_num(0));
        eng_strand_var_set(s, "dial_duration", cr_val_num(0));
    }
    return st;
}

static void dial_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_dial_cancel(s);
}

/* ---- originate ---- */

static bool originate_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const originate_params *p = params;
    bool ok = true;
    for (size_t i = 0; i < p->vars.count; i++) {
        const char *why;
        if (!eng_var_name_settable(p->vars.names[i], &why)) {
            scn_cx_error(cx, scn_map_get(action, "vars"), "vars: '%s': %s", p->vars.names[i], why);
            ok = false;
        }
    }
    return ok;
}

/* Places a new call and goes on at once: the new call lives on its own
 * (this one may end first: "call me back"). */
static app_status originate_run(eng_strand *s, const scn_action *a)
{
    const originate_params *p = a->params;
    size_t nt = p->to.count, nv = p->vars.count;
    const char **to = cr_xmalloc((nt ? nt : 1) * sizeof *to);
    cr_value *values = cr_xmalloc((nv ? nv : 1) * sizeof *values);
    for (size_t i = 0; i < nt; i++)
        to[i] = eng_render(s, p->to.items[i], SCN_ESC_NONE);
    for (size_t i = 0; i < nv; i++)
        values[i] = cr_val_cstr(eng_render(s, p->vars.items[i], SCN_ESC_NONE));
    eng_originate_req req = {
        .from = eng_strand_call(s),
        .to = to,
        .to_count = nt,
        .gateways = (const scn_gateway *const *)p->gateway.items,
        .gateway_count = p->gateway.count,
        .caller_id = p->caller_id ? eng_render(s, p->caller_id, SCN_ESC_NONE) : NULL,
        .ring_timeout = p->timeout,
        .delay = p->delay,
        .scenario = p->scenario,
        .on = &p->on,
        .var_names = p->vars.names,
        .var_values = values,
        .var_count = nv,
        .by = "scenario",
    };
    char err[256];
    eng_call *c = eng_originate(eng_strand_engine(s), &req, err, sizeof err);
    free(to);
    free(values);
    if (!c)
        return eng_fail(s, "%s", err);
    eng_strand_var_set(s, "originate_call_id", cr_val_cstr(eng_call_id(c)));
    return APP_DONE;
}

const app_def app_call_table[] = {
    {.name = "answer", .family = "call", .summary = "Answer the call (200 OK).",
     .params = answer_spec, .params_size = 0, .flags = APP_CALL_CONTROL, .run = answer_run},
    {.name = "ringing", .family = "call", .summary = "Signal ringing (180), or 183 with early media.",
     .params = ringing_spec, .params_size = sizeof(ringing_params), .flags = APP_CALL_CONTROL,
     .run = ringing_run},
    {.name = "hangup", .family = "call", .summary = "End the call with a cause.",
     .params = hangup_spec, .params_size = sizeof(hangup_params), .flags = APP_CALL_CONTROL,
     .check = hangup_check, .run = hangup_run},
    {.name = "dial", .family = "call",
     .summary = "Call a user, group, number or URI (\"call through the gateway\") and bridge on answer.",
     .params = dial_spec, .params_size = sizeof(dial_params),
     .flags = APP_CALL_CONTROL | APP_WAITS | APP_OWN_TIMEOUT | APP_NESTS,
     .run = dial_run, .cancel = dial_cancel},
    {.name = "transfer", .family = "call", .summary = "Blind-transfer the caller (SIP REFER where supported).",
     .params = transfer_spec, .params_size = sizeof(transfer_params), .flags = APP_CALL_CONTROL,
     .run = transfer_run},
    {.name = "originate", .family = "call",
     .summary = "Place a new call: ring a party, and run a named scenario in that call once it answers.",
     .params = originate_spec, .params_size = sizeof(originate_params), .flags = APP_NESTS,
     .check = originate_check, .run = originate_run},
    APP_END,
};

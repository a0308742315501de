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

static bool cause_valid(const char *c)
{
    if (!c || strcmp(c, "busy") == 0 || strcmp(c, "congestion") == 0 || strcmp(c, "normal") == 0)
        return true;
    char *end;
    long n = strtol(c, &end, 10);
    return *c && !*end && n >= 400 && n <= 699;
}

static bool hangup_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    hangup_params *p = params;
    if (cause_valid(p->cause))
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
    if (eng_call_transfer(eng_strand_call(s), to) < 0)
        return eng_fail(s, "transfer to %s failed", to);
    return APP_STOP;
}

/* ---- dial ---- */

typedef struct targets {
    eng_dial_target *items;
    size_t count, cap;
    bool sequential;
} targets;

static void add_target(targets *t, tel_dial_kind kind, const char *target, const char *name,
                       const scn_gateway *const *gws, size_t gw_count)
{
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->items = cr_xrealloc(t->items, t->cap * sizeof *t->items);
    }
    t->items[t->count++] = (eng_dial_target){.kind = kind, .target = target, .agent_name = name,
                                             .gateways = gws, .gateway_count = gw_count};
}

/* Members in the order the group's strategy rings them. */
static void add_group(eng_strand *s, targets *t, const scn_group *g, bool alone)
{
    eng_engine *e = eng_call_engine(eng_strand_call(s));
    const scn_program *prog = eng_call_program(eng_strand_call(s));
    size_t n = g->member_count;
    if (n == 0)
        return;
    const char **order = cr_xmalloc(n * sizeof *order);
    size_t start = 0;
    if (g->strategy == SCN_GROUP_ROUND_ROBIN)
        start = eng_group_next(e, g->name) % n;
    for (size_t i = 0; i < n; i++)
        order[i] = g->members[(start + i) % n];
    if (g->strategy == SCN_GROUP_LONGEST_IDLE) {
        for (size_t i = 1; i < n; i++) {   /* stable insertion sort by idle-since */
            const char *x = order[i];
            double xi = eng_agent_idle_since(e, x);
            size_t j = i;
            while (j > 0 && eng_agent_idle_since(e, order[j - 1]) > xi) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
    } else if (g->strategy == SCN_GROUP_RANDOM) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = eng_random(e) % (i + 1);
            const char *x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const scn_user *u = scn_program_user(prog, order[i]);
        add_target(t, TEL_DIAL_USER, order[i], u ? u->name : NULL, NULL, 0);
    }
    if (alone && g->strategy != SCN_GROUP_RING_ALL)
        t->sequential = true;   /* a hunt: one member after another */
    free(order);
}

static app_status dial_run(eng_strand *s, const scn_action *a)
{
    const dial_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const scn_program *prog = eng_call_program(c);
    targets t = {0};
    const scn_gateway *const *gws = (const scn_gateway *const *)p->gateway.items;
    size_t gw_count = p->gateway.count;
    const scn_gateway **all_gws = NULL;
    if (gw_count == 0 && prog->gateway_count) {
        /* No `gateway:`: numbers go out through the program's gateways in order. */
        all_gws = cr_xmalloc(prog->gateway_count * sizeof *all_gws);
        for (size_t i = 0; i < prog->gateway_count; i++)
            all_gws[i] = &prog->gateways[i];
        gws = all_gws;
        gw_count = prog->gateway_count;
    }
    app_status st = APP_PENDING;
    for (size_t i = 0; i < p->to.count; i++) {
        const char *to = eng_render(s, p->to.items[i], SCN_ESC_NONE);
        while (*to == ' ')
            to++;
        if (!*to)
            continue;
        const scn_user *u = scn_program_user(prog, to);
        const scn_group *g = u ? NULL : scn_program_group(prog, to);
        if (u) {
            add_target(&t, TEL_DIAL_USER, to, u->name, NULL, 0);
        } else if (g) {
            add_group(s, &t, g, p->to.count == 1);
        } else if (strncmp(to, "sip:", 4) == 0 || strncmp(to, "sips:", 5) == 0) {
            add_target(&t, TEL_DIAL_URI, to, NULL, NULL, 0);
        } else if (gw_count == 0) {
            st = eng_fail(s, "no gateway to dial %s through", to);
            break;
        } else {
            add_target(&t, TEL_DIAL_GATEWAY, to, NULL, gws, gw_count);
        }
    }
    if (st == APP_PENDING && t.count == 0)
        st = eng_fail(s, "nothing to dial: `to` rendered empty");
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
    free(t.items);
    free(all_gws);
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
    APP_END,
};

/* originate.c — calls callroute places (engine.h: originate). The call
 * exists from the request on, with no leg; its party is rung by the dial
 * machinery (dial.c, a dial no strand waits on). On answer the party's leg
 * becomes the call's own and the named scenario runs as its main strand;
 * from then on the call is like any other (its leg's events are "the
 * caller's"). Unanswered, the call ends by the system with the outcome as
 * its cause. docs/decisions/originate.md says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"
#include "scenario/events.h"

typedef struct eng_origin {
    eng_call *c;
    eng_dial_req req;          /* what to ring, in the call's arena */
    const scn_named_scenario *scenario;
    loop_timer *delay;         /* before the party is rung */
    struct eng_dial *dial;     /* NULL until rung, and when nothing could be rung */
} eng_origin;

bool eng_call_originated(const eng_call *c) { return eng_rare(c)->origin != NULL; }

/* REQ's targets and handlers, kept for as long as the call lives. */
static void keep_request(eng_origin *o, const eng_targets *t, const eng_originate_req *r)
{
    cr_arena *a = &o->c->arena;
    eng_dial_target *items = cr_arena_alloc(a, t->count * sizeof *items);
    for (size_t i = 0; i < t->count; i++) {
        items[i] = t->items[i];
        items[i].target = cr_arena_strdup(a, t->items[i].target);
        if (t->items[i].agent_name)
            items[i].agent_name = cr_arena_strdup(a, t->items[i].agent_name);
        if (t->items[i].gateway_count) {
            const scn_gateway **g = cr_arena_alloc(a, t->items[i].gateway_count * sizeof *g);
            memcpy(g, t->items[i].gateways, t->items[i].gateway_count * sizeof *g);
            items[i].gateways = g;
        }
    }
    o->req = (eng_dial_req){.targets = items, .count = t->count, .sequential = t->sequential,
                            .ring_timeout = r->ring_timeout > 0 ? r->ring_timeout : 30,
                            .caller_id = r->caller_id && *r->caller_id ? cr_arena_strdup(a, r->caller_id) : NULL};
    if (r->on && r->on->count) {
        /* The lists are the program's (the call holds a reference to it). */
        scn_handlers *on = cr_arena_alloc(a, sizeof *on);
        int *events = cr_arena_alloc(a, r->on->count * sizeof *events);
        scn_actions *lists = cr_arena_alloc(a, r->on->count * sizeof *lists);
        memcpy(events, r->on->events, r->on->count * sizeof *events);
        memcpy(lists, r->on->lists, r->on->count * sizeof *lists);
        on->count = r->on->count;
        on->events = events;
        on->lists = lists;
        o->req.on = on;
    }
}

static void ring(eng_origin *o)
{
    eng_strand *was = o->c->e->running;
    o->c->e->running = &eng_sys_strand;
    o->dial = eng_dial_origin(o->c, &o->req);
    o->c->e->running = was;
}

static void delay_cb(loop *l, void *arg)
{
    (void)l;
    eng_origin *o = arg;
    o->delay = NULL;
    ring(o);
}

/* "a, b" from N strings (NULL when N is 0), in the call's arena. */
static const char *joined(cr_arena *a, const char *const *s, size_t n)
{
    if (n == 0)
        return NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            cr_strbuf_puts(&b, ", ");
        cr_strbuf_puts(&b, s[i]);
    }
    const char *out = cr_arena_strdup(a, cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return out;
}

static void set_vars(eng_call *c, const eng_originate_req *r)
{
    eng_var_set_str(c, "originated_by", r->by ? r->by : "admin");
    if (r->from)
        eng_var_set_str(c, "parent_call_id", eng_call_idp(r->from));
    /* The scenario's declared arguments start empty unless given, as
     * `app: scenario` does. */
    for (size_t i = 0; i < r->scenario->arg_count; i++)
        eng_var_set_str(c, r->scenario->args[i], "");
    for (size_t i = 0; i < r->var_count; i++)
        eng_var_set(c, r->var_names[i], r->var_values[i]);
}

static eng_call *originate(eng_engine *e, const eng_originate_req *r, char *err, size_t errlen)
{
    scn_program *prog = r->from ? r->from->prog : e->prog;
    if (!prog || !r->scenario) {
        snprintf(err, errlen, "%s", prog ? "no scenario to run" : "no scenario file loaded");
        return NULL;
    }
    int max = prog->settings.max_calls;
    if (max > 0 && e->call_count >= (size_t)max) {
        snprintf(err, errlen, "settings.limits.max_calls (%d) calls are up", max);
        return NULL;
    }
    eng_targets t = {0};
    for (size_t i = 0; i < r->to_count; i++)
        if (!eng_targets_add(e, prog, &t, r->to[i], r->gateways, r->gateway_count, r->to_count == 1, err, errlen)) {
            eng_targets_free(&t);
            return NULL;
        }
    if (t.count == 0) {
        snprintf(err, errlen, "nothing to dial: `to` is empty");
        eng_targets_free(&t);
        return NULL;
    }
    char id[64];
    snprintf(id, sizeof id, "originate-%lu-%08x", e->next_call_seq + 1, eng_random(e));
    tel_call_info info = {.call_id = id, .caller_number = r->caller_id ? r->caller_id : "", .caller_name = "",
                          .called_number = r->to[0], .source = "originate"};
    eng_call *c = eng_call_alloc(e, prog, NULL, &info);
    eng_origin *o = cr_arena_alloc(&c->arena, sizeof *o);
    o->c = c;
    o->scenario = r->scenario;
    eng_rare_mut(c)->origin = o;
    keep_request(o, &t, r);
    eng_targets_free(&t);
    set_vars(c, r);
    eng_call_announce(c);

    const char **gw_names = r->gateway_count ? cr_xcalloc(r->gateway_count, sizeof *gw_names) : NULL;
    for (size_t i = 0; i < r->gateway_count; i++)
        gw_names[i] = r->gateways[i]->name;
    eng_trace_var *tv = cr_xcalloc(r->var_count + 1, sizeof *tv);
    for (size_t i = 0; i < r->var_count; i++)
        tv[i] = (eng_trace_var){r->var_names[i], r->var_values[i]};
    eng_trace_rec rec = {.kind = ENG_TR_ORIGINATE, .to = joined(&c->arena, r->to, r->to_count),
                         .gateway = joined(&c->arena, gw_names, r->gateway_count),
                         .scenario = r->scenario->name, .by = r->by, .parent = r->from ? eng_call_idp(r->from) : NULL,
                         .vars = tv, .var_count = r->var_count};
    eng_emit(c, NULL, &rec);
    free(tv);
    free(gw_names);

    if (eng_max_duration(e) > 0 && !e->max_timer)
        eng_max_time_arm(e);
    if (r->delay > 0)
        o->delay = loop_timer_start(e->l, r->delay, delay_cb, o);
    else
        ring(o);
    return c;
}

eng_call *eng_originate(eng_engine *e, const eng_originate_req *req, char *err, size_t errlen)
{
    /* What it sets is the engine's doing, not the action that asked
     * (an `originate` action runs in another call). */
    eng_strand *was = e->running;
    e->running = &eng_sys_strand;
    eng_call *c = originate(e, req, err, errlen);
    e->running = was;
    return c;
}

void eng_origin_answered(eng_call *c, tel_leg *leg)
{
    eng_origin *o = eng_rare(c)->origin;
    c->leg = leg;
    c->answered = true;
    c->answer_time = loop_now(c->e->l);
    eng_call_event(c, SCN_EV_ANSWER, NULL, NULL, NULL);
    /* What happens to the party from now on happens to the call: on:'s
     * hold, unhold and hangup become the call's handlers. */
    const scn_handlers *on = o->req.on;
    for (size_t i = 0; on && i < on->count; i++) {
        int ev = on->events[i];
        if (ev == SCN_EV_HOLD || ev == SCN_EV_UNHOLD || ev == SCN_EV_HANGUP)
            eng_call_handler_add(c, 1u << ev, false, &on->lists[i], NULL, 0);
    }
    eng_strand_new(c, SK_MAIN, &o->scenario->script, "main");
}

void eng_origin_unanswered(eng_call *c, const char *status, int sip_code)
{
    eng_call_hangup(c, "system", status, sip_code);
}

void eng_origin_hangup(eng_call *c)
{
    eng_origin *o = eng_rare(c)->origin;
    if (o->delay) {
        loop_timer_stop(c->e->l, o->delay);
        o->delay = NULL;
        eng_var_set_str(c, "originate_status", "cancelled");
    }
    eng_dial_origin_stop(o->dial);
    eng_dial_origin_log(o->dial);
}

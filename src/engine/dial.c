/* dial.c — "call through the gateway" / to an agent: outgoing legs, first
 * answer wins, the bridge, dial.on handlers, and the dial's outcome.
 *
 * Outcome (documented in docs and the report): answered → the action ends
 * ok when the bridged conversation ends; otherwise the action FAILS so that
 * on_error can handle it, with error = "busy" (dial_status busy), "timeout"
 * (no_answer: the ring time ran out, like every other `timeout`), "failed"
 * (rejected / unreachable). dial_status, dial_sip_code, dial_duration,
 * agent_number and agent_name are set in every case.
 *
 * Leg events trying/ringing/early_media/answer/busy/failed/hangup/hold/
 * unhold run their dial.on handler per leg; no_answer and not_answered are
 * the dial's outcome and run once, when the dial ends unanswered.
 *
 * The same machinery rings the party of an originated call (originate.c):
 * a dial no strand waits on, with no caller leg to bridge. Its answered leg
 * is adopted as the call's own; unanswered, the call ends. And a queue's
 * offer to its agents (queue.c): a dial no strand waits on whose outcome
 * goes to the queue's hooks.
 *
 * A leg to a user keeps that user busy (eng_user_busy) from its dial to its
 * end; the end of an answered one starts the user's idle time. Holds from
 * either side of the bridge start music on hold for the other (moh.c). */
#include <stdio.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/dial_int.h"
#include "scenario/events.h"

tel_driver *dial_drv(eng_dial *d) { return d->c->e->tel; }

const eng_dial_extra dial_no_extra;

eng_dial_extra *dial_extra_mut(eng_dial *d)
{
    if (!d->extra)
        d->extra = cr_arena_alloc(&d->c->arena, sizeof *d->extra);
    return d->extra;
}

/* The attempt LEG made ends with STATUS: into the call's leg log (once). */
void dial_log_leg(eng_dial *d, eng_leg *leg, const char *status, int code)
{
    if (leg->logged)
        return;
    leg->logged = true;
    double now = loop_now(d->c->e->l);
    eng_leg_log rec = {.agent_number = leg->t->target, .gateway = leg->gateway, .status = status,
                       .start = leg->t_start ? leg->t_start : now, .answer = leg->t_answer, .end = now,
                       .sip_code = code};
    eng_call_log_leg(d->c, &rec);
}

void dial_trace_leg(eng_dial *d, eng_leg *leg, const char *event, int code)
{
    eng_trace_rec r = {.kind = ENG_TR_EVENT, .event = event, .leg = leg ? leg->label : NULL,
                       .sip_code = code};
    eng_emit(d->c, d->s, &r);
}

/* An originated call's handlers before the answer: there is no leg to act
 * on, and an unanswered outcome ends the call at once; they run as hangup
 * handlers do (no call control, within hangup_grace once the call ends). */
static bool before_answer(int ev) { return ev != SCN_EV_ANSWER; }

/* Runs the dial.on handler for EV (scn_event) in a new strand. */
static void handlers(eng_dial *d, int ev)
{
    if (!d->on || d->c->ending)
        return;
    eng_call *c = d->c;
    for (size_t i = 0; i < d->on->count; i++) {
        if (d->on->events[i] != ev)
            continue;
        if (d->origin && before_answer(ev)) {
            eng_handler_strand(c, SK_HANGUP, &d->on->lists[i],
                               cr_arena_printf(&c->arena, "originate:%s", scn_event_names[ev]), ev);
            continue;
        }
        int max = eng_settings_streams(c->prog);
        if ((int)c->live_streams >= max) {
            char msg[160];
            snprintf(msg, sizeof msg, "max_streams limit (%d) reached: dial %s handler not started",
                     max, scn_event_names[ev]);
            eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = msg};
            eng_emit(c, d->s, &r);
            return;
        }
        eng_handler_strand(c, SK_HANDLER, &d->on->lists[i],
                           cr_arena_printf(&c->arena, "%s:%s", d->origin ? "originate" : "dial",
                                           scn_event_names[ev]),
                           ev);
    }
}

/* Who the agent is: a user's name; for a number or a URI the name the
 * answering side gave, else the number dialled. */
static const char *agent_name(const eng_leg *leg)
{
    if (leg->t->agent_name)
        return leg->t->agent_name;
    if (leg->t->kind == TEL_DIAL_USER)
        return "";
    return leg->answer_name ? leg->answer_name : leg->t->target;
}

static void leg_vars(eng_dial *d, eng_leg *leg, int code)
{
    eng_call *c = d->c;
    if (dial_extra(d)->hooks)
        return;   /* the queue sets the agent's variables when one answers */
    if (d->origin) {   /* the party is the call's own, not an agent */
        if (code)
            eng_var_set_num(c, "originate_sip_code", code);
        return;
    }
    eng_var_set_str(c, "agent_number", leg->t->target);
    eng_var_set_str(c, "agent_name", agent_name(leg));
    if (code)
        eng_var_set_num(c, "dial_sip_code", code);
}

/* LEG's user is no longer kept busy by it; after a conversation it is idle
 * from now. */
static void leg_user_free(eng_dial *d, eng_leg *leg)
{
    if (!leg->busy)
        return;
    leg->busy = false;
    if (leg->t_answer)
        eng_agent_touch(d->c->e, leg->t->target);
    eng_user_busy(d->c->e, leg->t->target, -1);
}

void dial_leg_hangup(eng_dial *d, eng_leg *leg, int code)
{
    if (leg->tl && leg->state != LEG_DONE)
        dial_drv(d)->ops->hangup(dial_drv(d), leg->tl, code);
    leg->state = LEG_DONE;
    leg_user_free(d, leg);
}

static void leg_release(eng_dial *d, eng_leg *leg)
{
    if (leg->tl) {
        dial_drv(d)->ops->leg_release(dial_drv(d), leg->tl);
        leg->tl = NULL;
    }
    leg->state = LEG_DONE;
    leg_user_free(d, leg);
}

/* "gw:GATEWAY/NUMBER", a dialled leg's label, in the same bytes of the
 * call's arena cr_arena_printf took; by hand, as its vsnprintf twice
 * was ~1,800 instructions a call (docs/decisions/sip-core.md, "CPU per
 * call, cut again: engine"). */
static const char *gateway_label(cr_arena *a, const char *gw, const char *number)
{
    size_t gl = strlen(gw), nl = strlen(number);
    char *p = cr_arena_alloc(a, 3 + gl + 1 + nl + 1);
    memcpy(p, "gw:", 3);
    memcpy(p + 3, gw, gl);
    p[3 + gl] = '/';
    memcpy(p + 3 + gl + 1, number, nl + 1);
    return p;
}

bool dial_leg_dial(eng_dial *d, eng_leg *leg)
{
    const eng_dial_target *t = leg->t;
    const char *gw = NULL;
    if (t->kind == TEL_DIAL_GATEWAY) {
        /* The number is often rendered from what the caller sent; a gateway
         * gets only what its number_pattern allows ("1@evil.example" is
         * toll fraud), the next gateway may allow more. */
        while (leg->gw_index < t->gateway_count &&
               !scn_gateway_number_ok(t->gateways[leg->gw_index], t->target)) {
            const scn_gateway *g = t->gateways[leg->gw_index];
            char msg[200];
            snprintf(msg, sizeof msg, "invalid number for gateway %s (number_pattern %s): not dialled",
                     g->name, g->number_pattern ? g->number_pattern : "none");
            eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "warning", .message = msg};
            eng_emit(d->c, d->s, &r);
            leg->gw_index++;
        }
        if (leg->gw_index >= t->gateway_count) {
            leg->label = t->target;
            leg->state = LEG_DONE;
            d->last_code = 484;   /* Address Incomplete: the number is not one */
            d->last = leg;
            dial_trace_leg(d, leg, "failed", 484);
            dial_log_leg(d, leg, "failed", 484);
            return false;
        }
        gw = t->gateways[leg->gw_index]->name;
    }
    leg->gateway = gw;
    leg->t_start = loop_now(d->c->e->l);
    leg->t_answer = 0;
    leg->logged = false;
    leg->label = gw ? gateway_label(&d->c->arena, gw, t->target) : t->target;
    cr_value cn;
    const char *caller_name = eng_var_get(d->c, "caller_name", &cn) && cn.kind == CR_VAL_STR ? cn.str : NULL;
    /* The gateway and user of the call's own revision (tel.h). */
    tel_dial_req req = {.kind = t->kind, .target = t->target, .gateway = gw,
                        .caller_id = dial_extra(d)->caller_id, .caller_name = caller_name, .from = d->c->leg,
                        .gateway_conf = gw ? t->gateways[leg->gw_index] : NULL,
                        .user_conf = t->kind == TEL_DIAL_USER ? scn_program_user(d->c->prog, t->target) : NULL};
    leg->state = LEG_CALLING;
    leg->tl = dial_drv(d)->ops->dial(dial_drv(d), &req, leg);
    if (leg->tl && t->kind == TEL_DIAL_USER && !leg->busy) {
        leg->busy = true;
        eng_user_busy(d->c->e, t->target, 1);
    }
    if (!leg->tl) {
        leg->state = LEG_DONE;
        d->last_code = 500;
        d->last = leg;
        dial_trace_leg(d, leg, "failed", 500);
        dial_log_leg(d, leg, "failed", 500);
        return false;
    }
    return true;
}

eng_leg *dial_leg_new(eng_dial *d, const eng_dial_target *t)
{
    eng_leg *leg = cr_arena_alloc(&d->c->arena, sizeof *leg);
    leg->tag = ENG_TAG_LEG;
    leg->d = d;
    leg->t = t;
    leg->next = d->legs;
    d->legs = leg;
    return leg;
}

static bool any_active(eng_dial *d)
{
    for (eng_leg *l = d->legs; l; l = l->next)
        if (l->state != LEG_DONE)
            return true;
    return false;
}

/* Starts the next target of a hunt (sequential) dial, with its own ring time. */
static bool start_next(eng_dial *d)
{
    while (d->next < d->count) {
        eng_leg *leg = dial_leg_new(d, &d->targets[d->next++]);
        if (dial_leg_dial(d, leg)) {
            if (d->ring_timer)
                loop_timer_stop(d->c->e->l, d->ring_timer);
            d->ring_timer = loop_timer_start(d->c->e->l, d->ring_timeout, dial_ring_timer_cb, d);
            return true;
        }
    }
    return false;
}

/* A leg ended unanswered: try the next gateway, the next hunt member, or end. */
static void after_leg_end(eng_dial *d)
{
    if (d->done || d->answered || any_active(d))
        return;
    if (d->sequential && start_next(d))
        return;
    dial_finish(d, d->busy_seen ? "busy" : "failed");
}

void dial_ring_timer_cb(loop *l, void *arg)
{
    (void)l;
    eng_dial *d = arg;
    d->ring_timer = NULL;
    if (d->done || d->answered)
        return;
    for (eng_leg *leg = d->legs; leg; leg = leg->next)
        if (leg->state != LEG_DONE) {
            dial_leg_hangup(d, leg, 487);
            d->last = leg;
            dial_log_leg(d, leg, "no_answer", 408);
        }
    d->last_code = 408;
    if (d->sequential && start_next(d))
        return;
    dial_trace_leg(d, NULL, "no_answer", 408);
    dial_finish(d, "no_answer");
}

static void ringback_cb(void *arg, int status, const char *msg, char digit);

static void ringback_start(eng_dial *d)
{
    eng_call *c = d->c;
    const eng_dial_extra *x = dial_extra(d);
    if (x->rb_op || !x->ringback || !c->answered || d->answered || d->done)
        return;
    if (strcmp(x->ringback, "tone") == 0)
        d->extra->rb_op = dial_drv(d)->ops->tone(dial_drv(d), c->leg, TEL_TONE_RINGBACK, 3600, ringback_cb, d);
    else
        d->extra->rb_op = dial_drv(d)->ops->play(dial_drv(d), c->leg, x->ringback, false, ringback_cb, d);
}

static void ringback_stop(eng_dial *d)
{
    if (dial_extra(d)->rb_op) {
        dial_drv(d)->ops->op_cancel(dial_drv(d), d->extra->rb_op);
        d->extra->rb_op = NULL;
    }
}

static void ringback_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    eng_dial *d = arg;
    d->extra->rb_op = NULL;   /* it had one: the ringback it started */
    if (status < 0) {
        eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "warning", .message = msg ? msg : "ringback failed"};
        eng_emit(d->c, d->s, &r);
        return;
    }
    ringback_start(d);   /* a prompt repeats while the leg rings */
}

static void outcome_vars(eng_dial *d, const char *status);

/* Originate: the party answered. Its leg leaves the dial and becomes the
 * call's own; the call's scenario starts (eng_origin_answered). */
static void adopt(eng_dial *d, eng_leg *leg)
{
    eng_call *c = d->c;
    tel_leg *tl = leg->tl;
    dial_trace_leg(d, leg, "answer", 200);
    leg_vars(d, leg, 200);
    leg->tl = NULL;       /* not hung up or released with the dial */
    if (leg->busy) {      /* the user is the call's own party now: busy until it ends */
        leg->busy = false;
        eng_rare_mut(c)->busy_user = cr_arena_strdup(&c->arena, leg->t->target);
    }
    /* Its attempt is logged now; it ends with the call (eng_dial_origin_log). */
    dial_log_leg(d, leg, "answered", 200);
    dial_extra_mut(d)->adopted_log = eng_rare(c)->leg_log_count;
    dial_drv(d)->ops->leg_set_user(dial_drv(d), tl, c);
    dial_teardown(d);
    outcome_vars(d, "answered");
    eng_origin_answered(c, tl);
    handlers(d, SCN_EV_ANSWER);
}

static void on_answer(eng_dial *d, eng_leg *leg)
{
    eng_call *c = d->c;
    leg->state = LEG_UP;
    d->answered = leg;
    d->answer_at = loop_now(c->e->l);
    leg->t_answer = d->answer_at;
    if (d->ring_timer) {
        loop_timer_stop(c->e->l, d->ring_timer);
        d->ring_timer = NULL;
    }
    ringback_stop(d);
    for (eng_leg *o = d->legs; o; o = o->next)
        if (o != leg && o->state != LEG_DONE) {
            dial_leg_hangup(d, o, TEL_ANSWERED_ELSEWHERE);
            dial_log_leg(d, o, "cancelled", 487);
        }
    if (leg->t->kind == TEL_DIAL_USER)
        eng_agent_answered(c->e, leg->t->target);
    if (d->origin) {
        adopt(d, leg);
        return;
    }
    dial_trace_leg(d, leg, "answer", 200);
    leg_vars(d, leg, 200);
    if (dial_extra(d)->hooks)
        d->extra->hooks->answered(d->extra->hook_arg, leg->t->target, agent_name(leg));
    eng_call_answer(c);
    dial_drv(d)->ops->bridge(dial_drv(d), c->leg, leg->tl);
    c->bridged = (struct eng_leg *)leg;
    eng_record_bridged(c);
    eng_call_event(c, SCN_EV_BRIDGE, NULL, leg->label, NULL);
    handlers(d, SCN_EV_ANSWER);
}

static void conversation_end(eng_dial *d, eng_leg *leg)
{
    eng_call *c = d->c;
    leg->state = LEG_DONE;
    leg_user_free(d, leg);
    dial_trace_leg(d, leg, "hangup", 0);
    dial_log_leg(d, leg, "answered", 200);
    eng_moh_stop(c);
    dial_drv(d)->ops->unbridge(dial_drv(d), c->leg, leg->tl);
    c->bridged = NULL;
    eng_join_target_gone(c, "hangup");
    eng_var_set_str(c, "hangup_by", "agent");
    eng_call_event(c, SCN_EV_UNBRIDGE, "agent", leg->label, NULL);
    handlers(d, SCN_EV_HANGUP);
    dial_finish(d, "answered");
    if (c->main_done && !c->ending)
        eng_call_hangup(c, "scenario", "normal", 0);
}

static bool final_code(int code)
{
    /* Busy everywhere / declined / does not exist: another gateway will not help. */
    return code == 486 || code == 600 || code == 603 || code == 604 || code == 404;
}

static void leg_unanswered_end(eng_dial *d, eng_leg *leg, int code, bool busy)
{
    leg->state = LEG_DONE;
    leg_user_free(d, leg);
    d->last_code = code;
    d->last = leg;
    dial_trace_leg(d, leg, busy ? "busy" : "failed", code);
    dial_log_leg(d, leg, busy ? "busy" : "failed", code);
    leg_vars(d, leg, code);
    if (busy)
        d->busy_seen = true;
    handlers(d, busy ? SCN_EV_BUSY : SCN_EV_FAILED);
    if (!busy && leg->t->kind == TEL_DIAL_GATEWAY && !final_code(code) &&
        leg->gw_index + 1 < leg->t->gateway_count && !d->done) {
        /* "numbers go out through the first gateway that takes the call" */
        dial_drv(d)->ops->leg_release(dial_drv(d), leg->tl);
        leg->tl = NULL;
        leg->gw_index++;
        dial_leg_dial(d, leg);
    }
    after_leg_end(d);
}

void eng_dial_leg_event(struct eng_leg *leg, const tel_event *ev)
{
    eng_dial *d = leg->d;
    if (d->done || leg->state == LEG_DONE)
        return;
    eng_call *c = d->c;
    switch (ev->kind) {
    case TEL_EV_TRYING:
        dial_trace_leg(d, leg, "trying", ev->sip_code);
        leg_vars(d, leg, 0);
        handlers(d, SCN_EV_TRYING);
        break;
    case TEL_EV_RINGING:
    case TEL_EV_EARLY_MEDIA: {
        bool early = ev->kind == TEL_EV_EARLY_MEDIA;
        leg->state = early ? LEG_EARLY : LEG_RINGING;
        dial_trace_leg(d, leg, early ? "early_media" : "ringing", ev->sip_code);
        leg_vars(d, leg, 0);
        if (d->origin)
            ;   /* nobody waits to hear it */
        else if (!c->answered)
            eng_call_ringing(c, early);
        else
            ringback_start(d);
        handlers(d, early ? SCN_EV_EARLY_MEDIA : SCN_EV_RINGING);
        break;
    }
    case TEL_EV_ANSWER:
        if (d->answered) {
            dial_leg_hangup(d, leg, 0);
        } else {
            if (ev->display_name && *ev->display_name)
                leg->answer_name = cr_arena_strdup(&c->arena, ev->display_name);
            on_answer(d, leg);
        }
        break;
    case TEL_EV_BUSY:
        leg_unanswered_end(d, leg, ev->sip_code ? ev->sip_code : 486, true);
        break;
    case TEL_EV_FAILED:
        leg_unanswered_end(d, leg, ev->sip_code ? ev->sip_code : 500, false);
        break;
    case TEL_EV_HANGUP:
        if (leg == d->answered && d->held) {
            /* a parked call's agent hangs up while told the slot */
            leg->state = LEG_DONE;
            dial_trace_leg(d, leg, "hangup", 0);
            dial_log_leg(d, leg, "answered", 200);
        } else if (leg == d->answered)
            conversation_end(d, leg);
        else
            leg_unanswered_end(d, leg, ev->sip_code ? ev->sip_code : 603, false);
        break;
    case TEL_EV_HOLD:
    case TEL_EV_UNHOLD:
        if (leg != d->answered)
            break;
        if (ev->kind == TEL_EV_HOLD)
            eng_moh_hold(c, true);
        else
            eng_moh_unhold(c, true);
        eng_var_set_str(c, "hold_by", "agent");
        eng_call_event(c, ev->kind == TEL_EV_HOLD ? SCN_EV_HOLD : SCN_EV_UNHOLD, "agent", leg->label,
                       NULL);
        handlers(d, ev->kind == TEL_EV_HOLD ? SCN_EV_HOLD : SCN_EV_UNHOLD);
        break;
    case TEL_EV_DTMF: {
        if (leg != d->answered)
            break;
        /* The agent's keys are call events too (by agent); they do not
         * feed the caller's read_digits. */
        char digit[2] = {ev->digit, 0};
        eng_var_set_str(c, "dtmf_digit", digit);
        eng_call_event(c, SCN_EV_DTMF, "agent", leg->label, digit);
        break;
    }
    case TEL_EV_TRANSFER:
        eng_var_set_str(c, "transfer_to", ev->refer_to ? ev->refer_to : "");
        eng_var_set_str(c, "transfer_by", "agent");
        eng_call_event(c, SCN_EV_TRANSFER, "agent", leg->label, NULL);
        break;
    default:
        break;
    }
}

tel_leg *eng_call_agent_leg(eng_call *c)
{
    eng_leg *leg = (eng_leg *)c->bridged;
    return leg && leg->state == LEG_UP ? leg->tl : NULL;
}

/* Sets the outcome variables, attributed to the dial action. */
static void outcome_vars(eng_dial *d, const char *status)
{
    eng_strand *s = d->s;
    if (dial_extra(d)->hooks)
        return;
    eng_leg *who = d->answered ? d->answered : d->last;
    double dur = d->answered ? loop_now(d->c->e->l) - d->answer_at : 0;
    int code = d->answered ? 200 : d->last_code;
    if (strcmp(status, "cancelled") == 0 && !d->answered)
        code = 487;
    if (d->origin) {
        eng_var_set_str(d->c, "originate_status", status);
        eng_var_set_num(d->c, "originate_sip_code", code);
        return;
    }
    if (d->adopted)
        return;   /* join / pickup set their own */
    eng_strand_var_set(s, "dial_status", cr_val_cstr(status));
    eng_strand_var_set(s, "dial_sip_code", cr_val_num(code));
    eng_strand_var_set(s, "dial_duration", cr_val_num(dur));
    eng_strand_var_set(s, "agent_number", cr_val_cstr(who ? who->t->target : ""));
    eng_strand_var_set(s, "agent_name", cr_val_cstr(who ? agent_name(who) : ""));
}

void dial_live_add(eng_dial *d)
{
    d->live_next = d->c->dials;
    d->c->dials = d;
}

static void live_del(eng_dial *d)
{
    for (eng_dial **p = &d->c->dials; *p; p = &(*p)->live_next)
        if (*p == d) {
            *p = d->live_next;
            return;
        }
}

void dial_teardown(eng_dial *d)
{
    eng_call *c = d->c;
    d->done = true;
    live_del(d);
    if (d->ring_timer) {
        loop_timer_stop(c->e->l, d->ring_timer);
        d->ring_timer = NULL;
    }
    ringback_stop(d);
    for (eng_leg *leg = d->legs; leg; leg = leg->next) {
        if (leg->state != LEG_DONE)
            dial_leg_hangup(d, leg, leg->state == LEG_UP ? 0 : 487);
        /* still up (the caller hung up first) or still ringing (cancelled) */
        dial_log_leg(d, leg, leg->t_answer ? "answered" : "cancelled", leg->t_answer ? 200 : 487);
        leg_release(d, leg);
    }
}

void dial_finish(eng_dial *d, const char *status)
{
    if (d->done)
        return;
    dial_teardown(d);
    outcome_vars(d, status);
    bool answered = strcmp(status, "answered") == 0;
    if (!answered) {
        if (strcmp(status, "no_answer") == 0)
            handlers(d, SCN_EV_NO_ANSWER);
        handlers(d, SCN_EV_NOT_ANSWERED);
    }
    if (d->origin) {
        eng_origin_unanswered(d->c, status, d->last_code);
        return;
    }
    if (dial_extra(d)->hooks) {
        if (answered)
            d->extra->hooks->ended(d->extra->hook_arg);
        else
            d->extra->hooks->unanswered(d->extra->hook_arg, status);
        return;
    }
    eng_strand *s = d->s;
    if (answered)
        eng_strand_resume(s, APP_DONE);
    else
        eng_strand_resume(s, eng_fail(s, "%s", strcmp(status, "no_answer") == 0 ? "timeout" : status));
}

void dial_target_copy(cr_arena *a, eng_dial_target *dst, const eng_dial_target *src)
{
    *dst = *src;
    dst->target = cr_arena_strdup(a, src->target);
    if (src->agent_name)
        dst->agent_name = cr_arena_strdup(a, src->agent_name);
    /* The gateways to fall back to are used long after the caller's
     * array is gone (the program's own list is built per dial). */
    size_t ng = src->gateway_count;
    if (ng && !src->gateways_kept) {
        const scn_gateway **g = cr_arena_alloc(a, ng * sizeof *g);
        memcpy(g, src->gateways, ng * sizeof *g);
        dst->gateways = g;
    }
}

/* A dial of REQ's targets for call C (copied into its arena), not started. */
eng_dial *dial_new(eng_call *c, eng_strand *s, const eng_dial_req *req)
{
    cr_arena *a = &c->arena;
    eng_dial *d = cr_arena_alloc(a, sizeof *d);
    d->s = s;
    d->c = c;
    d->on = req->on;
    d->sequential = req->sequential;
    d->ring_timeout = req->ring_timeout > 0 ? req->ring_timeout : 30;
    if (req->caller_id)
        dial_extra_mut(d)->caller_id = cr_arena_strdup(a, req->caller_id);
    if (req->ringback)
        dial_extra_mut(d)->ringback = cr_arena_strdup(a, req->ringback);
    d->count = req->count > UINT32_MAX ? UINT32_MAX : (uint32_t)req->count;
    d->targets = cr_arena_alloc(a, req->count * sizeof *d->targets);
    for (size_t i = 0; i < req->count; i++)
        dial_target_copy(a, &d->targets[i], &req->targets[i]);
    d->last_code = 500;
    return d;
}

/* Rings the first target (hunt) or all of them; false when none could be dialled. */
bool dial_begin(eng_dial *d)
{
    bool started = false;
    dial_live_add(d);
    if (d->sequential) {
        started = start_next(d);
    } else {
        for (size_t i = 0; i < d->count; i++)
            if (dial_leg_dial(d, dial_leg_new(d, &d->targets[i])))
                started = true;
        if (started)
            d->ring_timer = loop_timer_start(d->c->e->l, d->ring_timeout, dial_ring_timer_cb, d);
    }
    return started;
}

app_status eng_dial_start(eng_strand *s, const eng_dial_req *req)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (c->bridged)
        return eng_fail(s, "the call is already bridged");
    if (req->count == 0)
        return eng_fail(s, "nothing to dial");
    eng_dial *d = dial_new(c, s, req);
    eng_strand_set_pending(s, d);
    if (!dial_begin(d)) {
        dial_teardown(d);
        outcome_vars(d, "failed");
        return eng_fail(s, "failed");
    }
    return APP_PENDING;
}

struct eng_dial *eng_dial_origin(eng_call *c, const eng_dial_req *req)
{
    eng_dial *d = dial_new(c, NULL, req);
    d->origin = true;
    if (!dial_begin(d)) {
        dial_finish(d, "failed");
        return NULL;
    }
    return d;
}

void eng_dial_origin_stop(struct eng_dial *d)
{
    if (!d || d->done)
        return;
    dial_teardown(d);
    outcome_vars(d, "cancelled");
}

void eng_dial_origin_log(struct eng_dial *d)
{
    if (!d || !dial_extra(d)->adopted_log)
        return;
    eng_rare_mut(d->c)->leg_log[d->extra->adopted_log - 1].end = loop_now(d->c->e->l);
    d->extra->adopted_log = 0;
}

/* The caller went away (or the dialling strand was cancelled) while the
 * dial rang or its conversation went on. */
void dial_stop(eng_dial *d)
{
    eng_call *c = d->c;
    if (d->answered && c->bridged == (struct eng_leg *)d->answered) {
        eng_moh_stop(c);
        if (d->answered->tl && c->leg)
            dial_drv(d)->ops->unbridge(dial_drv(d), c->leg, d->answered->tl);
        c->bridged = NULL;
        eng_join_target_gone(c, "cancelled");
    }
    dial_teardown(d);
}

void eng_dial_cancel(eng_strand *s)
{
    eng_dial *d = eng_strand_pending(s);
    if (!d || d->done)
        return;
    dial_stop(d);
    outcome_vars(d, d->answered ? "answered" : "cancelled");
}

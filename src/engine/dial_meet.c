/* dial_meet.c — calls that meet: a leg adopted into a dial rather than
 * dialled (join, park and pickup, a queue's agent offered a caller, held
 * and returned), bridging and unbridging it. The dial itself is dial.c. */
#include <stdio.h>
#include <string.h>

#include "engine/dial_int.h"
#include "scenario/events.h"

app_status eng_dial_adopt(eng_strand *s, tel_leg *tl, const char *label, bool answer)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (c->bridged)
        return eng_fail(s, "the call is already bridged");
    eng_dial_target t = {.kind = TEL_DIAL_URI, .target = label};
    eng_dial_req req = {.targets = &t, .count = 1};
    eng_dial *d = dial_new(c, s, &req);
    d->adopted = true;
    dial_live_add(d);
    eng_leg *leg = dial_leg_new(d, &d->targets[0]);
    double now = loop_now(c->e->l);
    leg->tl = tl;
    leg->label = d->targets[0].target;
    leg->state = LEG_UP;
    leg->t_start = leg->t_answer = now;
    d->answered = leg;
    d->answer_at = now;
    tel_driver *t_drv = dial_drv(d);
    t_drv->ops->leg_set_user(t_drv, tl, leg);
    if (answer)
        t_drv->ops->answer(t_drv, tl);
    eng_strand_set_pending(s, d);
    eng_call_answer(c);
    t_drv->ops->bridge(t_drv, c->leg, tl);
    c->bridged = (struct eng_leg *)leg;
    eng_record_bridged(c);
    eng_call_event(c, SCN_EV_BRIDGE, NULL, leg->label, NULL);
    return APP_PENDING;
}

void eng_dial_unbridge(eng_call *c)
{
    eng_leg *leg = (eng_leg *)c->bridged;
    if (!leg)
        return;
    if (leg->tl && c->leg)
        dial_drv(leg->d)->ops->unbridge(dial_drv(leg->d), c->leg, leg->tl);
    c->bridged = NULL;
    eng_join_target_gone(c, "unbridged");
}

tel_leg *eng_dial_take_agent(eng_call *c)
{
    eng_leg *leg = (eng_leg *)c->bridged;
    if (!leg || leg->state != LEG_UP || !leg->tl)
        return NULL;
    eng_dial_unbridge(c);
    tel_leg *tl = leg->tl;
    leg->tl = NULL;          /* neither hung up nor released by this dial */
    leg->state = LEG_DONE;
    dial_log_leg(leg->d, leg, "answered", 200);
    return tl;
}

struct eng_dial *eng_dial_hold(eng_call *c, const char **agent_number)
{
    eng_leg *leg = (eng_leg *)c->bridged;
    if (!leg || leg->state != LEG_UP)
        return NULL;
    eng_dial *d = leg->d;
    *agent_number = leg->t->target;
    eng_dial_unbridge(c);
    d->held = true;
    return d;
}

tel_leg *eng_dial_held_agent(struct eng_dial *d)
{
    eng_leg *leg = d && !d->done ? d->answered : NULL;
    return leg && leg->state == LEG_UP ? leg->tl : NULL;
}

void eng_dial_let_go(struct eng_dial *d)
{
    eng_leg *leg = d && !d->done ? d->answered : NULL;
    if (!leg || leg->state == LEG_DONE)
        return;
    dial_leg_hangup(d, leg, 0);
    dial_trace_leg(d, leg, "hangup", 0);
    dial_log_leg(d, leg, "answered", 200);
}

bool eng_dial_held_return(struct eng_dial *d, const eng_dial_target *t)
{
    if (!d || d->done || !d->held)
        return false;
    eng_call *c = d->c;
    d->held = false;
    d->answered = NULL;
    /* The parker is one more target of the same dial: its answer bridges
     * it to the caller, its no answer ends the dial as any would. */
    eng_dial_target *nt = cr_arena_alloc(&c->arena, sizeof *nt);
    dial_target_copy(&c->arena, nt, t);
    eng_leg *leg = dial_leg_new(d, nt);
    if (!dial_leg_dial(d, leg)) {
        dial_finish(d, "failed");
        return true;
    }
    d->ring_timer = loop_timer_start(c->e->l, d->ring_timeout, dial_ring_timer_cb, d);
    return true;
}

void eng_dial_held_end(struct eng_dial *d)
{
    if (!d || d->done)
        return;
    dial_finish(d, "answered");
}

eng_call *eng_dial_ringing(eng_engine *e, const char *number)
{
    for (eng_call *c = e->calls; c; c = c->next) {
        if (c->ending || !c->leg)
            continue;
        for (eng_dial *d = c->dials; d; d = d->live_next) {
            if (d->answered || d->done || d->adopted || d->origin)
                continue;
            for (eng_leg *leg = d->legs; leg; leg = leg->next)
                if (leg->state != LEG_DONE && leg->t->kind == TEL_DIAL_USER &&
                    strcmp(leg->t->target, number) == 0)
                    return c;
        }
    }
    return NULL;
}

eng_call *eng_dial_agent_call(eng_engine *e, const char *number, tel_leg **tl)
{
    eng_call *found = NULL;   /* the newest: a user on two calls is on the last it took */
    for (eng_call *c = e->calls; c; c = c->next) {
        eng_leg *leg = (eng_leg *)c->bridged;
        if (c->ending || !leg || leg->state != LEG_UP || !leg->tl || leg->t->kind != TEL_DIAL_USER ||
            strcmp(leg->t->target, number) != 0)
            continue;
        *tl = leg->tl;
        found = c;
    }
    return found;
}

struct eng_dial *eng_dial_offer(eng_call *c, eng_strand *s, const eng_dial_req *req, const eng_offer_hooks *h,
                                void *arg)
{
    if (!c->leg || c->ending || c->bridged || req->count == 0)
        return NULL;
    eng_dial *d = dial_new(c, s, req);
    dial_extra_mut(d)->hooks = h;
    d->extra->hook_arg = arg;
    if (!dial_begin(d)) {
        dial_teardown(d);
        return NULL;
    }
    return d;
}

void eng_dial_offer_stop(struct eng_dial *d)
{
    if (d && !d->done)
        dial_stop(d);
}

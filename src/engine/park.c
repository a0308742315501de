/* park.c — parked calls and pickup: the slots are the engine's (shared by
 * every call); a parked call's strand waits in `park` with music.
 *
 * A call parked while bridged to an agent (an agent's transfer to the
 * park extension handled by an `event` handler, say): the dial that
 * bridged them is held (dial.c: eng_dial_hold) — the agent hears the slot
 * and is let go, the caller hears music, and the strand that waited in the
 * dial keeps waiting. When nobody picks the call up within `timeout`, the
 * held dial rings the parker (the call returns to who parked it), or the
 * `on: timeout` actions run and the held dial ends after them.
 *
 * pickup: the picker's call takes the parked (or ringing) call's leg as
 * its bridged party (dial.c: eng_dial_adopt); the call it came from ends
 * (hangup_by transfer, cause pickup), so each call's record tells its
 * part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"

typedef struct eng_parked {
    struct eng_parked *next;   /* the engine's lot (listed: it can be picked up) */
    eng_engine *e;
    eng_call *c;
    eng_strand *s;
    char slot[24];
    bool listed;
    bool stopped;
    const char *music_path;    /* the call's arena */
    eng_music *music;
    eng_speech *speech;
    bool speech_to_agent;
    loop_timer *timer;
    struct eng_dial *held;     /* the dial it was bridged by, or NULL */
    const scn_actions *on_timeout;
    const char *parker;        /* the call's arena, or NULL */
} eng_parked;

static bool slot_taken(eng_engine *e, const char *slot)
{
    for (eng_parked *p = e->parked; p; p = p->next)
        if (strcmp(p->slot, slot) == 0)
            return true;
    return false;
}

static void unlist(eng_parked *p)
{
    if (!p->listed)
        return;
    for (eng_parked **q = &p->e->parked; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            break;
        }
    p->listed = false;
}

/* The park is over (picked up, timed out, cancelled): nothing of it runs. */
static void stop(eng_parked *p, const char *status)
{
    if (p->stopped)
        return;
    p->stopped = true;
    unlist(p);
    eng_music_stop(p->music);
    p->music = NULL;
    if (p->speech)
        eng_speech_cancel(p->speech);
    p->speech = NULL;
    if (p->timer)
        loop_timer_stop(p->e->l, p->timer);
    p->timer = NULL;
    eng_strand_var_set(p->s, "park_status", cr_val_cstr(status));
    eng_trace_rec r = {.event = "park", .phase = "end", .slot = p->slot, .cause = status};
    eng_trace_meet(p->c, p->s, &r);
}

static void music_on(eng_parked *p)
{
    if (!p->music && p->c->leg && p->music_path)
        p->music = eng_music_start(p->e, p->c->leg, p->music_path);
}

static void announced_cb(void *arg, int status, const char *msg, char digit)
{
    (void)status, (void)msg, (void)digit;
    eng_parked *p = arg;
    p->speech = NULL;
    if (p->speech_to_agent)
        eng_dial_let_go(p->held);   /* the agent heard the slot: it is free */
    else
        music_on(p);
}

/* The parker as a dial target: a user, a number through the program's
 * gateways, a URI. False when there is none. */
static bool parker_target(eng_parked *p, eng_targets *t)
{
    char err[200];
    return p->parker && *p->parker &&
           eng_targets_add(p->e, p->c->prog, t, p->parker, NULL, 0, true, err, sizeof err) && t->count > 0;
}

static void timeout_cb(loop *l, void *arg)
{
    (void)l;
    eng_parked *p = arg;
    p->timer = NULL;
    eng_strand *s = p->s;
    eng_call *c = p->c;
    stop(p, "timeout");
    struct eng_dial *held = p->held;
    const scn_actions *on_timeout = p->on_timeout;
    eng_targets t = {0};
    bool have_parker = parker_target(p, &t);
    eng_rare_mut(c)->parked = NULL;
    free(p);
    if (on_timeout) {
        /* The actions run next in this strand; a held dial ends after them
         * (the app's frame_end: eng_park_frame_end). */
        eng_rare_mut(c)->park_held = held;
        if (on_timeout->count)
            eng_strand_push(s, on_timeout, ENG_FRAME_NEST, NULL);
        else
            eng_dial_held_end(held), eng_rare_mut(c)->park_held = NULL;
        eng_targets_free(&t);
        eng_strand_resume(s, APP_DONE);
        return;
    }
    if (!have_parker) {
        eng_dial_held_end(held);
        eng_targets_free(&t);
        eng_strand_resume(s, eng_fail(s, "timeout"));
        return;
    }
    eng_strand_var_set(s, "park_status", cr_val_cstr("returned"));
    if (held) {
        /* The dial it was parked from rings the parker; this action is done. */
        eng_dial_held_return(held, &t.items[0]);
        eng_targets_free(&t);
        eng_strand_resume(s, APP_DONE);
        return;
    }
    /* Parked by its own script: this action rings the parker as `dial`. */
    eng_dial_req req = {.targets = t.items, .count = t.count, .sequential = t.sequential, .ring_timeout = 30};
    app_status st = eng_dial_start(s, &req);
    eng_targets_free(&t);
    if (st != APP_PENDING)
        eng_strand_resume(s, st);
}

void eng_park_frame_end(eng_strand *s)
{
    eng_call *c = s->call;
    if (eng_rare(c)->park_held) {
        eng_dial_held_end(eng_rare(c)->park_held);
        eng_rare_mut(c)->park_held = NULL;
    }
}

static void default_announce(char *buf, size_t n, const char *slot)
{
    /* digits one by one: "Parked at 7 0 1." */
    size_t len = (size_t)snprintf(buf, n, "Parked at");
    for (const char *p = slot; *p && len + 3 < n; p++)
        len += (size_t)snprintf(buf + len, n - len, " %c", *p);
    snprintf(buf + len, n - len, ".");
}

app_status eng_park_start(eng_strand *s, const eng_park_req *r)
{
    eng_call *c = s->call;
    eng_engine *e = c->e;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (eng_rare(c)->conf || eng_rare(c)->joined || eng_rare(c)->joining || eng_rare(c)->parked)
        return eng_fail(s, "the call is in a conference, joined or parked already");
    char slot[24] = "";
    if (r->slot) {
        size_t n = strlen(r->slot);
        if (n == 0 || n >= sizeof slot || strspn(r->slot, "0123456789*#") != n)
            return eng_fail(s, "'%.40s' is not a park slot (digits, at most %zu)", r->slot, sizeof slot - 1);
        if (slot_taken(e, r->slot)) {
            eng_strand_var_set(s, "park_status", cr_val_cstr("taken"));
            return eng_fail(s, "park slot %s is taken", r->slot);
        }
        snprintf(slot, sizeof slot, "%s", r->slot);
    } else {
        const scn_settings *set = &c->prog->settings;
        for (int i = set->park_first; i <= set->park_last && !*slot; i++) {
            char cand[24];
            snprintf(cand, sizeof cand, "%d", i);
            if (!slot_taken(e, cand))
                snprintf(slot, sizeof slot, "%s", cand);
        }
        if (!*slot) {
            eng_strand_var_set(s, "park_status", cr_val_cstr("full"));
            return eng_fail(s, "no free park slot (settings.park.slots %d-%d)", set->park_first, set->park_last);
        }
    }
    const char *agent = NULL;
    struct eng_dial *held = c->bridged ? eng_dial_hold(c, &agent) : NULL;
    if (!c->answered && eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    eng_parked *p = cr_xcalloc(1, sizeof *p);
    p->e = e;
    p->c = c;
    p->s = s;
    snprintf(p->slot, sizeof p->slot, "%s", slot);
    p->held = held;
    p->on_timeout = r->on_timeout;
    const char *music = r->music ? r->music : c->prog->settings.park_music;
    p->music_path = music ? cr_arena_strdup(&c->arena, music) : NULL;
    const char *parker = r->parker && *r->parker ? r->parker : agent;
    p->parker = parker ? cr_arena_strdup(&c->arena, parker) : NULL;
    p->listed = true;
    p->next = e->parked;
    e->parked = p;
    eng_rare_mut(c)->parked = p;
    eng_strand_set_pending(s, p);
    eng_strand_var_set(s, "park_slot", cr_val_cstr(p->slot));
    eng_strand_var_set(s, "park_status", cr_val_cstr("parked"));
    eng_strand_var_set(s, "park_parker", cr_val_cstr(p->parker ? p->parker : ""));
    eng_trace_rec rec = {.event = "park", .phase = "start", .slot = p->slot, .peer = NULL};
    eng_trace_meet(c, s, &rec);
    char text[160];
    if (!r->announce)
        default_announce(text, sizeof text, p->slot);
    else
        snprintf(text, sizeof text, "%s", r->announce);
    tel_leg *agent_leg = held ? eng_dial_held_agent(held) : NULL;
    if (held)
        music_on(p);   /* the caller hears music at once; the agent hears the slot */
    if (*text && (!held || agent_leg)) {
        p->speech_to_agent = agent_leg != NULL;
        p->speech = agent_leg ? eng_speak_to(s, agent_leg, text, announced_cb, p)
                              : eng_speak(s, text, NULL, NULL, announced_cb, p);
    } else if (held) {
        eng_dial_let_go(held);
    } else {
        music_on(p);
    }
    if (r->timeout > 0)
        p->timer = loop_timer_start(e->l, r->timeout, timeout_cb, p);
    return APP_PENDING;
}

void eng_park_cancel(eng_strand *s)
{
    eng_call *c = s->call;
    eng_parked *p = eng_rare(c)->parked;
    if (p && p->s == s) {
        stop(p, c->ending ? "hangup" : "cancelled");
        eng_dial_held_end(p->held);
        eng_rare_mut(c)->parked = NULL;
        free(p);
        return;
    }
    /* Returning to the parker by a dial of its own */
    if (eng_strand_pending(s) && !p)
        eng_dial_cancel(s);
}

/* ---- pickup ---- */

static app_status take(eng_strand *s, eng_call *t, const char *slot)
{
    cr_value v;
    char who[128] = "";
    if (eng_var_get(t, "caller_number", &v) && v.kind == CR_VAL_STR)
        snprintf(who, sizeof who, "%.*s", (int)v.len, v.str);
    bool answer = !t->answered;
    tel_leg *leg = eng_call_give_leg(t);
    if (!leg)
        return eng_fail(s, "the call %s has no caller to pick up", eng_call_idp(t));
    eng_trace_rec a = {.event = "pickup", .phase = "start", .slot = slot, .mode = "pickup", .peer = eng_call_idp(t)};
    eng_trace_meet(s->call, s, &a);
    eng_trace_rec b = {.event = "picked_up", .phase = "start", .slot = slot, .mode = "pickup",
                       .peer = eng_call_idp(s->call)};
    eng_trace_meet(t, NULL, &b);
    eng_strand_var_set(s, "pickup_status", cr_val_cstr("answered"));
    eng_strand_var_set(s, "pickup_call_id", cr_val_cstr(eng_call_idp(t)));
    app_status st = eng_dial_adopt(s, leg, *who ? who : eng_call_idp(t), answer);
    eng_call_end_given(t, "pickup");
    if (st != APP_PENDING) {
        tel_driver *d = s->call->e->tel;
        d->ops->hangup(d, leg, 480);
        d->ops->leg_release(d, leg);
    }
    return st;
}

static app_status nothing(eng_strand *s, const char *what)
{
    eng_strand_var_set(s, "pickup_status", cr_val_cstr("empty"));
    eng_strand_var_set(s, "pickup_call_id", cr_val_cstr(""));
    return eng_fail(s, "nothing to pick up %s", what);
}

app_status eng_pickup_slot(eng_strand *s, const char *slot)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (c->bridged || eng_rare(c)->conf || eng_rare(c)->joining || eng_rare(c)->parked)
        return eng_fail(s, "the call is already talking to someone");
    eng_strand_var_set(s, "park_slot", cr_val_cstr(slot));
    for (eng_parked *p = c->e->parked; p; p = p->next)
        if (p->listed && strcmp(p->slot, slot) == 0 && p->c != c && !p->c->ending) {
            eng_call *t = p->c;
            stop(p, "picked_up");
            /* its strand is cancelled (and P freed) when the call ends in
             * take(); the held dial goes with the call it belongs to */
            return take(s, t, slot);
        }
    char what[64];
    snprintf(what, sizeof what, "in park slot %.24s", slot);
    return nothing(s, what);
}

app_status eng_pickup_ringing(eng_strand *s, const char *const *users, size_t n)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (c->bridged || eng_rare(c)->conf || eng_rare(c)->joining || eng_rare(c)->parked)
        return eng_fail(s, "the call is already talking to someone");
    for (size_t i = 0; i < n; i++) {
        eng_call *t = eng_dial_ringing(c->e, users[i]);
        if (t && t != c)
            return take(s, t, NULL);
    }
    return nothing(s, n == 1 ? "(nothing rings there)" : "(nothing rings in the group)");
}

/* join.c — one call reaching into another (Carusto's Bridge/Join, a
 * supervisor's listen/whisper/barge).
 *
 * bridge: the joining caller takes the place of one party of the target
 * call: that party's leg leaves the target (which ends, hangup_by
 * transfer, cause join) and becomes the joining call's bridged party, as
 * if its dial had reached it (dial.c: eng_dial_adopt); the party it
 * replaces is hung up.
 *
 * listen, whisper, barge: a session on the target call puts the target's
 * legs and each joiner's leg in one driver mix ("join:N"): a listener is
 * heard by nobody (TEL_MIX_MUTED), a whisperer only by the agent (the
 * agent is TEL_MIX_WHISPER_TARGET), a barger by both. The session ends
 * when the target's conversation does (its bridge ends or it hangs up) or
 * its last joiner leaves; then the target's legs leave the mix and their
 * bridge carries the audio again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"

const char *const eng_join_mode_names[] = {"bridge", "listen", "whisper", "barge", NULL};

typedef struct eng_join_member eng_join_member;

typedef struct eng_join_sess {
    eng_call *target;
    char mix[TEL_ROOM_MAX + 1];
    tel_leg *legs[2];          /* the target's legs in the mix */
    tel_leg *agent;            /* which of them whisperers reach */
    eng_join_member *members;
} eng_join_sess;

struct eng_join_member {
    eng_join_sess *sess;
    eng_join_member *next;
    eng_call *c;
    eng_strand *s;
    eng_join_mode mode;
};

static tel_driver *drv(eng_call *c) { return c->e->tel; }

static unsigned member_flags(eng_join_mode mode)
{
    return mode == ENG_JOIN_LISTEN ? TEL_MIX_MUTED : mode == ENG_JOIN_WHISPER ? TEL_MIX_WHISPER : 0;
}

static void trace_pair(eng_call *joiner, eng_strand *s, eng_call *target, eng_join_mode mode, const char *phase,
                       const char *cause)
{
    eng_trace_rec a = {.event = "join", .phase = phase, .mode = eng_join_mode_names[mode],
                       .peer = eng_call_idp(target), .cause = cause};
    eng_trace_meet(joiner, s, &a);
    eng_trace_rec b = {.event = "joined", .phase = phase, .mode = eng_join_mode_names[mode],
                       .peer = eng_call_idp(joiner), .cause = cause};
    eng_trace_meet(target, NULL, &b);
}

static void set_vars(eng_strand *s, const char *status, eng_call *target, eng_join_mode mode)
{
    eng_strand_var_set(s, "join_status", cr_val_cstr(status));
    eng_strand_var_set(s, "join_call_id", cr_val_cstr(eng_call_idp(target)));
    eng_strand_var_set(s, "join_mode", cr_val_cstr(eng_join_mode_names[mode]));
}

/* ---- bridge ---- */

static app_status join_bridge(eng_strand *s, eng_call *t, tel_leg *agent)
{
    /* The named agent is the target's own caller (a user who called out):
     * the joiner gets the party it called; otherwise the target's caller. */
    bool takes_caller = !(agent && agent == t->leg);
    bool answer = takes_caller && !t->answered;
    cr_value v;
    const char *label = takes_caller ? "caller_number" : "agent_number";
    char who[128] = "";
    if (eng_var_get(t, label, &v) && v.kind == CR_VAL_STR)
        snprintf(who, sizeof who, "%.*s", (int)v.len, v.str);
    tel_leg *party = takes_caller ? eng_call_give_leg(t) : eng_dial_take_agent(t);
    if (!party)
        return eng_fail(s, "the call %s has nobody to join", eng_call_idp(t));
    trace_pair(s->call, s, t, ENG_JOIN_BRIDGE, "start", NULL);
    set_vars(s, "joined", t, ENG_JOIN_BRIDGE);
    app_status st = eng_dial_adopt(s, party, *who ? who : eng_call_idp(t), answer);
    eng_call_end_given(t, "join");
    if (st != APP_PENDING) {
        /* our own call could not take it (it ended meanwhile): let it go */
        drv(t)->ops->hangup(drv(t), party, 480);
        drv(t)->ops->leg_release(drv(t), party);
    }
    return st;
}

/* ---- listen, whisper, barge ---- */

static void sess_free(eng_join_sess *ss)
{
    eng_call *t = ss->target;
    for (int i = 0; i < 2; i++)
        if (ss->legs[i])
            drv(t)->ops->mix_leave(drv(t), ss->legs[i]);
    eng_rare_mut(t)->joined = NULL;
    free(ss);
}

/* M leaves its session (its call goes on, or is ending). */
static void member_leave(eng_join_member *m, const char *cause)
{
    eng_join_sess *ss = m->sess;
    eng_call *c = m->c;
    for (eng_join_member **p = &ss->members; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    if (c->leg)
        drv(c)->ops->mix_leave(drv(c), c->leg);
    eng_rare_mut(c)->joining = NULL;
    trace_pair(c, m->s, ss->target, m->mode, "end", cause);
    free(m);
    if (!ss->members)
        sess_free(ss);
}

app_status eng_join_start(eng_strand *s, eng_call *t, tel_leg *agent, eng_join_mode mode)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (t == c)
        return eng_fail(s, "a call cannot join itself");
    if (!t || t->ending || !t->leg)
        return eng_fail(s, "no such call");
    if (eng_rare(c)->conf || eng_rare(c)->joined || eng_rare(c)->joining || eng_rare(c)->parked || c->bridged)
        return eng_fail(s, "the call is already talking to someone");
    if (eng_rare(t)->conf || eng_rare(t)->parked || eng_rare(t)->joining)
        return eng_fail(s, "the call %s is in a conference, parked or joined to another", eng_call_idp(t));
    if (mode == ENG_JOIN_BRIDGE)
        return join_bridge(s, t, agent);
    if (eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    eng_join_sess *ss = eng_rare(t)->joined;
    if (!ss) {
        ss = cr_xcalloc(1, sizeof *ss);
        ss->target = t;
        snprintf(ss->mix, sizeof ss->mix, "join:%lu", ++c->e->next_room);
        ss->legs[0] = t->leg;
        ss->legs[1] = eng_call_agent_leg(t);
        ss->agent = agent ? agent : ss->legs[1];
        for (int i = 0; i < 2; i++)
            if (ss->legs[i] && drv(t)->ops->mix_join(drv(t), ss->legs[i], ss->mix,
                                                    ss->legs[i] == ss->agent ? TEL_MIX_WHISPER_TARGET : 0) < 0)
                ss->legs[i] = NULL;
        eng_rare_mut(t)->joined = ss;
    }
    if (drv(c)->ops->mix_join(drv(c), c->leg, ss->mix, member_flags(mode)) < 0) {
        if (!ss->members)
            sess_free(ss);
        return eng_fail(s, "cannot join the call's media");
    }
    eng_join_member *m = cr_xcalloc(1, sizeof *m);
    m->sess = ss;
    m->c = c;
    m->s = s;
    m->mode = mode;
    m->next = ss->members;
    ss->members = m;
    eng_rare_mut(c)->joining = m;
    eng_strand_set_pending(s, m);
    set_vars(s, "joined", t, mode);
    trace_pair(c, s, t, mode, "start", NULL);
    return APP_PENDING;
}

void eng_join_cancel(eng_strand *s)
{
    eng_call *c = s->call;
    if (eng_rare(c)->joining && eng_rare(c)->joining->s == s)
        member_leave(eng_rare(c)->joining, c->ending ? "hangup" : "cancelled");
    else if (eng_strand_pending(s))
        eng_dial_cancel(s);   /* bridge: waiting on the party it took over */
}

void eng_join_target_gone(eng_call *t, const char *why)
{
    eng_join_sess *ss = eng_rare(t)->joined;
    while (ss && ss->members) {
        eng_join_member *m = ss->members;
        eng_strand *s = m->s;
        bool last = !m->next;
        eng_strand_var_set(s, "join_status", cr_val_cstr("ended"));
        member_leave(m, why);
        eng_strand_resume(s, APP_DONE);
        if (last)
            break;   /* the session is gone with its last member */
    }
}

/* queue.c — automatic call distribution: the state of each queue, shared by
 * every call (DESIGN.md: engine/ owns queues and agent states).
 *
 * A queue has waiting callers, in order of priority then arrival, and
 * agents (users) with a mode: logged in (available), paused (with a
 * reason) or logged out. Agents the definition lists start logged in;
 * others join by logging in. Dispatch offers the first waiting caller who
 * is not being offered to the agents that can take a call now — logged
 * in, not ringing for another caller, not busy on any call (eng_user_busy:
 * any queue, a direct dial, a call of their own), not resting after a call
 * (wrapup) and not skipped for this caller — in the order of the queue's
 * strategy: all of them for ring-all, else the first. The offer is a dial
 * of the caller's call (eng_dial_offer): its legs, events and call record
 * are the caller's. An agent who does not answer within ring_timeout is
 * skipped for that caller; when every agent that could take the call has
 * been skipped, the round starts again ROUND_PAUSE seconds later (an agent
 * whose phone is not even registered fails at once: no tight loop of
 * dials). Dispatch runs from a zero-delay
 * timer (eng_queue_kick) whenever something may have changed: a caller
 * came, an offer ended, an agent became free, logged in or came back from
 * wrapup. Definitions come from the program in force (a reload changes a
 * queue's agents and strategy for the callers already waiting). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define ROUND_PAUSE 5.0        /* seconds between rounds of offers to one caller */

typedef struct qagent {
    struct qagent *next;
    struct eng_queue *q;
    char *number;
    eng_agent_mode mode;
    char *reason;
    bool listed;               /* in the definition in force */
    bool joined;               /* logged in though the definition does not list it */
    unsigned long calls;       /* answered from this queue */
    double wrapup_until;
    loop_timer *wrapup_timer;
    eng_qentry *ringing;       /* the caller it is being offered */
} qagent;

typedef struct eng_queue {
    struct eng_queue *next;
    eng_engine *e;
    char *name;
    qagent *agents;            /* in the order they were first seen */
    eng_qentry *head, *tail;   /* waiting, by priority then arrival */
    size_t waiting;
    unsigned long answered, answered_sla, abandoned, timeouts, exits, refused;
    double wait_sum;           /* of answered calls: the average wait */
    unsigned rr;               /* round-robin cursor */
} eng_queue;

struct eng_qentry {
    eng_qentry *next, *prev;
    eng_queue *q;
    eng_call *c;
    eng_strand *s;
    const scn_queue *def;      /* of the caller's program: used when the one in force lacks the queue */
    int priority;
    double entered;
    const eng_queue_hooks *h;
    void *arg;
    struct eng_dial *offer;    /* ringing, or bridged after an answer */
    qagent *agent;             /* the one who answered */
    char **skipped;            /* numbers that did not answer this caller */
    size_t nskipped;
    double round_at;           /* every agent was skipped: the next round then (0: none due) */
    loop_timer *round_timer;
    bool linked, answered;
};

/* ---- the queues ---- */

static eng_queue *queue_find(eng_engine *e, const char *name, bool create)
{
    for (eng_queue *q = e->queues; q; q = q->next)
        if (strcmp(q->name, name) == 0)
            return q;
    if (!create)
        return NULL;
    eng_queue *q = cr_xcalloc(1, sizeof *q);
    q->e = e;
    q->name = cr_xstrdup(name);
    q->next = e->queues;
    e->queues = q;
    return q;
}

static qagent *agent_find(eng_queue *q, const char *number, bool create)
{
    qagent **p = &q->agents;
    for (; *p; p = &(*p)->next)
        if (strcmp((*p)->number, number) == 0)
            return *p;
    if (!create)
        return NULL;
    qagent *a = cr_xcalloc(1, sizeof *a);
    a->q = q;
    a->number = cr_xstrdup(number);
    a->mode = ENG_AGENT_AVAILABLE;
    *p = a;   /* appended: first seen, first listed */
    return a;
}

/* The definition in force: the engine's program's, else the one a waiting
 * caller brought (its call runs on an older revision). */
static const scn_queue *current_def(eng_queue *q)
{
    const scn_queue *d = scn_program_queue(q->e->prog, q->name);
    return d ? d : q->head ? q->head->def : NULL;
}

/* Agents listed by DEF exist and are marked so; the others are members only
 * if they joined. */
static void sync_agents(eng_queue *q, const scn_queue *def)
{
    for (qagent *a = q->agents; a; a = a->next)
        a->listed = false;
    for (size_t i = 0; def && i < def->agent_count; i++)
        agent_find(q, def->agents[i], true)->listed = true;
}

static bool member(const qagent *a) { return a->listed || a->joined; }

static const char *agent_state(eng_queue *q, const qagent *a, double now)
{
    if (!member(a) || a->mode == ENG_AGENT_LOGGED_OUT)
        return "logged_out";
    if (a->mode == ENG_AGENT_PAUSED)
        return "paused";
    if (a->ringing)
        return "ringing";
    if (eng_user_busy_count(q->e, a->number) > 0 || eng_user_busy_elsewhere(q->e, a->number))
        return "busy";
    if (now < a->wrapup_until)
        return "wrapup";
    return "available";
}

static void qlog(eng_qentry *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void qlog(eng_qentry *w, const char *fmt, ...)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "queue %s: ", w->q->name);
    if (n < 0 || (size_t)n >= sizeof msg)   /* a name that fills it: the message is cut */
        n = (int)sizeof msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "info", .message = msg};
    eng_emit(w->c, w->s, &r);
}

/* ---- dispatch ---- */

static void dispatch(eng_queue *q);

static void kick_cb(loop *l, void *arg)
{
    (void)l;
    eng_engine *e = arg;
    e->queue_kick = NULL;
    for (eng_queue *q = e->queues; q; q = q->next)
        if (q->waiting)
            dispatch(q);
}

void eng_queue_kick(eng_engine *e)
{
    if (!e->queue_kick)
        e->queue_kick = loop_timer_start(e->l, 0, kick_cb, e);
}

static bool skipped(const eng_qentry *w, const char *number)
{
    for (size_t i = 0; i < w->nskipped; i++)
        if (strcmp(w->skipped[i], number) == 0)
            return true;
    return false;
}

static void skip_clear(eng_qentry *w)
{
    for (size_t i = 0; i < w->nskipped; i++)
        free(w->skipped[i]);
    free(w->skipped);
    w->skipped = NULL;
    w->nskipped = 0;
}

/* Can A take W's call now (SKIP: and has not been skipped for it)? */
static bool can_take(eng_queue *q, const qagent *a, const eng_qentry *w, double now, bool skip)
{
    return member(a) && a->mode == ENG_AGENT_AVAILABLE && !a->ringing && now >= a->wrapup_until &&
           eng_user_busy_count(q->e, a->number) == 0 && !eng_user_busy_elsewhere(q->e, a->number) &&
           scn_program_user(w->c->prog, a->number) &&
           !(skip && skipped(w, a->number));
}

static unsigned long queue_calls(void *arg, const char *number)
{
    qagent *a = agent_find(arg, number, false);
    return a ? a->calls : 0;
}

static void offer_answered(void *arg, const char *number, const char *name);
static void offer_unanswered(void *arg, const char *status);
static void offer_ended(void *arg);
static const eng_offer_hooks offer_hooks = {offer_answered, offer_unanswered, offer_ended};

static void round_cb(loop *l, void *arg)
{
    (void)l;
    eng_qentry *w = arg;
    w->round_timer = NULL;
    eng_queue_kick(w->q->e);
}

/* Offers W to the agents that can take it; false when there are none. */
static bool offer(eng_queue *q, const scn_queue *def, eng_qentry *w, double now)
{
    size_t n = 0, cap = 0;
    for (qagent *a = q->agents; a; a = a->next)
        cap++;
    if (!cap)
        return false;
    const char **order = cr_xmalloc(cap * sizeof *order);
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        for (qagent *a = q->agents; a; a = a->next)
            if (can_take(q, a, w, now, pass == 0))
                order[n++] = a->number;
        if (n && pass == 1) {   /* every one was skipped: a new round, after a pause */
            if (w->round_at == 0) {
                w->round_at = now + ROUND_PAUSE;
                qlog(w, "every agent was tried: a new round in %.0fs", ROUND_PAUSE);
            }
            if (now < w->round_at) {
                if (!w->round_timer)
                    w->round_timer = loop_timer_start(q->e->l, w->round_at - now, round_cb, w);
                free(order);
                return false;
            }
            w->round_at = 0;
            skip_clear(w);
        }
    }
    if (!n) {
        free(order);
        return false;
    }
    unsigned cursor = q->rr;
    eng_strategy_order(q->e, def->strategy, order, n, cursor, queue_calls, q);
    size_t k = def->strategy == SCN_GROUP_RING_ALL ? n : 1;
    if (def->strategy == SCN_GROUP_ROUND_ROBIN)
        q->rr++;
    cr_strbuf b = CR_STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        cr_strbuf_printf(&b, "%s%s", i ? ", " : "", order[i]);
    qlog(w, "offering %s%s to the caller (%s: %s)", k > 1 ? "all of " : "", k > 1 ? cr_strbuf_cstr(&b) : order[0],
         scn_group_strategy_names[def->strategy], cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    eng_dial_target *t = cr_xcalloc(k, sizeof *t);
    for (size_t i = 0; i < k; i++) {
        const scn_user *u = scn_program_user(w->c->prog, order[i]);
        t[i] = (eng_dial_target){.kind = TEL_DIAL_USER, .target = order[i], .agent_name = u ? u->name : NULL};
    }
    eng_dial_req req = {.targets = t, .count = k, .ring_timeout = def->ring_timeout};
    w->offer = eng_dial_offer(w->c, w->s, &req, &offer_hooks, w);
    if (w->offer) {
        for (size_t i = 0; i < k; i++)
            agent_find(q, order[i], false)->ringing = w;
    } else {
        for (size_t i = 0; i < k; i++) {   /* could not be dialled: the next time, others */
            w->skipped = cr_xrealloc(w->skipped, (w->nskipped + 1) * sizeof *w->skipped);
            w->skipped[w->nskipped++] = cr_xstrdup(order[i]);
        }
        eng_queue_kick(q->e);
    }
    free(t);
    free(order);
    return true;
}

static void dispatch(eng_queue *q)
{
    const scn_queue *def = current_def(q);
    if (!def)
        return;
    sync_agents(q, def);
    double now = loop_now(q->e->l);
    for (eng_qentry *w = q->head; w; w = w->next)
        if (!w->offer && !w->answered && !w->c->ending)
            offer(q, def, w, now);
}

/* The agents W's offer rang are free of it. */
static void offer_release(eng_qentry *w)
{
    for (qagent *a = w->q->agents; a; a = a->next)
        if (a->ringing == w)
            a->ringing = NULL;
}

static void wrapup_cb(loop *l, void *arg)
{
    (void)l;
    qagent *a = arg;
    a->wrapup_timer = NULL;
    eng_queue_kick(a->q->e);   /* rested: it may take the next call */
}

/* A conversation of W's agent ended: it rests DEF's wrapup. */
static void agent_done(eng_qentry *w)
{
    qagent *a = w->agent;
    if (!a)
        return;
    w->agent = NULL;
    const scn_queue *def = current_def(w->q);
    double rest = def ? def->wrapup : 0;
    if (rest > 0) {
        a->wrapup_until = loop_now(w->q->e->l) + rest;
        if (a->wrapup_timer)
            loop_timer_stop(w->q->e->l, a->wrapup_timer);
        a->wrapup_timer = loop_timer_start(w->q->e->l, rest, wrapup_cb, a);
    }
    eng_queue_kick(w->q->e);
}

static void unlink_entry(eng_qentry *w)
{
    if (!w->linked)
        return;
    eng_queue *q = w->q;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->linked = false;
    q->waiting--;
}

static void offer_answered(void *arg, const char *number, const char *name)
{
    eng_qentry *w = arg;
    eng_queue *q = w->q;
    offer_release(w);
    w->answered = true;
    w->agent = agent_find(q, number, true);
    w->agent->calls++;
    double waited = eng_queue_waited(w);
    unlink_entry(w);
    q->answered++;
    q->wait_sum += waited;
    const scn_queue *def = current_def(q);
    if (waited <= (def ? def->sla : 20))
        q->answered_sla++;
    qlog(w, "%s answered after %.1fs", number, waited);
    w->h->answered(w->arg, number, name);
    eng_queue_kick(q->e);
}

static void offer_unanswered(void *arg, const char *status)
{
    eng_qentry *w = arg;
    w->offer = NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    for (qagent *a = w->q->agents; a; a = a->next)
        if (a->ringing == w) {
            a->ringing = NULL;
            cr_strbuf_printf(&b, "%s%s", b.len ? ", " : "", a->number);
            w->skipped = cr_xrealloc(w->skipped, (w->nskipped + 1) * sizeof *w->skipped);
            w->skipped[w->nskipped++] = cr_xstrdup(a->number);
        }
    qlog(w, "%s did not answer (%s): skipped for this caller", b.len ? cr_strbuf_cstr(&b) : "nobody", status);
    cr_strbuf_free(&b);
    eng_queue_kick(w->q->e);
}

static void offer_ended(void *arg)
{
    eng_qentry *w = arg;
    w->offer = NULL;
    agent_done(w);
    w->h->ended(w->arg);
}

/* ---- callers ---- */

static size_t logged_in(eng_queue *q)
{
    size_t n = 0;
    for (qagent *a = q->agents; a; a = a->next)
        n += member(a) && a->mode == ENG_AGENT_AVAILABLE;
    return n;
}

eng_qentry *eng_queue_enter(eng_strand *s, const scn_queue *def, int priority, const eng_queue_hooks *h, void *arg,
                            int *position, const char **refused)
{
    eng_call *c = s->call;
    eng_queue *q = queue_find(c->e, def->name, true);
    const scn_queue *cur = scn_program_queue(c->e->prog, def->name);
    sync_agents(q, cur ? cur : def);
    *refused = NULL;
    if (def->max_waiting > 0 && q->waiting >= (size_t)def->max_waiting)
        *refused = "full";
    else if (logged_in(q) == 0)
        *refused = "no_agents";
    if (*refused) {
        q->refused++;
        return NULL;
    }
    eng_qentry *w = cr_xcalloc(1, sizeof *w);
    w->q = q;
    w->c = c;
    w->s = s;
    w->def = def;
    w->priority = priority;
    w->entered = loop_now(c->e->l);
    w->h = h;
    w->arg = arg;
    /* After every caller of the same or a higher priority. */
    eng_qentry *after = q->tail;
    while (after && after->priority < priority)
        after = after->prev;
    w->prev = after;
    w->next = after ? after->next : q->head;
    if (w->next)
        w->next->prev = w;
    else
        q->tail = w;
    if (after)
        after->next = w;
    else
        q->head = w;
    w->linked = true;
    q->waiting++;
    *position = eng_queue_position(w, NULL);
    eng_queue_kick(c->e);
    return w;
}

void eng_queue_leave(eng_qentry *w, const char *why)
{
    if (!w)
        return;
    eng_queue *q = w->q;
    if (w->offer) {
        struct eng_dial *d = w->offer;
        w->offer = NULL;
        offer_release(w);
        eng_dial_offer_stop(d);   /* ringing agents cancelled, a conversation ended */
    }
    agent_done(w);
    if (!w->answered) {
        if (strcmp(why, "timeout") == 0)
            q->timeouts++;
        else if (strcmp(why, "exit") == 0)
            q->exits++;
        else
            q->abandoned++;
        qlog(w, "the caller left (%s) after %.1fs", why, eng_queue_waited(w));
    }
    unlink_entry(w);
    skip_clear(w);
    if (w->round_timer)
        loop_timer_stop(q->e->l, w->round_timer);
    free(w);
    eng_queue_kick(q->e);
}

int eng_queue_position(const eng_qentry *w, double *estimate)
{
    int pos = 1;
    for (const eng_qentry *o = w->q->head; o && o != w; o = o->next)
        pos++;
    if (estimate) {
        eng_queue *q = w->q;
        size_t agents = logged_in(q);
        *estimate = q->answered ? q->wait_sum / (double)q->answered * pos / (double)(agents ? agents : 1) : 0;
    }
    return pos;
}

double eng_queue_waited(const eng_qentry *w) { return loop_now(w->c->e->l) - w->entered; }

/* ---- agents ---- */

static int agent_set(eng_queue *q, const char *number, eng_agent_mode mode, const char *reason)
{
    qagent *a = agent_find(q, number, true);
    if (!a->listed && mode != ENG_AGENT_LOGGED_OUT)
        a->joined = true;
    a->mode = mode;
    free(a->reason);
    a->reason = mode == ENG_AGENT_PAUSED && reason && *reason ? cr_xstrdup(reason) : NULL;
    if (mode == ENG_AGENT_AVAILABLE)
        eng_queue_kick(q->e);
    return 1;
}

int eng_queue_agent_set(eng_engine *e, const scn_program *prog, const char *queue, const char *number,
                        eng_agent_mode mode, const char *reason, char *err, size_t errlen)
{
    if (!scn_program_user(prog, number)) {
        snprintf(err, errlen, "agent '%s' is not a user", number);
        return -1;
    }
    int changed = 0;
    for (size_t i = 0; i < prog->queue_count; i++) {
        const scn_queue *def = &prog->queues[i];
        if (queue && strcmp(def->name, queue) != 0)
            continue;
        eng_queue *q = queue_find(e, def->name, true);
        sync_agents(q, def);
        qagent *a = agent_find(q, number, false);
        if (!queue && !(a && member(a)))
            continue;   /* every queue: those it is an agent of */
        changed += agent_set(q, number, mode, reason);
        if (e->opt.agent_changed)
            e->opt.agent_changed(e->opt.agent_changed_arg, def->name, number, mode, reason);
    }
    if (changed == 0) {
        if (queue)
            snprintf(err, errlen, "unknown queue '%s'", queue);
        else
            snprintf(err, errlen, "no queue has agent '%s'", number);
        return -1;
    }
    return changed;
}

bool eng_queue_agent_apply(eng_engine *e, const char *queue, const char *number, eng_agent_mode mode,
                           const char *reason)
{
    if (!scn_program_user(e->prog, number))
        return false;
    /* Kept even for a queue the program in force lacks: a later revision
     * may have it. */
    eng_queue *q = queue_find(e, queue, true);
    sync_agents(q, scn_program_queue(e->prog, queue));
    agent_set(q, number, mode, reason);
    return true;
}

/* ---- GET /queues ---- */

void eng_queues_each(eng_engine *e, void (*fn)(void *arg, const eng_queue_info *q), void *arg)
{
    const scn_program *prog = e->prog;
    double now = loop_now(e->l);
    for (size_t i = 0; prog && i < prog->queue_count; i++) {
        const scn_queue *def = &prog->queues[i];
        eng_queue *q = queue_find(e, def->name, true);
        sync_agents(q, def);
        size_t na = 0;
        for (qagent *a = q->agents; a; a = a->next)
            na += member(a);
        eng_queue_agent_info *ai = cr_xcalloc(na ? na : 1, sizeof *ai);
        size_t k = 0;
        for (qagent *a = q->agents; a; a = a->next) {
            if (!member(a))
                continue;
            const scn_user *u = scn_program_user(prog, a->number);
            double idle = eng_agent_idle_since(e, a->number);
            ai[k++] = (eng_queue_agent_info){.number = a->number, .name = u ? u->name : NULL,
                                             .state = agent_state(q, a, now),
                                             .reason = a->mode == ENG_AGENT_PAUSED ? a->reason : NULL,
                                             .calls = a->calls, .last_call_end = idle};
        }
        unsigned long left = q->answered + q->abandoned + q->timeouts + q->exits;
        eng_queue_info info = {
            .name = def->name, .strategy = scn_group_strategy_names[def->strategy], .waiting = q->waiting,
            .longest_wait = q->head ? now - q->head->entered : 0, .answered = q->answered,
            .answered_in_sla = q->answered_sla, .abandoned = q->abandoned, .timeouts = q->timeouts,
            .exits = q->exits, .refused = q->refused, .sla = def->sla,
            .service_level = left ? 100.0 * (double)q->answered_sla / (double)left : -1,
            .average_wait = q->answered ? q->wait_sum / (double)q->answered : 0, .agents = ai, .agent_count = k};
        /* The first in line is not the longest waiting when priorities differ. */
        for (eng_qentry *w = q->head; w; w = w->next)
            if (now - w->entered > info.longest_wait)
                info.longest_wait = now - w->entered;
        fn(arg, &info);
        free(ai);
    }
}

void eng_queues_free(eng_engine *e)
{
    if (e->queue_kick) {
        loop_timer_stop(e->l, e->queue_kick);
        e->queue_kick = NULL;
    }
    while (e->queues) {
        eng_queue *q = e->queues;
        e->queues = q->next;
        while (q->agents) {
            qagent *a = q->agents;
            q->agents = a->next;
            if (a->wrapup_timer)
                loop_timer_stop(e->l, a->wrapup_timer);
            free(a->reason);
            free(a->number);
            free(a);
        }
        free(q->name);
        free(q);
    }
}

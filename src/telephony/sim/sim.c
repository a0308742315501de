/* sim.c — the `sim` driver: legs that follow their SPEC on loop timers, and
 * media operations that take the prompt's length in (virtual) time. Events
 * are only ever raised from timers, never inside an engine call, so the
 * engine sees the same ordering as with a real network. */
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sim/sim.h"
#include "util/alloc.h"

typedef struct sim_party {
    struct sim_party *next;
    char *target;
    sim_spec spec;
} sim_party;

struct tel_leg {
    sim_driver *d;
    tel_leg *prev, *next;
    void *user;
    const sim_spec *spec;
    sim_spec own;            /* the caller's spec */
    double t0;
    size_t step, digit;
    loop_timer *timer;
    tel_leg *bridged;
    char room[TEL_ROOM_MAX + 1];   /* the mix it is in ("": none) */
    unsigned mix_flags;
    int in_cb;
    bool incoming, up, ended, released, tried;
};

struct tel_op {
    sim_driver *d;
    tel_op *prev, *next;
    tel_leg *leg;
    tel_op_done_cb cb;
    void *arg;
    loop_timer *timer;
    int status;
    bool is_record;          /* ends (ok) when its leg ends (or leg2's: a tap) */
    tel_leg *leg2;
    char msg[300];
};

/* A message on its way: its outcome comes from a timer, as a response would. */
struct tel_msg {
    sim_driver *d;
    tel_msg *prev, *next;
    loop_timer *timer;
    tel_message_cb cb;
    void *arg;
    int code;
};

struct sim_driver {
    tel_driver base;
    loop *l;
    tel_handler h;
    sim_party *parties;
    tel_leg *legs;
    tel_op *ops;
    tel_msg *msgs;
    double max_media;
    size_t dialled, live;
};

static const sim_step default_steps[] = {{.kind = SIM_RINGING, .at = 0}};
static const sim_spec default_spec = {(sim_step *)default_steps, 1};

static sim_driver *sim_of(tel_driver *t) { return (sim_driver *)t; }

/* ---- legs ---- */

static tel_leg *leg_new(sim_driver *d, bool incoming)
{
    tel_leg *leg = cr_xcalloc(1, sizeof *leg);
    leg->d = d;
    leg->incoming = incoming;
    leg->t0 = loop_now(d->l);
    leg->next = d->legs;
    if (d->legs)
        d->legs->prev = leg;
    d->legs = leg;
    d->live++;
    return leg;
}

static void leg_free(tel_leg *leg)
{
    sim_driver *d = leg->d;
    if (leg->timer)
        loop_timer_stop(d->l, leg->timer);
    if (leg->bridged && leg->bridged->bridged == leg)
        leg->bridged->bridged = NULL;
    if (leg->prev)
        leg->prev->next = leg->next;
    else
        d->legs = leg->next;
    if (leg->next)
        leg->next->prev = leg->prev;
    d->live--;
    sim_spec_free(&leg->own);
    free(leg);
}

/* Delivers EV; false when the engine released the leg meanwhile. */
static bool deliver(tel_leg *leg, tel_event_kind kind, int code, const char *cause, char digit)
{
    sim_driver *d = leg->d;
    tel_event ev = {.kind = kind, .sip_code = code, .cause = cause, .digit = digit};
    leg->in_cb++;
    if (d->h.event)
        d->h.event(d->h.eng, leg, leg->user, &ev);
    leg->in_cb--;
    if (leg->released && leg->in_cb == 0) {
        leg_free(leg);
        return false;
    }
    return true;
}

static void step_cb(loop *l, void *arg);
static void op_timer_cb(loop *l, void *arg);

/* LEG ended: its recordings are complete now (the next loop turn, as a
 * real driver's would be), not at max_seconds. */
static void end_recordings(tel_leg *leg)
{
    sim_driver *d = leg->d;
    for (tel_op *op = d->ops; op; op = op->next)
        if ((op->leg == leg || op->leg2 == leg) && op->is_record && op->timer) {
            loop_timer_stop(d->l, op->timer);
            op->timer = loop_timer_start(d->l, 0, op_timer_cb, op);
        }
}

static void schedule(tel_leg *leg)
{
    sim_driver *d = leg->d;
    if (leg->ended || leg->released || leg->step >= leg->spec->count)
        return;
    const sim_step *s = &leg->spec->steps[leg->step];
    double at = leg->t0 + s->at + (s->kind == SIM_DTMF ? 0.1 * (double)leg->digit : 0);
    double delay = at - loop_now(d->l);
    leg->timer = loop_timer_start(d->l, delay > 0 ? delay : 0, step_cb, leg);
}

/* Runs one step of the leg's script; returns false when the leg is gone. */
static bool run_step(tel_leg *leg, const sim_step *s)
{
    switch (s->kind) {
    case SIM_RINGING:
        return leg->up ? true : deliver(leg, TEL_EV_RINGING, 180, NULL, 0);
    case SIM_EARLY_MEDIA:
        return leg->up ? true : deliver(leg, TEL_EV_EARLY_MEDIA, 183, NULL, 0);
    case SIM_ANSWER:
        if (leg->up)
            return true;
        leg->up = true;
        return deliver(leg, TEL_EV_ANSWER, 200, NULL, 0);
    case SIM_BUSY:
    case SIM_REJECT:
        if (leg->up)
            return true;
        leg->ended = true;
        return s->kind == SIM_BUSY ? deliver(leg, TEL_EV_BUSY, 486, "busy", 0)
                                   : deliver(leg, TEL_EV_FAILED, s->code, "rejected", 0);
    case SIM_HOLD:
    case SIM_UNHOLD:
        if (!leg->up)
            return true;
        return deliver(leg, s->kind == SIM_HOLD ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL, 0);
    case SIM_DTMF:
        return deliver(leg, TEL_EV_DTMF, 0, NULL, s->digits[0]);
    case SIM_TRANSFER: {
        if (!leg->up)
            return true;
        sim_driver *d = leg->d;
        tel_event ev = {.kind = TEL_EV_TRANSFER, .refer_to = s->digits};
        leg->in_cb++;
        if (d->h.event)
            d->h.event(d->h.eng, leg, leg->user, &ev);
        leg->in_cb--;
        if (leg->released && leg->in_cb == 0) {
            leg_free(leg);
            return false;
        }
        return true;
    }
    case SIM_HANGUP:
        leg->ended = true;
        end_recordings(leg);
        /* Before an answer, a party hanging up declines the call. */
        return deliver(leg, TEL_EV_HANGUP, leg->up || leg->incoming ? 0 : 603, "normal", 0);
    }
    return true;
}

static void step_cb(loop *l, void *arg)
{
    (void)l;
    tel_leg *leg = arg;
    leg->timer = NULL;
    if (!leg->incoming && !leg->tried) {
        leg->tried = true;
        if (!deliver(leg, TEL_EV_TRYING, 100, NULL, 0))
            return;
        schedule(leg);
        return;
    }
    if (leg->ended || leg->step >= leg->spec->count)
        return;
    const sim_step *s = &leg->spec->steps[leg->step];
    if (s->kind == SIM_DTMF) {
        /* A string of digits goes out one every 100 ms. */
        char digit = s->digits[leg->digit];
        if (s->digits[leg->digit + 1]) {
            leg->digit++;
        } else {
            leg->step++;
            leg->digit = 0;
        }
        if (!deliver(leg, TEL_EV_DTMF, 0, NULL, digit))
            return;
    } else {
        leg->step++;
        if (!run_step(leg, s))
            return;
    }
    schedule(leg);
}

/* ---- driver operations ---- */

static void op_set_handler(tel_driver *t, const tel_handler *h) { sim_of(t)->h = *h; }

static void op_leg_set_user(tel_driver *t, tel_leg *leg, void *user)
{
    (void)t;
    leg->user = user;
}

static int op_answer(tel_driver *t, tel_leg *leg)
{
    (void)t;
    if (leg->ended)
        return -1;
    leg->up = true;
    return 0;
}

static int op_ringing(tel_driver *t, tel_leg *leg, bool early_media)
{
    (void)t;
    (void)early_media;
    return leg->ended ? -1 : 0;
}

static int op_hangup(tel_driver *t, tel_leg *leg, int sip_code)
{
    (void)sip_code;
    if (leg->timer) {
        loop_timer_stop(sim_of(t)->l, leg->timer);
        leg->timer = NULL;
    }
    leg->ended = true;
    end_recordings(leg);
    return 0;
}

static const sim_spec *find_spec(sim_driver *d, const tel_dial_req *req)
{
    for (sim_party *p = d->parties; p; p = p->next)
        if (strcmp(p->target, req->target) == 0)
            return &p->spec;
    if (req->kind == TEL_DIAL_GATEWAY && req->gateway)
        for (sim_party *p = d->parties; p; p = p->next)
            if (strncmp(p->target, "gw:", 3) == 0 && strcmp(p->target + 3, req->gateway) == 0)
                return &p->spec;
    return &default_spec;
}

static tel_leg *op_dial(tel_driver *t, const tel_dial_req *req, void *user)
{
    sim_driver *d = sim_of(t);
    tel_leg *leg = leg_new(d, false);
    leg->user = user;
    leg->spec = find_spec(d, req);
    d->dialled++;
    leg->timer = loop_timer_start(d->l, 0, step_cb, leg);   /* trying */
    return leg;
}

static int op_bridge(tel_driver *t, tel_leg *a, tel_leg *b)
{
    (void)t;
    if (a->ended || b->ended)
        return -1;
    a->bridged = b;
    b->bridged = a;
    return 0;
}

static int op_unbridge(tel_driver *t, tel_leg *a, tel_leg *b)
{
    (void)t;
    if (a->bridged == b)
        a->bridged = NULL;
    if (b->bridged == a)
        b->bridged = NULL;
    return 0;
}

static int op_transfer(tel_driver *t, tel_leg *leg, const char *to)
{
    (void)t;
    return leg->ended || !to || !*to ? -1 : 0;
}

static void op_timer_cb(loop *l, void *arg)
{
    (void)l;
    tel_op *op = arg;
    sim_driver *d = op->d;
    op->timer = NULL;
    if (op->prev)
        op->prev->next = op->next;
    else
        d->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->cb(op->arg, op->status, op->status < 0 ? op->msg : NULL, 0);
    free(op);
}

static tel_op *op_start(sim_driver *d, tel_leg *leg, double seconds, tel_op_done_cb cb, void *arg)
{
    tel_op *op = cr_xcalloc(1, sizeof *op);
    op->d = d;
    op->leg = leg;
    op->cb = cb;
    op->arg = arg;
    op->next = d->ops;
    if (d->ops)
        d->ops->prev = op;
    d->ops = op;
    op->timer = loop_timer_start(d->l, seconds, op_timer_cb, op);
    return op;
}

static tel_op *op_play(tel_driver *t, tel_leg *leg, const char *path, bool interruptible,
                       tel_op_done_cb cb, void *arg)
{
    (void)interruptible;   /* the engine interrupts on DTMF events itself */
    sim_driver *d = sim_of(t);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) {
        tel_op *op = op_start(d, leg, 0, cb, arg);
        op->status = -1;
        snprintf(op->msg, sizeof op->msg, "cannot play '%s': %s", path, sf_strerror(NULL));
        return op;
    }
    double secs = info.samplerate > 0 ? (double)info.frames / info.samplerate : d->max_media;
    sf_close(f);
    return op_start(d, leg, secs, cb, arg);
}

static tel_op *op_play_pcm(tel_driver *t, tel_leg *leg, const int16_t *pcm, size_t count,
                           tel_op_done_cb cb, void *arg)
{
    (void)pcm;
    return op_start(sim_of(t), leg, (double)count / 8000.0, cb, arg);
}

static tel_op *op_tone(tel_driver *t, tel_leg *leg, tel_tone tone, double seconds,
                       tel_op_done_cb cb, void *arg)
{
    (void)tone;
    return op_start(sim_of(t), leg, seconds, cb, arg);
}

static tel_op *op_record(tel_driver *t, tel_leg *leg, const char *path, double max_seconds,
                         bool beep, double silence, tel_op_done_cb cb, void *arg)
{
    (void)path;   /* nothing is written */
    (void)silence;   /* the simulated caller talks until it hangs up or presses a key */
    sim_driver *d = sim_of(t);
    double secs = max_seconds < d->max_media ? max_seconds : d->max_media;
    tel_op *op = op_start(d, leg, secs + (beep ? TEL_BEEP_SECONDS : 0), cb, arg);
    op->is_record = true;
    if (leg->ended)
        end_recordings(leg);
    return op;
}

/* Music plays until cancelled or the leg ends (like a recording). */
static tel_op *op_music(tel_driver *t, tel_leg *leg, const char *path, tel_op_done_cb cb, void *arg)
{
    sim_driver *d = sim_of(t);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    tel_op *op;
    if (!f) {
        op = op_start(d, leg, 0, cb, arg);
        op->status = -1;
        snprintf(op->msg, sizeof op->msg, "cannot play music '%s': %s", path, sf_strerror(NULL));
        return op;
    }
    sf_close(f);
    op = op_start(d, leg, d->max_media, cb, arg);
    op->is_record = true;
    if (leg->ended)
        end_recordings(leg);
    return op;
}

/* A tap hears silence (the simulated parties send nothing): no frames; it
 * lasts until cancelled or a leg ends. */
static tel_op *op_tap(tel_driver *t, tel_leg *a, tel_leg *b,
                      void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n),
                      tel_op_done_cb done, void *arg)
{
    (void)frames;
    sim_driver *d = sim_of(t);
    tel_op *op = op_start(d, a, d->max_media, done, arg);
    op->is_record = true;
    op->leg2 = b;
    if (a->ended || b->ended)
        end_recordings(a);
    return op;
}

static void op_cancel(tel_driver *t, tel_op *op)
{
    sim_driver *d = sim_of(t);
    if (!op || !op->timer)
        return;
    loop_timer_stop(d->l, op->timer);
    if (op->prev)
        op->prev->next = op->next;
    else
        d->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    free(op);
}

static void op_leg_release(tel_driver *t, tel_leg *leg)
{
    (void)t;
    if (!leg || leg->released)
        return;
    leg->released = true;
    leg->ended = true;
    if (leg->in_cb == 0)
        leg_free(leg);
}

/* ---- mixing: the simulated parties send nothing, so a room is only who
 * is in it (kept for the flags' sake: a leg in one room at a time) ---- */

static int op_mix_join(tel_driver *t, tel_leg *leg, const char *room, unsigned flags)
{
    (void)t;
    if (leg->ended || !room || !*room || strlen(room) > TEL_ROOM_MAX)
        return -1;
    snprintf(leg->room, sizeof leg->room, "%s", room);
    leg->mix_flags = flags;
    return 0;
}

static void op_mix_leave(tel_driver *t, tel_leg *leg)
{
    (void)t;
    leg->room[0] = '\0';
    leg->mix_flags = 0;
}

/* ---- messages: the target's party spec says what its phone answers:
 * reject:CODE or busy (486) at their time, else delivered (200) at its
 * answer time, or at once ---- */

static void msg_unlink(tel_msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        m->d->msgs = m->next;
    if (m->next)
        m->next->prev = m->prev;
}

static void msg_timer_cb(loop *l, void *arg)
{
    (void)l;
    tel_msg *m = arg;
    m->timer = NULL;
    msg_unlink(m);
    tel_message_cb cb = m->cb;
    void *a = m->arg;
    int code = m->code;
    free(m);
    cb(a, code, code >= 300 ? (code == 486 ? "busy" : "rejected") : NULL);
}

static tel_msg *op_message(tel_driver *t, const tel_message_req *req, tel_message_cb cb, void *arg)
{
    sim_driver *d = sim_of(t);
    if (!req || !req->target || !cb)
        return NULL;
    tel_dial_req dr = {.kind = req->kind, .target = req->target, .gateway = req->gateway};
    const sim_spec *spec = find_spec(d, &dr);
    int code = 200;
    double at = 0;
    for (size_t i = 0; spec != &default_spec && i < spec->count; i++) {
        const sim_step *st = &spec->steps[i];
        if (st->kind == SIM_ANSWER || st->kind == SIM_BUSY || st->kind == SIM_REJECT) {
            code = st->kind == SIM_ANSWER ? 200 : st->kind == SIM_BUSY ? 486 : st->code;
            at = st->at;
            break;
        }
    }
    tel_msg *m = cr_xcalloc(1, sizeof *m);
    m->d = d;
    m->cb = cb;
    m->arg = arg;
    m->code = code;
    m->next = d->msgs;
    if (d->msgs)
        d->msgs->prev = m;
    d->msgs = m;
    m->timer = loop_timer_start(d->l, at, msg_timer_cb, m);
    return m;
}

static void op_message_cancel(tel_driver *t, tel_msg *m)
{
    if (!m)
        return;
    loop_timer_stop(sim_of(t)->l, m->timer);
    msg_unlink(m);
    free(m);
}

static void op_destroy(tel_driver *t) { sim_driver_free(sim_of(t)); }

static const tel_driver_ops sim_ops = {
    .name = "sim",
    .set_handler = op_set_handler,
    .leg_set_user = op_leg_set_user,
    .answer = op_answer,
    .ringing = op_ringing,
    .hangup = op_hangup,
    .dial = op_dial,
    .bridge = op_bridge,
    .unbridge = op_unbridge,
    .transfer = op_transfer,
    .play = op_play,
    .tone = op_tone,
    .play_pcm = op_play_pcm,
    .tap = op_tap,
    .record = op_record,
    .music = op_music,
    .op_cancel = op_cancel,
    .mix_join = op_mix_join,
    .mix_leave = op_mix_leave,
    .message = op_message,
    .message_cancel = op_message_cancel,
    .leg_release = op_leg_release,
    .destroy = op_destroy,
};

/* ---- the simulator's API ---- */

sim_driver *sim_driver_new(loop *l)
{
    sim_driver *d = cr_xcalloc(1, sizeof *d);
    d->base.ops = &sim_ops;
    d->l = l;
    d->max_media = 3600;
    return d;
}

tel_driver *sim_driver_tel(sim_driver *d) { return &d->base; }

void sim_set_max_media(sim_driver *d, double seconds) { d->max_media = seconds > 0 ? seconds : 3600; }

void sim_driver_free(sim_driver *d)
{
    if (!d)
        return;
    while (d->ops) {
        tel_op *op = d->ops;
        d->ops = op->next;
        if (op->timer)
            loop_timer_stop(d->l, op->timer);
        free(op);
    }
    while (d->legs)
        leg_free(d->legs);
    while (d->msgs) {
        tel_msg *m = d->msgs;
        d->msgs = m->next;
        loop_timer_stop(d->l, m->timer);
        free(m);
    }
    while (d->parties) {
        sim_party *p = d->parties;
        d->parties = p->next;
        sim_spec_free(&p->spec);
        free(p->target);
        free(p);
    }
    free(d);
}

bool sim_party_add(sim_driver *d, const char *target, const char *spec, char *err, size_t errlen)
{
    sim_party *p = cr_xcalloc(1, sizeof *p);
    char e[200];
    if (!sim_spec_parse(spec, false, &p->spec, e, sizeof e)) {
        snprintf(err, errlen, "party %s: %s", target, e);
        free(p);
        return false;
    }
    p->target = cr_xstrdup(target);
    /* Later entries for the same target win: they are found first. */
    p->next = d->parties;
    d->parties = p;
    return true;
}

int sim_call(sim_driver *d, const tel_call_info *info, const char *caller_spec, char *err,
             size_t errlen)
{
    sim_spec spec;
    char e[200];
    if (!sim_spec_parse(caller_spec, true, &spec, e, sizeof e)) {
        snprintf(err, errlen, "caller: %s", e);
        return -1;
    }
    tel_leg *leg = leg_new(d, true);
    leg->own = spec;
    leg->spec = &leg->own;
    int reject = 0;
    leg->in_cb++;
    bool ok = d->h.incoming && d->h.incoming(d->h.eng, leg, info, &reject);
    leg->in_cb--;
    if (!ok) {
        leg_free(leg);   /* the engine keeps no reference to a rejected leg */
        return reject ? reject : 404;
    }
    if (leg->released) {
        leg_free(leg);
        return 0;
    }
    schedule(leg);
    return 0;
}

int sim_message(sim_driver *d, const tel_call_info *info, const char *text)
{
    int reject = 0;
    if (!d->h.message)
        return 405;
    const char *body = text ? text : "";
    if (!d->h.message(d->h.eng, info, "text/plain", body, strlen(body), &reject))
        return reject ? reject : 404;
    return 0;
}

size_t sim_dialled_count(const sim_driver *d) { return d->dialled; }
size_t sim_live_legs(const sim_driver *d) { return d->live; }

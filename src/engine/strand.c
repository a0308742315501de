/* strand.c — the interpreter: a strand is a frame stack run action after
 * action (Lua's luaV_execute, SQLite's VDBE: the program counter lives in a
 * struct, so a strand can stop at any wait and go on later). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "scenario/events.h"

static void strand_loop(eng_strand *s);

/* ---- life ---- */

static void frames_reserve(eng_strand *s, uint32_t need)
{
    if (need <= s->cap)
        return;
    /* One frame at first: most strands (a dial, a handler) never nest, and
     * a held call keeps its main strand's stack. */
    uint32_t cap = s->cap ? s->cap * 2 : 1;
    while (cap < need)
        cap *= 2;
    eng_frame *f = cr_arena_alloc(&s->call->arena, cap * sizeof *f);
    if (s->depth)
        memcpy(f, s->frames, s->depth * sizeof *f);
    /* The old array stays in the arena until the call ends (rare: deep nesting). */
    s->frames = f;
    s->cap = cap;
}

static eng_frame *frame_push(eng_strand *s, const scn_actions *list, eng_frame_type type,
                             const scn_action *owner, const void *tag)
{
    frames_reserve(s, s->depth + 1);
    eng_frame *f = &s->frames[s->depth++];
    memset(f, 0, sizeof *f);
    f->items = list->items;
    f->count = (uint32_t)list->count;
    f->type = (uint8_t)type;
    f->owner = owner;
    f->tag = tag;
    return f;
}

eng_strand *eng_strand_new(eng_call *c, eng_strand_kind kind, const scn_actions *list,
                           const char *name)
{
    eng_strand *s = c->free_strands;
    if (s) {
        c->free_strands = s->next;
        eng_frame *frames = s->frames;
        uint32_t cap = s->cap;
        memset(s, 0, sizeof *s);
        s->frames = frames;
        s->cap = cap;
    } else {
        s = cr_arena_alloc(&c->arena, sizeof *s);
    }
    s->call = c;
    s->kind = (uint8_t)kind;
    s->name = name;
    s->id = ++c->next_strand_id;
    s->state = ST_NEW;
    frame_push(s, list, FR_BASE, NULL, NULL);
    /* Appended: hangup cancels strands in the order they started. */
    s->prev = c->strands_tail;
    if (c->strands_tail)
        c->strands_tail->next = s;
    else
        c->strands = s;
    c->strands_tail = s;
    c->strand_count++;
    if (kind == SK_STREAM || kind == SK_HANDLER)
        c->live_streams++;
    eng_enqueue(s);
    return s;
}

/* Unlinks a finished strand; its memory is reused by the next strand. */
void eng_strand_release(eng_strand *s)
{
    eng_call *c = s->call;
    if (s->released)
        return;
    s->released = true;
    s->state = ST_DONE;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->strands = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        c->strands_tail = s->prev;
    s->prev = s->next = NULL;
    c->strand_count--;
    if (s->kind == SK_STREAM || s->kind == SK_HANDLER)
        c->live_streams--;
    if (eng_rare(c)->dtmf_strand == s)
        eng_rare_mut(c)->dtmf_strand = NULL;
    if (s->kind == SK_MAIN)
        eng_call_main_ended(c);
    if (s->queued) {
        s->zombie = true;   /* the queue still points at it */
    } else {
        s->next = c->free_strands;
        c->free_strands = s;
    }
    eng_check_call(c);
}

/* Called by the queue for a popped strand that was released meanwhile. */
void eng_strand_free_zombie(eng_strand *s);
void eng_strand_free_zombie(eng_strand *s)
{
    s->zombie = false;
    s->next = s->call->free_strands;
    s->call->free_strands = s;
}

/* ---- accessors ---- */

eng_call *eng_strand_call(eng_strand *s) { return s->call; }
loop *eng_strand_loop(eng_strand *s) { return s->call->e->l; }
eng_engine *eng_strand_engine(eng_strand *s) { return s->call->e; }
unsigned eng_strand_id(eng_strand *s) { return s->id; }
bool eng_strand_in_hangup(eng_strand *s) { return s->kind == SK_HANGUP || s->after_hangup; }
const scn_action *eng_strand_action(eng_strand *s) { return s->cur; }
void eng_strand_set_pending(eng_strand *s, void *op) { s->pending = op; }
void *eng_strand_pending(eng_strand *s) { return s->pending; }

app_status eng_fail(eng_strand *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->err = cr_arena_strdup(&s->call->arena, buf);
    return APP_FAILED;
}

/* ---- nesting ---- */

void eng_strand_push(eng_strand *s, const scn_actions *list, eng_frame_kind kind, const void *tag)
{
    if (!list || list->count == 0)
        return;
    frame_push(s, list, kind == ENG_FRAME_SCENARIO ? FR_SCENARIO : FR_NEST, s->cur, tag);
}

bool eng_strand_has_tag(eng_strand *s, const void *tag)
{
    for (uint32_t i = 0; i < s->depth; i++)
        if (s->frames[i].tag == tag)
            return true;
    return false;
}

static bool frame_is_loop(const eng_frame *f)
{
    return f->type == FR_NEST && f->owner && f->owner->app->frame_end;
}

static void frame_pop(eng_strand *s, const char *status)
{
    eng_frame *f = &s->frames[--s->depth];
    if (f->end_pending && f->owner)
        eng_trace_app(s, f->owner, "end", status, NULL, false);
}

bool eng_strand_break(eng_strand *s)
{
    /* Frames above depth0 were pushed by `break` itself: none. Look down. */
    uint32_t i = s->depth;
    while (i > 0) {
        const eng_frame *f = &s->frames[i - 1];
        if (frame_is_loop(f))
            break;
        if (f->type == FR_SCENARIO || f->type == FR_BASE)
            return false;
        i--;
    }
    if (i == 0)
        return false;
    s->unwind_to = i;   /* after the break's own `end` record */
    return true;
}

/* ---- limits ---- */

static void runaway(eng_strand *s, const char *msg)
{
    eng_call *c = s->call;
    eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = msg};
    eng_emit(c, s, &r);
    eng_var_set_str(c, "error", msg);
    while (s->depth > 0)
        frame_pop(s, "error");
    eng_strand_release(s);
}

static bool step_ok(eng_strand *s)
{
    eng_call *c = s->call;
    double now = loop_now(c->e->l);
    if (now - c->step_window >= 1.0 || now < c->step_window) {
        c->step_window = now;
        c->steps = 0;
    }
    double limit = eng_settings_steps(c->prog);
    if (++c->steps > limit) {
        char msg[128];
        snprintf(msg, sizeof msg, "steps_per_second limit (%g) exceeded: strand stopped", limit);
        runaway(s, msg);
        return false;
    }
    return true;
}

eng_strand *eng_strand_spawn(eng_strand *s, const scn_actions *list, const char *name)
{
    eng_call *c = s->call;
    int max = eng_settings_streams(c->prog);
    if ((int)c->live_streams >= max) {
        /* A runaway script: the strand that asked stops, with the error. */
        eng_fail(s, "max_streams limit (%d) reached: strand stopped", max);
        eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = s->err};
        eng_emit(c, s, &r);
        s->stop = true;
        return NULL;
    }
    eng_strand *n = eng_strand_new(c, s->kind == SK_HANGUP ? SK_HANGUP : SK_STREAM, list, name);
    n->event = s->event;   /* a stream of a handler handles the same event */
    return n;
}

/* ---- running ---- */

static double action_timeout(const scn_action *a)
{
    const app_def *d = a->app;
    if (!(d->flags & APP_WAITS) || (d->flags & APP_OWN_TIMEOUT))
        return -1;
    if (a->timeout >= 0)
        return a->timeout;
    return d->default_timeout > 0 ? d->default_timeout : -1;
}

static void timeout_cb(loop *l, void *arg)
{
    (void)l;
    eng_strand *s = arg;
    s->timeout = NULL;
    if (s->state != ST_PENDING)
        return;
    /* The cancel hook may say more than "timeout" with eng_fail: `unknown`
     * when the request had gone out and may have been carried out. */
    s->err = NULL;
    s->cancel_reason_timeout = true;
    if (s->cur->app->cancel)
        s->cur->app->cancel(s, s->cur);
    s->pending = NULL;
    if (!s->err)
        s->err = "timeout";
    s->state = ST_READY;
    s->resume_st = APP_FAILED;
    eng_enqueue(s);
}

/* The current action ended with ST: trace it, record the failure, run
 * on_error, or end the strand. */
static void action_done(eng_strand *s, app_status st)
{
    const scn_action *a = s->cur;
    eng_call *c = s->call;
    s->pending = NULL;
    if (s->timeout) {
        loop_timer_stop(c->e->l, s->timeout);
        s->timeout = NULL;
    }
    switch (st) {
    case APP_DONE:
    case APP_PENDING:   /* not a completion status: treat as done */
        if (s->depth > s->depth0)
            s->frames[s->depth0].end_pending = 1;
        else
            eng_trace_app(s, a, "end", "ok", NULL, true);
        if (s->unwind_to) {
            while (s->depth >= s->unwind_to)
                frame_pop(s, "ok");
            s->unwind_to = 0;
        }
        break;
    case APP_STOP:
        eng_trace_app(s, a, "end", "ok", NULL, true);
        s->stop = true;
        break;
    case APP_FAILED: {
        const char *err = s->err ? s->err : "failed";
        while (s->depth > s->depth0)
            s->depth--;
        eng_var_set_str(c, "error", err);
        bool timed_out = strcmp(err, "timeout") == 0 || (s->cancel_reason_timeout && strcmp(err, "unknown") == 0);
        eng_trace_app(s, a, "end", timed_out ? "timeout" : "error", err, true);
        if (a->on_error.count && !s->kill && !s->stop)
            frame_push(s, &a->on_error, FR_ON_ERROR, NULL, NULL);
        break;
    }
    }
}

static void action_run(eng_strand *s, const scn_action *a)
{
    eng_call *c = s->call;
    eng_engine *e = c->e;
    const app_def *d = a->app;
    s->cur = a;
    e->actions++;
    if (a->disabled) {
        eng_trace_app(s, a, "skip", NULL, NULL, false);
        return;
    }
    eng_trace_app(s, a, "start", NULL, NULL, false);
    eng_scratch_reset(e);
    s->err = NULL;
    s->cancel_reason_timeout = false;
    s->inline_done = false;
    s->depth0 = s->depth;
    s->var_seq = c->var_seq;
    app_status st;
    if (s->kind == SK_HANGUP && (d->flags & (APP_CALL_CONTROL | APP_MEDIA)))
        st = eng_fail(s, "%s is not allowed in a hangup handler", d->name);
    else if (s->after_hangup && (d->flags & (APP_CALL_CONTROL | APP_MEDIA)))
        st = eng_fail(s, "%s is not possible: the call has ended", d->name);
    else if (c->is_message && (d->flags & (APP_CALL_CONTROL | APP_MEDIA)))
        st = eng_fail(s, "%s is not possible: a message has no %s", d->name,
                      d->flags & APP_MEDIA ? "media" : "call to control");
    else if (!d->run)
        st = eng_fail(s, "%s is not implemented", d->name);
    else {
        s->in_run = true;
        st = d->run(s, a);
        s->in_run = false;
    }
    if (st == APP_PENDING && s->inline_done)
        st = (app_status)s->resume_st;
    if (st == APP_PENDING && !s->kill && !s->stop) {
        s->state = ST_PENDING;
        double to = action_timeout(a);
        if (to >= 0)
            s->timeout = loop_timer_start(e->l, to, timeout_cb, s);
        return;
    }
    if (st == APP_PENDING) {
        /* Killed (the call ended) while starting work: cancel it. */
        if (d->cancel)
            d->cancel(s, a);
        s->pending = NULL;
        eng_trace_app(s, a, "end", "cancelled", NULL, false);
        return;
    }
    action_done(s, st);
}

/* Pops finished frames; restarts loops. */
static void frame_end(eng_strand *s)
{
    eng_frame *f = &s->frames[s->depth - 1];
    if (frame_is_loop(f)) {
        const scn_action *owner = f->owner;
        s->cur = owner;
        long counter = f->counter;
        bool again = owner->app->frame_end(s, owner, &counter);
        f = &s->frames[s->depth - 1];
        f->counter = counter;
        if (again) {
            f->index = 0;
            return;
        }
    }
    frame_pop(s, "ok");
}

static void strand_loop(eng_strand *s)
{
    eng_engine *e = s->call->e;
    e->running = s;
    s->state = ST_RUNNING;
    while (s->state == ST_RUNNING) {
        if (s->kill || s->stop || s->depth == 0) {
            while (s->depth > 0)
                frame_pop(s, s->kill ? "cancelled" : "ok");
            eng_strand_release(s);
            break;
        }
        eng_frame *f = &s->frames[s->depth - 1];
        if (f->index >= f->count) {
            if (!step_ok(s))
                break;
            frame_end(s);
            continue;
        }
        const scn_action *a = &f->items[f->index++];
        if (!step_ok(s))
            break;
        action_run(s, a);
    }
    e->running = NULL;
}

void eng_strand_continue(eng_strand *s)
{
    if (s->state == ST_NEW) {
        strand_loop(s);
    } else if (s->state == ST_READY) {
        s->state = ST_RUNNING;
        s->call->e->running = s;
        action_done(s, (app_status)s->resume_st);
        s->call->e->running = NULL;
        strand_loop(s);
    }
}

void eng_strand_resume(eng_strand *s, app_status st)
{
    if (s->in_run && s->state == ST_RUNNING) {
        s->inline_done = true;
        s->resume_st = (uint8_t)st;
        return;
    }
    if (s->state != ST_PENDING)
        return;
    if (s->timeout) {
        loop_timer_stop(s->call->e->l, s->timeout);
        s->timeout = NULL;
    }
    s->state = ST_READY;
    s->resume_st = (uint8_t)st;
    eng_enqueue(s);
}

/* Stops S where it is: the pending work is cancelled through the app's
 * hook, the action and its enclosing nesting actions end `cancelled`. */
void eng_strand_cancel(eng_strand *s, const char *why)
{
    (void)why;
    eng_call *c = s->call;
    switch (s->state) {
    case ST_RUNNING:
        s->kill = true;   /* inside run(): the loop stops after it */
        return;
    case ST_PENDING:
        if (s->timeout) {
            loop_timer_stop(c->e->l, s->timeout);
            s->timeout = NULL;
        }
        if (s->cur->app->cancel)
            s->cur->app->cancel(s, s->cur);
        s->pending = NULL;
        eng_trace_app(s, s->cur, "end", "cancelled", NULL, false);
        break;
    case ST_READY:
        eng_trace_app(s, s->cur, "end", "cancelled", NULL, false);
        break;
    default:
        break;
    }
    while (s->depth > 0)
        frame_pop(s, "cancelled");
    eng_strand_release(s);
}

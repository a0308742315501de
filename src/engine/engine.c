/* engine.c — the engine: the telephony handler (new calls, leg events), the
 * run queue that resumes strands from a zero-delay timer, the evaluation
 * environment, and the state kept across calls (agent idle times, group
 * cursors). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine_int.h"
#include "media/tts_cache.h"
#include "util/path.h"
#include "util/alloc.h"

void eng_strand_free_zombie(eng_strand *s);

/* ---- run queue ---- */

static void drain(eng_engine *e)
{
    e->draining = true;
    for (;;) {
        eng_strand *s = e->rq_head;
        if (s) {
            e->rq_head = s->qnext;
            if (!e->rq_head)
                e->rq_tail = NULL;
            s->qnext = NULL;
            s->queued = false;
            if (s->zombie)
                eng_strand_free_zombie(s);
            else
                eng_strand_continue(s);
            continue;
        }
        eng_call *c = e->check_head;
        if (!c)
            break;
        e->check_head = c->check_next;
        c->check_queued = false;
        c->check_next = NULL;
        if (c->ending && c->strand_count == 0 && !c->finished)
            eng_call_finish(c);
    }
    e->draining = false;
}

static void kick_cb(loop *l, void *arg)
{
    (void)l;
    eng_engine *e = arg;
    e->kick = NULL;
    drain(e);
}

void eng_kick(eng_engine *e)
{
    if (!e->kick && !e->draining)
        e->kick = loop_timer_start(e->l, 0, kick_cb, e);
}

void eng_enqueue(eng_strand *s)
{
    eng_engine *e = s->call->e;
    if (s->queued)
        return;
    s->queued = true;
    s->qnext = NULL;
    if (e->rq_tail)
        e->rq_tail->qnext = s;
    else
        e->rq_head = s;
    e->rq_tail = s;
    eng_kick(e);
}

void eng_check_call(eng_call *c)
{
    if (c->check_queued || c->finished)
        return;
    c->check_queued = true;
    c->check_next = c->e->check_head;
    c->e->check_head = c;
    eng_kick(c->e);
}

/* ---- environment ---- */

static bool env_lookup(void *ctx, const char *name, size_t len, cr_value *out)
{
    eng_engine *e = ctx;
    if (!e->env_call)
        return false;
    /* A handler's own: two handlers of different events may run at once. */
    if (e->env_strand && e->env_strand->event && len == 10 && memcmp(name, "event_name", 10) == 0) {
        *out = cr_val_cstr(e->env_strand->event);
        return true;
    }
    eng_var *v = eng_var_find(e->env_call, name, len);
    if (!v)
        return false;
    *out = eng_var_value(v);
    return true;
}

static void env_undefined(void *ctx, const char *name, size_t len)
{
    eng_engine *e = ctx;
    if (!e->env_call)
        return;
    char msg[200];
    snprintf(msg, sizeof msg, "undefined variable '%.*s' rendered empty", (int)(len > 120 ? 120 : len),
             name);
    eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "debug", .message = msg};
    eng_emit(e->env_call, e->env_strand, &r);
}

void eng_scratch_reset(eng_engine *e)
{
    if (e->scratch.used_total > 0) {
        cr_arena_free(&e->scratch);
        cr_arena_init(&e->scratch, 4096);
    }
}

const scn_env *eng_env_for(eng_engine *e, eng_call *c, eng_strand *s)
{
    e->env_call = c;
    e->env_strand = s;
    e->env.lookup = env_lookup;
    e->env.undefined = env_undefined;
    e->env.ctx = e;
    e->env.now = loop_now(e->l);
    e->env.utc_offset = e->opt.utc_offset;
    e->env.scratch = &e->scratch;
    return &e->env;
}

const scn_env *eng_strand_env(eng_strand *s) { return eng_env_for(s->call->e, s->call, s); }

const char *eng_render(eng_strand *s, const scn_template *t, scn_escape esc)
{
    if (!t)
        return "";
    return scn_template_render_cstr(t, eng_strand_env(s), esc);
}

const char *eng_render_keep(eng_strand *s, const scn_template *t, scn_escape esc)
{
    return cr_arena_strdup(&s->call->arena, eng_render(s, t, esc));
}

const char *eng_file_resolve(eng_strand *s, eng_dir dir, const char *what, const char *name,
                             const char **why)
{
    const scn_settings *set = &s->call->prog->settings;
    const char *setting = dir == ENG_DIR_SOUNDS ? "sounds" : "recordings";
    const char *base = dir == ENG_DIR_SOUNDS ? set->sounds : set->recordings;
    if (!base || !*base)
        base = ".";
    cr_arena *a = &s->call->e->scratch;
    char out[PATH_MAX];
    cr_path_status st = cr_path_confine(base, name ? name : "", out, sizeof out);
    if (st == CR_PATH_OK)
        return cr_arena_strdup(a, out);
    if (st == CR_PATH_EMPTY)
        *why = cr_arena_printf(a, "%s file name is empty", what);
    else if (st == CR_PATH_OUTSIDE)
        *why = cr_arena_printf(a, "%s '%s' is outside settings.media.%s (%s)", what, name, setting, base);
    else
        *why = cr_arena_printf(a, "%s '%s' is refused (settings.media.%s: %s): %s", what, name, setting, base,
                               cr_path_status_text(st));
    return NULL;
}

const char *eng_file_path(eng_strand *s, eng_dir dir, const char *what, const scn_template *t,
                          const char **why)
{
    const char *name = eng_render(s, t, SCN_ESC_PATH);
    /* Absolute only when the template's own text says so: "{lang}/x.wav"
     * with an empty lang is x.wav below the directory, not /x.wav. */
    if (name[0] == '/' && scn_template_source(t)[0] != '/')
        name = cr_arena_printf(&s->call->e->scratch, ".%s", name);
    return eng_file_resolve(s, dir, what, name, why);
}

/* ---- settings with defaults ---- */

double eng_settings_steps(const scn_program *p)
{
    return p->settings.steps_per_second > 0 ? p->settings.steps_per_second : 10000;
}

int eng_settings_streams(const scn_program *p)
{
    return p->settings.max_streams > 0 ? p->settings.max_streams : 16;
}

double eng_settings_grace(const scn_program *p)
{
    return p->settings.hangup_grace > 0 ? p->settings.hangup_grace : 30;
}

/* ---- state across calls ---- */

static eng_kv *kv_get(eng_kv **list, const char *key, bool create)
{
    for (eng_kv *k = *list; k; k = k->next)
        if (strcmp(k->key, key) == 0)
            return k;
    if (!create)
        return NULL;
    eng_kv *k = cr_xcalloc(1, sizeof *k);
    k->key = cr_xstrdup(key);
    k->next = *list;
    *list = k;
    return k;
}

double eng_agent_idle_since(eng_engine *e, const char *number)
{
    eng_kv *k = kv_get(&e->agents, number, false);
    return k ? k->num : 0;
}

void eng_agent_touch(eng_engine *e, const char *number)
{
    kv_get(&e->agents, number, true)->num = loop_now(e->l);
}

void eng_agent_answered(eng_engine *e, const char *number)
{
    kv_get(&e->agents, number, true)->answered++;
}

unsigned long eng_agent_calls(eng_engine *e, const char *number)
{
    eng_kv *k = kv_get(&e->agents, number, false);
    return k ? k->answered : 0;
}

void eng_user_busy(eng_engine *e, const char *number, int delta)
{
    eng_kv *k = kv_get(&e->agents, number, true);
    if (delta > 0) {
        k->busy += (unsigned)delta;
    } else if (k->busy > 0) {
        k->busy--;
        if (k->busy == 0 && e->queues)
            eng_queue_kick(e);   /* an agent became free */
    }
}

unsigned eng_user_busy_count(eng_engine *e, const char *number)
{
    eng_kv *k = kv_get(&e->agents, number, false);
    return k ? k->busy : 0;
}

void eng_users_busy_each(eng_engine *e, void (*fn)(void *arg, const char *number), void *arg)
{
    for (eng_kv *k = e->agents; k; k = k->next)
        if (k->busy > 0)
            fn(arg, k->key);
}

void eng_users_busy_elsewhere(eng_engine *e, const char *const *numbers, size_t n)
{
    bool freed = false;
    for (eng_kv *k = e->agents; k; k = k->next) {
        freed |= k->busy_elsewhere;
        k->busy_elsewhere = false;
    }
    for (size_t i = 0; i < n; i++) {
        eng_kv *k = kv_get(&e->agents, numbers[i], true);
        if (k->busy_elsewhere)
            continue;   /* named twice */
        k->busy_elsewhere = true;
    }
    /* Someone busy elsewhere before may be free now: queues look again
     * (a dispatch that finds nothing new costs little). */
    if (freed && e->queues)
        eng_queue_kick(e);
}

bool eng_user_busy_elsewhere(eng_engine *e, const char *number)
{
    eng_kv *k = kv_get(&e->agents, number, false);
    return k && k->busy_elsewhere;
}

unsigned eng_group_next(eng_engine *e, const char *group)
{
    return kv_get(&e->groups, group, true)->cursor++;
}

unsigned eng_random(eng_engine *e)
{
    /* xorshift32: deterministic for a given seed (simulate, tests). */
    unsigned x = e->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    e->rng = x;
    return x;
}

static void kv_free(eng_kv *k)
{
    while (k) {
        eng_kv *next = k->next;
        free(k->key);
        free(k);
        k = next;
    }
}

/* ---- the driver's side ---- */

static bool incoming_cb(void *eng, tel_leg *leg, const tel_call_info *info, int *reject_code)
{
    eng_engine *e = eng;
    eng_call *c = eng_call_new(e, leg, info);
    if (!c) {
        *reject_code = 503;   /* no program loaded */
        return false;
    }
    if (c->ending) {   /* no route: the call record is written from the queue */
        *reject_code = 404;
        return false;
    }
    return true;
}

static bool message_cb(void *eng, const tel_call_info *info, const char *content_type, const char *text,
                       size_t len, int *reject_code)
{
    eng_engine *e = eng;
    eng_call *c = eng_call_new_message(e, info, content_type, text, len);
    if (!c) {
        *reject_code = 503;
        return false;
    }
    if (c->ending && !c->route) {
        *reject_code = 404;
        return false;
    }
    return true;
}

/* The headers the driver need not encode for a new call: the ones
 * eng_var_headers would drop (the program in force makes the call). */
static bool header_wanted_cb(void *eng, const char *name)
{
    eng_engine *e = eng;
    return eng_header_kept(e, e->prog, name);
}

eng_strand eng_sys_strand = {.id = ENG_SYS_STRAND_ID};

static void event_cb(void *eng, tel_leg *leg, void *leg_user, const tel_event *ev)
{
    eng_engine *e = eng;
    (void)leg;
    if (!leg_user)
        return;
    eng_strand *was = e->running;
    e->running = &eng_sys_strand;
    uint8_t tag = *(const uint8_t *)leg_user;
    if (tag == ENG_TAG_CALL)
        eng_call_caller_event(leg_user, ev);
    else if (tag == ENG_TAG_LEG)
        eng_dial_leg_event(leg_user, ev);
    e->running = was;
}

void eng_observe(eng_options *eo, const eng_observer *o)
{
    if (eo->observer_count == ENG_MAX_OBSERVERS) {
        fputs("callroute: more than ENG_MAX_OBSERVERS engine observers\n", stderr);
        abort();
    }
    eo->observers[eo->observer_count++] = *o;
}

eng_engine *eng_engine_new(loop *l, tel_driver *tel, struct svc_ctx *svc, scn_program *prog,
                           const eng_options *opt)
{
    eng_engine *e = cr_xcalloc(1, sizeof *e);
    e->l = l;
    e->tel = tel;
    e->svc = svc;
    e->prog = prog ? scn_program_ref(prog) : NULL;
    if (opt)
        e->opt = *opt;
    e->tracing = e->opt.trace != NULL;
    for (size_t i = 0; i < e->opt.observer_count; i++)
        e->tracing |= e->opt.observers[i].trace != NULL;
    e->rng = e->opt.random_seed ? e->opt.random_seed : (unsigned)time(NULL) | 1u;
    cr_arena_init(&e->scratch, 4096);
    if (tel) {
        tel_handler h = {.incoming = incoming_cb, .event = event_cb, .message = message_cb,
                         .mailbox = eng_mailbox_counts_cb, .header_wanted = header_wanted_cb, .eng = e};
        tel->ops->set_handler(tel, &h);
    }
    return e;
}

void eng_engine_set_program(eng_engine *e, scn_program *prog)
{
    scn_program *old = e->prog;
    double limit = eng_max_duration(e);
    e->prog = prog ? scn_program_ref(prog) : NULL;
    if (old)
        scn_program_unref(old);
    if (eng_max_duration(e) != limit)
        eng_max_time_arm(e);
}

void eng_engine_free(eng_engine *e)
{
    if (!e)
        return;
    eng_call_free_all(e);
    eng_queues_free(e);
    eng_mailstore_free(e);
    if (e->kick)
        loop_timer_stop(e->l, e->kick);
    if (e->max_timer)
        loop_timer_stop(e->l, e->max_timer);
    if (e->prog)
        scn_program_unref(e->prog);
    cr_arena_free(&e->scratch);
    media_tts_cache_free(e->tts);
    kv_free(e->agents);
    kv_free(e->groups);
    free(e);
}

struct svc_ctx *eng_engine_services(eng_engine *e) { return e->svc; }
scn_program *eng_engine_program(eng_engine *e) { return e->prog; }
loop *eng_engine_loop(eng_engine *e) { return e->l; }
tel_driver *eng_engine_driver(eng_engine *e) { return e->tel; }
tel_driver *eng_strand_driver(eng_strand *s) { return eng_strand_engine(s)->tel; }
size_t eng_engine_call_count(const eng_engine *e) { return e->call_count; }
unsigned long long eng_engine_actions(const eng_engine *e) { return e->actions; }

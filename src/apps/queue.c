/* queue.c — the Contact-centre family, queues: `queue` puts the caller in a
 * queue of `queues:` and waits there with it (music, position
 * announcements, max_wait, the exit digit) until an agent answers and the
 * conversation ends, or the caller leaves; `queue_agent` logs an agent in
 * or out, or pauses it. Who is offered the call, and when, is the
 * engine's (engine/queue.c): it tells this side through hooks. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

/* ---- queue ---- */

typedef struct queue_params {
    const char *name;
    long priority;
    scn_cases on;
} queue_params;

static const char *const outcomes[] = {"answer", "timeout", "no_agents", "exit", "full", NULL};

static const scn_param queue_spec[] = {
    {.name = "name", .type = P_STRING, .offset = F(queue_params, name), .flags = P_REQ,
     .doc = "a queue of `queues:`"},
    {.name = "priority", .type = P_INT, .offset = F(queue_params, priority), .def = "0", .min = 0, .max = 100,
     .doc = "higher waits less: ahead of every caller of a lower priority"},
    {.name = "on", .type = P_CASES, .offset = F(queue_params, on), .choices = outcomes,
     .doc = "outcome -> actions: `answer` runs in a new strand when an agent answers; `timeout` (max_wait), "
            "`no_agents` (none logged in, or all paused), `exit` (exit_digit) and `full` (max_waiting) run in "
            "place when the caller leaves the queue"},
    SCN_PARAM_END,
};

static bool queue_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const queue_params *p = params;
    if (!p->name || scn_program_queue(cx->prog, p->name))
        return true;
    const char **names = cr_arena_alloc(cx->arena, (cx->prog->queue_count + 1) * sizeof *names);
    for (size_t i = 0; i < cx->prog->queue_count; i++)
        names[i] = cx->prog->queues[i].name;
    const char *s = scn_suggest(p->name, names);
    if (s)
        scn_cx_error(cx, scn_map_get(action, "name"), "unknown queue '%s'; did you mean '%s'?", p->name, s);
    else
        scn_cx_error(cx, scn_map_get(action, "name"), "unknown queue '%s' (not in queues:)", p->name);
    return false;
}

typedef struct qop {
    eng_strand *s;
    const queue_params *p;
    const scn_queue *def;
    eng_qentry *w;
    tel_op *music;             /* music or ringback while waiting */
    const char *music_path;    /* resolved (call arena); NULL: the ringback tone */
    eng_speech *speech;        /* an announcement */
    loop_timer *max_timer, *ann_timer;
    bool answered;
} qop;

static loop *loop_of(qop *op) { return eng_strand_loop(op->s); }

static void music_start(qop *op);

static void music_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    qop *op = arg;
    op->music = NULL;
    if (status < 0 && op->music_path) {
        eng_trace_log(op->s, "warning", "queue %s: music failed (%s): ringback instead", op->def->name,
                      msg ? msg : "cannot play it");
        op->music_path = NULL;
        music_start(op);
    }
}

static void music_start(qop *op)
{
    eng_call *c = eng_strand_call(op->s);
    if (op->music || op->answered || !eng_call_leg(c) || eng_call_ended(c))
        return;
    tel_driver *d = eng_strand_driver(op->s);
    if (op->music_path && d->ops->music)
        op->music = d->ops->music(d, eng_call_leg(c), op->music_path, music_cb, op);
    else
        op->music = d->ops->tone(d, eng_call_leg(c), TEL_TONE_RINGBACK, 86400, music_cb, op);
}

static void music_stop(qop *op)
{
    if (op->music) {
        tel_driver *d = eng_strand_driver(op->s);
        d->ops->op_cancel(d, op->music);
        op->music = NULL;
    }
}

/* Everything the waiting caller hears or presses, stopped. */
static void waiting_stop(qop *op)
{
    music_stop(op);
    if (op->speech) {
        eng_speech_cancel(op->speech);
        op->speech = NULL;
    }
    if (op->max_timer) {
        loop_timer_stop(loop_of(op), op->max_timer);
        op->max_timer = NULL;
    }
    if (op->ann_timer) {
        loop_timer_stop(loop_of(op), op->ann_timer);
        op->ann_timer = NULL;
    }
    eng_dtmf_unwatch(op->s);
}

/* Variables after the queue (queue_position was set on entry). */
static void outcome_vars(eng_strand *s, const char *status, double waited, const char *number, const char *name)
{
    eng_strand_var_set(s, "queue_status", cr_val_cstr(status));
    eng_strand_var_set(s, "queue_wait", cr_val_num(floor(waited * 10 + 0.5) / 10));
    eng_strand_var_set(s, "agent_number", cr_val_cstr(number ? number : ""));
    eng_strand_var_set(s, "agent_name", cr_val_cstr(name ? name : ""));
}

/* The handler list of outcome NAME, or NULL. */
static const scn_actions *on_list(const queue_params *p, const char *name)
{
    for (size_t i = 0; i < p->on.count; i++)
        if (strcmp(p->on.keys[i], name) == 0)
            return &p->on.lists[i];
    return NULL;
}

/* The caller leaves the queue unanswered (WHY: timeout or exit): the
 * outcome's handlers run in place, then the script goes on. */
static void leave(qop *op, const char *why)
{
    waiting_stop(op);
    double waited = op->w ? eng_queue_waited(op->w) : 0;
    eng_queue_leave(op->w, why);
    op->w = NULL;
    outcome_vars(op->s, why, waited, NULL, NULL);
    const scn_actions *l = on_list(op->p, why);
    if (l)
        eng_strand_push(op->s, l, ENG_FRAME_NEST, NULL);
    eng_strand_resume(op->s, APP_DONE);
}

static void max_cb(loop *l, void *arg)
{
    (void)l;
    qop *op = arg;
    op->max_timer = NULL;
    leave(op, "timeout");
}

static void exit_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    qop *op = arg;
    if (op->def->exit_digit && digit == op->def->exit_digit)
        leave(op, "exit");
}

/* ---- position announcements ---- */

typedef struct ann_env {
    scn_env env;
    const scn_env *base;
    int position;
    long minutes;
} ann_env;

static bool ann_lookup(void *ctx, const char *name, size_t len, cr_value *out)
{
    ann_env *a = ctx;
    if (len == 8 && memcmp(name, "position", 8) == 0) {
        *out = cr_val_num(a->position);
        return true;
    }
    if (len == 12 && memcmp(name, "wait_minutes", 12) == 0) {
        *out = cr_val_num((double)a->minutes);
        return true;
    }
    return a->base->lookup(a->base->ctx, name, len, out);
}

/* The announcement for POSITION and an estimate of MINUTES (0: none). */
static const char *announcement(qop *op, int position, long minutes)
{
    if (op->def->announce_text) {
        ann_env a = {.base = eng_strand_env(op->s), .position = position, .minutes = minutes};
        a.env = *a.base;
        a.env.lookup = ann_lookup;
        a.env.ctx = &a;
        return scn_template_render_cstr(op->def->announce_text, &a.env, SCN_ESC_NONE);
    }
    static char text[200];
    int n = position == 1 ? snprintf(text, sizeof text, "You are the next caller.")
                          : snprintf(text, sizeof text, "You are caller number %d.", position);
    if (minutes > 0)
        snprintf(text + n, sizeof text - (size_t)n, " Your estimated wait is about %ld minute%s.", minutes,
                 minutes == 1 ? "" : "s");
    return text;
}

static void ann_arm(qop *op);

static void spoken_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    qop *op = arg;
    op->speech = NULL;
    if (status < 0)
        eng_trace_log(op->s, "warning", "queue %s: announcement failed: %s", op->def->name, msg ? msg : "");
    if (op->answered || !op->w)
        return;
    music_start(op);
    ann_arm(op);
}

static void ann_cb(loop *l, void *arg)
{
    (void)l;
    qop *op = arg;
    op->ann_timer = NULL;
    if (op->answered || !op->w)
        return;
    double est;
    int pos = eng_queue_position(op->w, &est);
    long minutes = est > 0 ? (long)ceil(est / 60) : 0;
    char wait[64] = "not known yet";
    if (minutes)
        snprintf(wait, sizeof wait, "about %ld min", minutes);
    eng_trace_log(op->s, "info", "queue %s: announcing position %d, estimated wait %s", op->def->name, pos, wait);
    music_stop(op);
    op->speech = eng_speak(op->s, announcement(op, pos, minutes), NULL, NULL, spoken_cb, op);
}

static void ann_arm(qop *op)
{
    if (op->def->announce_position > 0 && !op->ann_timer)
        op->ann_timer = loop_timer_start(loop_of(op), op->def->announce_position, ann_cb, op);
}

/* ---- the engine's hooks ---- */

static void answered_cb(void *arg, const char *number, const char *name)
{
    qop *op = arg;
    op->answered = true;
    waiting_stop(op);
    outcome_vars(op->s, "answered", eng_queue_waited(op->w), number, name);
    const scn_actions *l = on_list(op->p, "answer");
    if (l)
        eng_call_spawn(eng_strand_call(op->s), l, "queue:answer");
}

static void ended_cb(void *arg)
{
    qop *op = arg;
    eng_queue_leave(op->w, "answered");
    op->w = NULL;
    eng_strand_resume(op->s, APP_DONE);
}

static const eng_queue_hooks hooks = {answered_cb, ended_cb};

static app_status queue_run(eng_strand *s, const scn_action *a)
{
    const queue_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const scn_queue *def = scn_program_queue(eng_call_program(c), p->name);
    if (!def)
        return eng_fail(s, "unknown queue '%s'", p->name);
    if (eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    qop *op = cr_arena_alloc(eng_call_arena(c), sizeof *op);
    op->s = s;
    op->p = p;
    op->def = def;
    /* Its music: the queue's, else the call's hold music, else ringback. */
    const char *why = NULL;
    char buf[4096];
    if (def->music)
        op->music_path = eng_file_resolve(s, ENG_DIR_SOUNDS, "queue music", def->music, &why);
    else
        op->music_path = eng_hold_music(c, buf, sizeof buf, &why);
    if (why)
        eng_trace_log(s, "warning", "queue %s: music refused (%s): ringback instead", def->name, why);
    if (op->music_path)
        op->music_path = cr_arena_strdup(eng_call_arena(c), op->music_path);
    int position = 0;
    const char *refused = NULL;
    op->w = eng_queue_enter(s, def, (int)p->priority, &hooks, op, &position, &refused);
    eng_strand_var_set(s, "queue_position", cr_val_num(position));
    if (!op->w) {
        eng_trace_log(s, "info", "queue %s: the caller is turned away (%s)", def->name, refused);
        outcome_vars(s, refused, 0, NULL, NULL);
        const scn_actions *l = on_list(p, refused);
        if (l)
            eng_strand_push(s, l, ENG_FRAME_NEST, NULL);
        return APP_DONE;
    }
    eng_trace_log(s, "info", "queue %s: the caller waits at position %d (priority %ld)", def->name, position,
                  p->priority);
    eng_strand_set_pending(s, op);
    music_start(op);
    if (def->max_wait > 0)
        op->max_timer = loop_timer_start(loop_of(op), def->max_wait, max_cb, op);
    ann_arm(op);
    if (def->exit_digit)
        eng_dtmf_watch(s, exit_cb, op);
    return APP_PENDING;
}

static void queue_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    qop *op = eng_strand_pending(s);
    if (!op)
        return;
    waiting_stop(op);
    if (!op->w)
        return;
    if (!op->answered)
        outcome_vars(s, "abandoned", eng_queue_waited(op->w), NULL, NULL);
    eng_queue_leave(op->w, op->answered ? "answered" : "abandoned");
    op->w = NULL;
}

/* ---- queue_agent ---- */

typedef struct queue_agent_params {
    int action;
    const char *queue;
    const scn_template *agent;
    const scn_template *reason;
} queue_agent_params;

static const char *const agent_actions[] = {"login", "logout", "pause", "unpause", NULL};

static const scn_param queue_agent_spec[] = {
    {.name = "action", .type = P_ENUM, .offset = F(queue_agent_params, action), .choices = agent_actions,
     .flags = P_REQ, .doc = "login, logout, pause or unpause"},
    {.name = "queue", .type = P_STRING, .offset = F(queue_agent_params, queue),
     .doc = "a queue of `queues:` (absent: every queue that has the agent)"},
    {.name = "agent", .type = P_TEMPLATE, .offset = F(queue_agent_params, agent),
     .doc = "the agent's user number (absent: the calling user, as with a feature code like *45)"},
    {.name = "reason", .type = P_TEMPLATE, .offset = F(queue_agent_params, reason),
     .doc = "why it pauses (GET /queues shows it)"},
    SCN_PARAM_END,
};

static bool queue_agent_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const queue_agent_params *p = params;
    if (p->queue && !scn_program_queue(cx->prog, p->queue)) {
        scn_cx_error(cx, scn_map_get(action, "queue"), "unknown queue '%s' (not in queues:)", p->queue);
        return false;
    }
    return true;
}

static app_status queue_agent_run(eng_strand *s, const scn_action *a)
{
    const queue_agent_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const char *agent = NULL;
    cr_value v;
    if (p->agent)
        agent = eng_render(s, p->agent, SCN_ESC_NONE);
    else if (eng_var_get(c, "source", &v) && v.kind == CR_VAL_STR && strncmp(v.str, "user:", 5) == 0)
        agent = v.str + 5;
    if (!agent || !*agent)
        return eng_fail(s, "queue_agent: no agent (not called from a user: give `agent:`)");
    static const eng_agent_mode modes[] = {ENG_AGENT_AVAILABLE, ENG_AGENT_LOGGED_OUT, ENG_AGENT_PAUSED,
                                           ENG_AGENT_AVAILABLE};
    const char *reason = p->reason && p->action == 2 ? eng_render(s, p->reason, SCN_ESC_NONE) : NULL;
    char err[200];
    int n = eng_queue_agent_set(eng_strand_engine(s), eng_call_program(c), p->queue, agent, modes[p->action],
                                reason, err, sizeof err);
    if (n < 0)
        return eng_fail(s, "queue_agent: %s", err);
    eng_trace_log(s, "info", "queue_agent: %s %s in %s%s%s", agent, agent_actions[p->action],
                  p->queue ? p->queue : "every queue it is in", reason && *reason ? ": " : "", reason ? reason : "");
    eng_strand_var_set(s, "queue_agent_queues", cr_val_num(n));
    return APP_DONE;
}

const app_def app_queue_table[] = {
    {.name = "queue", .family = "contact",
     .summary = "Put the caller in a queue of `queues:` until an agent answers (music, announcements, limits).",
     .params = queue_spec, .params_size = sizeof(queue_params), .flags = APP_CALL_CONTROL | APP_MEDIA | APP_NESTS,
     .check = queue_check, .run = queue_run, .cancel = queue_cancel},
    {.name = "queue_agent", .family = "contact",
     .summary = "Log a queue agent in or out, or pause it (with a reason) or let it take calls again.",
     .params = queue_agent_spec, .params_size = sizeof(queue_agent_params), .check = queue_agent_check,
     .run = queue_agent_run},
    APP_END,
};

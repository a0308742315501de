/* calls.c — a call's life: variables from the driver, the route choice,
 * the main strand (call events and their handler strands are
 * call_events.c), the end of the call (cancel every strand at its wait, run the
 * hangup handlers within hangup_grace, write the call record, free the
 * arena). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "route/route.h"
#include "scenario/events.h"

static void max_time_cb(loop *l, void *arg);

/* ---- new call ---- */

const eng_call_rare eng_no_rare;

eng_call_rare *eng_rare_mut(eng_call *c)
{
    if (!c->rare)
        c->rare = cr_arena_alloc(&c->arena, sizeof *c->rare);
    return c->rare;
}

/* How C ended (eng_call_hangup_by, _cause, _code), in its side block. */
static void set_ended(eng_call *c, const char *by, const char *cause, int code)
{
    eng_call_rare *r = eng_rare_mut(c);
    r->hangup_by = by;
    r->hangup_cause = cause;
    r->hangup_code = code;
}

/* No route took C (a call or a message): it ends 404 before any strand ran. */
static void end_no_route(eng_call *c)
{
    c->ending = true;
    set_ended(c, "system", "no_route", 404);
    eng_var_set_str(c, "hangup_by", "system");
    eng_var_set_str(c, "hangup_cause", "no_route");
    eng_trace_rec h = {.kind = ENG_TR_HANGUP, .by = "system", .cause = "no_route", .sip_code = 404};
    eng_emit(c, NULL, &h);
    eng_check_call(c);
}

/* The first chunk of a call's arena, sized for what a held call keeps
 * (docs/decisions/sip-core.md "Held-call memory (nta)" and "The engine's
 * arena, to 1,280 B"): the call and its call id, its standard variables
 * (each one arena block: the struct, its name and its value) and the INVITE
 * headers its program can read (eng_var_headers), counted from INFO; what
 * the call_start hooks add (eng_options.call_start_arena: the records'
 * cdr_id); then HELD_REST: what a call through a gateway adds until it is
 * answered and bridged (the route variable, pointing at the program's
 * name: 48; the main strand 120 and its frame 48; the dial 112, its target
 * 40 and number 8 (its gateway list is the program's), its leg 80 and
 * label 16; agent_number 56, agent_name 56, dial_sip_code 56): 640 B for
 * the bench's call (bench/sip/b2bua.yaml), measured with a probe (1,248 B
 * used in all while held, of a 1,256 B chunk: a 1,280 B block).
 * The allocation (the chunk's header counted in) is rounded up to the
 * allocator's size class, which is what the call takes anyway. A call that
 * keeps more goes on in a small second chunk (eng_call_alloc). */
#define HELD_REST 640
#define ARENA_ROUND(n) (((n) + CR_ARENA_ALIGN - 1) & ~(size_t)(CR_ARENA_ALIGN - 1))

size_t eng_var_bytes(const char *name, size_t value_len)
{
    return ARENA_ROUND(eng_var_size(strlen(name), value_len + 1));
}

static size_t var_block(const char *name, const char *value)
{
    return eng_var_bytes(name, strlen(value ? value : ""));
}

/* mimalloc's size classes from 1 KB: four a power of two (1,024, 1,280,
 * 1,536, 1,792, 2,048, 2,560, ...); glibc takes what is asked. */
static size_t size_class(size_t n)
{
    size_t step = 256;
    for (size_t top = 2048; n > top; top *= 2)
        step *= 2;
    return (n + step - 1) & ~(step - 1);
}

static size_t first_chunk(const eng_engine *e, const scn_program *prog, const tel_call_info *info,
                          size_t id_len)
{
    size_t n = ARENA_ROUND(sizeof(eng_call) + id_len + 1) + ARENA_ROUND(eng_var_size(sizeof "call_id" - 1, 0)) +
               var_block("caller_number", info->caller_number) + var_block("caller_name", info->caller_name) +
               var_block("called_number", info->called_number) + var_block("source", info->source);
    size_t h = 0;
    for (size_t i = 0; i < info->header_count; i++)
        if (eng_header_kept(e, prog, info->header_names[i]))
            h += strlen(info->header_names[i]) + 1 + strlen(info->header_values[i]) + 1;
    n += ARENA_ROUND(h) + e->opt.call_start_arena + HELD_REST;
    return size_class(n + CR_ARENA_CHUNK_OVERHEAD) - CR_ARENA_CHUNK_OVERHEAD;
}

/* The chunks of a call's arena after the first: 128 B, then doubling
 * (256, 512, 1 KB, ...). A call that keeps a little more than its first
 * chunk (HELD_REST is one scenario's figure) takes 128 B more, not 1 KB:
 * engine_bench's waiting call (a stream, two handlers: 1,344 B, 96 B past
 * its 1,256 B chunk). A hang-up's variables and leg log (~600 B) take
 * three small chunks. Twice the first, as the arena would take, made such
 * a call take 4 KB. */
#define LATER_CHUNK (128 - CR_ARENA_CHUNK_OVERHEAD)

eng_call *eng_call_alloc(eng_engine *e, scn_program *prog, tel_leg *leg, const tel_call_info *info)
{
    /* The call id in the call's own block: one allocation's rounding, not two. */
    char id[32];
    const char *call_id = info->call_id;
    if (!call_id || !call_id[0]) {
        snprintf(id, sizeof id, "call-%lu", e->next_call_seq + 1);
        call_id = id;
    }
    size_t id_len = strlen(call_id);
    cr_arena a;
    cr_arena_init(&a, first_chunk(e, prog, info, id_len));
    eng_call *c = cr_arena_alloc(&a, sizeof *c + id_len + 1);
    a.chunk_size = LATER_CHUNK;
    memcpy((char *)(c + 1), call_id, id_len + 1);
    c->arena = a;
    c->tag = ENG_TAG_CALL;
    c->e = e;
    c->prog = scn_program_ref(prog);
    c->leg = leg;
    c->start = loop_now(e->l);
    c->step_window = c->start;
    /* Appended: the list stays in start order (max_duration sweeps it). */
    c->prev = e->calls_tail;
    if (e->calls_tail)
        e->calls_tail->next = c;
    else
        e->calls = c;
    e->calls_tail = c;
    e->call_count++;
    e->next_call_seq++;
    eng_var_set_kept(c, "call_id", eng_call_idp(c));
    eng_var_set_str(c, "caller_number", info->caller_number);
    eng_var_set_str(c, "caller_name", info->caller_name);
    eng_var_set_str(c, "called_number", info->called_number);
    eng_var_set_str(c, "source", info->source);
    eng_var_headers(c, info->header_names, info->header_values, info->header_count);
    if (leg && e->tel)
        e->tel->ops->leg_set_user(e->tel, leg, c);
    return c;
}

void eng_call_announce(eng_call *c)
{
    eng_engine *e = c->e;
    if (e->opt.call_start)
        e->opt.call_start(e->opt.call_start_arg, c);
    for (size_t i = 0; i < e->opt.observer_count; i++)
        if (e->opt.observers[i].call_start)
            e->opt.observers[i].call_start(e->opt.observers[i].arg, c);
}

eng_call *eng_call_new(eng_engine *e, tel_leg *leg, const tel_call_info *info)
{
    if (!e->prog)
        return NULL;
    eng_call *c = eng_call_alloc(e, e->prog, leg, info);
    eng_call_announce(c);

    scn_route_type type = info->source && strncmp(info->source, "user:", 5) == 0
                              ? SCN_ROUTE_FROM_USER
                              : SCN_ROUTE_FROM_GATEWAY;
    cr_strbuf explain = CR_STRBUF_INIT;
    bool explain_it = e->tracing && !e->opt.no_route_explain;
    const scn_route *r = route_select(c->prog, type, eng_env_for(e, c, NULL), explain_it ? &explain : NULL);
    eng_scratch_reset(e);
    eng_trace_rec rec = {.kind = ENG_TR_ROUTE,
                         .route = r ? r->name : NULL,
                         .explain = explain.len ? cr_strbuf_cstr(&explain) : NULL};
    eng_emit(c, NULL, &rec);
    cr_strbuf_free(&explain);
    if (!r) {
        /* Rejected (404) by the driver, which keeps the leg. */
        c->leg = NULL;
        end_no_route(c);
        return c;
    }
    c->route = r;
    eng_var_set_kept(c, "route", r->name);   /* the program outlives the call's arena */
    /* Before the script runs: the driver drops the media it set up for the
     * INVITE and passes the SDP on to whatever the call dials. */
    if (r->media_bypass && e->tel->ops->media_bypass)
        e->tel->ops->media_bypass(e->tel, leg);
    if (type == SCN_ROUTE_FROM_USER && scn_program_user(c->prog, info->source + 5)) {
        /* A user on a call of its own is not offered queue calls. */
        eng_rare_mut(c)->busy_user = cr_arena_strdup(&c->arena, info->source + 5);
        eng_user_busy(e, eng_rare(c)->busy_user, 1);
    }
    if (eng_max_duration(e) > 0 && !e->max_timer)
        eng_max_time_arm(e);
    eng_strand_new(c, SK_MAIN, r->scenario ? &r->scenario->script : &r->script, "main");
    return c;
}

/* An instant message (SIP MESSAGE): a call with no leg whose `message`
 * route runs without media; it ends when its script does. */
eng_call *eng_call_new_message(eng_engine *e, const tel_call_info *info, const char *content_type,
                               const char *text, size_t len)
{
    if (!e->prog)
        return NULL;
    eng_call *c = eng_call_alloc(e, e->prog, NULL, info);
    c->is_message = true;
    eng_var_set(c, "message_text", cr_val_str(text, len));
    eng_var_set_str(c, "message_type", content_type ? content_type : "");
    eng_call_announce(c);
    cr_strbuf explain = CR_STRBUF_INIT;
    bool explain_it = e->tracing && !e->opt.no_route_explain;
    const scn_route *r = route_select(c->prog, SCN_ROUTE_MESSAGE, eng_env_for(e, c, NULL), explain_it ? &explain : NULL);
    eng_scratch_reset(e);
    eng_trace_rec rec = {.kind = ENG_TR_ROUTE, .route = r ? r->name : NULL,
                         .explain = explain.len ? cr_strbuf_cstr(&explain) : NULL};
    eng_emit(c, NULL, &rec);
    cr_strbuf_free(&explain);
    if (!r) {
        end_no_route(c);
        return c;
    }
    c->route = r;
    eng_var_set_kept(c, "route", r->name);   /* the program outlives the call's arena */
    if (eng_max_duration(e) > 0 && !e->max_timer)
        eng_max_time_arm(e);
    eng_strand_new(c, SK_MAIN, r->scenario ? &r->scenario->script : &r->script, "main");
    return c;
}

/* ---- finding calls (join, pickup) ---- */

eng_call *eng_call_find(eng_engine *e, const char *id)
{
    eng_call *found = NULL;
    for (eng_call *c = e->calls; c && id; c = c->next)
        if (!c->ending && c->leg && strcmp(eng_call_idp(c), id) == 0)
            found = c;   /* the newest: calls are in start order */
    return found;
}

eng_call *eng_call_of_user(eng_engine *e, const char *number, tel_leg **leg)
{
    eng_call *c = eng_dial_agent_call(e, number, leg);
    if (c)
        return c;
    char src[128];
    snprintf(src, sizeof src, "user:%s", number);
    eng_call *found = NULL;
    for (c = e->calls; c; c = c->next) {
        cr_value v;
        if (c->ending || !c->leg || c->is_message || !eng_var_get(c, "source", &v) || v.kind != CR_VAL_STR ||
            strcmp(v.str, src) != 0)
            continue;
        /* a call the user is talking in wins over one still in an IVR */
        if (!found || (c->bridged && !found->bridged))
            found = c;
    }
    if (found)
        *leg = found->leg;
    return found;
}

bool eng_call_user_in_group(eng_call *c, const char *group)
{
    cr_value v;
    const scn_group *g = group ? scn_program_group(c->prog, group) : NULL;
    if (!g || !eng_var_get(c, "source", &v) || v.kind != CR_VAL_STR || strncmp(v.str, "user:", 5) != 0)
        return false;
    for (size_t i = 0; i < g->member_count; i++)
        if (strcmp(g->members[i], v.str + 5) == 0)
            return true;
    return false;
}

tel_leg *eng_call_give_leg(eng_call *c)
{
    tel_leg *leg = c->leg;
    if (c->bridged)
        eng_dial_unbridge(c);
    c->leg = NULL;
    c->leg_given = true;
    return leg;
}

void eng_call_end_given(eng_call *c, const char *cause)
{
    eng_var_set_str(c, "transfer_by", "scenario");
    eng_call_hangup(c, "transfer", cause, 0);
}

/* ---- accessors ---- */

eng_engine *eng_call_engine(eng_call *c) { return c->e; }
double eng_call_answer_time(const eng_call *c) { return c->answer_time; }
const char *eng_call_hangup_by(const eng_call *c) { return eng_rare(c)->hangup_by; }
const char *eng_call_hangup_cause(const eng_call *c) { return eng_rare(c)->hangup_cause; }
int eng_call_hangup_code(const eng_call *c) { return eng_rare(c)->hangup_code; }

const eng_leg_log *eng_call_legs(const eng_call *c, size_t *count)
{
    *count = eng_rare(c)->leg_log_count;
    return eng_rare(c)->leg_log;
}

void eng_call_log_leg(eng_call *c, const eng_leg_log *rec)
{
    eng_call_rare *r = eng_rare_mut(c);
    if (r->leg_log_count == r->leg_log_cap) {
        size_t cap = r->leg_log_cap ? r->leg_log_cap * 2 : 4;
        eng_leg_log *n = cr_arena_alloc(&c->arena, cap * sizeof *n);
        if (r->leg_log_count)
            memcpy(n, r->leg_log, r->leg_log_count * sizeof *n);
        r->leg_log = n;
        r->leg_log_cap = (uint32_t)cap;
    }
    r->leg_log[r->leg_log_count++] = *rec;
}
const scn_program *eng_call_program(eng_call *c) { return c->prog; }
const char *eng_call_id(const eng_call *c) { return eng_call_idp(c); }
tel_leg *eng_call_leg(eng_call *c) { return c->leg; }
double eng_call_start(eng_call *c) { return c->start; }
bool eng_call_answered(eng_call *c) { return c->answered; }
bool eng_call_ended(eng_call *c) { return c->ending; }
bool eng_call_bridged(eng_call *c) { return c->bridged != NULL; }
cr_arena *eng_call_arena(eng_call *c) { return &c->arena; }
const char *eng_call_route(eng_call *c) { return c->route ? c->route->name : NULL; }

void *eng_call_slot(eng_call *c, const void *key)
{
    for (eng_slot *sl = eng_rare(c)->slots; sl; sl = sl->next)
        if (sl->key == key)
            return sl->value;
    return NULL;
}

void eng_call_set_slot(eng_call *c, const void *key, void *value, void (*finish)(void *value))
{
    for (eng_slot *sl = eng_rare(c)->slots; sl; sl = sl->next)
        if (sl->key == key) {
            sl->value = value;
            sl->finish = finish;
            return;
        }
    eng_slot *sl = cr_arena_alloc(&c->arena, sizeof *sl);
    sl->key = key;
    sl->value = value;
    sl->finish = finish;
    sl->next = eng_rare(c)->slots;
    eng_rare_mut(c)->slots = sl;
}

/* ---- call control on the caller's leg ---- */

int eng_call_answer(eng_call *c)
{
    if (c->ending || !c->leg)
        return -1;
    if (c->answered)
        return 0;
    int rc = c->e->tel->ops->answer(c->e->tel, c->leg);
    if (rc < 0)
        return rc;
    c->answered = true;
    c->answer_time = loop_now(c->e->l);
    eng_call_event(c, SCN_EV_ANSWER, NULL, NULL, NULL);
    return 0;
}

int eng_call_ringing(eng_call *c, bool early_media)
{
    if (c->ending || !c->leg)
        return -1;
    if (c->answered || (early_media ? c->early_sent : c->ringing_sent))
        return 0;
    int rc = c->e->tel->ops->ringing(c->e->tel, c->leg, early_media);
    if (rc < 0)
        return rc;
    if (early_media)
        c->early_sent = true;
    else
        c->ringing_sent = true;
    eng_call_event(c, early_media ? SCN_EV_EARLY_MEDIA : SCN_EV_RINGING, NULL, NULL, NULL);
    return 0;
}

int eng_call_transfer(eng_call *c, const char *to, const char *by)
{
    if (c->ending || !c->leg)
        return -1;
    int rc = c->e->tel->ops->transfer(c->e->tel, c->leg, to);
    if (rc < 0)
        return rc;
    eng_var_set_str(c, "transfer_to", to);
    eng_var_set_str(c, "transfer_by", by);
    /* Its handlers run with the hangup handlers: the caller has left. */
    eng_call_event(c, SCN_EV_TRANSFER, by, to, NULL);
    eng_call_hangup(c, "transfer", "transfer", 0);
    return 0;
}

/* ---- routes for dialled legs ---- */

typedef struct leg_env {
    scn_env env;
    const scn_env *base;
    const char *target;
} leg_env;

static bool leg_lookup(void *ctx, const char *name, size_t len, cr_value *out)
{
    leg_env *le = ctx;
    if ((len == 13 && memcmp(name, "called_number", 13) == 0) ||
        (len == 11 && memcmp(name, "dial_target", 11) == 0)) {
        *out = cr_val_cstr(le->target);
        return true;
    }
    return le->base->lookup(le->base->ctx, name, len, out);
}

const scn_route *eng_route_leg(eng_strand *s, scn_route_type type, const char *target)
{
    eng_call *c = s->call;
    leg_env le;
    le.base = eng_strand_env(s);
    le.env = *le.base;
    le.env.lookup = leg_lookup;
    le.env.ctx = &le;
    le.target = target;
    bool any = false;
    for (size_t i = 0; i < c->prog->route_count; i++)
        if (c->prog->routes[i].type == type)
            any = true;
    if (!any)
        return NULL;   /* no such routes: the leg is simply dialled, nothing to explain */
    cr_strbuf explain = CR_STRBUF_INIT;
    bool explain_it = c->e->tracing && !c->e->opt.no_route_explain;
    const scn_route *r = route_select(c->prog, type, &le.env, explain_it ? &explain : NULL);
    eng_trace_rec rec = {.kind = ENG_TR_ROUTE, .route = r ? r->name : NULL, .leg = target,
                         .explain = explain.len ? cr_strbuf_cstr(&explain) : NULL};
    eng_emit(c, s, &rec);
    cr_strbuf_free(&explain);
    return r;
}

bool eng_hangup_cause_valid(const char *cause)
{
    if (!cause || strcmp(cause, "busy") == 0 || strcmp(cause, "congestion") == 0 || strcmp(cause, "normal") == 0)
        return true;
    char *end;
    long n = strtol(cause, &end, 10);
    return *cause >= '0' && *cause <= '9' && !*end && n >= 400 && n <= 699;
}

/* SIP status for ending a call with CAUSE: 0 means BYE (answered call). */
static int cause_code(const char *cause, bool answered)
{
    int n = atoi(cause ? cause : "");
    if (n >= 400 && n <= 699)
        return n;
    if (cause && strcmp(cause, "busy") == 0)
        return 486;
    if (cause && strcmp(cause, "congestion") == 0)
        return 503;
    return answered ? 0 : 480;
}

/* ---- end of call ---- */

static void grace_cb(loop *l, void *arg)
{
    (void)l;
    eng_call *c = arg;
    eng_rare_mut(c)->grace_timer = NULL;
    if (!c->strands)
        return;
    char msg[128];
    snprintf(msg, sizeof msg, "hangup_grace (%gs) expired: hangup handlers cancelled",
             eng_settings_grace(c->prog));
    eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = msg};
    eng_emit(c, NULL, &r);
    for (eng_strand *s = c->strands, *next; s; s = next) {
        next = s->next;
        eng_strand_cancel(s, "hangup_grace");
    }
}

/* The limit in force: the engine's (simulate's run time) and the current
 * program's settings.limits.max_call_duration, the shorter; 0: none. A
 * reload that changes it applies to running calls too (eng_max_time_arm). */
double eng_max_duration(const eng_engine *e)
{
    double a = e->opt.max_duration, b = e->prog ? e->prog->settings.max_call_duration : 0;
    return a > 0 && b > 0 ? (a < b ? a : b) : a > 0 ? a : b;
}

/* Every call has the same limit, so deadlines come in start order; one
 * engine timer at the oldest call's deadline replaces a timer per call
 * (100,000 waiting calls, 100,000 fewer heap entries). */
static void max_time_cb(loop *l, void *arg)
{
    eng_engine *e = arg;
    e->max_timer = NULL;
    double now = loop_now(l), limit = eng_max_duration(e);
    eng_call *c = e->calls;
    while (c && limit > 0 && c->start + limit <= now) {
        eng_call *next = c->next;
        if (!c->ending)
            eng_call_hangup(c, "system", "max_time", 0);
        c = next;
    }
    eng_max_time_arm(e);
}

void eng_max_time_arm(eng_engine *e)
{
    if (e->max_timer)
        loop_timer_stop(e->l, e->max_timer);
    e->max_timer = NULL;
    double limit = eng_max_duration(e), now = loop_now(e->l);
    if (limit <= 0)
        return;
    /* The oldest call still running within its limit sets the next deadline. */
    for (eng_call *c = e->calls; c; c = c->next)
        if (!c->ending) {
            double wait = c->start + limit - now;
            e->max_timer = loop_timer_start(e->l, wait > 0 ? wait : 0, max_time_cb, e);
            break;
        }
}

void eng_call_grace_arm(eng_call *c)
{
    if (c->strands && !eng_rare(c)->grace_timer)
        eng_rare_mut(c)->grace_timer = loop_timer_start(c->e->l, eng_settings_grace(c->prog), grace_cb, c);
}

/* Cancels every strand at its wait, hangup handlers aside; with KEEP_OUTLIVING
 * (a hangup, not the engine's shutdown) a strand waiting in an application
 * that outlives the call goes on instead. */
static void cancel_all(eng_call *c, bool keep_outliving)
{
    if (c->rare)   /* no block made for a call that never watched DTMF */
        c->rare->dtmf_strand = NULL;
    for (eng_strand *s = c->strands, *next; s; s = next) {
        next = s->next;
        if (s->kind == SK_HANGUP)
            continue;
        if (keep_outliving && (s->state == ST_PENDING || s->state == ST_READY) && s->cur &&
            (s->cur->app->flags & APP_OUTLIVES_HANGUP)) {
            /* Its driver work ends with the call (a recording is complete);
             * the strand goes on after it under hangup_grace. */
            s->after_hangup = true;
            continue;
        }
        eng_strand_cancel(s, "hangup");
    }
}

void eng_call_hangup(eng_call *c, const char *by, const char *cause, int sip_code)
{
    if (c->ending)
        return;
    c->ending = true;
    if (!cause)
        cause = "normal";
    if (!sip_code)
        sip_code = cause_code(cause, c->answered);
    /* No SIP code for an answered call, nor for one whose caller another
     * call took over (pickup, join) or a message (it was answered 200). */
    if (c->answered || c->leg_given || c->is_message)
        sip_code = 0;
    set_ended(c, cr_arena_strdup(&c->arena, by), cr_arena_strdup(&c->arena, cause), sip_code);
    if (eng_rare(c)->origin)
        eng_origin_hangup(c);
    eng_join_target_gone(c, "hangup");
    if (strcmp(by, "caller") != 0 && c->leg)
        c->e->tel->ops->hangup(c->e->tel, c->leg, sip_code);
    eng_trace_rec r = {.kind = ENG_TR_HANGUP, .by = by, .cause = cause, .sip_code = sip_code};
    eng_emit(c, NULL, &r);
    eng_var_set_str(c, "hangup_by", by);
    eng_var_set_str(c, "hangup_cause", cause);
    cancel_all(c, true);
    eng_call_event(c, SCN_EV_HANGUP, by, NULL, NULL);
    eng_call_grace_arm(c);
    eng_check_call(c);
}

void eng_call_main_ended(eng_call *c)
{
    c->main_done = true;
    if (!c->ending && !c->bridged)
        eng_call_hangup(c, "scenario", "normal", 0);
}

void eng_call_finish(eng_call *c)
{
    eng_engine *e = c->e;
    c->finished = true;
    if (eng_rare(c)->grace_timer) {
        loop_timer_stop(e->l, c->rare->grace_timer);
        c->rare->grace_timer = NULL;
    }
    eng_trace_rec r = {.kind = ENG_TR_CALL,
                       .route = c->route ? c->route->name : NULL,
                       .by = eng_rare(c)->hangup_by,
                       .cause = eng_rare(c)->hangup_cause,
                       .duration = loop_now(e->l) - c->start};
    eng_emit(c, NULL, &r);
    if (e->opt.call_done)
        e->opt.call_done(e->opt.call_done_arg, c);
    for (size_t i = 0; i < e->opt.observer_count; i++)
        if (e->opt.observers[i].call_done)
            e->opt.observers[i].call_done(e->opt.observers[i].arg, c);
    for (eng_slot *sl = eng_rare(c)->slots; sl; sl = sl->next)
        if (sl->finish && sl->value)
            sl->finish(sl->value);
    if (eng_rare(c)->busy_user)
        eng_user_busy(e, eng_rare(c)->busy_user, -1);
    if (c->leg && e->tel)
        e->tel->ops->leg_release(e->tel, c->leg);
    c->leg = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        e->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        e->calls_tail = c->prev;
    e->call_count--;
    if (!e->calls && e->max_timer) {
        /* Nothing left to limit: a virtual loop must not wait for it. */
        loop_timer_stop(e->l, e->max_timer);
        e->max_timer = NULL;
    }
    scn_program *p = c->prog;
    cr_arena a = c->arena;
    cr_arena_free(&a);
    scn_program_unref(p);
}

void eng_strand_free_zombie(eng_strand *s);

/* Engine shutdown: every call ends now; no handlers run. */
void eng_call_free_all(eng_engine *e)
{
    for (eng_call *c = e->calls; c; c = c->next) {
        if (!c->ending) {
            c->ending = true;
            set_ended(c, "system", "shutdown", c->answered ? 0 : 503);
            if (eng_rare(c)->origin)
                eng_origin_hangup(c);
            if (c->leg)
                e->tel->ops->hangup(e->tel, c->leg, cause_code("congestion", c->answered));
        }
        cancel_all(c, false);
    }
    while (e->rq_head) {
        eng_strand *s = e->rq_head;
        e->rq_head = s->qnext;
        s->queued = false;
        if (s->zombie)
            eng_strand_free_zombie(s);
    }
    e->rq_tail = NULL;
    e->check_head = NULL;
    while (e->calls)
        eng_call_finish(e->calls);
}

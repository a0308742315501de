/* engine_int.h — the engine's private structures, shared by its files. */
#ifndef ENG_ENGINE_INT_H
#define ENG_ENGINE_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/engine.h"

/* Leg user data starts with a tag so the driver's events find their owner. */
enum { ENG_TAG_CALL = 0x43, ENG_TAG_LEG = 0x4c };

typedef enum {
    FR_BASE,        /* a strand's script */
    FR_NEST,        /* then/else/do pushed by the current action */
    FR_SCENARIO,    /* a named scenario / route script: `break` stops here */
    FR_ON_ERROR,    /* the on_error list of a failed action */
} eng_frame_type;

typedef struct eng_frame {
    const scn_action *items;
    const scn_action *owner;   /* the action that pushed it (NULL for BASE) */
    const void *tag;
    long counter;              /* loop counter (frame_end) */
    uint32_t count, index;
    uint8_t type;
    uint8_t end_pending;       /* trace the owner's `end` when the frame pops */
} eng_frame;

typedef enum {
    ST_NEW,         /* queued, not started */
    ST_RUNNING,
    ST_PENDING,     /* waiting for its action's work */
    ST_READY,       /* work done, queued to go on */
    ST_DONE,
} eng_strand_state;

typedef enum { SK_MAIN, SK_STREAM, SK_HANDLER, SK_HANGUP } eng_strand_kind;

struct eng_strand {
    eng_call *call;
    eng_strand *next, *prev;   /* the call's live strands */
    eng_strand *qnext;         /* the engine's run queue */
    const scn_action *cur;     /* the action running or waited on */
    void *pending;
    loop_timer *timeout;
    const char *name;
    const char *event;         /* a handler's: the event that started it (`event_name`) */
    const char *err;           /* eng_fail message of the current action */
    eng_frame *frames;
    uint32_t depth, cap;
    uint32_t depth0;           /* stack depth when the current action began */
    uint32_t unwind_to;        /* `break`: pop frames down to this depth - 1 */
    uint32_t var_seq;          /* call's variable sequence when it began */
    unsigned id;
    uint8_t state, kind;
    uint8_t resume_st;
    /* one bit each: 8 B less in a strand (none has its address taken) */
    bool in_run : 1;           /* inside the current action's run() */
    bool inline_done : 1;      /* resumed from inside run() */
    bool kill : 1;             /* cancelled while in run(): stop after it */
    bool stop : 1;             /* APP_STOP: end the strand after this action */
    bool released : 1;
    bool queued : 1;
    bool zombie : 1;           /* released while queued: free when popped */
    bool cancel_reason_timeout : 1;
    bool after_hangup : 1;     /* went on past the call's end (APP_OUTLIVES_HANGUP) */
};

/* A variable, its name and (first) value in one arena block: a call
 * waiting with a dozen variables stays within its first arena chunk. 40 B
 * and the name (37 B: the name follows KIND): the name is not pointed at but follows the struct, the
 * writer is a strand id, not a pointer, and a string and a number share
 * their 8 bytes (a held call has ten variables: docs/decisions/sip-core.md
 * "The engine's arena, to 1,280 B"). */
typedef struct eng_var {
    struct eng_var *next;
    /* A string (CR_VAL_STR, CR_VAL_ERR) is STR: room in the arena (CAP
     * bytes incl. NUL) reused by later writes that fit, or with CAP 0 a
     * string the call keeps for its life (eng_var_set_kept), which the next
     * write does not touch but replaces with room of its own. A number
     * (CR_VAL_NUM) is kept where the room stays found (vars.c var_room):
     * in the room itself when it holds one (CAP >= 8; STR still points at
     * it), else in NUM, over STR (the room of CAP < 8 is the one after the
     * name, found again from it). Read both through eng_var_value. */
    union {
        char *str;
        double num;
    };
    uint32_t len, cap;         /* string length and room (incl. NUL) */
    uint32_t seq;              /* call's write sequence at the last write */
    uint32_t hash;             /* of the name: lookups compare it first */
    unsigned writer;           /* id of the strand that wrote it (eng_var_writer); 0 outside strands */
    uint8_t kind : 7;          /* cr_val_kind */
    bool b : 1;
    /* NUL-terminated, right after KIND (at 37 B: eng_var_size, not
     * sizeof, which pads it to 40) */
    char name[];
} eng_var;

/* The bytes of a variable named NAME_LEN bytes with ROOM bytes of string
 * room after its name. */
#define eng_var_size(name_len, room) (offsetof(eng_var, name) + (name_len) + 1 + (room))

/* A room this small is always the one after the variable's name (var_new):
 * rooms made later are at least 16 B (vars.c). */
#define ENG_VAR_NUM_IN_ROOM sizeof(double)

/* The id eng_sys_strand writes variables under: no strand has it. */
#define ENG_SYS_STRAND_ID UINT_MAX

/* A variable name's hash, eight bytes a step (the last step overlaps the
 * one before; a name under eight bytes goes byte by byte): every byte
 * counts, at a quarter of a byte-wise hash's instructions (lookups hash
 * ~40 names a call: docs/decisions/sip-core.md, "CPU per call, cut again:
 * engine"). Only compared within one process: no stable value. */
static inline uint32_t eng_name_hash(const char *s, size_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h = (n + 1) * k, w = 0;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            w = w << 8 | (unsigned char)s[i];
        h = (h ^ w) * k;
    } else {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * k;
            h ^= h >> 29;
        }
        memcpy(&w, s + n - 8, 8);
        h = (h ^ w) * k;
    }
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The variable NAME (LEN bytes), or NULL. */
eng_var *eng_var_find(eng_call *c, const char *name, size_t len);
/* Keeps the call's INVITE headers for the sip.header.* variables, made
 * when a script first reads one: most calls never do. Only the headers its
 * program can read (eng_header_kept). */
void eng_var_headers(eng_call *c, const char *const *names, const char *const *values, size_t count);
/* Whether a call of E on PROG keeps the INVITE header NAME. */
bool eng_header_kept(const eng_engine *e, const scn_program *prog, const char *name);
/* Sets NAME to S, a string kept unchanged for the call's life (in its
 * arena, or its program's: a route's name): the variable points at it
 * instead of copying it. */
void eng_var_set_kept(eng_call *c, const char *name, const char *s);

static inline cr_value eng_var_value(const eng_var *v)
{
    cr_value r = {(cr_val_kind)v->kind, v->b, 0, NULL, 0};
    if (v->kind == CR_VAL_STR || v->kind == CR_VAL_ERR) {
        r.str = v->str;
        r.len = v->len;
    } else if (v->kind == CR_VAL_NUM) {
        if (v->cap >= ENG_VAR_NUM_IN_ROOM)
            memcpy(&r.num, v->str, sizeof r.num);   /* the room: not aligned */
        else
            r.num = v->num;
    }
    return r;
}

typedef struct eng_handler {
    struct eng_handler *next;
    unsigned mask;
    bool once, dead;
    const scn_actions *list;
    const char **names;        /* `app` events: only these names (count 0: any) */
    size_t name_count;
} eng_handler;

struct eng_leg;
struct eng_dial;
struct eng_origin;
struct eng_conf_member;
struct eng_join_sess;
struct eng_join_member;
struct eng_parked;
struct eng_queue;
struct eng_mailstore;

typedef struct eng_slot {
    struct eng_slot *next;
    const void *key;
    void *value;
    void (*finish)(void *value);
} eng_slot;

/* Fields ordered without holes, the small ones first beside the tag: every
 * live call keeps one (its arena's first block). */
struct eng_call {
    uint8_t tag;               /* ENG_TAG_CALL */
    /* one bit each: 8 B less in the call (none has its address taken) */
    bool check_queued : 1;
    bool is_message : 1;       /* a SIP MESSAGE: no leg, no media */
    bool leg_given : 1;        /* its caller's leg went to another call (pickup, join) */
    bool answered : 1, ringing_sent : 1, early_sent : 1;
    bool ending : 1, main_done : 1, finished : 1;
    bool leg_released : 1;
    uint32_t var_seq;
    unsigned strand_count;     /* live */
    unsigned next_strand_id;
    unsigned live_streams;     /* streams and handlers */
    unsigned steps;
    uint32_t header_count;
    eng_engine *e;
    scn_program *prog;
    cr_arena arena;
    eng_call *next, *prev;     /* the engine's calls */
    tel_leg *leg;
    double start;
    const scn_route *route;
    eng_var *vars, *vars_tail;
    /* The INVITE's headers, not yet variables (eng_var_headers): NAME\0
     * VALUE\0 pairs in the arena; the sip.header.* variables are made from
     * them, after HEADERS_AFTER, when the first is read or all are listed. */
    const char *headers;
    eng_var *headers_after;
    eng_strand *strands, *strands_tail;   /* live, oldest first */
    eng_strand *free_strands;
    eng_handler *handlers;
    struct eng_leg *bridged;
    double step_window;
    double answer_time;
    struct eng_dial *dials;    /* its dials still ringing or up (dial.c: pickup finds them) */
    eng_call *check_next;
    struct eng_call_rare *rare;   /* eng_rare: NULL until a field of it is written */
};

/* What few calls use, in a side block of the call's arena made by the
 * first write (eng_rare_mut): a held call through a gateway has none of
 * it, and 136 B less in the call is what lets its arena fit a smaller
 * block (docs/decisions/sip-core.md). How the call ended is here too: a
 * held call has not. Read through eng_rare, which gives
 * the zeros of eng_no_rare to a call without one (and, const, refuses
 * writes at compile time). */
typedef struct eng_call_rare {
    loop_timer *grace_timer;   /* the hangup handlers' time (hangup_grace) */
    eng_strand *dtmf_strand;
    eng_dtmf_cb dtmf_cb;
    void *dtmf_arg;
    eng_slot *slots;           /* eng_call_set_slot (arena) */
    struct eng_origin *origin; /* a call callroute placed (originate.c) */
    /* calls that meet (conference.c, join.c, park.c): what this call is in */
    struct eng_conf_member *conf;
    struct eng_conf_pin *conf_pin;     /* asking for a conference PIN */
    struct eng_join_sess *joined;      /* listened to / whispered to / barged into */
    struct eng_join_member *joining;   /* this call listens to / ... another */
    struct eng_parked *parked;
    struct eng_dial *park_held;   /* the dial a park took the caller from, until `on: timeout` ends */
    const char *busy_user;     /* the user this call keeps busy (its caller, or an originated call's party) */
    /* How it ended, and its attempts' log: written at its end, and when an
     * attempt ends, never by a call that is held (eng_call_log_leg). */
    const char *hangup_by, *hangup_cause;
    int hangup_code;
    uint32_t leg_log_count, leg_log_cap;
    eng_leg_log *leg_log;      /* in the arena; grown by doubling */
} eng_call_rare;

extern const eng_call_rare eng_no_rare;

/* The call's id: after the struct, in the same block (eng_call_alloc). */
static inline const char *eng_call_idp(const eng_call *c)
{
    return (const char *)(c + 1);
}

static inline const eng_call_rare *eng_rare(const eng_call *c)
{
    return c->rare ? c->rare : &eng_no_rare;
}

/* C's side block, made (zeroed, in its arena) when it has none. */
eng_call_rare *eng_rare_mut(eng_call *c);

struct eng_engine {
    loop *l;
    tel_driver *tel;
    struct svc_ctx *svc;
    scn_program *prog;
    eng_options opt;
    bool tracing;              /* opt.trace or an observer's: records are built */
    eng_call *calls, *calls_tail;   /* in start order */
    loop_timer *max_timer;
    size_t call_count;
    unsigned long next_call_seq;
    unsigned long long actions;
    eng_strand *rq_head, *rq_tail;
    eng_call *check_head;
    loop_timer *kick;
    bool draining;
    eng_strand *running;       /* strand whose action is being run */
    cr_arena scratch;
    scn_env env;
    eng_call *env_call;
    eng_strand *env_strand;
    /* per-user activity (idle since, answered calls, legs and calls that
     * keep the user busy) and per-group round-robin cursors, across calls */
    struct eng_kv *agents;
    struct eng_kv *groups;
    struct eng_queue *queues;      /* queue.c: ACD state, by name */
    loop_timer *queue_kick;        /* a dispatch of every queue is due */
    struct eng_mailstore *mail;    /* mailbox.c: voicemail boxes */
    unsigned rng;
    struct media_tts_cache *tts;   /* synthesised speech, across calls (speech.c) */
    /* calls that meet: conference rooms, parked calls, mix room ids */
    struct eng_conf *confs;
    struct eng_parked *parked;
    unsigned long next_room;
};

typedef struct eng_kv {
    struct eng_kv *next;
    char *key;
    double num;                /* agents: idle since (the end of the last answered call) */
    unsigned cursor;           /* groups: round-robin */
    unsigned busy;             /* agents: dial legs ringing or up, calls from the user */
    unsigned long answered;    /* agents: calls answered */
    bool busy_elsewhere;       /* agents: busy on another node of the cluster */
} eng_kv;

/* Stands for the engine itself as the writer of variables it sets while no
 * strand runs (event variables): never attributed to an action. */
extern eng_strand eng_sys_strand;

/* engine.c */
void eng_kick(eng_engine *e);
void eng_enqueue(eng_strand *s);
void eng_check_call(eng_call *c);
void eng_scratch_reset(eng_engine *e);
const scn_env *eng_env_for(eng_engine *e, eng_call *c, eng_strand *s);
double eng_settings_steps(const scn_program *p);
int eng_settings_streams(const scn_program *p);
double eng_settings_grace(const scn_program *p);
/* An answered conversation of user NUMBER ended: idle from now. */
void eng_agent_touch(eng_engine *e, const char *number);
/* User NUMBER answered a call (fewest-calls). */
void eng_agent_answered(eng_engine *e, const char *number);
/* A dial leg to user NUMBER, or a call from it, begins (+1) or ends (-1):
 * a busy user is not offered queue calls; its becoming free wakes the
 * queues. */
void eng_user_busy(eng_engine *e, const char *number, int delta);

/* calls.c */
/* A call with its standard variables set, on PROG (referenced), before
 * anything runs; eng_call_announce then tells eng_options.call_start. */
eng_call *eng_call_alloc(eng_engine *e, scn_program *prog, tel_leg *leg, const tel_call_info *info);
void eng_call_announce(eng_call *c);
/* An incoming call: allocated, then routed. */
eng_call *eng_call_new(eng_engine *e, tel_leg *leg, const tel_call_info *info);
/* An incoming message: a call with no leg, routed among the `message` routes. */
eng_call *eng_call_new_message(eng_engine *e, const tel_call_info *info, const char *content_type,
                               const char *text, size_t len);
/* Runs LIST on each later event in MASK (eng_event_register). */
void eng_call_handler_add(eng_call *c, unsigned mask, bool once, const scn_actions *list,
                          const char *const *names, size_t n);
/* A handler strand for event EV (scn_event): its `event_name`. */
eng_strand *eng_handler_strand(eng_call *c, int kind, const scn_actions *list, const char *name, int ev);
/* Hangup handlers started after the hangup itself get hangup_grace too. */
void eng_call_grace_arm(eng_call *c);
void eng_call_start_main(eng_call *c, const scn_actions *script);
void eng_call_finish(eng_call *c);
void eng_call_caller_event(eng_call *c, const tel_event *ev);
/* Raises call event EV (scn_event): trace record and handler strands. */
void eng_call_event(eng_call *c, int ev, const char *by, const char *leg, const char *digit);
/* The same with what an `app` event carries: its name (for the handlers'
 * filters) and the variables it set (in its trace record). The number of
 * handlers started. */
int eng_call_raise(eng_call *c, int ev, const char *by, const char *leg, const char *digit, const char *app_name,
                   const eng_trace_var *vars, size_t nvars);
void eng_call_main_ended(eng_call *c);
void eng_call_free_all(eng_engine *e);
/* The call duration limit in force (0: none) and its one timer (calls.c). */
double eng_max_duration(const eng_engine *e);
void eng_max_time_arm(eng_engine *e);

/* strand.c */
eng_strand *eng_strand_new(eng_call *c, eng_strand_kind kind, const scn_actions *list,
                           const char *name);
void eng_strand_continue(eng_strand *s);   /* run from the queue */
void eng_strand_cancel(eng_strand *s, const char *why);
void eng_strand_release(eng_strand *s);

/* Appends an attempt to the call's leg log (calls.c). */
void eng_call_log_leg(eng_call *c, const eng_leg_log *rec);

/* recording.c: the call was just bridged (a recording may wait for it). */
void eng_record_bridged(eng_call *c);

/* dial.c */
void eng_dial_leg_event(struct eng_leg *leg, const tel_event *ev);
/* The legs of an originated call: a dial no strand waits on. On answer the
 * leg becomes the call's own (eng_origin_answered); unanswered, the call
 * ends (eng_origin_unanswered). NULL when no leg could be dialled (the
 * call has ended then). */
struct eng_dial *eng_dial_origin(eng_call *c, const eng_dial_req *req);
/* The call ends while its legs ring: they are cancelled. */
void eng_dial_origin_stop(struct eng_dial *d);
/* The call that began with the answered leg ends: its attempt (in the
 * leg log since the answer) ends now. */
void eng_dial_origin_log(struct eng_dial *d);

/* dial.c: a call's parties for calls that meet (join, park, pickup) */
/* S's call talks to TL (a leg another call gave up), as if a dial had
 * reached it: TL's events are this call's agent's, the strand waits until
 * the conversation ends (eng_dial_cancel stops it). LABEL names the party
 * (trace, agent_number); ANSWER: TL is an incoming leg still unanswered. */
app_status eng_dial_adopt(eng_strand *s, tel_leg *tl, const char *label, bool answer);
/* C's bridge ends without ending anything else: the legs are unbridged,
 * C is no longer bridged; the dial still waits (until C ends). */
void eng_dial_unbridge(eng_call *c);
/* C's bridged agent leg leaves C (not hung up: the caller takes it over);
 * NULL when C is not bridged. */
tel_leg *eng_dial_take_agent(eng_call *c);
/* Park: C's bridge is held: the legs are unbridged; the agent stays the
 * dial's (eng_dial_held_agent) until eng_dial_let_go, and the dial (with
 * the strand waiting on it) ends at eng_dial_held_end. NULL: not bridged. */
struct eng_dial *eng_dial_hold(eng_call *c, const char **agent_number);
tel_leg *eng_dial_held_agent(struct eng_dial *d);
void eng_dial_let_go(struct eng_dial *d);
void eng_dial_held_end(struct eng_dial *d);
/* The held dial rings T (the parker) as it rang its first targets: the
 * dial goes on with it (false: D is not held). */
bool eng_dial_held_return(struct eng_dial *d, const eng_dial_target *t);
/* The call in which a dial rings user NUMBER (not answered yet), or NULL. */
eng_call *eng_dial_ringing(eng_engine *e, const char *number);
/* The call in which user NUMBER is the answered agent (and *LEG its leg). */
eng_call *eng_dial_agent_call(eng_engine *e, const char *number, tel_leg **leg);

/* join.c: C's conversation ended (its bridge is gone, or it hung up):
 * whoever listens to it, whispers or barged in is let go. */
void eng_join_target_gone(eng_call *c, const char *why);

/* calls.c: C gives up its own leg (a pickup or a join took it); C is then
 * ended as transferred (by transfer, CAUSE). */
tel_leg *eng_call_give_leg(eng_call *c);
void eng_call_end_given(eng_call *c, const char *cause);

/* speech.c: the engine's speech cache, sized by PROG's settings. */
struct media_tts_cache *eng_tts(eng_engine *e, const scn_program *prog);
/* speech.c: speech to another leg than the strand's call's (park tells the
 * agent the slot). */
eng_speech *eng_speak_to(eng_strand *s, tel_leg *leg, const char *text, tel_op_done_cb done, void *arg);
/* Queue offers: a dial no strand waits on (engine/queue.c rings agents for
 * a waiting caller with it); its outcome goes to these hooks instead of
 * the dial_* variables, and it has no `on` handlers. */
typedef struct eng_offer_hooks {
    /* LEG's agent answered; the caller is bridged to it right after. */
    void (*answered)(void *arg, const char *number, const char *name);
    /* Every leg ended unanswered: no_answer (ring_timeout), busy, failed. */
    void (*unanswered)(void *arg, const char *status);
    /* The bridged conversation ended from the agent's side. */
    void (*ended)(void *arg);
} eng_offer_hooks;
/* Rings REQ's targets for call C (S: the strand traced with them); NULL
 * when none could be dialled. */
struct eng_dial *eng_dial_offer(eng_call *c, eng_strand *s, const eng_dial_req *req, const eng_offer_hooks *h,
                                void *arg);
/* Stops it: ringing legs are cancelled, an answered one unbridged and hung
 * up; no hook runs. */
void eng_dial_offer_stop(struct eng_dial *d);

/* moh.c: music on hold. A party of the bridged call holds (AGENT_HOLDS:
 * the agent, so the caller hears it) or lets go; all: the bridge ended. */
void eng_moh_hold(eng_call *c, bool agent_holds);
void eng_moh_unhold(eng_call *c, bool agent_holds);
void eng_moh_stop(eng_call *c);

/* queue.c */
void eng_queue_kick(eng_engine *e);
void eng_queues_free(eng_engine *e);

/* mailbox.c */
void eng_mailstore_free(eng_engine *e);
/* tel_handler.mailbox */
bool eng_mailbox_counts_cb(void *eng, const char *user, unsigned *new_, unsigned *old);

/* originate.c */
void eng_origin_answered(eng_call *c, tel_leg *leg);
void eng_origin_unanswered(eng_call *c, const char *status, int sip_code);
/* The call ends (any reason): a delay still running or legs still ringing
 * are stopped; the answered attempt is logged. */
void eng_origin_hangup(eng_call *c);


/* trace.c */
void eng_emit(eng_call *c, eng_strand *s, eng_trace_rec *r);
void eng_trace_app(eng_strand *s, const scn_action *a, const char *phase, const char *status,
                   const char *error, bool with_vars);

#endif

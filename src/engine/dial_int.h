/* dial_int.h — what the dial (dial.c) shares with the calls that meet
 * (dial_meet.c: join, park, pickup, the contact centre's agent offers):
 * the dial's and its legs' lifecycle, for a leg adopted rather than
 * dialled. Not for other files: eng_dial_* in engine_int.h is the API. */
#ifndef ENGINE_DIAL_INT_H
#define ENGINE_DIAL_INT_H

#include "engine/engine_int.h"

typedef enum { LEG_CALLING, LEG_RINGING, LEG_EARLY, LEG_UP, LEG_DONE } leg_state;

/* Fields ordered without holes: a dial's legs live as long as its call. */
typedef struct eng_leg {
    uint8_t tag;               /* ENG_TAG_LEG */
    uint8_t state;
    bool logged;
    bool busy;                 /* counted in eng_user_busy */
    uint32_t gw_index;         /* into t->gateways (a scenario's handful) */
    struct eng_dial *d;
    tel_leg *tl;
    struct eng_leg *next;
    const eng_dial_target *t;
    const char *label;
    /* the current attempt, for the call's leg log */
    const char *gateway;
    double t_start, t_answer;
    const char *answer_name;   /* the display name its answer gave (arena), or NULL */
} eng_leg;

/* What few dials use, in a side block of the call's arena made by the
 * first write (dial_extra_mut): a dial through a gateway with no caller id
 * or ringback has none, and 40 B less in the dial is part of what lets a
 * held call's arena fit a smaller block (docs/decisions/sip-core.md "The
 * engine's arena, to 1,280 B"). Read through dial_extra, which gives the
 * zeros of dial_no_extra to a dial without one (const: no writes). */
typedef struct eng_dial_extra {
    const char *caller_id, *ringback;
    tel_op *rb_op;
    const eng_offer_hooks *hooks;   /* a queue's offer (eng_dial_offer) */
    void *hook_arg;
    uint32_t adopted_log;      /* originate: the answered attempt's leg log entry, + 1 (0: none) */
} eng_dial_extra;

/* Fields ordered without holes (112 B): a dial lives as long as its call. */
typedef struct eng_dial {
    eng_strand *s;             /* the dialling strand; NULL for an originated call's legs */
    eng_call *c;
    const scn_handlers *on;
    eng_dial_target *targets;
    uint32_t count, next;      /* targets (a scenario's handful) */
    double ring_timeout;
    eng_leg *legs;
    loop_timer *ring_timer;
    eng_leg *answered, *last;
    double answer_at;
    struct eng_dial *live_next;   /* the call's dials not done (c->dials) */
    eng_dial_extra *extra;     /* dial_extra: NULL until a field of it is written */
    int last_code;
    /* one bit each (none has its address taken) */
    bool sequential : 1;
    bool busy_seen : 1, done : 1;
    bool origin : 1;           /* the legs of an originated call (eng_dial_origin) */
    bool adopted : 1;          /* its one leg was another call's (eng_dial_adopt): no dial_* vars */
    bool held : 1;             /* parked: the agent is no longer bridged (eng_dial_hold) */
} eng_dial;

extern const eng_dial_extra dial_no_extra;

static inline const eng_dial_extra *dial_extra(const eng_dial *d)
{
    return d->extra ? d->extra : &dial_no_extra;
}

/* D's side block, made (zeroed, in its call's arena) when it has none. */
eng_dial_extra *dial_extra_mut(eng_dial *d);

tel_driver *dial_drv(eng_dial *d);
void dial_teardown(eng_dial *d);
void dial_log_leg(eng_dial *d, eng_leg *leg, const char *status, int code);
void dial_trace_leg(eng_dial *d, eng_leg *leg, const char *event, int code);
bool dial_leg_dial(eng_dial *d, eng_leg *leg);
void dial_leg_hangup(eng_dial *d, eng_leg *leg, int code);
eng_leg *dial_leg_new(eng_dial *d, const eng_dial_target *t);
void dial_live_add(eng_dial *d);
bool dial_begin(eng_dial *d);
void dial_finish(eng_dial *d, const char *status);
/* SRC into DST, its strings (and gateway list, unless kept) copied into A:
 * a dial's targets outlive the request that named them. */
void dial_target_copy(cr_arena *a, eng_dial_target *dst, const eng_dial_target *src);
eng_dial *dial_new(eng_call *c, eng_strand *s, const eng_dial_req *req);
void dial_stop(eng_dial *d);
/* A dial's ring timeout ran out (ARG: the eng_dial). */
void dial_ring_timer_cb(loop *l, void *arg);

#endif

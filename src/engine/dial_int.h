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
    int code;
    struct eng_dial *d;
    tel_leg *tl;
    struct eng_leg *next;
    const eng_dial_target *t;
    const char *label;
    size_t gw_index;
    /* the current attempt, for the call's leg log */
    const char *gateway;
    double t_start, t_answer;
    const char *answer_name;   /* the display name its answer gave (arena), or NULL */
} eng_leg;

/* Fields ordered without holes (152 B): a dial lives as long as its call. */
typedef struct eng_dial {
    eng_strand *s;             /* the dialling strand; NULL for an originated call's legs */
    eng_call *c;
    const scn_handlers *on;
    eng_dial_target *targets;
    uint32_t count, next;      /* targets (a scenario's handful) */
    double ring_timeout;
    const char *caller_id, *ringback;
    eng_leg *legs;
    loop_timer *ring_timer;
    tel_op *rb_op;
    eng_leg *answered, *last;
    double answer_at;
    const eng_offer_hooks *hooks;   /* a queue's offer (eng_dial_offer) */
    void *hook_arg;
    struct eng_dial *live_next;   /* the call's dials not done (c->dials) */
    int last_code;
    uint32_t adopted_log;      /* originate: the answered attempt's leg log entry, + 1 (0: none) */
    bool sequential;
    bool busy_seen, done;
    bool origin;               /* the legs of an originated call (eng_dial_origin) */
    bool adopted;              /* its one leg was another call's (eng_dial_adopt): no dial_* vars */
    bool held;                 /* parked: the agent is no longer bridged (eng_dial_hold) */
} eng_dial;

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
eng_dial *dial_new(eng_call *c, eng_strand *s, const eng_dial_req *req);
void dial_stop(eng_dial *d);
/* A dial's ring timeout ran out (ARG: the eng_dial). */
void dial_ring_timer_cb(loop *l, void *arg);

#endif

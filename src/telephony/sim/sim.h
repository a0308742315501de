/* sim.h — the `sim` telephony driver: a scripted telephone network on the
 * loop (virtual clock in simulate and tests). The caller and every dialled
 * party follow a SPEC, a comma list of EVENT@SECONDS:
 *
 *   caller:  hold@12, unhold@20, dtmf:123@5 (digits 100 ms apart), hangup@60,
 *            transfer:700@8 (a REFER: the transfer event)
 *   parties: ringing@0, early_media@1, answer@4, busy@2, reject:503@1,
 *            hold@10, unhold@15, dtmf:5@6, transfer:700@8, hangup@30
 *
 * Caller times count from the call's start, a party's from the moment its
 * leg is dialled. A party is found by the dialled target (user number,
 * group member, number or SIP URI), then by `gw:NAME` for anything sent
 * through gateway NAME. A target with no SPEC rings and never answers.
 * Every dialled leg reports `trying` first. hold/unhold count only once
 * the leg is answered (the caller's once the call is); dtmf and hangup
 * always do (a party's hangup before answering declines: 603).
 * play/record/tone take their time on the loop: a prompt lasts as long as
 * its WAV file (libsndfile), a recording max_seconds (the simulated caller
 * never falls silent: a recording's silence limit does not end it), music
 * until it is stopped or the leg ends. Nothing is written to disk. */
#ifndef TEL_SIM_H
#define TEL_SIM_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "telephony/tel.h"

typedef enum {
    SIM_RINGING,
    SIM_EARLY_MEDIA,
    SIM_ANSWER,
    SIM_BUSY,
    SIM_REJECT,
    SIM_HOLD,
    SIM_UNHOLD,
    SIM_DTMF,
    SIM_HANGUP,
    SIM_TRANSFER,        /* the party asks to transfer the other side (REFER) */
} sim_step_kind;

typedef struct sim_step {
    sim_step_kind kind;
    double at;           /* seconds */
    int code;            /* reject: the SIP code */
    char digits[33];     /* dtmf; transfer: the target */
} sim_step;

typedef struct sim_spec {
    sim_step *steps;     /* sorted by time (stable) */
    size_t count;
} sim_spec;

/* Parses SPEC for the caller (CALLER true) or a dialled party. On error
 * returns false with a message in ERR. Free with sim_spec_free. */
bool sim_spec_parse(const char *spec, bool caller, sim_spec *out, char *err, size_t errlen);
void sim_spec_free(sim_spec *s);

typedef struct sim_driver sim_driver;

sim_driver *sim_driver_new(loop *l);
tel_driver *sim_driver_tel(sim_driver *d);
void sim_driver_free(sim_driver *d);

/* Scripts party TARGET ("101", "+7916...", "sip:x@y", "gw:provider"). */
bool sim_party_add(sim_driver *d, const char *target, const char *spec, char *err, size_t errlen);
/* Cap for a play whose file has no length and for recordings (seconds). */
void sim_set_max_media(sim_driver *d, double seconds);

/* Places an incoming call; the caller follows CALLER_SPEC (may be NULL).
 * Returns 0 when the handler took it, the SIP code when it rejected it, -1
 * (message in ERR) when CALLER_SPEC is invalid. */
int sim_call(sim_driver *d, const tel_call_info *info, const char *caller_spec, char *err,
             size_t errlen);

/* An incoming message (SIP MESSAGE) with body TEXT: 0 when the handler
 * took it, else the code it was refused with. A message to a party (`sms`)
 * is answered as the party's SPEC says: reject:CODE or busy (486) at their
 * time, else delivered (200) at its answer time, or at once. */
int sim_message(sim_driver *d, const tel_call_info *info, const char *text);

/* What the network saw, for tests: legs dialled so far, live legs. */
size_t sim_dialled_count(const sim_driver *d);
size_t sim_live_legs(const sim_driver *d);

#endif

/* simrun.h — run one simulated call to its end: a virtual loop, the `sim`
 * driver with scripted caller and parties, the services (mail captured
 * unless asked otherwise), and the engine. Used by `callroute simulate`,
 * `callroute test` and the admin API's POST /simulate (so it lives in the
 * library: simulate/ may use engine, telephony, services and loop). Calls
 * the scenario places (`originate`) run on the same network until they end
 * too; the result is the incoming call's. */
#ifndef SIMULATE_SIMRUN_H
#define SIMULATE_SIMRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"
#include "scenario/program.h"

struct svc_options;

/* An app event raised in the call from outside (simulate --app-event), as
 * the admin API's POST /calls/ID/events does. */
typedef struct simrun_app_event {
    const char *name;
    double at;                      /* seconds from the call's start */
    const char *const *keys;        /* its data: app_event_data.KEY */
    const cr_value *values;
    size_t count;
} simrun_app_event;

/* Another incoming call on the same network (simulate --call): it starts
 * AT seconds after the first, runs its route like any call, and shows in
 * the trace; the result stays the first call's. */
typedef struct simrun_call_spec {
    double at;
    const char *from, *to;
    const char *source;             /* NULL: as the first call's default */
    const char *spec;               /* its caller SPEC (may be NULL) */
} simrun_call_spec;

typedef struct simrun_params {
    const char *from, *to;          /* caller_number, called_number */
    const char *source;             /* gateway name or "user:101"; NULL: the first gateway, else "" */
    const char *caller_name;        /* NULL: "" */
    const char *call_id;            /* NULL: "sim-1" */
    double at;                      /* call start, seconds since the epoch; 0: now */
    bool utc_offset_set;            /* false: the local zone's offset at AT */
    int utc_offset;                 /* seconds east of UTC (--at ...+03:00) */
    const char *caller;             /* caller SPEC (may be NULL) */
    const char *const *party_targets; /* --party TARGET=SPEC, in order */
    const char *const *party_specs;
    size_t party_count;
    const char *const *var_names;   /* --var NAME=VALUE */
    const char *const *var_values;
    size_t var_count;
    const char *const *header_names; /* sip.header.<Name> */
    const char *const *header_values;
    size_t header_count;
    const simrun_app_event *app_events;
    size_t app_event_count;
    double max_time;                /* <= 0: 3600; the call is hung up then */
    eng_trace_cb trace;             /* may be NULL */
    void *trace_arg;
    /* Services: NULL gives the default (mail captured into the trace, real
     * HTTP/DB); `callroute test` passes mocks; simulate --send-mail passes
     * SVC_MAIL_SEND_ONCE. */
    const struct svc_options *svc;
    unsigned random_seed;           /* 0: 1 (deterministic) */
    /* Bounds for a caller that must not wait long (POST /simulate runs on
     * serve's loop): past this many trace records, or this many seconds of
     * real time, the run stops (the call ends as at shutdown) and
     * simrun_stopped says why. 0: no bound. */
    size_t max_records;
    double max_wall;
    /* The first request is an instant message (SIP MESSAGE) with this text,
     * run by a `message` route, instead of a call (simulate --message). */
    const char *message;
    const simrun_call_spec *calls;  /* more calls (simulate --call), ids sim-2, sim-3, ... */
    size_t call_count;
} simrun_params;

typedef struct simrun_result simrun_result;

/* Runs the call. Returns NULL with a message in ERR when the parameters
 * are unusable (bad SPEC, services cannot start): a usage error. */
simrun_result *simrun_call(scn_program *prog, const simrun_params *p, char *err, size_t errlen);
void simrun_result_free(simrun_result *r);

/* The outcome. */
const char *simrun_route(const simrun_result *r);        /* NULL: no route matched */
bool simrun_rejected(const simrun_result *r);            /* no route: 404 */
const char *simrun_hangup_by(const simrun_result *r);    /* caller|scenario|system|transfer */
const char *simrun_hangup_cause(const simrun_result *r);
double simrun_duration(const simrun_result *r);          /* seconds */
/* The call's variables when it ended (text form), in the order first set. */
size_t simrun_var_count(const simrun_result *r);
const char *simrun_var_name(const simrun_result *r, size_t i);
const char *simrun_var_value(const simrun_result *r, size_t i);
/* NULL when the run went to its end; "max_records" or "max_wall" when a
 * bound stopped it. */
const char *simrun_stopped(const simrun_result *r);
/* NULL when the variable was never set. */
const char *simrun_var(const simrun_result *r, const char *name);

#endif

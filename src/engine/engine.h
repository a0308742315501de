/* engine.h — calls, strands, variables, events, the trace: the one header
 * applications include (DESIGN.md: One process, one loop).
 *
 * A call owns an arena (variables, strands, handler registrations, dial
 * legs); it is freed at once when the call ends. A strand is an explicit
 * frame stack (action list, index, loop counter, owner action), never an OS
 * thread: an application's run() finishes at once (DONE / FAILED / STOP) or
 * starts asynchronous work, records it with eng_strand_set_pending() and
 * returns APP_PENDING; the work's completion calls eng_strand_resume().
 * Hangup and `timeout:` call the application's cancel hook (app_def.cancel),
 * which must stop the work WITHOUT resuming the strand.
 *
 * Everything runs on the loop thread. Resumes are queued and run from a
 * zero-delay loop timer, never inside the caller of eng_strand_resume, so a
 * driver or service callback may resume freely. */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "scenario/appdef.h"
#include "scenario/env.h"
#include "scenario/program.h"
#include "scenario/template.h"
#include "scenario/value.h"
#include "telephony/tel.h"
#include "util/strbuf.h"

struct svc_ctx;

typedef struct eng_engine eng_engine;
typedef struct eng_call eng_call;
typedef struct eng_strand eng_strand;

/* ---- the trace ------------------------------------------------------- */

#define ENG_TRACE_KINDS(X)     \
    X(ROUTE, "route")          \
    X(APP, "app")              \
    X(EVENT, "event")          \
    X(EMAIL, "email")          \
    X(HANGUP, "hangup")        \
    X(LOG, "log")              \
    X(ERROR, "error")          \
    X(ORIGINATE, "originate")  \
    X(VARS, "vars")            \
    X(MEET, "meet")            \
    X(CALL, "call")

typedef enum {
#define ENG_TR_ENUM(e, s) ENG_TR_##e,
    ENG_TRACE_KINDS(ENG_TR_ENUM)
#undef ENG_TR_ENUM
} eng_trace_kind;
extern const char *const eng_trace_kind_names[];

typedef struct eng_trace_var {
    const char *name;
    cr_value value;
} eng_trace_var;

/* One structured trace record. Pointers are valid only during the sink
 * callback. Unused fields are NULL / 0. */
typedef struct eng_trace_rec {
    eng_trace_kind kind;
    double t;                  /* seconds from the call's start */
    double now;                /* the loop's clock (seconds since the epoch) */
    const char *call_id;
    const eng_call *call;      /* the call itself: two calls may share a Call-ID */
    unsigned strand;           /* 0: not tied to a strand */
    const char *strand_name;   /* "main", "stream", "event:hold", "dial:ringing", "hangup" ... */
    /* APP */
    const char *app, *path, *id;
    const char *phase;         /* "start" | "end" | "skip" (disabled) */
    const char *status;        /* end: "ok" | "error" | "cancelled" | "timeout" */
    const char *error;         /* end with status != ok: the message */
    const eng_trace_var *vars; /* APP end: the variables the action set; EVENT (app),
                                  VARS, ORIGINATE: the variables set with it */
    size_t var_count;
    /* EVENT (dial leg events also carry `leg`), HANGUP (by, cause) */
    const char *event;
    const char *by;            /* hold/unhold: caller|agent; hangup: caller|scenario|system|transfer|admin;
                                  app, vars, originate: admin|scenario|simulate */
    const char *leg;           /* dial leg events: the target dialled */
    const char *digit;         /* dtmf */
    const char *cause;         /* hangup */
    int sip_code;
    /* ROUTE: route name (NULL: none matched), explanation (may be multi-line) */
    const char *route;
    const char *explain;
    /* EMAIL */
    const char *to, *cc, *subject, *body;
    /* LOG / ERROR */
    const char *level, *message;
    /* CALL (the call record, last record of a call) */
    double duration;
    /* ORIGINATE (the first record of a call callroute placed): TO is the
     * party called, GATEWAY the one asked for (NULL: as dial picks),
     * SCENARIO the named scenario run on answer, PARENT the call whose
     * `originate` action placed it (NULL: the admin API). */
    const char *gateway, *scenario, *parent;
    /* MEET (this call and others: EVENT conference | join | joined | park |
     * pickup, PHASE start | end; CAUSE why it ended): ROOM a conference
     * room, MODE bridge|listen|whisper|barge|pickup, SLOT a park slot,
     * PEER the other call's id, MEMBER the conference member id (0: none) */
    const char *room, *mode, *slot, *peer;
    unsigned member;
} eng_trace_rec;

typedef void (*eng_trace_cb)(void *arg, const eng_trace_rec *r);

/* Formats a record: one JSON object (no newline) with `t` and `kind`
 * first; or one readable line (no newline) with aligned columns. */
void eng_trace_json(const eng_trace_rec *r, cr_strbuf *out);
void eng_trace_text(const eng_trace_rec *r, cr_strbuf *out);

/* ---- the engine ------------------------------------------------------ */

/* Someone outside the engine who follows its calls (the admin API, call
 * records, metrics): any of the callbacks may be NULL. */
typedef struct eng_observer {
    eng_trace_cb trace;
    void (*call_start)(void *arg, eng_call *c);
    void (*call_done)(void *arg, eng_call *c);
    void *arg;
} eng_observer;
#define ENG_MAX_OBSERVERS 8

/* A queue agent's state (queue.c). */
typedef enum { ENG_AGENT_LOGGED_OUT, ENG_AGENT_AVAILABLE, ENG_AGENT_PAUSED } eng_agent_mode;

typedef struct eng_options {
    eng_trace_cb trace;        /* may be NULL: no trace */
    void *trace_arg;
    int utc_offset;            /* seconds east of UTC for hour()/weekday()/date() */
    /* > 0: a call still up after this is hung up (by system, cause
     * max_time); the program's settings.limits.max_call_duration too, the
     * shorter of both. */
    double max_duration;
    /* Called for a new call after its standard variables are set and before
     * the route is chosen (simulate --var sets variables here); for an
     * originated call (eng_call_originated) before its party is rung. */
    void (*call_start)(void *arg, eng_call *c);
    void *call_start_arg;
    /* Arena bytes the call_start hooks add to every call (eng_var_bytes of
     * the variables they set): its first arena chunk counts them. */
    size_t call_start_arena;
    /* Called just before a call's memory is freed (after the call record):
     * the last chance to read its variables (simulate, `callroute test`). */
    void (*call_done)(void *arg, eng_call *c);
    void *call_done_arg;
    unsigned random_seed;      /* group strategy `random`; 0: time-based */
    /* Skip the route-by-route explanation in `route` records (it evaluates
     * every route of the type: costly with thousands of routes). */
    bool no_route_explain;
    /* More followers, each told after the callbacks above, in the order
     * added (eng_observe). */
    eng_observer observers[ENG_MAX_OBSERVERS];
    size_t observer_count;
    /* Nothing the engine keeps itself goes to disk: voicemail boxes live in
     * memory, empty at the start (simulate, callroute test). */
    bool dry_run;
    /* Every call keeps every INVITE header as its sip.header.* variable,
     * read or not (simulate and callroute test list a call's variables);
     * otherwise a call keeps only those its program can read
     * (scn_program_reads_header). */
    bool keep_all_headers;
    /* An agent's state was changed here (queue_agent, the admin API), in
     * queue QUEUE: a cluster shares it (docs/cluster.md). Not told for
     * changes applied with eng_queue_agent_apply. */
    void (*agent_changed)(void *arg, const char *queue, const char *number, eng_agent_mode mode,
                          const char *reason);
    void *agent_changed_arg;
} eng_options;

/* The arena bytes a new variable NAME with a string of VALUE_LEN bytes
 * takes (eng_options.call_start_arena). */
size_t eng_var_bytes(const char *name, size_t value_len);

/* Adds O to EO's followers (before eng_engine_new; aborts past
 * ENG_MAX_OBSERVERS: a fixed set of parts registers). */
void eng_observe(eng_options *eo, const eng_observer *o);

/* Takes a reference to PROG; registers itself as TEL's handler. SVC may be
 * NULL (no http/db/email services). */
eng_engine *eng_engine_new(loop *l, tel_driver *tel, struct svc_ctx *svc, scn_program *prog,
                           const eng_options *opt);
/* Reload: new calls take NEW (a reference is taken); running calls finish
 * on the program they started with. */
void eng_engine_set_program(eng_engine *e, scn_program *prog);
/* Ends every call at once (no handlers run) and frees the engine. */
void eng_engine_free(eng_engine *e);
struct svc_ctx *eng_engine_services(eng_engine *e);
loop *eng_engine_loop(eng_engine *e);
tel_driver *eng_engine_driver(eng_engine *e);
/* The driver of the strand's engine (what an application's media ops go to). */
tel_driver *eng_strand_driver(eng_strand *s);
size_t eng_engine_call_count(const eng_engine *e);
/* Actions run so far (every action started, disabled ones included). */
unsigned long long eng_engine_actions(const eng_engine *e);

/* ---- calls ----------------------------------------------------------- */

eng_engine *eng_call_engine(eng_call *c);
const scn_program *eng_call_program(eng_call *c);
const char *eng_call_id(const eng_call *c);
tel_leg *eng_call_leg(eng_call *c);                /* the caller's leg */
double eng_call_start(eng_call *c);                /* loop time the call began */
bool eng_call_answered(eng_call *c);
bool eng_call_ended(eng_call *c);                  /* hung up (hangup handlers may run) */
bool eng_call_bridged(eng_call *c);
cr_arena *eng_call_arena(eng_call *c);
double eng_call_answer_time(const eng_call *c);    /* loop time answered, 0: never */
const char *eng_call_hangup_by(const eng_call *c); /* NULL while the call is up */
const char *eng_call_hangup_cause(const eng_call *c);
int eng_call_hangup_code(const eng_call *c);       /* SIP code of the hangup, 0: normal */

/* Each attempt to reach a party (a dial leg; a number tried through a
 * second gateway is a second attempt), for call detail records. */
typedef struct eng_leg_log {
    const char *agent_number;  /* the target dialled: user, number or URI */
    const char *gateway;       /* NULL: not through a gateway */
    const char *status;        /* answered | busy | no_answer | failed | cancelled */
    double start, answer, end; /* loop times; answer 0: not answered */
    int sip_code;
} eng_leg_log;
/* The call's attempts so far, in the order they ended (valid while the
 * call lives; read them in eng_options.call_done). */
const eng_leg_log *eng_call_legs(const eng_call *c, size_t *count);
const char *eng_call_route(eng_call *c);           /* chosen route name, or NULL */

/* Variables: copied into the call arena; visible to every strand. */
void eng_var_set(eng_call *c, const char *name, cr_value v);
void eng_var_set_str(eng_call *c, const char *name, const char *s);
void eng_var_set_num(eng_call *c, const char *name, double n);
bool eng_var_get(eng_call *c, const char *name, cr_value *out);
/* Calls FN for every variable, in the order first set. */
void eng_var_foreach(eng_call *c, void (*fn)(void *arg, const char *name, cr_value v), void *arg);

/* Ends the call (driver hangup of the caller's leg unless BY is "caller"):
 * every strand is cancelled at its wait, then `hangup` handlers run. BY is
 * caller|scenario|system|transfer|admin; CAUSE normal|busy|congestion|
 * <code>...; SIP_CODE the code for an unanswered call (0: from CAUSE). */
void eng_call_hangup(eng_call *c, const char *by, const char *cause, int sip_code);
/* CAUSE is one a scenario or a client may end a call with: NULL, normal,
 * busy, congestion or a SIP code 400-699. */
bool eng_hangup_cause_valid(const char *cause);
/* Blind transfer of the caller to TO, asked for by BY (scenario|admin):
 * the driver transfers (REFER), the `transfer` event runs, then the call
 * ends (hangup by "transfer"). */
int eng_call_transfer(eng_call *c, const char *to, const char *by);
/* Answers the caller's leg if it is not answered yet (raises `answer`). */
int eng_call_answer(eng_call *c);
/* Signals ringing (180) or early media (183) to an unanswered caller. */
int eng_call_ringing(eng_call *c, bool early_media);

/* ---- control from outside the call ------------------------------------
 * The admin API (POST /calls/ID/...) and simulate --app-event steer a live
 * call through these. Each is refused (-1) once the call has ended
 * (eng_call_ended). Variables set here are the engine's own writes: the
 * trace shows them in their own record, never as an action's result. */

/* A name a client may give a variable from outside (vars of POST /calls
 * and POST /calls/ID/vars, app event data keys, originate's vars): a
 * template variable name (a letter or '_', then letters, digits, '_', '-'
 * and single dots inside) of at most ENG_EXT_NAME_MAX bytes that the
 * engine does not keep for itself: the call's identity (call_id,
 * caller_number, caller_name, called_number, source, route, cdr_id,
 * originated_by, parent_call_id), how it ended (hangup_by, hangup_cause),
 * what events say (event_name, app_event, app_event_data.*) and what the
 * network said (sip.*). False with *WHY (static text). */
#define ENG_EXT_NAME_MAX 64
bool eng_var_name_settable(const char *name, const char **why);

/* Sets N variables; a `vars` record (by BY) lists them. 0, or -1. */
int eng_call_set_vars(eng_call *c, const char *by, const char *const *names, const cr_value *values,
                      size_t n);

/* An app event's name or one of its data keys: the syntax of a variable
 * name, at most ENG_EXT_NAME_MAX bytes (any name: they live under
 * app_event / app_event_data.). */
bool eng_app_name_ok(const char *name);

/* Raises the call event `app` named NAME (from BY): app_event = NAME, each
 * of the N data values as app_event_data.KEY (those of an earlier app event
 * become null), then the handlers registered for it (`event` with on: app
 * and, if given, this name) start. The number of handlers started (a `log`
 * record says so when there is none), -1 (ended) or -2 (a name or key
 * fails eng_app_name_ok). */
int eng_call_app_event(eng_call *c, const char *by, const char *name, const char *const *keys,
                       const cr_value *values, size_t n);

/* ---- originate: calls callroute places --------------------------------
 * A call whose first leg is an outgoing one: the engine rings TO as `dial`
 * does (a user's phones, a group by its strategy, a number through the
 * gateways in order, a SIP URI). The leg events are the call's (trace
 * records, ON's handlers); when the party answers, its leg becomes the
 * call's own leg (the one eng_call_leg returns, "the caller" of hangup_by)
 * and SCENARIO runs as the call's main strand. Unanswered, the call ends
 * (hangup_by system, hangup_cause busy|no_answer|failed). Details:
 * docs/decisions/originate.md. */
typedef struct eng_originate_req {
    /* The call whose `originate` action asks (NULL: a client): the new call
     * runs that call's program (SCENARIO and ON are of it) and names it as
     * its parent; else the program new calls take. */
    eng_call *from;
    const char *const *to;     /* what to ring, as dial's `to` (rung together, first answer wins) */
    size_t to_count;
    const scn_gateway *const *gateways;   /* for numbers, tried in order; none: the program's */
    size_t gateway_count;
    const char *caller_id;     /* presented to the party; the call's caller_number (NULL: "") */
    double ring_timeout;       /* seconds; <= 0: 30 */
    double delay;              /* seconds before the party is rung (0: now) */
    const scn_named_scenario *scenario;   /* run when the party answers (of PROG) */
    const scn_handlers *on;    /* leg events -> actions of PROG, as dial's `on` (may be NULL) */
    const char *const *var_names;         /* the call's variables, set before anything runs */
    const cr_value *var_values;
    size_t var_count;
    const char *by;            /* who asks: admin | scenario | simulate */
} eng_originate_req;

/* The new call (its id: eng_call_id), live until it ends; NULL with ERR
 * when there is nothing to dial or no scenario, or over
 * settings.limits.max_calls calls. */
eng_call *eng_originate(eng_engine *e, const eng_originate_req *req, char *err, size_t errlen);
/* C was placed by callroute (eng_originate). */
bool eng_call_originated(const eng_call *c);
/* The program new calls take. */
scn_program *eng_engine_program(eng_engine *e);

/* ---- strands --------------------------------------------------------- */

eng_call *eng_strand_call(eng_strand *s);
loop *eng_strand_loop(eng_strand *s);
eng_engine *eng_strand_engine(eng_strand *s);
unsigned eng_strand_id(eng_strand *s);
/* True in a `hangup` handler: call control and media are refused there. */
bool eng_strand_in_hangup(eng_strand *s);
/* The action being run (or waited on). */
const scn_action *eng_strand_action(eng_strand *s);

/* Variables + clock + a scratch arena that is reset between actions: the
 * environment for expressions, templates and conditions. The pointer is
 * valid until the next call of this function. */
const scn_env *eng_strand_env(eng_strand *s);
/* Renders T into the scratch arena (valid until the action ends or the
 * next pending/resume). Undefined variables render empty and are noted. */
const char *eng_render(eng_strand *s, const scn_template *t, scn_escape esc);
/* Same, copied into the call arena (lives as long as the call). */
const char *eng_render_keep(eng_strand *s, const scn_template *t, scn_escape esc);
/* Convenience: sets a variable; attributes it to this strand's action. */
void eng_strand_var_set(eng_strand *s, const char *name, cr_value v);

/* Records the failure of the current action: `error` becomes the message,
 * the trace shows it; returns APP_FAILED (return it from run(), or pass it
 * to eng_strand_resume from a completion). A message of exactly "timeout"
 * gives the trace status `timeout`. A cancel hook run for the action's
 * timeout may call it to say more than "timeout": "unknown" (the request
 * had gone out, it may have been carried out; trace status `timeout`). */
app_status eng_fail(eng_strand *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pending work of the current action (an opaque pointer the app's cancel
 * hook reads back). Cleared by the engine when the strand resumes. */
void eng_strand_set_pending(eng_strand *s, void *op);
void *eng_strand_pending(eng_strand *s);
/* Completion of the pending work: ST is APP_DONE, APP_FAILED or APP_STOP.
 * May be called inside run() (the work finished at once) or later from any
 * loop callback. Ignored for a strand that is not waiting. */
void eng_strand_resume(eng_strand *s, app_status st);

/* Nesting (flow apps): runs LIST next in this strand, then returns to the
 * action after the current one. The current action's `end` record is
 * written when the list is done. The pushing action's app_def.frame_end,
 * when set, may restart the list (loops). */
typedef enum {
    ENG_FRAME_NEST,            /* then/else/cases/do */
    ENG_FRAME_SCENARIO,        /* a named scenario or a to_user/to_gateway route: `break` stops here */
} eng_frame_kind;
void eng_strand_push(eng_strand *s, const scn_actions *list, eng_frame_kind kind, const void *tag);
/* True when a frame pushed with TAG is on this strand's stack. */
bool eng_strand_has_tag(eng_strand *s, const void *tag);
/* `break`: unwinds to the innermost loop and leaves it; false when there is
 * no loop in the current scenario. */
bool eng_strand_break(eng_strand *s);

/* Starts LIST in a new strand of the same call (stream, handlers). NAME is
 * the strand's name in the trace. Over settings.limits.max_streams it
 * returns NULL, the current action's failure is set (return APP_FAILED)
 * and S stops after it: a runaway script, reported in the trace. */
eng_strand *eng_strand_spawn(eng_strand *s, const scn_actions *list, const char *name);

/* Starts LIST in a new handler strand of C named NAME (an application's
 * outcome handler: queue's `on: answer`); NULL when the call has ended or
 * (an error record in the trace) over settings.limits.max_streams. */
eng_strand *eng_call_spawn(eng_call *c, const scn_actions *list, const char *name);

/* `event`: from now on, each occurrence of an event in MASK (1u << scn_event)
 * runs LIST in a new strand. NAMES (N, copied; may be 0): an `app` event
 * runs LIST only when its name is one of them. A handler strand reads the
 * event that started it as `event_name` (its own, not a call variable). */
void eng_event_register(eng_strand *s, unsigned mask, bool once, const scn_actions *list,
                        const char *const *names, size_t n);

/* ---- speech ---------------------------------------------------------- */

/* Speaks TEXT to the caller: synthesised on the worker pool (or taken from
 * the engine's speech cache: settings.media.tts_cache) then played, DONE
 * called as a driver operation's (digit 0). LANGUAGE/VOICE NULL or "":
 * settings.media.tts_language / tts_voice. A log record in the trace says
 * what was said and whether it was synthesised or cached. NULL (and the
 * action's failure set) when it cannot start. */
typedef struct eng_speech eng_speech;
eng_speech *eng_speak(eng_strand *s, const char *text, const char *language, const char *voice,
                      tel_op_done_cb done, void *arg);
/* Stops it; DONE is not called afterwards. */
void eng_speech_cancel(eng_speech *sp);

/* ---- the trace from applications ------------------------------------- */

void eng_trace_log(eng_strand *s, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eng_trace_email(eng_strand *s, const char *to, const char *subject, const char *body);
/* The same with cc (NULL: none). */
void eng_trace_email_cc(eng_strand *s, const char *to, const char *cc, const char *subject,
                        const char *body);

/* ---- telephony for the call and media apps --------------------------- */

/* File paths are resolved here and only here; drivers and services get the
 * result and open it as is. A path is below one of two directories:
 * prompts below settings.media.sounds, recordings and attachments below
 * settings.media.recordings (both relative to the scenario file's folder
 * unless absolute). */
typedef enum {
    ENG_DIR_SOUNDS,
    ENG_DIR_RECORDINGS,
} eng_dir;

/* Resolves NAME (already rendered) below DIR: relative to it, or absolute
 * and inside it. Returns the path to open (scratch arena), or NULL when it
 * is empty or outside DIR — after `..` and symlinks — with *WHY (scratch)
 * saying so, naming WHAT ("prompt", "recording", ...), NAME and the setting. */
const char *eng_file_resolve(eng_strand *s, eng_dir dir, const char *what, const char *name,
                             const char **why);
/* Renders T with SCN_ESC_PATH (a value cannot add a directory or climb out:
 * '/', '\\', NUL and its leading '.' become '_'), then eng_file_resolve.
 * The path is absolute only when T's own text starts with '/'. */
const char *eng_file_path(eng_strand *s, eng_dir dir, const char *what, const scn_template *t,
                          const char **why);

/* The hold music of call C (its route's `hold_music`, else
 * settings.media.hold_music) resolved below settings.media.sounds into
 * OUT; NULL when there is none (*WHY set when the name was refused). */
const char *eng_hold_music(eng_call *c, char *out, size_t n, const char **why);

/* The agent's leg while the call is bridged (dial answered), else NULL. */
tel_leg *eng_call_agent_leg(eng_call *c);

/* Per-call state of an application that outlives its action (record_call):
 * the value under KEY (NULL: none), and setting it. FINISH(VALUE) runs once
 * when the call's memory is about to go (after the hangup handlers), and is
 * the value's last chance to let go of driver operations. */
void *eng_call_slot(eng_call *c, const void *key);
void eng_call_set_slot(eng_call *c, const void *key, void *value, void (*finish)(void *value));

/* record_call: both sides of the bridged call to PATH (resolved), stereo
 * (caller left, agent right) or mixed, until the call ends or STOP; before
 * the bridge it starts when the dial is answered. Sets record_call_file, and
 * record_call_duration when it ends. -1 with *WHY when it cannot. */
int eng_record_call_start(eng_strand *s, const char *path, bool stereo, const char **why);
typedef enum { ENG_REC_STOP, ENG_REC_PAUSE, ENG_REC_RESUME } eng_record_action;
/* Pause writes silence for the paused span (the channels stay aligned). */
int eng_record_call_control(eng_strand *s, eng_record_action act, const char **why);

/* DTMF from the caller goes to one collector at a time (read_digits). */
typedef void (*eng_dtmf_cb)(eng_strand *s, char digit, void *arg);
void eng_dtmf_watch(eng_strand *s, eng_dtmf_cb cb, void *arg);
void eng_dtmf_unwatch(eng_strand *s);

/* `dial`: rings TARGETS (all at once, or one after another for hunt
 * groups) and waits until the bridged conversation ends or the dial fails.
 * Returns APP_PENDING (or APP_FAILED at once). Sets dial_status,
 * dial_sip_code, dial_duration, agent_number, agent_name. */
typedef struct eng_dial_target {
    tel_dial_kind kind;
    /* GATEWAYS outlive the call (its program's: a dial action's own
     * list): a dial points at them instead of copying them. */
    bool gateways_kept;
    const char *target;        /* user number, dialled number, or SIP URI */
    const scn_gateway *const *gateways;   /* TEL_DIAL_GATEWAY: tried in order */
    size_t gateway_count;
    const char *agent_name;    /* users[].name, or NULL */
} eng_dial_target;

typedef struct eng_dial_req {
    const eng_dial_target *targets;   /* copied */
    size_t count;
    bool sequential;           /* one after another, each for ring_timeout */
    double ring_timeout;
    const char *caller_id;
    const char *ringback;      /* NULL, "tone", or a resolved prompt path */
    const scn_handlers *on;    /* dial.on */
} eng_dial_req;
app_status eng_dial_start(eng_strand *s, const eng_dial_req *req);
/* The dial app's cancel hook. */
void eng_dial_cancel(eng_strand *s);

/* The to_user / to_gateway route for a dialled TARGET (called_number and
 * dial_target read as TARGET while the conditions are evaluated), traced
 * with its explanation; NULL when none matches. */
const scn_route *eng_route_leg(eng_strand *s, scn_route_type type, const char *target);

/* What dial's `to:` names, resolved into targets (targets.c): shared by
 * dial and originate. */
typedef struct eng_targets {
    eng_dial_target *items;
    size_t count, cap;
    bool sequential;           /* a lone hunt group: one member after another */
    const scn_gateway **all_gws;   /* the program's gateways, when none was named */
} eng_targets;
/* Adds what TO (rendered) names: a user, a group's members in strategy
 * order (ALONE: TO is the only target, so a hunt group rings its members
 * one by one), a SIP URI, or a number through GWS (none: the program's
 * gateways). Empty TO adds nothing. False with ERR when a number has no
 * gateway. */
bool eng_targets_add(eng_engine *e, const scn_program *prog, eng_targets *t, const char *to,
                     const scn_gateway *const *gws, size_t gw_count, bool alone, char *err, size_t errlen);
void eng_targets_free(eng_targets *t);

/* ---- calls that meet other calls ----------------------------------------
 * Conference rooms, joining a live call, park and pickup (conference.c,
 * join.c, park.c): the state shared across calls lives in the engine; the
 * audio of legs in one room is mixed by the driver (tel.h: a leg in a
 * mix). Each writes MEET trace records in the calls concerned. */

/* A MEET record in C (fields of M: event, phase, room, mode, slot, peer,
 * member, cause). */
void eng_trace_meet(eng_call *c, eng_strand *s, const eng_trace_rec *m);

/* Music: the prompt PATH (resolved) played over and over on LEG until
 * stopped. NULL when PATH is NULL. */
typedef struct eng_music eng_music;
eng_music *eng_music_start(eng_engine *e, tel_leg *leg, const char *path);
void eng_music_stop(eng_music *m);

/* The live call named ID (the newest of the calls with that Call-ID that
 * has not ended), or NULL. */
eng_call *eng_call_find(eng_engine *e, const char *id);
/* The live call user NUMBER is on: as the agent a dial reached (answered),
 * or as the caller (source user:NUMBER); *LEG: that user's leg in it. */
eng_call *eng_call_of_user(eng_engine *e, const char *number, tel_leg **leg);
/* C's caller is a user (source user:N) who is a member of group GROUP. */
bool eng_call_user_in_group(eng_call *c, const char *group);

/* conference: S's caller joins ROOM (rendered and checked); the action
 * waits until the member leaves (its leave key, kicked, the room closed)
 * or the call ends. Sets conference_room, conference_member_id,
 * conference_members, conference_moderator, conference_muted and, when
 * it ends, conference_status. */
typedef struct eng_conf_join {
    const char *room;
    const scn_conference *conf;   /* its settings (NULL: the defaults) */
    bool muted, moderator;
    /* A room with a pin asks for it (unless MODERATOR): PIN_PROMPT is
     * spoken, digits end with # (or 16 of them, or 5 s of quiet); the room's
     * moderator_pin makes a moderator. PIN_TRIES attempts. */
    const char *pin_prompt;
    int pin_tries;
} eng_conf_join;
app_status eng_conf_start(eng_strand *s, const eng_conf_join *j);
void eng_conf_cancel(eng_strand *s);
/* For the admin API: every room and member, as they are now. */
typedef struct eng_conf_member_info {
    unsigned id;
    const char *call_id, *number, *name;
    bool muted, moderator;
    double joined;
} eng_conf_member_info;
typedef struct eng_conf_room_info {
    const char *name;
    int max_members;
    double created;
    size_t count;
    const eng_conf_member_info *members;
} eng_conf_room_info;
void eng_conf_each(eng_engine *e, void (*fn)(void *arg, const eng_conf_room_info *r), void *arg);
/* 0; -1 no such room; -2 no such member. BY names who asked ("admin"). */
int eng_conf_set_muted(eng_engine *e, const char *room, unsigned member, bool muted, const char *by);
int eng_conf_kick(eng_engine *e, const char *room, unsigned member, const char *by);

/* join: S's caller joins the call TARGET. BRIDGE: S's caller takes the
 * place of AGENT (the party TARGET's other side talks to; AGENT is hung
 * up), TARGET ends (hangup_by transfer, cause join) and the conversation
 * goes on in S's call as a dial's would. LISTEN/WHISPER/BARGE: the three
 * legs are mixed (listen: S is heard by nobody; whisper: by AGENT only;
 * barge: by both); the action waits until TARGET's conversation ends or S
 * hangs up. Sets join_status, join_call_id, join_mode. */
typedef enum { ENG_JOIN_BRIDGE, ENG_JOIN_LISTEN, ENG_JOIN_WHISPER, ENG_JOIN_BARGE } eng_join_mode;
extern const char *const eng_join_mode_names[];
app_status eng_join_start(eng_strand *s, eng_call *target, tel_leg *agent, eng_join_mode mode);
void eng_join_cancel(eng_strand *s);

/* park: S's call's caller waits in a slot (with music) until a `pickup`
 * takes it, the caller hangs up, or TIMEOUT; on the timeout ON_TIMEOUT
 * runs in the strand (when given), else the call is returned to the
 * parker (rung as a dial rings a user). A call bridged to an agent when it
 * is parked: the agent is told the slot and let go, and the dial that
 * bridged them ends when the park does. Sets park_slot, park_status. */
typedef struct eng_park_req {
    const char *slot;              /* NULL: the first free of settings.park.slots */
    const char *music;             /* resolved prompt, NULL: settings.park.music (or none) */
    const char *announce;          /* spoken before parking; NULL: "Parked at <slot>"; "": none */
    double timeout;                /* seconds; 0: none */
    const scn_actions *on_timeout; /* NULL: return to the parker */
    const char *parker;            /* who parked it (a user or number); NULL: the agent it talked to */
} eng_park_req;
app_status eng_park_start(eng_strand *s, const eng_park_req *r);
void eng_park_cancel(eng_strand *s);
/* The app's frame_end: the `on: timeout` actions are done. */
void eng_park_frame_end(eng_strand *s);
/* pickup: S's caller takes the call parked in SLOT, or a call ringing one
 * of USERS (directed or group pickup); that call ends (hangup_by
 * transfer, cause pickup) and its caller talks to S's as after a dial.
 * Sets pickup_status (answered | empty), pickup_call_id. */
app_status eng_pickup_slot(eng_strand *s, const char *slot);
app_status eng_pickup_ringing(eng_strand *s, const char *const *users, size_t n);

/* Per-user bookkeeping for the group and queue strategies (across calls). */
double eng_agent_idle_since(eng_engine *e, const char *number);   /* 0: never called */
unsigned long eng_agent_calls(eng_engine *e, const char *number); /* calls answered */
/* Dial legs to the user (ringing or up) and calls from it now: > 0 busy. */
unsigned eng_user_busy_count(eng_engine *e, const char *number);
unsigned eng_group_next(eng_engine *e, const char *group);       /* round-robin cursor */
unsigned eng_random(eng_engine *e);
/* Orders the N user numbers ORDER in place as strategy ST rings them:
 * ring-all and linear as written; round-robin from index CURSOR (mod N);
 * longest-idle by idle time (never called first; ties as written);
 * fewest-calls by CALLS(ARG, number) (NULL: eng_agent_calls); random. */
void eng_strategy_order(eng_engine *e, scn_group_strategy st, const char **order, size_t n, unsigned cursor,
                        unsigned long (*calls)(void *arg, const char *number), void *arg);

/* ---- queues (queue.c): automatic call distribution --------------------
 * The engine keeps each queue's state across calls: its waiting callers
 * (by priority, then arrival), its agents (logged in, paused with a
 * reason, logged out; the ones the definition lists start logged in) and
 * its figures. A waiting caller's strand waits in the `queue` application;
 * the engine offers it to agents by the queue's strategy (an agent who is
 * busy on any call, ringing, paused or resting after a call is passed
 * over; one who does not answer in ring_timeout is skipped for that caller
 * until every other was tried) and tells the application through HOOKS. */
typedef struct eng_qentry eng_qentry;
typedef struct eng_queue_hooks {
    /* An agent answered: the caller is being bridged to it. */
    void (*answered)(void *arg, const char *number, const char *name);
    /* The conversation ended from the agent's side. */
    void (*ended)(void *arg);
} eng_queue_hooks;
/* The caller of S joins DEF's queue with PRIORITY (higher first): its
 * position (1: next) in *POSITION. NULL when it may not, *REFUSED saying
 * why: "full" (max_waiting callers wait) or "no_agents" (none logged in,
 * or all paused). */
eng_qentry *eng_queue_enter(eng_strand *s, const scn_queue *def, int priority, const eng_queue_hooks *h, void *arg,
                            int *position, const char **refused);
/* The caller leaves: WHY is answered (after the conversation), timeout,
 * exit or abandoned (the caller hung up). A ringing agent is cancelled, a
 * conversation still up ended; W is freed. */
void eng_queue_leave(eng_qentry *w, const char *why);
/* Where W waits now (1: next), and the wait it may expect (seconds; 0:
 * not known yet: no call has been answered). */
int eng_queue_position(const eng_qentry *w, double *estimate);
/* How long W has waited. */
double eng_queue_waited(const eng_qentry *w);

/* Agent NUMBER logs in (AVAILABLE), out, or pauses (with REASON, may be
 * NULL) in queue QUEUE of PROG (NULL: every queue of PROG that has it as
 * an agent). An agent a queue does not list joins it (a user only). The
 * number of queues changed; -1 with ERR (unknown queue, not a user, or no
 * queue has it). */
int eng_queue_agent_set(eng_engine *e, const scn_program *prog, const char *queue, const char *number,
                        eng_agent_mode mode, const char *reason, char *err, size_t errlen);

/* A state another node decided (the cluster's shared agent table): set
 * as eng_queue_agent_set would for QUEUE, without telling agent_changed.
 * False when NUMBER is not a user of the program in force. */
bool eng_queue_agent_apply(eng_engine *e, const char *queue, const char *number, eng_agent_mode mode,
                           const char *reason);
/* Busy-ness across a cluster: FN is told each user busy here now (a dial
 * leg ringing or up, or a call of its own); eng_users_busy_elsewhere
 * replaces the set of users busy on other nodes, which queues pass over
 * as if busy here (and GET /queues shows busy). */
void eng_users_busy_each(eng_engine *e, void (*fn)(void *arg, const char *number), void *arg);
void eng_users_busy_elsewhere(eng_engine *e, const char *const *numbers, size_t n);
bool eng_user_busy_elsewhere(eng_engine *e, const char *number);

/* GET /queues: each queue of the program in force, as it is now. */
typedef struct eng_queue_agent_info {
    const char *number, *name;
    const char *state;         /* available, ringing, busy, wrapup, paused, logged_out */
    const char *reason;        /* paused: why (may be NULL) */
    unsigned long calls;       /* answered from this queue */
    double last_call_end;      /* epoch seconds; 0: none yet */
} eng_queue_agent_info;
typedef struct eng_queue_info {
    const char *name, *strategy;
    size_t waiting;
    double longest_wait;       /* seconds the first caller in line has waited; 0: none */
    unsigned long answered, answered_in_sla, abandoned, timeouts, exits, refused;
    double sla;                /* seconds */
    double service_level;      /* percent answered within sla of the callers that left; < 0: none yet */
    double average_wait;       /* of answered calls; 0: none */
    const eng_queue_agent_info *agents;
    size_t agent_count;
} eng_queue_info;
void eng_queues_each(eng_engine *e, void (*fn)(void *arg, const eng_queue_info *q), void *arg);

/* ---- voicemail (mailbox.c) -------------------------------------------
 * Each user with `voicemail:` has a box below settings.media.recordings:
 * voicemail/BOX/new/ and old/ hold messages (ID.wav, ID.json: caller,
 * time, duration), greeting.wav the owner's greeting. The engine keeps an
 * index of each box it has read (read once, on the worker pool) and tells
 * the driver the counts (mwi) whenever they change. All file work is on
 * the worker pool; with eng_options.dry_run boxes live in memory only. */
typedef struct eng_vm_msg {
    const char *id;
    const char *caller, *caller_name, *call_id;
    double time, duration;
    bool old;                  /* listened to (old/), else new */
} eng_vm_msg;
typedef struct eng_vm_box eng_vm_box;
/* The box of user BOX (a user of the call's program with voicemail); NULL
 * otherwise. */
eng_vm_box *eng_vm_box_get(eng_call *c, const char *box);
const char *eng_vm_box_name(const eng_vm_box *b);
/* DONE runs (on a later loop turn) once the box's messages are known. */
void eng_vm_box_load(eng_vm_box *b, void (*done)(void *arg), void *arg);
/* Forgets the loads asked for with ARG (its asker is going away). */
void eng_vm_box_load_cancel(eng_vm_box *b, void *arg);
/* Its messages (new first, oldest first within each), valid until the
 * box changes. */
size_t eng_vm_box_messages(eng_vm_box *b, const eng_vm_msg **out);
void eng_vm_box_counts(eng_vm_box *b, unsigned *new_, unsigned *old);
/* Paths (scratch arena of the call's strand): where a new message is
 * recorded before it is saved, and the box's greeting. */
const char *eng_vm_record_path(eng_strand *s, eng_vm_box *b, const char **why);
const char *eng_vm_greeting_path(eng_strand *s, eng_vm_box *b, const char **why);
/* Saves the message recorded at TMP (DURATION seconds, from the call's
 * caller): moved into new/ with its metadata, the phones told; DONE(ARG,
 * PATH of the saved WAV or NULL, ERR) on the loop. Returns the job, to
 * detach from (its DONE is then not called: the call went away); NULL
 * when it is already done (dry run: DONE has run). */
typedef struct eng_vm_job eng_vm_job;
eng_vm_job *eng_vm_save(eng_strand *s, eng_vm_box *b, const char *tmp, double duration,
                        void (*done)(void *arg, const char *path, const char *err), void *arg);
/* The greeting recorded at TMP becomes the box's (as eng_vm_save). */
eng_vm_job *eng_vm_set_greeting(eng_strand *s, eng_vm_box *b, const char *tmp,
                                void (*done)(void *arg, const char *err), void *arg);
void eng_vm_job_detach(eng_vm_job *j);
/* Message ID is listened to (moves to old/), or deleted. */
void eng_vm_mark_old(eng_vm_box *b, const char *id);
void eng_vm_delete(eng_vm_box *b, const char *id);
/* The WAV of message M (scratch arena of S's call). */
const char *eng_vm_msg_path(eng_strand *s, eng_vm_box *b, const eng_vm_msg *m);
/* Discards a recording that was too short. */
void eng_vm_discard(eng_call *c, const char *path);

#endif

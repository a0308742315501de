/* appdef.h — one application's table entry (STYLE.md: registries as tables).
 * Each src/apps/<family>.c exports a static const array of these, built with
 * designated initialisers; src/apps/registry.c lists the arrays.
 *
 * The scenario layer reads the spec half (name, params, flags, check) to
 * validate and compile an action's parameters once, at load; the engine
 * calls the run half. Engine types are only forward-declared here. */
#ifndef SCN_APPDEF_H
#define SCN_APPDEF_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/node.h"
#include "scenario/param.h"
#include "scenario/program.h"

struct eng_strand;
struct scn_compile_ctx;

/* What run() returns (nginx's NGX_OK / NGX_ERROR / NGX_AGAIN / NGX_DONE). */
typedef enum {
    APP_DONE,     /* finished; go on with the next action */
    APP_FAILED,   /* failed; the engine sets `error`, runs on_error, goes on */
    APP_PENDING,  /* asynchronous work started; its completion resumes the strand */
    APP_STOP,     /* end this strand */
} app_status;

enum {
    APP_WAITS = 1u << 0,        /* may wait: accepts the common `timeout:` */
    APP_OWN_TIMEOUT = 1u << 1,  /* `timeout:` means something of its own (dial, read_digits) */
    APP_CALL_CONTROL = 1u << 2, /* acts on the call: refused in hangup handlers */
    APP_MEDIA = 1u << 3,        /* needs media: refused in hangup handlers */
    APP_NESTS = 1u << 4,        /* has nested action lists */
    /* Its wait is not cancelled when the call ends: the driver finishes the
     * work (a recording ended by the caller's hangup is complete) and the
     * strand goes on after it as a hangup handler would (no media, no call
     * control; within hangup_grace). */
    APP_OUTLIVES_HANGUP = 1u << 5,
};

typedef struct app_def {
    const char *name;           /* `app:` value */
    const char *family;         /* flow | call | media | integration */
    const char *summary;        /* one line for docs and the JSON Schema */
    const scn_param *params;    /* terminated by SCN_PARAM_END */
    size_t params_size;         /* sizeof the compiled parameter struct */
    unsigned flags;
    double default_timeout;     /* seconds; 0 = none (common timeout only when given) */
    /* Cross-field checks after the generic compile; report through CX.
     * May be NULL. Return false when an error was reported. */
    bool (*check)(struct scn_compile_ctx *cx, const scn_node *action, void *params);
    /* Runs the action. */
    app_status (*run)(struct eng_strand *s, const scn_action *a);
    /* Cancels the pending work run() started (hangup, timeout). NULL when
     * the engine's own wait bookkeeping is enough. */
    void (*cancel)(struct eng_strand *s, const scn_action *a);
    /* Called when a frame this action pushed runs out of actions: return
     * true to run the frame again (loops). NULL: the frame is popped. */
    bool (*frame_end)(struct eng_strand *s, const scn_action *a, long *counter);
} app_def;

/* A family's table ends with APP_END; the registry is a NULL-terminated
 * array of tables. */
#define APP_END {.name = NULL}
typedef const app_def *app_table;

#endif

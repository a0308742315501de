/* compile_int.h — private to the compiler's files (compile*.c, program.c).
 * The public context (scn_compile_ctx) is the first member of the private
 * one, so check hooks see only what compile.h promises. */
#ifndef SCN_COMPILE_INT_H
#define SCN_COMPILE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/compile.h"

/* A string-keyed open-addressing hash living in an arena (name lookups). */
typedef struct scn_strmap {
    size_t cap, count;
    const char **keys;
    void **vals;
} scn_strmap;

/* Returns the value already stored under KEY (and stores nothing), or NULL
 * after storing VAL. */
void *scn_strmap_put(cr_arena *a, scn_strmap *m, const char *key, void *val);
void *scn_strmap_get(const scn_strmap *m, const char *key);

/* The program's name indexes (scn_program.lookup). */
struct scn_lookup {
    scn_strmap users, groups, gateways, queues, databases, scenarios, routes, conferences;
};

typedef struct scn_cx {
    scn_compile_ctx pub;          /* must stay first */
    const char **app_names;       /* every application name, NULL-terminated */
    bool *scenario_used;          /* per prog->scenarios entry */
    int hangup_depth;             /* > 0 inside a hangup-only event handler */
    bool message_route;           /* compiling a `type: message` route's script */
    bool bypass_route;            /* compiling a `media: bypass` route's script */
    const char *top_file;         /* the root file (settings live only there) */
    scn_strmap known_keys;        /* app name -> its keys, NULL-terminated (built once) */
} scn_cx;

static inline scn_cx *scn_cx_priv(scn_compile_ctx *cx) { return (scn_cx *)cx; }

/* Sections: settings (compile_settings.c), users, groups, gateways
 * (compile_directory.c). */
void scn_compile_settings(scn_cx *x, const scn_node *n);
/* A user, group, gateway or database name: letters, digits, _-.+, not empty. */
bool scn_name_ok(const char *s);
/* `srtp: off|optional|required` (node V) into *OUT (settings.media, a user, a gateway). */
void scn_compile_srtp(scn_cx *x, const scn_node *v, scn_srtp *out);
void scn_compile_users(scn_cx *x, const scn_node *n);
void scn_compile_groups(scn_cx *x, const scn_node *n);
void scn_compile_gateways(scn_cx *x, const scn_node *n);
/* queues: (compile_queues.c), after users and groups. */
void scn_compile_queues(scn_cx *x, const scn_node *n);
/* A prompt file named in a section (settings.media.hold_music, a queue's
 * music, a route's hold_music): below settings.media.sounds (an error
 * otherwise) and looked at by `callroute check` (compile_params.c). */
void scn_check_sound_file(scn_cx *x, const scn_node *v, const char *what, const char *name);
/* G's number_pattern from N (NULL: the default), compiled; false: reported (gateway.c). */
bool scn_gateway_compile_number_pattern(scn_compile_ctx *cx, scn_gateway *g, const scn_node *n);
void scn_settings_defaults(scn_program *p);
/* Calls that meet (compile_meet.c): settings.park, settings.join, conferences. */
void scn_compile_park(scn_cx *x, const scn_node *n);
void scn_compile_join(scn_cx *x, const scn_node *n);
void scn_compile_conferences(scn_cx *x, const scn_node *n);
/* A prompt file named by literal text in a section (not an action): its
 * path below settings.media.sounds (an error when outside), listed for
 * `callroute check`. NULL when reported. */
const char *scn_sound_file(scn_cx *x, const scn_node *v, const char *what);

/* Scenarios and routes (compile_routes.c). */
void scn_declare_scenarios(scn_cx *x, const scn_node *n);
void scn_compile_scenarios(scn_cx *x, const scn_node *n);
void scn_compile_routes(scn_cx *x, const scn_node *n);
void scn_warn_unused_scenarios(scn_cx *x);
/* A `scenario: NAME` reference: must exist (suggestion otherwise); marks it used. */
const scn_named_scenario *scn_ref_scenario(scn_cx *x, const scn_node *n);

/* References checked by the parameter compiler (compile_params.c). */
const scn_gateway *scn_ref_gateway(scn_cx *x, const scn_node *n);
const scn_database *scn_ref_database(scn_cx *x, const scn_node *n);
/* One action (compile_actions.c); the path must already name it. */
bool scn_compile_action(scn_cx *x, const scn_node *n, scn_action *out);
/* Parameters of APP from action map N into a new params block (compile_params.c). */
bool scn_compile_params(scn_cx *x, const app_def *app, const scn_node *n, void **params);

/* Shared helpers (compile.c). */
/* "a, b or c" into BUF. */
const char *scn_join_choices(const char *const *choices, char *buf, size_t size);
const char *scn_node_describe(const scn_node *n, char *buf, size_t size);
/* Reports every key of map N not in KNOWN (NULL-terminated) with a suggestion;
 * WHAT names the map in the message ("a route", "settings.smtp"). */
bool scn_check_keys(scn_cx *x, const scn_node *n, const char *const *known, const char *what);
bool scn_expect_map(scn_cx *x, const scn_node *n, const char *what);
/* A scalar that is a string (plain or quoted, not null); reports otherwise. */
const char *scn_expect_string(scn_cx *x, const scn_node *n, const char *what);
bool scn_expect_bool(scn_cx *x, const scn_node *n, bool *out);
/* Integer in [MIN, MAX]. */
bool scn_expect_int(scn_cx *x, const scn_node *n, long min, long max, long *out);
bool scn_expect_number(scn_cx *x, const scn_node *n, double min, double max, double *out);
/* An enum value; *OUT is the index into CHOICES. */
bool scn_expect_enum(scn_cx *x, const scn_node *n, const char *const *choices, int *out);
/* Resolves PATH against the program's directory (absolute paths as is). */
const char *scn_resolve_path(scn_cx *x, const char *path);

/* Path helpers for a key or index push with the matching pop. */
#define SCN_WITH_KEY(x, key) for (size_t scn_old_ = scn_path_key(&(x)->pub.path, (key)), scn_once_ = 1; \
                                  scn_once_; scn_once_ = 0, scn_path_pop(&(x)->pub.path, scn_old_))
#define SCN_WITH_INDEX(x, i) for (size_t scn_old_ = scn_path_index(&(x)->pub.path, (i)), scn_once_ = 1; \
                                  scn_once_; scn_once_ = 0, scn_path_pop(&(x)->pub.path, scn_old_))

#endif

/* admin_int.h — private to src/admin: the server, a request, replies, and
 * what each resource file gives the server. */
#ifndef ADMIN_INT_H
#define ADMIN_INT_H

#include <jansson.h>
#include <microhttpd.h>

#include "admin/admin.h"
#include "admin/admin_route.h"
#include "util/strbuf.h"

typedef struct admin_calls admin_calls;   /* calls.c */
typedef struct admin_events admin_events; /* events.c */
typedef struct admin_metrics admin_metrics;   /* metrics.c */

/* An answer that is not JSON: one of the editor's files (bytes in static
 * storage, never copied or freed), a redirect, a 304. */
typedef struct admin_raw {
    const unsigned char *data;
    size_t len;
    const char *content_type, *cache_control;
    const char *content_encoding;   /* "gzip" or NULL */
    const char *location;           /* a redirect's target, or NULL */
    bool vary_encoding;             /* another encoding exists: Vary: Accept-Encoding */
    const char *csp;                /* an HTML page: its Content-Security-Policy (else NULL) */
} admin_raw;

/* One HTTP request, from its first byte to its answer. A handler answers
 * with admin_reply*() at once, or later (after work on the loop: the
 * request is suspended meanwhile and resumed by the reply). */
typedef struct admin_req {
    admin *a;
    struct MHD_Connection *conn;
    const char *method, *url;       /* MHD's, valid for the request */
    admin_resource res;
    const char *param;              /* the id or number in the path, or NULL */
    const char *param2;             /* a second one (a conference member, a queue agent's number), or NULL */
    cr_strbuf body;
    bool too_large;
    /* the answer */
    bool answered, suspended;
    unsigned code;
    char *reply;                    /* one line of JSON (malloc'd) ... */
    const char *content_type;       /* ... or, when set, a body of this type sent as it is */
    struct MHD_Response *stream;    /* or a body that comes later (GET /events) */
    bool has_raw;                   /* or static bytes (the editor's files) */
    admin_raw raw;
    char etag[32];
    const char *allow;              /* 405: the Allow header */
    /* Work a handler left running: cancelled if the admin API goes away
     * (or the request is dropped) before it answers. */
    void (*cancel)(struct admin_req *r);
    void *op;
    struct admin_req *next_waiting; /* a->waiting */
} admin_req;

struct admin {
    loop *l;
    struct MHD_Daemon *d;
    loop_watch *w;
    loop_timer *timer;
    int port;
    bool loopback;                  /* the listener is on 127.0.0.0/8 or ::1 */
    char *token;
    admin_options opt;
    scn_program *prog;
    admin_calls *calls;
    admin_events *events;           /* events.c: the /events streams */
    eng_engine *eng;                /* POST /calls and steering; NULL until set */
    bool refuse_new;                /* draining: no new calls placed */
    admin_metrics *metrics;
    struct rec_ctx *rec;            /* call records (GET /metrics), or NULL */
    struct admin_status *status;    /* status.c: refusals */
    admin_req *waiting;             /* suspended requests */
    struct admin_cluster *cluster;  /* cluster.c: the node's heartbeat, or NULL */
    /* MHD's messages: into the caller's buffer while starting, then stderr */
    char *err;
    size_t errlen;
};

/* ---- replies (server.c) ---- */
/* Answers R with CODE and O (stolen; one line of JSON). */
void admin_reply(admin_req *r, unsigned code, json_t *o);
/* {"error": MSG} (with more fields from EXTRA, stolen, may be NULL). */
void admin_reply_error(admin_req *r, unsigned code, const char *msg, json_t *extra);
/* A body already encoded as JSON (malloc'd, stolen). */
void admin_reply_text(admin_req *r, unsigned code, char *json);
/* A body of another CONTENT_TYPE (static), sent as it is (malloc'd, stolen). */
void admin_reply_body(admin_req *r, unsigned code, const char *content_type, char *body);
/* RAW (copied; its bytes are not). */
void admin_reply_raw(admin_req *r, unsigned code, const admin_raw *raw);
/* A string from the network may not be UTF-8: jansson refuses it, and the
 * field is then null rather than missing. */
json_t *admin_jstr(const char *s);
json_t *admin_jtime(double t);
/* Text a client may send: no NUL, no control characters but tab. */
bool admin_clean_text(const char *s, size_t len);
char *admin_dump(json_t *o);
/* Answers R with RESP (status 200, its own headers), a body produced
 * later by a content reader; GONE(R) runs when the request is over (OP in
 * R->op). */
void admin_reply_stream(admin_req *r, struct MHD_Response *resp, void (*gone)(admin_req *r), void *op);
/* Lets MHD do what is ready now (after resuming connections). */
void admin_run(admin *a);

/* ---- resources ---- */
/* calls.c: the calls the engine runs, as the trace hooks tell them */
admin_calls *admin_calls_new(admin *a);
void admin_calls_hook(admin_calls *c, eng_options *eo);
size_t admin_calls_live(const admin_calls *c);
/* Live calls running on revision N. */
size_t admin_calls_on_revision(const admin_calls *c, long n);
void admin_calls_free(admin_calls *c);
/* The live call ID names (a live one before a finished one of the same
 * id); NULL with *KNOWN true when only a finished one does. */
eng_call *admin_calls_find_live(admin_calls *c, const char *id, bool *known);
void admin_get_calls(admin_req *r);
void admin_get_call(admin_req *r);
/* status.c */
void admin_status_init(admin *a);
void admin_status_free(admin *a);
void admin_get_health(admin_req *r);
void admin_get_refused(admin_req *r);
/* cdr.c */
void admin_get_cdr(admin_req *r);
/* editor.c: the editor's static files; a page of files compiled into the
 * binary (editor_assets.h) served under PATH/ */
typedef struct admin_page {
    const struct admin_editor_asset *files;
    const char *path, *slashed;     /* "/editor" and "/editor/" */
    const char *what;               /* "editor", for the messages */
    const char *csp;                /* index.html's Content-Security-Policy */
} admin_page;
void admin_serve_page(admin_req *r, const admin_page *pg);
void admin_get_editor(admin_req *r);
/* phone.c: the browser phone's static files */
void admin_get_phone(admin_req *r);
/* simulate.c: one call of a scenario text on the simulator */
void admin_simulate(admin_req *r);
/* scenario.c: the scenario file and its revisions */
void admin_get_scenario(admin_req *r);
void admin_put_scenario(admin_req *r);
void admin_validate_scenario(admin_req *r);
void admin_reload(admin_req *r);
void admin_get_revisions(admin_req *r);
void admin_get_revision(admin_req *r);
void admin_restore_revision(admin_req *r);
/* control.c: place calls, steer live ones */
void admin_post_originate(admin_req *r);
void admin_post_call_event(admin_req *r);
void admin_post_call_hangup(admin_req *r);
void admin_post_call_transfer(admin_req *r);
void admin_post_call_vars(admin_req *r);
/* events.c: GET /events, fed by calls.c */
admin_events *admin_events_new(admin *a);
/* Before MHD stops: every stream is ended and let go. */
void admin_events_free(admin_events *ev);
void admin_get_events(admin_req *r);
/* Some client listens (else nothing needs formatting). */
bool admin_events_wanted(const admin_events *ev);
/* One event (a JSON object, LEN bytes, no newline) about call CALL_ID to
 * every stream that wants it. */
void admin_events_publish(admin_events *ev, const char *call_id, const char *json, size_t len);
/* Streams open now, and cut off so far for falling behind. */
void admin_events_counts(const admin_events *ev, size_t *open, unsigned long *cut);
/* metrics.c: counts what the engine's hooks tell (calls by route and
 * disposition, dial attempts, action errors), measures the loop's lag,
 * and writes GET /metrics from those and the other layers' numbers */
admin_metrics *admin_metrics_new(admin *a);
void admin_metrics_hook(admin_metrics *m, eng_options *eo);
void admin_metrics_free(admin_metrics *m);
/* status.c's refusals by reason: FN for each */
void admin_status_each_refusal(admin *a, void (*fn)(void *arg, const char *reason, long long n), void *arg);
void admin_get_metrics(admin_req *r);
/* drain.c: POST /drain */
void admin_post_drain(admin_req *r);
/* cluster.c: the node's heartbeat in the cluster database, GET /cluster,
 * GET /cluster/calls, GET /cluster/queues */
void admin_cluster_start(admin *a);
void admin_cluster_stop(admin *a);
void admin_get_cluster(admin_req *r);
void admin_get_cluster_calls(admin_req *r);
void admin_get_cluster_queues(admin_req *r);
/* calls.c: the live calls as GET /calls lists them (a new array) */
json_t *admin_calls_live_json(admin_calls *c);
/* conferences.c: the rooms, their members; mute and kick */
void admin_get_conferences(admin_req *r);
void admin_post_conf_member(admin_req *r);
void admin_delete_conf_member(admin_req *r);
/* queues.c: GET /queues, POST /queues/NAME/agents/NUMBER */
void admin_get_queues(admin_req *r);
/* GET /queues' list for engine E (the cluster heartbeat writes it too). */
json_t *admin_queues_json(eng_engine *e);
void admin_post_queue_agent(admin_req *r);

#endif

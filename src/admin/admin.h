/* admin.h — the admin API of `callroute serve`: HTTP (libmicrohttpd) on
 * settings.admin.listen, run by serve's one loop. One file per resource
 * (calls.c, status.c, cdr.c, metrics.c, ...), the request plumbing and the
 * token check in one place (server.c), the routing decision a pure
 * function (admin_route.c). The resources and their answers are listed in README's
 * "Admin API" section.
 *
 * Security: a request that changes anything (any method but GET/HEAD)
 * needs `Authorization: Bearer TOKEN`; on a listener that is not loopback,
 * every request does. Without a configured token those requests get 403
 * with how to configure one. Bodies over ADMIN_MAX_BODY get 413. The token
 * is never logged or traced. */
#ifndef ADMIN_ADMIN_H
#define ADMIN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"
#include "loop/loop.h"
#include "scenario/program.h"

struct json_t;
struct svc_ctx;
struct scn_diags;
struct admin_revisions;
struct rec_ctx;
struct cr_histogram;

#define ADMIN_KEEP 200            /* finished calls (and refusals) kept */
#define ADMIN_MAX_RECORDS 2000    /* trace records kept per call */
#define ADMIN_MAX_BYTES (512 * 1024)  /* of packed trace records kept per call */
#define ADMIN_MAX_BODY (1024 * 1024)
/* Clients that open connections and never finish a request cannot keep
 * the API from others: at most this many connections, this many from one
 * address, each closed after this many seconds without progress. */
#define ADMIN_MAX_CONNECTIONS 64
#define ADMIN_MAX_PER_ADDRESS 32
#define ADMIN_IDLE_TIMEOUT 10

typedef struct admin admin;

/* What GET /metrics shows about the SIP edge, filled by serve from the SIP
 * driver (the admin layer includes no SIP header): sip_stats' fields.
 * Arrays point into the driver and are read at once. */
typedef struct admin_sip_metrics {
    unsigned long flood_dropped, flood_refused, names_refused;
    const char *const *method_names;       /* UDP requests received by method */
    const unsigned long *requests;
    size_t method_count;
    const unsigned long *responses;        /* ... responses by code: [code - code_min] */
    int code_min, code_max;
    size_t registered_users, registered_contacts;
    unsigned long long rtp_received, rtp_sent, rtp_lost, rtp_dropped;
    const struct cr_histogram *rtp_jitter; /* seconds, each stream at its end */
    size_t rtp_open;
} admin_sip_metrics;

typedef struct admin_options {
    const char *listen;        /* HOST:PORT, [IPV6]:PORT, :PORT or PORT (host 127.0.0.1) */
    const char *token;         /* the bearer token (copied); NULL: none configured */
    /* What /health adds about the parts the admin API does not see (the SIP
     * edge's counters): fields set on O. May be NULL. */
    void (*health)(void *arg, struct json_t *o);
    void *health_arg;
    /* The services (for GET /cdr; their numbers for GET /metrics); may be NULL. */
    struct svc_ctx *svc;
    /* The scenario file and its revisions (GET /scenario, /revisions; the
     * sources to restore), owned by serve. NULL: the scenario resources
     * answer 503. */
    struct admin_revisions *revisions;
    /* serve's side of the scenario resources: serve owns reloading, so the
     * parts of the service take a new program in one order, whoever asks.
     * compile: TEXT as if it were the scenario file (its includes resolve
     *   the same way); nothing is applied. The program, or NULL; the
     *   diagnostics in D either way.
     * install: P, compiled from TEXT and already written over the file,
     *   becomes the running program: a new revision, its number returned.
     *   WHY names the change for the log ("PUT /scenario").
     * reload: what SIGHUP does (read the file, compile, install): the new
     *   revision, or 0 with the diagnostics in D (the old one runs on). */
    scn_program *(*compile)(void *arg, const char *text, size_t len, struct scn_diags *d);
    long (*install)(void *arg, scn_program *p, const char *text, size_t len, const char *why);
    long (*reload)(void *arg, struct scn_diags *d, const char *why);
    void *scenario_arg;
    /* POST /drain: stop taking calls, let the live ones finish (TIMEOUT
     * seconds at most; 0: no limit), then exit. False when it was already
     * draining. *LIVE: the calls up now. NULL: 503. */
    bool (*drain)(void *arg, double timeout, size_t *live);
    void *drain_arg;
    /* Cluster mode (settings.cluster): this node's name and the shared
     * database. The admin API keeps the node's row in callroute_nodes
     * (every second: state, revision, live calls) and answers GET /cluster
     * and GET /cluster/calls from that table. NULL: not a cluster (404). */
    const char *cluster_node;
    const scn_database *cluster_db;
    const char *cluster_sip;       /* this node's SIP address, for the table */
    /* Cluster mode: a new scenario text (PUT /scenario, POST /reload, a
     * restore) is first stored as the cluster's revision AFTER + 1;
     * DONE(DONE_ARG, N, ERROR) says how: N the revision stored (0: not;
     * CONFLICT set when another node stored AFTER + 1 first). Returns a
     * handle for publish_cancel (the request went away; DONE never runs). */
    void *(*publish)(void *arg, const char *text, size_t len, long after,
                     void (*done)(void *done_arg, long n, bool conflict, const char *error), void *done_arg);
    void (*publish_cancel)(void *arg, void *handle);
    /* Cluster mode: revision N (stored by publish) becomes the running one:
     * install with that number. */
    long (*install_as)(void *arg, scn_program *p, const char *text, size_t len, long n, const char *why);
    /* Fills what GET /metrics shows about the SIP edge. May be NULL. */
    void (*sip_metrics)(void *arg, admin_sip_metrics *out);
    void *sip_metrics_arg;
} admin_options;

/* Listens on O->listen. NULL with ERR empty when it is NULL, "" or "off"
 * (disabled); NULL with ERR set when it cannot listen. */
admin *admin_new(loop *l, const admin_options *o, char *err, size_t errlen);
/* Follows EO's calls (eng_observe) so the admin API sees every call.
 * Call before eng_engine_new. */
void admin_hook(admin *a, eng_options *eo);
/* The engine calls are placed on and steered through (POST /calls, POST
 * /calls/ID/...); until it is set those answer 503. Clear it (NULL) before
 * eng_engine_free. */
void admin_set_engine(admin *a, eng_engine *e);
/* The service drains (SIGTERM): POST /calls places no more calls (503);
 * live calls can still be steered. */
void admin_refuse_new(admin *a);
/* The program in force (its settings: where call records are). A
 * reference is taken. */
void admin_set_program(admin *a, scn_program *p);
/* The call records (their spool, for GET /metrics); NULL: records off. */
void admin_set_records(admin *a, struct rec_ctx *rec);
int admin_port(const admin *a);
/* Records a call refused before it reached a scenario (sip_options.refused). */
void admin_refused(admin *a, const char *call_id, const char *source, int code, const char *reason);
/* After eng_engine_free (live calls are forgotten, not touched). */
void admin_free(admin *a);

/* The token from settings.admin (token_file: a file only its owner may
 * read; token_env: an environment variable), malloc'd in *OUT (NULL when
 * none is configured). False with ERR when the configured one cannot be
 * used (unreadable, readable by others, empty or shorter than 16). */
bool admin_load_token(const scn_settings *s, char **out, char *err, size_t errlen);

#endif

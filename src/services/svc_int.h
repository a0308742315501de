/* svc_int.h — private to src/services: the context and the pieces the
 * files share (the libcurl multi glue, database backends, the outbox, mail,
 * durable jobs). */
#ifndef SVC_INT_H
#define SVC_INT_H

#include <curl/curl.h>
#include <stdbool.h>

#include "services/svc.h"
#include "util/alloc.h"

/* One libcurl transfer on the shared multi handle (HTTP or SMTP). DONE runs
 * on the loop when the transfer ends, after the handle left the multi. */
typedef struct svc_xfer svc_xfer;
struct svc_xfer {
    CURL *easy;
    void (*done)(svc_xfer *x, CURLcode rc);
};

typedef struct svc_dbstate svc_dbstate;   /* one per database (kind + target) */
typedef struct svc_mailer svc_mailer;
typedef struct svc_durable svc_durable;
struct svc_outbox;

/* Databases are found by what they are (kind + target), not by a program's
 * table: calls of an older program keep working across a reload, and a
 * database a reload adds is opened when first used. */
typedef struct svc_dbentry {
    cfg_db_kind kind;
    char *target;
    svc_dbstate *st;
    struct svc_dbentry *next;
} svc_dbentry;

struct svc_ctx {
    loop *l;
    svc_options opt;
    CURLM *multi;
    loop_timer *curl_timer;
    struct sock_watch *socks;             /* fd watches for curl's sockets */
    svc_http *https;                      /* live HTTP requests of callers */
    svc_dbentry *dbs;
    struct svc_outbox *outbox;            /* queue.c; NULL in capture mode */
    svc_mailer *mail;
    svc_durable *durable;
    /* svc_config.databases (copies: durable jobs name a database and
     * look it up at each attempt, across reloads). */
    cfg_database *databases;
    size_t database_count;
    svc_request_stats requests[SVC_K_COUNT];
};

/* ---- svc.c: the curl multi on the loop ------------------------------ */
void svc_curl_add(svc_ctx *c, svc_xfer *x);
/* Takes X out of the multi; DONE is not called. */
void svc_curl_remove(svc_ctx *c, svc_xfer *x);

/* The services' names for the one allocation family (util/alloc.h):
 * zeroed, never NULL. */
#define svc_alloc(n) cr_xcalloc(1, (n))
#define svc_strdup(s) cr_xstrdup(s)

/* A request of kind K that began at STARTED (loop time) ended now. */
void svc_observe(svc_ctx *c, svc_kind k, double started, bool failed);
/* Copies an error message, trimming trailing whitespace (libpq adds "\n"). */
char *svc_errdup(const char *msg);

/* Runs CB(ARG) on the next loop turn (0-second timer). */
loop_timer *svc_soon(svc_ctx *c, loop_timer_cb cb, void *arg);
/* Runs DONE(ARG) once on the next loop turn (nothing to keep or stop). */
void svc_later(svc_ctx *c, void (*done)(void *arg), void *arg);

/* http.c: svc_free drops requests their owners left behind (no callbacks). */
void svc_http_cancel_all(svc_ctx *c);
/* A request of the services' own (a durable job): not on the callers'
 * list, so svc_http_cancel_all leaves it to its owner's drain. */
svc_http *svc_http_start_own(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg);

/* ---- databases ------------------------------------------------------ */
/* Every query, whatever the backend, starts with this header. */
struct svc_db {
    svc_ctx *c;
    svc_db_cb cb;
    void *arg;
    bool (*cancel)(svc_db *q);      /* backend: stop, free, never call cb; true: it may have run */
    /* set by svc_db_query_in for a real database: counted when it ends */
    bool timed;
    svc_kind kind;
    double started;
};
/* Each backend calls this as a query ends, just before its callback. */
void svc_db_ended(svc_db *q, const svc_db_res *res);

/* Runs a query on the database state for DB in LIST (opened on first use
 * with POOL PostgreSQL connections). svc_db_query uses the callers' list;
 * durable jobs have their own, so a backlog never queues ahead of a call's
 * lookup. */
svc_db *svc_db_query_in(svc_ctx *c, svc_dbentry **list, int pool, const cfg_database *db, const char *sql,
                        const char *const *params, size_t nparams, double timeout, svc_db_cb cb, void *arg);
/* Closes every database state of LIST (queries in flight: no callbacks). */
void svc_dbs_close(svc_dbentry **list);

svc_dbstate *svc_sqlite_open(svc_ctx *c, const cfg_database *db);
void svc_sqlite_close(svc_dbstate *d);
svc_db *svc_sqlite_query(svc_dbstate *d, const char *sql, const char *const *params,
                         size_t nparams, double timeout, svc_db_cb cb, void *arg);

svc_dbstate *svc_pg_open(svc_ctx *c, const cfg_database *db, int pool_size);
void svc_pg_close(svc_dbstate *d);
svc_db *svc_pg_query(svc_dbstate *d, const char *sql, const char *const *params,
                     size_t nparams, double timeout, svc_db_cb cb, void *arg);

/* A query that fails at once: CB runs with ERROR on the next loop turn. */
svc_db *svc_db_fail(svc_ctx *c, const char *error, svc_db_cb cb, void *arg);

/* ---- mail ----------------------------------------------------------- */
svc_mailer *svc_mail_open(svc_ctx *c, const svc_config *cfg, char *err, size_t errlen);
void svc_mail_settings(svc_mailer *m, const svc_config *cfg);
void svc_mail_close(svc_mailer *m);

/* ---- durable jobs (durable.c) ---------------------------------------- */
svc_durable *svc_durable_open(svc_ctx *c, char *err, size_t errlen);
/* After the outbox was closed: frees what is left (capture-mode jobs
 * still running are cancelled) and the durable jobs' own databases. */
void svc_durable_close(svc_durable *d);

#endif

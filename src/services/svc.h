/* svc.h — the services layer: HTTP (libcurl multi), databases (SQLite on the
 * loop's worker pool, PostgreSQL through libpq's non-blocking API) and mail
 * (a durable SQLite outbox, delivered in the background over SMTP by
 * libcurl). Everything runs on one loop: nothing here blocks it, and results
 * come back through callbacks on the loop thread.
 *
 * Depends on loop.h and the compiled program (settings, databases) only;
 * the applications in src/apps/ turn call variables into these requests.
 *
 * Lifetimes (STYLE.md: handles close asynchronously): a request handle is
 * valid from *_start until its callback has been called or it was cancelled;
 * after cancel the callback never runs. Results passed to a callback are
 * valid only during the callback. A callback may start or cancel other
 * requests and may free unrelated things; it must not call svc_free. */
#ifndef SVC_H
#define SVC_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "scenario/program.h"

typedef struct svc_ctx svc_ctx;
typedef struct svc_http svc_http;
typedef struct svc_db svc_db;

/* ---- options -------------------------------------------------------- */

typedef enum {
    /* serve: every message is written to the outbox, then delivered in the
     * background, retried with exponential backoff until the server takes it. */
    SVC_MAIL_SEND,
    /* simulate --send-mail: outbox as above, but each message (queued now or
     * left over from an earlier run) gets one delivery attempt and no retry
     * timers, so a virtual clock never spins on retries. Undelivered mail
     * stays in the outbox for the next run. */
    SVC_MAIL_SEND_ONCE,
    /* simulate / callroute test: nothing is queued or sent; messages are
     * kept in memory (svc_mail_captured) for the trace and expectations. */
    SVC_MAIL_CAPTURE,
} svc_mail_mode;

/* Mocks for `callroute test`: with svc_options.mocks set, no real HTTP or
 * database I/O happens at all. The first mock that matches answers, after
 * DELAY seconds on the loop's (virtual) clock. Patterns use `*` for any run
 * of characters and match the whole string. */
typedef struct svc_http_mock {
    const char *method;        /* NULL: any method */
    const char *url;           /* pattern */
    long status;               /* 0: 200 */
    const char *body;          /* response body (a `json:` mock is encoded into it) */
    const char *content_type;  /* NULL: application/json when body parses as JSON */
    const char *error;         /* non-NULL: no answer, the request fails with this */
    double delay;
} svc_http_mock;

typedef struct svc_db_mock {
    const char *database;      /* NULL: any database */
    const char *query;         /* pattern, matched against the SQL as written */
    size_t rows;               /* db_rows */
    size_t ncols;              /* the first row (rows > 0) */
    const char *const *cols;
    const char *const *vals;   /* NULL entry: SQL NULL */
    const char *error;         /* non-NULL: the query fails with this */
    double delay;
} svc_db_mock;

/* The mock pattern rule: `*` matches any run of characters (none too);
 * everything else matches itself; the whole string must match. */
bool svc_glob(const char *pattern, const char *s);

typedef struct svc_mocks {
    const svc_http_mock *http;
    size_t http_count;
    const svc_db_mock *db;
    size_t db_count;
    /* Told about each request no mock matched, e.g. "http GET http://x/y"
     * or "db crm: SELECT ..."; that request fails with "no mock for ...". */
    void (*unmatched)(void *arg, const char *what);
    void *arg;
} svc_mocks;

typedef struct svc_options {
    svc_mail_mode mail;
    const svc_mocks *mocks;    /* non-NULL: mocked HTTP and DB (callroute test) */
    const char *outbox;        /* overrides settings.smtp.outbox (NULL: keep) */
    int db_pool_size;          /* PostgreSQL connections per database; 0: 4 */
} svc_options;

/* Creates the services for program P's settings on loop L (P may be NULL:
 * SMTP defaults). Opens the outbox (in a send mode) and starts delivering
 * what an earlier run left there. Returns NULL with a message in ERR when
 * the outbox cannot be opened. OPT may be NULL (SVC_MAIL_SEND). Nothing of
 * P is kept: settings are copied, and a database is opened when a query
 * first names it (by its kind and target), so calls of an older program
 * keep working after a reload. */
svc_ctx *svc_new(loop *l, const scn_program *p, const svc_options *opt, char *err, size_t errlen);
/* A reload: SMTP settings of P apply to the next delivery attempt (the
 * outbox stays where it was opened). */
void svc_set_program(svc_ctx *c, const scn_program *p);
/* Aborts HTTP and database requests in flight (no callbacks run) and frees
 * it all. Mail is drained first, running the loop: outbox writes in flight
 * finish (their svc_mail_queue callbacks run), and in SVC_MAIL_SEND mode
 * SMTP transfers in flight get up to 10 seconds to finish, so a message the
 * server accepted is marked done and never sent again; no new delivery
 * starts. Mail not yet delivered stays in the outbox. Call with no loop
 * callback running. */
void svc_free(svc_ctx *c);
loop *svc_loop(svc_ctx *c);
svc_mail_mode svc_mail_mode_of(const svc_ctx *c);

/* ---- HTTP ----------------------------------------------------------- */

typedef struct svc_http_req {
    const char *method;              /* "GET", "POST", ... */
    const char *url;                 /* already rendered and percent-encoded */
    const char *const *headers;      /* "Name: value" lines, CR/LF already removed */
    size_t header_count;
    const char *body;                /* NULL: no body */
    size_t body_len;
    double timeout;                  /* seconds; a backstop (<= 0: none) */
    bool verify_tls;
} svc_http_req;

typedef struct svc_http_res {
    long status;                     /* 0: no HTTP answer */
    const char *body;                /* NUL-terminated; "" when none */
    size_t body_len;
    const char *content_type;        /* NULL when not given */
    const char *error;               /* NULL when an answer came (any status) */
} svc_http_res;

typedef void (*svc_http_cb)(void *arg, const svc_http_res *res);

/* Starts a request; CB runs once, on the loop, when it ends. Never NULL:
 * a request that cannot even start fails through CB on the next loop turn. */
svc_http *svc_http_start(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg);
void svc_http_cancel(svc_http *h);

/* ---- databases ------------------------------------------------------ */

typedef struct svc_db_res {
    const char *error;               /* NULL on success */
    long rows;                       /* rows returned (SELECT ...) or changed */
    size_t ncols;                    /* columns of the first row (rows > 0) */
    const char *const *cols;
    const char *const *vals;         /* NULL: SQL NULL */
} svc_db_res;

typedef void (*svc_db_cb)(void *arg, const svc_db_res *res);

/* Runs SQL (with `?` placeholders) on database DB with PARAMS bound as text,
 * in order. SQLite runs on the worker pool; PostgreSQL on the loop, the
 * `?` rewritten to $1.. outside literals, identifiers and comments.
 * TIMEOUT (seconds, <= 0: none) is a backstop: the engine's own timeout
 * normally cancels first. Never NULL; CB runs once unless cancelled. */
svc_db *svc_db_query(svc_ctx *c, const scn_database *db, const char *sql,
                     const char *const *params, size_t nparams, double timeout,
                     svc_db_cb cb, void *arg);
void svc_db_cancel(svc_db *q);

/* The number of `?` placeholders in SQL outside string literals, quoted
 * identifiers and comments (for the db application's load-time check). */
size_t svc_sql_placeholders(const char *sql);
/* SQL with each such `?` replaced by $1, $2, ... (malloc'd). */
char *svc_sql_to_pg(const char *sql);

/* ---- mail ----------------------------------------------------------- */

typedef struct svc_mail {
    const char *const *to;           /* addresses, CR/LF already removed */
    size_t to_count;
    const char *const *cc;
    size_t cc_count;
    const char *subject;
    const char *body;
    const char *const *attach;       /* file paths, read when queued */
    size_t attach_count;
} svc_mail;

typedef void (*svc_mail_cb)(void *arg, const char *error);

/* Queues M. In a send mode the message (attachments included) is written to
 * the outbox on the worker pool, and CB runs on the loop once it is durable
 * (ERROR NULL) or could not be stored. In capture mode it is kept in memory
 * and CB runs before this returns. CB may be NULL; the message is queued
 * even if the caller goes away. */
void svc_mail_queue(svc_ctx *c, const svc_mail *m, svc_mail_cb cb, void *arg);

/* Captured messages (SVC_MAIL_CAPTURE), oldest first. */
typedef struct svc_captured_mail {
    const char *to;                  /* comma-separated */
    const char *cc;
    const char *subject;
    const char *body;
    const char *attach;              /* comma-separated paths */
    struct svc_captured_mail *next;
} svc_captured_mail;
const svc_captured_mail *svc_mail_captured(const svc_ctx *c);
void svc_mail_captured_clear(svc_ctx *c);

/* Mail delivery state: messages waiting in the outbox, attempts in flight. */
typedef struct svc_mail_stats {
    long queued;                     /* in the outbox, not yet accepted */
    long in_flight;
    long sent;                       /* accepted by the server in this run */
    long failed_attempts;            /* in this run */
} svc_mail_stats;
svc_mail_stats svc_mail_stats_of(const svc_ctx *c);

/* Calls DONE (once, on the loop) when no write to the outbox and no
 * delivery attempt is in flight and none is due now: in SEND_ONCE mode that
 * is when every message has had its attempt. `simulate --send-mail` calls
 * it after the call ends and stops the loop in DONE. */
void svc_mail_flush(svc_ctx *c, void (*done)(void *arg), void *arg);

#endif

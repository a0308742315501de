/* svc.h — the services layer: HTTP (libcurl multi), databases (SQLite on the
 * loop's worker pool, PostgreSQL through libpq's non-blocking API), mail
 * (delivered in the background over SMTP by libcurl) and durable jobs
 * (database writes and HTTP requests done in the background until they
 * succeed); mail and durable jobs wait in one SQLite file, the outbox.
 * Everything runs on one loop: nothing here blocks it, and results come
 * back through callbacks on the loop thread.
 *
 * Depends on loop.h and plain configuration (svc_config below,
 * config/database.h) only, never on the scenario language: cli/ builds the
 * configuration from the program (config/from_program.h), and the
 * applications in src/apps/ turn call variables into these requests.
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

#include "config/database.h"
#include "loop/loop.h"
#include "util/histogram.h"

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

typedef enum { SVC_LOG_ERROR, SVC_LOG_WARN, SVC_LOG_INFO } svc_log_level;

typedef struct svc_options {
    /* How mail and durable jobs are handled: SEND and SEND_ONCE store them
     * in the outbox; CAPTURE keeps mail in memory and runs each durable
     * job once, at once, without storing it (simulate, callroute test). */
    svc_mail_mode mail;
    const svc_mocks *mocks;    /* non-NULL: mocked HTTP and DB (callroute test) */
    const char *outbox;        /* overrides svc_config.outbox (NULL: keep) */
    int db_pool_size;          /* PostgreSQL connections per database; 0: 4 */
    /* Told about what happens in the background that nobody waits for (a
     * durable job that failed for good, ...). May be NULL. */
    void (*log)(void *arg, svc_log_level level, const char *msg);
    void *log_arg;
} svc_options;

/* What the services are configured with (a program's settings.smtp and
 * settings.databases; config/from_program.h builds it). The caller owns
 * it and everything it points to; the services only borrow it during
 * svc_new and svc_set_config, and copy what they keep. */
typedef struct svc_config {
    const char *smtp_url;      /* NULL: smtp://127.0.0.1:25 */
    const char *smtp_from;     /* NULL: callroute@localhost */
    const char *smtp_user;     /* NULL: no authentication */
    const char *smtp_password;
    bool smtp_starttls;
    const char *outbox;        /* the outbox file (NULL: var/outbox); read by svc_new only */
    /* The databases durable jobs name (svc_job.database). */
    const cfg_database *databases;
    size_t database_count;
} svc_config;

/* Creates the services configured by CFG on loop L (CFG may be NULL: SMTP
 * defaults, no databases). Opens the outbox (in a send mode) and starts
 * delivering what an earlier run left there. Returns NULL with a message
 * in ERR when the outbox cannot be opened. OPT may be NULL (SVC_MAIL_SEND).
 * Nothing of CFG is kept: settings and databases are copied, and a
 * database is opened when a query first names it (by its kind and
 * target), so calls of an older program keep working after a reload. */
svc_ctx *svc_new(loop *l, const svc_config *cfg, const svc_options *opt, char *err, size_t errlen);
/* A reload: CFG's SMTP settings and databases (copied) apply to the next
 * delivery attempt or durable job; the outbox stays where it was opened.
 * Queries already running, and calls of the older program naming their
 * own databases, go on untouched. CFG NULL: nothing changes. */
void svc_set_config(svc_ctx *c, const svc_config *cfg);
/* Aborts HTTP and database requests in flight (no callbacks run) and frees
 * it all. The outbox is drained first, running the loop: outbox writes in
 * flight finish (their svc_mail_queue / svc_job_queue callbacks run), and
 * in SVC_MAIL_SEND mode SMTP transfers and durable jobs in flight get up
 * to 10 seconds to finish, so what the other side accepted is marked done
 * and never done again; nothing new starts. What is not done stays in the
 * outbox. Call with no loop callback running. */
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
    /* With ERROR: the request (some of it) had gone out when the transfer
     * failed (timeout, connection lost): the server may have acted on it. */
    bool unknown;
} svc_http_res;

typedef void (*svc_http_cb)(void *arg, const svc_http_res *res);

/* Starts a request; CB runs once, on the loop, when it ends. Never NULL:
 * a request that cannot even start fails through CB on the next loop turn. */
svc_http *svc_http_start(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg);
/* Returns true when the request may have reached the server (bytes of it
 * went out; for a mock: one answers it): its outcome is unknown. False
 * when it cannot have: not connected yet, or NULL. */
bool svc_http_cancel(svc_http *h);
/* True for the methods that change nothing on the server (RFC 9110 safe
 * methods: GET, HEAD): their outcome never matters. */
bool svc_http_method_safe(const char *method);

/* ---- databases ------------------------------------------------------ */

typedef struct svc_db_res {
    const char *error;               /* NULL on success */
    /* The error may go away by itself: no connection, the server shutting
     * down or overloaded, a lock, a timeout. Else it is the query's own
     * (syntax, constraint, type, ...), and doing it again gives the same. */
    bool transient;
    /* With ERROR: the query was on the wire when the answer failed to come
     * (connection lost, timeout): it may or may not have run. */
    bool unknown;
    long rows;                       /* rows returned (SELECT ...) or changed */
    size_t ncols;                    /* columns of the first row (rows > 0) */
    const char *const *cols;
    const char *const *vals;         /* NULL: SQL NULL */
} svc_db_res;

typedef void (*svc_db_cb)(void *arg, const svc_db_res *res);

/* Runs SQL (with `?` placeholders) on database DB with PARAMS bound as text,
 * in order (a NULL param is SQL NULL). SQLite runs on the worker pool; PostgreSQL on the loop, the
 * `?` rewritten to $1.. outside literals, identifiers and comments.
 * TIMEOUT (seconds, <= 0: none) is a backstop: the engine's own timeout
 * normally cancels first. Never NULL; CB runs once unless cancelled. */
svc_db *svc_db_query(svc_ctx *c, const cfg_database *db, const char *sql,
                     const char *const *params, size_t nparams, double timeout,
                     svc_db_cb cb, void *arg);
/* Returns true when the query may have run (it was sent to the server or a
 * worker began it): its outcome is unknown. False when it cannot have
 * (still waiting for a connection or a worker), or Q is NULL. */
bool svc_db_cancel(svc_db *q);

/* True when SQL only reads: its first word (after comments) is SELECT,
 * VALUES, TABLE, SHOW or EXPLAIN, or WITH with none of INSERT, UPDATE,
 * DELETE or MERGE outside literals. A read's outcome never matters, and
 * it makes no sense as a durable job. */
bool svc_sql_is_read(const char *sql);

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
    double oldest;                   /* when the oldest queued was stored (epoch s); 0: none */
} svc_mail_stats;
svc_mail_stats svc_mail_stats_of(const svc_ctx *c);

/* Calls DONE (once, on the loop) when no write to the outbox and no
 * delivery attempt is in flight and none is due now: in SEND_ONCE mode that
 * is when every message has had its attempt. `simulate --send-mail` calls
 * it after the call ends and stops the loop in DONE. */
void svc_mail_flush(svc_ctx *c, void (*done)(void *arg), void *arg);

/* ---- durable jobs --------------------------------------------------- */

/* A database write or an HTTP request that must happen even when its
 * service is down or callroute stops: stored in the outbox (table `job`),
 * then done in the background, retried after 1 s, 2 s, 4 s ... up to every
 * 5 minutes until it succeeds; a permanent failure (a SQL error that is
 * the query's own; HTTP 4xx but 408 and 429) is kept with its error and
 * not retried before the next start. An attempt whose outcome is unknown
 * (a timeout) is retried: KEY, rendered into the request, lets the other
 * side ignore what it has already done. */
#define SVC_JOB_KEY_LEN 36

typedef struct svc_job {
    const char *key;                 /* svc_job_key's */
    /* Jobs of one lane (a call) run one at a time, in the order queued, as
     * the call's own writes would. */
    const char *lane;
    double timeout;                  /* each attempt, seconds (<= 0: 5) */
    /* Either a database write: DATABASE is a name of svc_config.databases,
     * looked up at each attempt (a reload may move it) ... */
    const char *database;
    const char *sql;                 /* with `?` placeholders */
    const char *const *params;
    size_t nparams;
    /* ... or an HTTP request (method, URL, headers, body, verify_tls; its
     * timeout is TIMEOUT above). */
    const svc_http_req *http;
} svc_job;

/* A new idempotency key: a random UUID (version 4), SVC_JOB_KEY_LEN chars. */
void svc_job_key(char out[SVC_JOB_KEY_LEN + 1]);
/* Queues J. In a send mode it is written to the outbox on the worker pool,
 * and CB runs on the loop once it is durable (ERROR NULL) or could not be
 * stored. In capture mode the job starts at once, is not stored, and CB
 * runs before this returns. CB may be NULL; the job is done even if the
 * caller goes away. */
void svc_job_queue(svc_ctx *c, const svc_job *j, svc_mail_cb cb, void *arg);

typedef struct svc_job_stats {
    long queued;                     /* in the outbox (or running in capture mode) */
    long in_flight;
    long done;                       /* succeeded in this run */
    long failed_attempts;            /* in this run */
    double oldest;                   /* when the oldest queued was stored (epoch s); 0: none */
} svc_job_stats;
svc_job_stats svc_job_stats_of(const svc_ctx *c);

/* Calls DONE (once, on the loop) when no outbox write, no delivery and no
 * durable job is in flight and none is due (svc_mail_flush for both
 * queues; `simulate --send-mail`). */
void svc_flush(svc_ctx *c, void (*done)(void *arg), void *arg);

/* ---- what the requests took (GET /metrics) --------------------------- */

/* Each HTTP request, database query and SMTP transfer that ended (callers'
 * and the services' own: durable jobs, call records, mail), by kind: how
 * long it took from start to its end, and whether it failed (no HTTP
 * answer; a database error; a transfer the mail server did not take).
 * Cancelled requests and mocks are not counted. */
typedef enum { SVC_K_HTTP, SVC_K_SQLITE, SVC_K_POSTGRESQL, SVC_K_SMTP, SVC_K_COUNT } svc_kind;
extern const char *const svc_kind_names[SVC_K_COUNT];   /* "http", "sqlite", "postgresql", "smtp" */

typedef struct svc_request_stats {
    cr_histogram seconds;
    unsigned long failures;
} svc_request_stats;
const svc_request_stats *svc_request_stats_of(const svc_ctx *c, svc_kind k);

#endif

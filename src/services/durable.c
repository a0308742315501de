/* durable.c — durable jobs (svc.h): a database write or an HTTP request
 * stored in the outbox (table `job`) and done in the background by the
 * queue machinery (queue.c) until it succeeds. A job is stored fully formed
 * — SQL and bound values, or method, URL, headers and body, all rendered —
 * so what runs later does not depend on the call, which is long gone.
 *
 * Exactly once: the row is deleted only after the database or the server
 * answered success; an attempt that got no answer (a timeout, a connection
 * lost) may have been done and is done again, so the job carries a key the
 * scenario renders into the request (`ON CONFLICT (key) DO NOTHING`, an
 * `Idempotency-Key` header) for the other side to recognise it.
 *
 * A job's own database connections (at most POOL per database) and HTTP
 * requests are apart from the calls': a backlog after an outage never
 * queues ahead of a call's lookup, and svc_free cancelling the calls'
 * requests leaves the jobs' to the drain. */
#include "services/queue_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include "util/strbuf.h"

#define MAX_PARALLEL 8
#define POOL 2
#define DEFAULT_TIMEOUT 5.0

typedef struct attempt attempt;

struct svc_durable {
    svc_ctx *c;
    svc_queue *q;                    /* NULL in capture mode */
    svc_dbentry *dbs;                /* the jobs' own database states */
    attempt *direct;                 /* capture mode: jobs running, not stored */
    long direct_count, direct_done, direct_failed;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS job("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL,"
    " key TEXT NOT NULL,"            /* the idempotency key */
    " lane TEXT NOT NULL,"           /* jobs of one lane (call) run in order */
    " target TEXT NOT NULL,"         /* db:NAME or http:ORIGIN (a success wakes the others) */
    " kind TEXT NOT NULL,"           /* db | http */
    " name TEXT NOT NULL,"           /* db: the database; http: the method */
    " request TEXT NOT NULL,"        /* db: the SQL; http: the URL */
    " args BLOB NOT NULL,"           /* db: params; http: header lines; each ends in NUL */
    " body BLOB,"                    /* http: the body (NULL: none) */
    " verify_tls INTEGER NOT NULL DEFAULT 1, timeout REAL NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);";

/* ---- a job ----------------------------------------------------------- */

typedef struct job {
    char *key, *lane, *target;
    bool http;
    char *name;                      /* database or method */
    char *request;                   /* SQL or URL */
    char **args;
    size_t nargs;
    char *body;                      /* NULL: none */
    size_t body_len;
    bool verify_tls;
    double timeout;
} job;

static void job_free(void *p)
{
    job *j = p;
    if (!j)
        return;
    free(j->key);
    free(j->lane);
    free(j->target);
    free(j->name);
    free(j->request);
    for (size_t i = 0; i < j->nargs; i++)
        free(j->args[i]);
    free(j->args);
    free(j->body);
    free(j);
}

/* http:ORIGIN — the scheme, host and port of URL: what one server is. */
static char *http_target(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_puts(&b, "http:");
    cr_strbuf_append(&b, url, (size_t)(p - url));
    return b.s;
}

static job *job_from(const svc_job *in)
{
    job *j = svc_alloc(sizeof *j);
    j->key = svc_strdup(in->key ? in->key : "");
    j->lane = svc_strdup(in->lane ? in->lane : "");
    j->timeout = in->timeout > 0 ? in->timeout : DEFAULT_TIMEOUT;
    if (in->http) {
        const svc_http_req *r = in->http;
        j->http = true;
        j->name = svc_strdup(r->method ? r->method : "GET");
        j->request = svc_strdup(r->url ? r->url : "");
        j->target = http_target(j->request);
        j->nargs = r->header_count;
        j->args = svc_alloc((j->nargs + 1) * sizeof *j->args);
        for (size_t i = 0; i < j->nargs; i++)
            j->args[i] = svc_strdup(r->headers[i]);
        if (r->body) {
            j->body = svc_alloc(r->body_len + 1);
            memcpy(j->body, r->body, r->body_len);
            j->body_len = r->body_len;
        }
        j->verify_tls = r->verify_tls;
    } else {
        j->name = svc_strdup(in->database ? in->database : "");
        j->request = svc_strdup(in->sql ? in->sql : "");
        cr_strbuf t = CR_STRBUF_INIT;
        cr_strbuf_printf(&t, "db:%s", j->name);
        j->target = t.s;
        j->nargs = in->nparams;
        j->args = svc_alloc((j->nargs + 1) * sizeof *j->args);
        for (size_t i = 0; i < j->nargs; i++)
            j->args[i] = svc_strdup(in->params[i] ? in->params[i] : "");
        j->verify_tls = true;
    }
    return j;
}

/* ---- one attempt ----------------------------------------------------- */

struct attempt {
    svc_durable *d;
    svc_queue *q;                    /* NULL: a capture-mode job */
    qitem *it;
    job *j;
    svc_http *h;
    svc_db *dbq;
    attempt *prev, *next;            /* d->direct */
};

static void attempt_free(attempt *a)
{
    job_free(a->j);
    free(a);
}

static void direct_unlink(svc_durable *d, attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        d->direct = a->next;
    if (a->next)
        a->next->prev = a->prev;
    d->direct_count--;
}

/* The attempt's outcome: ERROR NULL is success. */
static void attempt_end(attempt *a, const char *error, bool permanent)
{
    svc_durable *d = a->d;
    svc_ctx *c = d->c;
    const job *j = a->j;
    const char *what = j->http ? "http" : "db";
    if (!a->q) {
        direct_unlink(d, a);
        if (error) {
            d->direct_failed++;
            svc_log(c, SVC_LOG_WARN, "durable job %s (%s %s %s) failed and is not kept (simulate): %s", j->key,
                    what, j->name, j->request, error);
        } else {
            d->direct_done++;
        }
        attempt_free(a);
        return;
    }
    if (error && !permanent && a->it->attempts == 0)
        svc_log(c, SVC_LOG_WARN, "outbox: durable job %lld (%s %s) failed, %s: %s", a->it->id, what, j->name,
                a->q->mode == SVC_MAIL_SEND ? "will retry" : "kept for the next run", error);
    a->it->run = NULL;
    queue_attempt_done(a->q, a->it, error, permanent);
    attempt_free(a);
}

static void db_cb(void *arg, const svc_db_res *res)
{
    attempt *a = arg;
    a->dbq = NULL;
    attempt_end(a, res->error, res->error && !res->transient);
}

/* HTTP: an answer below 400 is success. No answer, 408 (request timeout),
 * 429 (too many requests) and 5xx may go away; any other 4xx is the
 * request's own fault and would come again. */
static void http_cb(void *arg, const svc_http_res *res)
{
    attempt *a = arg;
    a->h = NULL;
    if (res->error) {
        attempt_end(a, res->error, false);
        return;
    }
    if (res->status < 400) {
        attempt_end(a, NULL, false);
        return;
    }
    char msg[64];
    snprintf(msg, sizeof msg, "HTTP %ld", res->status);
    bool transient = res->status == 408 || res->status == 429 || res->status >= 500;
    attempt_end(a, msg, !transient);
}

static const cfg_database *database_named(svc_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->database_count; i++)
        if (strcmp(c->databases[i].name, name) == 0)
            return &c->databases[i];
    return NULL;
}

static void attempt_start(svc_durable *d, svc_queue *q, qitem *it, job *j)
{
    attempt *a = svc_alloc(sizeof *a);
    a->d = d;
    a->q = q;
    a->it = it;
    a->j = j;
    if (it)
        it->run = a;
    else {
        a->next = d->direct;
        if (d->direct)
            d->direct->prev = a;
        d->direct = a;
        d->direct_count++;
    }
    svc_ctx *c = d->c;
    if (j->http) {
        svc_http_req req = {.method = j->name, .url = j->request, .headers = (const char *const *)j->args,
                            .header_count = j->nargs, .body = j->body, .body_len = j->body_len,
                            .timeout = j->timeout, .verify_tls = j->verify_tls};
        a->h = svc_http_start_own(c, &req, http_cb, a);
        return;
    }
    /* The database is looked up now, not when queued: a reload (or a
     * restart with new settings) may have moved it. */
    const cfg_database *db = database_named(c, j->name);
    if (!db) {
        char msg[256];
        snprintf(msg, sizeof msg, "the database '%s' is not in settings.databases", j->name);
        /* Permanent for this run: the next start may know it again. */
        a->dbq = svc_db_fail(c, msg, db_cb, a);
        return;
    }
    a->dbq = svc_db_query_in(c, &d->dbs, POOL, db, j->request, (const char *const *)j->args, j->nargs,
                             j->timeout, db_cb, a);
}

/* ---- the queue kind -------------------------------------------------- */

static void blob_args(sqlite3_stmt *st, int col, job *j)
{
    const char *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col), count = 0;
    for (size_t i = 0; i < n; i++)
        count += p[i] == '\0';
    j->args = svc_alloc((count + 1) * sizeof *j->args);
    for (size_t i = 0, start = 0; i < n; i++)
        if (p[i] == '\0') {
            j->args[j->nargs++] = svc_strdup(p + start);
            start = i + 1;
        }
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return svc_strdup(t ? (const char *)t : "");
}

static void *job_load(sqlite3 *db, long long id)
{
    sqlite3_stmt *st = NULL;
    job *j = NULL;
    if (sqlite3_prepare_v2(db, "SELECT key, lane, target, kind, name, request, args, body, verify_tls, timeout"
                               " FROM job WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            j = svc_alloc(sizeof *j);
            j->key = col_dup(st, 0);
            j->lane = col_dup(st, 1);
            j->target = col_dup(st, 2);
            const unsigned char *kind = sqlite3_column_text(st, 3);
            j->http = kind && strcmp((const char *)kind, "http") == 0;
            j->name = col_dup(st, 4);
            j->request = col_dup(st, 5);
            blob_args(st, 6, j);
            if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
                j->body_len = (size_t)sqlite3_column_bytes(st, 7);
                j->body = svc_alloc(j->body_len + 1);
                if (j->body_len)
                    memcpy(j->body, sqlite3_column_blob(st, 7), j->body_len);
            }
            j->verify_tls = sqlite3_column_int(st, 8) != 0;
            j->timeout = sqlite3_column_double(st, 9);
        }
    }
    sqlite3_finalize(st);
    return j;
}

static void job_start(svc_queue *q, qitem *it, void *payload)
{
    attempt_start(q->owner, q, it, payload);
}

static void job_abort(svc_queue *q, qitem *it)
{
    (void)q;
    attempt *a = it->run;
    if (a->h)
        svc_http_cancel(a->h);
    if (a->dbq)
        svc_db_cancel(a->dbq);
    attempt_free(a);
}

static const queue_kind durable_kind = {
    .name = "durable job",
    .schema = schema,
    .list_sql = "SELECT id, attempts, created, lane, target FROM job ORDER BY id",
    .delete_sql = "DELETE FROM job WHERE id = ?",
    .failed_sql = "UPDATE job SET attempts = ?, last_error = ? WHERE id = ?",
    .max_parallel = MAX_PARALLEL,
    .wake_on_success = true,
    .load = job_load,
    .payload_free = job_free,
    .start = job_start,
    .abort = job_abort,
};

/* ---- queuing --------------------------------------------------------- */

typedef struct job_write {
    queue_write w;                   /* first: queue.c sees only this */
    job *j;
    svc_mail_cb cb;
    void *arg;
} job_write;

static int job_insert(queue_write *w, sqlite3 *db)
{
    const job *j = ((job_write *)w)->j;
    cr_strbuf args = CR_STRBUF_INIT;
    for (size_t i = 0; i < j->nargs; i++)
        cr_strbuf_append(&args, j->args[i], strlen(j->args[i]) + 1);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO job(created, key, lane, target, kind, name, request, args, body,"
                                " verify_tls, timeout) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_double(st, 1, (double)time(NULL));
        const char *texts[] = {j->key, j->lane, j->target, j->http ? "http" : "db", j->name, j->request};
        for (int i = 0; i < 6; i++)
            sqlite3_bind_text(st, i + 2, texts[i], -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, args.len ? args.s : "", (int)args.len, SQLITE_STATIC);
        if (j->body)
            sqlite3_bind_blob(st, 9, j->body, (int)j->body_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 10, j->verify_tls);
        sqlite3_bind_double(st, 11, j->timeout);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        w->id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(st);
    cr_strbuf_free(&args);
    return rc;
}

static void job_write_done(queue_write *w)
{
    job_write *jw = (job_write *)w;
    if (jw->cb)
        jw->cb(jw->arg, w->error);
}

static void job_write_free(queue_write *w)
{
    job_write *jw = (job_write *)w;
    job_free(jw->j);
    free(jw);
}

void svc_job_queue(svc_ctx *c, const svc_job *in, svc_mail_cb cb, void *arg)
{
    svc_durable *d = c->durable;
    job *j = job_from(in);
    if (!d->q) {
        attempt_start(d, NULL, NULL, j);
        if (cb)
            cb(arg, NULL);
        return;
    }
    job_write *jw = svc_alloc(sizeof *jw);
    jw->w.insert = job_insert;
    jw->w.done = job_write_done;
    jw->w.free = job_write_free;
    jw->w.lane = svc_strdup(j->lane);
    jw->w.target = svc_strdup(j->target);
    jw->j = j;
    jw->cb = cb;
    jw->arg = arg;
    queue_write_start(d->q, &jw->w);
}

void svc_job_key(char out[SVC_JOB_KEY_LEN + 1])
{
    unsigned char r[16] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        /* No entropy (very early boot): time and address still differ. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 30) ^
                               (unsigned long long)(uintptr_t)out;
        for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            r[i] ^= (unsigned char)(x >> 56);
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);   /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    char *p = out;
    for (size_t i = 0; i < sizeof r; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        p += sprintf(p, "%02x", r[i]);
    }
}

svc_job_stats svc_job_stats_of(const svc_ctx *c)
{
    const svc_durable *d = c->durable;
    svc_job_stats s = {0};
    if (d->q) {
        s.queued = d->q->count;
        s.in_flight = d->q->active;
        s.done = d->q->done;
        s.failed_attempts = d->q->failed_attempts;
        s.oldest = queue_oldest(d->q);
    } else {
        s.queued = s.in_flight = d->direct_count;
        s.done = d->direct_done;
        s.failed_attempts = d->direct_failed;
    }
    return s;
}

/* ---- open, close ----------------------------------------------------- */

svc_durable *svc_durable_open(svc_ctx *c, char *err, size_t errlen)
{
    svc_durable *d = svc_alloc(sizeof *d);
    d->c = c;
    if (c->outbox) {
        d->q = queue_open(c, &durable_kind, d, err, errlen);
        if (!d->q) {
            free(d);
            return NULL;
        }
    }
    return d;
}

void svc_durable_close(svc_durable *d)
{
    while (d->direct) {
        attempt *a = d->direct;
        direct_unlink(d, a);
        if (a->h)
            svc_http_cancel(a->h);
        if (a->dbq)
            svc_db_cancel(a->dbq);
        attempt_free(a);
    }
    svc_dbs_close(&d->dbs);
    free(d);
}

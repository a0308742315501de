/* db_sqlite.c — SQLite queries on the loop's worker pool (SQLite only
 * blocks). Each database keeps a few open connections for the workers to
 * share; a query takes one, runs, and puts it back. A progress handler
 * stops a query that was cancelled or ran past its timeout. */
#include "services/svc_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDLE_MAX 4

typedef struct sq_db {
    pthread_mutex_t mu;
    int refs;                        /* the context + each query in flight */
    svc_ctx *c;
    char *path;
    sqlite3 *idle[IDLE_MAX];
    int nidle;
    struct sq_query *live;           /* in flight, for close (under MU) */
} sq_db;

typedef struct sq_query {
    svc_db base;
    sq_db *d;
    struct sq_query *prev, *next;    /* d->live */
    char *sql;
    char **params;
    size_t nparams;
    double timeout;
    double deadline;                 /* monotonic seconds */
    atomic_bool cancelled;
    /* Set by the worker that takes the query, unless cancelled first: the
     * query may have run once this is true. */
    atomic_bool started;
    /* Filled on the worker, read on the loop after `done`. */
    char *error;
    bool transient;
    long rows;
    size_t ncols;
    char **cols, **vals;
} sq_query;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void db_unref(sq_db *d)
{
    pthread_mutex_lock(&d->mu);
    int left = --d->refs;
    pthread_mutex_unlock(&d->mu);
    if (left)
        return;
    for (int i = 0; i < d->nidle; i++)
        sqlite3_close(d->idle[i]);
    pthread_mutex_destroy(&d->mu);
    free(d->path);
    free(d);
}

svc_dbstate *svc_sqlite_open(svc_ctx *c, const cfg_database *db)
{
    sq_db *d = svc_alloc(sizeof *d);
    d->c = c;
    pthread_mutex_init(&d->mu, NULL);
    d->refs = 1;
    d->path = svc_strdup(db->target ? db->target : "");
    return (svc_dbstate *)d;
}

/* Queries still in flight finish on their worker without calling back;
 * the last one frees the database state. */
void svc_sqlite_close(svc_dbstate *ds)
{
    sq_db *d = (sq_db *)ds;
    pthread_mutex_lock(&d->mu);
    for (struct sq_query *q = d->live; q; q = q->next)
        atomic_store(&q->cancelled, true);
    pthread_mutex_unlock(&d->mu);
    db_unref(d);
}

/* ---- on the worker -------------------------------------------------- */

/* Failures that may go away by itself: the file locked or busy, I/O, a
 * full disk, a file that cannot be opened (yet), the query's own time
 * running out. */
static bool rc_transient(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
    case SQLITE_NOMEM:
        return true;
    default:
        return false;
    }
}

static int progress_cb(void *arg)
{
    sq_query *q = arg;
    if (atomic_load(&q->cancelled))
        return 1;
    return q->timeout > 0 && mono() > q->deadline;
}

static sqlite3 *take(sq_query *q)
{
    sq_db *d = q->d;
    sqlite3 *db = NULL;
    pthread_mutex_lock(&d->mu);
    if (d->nidle)
        db = d->idle[--d->nidle];
    pthread_mutex_unlock(&d->mu);
    if (db)
        return db;
    int rc = sqlite3_open_v2(d->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot open %s: %s", d->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        q->error = svc_strdup(msg);
        q->transient = rc_transient(rc);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 0);
    return db;
}

static void give_back(sq_db *d, sqlite3 *db)
{
    pthread_mutex_lock(&d->mu);
    if (d->nidle < IDLE_MAX) {
        d->idle[d->nidle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&d->mu);
    sqlite3_close(db);
}

static void run_stmt(sq_query *q, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db, q->sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
        q->error = svc_errdup(sqlite3_errmsg(db));
        q->transient = rc_transient(rc);
        return;
    }
    if (!st) {
        q->error = svc_strdup("empty query");
        return;
    }
    while (tail && (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        q->error = svc_strdup("one statement per query");
        goto out;
    }
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != q->nparams) {
        char msg[128];
        snprintf(msg, sizeof msg, "the query has %d placeholder%s but %zu param%s given", want,
                 want == 1 ? "" : "s", q->nparams, q->nparams == 1 ? " was" : "s were");
        q->error = svc_strdup(msg);
        goto out;
    }
    for (size_t i = 0; i < q->nparams; i++)
        if (q->params[i])
            sqlite3_bind_text(st, (int)i + 1, q->params[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, (int)i + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (q->rows++ == 0) {
            q->ncols = (size_t)sqlite3_column_count(st);
            q->cols = svc_alloc(q->ncols * sizeof *q->cols);
            q->vals = svc_alloc(q->ncols * sizeof *q->vals);
            for (size_t i = 0; i < q->ncols; i++) {
                q->cols[i] = svc_strdup(sqlite3_column_name(st, (int)i));
                const unsigned char *v = sqlite3_column_text(st, (int)i);
                q->vals[i] = v ? svc_strdup((const char *)v) : NULL;
            }
        }
    }
    if (rc != SQLITE_DONE)
        q->transient = rc_transient(rc);
    if (rc == SQLITE_INTERRUPT)
        q->error = svc_strdup(atomic_load(&q->cancelled) ? "cancelled" : "timeout");
    else if (rc != SQLITE_DONE)
        q->error = svc_errdup(sqlite3_errmsg(db));
    else if (sqlite3_column_count(st) == 0)
        q->rows = sqlite3_changes(db);
out:
    sqlite3_finalize(st);
}

static void work_fn(void *arg)
{
    sq_query *q = arg;
    /* Taken under the database's mutex, as cancel_fn reads it. */
    pthread_mutex_lock(&q->d->mu);
    bool go = !atomic_load(&q->cancelled);
    if (go)
        atomic_store(&q->started, true);
    pthread_mutex_unlock(&q->d->mu);
    if (!go)
        return;
    sqlite3 *db = take(q);
    if (!db)
        return;
    /* Waiting for a lock is bounded by the query's own timeout. */
    sqlite3_busy_timeout(db, q->timeout > 0 ? (int)(q->timeout * 1000) : 5000);
    sqlite3_progress_handler(db, 1000, progress_cb, q);
    run_stmt(q, db);
    sqlite3_progress_handler(db, 0, NULL, NULL);
    give_back(q->d, db);
}

/* ---- on the loop ---------------------------------------------------- */

static void query_free(sq_query *q)
{
    pthread_mutex_lock(&q->d->mu);
    if (q->prev)
        q->prev->next = q->next;
    else
        q->d->live = q->next;
    if (q->next)
        q->next->prev = q->prev;
    pthread_mutex_unlock(&q->d->mu);
    for (size_t i = 0; i < q->ncols; i++) {
        free(q->cols[i]);
        free(q->vals[i]);
    }
    free(q->cols);
    free(q->vals);
    for (size_t i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    free(q->sql);
    free(q->error);
    db_unref(q->d);
    free(q);
}

static void done_cb(loop *l, void *arg)
{
    (void)l;
    sq_query *q = arg;
    if (!atomic_load(&q->cancelled)) {
        svc_db_res res = {.error = q->error, .rows = q->error ? 0 : q->rows, .transient = q->transient};
        if (!q->error && q->rows > 0 && q->cols) {
            res.ncols = q->ncols;
            res.cols = (const char *const *)q->cols;
            res.vals = (const char *const *)q->vals;
        }
        svc_db_ended(&q->base, &res);
        q->base.cb(q->base.arg, &res);
    }
    query_free(q);
}

/* The worker may be running it: it stops at the next progress check, and
 * `done` frees it without calling back. Once a worker began it, it may have
 * run to its end (a COMMIT is not interrupted). */
static bool cancel_fn(svc_db *base)
{
    sq_query *q = (sq_query *)base;
    pthread_mutex_lock(&q->d->mu);
    atomic_store(&q->cancelled, true);
    bool started = atomic_load(&q->started);
    pthread_mutex_unlock(&q->d->mu);
    return started;
}

svc_db *svc_sqlite_query(svc_dbstate *ds, const char *sql, const char *const *params,
                         size_t nparams, double timeout, svc_db_cb cb, void *arg)
{
    sq_db *d = (sq_db *)ds;
    sq_query *q = svc_alloc(sizeof *q);
    q->base.cb = cb;
    q->base.arg = arg;
    q->base.cancel = cancel_fn;
    q->d = d;
    pthread_mutex_lock(&d->mu);
    d->refs++;
    q->next = d->live;
    if (d->live)
        d->live->prev = q;
    d->live = q;
    pthread_mutex_unlock(&d->mu);
    q->sql = svc_strdup(sql);
    q->nparams = nparams;
    q->params = svc_alloc(nparams * sizeof *q->params);
    for (size_t i = 0; i < nparams; i++)
        q->params[i] = svc_strdup(params[i]);   /* NULL stays SQL NULL */
    q->timeout = timeout;
    if (timeout > 0)
        q->deadline = mono() + timeout;
    atomic_init(&q->cancelled, false);
    atomic_init(&q->started, false);
    q->base.c = d->c;
    loop_work(d->c->l, work_fn, done_cb, q);
    return &q->base;
}

/* db_pg.c — PostgreSQL through libpq's non-blocking API on the loop: a
 * small pool of connections per database, a FIFO of queries waiting for
 * one, and reconnection on demand (a connection the server dropped is
 * closed as soon as its socket says so; the next query opens a new one).
 *
 * Cancelling a query that is on the wire closes its connection: PQcancel
 * would block (it opens a connection of its own), and a hung server must
 * not hang a worker either. The server notices and ends the backend.
 *
 * libpq resolves a host name with a blocking getaddrinfo() inside
 * PQconnectStart: a name in the URL is resolved on the worker pool first
 * and handed to libpq as hostaddr (host stays for TLS and the password
 * file), again after RESOLVE_TTL or a failed connection. */
#include "services/svc_int.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT 5.0
#define RESOLVE_TTL 60.0

typedef struct pg_resolve pg_resolve;

typedef struct pg_conn pg_conn;
typedef struct pg_query pg_query;

typedef struct pg_db {
    svc_ctx *c;
    char *name;
    char *conninfo;
    int max;
    pg_conn *conns;
    int nconns;
    pg_query *qhead, *qtail;         /* waiting for a connection */
    int queued;
    loop_timer *kick;                /* dispatch on the next loop turn */
    /* A host name to resolve off the loop (NULL: an address, a socket
     * directory, several hosts, or hostaddr given: libpq needs no lookup). */
    char *host;
    char hostaddr[INET6_ADDRSTRLEN];  /* "" until resolved */
    double resolved_at;
    pg_resolve *resolving;           /* in flight on the pool */
} pg_db;

/* One lookup on the worker pool; it outlives a database closed meanwhile. */
struct pg_resolve {
    pg_db *d;                        /* NULL once the database is gone */
    char *host;
    char addr[INET6_ADDRSTRLEN];
    char error[160];
};

enum { PC_CONNECTING, PC_IDLE, PC_BUSY };

struct pg_conn {
    pg_db *d;
    PGconn *pc;
    int state;
    loop_watch *w;
    int fd;
    unsigned ev;
    loop_timer *connect_timer;
    pg_query *q;                     /* BUSY */
    PGresult *res;                   /* the query's result, kept until done */
    pg_conn *prev, *next;
};

struct pg_query {
    svc_db base;
    pg_db *d;
    char *sql;                       /* with $1.. */
    char **params;
    size_t nparams;
    pg_conn *conn;                   /* on the wire; NULL while queued */
    pg_query *prev, *next;           /* the queue */
    loop_timer *timer;               /* backstop timeout */
};

static void conn_event_cb(loop *l, int fd, unsigned events, void *arg);
static void dispatch(pg_db *d);

/* ---- queries -------------------------------------------------------- */

static void query_free(pg_query *q)
{
    q->d->c->l->real_pending--;
    if (q->timer)
        loop_timer_stop(q->d->c->l, q->timer);
    for (size_t i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    free(q->sql);
    free(q);
}

static void unqueue(pg_query *q)
{
    pg_db *d = q->d;
    if (q->prev)
        q->prev->next = q->next;
    else
        d->qhead = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        d->qtail = q->prev;
    q->prev = q->next = NULL;
    d->queued--;
}

/* An error the server reported that may go away by itself (SQLSTATE):
 * connection exceptions (08), insufficient resources (53), operator
 * intervention (57: shutdown, cancelled by statement_timeout), system
 * errors (58), serialization failures and deadlocks (40001, 40P01), a lock
 * not available (55P03). The rest is the query's own doing. */
static bool sqlstate_transient(const char *st)
{
    if (!st || strlen(st) != 5)
        return true;                 /* no code: libpq's own (connection) */
    static const char *const classes[] = {"08", "53", "57", "58", NULL};
    for (int i = 0; classes[i]; i++)
        if (strncmp(st, classes[i], 2) == 0)
            return true;
    return strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0;
}

/* Ends Q with RES (may be NULL) or ERROR; Q is off the queue and has no
 * connection any more. ERROR (no connection, a timeout) is transient;
 * with SENT the query had been given to a connection: no answer came, so
 * it may or may not have run. */
static void query_finish(pg_query *q, PGresult *res, const char *error, bool sent)
{
    svc_db_res r = {0};
    char *err = NULL;
    const char **vals = NULL, **cols = NULL;
    if (error) {
        err = svc_errdup(error);
        r.transient = true;
        r.unknown = sent;
    } else if (!res) {
        err = svc_strdup("no result");
        r.transient = true;
    } else if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        r.rows = PQntuples(res);
        if (r.rows > 0) {
            r.ncols = (size_t)PQnfields(res);
            cols = svc_alloc(r.ncols * sizeof *cols);
            vals = svc_alloc(r.ncols * sizeof *vals);
            for (size_t i = 0; i < r.ncols; i++) {
                cols[i] = PQfname(res, (int)i);
                vals[i] = PQgetisnull(res, 0, (int)i) ? NULL : PQgetvalue(res, 0, (int)i);
            }
            r.cols = cols;
            r.vals = vals;
        }
    } else if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        r.rows = atol(PQcmdTuples(res));
    } else {
        err = svc_errdup(PQresultErrorMessage(res));
        r.transient = sqlstate_transient(PQresultErrorField(res, PG_DIAG_SQLSTATE));
    }
    r.error = err;
    svc_db_ended(&q->base, &r);
    svc_db_cb cb = q->base.cb;
    void *arg = q->base.arg;
    query_free(q);
    cb(arg, &r);
    free(cols);
    free(vals);
    free(err);
}

/* ---- connections ---------------------------------------------------- */

static void conn_watch(pg_conn *k, unsigned ev)
{
    svc_ctx *c = k->d->c;
    int fd = PQsocket(k->pc);
    if (k->w && fd == k->fd && ev == k->ev)
        return;
    if (k->w && fd == k->fd) {
        loop_watch_modify(c->l, k->w, ev);
    } else {
        if (k->w)
            loop_unwatch(c->l, k->w);
        k->w = fd >= 0 ? loop_watch_fd(c->l, fd, ev, conn_event_cb, k) : NULL;
    }
    k->fd = fd;
    k->ev = ev;
}

/* While connecting, libpq may close its socket and open another with the
 * same number: always watch afresh then. */
static void conn_rewatch(pg_conn *k, unsigned ev)
{
    if (k->w)
        loop_unwatch(k->d->c->l, k->w);
    k->w = NULL;
    conn_watch(k, ev);
}

static void conn_close(pg_conn *k)
{
    pg_db *d = k->d;
    svc_ctx *c = d->c;
    if (k->w)
        loop_unwatch(c->l, k->w);
    if (k->connect_timer)
        loop_timer_stop(c->l, k->connect_timer);
    if (k->res)
        PQclear(k->res);
    PQfinish(k->pc);
    if (k->prev)
        k->prev->next = k->next;
    else
        d->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    d->nconns--;
    free(k);
}

static bool conn_alive_other(pg_db *d)
{
    for (pg_conn *k = d->conns; k; k = k->next)
        if (k->state != PC_CONNECTING)
            return true;
    return false;
}

/* The connection is unusable: its query (if any) fails with MSG; when no
 * other connection is up, the queue fails too (the server is down: failing
 * fast beats every waiting call running into its timeout). */
static void conn_fail(pg_conn *k, const char *msg)
{
    k->d->hostaddr[0] = '\0';   /* the name is looked up again: it may have moved */
    pg_db *d = k->d;
    char *err = svc_errdup(msg);
    pg_query *q = k->q;
    bool was_connecting = k->state == PC_CONNECTING;
    if (q)
        q->conn = NULL;
    conn_close(k);
    if (q)
        query_finish(q, NULL, err, true);
    if (was_connecting && !conn_alive_other(d)) {
        /* Connections still connecting will fail the same way. */
        while (d->qhead) {
            pg_query *w = d->qhead;
            unqueue(w);
            query_finish(w, NULL, err, false);
        }
    }
    free(err);
    dispatch(d);
}

static void conn_fail_pq(pg_conn *k)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(k->pc));
    conn_fail(k, msg);
}

static void send_query(pg_conn *k, pg_query *q)
{
    k->state = PC_BUSY;
    k->q = q;
    q->conn = k;
    if (!PQsendQueryParams(k->pc, q->sql, (int)q->nparams, NULL, (const char *const *)q->params, NULL,
                           NULL, 0)) {
        conn_fail_pq(k);
        return;
    }
    int f = PQflush(k->pc);
    if (f < 0)
        conn_fail_pq(k);
    else
        conn_watch(k, f ? LOOP_READ | LOOP_WRITE : LOOP_READ);
}

static void connect_timeout_cb(loop *l, void *arg)
{
    (void)l;
    pg_conn *k = arg;
    k->connect_timer = NULL;
    conn_fail(k, "timeout connecting to the database");
}

static void conn_new(pg_db *d)
{
    const char *keys[] = {"dbname", "application_name", "hostaddr", NULL};
    const char *vals[] = {d->conninfo, "callroute", d->hostaddr[0] ? d->hostaddr : NULL, NULL};
    PGconn *pc = PQconnectStartParams(keys, vals, 1);
    pg_conn *k = svc_alloc(sizeof *k);
    k->d = d;
    k->pc = pc;
    k->fd = -1;
    k->state = PC_CONNECTING;
    k->next = d->conns;
    if (d->conns)
        d->conns->prev = k;
    d->conns = k;
    d->nconns++;
    if (!pc || PQstatus(pc) == CONNECTION_BAD) {
        if (pc)
            conn_fail_pq(k);
        else
            conn_fail(k, "out of memory");
        return;
    }
    k->connect_timer = loop_timer_start(d->c->l, CONNECT_TIMEOUT, connect_timeout_cb, k);
    /* The docs: act as if PQconnectPoll had returned PGRES_POLLING_WRITING. */
    conn_watch(k, LOOP_WRITE);
}

static void on_connecting(pg_conn *k)
{
    switch (PQconnectPoll(k->pc)) {
    case PGRES_POLLING_READING:
        conn_rewatch(k, LOOP_READ);
        return;
    case PGRES_POLLING_WRITING:
        conn_rewatch(k, LOOP_WRITE);
        return;
    case PGRES_POLLING_OK:
        loop_timer_stop(k->d->c->l, k->connect_timer);
        k->connect_timer = NULL;
        PQsetnonblocking(k->pc, 1);
        k->state = PC_IDLE;
        conn_rewatch(k, LOOP_READ);
        dispatch(k->d);
        return;
    default:
        conn_fail_pq(k);
        return;
    }
}

static void on_busy(pg_conn *k, unsigned events)
{
    if (events & LOOP_WRITE) {
        int f = PQflush(k->pc);
        if (f < 0) {
            conn_fail_pq(k);
            return;
        }
        conn_watch(k, f ? LOOP_READ | LOOP_WRITE : LOOP_READ);
    }
    if (!(events & LOOP_READ))
        return;
    if (!PQconsumeInput(k->pc)) {
        conn_fail_pq(k);
        return;
    }
    while (!PQisBusy(k->pc)) {
        PGresult *res = PQgetResult(k->pc);
        if (!res) {
            /* The query is complete; the connection is free again. */
            pg_query *q = k->q;
            PGresult *first = k->res;
            k->q = NULL;
            k->res = NULL;
            k->state = PC_IDLE;
            conn_watch(k, LOOP_READ);
            pg_db *d = k->d;
            if (q) {
                q->conn = NULL;
                query_finish(q, first, NULL, false);
            }
            PQclear(first);
            dispatch(d);
            return;
        }
        if (!k->res)
            k->res = res;   /* one statement: the first result is the answer */
        else
            PQclear(res);
    }
}

static void conn_event_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    pg_conn *k = arg;
    switch (k->state) {
    case PC_CONNECTING:
        on_connecting(k);
        break;
    case PC_BUSY:
        on_busy(k, events);
        break;
    default:
        /* Idle: the server spoke (a notice) or went away. */
        if (!PQconsumeInput(k->pc) || PQstatus(k->pc) == CONNECTION_BAD) {
            conn_close(k);
            break;
        }
        PGnotify *n;
        while ((n = PQnotifies(k->pc)))
            PQfreemem(n);
        break;
    }
}

/* ---- the host's address, off the loop ---- */

static void resolve_work(void *arg)
{
    pg_resolve *r = arg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(r->host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(r->error, sizeof r->error, "cannot resolve %s: %s", r->host, gai_strerror(rc));
        return;
    }
    const void *a = res->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
                                               : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
    inet_ntop(res->ai_family, a, r->addr, sizeof r->addr);
    freeaddrinfo(res);
}

static void resolve_done(loop *l, void *arg)
{
    (void)l;
    pg_resolve *r = arg;
    pg_db *d = r->d;
    if (d) {
        d->resolving = NULL;
        if (r->error[0]) {
            /* The queries waiting fail now; a later one tries again. */
            while (d->qhead) {
                pg_query *q = d->qhead;
                unqueue(q);
                query_finish(q, NULL, r->error, false);
            }
        } else {
            snprintf(d->hostaddr, sizeof d->hostaddr, "%s", r->addr);
            d->resolved_at = loop_now(d->c->l);
            dispatch(d);
        }
    }
    free(r->host);
    free(r);
}

/* The address is known and fresh, or not needed; else a lookup starts. */
static bool resolved(pg_db *d)
{
    if (!d->host || (d->hostaddr[0] && loop_now(d->c->l) - d->resolved_at < RESOLVE_TTL))
        return true;
    if (!d->resolving) {
        pg_resolve *r = svc_alloc(sizeof *r);
        r->d = d;
        r->host = svc_strdup(d->host);
        d->resolving = r;
        loop_work(d->c->l, resolve_work, resolve_done, r);
    }
    return false;
}

/* A single host name in CONNINFO, when libpq would look it up. */
static char *host_to_resolve(const char *conninfo)
{
    char *err = NULL, *host = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    const char *h = NULL, *ha = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0)
            h = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            ha = o->val;
    }
    unsigned char buf[sizeof(struct in6_addr)];
    if (h && *h && h[0] != '/' && !strchr(h, ',') && !(ha && *ha) && inet_pton(AF_INET, h, buf) != 1 &&
        inet_pton(AF_INET6, h, buf) != 1)
        host = svc_strdup(h);
    PQconninfoFree(opts);
    return host;
}

static void dispatch(pg_db *d)
{
    while (d->qhead) {
        pg_conn *idle = NULL;
        for (pg_conn *k = d->conns; k && !idle; k = k->next)
            if (k->state == PC_IDLE)
                idle = k;
        if (!idle)
            break;
        pg_query *q = d->qhead;
        unqueue(q);
        send_query(idle, q);
    }
    int connecting = 0;
    for (pg_conn *k = d->conns; k; k = k->next)
        connecting += k->state == PC_CONNECTING;
    if (d->queued > connecting && d->nconns < d->max && !resolved(d))
        return;   /* connections open once the name is resolved */
    while (d->queued > connecting && d->nconns < d->max) {
        conn_new(d);
        connecting++;
    }
}

/* ---- the public side ----------------------------------------------- */

/* Starting or cancelling a query never calls anyone back synchronously:
 * the dispatch that might fail other queries runs on the next loop turn. */
static void kick_cb(loop *l, void *arg)
{
    (void)l;
    pg_db *d = arg;
    d->kick = NULL;
    dispatch(d);
}

static void kick(pg_db *d)
{
    if (!d->kick)
        d->kick = svc_soon(d->c, kick_cb, d);
}

static void query_abort(pg_query *q)
{
    if (q->conn) {
        pg_conn *k = q->conn;
        k->q = NULL;
        conn_close(k);
    } else {
        unqueue(q);
    }
}

/* A query handed to a connection may have reached the server (libpq may
 * have written it); one still queued cannot have. */
static bool cancel_fn(svc_db *base)
{
    pg_query *q = (pg_query *)base;
    pg_db *d = q->d;
    bool sent = q->conn != NULL;
    query_abort(q);
    query_free(q);
    kick(d);
    return sent;
}

static void backstop_cb(loop *l, void *arg)
{
    (void)l;
    pg_query *q = arg;
    pg_db *d = q->d;
    q->timer = NULL;
    bool sent = q->conn != NULL;
    query_abort(q);
    query_finish(q, NULL, "timeout", sent);
    dispatch(d);
}

svc_dbstate *svc_pg_open(svc_ctx *c, const cfg_database *db, int pool_size)
{
    pg_db *d = svc_alloc(sizeof *d);
    d->c = c;
    d->name = svc_strdup(db->name);
    d->conninfo = svc_strdup(db->target ? db->target : db->url);
    d->host = host_to_resolve(d->conninfo);
    d->max = pool_size;
    return (svc_dbstate *)d;
}

void svc_pg_close(svc_dbstate *ds)
{
    pg_db *d = (pg_db *)ds;
    if (d->kick)
        loop_timer_stop(d->c->l, d->kick);
    while (d->qhead) {
        pg_query *q = d->qhead;
        unqueue(q);
        query_free(q);
    }
    while (d->conns) {
        pg_query *q = d->conns->q;
        d->conns->q = NULL;
        conn_close(d->conns);
        if (q)
            query_free(q);
    }
    if (d->resolving)
        d->resolving->d = NULL;   /* its completion frees it */
    free(d->name);
    free(d->conninfo);
    free(d->host);
    free(d);
}

svc_db *svc_pg_query(svc_dbstate *ds, const char *sql, const char *const *params,
                     size_t nparams, double timeout, svc_db_cb cb, void *arg)
{
    pg_db *d = (pg_db *)ds;
    size_t want = svc_sql_placeholders(sql);
    if (want != nparams) {
        char msg[128];
        snprintf(msg, sizeof msg, "the query has %zu placeholder%s but %zu param%s given", want,
                 want == 1 ? "" : "s", nparams, nparams == 1 ? " was" : "s were");
        return svc_db_fail(d->c, msg, cb, arg);
    }
    pg_query *q = svc_alloc(sizeof *q);
    q->base.c = d->c;
    q->base.cb = cb;
    q->base.arg = arg;
    q->base.cancel = cancel_fn;
    q->d = d;
    q->sql = svc_sql_to_pg(sql);
    q->nparams = nparams;
    q->params = svc_alloc(nparams * sizeof *q->params);
    for (size_t i = 0; i < nparams; i++)
        q->params[i] = svc_strdup(params[i]);   /* NULL stays SQL NULL */
    d->c->l->real_pending++;
    if (timeout > 0)
        q->timer = loop_timer_start(d->c->l, timeout, backstop_cb, q);
    q->prev = d->qtail;
    if (d->qtail)
        d->qtail->next = q;
    else
        d->qhead = q;
    d->qtail = q;
    d->queued++;
    kick(d);
    return &q->base;
}

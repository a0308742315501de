/* pg_listen.c — LISTEN on one channel over a connection of its own
 * (pg_listen.h): connect (PQconnectStartParams / PQconnectPoll), send
 * LISTEN, then read notifications as the socket says; reconnect with
 * backoff when anything fails. */
#include "services/pg_listen.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define BACKOFF_MAX 10.0
#define CONNECT_TIMEOUT 5.0

enum { PL_WAITING, PL_CONNECTING, PL_LISTENING, PL_IDLE };

struct svc_pg_listen {
    loop *l;
    char *conninfo;
    char *channel;
    svc_pg_listen_ops ops;
    void *arg;
    PGconn *pc;
    int state;
    loop_watch *w;
    int fd;
    unsigned ev;
    loop_timer *timer;           /* reconnect, or the connect timeout */
    double backoff;
};

static void event_cb(loop *l, int fd, unsigned events, void *arg);
static void connect_now(loop *l, void *arg);

static void watch(svc_pg_listen *p, unsigned ev, bool fresh)
{
    int fd = PQsocket(p->pc);
    if (p->w && !fresh && fd == p->fd && ev == p->ev)
        return;
    if (p->w && !fresh && fd == p->fd) {
        loop_watch_modify(p->l, p->w, ev);
    } else {
        if (p->w)
            loop_unwatch(p->l, p->w);
        p->w = fd >= 0 ? loop_watch_fd(p->l, fd, ev, event_cb, p) : NULL;
    }
    p->fd = fd;
    p->ev = ev;
}

static void close_conn(svc_pg_listen *p)
{
    if (p->w)
        loop_unwatch(p->l, p->w);
    p->w = NULL;
    p->fd = -1;
    if (p->timer)
        loop_timer_stop(p->l, p->timer);
    p->timer = NULL;
    if (p->pc)
        PQfinish(p->pc);
    p->pc = NULL;
}

/* Something failed: tell the owner, try again later. */
static void fail(svc_pg_listen *p, const char *why)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s", why && *why ? why : "connection lost");
    msg[strcspn(msg, "\n")] = '\0';
    close_conn(p);
    p->state = PL_WAITING;
    p->backoff = p->backoff <= 0 ? 1 : p->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : p->backoff * 2;
    p->timer = loop_timer_start(p->l, p->backoff, connect_now, p);
    if (p->ops.down)
        p->ops.down(p->arg, msg);
}

static void timeout_cb(loop *l, void *arg)
{
    (void)l;
    svc_pg_listen *p = arg;
    p->timer = NULL;
    fail(p, "timeout connecting to the database");
}

static void connect_now(loop *l, void *arg)
{
    (void)l;
    svc_pg_listen *p = arg;
    p->timer = NULL;
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {p->conninfo, "callroute-listen", NULL};
    p->pc = PQconnectStartParams(keys, vals, 1);
    if (!p->pc)
        cr_oom("PQconnectStartParams");
    if (PQstatus(p->pc) == CONNECTION_BAD) {
        fail(p, PQerrorMessage(p->pc));
        return;
    }
    p->state = PL_CONNECTING;
    p->timer = loop_timer_start(p->l, CONNECT_TIMEOUT, timeout_cb, p);
    watch(p, LOOP_WRITE, true);
}

static void deliver(svc_pg_listen *p)
{
    PGnotify *n;
    while (p->pc && (n = PQnotifies(p->pc))) {
        char *payload = cr_xstrdup(n->extra ? n->extra : "");
        PQfreemem(n);
        p->ops.notify(p->arg, payload);
        free(payload);
    }
}

static void on_connecting(svc_pg_listen *p)
{
    switch (PQconnectPoll(p->pc)) {
    case PGRES_POLLING_READING:
        watch(p, LOOP_READ, true);
        return;
    case PGRES_POLLING_WRITING:
        watch(p, LOOP_WRITE, true);
        return;
    case PGRES_POLLING_OK: {
        loop_timer_stop(p->l, p->timer);
        p->timer = NULL;
        PQsetnonblocking(p->pc, 1);
        char sql[128];
        snprintf(sql, sizeof sql, "LISTEN %s", p->channel);   /* checked: an identifier */
        if (!PQsendQuery(p->pc, sql)) {
            fail(p, PQerrorMessage(p->pc));
            return;
        }
        p->state = PL_LISTENING;
        watch(p, PQflush(p->pc) ? LOOP_READ | LOOP_WRITE : LOOP_READ, true);
        return;
    }
    default:
        fail(p, PQerrorMessage(p->pc));
        return;
    }
}

static void event_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    svc_pg_listen *p = arg;
    if (p->state == PL_CONNECTING) {
        on_connecting(p);
        return;
    }
    if ((events & LOOP_WRITE) && PQflush(p->pc) < 0) {
        fail(p, PQerrorMessage(p->pc));
        return;
    }
    if (!PQconsumeInput(p->pc) || PQstatus(p->pc) == CONNECTION_BAD) {
        fail(p, PQerrorMessage(p->pc));
        return;
    }
    if (p->state == PL_LISTENING) {
        while (!PQisBusy(p->pc)) {
            PGresult *res = PQgetResult(p->pc);
            if (!res) {
                p->state = PL_IDLE;
                p->backoff = 0;
                watch(p, LOOP_READ, false);
                p->ops.up(p->arg);
                break;
            }
            bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            char msg[300];
            snprintf(msg, sizeof msg, "LISTEN: %s", PQresultErrorMessage(res));
            PQclear(res);
            if (!ok) {
                fail(p, msg);
                return;
            }
        }
    }
    if (p->state == PL_IDLE)
        deliver(p);
}

svc_pg_listen *svc_pg_listen_new(loop *l, const char *conninfo, const char *channel, const svc_pg_listen_ops *ops,
                                 void *arg)
{
    if (!channel || !*channel || strlen(channel) > 63 || strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
                                                              strlen(channel))
        return NULL;
    svc_pg_listen *p = cr_xcalloc(1, sizeof *p);
    p->l = l;
    p->conninfo = cr_xstrdup(conninfo);
    p->channel = cr_xstrdup(channel);
    p->ops = *ops;
    p->arg = arg;
    p->fd = -1;
    p->timer = loop_timer_start(l, 0, connect_now, p);
    return p;
}

void svc_pg_listen_free(svc_pg_listen *p)
{
    if (!p)
        return;
    close_conn(p);
    free(p->conninfo);
    free(p->channel);
    free(p);
}

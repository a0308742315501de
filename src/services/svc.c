/* svc.c — the services context and the libcurl multi handle on the loop.
 * One multi handle serves HTTP and SMTP, so connections are reused across
 * calls; its sockets become loop fd watches and its timer a loop timer
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION). */
#include "services/queue_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* curl_global_init is not reference-counted by libcurl; svc_ctx objects are
 * made on the loop thread only, so a plain counter is enough. */
static int curl_users;

char *svc_errdup(const char *msg)
{
    char *d = svc_strdup(msg && *msg ? msg : "unknown error");
    size_t n = strlen(d);
    while (n > 0 && isspace((unsigned char)d[n - 1]))
        d[--n] = '\0';
    return d;
}

bool svc_glob(const char *p, const char *s)
{
    /* Iterative wildcard match with one backtrack point: linear enough for
     * URLs and SQL, and no recursion depth to worry about. */
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

loop_timer *svc_soon(svc_ctx *c, loop_timer_cb cb, void *arg)
{
    return loop_timer_start(c->l, 0, cb, arg);
}

typedef struct later {
    void (*done)(void *arg);
    void *arg;
} later;

static void later_cb(loop *l, void *arg)
{
    (void)l;
    later *x = arg;
    x->done(x->arg);
    free(x);
}

void svc_later(svc_ctx *c, void (*done)(void *arg), void *arg)
{
    later *x = svc_alloc(sizeof *x);
    x->done = done;
    x->arg = arg;
    svc_soon(c, later_cb, x);
}

/* ---- curl multi glue ------------------------------------------------ */

/* A socket curl asked us to watch; kept on a list so svc_free can drop
 * the watches curl does not report removed during cleanup. */
typedef struct sock_watch {
    svc_ctx *c;
    loop_watch *w;
    struct sock_watch *prev, *next;
} sock_watch;

static void sock_unlink(svc_ctx *c, sock_watch *sw)
{
    if (sw->prev)
        sw->prev->next = sw->next;
    else
        c->socks = sw->next;
    if (sw->next)
        sw->next->prev = sw->prev;
    loop_unwatch(c->l, sw->w);
    free(sw);
}

static void check_done(svc_ctx *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        svc_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, easy);
        if (x)
            x->done(x, rc);
    }
}

static void fd_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    sock_watch *sw = arg;
    svc_ctx *c = sw->c;   /* SW may be freed inside socket_action */
    int flags = 0, running;
    if (events & LOOP_READ)
        flags |= CURL_CSELECT_IN;
    if (events & LOOP_WRITE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    svc_ctx *c = userp;
    sock_watch *sw = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sw)
            sock_unlink(c, sw);
        return 0;
    }
    unsigned ev = 0;
    if (what & CURL_POLL_IN)
        ev |= LOOP_READ;
    if (what & CURL_POLL_OUT)
        ev |= LOOP_WRITE;
    if (!sw) {
        sw = svc_alloc(sizeof *sw);
        sw->c = c;
        sw->w = loop_watch_fd(c->l, s, ev, fd_cb, sw);
        sw->next = c->socks;
        if (c->socks)
            c->socks->prev = sw;
        c->socks = sw;
        curl_multi_assign(c->multi, s, sw);
    } else {
        loop_watch_modify(c->l, sw->w, ev);
    }
    return 0;
}

static void curl_timeout_cb(loop *l, void *arg)
{
    (void)l;
    svc_ctx *c = arg;
    int running;
    c->curl_timer = NULL;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    svc_ctx *c = userp;
    if (c->curl_timer) {
        loop_timer_stop(c->l, c->curl_timer);
        c->curl_timer = NULL;
    }
    if (timeout_ms >= 0)
        c->curl_timer = loop_timer_start(c->l, (double)timeout_ms / 1000.0, curl_timeout_cb, c);
    return 0;
}

void svc_curl_add(svc_ctx *c, svc_xfer *x)
{
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
    curl_multi_add_handle(c->multi, x->easy);
}

void svc_curl_remove(svc_ctx *c, svc_xfer *x)
{
    curl_multi_remove_handle(c->multi, x->easy);
}

/* ---- the context ---------------------------------------------------- */

/* How long a shutdown waits for SMTP transfers and durable jobs in flight. */
#define DRAIN_SECONDS 10.0

static void databases_free(svc_ctx *c)
{
    for (size_t i = 0; i < c->database_count; i++) {
        free((char *)c->databases[i].name);
        free((char *)c->databases[i].url);
        free((char *)c->databases[i].target);
    }
    free(c->databases);
    c->databases = NULL;
    c->database_count = 0;
}

static void databases_copy(svc_ctx *c, const svc_config *cfg)
{
    databases_free(c);
    if (!cfg || !cfg->database_count)
        return;
    c->databases = svc_alloc(cfg->database_count * sizeof *c->databases);
    for (size_t i = 0; i < cfg->database_count; i++) {
        const cfg_database *d = &cfg->databases[i];
        c->databases[i] = (cfg_database){.name = svc_strdup(d->name), .kind = d->kind,
                                         .url = svc_strdup(d->url), .target = svc_strdup(d->target)};
    }
    c->database_count = cfg->database_count;
}

const char *const svc_kind_names[SVC_K_COUNT] = {"http", "sqlite", "postgresql", "smtp"};

/* Seconds a request took: from a local query in a few ms to a backstop
 * timeout. */
static const double request_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

void svc_observe(svc_ctx *c, svc_kind k, double started, bool failed)
{
    svc_request_stats *r = &c->requests[k];
    double took = loop_now(c->l) - started;
    cr_hist_observe(&r->seconds, took > 0 ? took : 0);
    if (failed)
        r->failures++;
}

const svc_request_stats *svc_request_stats_of(const svc_ctx *c, svc_kind k) { return &c->requests[k]; }

svc_ctx *svc_new(loop *l, const svc_config *cfg, const svc_options *opt, char *err, size_t errlen)
{
    if (curl_users++ == 0)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    svc_ctx *c = svc_alloc(sizeof *c);
    c->l = l;
    if (opt)
        c->opt = *opt;
    for (int k = 0; k < SVC_K_COUNT; k++)
        cr_hist_init(&c->requests[k].seconds, request_bounds, sizeof request_bounds / sizeof request_bounds[0]);
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);

    databases_copy(c, cfg);
    if (c->opt.mail != SVC_MAIL_CAPTURE) {
        const char *path = c->opt.outbox ? c->opt.outbox : cfg && cfg->outbox ? cfg->outbox : "var/outbox";
        if (!outbox_open(c, path, err, errlen)) {
            svc_free(c);
            return NULL;
        }
    }
    c->mail = svc_mail_open(c, cfg, err, errlen);
    if (c->mail)
        c->durable = svc_durable_open(c, err, errlen);
    if (!c->mail || !c->durable) {
        svc_free(c);
        return NULL;
    }
    return c;
}

void svc_free(svc_ctx *c)
{
    if (!c)
        return;
    svc_http_cancel_all(c);
    svc_dbs_close(&c->dbs);
    /* Last before the multi: closing the outbox runs the loop for a while
     * (outbox_close), and nothing of the callers' may call back meanwhile;
     * durable jobs use their own requests and database connections. */
    outbox_close(c, DRAIN_SECONDS);
    if (c->durable)
        svc_durable_close(c->durable);
    if (c->mail)
        svc_mail_close(c->mail);
    databases_free(c);
    if (c->curl_timer)
        loop_timer_stop(c->l, c->curl_timer);
    /* The transfers are gone by now, so the multi holds only idle
     * connections; cleaning it up closes them (through socket_cb, or the
     * watches left are dropped below). */
    curl_multi_cleanup(c->multi);
    while (c->socks)
        sock_unlink(c, c->socks);
    free(c);
    if (--curl_users == 0)
        curl_global_cleanup();
}

void svc_set_config(svc_ctx *c, const svc_config *cfg)
{
    if (!cfg)
        return;
    svc_mail_settings(c->mail, cfg);
    databases_copy(c, cfg);
}

loop *svc_loop(svc_ctx *c) { return c->l; }

svc_mail_mode svc_mail_mode_of(const svc_ctx *c) { return c->opt.mail; }

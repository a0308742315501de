/* outbox.c — the outbox file every kind of durable work shares (mail,
 * durable jobs; queue_int.h): opening it, the handle the worker jobs hold,
 * flushing for simulate, and the drain at shutdown. */
#include "services/queue_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/strbuf.h"

/* One line per message: what a server says (PostgreSQL's DETAIL quotes
 * the values of the row, which a caller may have chosen) must not be able
 * to start a line of its own in a log that fail2ban reads. */
void svc_log(svc_ctx *c, int level, const char *fmt, ...)
{
    if (!c->opt.log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    c->opt.log(c->opt.log_arg, (svc_log_level)level, buf);
}

/* ---- the shared file handle ----------------------------------------- */

outbox_file *outbox_ref(outbox_file *ob)
{
    pthread_mutex_lock(&ob->mu);
    ob->refs++;
    pthread_mutex_unlock(&ob->mu);
    return ob;
}

void outbox_unref(outbox_file *ob)
{
    pthread_mutex_lock(&ob->mu);
    int left = --ob->refs;
    pthread_mutex_unlock(&ob->mu);
    if (left)
        return;
    sqlite3_close(ob->db);
    pthread_mutex_destroy(&ob->mu);
    free(ob);
}

/* ---- opening -------------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* settings.smtp.outbox names a directory (the outbox file goes inside)
 * unless it ends in .db/.sqlite/.sqlite3 or is an existing file. */
static char *outbox_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    bool is_file = has_suffix(path, ".db") || has_suffix(path, ".sqlite") || has_suffix(path, ".sqlite3") ||
                   (stat(path, &st) == 0 && S_ISREG(st.st_mode));
    cr_strbuf b = CR_STRBUF_INIT;
    if (is_file) {
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            cr_strbuf_append(&b, path, (size_t)(slash - path));
            if (mkdir_p(b.s) < 0) {
                snprintf(err, errlen, "outbox %s: cannot create its directory: %s", path, strerror(errno));
                cr_strbuf_free(&b);
                return NULL;
            }
            cr_strbuf_reset(&b);
        }
        cr_strbuf_puts(&b, path);
    } else {
        if (mkdir_p(path) < 0) {
            snprintf(err, errlen, "outbox %s: cannot create the directory: %s", path, strerror(errno));
            return NULL;
        }
        cr_strbuf_printf(&b, "%s/outbox.sqlite", path);
    }
    return b.s;
}

bool outbox_open(svc_ctx *c, const char *path, char *err, size_t errlen)
{
    char *file = outbox_path(path, err, errlen);
    if (!file)
        return false;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL,
                          NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "outbox %s: %s", file, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        free(file);
        return false;
    }
    free(file);
    outbox_file *ob = svc_alloc(sizeof *ob);
    pthread_mutex_init(&ob->mu, NULL);
    ob->refs = 1;
    ob->db = db;
    atomic_init(&ob->closed, false);
    c->outbox = svc_alloc(sizeof *c->outbox);
    c->outbox->file = ob;
    return true;
}

typedef struct flush_all {
    int left;
    void (*done)(void *arg);
    void *arg;
} flush_all;

static void one_flushed(void *arg)
{
    flush_all *f = arg;
    if (--f->left)
        return;
    f->done(f->arg);
    free(f);
}

/* Every queue of the outbox. In capture mode there is none: durable jobs
 * run there as plain requests, which a loop run waits for anyway. */
void svc_flush(svc_ctx *c, void (*done)(void *arg), void *arg)
{
    flush_all *f = svc_alloc(sizeof *f);
    f->done = done;
    f->arg = arg;
    f->left = 1;                     /* held until every queue is asked */
    for (svc_queue *q = c->outbox ? c->outbox->queues : NULL; q; q = q->next) {
        f->left++;
        queue_flush(q, one_flushed, f);
    }
    if (f->left == 1)
        svc_later(c, one_flushed, f);
    else
        f->left--;                   /* the queues answer on later turns */
}

/* ---- closing -------------------------------------------------------- */

static bool settled(svc_ctx *c)
{
    for (svc_queue *q = c->outbox->queues; q; q = q->next)
        if (q->jobs || (c->outbox->drain_transfers && q->active))
            return false;
    return true;
}

/* During a close's drain: stops the loop once nothing it waits for is in
 * flight. Every completion ends in queue_schedule, which calls this. */
void outbox_drain_check(svc_ctx *c)
{
    if (c->outbox && c->outbox->drain_running && settled(c))
        loop_stop(c->l);
}

static void drain_deadline_cb(loop *l, void *arg)
{
    svc_ctx *c = arg;
    c->outbox->drain_timer = NULL;
    loop_stop(l);
}

/* Runs the loop until the worker jobs in flight are back and, with
 * TRANSFERS, every attempt has its outcome and the outbox knows it, or
 * SECONDS passed (<= 0: no limit). */
static void drain(svc_ctx *c, bool transfers, double seconds)
{
    struct svc_outbox *o = c->outbox;
    o->drain_transfers = transfers;
    if (settled(c))
        return;
    if (seconds > 0)
        o->drain_timer = loop_timer_start(c->l, seconds, drain_deadline_cb, c);
    o->drain_running = true;
    loop_run(c->l);
    o->drain_running = false;
    if (o->drain_timer)
        loop_timer_stop(c->l, o->drain_timer);
    o->drain_timer = NULL;
}

/* An attempt aborted half-way may already have been taken by the other
 * side (the server stored the message or committed the row; its answer had
 * not come back yet), and the next start would do it again: so attempts in
 * flight get up to SECONDS to finish, and what was accepted is deleted
 * before the loop lets go (queue_attempt_done starts that delete first
 * thing). No new attempt starts meanwhile. Writes in flight (work a call
 * just queued) always finish: dropping them would lose it, and leak their
 * jobs. */
void outbox_close(svc_ctx *c, double seconds)
{
    struct svc_outbox *o = c->outbox;
    if (!o)
        return;
    bool send = false;
    for (svc_queue *q = o->queues; q; q = q->next) {
        q->draining = true;
        send |= q->mode == SVC_MAIL_SEND;
        if (q->retry_timer)
            loop_timer_stop(c->l, q->retry_timer);
        q->retry_timer = NULL;
        if (q->flush_timer)
            loop_timer_stop(c->l, q->flush_timer);
        q->flush_timer = NULL;
    }
    drain(c, send, seconds);
    /* Past the deadline: abort, the next start does them again. */
    for (svc_queue *q = o->queues; q; q = q->next)
        for (qitem *it = q->items; it; it = it->next)
            if (it->state == QI_RUN && it->run) {
                q->k->abort(q, it);
                it->run = NULL;
                it->state = QI_WAIT;
                q->active--;
            }
    drain(c, false, 0);   /* SQLite jobs: bounded by its busy timeout */
    while (o->queues) {
        svc_queue *q = o->queues;
        o->queues = q->next;
        queue_free(q);
    }
    atomic_store(&o->file->closed, true);
    outbox_unref(o->file);
    free(o);
    c->outbox = NULL;
}

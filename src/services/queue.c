/* queue.c — the outbox and the queue machinery its kinds share (queue_int.h):
 * what waits is listed in memory (id, attempts, next try); the row itself
 * stays on disk until an attempt needs it. An attempt loads its row
 * (worker), runs (the kind, on the loop), and then either deletes the row
 * (worker) or records the failure (worker) and backs off. A row is deleted
 * only after the other side accepted the work, so nothing is lost to a
 * crash; what is accepted is never tried again in this run. */
#include "services/queue_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/strbuf.h"

#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX 300.0

/* The outbox of a context: the file and the queues in it. */
struct svc_outbox {
    outbox_file *file;
    svc_queue *queues;
    bool drain_running;              /* inside outbox_close's loop_run */
    bool drain_transfers;            /* wait for attempts too, not only jobs */
    loop_timer *drain_timer;
};

void svc_log(svc_ctx *c, int level, const char *fmt, ...)
{
    if (!c->opt.log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
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

/* ---- the in-memory list --------------------------------------------- */

static qitem *item_add(svc_queue *q, long long id, int attempts, const char *lane, const char *target)
{
    qitem *it = svc_alloc(sizeof *it);
    it->id = id;
    it->attempts = attempts;
    it->next_try = loop_now(q->c->l);
    it->lane = lane && *lane ? svc_strdup(lane) : NULL;
    it->target = target && *target ? svc_strdup(target) : NULL;
    /* Keep the list in id order: older work goes first. */
    qitem **pp = &q->items, *prev = NULL;
    while (*pp && (*pp)->id < id) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    it->next = *pp;
    it->prev = prev;
    if (*pp)
        (*pp)->prev = it;
    *pp = it;
    q->count++;
    return it;
}

static void item_remove(svc_queue *q, qitem *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        q->items = it->next;
    if (it->next)
        it->next->prev = it->prev;
    q->count--;
    free(it->lane);
    free(it->target);
    free(it);
}

svc_queue *queue_open(svc_ctx *c, const queue_kind *k, void *owner, char *err, size_t errlen)
{
    outbox_file *ob = c->outbox->file;
    int rc = sqlite3_exec(ob->db, k->schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "outbox: %s", sqlite3_errmsg(ob->db));
        return NULL;
    }
    svc_queue *q = svc_alloc(sizeof *q);
    q->c = c;
    q->k = k;
    q->owner = owner;
    q->mode = c->opt.mail;
    q->ob = ob;
    /* What an earlier run left behind is due now. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ob->db, k->list_sql, -1, &st, NULL) == SQLITE_OK) {
        bool lanes = sqlite3_column_count(st) >= 4;
        while (sqlite3_step(st) == SQLITE_ROW)
            item_add(q, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                     lanes ? (const char *)sqlite3_column_text(st, 2) : NULL,
                     lanes ? (const char *)sqlite3_column_text(st, 3) : NULL);
        sqlite3_finalize(st);
    }
    q->next = c->outbox->queues;
    c->outbox->queues = q;
    queue_schedule(q);
    return q;
}

/* ---- worker jobs on one item: load, delete, record a failure -------- */

typedef struct item_job {
    outbox_file *ob;
    const queue_kind *k;             /* read even when the queue is gone */
    svc_queue *q;                    /* valid while !ob->closed */
    qitem *it;
    long long id;
    int attempts;
    char *error;
    void *payload;                   /* load */
} item_job;

static item_job *item_job_new(svc_queue *q, qitem *it)
{
    item_job *j = svc_alloc(sizeof *j);
    j->ob = outbox_ref(q->ob);
    j->k = q->k;
    j->q = q;
    j->it = it;
    j->id = it->id;
    j->attempts = it->attempts;
    q->jobs++;
    return j;
}

static void item_job_free(item_job *j)
{
    if (j->payload)
        j->k->payload_free(j->payload);
    free(j->error);
    outbox_unref(j->ob);
    free(j);
}

/* A job's completion; false when the queue is gone (J freed). */
static bool job_back(item_job *j)
{
    if (atomic_load(&j->ob->closed)) {
        item_job_free(j);
        return false;
    }
    j->q->jobs--;
    return true;
}

static void exec_id(item_job *j, const char *sql, const char *error)
{
    pthread_mutex_lock(&j->ob->mu);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->ob->db, sql, -1, &st, NULL) == SQLITE_OK) {
        int n = 1;
        if (error) {
            sqlite3_bind_int(st, n++, j->attempts);
            sqlite3_bind_text(st, n++, error, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, n, j->id);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->ob->mu);
}

static void load_work(void *arg)
{
    item_job *j = arg;
    pthread_mutex_lock(&j->ob->mu);
    j->payload = j->k->load(j->ob->db, j->id);
    pthread_mutex_unlock(&j->ob->mu);
}

static void delete_work(void *arg)
{
    item_job *j = arg;
    exec_id(j, j->k->delete_sql, NULL);
}

static void failed_work(void *arg)
{
    item_job *j = arg;
    exec_id(j, j->k->failed_sql, j->error);
}

static void failed_done(loop *l, void *arg)
{
    (void)l;
    item_job *j = arg;
    if (!job_back(j))
        return;
    svc_queue *q = j->q;
    item_job_free(j);
    queue_schedule(q);
}

static void delete_done(loop *l, void *arg)
{
    (void)l;
    item_job *j = arg;
    if (!job_back(j))
        return;
    svc_queue *q = j->q;
    q->active--;
    item_remove(q, j->it);
    item_job_free(j);
    queue_schedule(q);
}

static void load_done(loop *l, void *arg)
{
    (void)l;
    item_job *j = arg;
    if (!job_back(j))
        return;
    svc_queue *q = j->q;
    qitem *it = j->it;
    if (j->payload && q->draining) {
        /* Closing: no new attempt; the row waits for the next start. */
        it->state = QI_WAIT;
        q->active--;
    } else if (!j->payload) {
        /* Gone from the outbox (done by an earlier process): forget it. */
        q->active--;
        item_remove(q, it);
    } else {
        void *p = j->payload;
        j->payload = NULL;
        it->state = QI_RUN;
        q->k->start(q, it, p);
    }
    item_job_free(j);
    queue_schedule(q);
}

/* ---- attempts ------------------------------------------------------- */

/* A success on TARGET: the service is back, so what waits for it to come
 * back need not sit out its backoff. */
static void wake_target(svc_queue *q, const char *target)
{
    double now = loop_now(q->c->l);
    for (qitem *it = q->items; it; it = it->next)
        if (it->state == QI_WAIT && it->target && strcmp(it->target, target) == 0 && !isinf(it->next_try) &&
            it->next_try > now)
            it->next_try = now;
}

void queue_attempt_done(svc_queue *q, qitem *it, const char *error, bool permanent)
{
    it->run = NULL;
    if (!error) {
        it->state = QI_DELETE;
        q->done++;
        if (q->k->wake_on_success && it->target)
            wake_target(q, it->target);
        loop_work(q->c->l, delete_work, delete_done, item_job_new(q, it));
        queue_schedule(q);
        return;
    }
    /* Retried after 1, 2, 4 ... BACKOFF_MAX seconds. A PERMANENT refusal is
     * not retried in this run: the row stays with its error, and the next
     * start tries it again (after an admin fixed what was wrong). */
    it->attempts++;
    it->tried = true;
    double delay = BACKOFF_FIRST;
    for (int i = 1; i < it->attempts && delay < BACKOFF_MAX; i++)
        delay *= 2;
    if (delay > BACKOFF_MAX)
        delay = BACKOFF_MAX;
    it->next_try = permanent ? INFINITY : loop_now(q->c->l) + delay;
    it->state = QI_WAIT;
    q->active--;
    q->failed_attempts++;
    if (permanent)
        svc_log(q->c, SVC_LOG_ERROR, "outbox: %s %lld failed for good (kept until the next start): %s",
                q->k->name, it->id, error);
    item_job *j = item_job_new(q, it);
    j->error = svc_strdup(error);
    loop_work(q->c->l, failed_work, failed_done, j);
    queue_schedule(q);
}

/* ---- writing -------------------------------------------------------- */

static void write_work(void *arg)
{
    queue_write *w = arg;
    if (w->prepare)
        w->prepare(w);
    if (w->error)
        return;
    outbox_file *ob = w->ob;
    pthread_mutex_lock(&ob->mu);
    sqlite3 *db = ob->db;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = w->insert(w, db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        cr_strbuf msg = CR_STRBUF_INIT;
        cr_strbuf_printf(&msg, "outbox: %s", sqlite3_errmsg(db));
        w->error = msg.s;
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&ob->mu);
}

static void write_done(loop *l, void *arg)
{
    (void)l;
    queue_write *w = arg;
    outbox_file *ob = w->ob;
    if (!atomic_load(&ob->closed)) {
        svc_queue *q = w->q;
        q->jobs--;
        if (!w->error)
            item_add(q, w->id, 0, w->lane, w->target);
        w->done(w);
        queue_schedule(q);
    }
    free(w->lane);
    free(w->target);
    free(w->error);
    w->free(w);
    outbox_unref(ob);
}

void queue_write_start(svc_queue *q, queue_write *w)
{
    w->ob = outbox_ref(q->ob);
    w->q = q;
    q->jobs++;
    loop_work(q->c->l, write_work, write_done, w);
}

/* ---- scheduling ----------------------------------------------------- */

static void retry_cb(loop *l, void *arg)
{
    (void)l;
    svc_queue *q = arg;
    q->retry_timer = NULL;
    queue_schedule(q);
}

static void flush_cb(loop *l, void *arg)
{
    (void)l;
    svc_queue *q = arg;
    q->flush_timer = NULL;
    flush_waiter *w = q->waiters;
    q->waiters = NULL;
    while (w) {
        flush_waiter *next = w->next;
        w->done(w->arg);
        free(w);
        w = next;
    }
}

/* Lanes seen in one scheduling pass that have an older item not finished:
 * a growing open-addressing set of string hashes (a collision between two
 * lanes only delays one of them to a later pass). */
typedef struct lane_set {
    uint64_t *slots;
    size_t cap, n;
} lane_set;

static uint64_t lane_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

static void lane_put(lane_set *ls, uint64_t h)
{
    size_t i = (size_t)h & (ls->cap - 1);
    while (ls->slots[i] && ls->slots[i] != h)
        i = (i + 1) & (ls->cap - 1);
    if (!ls->slots[i])
        ls->n++;
    ls->slots[i] = h;
}

/* True when LANE is in the set; adds it otherwise. */
static bool lane_seen(lane_set *ls, const char *lane)
{
    uint64_t h = lane_hash(lane);
    if (ls->cap) {
        for (size_t i = (size_t)h & (ls->cap - 1); ls->slots[i]; i = (i + 1) & (ls->cap - 1))
            if (ls->slots[i] == h)
                return true;
    }
    if (2 * (ls->n + 1) > ls->cap) {
        lane_set bigger = {.cap = ls->cap ? ls->cap * 2 : 64};
        bigger.slots = svc_alloc(bigger.cap * sizeof *bigger.slots);
        for (size_t i = 0; i < ls->cap; i++)
            if (ls->slots[i])
                lane_put(&bigger, ls->slots[i]);
        free(ls->slots);
        *ls = bigger;
    }
    lane_put(ls, h);
    return false;
}

static void drain_check(svc_ctx *c);

void queue_schedule(svc_queue *q)
{
    double now = loop_now(q->c->l), next = -1;
    bool due = false;
    lane_set lanes = {0};
    for (qitem *it = q->items; it && !q->draining; it = it->next) {
        /* An item set aside for good, or already accepted (its row being
         * deleted), does not hold its lane up. */
        bool aside = isinf(it->next_try) || (q->mode == SVC_MAIL_SEND_ONCE && it->tried);
        if (it->lane && !aside && it->state != QI_DELETE && lane_seen(&lanes, it->lane))
            continue;                /* an older item of its lane is not done */
        if (it->state != QI_WAIT || aside)
            continue;
        if (it->next_try <= now) {
            if (q->active >= q->k->max_parallel) {
                /* Full: each completion schedules again. */
                due = true;
                break;
            }
            it->state = QI_LOAD;
            q->active++;
            loop_work(q->c->l, load_work, load_done, item_job_new(q, it));
        } else if (next < 0 || it->next_try < next) {
            next = it->next_try;
        }
    }
    free(lanes.slots);
    if (q->retry_timer) {
        loop_timer_stop(q->c->l, q->retry_timer);
        q->retry_timer = NULL;
    }
    if (next >= 0 && q->mode == SVC_MAIL_SEND && !due)
        q->retry_timer = loop_timer_start(q->c->l, next - now, retry_cb, q);
    /* A flush is answered when nothing is in flight and nothing is due. */
    if (q->waiters && !q->flush_timer && q->jobs == 0 && q->active == 0 && !due && !q->draining)
        q->flush_timer = svc_soon(q->c, flush_cb, q);
    drain_check(q->c);
}

void queue_flush(svc_queue *q, void (*done)(void *arg), void *arg)
{
    flush_waiter *w = svc_alloc(sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = q->waiters;
    q->waiters = w;
    queue_schedule(q);
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
static void drain_check(svc_ctx *c)
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
        while (q->items)
            item_remove(q, q->items);
        if (q->flush_timer)
            loop_timer_stop(c->l, q->flush_timer);
        while (q->waiters) {
            flush_waiter *w = q->waiters;
            q->waiters = w->next;
            free(w);
        }
        free(q);
    }
    atomic_store(&o->file->closed, true);
    outbox_unref(o->file);
    free(o);
    c->outbox = NULL;
}

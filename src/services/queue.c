/* queue.c — the queue machinery the outbox's kinds share (queue_int.h):
 * what waits is listed in memory (id, attempts, next try); the row itself
 * stays on disk until an attempt needs it. An attempt loads its row
 * (worker), runs (the kind, on the loop), and then either deletes the row
 * (worker) or records the failure (worker) and backs off. A row is deleted
 * only after the other side accepted the work, so nothing is lost to a
 * crash; what is accepted is never tried again in this run. */
#include "services/queue_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/strbuf.h"

#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX 300.0

/* ---- the in-memory list --------------------------------------------- */

static qitem *item_add(svc_queue *q, long long id, int attempts, double created, const char *lane,
                       const char *target)
{
    qitem *it = svc_alloc(sizeof *it);
    it->id = id;
    it->attempts = attempts;
    it->created = created;
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
        bool lanes = sqlite3_column_count(st) >= 5;
        while (sqlite3_step(st) == SQLITE_ROW)
            item_add(q, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), sqlite3_column_double(st, 2),
                     lanes ? (const char *)sqlite3_column_text(st, 3) : NULL,
                     lanes ? (const char *)sqlite3_column_text(st, 4) : NULL);
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
    queue_write *w = arg;
    outbox_file *ob = w->ob;
    if (!atomic_load(&ob->closed)) {
        svc_queue *q = w->q;
        q->jobs--;
        /* stored a moment ago (the row says when to the second) */
        if (!w->error)
            item_add(q, w->id, 0, loop_now(l), w->lane, w->target);
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
    uint64_t h = cr_fnv1a64_str(CR_FNV64_BASIS, s);
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
    outbox_drain_check(q->c);
}

/* The list is in id order, and ids grow as rows are stored. */
double queue_oldest(const svc_queue *q) { return q->items ? q->items->created : 0; }

void queue_flush(svc_queue *q, void (*done)(void *arg), void *arg)
{
    flush_waiter *w = svc_alloc(sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = q->waiters;
    q->waiters = w;
    queue_schedule(q);
}

/* Called by outbox_close once nothing is in flight. */
void queue_free(svc_queue *q)
{
    while (q->items)
        item_remove(q, q->items);
    if (q->retry_timer)
        loop_timer_stop(q->c->l, q->retry_timer);
    if (q->flush_timer)
        loop_timer_stop(q->c->l, q->flush_timer);
    while (q->waiters) {
        flush_waiter *w = q->waiters;
        q->waiters = w->next;
        free(w);
    }
    free(q);
}

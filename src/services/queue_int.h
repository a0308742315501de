/* queue_int.h — private to src/services: the outbox, one SQLite file that
 * holds every kind of durable work (mail, durable db/http jobs), and the
 * queue machinery the kinds share (queue.c): the in-memory list of what
 * waits, the scheduler (oldest first, a few at a time, exponential backoff,
 * permanent failures set aside until the next start), writes, deletes and
 * failure bookkeeping on the worker pool, flush for simulate, and the drain
 * at shutdown. A kind (mail_*.c, durable.c) supplies its table, how a row is
 * stored and loaded, and how one attempt runs.
 *
 * Why SQLite and not files: docs/decisions/mail-outbox-sqlite.md. The file
 * is only touched on the worker pool, one transaction at a time. */
#ifndef SVC_QUEUE_INT_H
#define SVC_QUEUE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "services/svc_int.h"

/* Shared with worker jobs, which may outlive the queues: each job holds a
 * reference; CLOSED tells a late completion to just free itself. */
typedef struct outbox_file {
    pthread_mutex_t mu;              /* one transaction at a time */
    int refs;
    sqlite3 *db;
    atomic_bool closed;
} outbox_file;

outbox_file *outbox_ref(outbox_file *ob);
void outbox_unref(outbox_file *ob);

typedef enum { QI_WAIT, QI_LOAD, QI_RUN, QI_DELETE } qitem_state;

typedef struct qitem {
    long long id;
    int attempts;
    double created;                  /* when it was stored (the row's `created`) */
    double next_try;                 /* loop time; INFINITY: set aside (permanent) */
    bool tried;                      /* SEND_ONCE: had its attempt */
    qitem_state state;
    /* Ordering and recovery (NULL for mail): items of one LANE run one at a
     * time, oldest first; a success on TARGET makes the items of that
     * target that wait for a retry due at once (the service is back). */
    char *lane, *target;
    void *run;                       /* the kind's attempt in flight (QI_RUN) */
    struct qitem *prev, *next;
} qitem;

typedef struct svc_queue svc_queue;

typedef struct queue_kind {
    const char *name;                /* "mail", "durable job": log lines */
    const char *schema;              /* CREATE TABLE IF NOT EXISTS ... */
    /* SELECT id, attempts, created[, lane, target] FROM ... ORDER BY id:
     * what an earlier run left. */
    const char *list_sql;
    const char *delete_sql;          /* one ? : the id */
    const char *failed_sql;          /* ? attempts, ? last_error, ? id */
    int max_parallel;
    bool wake_on_success;            /* see qitem.target */
    /* Worker: reads row ID into a payload; NULL when the row is gone. */
    void *(*load)(sqlite3 *db, long long id);
    void (*payload_free)(void *payload);
    /* Loop: starts an attempt with PAYLOAD (takes it), sets IT->run; the
     * attempt ends with queue_attempt_done. */
    void (*start)(svc_queue *q, qitem *it, void *payload);
    /* Loop: drops the attempt in flight (IT->run); no queue_attempt_done. */
    void (*abort)(svc_queue *q, qitem *it);
} queue_kind;

typedef struct flush_waiter {
    void (*done)(void *arg);
    void *arg;
    struct flush_waiter *next;
} flush_waiter;

struct svc_queue {
    svc_ctx *c;
    const queue_kind *k;
    void *owner;                     /* the kind's own state */
    svc_mail_mode mode;              /* SEND or SEND_ONCE */
    outbox_file *ob;
    qitem *items;                    /* id order */
    long count;
    int jobs;                        /* worker jobs in flight */
    int active;                      /* items in QI_LOAD / QI_RUN / QI_DELETE */
    long done, failed_attempts;
    loop_timer *retry_timer;
    loop_timer *flush_timer;
    flush_waiter *waiters;
    /* Closing (outbox_close): no new attempt starts; the loop runs until
     * what is in flight is settled. */
    bool draining;
    struct svc_queue *next;          /* the outbox's queues */
};

/* ---- the outbox (outbox.c) ----------------------------------------- */

/* The outbox of a context: the file and the queues in it. */
struct svc_outbox {
    outbox_file *file;
    svc_queue *queues;
    bool drain_running;              /* inside outbox_close's loop_run */
    bool drain_transfers;            /* wait for attempts too, not only jobs */
    loop_timer *drain_timer;
};

/* Opens the outbox file at PATH (a directory, or a .db/.sqlite file) for
 * context C, creating the directory. False with a message in ERR. */
bool outbox_open(svc_ctx *c, const char *path, char *err, size_t errlen);
/* Shutdown: every queue stops starting attempts; attempts in flight get up
 * to SECONDS to finish (in SEND mode) and their outcome is recorded; what
 * is still running then is aborted (tried again at the next start); worker
 * jobs always finish. Then the queues and the file are freed. */
void outbox_close(svc_ctx *c, double seconds);
/* During outbox_close: stops the loop once nothing it waits for is left. */
void outbox_drain_check(svc_ctx *c);

/* ---- the queues (queue.c) -------------------------------------------- */

/* Adds a queue of kind K to C's outbox (its table created), with what an
 * earlier run left in it, and starts on that. NULL with a message in ERR. */
svc_queue *queue_open(svc_ctx *c, const queue_kind *k, void *owner, char *err, size_t errlen);
/* Frees Q and what it lists; nothing of it may be in flight. */
void queue_free(svc_queue *q);

/* What the kinds call: */

/* A new row, written on the worker pool in one transaction. The kind embeds
 * this header first in its job. */
typedef struct queue_write {
    /* Worker, before the transaction (may fail: set error). May be NULL. */
    void (*prepare)(struct queue_write *w);
    /* Worker, inside BEGIN IMMEDIATE .. COMMIT: inserts, sets id; returns
     * an SQLite result code. */
    int (*insert)(struct queue_write *w, sqlite3 *db);
    /* Loop: the outcome (error NULL: durable), when the queue is still
     * there. Then FREE runs in every case. */
    void (*done)(struct queue_write *w);
    void (*free)(struct queue_write *w);
    char *lane, *target;             /* copied into the item (NULL: none) */
    long long id;
    char *error;
    /* queue.c's */
    outbox_file *ob;
    svc_queue *q;
} queue_write;

void queue_write_start(svc_queue *q, queue_write *w);
/* The end of an attempt: ERROR NULL — done, the row is deleted; else the
 * failure is recorded and retried after 1 s, 2 s, 4 s ... 5 min, or with
 * PERMANENT not before the next start. */
void queue_attempt_done(svc_queue *q, qitem *it, const char *error, bool permanent);
/* When the oldest item of Q was stored (epoch seconds); 0: Q is empty. */
double queue_oldest(const svc_queue *q);
/* Starts what is due, arms the retry timer, answers flushes. */
void queue_schedule(svc_queue *q);
void queue_flush(svc_queue *q, void (*done)(void *arg), void *arg);
/* Logs through svc_options.log when set (outbox.c). */
void svc_log(svc_ctx *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

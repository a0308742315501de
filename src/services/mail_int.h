/* mail_int.h — private to the mail files: the outbox (mail_outbox.c) and
 * delivery (mail_smtp.c).
 *
 * The outbox is an SQLite file, not a directory of message files: a
 * message, its envelope and its attachments go in with one transaction
 * (durable once COMMIT returns — SQLite does the journaling and fsync a
 * hand-made temp-file+rename scheme would have to get right), delivery
 * bookkeeping (attempts, last error) is an UPDATE, and removing a message
 * once the server accepted it is one DELETE. The file is only touched on
 * the worker pool. */
#ifndef SVC_MAIL_INT_H
#define SVC_MAIL_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "services/svc_int.h"

/* Shared with worker jobs, which may outlive the mailer: each job holds a
 * reference; CLOSED tells a late completion to just free itself. */
typedef struct mail_outbox {
    pthread_mutex_t mu;
    int refs;
    sqlite3 *db;
    atomic_bool closed;
} mail_outbox;

typedef enum { MI_WAIT, MI_LOAD, MI_SEND, MI_DELETE } mail_item_state;

typedef struct mail_item {
    long long id;
    int attempts;
    double next_try;                 /* loop time */
    bool tried;                      /* SEND_ONCE: had its attempt */
    mail_item_state state;
    struct mail_smtp_xfer *xfer;     /* MI_SEND */
    struct mail_item *prev, *next;
} mail_item;

typedef struct flush_waiter {
    void (*done)(void *arg);
    void *arg;
    struct flush_waiter *next;
} flush_waiter;

struct svc_mailer {
    svc_ctx *c;
    svc_mail_mode mode;
    mail_outbox *ob;                 /* NULL in capture mode */
    svc_captured_mail *cap_head, *cap_tail;
    char *url, *from, *user, *password;   /* copies: the program may be reloaded */
    bool starttls;
    mail_item *items;
    long count;                      /* items */
    int jobs;                        /* worker jobs in flight */
    int active;                      /* items in MI_LOAD / MI_SEND / MI_DELETE */
    long sent, failed_attempts;
    loop_timer *retry_timer;
    loop_timer *flush_timer;
    flush_waiter *waiters;
    /* Closing (svc_mail_close): no new delivery starts; the loop runs
     * until what is in flight is settled, see mail_int_settled. */
    bool draining;
    bool drain_running;              /* inside the close's loop_run */
    bool drain_transfers;            /* wait for transfers too, not only jobs */
    loop_timer *drain_timer;         /* the drain's deadline */
};

/* mail_outbox.c */
void mail_outbox_unref(mail_outbox *ob);
mail_outbox *mail_outbox_ref(mail_outbox *ob);
void mail_item_add(svc_mailer *m, long long id, int attempts);
void mail_item_remove(svc_mailer *m, mail_item *it);

/* mail_smtp.c: starts what is due, arms the retry timer, answers flushes. */
void mail_schedule(svc_mailer *m);
void mail_smtp_abort(svc_mailer *m, mail_item *it);
/* During a close's drain: stops the loop once nothing it waits for is in
 * flight. Called at the end of mail_schedule, which every completion runs. */
void mail_drain_check(svc_mailer *m);

#endif

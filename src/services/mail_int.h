/* mail_int.h — private to the mail files: queuing (mail_outbox.c) and
 * delivery over SMTP (mail_smtp.c). Mail is one kind of work in the outbox
 * (queue_int.h): a message, its envelope and its attachments go in with one
 * transaction, delivery bookkeeping (attempts, last error) is an UPDATE, and
 * removing a message once the server accepted it is one DELETE. */
#ifndef SVC_MAIL_INT_H
#define SVC_MAIL_INT_H

#include "services/queue_int.h"

struct svc_mailer {
    svc_ctx *c;
    svc_mail_mode mode;
    svc_queue *q;                    /* NULL in capture mode */
    svc_captured_mail *cap_head, *cap_tail;
    char *url, *from, *user, *password;   /* copies: the program may be reloaded */
    bool starttls;
};

/* mail_outbox.c: the tables (message, attachment). */
extern const char mail_schema[];

/* mail_smtp.c: the mail kind of the outbox (its table, loading a message,
 * one SMTP transfer). */
extern const queue_kind mail_kind;

#endif

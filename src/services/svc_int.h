/* svc_int.h — private to src/services: the context and the pieces the
 * files share (the libcurl multi glue, database backends, mail). */
#ifndef SVC_INT_H
#define SVC_INT_H

#include <curl/curl.h>
#include <stdbool.h>

#include "services/svc.h"

/* One libcurl transfer on the shared multi handle (HTTP or SMTP). DONE runs
 * on the loop when the transfer ends, after the handle left the multi. */
typedef struct svc_xfer svc_xfer;
struct svc_xfer {
    CURL *easy;
    void (*done)(svc_xfer *x, CURLcode rc);
};

typedef struct svc_dbstate svc_dbstate;   /* one per database (kind + target) */
typedef struct svc_mailer svc_mailer;

/* Databases are found by what they are (kind + target), not by a program's
 * table: calls of an older program keep working across a reload, and a
 * database a reload adds is opened when first used. */
typedef struct svc_dbentry {
    scn_db_kind kind;
    char *target;
    svc_dbstate *st;
    struct svc_dbentry *next;
} svc_dbentry;

struct svc_ctx {
    loop *l;
    svc_options opt;
    CURLM *multi;
    loop_timer *curl_timer;
    struct sock_watch *socks;             /* fd watches for curl's sockets */
    svc_http *https;                      /* live HTTP requests */
    svc_dbentry *dbs;
    svc_mailer *mail;
};

/* ---- svc.c: the curl multi on the loop ------------------------------ */
void svc_curl_add(svc_ctx *c, svc_xfer *x);
/* Takes X out of the multi; DONE is not called. */
void svc_curl_remove(svc_ctx *c, svc_xfer *x);

/* malloc that aborts on failure, like the arena. */
void *svc_alloc(size_t n);
char *svc_strdup(const char *s);
/* Copies an error message, trimming trailing whitespace (libpq adds "\n"). */
char *svc_errdup(const char *msg);

/* Runs CB(ARG) on the next loop turn (0-second timer). */
loop_timer *svc_soon(svc_ctx *c, loop_timer_cb cb, void *arg);

/* http.c: svc_free drops requests their owners left behind (no callbacks). */
void svc_http_cancel_all(svc_ctx *c);

/* ---- databases ------------------------------------------------------ */
/* Every query, whatever the backend, starts with this header. */
struct svc_db {
    svc_ctx *c;
    svc_db_cb cb;
    void *arg;
    void (*cancel)(svc_db *q);      /* backend: stop, free, never call cb */
};

svc_dbstate *svc_sqlite_open(svc_ctx *c, const scn_database *db);
void svc_sqlite_close(svc_dbstate *d);
svc_db *svc_sqlite_query(svc_dbstate *d, const char *sql, const char *const *params,
                         size_t nparams, double timeout, svc_db_cb cb, void *arg);

svc_dbstate *svc_pg_open(svc_ctx *c, const scn_database *db, int pool_size);
void svc_pg_close(svc_dbstate *d);
svc_db *svc_pg_query(svc_dbstate *d, const char *sql, const char *const *params,
                     size_t nparams, double timeout, svc_db_cb cb, void *arg);

/* A query that fails at once: CB runs with ERROR on the next loop turn. */
svc_db *svc_db_fail(svc_ctx *c, const char *error, svc_db_cb cb, void *arg);

/* ---- mail ----------------------------------------------------------- */
svc_mailer *svc_mail_open(svc_ctx *c, const scn_settings *s, char *err, size_t errlen);
void svc_mail_settings(svc_mailer *m, const scn_settings *s);
void svc_mail_close(svc_mailer *m);

#endif

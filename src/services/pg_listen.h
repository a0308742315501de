/* pg_listen.h — a long-lived PostgreSQL connection that LISTENs on one
 * channel, on the loop (libpq's non-blocking API): each NOTIFY comes to a
 * callback. Apart from the query pool (db_pg.c): a pooled connection is
 * handed from query to query and may be closed at any time; a listener
 * must stay. When the connection drops it is opened again (1 s, 2 s, ...
 * up to 10 s apart), and UP runs every time it listens again: a
 * notification sent while it was down is lost, so the owner looks at the
 * state itself then. Used by the cluster (revisions, docs/cluster.md).
 *
 * A host name in CONNINFO is resolved by libpq when (re)connecting, which
 * blocks the loop for that lookup (once per connection, not per
 * notification): give an address (host=10.0.0.5) where that matters. */
#ifndef SVC_PG_LISTEN_H
#define SVC_PG_LISTEN_H

#include "loop/loop.h"

typedef struct svc_pg_listen svc_pg_listen;

typedef struct svc_pg_listen_ops {
    void (*notify)(void *arg, const char *payload);
    void (*up)(void *arg);                         /* listening (again) */
    void (*down)(void *arg, const char *error);    /* lost or not connected; may be NULL */
} svc_pg_listen_ops;

/* CHANNEL: an identifier of letters, digits and '_' (else NULL). */
svc_pg_listen *svc_pg_listen_new(loop *l, const char *conninfo, const char *channel, const svc_pg_listen_ops *ops,
                                 void *arg);
void svc_pg_listen_free(svc_pg_listen *p);

#endif

/* cluster.h — serve as one node of a cluster (settings.cluster,
 * docs/cluster.md): the shared database's tables, the revision every node
 * runs (stored there, announced with LISTEN/NOTIFY), and publishing a new
 * one. serve decides what to do with a revision; this file only talks to
 * the database. */
#ifndef CLI_CLUSTER_H
#define CLI_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "scenario/program.h"
#include "services/svc.h"

#define CLUSTER_CHANNEL "callroute_revisions"

/* At start, before the loop runs (blocking, at most a few seconds): makes
 * the tables (callroute_revisions, callroute_nodes, callroute_agents) and
 * agrees on the revision to run: the newest stored, or LOCAL (the file's
 * text, NODE storing it) as revision 1 when there is none. *NUMBER is it; *TEXT
 * (malloc'd, *LEN bytes) its text when it is not LOCAL, else NULL. False
 * with ERR (the database cannot be reached or used). */
bool cluster_boot(const char *conninfo, const char *node, const char *local, size_t local_len, long *number,
                  char **text, size_t *len, char *err, size_t errlen);

typedef struct cluster cluster;

typedef struct cluster_ops {
    long (*current)(void *arg);   /* the revision this node runs */
    /* Revision NUMBER (newer than current), TEXT stored by node FROM. */
    void (*newer)(void *arg, long number, const char *text, size_t len, const char *from);
    void (*log)(void *arg, int level, const char *msg);   /* 0 error 1 warn 2 info */
} cluster_ops;

/* Follows the cluster's revisions: LISTEN on CLUSTER_CHANNEL; on each
 * NOTIFY and each (re)connection the newest revision is read, and NEWER
 * told when it is newer than current. */
cluster *cluster_new(loop *l, svc_ctx *svc, const char *conninfo, const char *node, const cluster_ops *ops,
                     void *arg);
void cluster_free(cluster *c);
/* The database as the services layer reaches it (name "cluster"). */
const scn_database *cluster_db(const cluster *c);

/* TEXT becomes revision AFTER + 1 unless that number is taken (CONFLICT:
 * another node changed the scenario first); every node is told. DONE runs
 * once on the loop unless cancelled with the handle. */
typedef void (*cluster_published_cb)(void *arg, long n, bool conflict, const char *error);
void *cluster_publish(cluster *c, const char *text, size_t len, long after, cluster_published_cb done, void *arg);
void cluster_publish_cancel(void *handle);

#endif

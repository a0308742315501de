/* cluster_agents.h — queue agents' presence shared by a cluster's nodes
 * (docs/cluster.md): a login, logout, pause (with its reason) or unpause
 * made on any node is stored in the cluster database's callroute_agents
 * table (one row per queue and agent, the last change wins) and announced
 * with NOTIFY; every node LISTENs and applies the rows that changed, at
 * start and whenever it (re)connects too. serve wires it between the
 * engine (eng_options.agent_changed, eng_queue_agent_apply) and the
 * database; this file only talks to the database. */
#ifndef CLI_CLUSTER_AGENTS_H
#define CLI_CLUSTER_AGENTS_H

#include <stdbool.h>

#include "loop/loop.h"
#include "scenario/program.h"
#include "services/svc.h"

#define CLUSTER_AGENTS_CHANNEL "callroute_agents"

typedef struct cluster_agents cluster_agents;

typedef struct cluster_agents_ops {
    /* Agent NUMBER of QUEUE is now STATE (available, paused, logged_out),
     * REASON (may be NULL) for a pause. False: not applied here (not a
     * user of this node's program): tried again at the next change. */
    bool (*apply)(void *arg, const char *queue, const char *number, const char *state, const char *reason);
    void (*log)(void *arg, int level, const char *msg);   /* 0 error 1 warn 2 info */
} cluster_agents_ops;

/* DB is the cluster database as the services layer reaches it, CONNINFO
 * the same for the listener; NODE this node's name (stored with its
 * changes). */
cluster_agents *cluster_agents_new(loop *l, svc_ctx *svc, const scn_database *db, const char *conninfo,
                                   const char *node, const cluster_agents_ops *ops, void *arg);
void cluster_agents_free(cluster_agents *ca);

/* A change made on this node: stored (changes are written one at a time,
 * in the order made) and announced to every node. STATE: available,
 * paused or logged_out. */
void cluster_agents_publish(cluster_agents *ca, const char *queue, const char *number, const char *state,
                            const char *reason);

#endif

/* cluster_agents.c — agents' presence in the cluster database
 * (cluster_agents.h). The table is made at start (cluster.c).
 *
 * Every row carries seq, a number from one database sequence taken anew
 * at each change. A node remembers the seq it applied for each (queue,
 * agent) and, when told of a change, reads the whole table (a few rows per
 * agent) and applies each row whose seq differs: whatever order NOTIFYs
 * and commits come in, every node ends with what the table holds. A row
 * this node is still writing is not applied from the table (its older
 * state there would undo the newer one here for a moment). */
#include "cli/cluster_agents.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/pg_listen.h"
#include "util/alloc.h"

static const char publish_sql[] =
    "WITH up AS (INSERT INTO callroute_agents (queue, agent, state, reason, node, seq, changed_at) "
    "VALUES (?, ?, ?, ?, ?, nextval('callroute_agents_seq'), now()) "
    "ON CONFLICT (queue, agent) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, "
    "node = EXCLUDED.node, seq = EXCLUDED.seq, changed_at = EXCLUDED.changed_at RETURNING seq) "
    "SELECT seq, pg_notify('" CLUSTER_AGENTS_CHANNEL "', seq::text) FROM up";

/* One row of JSON text: the services give a query's first row only. */
static const char load_sql[] =
    "SELECT coalesce((SELECT json_agg(json_build_object('queue', queue, 'agent', agent, 'state', state, "
    "'reason', reason, 'seq', seq) ORDER BY seq) FROM callroute_agents), '[]')::text";

typedef struct change {
    struct change *next;
    char *queue, *number, *state, *reason;
} change;

typedef struct applied {
    struct applied *next;
    char *queue, *number;
    long long seq;
} applied;

struct cluster_agents {
    svc_ctx *svc;
    const scn_database *db;
    char *node;
    cluster_agents_ops ops;
    void *arg;
    svc_pg_listen *listen;
    svc_db *load_q;
    bool again;                  /* told of a change while reading */
    change *head, *tail;         /* this node's changes: the head is being written */
    svc_db *write_q;
    applied *seen;
    bool down_said;
};

static void say(cluster_agents *ca, int level, const char *what, const char *detail)
{
    char msg[400];
    snprintf(msg, sizeof msg, "cluster: %s: %s", what, detail);
    ca->ops.log(ca->arg, level, msg);
}

static void change_free(change *ch)
{
    free(ch->queue);
    free(ch->number);
    free(ch->state);
    free(ch->reason);
    free(ch);
}

/* ---- reading ---- */

static bool pending(const cluster_agents *ca, const char *queue, const char *number)
{
    for (const change *ch = ca->head; ch; ch = ch->next)
        if (strcmp(ch->queue, queue) == 0 && strcmp(ch->number, number) == 0)
            return true;
    return false;
}

static applied *seen_get(cluster_agents *ca, const char *queue, const char *number)
{
    for (applied *s = ca->seen; s; s = s->next)
        if (strcmp(s->queue, queue) == 0 && strcmp(s->number, number) == 0)
            return s;
    applied *s = cr_xcalloc(1, sizeof *s);
    s->queue = cr_xstrdup(queue);
    s->number = cr_xstrdup(number);
    s->seq = -1;
    s->next = ca->seen;
    ca->seen = s;
    return s;
}

static void load(cluster_agents *ca);

static void loaded_cb(void *arg, const svc_db_res *res)
{
    cluster_agents *ca = arg;
    ca->load_q = NULL;
    json_t *rows = NULL;
    if (res->error)
        say(ca, 1, "cannot read the agents' states", res->error);
    else if (res->rows > 0 && res->ncols > 0 && res->vals[0])
        rows = json_loads(res->vals[0], 0, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *queue = json_string_value(json_object_get(row, "queue"));
        const char *number = json_string_value(json_object_get(row, "agent"));
        const char *state = json_string_value(json_object_get(row, "state"));
        const char *reason = json_string_value(json_object_get(row, "reason"));
        json_t *seqj = json_object_get(row, "seq");
        if (!queue || !number || !state || !json_is_integer(seqj) || pending(ca, queue, number))
            continue;
        applied *s = seen_get(ca, queue, number);
        long long seq = (long long)json_integer_value(seqj);
        if (s->seq != seq && ca->ops.apply(ca->arg, queue, number, state, reason))
            s->seq = seq;
    }
    json_decref(rows);
    if (ca->again) {
        ca->again = false;
        load(ca);
    }
}

static void load(cluster_agents *ca)
{
    if (ca->load_q) {
        ca->again = true;
        return;
    }
    ca->load_q = svc_db_query(ca->svc, ca->db, load_sql, NULL, 0, 10, loaded_cb, ca);
}

static void notify_cb(void *arg, const char *payload)
{
    (void)payload;   /* a hint only: the table says what changed */
    load(arg);
}

static void up_cb(void *arg)
{
    cluster_agents *ca = arg;
    if (ca->down_said)
        ca->ops.log(ca->arg, 2, "cluster: listening for agents' states again");
    ca->down_said = false;
    load(ca);        /* at start, and what changed while it was down */
}

static void down_cb(void *arg, const char *error)
{
    cluster_agents *ca = arg;
    if (ca->down_said)
        return;
    ca->down_said = true;
    say(ca, 1, "not listening for agents' states (retrying)", error);
}

/* ---- writing ---- */

static void write_head(cluster_agents *ca);

static void written_cb(void *arg, const svc_db_res *res)
{
    cluster_agents *ca = arg;
    ca->write_q = NULL;
    change *ch = ca->head;
    if (res->error) {
        char what[300];
        snprintf(what, sizeof what, "agent %s of queue %s is %s here only (the database did not take it)",
                 ch->number, ch->queue, ch->state);
        say(ca, 1, what, res->error);
    }
    ca->head = ch->next;
    if (!ca->head)
        ca->tail = NULL;
    change_free(ch);
    if (ca->head)
        write_head(ca);
    /* Its own NOTIFY makes every node, this one too, read the table. */
}

static void write_head(cluster_agents *ca)
{
    change *ch = ca->head;
    const char *params[] = {ch->queue, ch->number, ch->state, ch->reason, ca->node};
    ca->write_q = svc_db_query(ca->svc, ca->db, publish_sql, params, 5, 10, written_cb, ca);
}

void cluster_agents_publish(cluster_agents *ca, const char *queue, const char *number, const char *state,
                            const char *reason)
{
    if (!ca)
        return;
    change *ch = cr_xcalloc(1, sizeof *ch);
    ch->queue = cr_xstrdup(queue);
    ch->number = cr_xstrdup(number);
    ch->state = cr_xstrdup(state);
    ch->reason = reason ? cr_xstrdup(reason) : NULL;
    if (ca->tail)
        ca->tail->next = ch;
    else
        ca->head = ch;
    ca->tail = ch;
    if (!ca->write_q)
        write_head(ca);
}

/* ---- life ---- */

cluster_agents *cluster_agents_new(loop *l, svc_ctx *svc, const scn_database *db, const char *conninfo,
                                   const char *node, const cluster_agents_ops *ops, void *arg)
{
    cluster_agents *ca = cr_xcalloc(1, sizeof *ca);
    ca->svc = svc;
    ca->db = db;
    ca->node = cr_xstrdup(node);
    ca->ops = *ops;
    ca->arg = arg;
    static const svc_pg_listen_ops lops = {.notify = notify_cb, .up = up_cb, .down = down_cb};
    ca->listen = svc_pg_listen_new(l, conninfo, CLUSTER_AGENTS_CHANNEL, &lops, ca);
    return ca;
}

void cluster_agents_free(cluster_agents *ca)
{
    if (!ca)
        return;
    svc_pg_listen_free(ca->listen);
    svc_db_cancel(ca->load_q);
    svc_db_cancel(ca->write_q);
    while (ca->head) {
        change *ch = ca->head;
        ca->head = ch->next;
        change_free(ch);
    }
    while (ca->seen) {
        applied *s = ca->seen;
        ca->seen = s->next;
        free(s->queue);
        free(s->number);
        free(s);
    }
    free(ca->node);
    free(ca);
}

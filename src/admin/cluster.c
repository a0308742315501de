/* cluster.c — the node's side of the cluster's shared state, for the admin
 * API (docs/cluster.md). Every second the node writes its row of
 * callroute_nodes in the cluster database: its state (up, draining), the
 * revision it runs, and its live calls as GET /calls lists them. Any node
 * then answers for the whole cluster from that table, with no node calling
 * another: GET /cluster (the nodes; one not seen for 3 s is "gone": its
 * calls died with it), GET /cluster/calls (every node's live calls, each
 * with its "node") and GET /cluster/queues (every node's GET /queues,
 * merged: cluster_queues.c), at most a second old. The row also lists the
 * users busy here (on a dial leg or a call of their own); the same write
 * reads the other nodes' lists back, and the engine's queues pass those
 * users over (eng_users_busy_elsewhere). The tables are made at start
 * (cli/cluster.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_int.h"
#include "admin/cluster_queues.h"
#include "services/svc.h"
#include "util/alloc.h"

#define HEARTBEAT 1.0            /* seconds between writes of the node's row */
#define GONE_AFTER "3 seconds"   /* a row older than this: the node is gone */
#define LIVE_MAX 5000            /* calls written per node (the rest: counted) */

struct admin_cluster {
    admin *a;
    loop_timer *timer;
    svc_db *q;                   /* the write in flight */
    double started;              /* wall clock */
    bool warned;                 /* the database is failing: said once */
};

/* Writes the row and answers the users the other nodes (not gone) list
 * as busy, as one row of JSON text. */
static const char upsert_sql[] =
    "WITH up AS (INSERT INTO callroute_nodes (node, sip, state, revision, calls, live, queues, busy, started_at, seen_at) "
    "VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, to_timestamp(?), now()) "
    "ON CONFLICT (node) DO UPDATE SET sip = EXCLUDED.sip, state = EXCLUDED.state, revision = EXCLUDED.revision, "
    "calls = EXCLUDED.calls, live = EXCLUDED.live, queues = EXCLUDED.queues, busy = EXCLUDED.busy, "
    "started_at = EXCLUDED.started_at, seen_at = now() RETURNING node) "
    "SELECT coalesce((SELECT json_agg(DISTINCT b) FROM callroute_nodes n, jsonb_array_elements_text(n.busy) b "
    "WHERE n.node <> ? AND n.seen_at >= now() - interval '" GONE_AFTER "'), '[]')::text AS busy, "
    "(SELECT count(*) FROM up) AS written";

static void busy_add(void *arg, const char *number) { json_array_append_new(arg, json_string(number)); }

/* The other nodes' busy users, as the heartbeat's answer lists them. */
static void busy_elsewhere_set(admin *a, const svc_db_res *res)
{
    json_t *list = res->rows > 0 && res->ncols > 0 && res->vals[0] ? json_loads(res->vals[0], 0, NULL) : NULL;
    size_t n = json_array_size(list), k = 0, i;
    const char **numbers = cr_xcalloc(n ? n : 1, sizeof *numbers);
    json_t *v;
    json_array_foreach(list, i, v)
        if (json_is_string(v))
            numbers[k++] = json_string_value(v);
    eng_users_busy_elsewhere(a->eng, numbers, k);
    free(numbers);
    json_decref(list);
}

static void beat(loop *l, void *arg);

static void written_cb(void *arg, const svc_db_res *res)
{
    struct admin_cluster *c = arg;
    c->q = NULL;
    if (res->error && !c->warned)
        fprintf(stderr, "callroute serve: cluster: cannot write this node's state: %s\n", res->error);
    c->warned = res->error != NULL;
    /* Unreadable: the last list stands (an agent may be offered while it
     * is busy elsewhere, rather than never). */
    if (!res->error && c->a->eng)
        busy_elsewhere_set(c->a, res);
    c->timer = loop_timer_start(c->a->l, HEARTBEAT, beat, c);
}

static void beat(loop *l, void *arg)
{
    (void)l;
    struct admin_cluster *c = arg;
    admin *a = c->a;
    c->timer = NULL;
    json_t *live = admin_calls_live_json(a->calls);
    size_t n = json_array_size(live);
    while (json_array_size(live) > LIVE_MAX)
        json_array_remove(live, json_array_size(live) - 1);
    char *live_text = json_dumps(live, JSON_COMPACT);
    json_decref(live);
    json_t *queues = admin_queues_json(a->eng), *busy = json_array();
    if (a->eng)
        eng_users_busy_each(a->eng, busy_add, busy);
    char *queues_text = json_dumps(queues, JSON_COMPACT), *busy_text = json_dumps(busy, JSON_COMPACT);
    json_decref(queues);
    json_decref(busy);
    char rev[24], calls[24], started[32];
    snprintf(rev, sizeof rev, "%ld", a->prog ? a->prog->revision : 0);
    snprintf(calls, sizeof calls, "%zu", n);
    snprintf(started, sizeof started, "%.3f", c->started);
    const char *params[] = {a->opt.cluster_node, a->opt.cluster_sip ? a->opt.cluster_sip : "",
                            a->refuse_new ? "draining" : "up", rev, calls, live_text ? live_text : "[]",
                            queues_text ? queues_text : "[]", busy_text ? busy_text : "[]", started,
                            a->opt.cluster_node};
    c->q = svc_db_query(a->opt.svc, a->opt.cluster_db, upsert_sql, params, 10, 10, written_cb, c);
    free(live_text);
    free(queues_text);
    free(busy_text);
}

void admin_cluster_start(admin *a)
{
    if (!a || !a->opt.cluster_db || !a->opt.cluster_node || !a->opt.svc)
        return;
    struct admin_cluster *c = cr_xcalloc(1, sizeof *c);
    c->a = a;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    c->started = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    a->cluster = c;
    c->timer = loop_timer_start(a->l, 0, beat, c);
}

void admin_cluster_stop(admin *a)
{
    struct admin_cluster *c = a ? a->cluster : NULL;
    if (!c)
        return;
    if (c->timer)
        loop_timer_stop(a->l, c->timer);
    svc_db_cancel(c->q);
    free(c);
    a->cluster = NULL;
}

/* ---- reading the table ---- */

/* Both answers are one row of JSON text (the services give a query's
 * first row only): the nodes, and for /cluster/calls the calls. */
static const char nodes_sql[] =
    "SELECT coalesce((SELECT json_agg(json_build_object('node', node, 'sip', sip, "
    "'state', CASE WHEN seen_at < now() - interval '" GONE_AFTER "' THEN 'gone' ELSE state END, "
    "'revision', revision, 'calls', calls, "
    "'started_at', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "'seen_at', to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "'seen_ago', round(extract(epoch FROM now() - seen_at)::numeric, 3)) ORDER BY node) "
    "FROM callroute_nodes), '[]')::text AS nodes, "
    "(SELECT max(revision) FROM callroute_revisions) AS newest";

static const char calls_sql[] =
    "SELECT coalesce((SELECT json_agg(c || jsonb_build_object('node', n.node) ORDER BY n.node) "
    "FROM callroute_nodes n, jsonb_array_elements(n.live) c "
    "WHERE n.seen_at >= now() - interval '" GONE_AFTER "'), '[]')::text AS calls";

static const char queues_sql[] =
    "SELECT coalesce((SELECT json_agg(json_build_object('node', node, 'queues', queues) ORDER BY node) "
    "FROM callroute_nodes WHERE seen_at >= now() - interval '" GONE_AFTER "'), '[]')::text AS queues";

typedef enum { READ_NODES, READ_CALLS, READ_QUEUES } read_what;

typedef struct read_op {
    admin_req *r;
    svc_db *q;
    read_what what;              /* calls, queues: a second query */
    json_t *nodes;
    long newest;
} read_op;

static void read_cancel(admin_req *r)
{
    read_op *op = r->op;
    svc_db_cancel(op->q);
    json_decref(op->nodes);
    free(op);
}

static void finish(read_op *op, unsigned code, json_t *o)
{
    admin_req *r = op->r;
    r->cancel = NULL;
    json_decref(op->nodes);
    free(op);
    admin_reply(r, code, o);
}

static json_t *column_json(const svc_db_res *res, size_t i)
{
    return res->rows > 0 && res->ncols > i && res->vals[i] ? json_loads(res->vals[i], 0, NULL) : NULL;
}

static void read_cb(void *arg, const svc_db_res *res)
{
    read_op *op = arg;
    admin *a = op->r->a;
    op->q = NULL;
    if (res->error) {
        finish(op, MHD_HTTP_SERVICE_UNAVAILABLE,
               json_pack("{s:s,s:s}", "error", "the cluster database cannot be read", "detail", res->error));
        return;
    }
    if (!op->nodes) {
        op->nodes = column_json(res, 0);
        op->newest = res->rows > 0 && res->ncols > 1 && res->vals[1] ? atol(res->vals[1]) : 0;
        if (!json_is_array(op->nodes)) {
            finish(op, MHD_HTTP_BAD_GATEWAY, json_pack("{s:s}", "error", "the cluster database answered something else"));
            return;
        }
        if (op->what != READ_NODES) {
            op->q = svc_db_query(a->opt.svc, a->opt.cluster_db, op->what == READ_CALLS ? calls_sql : queues_sql,
                                 NULL, 0, 10, read_cb, op);
            return;
        }
        json_t *o = json_object();
        json_object_set_new(o, "node", admin_jstr(a->opt.cluster_node));
        json_object_set_new(o, "revision", json_integer(a->prog ? a->prog->revision : 0));
        json_object_set_new(o, "newest_revision", json_integer(op->newest));
        json_object_set(o, "nodes", op->nodes);
        finish(op, MHD_HTTP_OK, o);
        return;
    }
    json_t *calls = column_json(res, 0);   /* or the queues of each node */
    if (!json_is_array(calls)) {
        json_decref(calls);
        finish(op, MHD_HTTP_BAD_GATEWAY, json_pack("{s:s}", "error", "the cluster database answered something else"));
        return;
    }
    /* The nodes in brief: which answered for how many calls, and which are gone. */
    json_t *nodes = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(op->nodes, i, n) {
        json_array_append_new(nodes, json_pack("{s:O,s:O,s:O,s:O}", "node", json_object_get(n, "node"), "state",
                                               json_object_get(n, "state"), "calls", json_object_get(n, "calls"),
                                               "seen_ago", json_object_get(n, "seen_ago")));
    }
    json_t *o = json_object();
    if (op->what == READ_QUEUES) {
        json_object_set_new(o, "queues", admin_cluster_queues_merge(calls));
        json_decref(calls);
    } else {
        json_object_set_new(o, "count", json_integer((json_int_t)json_array_size(calls)));
        json_object_set_new(o, "calls", calls);
    }
    json_object_set_new(o, "nodes", nodes);
    finish(op, MHD_HTTP_OK, o);
}

static void read_start(admin_req *r, read_what what)
{
    admin *a = r->a;
    if (!a->opt.cluster_db || !a->opt.svc) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not a cluster node (settings.cluster)", NULL);
        return;
    }
    read_op *op = cr_xcalloc(1, sizeof *op);
    op->r = r;
    op->what = what;
    r->op = op;
    r->cancel = read_cancel;
    op->q = svc_db_query(a->opt.svc, a->opt.cluster_db, nodes_sql, NULL, 0, 10, read_cb, op);
}

void admin_get_cluster(admin_req *r) { read_start(r, READ_NODES); }
void admin_get_cluster_calls(admin_req *r) { read_start(r, READ_CALLS); }
void admin_get_cluster_queues(admin_req *r) { read_start(r, READ_QUEUES); }

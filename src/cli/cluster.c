/* cluster.c — the cluster database from serve's side (cluster.h). The
 * start is blocking (libpq's synchronous API: nothing else runs yet); the
 * rest runs on the loop through the services layer (queries) and a
 * listener of its own (services/pg_listen.h).
 *
 * Revision numbers are the database's: revision N + 1 is written only if
 * no node wrote it first (the primary key decides), so two nodes that
 * change the scenario at once cannot both win, and every node numbers its
 * revisions alike (an If-Match taken from one node holds on another). */
#include "cli/cluster.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/revisions.h"
#include "services/pg_listen.h"
#include "util/alloc.h"

/* Made by the first node. The statements run as one implicit transaction;
 * a transaction-level advisory lock, held to its commit, keeps two nodes
 * starting at once from racing on CREATE. callroute_nodes is
 * admin/cluster.c's, callroute_agents cluster_agents.c's. */
static const char schema_sql[] =
    "SELECT pg_advisory_xact_lock(74201801);"
    "CREATE TABLE IF NOT EXISTS callroute_revisions ("
    " revision BIGINT PRIMARY KEY, sha256 TEXT NOT NULL, source TEXT NOT NULL, node TEXT,"
    " created_at TIMESTAMPTZ NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS callroute_nodes ("
    " node TEXT PRIMARY KEY, sip TEXT, state TEXT NOT NULL, revision BIGINT, calls INTEGER NOT NULL DEFAULT 0,"
    " live JSONB NOT NULL DEFAULT '[]', started_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    " seen_at TIMESTAMPTZ NOT NULL DEFAULT now());"
    /* added with the queues' shared state: a database made before gets them */
    "ALTER TABLE callroute_nodes ADD COLUMN IF NOT EXISTS queues JSONB NOT NULL DEFAULT '[]',"
    " ADD COLUMN IF NOT EXISTS busy JSONB NOT NULL DEFAULT '[]';"
    "CREATE SEQUENCE IF NOT EXISTS callroute_agents_seq;"
    "CREATE TABLE IF NOT EXISTS callroute_agents ("
    " queue TEXT NOT NULL, agent TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, node TEXT,"
    " seq BIGINT NOT NULL, changed_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (queue, agent));";

static const char first_sql[] =
    "INSERT INTO callroute_revisions (revision, sha256, source, node) "
    "SELECT 1, $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM callroute_revisions) ON CONFLICT DO NOTHING";

static const char newest_sql[] =
    "SELECT revision, sha256, source, node FROM callroute_revisions ORDER BY revision DESC LIMIT 1";

static const char newer_sql[] =
    "SELECT revision, source, node FROM callroute_revisions WHERE revision > ? ORDER BY revision DESC LIMIT 1";

static const char publish_sql[] =
    "WITH ins AS (INSERT INTO callroute_revisions (revision, sha256, source, node) "
    "VALUES (?::bigint + 1, ?, ?, ?) ON CONFLICT (revision) DO NOTHING RETURNING revision) "
    "SELECT revision, pg_notify('" CLUSTER_CHANNEL "', revision::text) FROM ins";

static bool ok_result(PGconn *pc, PGresult *res, char *err, size_t errlen, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return true;
    snprintf(err, errlen, "cluster database: %s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(pc));
    err[strcspn(err, "\n")] = '\0';
    return false;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

bool cluster_boot(const char *conninfo, const char *node, const char *local, size_t local_len, long *number,
                  char **text, size_t *len, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {conninfo, "callroute", "5", NULL};
    PGconn *pc = PQconnectdbParams(keys, vals, 1);
    if (!pc)
        cr_oom("PQconnectdbParams");
    bool ok = false;
    PGresult *res = NULL;
    PQsetNoticeProcessor(pc, quiet, NULL);   /* "already exists, skipping" */
    if (PQstatus(pc) != CONNECTION_OK) {
        snprintf(err, errlen, "cluster database: cannot connect: %s", PQerrorMessage(pc));
        err[strcspn(err, "\n")] = '\0';
        goto out;
    }
    res = PQexec(pc, schema_sql);
    if (!ok_result(pc, res, err, errlen, "making the tables"))
        goto out;
    PQclear(res);
    char sha[65];
    admin_sha256_hex(local, local_len, sha);
    char *copy = cr_xstrndup(local, local_len);
    const char *params[] = {sha, copy, node};
    res = PQexecParams(pc, first_sql, 3, NULL, params, NULL, NULL, 0);
    free(copy);
    if (!ok_result(pc, res, err, errlen, "storing the first revision"))
        goto out;
    PQclear(res);
    res = PQexec(pc, newest_sql);
    if (!ok_result(pc, res, err, errlen, "reading the newest revision"))
        goto out;
    if (PQntuples(res) != 1) {
        snprintf(err, errlen, "cluster database: no revision stored");
        goto out;
    }
    *number = atol(PQgetvalue(res, 0, 0));
    if (strcmp(PQgetvalue(res, 0, 1), sha) != 0) {
        *len = (size_t)PQgetlength(res, 0, 2);
        *text = cr_xstrndup(PQgetvalue(res, 0, 2), *len);
    }
    ok = true;
out:
    PQclear(res);
    PQfinish(pc);
    return ok;
}

/* ---- on the loop ---- */

struct cluster {
    loop *l;
    svc_ctx *svc;
    char *node;
    scn_database db;             /* its strings are the two below */
    char *url;
    cluster_ops ops;
    void *arg;
    svc_pg_listen *listen;
    svc_db *q;                   /* reading the newest */
    bool again;                  /* a NOTIFY came while reading */
    bool down_said;
};

typedef struct publish_op {
    cluster *c;
    svc_db *q;
    cluster_published_cb done;
    void *arg;
} publish_op;

static void look(cluster *c);

static void newest_cb(void *arg, const svc_db_res *res)
{
    cluster *c = arg;
    c->q = NULL;
    if (res->error) {
        char msg[400];
        snprintf(msg, sizeof msg, "cluster: cannot read the newest revision: %s", res->error);
        c->ops.log(c->arg, 1, msg);
    } else if (res->rows > 0 && res->ncols >= 3 && res->vals[0] && res->vals[1]) {
        long n = atol(res->vals[0]);
        if (n > c->ops.current(c->arg))
            c->ops.newer(c->arg, n, res->vals[1], strlen(res->vals[1]), res->vals[2] ? res->vals[2] : "?");
    }
    if (c->again) {
        c->again = false;
        look(c);
    }
}

static void look(cluster *c)
{
    if (c->q) {
        c->again = true;
        return;
    }
    char cur[24];
    snprintf(cur, sizeof cur, "%ld", c->ops.current(c->arg));
    const char *params[] = {cur};
    c->q = svc_db_query(c->svc, &c->db, newer_sql, params, 1, 10, newest_cb, c);
}

static void notify_cb(void *arg, const char *payload)
{
    (void)payload;   /* a hint only: the table says what is newest */
    look(arg);
}

static void up_cb(void *arg)
{
    cluster *c = arg;
    if (c->down_said)
        c->ops.log(c->arg, 2, "cluster: listening for revisions again");
    c->down_said = false;
    look(c);         /* what was stored while it was down */
}

static void down_cb(void *arg, const char *error)
{
    cluster *c = arg;
    if (c->down_said)
        return;
    c->down_said = true;
    char msg[400];
    snprintf(msg, sizeof msg, "cluster: not listening for revisions (retrying): %s", error);
    c->ops.log(c->arg, 1, msg);
}

cluster *cluster_new(loop *l, svc_ctx *svc, const char *conninfo, const char *node, const cluster_ops *ops,
                     void *arg)
{
    cluster *c = cr_xcalloc(1, sizeof *c);
    c->l = l;
    c->svc = svc;
    c->node = cr_xstrdup(node);
    c->url = cr_xstrdup(conninfo);
    c->db = (scn_database){.name = "cluster", .kind = CFG_DB_POSTGRESQL, .url = c->url, .target = c->url};
    c->ops = *ops;
    c->arg = arg;
    static const svc_pg_listen_ops lops = {.notify = notify_cb, .up = up_cb, .down = down_cb};
    c->listen = svc_pg_listen_new(l, conninfo, CLUSTER_CHANNEL, &lops, c);
    return c;
}

void cluster_free(cluster *c)
{
    if (!c)
        return;
    svc_pg_listen_free(c->listen);
    svc_db_cancel(c->q);
    free(c->node);
    free(c->url);
    free(c);
}

const scn_database *cluster_db(const cluster *c) { return &c->db; }

static void published_cb(void *arg, const svc_db_res *res)
{
    publish_op *op = arg;
    cluster_published_cb done = op->done;
    void *darg = op->arg;
    free(op);
    if (res->error)
        done(darg, 0, false, res->error);
    else if (res->rows < 1 || !res->vals || !res->vals[0])
        done(darg, 0, true, NULL);
    else
        done(darg, atol(res->vals[0]), false, NULL);
}

void *cluster_publish(cluster *c, const char *text, size_t len, long after, cluster_published_cb done, void *arg)
{
    publish_op *op = cr_xcalloc(1, sizeof *op);
    op->c = c;
    op->done = done;
    op->arg = arg;
    char sha[65], prev[24];
    admin_sha256_hex(text, len, sha);
    snprintf(prev, sizeof prev, "%ld", after);
    char *copy = cr_xstrndup(text, len);
    const char *params[] = {prev, sha, copy, c->node};
    op->q = svc_db_query(c->svc, &c->db, publish_sql, params, 4, 10, published_cb, op);
    free(copy);
    return op;
}

void cluster_publish_cancel(void *handle)
{
    publish_op *op = handle;
    if (!op)
        return;
    svc_db_cancel(op->q);
    free(op);
}

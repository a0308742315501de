/* cdr.c — GET /cdr?since=&until=&limit=: call detail records from the
 * store settings.cdr names (records/cdr.h), newest first, as
 * {"records":[...],"count":N}: the fields `callroute cdr --json` prints.
 * since/until are ISO 8601 or seconds since the epoch (default: the last
 * 24 hours); limit 1..10000 (default 100). The store is read through the
 * services layer; the request waits (suspended) for it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "records/cdr.h"
#include "services/svc.h"
#include "util/alloc.h"
#include "util/time.h"

typedef struct cdr_op {
    admin_req *r;
    svc_db *q;
    json_t *records;
} cdr_op;

static bool when(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end != s && !*end && v >= 0) {
        *out = v;
        return true;
    }
    int off;
    bool has;
    return cr_parse_time(s, out, &off, &has);
}

static void add_row(void *arg, const char *const *vals, size_t n)
{
    cdr_op *op = arg;
    char *s = rec_row_json(vals, n);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    if (j)
        json_array_append_new(op->records, j);
}

static void query_cb(void *arg, const svc_db_res *res)
{
    cdr_op *op = arg;
    admin_req *r = op->r;
    op->records = json_array();
    if (res->error && !strstr(res->error, "no such table") && !strstr(res->error, "does not exist")) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the call record store cannot be read",
                          json_pack("{s:s}", "detail", res->error));
    } else if (!res->error && res->rows > 0 && res->ncols > 0 &&
               !rec_rows_each(res->vals[0], add_row, op)) {
        admin_reply_error(r, MHD_HTTP_BAD_GATEWAY, "the call record store answered something else", NULL);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "count", json_integer((json_int_t)json_array_size(op->records)));
        json_object_set(o, "records", op->records);
        admin_reply(r, MHD_HTTP_OK, o);
    }
    json_decref(op->records);
    free(op);
}

static void cancel_cb(admin_req *r)
{
    cdr_op *op = r->op;
    svc_db_cancel(op->q);
    free(op);
}

void admin_get_cdr(admin_req *r)
{
    admin *a = r->a;
    const scn_cdr_settings *cdr = a->prog ? &a->prog->settings.cdr : NULL;
    if (!cdr || !cdr->enabled || !a->opt.svc) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "call records are off (settings.cdr.database: off)", NULL);
        return;
    }
    double now = loop_now(a->l), since = now - 86400, until = now + 1;
    long limit = 100;
    const char *v;
    if ((v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since")) && !when(v, &since)) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "since: ISO 8601 (2026-12-04T10:00:00Z) or epoch seconds", NULL);
        return;
    }
    if ((v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "until")) && !when(v, &until)) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "until: ISO 8601 (2026-12-04T10:00:00Z) or epoch seconds", NULL);
        return;
    }
    if ((v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit"))) {
        char *end;
        limit = strtol(v, &end, 10);
        if (*end || limit < 1 || limit > 10000) {
            admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "limit: a number from 1 to 10000", NULL);
            return;
        }
    }
    char p0[32], p1[32], p2[32];
    snprintf(p0, sizeof p0, "%lld", llround(since * 1000));
    snprintf(p1, sizeof p1, "%lld", llround(until * 1000));
    snprintf(p2, sizeof p2, "%ld", limit);
    const char *params[] = {p0, p1, p2};
    cdr_op *op = cr_xcalloc(1, sizeof *op);
    op->r = r;
    r->op = op;
    r->cancel = cancel_cb;
    op->q = svc_db_query(a->opt.svc, &cdr->db, rec_select_sql(cdr->db.kind), params, 3, 10, query_cb, op);
}

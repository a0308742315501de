/* status.c — GET /health and GET /refused: calls refused before a
 * scenario ran (a limit, no RTP port, shutdown, an unknown source), the
 * last ADMIN_KEEP of them, and counts by reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "util/alloc.h"
#include "util/version.h"

typedef struct refusal {
    double at;
    int code;
    char call_id[128], source[64], reason[32];
} refusal;

struct admin_status {
    refusal refused[ADMIN_KEEP];
    size_t refused_total;         /* the ring's next slot is total % ADMIN_KEEP */
    json_t *refused_by_reason;    /* {"max_calls": N, ...} */
};

void admin_status_init(admin *a)
{
    a->status = cr_xcalloc(1, sizeof *a->status);
    a->status->refused_by_reason = json_object();
}

void admin_status_free(admin *a)
{
    if (!a->status)
        return;
    json_decref(a->status->refused_by_reason);
    free(a->status);
}

void admin_refused(admin *a, const char *call_id, const char *source, int code, const char *reason)
{
    if (!a || !a->status)
        return;
    struct admin_status *s = a->status;
    refusal *r = &s->refused[s->refused_total++ % ADMIN_KEEP];
    r->at = loop_now(a->l);
    r->code = code;
    snprintf(r->call_id, sizeof r->call_id, "%s", call_id ? call_id : "");
    snprintf(r->source, sizeof r->source, "%s", source ? source : "");
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
    json_t *n = json_object_get(s->refused_by_reason, r->reason);
    json_object_set_new(s->refused_by_reason, r->reason, json_integer(n ? json_integer_value(n) + 1 : 1));
}

void admin_status_each_refusal(admin *a, void (*fn)(void *arg, const char *reason, long long n), void *arg)
{
    const char *reason;
    json_t *n;
    if (a->status)
        json_object_foreach(a->status->refused_by_reason, reason, n) fn(arg, reason, json_integer_value(n));
}

void admin_get_health(admin_req *r)
{
    admin *a = r->a;
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "calls", json_integer((json_int_t)admin_calls_live(a->calls)));
    json_object_set_new(o, "version", json_string(CALLROUTE_VERSION));
    json_object_set_new(o, "revision", json_integer(a->prog ? a->prog->revision : 0));
    json_object_set_new(o, "refused", json_integer((json_int_t)a->status->refused_total));
    json_object_set(o, "refused_by_reason", a->status->refused_by_reason);
    size_t streams;
    unsigned long cut;
    admin_events_counts(a->events, &streams, &cut);
    json_object_set_new(o, "event_streams", json_integer((json_int_t)streams));
    json_object_set_new(o, "event_streams_cut", json_integer((json_int_t)cut));
    if (a->opt.health)
        a->opt.health(a->opt.health_arg, o);
    admin_reply(r, MHD_HTTP_OK, o);
}

void admin_get_refused(admin_req *r)
{
    struct admin_status *s = r->a->status;
    json_t *arr = json_array();
    size_t kept = s->refused_total < ADMIN_KEEP ? s->refused_total : ADMIN_KEEP;
    for (size_t i = 1; i <= kept; i++) {   /* newest first */
        const refusal *f = &s->refused[(s->refused_total - i) % ADMIN_KEEP];
        json_t *o = json_object();
        json_object_set_new(o, "call_id", admin_jstr(f->call_id));
        json_object_set_new(o, "source", admin_jstr(f->source));
        json_object_set_new(o, "code", json_integer(f->code));
        json_object_set_new(o, "reason", admin_jstr(f->reason));
        json_object_set_new(o, "time", admin_jtime(f->at));
        json_array_append_new(arr, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "refused", arr);
    json_object_set_new(o, "total", json_integer((json_int_t)s->refused_total));
    admin_reply(r, MHD_HTTP_OK, o);
}

/* drain.c — POST /drain: the node stops taking calls (new INVITEs and its
 * OPTIONS answers get 503, so the front end sends calls elsewhere), lets
 * the live ones finish, and exits 0 when the last has ended: a rolling
 * upgrade loses no call (docs/cluster.md). Body (optional): {"timeout":
 * "30m"} (a duration, or seconds): calls still up then are ended (BYE, by
 * system); without it they may run to settings.limits.max_call_duration.
 * serve does the draining (admin_options.drain); asking again changes
 * nothing but the answer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin_int.h"
#include "scenario/compile.h"

/* "30m", "90s", 90: seconds in *OUT (1 s .. 7 days). */
static bool timeout_of(json_t *v, double *out)
{
    double t = -1;
    if (json_is_number(v))
        t = json_number_value(v);
    else if (json_is_string(v) && !scn_parse_duration(json_string_value(v), json_string_length(v), &t))
        return false;
    if (!isfinite(t) || t < 1 || t > 7 * 86400)
        return false;
    *out = t;
    return true;
}

void admin_post_drain(admin_req *r)
{
    admin *a = r->a;
    if (!a->opt.drain) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "this server cannot drain", NULL);
        return;
    }
    double timeout = 0;   /* none */
    if (r->body.len) {
        json_error_t je;
        json_t *o = json_loadb(r->body.s, r->body.len, JSON_REJECT_DUPLICATES, &je);
        json_t *t = json_is_object(o) ? json_object_get(o, "timeout") : NULL;
        bool ok = json_is_object(o) && json_object_size(o) == (t ? 1u : 0u) && (!t || timeout_of(t, &timeout));
        json_decref(o);
        if (!ok) {
            admin_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "the body is {} or {\"timeout\": \"30m\"} (a duration from 1s to 7 days, or seconds)",
                              json_pack("{s:s}", "field", "timeout"));
            return;
        }
    }
    size_t live = 0;
    bool started = a->opt.drain(a->opt.drain_arg, timeout, &live);
    a->refuse_new = true;
    json_t *o = json_object();
    json_object_set_new(o, "draining", json_true());
    json_object_set_new(o, "started", json_boolean(started));
    json_object_set_new(o, "calls", json_integer((json_int_t)live));
    admin_reply(r, MHD_HTTP_ACCEPTED, o);
}

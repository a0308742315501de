/* queues.c — the queues resource: GET /queues shows each queue of the
 * program in force as the engine sees it now (callers waiting, the longest
 * wait, answered, abandoned, the service level within its `sla`, and each
 * agent's state, calls and last call's end); POST
 * /queues/NAME/agents/NUMBER {"state":"paused","reason":"lunch"} logs an
 * agent in (`available`) or out (`logged_out`) or pauses it, as
 * `queue_agent` does (a write: server.c has checked the token). The body
 * is untrusted JSON: an object with `state` and, for a pause, `reason`
 * (text without control characters, at most ADMIN_REASON_MAX bytes). */
#include <string.h>

#include "admin/admin_int.h"

#define ADMIN_REASON_MAX 128

static json_t *agent_json(const eng_queue_agent_info *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "number", admin_jstr(a->number));
    json_object_set_new(o, "name", a->name ? admin_jstr(a->name) : json_null());
    json_object_set_new(o, "state", json_string(a->state));
    if (a->reason)
        json_object_set_new(o, "reason", admin_jstr(a->reason));
    json_object_set_new(o, "calls", json_integer((json_int_t)a->calls));
    json_object_set_new(o, "last_call_end", a->last_call_end > 0 ? admin_jtime(a->last_call_end) : json_null());
    return o;
}

static void add_queue(void *arg, const eng_queue_info *q)
{
    json_t *list = arg, *agents = json_array();
    for (size_t i = 0; i < q->agent_count; i++)
        json_array_append_new(agents, agent_json(&q->agents[i]));
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(q->name));
    json_object_set_new(o, "strategy", json_string(q->strategy));
    json_object_set_new(o, "waiting", json_integer((json_int_t)q->waiting));
    json_object_set_new(o, "longest_wait", json_real((double)(long)(q->longest_wait * 10 + 0.5) / 10));
    json_object_set_new(o, "answered", json_integer((json_int_t)q->answered));
    json_object_set_new(o, "answered_in_sla", json_integer((json_int_t)q->answered_in_sla));
    json_object_set_new(o, "abandoned", json_integer((json_int_t)q->abandoned));
    json_object_set_new(o, "timeouts", json_integer((json_int_t)q->timeouts));
    json_object_set_new(o, "exits", json_integer((json_int_t)q->exits));
    json_object_set_new(o, "refused", json_integer((json_int_t)q->refused));
    json_object_set_new(o, "sla", json_real(q->sla));
    json_object_set_new(o, "service_level",
                        q->service_level >= 0 ? json_real((double)(long)(q->service_level * 10 + 0.5) / 10)
                                              : json_null());
    json_object_set_new(o, "average_wait", json_real((double)(long)(q->average_wait * 10 + 0.5) / 10));
    json_object_set_new(o, "agents", agents);
    json_array_append_new(list, o);
}

json_t *admin_queues_json(eng_engine *e)
{
    json_t *list = json_array();
    if (e)
        eng_queues_each(e, add_queue, list);
    return list;
}

void admin_get_queues(admin_req *r)
{
    if (!r->a->eng) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the engine is not running yet", NULL);
        return;
    }
    admin_reply(r, MHD_HTTP_OK, json_pack("{s:o}", "queues", admin_queues_json(r->a->eng)));
}

static void bad(admin_req *r, const char *field, const char *msg)
{
    admin_reply_error(r, MHD_HTTP_BAD_REQUEST, msg, field ? json_pack("{s:s}", "field", field) : NULL);
}

void admin_post_queue_agent(admin_req *r)
{
    admin *a = r->a;
    if (!a->eng) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the engine is not running yet", NULL);
        return;
    }
    const char *queue = r->param, *number = r->param2;
    const scn_program *prog = eng_engine_program(a->eng);
    if (!queue || !number || !scn_program_queue(prog, queue)) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "no such queue", NULL);
        return;
    }
    if (!scn_program_user(prog, number)) {
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "no such user (agents are users)", NULL);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(r->body.s ? r->body.s : "", r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        bad(r, NULL, "the body must be a JSON object: {\"state\": \"available|paused|logged_out\", \"reason\": \"...\"}");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, "state") != 0 && strcmp(k, "reason") != 0) {
            json_t *x = json_pack("{s:s}", "detail", "this path takes state and reason");
            json_object_set_new(x, "field", admin_jstr(k));
            admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "unknown field (this path takes state, reason)", x);
            json_decref(o);
            return;
        }
    }
    static const char *const states[] = {"available", "paused", "logged_out"};
    static const eng_agent_mode modes[] = {ENG_AGENT_AVAILABLE, ENG_AGENT_PAUSED, ENG_AGENT_LOGGED_OUT};
    const char *state = json_string_value(json_object_get(o, "state"));
    int which = -1;
    for (int i = 0; state && i < 3; i++)
        if (strcmp(state, states[i]) == 0)
            which = i;
    json_t *rj = json_object_get(o, "reason");
    const char *reason = NULL;
    if (which < 0) {
        bad(r, "state", "'state' must be available, paused or logged_out");
    } else if (rj && (which != 1 || !json_is_string(rj) || json_string_length(rj) > ADMIN_REASON_MAX ||
                      !admin_clean_text(json_string_value(rj), json_string_length(rj)))) {
        bad(r, "reason",
            which != 1 ? "'reason' goes with state paused only"
                       : "'reason' must be text of at most 128 bytes without control characters");
    } else {
        reason = rj ? json_string_value(rj) : NULL;
        char err[200];
        if (eng_queue_agent_set(a->eng, prog, queue, number, modes[which], reason, err, sizeof err) < 0) {
            admin_reply_error(r, MHD_HTTP_NOT_FOUND, err, NULL);
        } else {
            json_t *out = json_pack("{s:s,s:s,s:s}", "queue", queue, "agent", number, "state", states[which]);
            if (reason)
                json_object_set_new(out, "reason", admin_jstr(reason));
            admin_reply(r, MHD_HTTP_OK, out);
        }
    }
    json_decref(o);
}

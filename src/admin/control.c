/* control.c — the admin API's writes to calls: POST /calls places one
 * (the engine's originate), POST /calls/ID/events|hangup|transfer|vars
 * steer a live one. Bodies are untrusted JSON: each is an object with
 * known fields only, of the right types and sizes; variable values are
 * text (UTF-8, no control characters but tab, at most ADMIN_VALUE_MAX
 * bytes), numbers or booleans; the names a client may use are the
 * engine's to decide (eng_var_name_settable, eng_app_name_ok).
 *
 * Codes: 201 a call placed, 202 a request taken (an event raised, a hangup
 * or transfer begun), 200 variables set; 400 a body that is not what the
 * path takes (a transfer target the driver cannot use too); 404 no such
 * call; 409 the call has ended (or is not answered yet, for a transfer);
 * 422 names that resolve to nothing (a scenario, a gateway) or a call that
 * cannot be placed (nothing to dial, max_calls); 503 no engine yet, or
 * (POST /calls) the service is stopping. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "util/alloc.h"
#include "scenario/compile.h"
#include "scenario/events.h"

#define ADMIN_VALUE_MAX 4096      /* bytes of one variable's text */
#define ADMIN_VARS_MAX 64         /* variables (or data keys) in one request */
#define ADMIN_TARGET_MAX 256      /* a number, user, group or SIP URI */

/* ---- the body ---- */

/* The body as a JSON object (an empty body is {} when EMPTY_OK); NULL when
 * R has been answered 400. */
static json_t *body_object(admin_req *r, bool empty_ok)
{
    if (r->body.len == 0 && empty_ok)
        return json_object();
    json_error_t je;
    json_t *o = json_loadb(r->body.s ? r->body.s : "", r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (json_is_object(o))
        return o;
    char msg[300];
    if (o)
        snprintf(msg, sizeof msg, "the body must be a JSON object");
    else
        snprintf(msg, sizeof msg, "the body is not JSON (line %d, column %d: %s)", je.line, je.column, je.text);
    json_decref(o);
    admin_reply_error(r, MHD_HTTP_BAD_REQUEST, msg, NULL);
    return NULL;
}

/* Every field of O is one of ALLOWED; else R is answered 400. */
static bool only_fields(admin_req *r, json_t *o, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], k) != 0)
            i++;
        if (allowed[i])
            continue;
        char list[200] = "";
        size_t n = 0;
        for (i = 0; allowed[i] && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", allowed[i]);
        char msg[300];
        snprintf(msg, sizeof msg, "unknown field (this path takes %s)", list);
        json_t *x = json_object();
        json_object_set_new(x, "field", admin_jstr(k));
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, msg, x);
        return false;
    }
    return true;
}

static void bad_field(admin_req *r, const char *field, const char *msg)
{
    json_t *x = json_object();
    json_object_set_new(x, "field", admin_jstr(field));
    admin_reply_error(r, MHD_HTTP_BAD_REQUEST, msg, x);
}

/* FIELD of O: absent (*OUT NULL, true when optional) or a clean string of
 * 1..MAX bytes; else R is answered 400. */
static bool text_field(admin_req *r, json_t *o, const char *field, bool required, size_t max, const char **out)
{
    json_t *v = json_object_get(o, field);
    *out = NULL;
    if (!v && !required)
        return true;
    char msg[160];
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        !admin_clean_text(json_string_value(v), json_string_length(v))) {
        snprintf(msg, sizeof msg, "'%s' must be %stext of 1 to %zu bytes without control characters", field,
                 v ? "" : "given: ", max);
        bad_field(r, field, msg);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* FIELD of O as seconds: a number or a duration ("30s", "1m"), within
 * MIN..MAX; absent: DEF. */
static bool seconds_field(admin_req *r, json_t *o, const char *field, double min, double max, double def,
                          double *out)
{
    json_t *v = json_object_get(o, field);
    *out = def;
    if (!v)
        return true;
    bool ok = false;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        ok = true;
    } else if (json_is_string(v)) {
        ok = scn_parse_duration(json_string_value(v), json_string_length(v), out);
    }
    if (ok && isfinite(*out) && *out >= min && *out <= max)
        return true;
    char msg[160];
    snprintf(msg, sizeof msg, "'%s' must be seconds (a number or a duration such as \"30s\") from %g to %g", field,
             min, max);
    bad_field(r, field, msg);
    return false;
}

/* A variable's value: text, a number or a boolean. */
static bool value_of(json_t *v, cr_value *out)
{
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len > ADMIN_VALUE_MAX || !admin_clean_text(json_string_value(v), len))
            return false;
        *out = cr_val_str(json_string_value(v), len);
        return true;
    }
    if (json_is_number(v) && isfinite(json_number_value(v))) {
        *out = cr_val_num(json_number_value(v));
        return true;
    }
    if (json_is_boolean(v)) {
        *out = cr_val_bool(json_is_true(v));
        return true;
    }
    return false;
}

/* Names and values of the object V (pointing into it), for variables
 * (APP_DATA false: names eng_var_name_settable) or app event data keys.
 * False with R answered 400, naming FIELD. */
typedef struct var_list {
    const char **names;
    cr_value *values;
    size_t n;
} var_list;

static void var_list_free(var_list *l)
{
    free(l->names);
    free(l->values);
    memset(l, 0, sizeof *l);
}

static bool var_list_of(admin_req *r, json_t *v, const char *field, bool app_data, var_list *out)
{
    memset(out, 0, sizeof *out);
    if (!v)
        return true;
    char msg[300];
    if (!json_is_object(v) || json_object_size(v) > ADMIN_VARS_MAX) {
        snprintf(msg, sizeof msg, "'%s' must be an object of at most %d names", field, ADMIN_VARS_MAX);
        bad_field(r, field, msg);
        return false;
    }
    size_t n = json_object_size(v);
    out->names = cr_xcalloc(n ? n : 1, sizeof *out->names);
    out->values = cr_xcalloc(n ? n : 1, sizeof *out->values);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        const char *why = "a name is a letter or '_', then letters, digits, '_', '-' or single dots, at most 64 bytes";
        bool ok = app_data ? eng_app_name_ok(k) : eng_var_name_settable(k, &why);
        if (ok && !value_of(x, &out->values[out->n]))
            ok = false, why = "a value is text (at most 4096 bytes, no control characters), a number or a boolean";
        if (!ok) {
            snprintf(msg, sizeof msg, "%s: %s", field, why);
            json_t *e = json_object();
            json_object_set_new(e, "field", admin_jstr(field));
            json_object_set_new(e, "name", admin_jstr(k));
            admin_reply_error(r, MHD_HTTP_BAD_REQUEST, msg, e);
            var_list_free(out);
            return false;
        }
        out->names[out->n++] = k;
    }
    return true;
}

/* ---- the call a path names ---- */

static eng_call *live_call(admin_req *r)
{
    if (!r->a->eng) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: the engine is not running", NULL);
        return NULL;
    }
    bool known;
    eng_call *c = admin_calls_find_live(r->a->calls, r->param, &known);
    if (c && eng_call_ended(c)) {
        c = NULL;
        known = true;
    }
    if (!c) {
        json_t *x = json_object();
        json_object_set_new(x, "call_id", admin_jstr(r->param));
        if (known)
            admin_reply_error(r, MHD_HTTP_CONFLICT, "the call has ended", x);
        else
            admin_reply_error(r, MHD_HTTP_NOT_FOUND, "no such call (live or recently finished)", x);
    }
    return c;
}

static json_t *call_reply(eng_call *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "call_id", admin_jstr(eng_call_id(c)));
    return o;
}

/* ---- POST /calls ---- */

static const scn_named_scenario *scenario_named(const scn_program *p, const char *name)
{
    for (size_t i = 0; p && i < p->scenario_count; i++)
        if (strcmp(p->scenarios[i].name, name) == 0)
            return &p->scenarios[i];
    return NULL;
}

static const scn_gateway *gateway_named(const scn_program *p, const char *name)
{
    for (size_t i = 0; p && i < p->gateway_count; i++)
        if (strcmp(p->gateways[i].name, name) == 0)
            return &p->gateways[i];
    return NULL;
}

static void unknown(admin_req *r, const char *field, const char *what, const char *name)
{
    char msg[200];
    snprintf(msg, sizeof msg, "no %s of that name in the scenario file", what);
    json_t *x = json_object();
    json_object_set_new(x, "field", admin_jstr(field));
    json_object_set_new(x, "name", admin_jstr(name));
    admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, msg, x);
}

/* "on": {"busy": "SCENARIO", ...}: leg events to named scenarios run in
 * the new call (as originate's `on:` lists are). Arrays in *EVENTS and
 * *LISTS (malloc'd). */
static bool handlers_of(admin_req *r, json_t *v, const scn_program *p, scn_handlers *out, int **events,
                        scn_actions **lists)
{
    memset(out, 0, sizeof *out);
    *events = NULL;
    *lists = NULL;
    if (!v)
        return true;
    if (!json_is_object(v) || json_object_size(v) > SCN_EV__COUNT) {
        bad_field(r, "on", "'on' must be an object: leg event -> scenario name");
        return false;
    }
    size_t n = json_object_size(v);
    *events = cr_xcalloc(n ? n : 1, sizeof **events);
    *lists = cr_xcalloc(n ? n : 1, sizeof **lists);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        int ev = scn_event_lookup(k);
        const scn_named_scenario *s = json_is_string(x) ? scenario_named(p, json_string_value(x)) : NULL;
        if (!scn_event_is_dial(ev)) {
            json_t *e = json_object();
            json_object_set_new(e, "field", admin_jstr("on"));
            json_object_set_new(e, "name", admin_jstr(k));
            admin_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "'on' takes leg events: trying, ringing, early_media, answer, busy, no_answer, "
                              "failed, not_answered, hold, unhold, hangup",
                              e);
            return false;
        }
        if (!s) {
            unknown(r, "on", "scenario", json_is_string(x) ? json_string_value(x) : "");
            return false;
        }
        (*events)[out->count] = ev;
        (*lists)[out->count] = s->script;
        out->count++;
    }
    out->events = *events;
    out->lists = *lists;
    return true;
}

void admin_post_originate(admin_req *r)
{
    static const char *const fields[] = {"to", "gateway", "caller_id", "scenario", "vars", "timeout", "delay",
                                         "on", NULL};
    if (!r->a->eng || r->a->refuse_new) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                          r->a->eng ? "the service is stopping: no new calls" : "not ready: the engine is not running",
                          NULL);
        return;
    }
    json_t *o = body_object(r, false);
    if (!o)
        return;
    const scn_program *prog = eng_engine_program(r->a->eng);
    const char *to, *gateway, *caller_id, *scenario;
    double timeout, delay;
    var_list vars = {0};
    scn_handlers on;
    int *on_events = NULL;
    scn_actions *on_lists = NULL;
    const scn_named_scenario *sc = NULL;
    const scn_gateway *gw = NULL;
    if (!only_fields(r, o, fields) || !text_field(r, o, "to", true, ADMIN_TARGET_MAX, &to) ||
        !text_field(r, o, "gateway", false, 128, &gateway) ||
        !text_field(r, o, "caller_id", false, 64, &caller_id) ||
        !text_field(r, o, "scenario", true, 128, &scenario) ||
        !seconds_field(r, o, "timeout", 1, 3600, 30, &timeout) ||
        !seconds_field(r, o, "delay", 0, 86400, 0, &delay) ||
        !var_list_of(r, json_object_get(o, "vars"), "vars", false, &vars))
        goto out;
    if (!(sc = scenario_named(prog, scenario))) {
        unknown(r, "scenario", "named scenario", scenario);
        goto out;
    }
    if (gateway && !(gw = gateway_named(prog, gateway))) {
        unknown(r, "gateway", "gateway", gateway);
        goto out;
    }
    if (!handlers_of(r, json_object_get(o, "on"), prog, &on, &on_events, &on_lists))
        goto out;
    eng_originate_req req = {
        .to = &to,
        .to_count = 1,
        .gateways = gw ? &gw : NULL,
        .gateway_count = gw ? 1 : 0,
        .caller_id = caller_id,
        .ring_timeout = timeout,
        .delay = delay,
        .scenario = sc,
        .on = &on,
        .var_names = vars.names,
        .var_values = vars.values,
        .var_count = vars.n,
        .by = "admin",
    };
    char err[256];
    eng_call *c = eng_originate(r->a->eng, &req, err, sizeof err);
    if (!c)
        admin_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, err, NULL);
    else
        admin_reply(r, MHD_HTTP_CREATED, call_reply(c));
out:
    var_list_free(&vars);
    free(on_events);
    free(on_lists);
    json_decref(o);
}

/* ---- POST /calls/ID/... ---- */

void admin_post_call_event(admin_req *r)
{
    static const char *const fields[] = {"name", "data", NULL};
    eng_call *c = live_call(r);
    json_t *o = c ? body_object(r, false) : NULL;
    if (!o)
        return;
    const char *name;
    var_list data = {0};
    if (!only_fields(r, o, fields) || !text_field(r, o, "name", true, ENG_EXT_NAME_MAX, &name) ||
        !var_list_of(r, json_object_get(o, "data"), "data", true, &data))
        goto out;
    if (!eng_app_name_ok(name)) {
        bad_field(r, "name", "an event name is a letter or '_', then letters, digits, '_', '-' or single dots");
        goto out;
    }
    int n = eng_call_app_event(c, "admin", name, data.names, data.values, data.n);
    json_t *reply = call_reply(c);
    json_object_set_new(reply, "event", admin_jstr(name));
    json_object_set_new(reply, "handlers", json_integer(n > 0 ? n : 0));
    admin_reply(r, MHD_HTTP_ACCEPTED, reply);
out:
    var_list_free(&data);
    json_decref(o);
}

void admin_post_call_hangup(admin_req *r)
{
    static const char *const fields[] = {"cause", NULL};
    eng_call *c = live_call(r);
    json_t *o = c ? body_object(r, true) : NULL;
    if (!o)
        return;
    const char *cause;
    if (only_fields(r, o, fields) && text_field(r, o, "cause", false, 16, &cause)) {
        if (!eng_hangup_cause_valid(cause)) {
            bad_field(r, "cause", "'cause' is normal, busy, congestion or a SIP code 400-699");
        } else {
            json_t *reply = call_reply(c);   /* before the call may be gone */
            eng_call_hangup(c, "admin", cause ? cause : "normal", 0);
            admin_reply(r, MHD_HTTP_ACCEPTED, reply);
        }
    }
    json_decref(o);
}

void admin_post_call_transfer(admin_req *r)
{
    static const char *const fields[] = {"to", NULL};
    eng_call *c = live_call(r);
    json_t *o = c ? body_object(r, false) : NULL;
    if (!o)
        return;
    const char *to;
    if (only_fields(r, o, fields) && text_field(r, o, "to", true, ADMIN_TARGET_MAX, &to)) {
        json_t *reply = call_reply(c);
        if (!eng_call_answered(c)) {
            json_decref(reply);
            admin_reply_error(r, MHD_HTTP_CONFLICT, "the call is not answered: there is no one to transfer yet",
                              NULL);
        } else if (eng_call_transfer(c, to, "admin") < 0) {
            json_decref(reply);
            bad_field(r, "to", "the transfer could not start: 'to' is not a usable number, user or SIP URI");
        } else {
            json_object_set_new(reply, "to", admin_jstr(to));
            admin_reply(r, MHD_HTTP_ACCEPTED, reply);
        }
    }
    json_decref(o);
}

void admin_post_call_vars(admin_req *r)
{
    eng_call *c = live_call(r);
    json_t *o = c ? body_object(r, false) : NULL;
    if (!o)
        return;
    var_list vars;
    if (json_object_size(o) == 0) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "no variables: the body is {\"name\": value, ...}", NULL);
    } else if (var_list_of(r, o, "vars", false, &vars)) {
        eng_call_set_vars(c, "admin", vars.names, vars.values, vars.n);
        json_t *reply = call_reply(c), *set = json_array();
        for (size_t i = 0; i < vars.n; i++)
            json_array_append_new(set, admin_jstr(vars.names[i]));
        json_object_set_new(reply, "set", set);
        admin_reply(r, MHD_HTTP_OK, reply);
        var_list_free(&vars);
    }
    json_decref(o);
}

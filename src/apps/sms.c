/* sms.c — instant messages out: `sms` sends a SIP MESSAGE to a user's
 * registered phones, to a number through a gateway, or to a SIP URI, and
 * waits for the answer (sms_status delivered | failed, sms_sip_code). A
 * provider with an HTTP SMS API is reached with `http` instead
 * (docs/scenario.md has the example). Messages coming in run `message`
 * routes (engine/calls.c). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

/* RFC 3428: a MESSAGE outside a congestion-controlled transport stays
 * under 1300 bytes. */
#define SMS_MAX_BYTES 1300

typedef struct sms_params {
    const scn_template *to;
    const scn_template *text;
    scn_refs gateway;
    const scn_template *from;
} sms_params;

static const scn_param sms_spec[] = {
    {.name = "to", .type = P_TEMPLATE, .offset = F(sms_params, to), .flags = P_REQ,
     .doc = "a user (its registered phones), a number (through a gateway) or a SIP URI"},
    {.name = "text", .type = P_TEMPLATE, .offset = F(sms_params, text), .flags = P_REQ,
     .doc = "the message (a template; at most 1300 bytes once rendered)"},
    {.name = "gateway", .type = P_GATEWAYS, .offset = F(sms_params, gateway),
     .doc = "for a number: gateway name or list, the first whose number_pattern takes it (default: the file's)"},
    {.name = "from", .type = P_TEMPLATE, .offset = F(sms_params, from), .def = "{called_number}",
     .doc = "the sender's number shown"},
    SCN_PARAM_END,
};

typedef struct sms_op {
    eng_strand *s;
    tel_msg *msg;
    const char *to;
} sms_op;


static void sent_cb(void *arg, int sip_code, const char *why)
{
    sms_op *o = arg;
    eng_strand *s = o->s;
    o->msg = NULL;
    bool ok = sip_code >= 200 && sip_code < 300;
    eng_strand_var_set(s, "sms_status", cr_val_cstr(ok ? "delivered" : "failed"));
    eng_strand_var_set(s, "sms_sip_code", cr_val_num(sip_code));
    eng_trace_log(s, ok ? "info" : "warning", "sms to %s: %s (%d)%s%s", o->to, ok ? "delivered" : "failed",
                  sip_code, why ? ": " : "", why ? why : "");
    eng_strand_resume(s, ok ? APP_DONE : eng_fail(s, "sms to %s failed (%d%s%s)", o->to, sip_code,
                                                  why ? " " : "", why ? why : ""));
}

static app_status failed(eng_strand *s, const char *msg)
{
    eng_strand_var_set(s, "sms_status", cr_val_cstr("failed"));
    eng_strand_var_set(s, "sms_sip_code", cr_val_num(0));
    return eng_fail(s, "%s", msg);
}

static app_status sms_run(eng_strand *s, const scn_action *a)
{
    const sms_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const scn_program *prog = eng_call_program(c);
    const char *to = eng_render_keep(s, p->to, SCN_ESC_NONE);
    const char *text = eng_render(s, p->text, SCN_ESC_NONE);
    const char *from = eng_render(s, p->from, SCN_ESC_NONE);
    char msg[300];
    eng_strand_var_set(s, "sms_to", cr_val_cstr(to));
    if (!*to)
        return failed(s, "sms: `to` rendered empty");
    if (strlen(text) > SMS_MAX_BYTES) {
        snprintf(msg, sizeof msg, "sms: the text is %zu bytes, more than %d", strlen(text), SMS_MAX_BYTES);
        return failed(s, msg);
    }
    tel_message_req req = {.target = to, .from = from, .text = text};
    if (scn_program_user(prog, to)) {
        req.kind = TEL_DIAL_USER;
    } else if (strncmp(to, "sip:", 4) == 0 || strncmp(to, "sips:", 5) == 0) {
        req.kind = TEL_DIAL_URI;
    } else {
        /* A number: the first gateway that takes it. */
        req.kind = TEL_DIAL_GATEWAY;
        size_t n = p->gateway.count ? p->gateway.count : prog->gateway_count;
        for (size_t i = 0; i < n && !req.gateway_conf; i++) {
            const scn_gateway *g = p->gateway.count ? p->gateway.items[i] : &prog->gateways[i];
            if (scn_gateway_number_ok(g, to))
                req.gateway_conf = g;
        }
        if (!req.gateway_conf) {
            snprintf(msg, sizeof msg, "sms: no gateway takes the number '%.64s' (its number_pattern)", to);
            return failed(s, msg);
        }
        req.gateway = req.gateway_conf->name;
    }
    eng_trace_log(s, "info", "sms to %s%s%s: \"%.200s\"", to, req.gateway ? " via " : "",
                  req.gateway ? req.gateway : "", text);
    sms_op *o = cr_arena_alloc(eng_call_arena(c), sizeof *o);
    o->s = s;
    o->to = to;
    eng_strand_set_pending(s, o);
    tel_driver *d = eng_strand_driver(s);
    o->msg = d->ops->message ? d->ops->message(d, &req, sent_cb, o) : NULL;
    if (!o->msg) {
        eng_strand_set_pending(s, NULL);
        return failed(s, "sms: the message could not be sent");
    }
    return APP_PENDING;
}

static void sms_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    sms_op *o = eng_strand_pending(s);
    if (o && o->msg) {
        tel_driver *d = eng_strand_driver(s);
        d->ops->message_cancel(d, o->msg);
        o->msg = NULL;
    }
}

const app_def app_sms_table[] = {
    {.name = "sms", .family = "message",
     .summary = "Send an instant message (SIP MESSAGE) to a user's phones, a number or a URI.",
     .params = sms_spec, .params_size = sizeof(sms_params), .flags = APP_WAITS, .default_timeout = 35,
     .run = sms_run, .cancel = sms_cancel},
    APP_END,
};

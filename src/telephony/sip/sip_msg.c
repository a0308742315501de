/* sip_msg.c — instant messages (RFC 3428 SIP MESSAGE).
 *
 * Out (tel.h message): to a user, one MESSAGE per registered contact
 * (delivered when any takes it); to a number, through a gateway (digest
 * authentication on 401/407 with its credentials); to a SIP URI. Every URI
 * is built by sip_uri.c from values a scenario rendered. The outcome is
 * reported from the loop, never inside message().
 *
 * In: a MESSAGE outside any dialog is held to what an INVITE is (the
 * per-source flood limit, framing, a gateway by its address or a user who
 * answers the digest challenge), must carry text (text/plain or another
 * text type), and is handed to the engine, which runs a `message` route;
 * it is answered 200 when a route takes it, 404 when none does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_status.h>

#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_msg.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

#define MSG_MAX_BODY 4096   /* incoming: anything longer is refused (413) */

struct tel_msg {
    sip_driver *d;
    struct tel_msg *prev, *next;
    tel_message_cb cb;
    void *arg;
    sip_msg_fork *forks;
    int pending, best;
    char *gw_user, *gw_pass;
    loop_timer *fail_timer;    /* a failure known before anything was sent */
    const char *why;
};

static void unlink_msg(struct tel_msg *m)
{
    sip_driver *d = m->d;
    if (m->prev)
        m->prev->next = m->next;
    else if (d->msgs == m)
        d->msgs = m->next;
    if (m->next)
        m->next->prev = m->prev;
    m->prev = m->next = NULL;
}

static void msg_free(struct tel_msg *m)
{
    unlink_msg(m);
    if (m->fail_timer)
        loop_timer_stop(m->d->l, m->fail_timer);
    while (m->forks) {
        sip_msg_fork *f = m->forks;
        m->forks = f->next;
        sip_nta_msg_drop(f);
        free(f->uri);
        free(f);
    }
    free(m->gw_user);
    free(m->gw_pass);
    free(m);
}

static void finish(struct tel_msg *m)
{
    tel_message_cb cb = m->cb;
    void *arg = m->arg;
    int code = m->best;
    const char *why = code >= 200 && code < 300 ? NULL : m->why ? m->why : "not delivered";
    char why_copy[80];
    snprintf(why_copy, sizeof why_copy, "%s", why ? why : "");
    msg_free(m);
    cb(arg, code, why ? why_copy : NULL);
}

static void fail_cb(loop *l, void *arg)
{
    (void)l;
    struct tel_msg *m = arg;
    m->fail_timer = NULL;
    sip_enter(m->d);
    finish(m);
    sip_leave(m->d);
}

static struct tel_msg *fail_later(struct tel_msg *m, int code, const char *why)
{
    m->best = code;
    m->why = why;
    m->fail_timer = loop_timer_start(m->d->l, 0, fail_cb, m);
    return m;
}

static void add_fork(struct tel_msg *m, const char *uri)
{
    sip_msg_fork *f = cr_xcalloc(1, sizeof *f);
    f->d = m->d;
    f->m = m;
    f->uri = cr_xstrdup(uri);
    f->next = m->forks;
    m->forks = f;
}

struct tel_msg *sip_msg_send(tel_driver *td, const tel_message_req *req, tel_message_cb cb, void *arg)
{
    sip_driver *d = (sip_driver *)td;
    if (!req || !req->target || !req->text || !cb)
        return NULL;
    struct tel_msg *m = cr_xcalloc(1, sizeof *m);
    m->d = d;
    m->cb = cb;
    m->arg = arg;
    m->next = d->msgs;
    if (d->msgs)
        d->msgs->prev = m;
    d->msgs = m;
    if (d->shutting_down)
        return fail_later(m, 503, "shutting down");
    char to[600], uri[512];
    switch (req->kind) {
    case TEL_DIAL_USER: {
        if (!sip_uri_user_at(uri, sizeof uri, req->target, d->sip_host, 0) ||
            !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(m, 484, "not a user");
        const char *const *contacts = sip_registrar_contacts(d->reg, req->target);
        for (size_t i = 0; contacts && contacts[i]; i++)
            if (sip_uri_clean(uri, sizeof uri, contacts[i]))
                add_fork(m, uri);
        if (!m->forks)
            return fail_later(m, 480, "not registered");
        break;
    }
    case TEL_DIAL_GATEWAY: {
        const struct sip_gw *g = req->gateway_conf ? NULL : sip_gw_by_name(d, req->gateway);
        const cfg_gateway *gc = req->gateway_conf ? req->gateway_conf : g ? sip_gw_conf(g) : NULL;
        if (!gc)
            return fail_later(m, 404, "no such gateway");
        if (!cfg_gateway_number_ok(gc, req->target))
            return fail_later(m, 484, "invalid number for the gateway");
        if (!sip_uri_gateway(uri, sizeof uri, gc->uri, req->target) || !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(m, 404, "no gateway URI");
        m->gw_user = cr_xstrdup(gc->auth_user);
        m->gw_pass = cr_xstrdup(gc->auth_password);
        add_fork(m, uri);
        break;
    }
    case TEL_DIAL_URI:
    default:
        if (!sip_uri_clean(uri, sizeof uri, req->target) || !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(m, 416, "not a SIP URI");
        add_fork(m, uri);
        break;
    }
    char from_uri[512], from[700];
    const char *who = req->from && *req->from ? req->from : "callroute";
    if ((!sip_uri_user_at(from_uri, sizeof from_uri, who, d->sip_host, 0) &&
         !sip_uri_user_at(from_uri, sizeof from_uri, "callroute", d->sip_host, 0)) ||
        !sip_uri_name_addr(from, sizeof from, NULL, from_uri))
        return fail_later(m, 500, "no From");
    for (sip_msg_fork *f = m->forks; f; f = f->next) {
        if (sip_nta_msg_send(d, f, to, from, req->text) == 0)   /* sip_nta_msg.c */
            m->pending++;
        else
            f->done = true;
    }
    if (!m->pending)
        return fail_later(m, 500, "cannot send");
    sip_log(d, SIP_LOG_DEBUG, "message to %s: %d MESSAGE(s) from %s", req->target, m->pending, from);
    return m;
}

void sip_msg_cancel(tel_driver *td, struct tel_msg *m)
{
    (void)td;
    if (m)
        msg_free(m);
}

bool sip_msg_auth_wanted(sip_msg_fork *f, const char **user, const char **pass)
{
    if (!f->m->gw_user || f->auth_tried || f->done)
        return false;
    f->auth_tried = true;
    *user = f->m->gw_user;
    *pass = f->m->gw_pass ? f->m->gw_pass : "";
    return true;
}

void sip_msg_fork_done(sip_msg_fork *f, int status)
{
    struct tel_msg *m = f->m;
    if (status < 200 || f->done)
        return;
    f->done = true;
    m->pending--;
    /* The best answer over the phones: a 2xx, else the first final one. */
    if ((status >= 200 && status < 300) || m->best == 0)
        m->best = status;
    bool delivered = m->best >= 200 && m->best < 300;
    if (m->pending == 0 || delivered) {
        sip_log(m->d, SIP_LOG_DEBUG, "message %s (%d)", delivered ? "delivered" : "failed", m->best);
        finish(m);
    }
}

void sip_msg_free_all(sip_driver *d)
{
    while (d->msgs)
        msg_free(d->msgs);
}

/* ---- in ---- */

/* A text body: text/plain or another text type (no type: plain text). */
static bool text_body(const sip_t *sip)
{
    const sip_content_type_t *ct = sip->sip_content_type;
    return !ct || !ct->c_type || strncasecmp(ct->c_type, "text/", 5) == 0;
}

bool sip_msg_accepting(const sip_driver *d)
{
    return !d->shutting_down && !d->draining && d->have_handler && d->h.message;
}

int sip_msg_deliver(sip_driver *d, const sip_t *sip, const char *source, const struct sip_gw *gw)
{
    size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    if (!text_body(sip) || len > MSG_MAX_BODY) {
        sip_log(d, SIP_LOG_INFO, "message %s from %s: %s", sip->sip_call_id ? sip->sip_call_id->i_id : "-", source,
                len > MSG_MAX_BODY ? "body too large (413)" : "not text (415)");
        return len > MSG_MAX_BODY ? 413 : 415;
    }
    sip_in_parties who;
    sip_in_parties_get(sip, gw && sip_gw_conf(gw)->trust_identity, &who);
    sip_in_headers hbuf;
    sip_in_collect_headers(sip, d->have_handler ? d->h.header_wanted : NULL, d->h.eng, &hbuf);
    const sip_content_type_t *ct = sip->sip_content_type;
    tel_call_info info = {
        .call_id = sip->sip_call_id ? sip->sip_call_id->i_id : "",
        .caller_number = who.caller,
        .caller_name = who.caller_name ? who.caller_name : "",
        .called_number = who.callee,
        .source = source,
        .header_names = hbuf.names,
        .header_values = hbuf.values,
        .header_count = hbuf.count,
    };
    sip_log(d, SIP_LOG_INFO, "message %s from %s to %s via %s (%zu bytes)", info.call_id, who.caller, who.callee,
            source, len);
    int reject = 0;
    bool taken = d->h.message(d->h.eng, &info, ct && ct->c_type ? ct->c_type : "text/plain",
                              sip->sip_payload ? sip->sip_payload->pl_data : "", len, &reject);
    sip_in_parties_free(&who);
    return taken ? 200 : reject >= 300 ? reject : 404;
}

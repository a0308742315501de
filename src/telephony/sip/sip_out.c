/* sip_out.c — outgoing legs (the B2BUA's second dialog): to a registered
 * user (one INVITE per contact, first answer wins, the rest cancelled),
 * through a gateway (digest authentication on 401/407) or to a SIP URI:
 * the INVITEs are built here and sent by sip_nta.c / sip_nta_fork.c, which
 * turn their responses into leg events. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

static void fail_leg(sip_leg *leg, int code)
{
    if (leg->state == LEG_ENDED)
        return;
    leg->state = LEG_ENDED;
    sip_leg_detach(leg);
    sip_leg_log_end(leg, code, code == 486 || code == 600 ? "busy" : "failed", "callee");
    sip_raise_kind(leg, code == 486 || code == 600 ? TEL_EV_BUSY : TEL_EV_FAILED, code,
                   code == 486 || code == 600 ? "busy" : "failed");
    sip_media_leg_gone(leg);
}

/* The answering party's name from its 200: the To display name (a gateway
 * or PBX that knows who answered puts it there), else the Contact's. The
 * network's text: unquoted, control characters dropped, at most 64 bytes
 * (cut at a UTF-8 boundary); NULL when there is none. */
char *sip_answer_display_name(const sip_t *sip)
{
    const char *d = NULL;
    if (sip && sip->sip_to && sip->sip_to->a_display && sip->sip_to->a_display[0])
        d = sip->sip_to->a_display;
    else if (sip && sip->sip_contact && sip->sip_contact->m_display && sip->sip_contact->m_display[0])
        d = sip->sip_contact->m_display;
    char *name = sip_in_unquote(d);
    if (!name)
        return NULL;
    char *w = name;
    for (const unsigned char *p = (const unsigned char *)name; *p && w - name < 64; p++)
        if (*p >= 0x20 && *p != 0x7f)
            *w++ = (char)*p;
    /* A multi-byte character cut at the limit goes whole. */
    char *lead = w;
    while (lead > name && ((unsigned char)lead[-1] & 0xC0) == 0x80)
        lead--;
    if (lead > name && ((unsigned char)lead[-1] & 0xC0) == 0xC0) {
        unsigned char c = (unsigned char)lead[-1];
        long need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (w - (lead - 1) < need)
            w = lead - 1;
    }
    *w = '\0';
    while (w > name && w[-1] == ' ')
        *--w = '\0';
    if (!*name) {
        free(name);
        return NULL;
    }
    return name;
}

static void fail_timer_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    struct sip_leg_dial *dial = sip_dial_of(leg);
    dial->fail_timer = NULL;
    sip_enter(leg->d);
    fail_leg(leg, dial->fail_code);
    sip_leg_sip_done(leg);
    sip_leave(leg->d);
}

/* No INVITE can be sent: the failure is reported from the loop, never from
 * inside dial() (the engine has not even stored the leg yet). */
static sip_leg *fail_later(sip_leg *leg, int code)
{
    struct sip_leg_dial *dial = sip_dial_of(leg);
    dial->fail_code = code;
    dial->fail_timer = loop_timer_start(leg->d->l, 0, fail_timer_cb, leg);
    return leg;
}

/* A held call keeps its dialled leg's winning fork: 64 B is a mimalloc
 * size class, a byte more is an 80 B block (docs/decisions/sip-core.md,
 * "Held-call memory: the dialled fork"). */
_Static_assert(sizeof(sip_fork) <= 64, "sip_fork grew past its 64 B block");

static sip_fork *add_fork(sip_leg *leg, const char *uri)
{
    sip_fork *f = cr_xcalloc(1, sizeof *f);
    f->leg = leg;
    f->uri = cr_xstrdup(uri);
    struct sip_leg_dial *dial = sip_dial_of(leg);
    f->next = dial->forks;
    dial->forks = f;
    return f;
}

sip_leg *sip_out_dial(sip_driver *d, const tel_dial_req *req, void *user)
{
    if (!req || !req->target)
        return NULL;
    sip_leg *leg = sip_leg_new(d, true);
    struct sip_leg_dial *dial = sip_dial_of(leg);
    leg->user = user;
    sip_leg_set_from(leg, req->from);
    /* For the log: the caller's call and the target, "CALL-ID>TARGET";
     * the callee is its end (one allocation a held call, not two). */
    const char *caller_cid = req->from && req->from->call_id ? req->from->call_id : "-";
    size_t cid_len = strlen(caller_cid), target_len = strlen(req->target);
    leg->call_id = cr_xmalloc(cid_len + 1 + target_len + 1);
    memcpy(leg->call_id, caller_cid, cid_len);
    leg->call_id[cid_len] = '>';
    memcpy(leg->call_id + cid_len + 1, req->target, target_len + 1);
    leg->callee = leg->call_id + cid_len + 1;
    leg->t_start = loop_now(d->l);
    if (d->shutting_down)
        return fail_later(leg, 503);

    /* Everything put into the INVITE goes through sip_uri.c: the target is
     * often rendered from what the caller sent, and "1@evil.example" or
     * "1;transport=tcp" pasted into a URI would re-target the call. */
    char to[600], uri[512];
    switch (req->kind) {
    case TEL_DIAL_USER: {
        if (!sip_uri_user_at(uri, sizeof uri, req->target, d->sip_host, 0) ||
            !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(leg, 484);
        const cfg_user *u = req->user_conf ? req->user_conf : tel_config_user(d->cfg, req->target);
        leg->symmetric_rtp = u && u->symmetric_rtp;
        leg->srtp = sip_leg_srtp_policy(d, u ? u->srtp : CFG_SRTP_INHERIT);
        if (d->have_proxy) {
            /* In a cluster the front end is the registrar of record: it
             * knows every phone, whichever node its REGISTER passed, and
             * holds the path through its NAT. One INVITE to it; it forks. */
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &d->proxy.sin_addr, ip, sizeof ip);
            if (!sip_uri_user_at(uri, sizeof uri, req->target, ip, ntohs(d->proxy.sin_port)))
                return fail_later(leg, 484);
            add_fork(leg, uri);
            break;
        }
        const char *const *contacts = sip_registrar_contacts(d->reg, req->target);
        if (!contacts || !contacts[0])
            return fail_later(leg, 480);
        /* A contact is what the phone registered: encoded again, without
         * ?headers that would be copied into our INVITE. */
        for (size_t i = 0; contacts[i]; i++)
            if (sip_uri_clean(uri, sizeof uri, contacts[i]))
                add_fork(leg, uri);
        if (!dial->forks)
            return fail_later(leg, 480);
        break;
    }
    case TEL_DIAL_GATEWAY: {
        const struct sip_gw *g = req->gateway_conf ? NULL : sip_gw_by_name(d, req->gateway);
        const cfg_gateway *gc = req->gateway_conf ? req->gateway_conf : g ? sip_gw_conf(g) : NULL;
        if (!gc)
            return fail_later(leg, 404);
        /* The engine checks too (and says so in the trace); a driver never
         * sends what the gateway's number_pattern refuses. */
        if (!cfg_gateway_number_ok(gc, req->target)) {
            sip_log(d, SIP_LOG_WARN, "dial through %s: invalid number (not sent)", gc->name);
            return fail_later(leg, 484);
        }
        if (!sip_uri_gateway(uri, sizeof uri, gc->uri, req->target) ||
            !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(leg, 404);
        leg->symmetric_rtp = gc->symmetric_rtp;
        leg->srtp = sip_leg_srtp_policy(d, gc->srtp);
        dial->gw_user = cr_xstrdup(gc->auth_user);
        dial->gw_pass = cr_xstrdup(gc->auth_password);
        add_fork(leg, uri);
        break;
    }
    case TEL_DIAL_URI:
        leg->srtp = sip_leg_srtp_policy(d, CFG_SRTP_INHERIT);
        if (!sip_uri_clean(uri, sizeof uri, req->target) || !sip_uri_name_addr(to, sizeof to, NULL, uri))
            return fail_later(leg, 416);
        add_fork(leg, uri);
        break;
    }
    /* media: bypass: the caller's offer, as it came, instead of ours. It
     * is kept until the caller is answered and bridged (sip_bypass_drop_sdp):
     * a dial after that has no offer to pass on, and a leg of ours with
     * anchored media could not be bridged to the bypassed caller. */
    if (req->from && req->from->bypass && !req->from->sdp_body) {
        sip_log(d, SIP_LOG_WARN, "leg %s: media: bypass: the caller's offer went with its answered call; "
                "no dial after it (488)", leg->call_id);
        return fail_later(leg, 488);
    }
    leg->bypass = req->from && req->from->bypass;
    if (!leg->bypass && sip_leg_media(leg) < 0)
        return fail_later(leg, 503);

    const char *cid = req->caller_id && *req->caller_id ? req->caller_id
                      : req->from && req->from->caller && *req->from->caller ? req->from->caller
                                                                             : "anonymous";
    const char *cname = req->caller_name ? req->caller_name : req->from ? req->from->caller_name : NULL;
    char from_uri[512], from[700];
    if (!sip_uri_user_at(from_uri, sizeof from_uri, cid, d->sip_host, 0) &&
        !sip_uri_user_at(from_uri, sizeof from_uri, "anonymous", d->sip_host, 0))
        return fail_later(leg, 500);
    if (!sip_uri_name_addr(from, sizeof from, cname, from_uri) &&
        !sip_uri_name_addr(from, sizeof from, NULL, from_uri))
        return fail_later(leg, 500);

    char own[768];
    const char *sdp = own;
    if (leg->bypass)
        sdp = req->from->sdp_body;
    else
        sip_leg_sdp(leg, own, sizeof own, true);
    int sent = 0, failed = 0;
    for (sip_fork *f = dial->forks; f; f = f->next) {
        /* A phone registered over TLS is reached over its connection. */
        char hop[128];
        bool via_conn = req->kind == TEL_DIAL_USER && !d->have_proxy &&
                        sip_registrar_hop(d->reg, req->target, f->uri, hop, sizeof hop);
        if (via_conn)
            f->hop = cr_xstrdup(hop);
        if (sip_nta_invite(f, to, from, sdp) < 0)
            f->failed = f->terminated = true;
        sent++;
    }
    for (const sip_fork *f = dial->forks; f; f = f->next)
        failed += f->failed;
    if (failed == sent)
        return fail_later(leg, 500);
    sip_log(d, SIP_LOG_DEBUG, "dial %s: %d INVITE(s) from %s", req->target, sent, from);
    return leg;
}

/* F's URI is reached over TLS at HOSTPORT ("127.0.0.1:5061"). */
static bool fork_tls_to(const sip_fork *f, const char *hostport)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = url_make(home, f->uri);
    bool match = false;
    if (u && u->url_host) {
        char tp[16] = "";
        bool tls = u->url_type == url_sips ||
                   (u->url_params && url_param(u->url_params, "transport", tp, sizeof tp) > 0 &&
                    strcasecmp(tp, "tls") == 0);
        char hp[300];
        snprintf(hp, sizeof hp, "%s:%s", u->url_host, u->url_port ? u->url_port : "5061");
        match = tls && strcmp(hp, hostport) == 0;
    }
    su_home_deinit(home);
    return match;
}

void sip_out_tls_failed(sip_driver *d, const char *hostport)
{
    sip_enter(d);
    for (sip_leg *leg = d->legs; leg; leg = leg->next) {
        const struct sip_leg_dial *dial = sip_dial_of(leg);
        if (!dial || leg->state == LEG_ENDED || dial->win)
            continue;
        for (sip_fork *f = dial->forks; f; f = f->next) {
            if (f->failed || f->cancelled || f->status || !sip_nta_dial_pending(leg) || !fork_tls_to(f, hostport))
                continue;
            sip_log(d, SIP_LOG_WARN, "dial %s: TLS to %s failed (see above): failed 503",
                    leg->callee ? leg->callee : "-", hostport);
            sip_nta_dial_give_up(leg, 503);
        }
    }
    sip_leave(d);
}

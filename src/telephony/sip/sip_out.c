/* sip_out.c — outgoing legs (the B2BUA's second dialog): to a registered
 * user (one INVITE per contact, first answer wins, the rest cancelled),
 * through a gateway (digest authentication on 401/407) or to a SIP URI.
 * Provisional and final responses become leg events; early media is passed
 * to the caller's leg. */
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

/* RFC 3326: why a fork or a ring-all leg is cancelled once another answered. */
#define ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

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
    leg->fail_timer = NULL;
    sip_enter(leg->d);
    fail_leg(leg, leg->fail_code);
    sip_leg_sip_done(leg);
    sip_leave(leg->d);
}

/* No INVITE can be sent: the failure is reported from the loop, never from
 * inside dial() (the engine has not even stored the leg yet). */
static sip_leg *fail_later(sip_leg *leg, int code)
{
    leg->fail_code = code;
    leg->fail_timer = loop_timer_start(leg->d->l, 0, fail_timer_cb, leg);
    return leg;
}

static sip_fork *add_fork(sip_leg *leg, const char *uri)
{
    sip_fork *f = cr_xcalloc(1, sizeof *f);
    f->hc.kind = HC_FORK;
    f->leg = leg;
    f->uri = cr_xstrdup(uri);
    f->next = leg->forks;
    leg->forks = f;
    leg->fork_count++;
    return f;
}

static void cancel_expired_cb(loop *l, void *arg)
{
    (void)l;
    sip_fork *f = arg;
    sip_leg *leg = f->leg;
    f->cancel_timer = NULL;
    sip_enter(leg->d);
    sip_log(leg->d, SIP_LOG_WARN, "dial %s: no final response to the INVITE 64*T1 after its CANCEL: given up",
            leg->callee ? leg->callee : "-");
    sip_fork_terminated(f);
    sip_leave(leg->d);
}

/* CANCEL F's INVITE. Its final response (487) ends the fork, but it may
 * never come (a far end or a proxy that loses it; sofia waits for it as
 * long as the transaction lives): after 64*T1 the INVITE is taken as
 * cancelled and its handle destroyed (RFC 3261 9.1), so the leg never
 * outlives its dialog. */
static void cancel_fork(sip_fork *f, nua_handle_t *nh, const char *reason)
{
    sip_driver *d = f->leg->d;
    f->cancelled = true;
    nua_cancel(nh, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
    if (!f->cancel_timer && nh == f->nh)
        f->cancel_timer = loop_timer_start(d->l, (d->opt.t1x64_ms ? d->opt.t1x64_ms : 8000) / 1000.0,
                                           cancel_expired_cb, f);
}

sip_leg *sip_out_dial(sip_driver *d, const tel_dial_req *req, void *user)
{
    if (!req || !req->target)
        return NULL;
    sip_leg *leg = sip_leg_new(d, true);
    leg->user = user;
    sip_leg_set_from(leg, req->from);
    leg->callee = cr_xstrdup(req->target);
    char id[300];
    snprintf(id, sizeof id, "%s>%s", req->from && req->from->call_id ? req->from->call_id : "-", req->target);
    leg->call_id = cr_xstrdup(id);   /* for the log: the caller's call and the target */
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
        if (!leg->forks)
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
        leg->gateway = gc->name;
        leg->symmetric_rtp = gc->symmetric_rtp;
        leg->srtp = sip_leg_srtp_policy(d, gc->srtp);
        leg->gw_user = cr_xstrdup(gc->auth_user);
        leg->gw_pass = cr_xstrdup(gc->auth_password);
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
    /* media: bypass: the caller's offer, as it came, instead of ours. */
    leg->bypass = leg->from && leg->from->bypass && leg->from->sdp_body;
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
        sdp = leg->from->sdp_body;
    else
        sip_leg_sdp(leg, own, sizeof own, true);
    for (sip_fork *f = leg->forks; f; f = f->next) {
        /* A phone registered over TLS is reached over its connection. */
        char hop[128];
        bool via_conn = req->kind == TEL_DIAL_USER && !d->have_proxy &&
                        sip_registrar_hop(d->reg, req->target, f->uri, hop, sizeof hop);
        if (d->nta) {
            if (via_conn)
                f->hop = cr_xstrdup(hop);
            if (sip_nta_invite(f, to, from, sdp) < 0) {
                f->failed = f->terminated = true;
                leg->forks_failed++;
            }
            continue;
        }
        f->nh = nua_handle(d->nua, &f->hc, SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from), TAG_END());
        if (f->nh && via_conn)   /* the INVITE and the dialog's later requests: queued before it */
            nua_set_hparams(f->nh, NUTAG_PROXY(hop), TAG_END());
        if (!f->nh) {
            f->failed = f->terminated = true;
            leg->forks_failed++;
            continue;
        }
        /* Over its TLS connection to a sip: Contact: a sip: Contact of ours
         * (sofia would put its sips: one, which such a phone cannot use). */
        bool tls_sip = via_conn && d->tls_contact[0] && strncmp(f->uri, "sip:", 4) == 0 &&
                       strstr(hop, ";transport=tls") != NULL;
        nua_invite(f->nh, NUTAG_URL(f->uri), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                   TAG_IF(tls_sip, SIPTAG_CONTACT_STR(d->tls_contact)), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    }
    if (leg->forks_failed == leg->fork_count)
        return fail_later(leg, 500);
    sip_log(d, SIP_LOG_DEBUG, "dial %s: %d INVITE(s) from %s", req->target, leg->fork_count, from);
    return leg;
}

/* Early media (183 with SDP, or 180 with SDP): the caller hears it. */
static void early_media(sip_leg *leg)
{
    sip_leg *from = leg->from;
    if (!from || from->state == LEG_ENDED || (from->peer && from->peer != leg))
        return;
    if (leg->bypass) {
        /* Paired first: the 183 carries this leg's SDP. */
        from->peer = leg;
        leg->peer = from;
        if (from->state != LEG_UP)
            sip_in_ringing(from, true);
        return;
    }
    if (from->state != LEG_UP)
        sip_in_ringing(from, true);
    if (sip_leg_media(from) < 0)
        return;
    from->peer = leg;
    leg->peer = from;
    sip_leg_update_relay(leg);
}

static void authenticate(sip_fork *f, nua_handle_t *nh, int status, const sip_t *sip)
{
    const msg_auth_t *ch = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    const char *realm = ch ? msg_params_find(ch->au_params, "realm=") : NULL;
    char auth[512];
    snprintf(auth, sizeof auth, "%s:%s:%s:%s", ch && ch->au_scheme ? ch->au_scheme : "Digest",
             realm ? realm : "\"\"", f->leg->gw_user, f->leg->gw_pass ? f->leg->gw_pass : "");
    f->auth_tried = true;
    nua_authenticate(nh, NUTAG_AUTH(auth), TAG_END());
}

void sip_fork_calling(sip_fork *f)
{
    sip_leg *leg = f->leg;
    if (!leg || leg->trying_raised || leg->state == LEG_ENDED || f->cancelled)
        return;
    leg->trying_raised = true;
    sip_raise_kind(leg, TEL_EV_TRYING, 100, NULL);
}

/* F ended with STATUS (the INVITE's final response, or ours); the leg
 * fails once every fork has. */
static void fork_failed(sip_fork *f, int status)
{
    sip_leg *leg = f->leg;
    f->failed = true;
    f->status = status;
    if (f->cancelled || leg->win)
        return;
    leg->forks_failed++;
    /* Best response over the forks: 6xx, then busy, then the first. */
    if (status >= 600 || (status == 486 && leg->best_status < 600) || leg->best_status == 0)
        leg->best_status = status;
    if (leg->forks_failed < leg->fork_count)
        return;
    fail_leg(leg, leg->best_status);
}

/* The answer to our offer (in a 18x or the 200) has no media we can use
 * (no PCMU/PCMA, no IPv4 address): the fork fails with 488 Not Acceptable
 * Here, cancelled while it rings, or, once answered (the stack has ACKed
 * the 200), ended with BYE. The dial then reports `failed` rather than a
 * call that is up with no media. */
static void fork_unusable(sip_fork *f, nua_handle_t *nh, bool answered)
{
    sip_leg *leg = f->leg;
    sip_log(leg->d, SIP_LOG_WARN, "dial %s: no usable media in the answer: %s, failed 488",
            leg->callee ? leg->callee : "-", answered ? "BYE" : "CANCEL");
    /* failed first: a cancelled fork's failure no longer counts for the leg */
    fork_failed(f, 488);
    if (answered)
        nua_bye(nh, TAG_END());
    else
        cancel_fork(f, nh, NULL);
    f->cancelled = true;   /* what it answers from now on is ignored */
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
        if (!leg->outgoing || leg->state == LEG_ENDED || leg->win)
            continue;
        for (sip_fork *f = leg->forks; f; f = f->next) {
            bool pending = d->nta ? sip_nta_dial_pending(leg) : f->nh != NULL;
            if (f->failed || f->cancelled || f->status || !pending || !fork_tls_to(f, hostport))
                continue;
            sip_log(d, SIP_LOG_WARN, "dial %s: TLS to %s failed (see above): failed 503",
                    leg->callee ? leg->callee : "-", hostport);
            if (d->nta) {
                sip_nta_dial_give_up(leg, 503);
                continue;
            }
            fork_failed(f, 503);
            cancel_fork(f, f->nh, NULL);   /* its own end (a 408), whenever it comes, is ignored */
        }
    }
    sip_leave(d);
}

void sip_out_response(sip_fork *f, nua_handle_t *nh, int status, const char *phrase,
                      const sip_t *sip)
{
    (void)phrase;
    sip_leg *leg = f->leg;
    bool sdp = sip && sip->sip_payload && sip->sip_payload->pl_len;
    if (status < 200) {
        if (leg->state == LEG_ENDED || f->cancelled)
            return;
        leg->state = LEG_EARLY;
        if (sdp && !leg->early_raised && leg->bypass) {
            sip_bypass_keep_sdp(leg, sip);
            leg->early_raised = true;
            early_media(leg);
            sip_raise_kind(leg, TEL_EV_EARLY_MEDIA, status, NULL);
        } else if (sdp && !leg->early_raised && sip_leg_apply_sdp(leg, sip, NULL) < 0) {
            fork_unusable(f, nh, false);
        } else if (sdp && !leg->early_raised) {
            leg->early_raised = true;
            early_media(leg);
            sip_raise_kind(leg, TEL_EV_EARLY_MEDIA, status, NULL);
        } else if (!leg->ringing_raised && !leg->early_raised) {
            leg->ringing_raised = true;
            sip_raise_kind(leg, TEL_EV_RINGING, status, NULL);
        }
        return;
    }
    if (status < 300) {
        if (leg->win || leg->state == LEG_ENDED || f->cancelled) {
            /* A second answer, or one after we gave up: end that dialog. */
            nua_bye(nh, TAG_END());
            return;
        }
        /* No answer SDP we can use (and none from an earlier 18x): no
         * media, so no call. */
        if (leg->bypass && sdp)
            sip_bypass_keep_sdp(leg, sip);
        if (leg->bypass ? !leg->sdp_body : sdp ? sip_leg_apply_sdp(leg, sip, NULL) < 0 : !leg->have_remote) {
            fork_unusable(f, nh, true);
            return;
        }
        leg->win = f;
        leg->nh = nh;
        leg->state = LEG_UP;
        leg->t_answer = loop_now(leg->d->l);
        for (sip_fork *o = leg->forks; o; o = o->next)
            if (o != f && !o->failed && !o->terminated && o->nh)
                cancel_fork(o, o->nh, ELSEWHERE);
        if (leg->peer)
            sip_leg_update_relay(leg);
        sip_log(leg->d, SIP_LOG_DEBUG, "dial %s answered", leg->callee);
        char *name = sip_answer_display_name(sip);
        tel_event ev = {.kind = TEL_EV_ANSWER, .sip_code = status, .display_name = name};
        sip_raise(leg, &ev);
        free(name);
        return;
    }
    if ((status == 401 || status == 407) && leg->gw_user && !f->auth_tried && sip &&
        !f->cancelled && leg->state != LEG_ENDED) {
        authenticate(f, nh, status, sip);
        return;
    }
    if (f->failed) {
        f->status = status;   /* the end of a fork we gave up on (its answer was unusable) */
        return;
    }
    fork_failed(f, status);
}

int sip_out_hangup(sip_leg *leg, int code)
{
    if (leg->d->nta)
        return sip_nta_hangup(leg, code);
    if (leg->state == LEG_ENDED)
        return 0;
    bool up = leg->state == LEG_UP;
    leg->we_ended = true;
    leg->state = LEG_ENDED;
    if (leg->fail_timer) {
        loop_timer_stop(leg->d->l, leg->fail_timer);
        leg->fail_timer = NULL;
        leg->sip_done = true;
    }
    if (up && leg->nh) {
        nua_bye(leg->nh, TAG_END());
    } else {
        for (sip_fork *f = leg->forks; f; f = f->next)
            if (!f->failed && !f->terminated && f->nh)
                cancel_fork(f, f->nh, code == TEL_ANSWERED_ELSEWHERE ? ELSEWHERE : NULL);
    }
    sip_leg_detach(leg);
    sip_leg_log_end(leg, up ? 200 : 487, up ? "normal" : "cancelled", "us");
    sip_media_leg_gone(leg);
    sip_leg_maybe_free(leg);
    return 0;
}

void sip_fork_terminated(sip_fork *f)
{
    sip_leg *leg = f->leg;
    if (f->cancel_timer) {
        loop_timer_stop(leg->d->l, f->cancel_timer);
        f->cancel_timer = NULL;
    }
    if (f->nh) {
        nua_handle_bind(f->nh, NULL);
        nua_handle_destroy(f->nh);
    }
    f->nh = NULL;
    f->terminated = true;
    if (leg->win == f) {
        leg->nh = NULL;
        sip_leg_ended(leg, 200, "normal");
    }
    for (sip_fork *o = leg->forks; o; o = o->next)
        if (!o->terminated)
            return;
    /* Every INVITE is over; a leg still waiting on a fork that died
     * without a final response fails now. */
    if (leg->state != LEG_ENDED && !leg->win)
        fail_leg(leg, leg->best_status ? leg->best_status : 408);
    sip_leg_sip_done(leg);
}

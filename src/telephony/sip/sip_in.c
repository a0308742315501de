/* sip_in.c — incoming calls: who is calling (gateway by source address,
 * or a user who passed the digest challenge), what the engine learns about the
 * call, our answers (180, 183 and 200 with our SDP, rejections, BYE), and
 * requests inside a call: re-INVITE/UPDATE (hold), INFO (DTMF), REFER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_dtmf_body.h"
#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_tls.h"
#include "util/alloc.h"

static void respond(sip_driver *d, nua_handle_t *nh, int code, tag_type_t tag, tag_value_t value, ...)
{
    ta_list ta;
    ta_start(ta, tag, value);
    nua_respond(nh, code, sip_status_phrase(code), NUTAG_WITH_THIS(d->nua), ta_tags(ta));
    (void)ta_end(ta);
}

int sip_who_calls(sip_driver *d, const sip_t *sip, char *source, size_t n, const struct sip_gw **gw_out,
                  const cfg_user **user_out, char *challenge, size_t clen)
{
    struct sockaddr_in src = {0};
    bool have_src = sip_request_source(d, &src);
    const char *from_user = sip->sip_from && sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user : NULL;
    const cfg_user *u = from_user ? tel_config_user(d->cfg, from_user) : NULL;
    if (u && !u->password)
        u = NULL;
    /* Who calls: a gateway by its address and port; a user who answers
     * the digest challenge; a gateway by address alone (`match: ip`,
     * accept_any_source); else a user is challenged. Every request from a
     * user is: its source address is no credential (UDP is forged with one
     * packet); a nonce stays good for the requests of its dialog. */
    const struct sip_gw *gw = have_src ? sip_gw_by_source(d, &src, true) : NULL;
    if (!gw && have_src && sip_registrar_ignored(d->reg, &src))
        return -1;   /* banned: no digest work, no challenge */
    if (!gw && u && sip->sip_proxy_authorization) {
        int code = sip_registrar_auth_verdict(d->reg, sip, u, true, challenge, clen);
        if (code)
            return code;
        snprintf(source, n, "user:%s", u->number);
        *user_out = u;
    } else if (gw || (have_src && (gw = sip_gw_by_source(d, &src, false)))) {
        snprintf(source, n, "%s", sip_gw_name(gw));
        *gw_out = gw;
    } else if (u) {
        int code = sip_registrar_auth_verdict(d->reg, sip, u, true, challenge, clen);   /* the 407 challenge */
        return code ? code : 500;
    } else {
        sip_report_refused(d, sip, 403, "unknown_source");
        return 403;
    }
    return 0;
}

sip_in_who sip_in_identify(sip_driver *d, nua_handle_t *nh, const sip_t *sip, char *source, size_t n,
                           const struct sip_gw **gw_out, const cfg_user **user_out)
{
    char challenge[256];
    int code = sip_who_calls(d, sip, source, n, gw_out, user_out, challenge, sizeof challenge);
    if (code == 0)
        return SIP_IN_KNOWN;
    if (code < 0)
        return SIP_IN_DROP;
    if (code == 407)
        respond(d, nh, 407, SIPTAG_PROXY_AUTHENTICATE_STR(challenge), TAG_END());
    else
        respond(d, nh, code, TAG_END());
    return SIP_IN_ANSWERED;
}

void sip_in_invite(sip_driver *d, nua_handle_t *nh, const sip_t *sip, tagi_t tags[])
{
    (void)tags;
    sip_refusal refusal;
    int code = sip_admit_call(d, sip, &refusal);
    if (code) {
        respond(d, nh, code, SIPTAG_RETRY_AFTER_STR(refusal.retry_after), SIPTAG_HEADER_STR(refusal.load), TAG_END());
        return;
    }
    const struct sip_gw *gw = NULL;
    const cfg_user *u = NULL;
    char source[80];
    sip_in_who who_is = sip_in_identify(d, nh, sip, source, sizeof source, &gw, &u);
    if (who_is == SIP_IN_DROP)
        nua_handle_destroy(nh);
    if (who_is != SIP_IN_KNOWN)
        return;

    /* A body we would misread as SDP, or an answer body the caller does
     * not accept (RFC 3261 8.2.3, 21.4.7): refused before any media. */
    int unusable = sip_in_body_check(sip);
    if (unusable) {
        const sip_content_type_t *ct = sip->sip_content_type;
        sip_log(d, SIP_LOG_INFO, "call %s from %s: %d (Content-Type %s)", sip->sip_call_id->i_id, source,
                unusable, ct && ct->c_type ? ct->c_type : "-");
        respond(d, nh, unusable, TAG_IF(unusable == 415, SIPTAG_ACCEPT_STR("application/sdp")), TAG_END());
        return;
    }
    sip_in_parties who;
    sip_in_parties_get(sip, gw && sip_gw_conf(gw)->trust_identity, &who);
    sip_leg *leg = sip_leg_new(d, false);
    leg->rtp_reserved = true;   /* admitted: a session is kept for its dial */
    d->rtp_reserved++;
    leg->nh = nh;
    nua_handle_bind(nh, &leg->hc);
    leg->call_id = cr_xstrdup(sip->sip_call_id->i_id);
    leg->caller = who.caller;
    leg->caller_name = who.caller_name;
    leg->callee = who.callee;
    leg->source = cr_xstrdup(source);
    char contact[300];
    if (sip_tls_answer_contact(sip, contact, sizeof contact))
        leg->tls_contact = cr_xstrdup(contact);
    /* Its RTP comes from the address its SDP names, unless it is marked as
     * behind NAT (symmetric_rtp): then the first packets may teach us. */
    leg->symmetric_rtp = gw ? sip_gw_conf(gw)->symmetric_rtp : u && u->symmetric_rtp;
    leg->srtp = sip_leg_srtp_policy(d, gw ? sip_gw_conf(gw)->srtp : u ? u->srtp : CFG_SRTP_INHERIT);

    /* An offerless INVITE's leg takes its session now too (our offer in
     * the answer needs it): admitted means it has one, not that it may
     * find none when the scenario answers. */
    bool offer = sip->sip_payload && sip->sip_payload->pl_len;
    int rc = offer ? sip_leg_apply_sdp(leg, sip, NULL) : sip_leg_media(leg) < 0 ? -2 : 0;
    if (rc < 0) {
        leg->we_ended = true;
        leg->state = LEG_ENDED;
        leg->released = true;
        if (rc == -2)
            sip_report_refused(d, sip, 503, rtp_limit_reason(d->rtp_why));
        respond(d, nh, rc == -2 ? 503 : 488, TAG_END());
        return;
    }
    sip_log(d, SIP_LOG_INFO, "call %s from %s to %s via %s", leg->call_id, leg->caller,
            leg->callee, leg->source);

    /* On the stack: a 9 KB malloc per call is a "large" request, which makes
     * glibc consolidate its fast bins on every INVITE. */
    sip_in_headers hbuf, *hl = &hbuf;
    sip_in_collect_headers(sip, hl);
    tel_call_info info = {
        .call_id = leg->call_id,
        .caller_number = leg->caller,
        .caller_name = leg->caller_name ? leg->caller_name : "",
        .called_number = leg->callee,
        .source = leg->source,
        .header_names = hl->names,
        .header_values = hl->values,
        .header_count = hl->count,
    };
    int reject = 0;
    d->invite = sip;   /* for media: bypass, chosen with the route */
    bool taken = d->have_handler && d->h.incoming(d->h.eng, leg, &info, &reject);
    d->invite = NULL;
    if (!taken) {
        if (leg->state != LEG_ENDED)
            sip_in_hangup(leg, reject >= 300 ? reject : d->have_handler ? 404 : 503);
        leg->released = true;
        sip_leg_maybe_free(leg);
    }
}

/* Our Contact in an answer, when sofia's would not do (sip_tls_answer_contact). */
#define CONTACT_TAG(leg) TAG_IF((leg)->tls_contact, SIPTAG_CONTACT_STR((leg)->tls_contact))

int sip_in_answer(sip_leg *leg)
{
    if (leg->d->nta)
        return sip_nta_answer(leg);
    if (leg->state == LEG_UP)
        return 0;
    if (leg->bypass) {
        /* The answer is the callee's, as it came. */
        const char *sdp = sip_bypass_peer_sdp(leg);
        if (leg->state == LEG_ENDED || !leg->nh)
            return -1;
        if (!sdp) {
            sip_log(leg->d, SIP_LOG_WARN,
                    "call %s: media: bypass answers with the callee's SDP: nothing to answer with "
                    "before a dialled leg answers",
                    leg->call_id ? leg->call_id : "-");
            return -1;
        }
        nua_respond(leg->nh, 200, sip_status_phrase(200), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(sdp), CONTACT_TAG(leg), TAG_END());
        leg->state = LEG_UP;
        leg->t_answer = loop_now(leg->d->l);
        return 0;
    }
    if (leg->state == LEG_ENDED || !leg->nh || sip_leg_media(leg) < 0)
        return -1;
    char sdp[768];
    sip_leg_sdp(leg, sdp, sizeof sdp, !leg->have_remote);
    nua_respond(leg->nh, 200, sip_status_phrase(200), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp), CONTACT_TAG(leg), TAG_END());
    leg->state = LEG_UP;
    leg->t_answer = loop_now(leg->d->l);
    return 0;
}

int sip_in_ringing(sip_leg *leg, bool early_media)
{
    if (leg->d->nta)
        return sip_nta_ringing(leg, early_media);
    if (leg->state == LEG_UP || leg->state == LEG_ENDED || !leg->nh)
        return -1;
    const char *bypass_sdp = leg->bypass && early_media ? sip_bypass_peer_sdp(leg) : NULL;
    if (bypass_sdp) {
        if (leg->early_sent)
            return 0;
        nua_respond(leg->nh, 183, sip_status_phrase(183), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(bypass_sdp), CONTACT_TAG(leg), TAG_END());
        leg->early_sent = true;
    } else if (early_media && !leg->bypass && leg->have_remote && sip_leg_media(leg) == 0) {
        if (leg->early_sent)
            return 0;
        char sdp[768];
        sip_leg_sdp(leg, sdp, sizeof sdp, false);
        nua_respond(leg->nh, 183, sip_status_phrase(183), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(sdp), CONTACT_TAG(leg), TAG_END());
        leg->early_sent = true;
    } else if (!leg->ringing_sent) {
        nua_respond(leg->nh, 180, sip_status_phrase(180), CONTACT_TAG(leg), TAG_END());
        leg->ringing_sent = true;
    }
    leg->state = LEG_EARLY;
    return 0;
}

int sip_in_hangup(sip_leg *leg, int code)
{
    if (leg->d->nta)
        return sip_nta_hangup(leg, code);
    if (leg->state == LEG_ENDED)
        return 0;
    bool up = leg->state == LEG_UP;
    leg->we_ended = true;
    leg->state = LEG_ENDED;
    if (leg->nh) {
        if (up) {
            nua_bye(leg->nh, TAG_END());
        } else {
            if (code < 300 || code > 699)
                code = 480;
            nua_respond(leg->nh, code, sip_status_phrase(code), TAG_END());
        }
    }
    sip_leg_detach(leg);
    sip_leg_log_end(leg, up ? 200 : code, up ? "normal" : "rejected", "us");
    sip_media_leg_gone(leg);
    return 0;
}

/* ---- in-dialog requests ---- */

void sip_in_reinvite(sip_leg *leg, nua_handle_t *nh, int status, const sip_t *sip)
{
    sip_driver *d = leg->d;
    if (status >= 200)
        return;   /* answered by the stack already */
    if (leg->state == LEG_ENDED) {
        respond(d, nh, 481, TAG_END());
        return;
    }
    if (leg->bypass) {
        sip_bypass_reinvite(leg, nh, sip);
        return;
    }
    bool changed = false, offer = sip && sip->sip_payload && sip->sip_payload->pl_len;
    if (offer)
        sip_leg_expect_offer(leg);
    int rc = offer ? sip_leg_apply_sdp(leg, sip, &changed) : 0;
    if (rc < 0) {
        /* -2: the leg had no RTP session yet and none is left (logged). */
        respond(d, nh, rc == -2 ? 503 : 488, TAG_IF(rc == -2, SIPTAG_RETRY_AFTER_STR("5")), TAG_END());
        return;
    }
    if (!offer && sip && sip->sip_request && sip->sip_request->rq_method == sip_method_update) {
        /* An UPDATE without an offer (a session refresh) gets none back. */
        respond(d, nh, 200, TAG_END());
        return;
    }
    char sdp[768];
    sip_leg_sdp(leg, sdp, sizeof sdp, !offer);
    respond(d, nh, 200, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp),
            CONTACT_TAG(leg), TAG_END());
    if (!changed)
        return;
    sip_log(d, SIP_LOG_DEBUG, "%s %s: %s by the %s", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold",
            leg->outgoing ? "callee" : "caller");
    sip_enter(d);
    /* The far phone learns it is held and plays its own music. */
    if (leg->peer)
        sip_leg_push_mode(leg->peer, sip_leg_hold_mode(leg));
    sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
    sip_leave(d);
}

void sip_in_info(sip_leg *leg, const sip_t *sip)
{
    if (!sip || !sip->sip_payload || !sip->sip_content_type || !sip->sip_content_type->c_type)
        return;
    char digit = sip_dtmf_body_digit(sip->sip_content_type->c_type, sip->sip_payload->pl_data,
                                     sip->sip_payload->pl_len);
    if (digit)
        sip_leg_digit(leg, digit);
}

void sip_in_refer(sip_leg *leg, nua_handle_t *nh, const sip_t *sip, tagi_t tags[])
{
    sip_driver *d = leg->d;
    if (!sip || !sip->sip_refer_to)
        return;
    const url_t *u = sip->sip_refer_to->r_url;
    char target[256];
    if (u->url_user)
        snprintf(target, sizeof target, "%s", u->url_user);
    else
        url_e(target, sizeof target, u);
    sip_log(d, SIP_LOG_INFO, "%s: transfer to %s requested", leg->call_id ? leg->call_id : "-", target);
    /* The stack accepted the REFER (202); we report the outcome at once and
     * end the implicit subscription: the engine carries the transfer out. */
    const sip_event_t *event = NULL;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
    nua_notify(nh, NUTAG_SUBSTATE(nua_substate_terminated), TAG_IF(event, SIPTAG_EVENT(event)),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag"), SIPTAG_PAYLOAD_STR("SIP/2.0 200 OK\r\n"),
               TAG_END());
    tel_event ev = {.kind = TEL_EV_TRANSFER, .refer_to = target};
    sip_raise(leg, &ev);
}

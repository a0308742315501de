/* sip_nta.c — the driver's calls on sofia's transaction layer (NTA) with
 * a dialog record of our own (sip_dialog.c), the only SIP core since the
 * NUA one went (docs/decisions/sip-core.md, stages 3 and 4).
 *
 * What it carries: an INVITE from a gateway (by source address), a SIP
 * URI caller or a user (digest: 407, sip_nta_reg.c), answered, rung, refused or bridged by the engine as under
 * NUA; its ACK, CANCEL (487) and BYE; calls dialled to a gateway or a SIP
 * URI (one INVITE, its ACK, our CANCEL and BYE), or to a registered user
 * (one INVITE per contact: sip_nta_fork.c; a phone's flow is the route of
 * its requests); media anchored or
 * bypassed; re-INVITE and UPDATE with SDP both ways for hold and unhold
 * (anchored media; glare 491, ours tried again later); DTMF by INFO (RFC 4733 is RTP's,
 * the same under either core); a gateway's digest challenge (auc_*,
 * once per dial); RFC 4028 session timers (settings.sip.session_timer:
 * negotiated in the INVITE and its 2xx, a 422 retried once with the
 * callee's Min-SE, refreshed by UPDATE when the
 * remote allows it, else re-INVITE; BYE with Reason 408 when a refresh
 * does not come or fails); OPTIONS with the load header; 481
 * for a request naming no
 * dialog of ours, 500 for one out of CSeq order; REGISTER (the registrar,
 * sip_nta_reg.c); MESSAGE both ways (sip_nta_msg.c); message-summary
 * SUBSCRIBE/NOTIFY (sip_nta_mwi.c). The agent is a UA
 * (NTATAG_UA): it retransmits our 2xx until the ACK comes; a 2xx to our
 * (re-)INVITE that comes again after its transaction is gone is ACKed
 * again (stray_response_cb), as is a losing fork's (sip_nta_fork.c); after our CANCEL the INVITE is given up at
 * 64*T1 without a final response. Beside it: REFER both ways
 * (sip_nta_refer.c), the bypass re-INVITE/UPDATE relay (sip_nta_bypass.c),
 * RFC 3261 8.2.2's 416 and 420 (sip_nta_uas.c). Our INVITE and its
 * responses, re-INVITEs and the give-up after CANCEL are sip_nta_out.c's,
 * session timers sip_nta_timer.c's.
 *
 * What it does not carry yet is refused, never half done: requests other
 * than those get 501 and one log line naming the setting. Its tls:
 * listener and Contacts over TLS are sip_nta_tls.c's, gateway
 * registrations sip_nta_gwreg.c's. */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/auth_client.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>

#include "telephony/sip/sip_dialog.h"
#include "telephony/sip/sip_flood.h"
#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_msg.h"
#include "telephony/sip/sip_mwi.h"
#include "util/alloc.h"

/* What a request callback returns once it has answered itself (or for an
 * ACK, which is never answered): a final status only makes NTA destroy
 * the transaction, nothing is sent again. */
#define ANSWERED SIP_NTA_ANSWERED

/* ---- helpers ---- */

struct sip_nta_leg *sip_nta_leg_state(sip_leg *leg)
{
    if (!leg->nta)
        leg->nta = cr_xcalloc(1, sizeof *leg->nta);
    return leg->nta;
}

void sip_nta_busy_put(struct sip_nta_leg *nl, size_t member, void *v)
{
    if (!nl->busy) {
        if (!v)
            return;
        nl->busy = cr_xcalloc(1, sizeof *nl->busy);
    }
    memcpy((char *)nl->busy + member, &v, sizeof v);
    const struct sip_nta_busy *b = nl->busy;
    if (!v && !b->irq && !b->orq && !b->bye && !b->reinvite && !b->refresh && !b->give_up && !b->linger) {
        free(nl->busy);   /* nothing in flight: a held call's leg keeps no block */
        nl->busy = NULL;
    }
}

/* Our Contact toward LEG's remote: over TLS the listener's
 * (sip_nta_tls.c), else the agent's. */
const char *sip_nta_leg_contact(const sip_leg *leg)
{
    return leg->tls_contact ? leg->tls_contact : leg->d->nta->contact;
}

/* One log line per kind of request we do not carry. */
static void refuse_log(sip_driver *d, unsigned bit, const char *what)
{
    if (d->nta->refused_logged & bit)
        return;
    d->nta->refused_logged |= bit;
    sip_log(d, SIP_LOG_WARN, "SIP: %s is not carried: answered 501", what);
}

int sip_nta_retry_later(nta_incoming_t *irq)
{
    char after[8];
    snprintf(after, sizeof after, "%u", (unsigned)(arc4random() % 11));
    nta_incoming_treply(irq, 500, sip_status_phrase(500), SIPTAG_RETRY_AFTER_STR(after), TAG_END());
    return ANSWERED;
}

void sip_nta_fail_leg(sip_leg *leg, int code)
{
    if (leg->state == LEG_ENDED)
        return;
    leg->state = LEG_ENDED;
    sip_leg_detach(leg);
    bool busy = code == 486 || code == 600;
    sip_leg_log_end(leg, code, busy ? "busy" : "failed", "callee");
    sip_raise_kind(leg, busy ? TEL_EV_BUSY : TEL_EV_FAILED, code, busy ? "busy" : "failed");
    sip_media_leg_gone(leg);
}

/* A request in LEG's dialog: METHOD with CSEQ (our next, or the INVITE's
 * for its ACK), CB for its responses (NULL: none wanted, e.g. ACK), SDP
 * its body (NULL: none; a re-INVITE also carries our Contact), EXTRA more
 * headers (NULL: none). */
static nta_outgoing_t *dialog_request_tl(sip_leg *leg, sip_method_t method, const char *name, uint32_t cseq,
                                         nta_response_f *cb, const char *sdp, const tagi_t *extra)
{
    struct sip_nta *t = leg->d->nta;
    const sip_dialog *dl = &leg->nta->dlg;
    msg_t *msg = sip_nta_new_request(leg->d, method, name, dl->target, cseq);
    if (!msg)
        return NULL;
    sip_t *sip = sip_object(msg);
    /* A re-INVITE or UPDATE of a dialog with a session timer refreshes it. */
    char se[48] = "";
    if (leg->nta->se && (method == sip_method_invite || method == sip_method_update))
        snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se,
                 leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
    char from[SIP_DIALOG_MAX], to[SIP_DIALOG_MAX];
    sip_call_id_t call_id = sip_nta_call_id(dl->call_id);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(sip_dialog_from(dl, from)), SIPTAG_TO_STR(sip_dialog_to(dl, to)),
                   TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer)),
                   TAG_IF(method == sip_method_bye && leg->nta->bye_reason,
                          SIPTAG_REASON_STR("SIP;cause=408;text=\"Session timer expired\"")),
                   SIPTAG_CALL_ID(&call_id), TAG_IF(*dl->route, SIPTAG_ROUTE_STR(dl->route)),
                   SIPTAG_MAX_FORWARDS(NTA_HDR(leg->d)->max_forwards), NTA_CONTACT(leg, sdp || method == sip_method_invite),
                   TAG_IF(sdp, SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type)), TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                   TAG_NEXT(extra)) < 0) {
        msg_destroy(msg);
        return NULL;
    }
    const char *hop = sip_nta_leg_hop(leg);
    return nta_outgoing_mcreate(t->agent, cb, leg, hop ? URL_STRING_MAKE(hop) : NULL, msg,
                                TAG_END());
}

const char *sip_nta_leg_hop(const sip_leg *leg)
{
    /* Toward a phone's flow (TLS, outbound) its requests take the fork's
     * hop: the winner of several, or the only one. */
    const struct sip_leg_dial *dl = sip_dial_of_const(leg);
    if (!dl)
        return NULL;
    const sip_fork *f = dl->win ? dl->win : !sip_dial_forked(dl) ? dl->forks : NULL;
    return f ? f->hop : NULL;
}

nta_outgoing_t *sip_nta_dialog_request(sip_leg *leg, sip_method_t method, const char *name, uint32_t cseq,
                                      nta_response_f *cb, const char *sdp)
{
    return dialog_request_tl(leg, method, name, cseq, cb, sdp, NULL);
}

nta_outgoing_t *sip_nta_request(sip_leg *leg, sip_method_t method, const char *name, nta_response_f *cb,
                                tag_type_t tag, tag_value_t value, ...)
{
    if (!leg->nta || !leg->nta->have_dlg)
        return NULL;
    ta_list ta;
    ta_start(ta, tag, value);
    tagi_t extra[] = {{SIPTAG_CONTACT_STR(sip_nta_leg_contact(leg))}, {TAG_NEXT(ta_args(ta))}};
    nta_outgoing_t *orq =
        dialog_request_tl(leg, method, name, sip_dialog_next_cseq(&leg->nta->dlg), cb, NULL, extra);
    (void)ta_end(ta);
    return orq;
}

/* LEG's dialog is over (BYE sent and answered, or received) once no
 * request of ours waits for its final response: a re-INVITE still pending
 * gets it (a 487 to be ACKed) before the leg goes. */
void sip_nta_dialog_over(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (leg->state == LEG_ENDED && !NTA_BUSY(nl, bye) && !NTA_BUSY(nl, reinvite) && !NTA_BUSY(nl, refresh))
        sip_leg_sip_done(leg);
}

static int bye_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = sip_nta_response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    sip_enter(d);
    nta_outgoing_destroy(orq);
    NTA_BUSY_PUT(leg->nta, bye, NULL);
    leg->state = LEG_ENDED;
    sip_nta_dialog_over(leg);
    sip_leave(d);
    return 0;
}

void sip_nta_send_bye(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl->have_dlg || NTA_BUSY(nl, bye))
        return;
    sip_nta_st_stop(leg);
    nta_outgoing_t *bye =
        sip_nta_dialog_request(leg, sip_method_bye, "BYE", sip_dialog_next_cseq(&nl->dlg), bye_response_cb, NULL);
    NTA_BUSY_PUT(nl, bye, bye);
    if (!bye)
        sip_leg_sip_done(leg);
}

/* ---- incoming: the INVITE's ACK, CANCEL, or no ACK ---- */

static void drop_irq(struct sip_nta_leg *nl)
{
    if (NTA_BUSY(nl, irq)) {
        nta_incoming_destroy(nl->busy->irq);
        NTA_BUSY_PUT(nl, irq, NULL);
    }
}

static int invite_irq_cb(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    sip_enter(d);
    sip_method_t m = sip && sip->sip_request ? sip->sip_request->rq_method : sip_method_unknown;
    if (m == sip_method_ack) {
        if (sip->sip_payload && sip->sip_payload->pl_len && !leg->bypass)
            sip_leg_apply_sdp(leg, sip, NULL);
        drop_irq(nl);
    } else if (m == sip_method_cancel && nta_incoming_status(irq) < 200) {
        nta_incoming_treply(irq, 487, sip_status_phrase(487), TAG_END());
        drop_irq(nl);
        sip_leg_ended(leg, 487, "cancel");
        sip_leg_sip_done(leg);
    } else if (m == sip_method_cancel) {
        /* It crossed our 2xx: the INVITE has its final response and the
         * CANCEL changes nothing (RFC 3261 9.2); the ACK still comes here. */
    } else if (!sip) {
        /* Our 2xx was never ACKed (64*T1): the call is not up (RFC 3261 13.3.1.4). */
        drop_irq(nl);
        if (leg->state == LEG_UP) {
            sip_log(d, SIP_LOG_INFO, "call %s: no ACK for our 200: BYE", leg->call_id ? leg->call_id : "-");
            sip_leg_ended_by_system(leg, 408, "no_ack");
            sip_nta_send_bye(leg);
        }
    }
    sip_leave(d);
    return 0;
}

/* ---- incoming: a new call ---- */

static int new_call(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_refusal refusal;
    int code = sip_admit_call(d, sip, &refusal);
    if (code) {
        nta_incoming_treply(irq, code, sip_status_phrase(code), SIPTAG_RETRY_AFTER_STR(refusal.retry_after),
                            SIPTAG_HEADER_STR(refusal.load), TAG_END());
        return ANSWERED;
    }
    const struct sip_gw *gw = NULL;
    const cfg_user *u = NULL;
    char source[80];
    int who_is = sip_nta_identify(d, irq, sip, source, sizeof source, &gw, &u);
    if (who_is)
        return who_is;
    int unusable = sip_in_body_check(sip);
    if (unusable) {
        const sip_content_type_t *ct = sip->sip_content_type;   /* logged as sip_in.c does */
        sip_log(d, SIP_LOG_INFO, "call %s from %s: %d (Content-Type %s)", sip->sip_call_id->i_id, sip_gw_name(gw),
                unusable, ct && ct->c_type ? ct->c_type : "-");
        nta_incoming_treply(irq, unusable, sip_status_phrase(unusable),
                            TAG_IF(unusable == 415, SIPTAG_ACCEPT_STR("application/sdp")), TAG_END());
        return ANSWERED;
    }
    sip_leg *leg = sip_leg_new(d, false);
    struct sip_nta_leg *nl = sip_nta_leg_state(leg);
    sip_nta_random_token(nl->tag, SIP_NTA_TAG_CHARS);
    leg->call_id = cr_xstrdup(sip->sip_call_id->i_id);
    /* The dialog's Call-ID is the leg's (freed after the dialog). */
    if (sip_dialog_uas_keyed(&nl->dlg, sip, nl->tag, leg->call_id) != 0) {
        leg->released = leg->sip_done = true;
        leg->state = LEG_ENDED;
        sip_leg_maybe_free(leg);
        return 400;
    }
    nl->have_dlg = true;
    if (sip_nta_st_uas(leg, sip) == 422) {
        char min[16];
        snprintf(min, sizeof min, "%.0f", d->cfg->settings.session_min_se);
        nta_incoming_treply(irq, 422, sip_status_phrase(422), SIPTAG_MIN_SE_STR(min), TAG_END());
        leg->released = leg->sip_done = true;
        leg->state = LEG_ENDED;
        sip_leg_maybe_free(leg);
        return ANSWERED;
    }
    leg->tls_contact = sip_nta_tls_contact_in(d, sip);
    nta_incoming_tag(irq, nl->tag);
    NTA_BUSY_PUT(nl, irq, irq);
    nta_incoming_bind(irq, invite_irq_cb, leg);
    sip_nta_table_add(d->nta, leg);

    sip_in_parties who;
    sip_in_parties_get(sip, gw && sip_gw_conf(gw)->trust_identity, &who);
    leg->rtp_reserved = true;
    d->rtp_reserved++;
    leg->caller = who.caller;
    leg->caller_name = who.caller_name;
    leg->callee = who.callee;
    leg->symmetric_rtp = gw ? sip_gw_conf(gw)->symmetric_rtp : u && u->symmetric_rtp;
    leg->srtp = sip_leg_srtp_policy(d, gw ? sip_gw_conf(gw)->srtp : u ? u->srtp : CFG_SRTP_INHERIT);

    bool offer = sip->sip_payload && sip->sip_payload->pl_len;
    int rc = offer ? sip_leg_apply_sdp(leg, sip, NULL) : sip_leg_media(leg) < 0 ? -2 : 0;
    if (rc < 0) {
        if (rc == -2)
            sip_report_refused(d, sip, 503, rtp_limit_reason(d->rtp_why));
        sip_nta_hangup(leg, rc == -2 ? 503 : 488);
        leg->released = true;
        sip_leg_maybe_free(leg);
        return 0;
    }
    /* SOURCE is read here only: the engine keeps its own copy. */
    sip_log(d, SIP_LOG_INFO, "call %s from %s to %s via %s", leg->call_id, leg->caller, leg->callee, source);
    sip_in_headers hbuf;
    sip_in_collect_headers(sip, d->have_handler ? d->h.header_wanted : NULL, d->h.eng, &hbuf);
    tel_call_info info = {
        .call_id = leg->call_id,
        .caller_number = leg->caller,
        .caller_name = leg->caller_name ? leg->caller_name : "",
        .called_number = leg->callee,
        .source = source,
        .header_names = hbuf.names,
        .header_values = hbuf.values,
        .header_count = hbuf.count,
    };
    int reject = 0;
    d->invite = sip;
    bool taken = d->have_handler && d->h.incoming(d->h.eng, leg, &info, &reject);
    d->invite = NULL;
    if (!taken) {
        if (leg->state != LEG_ENDED)
            sip_nta_hangup(leg, reject >= 300 ? reject : d->have_handler ? 404 : 503);
        leg->released = true;
        sip_leg_maybe_free(leg);
    }
    return 0;
}

/* ---- every request ---- */

static int answer_options(sip_driver *d, nta_incoming_t *irq)
{
    char load[96];
    sip_load_header(d, load, sizeof load);
    int code = 0, retry = 0;
    const char *why = NULL;
    if (d->shutting_down || d->draining)
        code = sip_admit(d, &retry, &why);
    nta_incoming_treply(irq, code ? code : 200, sip_status_phrase(code ? code : 200), SIPTAG_ALLOW(NTA_HDR(d)->allow),
                        SIPTAG_HEADER_STR(load), TAG_END());
    return ANSWERED;
}

static bool flood_over(sip_driver *d)
{
    struct sockaddr_in src;
    if (d->cfg->settings.flood_drop || !sip_request_source(d, &src) || !sip_flood_is_over(d->flood, src.sin_addr.s_addr))
        return false;
    d->flood_refused++;
    return true;
}

/* A re-INVITE or an UPDATE with an SDP offer from LEG's remote (hold,
 * unhold, a new address): our answer, the hold passed on to the peer,
 * hold/unhold raised (as sip_in.c does under NUA). The ACK of our 200 to
 * a re-INVITE is absorbed by the transaction. */
static int reinvite_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    if (leg->bypass) {
        int rc = sip_nta_bypass_offer(leg, irq, sip);   /* relayed to the peer (sip_nta_bypass.c) */
        if (rc == 0 || rc == ANSWERED)
            sip_nta_st_start(leg);   /* the remote's re-INVITE or UPDATE refreshes the session */
        return rc;
    }
    if (leg->state != LEG_UP)
        return sip_nta_retry_later(irq);   /* before our final response to its INVITE */
    if (leg->reinvite_busy || NTA_BUSY(leg->nta, reinvite))
        return 491;   /* glare: ours is pending (RFC 3261 14.2) */
    bool changed = false, offer = sip->sip_payload && sip->sip_payload->pl_len;
    if (offer)
        sip_leg_expect_offer(leg);
    int rc = offer ? sip_leg_apply_sdp(leg, sip, &changed) : 0;
    if (rc < 0)
        return rc == -2 ? 503 : 488;
    char sdp[768], se[48] = "";
    sip_leg_sdp(leg, sdp, sizeof sdp, !offer);
    if (leg->nta->se)
        snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
    nta_incoming_treply(irq, 200, sip_status_phrase(200), NTA_CONTACT(leg, true),
                        TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer)),
                        SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    sip_nta_st_start(leg);   /* the remote's re-INVITE refreshed the session */
    if (changed) {
        sip_log(d, SIP_LOG_DEBUG, "%s %s: %s by the %s", leg->outgoing ? "leg" : "call",
                leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold", leg->outgoing ? "callee" : "caller");
        if (leg->peer)
            sip_leg_push_mode(leg->peer, sip_leg_hold_mode(leg));
        sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
    }
    return ANSWERED;
}

static int in_dialog(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_method_t m = sip->sip_request->rq_method;
    sip_leg *leg = sip_nta_table_find_dialog(d->nta, sip);
    if (!leg || !leg->nta->have_dlg || !sip_dialog_matches(&leg->nta->dlg, sip))
        return m == sip_method_ack ? ANSWERED : 481;   /* a stray ACK is dropped */
    int order = sip_dialog_request_in(&leg->nta->dlg, sip);
    if (order)
        return order;
    switch (m) {
    case sip_method_ack:
        return ANSWERED;   /* the ACK of an INVITE transaction already gone: nothing to do */
    case sip_method_bye:
        nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        drop_irq(leg->nta);
        sip_leg_ended(leg, 200, "normal");
        sip_nta_dialog_over(leg);
        return ANSWERED;
    case sip_method_options:
        return answer_options(d, irq);
    case sip_method_update:
        /* An UPDATE with an SDP offer (RFC 3311: hold, unhold) is answered
         * as a re-INVITE is (sip_in_reinvite does both under NUA); no ACK
         * follows its 200. */
        if (sip->sip_payload && sip->sip_payload->pl_len)
            return reinvite_in(leg, irq, sip);
        if (leg->nta->se) {   /* a session refresh (RFC 4028 7.4) */
            char se[48];
            snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
            nta_incoming_treply(irq, 200, sip_status_phrase(200), SIPTAG_SESSION_EXPIRES_STR(se),
                                SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer), TAG_END());
            sip_nta_st_start(leg);
        } else {
            nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        }
        return ANSWERED;
    case sip_method_invite:
        return reinvite_in(leg, irq, sip);
    case sip_method_refer:
    case sip_method_notify:
        return sip_nta_refer_in(leg, irq, sip);   /* transfer (sip_nta_refer.c) */
    case sip_method_info:
        /* DTMF by INFO (application/dtmf-relay, application/dtmf), as under
         * NUA: answered 200 whatever it carries; a short body is not read. */
        nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        sip_in_info(leg, sip);
        return ANSWERED;
    case sip_method_message:
        /* a MESSAGE inside a call: not taken (as under NUA); a 405 says
         * what is allowed (RFC 3261 21.4.6) */
        nta_incoming_treply(irq, 405, sip_status_phrase(405), SIPTAG_ALLOW_STR(NTA_ALLOW), TAG_END());
        return ANSWERED;
    case sip_method_subscribe:
        return 489;   /* subscriptions live in dialogs of their own (as under NUA) */
    default:
        refuse_log(d, 1u << 3, "this in-dialog request (UPDATE, REFER, NOTIFY...)");
        return 501;
    }
}

static int request_cb(sip_driver *d, nta_leg_t *nleg, nta_incoming_t *irq, const sip_t *sip)
{
    (void)nleg;
    if (!sip || !sip->sip_request || !sip->sip_call_id || !sip->sip_from || !sip->sip_to)
        return 400;
    sip_method_t m = sip->sip_request->rq_method;
    unsigned long promised = sip->sip_content_length ? sip->sip_content_length->l_length : 0;
    size_t got = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    if (promised > got && m != sip_method_ack)
        return 400;
    sip_enter(d);
    d->nta->current = nta_incoming_getrequest(irq);
    int rc = sip_nta_uas_check(irq, sip);   /* 416, 420 (sip_nta_uas.c) */
    if (rc) {
        /* refused */
    } else if (m == sip_method_subscribe && !sip_nta_table_find(d->nta, sip->sip_call_id->i_id)) {
        /* message-summary (sip_nta_mwi.c); one in a call's dialog: in_dialog */
        rc = !sip->sip_to->a_tag && flood_over(d) ? 503 : sip_nta_subscribe(d, irq, sip);
    } else if (sip->sip_to->a_tag) {
        rc = in_dialog(d, irq, sip);
    } else if (m == sip_method_invite) {
        /* One of a call we have, come again by another path (a merged
         * request, a loop): 482 (RFC 3261 8.2.2.2). Another caller's
         * INVITE with the same Call-ID (another From tag) is its own call:
         * requests find their leg by the whole dialog (sip_nta_table_find_dialog). */
        rc = flood_over(d) ? 503 : sip_nta_table_merged(d->nta, sip) ? 482 : new_call(d, irq, sip);
    } else if (m == sip_method_options) {
        rc = flood_over(d) ? 503 : answer_options(d, irq);
    } else if (m == sip_method_register) {
        rc = flood_over(d) ? 503 : sip_nta_register(d, irq, sip);
    } else if (m == sip_method_message) {
        rc = flood_over(d) ? 503 : sip_nta_message(d, irq, sip);   /* sip_nta_msg.c */
    } else if (m == sip_method_ack) {
        rc = ANSWERED;   /* stray: dropped (an ACK is never answered) */
    } else if (m == sip_method_cancel || m == sip_method_bye) {
        rc = 481;
    } else {
        refuse_log(d, 1u << 4, "this request outside a call (REFER, NOTIFY...)");
        rc = 501;
    }
    msg_destroy(d->nta->current);
    d->nta->current = NULL;
    sip_leave(d);
    return rc;
}

/* ---- the driver's operations on a leg ---- */

int sip_nta_answer(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (leg->state == LEG_UP)
        return 0;
    if (leg->state == LEG_ENDED || !nl || !NTA_BUSY(nl, irq))
        return -1;
    char own[768];
    const char *sdp = own;
    if (leg->bypass) {
        sdp = sip_bypass_peer_sdp(leg);
        if (!sdp) {
            sip_log(leg->d, SIP_LOG_WARN, "call %s: media: bypass answers with the callee's SDP: nothing to answer "
                    "with before a dialled leg answers", leg->call_id ? leg->call_id : "-");
            return -1;
        }
    } else {
        if (sip_leg_media(leg) < 0)
            return -1;
        sip_leg_sdp(leg, own, sizeof own, !leg->have_remote);
    }
    char se[48] = "";
    if (nl->se)
        snprintf(se, sizeof se, "%u;refresher=%s", nl->se, nl->we_refresh ? "uas" : "uac");
    nta_incoming_treply(NTA_BUSY(nl, irq), 200, sip_status_phrase(200), NTA_CONTACT(leg, true),
                        SIPTAG_ALLOW(NTA_HDR(leg->d)->allow), TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)),
                        TAG_IF(*se && nl->remote_timer, SIPTAG_REQUIRE(NTA_HDR(leg->d)->require_timer)),
                        TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer)), SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type),
                        SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    leg->state = LEG_UP;
    leg->answered = true;
    sip_nta_st_start(leg);
    return 0;
}

int sip_nta_ringing(sip_leg *leg, bool early_media)
{
    struct sip_nta_leg *nl = leg->nta;
    if (leg->state == LEG_UP || leg->state == LEG_ENDED || !nl || !NTA_BUSY(nl, irq))
        return -1;
    const char *sdp = NULL;
    char own[768];
    if (early_media && leg->bypass) {
        sdp = sip_bypass_peer_sdp(leg);
    } else if (early_media && leg->have_remote && sip_leg_media(leg) == 0) {
        sip_leg_sdp(leg, own, sizeof own, false);
        sdp = own;
    }
    if (sdp) {
        if (leg->early_sent)
            return 0;
        nta_incoming_treply(NTA_BUSY(nl, irq), 183, sip_status_phrase(183), NTA_CONTACT(leg, true),
                            SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
        leg->early_sent = true;
    } else if (!leg->ringing_sent) {
        nta_incoming_treply(NTA_BUSY(nl, irq), 180, sip_status_phrase(180), NTA_CONTACT(leg, true), TAG_END());
        leg->ringing_sent = true;
    }
    leg->state = LEG_EARLY;
    return 0;
}

int sip_nta_hangup(sip_leg *leg, int code)
{
    if (leg->state == LEG_ENDED)
        return 0;
    struct sip_nta_leg *nl = sip_nta_leg_state(leg);
    bool up = leg->state == LEG_UP;
    leg->we_ended = true;
    leg->state = LEG_ENDED;
    struct sip_leg_dial *dl = sip_dial_of(leg);
    if (dl && dl->fail_timer) {
        loop_timer_stop(leg->d->l, dl->fail_timer);
        dl->fail_timer = NULL;
        leg->sip_done = true;
    }
    if (up) {
        sip_nta_send_bye(leg);
    } else if (!leg->outgoing) {
        if (code < 300 || code > 699)
            code = 480;
        if (NTA_BUSY(nl, irq))
            nta_incoming_treply(NTA_BUSY(nl, irq), code, sip_status_phrase(code), TAG_END());
        drop_irq(nl);
        sip_leg_sip_done(leg);
    } else if (sip_dial_forked(dl) && !dl->win && !nl->cancelled) {
        nl->cancelled = true;
        sip_nta_forks_cancel(leg, code);   /* done when each fork has its final response */
    } else if (NTA_BUSY(nl, orq) && !nl->cancelled) {
        /* Its final response (487, or a 2xx that crossed: ACK and BYE) ends it. */
        nl->cancelled = true;
        nta_outgoing_tcancel(NTA_BUSY(nl, orq), NULL, NULL,
                             TAG_IF(code == TEL_ANSWERED_ELSEWHERE,
                                    SIPTAG_REASON_STR("SIP;cause=200;text=\"Call completed elsewhere\"")),
                             TAG_END());
        /* No final response 64*T1 after the CANCEL: given up (RFC 3261
         * 9.1, as NUA does), not at NTA's timer C (3 min). */
        sip_nta_give_up_later(leg);
    } else if (!NTA_BUSY(nl, orq)) {
        leg->sip_done = true;
    }
    sip_leg_detach(leg);
    sip_leg_log_end(leg, up ? 200 : leg->outgoing ? 487 : code, up ? "normal" : leg->outgoing ? "cancelled" : "rejected",
                    "us");
    sip_media_leg_gone(leg);
    sip_leg_maybe_free(leg);
    return 0;
}

void sip_nta_leg_free(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl)
        return;
    if (leg->d->nta)   /* NULL once the agent stopped (destroy) */
        sip_nta_table_remove(leg->d->nta, leg);
    if (NTA_BUSY(nl, linger))
        loop_timer_stop(leg->d->l, nl->busy->linger);
    drop_irq(nl);
    sip_nta_bypass_unpend(leg);
    struct sip_nta_busy *b = nl->busy;
    if (b) {
        if (b->orq)
            nta_outgoing_destroy(b->orq);
        if (b->bye)
            nta_outgoing_destroy(b->bye);
        if (b->reinvite)
            nta_outgoing_destroy(b->reinvite);
        if (b->give_up)
            loop_timer_stop(leg->d->l, b->give_up);
        if (b->refresh)
            nta_outgoing_destroy(b->refresh);
        free(b);
        nl->busy = NULL;
    }
    if (nl->st)
        loop_timer_stop(leg->d->l, nl->st);
    sip_nta_forks_free(leg);
    sip_dialog_free(&nl->dlg);
    free(nl->own_key);
    free(nl);
    leg->nta = NULL;
}

/* ---- the agent ---- */

/* A response that finds no transaction of ours: a 2xx to one of our
 * (re-)INVITEs that comes again after its transaction is gone, because
 * our ACK was lost (RFC 3261 13.2.2.4): ACKed again while the dialog
 * lives. NTA drops the rest, and so do we. */
static int stray_response_cb(sip_driver *d, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
    (void)agent;
    int status = sip && sip->sip_status ? sip->sip_status->st_status : 0;
    if (status >= 200 && status < 300 && sip->sip_cseq && sip->sip_cseq->cs_method == sip_method_invite &&
        sip->sip_call_id && sip->sip_to && sip->sip_to->a_tag) {
        sip_enter(d);
        sip_leg *leg = sip_nta_table_find(d->nta, sip->sip_call_id->i_id);
        const sip_dialog *dl = leg ? &leg->nta->dlg : NULL;
        if (dl && leg->nta->have_dlg && !leg->sip_done && dl->remote_tag &&
            strcasecmp(sip->sip_to->a_tag, dl->remote_tag) == 0 && sip->sip_cseq->cs_seq <= dl->local_cseq) {
            sip_log(d, SIP_LOG_DEBUG, "%s %s: 2xx to INVITE %u again: ACK", leg->outgoing ? "leg" : "call",
                    leg->call_id ? leg->call_id : "-", (unsigned)sip->sip_cseq->cs_seq);
            sip_nta_send_late_ack(leg, sip->sip_cseq->cs_seq);
        } else if (leg) {
            sip_nta_fork_stray_2xx(leg, sip);   /* a fork that lost: its 2xx again */
        }
        sip_leave(d);
    }
    msg_destroy(msg);
    return 0;
}

msg_t *sip_nta_current_request(sip_driver *d) { return d->nta ? d->nta->current : NULL; }
nta_agent_t *sip_nta_agent(sip_driver *d) { return d->nta ? d->nta->agent : NULL; }

void sip_nta_session_expires(const sip_leg *leg, char *buf, size_t n)
{
    buf[0] = '\0';
    if (leg->nta && leg->nta->se)
        snprintf(buf, n, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
}

/* Each message's home starts with one block this large (a received
 * message's with the bytes read besides: UDP's datagram, what TCP had
 * ready; none past ~63 KB, sofia's limit) and its headers are carved from
 * it. Without it sofia mallocs every header, URL and parameter of every
 * message apart (~180 of a call's ~330 allocations) and frees them one by
 * one when the transaction ends, up to 32 s later (Timer D), when those
 * blocks have left the caches: −7 to −17% CPU a call with sipp's small
 * messages (docs/decisions/sip-core.md, "A message's headers in one
 * block"); 1,024 read 6% dearer, 4,096 the same. A message whose headers
 * outgrow it mallocs the rest, as before. Never su_home_move() out of a
 * message's home: the moved blocks would still point into its preload. */
enum { SIP_MSG_PRELOAD = 2048 };

int sip_nta_start(sip_driver *d, const char *url, unsigned t1x64_ms, char *err, size_t errlen)
{
    struct sip_nta *t = cr_xcalloc(1, sizeof *t);
    d->nta = t;
    t->t1x64_ms = t1x64_ms;
    /* UA: our 2xx is retransmitted until its ACK; no automatic 487 (we
     * answer the INVITE a CANCEL ends); transactions linger T1x64, as
     * under NUA. */
    t->agent = nta_agent_create(d->root, URL_STRING_MAKE(url), stray_response_cb, d, NTATAG_UA(1), NTATAG_CANCEL_487(0),
                                NTATAG_SIP_T1X64(t1x64_ms), NTATAG_SERVER_RPORT(1), NTATAG_TAG_3261(1),
                                NTATAG_PASS_100(1), TPTAG_PONG2PING(1), NTATAG_PRELOAD(SIP_MSG_PRELOAD), TAG_END());
    if (!t->agent) {
        snprintf(err, errlen, "cannot listen for SIP on %s (address in use, or not an address of this host?)", url);
        return -1;
    }
    t->dflt = nta_leg_tcreate(t->agent, request_cb, d, NTATAG_NO_DIALOG(1), TAG_END());
    snprintf(t->contact, sizeof t->contact, "<sip:%s:%d>", d->sip_host, d->sip_port);
    if (!t->dflt || !sip_nta_hdrs_make(t)) {
        snprintf(err, errlen, "cannot set up the SIP agent");
        return -1;
    }
    return 0;
}

void sip_nta_stop(sip_driver *d)
{
    struct sip_nta *t = d->nta;
    if (!t)
        return;
    sip_nta_gwreg_free_all(d);   /* their transactions go before the agent */
    if (t->dflt)
        nta_leg_destroy(t->dflt);
    if (t->agent)
        nta_agent_destroy(t->agent);
    sip_guard_drop_held();   /* its descriptor may be a TCP socket's next */
    sip_nta_hdrs_free(t);
    free(t->buckets);
    free(t);
    d->nta = NULL;
}

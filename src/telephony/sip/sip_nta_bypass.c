/* sip_nta_bypass.c — `media: bypass`'s re-INVITEs (sip_bypass.c): a
 * re-INVITE or an UPDATE with an SDP offer from either remote goes to the
 * other leg unchanged (as a re-INVITE: every peer takes one, and an UPDATE
 * offer in a confirmed dialog asks the same, RFC 3311 5.1), and the
 * peer's answer comes back unchanged in our 2xx (its refusal as our final
 * response). The incoming
 * transaction waits in the leg's reinvite_irq meanwhile; one offer passes
 * at a time (491 for another, RFC 3261 14.2). Hold and unhold are raised
 * from the offer. A peer's 401/407 to the relayed offer is answered with
 * its gateway's credentials (sip_nta_out.c); one we cannot answer is not
 * relayed but refused 403 (see sip_nta_bypass_answered).
 *
 * A re-INVITE without an offer (RFC 3261 14.2: the UAS offers in its
 * 2xx) is relayed the same way, since no SDP is kept once the call is
 * answered (sip_bypass_drop_sdp): the peer gets an offerless re-INVITE,
 * its offer (2xx) goes to the sender in our 2xx, and our ACK to the peer
 * waits for the sender's ACK, whose answer it carries (RFC 3264 5; the
 * peer's 2xx is retransmitted meanwhile and NTA drops the copies). The
 * wait is NTA's for our 2xx: 64*T1 (timer H). An ACK without an answer,
 * or none by then, cannot be repaired: the peer is ACKed without a body
 * and the call ends with BYE both ways, as RFC 3261 13.2.2.4 (an offer in
 * a 2xx that cannot be answered: ACK, then BYE) and 13.3.1.4 (a 2xx never
 * ACKed: BYE) say. An ACK's body that is not an SDP (no application/sdp,
 * or no SDP syntax) is no answer either: the peer cannot refuse an ACK,
 * so what it carries is not passed on unjudged as offers are. */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* Our final response to IRQ: STATUS, with SDP (NULL: no body); a 2xx of
 * a session with a timer says its Session-Expires (RFC 4028 9), as
 * reinvite_in's does. */
static void reply(sip_leg *leg, nta_incoming_t *irq, int status, const char *sdp)
{
    char se[48] = "";
    if (status < 300)
        sip_nta_session_expires(leg, se, sizeof se);
    nta_incoming_treply(irq, status, sip_status_phrase(status), NTA_CONTACT(leg, sdp),
                        TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer)),
                        TAG_IF(sdp, SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type)), TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                        TAG_END());
}

/* LEG's remote's hold changed (sip_bypass_note_sdp): said to the engine. */
static void raise_hold(sip_leg *leg)
{
    sip_log(leg->d, SIP_LOG_DEBUG, "%s %s: %s by the %s (bypass)", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold", leg->outgoing ? "callee" : "caller");
    sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
}

/* An offerless re-INVITE from LEG's remote: the peer P is asked for an
 * offer by one of its own. 0: relayed (NTA keeps IRQ), or a status. */
static int relay_offerless(sip_leg *leg, nta_incoming_t *irq)
{
    sip_leg *p = leg->peer;
    if (sip_nta_reinvite(p, NULL) < 0)
        return 491;   /* the peer's re-INVITE of ours is still pending */
    p->reinvite_busy = true;
    leg->reinvite_irq = irq;
    leg->reinvite_offerless = true;
    return 0;
}

int sip_nta_bypass_offer(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_leg *p = leg->peer;
    bool offer = sip->sip_payload && sip->sip_payload->pl_len;
    if (leg->state != LEG_UP)
        return sip_nta_retry_later(irq);   /* before our final response to its INVITE */
    /* One offer through at a time: the peer's own, or one relayed either
     * way, still pending (or, offerless, its ACK still awaited) is glare
     * (491). */
    if (!p || p->state != LEG_UP || !p->bypass)
        return 488;
    if (p->reinvite_busy || leg->reinvite_busy || leg->reinvite_irq || p->reinvite_irq)
        return 491;
    if (!offer)
        return relay_offerless(leg, irq);   /* a re-INVITE asking for an offer */
    char *body = sip_bypass_body(sip);
    if (!body)
        return 488;   /* larger than an SDP we pass on */
    bool changed = sip_bypass_note_sdp(leg, body);
    int sent = sip_nta_reinvite(p, body);
    free(body);
    if (sent < 0)
        return 491;   /* the peer's re-INVITE of ours is still pending */
    p->reinvite_busy = true;
    leg->reinvite_irq = irq;
    leg->reinvite_offerless = false;
    if (changed)
        raise_hold(leg);
    return 0;   /* NTA keeps IRQ: answered when the peer answers */
}

/* P's re-INVITE, kept answered until now: ACKed with SDP (the answer from
 * the sender's ACK; NULL: none) and let go. */
static void ack_peer(sip_leg *p, const char *sdp)
{
    struct sip_nta_leg *nl = p->nta;
    nta_outgoing_t *orq = nl ? NTA_BUSY(nl, reinvite) : NULL;
    if (!orq)
        return;
    nta_outgoing_t *ack = sip_nta_dialog_request(p, sip_method_ack, "ACK", nta_outgoing_cseq(orq), NULL, sdp);
    if (ack)
        nta_outgoing_destroy(ack);
    nta_outgoing_destroy(orq);
    NTA_BUSY_PUT(nl, reinvite, NULL);
    p->reinvite_busy = false;
    sip_nta_dialog_over(p);   /* it ended meanwhile: now it is done */
}

/* LEG's session cannot go on (an offer of a relayed offerless re-INVITE
 * left unanswered, WHY): the call ends with BYE, as RFC 3261 13.2.2.4 and
 * 13.3.1.4 say, STATUS and REASON the ending's. */
static void end_unanswered(sip_leg *leg, const char *why, int status, const char *reason)
{
    if (leg->state != LEG_UP)
        return;
    sip_log(leg->d, SIP_LOG_INFO, "%s %s: %s (bypass re-INVITE): BYE", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", why);
    sip_leg_ended_by_system(leg, status, reason);
    sip_nta_send_bye(leg);
}

/* The answer SIP (the sender's ACK) carries: its body when that is an SDP
 * (application/sdp, well formed), else NULL. */
static char *ack_answer(const sip_t *sip)
{
    char *body = sip_bypass_body(sip);
    if (body && (!sip->sip_content_type || !sip->sip_content_type->c_type ||
                 strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0 ||
                 !sip_sdp_well_formed(body, strlen(body)))) {
        free(body);
        body = NULL;
    }
    return body;
}

/* The sender's ACK of our 2xx to its offerless re-INVITE (SIP NULL: none
 * came, 64*T1): its answer goes to the peer in our ACK. */
static int offerless_ack_cb(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    if (sip && (!sip->sip_request || sip->sip_request->rq_method != sip_method_ack))
        return 0;   /* a CANCEL that crossed our 2xx changes nothing (RFC 3261 9.2) */
    if (leg->reinvite_irq != irq)
        return 0;   /* let go already (sip_nta_bypass_unpend) */
    sip_enter(d);
    char *answer = ack_answer(sip);
    leg->reinvite_irq = NULL;
    leg->reinvite_offerless = false;
    nta_incoming_destroy(irq);
    if (leg->peer) {
        ack_peer(leg->peer, answer);
        sip_bypass_delivered(leg->peer, answer);
    }
    if (answer) {
        sip_bypass_note_sdp(leg, answer);   /* an answer: its hold noted, not raised */
    } else {
        end_unanswered(leg, sip ? "an ACK without an answer for our offer" : "no ACK for our offer", sip ? 488 : 408,
                       sip ? "no_answer" : "no_ack");
    }
    free(answer);
    sip_leave(d);
    return 0;
}

bool sip_nta_bypass_relay_offer(sip_leg *leg, int status, const sip_t *sip)
{
    sip_leg *x = leg->peer;
    if (status < 200 || status >= 300 || !sip || !x || !x->reinvite_irq || !x->reinvite_offerless)
        return false;
    char *offer = sip_bypass_body(sip);
    if (!offer)
        return false;   /* a 2xx without an offer: refused below (sip_nta_bypass_answered) */
    if (sip_bypass_note_sdp(leg, offer))
        raise_hold(leg);
    nta_incoming_t *irq = x->reinvite_irq;
    reply(x, irq, 200, offer);
    sip_bypass_delivered(x, offer);   /* answered in its ACK, or the call ends */
    free(offer);
    nta_incoming_bind(irq, offerless_ack_cb, x);
    return true;
}

void sip_nta_bypass_answered(sip_leg *leg, int status, const sip_t *sip)
{
    leg->reinvite_busy = false;
    bool ok = status >= 200 && status < 300;
    char *answer = ok ? sip_bypass_body(sip) : NULL;
    bool changed = answer && sip_bypass_note_sdp(leg, answer);
    sip_leg *x = leg->peer;
    nta_incoming_t *irq = x ? x->reinvite_irq : NULL;
    if (!irq && changed) {
        /* No offer relayed: the answer to our session refresh (its offer
         * the peer's SDP unchanged, sip_nta_timer.c). It is not passed on
         * (the peer's remote would answer it with an offer of its own
         * that this answer's sender never gets), but a hold in it is
         * raised as any remote's. A relayed offer's answer only notes it:
         * the offer raised it. */
        raise_hold(leg);
    }
    if (irq) {
        x->reinvite_irq = NULL;
        /* The peer's answer is the answer; a 2xx without SDP (none to
         * relay, or to an offerless re-INVITE no offer) or a status NTA
         * made (timeout) refuses the offer. */
        if (answer && !x->reinvite_offerless) {
            reply(x, irq, 200, answer);
            sip_bypass_delivered(x, answer);
        } else if (status == 401 || status == 407) {
            /* A challenge we could not answer (no credentials for this peer,
             * or refused again) is not relayed: it is for the other dialog
             * (its realm, nonce and Request-URI; the offerer's credentials
             * would not pass, and we do not carry them into the relayed
             * offer), and a 401/407 without its WWW-/Proxy-Authenticate
             * breaks RFC 3261 21.4.2/21.4.8. 403: refused, and credentials
             * will not help; the session stays as it was (RFC 3261 14.1). */
            reply(x, irq, 403, NULL);
        } else {
            reply(x, irq, !ok && status >= 300 && status < 700 ? status : 500, NULL);
        }
        /* The peer's 2xx offered a body we would not pass on (over
         * BYPASS_SDP_MAX): our ACK carried no answer to it, so the session
         * with the peer cannot go on (RFC 3261 13.2.2.4: ACK, then BYE). */
        bool unanswered = ok && x->reinvite_offerless && sip && sip->sip_payload && sip->sip_payload->pl_len;
        x->reinvite_offerless = false;
        nta_incoming_destroy(irq);   /* NTA keeps it until its ACK */
        if (unanswered)
            end_unanswered(leg, "an offer we cannot pass on", 488, "no_answer");
    }
    free(answer);
}

void sip_nta_bypass_offer_taken(sip_leg *leg, nta_outgoing_t *orq)
{
    if (!sip_nta_st_by_reinvite(leg))
        return;   /* nothing kept for it: the usual case, not copied */
    msg_t *req = nta_outgoing_getrequest(orq);
    char *offer = req ? sip_bypass_body(sip_object(req)) : NULL;
    sip_bypass_delivered(leg, offer);
    free(offer);
    msg_destroy(req);
}

void sip_nta_bypass_unpend(sip_leg *leg)
{
    nta_incoming_t *irq = leg->reinvite_irq;
    if (!irq)
        return;
    leg->reinvite_irq = NULL;
    bool acked_later = leg->reinvite_offerless && nta_incoming_status(irq) >= 200;
    leg->reinvite_offerless = false;
    /* Its peer went away before answering the offer we passed on: refused,
     * so the remote's next offer is not met with 491 forever. */
    if (nta_incoming_status(irq) < 200)
        reply(leg, irq, 500, NULL);
    nta_incoming_destroy(irq);
    /* The peer's offer went to LEG's remote, whose ACK will not be
     * relayed now: the peer's 2xx is ACKed (without an answer: the call
     * is ending) so that it stops retransmitting it. */
    if (acked_later && leg->peer)
        ack_peer(leg->peer, NULL);
}

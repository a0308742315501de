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
 * relayed but refused 403 (see sip_nta_bypass_answered). */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

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
    nta_incoming_treply(irq, status, sip_status_phrase(status), TAG_IF(sdp, SIPTAG_CONTACT_STR(sip_nta_leg_contact(leg))),
                        TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(leg->d)->timer)),
                        TAG_IF(sdp, SIPTAG_CONTENT_TYPE(NTA_HDR(leg->d)->sdp_type)), TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                        TAG_END());
}

int sip_nta_bypass_offer(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    sip_leg *p = leg->peer;
    bool offer = sip->sip_payload && sip->sip_payload->pl_len;
    if (leg->state != LEG_UP)
        return sip_nta_retry_later(irq);   /* before our final response to its INVITE */
    if (!offer) {
        /* A re-INVITE asking for an offer (an UPDATE without one is a
         * refresh, answered by sip_nta.c): the peer's last SDP is one. */
        const char *sdp = sip_bypass_peer_sdp(leg);
        reply(leg, irq, sdp ? 200 : 488, sdp);
        return SIP_NTA_ANSWERED;
    }
    /* One offer through at a time: the peer's own, or one relayed either
     * way, still pending is glare (491). */
    if (!p || p->state != LEG_UP || !p->bypass)
        return 488;
    if (p->reinvite_busy || leg->reinvite_busy || leg->reinvite_irq || p->reinvite_irq)
        return 491;
    bool was_held = leg->held;
    sip_bypass_keep_sdp(leg, sip);
    if (!leg->sdp_body || sip_nta_reinvite(p, leg->sdp_body) < 0)
        return 491;   /* the peer's re-INVITE of ours is still pending */
    p->reinvite_busy = true;
    leg->reinvite_irq = irq;
    if (leg->held != was_held) {
        sip_log(d, SIP_LOG_DEBUG, "%s %s: %s by the %s (bypass)", leg->outgoing ? "leg" : "call",
                leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold", leg->outgoing ? "callee" : "caller");
        sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
    }
    return 0;   /* NTA keeps IRQ: answered when the peer answers */
}

void sip_nta_bypass_answered(sip_leg *leg, int status, const sip_t *sip)
{
    leg->reinvite_busy = false;
    bool ok = status >= 200 && status < 300;
    if (ok && sip)
        sip_bypass_keep_sdp(leg, sip);
    sip_leg *x = leg->peer;
    nta_incoming_t *irq = x ? x->reinvite_irq : NULL;
    if (!irq)
        return;
    x->reinvite_irq = NULL;
    /* The peer's answer is the answer; a 2xx without SDP (none to relay)
     * or a status NTA made (timeout) refuses the offer. */
    if (ok && sip && sip->sip_payload && sip->sip_payload->pl_len && leg->sdp_body)
        reply(x, irq, 200, leg->sdp_body);
    else if (status == 401 || status == 407)
        /* A challenge we could not answer (no credentials for this peer,
         * or refused again) is not relayed: it is for the other dialog
         * (its realm, nonce and Request-URI; the offerer's credentials
         * would not pass, and we do not carry them into the relayed
         * offer), and a 401/407 without its WWW-/Proxy-Authenticate
         * breaks RFC 3261 21.4.2/21.4.8. 403: refused, and credentials
         * will not help; the session stays as it was (RFC 3261 14.1). */
        reply(x, irq, 403, NULL);
    else
        reply(x, irq, !ok && status >= 300 && status < 700 ? status : 500, NULL);
    nta_incoming_destroy(irq);   /* NTA keeps it until its ACK */
}

void sip_nta_bypass_unpend(sip_leg *leg)
{
    nta_incoming_t *irq = leg->reinvite_irq;
    if (!irq)
        return;
    leg->reinvite_irq = NULL;
    /* Its peer went away before answering the offer we passed on: refused,
     * so the remote's next offer is not met with 491 forever. */
    if (nta_incoming_status(irq) < 200)
        reply(leg, irq, 500, NULL);
    nta_incoming_destroy(irq);
}

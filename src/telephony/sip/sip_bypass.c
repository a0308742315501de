/* sip_bypass.c — `media: bypass` (docs/scenario.md, issue 17 goal 6): the
 * caller's SDP offer goes unchanged to the legs dialled for it, the answer
 * comes back unchanged, re-INVITEs pass through, and no RTP goes through
 * callroute — the phones send their media to each other. A leg in bypass
 * has no RTP session (sip_leg_media refuses to open one), so prompts,
 * DTMF and recording cannot work on it; `callroute check` refuses the
 * applications that need them in such a route.
 *
 * The SDP is passed as it came, never parsed into ours: it is the peer's
 * to judge. It is parsed only to notice hold (events for the engine). */
#include <stdlib.h>
#include <string.h>
#include <sofia-sip/sip_status.h>

#include "telephony/sip/sip_int.h"
#include "util/alloc.h"

/* A body this large is not an SDP we pass on (a flood of media lines). */
#define BYPASS_SDP_MAX 8192

int sip_bypass_start(sip_leg *leg)
{
    sip_driver *d = leg->d;
    const sip_t *sip = d->invite;
    if (leg->outgoing || leg->state != LEG_NEW || !sip || !sip->sip_payload || !sip->sip_payload->pl_len ||
        sip->sip_payload->pl_len > BYPASS_SDP_MAX) {
        /* No offer to pass on (a late offer asks us for one): anchored. */
        sip_log(d, SIP_LOG_WARN, "call %s: media: bypass needs an SDP offer in the INVITE; media anchored",
                leg->call_id ? leg->call_id : "-");
        return -1;
    }
    sip_bypass_keep_sdp(leg, sip);
    leg->bypass = true;
    /* The RTP session opened for the INVITE goes back to the pool unused:
     * the call holds no port. */
    rtp_close(leg->rtp);
    leg->rtp = NULL;
    if (leg->rtp_reserved) {   /* nor the port admission kept for its dial */
        leg->rtp_reserved = false;
        d->rtp_reserved--;
    }
    sip_log(d, SIP_LOG_DEBUG, "call %s: media bypassed", leg->call_id ? leg->call_id : "-");
    return 0;
}

void sip_bypass_keep_sdp(sip_leg *leg, const sip_t *sip)
{
    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len || sip->sip_payload->pl_len > BYPASS_SDP_MAX)
        return;
    free(leg->sdp_body);
    leg->sdp_body = cr_xstrndup(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    /* Hold as the engine sees it (events), from what the remote sends. */
    sip_media_desc m;
    char err[64];
    if (sip_sdp_parse(leg->sdp_body, strlen(leg->sdp_body), &m, err, sizeof err) == 0) {
        sip_remote_media_keep(&leg->remote, &m);
        leg->have_remote = true;
        leg->held = sip_sdp_is_hold(&m);
    }
}

const char *sip_bypass_peer_sdp(sip_leg *leg)
{
    if (leg->peer && leg->peer->sdp_body)
        return leg->peer->sdp_body;
    /* Answered by a dialled leg not yet bridged (bridge answers us first). */
    for (sip_leg *o = leg->dialled; o; o = o->from_next)
        if (o->bypass && o->state == LEG_UP && o->sdp_body)
            return o->sdp_body;
    return NULL;
}

static void respond_later(nua_handle_t *nh, int code, const char *sdp)
{
    if (sdp)
        nua_respond(nh, code, sip_status_phrase(code), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    else
        nua_respond(nh, code, sip_status_phrase(code), TAG_END());
}

void sip_bypass_unpend(sip_leg *leg)
{
    sip_nta_bypass_unpend(leg);   /* core: nta's pending re-INVITE, if any */
    nua_handle_t *nh = leg->reinvite_nh;
    if (!nh)
        return;
    leg->reinvite_nh = NULL;
    /* Its peer went away before answering the offer we passed on: the
     * re-INVITE is refused, so the next one is not met with 491 forever. */
    if (leg->state != LEG_ENDED && !leg->sip_done)
        respond_later(nh, 500, NULL);
}

void sip_bypass_reinvite(sip_leg *leg, nua_handle_t *nh, const sip_t *sip)
{
    sip_driver *d = leg->d;
    sip_leg *p = leg->peer;
    bool offer = sip && sip->sip_payload && sip->sip_payload->pl_len;
    bool update = sip && sip->sip_request && sip->sip_request->rq_method == sip_method_update;
    if (update) {
        /* A session refresh without an offer is answered here; an UPDATE
         * offer (rare) is not passed through. */
        nua_respond(nh, offer ? 488 : 200, sip_status_phrase(offer ? 488 : 200), NUTAG_WITH_THIS(d->nua),
                    TAG_END());
        return;
    }
    if (!offer) {
        /* It asks for an offer: the peer's last SDP is one. */
        const char *sdp = sip_bypass_peer_sdp(leg);
        nua_respond(nh, sdp ? 200 : 488, sip_status_phrase(sdp ? 200 : 488), NUTAG_WITH_THIS(d->nua),
                    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")), TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                    TAG_END());
        return;
    }
    /* One offer through at a time (RFC 3261 14.2: 491 for one pending). */
    if (!p || p->state != LEG_UP || !p->nh || p->reinvite_busy || leg->reinvite_nh || !p->bypass) {
        nua_respond(nh, p && p->state == LEG_UP ? 491 : 488,
                    sip_status_phrase(p && p->state == LEG_UP ? 491 : 488), NUTAG_WITH_THIS(d->nua), TAG_END());
        return;
    }
    bool was_held = leg->held;
    sip_bypass_keep_sdp(leg, sip);
    leg->reinvite_nh = nh;
    p->reinvite_busy = true;
    nua_invite(p->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(leg->sdp_body), TAG_END());
    if (leg->held != was_held) {
        sip_log(d, SIP_LOG_DEBUG, "%s %s: %s by the %s (bypass)", leg->outgoing ? "leg" : "call",
                leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold",
                leg->outgoing ? "callee" : "caller");
        sip_enter(d);
        sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
        sip_leave(d);
    }
}

void sip_bypass_reinvite_answered(sip_leg *leg, int status, const sip_t *sip)
{
    leg->reinvite_busy = false;
    if (status >= 200 && status < 300)
        sip_bypass_keep_sdp(leg, sip);
    sip_leg *x = leg->peer;
    if (!x || !x->reinvite_nh)
        return;
    nua_handle_t *nh = x->reinvite_nh;
    x->reinvite_nh = NULL;
    if (status >= 200 && status < 300)
        respond_later(nh, 200, leg->sdp_body);
    else
        respond_later(nh, status >= 300 && status < 700 ? status : 500, NULL);
}

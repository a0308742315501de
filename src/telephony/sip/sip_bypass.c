/* sip_bypass.c — `media: bypass` (docs/scenario.md, issue 17 goal 6): the
 * caller's SDP offer goes unchanged to the legs dialled for it, the answer
 * comes back unchanged, re-INVITEs pass through, and no RTP goes through
 * callroute — the phones send their media to each other. A leg in bypass
 * has no RTP session (sip_leg_media refuses to open one), so prompts,
 * DTMF and recording cannot work on it; `callroute check` refuses the
 * applications that need them in such a route.
 *
 * The SDP is passed as it came, never parsed into ours: it is the peer's
 * to judge. It is parsed only to notice hold (events for the engine).
 * Re-INVITEs are passed through by sip_nta_bypass.c. */
#include <stdlib.h>
#include <string.h>

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
     * the call holds no port. No prompt, mix or tap has started (the
     * leg is new), so the anchor holds nothing else a user sees. */
    sip_anchor_free(leg);   /* and what anchoring it took (issue 17 goal 6) */
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
    for (sip_leg *o = leg->dialled; o; o = sip_dial_of(o)->from_next)
        if (o->bypass && o->state == LEG_UP && o->sdp_body)
            return o->sdp_body;
    return NULL;
}

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
 * A leg keeps its remote's body only for the set-up (the caller's offer
 * while dials go on, a callee's answer or early SDP until the caller is
 * answered); once the call is answered and bridged both are freed
 * (sip_bypass_drop_sdp), but for the one a leg's refresh re-INVITE offers
 * again (sip_bypass_delivered keeps it current). Re-INVITEs, with an
 * offer or without, are relayed by sip_nta_bypass.c. */
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

char *sip_bypass_body(const sip_t *sip)
{
    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len || sip->sip_payload->pl_len > BYPASS_SDP_MAX)
        return NULL;
    return cr_xstrndup(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

bool sip_bypass_note_sdp(sip_leg *leg, const char *sdp)
{
    /* Hold as the engine sees it (events), from what the remote sends;
     * nothing of the body itself is kept. */
    sip_media_desc m;
    char err[64];
    bool was_held = leg->held;
    if (sdp && sip_sdp_parse(sdp, strlen(sdp), &m, err, sizeof err) == 0) {
        sip_remote_media_keep(&leg->remote, &m);
        leg->have_remote = true;
        leg->held = sip_sdp_is_hold(&m);
    }
    return leg->held != was_held;
}

void sip_bypass_keep_sdp(sip_leg *leg, const sip_t *sip)
{
    char *body = sip_bypass_body(sip);
    if (!body)
        return;
    free(leg->sdp_body);
    leg->sdp_body = body;
    sip_bypass_note_sdp(leg, body);
}

void sip_bypass_drop_sdp(sip_leg *a, sip_leg *b)
{
    /* Answered and bridged: the set-up is over, and a re-INVITE's offer
     * or its answer is relayed as it passes (sip_nta_bypass.c), an
     * offerless one too. A held call keeps no SDP (issue 17 goal 6) —
     * but for a leg that refreshes its session by re-INVITE: that offers
     * its remote the SDP it last got through us, its peer's, again
     * (sip_nta_timer.c), so the peer keeps its body. */
    if (!sip_nta_st_by_reinvite(b)) {
        free(a->sdp_body);
        a->sdp_body = NULL;
    }
    if (!sip_nta_st_by_reinvite(a)) {
        free(b->sdp_body);
        b->sdp_body = NULL;
    }
}

void sip_bypass_delivered(sip_leg *to, const char *sdp)
{
    sip_leg *from = to->peer;
    if (!sdp || !from || !sip_nta_st_by_reinvite(to))
        return;
    if (from->sdp_body && strcmp(from->sdp_body, sdp) == 0)
        return;   /* our refresh's offer, taken again */
    free(from->sdp_body);
    from->sdp_body = cr_xstrdup(sdp);
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

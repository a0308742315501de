/* sip_leg.c — what incoming and outgoing legs share: life and death,
 * anchored media (our RTP session, our SDP, the remote's), bridging with
 * the RTP relay, passing hold on to the other leg, REFER out, DTMF in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

static void leg_dtmf_cb(void *owner, char digit);
static void release_reserved(sip_leg *leg);
static void leg_audio_cb(void *owner, const int16_t *pcm, size_t n);

const rtp_owner_ops sip_leg_rtp_ops = {.dtmf = leg_dtmf_cb, .audio = leg_audio_cb};

sip_leg *sip_leg_new(sip_driver *d, bool outgoing)
{
    /* An outgoing leg's dialled part follows it in the same block. */
    sip_leg *leg = cr_xcalloc(1, sizeof *leg + (outgoing ? sizeof(struct sip_leg_dial) : 0));
    leg->d = d;
    leg->outgoing = outgoing;
    leg->state = LEG_NEW;
    leg->local_mode = SDP_SENDRECV;
    leg->srtp = sip_leg_srtp_policy(d, CFG_SRTP_INHERIT);   /* a user/gateway may override it */
    leg->t_start = loop_now(d->l);
    leg->next = d->legs;
    if (d->legs)
        d->legs->prev = leg;
    d->legs = leg;
    d->leg_count++;
    if (!outgoing)
        d->incoming_count++;
    sip_rtp_watch(d);
    return leg;
}

struct sip_anchor *sip_anchor_of(sip_leg *leg)
{
    if (!leg->anchor) {
        struct sip_anchor *a = cr_xcalloc(1, sizeof *a);
        a->pt = -1;
        a->sdp_sess = (uint32_t)random();
        a->sdp_ver = 1;
        a->rx_at = loop_now(leg->d->l);   /* the RTP timeout counts from here */
        leg->anchor = a;
    }
    return leg->anchor;
}

void sip_anchor_free(sip_leg *leg)
{
    struct sip_anchor *a = leg->anchor;
    if (!a)
        return;
    rtp_close(a->rtp);
    if (a->retry_timer)
        loop_timer_stop(leg->d->l, a->retry_timer);
    free(a->keys);
    free(a->media_ops);
    free(a->mix);   /* sip_mix_leave has taken it out of its room */
    free(a);
    leg->anchor = NULL;
}

void sip_leg_maybe_free(sip_leg *leg)
{
    if (!leg->released || !leg->sip_done || leg->reaping)
        return;
    leg->reaping = true;
    leg->reap_next = leg->d->reap;
    leg->d->reap = leg;
    if (leg->d->depth == 0) {
        leg->d->depth++;
        sip_leave(leg->d);   /* schedules the reap */
    }
}

void sip_leg_set_from(sip_leg *leg, sip_leg *from)
{
    struct sip_leg_dial *dl = sip_dial_of(leg);
    dl->from = from;
    if (!from)
        return;
    dl->from_next = from->dialled;
    from->dialled = leg;
}

/* LEG leaves its caller's list of dialled legs. */
static void leg_unhook_from(sip_leg *leg)
{
    struct sip_leg_dial *dl = sip_dial_of(leg);
    if (!dl || !dl->from)
        return;
    /* The caller's own dials: a few (a ring group's at most), walked. */
    sip_leg **p = &dl->from->dialled;
    while (*p && *p != leg)
        p = &sip_dial_of(*p)->from_next;
    if (*p)
        *p = dl->from_next;
    dl->from = dl->from_next = NULL;
}

void sip_leg_sip_done(sip_leg *leg)
{
    leg->sip_done = true;
    sip_leg_maybe_free(leg);
}

void sip_leg_detach(sip_leg *leg)
{
    sip_leg *p = leg->peer;
    if (!p)
        return;
    if (sip_leg_rtp(p))
        rtp_set_relay(sip_leg_rtp(p), NULL);
    if (sip_leg_rtp(leg))
        rtp_set_relay(sip_leg_rtp(leg), NULL);
    sip_nta_bypass_unpend(p);
    sip_nta_bypass_unpend(leg);
    if (p->peer == leg) {
        p->peer = NULL;
        p->bridged = false;
    }
    leg->peer = NULL;
    leg->bridged = false;
}

static void leg_free(sip_leg *leg)
{
    sip_driver *d = leg->d;
    if (leg->prev)
        leg->prev->next = leg->next;
    else
        d->legs = leg->next;
    if (leg->next)
        leg->next->prev = leg->prev;
    d->leg_count--;
    if (!leg->outgoing)
        d->incoming_count--;
    sip_mix_leave(leg);
    sip_leg_detach(leg);
    /* Outgoing legs that named this one as their caller forget it. */
    leg_unhook_from(leg);
    while (leg->dialled)
        leg_unhook_from(leg->dialled);
    sip_media_leg_gone(leg);
    release_reserved(leg);
    struct sip_leg_dial *dl = sip_dial_of(leg);
    if (dl && dl->fail_timer)
        loop_timer_stop(d->l, dl->fail_timer);
    rtp_sess *rtp = sip_leg_rtp(leg);
    if (rtp && rtp_dropped(rtp))
        sip_log(d, SIP_LOG_INFO, "%s %s: %lu RTP packets dropped (not from the peer)",
                leg->outgoing ? "leg" : "call", leg->call_id ? leg->call_id : "-", rtp_dropped(rtp));
    if (rtp && rtp_srtp_failed(rtp))
        sip_log(d, SIP_LOG_INFO, "%s %s: %lu SRTP packets dropped (failed authentication or replayed)",
                leg->outgoing ? "leg" : "call", leg->call_id ? leg->call_id : "-", rtp_srtp_failed(rtp));
    sip_anchor_free(leg);
    sip_nta_leg_free(leg);
    while (dl && dl->forks) {
        sip_fork *f = dl->forks;
        dl->forks = f->next;
        if (f->cancel_timer)
            loop_timer_stop(d->l, f->cancel_timer);
        free(f->uri);
        free(f->hop);
        free(f->bye_tag);
        free(f);
    }
    free(leg->call_id);
    free(leg->caller);
    free(leg->caller_name);
    if (!leg->outgoing)
        free(leg->callee);   /* a dialled leg's is the end of its call_id (sip_out_dial) */
    free(leg->tls_contact);
    if (dl) {
        free(dl->gw_user);
        free(dl->gw_pass);
    }
    free(leg->sdp_body);
    free(leg);
}

void sip_leg_reap(sip_driver *d)
{
    while (d->reap) {
        sip_leg *leg = d->reap;
        d->reap = leg->reap_next;
        leg_free(leg);
    }
}

void sip_leg_log_end(sip_leg *leg, int code, const char *cause, const char *by)
{
    sip_driver *d = leg->d;
    double now = loop_now(d->l);
    sip_log(d, SIP_LOG_DEBUG, "%s %s ended by %s: %s %d after %.1fs%s",
            leg->outgoing ? "leg" : "call", leg->call_id ? leg->call_id : "-", by, cause, code,
            now - leg->t_start, leg->answered ? " (answered)" : "");
}

void sip_leg_ended(sip_leg *leg, int code, const char *cause)
{
    if (leg->state == LEG_ENDED)
        return;
    leg->state = LEG_ENDED;
    sip_leg_detach(leg);
    sip_leg_log_end(leg, code, cause, leg->outgoing ? "callee" : "caller");
    if (!leg->we_ended && !leg->hangup_raised) {
        leg->hangup_raised = true;
        sip_raise_kind(leg, TEL_EV_HANGUP, code, cause);
    }
    sip_media_leg_gone(leg);
}

void sip_leg_ended_by_system(sip_leg *leg, int code, const char *cause)
{
    if (leg->state == LEG_ENDED)
        return;
    leg->state = LEG_ENDED;
    leg->we_ended = true;
    sip_leg_detach(leg);
    sip_leg_log_end(leg, code, cause, "system");
    if (!leg->hangup_raised) {
        leg->hangup_raised = true;
        tel_event ev = {.kind = TEL_EV_HANGUP, .sip_code = code, .cause = cause, .by_system = true};
        sip_raise(leg, &ev);
    }
    sip_media_leg_gone(leg);
}

/* ---- media ---- */

/* The RTP session a call kept from admission on for the first leg it
 * dials (sip_admit) is no longer needed: LEG dialled, or it is gone. */
static void release_reserved(sip_leg *leg)
{
    if (leg && leg->rtp_reserved) {
        leg->rtp_reserved = false;
        leg->d->rtp_reserved--;
    }
}

int sip_leg_media(sip_leg *leg)
{
    sip_driver *d = leg->d;
    if (leg->bypass) {
        /* Its RTP goes from phone to phone (sip_bypass.c). */
        sip_log(d, SIP_LOG_WARN, "%s: media bypassed: no prompts, DTMF or recording",
                leg->call_id ? leg->call_id : "-");
        return -1;
    }
    if (sip_leg_rtp(leg))
        return 0;
    struct sip_anchor *a = sip_anchor_of(leg);
    /* Sessions kept for admitted calls' dials are not for others: the dial
     * of a call we answered must not be the one that finds no port. */
    sip_leg *from = sip_leg_from(leg);
    bool kept = from && from->rtp_reserved;
    d->rtp_why = rtp_ctx_short(d->rtp);
    if (kept || rtp_ctx_available(d->rtp) > d->rtp_reserved) {
        /* A peer that multiplexes RTCP (its offer says so) needs one port
         * of any parity; others, and our own offers, an even one. */
        bool mux = !leg->outgoing && leg->have_remote && leg->remote.rtcp_mux;
        a->rtp = mux ? rtp_open_muxed(d->rtp, &sip_leg_rtp_ops, leg)
                     : rtp_open(d->rtp, &sip_leg_rtp_ops, leg);
        d->rtp_why = rtp_ctx_limit(d->rtp);
    }
    if (kept)
        release_reserved(from);
    if (!a->rtp) {
        char why[200];
        rtp_ctx_limit_text(d->rtp, d->rtp_why, why, sizeof why);
        sip_log(d, SIP_LOG_WARN, "%s %s: no RTP session: %s", leg->outgoing ? "leg" : "call",
                leg->call_id ? leg->call_id : "-", why);
        return -1;
    }
    rtp_learn(a->rtp, leg->symmetric_rtp);
    return 0;
}

/* Directions as bits: 1 = we send, 2 = we receive. */
static unsigned mode_bits(sip_mode m)
{
    static const unsigned bits[] = {[SDP_SENDRECV] = 3, [SDP_SENDONLY] = 1, [SDP_RECVONLY] = 2,
                                    [SDP_INACTIVE] = 0};
    return bits[m];
}

static sip_mode bits_mode(unsigned b)
{
    static const sip_mode modes[] = {SDP_INACTIVE, SDP_SENDONLY, SDP_RECVONLY, SDP_SENDRECV};
    return modes[b & 3];
}

static sip_mode answer_mode(const sip_leg *leg)
{
    if (!leg->have_remote)
        return leg->local_mode;
    unsigned r = mode_bits(leg->remote.mode);
    unsigned rev = ((r & 1) << 1) | ((r & 2) >> 1);
    unsigned b = mode_bits(leg->local_mode) & rev;
    if (leg->remote.null_addr)
        b &= 2u;
    return bits_mode(b);
}

cfg_srtp sip_leg_srtp_policy(const sip_driver *d, cfg_srtp own)
{
    if (own != CFG_SRTP_INHERIT)
        return own;
    cfg_srtp s = d->cfg ? d->cfg->settings.srtp : CFG_SRTP_OFF;
    return s == CFG_SRTP_INHERIT ? CFG_SRTP_OFF : s;
}

void sip_leg_expect_offer(sip_leg *leg) { leg->awaiting_answer = false; }

/* Our key, made once per leg (it stays the same in re-INVITEs). */
static int srtp_key(sip_leg *leg)
{
    struct sip_anchor *a = sip_anchor_of(leg);
    if (a->keys)
        return 0;
    struct sip_leg_keys *k = cr_xcalloc(1, sizeof *k);
    if (sdes_new_key(&k->local, 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0) {
        free(k);
        return -1;
    }
    a->keys = k;
    return 0;
}

size_t sip_leg_sdp(sip_leg *leg, char *buf, size_t size, bool offer)
{
    sip_driver *d = leg->d;
    struct sip_anchor *a = sip_anchor_of(leg);
    int pts[2], npt, te;
    sip_mode mode;
    /* SRTP: a first offer follows the policy (optional: crypto beside
     * plain RTP, RFC 4568 best effort as Asterisk and baresip do;
     * required: RTP/SAVP); later SDP keeps what was agreed. */
    bool savp = false;
    const sdes_crypto *crypto = NULL;
    if (offer && !leg->have_remote) {
        if ((leg->srtp == CFG_SRTP_OPTIONAL || leg->srtp == CFG_SRTP_REQUIRED) && srtp_key(leg) == 0) {
            crypto = &a->keys->local;
            savp = leg->srtp == CFG_SRTP_REQUIRED;
            leg->srtp_savp = savp;
        }
    } else if (leg->srtp_on) {
        crypto = &a->keys->local;
        savp = leg->srtp_savp;
    }
    if (offer)
        leg->srtp_offered = crypto != NULL;
    leg->awaiting_answer = offer;
    if (offer && !leg->have_remote) {
        /* First offer: the caller's codec first, so the relay rarely transcodes. */
        sip_leg *from = sip_leg_from(leg);
        int pref = from && sip_leg_pt(from) >= 0 ? sip_leg_pt(from) : 0;
        pts[0] = pref;
        pts[1] = pref == 0 ? 8 : 0;
        npt = 2;
        te = 101;
        mode = leg->local_mode;
    } else {
        pts[0] = a->pt >= 0 ? a->pt : 0;
        npt = 1;
        te = leg->remote.te_pt >= 0 ? leg->remote.te_pt : (leg->have_remote ? -1 : 101);
        mode = offer ? leg->local_mode : answer_mode(leg);
    }
    if (leg->sent_once && mode != leg->sent_mode)
        a->sdp_ver++;
    leg->sent_mode = mode;
    leg->sent_once = true;
    return sip_sdp_build(buf, size, d->media_ip, a->rtp ? rtp_local_port(a->rtp) : 0,
                         a->sdp_sess, a->sdp_ver, pts, npt, te, mode,
                         sip_sdp_rtcp_mux_kept(offer, leg->have_remote ? &leg->remote : NULL), savp, crypto);
}

static void update_inband(sip_leg *leg)
{
    /* A bridged leg's tones are relayed; in a room they are heard here. */
    if (sip_leg_rtp(leg))
        rtp_inband_dtmf(sip_leg_rtp(leg),
                        leg->have_remote && leg->remote.te_pt < 0 && (!leg->bridged || sip_leg_mix(leg)));
}

/* 0; -1 no usable SDP; -2 no RTP port left. */
int sip_leg_apply_sdp(sip_leg *leg, const sip_t *sip, bool *hold_changed)
{
    if (hold_changed)
        *hold_changed = false;
    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len)
        return -1;
    sip_media_desc m;
    char err[128];
    if (sip_sdp_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &m, err, sizeof err) < 0) {
        sip_log(leg->d, SIP_LOG_WARN, "%s: unusable SDP: %s", leg->call_id ? leg->call_id : "-", err);
        return -1;
    }
    struct sip_anchor *a = sip_anchor_of(leg);
    const sdes_crypto *key;
    sip_srtp_use use = leg->awaiting_answer
                           ? sip_srtp_answer_use(leg->srtp, leg->srtp_offered ? &a->keys->local : NULL, &m, &key)
                           : sip_srtp_offer_use(leg->srtp, &m, &key);
    if (use == SIP_SRTP_ON && !leg->awaiting_answer) {
        /* We answer with our key under the offer's tag and suite. */
        if (srtp_key(leg) < 0) {
            use = SIP_SRTP_REFUSE;
        } else {
            a->keys->local.tag = key->tag;
            a->keys->local.suite = key->suite;
            leg->srtp_savp = m.savp;
        }
    }
    if (use == SIP_SRTP_REFUSE) {
        sip_log(leg->d, SIP_LOG_WARN, "%s: SDP refused by srtp %s: %s%s", leg->call_id ? leg->call_id : "-",
                cfg_srtp_names[leg->srtp - CFG_SRTP_OFF],
                m.savp ? "RTP/SAVP" : "RTP/AVP", m.ncrypto ? " with crypto" : " without usable crypto");
        return -1;
    }
    leg->srtp_on = use == SIP_SRTP_ON;
    if (leg->srtp_on)
        a->keys->remote = *key;   /* ON: srtp_key made KEYS (an answer's: for our offer) */
    /* Keep the codec once chosen if the remote still offers it. */
    int pt = m.pts[0];
    for (int i = 0; i < m.npt; i++)
        if (m.pts[i] == a->pt)
            pt = a->pt;
    a->pt = pt;
    sip_remote_media_keep(&leg->remote, &m);
    leg->have_remote = true;
    bool held = sip_sdp_is_hold(&m);
    if (hold_changed)
        *hold_changed = held != leg->held;
    leg->held = held;
    if (sip_leg_media(leg) < 0)
        return -2;
    rtp_set_remote(a->rtp, m.null_addr ? NULL : &m.addr, a->pt, m.te_pt);
    if (rtp_set_srtp(a->rtp, leg->srtp_on ? &a->keys->local : NULL, leg->srtp_on ? &a->keys->remote : NULL) < 0) {
        sip_log(leg->d, SIP_LOG_WARN, "%s: SRTP keys refused by libsrtp2", leg->call_id ? leg->call_id : "-");
        return -1;
    }
    update_inband(leg);
    return 0;
}

void sip_leg_update_relay(sip_leg *leg)
{
    sip_leg *p = leg->peer;
    rtp_sess *mine = sip_leg_rtp(leg), *theirs = p ? sip_leg_rtp(p) : NULL;
    if (!mine || !theirs)
        return;
    /* Legs in a mix hear the mix, not each other directly; a leg music
     * plays to hears the music, not its peer. */
    bool on = !sip_leg_mix(leg) && !sip_leg_mix(p);
    rtp_set_relay(mine, on && !SIP_LEG_OP(p, music) ? theirs : NULL);
    rtp_set_relay(theirs, on && !SIP_LEG_OP(leg, music) ? mine : NULL);
}

void sip_leg_media_update(sip_leg *leg)
{
    if (leg->peer)
        sip_leg_update_relay(leg);
    else if (sip_leg_rtp(leg))
        rtp_set_relay(sip_leg_rtp(leg), NULL);
    update_inband(leg);
    if (sip_leg_rtp(leg))
        rtp_want_audio(sip_leg_rtp(leg), sip_leg_mix(leg) || SIP_LEG_OP(leg, tap) ||
                                             (SIP_LEG_OP(leg, rec) && !sip_media_rec_beeping(leg)));
}

/* ---- hold passed on ---- */

static void send_reinvite(sip_leg *leg)
{
    char sdp[768];
    sip_leg_sdp(leg, sdp, sizeof sdp, true);
    leg->reinvite_busy = true;
    if (sip_nta_reinvite(leg, sdp) < 0)
        leg->reinvite_busy = false;
}

void sip_leg_push_mode(sip_leg *leg, sip_mode mode)
{
    if (leg->local_mode == mode || leg->bypass)
        return;   /* bypass: the remote's own re-INVITE passes through */
    leg->local_mode = mode;
    if (leg->state != LEG_UP || !leg->nta)
        return;
    if (leg->reinvite_busy) {
        leg->reinvite_again = true;
        return;
    }
    send_reinvite(leg);
}

static void reinvite_retry_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    leg->anchor->retry_timer = NULL;   /* a leg's anchor lives until the leg is freed, which stops it */
    leg->reinvite_busy = false;
    if (leg->state == LEG_UP && leg->nta)
        send_reinvite(leg);
}

void sip_leg_reinvite_done(sip_leg *leg, int status)
{
    /* Our re-INVITE (sip_leg_sdp made the anchor). */
    struct sip_anchor *a = sip_anchor_of(leg);
    if (status == 491 && leg->state == LEG_UP && !a->retry_timer) {
        /* Glare (RFC 3261 14.1): both sides re-INVITEd at once; try again
         * after a random 2.1-4 s, as the owner of the Call-ID would not. */
        double wait = 2.1 + (double)(random() % 1900) / 1000.0;
        a->retry_timer = loop_timer_start(leg->d->l, wait, reinvite_retry_cb, leg);
        return;
    }
    leg->reinvite_busy = false;
    if (leg->reinvite_again && leg->state == LEG_UP && leg->nta) {
        leg->reinvite_again = false;
        send_reinvite(leg);
    }
}

/* The mode LEG's peer should see while LEG's remote holds. */
sip_mode sip_leg_hold_mode(const sip_leg *leg)
{
    if (!leg->held)
        return SDP_SENDRECV;
    return leg->remote.mode == SDP_INACTIVE ? SDP_INACTIVE : SDP_SENDONLY;
}

/* ---- bridge ---- */

int sip_leg_bridge(sip_leg *a, sip_leg *b)
{
    if (!a || !b || a == b || a->state == LEG_ENDED || b->state == LEG_ENDED)
        return -1;
    if (!a->outgoing && a->state != LEG_UP && sip_nta_answer(a) < 0)
        return -1;
    if (!b->outgoing && b->state != LEG_UP && sip_nta_answer(b) < 0)
        return -1;
    /* Both in bypass (one passed its SDP to the other), or both anchored. */
    if (a->bypass != b->bypass || (!a->bypass && (sip_leg_media(a) < 0 || sip_leg_media(b) < 0)))
        return -1;
    if (a->peer && a->peer != b)
        sip_leg_detach(a);
    if (b->peer && b->peer != a)
        sip_leg_detach(b);
    a->peer = b;
    b->peer = a;
    a->bridged = b->bridged = true;
    if (a->bypass)
        sip_bypass_drop_sdp(a, b);   /* answered and bridged: no SDP kept (sip_bypass.c) */
    sip_leg_update_relay(a);
    update_inband(a);
    update_inband(b);
    /* A hold that began before the bridge reaches the other side now. */
    sip_leg_push_mode(b, sip_leg_hold_mode(a));
    sip_leg_push_mode(a, sip_leg_hold_mode(b));
    sip_log(a->d, SIP_LOG_DEBUG, "bridged %s <-> %s", a->call_id ? a->call_id : "-",
            b->call_id ? b->call_id : "-");
    return 0;
}

int sip_leg_unbridge(sip_leg *a, sip_leg *b)
{
    if (!a || a->peer != b)
        return -1;
    sip_leg_detach(a);
    update_inband(a);
    if (b)
        update_inband(b);
    sip_leg_push_mode(a, SDP_SENDRECV);
    if (b)
        sip_leg_push_mode(b, SDP_SENDRECV);
    return 0;
}

/* ---- transfer (REFER out) ---- */

int sip_leg_transfer(sip_leg *leg, const char *to)
{
    if (!leg || leg->state != LEG_UP || !leg->nta || !to || !*to)
        return -1;
    /* The target is rendered from a template (maybe from what the caller
     * sent): a whole URI is parsed and encoded again (no ?headers the
     * transferee would copy into its INVITE), anything else is one user
     * part at our address. */
    char uri[512], refer_to[600];
    bool whole = strncmp(to, "sip:", 4) == 0 || strncmp(to, "sips:", 5) == 0;
    if (!(whole ? sip_uri_clean(uri, sizeof uri, to)
                : sip_uri_user_at(uri, sizeof uri, to, leg->d->sip_host, leg->d->sip_port)) ||
        !sip_uri_name_addr(refer_to, sizeof refer_to, NULL, uri)) {
        sip_log(leg->d, SIP_LOG_WARN, "%s: REFER not sent: the target is not a usable SIP URI or user",
                leg->call_id ? leg->call_id : "-");
        return -1;
    }
    sip_log(leg->d, SIP_LOG_INFO, "%s: REFER to %s", leg->call_id ? leg->call_id : "-", refer_to);
    return sip_nta_refer_out(leg, refer_to);   /* sip_nta_refer.c */
}

/* ---- media in ---- */

void sip_leg_digit(sip_leg *leg, char digit)
{
    sip_driver *d = leg->d;
    if (leg->state == LEG_ENDED)
        return;
    sip_enter(d);
    sip_log(d, SIP_LOG_DEBUG, "%s: DTMF %c", leg->call_id ? leg->call_id : "-", digit);
    tel_event ev = {.kind = TEL_EV_DTMF, .digit = digit};
    sip_raise(leg, &ev);
    sip_media_digit(leg, digit);
    sip_leave(d);
}

static void leg_dtmf_cb(void *owner, char digit) { sip_leg_digit(owner, digit); }

static void leg_audio_cb(void *owner, const int16_t *pcm, size_t n)
{
    sip_leg *leg = owner;
    sip_media_audio(leg, pcm, n);
    if (sip_leg_mix(leg))
        sip_mix_audio(leg, pcm, n);
}

/* Held calls keep two legs (issue 17): an incoming one is 160 B, a
 * mimalloc class, a dialled one with its dialled part 224 B, a class; a
 * byte more is a 192 B or a 256 B block (docs/decisions/sip-core.md, "a smaller
 * sip_leg"). */
_Static_assert(sizeof(sip_leg) <= 160, "sip_leg grew past its 160 B block");
_Static_assert(sizeof(sip_leg) + sizeof(struct sip_leg_dial) <= 224, "a dialled sip_leg grew past its 224 B block");
_Static_assert(sizeof(struct sip_anchor) <= 80, "sip_anchor grew past its 80 B block");

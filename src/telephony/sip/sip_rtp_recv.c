/* sip_rtp_recv.c — an RTP packet from its socket to where it goes: the
 * context's epoll readiness, the strict source check (symmetric RTP's
 * learning window), SRTP's unprotect, RFC 4733 events, in-band DTMF and
 * recording taps on the decoded audio, and the bridge relay (PT rewrite,
 * SRTP's protect, send). No allocation on this path. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "telephony/sip/rtp_packet.h"
#include "telephony/sip/rtp_stats.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_rtp_sess.h"
#include "util/alloc.h"

/* ---- receiving ---- */

/* Is SRC the session's peer? Strict source: only the address RTP goes to
 * is accepted. With symmetric RTP (a peer behind NAT announces an address
 * its packets do not come from), the first packets after the SDP may move
 * it to where they come from; the SDP's own address, if it sends in that
 * time, wins and ends the learning. */
static bool from_peer(rtp_sess *s, const struct sockaddr_in *src)
{
    if (!s->remote.sin_port)
        return false;   /* no peer (no SDP yet, or on hold with c=0.0.0.0) */
    if (s->remote.sin_addr.s_addr == src->sin_addr.s_addr && s->remote.sin_port == src->sin_port) {
        if (!s->learned.port)
            s->learn_left = 0;   /* the SDP's address sends: nothing to learn */
        return true;
    }
    if (!s->learn || !s->learn_left || (s->learn_until > 0 && loop_now(s->c->l) >= s->learn_until))
        return false;
    if (same_addr(src, &s->sdp_remote)) {
        memset(&s->learned, 0, sizeof s->learned);
        s->remote = peer_sockaddr(s->sdp_remote);
        s->learn_left = 0;
        return true;
    }
    s->learned = peer_addr(src);
    s->remote = peer_sockaddr(s->learned);
    return true;
}

/* RFC 4733: one event spans several packets with the same timestamp (and
 * three copies of the end packet); it is reported once, on the first. */
static void on_event(rtp_sess *s, const rtp_hdr *h, const uint8_t *payload)
{
    rtp_event ev;
    if (rtp_event_decode(&ev, payload, h->payload_len) < 0)
        return;
    char digit = rtp_event_digit(&ev);
    if (!digit || (s->ev_seen && h->ts == s->ev_ts))
        return;
    s->ev_seen = true;
    s->ev_ts = h->ts;
    s->ops->dtmf(s->owner, digit);
}

static void decode(int pt, const uint8_t *pl, size_t n, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = pt == 8 ? alaw_to_linear(pl[i]) : ulaw_to_linear(pl[i]);
}

/* Forwards the whole packet (its padding too) to the relay's peer; PKT
 * has room for an SRTP trailer (RTP_BUF). */
static void relay(rtp_sess *s, uint8_t *pkt, size_t n, const rtp_hdr *h)
{
    rtp_sess *p = s->relay;
    if (!p->remote.sin_port || p->idle)
        return;
    if (h->pt == s->te_pt) {
        if (p->te_pt < 0)
            return;    /* the far side takes no telephone-events: reported, not relayed */
        pkt[1] = (uint8_t)((pkt[1] & 0x80) | p->te_pt);
    } else if (h->pt != p->pt) {
        /* PCMU <-> PCMA: transcode in place (the only mismatch we allow). */
        uint8_t *pl = pkt + h->hdr_len;
        for (size_t i = 0; i < h->payload_len; i++)
            pl[i] = h->pt == 0 ? ulaw_to_alaw(pl[i]) : alaw_to_ulaw(pl[i]);
        pkt[1] = (uint8_t)((pkt[1] & 0x80) | p->pt);
    }
    if (sess_srtp_seal(p, pkt, &n) && rtp_sess_send(p, pkt, n, true)) {
        p->tx++;
        p->c->tx_total++;
    }
}

/* Now in units of the G.711 clock (8 kHz), wrapping: for the jitter. The
 * clock is read through the vDSO, no system call. */
static uint32_t arrival_units(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)((uint64_t)t.tv_sec * G711_RATE + (uint64_t)t.tv_nsec / (1000000000 / G711_RATE));
}

/* Loss and jitter of the stream (RFC 3550): a new SSRC, or a source that
 * restarted its sequence numbers, ends one stream and begins the next.
 * Telephone-events keep one timestamp for an event's packets: they are
 * counted, not timed. */
static void count_packet(rtp_sess *s, const rtp_hdr *h)
{
    rtp_rx_result r = rtp_rx_packet(&s->st, h->ssrc, h->seq);
    if (r == RTP_RX_NEW_STREAM) {
        rtp_stream_end(s);
        r = rtp_rx_packet(&s->st, h->ssrc, h->seq);
    }
    if (r == RTP_RX_COUNTED && (h->pt == 0 || h->pt == 8) && h->pt != s->te_pt)
        rtp_rx_timing(&s->st, h->ts, arrival_units());
}

void rtp_sess_packet(rtp_sess *s, uint8_t *pkt, size_t n, const struct sockaddr_in *src)
{
    if (s->idle)
        return;   /* a late packet of a call that is over */
    if (rtp_is_rtcp(pkt, n)) {
        /* A muxing peer's reports on its RTP port, or those of another
         * session's peer that does not mux, sent to its port + 1 (ours).
         * We process no RTCP (docs/decisions/rtp-ports.md): discarded before
         * the source check, so it is not media (RTP timeout, relay, stats),
         * teaches no source and is not counted as a stranger's packet. */
        s->c->rtcp++;
        return;
    }
    rtp_hdr h;
    if (rtp_hdr_decode(&h, pkt, n) != RTP_PKT_OK)
        return;
    if (!from_peer(s, src)) {
        s->dropped++;
        s->c->dropped++;
        return;
    }
    if (s->srtp) {
        /* Decrypted before anything reads the payload: the relay, DTMF,
         * recording and the mix see plain RTP. The source is checked first
         * (a stranger's packet costs no HMAC); one that fails
         * authentication, or replays, is dropped. */
        if (!sess_srtp_open(s, pkt, &n) || rtp_hdr_decode(&h, pkt, n) != RTP_PKT_OK) {
            s->srtp_failed++;
            return;
        }
    }
    if (s->learn && s->learn_left) {
        s->learn_left--;
        if (s->learn_until == 0)
            s->learn_until = loop_now(s->c->l) + LEARN_SECONDS;
    }
    s->rx++;
    s->c->rx_total++;
    count_packet(s, &h);
    const uint8_t *payload = pkt + h.hdr_len;
    if (h.pt == s->te_pt && s->te_pt >= 0) {
        on_event(s, &h, payload);
        if (s->relay)
            relay(s, pkt, n, &h);
        return;
    }
    if (h.pt != 0 && h.pt != 8)
        return;
    if (s->want_audio || s->inband) {
        int16_t pcm[RTP_MAX];
        decode(h.pt, payload, h.payload_len, pcm);
        if (s->inband)
            dtmf_rx(s->inband, pcm, (int)h.payload_len);
        if (s->want_audio)
            s->ops->audio(s->owner, pcm, h.payload_len);
    }
    if (s->relay)
        relay(s, pkt, n, &h);
}

/* One packet per readiness: the socket is level-triggered in the context's
 * epoll, so a packet left in its queue makes the next epoll_wait (which
 * serves up to 64 sockets) report it again. Reading until EAGAIN cost a
 * recvfrom per wake-up that only heard EAGAIN — at 50 packets a second per
 * leg nearly every wake-up has one packet: 3 system calls per relayed
 * packet instead of 2 (perf stat, docs/decisions/rtp-ports.md). */
static void sess_ready(rtp_sess *s)
{
    uint8_t buf[RTP_BUF];
    struct sockaddr_in src;
    socklen_t sl = sizeof src;
    ssize_t n = recvfrom(s->fd, buf, RTP_MAX, 0, (struct sockaddr *)&src, &sl);
    if (n >= 0 && sl == sizeof src && src.sin_family == AF_INET)
        rtp_sess_packet(s, buf, (size_t)n, &src);
}

void rtp_ctx_ready_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    rtp_ctx *c = arg;
    c->serves++;
    struct epoll_event ev[64];
    int n = epoll_wait(fd, ev, 64, 0);
    c->dispatching = true;
    for (int i = 0; i < n; i++) {
        rtp_sess *s = ev[i].data.ptr;
        if (s->fd >= 0)
            sess_ready(s);
    }
    c->dispatching = false;
    while (c->dead) {
        rtp_sess *s = c->dead;
        c->dead = s->dead_next;
        free(s);
    }
}

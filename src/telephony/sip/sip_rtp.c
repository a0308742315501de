/* sip_rtp.c — a small RTP module (docs/decisions/0011-rtp-own-module.md):
 * one UDP socket per leg, G.711 (PCMU/PCMA via spandsp's tables), RFC 4733
 * telephone-events, in-band DTMF (spandsp) and the bridge relay. All RTP
 * sockets sit in one epoll set that is itself a single watch on the loop,
 * so a burst of packets costs one wakeup and the relay path is
 * recv -> (PT rewrite / transcode) -> send with no allocation. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spandsp.h>

#include "telephony/sip/sip_int.h"

#define RTP_MAX 1500
#define RTP_HDR 12

struct rtp_ctx {
    loop *l;
    int epfd;
    loop_watch *watch;
    struct in_addr bind_ip;
    int port_min, port_max, next_port;
    size_t open_count;
    bool dispatching;
    rtp_sess *dead;              /* closed during a dispatch: freed after it */
    /* Closed sessions keep their socket for reuse (a call costs no socket,
     * bind, epoll_ctl or close), oldest first, once quiet for POOL_QUIET s
     * so a late packet of the old call cannot be taken for the new one. */
    rtp_sess *pool_head, *pool_tail;
    size_t pooled;
};

#define POOL_MAX 4096
#define POOL_QUIET 2.0

struct rtp_sess {
    rtp_ctx *c;
    int fd, port;
    const rtp_owner_ops *ops;
    void *owner;
    struct sockaddr_in remote;   /* where we send; port 0: nowhere */
    struct sockaddr_in sdp_remote;   /* what the SDP said */
    bool latched;                /* remote taken from the first packet received */
    int pt, te_pt;               /* our audio PT; the remote's telephone-event PT */
    rtp_sess *relay;             /* forward what we receive to this session's remote */
    bool want_audio;
    dtmf_rx_state_t *inband;
    /* our own stream (prompts, tones) */
    uint32_t ssrc, ts;
    uint16_t seq;
    /* RFC 4733: the event we reported last (its RTP timestamp) */
    uint32_t ev_ts;
    bool ev_seen;
    unsigned long rx, tx;
    rtp_sess *dead_next;
    bool idle;                   /* in the pool: packets are dropped */
    double idle_since;
    rtp_sess *pool_next;
};

static void ctx_ready_cb(loop *l, int fd, unsigned events, void *arg);

rtp_ctx *rtp_ctx_new(loop *l, const char *ip, int port_min, int port_max)
{
    rtp_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->l = l;
    if (!ip || inet_pton(AF_INET, ip, &c->bind_ip) != 1)
        c->bind_ip.s_addr = htonl(INADDR_ANY);
    if (port_min <= 0 || port_max < port_min) {
        port_min = 10000;
        port_max = 20000;
    }
    c->port_min = (port_min + 1) & ~1;
    c->port_max = port_max;
    c->next_port = c->port_min;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0) {
        free(c);
        return NULL;
    }
    c->watch = loop_watch_fd(l, c->epfd, LOOP_READ, ctx_ready_cb, c);
    if (!c->watch) {
        close(c->epfd);
        free(c);
        return NULL;
    }
    return c;
}

void rtp_ctx_free(rtp_ctx *c)
{
    if (!c)
        return;
    while (c->pool_head) {
        rtp_sess *s = c->pool_head;
        c->pool_head = s->pool_next;
        close(s->fd);
        free(s);
    }
    loop_unwatch(c->l, c->watch);
    close(c->epfd);
    free(c);
}

static int bind_port(rtp_ctx *c, int fd)
{
    int span = (c->port_max - c->port_min) / 2 + 1;
    for (int i = 0; i < span; i++) {
        int port = c->next_port;
        c->next_port += 2;
        if (c->next_port > c->port_max)
            c->next_port = c->port_min;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr = c->bind_ip};
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return port;
        if (errno != EADDRINUSE && errno != EACCES)
            return -1;
    }
    return -1;
}

static void sess_reset(rtp_sess *s, const rtp_owner_ops *ops, void *owner)
{
    s->ops = ops;
    s->owner = owner;
    memset(&s->remote, 0, sizeof s->remote);
    memset(&s->sdp_remote, 0, sizeof s->sdp_remote);
    s->latched = false;
    s->pt = 0;
    s->te_pt = -1;
    s->relay = NULL;
    s->want_audio = false;
    s->ev_seen = false;
    s->rx = s->tx = 0;
    s->idle = false;
    s->ssrc = (uint32_t)random() ^ (uint32_t)(uintptr_t)s;
    s->seq = (uint16_t)random();
    s->ts = (uint32_t)random();
}

rtp_sess *rtp_open(rtp_ctx *c, const rtp_owner_ops *ops, void *owner)
{
    rtp_sess *s = c->pool_head;
    if (s && loop_now(c->l) - s->idle_since >= POOL_QUIET) {
        c->pool_head = s->pool_next;
        if (!c->pool_head)
            c->pool_tail = NULL;
        c->pooled--;
        sess_reset(s, ops, owner);
        c->open_count++;
        return s;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = c;
    s->ops = ops;
    s->owner = owner;
    s->te_pt = -1;
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || (s->port = bind_port(c, s->fd)) < 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        close(s->fd);
        free(s);
        return NULL;
    }
    s->ssrc = (uint32_t)random() ^ (uint32_t)(uintptr_t)s;
    s->seq = (uint16_t)random();
    s->ts = (uint32_t)random();
    c->open_count++;
    return s;
}

void rtp_close(rtp_sess *s)
{
    if (!s)
        return;
    rtp_ctx *c = s->c;
    if (c->pooled < POOL_MAX) {
        if (s->inband)
            dtmf_rx_free(s->inband);
        s->inband = NULL;
        s->relay = NULL;
        s->owner = NULL;
        s->idle = true;
        s->idle_since = loop_now(c->l);
        s->pool_next = NULL;
        if (c->pool_tail)
            c->pool_tail->pool_next = s;
        else
            c->pool_head = s;
        c->pool_tail = s;
        c->pooled++;
        c->open_count--;
        return;
    }
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    if (s->inband)
        dtmf_rx_free(s->inband);
    s->inband = NULL;
    c->open_count--;
    if (c->dispatching) {
        /* An event handler closed it while its batch is being served. */
        s->dead_next = c->dead;
        c->dead = s;
        return;
    }
    free(s);
}

int rtp_local_port(const rtp_sess *s) { return s->port; }
int rtp_payload_type(const rtp_sess *s) { return s->pt; }

void rtp_set_remote(rtp_sess *s, const struct sockaddr_in *addr, int pt, int te_pt)
{
    if (addr && addr->sin_port && addr->sin_addr.s_addr) {
        /* A new address in the SDP (media moved) undoes the latch; the
         * same one (a hold, a refresh) keeps it. */
        if (!s->latched || addr->sin_addr.s_addr != s->sdp_remote.sin_addr.s_addr ||
            addr->sin_port != s->sdp_remote.sin_port) {
            s->remote = *addr;
            s->latched = false;
        }
        s->sdp_remote = *addr;
    } else {
        memset(&s->remote, 0, sizeof s->remote);
        s->latched = false;
    }
    s->pt = pt;
    s->te_pt = te_pt;
}

void rtp_set_relay(rtp_sess *s, rtp_sess *peer) { s->relay = peer; }
void rtp_want_audio(rtp_sess *s, bool on) { s->want_audio = on; }

static void inband_digits_cb(void *user, const char *digits, int len)
{
    rtp_sess *s = user;
    for (int i = 0; i < len; i++)
        s->ops->dtmf(s->owner, digits[i]);
}

void rtp_inband_dtmf(rtp_sess *s, bool on)
{
    if (on && !s->inband)
        s->inband = dtmf_rx_init(NULL, inband_digits_cb, s);
    else if (!on && s->inband) {
        dtmf_rx_free(s->inband);
        s->inband = NULL;
    }
}

void rtp_counters(const rtp_sess *s, unsigned long *rx, unsigned long *tx)
{
    *rx = s->rx;
    *tx = s->tx;
}

static void put_hdr(rtp_sess *s, uint8_t *p, int pt, bool marker)
{
    p[0] = 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
    uint16_t seq = htons(s->seq++);
    uint32_t ts = htonl(s->ts), ssrc = htonl(s->ssrc);
    memcpy(p + 2, &seq, 2);
    memcpy(p + 4, &ts, 4);
    memcpy(p + 8, &ssrc, 4);
}

void rtp_send_pcm(rtp_sess *s, const int16_t *pcm, size_t n)
{
    uint8_t pkt[RTP_HDR + 320];
    if (n > 320)
        n = 320;
    if (s->remote.sin_port) {
        put_hdr(s, pkt, s->pt, false);
        for (size_t i = 0; i < n; i++)
            pkt[RTP_HDR + i] = s->pt == 8 ? linear_to_alaw(pcm[i]) : linear_to_ulaw(pcm[i]);
        if (sendto(s->fd, pkt, RTP_HDR + n, 0, (struct sockaddr *)&s->remote, sizeof s->remote) > 0)
            s->tx++;
    }
    s->ts += (uint32_t)n;
}

static const char dtmf_chars[] = "0123456789*#ABCD";

/* RFC 4733: one event spans several packets with the same timestamp (and
 * three copies of the end packet); it is reported once, on the first. */
static void on_event(rtp_sess *s, const uint8_t *pkt, const uint8_t *pl, size_t len)
{
    if (len < 4 || pl[0] >= 16)
        return;
    uint32_t ts;
    memcpy(&ts, pkt + 4, 4);
    ts = ntohl(ts);
    if (s->ev_seen && ts == s->ev_ts)
        return;
    s->ev_seen = true;
    s->ev_ts = ts;
    s->ops->dtmf(s->owner, dtmf_chars[pl[0]]);
}

static void decode(int pt, const uint8_t *pl, size_t n, int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = pt == 8 ? alaw_to_linear(pl[i]) : ulaw_to_linear(pl[i]);
}

static void relay(rtp_sess *s, uint8_t *pkt, size_t n, size_t hl, int pt)
{
    rtp_sess *p = s->relay;
    if (!p->remote.sin_port || p->idle)
        return;
    if (pt == s->te_pt) {
        if (p->te_pt < 0)
            return;    /* the far side takes no telephone-events: reported, not relayed */
        pkt[1] = (uint8_t)((pkt[1] & 0x80) | p->te_pt);
    } else if (pt != p->pt) {
        /* PCMU <-> PCMA: transcode in place (the only mismatch we allow). */
        for (size_t i = hl; i < n; i++)
            pkt[i] = pt == 0 ? ulaw_to_alaw(pkt[i]) : alaw_to_ulaw(pkt[i]);
        pkt[1] = (uint8_t)((pkt[1] & 0x80) | p->pt);
    }
    if (sendto(p->fd, pkt, n, 0, (struct sockaddr *)&p->remote, sizeof p->remote) > 0)
        p->tx++;
}

static void on_packet(rtp_sess *s, uint8_t *pkt, size_t n, const struct sockaddr_in *src)
{
    if (s->idle)
        return;   /* a late packet of a call that is over */
    if (n < RTP_HDR || (pkt[0] >> 6) != 2)
        return;
    size_t hl = RTP_HDR + 4u * (pkt[0] & 0x0f);
    if (pkt[0] & 0x10) {   /* header extension */
        if (n < hl + 4)
            return;
        hl += 4 + 4u * (((size_t)pkt[hl + 2] << 8) | pkt[hl + 3]);
    }
    if (hl > n)
        return;
    if (pkt[0] & 0x20) {   /* padding */
        size_t pad = pkt[n - 1];
        if (pad > n - hl)
            return;
        n -= pad;
    }
    s->rx++;
    /* Symmetric RTP: answer where the packets come from (NAT). */
    if (!s->latched && s->remote.sin_port) {
        s->remote = *src;
        s->latched = true;
    }
    int pt = pkt[1] & 0x7f;
    if (pt == s->te_pt && s->te_pt >= 0) {
        on_event(s, pkt, pkt + hl, n - hl);
        if (s->relay)
            relay(s, pkt, n, hl, pt);
        return;
    }
    if (pt != 0 && pt != 8)
        return;
    if (s->want_audio || s->inband) {
        int16_t pcm[RTP_MAX];
        size_t samples = n - hl;
        decode(pt, pkt + hl, samples, pcm);
        if (s->inband)
            dtmf_rx(s->inband, pcm, (int)samples);
        if (s->want_audio)
            s->ops->audio(s->owner, pcm, samples);
    }
    if (s->relay)
        relay(s, pkt, n, hl, pt);
}

static void sess_ready(rtp_sess *s)
{
    uint8_t buf[RTP_MAX];
    for (int i = 0; i < 32; i++) {
        struct sockaddr_in src;
        socklen_t sl = sizeof src;
        ssize_t n = recvfrom(s->fd, buf, sizeof buf, 0, (struct sockaddr *)&src, &sl);
        if (n < 0)
            return;
        on_packet(s, buf, (size_t)n, &src);
        if (s->fd < 0)
            return;
    }
}

static void ctx_ready_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    rtp_ctx *c = arg;
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

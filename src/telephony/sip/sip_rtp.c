/* sip_rtp.c — a small RTP module (docs/decisions/rtp-own-module.md):
 * one UDP socket per leg, G.711 (PCMU/PCMA via spandsp's tables), RFC 4733
 * telephone-events, in-band DTMF (spandsp) and the bridge relay. All RTP
 * sockets sit in one epoll set that is itself a single watch on the loop,
 * so a burst of packets costs one wakeup and the relay path is
 * recv -> parse (rtp_packet.c) -> source check -> (PT rewrite / transcode)
 * -> send with no allocation.
 *
 * What the network may do to it: packets are accepted only from the
 * session's peer (strict source: the address its SDP announced, or the one
 * learned early in the call when symmetric RTP is on for a peer behind
 * NAT); everything else is dropped and counted. Ports are drawn at random
 * from the range.
 *
 * SRTP (the keys, libsrtp2's contexts, protect and unprotect) is in
 * sip_srtp.c; receiving and relaying a packet in sip_rtp_recv.c; the
 * session and context structs they all read are in sip_rtp_sess.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>
#include <srtp2/srtp.h>

#include "telephony/sip/rtp_packet.h"
#include "telephony/sip/rtp_ports.h"
#include "telephony/sip/rtp_stats.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_rtp_sess.h"
#include "util/alloc.h"

/* Interarrival jitter of a stream at its end, seconds. */
static const double jitter_bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5};

/* Closed sessions kept for reuse (sip_rtp_sess.h, pool_head): a call that
 * takes a pooled socket costs no socket, bind, registration or close
 * (~6% of the core at 3,000 calls/s when they were made anew). Each waits
 * POOL_QUIET before reuse, so the pool must hold what closes in that time:
 * two legs a call, 16,384 for 4,000 calls/s. 4,096 held 1,000 calls/s;
 * paired runs at 1,400 calls/s each read 16,384 9-12% cheaper a call
 * (docs/decisions/rtp-ports.md, "A pool for 4,000 calls/s"). The pool
 * empties after POOL_IDLE without calls. */
#define POOL_MAX 16384
#define POOL_QUIET 2.0
#define POOL_IDLE 5.0

/* ---- randomness (xorshift64*, seeded by the kernel) ---- */

static uint64_t rng_next(rtp_ctx *c)
{
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void rng_seed(rtp_ctx *c)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        seed = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    c->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* ---- the context ---- */

/* The RTP sockets the open-files limit leaves room for. The limit is
 * raised first, as far as allowed, to what the range needs: a socket per
 * port, plus FD_RESERVE (the soft limit up to the hard one; the hard one
 * too when we may, as root). Without it, RTP sockets would take the last
 * descriptors and the failure would land on whoever opens the next one
 * (sofia's TCP accept, a recording, the admin API). */
static size_t fd_budget(size_t ports)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return ports;
    rlim_t want = (rlim_t)ports + FD_RESERVE;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < want) {
        struct rlimit n = r;
        n.rlim_cur = want;
        if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want)
            n.rlim_max = want;
        if (setrlimit(RLIMIT_NOFILE, &n) != 0 && r.rlim_cur < r.rlim_max) {
            n.rlim_cur = r.rlim_max;   /* not allowed past the hard limit: up to it */
            n.rlim_max = r.rlim_max;
            setrlimit(RLIMIT_NOFILE, &n);
        }
        getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= want)
        return ports;
    return r.rlim_cur > 2 * FD_RESERVE ? (size_t)(r.rlim_cur - FD_RESERVE) : (size_t)r.rlim_cur / 2;
}

rtp_ctx *rtp_ctx_new(loop *l, const char *ip, int port_min, int port_max, cfg_rtp_io io)
{
    rtp_srtp_init();
    rtp_ctx *c = cr_xcalloc(1, sizeof *c);
    c->l = l;
    if (!ip || inet_pton(AF_INET, ip, &c->bind_ip) != 1)
        c->bind_ip.s_addr = htonl(INADDR_ANY);
    if (port_min <= 0 || port_max < port_min || port_max > 65535) {
        port_min = 10000;
        port_max = 20000;
    }
    c->port_min = port_min;
    c->port_max = port_max;
    c->ports = rtp_ports_new(port_min, port_max);
    c->fd_budget = fd_budget(rtp_ports_total(c->ports));
    c->pool_idle = POOL_IDLE;
    cr_hist_init(&c->jitter, jitter_bounds, sizeof jitter_bounds / sizeof jitter_bounds[0]);
    rng_seed(c);
    size_t ports = rtp_ports_total(c->ports);
    /* auto is io_uring wherever the kernel lets us: past the open-files
     * limit, and with fewer system calls a packet (docs/decisions/
     * rtp-ports.md, "io_uring by default"). */
    if (io != CFG_RTP_IO_EPOLL) {
        char why[128];
        c->rings = rtp_rings_new(c, ports, why, sizeof why);
        if (c->rings) {
            size_t cap = rtp_rings_capacity(c->rings);
            c->fd_budget = cap < ports ? cap : ports;
        } else {
            snprintf(c->io_note, sizeof c->io_note, "io_uring cannot be used here (%s)", why);
        }
    }
    c->epfd = -1;
    if (!c->rings) {
        c->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (c->epfd < 0) {
            rtp_ports_free(c->ports);
            free(c);
            return NULL;
        }
        c->watch = loop_watch_fd(l, c->epfd, LOOP_READ, rtp_ctx_ready_cb, c);
    }
    return c;
}

size_t rtp_ctx_io_text(const rtp_ctx *c, char *buf, size_t n)
{
    int k;
    if (c->rings)
        k = snprintf(buf, n, "io_uring: %zu RTP sockets in %u fixed-file table(s), apart from the open-files limit",
                     rtp_rings_capacity(c->rings), rtp_rings_count(c->rings));
    else
        k = snprintf(buf, n, "epoll%s%s", c->io_note[0] ? ": " : "", c->io_note);
    return k < 0 ? 0 : (size_t)k;
}

bool rtp_ctx_uses_io_uring(const rtp_ctx *c) { return c->rings != NULL; }

void rtp_sess_gone(rtp_sess *s)
{
    rtp_ports_put(s->c->ports, s->port);
    free(s);
}

/* The socket goes for good (its port free again), and the session's
 * memory: now, after the epoll batch being served (an event handler
 * closed it), or once its ring is done with it. */
static void sess_destroy(rtp_sess *s)
{
    rtp_ctx *c = s->c;
    if (c->rings) {
        rtp_rings_detach(s);
        return;
    }
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    if (c->dispatching) {
        rtp_ports_put(c->ports, s->port);
        s->dead_next = c->dead;
        c->dead = s;
        return;
    }
    rtp_sess_gone(s);
}

bool rtp_sess_send(rtp_sess *s, const uint8_t *pkt, size_t n, bool in_batch_buffer)
{
    if (s->c->rings)
        return rtp_rings_send(s, pkt, n, in_batch_buffer);
    return sendto(s->fd, pkt, n, 0, (const struct sockaddr *)&s->remote, sizeof s->remote) > 0;
}

void rtp_ctx_free(rtp_ctx *c)
{
    if (!c)
        return;
    if (c->pool_timer)
        loop_timer_stop(c->l, c->pool_timer);
    while (c->pool_head) {
        rtp_sess *s = c->pool_head;
        c->pool_head = s->pool_next;
        sess_destroy(s);
    }
    rtp_rings_free(c->rings);   /* waits for the pooled sessions' receives to end */
    if (c->watch)
        loop_unwatch(c->l, c->watch);
    if (c->epfd >= 0)
        close(c->epfd);
    rtp_ports_free(c->ports);
    free(c);
}

size_t rtp_ctx_capacity(const rtp_ctx *c)
{
    size_t ports = rtp_ports_total(c->ports);
    return ports < c->fd_budget ? ports : c->fd_budget;
}

size_t rtp_ctx_ports(const rtp_ctx *c) { return rtp_ports_total(c->ports); }

size_t rtp_ctx_available(const rtp_ctx *c)
{
    size_t sockets = c->open_count + c->pooled;
    size_t fds = c->fd_budget > sockets ? c->fd_budget - sockets : 0;
    size_t ports = rtp_ports_available(c->ports);
    /* A pooled socket serves a new session (at worst in its quiet time). */
    return (ports < fds ? ports : fds) + c->pooled;
}

rtp_limit rtp_ctx_limit(const rtp_ctx *c) { return c->why; }

rtp_limit rtp_ctx_short(const rtp_ctx *c)
{
    size_t sockets = c->open_count + c->pooled;
    size_t fds = c->fd_budget > sockets ? c->fd_budget - sockets : 0;
    return fds < rtp_ports_available(c->ports) ? RTP_LIMIT_FILES : RTP_LIMIT_PORTS;
}

const char *rtp_limit_reason(rtp_limit why)
{
    return why == RTP_LIMIT_FILES ? "open_files" : why == RTP_LIMIT_SOCKET ? "rtp_socket" : "rtp_ports";
}

size_t rtp_ctx_limit_text(const rtp_ctx *c, rtp_limit why, char *buf, size_t n)
{
    int k;
    switch (why) {
    case RTP_LIMIT_FILES:
        k = snprintf(buf, n, "the open-files limit (RLIMIT_NOFILE) leaves room for %zu RTP sockets, all "
                     "open or kept for admitted calls' dials (open_files)", c->fd_budget);
        break;
    case RTP_LIMIT_BIND:
        k = snprintf(buf, n, "%d random ports of settings.media.rtp_ports %d-%d are held by other "
                     "processes (rtp_ports)", BIND_TRIES, c->port_min, c->port_max);
        break;
    case RTP_LIMIT_SOCKET:
        k = snprintf(buf, n, "a UDP socket could not be made (rtp_socket)");
        break;
    default:
        k = snprintf(buf, n, "the %zu ports of settings.media.rtp_ports %d-%d are in use or kept for "
                     "admitted calls' dials (rtp_ports)", rtp_ports_total(c->ports), c->port_min, c->port_max);
        break;
    }
    return k < 0 ? 0 : (size_t)k;
}

size_t rtp_ctx_open_count(const rtp_ctx *c) { return c->open_count; }
size_t rtp_ctx_pooled(const rtp_ctx *c) { return c->pooled; }
unsigned long rtp_ctx_dropped(const rtp_ctx *c) { return c->dropped; }
unsigned long rtp_ctx_rtcp(const rtp_ctx *c) { return c->rtcp; }
unsigned long rtp_ctx_serves(const rtp_ctx *c) { return c->serves; }
void rtp_ctx_set_pool_idle(rtp_ctx *c, double seconds) { c->pool_idle = seconds; }

/* ---- ports ---- */

/* Binds FD to a random port of the range (even first when EVEN, odd first
 * otherwise): BIND_TRIES ports at most (one another process holds costs a
 * try; it goes back to the free set afterwards, as that process may let it
 * go). -1 with c->why set when none could be bound. */
static int bind_port(rtp_ctx *c, int fd, bool even)
{
    int tried[BIND_TRIES], ntried = 0, port = -1;
    c->why = RTP_LIMIT_PORTS;
    while (ntried < BIND_TRIES) {
        int p = rtp_ports_take(c->ports, even, rng_next(c));
        if (p < 0)
            break;   /* every port of the range is ours (or was just tried) */
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p),
                                .sin_addr = c->bind_ip};
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            port = p;
            break;
        }
        tried[ntried++] = p;
        c->why = RTP_LIMIT_BIND;
        if (errno != EADDRINUSE && errno != EACCES) {
            c->why = RTP_LIMIT_SOCKET;
            break;
        }
    }
    for (int i = 0; i < ntried; i++)
        rtp_ports_put(c->ports, tried[i]);
    return port;
}
/* ---- sessions ---- */

/* The stream S received so far is over: its loss and jitter go to the totals. */
void rtp_stream_end(rtp_sess *s)
{
    rtp_ctx *c = s->c;
    c->lost_ended += rtp_rx_lost(&s->st);
    double j = rtp_rx_jitter_seconds(&s->st, G711_RATE);
    if (j >= 0)
        cr_hist_observe(&c->jitter, j);
    rtp_rx_reset(&s->st);
}

static void open_add(rtp_ctx *c, rtp_sess *s)
{
    s->live_prev = NULL;
    s->live_next = c->open;
    if (c->open)
        c->open->live_prev = s;
    c->open = s;
    c->open_count++;
}

static void open_del(rtp_ctx *c, rtp_sess *s)
{
    if (s->live_prev)
        s->live_prev->live_next = s->live_next;
    else
        c->open = s->live_next;
    if (s->live_next)
        s->live_next->live_prev = s->live_prev;
    s->live_prev = s->live_next = NULL;
    c->open_count--;
}

void rtp_ctx_totals(rtp_ctx *c, rtp_totals *out)
{
    unsigned long long lost = c->lost_ended;
    for (const rtp_sess *s = c->open; s; s = s->live_next)
        lost += rtp_rx_lost(&s->st);
    /* A late packet lowers an open stream's loss: the total shown never
     * goes down (it is a counter). */
    if (lost > c->lost_shown)
        c->lost_shown = lost;
    out->received = c->rx_total;
    out->sent = c->tx_total;
    out->lost = c->lost_shown;
    out->dropped = c->dropped;
    out->jitter = &c->jitter;
}

static void sess_reset(rtp_sess *s, const rtp_owner_ops *ops, void *owner)
{
    rtp_ctx *c = s->c;
    s->ops = ops;
    s->owner = owner;
    memset(&s->remote, 0, sizeof s->remote);
    memset(&s->sdp_remote, 0, sizeof s->sdp_remote);
    memset(&s->learned, 0, sizeof s->learned);
    s->learn = false;
    s->learn_left = 0;
    s->learn_until = 0;
    s->pt = 0;
    s->te_pt = -1;
    s->relay = NULL;
    s->want_audio = false;
    s->ev_seen = false;
    s->rx = s->tx = s->dropped = 0;
    s->srtp_failed = 0;
    rtp_rx_reset(&s->st);
    s->idle = false;
    s->ssrc = (uint32_t)rng_next(c);
    s->seq = (uint16_t)rng_next(c);
    s->ts = (uint32_t)rng_next(c);
}

static void pool_arm(rtp_ctx *c);

static rtp_sess *pool_take(rtp_ctx *c, const rtp_owner_ops *ops, void *owner)
{
    rtp_sess *s = c->pool_head;
    c->pool_head = s->pool_next;
    if (!c->pool_head)
        c->pool_tail = NULL;
    c->pooled--;
    sess_reset(s, ops, owner);
    open_add(c, s);
    return s;
}

/* A pooled socket serves a session that wants EVEN ports when its port
 * has that parity, or when no port of that parity is free anyway. */
static bool pool_fits(const rtp_ctx *c, const rtp_sess *s, bool even)
{
    return (s->port % 2 == 0) == even ||
           (even ? rtp_ports_available_even(c->ports) == 0
                 : rtp_ports_available(c->ports) == rtp_ports_available_even(c->ports));
}

static rtp_sess *open_session(rtp_ctx *c, const rtp_owner_ops *ops, void *owner, bool even)
{
    if (c->pool_head && loop_now(c->l) - c->pool_head->idle_since >= POOL_QUIET &&
        pool_fits(c, c->pool_head, even))
        return pool_take(c, ops, owner);
    int fd = -1, port = -1;
    if (c->open_count + c->pooled >= c->fd_budget) {
        /* a budget as large as the range is the range's limit */
        c->why = c->fd_budget < rtp_ports_total(c->ports) ? RTP_LIMIT_FILES : RTP_LIMIT_PORTS;
    } else if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        c->why = errno == EMFILE || errno == ENFILE ? RTP_LIMIT_FILES : RTP_LIMIT_SOCKET;
    } else {
        port = bind_port(c, fd, even);
    }
    if (port < 0) {
        if (fd >= 0)
            close(fd);
        /* No port left: a pooled socket still in its quiet time is better
         * than no call (a late packet of its old call is not from the new
         * peer: strict source drops it). */
        return c->pool_head ? pool_take(c, ops, owner) : NULL;
    }
    rtp_sess *s = cr_xcalloc(1, sizeof *s);
    s->c = c;
    s->fd = fd;
    s->port = port;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    if (c->rings ? !rtp_rings_attach(c->rings, s, fd) : epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        close(fd);
        rtp_ports_put(c->ports, s->port);
        free(s);
        /* every slot taken: closed sockets whose receive's end is not in yet */
        c->why = c->rings ? RTP_LIMIT_FILES : RTP_LIMIT_SOCKET;
        return NULL;
    }
    sess_reset(s, ops, owner);
    open_add(c, s);
    return s;
}

rtp_sess *rtp_open(rtp_ctx *c, const rtp_owner_ops *ops, void *owner)
{
    return open_session(c, ops, owner, true);
}

rtp_sess *rtp_open_muxed(rtp_ctx *c, const rtp_owner_ops *ops, void *owner)
{
    return open_session(c, ops, owner, false);
}

void rtp_close(rtp_sess *s)
{
    if (!s)
        return;
    rtp_ctx *c = s->c;
    sess_srtp_off(s);
    if (s->inband)
        dtmf_rx_free(s->inband);
    s->inband = NULL;
    rtp_stream_end(s);
    open_del(c, s);
    if (c->pooled < POOL_MAX && (!c->rings || rtp_rings_receiving(s))) {
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
        pool_arm(c);
        return;
    }
    sess_destroy(s);
}

/* Closes pooled sockets unused for pool_idle seconds (oldest first: the
 * pool is in the order they were closed), then waits for the next one. */
static void pool_sweep_cb(loop *l, void *arg)
{
    rtp_ctx *c = arg;
    c->pool_timer = NULL;
    double now = loop_now(l);
    while (c->pool_head && now - c->pool_head->idle_since >= c->pool_idle) {
        rtp_sess *s = c->pool_head;
        c->pool_head = s->pool_next;
        if (!c->pool_head)
            c->pool_tail = NULL;
        c->pooled--;
        sess_destroy(s);
    }
    pool_arm(c);
}

static void pool_arm(rtp_ctx *c)
{
    if (c->pool_timer || !c->pool_head)
        return;
    double due = c->pool_head->idle_since + c->pool_idle - loop_now(c->l);
    c->pool_timer = loop_timer_start(c->l, due > 0.05 ? due : 0.05, pool_sweep_cb, c);
}

int rtp_local_port(const rtp_sess *s) { return s->port; }
int rtp_payload_type(const rtp_sess *s) { return s->pt; }

void rtp_set_remote(rtp_sess *s, const struct sockaddr_in *addr, int pt, int te_pt)
{
    if (addr && addr->sin_port && addr->sin_addr.s_addr) {
        /* A new address in the SDP (the media moved) undoes what was
         * learned and opens learning again; the same one (a hold, a
         * refresh) keeps it. */
        if (!same_addr(addr, &s->sdp_remote)) {
            s->sdp_remote = peer_addr(addr);
            memset(&s->learned, 0, sizeof s->learned);
            s->learn_left = LEARN_PACKETS;
            s->learn_until = 0;
        }
        s->remote = peer_sockaddr(s->learned.port ? s->learned : s->sdp_remote);
    } else {
        memset(&s->remote, 0, sizeof s->remote);
    }
    s->pt = pt;
    s->te_pt = te_pt;
}

void rtp_learn(rtp_sess *s, bool on) { s->learn = on; }
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

unsigned long rtp_dropped(const rtp_sess *s) { return s->dropped; }

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
    uint8_t pkt[RTP_HDR_MIN + 320 + SRTP_MAX_TRAILER_LEN];
    if (n > 320)
        n = 320;
    size_t len = RTP_HDR_MIN + n;
    if (s->remote.sin_port) {
        put_hdr(s, pkt, s->pt, false);
        for (size_t i = 0; i < n; i++)
            pkt[RTP_HDR_MIN + i] = s->pt == 8 ? linear_to_alaw(pcm[i]) : linear_to_ulaw(pcm[i]);
        if (sess_srtp_seal(s, pkt, &len) && rtp_sess_send(s, pkt, len, false)) {
            s->tx++;
            s->c->tx_total++;
        }
    }
    s->ts += (uint32_t)n;
}

void rtp_send_payload(rtp_sess *s, const uint8_t *payload, size_t n)
{
    uint8_t pkt[RTP_HDR_MIN + 320 + SRTP_MAX_TRAILER_LEN];
    if (n > 320)
        n = 320;
    size_t len = RTP_HDR_MIN + n;
    if (s->remote.sin_port && !s->idle) {
        put_hdr(s, pkt, s->pt, false);
        memcpy(pkt + RTP_HDR_MIN, payload, n);
        if (sess_srtp_seal(s, pkt, &len) && rtp_sess_send(s, pkt, len, false)) {
            s->tx++;
            s->c->tx_total++;
        }
    }
    s->ts += (uint32_t)n;
}

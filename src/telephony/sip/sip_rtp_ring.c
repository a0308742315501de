/* sip_rtp_ring.c — RTP sockets held in io_uring's fixed-file tables
 * instead of the process's descriptor table (settings.media.rtp_io;
 * docs/decisions/rtp-ports.md, "io_uring: the fixed-file backend").
 *
 * Why: RLIMIT_NOFILE bounds the descriptor table, and a machine whose hard
 * limit is below what the port range needs (20,000 here: 10,000 calls with
 * media are 20,000 sockets, plus SIP's, the admin API's and the log's)
 * cannot be told otherwise without CAP_SYS_RESOURCE. A ring's fixed-file
 * table is a table of its own: each is capped at the soft limit when it is
 * registered, and several rings are not added up. A socket is made and
 * bound with an ordinary descriptor (which works on 6.1 as on later
 * kernels), put in a free slot of a ring, and its descriptor closed; from
 * then on it is used only through that ring:
 *
 * - receive: one multishot IORING_OP_RECVMSG per socket (the source address
 *   with each packet: the strict source check needs it) into the ring's
 *   provided buffers, which go back to the ring after the batch;
 * - send: IORING_OP_SENDMSG with MSG_DONTWAIT, so the kernel issues it at
 *   the submit or fails it (as a non-blocking sendto would) and never keeps
 *   the buffer: the relay's sends wait for the batch's one submit, any
 *   other send (prompts, the mixer, a relay into another ring) is
 *   submitted at once from its caller's buffer;
 * - close: the receive is cancelled, and the slot, the port and the
 *   session's memory are let go only at its last completion (completions
 *   already in the queue name the session).
 *
 * The rings use IORING_SETUP_DEFER_TASKRUN (6.1+; without it io_uring's
 * relay cost 12% more CPU a packet than epoll, measured): completions are
 * made only when the loop asks, woken by an eventfd the kernel signals. The
 * packet itself is handled by sip_rtp_recv.c, the same as from epoll. */
#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_rtp_sess.h"
#include "util/alloc.h"

#define RING_SQ 256
#define RING_CQ 8192
#define RINGS_MAX 64
/* A provided buffer: the kernel's recvmsg header and the source address,
 * then the packet, with RTP_BUF's room after it for an SRTP trailer. */
#define RING_BUF 2048
#define RING_HEAD (sizeof(struct io_uring_recvmsg_out) + sizeof(struct sockaddr_in))
_Static_assert(RING_HEAD + RTP_BUF <= RING_BUF, "a provided buffer holds a packet and its SRTP trailer");

/* user_data: the session (at least 8-aligned) and, in its low bits, what
 * completed. */
enum { UD_RECV = 0, UD_SEND = 1, UD_CANCEL = 2, UD_MASK = 7 };

/* sess->ring_state */
enum {
    RING_ARMED = 1,     /* a multishot receive is in flight */
    RING_CLOSING = 2,   /* closed: let go at its receive's last completion */
    RING_LATER = 4,     /* in the ring's list for the end of the batch */
    RING_FAILED = 8,    /* its last receive ended in an error (not ENOBUFS, not a cancel) */
    RING_DEAD = 16,     /* ended in an error twice with no packet between: not armed again */
};

typedef struct rtp_ring {
    rtp_rings *rings;
    struct io_uring u;
    int evfd;
    loop_watch *watch;
    bool in_batch;
    /* provided buffers (buffer group 0 of this ring) */
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    uint8_t *bufs;
    unsigned nbufs;
    unsigned *given;             /* buffer ids served this batch: back after its submit */
    unsigned ngiven;
    /* the fixed-file table: free slots as a stack */
    unsigned *free_slots;
    unsigned nfree, nslots;
    /* sessions to re-arm, or to let go, once the batch is over */
    rtp_sess **later;
    size_t nlater, later_cap;
    /* what a queued send points at, by SQE index, until the submit */
    struct msghdr send_mh[RING_SQ];
    struct iovec send_iov[RING_SQ];
    struct sockaddr_in send_to[RING_SQ];
} rtp_ring;

struct rtp_rings {
    rtp_ctx *c;
    rtp_ring *ring;
    unsigned n;
    size_t closing;              /* sessions whose last completion is awaited */
    bool stopping;               /* rtp_rings_free: completions only let go, no packet is served */
    struct msghdr recv_mh;       /* the multishot receives' template: a source address, no control data */
};

static rtp_ring *ring_of(const rtp_sess *s) { return &s->c->rings->ring[s->ring]; }

/* NULL only when a full queue could not be submitted (the kernel refused
 * the enter): a send is then lost, and a receive or a cancel waits for the
 * end of a batch (later), which the eventfd brings. */
static struct io_uring_sqe *sqe_get(rtp_ring *g)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&g->u);
    if (!sqe) {
        io_uring_submit(&g->u);   /* the queue is full: what is queued goes now */
        sqe = io_uring_get_sqe(&g->u);
    }
    return sqe;
}

static void later(rtp_ring *g, rtp_sess *s);

/* S's work goes to the end of a batch, and a batch is made to come. */
static void retry_later(rtp_ring *g, rtp_sess *s)
{
    later(g, s);
    eventfd_write(g->evfd, 1);
}

static void arm(rtp_ring *g, rtp_sess *s)
{
    struct io_uring_sqe *sqe = sqe_get(g);
    if (!sqe) {
        retry_later(g, s);
        return;
    }
    io_uring_prep_recvmsg_multishot(sqe, s->fd, &g->rings->recv_mh, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_RECV);
    s->ring_state |= RING_ARMED;
}

/* The session's receive is over and it was closed: its slot (the socket's
 * last reference), its port and its memory go. */
static void finish(rtp_ring *g, rtp_sess *s)
{
    int none = -1;
    io_uring_register_files_update(&g->u, (unsigned)s->fd, &none, 1);
    g->free_slots[g->nfree++] = (unsigned)s->fd;
    g->rings->closing--;
    rtp_sess_gone(s);
}

static void later(rtp_ring *g, rtp_sess *s)
{
    if (s->ring_state & RING_LATER)
        return;
    if (g->nlater == g->later_cap) {
        g->later_cap = g->later_cap ? 2 * g->later_cap : 64;
        g->later = cr_xrealloc(g->later, g->later_cap * sizeof *g->later);
    }
    g->later[g->nlater++] = s;
    s->ring_state |= RING_LATER;
}

static void on_cqe(rtp_ring *g, const struct io_uring_cqe *cqe)
{
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    if ((ud & UD_MASK) != UD_RECV)
        return;   /* a send the kernel refused (EAGAIN: lost, as sendto's would be), a cancel's own */
    rtp_sess *s = (rtp_sess *)(uintptr_t)ud;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        uint8_t *b = g->bufs + (size_t)bid * RING_BUF;
        g->given[g->ngiven++] = bid;
        struct io_uring_recvmsg_out *o;
        if (cqe->res > 0 && !(s->ring_state & RING_CLOSING) && !g->rings->stopping &&
            (o = io_uring_recvmsg_validate(b, cqe->res, &g->rings->recv_mh)) && !(o->flags & MSG_TRUNC) &&
            o->namelen == sizeof(struct sockaddr_in)) {
            struct sockaddr_in src;
            memcpy(&src, io_uring_recvmsg_name(o), sizeof src);
            s->ring_state &= (uint8_t)~RING_FAILED;
            if (src.sin_family == AF_INET)
                rtp_sess_packet(s, io_uring_recvmsg_payload(o, &g->rings->recv_mh),
                                io_uring_recvmsg_payload_length(o, cqe->res, &g->rings->recv_mh), &src);
        }
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        /* Cancelled, out of buffers (ENOBUFS) or failed: armed again, or
         * let go, once the batch has given its buffers back. An error that
         * comes back at once (twice with no packet between) would re-arm
         * every batch for nothing: that socket's receive stops there. */
        s->ring_state &= (uint8_t)~RING_ARMED;
        if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
            s->ring_state |= s->ring_state & RING_FAILED ? RING_DEAD : RING_FAILED;
        later(g, s);
    }
}

/* Asks the kernel to end S's receive (its last completion then lets S go). */
static void cancel(rtp_ring *g, rtp_sess *s)
{
    struct io_uring_sqe *sqe = sqe_get(g);
    if (!sqe) {
        retry_later(g, s);
        return;
    }
    io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)s | UD_RECV, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_CANCEL);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    if (!g->in_batch)
        io_uring_submit(&g->u);
}

/* The batch's sends go (the relay's point into buffers served in it), the
 * buffers go back, and receives that ended are armed again. */
static void batch_end(rtp_ring *g)
{
    io_uring_submit(&g->u);
    /* A submit the kernel cut short (it could not allocate) leaves sends
     * queued that point into this batch's buffers: those stay ours until
     * a later submit has taken them. */
    if (io_uring_sq_ready(&g->u) == 0) {
        int mask = io_uring_buf_ring_mask(g->nbufs);
        for (unsigned i = 0; i < g->ngiven; i++)
            io_uring_buf_ring_add(g->br, g->bufs + (size_t)g->given[i] * RING_BUF, (unsigned)(RING_HEAD + RTP_MAX),
                                  (unsigned short)g->given[i], mask, (int)i);
        io_uring_buf_ring_advance(g->br, (int)g->ngiven);
        g->ngiven = 0;
    }
    bool armed = false;
    /* Work that finds no room now (retry_later) is put after these, for
     * the next batch: not walked again here. */
    size_t n = g->nlater;
    for (size_t i = 0; i < n; i++) {
        rtp_sess *s = g->later[i];
        s->ring_state &= (uint8_t)~RING_LATER;
        if (s->ring_state & RING_CLOSING) {
            if (s->ring_state & RING_ARMED)
                cancel(g, s);   /* its cancel found no room before */
            else
                finish(g, s);
        } else if (!(s->ring_state & (RING_ARMED | RING_DEAD))) {
            arm(g, s);
            armed = true;
        }
    }
    if (g->nlater > n)
        memmove(g->later, g->later + n, (g->nlater - n) * sizeof *g->later);
    g->nlater -= n;
    if (armed)
        io_uring_submit(&g->u);
}

/* A cheap round that brings this many completions may have been cut
 * short by the kernel's 20 deferred items an enter: the next round drains. */
#define RING_BUSY 16

/* Serves what the kernel has: its deferred work run into completions,
 * then each completion, in rounds while they bring completions (then the
 * eventfd brings the loop back after its other work).
 * A round is one io_uring_enter of one of two kinds:
 * - cheap (IORING_ENTER_GETEVENTS, no wait): recent kernels (6.18 here)
 *   run at most 20 deferred items an enter (IO_LOCAL_TW_DEFAULT_MAX), and
 *   what they leave is not signalled again — alone, the relay fell behind
 *   its packets and lost them (67% at 500 calls in media_bench
 *   --io-uring; 34% at 250 with rounds);
 * - draining (asks for RING_CQ completions with a zero timeout): every
 *   deferred item runs, but the wait it sets up (an hrtimer) is dear on a
 *   paravirtualised VM: 15% of the core at 3,000 calls/s of SIP without
 *   RTP, where each serve finds a few completions (a call's receives armed
 *   and cancelled).
 * So a serve starts cheap and drains once a round brings RING_BUSY or more
 * (the relay under load); a few completions are all there was.
 * What a cheap round can still leave: 20 items that made fewer than
 * RING_BUSY completions (datagrams the receive dropped, a bad checksum),
 * with more behind them. Those wait for the ring's next signal: the next
 * packet, or the next call's receive armed or cancelled; a session closed
 * meanwhile holds its port and slot until then (rtp-ports.md). */
static void ring_serve(rtp_ring *g)
{
    bool drain = false;
    for (int round = 0;; round++) {
        if (drain) {
            struct __kernel_timespec zero = {0};
            struct io_uring_cqe *first;
            io_uring_submit_and_wait_timeout(&g->u, &first, RING_CQ, &zero, NULL);
        } else {
            io_uring_submit_and_get_events(&g->u);
        }
        g->in_batch = true;
        unsigned head, seen = 0;
        struct io_uring_cqe *cqe;
        io_uring_for_each_cqe(&g->u, head, cqe) {
            on_cqe(g, cqe);
            seen++;
        }
        io_uring_cq_advance(&g->u, seen);
        g->in_batch = false;
        batch_end(g);
        if (seen == 0)
            return;
        if (round == 8) {
            eventfd_write(g->evfd, 1);
            return;
        }
        drain = drain || seen >= RING_BUSY;
    }
}

static void ring_ready_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)events;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) {
        /* EAGAIN: woken for nothing; the completions are looked at anyway */
    }
    rtp_ring *g = arg;
    g->rings->c->serves++;
    ring_serve(g);
}

/* ---- a ring ---- */

static void ring_exit(rtp_ring *g)
{
    if (g->watch)
        loop_unwatch(g->rings->c->l, g->watch);
    if (g->u.ring_fd > 0)
        io_uring_queue_exit(&g->u);   /* closes the table's sockets */
    if (g->evfd >= 0)
        close(g->evfd);
    if (g->br)
        munmap(g->br, g->br_bytes);
    if (g->bufs)
        munmap(g->bufs, (size_t)g->nbufs * RING_BUF);
    free(g->given);
    free(g->free_slots);
    free(g->later);
}

static unsigned pow2_at_least(unsigned n)
{
    unsigned p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* A ring with a table of SLOTS free slots; 0, or -errno and what failed. */
static int ring_init(rtp_ring *g, rtp_rings *r, unsigned slots, const char **what)
{
    g->rings = r;
    g->evfd = -1;
    struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
                                         IORING_SETUP_DEFER_TASKRUN,
                                .cq_entries = RING_CQ};
    /* DEFER_TASKRUN is 6.1's, as are multishot receives with a source
     * address (6.0): a kernel that refuses it is not used (epoll is). */
    int ret = io_uring_queue_init_params(RING_SQ, &g->u, &p);
    if (ret < 0) {
        g->u.ring_fd = -1;
        *what = ret == -EINVAL ? "io_uring_setup with DEFER_TASKRUN (Linux 6.1+)" : "io_uring_setup";
        return ret;
    }
    if (!(p.features & IORING_FEAT_NODROP)) {
        *what = "io_uring without IORING_FEAT_NODROP (Linux 5.5+)";
        return -ENOTSUP;
    }
    if ((ret = io_uring_register_files_sparse(&g->u, slots)) < 0) {
        *what = "io_uring_register_files_sparse";
        return ret;
    }
    /* Buffers: an eighth of the slots' sockets may each have a packet
     * served in one batch before they are back; a receive that finds none
     * left ends (ENOBUFS) and is armed again after the batch. */
    unsigned want = slots / 8 < 64 ? 64 : slots / 8 > 2048 ? 2048 : slots / 8;
    g->nbufs = pow2_at_least(want);
    g->br_bytes = (size_t)g->nbufs * sizeof(struct io_uring_buf);
    void *m = mmap(NULL, g->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    void *b = mmap(NULL, (size_t)g->nbufs * RING_BUF, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    g->br = m == MAP_FAILED ? NULL : m;
    g->bufs = b == MAP_FAILED ? NULL : b;
    if (!g->br || !g->bufs) {
        *what = "mmap of the receive buffers";
        return -ENOMEM;
    }
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)g->br, .ring_entries = g->nbufs, .bgid = 0};
    if ((ret = io_uring_register_buf_ring(&g->u, &reg, 0)) < 0) {
        *what = "io_uring_register_buf_ring (Linux 5.19+)";
        return ret;
    }
    io_uring_buf_ring_init(g->br);
    g->given = cr_xcalloc(g->nbufs, sizeof *g->given);
    for (unsigned i = 0; i < g->nbufs; i++)
        g->given[g->ngiven++] = i;
    batch_end(g);   /* every buffer to the kernel */
    if ((g->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        *what = "eventfd";
        return -errno;
    }
    if ((ret = io_uring_register_eventfd(&g->u, g->evfd)) < 0) {
        *what = "io_uring_register_eventfd";
        return ret;
    }
    g->nslots = slots;
    g->free_slots = cr_xcalloc(slots, sizeof *g->free_slots);
    for (unsigned i = 0; i < slots; i++)
        g->free_slots[g->nfree++] = slots - 1 - i;
    g->watch = loop_watch_fd(r->c->l, g->evfd, LOOP_READ, ring_ready_cb, g);
    return 0;
}

/* ---- the rings ---- */

rtp_rings *rtp_rings_new(rtp_ctx *c, size_t sockets, char *why, size_t whylen)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        snprintf(why, whylen, "getrlimit: %s", strerror(errno));
        return NULL;
    }
    /* The kernel takes a table of at most the soft limit. */
    size_t per = lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > (1u << 20) / RINGS_MAX
                     ? (1u << 20) / RINGS_MAX
                     : (size_t)lim.rlim_cur;
    if (per < 16) {
        snprintf(why, whylen, "an open-files limit of %zu", per);
        return NULL;
    }
    size_t n = (sockets + per - 1) / per;
    if (n > RINGS_MAX)
        n = RINGS_MAX;
    if (n == 0)
        n = 1;
    rtp_rings *r = cr_xcalloc(1, sizeof *r);
    r->c = c;
    r->ring = cr_xcalloc(n, sizeof *r->ring);
    r->recv_mh.msg_namelen = sizeof(struct sockaddr_in);
    for (size_t i = 0; i < n; i++) {
        size_t left = sockets > i * per ? sockets - i * per : 0;
        const char *what = "";
        int ret = ring_init(&r->ring[i], r, (unsigned)(left < per ? (left ? left : per) : per), &what);
        r->n++;
        if (ret < 0) {
            snprintf(why, whylen, "%s: %s", what, strerror(-ret));
            rtp_rings_free(r);
            return NULL;
        }
    }
    return r;
}

size_t rtp_rings_capacity(const rtp_rings *r)
{
    size_t n = 0;
    for (unsigned i = 0; i < r->n; i++)
        n += r->ring[i].nslots;
    return n;
}

unsigned rtp_rings_count(const rtp_rings *r) { return r->n; }

void rtp_rings_free(rtp_rings *r)
{
    if (!r)
        return;
    /* Closed sessions still waiting for their receive's last completion:
     * it comes at once after the cancel, but a kernel runs only so many
     * deferred completions an io_uring_enter (20 a pass from 6.13): a
     * server stopping with thousands of sessions needs as many rounds as
     * that takes. Rounds go on while they make progress; 100 in a row
     * without any (10 ms each) and what is left is given up. */
    r->stopping = true;
    for (int idle = 0; r->closing && idle < 100;) {
        size_t before = r->closing;
        for (unsigned i = 0; i < r->n; i++) {
            rtp_ring *g = &r->ring[i];
            if (g->u.ring_fd <= 0)
                continue;
            struct __kernel_timespec ts = {.tv_nsec = 10 * 1000 * 1000};
            struct io_uring_cqe *cqe;
            io_uring_submit_and_wait_timeout(&g->u, &cqe, 1, &ts, NULL);
            ring_serve(g);
        }
        idle = r->closing < before ? 0 : idle + 1;
    }
    for (unsigned i = 0; i < r->n; i++)
        ring_exit(&r->ring[i]);
    free(r->ring);
    free(r);
}

bool rtp_rings_attach(rtp_rings *r, rtp_sess *s, int fd)
{
    for (unsigned i = 0; i < r->n; i++) {
        rtp_ring *g = &r->ring[i];
        if (!g->nfree)
            continue;
        unsigned slot = g->free_slots[g->nfree - 1];
        if (io_uring_register_files_update(&g->u, slot, &fd, 1) != 1)
            continue;
        g->nfree--;
        close(fd);   /* the table holds the socket now */
        s->fd = (int)slot;
        s->ring = (uint8_t)i;
        s->ring_state = 0;
        arm(g, s);
        if (!g->in_batch)
            io_uring_submit(&g->u);
        return true;
    }
    return false;
}

void rtp_rings_detach(rtp_sess *s)
{
    rtp_ring *g = ring_of(s);
    s->ring_state |= RING_CLOSING;
    g->rings->closing++;
    if (s->ring_state & RING_ARMED) {
        cancel(g, s);
    } else if (g->in_batch) {
        later(g, s);   /* sends queued in this batch may name its slot: after the batch's submit */
    } else if (!(s->ring_state & RING_LATER)) {
        io_uring_submit(&g->u);
        finish(g, s);
    }
}

bool rtp_rings_send(rtp_sess *s, const uint8_t *pkt, size_t n, bool in_batch_buffer)
{
    rtp_ring *g = ring_of(s);
    struct io_uring_sqe *sqe = sqe_get(g);
    if (!sqe)
        return false;
    unsigned i = (unsigned)(sqe - g->u.sq.sqes);
    g->send_to[i] = s->remote;
    g->send_iov[i] = (struct iovec){.iov_base = (void *)pkt, .iov_len = n};
    g->send_mh[i] = (struct msghdr){.msg_name = &g->send_to[i], .msg_namelen = sizeof g->send_to[i],
                                    .msg_iov = &g->send_iov[i], .msg_iovlen = 1};
    io_uring_prep_sendmsg(sqe, s->fd, &g->send_mh[i], MSG_DONTWAIT);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_SEND);
    /* Only a buffer of this ring's batch outlives the call until the
     * batch's submit; any other goes now. */
    if (in_batch_buffer && g->in_batch)
        return true;
    io_uring_submit(&g->u);
    if (io_uring_sq_ready(&g->u) == 0)
        return true;
    io_uring_prep_nop(sqe);   /* not taken: it must not send the caller's buffer later */
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_SEND);
    return false;
}

bool rtp_rings_receiving(const rtp_sess *s) { return !(s->ring_state & RING_DEAD); }

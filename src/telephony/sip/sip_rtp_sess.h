/* sip_rtp_sess.h — the RTP session (private to the RTP module): sip_rtp.c
 * owns sessions (sockets, sending, receiving, the relay); sip_srtp.c keeps
 * their SRTP contexts, which it reads and writes in the session itself so
 * the packet path stays one struct. Not for the rest of the folder: they
 * know a session only through sip_int.h's rtp_* calls. */
#ifndef CALLROUTE_SIP_RTP_SESS_H
#define CALLROUTE_SIP_RTP_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spandsp.h>
#include <srtp2/srtp.h>

#include "telephony/sip/rtp_ports.h"
#include "telephony/sip/rtp_stats.h"
#include "telephony/sip/sip_int.h"

/* SRTP streams an outbound context keeps: relayed packets keep their
 * sender's SSRC, and libsrtp2 adds a stream for each new one; a plain-RTP
 * peer changing SSRC on every packet must not grow a call's memory. */
#define SRTP_OUT_SSRCS 4

/* An IPv4 address and port, network order: the SDP's and the learned
 * one (8 B each instead of a 16 B sockaddr_in; the one we send to is). */
typedef struct rtp_peer_addr {
    in_addr_t addr;
    in_port_t port;            /* 0: none */
} rtp_peer_addr;

/* Pointers and other 8-byte fields first, then the 4-, 2- and 1-byte
 * ones, no padding; what only an open session or only a closed one needs
 * shares its bytes: 224 B, a mimalloc size class (it was 296 B, a 320 B
 * block: docs/decisions/sip-core.md, "Held-call memory (nta)"). */
struct rtp_sess {
    rtp_ctx *c;
    const rtp_owner_ops *ops;
    void *owner;
    /* The peer: where we send, and the only source accepted. */
    struct sockaddr_in remote;   /* port 0: none (no SDP yet, or a c=0.0.0.0 hold) */
    rtp_peer_addr sdp_remote;    /* what the SDP said */
    rtp_peer_addr learned;       /* symmetric RTP: the source learned; port 0: none */
    double learn_until;          /* 0: set by the first packet */
    rtp_sess *relay;             /* forward what we receive to this session's remote */
    dtmf_rx_state_t *inband;
    unsigned long rx, tx, dropped;
    /* SRTP (docs/decisions/srtp.md, sip_srtp.c): its contexts and keys;
     * NULL: plain RTP. Apart from the session because most sessions never
     * use it (~130 B less a session: docs/decisions/sip-core.md, "Held-call
     * memory (nta)"). */
    struct sess_srtp *srtp;
    unsigned long srtp_failed;   /* packets that failed authentication (or replays) */
    rtp_rx_stats st;             /* the stream received now (RFC 3550 A.1, A.8) */
    /* Open, a session is in c->open; closed, it is either in the pool
     * (since IDLE_SINCE) or freed after the batch being served: never two
     * of them at once. */
    union {
        struct {
            rtp_sess *live_prev, *live_next;
        };
        struct {
            union {
                rtp_sess *pool_next;
                rtp_sess *dead_next;
            };
            double idle_since;
        };
    };
    int fd, port;                /* fd: a descriptor, or (c->rings) a slot of ring RING's table */
    unsigned learn_left;         /* packets the source may still be learned from */
    int pt, te_pt;               /* our audio PT; the remote's telephone-event PT */
    /* our own stream (prompts, tones) */
    uint32_t ssrc, ts;
    /* RFC 4733: the event we reported last (its RTP timestamp) */
    uint32_t ev_ts;
    uint16_t seq;
    bool learn;                  /* symmetric RTP allowed for this peer */
    bool want_audio;
    bool ev_seen;
    bool idle;                   /* in the pool: packets are dropped */
    uint8_t ring, ring_state;    /* c->rings: which ring holds the socket; sip_rtp_ring.c's state */
};

/* sip_srtp.c */
void sess_srtp_off(rtp_sess *s);
bool sess_srtp_seal(rtp_sess *s, uint8_t *pkt, size_t *n);
bool sess_srtp_open(rtp_sess *s, uint8_t *pkt, size_t *n);

/* ---- the context (sip_rtp.c), what the receive path (sip_rtp_recv.c)
 * reads and counts too ---- */

#define RTP_MAX 1500
/* Room after a packet for what srtp_protect appends (the auth tag). */
#define RTP_BUF (RTP_MAX + SRTP_MAX_TRAILER_LEN)

/* Symmetric RTP: the source may be learned from the first LEARN_PACKETS
 * packets after an SDP named a new address, and for at most LEARN_SECONDS
 * after the first of them; after that a new source is dropped. */
#define LEARN_PACKETS 10
#define LEARN_SECONDS 3.0

/* A new socket tries this many random ports (another process may hold
 * some of the range) before the open fails. */
#define BIND_TRIES 16

/* Descriptors kept for everything else (sofia's sockets and TCP
 * connections, the admin API's connections, services, prompt and
 * recording files): RTP sockets stop this far below the open-files limit. */
#define FD_RESERVE 1024

typedef struct rtp_rings rtp_rings;

struct rtp_ctx {
    loop *l;
    int epfd;                    /* the sockets' epoll set; -1 with rings */
    rtp_rings *rings;            /* settings.media.rtp_io io_uring: sockets in fixed-file tables */
    char io_note[160];           /* why io_uring is not used where it was asked for; "": it is, or was not asked */
    loop_watch *watch;
    struct in_addr bind_ip;
    int port_min, port_max;
    rtp_ports *ports;            /* the range's ports no socket of ours holds */
    size_t fd_budget;            /* RTP sockets (open and pooled) at most: the open-files limit */
    rtp_limit why;               /* what the last failed open ran into */
    uint64_t rng;                /* ports, SSRCs, sequence numbers: not guessable */
    size_t open_count;
    bool dispatching;
    rtp_sess *dead;              /* closed during a dispatch: freed after it */
    /* Closed sessions keep their socket for reuse (a call costs no socket,
     * bind, epoll_ctl or close), oldest first, once quiet for POOL_QUIET s
     * so a late packet of the old call cannot be taken for the new one.
     * One unused for pool_idle s is closed (pool_timer), so the process's
     * descriptors fall back after a peak. */
    rtp_sess *pool_head, *pool_tail;
    size_t pooled;
    double pool_idle;
    loop_timer *pool_timer;
    unsigned long dropped;       /* packets from a source that is not the peer */
    unsigned long rtcp;          /* RTCP packets (RFC 5761 4) met on RTP ports: discarded */
    unsigned long serves;        /* loop turns that served RTP (epoll's readiness, a ring's eventfd) */
    /* For GET /metrics: packets of every session, closed ones included;
     * each stream's loss and jitter (RFC 3550) added when it ends, the open
     * sessions' current ones when asked (rtp_ctx_totals). */
    unsigned long long rx_total, tx_total, lost_ended, lost_shown;
    cr_histogram jitter;
    rtp_sess *open;              /* open sessions (live_prev/live_next) */
};

#define G711_RATE 8000

/* The stream S received so far is over: its loss and jitter go to the
 * context's totals (sip_rtp.c). */
void rtp_stream_end(rtp_sess *s);

/* A peer's address as the session keeps it (8 B) and as sockets take it. */
static inline bool same_addr(const struct sockaddr_in *a, const rtp_peer_addr *b)
{
    return a->sin_addr.s_addr == b->addr && a->sin_port == b->port;
}

static inline rtp_peer_addr peer_addr(const struct sockaddr_in *a)
{
    return (rtp_peer_addr){.addr = a->sin_addr.s_addr, .port = a->sin_port};
}

static inline struct sockaddr_in peer_sockaddr(rtp_peer_addr p)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = p.port, .sin_addr.s_addr = p.addr};
}

/* The context's epoll set is readable: each ready session's packet in
 * (sip_rtp_recv.c). */
void rtp_ctx_ready_cb(loop *l, int fd, unsigned events, void *arg);

/* A packet received on S from SRC (either backend); PKT has RTP_BUF bytes
 * of room (sip_rtp_recv.c). */
void rtp_sess_packet(rtp_sess *s, uint8_t *pkt, size_t n, const struct sockaddr_in *src);

/* Sends PKT to S's peer; IN_BATCH_BUFFER: PKT lives until the end of the
 * ring batch being served (a relayed packet), so an io_uring send may wait
 * for the batch's one submit. True when handed to the kernel. */
bool rtp_sess_send(rtp_sess *s, const uint8_t *pkt, size_t n, bool in_batch_buffer);

/* S's socket is closed for good (its port free again) and S freed: what
 * the ring calls once S's last completion is in (sip_rtp.c). */
void rtp_sess_gone(rtp_sess *s);

/* ---- sip_rtp_ring.c: the sockets in io_uring's fixed-file tables ---- */

/* Rings whose tables hold SOCKETS sockets (each table at most the soft
 * open-files limit); NULL with WHY when io_uring cannot be used here. */
rtp_rings *rtp_rings_new(rtp_ctx *c, size_t sockets, char *why, size_t whylen);
void rtp_rings_free(rtp_rings *r);
size_t rtp_rings_capacity(const rtp_rings *r);
unsigned rtp_rings_count(const rtp_rings *r);
/* Takes the bound socket FD into a free slot (FD closed) and starts
 * receiving on it; false (FD still the caller's) when every slot is taken. */
bool rtp_rings_attach(rtp_rings *r, rtp_sess *s, int fd);
/* S is closed: its receive cancelled; rtp_sess_gone(S) once it is over. */
void rtp_rings_detach(rtp_sess *s);
bool rtp_rings_send(rtp_sess *s, const uint8_t *pkt, size_t n, bool in_batch_buffer);
/* False when S's receive was given up (it failed twice in a row): not pooled. */
bool rtp_rings_receiving(const rtp_sess *s);

#endif

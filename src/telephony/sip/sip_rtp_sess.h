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
    int fd, port;
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
};

/* sip_srtp.c */
void sess_srtp_init(void);
void sess_srtp_off(rtp_sess *s);
bool sess_srtp_seal(rtp_sess *s, uint8_t *pkt, size_t *n);
bool sess_srtp_open(rtp_sess *s, uint8_t *pkt, size_t *n);

#endif

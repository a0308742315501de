/* sip_int.h — private to src/telephony/sip: the driver, legs, forks, RTP
 * sessions and media operations. Every file of the folder includes this
 * first, so sofia-sip's "magic" pointer types agree across the folder. */
#ifndef SIP_INT_H
#define SIP_INT_H

#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

struct sip_driver;
#define SU_ROOT_MAGIC_T void
#define SU_TIMER_ARG_T void
#define SU_WAKEUP_ARG_T void

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/sip.h>

#include "loop/loop.h"
#include "config/telephony.h"
#include "telephony/sip/sip.h"
#include "telephony/sip/sip_peek.h"
#include "telephony/sip/sip_sdes.h"
#include "telephony/tel.h"
#include "util/histogram.h"

typedef struct sip_driver sip_driver;
typedef struct tel_leg sip_leg;
typedef struct sip_fork sip_fork;
typedef struct rtp_ctx rtp_ctx;
typedef struct rtp_sess rtp_sess;
typedef struct sip_registrar sip_registrar;
typedef struct sip_room sip_room;
typedef struct sip_mix sip_mix;

/* ---- sip_guard.c: what sofia may do with what the network sends ---- */
/* On: sofia resolves no names (a Via host, maddr) with a blocking call. */
void sip_dns_guard(bool on);
unsigned long sip_dns_guard_refused(void);   /* names sofia was refused */
/* FN sees every UDP datagram sofia receives, before it is parsed; false:
 * it is dropped unanswered. NULL: none. */
typedef bool (*sip_recv_filter_fn)(void *arg, const struct sockaddr_in *src, const void *data,
                                   size_t n);
void sip_guard_recv_filter(sip_recv_filter_fn fn, void *arg);
/* Forgets a datagram received ahead of sofia and not taken (only when
 * sofia could not allocate for it): before its sockets close. */
void sip_guard_drop_held(void);
/* The driver's filter (sip_admit.c): counts each datagram and holds it
 * against settings.sip.flood; ARG is the sip_driver. */
bool sip_recv_filter_cb(void *arg, const struct sockaddr_in *src, const void *data, size_t n);

/* ---- sip_loop.c ---- */
su_root_t *sip_loop_root(loop *l);

/* ---- sip_sdp.c: our SDP, parsed or built (no stack offer/answer) ---- */
typedef enum { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE } sip_mode;

typedef struct sip_media_desc {
    struct sockaddr_in addr;   /* remote RTP address; port 0: none */
    bool null_addr;            /* c=0.0.0.0 (RFC 2543 hold) */
    int pts[8];                /* audio payload types we can use (0, 8), offer order */
    int npt;
    int te_pt;                 /* telephone-event payload type, -1: none */
    sip_mode mode;             /* the remote's direction */
    bool rtcp_mux;             /* a=rtcp-mux (RFC 5761): RTCP on the RTP port */
    bool savp;                 /* m= RTP/SAVP: SRTP only */
    sdes_crypto crypto[4];     /* a=crypto lines we support (RFC 4568), offer order */
    int ncrypto;
} sip_media_desc;

/* What a leg keeps of the remote's last SDP: the parts read after the
 * offer/answer (hold, direction, RFC 4733, rtcp-mux). Not the whole
 * sip_media_desc: its crypto lines, payload types and address are read
 * once, when the SDP comes, and were ~220 B of every leg
 * (docs/decisions/sip-core.md, "Held-call memory (nta)"). */
typedef struct sip_remote_media {
    sip_mode mode;
    int te_pt;
    bool null_addr, rtcp_mux;
} sip_remote_media;
void sip_remote_media_keep(sip_remote_media *out, const sip_media_desc *m);

/* 0, or -1 when there is no usable audio stream (ERR says why). */
int sip_sdp_parse(const char *sdp, size_t len, sip_media_desc *out, char *err, size_t errlen);
/* SDP is an SDP message at all (RFC 4566 syntax, as sofia reads it),
 * whatever its streams: what `media: bypass` asks of a body it cannot
 * have refused (an ACK's answer). */
bool sip_sdp_well_formed(const char *sdp, size_t len);
/* The remote puts us on hold (sendonly, inactive or c=0.0.0.0). */
bool sip_sdp_is_hold(const sip_media_desc *m);
/* RTCP_MUX: a=rtcp-mux, in every offer of ours and in an answer to an
 * offer that has it (RFC 5761 5.1.1; never unasked, RFC 8035). */
/* SAVP: the m= line says RTP/SAVP; CRYPTO (NULL: none) our a=crypto line. */
size_t sip_sdp_build(char *buf, size_t size, const char *ip, int port, unsigned long sess,
                     unsigned ver, const int *pts, int npt, int te_pt, sip_mode mode, bool rtcp_mux,
                     bool savp, const sdes_crypto *crypto);
/* Whether our SDP carries a=rtcp-mux: always in an offer; in an answer,
 * when the offer (REMOTE, NULL: none) had it. */
bool sip_sdp_rtcp_mux(bool offer, const sip_media_desc *remote);
/* The same with what a leg kept of the remote's last SDP (NULL: none). */
bool sip_sdp_rtcp_mux_kept(bool offer, const sip_remote_media *remote);
/* SRTP offer/answer (RFC 4568 with settings.media.srtp): what a leg with
 * POLICY does with an SDP. PLAIN: RTP; ON: SRTP with *CHOSEN, the remote's
 * key (its tag and suite are ours too); REFUSE: 488 (an offer), or the
 * answer fails the dial. */
typedef enum { SIP_SRTP_PLAIN, SIP_SRTP_ON, SIP_SRTP_REFUSE } sip_srtp_use;
/* The remote offers M: off takes no SRTP-only (RTP/SAVP) offer; optional
 * takes crypto when offered; required takes nothing else. */
sip_srtp_use sip_srtp_offer_use(cfg_srtp policy, const sip_media_desc *m, const sdes_crypto **chosen);
/* The remote answers M to our offer, which carried OFFERED (NULL: none):
 * a crypto line with our tag and suite is SRTP; without one, required
 * fails, and an RTP/SAVP answer never comes with plain RTP. */
sip_srtp_use sip_srtp_answer_use(cfg_srtp policy, const sdes_crypto *offered, const sip_media_desc *m,
                                 const sdes_crypto **chosen);

/* ---- sip_rtp.c: RTP sockets, G.711, RFC 4733, the relay ---- */
typedef struct rtp_owner_ops {
    void (*dtmf)(void *owner, char digit);                    /* RFC 4733 or in-band */
    void (*audio)(void *owner, const int16_t *pcm, size_t n); /* decoded, when wanted */
} rtp_owner_ops;

/* Sockets bind IP (NULL: any address) on ports of PORT_MIN-PORT_MAX, one
 * per session (docs/decisions/rtp-ports.md). The open-files limit is raised
 * toward what the range needs; IO says how sockets are held (epoll, or
 * io_uring's fixed-file tables past that limit: sip_rtp_ring.c). */
rtp_ctx *rtp_ctx_new(loop *l, const char *ip, int port_min, int port_max, cfg_rtp_io io);
/* How the sockets are held, for the start-up log: "io_uring: ..." or
 * "epoll" (with why io_uring is not, where it was asked for). */
size_t rtp_ctx_io_text(const rtp_ctx *c, char *buf, size_t n);
bool rtp_ctx_uses_io_uring(const rtp_ctx *c);
void rtp_ctx_free(rtp_ctx *c);
/* Sessions the range holds (a port each) within what the open-files limit
 * allows; sessions that could be opened now; open now; closed sockets kept
 * for reuse. */
size_t rtp_ctx_capacity(const rtp_ctx *c);
/* The ports of the range (capacity is less when the open-files limit is). */
size_t rtp_ctx_ports(const rtp_ctx *c);
size_t rtp_ctx_available(const rtp_ctx *c);
size_t rtp_ctx_open_count(const rtp_ctx *c);
size_t rtp_ctx_pooled(const rtp_ctx *c);
/* Why the last rtp_open failed: the limit it ran into. */
typedef enum {
    RTP_LIMIT_PORTS,     /* every port of the range is one of our sockets */
    RTP_LIMIT_BIND,      /* the ports tried are held by other processes */
    RTP_LIMIT_FILES,     /* the open-files limit (less what is kept for the rest) */
    RTP_LIMIT_SOCKET,    /* socket(), bind() or epoll failed otherwise */
} rtp_limit;
rtp_limit rtp_ctx_limit(const rtp_ctx *c);
/* What bounds rtp_ctx_available now: the free ports or the descriptors. */
rtp_limit rtp_ctx_short(const rtp_ctx *c);
/* Its name for logs and /refused: "rtp_ports", "open_files", "rtp_socket". */
const char *rtp_limit_reason(rtp_limit why);
/* A sentence naming the limit and its size, for the log line. */
size_t rtp_ctx_limit_text(const rtp_ctx *c, rtp_limit why, char *buf, size_t n);
/* Packets dropped because they came from a source that is not the peer;
 * RTCP packets met on RTP ports (discarded: we process no RTCP). */
unsigned long rtp_ctx_dropped(const rtp_ctx *c);
unsigned long rtp_ctx_rtcp(const rtp_ctx *c);
/* Loop turns that served RTP (a test's measure of how much one turn serves). */
unsigned long rtp_ctx_serves(const rtp_ctx *c);
/* Every session's packets since the start (closed ones included), for
 * GET /metrics: received from peers, sent, lost (RFC 3550: expected -
 * received per stream, never going down), dropped for their source; and
 * the interarrival jitter of each stream when it ended (seconds). */
typedef struct rtp_totals {
    unsigned long long received, sent, lost, dropped;
    const cr_histogram *jitter;
} rtp_totals;
void rtp_ctx_totals(rtp_ctx *c, rtp_totals *out);
/* A pooled socket unused this long is closed (default 5 s; tests). */
void rtp_ctx_set_pool_idle(rtp_ctx *c, double seconds);
/* A session on a random free port: an even one (RFC 3550 11) for a peer
 * that may send RTCP to port + 1, or is not known yet (our offer); NULL
 * when no port or descriptor is left (rtp_ctx_limit says which). */
rtp_sess *rtp_open(rtp_ctx *c, const rtp_owner_ops *ops, void *owner);
/* The same for a peer that multiplexes RTCP (RFC 5761): odd ports first,
 * the even ones are kept for peers that do not. */
rtp_sess *rtp_open_muxed(rtp_ctx *c, const rtp_owner_ops *ops, void *owner);
void rtp_close(rtp_sess *s);
int rtp_local_port(const rtp_sess *s);
/* Where to send and how: PT is our audio payload type (0 or 8), TE_PT the
 * remote's telephone-event type (-1: none); ADDR NULL or port 0: send
 * nothing. Packets are accepted only from that address (strict source),
 * or from the one learned with rtp_learn. */
void rtp_set_remote(rtp_sess *s, const struct sockaddr_in *addr, int pt, int te_pt);
/* Symmetric RTP for a peer behind NAT: the first packets after an SDP
 * (10, within 3 s of the first) may move the peer to where they come from. */
void rtp_learn(rtp_sess *s, bool on);
/* SRTP with these keys: TX encrypts what we send (relayed or our own),
 * RX decrypts what the peer sends; NULL: plain RTP. The same keys again
 * keep the streams. -1: libsrtp2 refused them (the session is plain). */
int rtp_set_srtp(rtp_sess *s, const sdes_crypto *tx, const sdes_crypto *rx);
/* libsrtp2 (and the NSS under it) made ready for this process, once: before
 * any other libsrtp2 call (rtp_ctx_new calls it; so must a program that
 * makes libsrtp2 contexts of its own first). false: SRTP is unavailable. */
bool rtp_srtp_init(void);
/* What libsrtp2's AES-CM and HMAC-SHA1 run on after rtp_srtp_init:
 * "openssl" (sip_srtp_ossl.c), or "nss" (Debian's libsrtp2 as built). */
const char *rtp_srtp_backend(void);
bool rtp_srtp(const rtp_sess *s);
/* Packets dropped because they failed SRTP authentication or replayed. */
unsigned long rtp_srtp_failed(const rtp_sess *s);
int rtp_payload_type(const rtp_sess *s);
/* Relay what S receives to PEER's remote (NULL stops). One direction. */
void rtp_set_relay(rtp_sess *s, rtp_sess *peer);
/* Decoded audio to the owner's audio callback (recording, in-band DTMF). */
void rtp_want_audio(rtp_sess *s, bool on);
void rtp_inband_dtmf(rtp_sess *s, bool on);
/* Sends 160 samples (20 ms) encoded with the session's payload type. */
void rtp_send_pcm(rtp_sess *s, const int16_t *pcm, size_t n);
/* Sends N bytes already encoded in the session's payload type (a mix). */
void rtp_send_payload(rtp_sess *s, const uint8_t *payload, size_t n);
/* Received (from the peer) and sent packet counters (tests, bench, the
 * RTP timeout); packets dropped for their source. */
void rtp_counters(const rtp_sess *s, unsigned long *rx, unsigned long *tx);
unsigned long rtp_dropped(const rtp_sess *s);

/* ---- sip_media.c: play, tone, record on a leg (20 ms ticks) ---- */
struct tel_op;
struct tel_op *sip_media_play(sip_leg *leg, const char *path, bool interruptible,
                              tel_op_done_cb cb, void *arg);
struct tel_op *sip_media_tone(sip_leg *leg, tel_tone tone, double seconds,
                              tel_op_done_cb cb, void *arg);
struct tel_op *sip_media_play_pcm(sip_leg *leg, const int16_t *pcm, size_t count,
                                  tel_op_done_cb cb, void *arg);
struct tel_op *sip_media_record(sip_leg *leg, const char *path, double max_seconds, bool beep,
                                double silence, tel_op_done_cb cb, void *arg);
struct tel_op *sip_media_music(sip_leg *leg, const char *path, tel_op_done_cb cb, void *arg);
struct tel_op *sip_media_tap(sip_leg *a, sip_leg *b,
                             void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n),
                             tel_op_done_cb done, void *arg);
void sip_media_cancel(sip_driver *d, struct tel_op *op);
/* A digit arrived on LEG: interruptible operations end with it. */
void sip_media_digit(sip_leg *leg, char digit);
/* Audio received on LEG (for recording). */
void sip_media_audio(sip_leg *leg, const int16_t *pcm, size_t n);
/* The leg ends: its operations finish (play/tone with an error, record ok). */
void sip_media_leg_gone(sip_leg *leg);
void sip_media_free_all(sip_driver *d);
/* LEG's recording still plays its beep (its audio is not wanted yet). */
bool sip_media_rec_beeping(const sip_leg *leg);
/* LEG's media operations, made on first use; SIP_LEG_OP reads one
 * (play, rec, tap, music) of a leg that may have none. */
struct sip_leg_ops *sip_leg_ops_of(sip_leg *leg);
#define SIP_LEG_OP(leg, which) \
    ((leg)->anchor && (leg)->anchor->media_ops ? (leg)->anchor->media_ops->which : NULL)
/* The 20 ms tick runs while operations or mix rooms exist. */
void sip_media_tick_arm(sip_driver *d);

/* ---- sip_mix.c: legs in a mix (tel.h) ---- */
int sip_mix_join(sip_leg *leg, const char *room, unsigned flags);
void sip_mix_leave(sip_leg *leg);
/* Decoded audio LEG received (it is in a room). */
void sip_mix_audio(sip_leg *leg, const int16_t *pcm, size_t n);
/* LEG's own prompt frame this tick (160 samples): true when LEG is in a
 * room and the frame is taken (added to what it alone hears). */
bool sip_mix_own(sip_leg *leg, const int16_t *pcm);
/* Every room's frame (after the operations' frames of the tick). */
void sip_mix_tick(sip_driver *d);
void sip_mix_free_all(sip_driver *d);

typedef enum { LEG_NEW, LEG_EARLY, LEG_UP, LEG_ENDED } sip_leg_state;

/* One INVITE of an outgoing leg (a user with several contacts forks). */
struct sip_fork {
    sip_leg *leg;
    sip_fork *next;
    char *uri;
    int status;                /* last final status, 0 while pending */
    bool cancelled, failed, terminated;
    loop_timer *cancel_timer;  /* 64*T1 after our CANCEL: no final response, the INVITE is over */
    struct nta_outgoing_s *orq;   /* a user's several contacts: this fork's INVITE (sip_nta_fork.c) */
    char *hop;                 /* the phone's flow (sip_registrar_hop), or NULL */
    /* The To tag of its 2xx we ACKed and BYEd after it lost, or NULL:
     * allocated then, not in every fork (a held call keeps its winning
     * fork, 64 B with the pointer; it was 120 B, a 128 B block). */
    char *bye_tag;
};

/* A call's leg. Held calls keep two each (issue 17): pointers and other
 * 8-byte fields first, then the 4-byte ones, then the flags as bits and
 * the small enums as bytes — 160 B, a class; a dialled leg with its
 * struct sip_leg_dial 224 B, a class. It was 312 B (320) with the
 * dialled-only fields and the anchored media's in it, 424 B before that.
 * A field more makes the leg a 192 B block (sip_leg.c asserts it): docs/decisions/sip-core.md, "Held-call memory (nta)" and
 * "a smaller sip_leg". */
struct tel_leg {
    sip_driver *d;
    void *user;
    char *call_id, *caller, *caller_name;
    char *callee;   /* outgoing: the end of call_id ("CALL-ID>CALLEE"), not its own allocation */
    char *tls_contact;   /* our Contact toward a sip: peer over TLS (sip_tls_answer_contact), or NULL */
    /* What anchoring its media takes (our RTP session, SDP, operations),
     * made on first use: NULL for a leg in `media: bypass`. */
    struct sip_anchor *anchor;
    sip_leg *peer;             /* bridged (or early media) partner */
    /* The outgoing legs whose `from` is this leg, linked through their
     * sip_leg_dial's from_next: freeing a leg unhooks only its own
     * dialled legs instead of walking every leg of the driver. */
    sip_leg *dialled;
    /* media: bypass (sip_bypass.c): no RTP session; SDP_BODY is the
     * remote's SDP of the set-up as it came, passed to the peer unchanged
     * (NULL once answered and bridged); a re-INVITE from the remote waits
     * in REINVITE_IRQ for the peer's answer, an offerless one
     * (REINVITE_OFFERLESS) then for its own ACK (sip_nta_bypass.c).
     * BYPASS below. */
    char *sdp_body;
    struct nta_incoming_s *reinvite_irq;
    struct sip_nta_leg *nta;   /* its transactions and dialog (sip_nta.c) */
    double t_start;
    sip_leg *next, *prev;
    sip_leg *reap_next;
    /* 4-byte fields */
    sip_remote_media remote;   /* what the remote's last SDP said that is read later */
    /* small enums */
    sip_leg_state state : 8;
    sip_mode local_mode : 8;   /* what we advertise (passing the peer's hold on) */
    sip_mode sent_mode : 8;    /* in our last SDP (o= version bumps when it changes) */
    cfg_srtp srtp : 8;         /* SRTP policy: its user's/gateway's, or settings.media.srtp */
    /* flags */
    bool outgoing : 1;
    bool have_remote : 1;
    bool sent_once : 1;
    bool held : 1;             /* the remote holds us */
    bool symmetric_rtp : 1;    /* the user/gateway is behind NAT: learn its RTP source */
    bool srtp_on : 1, srtp_savp : 1;   /* the media is SRTP now; RTP/SAVP on the m= line */
    bool srtp_offered : 1;     /* our last offer carried keys->local */
    bool awaiting_answer : 1;  /* our last SDP was an offer: the next one is its answer */
    bool reinvite_busy : 1, reinvite_again : 1;
    bool bridged : 1;
    bool rtp_reserved : 1;     /* incoming: an RTP session is kept for its first dial */
    bool bypass : 1;           /* media: bypass (above) */
    bool reinvite_offerless : 1;   /* bypass: REINVITE_IRQ asked for an offer (above) */
    /* life */
    bool released : 1, sip_done : 1, hangup_raised : 1, we_ended : 1;
    bool trying_raised : 1, ringing_raised : 1, early_raised : 1, reaping : 1;
    bool ringing_sent : 1, early_sent : 1;
    bool answered : 1;         /* it was up once (the end's log line) */
};

/* What a leg whose media we anchor has, and a bypassed one does not
 * (sip_anchor_of makes it; sip_bypass_start frees it): 72 B, an 80 B
 * block of its own, so a bypassed incoming leg is 160 B and a bypassed
 * outgoing one 240 B (160 and 256 B blocks) instead of 224 and 320. */
struct sip_anchor {
    rtp_sess *rtp;
    /* SRTP (SDES), with the leg's SRTP, SRTP_ON, SRTP_SAVP and
     * SRTP_OFFERED: our key and the remote's in KEYS, allocated with our
     * key on first use (most legs never use SRTP: 80 B less a leg). */
    struct sip_leg_keys {
        sdes_crypto local, remote;
    } *keys;
    unsigned long rx_seen;     /* RTP timeout: packets received at the last sweep ... */
    double rx_at;              /* ... and since when that count has not moved */
    sip_mix *mix;              /* while in a room: the room, its flags, its queue and prompt frame (sip_mix.c) */
    /* Its media operations (sip_media.c), made by the first: most legs
     * never play, record, tap or hear music while bridged. */
    struct sip_leg_ops {
        struct tel_op *play, *rec, *tap;
        struct tel_op *music;  /* heard instead of the peer (sip_media_music) */
    } *media_ops;
    loop_timer *retry_timer;   /* our re-INVITE again after a 491 (a bypassed leg relays the remote's) */
    int pt;                    /* our audio payload type toward this leg, -1: none yet */
    uint32_t sdp_sess;         /* our o= session id (random(): 31 bits) */
    unsigned sdp_ver;
};
/* LEG's, made now if it has none (sip_leg.c). */
struct sip_anchor *sip_anchor_of(sip_leg *leg);
/* A bypassed leg frees it (its RTP session closed first). */
void sip_anchor_free(sip_leg *leg);
/* Reads of a leg that may have none. */
static inline rtp_sess *sip_leg_rtp(const sip_leg *leg) { return leg->anchor ? leg->anchor->rtp : NULL; }
static inline sip_mix *sip_leg_mix(const sip_leg *leg) { return leg->anchor ? leg->anchor->mix : NULL; }
static inline int sip_leg_pt(const sip_leg *leg) { return leg->anchor ? leg->anchor->pt : -1; }

/* What only an outgoing (dialled) leg has: its INVITEs, its gateway and
 * caller. It follows the struct tel_leg in the same allocation
 * (sip_leg_new), so an incoming leg carries none of it (64 B) and an
 * outgoing one pays no second block. */
struct sip_leg_dial {
    sip_fork *forks, *win;
    char *gw_user, *gw_pass;   /* through a gateway: its digest credentials */
    sip_leg *from;             /* the caller's leg, or NULL */
    sip_leg *from_next;        /* in from->dialled (a caller's few dials: singly linked) */
    loop_timer *fail_timer;    /* failing before any INVITE (480) */
    int best_status;           /* the best final response of its forks */
    int fail_code;             /* what fail_timer fails it with */
};
/* Several forks: sent with sip_nta_fork_send, cancelled one by one. */
static inline bool sip_dial_forked(const struct sip_leg_dial *dl) { return dl->forks && dl->forks->next; }
_Static_assert(sizeof(struct tel_leg) % _Alignof(struct sip_leg_dial) == 0,
               "struct sip_leg_dial follows struct tel_leg aligned");

/* LEG's dialled part; NULL for an incoming leg. */
static inline struct sip_leg_dial *sip_dial_of(sip_leg *leg)
{
    return leg->outgoing ? (struct sip_leg_dial *)(leg + 1) : NULL;
}
static inline const struct sip_leg_dial *sip_dial_of_const(const sip_leg *leg)
{
    return leg->outgoing ? (const struct sip_leg_dial *)(leg + 1) : NULL;
}
/* The leg that dialled LEG (outgoing), or NULL. */
static inline sip_leg *sip_leg_from(const sip_leg *leg)
{
    const struct sip_leg_dial *dl = sip_dial_of_const(leg);
    return dl ? dl->from : NULL;
}

/* ---- sip_driver.c ---- */
struct sip_gw;                 /* a gateway's resolved address and registration */

struct sip_driver {
    tel_driver base;
    loop *l;
    su_root_t *root;
    su_home_t home[1];
    struct sip_nta *nta;       /* the agent (sip_nta.c) */
    tel_config *cfg;
    tel_handler h;
    bool have_handler;
    sip_options opt;
    sip_log_level log_level;
    struct auth_mod_t *auth;   /* digest verification for users[] */
    sip_registrar *reg;
    struct sip_gw *gws;
    size_t gw_count;
    struct sip_nta_gwreg *nta_gwregs;   /* registrations to gateways (sip_nta_gwreg.c) */
    rtp_ctx *rtp;
    size_t rtp_reserved;       /* sessions kept for admitted calls' first dials */
    rtp_limit rtp_why;         /* what the last leg without an RTP session ran into */
    char media_ip[64];         /* advertised in SDP */
    char sip_host[64];         /* our SIP address (From/Refer-To) */
    char tls_contact[100];     /* <sip:HOST:PORT;transport=tls> of our tls: listener, "" without one:
                                  our Contact toward sip: phones reached over TLS */
    int sip_port;
    sip_leg *legs;
    size_t leg_count, incoming_count;
    sip_leg *reap;             /* legs to free once the current event is done */
    loop_timer *reap_timer;
    int depth;                 /* dispatch nesting */
    const sip_t *invite;       /* the INVITE being handed to the engine (sip_in_invite) */
    /* intake limit: a token bucket */
    double tokens, tokens_at;
    /* per-source request limit (settings.sip.flood) */
    struct sip_flood *flood;
    unsigned long flood_dropped, flood_refused;
    /* every UDP datagram received, by what it starts with (sip_peek.h) */
    unsigned long requests[SIP_PM_COUNT];
    unsigned long responses[SIP_PEEK_CODE_MAX - SIP_PEEK_CODE_MIN + 1];
    /* shutdown */
    bool shutting_down, agent_down, draining;
    bool nta_unregistering;    /* shutdown: our registrations withdrawn */
    /* settings.cluster.proxy, read at start: the front end (Kamailio) */
    struct sockaddr_in proxy;
    bool have_proxy;
    double shutdown_at;
    void (*shutdown_done)(void *);
    void *shutdown_arg;
    loop_timer *shutdown_timer;
    loop_timer *rtp_watch;     /* the RTP timeout sweep (while legs exist) */
    struct sip_nta_sub *nta_subs;   /* message-summary subscriptions and NOTIFYs in flight (sip_nta_mwi.c) */
    /* media ticks */
    struct tel_op *ops;        /* active operations */
    sip_room *rooms;           /* mix rooms with members (sip_mix.c) */
    struct tel_msg *msgs;      /* messages waiting for their answers (sip_msg.c) */
    loop_timer *tick_timer;
    double tick_next;
};

void sip_log(sip_driver *d, sip_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Delivers EV about LEG to the engine (no-op once released). */
void sip_raise(sip_leg *leg, const tel_event *ev);
void sip_raise_kind(sip_leg *leg, tel_event_kind kind, int code, const char *cause);
/* Calls queued work after the outermost callback returns. */
void sip_enter(sip_driver *d);
void sip_leave(sip_driver *d);
/* (Re)reads the gateways of the program (sip_gw.c). */
void sip_gw_load(sip_driver *d);
void sip_gw_free(sip_driver *d);
const struct sip_gw *sip_gw_by_source(sip_driver *d, const struct sockaddr_in *src, bool exact);
const struct sip_gw *sip_gw_by_name(sip_driver *d, const char *name);
/* SRC is a gateway's address (and port, unless it says `match: ip`). */
bool sip_gw_is_source(sip_driver *d, const struct sockaddr_in *src);
const char *sip_gw_name(const struct sip_gw *g);
const cfg_gateway *sip_gw_conf(const struct sip_gw *g);
/* 0, or the code to refuse a new call with (*REASON: why, as
 * sip_options.refused names it). */
int sip_admit(sip_driver *d, int *retry_after, const char **reason);
/* What a refused new call's response carries. */
typedef struct sip_refusal {
    char retry_after[16];
    char load[96];   /* the X-Callroute-Load header */
} sip_refusal;
/* Admission of the new call SIP: 0, or
 * the code to refuse it with — then reported (sip_report_refused) and *R
 * filled for the response. */
int sip_admit_call(sip_driver *d, const sip_t *sip, sip_refusal *r);
/* Logs a call refused before it reached a scenario (Call-ID, source, code,
 * reason) and tells sip_options.refused; the caller sends the response. */
void sip_report_refused(sip_driver *d, const sip_t *sip, int code, const char *reason);
/* Starts the once-a-second RTP timeout sweep unless it runs (a leg exists). */
void sip_rtp_watch(sip_driver *d);

/* ---- sip_leg.c ---- */
sip_leg *sip_leg_new(sip_driver *d, bool outgoing);
/* The SIP side of LEG is over (handle gone): free it once released. */
void sip_leg_sip_done(sip_leg *leg);
void sip_leg_maybe_free(sip_leg *leg);
void sip_leg_reap(sip_driver *d);
/* LEG (outgoing) was dialled for FROM's call (NULL: none). */
void sip_leg_set_from(sip_leg *leg, sip_leg *from);
/* LEG ended from the far side (BYE, CANCEL, failure): raise HANGUP once. */
void sip_leg_ended(sip_leg *leg, int code, const char *cause);
/* LEG ended by the stack or the driver itself (a session timer that
 * expired, no media): HANGUP once, hangup_by system. The dialog is ended by
 * whoever decided it (sip_nta.c's BYE) or by the caller of this. */
void sip_leg_ended_by_system(sip_leg *leg, int code, const char *cause);
/* Media: the RTP session (opened on first use) and our SDP for LEG. */
int sip_leg_media(sip_leg *leg);
size_t sip_leg_sdp(sip_leg *leg, char *buf, size_t size, bool offer);
/* LEG's SRTP policy: OWN (its user's or gateway's; INHERIT: none) or
 * settings.media.srtp. */
cfg_srtp sip_leg_srtp_policy(const sip_driver *d, cfg_srtp own);
/* The remote's SDP that follows is an offer (a re-INVITE from it), not the
 * answer to our last offer. */
void sip_leg_expect_offer(sip_leg *leg);
/* Applies a remote SDP (offer or answer) to LEG's media: -1 when it is
 * unusable or refused by the leg's SRTP policy (488). */
int sip_leg_apply_sdp(sip_leg *leg, const sip_t *sip, bool *hold_changed);
void sip_leg_update_relay(sip_leg *leg);
/* LEG joined or left a mix: its relay (off while either bridged leg is in
 * a room), in-band DTMF and decoded audio follow. */
void sip_leg_media_update(sip_leg *leg);
/* Ends LEG's bridge or early-media pairing (both directions). */
void sip_leg_detach(sip_leg *leg);
/* Passes LEG's hold state on to its peer with a re-INVITE. */
void sip_leg_push_mode(sip_leg *leg, sip_mode mode);
void sip_leg_reinvite_done(sip_leg *leg, int status);
sip_mode sip_leg_hold_mode(const sip_leg *leg);
void sip_leg_log_end(sip_leg *leg, int code, const char *cause, const char *by);
void sip_leg_digit(sip_leg *leg, char digit);
int sip_leg_bridge(sip_leg *a, sip_leg *b);
int sip_leg_unbridge(sip_leg *a, sip_leg *b);
int sip_leg_transfer(sip_leg *leg, const char *to);
extern const rtp_owner_ops sip_leg_rtp_ops;

/* ---- sip_bypass.c: media: bypass (SDP through, no RTP) ---- */
int sip_bypass_start(sip_leg *leg);
/* Keeps the SDP body of SIP (if any) as LEG's remote's last (set-up only). */
void sip_bypass_keep_sdp(sip_leg *leg, const sip_t *sip);
/* SIP's SDP body as a string of its own (free it), or NULL: none, or too large. */
char *sip_bypass_body(const sip_t *sip);
/* Notes LEG's remote's hold from SDP (NULL: nothing): true when it changed. */
bool sip_bypass_note_sdp(sip_leg *leg, const char *sdp);
/* A and B answered and bridged: their set-up's SDP bodies are freed, but
 * for one whose peer refreshes by re-INVITE (it offers that body again). */
void sip_bypass_drop_sdp(sip_leg *a, sip_leg *b);
/* TO's remote was given SDP (its peer's remote's, relayed) and took it:
 * kept as the peer's body when TO refreshes by re-INVITE. */
void sip_bypass_delivered(sip_leg *to, const char *sdp);
/* The SDP LEG should be sent now: its peer's, or (incoming, not yet
 * paired) the answer of a leg dialled for it. NULL: none yet. */
const char *sip_bypass_peer_sdp(sip_leg *leg);

/* ---- sip_in.c: what incoming requests are ---- */
/* Who sends a request that starts something: a gateway by its address
 * (and port), or a user who answered the digest challenge: 0, known
 * (SOURCE is the gateway's name or "user:N", *GW or *USER set); -1, a
 * banned source, to be dropped unanswered; else the status to answer: 407
 * with CHALLENGE the Proxy-Authenticate value, 403 (reported), 500. */
int sip_who_calls(sip_driver *d, const sip_t *sip, char *source, size_t n, const struct sip_gw **gw,
                  const cfg_user **user, char *challenge, size_t clen);
void sip_in_info(sip_leg *leg, const sip_t *sip);

/* ---- sip_msg.c: instant messages (SIP MESSAGE) out and in ---- */
struct sip_msg_fork;
struct tel_msg *sip_msg_send(tel_driver *td, const tel_message_req *req, tel_message_cb cb, void *arg);
void sip_msg_cancel(tel_driver *td, struct tel_msg *m);
void sip_msg_free_all(sip_driver *d);

/* ---- sip_out.c: outgoing legs, gateway registration ---- */
sip_leg *sip_out_dial(sip_driver *d, const tel_dial_req *req, void *user);
/* The name of who answered (the 200's To display name, else its
 * Contact's), unquoted, control characters dropped, at most 64 bytes;
 * malloc'd, NULL: none (sip_out.c). */
char *sip_answer_display_name(const sip_t *sip);
/* The TLS handshake of ours with HOSTPORT failed (sip_tls.c): the forks
 * waiting on it fail with 503 now (sip_out.c). */
void sip_out_tls_failed(sip_driver *d, const char *hostport);
void sip_gw_register_all(sip_driver *d);

/* "X-Callroute-Load: calls=N;max=M" (M 0: no limit): in OPTIONS answers
 * and in the 503s of calls refused for capacity, so the front end can tell
 * a node's own refusal from a scenario's 503. */
void sip_load_header(sip_driver *d, char *out, size_t n);
/* A is the cluster's front end (settings.cluster.proxy). */
bool sip_is_proxy(const sip_driver *d, const struct sockaddr_in *a);

/* ---- sip_registrar.c ---- */
sip_registrar *sip_registrar_new(sip_driver *d);
void sip_registrar_free(sip_registrar *r);
/* Users' passwords changed (new configuration). */
void sip_registrar_set_users(sip_registrar *r, const tel_config *p);
/* What a REGISTER is answered (sip_nta_register sends it). */
typedef struct sip_reg_answer {
    int code;              /* 200, 401, 400, 500; -1: none (a banned source) */
    char challenge[256];   /* 401: the WWW-Authenticate value */
    char contact[2048];    /* 200: every binding with the time it has left ("": none) */
    bool outbound;         /* 200: Require and Supported: outbound (RFC 5626: the flow is kept) */
} sip_reg_answer;
/* SIP, a REGISTER (its source: sip_request_source), checked, authenticated
 * and applied to the bindings; OUT says how to answer it. */
void sip_registrar_register(sip_registrar *r, const sip_t *sip, sip_reg_answer *out);
/* The digest verdict on the request being handled (SIP) from user U
 * (NULL: none with a password): 0, good; -1, no answer (a banned source);
 * else the status to answer: 401 (407 with PROXY, an INVITE's
 * Proxy-Authorization) with CHALLENGE the WWW-/Proxy-Authenticate value,
 * or 500. Failures are counted towards the ban. */
int sip_registrar_auth_verdict(sip_registrar *r, const sip_t *sip, const cfg_user *u, bool proxy, char *challenge,
                               size_t n);
/* The contacts of USER (NULL-terminated, valid until the next call); NULL: none. */
const char *const *sip_registrar_contacts(sip_registrar *r, const char *user);
/* URI (a contact of USER, as sip_uri_clean writes it) registered over TLS,
 * or as an RFC 5626 outbound flow: the next hop that reaches it over the
 * phone's own connection, in HOP. */
bool sip_registrar_hop(sip_registrar *r, const char *user, const char *uri, char *hop, size_t n);
/* SRC failed authentication too often: its requests are ignored. */
bool sip_registrar_ignored(sip_registrar *r, const struct sockaddr_in *src);
/* Users with a binding that has not expired at NOW, and those bindings. */
void sip_registrar_count(const sip_registrar *r, double now, size_t *users, size_t *contacts);

/* ---- sip_nta.c: sofia's NTA, our own dialogs ---- */
struct sip_nta;
struct sip_nta_leg;
/* The agent listening on URL (a sip: URL of sip_driver_new): 0, or -1 (ERR). */
int sip_nta_start(sip_driver *d, const char *url, unsigned t1x64_ms, char *err, size_t errlen);
void sip_nta_stop(sip_driver *d);
/* The request being handled (its source address), or NULL. */
struct msg_s *sip_nta_current_request(sip_driver *d);
int sip_nta_answer(sip_leg *leg);
int sip_nta_ringing(sip_leg *leg, bool early_media);
int sip_nta_hangup(sip_leg *leg, int code);
/* F's INVITE (one per contact of a user: sip_nta_fork.c), to F->hop when set: 0 or -1. */
int sip_nta_invite(sip_fork *f, const char *to, const char *from, const char *sdp);
/* LEG's re-INVITE with SDP (hold passed on): 0, or -1 (none sent). */
int sip_nta_reinvite(sip_leg *leg, const char *sdp);
void sip_nta_leg_free(sip_leg *leg);
/* LEG goes, or its peer did: an offer of its remote's relayed to the peer
 * and still waiting for the answer is refused (500; sip_nta_bypass.c). */
void sip_nta_bypass_unpend(sip_leg *leg);
/* LEG refreshes its session by re-INVITE: a session timer runs, we are the
 * refresher and its remote does not allow UPDATE (sip_nta_timer.c). */
bool sip_nta_st_by_reinvite(const sip_leg *leg);
/* REFER to REFER_TO (a name-addr) in LEG's dialog: 0, or -1 (sip_nta_refer.c). */
int sip_nta_refer_out(sip_leg *leg, const char *refer_to);

/* The INVITE transaction callback of a leg's (only) INVITE; a fork's
 * responses go through it once they concern the leg (sip_nta_fork.c). */
int sip_nta_invite_response(sip_leg *leg, struct nta_outgoing_s *orq, const sip_t *sip);
/* ORQ (a fork's INVITE, whose 2xx won) becomes the leg's INVITE; HOP
 * (or NULL), the phone's flow, is the winner's (leg->win's): the
 * dialog's requests take it from there. */
void sip_nta_use_invite(sip_leg *leg, struct nta_outgoing_s *orq, const char *hop);
/* The agent (requests outside sip_nta.c). */
struct nta_agent_s *sip_nta_agent(sip_driver *d);   /* NULL once stopped */
/* WORDS random 32-bit words as hex into OUT (tags, Call-IDs): unguessable
 * (arc4random), so a third party cannot aim a request at a dialog of ours. */
void sip_nta_random_hex(char *out, size_t n, int words);
/* The status of the response SIP to ORQ (NTA's own, 408/503, when it
 * made the final response itself: timeout, transport error). */
int sip_nta_response_status(struct nta_outgoing_s *orq, const sip_t *sip);
/* CHARS (at most SIP_NTA_TOKEN_MAX) random characters of [0-9a-v], five
 * bits each, and a NUL into OUT: a dialog's tag (SIP_NTA_TAG_CHARS, 40
 * bits; RFC 3261 19.3 asks at least 32) or a Call-ID's (100 bits). Shorter
 * than hex for the same randomness: each is kept while a call is held
 * (docs/decisions/sip-core.md, "Held-call memory: tags and Call-IDs"). */
#define SIP_NTA_TOKEN_MAX 32
#define SIP_NTA_TAG_CHARS 8
#define SIP_NTA_CALL_ID_CHARS 20
void sip_nta_random_token(char *out, size_t chars);
/* A new Call-ID, "TOKEN@HOST", into OUT. */
void sip_nta_new_call_id(sip_driver *d, char *out, size_t n);
/* A request for the agent: its request line (METHOD, NAME, to URI) and
 * CSeq CSEQ; the caller adds the other headers (sip_add_tl) and sends it
 * or destroys it. NULL: no agent, or URI does not parse. */
struct msg_s *sip_nta_new_request(sip_driver *d, sip_method_t method, const char *name, const char *uri,
                                  uint32_t cseq);
/* A copy of ORQ's request to send again as a new transaction: CSeq + 1,
 * no Via (NTA puts its own, with a new branch); NULL when it cannot be. */
struct msg_s *sip_nta_request_again(struct nta_outgoing_s *orq);
/* The same, answering the 401/407 (STATUS) response SIP with USER's and
 * PASS's digest credentials (sofia's auth client); NULL: no challenge we
 * can answer. */
struct msg_s *sip_nta_request_authorized(struct nta_outgoing_s *orq, const sip_t *sip, int status, const char *user,
                                         const char *pass);
/* The dial failed with STATUS (every fork did): raised, the leg done. */
void sip_nta_dial_failed(sip_leg *leg, int status);

/* ---- sip_nta_fork.c: a dial to a user's several contacts ---- */
/* F's INVITE MSG (taken, also on failure) sent to ROUTE (NULL: its
 * Request-URI) as its own transaction: 0, or -1. */
int sip_nta_fork_send(sip_fork *f, struct msg_s *msg, const char *route);
/* The leg is hung up before any fork answered: every live fork is
 * cancelled (Reason: completed elsewhere when CODE says so); the leg is
 * done once each has its final response (or 64*T1 after the CANCEL). */
void sip_nta_forks_cancel(sip_leg *leg, int code);
/* The leg goes: the forks' transactions with it. */
void sip_nta_forks_free(sip_leg *leg);

/* ---- sip_nta_reg.c: the registrar's requests ---- */
struct nta_incoming_s;
/* A REGISTER (IRQ, SIP) answered through its transaction: what the
 * request callback returns (500 once answered: NTA sends nothing more). */
int sip_nta_register(sip_driver *d, struct nta_incoming_s *irq, const sip_t *sip);
/* Challenges or verifies the digest of the request IRQ (SIP) from user U
 * (NULL: unknown, challenged all the same) — REGISTER, INVITE, MESSAGE,
 * SUBSCRIBE alike. true: good, nothing sent. false: answered (401, or 407
 * with PROXY — an INVITE's Proxy-Authorization —, or 500), or from a
 * banned source not: the request callback then returns 500 (nothing more
 * is sent for an answered request; a banned one gets 500, no challenge). */
bool sip_nta_auth(sip_driver *d, struct nta_incoming_s *irq, const sip_t *sip, const cfg_user *u, bool proxy);
/* Who sends IRQ (SIP), a request that starts something (sip_who_calls):
 * 0, known (SOURCE, *GW or *USER set); else
 * what the request callback returns (it has been answered: a 407
 * challenge, 403; or a banned source, not: 500 then, no challenge). */
int sip_nta_identify(sip_driver *d, struct nta_incoming_s *irq, const sip_t *sip, char *source, size_t n,
                     const struct sip_gw **gw, const cfg_user **user);
/* LEG, dialled, waits for any response to its INVITE; it fails now with
 * CODE (its transport failed: a TLS handshake), its INVITE given up. */
bool sip_nta_dial_pending(const sip_leg *leg);
void sip_nta_dial_give_up(sip_leg *leg, int code);

/* ---- sip_nta_tls.c: the agent over TLS ---- */
/* The tls: listener (URL sips:HOST:PORT) added to the agent, with
 * settings.sip.tls's certificate directory and verification POLICY. */
bool sip_nta_tls_listen(sip_driver *d, const char *url, const char *cert_dir, unsigned policy, char *err,
                        size_t errlen);
/* What our Contact says after "sip:" and a user toward URI: "HOST:PORT",
 * with ";transport=tcp|tls" when URI is reached that way (false: no room). */
bool sip_nta_contact_for(sip_driver *d, const char *uri, char *out, size_t n);
/* Our Contact (allocated) toward a peer reached at URI over TLS, or NULL
 * (not TLS, no tls: listener): <sips:...> for a sips: URI, else
 * <sip:...;transport=tls>. */
char *sip_nta_tls_contact_out(sip_driver *d, const char *uri);
/* Our Contact (allocated) in answers to SIP, a request that came over
 * TLS, or NULL (it did not). */
char *sip_nta_tls_contact_in(sip_driver *d, const sip_t *sip);

/* ---- sip_nta_gwreg.c: our registrations to gateways ---- */
struct sip_nta_gwreg;
/* Registers to GW (register: true), refreshed until withdrawn; *OUT
 * points at it until it goes or is withdrawn (then NULL). */
bool sip_nta_gwreg_start(sip_driver *d, const cfg_gateway *gw, struct sip_nta_gwreg **out);
/* unREGISTER (Expires: 0); it goes when answered (or timed out). */
void sip_nta_gwreg_withdraw(struct sip_nta_gwreg *r);
void sip_nta_gwreg_withdraw_all(sip_driver *d);
/* Some registration is still there (shutdown waits for the unREGISTERs). */
bool sip_nta_gwreg_pending(const sip_driver *d);
void sip_nta_gwreg_free_all(sip_driver *d);

/* ---- small helpers (sip_driver.c) ---- */
/* The source address of the request being handled. */
bool sip_request_source(sip_driver *d, struct sockaddr_in *out);

#endif

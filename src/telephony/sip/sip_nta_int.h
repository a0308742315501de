/* sip_nta_int.h — what the files of the NTA core (sip_nta.c and the
 * sip_nta_*.c beside it) share: requests in a leg's dialog and the hooks
 * sip_nta.c calls. Include after sip_int.h and after defining NTA's magic
 * types as sip_nta.c does (legs are the magic of transactions). */
#ifndef SIP_NTA_INT_H
#define SIP_NTA_INT_H

#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag.h>

#include "telephony/sip/sip_dialog.h"
#include "telephony/sip/sip_int.h"
#include "util/hash.h"

/* ---- the core's state (sip_nta.c, sip_nta_out.c, sip_nta_timer.c) ---- */
#define NTA_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY"

/* Headers every call sends the same, parsed once when the agent starts
 * (sip_nta_hdrs_make): a _STR tag is parsed again on every message (the
 * Allow list alone ~3,500 instructions), a header object only copied
 * (docs/decisions/sip-core.md, "CPU per call, cut"). */
typedef struct sip_nta_hdrs {
    su_home_t *home;
    sip_max_forwards_t *max_forwards;  /* 70 */
    sip_allow_t *allow;                /* NTA_ALLOW */
    sip_content_type_t *sdp_type;      /* application/sdp */
    sip_supported_t *timer;            /* Supported: timer */
    sip_require_t *require_timer;      /* Require: timer */
    sip_contact_t *contact;            /* the agent's Contact (struct sip_nta's contact) */
} sip_nta_hdrs;
#define NTA_HDR(drv) (&(drv)->nta->hdr)

/* LEG's Contact as two tags, when WHEN: the agent's, the header object made
 * once (a Contact parsed ~1,400 instructions, copied ~700), or over TLS the
 * leg's own, as text. */
#define NTA_CONTACT(leg, when)                                                              \
    TAG_IF((when) && !(leg)->tls_contact, SIPTAG_CONTACT(NTA_HDR((leg)->d)->contact)),      \
        TAG_IF((when) && (leg)->tls_contact, SIPTAG_CONTACT_STR((leg)->tls_contact))

/* TEXT (a Call-ID we made or sofia parsed) as a header object for
 * SIPTAG_CALL_ID, copied into the message instead of parsed again: sofia's
 * Call-ID decoder takes the text as it is, so the bytes sent are the same.
 * Lives as long as TEXT and the caller's frame. */
static inline sip_call_id_t sip_nta_call_id(const char *text)
{
    sip_call_id_t i;
    sip_call_id_init(&i);
    i.i_id = text;
    return i;
}

/* The agent and our legs by Call-ID (every leg has its own: the caller's,
 * or one we made for a dialled leg). */
struct sip_nta {
    nta_agent_t *agent;
    nta_leg_t *dflt;           /* every request comes here: NTA keeps no dialogs for us */
    msg_t *current;            /* the request being handled (its source address) */
    sip_leg **buckets;
    size_t nbuckets, count;
    cr_hash_key key;           /* the Call-ID hash's secret key (sip_nta_table.c) */
    char contact[160];         /* "<sip:HOST:PORT>" */
    unsigned t1x64_ms;
    unsigned refused_logged;   /* one log line per kind of refusal (bits) */
    sip_nta_hdrs hdr;
};

/* T's constant headers (sip_nta_req.c), T's contact text set first; false
 * when out of memory. */
bool sip_nta_hdrs_make(struct sip_nta *t);
void sip_nta_hdrs_free(struct sip_nta *t);

/* What a leg has in flight: its transactions and the timers of a set-up
 * or an ending. A held call's legs have none of them (the INVITE's
 * transactions end with its ACK and the linger after it; BYE, re-INVITE
 * and UPDATE end with their final responses), so they live in a block of
 * their own, made when the first is set and freed when the last is
 * cleared (NTA_BUSY_PUT): the leg then fits a 128 B block
 * (docs/decisions/sip-core.md, "Held-call memory: the NTA leg's
 * transactions"). Read through NTA_BUSY, set and cleared only through
 * NTA_BUSY_PUT. */
struct sip_nta_busy {
    nta_incoming_t *irq;       /* incoming: the INVITE, until its ACK (or CANCEL, or refusal) */
    nta_outgoing_t *orq;       /* outgoing: our INVITE (kept T1x64 after a 2xx for its retransmissions) */
    nta_outgoing_t *bye;       /* our BYE, until its final response */
    nta_outgoing_t *reinvite;  /* our re-INVITE (hold passed on), until its final response */
    nta_outgoing_t *refresh;   /* our UPDATE refresh, until its final response */
    loop_timer *give_up;       /* outgoing: 64*T1 after our CANCEL, the INVITE without a final response ends */
    loop_timer *linger;        /* drops ORQ after a 2xx */
};

/* A leg's SIP state under NTA. Pointers first, then the numbers and the
 * flags as bits, nothing another field already says (the Call-ID it is
 * found by is OWN_KEY or the leg's; the hop of its requests is its
 * fork's; what is in flight is BUSY's): 127 B, a 128 B mimalloc block
 * (it was 184 B, a 192 B block; 232 B before that: docs/decisions/
 * sip-core.md, "Held-call memory (nta)"). A 129th byte is a 144 B block:
 * the _Static_assert below says so. */
struct sip_nta_leg {
    sip_dialog dlg;
    struct sip_nta_busy *busy; /* NULL: nothing in flight (a held call) */
    char *own_key;             /* outgoing: the Call-ID we made, which finds it (incoming: the leg's) */
    sip_leg *hnext;
    loop_timer *st;            /* RFC 4028 session timer (below) */
    /* RFC 4028 session timer: the interval (0: none), whether we refresh
     * (else we expect the remote to), whether the remote takes UPDATE. */
    unsigned se;
    bool we_refresh : 1, remote_timer : 1, remote_update : 1;
    bool have_dlg : 1;
    bool bye_reason : 1;       /* our BYE says why: the session timer expired (Reason 408) */
    bool hashed : 1, cancelled : 1, auth_tried : 1, st_retried : 1;
    bool reinvite_auth_tried : 1;  /* our re-INVITE under way was sent again with credentials (once) */
    char tag[SIP_NTA_TAG_CHARS + 1];   /* ours (sip_nta_random_token) */
};
_Static_assert(sizeof(struct sip_nta_leg) <= 128, "struct sip_nta_leg is a 128 B mimalloc block a held leg");

/* NL's member F of what is in flight (struct sip_nta_busy), NULL when
 * none: reading never makes the block. */
#define NTA_BUSY(nl, f) ((nl)->busy ? (nl)->busy->f : NULL)
/* Sets NL's member F to V (evaluated once; its type checked as an
 * assignment would): the block is made when V is the first member set,
 * freed when V is NULL and no member is left. */
#define NTA_BUSY_PUT(nl, f, v) \
    ((void)sizeof((nl)->busy->f = (v)), sip_nta_busy_put((nl), offsetof(struct sip_nta_busy, f), (v)))
void sip_nta_busy_put(struct sip_nta_leg *nl, size_t member, void *v);

/* sip_nta_table.c: the legs by Call-ID. */
void sip_nta_table_add(struct sip_nta *t, sip_leg *leg);
void sip_nta_table_remove(struct sip_nta *t, sip_leg *leg);
/* The first leg found by CALL_ID (the one we made for a dialled leg, or the caller's). */
sip_leg *sip_nta_table_find(struct sip_nta *t, const char *call_id);
/* The leg whose dialog request SIP belongs to (else the first with its Call-ID). */
sip_leg *sip_nta_table_find_dialog(struct sip_nta *t, const sip_t *sip);
/* Whether SIP, a new INVITE, is a merged request (RFC 3261 8.2.2.2). */
bool sip_nta_table_merged(struct sip_nta *t, const sip_t *sip);

/* sip_nta.c */
/* LEG's NTA state, made on first use. */
struct sip_nta_leg *sip_nta_leg_state(sip_leg *leg);
/* Where LEG's in-dialog requests go first: its fork's hop toward a
 * phone's flow (TLS, outbound), or NULL (sofia routes by the request). */
const char *sip_nta_leg_hop(const sip_leg *leg);
/* Our Contact toward LEG's remote: over TLS the listener's
 * (sip_nta_tls.c), else the agent's. */
const char *sip_nta_leg_contact(const sip_leg *leg);
/* A dialled LEG failed with CODE (busy for 486/600): raised, detached. */
void sip_nta_fail_leg(sip_leg *leg, int code);
/* A request in LEG's dialog: METHOD with CSEQ, CB for its responses
 * (NULL: none, e.g. ACK), SDP its body (NULL: none). */
nta_outgoing_t *sip_nta_dialog_request(sip_leg *leg, sip_method_t method, const char *name, uint32_t cseq,
                                       nta_response_f *cb, const char *sdp);
/* LEG's dialog is over once no request of ours waits for its answer. */
void sip_nta_dialog_over(sip_leg *leg);
void sip_nta_send_bye(sip_leg *leg);

/* sip_nta_fork.c: SIP, a 2xx to INVITE with LEG's Call-ID that found no
 * transaction and is not its winner's: a fork's (our From tag, CSeq 1)
 * is ACKed, and ended with BYE unless we did already: true; false when it
 * is none of the forks'. */
bool sip_nta_fork_stray_2xx(sip_leg *leg, const sip_t *sip);

/* sip_nta_timer.c */
void sip_nta_st_stop(sip_leg *leg);
/* (Re)arms LEG's session timer. */
void sip_nta_st_start(sip_leg *leg);
/* The remote's refresh did not come: BYE with Reason 408. */
void sip_nta_st_expired(sip_leg *leg);
/* The session timer of an INVITE (SIP) we answer: 0, or 422 (below our
 * Min-SE). */
int sip_nta_st_uas(sip_leg *leg, const sip_t *sip);
/* The session timer our INVITE's 2xx (SIP) settled. */
void sip_nta_st_uac(sip_leg *leg, const sip_t *sip);

/* sip_nta_out.c */
/* The ACK of our re-INVITE with CSEQ (its 2xx, or that 2xx again). */
void sip_nta_send_reinvite_ack(sip_leg *leg, uint32_t cseq);
/* The same for a 2xx that came again after its transaction (stray):
 * stateless, with a branch of its own. */
void sip_nta_send_late_ack(sip_leg *leg, uint32_t cseq);
/* After our CANCEL: the INVITE is given up 64*T1 later without a final
 * response. */
void sip_nta_give_up_later(sip_leg *leg);

/* What a request handler returns once it has answered itself (sip_nta.c's
 * ANSWERED): a final status only makes NTA destroy the transaction. */
#define SIP_NTA_ANSWERED 500

/* A request METHOD (NAME) in LEG's dialog with our next CSeq, our Contact
 * and the headers of TAGS; CB gets its responses with LEG as magic (the
 * caller destroys the transaction before LEG goes). NULL: no dialog, or it
 * could not be built. */
nta_outgoing_t *sip_nta_request(sip_leg *leg, sip_method_t method, const char *name, nta_response_f *cb,
                                tag_type_t tag, tag_value_t value, ...);
/* LEG's Session-Expires for a 2xx that refreshes its session (RFC 4028
 * 9: "10;refresher=uac"), or "" when it has no session timer. */
void sip_nta_session_expires(const sip_leg *leg, char *buf, size_t n);

/* A re-INVITE that came before our final response to the dialog's INVITE:
 * 500 with a Retry-After of 0 to 10 s, chosen at random (RFC 3261 14.2);
 * returns SIP_NTA_ANSWERED. */
int sip_nta_retry_later(nta_incoming_t *irq);

/* ---- sip_nta_uas.c: RFC 3261 8.2.2's checks of every request ---- */
/* 0: SIP may be acted on; SIP_NTA_ANSWERED: refused here (416 for its
 * Request-URI scheme, 420 for its Require). */
int sip_nta_uas_check(nta_incoming_t *irq, const sip_t *sip);

/* ---- sip_nta_refer.c: REFER both ways (transfer) ---- */
/* sip_nta_refer_out is in sip_int.h (sip_leg.c calls it). */
/* A REFER or NOTIFY in LEG's dialog (it matches, its CSeq is in order):
 * answered here; returns SIP_NTA_ANSWERED. */
int sip_nta_refer_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip);

/* ---- sip_nta_bypass.c: media: bypass, a re-INVITE or UPDATE relayed ---- */
/* A re-INVITE or UPDATE (with SDP, or a re-INVITE without) from LEG's
 * remote in a bypassed call: answered here (returns SIP_NTA_ANSWERED), or
 * its offer relayed to the peer and IRQ kept until the peer answers
 * (returns 0: NTA keeps the transaction for us). */
int sip_nta_bypass_offer(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip);
/* LEG's re-INVITE (an offer relayed through it) got STATUS (SIP: the
 * response, NULL when NTA made it): the answer goes back to the peer's
 * remote. */
void sip_nta_bypass_answered(sip_leg *leg, int status, const sip_t *sip);
/* LEG's re-INVITE (an offerless one relayed through it) got STATUS: a 2xx
 * with the peer's offer goes to the sender in our 2xx, and LEG's
 * re-INVITE is kept, not ACKed, until the sender's ACK brings
 * the answer for our ACK. true: so done; false: not such a 2xx (the
 * caller goes on as for any answer: ACK, then sip_nta_bypass_answered). */
bool sip_nta_bypass_relay_offer(sip_leg *leg, int status, const sip_t *sip);
/* LEG's re-INVITE ORQ got a 2xx: its remote took the offer in it (its
 * peer's remote's SDP, or our refresh's), kept when LEG refreshes by
 * re-INVITE (sip_bypass_delivered). */
void sip_nta_bypass_offer_taken(sip_leg *leg, nta_outgoing_t *orq);
/* sip_nta_bypass_unpend is in sip_int.h (sip_bypass.c calls it). */

#endif

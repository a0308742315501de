/* sip_nta_out.c — our INVITE on the NTA core: sent (sip_nta_invite; a
 * user's several contacts are sip_nta_fork.c's), its responses (early
 * media, the 2xx, the dialog and its ACK, a 401/407 answered with the
 * gateway's credentials, a 422 retried with the callee's Min-SE, an early
 * answer we cannot use refused), our re-INVITE and its ACK, and the
 * give-up 64*T1 after our CANCEL when no final response comes. */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/auth_client.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport_tag.h>

#include "telephony/sip/sip_dialog.h"
#include "telephony/sip/sip_flood.h"
#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_msg.h"
#include "telephony/sip/sip_mwi.h"
#include "util/alloc.h"

/* ---- outgoing: our INVITE ---- */

static void linger_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    struct sip_nta_leg *nl = leg->nta;
    NTA_BUSY_PUT(nl, linger, NULL);
    if (NTA_BUSY(nl, orq)) {
        nta_outgoing_destroy(nl->busy->orq);
        NTA_BUSY_PUT(nl, orq, NULL);
    }
}

static void send_ack(sip_leg *leg)
{
    nta_outgoing_t *ack = sip_nta_dialog_request(leg, sip_method_ack, "ACK", leg->nta->dlg.local_cseq, NULL, NULL);
    if (ack)
        nta_outgoing_destroy(ack);
}

/* Early media (18x with SDP): the caller hears it (as sip_out.c does). */
static void early_media(sip_leg *leg)
{
    sip_leg *from = sip_leg_from(leg);
    if (!from || from->state == LEG_ENDED || (from->peer && from->peer != leg))
        return;
    if (from->state != LEG_UP)
        sip_nta_ringing(from, true);
    if (!leg->bypass && sip_leg_media(from) < 0)
        return;
    from->peer = leg;
    leg->peer = from;
    if (!leg->bypass)
        sip_leg_update_relay(leg);
}

static void answered(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    struct sip_nta_leg *nl = leg->nta;
    msg_t *req = nta_outgoing_getrequest(orq);
    /* The dialog's Call-ID is OWN_KEY, freed after it (sip_nta_leg_free). */
    int rc = sip_dialog_uac_keyed(&nl->dlg, req ? sip_object(req) : NULL, sip, nl->own_key);
    msg_destroy(req);
    if (rc < 0) {
        sip_log(leg->d, SIP_LOG_WARN, "dial %s: a 2xx that makes no dialog (no To tag or a bad Contact): failed",
                leg->callee ? leg->callee : "-");
        sip_nta_fail_leg(leg, 502);
        /* Nothing more will come for it (no dialog to end): the leg is
         * done, not kept until shutdown. */
        nta_outgoing_destroy(orq);
        NTA_BUSY_PUT(nl, orq, NULL);
        sip_leg_sip_done(leg);   /* may free LEG */
        return;
    }
    nl->have_dlg = true;
    send_ack(leg);
    /* The 2xx may come again (our ACK lost): ACKed again while ORQ lives. */
    NTA_BUSY_PUT(nl, linger, loop_timer_start(leg->d->l, nl->cancelled ? 0 : leg->d->nta->t1x64_ms / 1000.0, linger_cb, leg));
    if (leg->state == LEG_ENDED || nl->cancelled) {
        sip_nta_send_bye(leg);   /* answered after we gave up (CANCEL crossed the 200) */
        return;
    }
    bool sdp = sip->sip_payload && sip->sip_payload->pl_len;
    if (leg->bypass && sdp)
        sip_bypass_keep_sdp(leg, sip);
    if (leg->bypass ? !leg->sdp_body : sdp ? sip_leg_apply_sdp(leg, sip, NULL) < 0 : !leg->have_remote) {
        sip_log(leg->d, SIP_LOG_WARN, "dial %s: no usable media in the answer: BYE, failed 488",
                leg->callee ? leg->callee : "-");
        sip_nta_fail_leg(leg, 488);
        sip_nta_send_bye(leg);
        return;
    }
    leg->state = LEG_UP;
    leg->answered = true;
    sip_nta_st_uac(leg, sip);
    sip_nta_st_start(leg);
    if (leg->peer)
        sip_leg_update_relay(leg);
    char *name = sip_answer_display_name(sip);   /* agent_name */
    tel_event ev = {.kind = TEL_EV_ANSWER, .sip_code = sip->sip_status->st_status, .display_name = name};
    sip_raise(leg, &ev);
    free(name);
}

static int invite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip);

/* The gateway's 401/407 to our INVITE: the same INVITE again (CSeq + 1)
 * with digest credentials from sofia's auth client (auc_*), once. 0: sent
 * (the new transaction replaces ORQ), -1: the dial fails with STATUS. */
static int authenticate(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip, int status)
{
    struct sip_nta_leg *nl = leg->nta;
    const struct sip_leg_dial *dial = sip_dial_of(leg);
    if (nl->auth_tried || nl->cancelled || leg->state == LEG_ENDED || !dial || !dial->gw_user)
        return -1;
    nl->auth_tried = true;
    msg_t *msg = sip_nta_request_authorized(orq, sip, status, dial->gw_user, dial->gw_pass);
    /* nta_outgoing_mcreate takes MSG, also when it fails */
    nta_outgoing_t *again = msg ? nta_outgoing_mcreate(leg->d->nta->agent, invite_response_cb, leg, NULL, msg, TAG_END())
                                : NULL;
    if (!again)
        return -1;
    nta_outgoing_destroy(orq);   /* its 401/407 is ACKed by the transaction */
    NTA_BUSY_PUT(nl, orq, again);
    return 0;
}

/* The gateway's 422 (Session Interval Too Small) to our INVITE: the same
 * INVITE again with its Min-SE as our Session-Expires and Min-SE (RFC 4028
 * 6, as NUA does), once. 0: sent (the new transaction replaces ORQ), -1:
 * the dial fails with 422. */
static int retry_min_se(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    struct sip_nta_leg *nl = leg->nta;
    if (nl->st_retried || nl->cancelled || leg->state == LEG_ENDED || !sip->sip_min_se)
        return -1;
    nl->st_retried = true;
    /* Only an interval longer than the one asked for, at most a day. */
    unsigned long min = sip->sip_min_se->min_delta;
    if (min > 86400 || min <= (unsigned long)leg->d->cfg->settings.session_expires)
        return -1;
    msg_t *msg = sip_nta_request_again(orq);
    if (!msg)
        return -1;
    sip_t *req = sip_object(msg);
    su_home_t *home = msg_home(msg);
    char v[24];
    snprintf(v, sizeof v, "%lu", min);
    sip_session_expires_t *x = sip_session_expires_make(home, v);
    sip_min_se_t *m = sip_min_se_make(home, v);
    bool ok = x && m && req->sip_session_expires &&
              msg_header_replace(msg, (msg_pub_t *)req, (msg_header_t *)req->sip_session_expires, (msg_header_t *)x) == 0 &&
              (req->sip_min_se ? msg_header_replace(msg, (msg_pub_t *)req, (msg_header_t *)req->sip_min_se, (msg_header_t *)m)
                               : msg_header_insert(msg, (msg_pub_t *)req, (msg_header_t *)m)) == 0;
    /* nta_outgoing_mcreate takes MSG, also when it fails (as authenticate) */
    nta_outgoing_t *again = ok ? nta_outgoing_mcreate(leg->d->nta->agent, invite_response_cb, leg, NULL, msg, TAG_END()) : NULL;
    if (!again) {
        if (!ok)
            msg_destroy(msg);
        return -1;
    }
    sip_log(leg->d, SIP_LOG_DEBUG, "leg %s: 422 from the callee: INVITE again with Session-Expires %lu",
            leg->call_id ? leg->call_id : "-", min);
    nta_outgoing_destroy(orq);   /* its 422 is ACKed by the transaction */
    NTA_BUSY_PUT(nl, orq, again);
    return 0;
}


/* The callee's early answer (18x SDP) has no media we can use (no
 * PCMU/PCMA, no IPv4 address): the dial fails 488 and the INVITE is
 * cancelled (as sip_out.c's fork_unusable does), not rung on without media.
 * Its final response (487, or a 2xx that crossed: ACK and BYE) ends it. */
static void early_unusable(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    sip_log(leg->d, SIP_LOG_WARN, "dial %s: no usable media in the answer: CANCEL, failed 488",
            leg->callee ? leg->callee : "-");
    sip_nta_fail_leg(leg, 488);
    nl->cancelled = true;
    nta_outgoing_tcancel(NTA_BUSY(nl, orq), NULL, NULL, TAG_END());
    sip_nta_give_up_later(leg);
}

static int invite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    int status = sip_nta_response_status(orq, sip);
    sip_enter(d);
    if (status >= 200 && NTA_BUSY(nl, give_up)) {   /* a final response after our CANCEL */
        loop_timer_stop(d->l, nl->busy->give_up);
        NTA_BUSY_PUT(nl, give_up, NULL);
    }
    if (status < 200 && !leg->trying_raised && leg->state != LEG_ENDED && !nl->cancelled) {
        leg->trying_raised = true;
        sip_raise_kind(leg, TEL_EV_TRYING, 100, NULL);
    }
    if (status < 200) {
        bool sdp = sip && sip->sip_payload && sip->sip_payload->pl_len;
        if (status > 100 && leg->state != LEG_ENDED && !nl->cancelled) {
            leg->state = LEG_EARLY;
            if (sdp && !leg->early_raised && !leg->bypass && sip_leg_apply_sdp(leg, sip, NULL) < 0) {
                early_unusable(leg);
            } else if (sdp && !leg->early_raised) {
                if (leg->bypass)
                    sip_bypass_keep_sdp(leg, sip);
                leg->early_raised = true;
                early_media(leg);
                sip_raise_kind(leg, TEL_EV_EARLY_MEDIA, status, NULL);
            } else if (!leg->ringing_raised && !leg->early_raised) {
                leg->ringing_raised = true;
                sip_raise_kind(leg, TEL_EV_RINGING, status, NULL);
            }
        }
    } else if (status < 300) {
        if (nl->have_dlg) {
            if (sip && sip->sip_to && sip->sip_to->a_tag && strcasecmp(sip->sip_to->a_tag, nl->dlg.remote_tag) == 0)
                send_ack(leg);   /* a retransmitted 2xx */
        } else if (sip) {
            answered(leg, orq, sip);
        }
    } else {
        if ((status == 401 || status == 407) && sip && authenticate(leg, orq, sip, status) == 0) {
            sip_leave(d);
            return 0;
        }
        if (status == 422 && sip && retry_min_se(leg, orq, sip) == 0) {
            sip_leave(d);
            return 0;
        }
        if (!NTA_BUSY(nl, linger)) {
            nta_outgoing_destroy(orq);
            NTA_BUSY_PUT(nl, orq, NULL);
        }
        if (!nl->have_dlg) {
            sip_nta_fail_leg(leg, status);
            sip_leg_sip_done(leg);
        }
    }
    sip_leave(d);
    return 0;
}

void sip_nta_send_reinvite_ack(sip_leg *leg, uint32_t cseq)
{
    nta_outgoing_t *ack = sip_nta_dialog_request(leg, sip_method_ack, "ACK", cseq, NULL, NULL);
    if (ack)
        nta_outgoing_destroy(ack);
}

void sip_nta_send_late_ack(sip_leg *leg, uint32_t cseq)
{
    struct sip_nta_leg *nl = leg->nta;
    const sip_dialog *dl = &nl->dlg;
    nta_agent_t *agent = sip_nta_agent(leg->d);
    msg_t *msg = agent ? sip_nta_new_request(leg->d, sip_method_ack, "ACK", dl->target, cseq) : NULL;
    if (!msg)
        return;
    sip_t *sip = sip_object(msg);
    char from[SIP_DIALOG_MAX], to[SIP_DIALOG_MAX];
    sip_call_id_t call_id = sip_nta_call_id(dl->call_id);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(sip_dialog_from(dl, from)), SIPTAG_TO_STR(sip_dialog_to(dl, to)),
                   SIPTAG_CALL_ID(&call_id),
                   TAG_IF(*dl->route, SIPTAG_ROUTE_STR(dl->route)), SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0) {
        msg_destroy(msg);
        return;
    }
    /* The INVITE's transaction may be gone (sofia keeps it 32 s, timer
     * D): sofia's UA asserts, aborting the process, on an ACK it finds no
     * INVITE for, unless the ACK names its branch; sent statelessly. The
     * ACK of a 2xx is a transaction of its own (RFC 3261 17.1.1.3). */
    char branch[40] = "z9hG4bK";
    sip_nta_random_hex(branch + 7, sizeof branch - 7, 2);
    const char *hop = sip_nta_leg_hop(leg);
    nta_outgoing_t *ack = nta_outgoing_mcreate(agent, NULL, NULL, hop ? URL_STRING_MAKE(hop) : NULL, msg,
                                               NTATAG_ACK_BRANCH(branch), NTATAG_STATELESS(1), TAG_END());
    if (ack)
        nta_outgoing_destroy(ack);
}

static int reinvite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip);

/* A gateway's 401/407 to our re-INVITE (a hold passed on, an offer
 * relayed in bypass): the same re-INVITE again (CSeq + 1, the dialog's
 * CSeq with it) with the gateway's credentials, once per re-INVITE, as our
 * INVITE's authenticate. 0: sent (it replaces ORQ); -1: not (no
 * credentials, tried already). */
static int reinvite_authenticate(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip, int status)
{
    struct sip_nta_leg *nl = leg->nta;
    const struct sip_leg_dial *dial = sip_dial_of(leg);
    if (nl->reinvite_auth_tried || !dial || !dial->gw_user || leg->state != LEG_UP)
        return -1;
    nl->reinvite_auth_tried = true;
    msg_t *msg = sip_nta_request_authorized(orq, sip, status, dial->gw_user, dial->gw_pass);
    if (!msg)
        return -1;
    uint32_t cseq = sip_object(msg)->sip_cseq->cs_seq;
    /* nta_outgoing_mcreate takes MSG, also when it fails */
    const char *hop = sip_nta_leg_hop(leg);
    nta_outgoing_t *again = nta_outgoing_mcreate(leg->d->nta->agent, reinvite_response_cb, leg,
                                                 hop ? URL_STRING_MAKE(hop) : NULL, msg, TAG_END());
    if (!again)
        return -1;
    if (cseq > nl->dlg.local_cseq)
        nl->dlg.local_cseq = cseq;
    sip_log(leg->d, SIP_LOG_DEBUG, "leg %s: %d to our re-INVITE: sent again with credentials",
            leg->call_id ? leg->call_id : "-", status);
    nta_outgoing_destroy(orq);   /* its 401/407 is ACKed by the transaction */
    NTA_BUSY_PUT(nl, reinvite, again);
    return 0;
}

static int reinvite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = sip_nta_response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    sip_enter(d);
    if ((status == 401 || status == 407) && sip && reinvite_authenticate(leg, orq, sip, status) == 0) {
        sip_leave(d);
        return 0;
    }
    if (leg->bypass && sip_nta_bypass_relay_offer(leg, status, sip)) {
        /* An offer for an offerless re-INVITE, gone to its sender: ORQ
         * stays in nl->reinvite, ACKed with the sender's answer
         * (sip_nta_bypass.c). */
        sip_nta_st_start(leg);
        sip_leave(d);
        return 0;
    }
    if (status < 300 && sip) {
        sip_nta_send_reinvite_ack(leg, nta_outgoing_cseq(orq));
        if (sip->sip_payload && sip->sip_payload->pl_len && !leg->bypass)
            sip_leg_apply_sdp(leg, sip, NULL);
        if (leg->bypass)
            sip_nta_bypass_offer_taken(leg, orq);
    }
    /* Its 2xx may come again (our ACK lost): that finds no transaction
     * and is ACKed by stray_response_cb. */
    nta_outgoing_destroy(orq);
    NTA_BUSY_PUT(nl, reinvite, NULL);
    if (status < 300)
        sip_nta_st_start(leg);   /* a re-INVITE refreshes the session */
    else if (nl->se && nl->we_refresh && status != 491 && leg->state == LEG_UP && !nl->st)
        sip_nta_st_expired(leg);   /* our refresh failed */
    if (leg->bypass)
        sip_nta_bypass_answered(leg, status, sip);   /* an offer relayed: its answer goes back */
    else
        sip_leg_reinvite_done(leg, status);   /* 491: tried again later (glare) */
    sip_nta_dialog_over(leg);
    sip_leave(d);
    return 0;
}

int sip_nta_reinvite(sip_leg *leg, const char *sdp)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl || !nl->have_dlg || NTA_BUSY(nl, reinvite))
        return -1;
    nl->reinvite_auth_tried = false;
    nta_outgoing_t *reinvite = sip_nta_dialog_request(leg, sip_method_invite, "INVITE", sip_dialog_next_cseq(&nl->dlg),
                                                      reinvite_response_cb, sdp);
    NTA_BUSY_PUT(nl, reinvite, reinvite);
    return reinvite ? 0 : -1;
}

/* "FROM;tag=TAG" as snprintf would write it into OUT (N bytes, cut to fit),
 * by hand: every dialled leg's INVITE. */
static void tagged(char *out, size_t n, const char *from, const char *tag)
{
    size_t len = 0;
    const char *parts[] = {from, ";tag=", tag};
    for (size_t i = 0; i < 3 && len < n - 1; i++) {
        size_t l = strnlen(parts[i], n - 1 - len);
        memcpy(out + len, parts[i], l);
        len += l;
    }
    out[len] = '\0';
}

/* V as "%.0f" writes it; a whole number of seconds (the usual case) by
 * hand, the rest by snprintf. */
static void seconds(char *out, size_t n, double v)
{
    if (v >= 1 && v < 1e15 && v == (double)(unsigned long long)v) {
        char d[24];
        size_t i = sizeof d;
        unsigned long long u = (unsigned long long)v;
        do
            d[--i] = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (sizeof d - i < n) {
            memcpy(out, d + i, sizeof d - i);
            out[sizeof d - i] = '\0';
            return;
        }
    }
    snprintf(out, n, "%.0f", v);
}

int sip_nta_invite(sip_fork *f, const char *to, const char *from, const char *sdp)
{
    sip_leg *leg = f->leg;
    sip_driver *d = leg->d;
    struct sip_nta *t = d->nta;
    struct sip_nta_leg *nl = sip_nta_leg_state(leg);
    /* A user's several contacts: one INVITE each, with the same Call-ID
     * and From tag, as a forking proxy sends them (RFC 3261 16.6): the
     * answer's To tag tells the dialogs apart. */
    if (!nl->own_key) {
        char call_id[120];
        sip_nta_random_token(nl->tag, SIP_NTA_TAG_CHARS);
        sip_nta_new_call_id(d, call_id, sizeof call_id);
        nl->own_key = cr_xstrdup(call_id);
    }
    char from_tagged[800];
    tagged(from_tagged, sizeof from_tagged, from, nl->tag);
    const cfg_tel_settings *st = &d->cfg->settings;
    char se[24] = "", min_se[24] = "";
    if (st->session_expires > 0) {
        seconds(se, sizeof se, st->session_expires);
        seconds(min_se, sizeof min_se, st->session_min_se);
    }
    free(leg->tls_contact);   /* our Contact over TLS (sip_nta_tls.c), or NULL */
    leg->tls_contact = sip_nta_tls_contact_out(d, f->uri);
    msg_t *msg = sip_nta_new_request(d, sip_method_invite, "INVITE", f->uri, 1);
    if (!msg)
        return -1;
    sip_t *sip = sip_object(msg);
    sip_call_id_t call_id = sip_nta_call_id(nl->own_key);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(from_tagged), SIPTAG_TO_STR(to),
                   SIPTAG_CALL_ID(&call_id), NTA_CONTACT(leg, true),
                   SIPTAG_MAX_FORWARDS(NTA_HDR(d)->max_forwards), SIPTAG_ALLOW(NTA_HDR(d)->allow),
                   TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_MIN_SE_STR(min_se)),
                   TAG_IF(*se, SIPTAG_SUPPORTED(NTA_HDR(d)->timer)),
                   SIPTAG_CONTENT_TYPE(NTA_HDR(d)->sdp_type), SIPTAG_PAYLOAD_STR(sdp), TAG_END()) < 0) {
        msg_destroy(msg);
        return -1;
    }
    if (sip_dial_forked(sip_dial_of(leg))) {
        if (sip_nta_fork_send(f, msg, f->hop) < 0)
            return -1;
    } else {
        nta_outgoing_t *orq = nta_outgoing_mcreate(t->agent, invite_response_cb, leg,
                                                   f->hop ? URL_STRING_MAKE(f->hop) : NULL, msg, TAG_END());
        if (!orq)
            return -1;
        NTA_BUSY_PUT(nl, orq, orq);
    }
    /* "trying" comes with the first provisional response: never from
     * inside dial(), the engine has not stored the leg yet. */
    if (!nl->hashed)
        sip_nta_table_add(t, leg);
    return 0;
}

int sip_nta_invite_response(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    return invite_response_cb(leg, orq, sip);
}

void sip_nta_use_invite(sip_leg *leg, nta_outgoing_t *orq, const char *hop)
{
    /* HOP is the winner's (the dial's win), which the dialog's requests take
     * (sip_nta.c). */
    (void)hop;
    NTA_BUSY_PUT(leg->nta, orq, orq);
}


void sip_nta_dial_failed(sip_leg *leg, int status)
{
    sip_nta_fail_leg(leg, status);
    sip_leg_sip_done(leg);
}

static void give_up_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    struct sip_nta_leg *nl = leg->nta;
    NTA_BUSY_PUT(nl, give_up, NULL);
    if (!NTA_BUSY(nl, orq) || nl->have_dlg)
        return;
    sip_enter(leg->d);
    sip_log(leg->d, SIP_LOG_INFO, "leg %s: no final response 64*T1 after our CANCEL: INVITE given up",
            leg->call_id ? leg->call_id : "-");
    nta_outgoing_destroy(nl->busy->orq);
    NTA_BUSY_PUT(nl, orq, NULL);
    sip_driver *d = leg->d;
    sip_leg_sip_done(leg);   /* may free LEG */
    sip_leave(d);
}

bool sip_nta_dial_pending(const sip_leg *leg)
{
    return leg->nta && NTA_BUSY(leg->nta, orq) && !leg->nta->have_dlg && !leg->nta->cancelled &&
           leg->state != LEG_UP && leg->state != LEG_ENDED;
}

void sip_nta_dial_give_up(sip_leg *leg, int code)
{
    struct sip_nta_leg *nl = leg->nta;
    nta_outgoing_destroy(NTA_BUSY(nl, orq));   /* no CANCEL: nothing reached the peer */
    NTA_BUSY_PUT(nl, orq, NULL);
    sip_nta_fail_leg(leg, code);
    sip_leg_sip_done(leg);
}

void sip_nta_give_up_later(sip_leg *leg)
{
    NTA_BUSY_PUT(leg->nta, give_up, loop_timer_start(leg->d->l, leg->d->nta->t1x64_ms / 1000.0, give_up_cb, leg));
}

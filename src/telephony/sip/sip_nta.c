/* sip_nta.c — settings.sip.core: nta: the driver's calls on sofia's
 * transaction layer (NTA) with a dialog record of our own (sip_dialog.c),
 * instead of NUA's handles (docs/decisions/sip-core.md, stage 3).
 *
 * What it carries: an INVITE from a gateway (by source address), a SIP
 * URI caller or a user (digest: 407, sip_nta_reg.c), answered, rung, refused or bridged by the engine as under
 * NUA; its ACK, CANCEL (487) and BYE; calls dialled to a gateway or a SIP
 * URI (one INVITE, its ACK, our CANCEL and BYE), or to a registered user
 * (one INVITE per contact: sip_nta_fork.c; a phone's flow is the route of
 * its requests); media anchored or
 * bypassed; re-INVITE and UPDATE with SDP both ways for hold and unhold
 * (anchored media; glare 491, ours tried again later); DTMF by INFO (RFC 4733 is RTP's,
 * the same under either core); a gateway's digest challenge (auc_*,
 * once per dial); RFC 4028 session timers (settings.sip.session_timer:
 * negotiated in the INVITE and its 2xx, a 422 retried once with the
 * callee's Min-SE, refreshed by UPDATE when the
 * remote allows it, else re-INVITE; BYE with Reason 408 when a refresh
 * does not come or fails); OPTIONS with the load header; 481
 * for a request naming no
 * dialog of ours, 500 for one out of CSeq order; REGISTER (the registrar,
 * sip_nta_reg.c); MESSAGE both ways (sip_nta_msg.c); message-summary
 * SUBSCRIBE/NOTIFY (sip_nta_mwi.c). The agent is a UA
 * (NTATAG_UA): it retransmits our 2xx until the ACK comes; a 2xx to our
 * (re-)INVITE that comes again after its transaction is gone is ACKed
 * again (stray_response_cb); after our CANCEL the INVITE is given up at
 * 64*T1 without a final response. Beside it: REFER both ways
 * (sip_nta_refer.c), the bypass re-INVITE/UPDATE relay (sip_nta_bypass.c),
 * RFC 3261 8.2.2's 416 and 420 (sip_nta_uas.c).
 *
 * What it does not carry yet is refused, never half done: requests other
 * than those get 501 and one log line naming the setting. Its tls:
 * listener and Contacts over TLS are sip_nta_tls.c's, gateway
 * registrations sip_nta_gwreg.c's. */
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

#define NTA_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY"
/* What a request callback returns once it has answered itself (or for an
 * ACK, which is never answered): a final status only makes NTA destroy
 * the transaction, nothing is sent again. */
#define ANSWERED 500

/* The agent and our legs by Call-ID (every leg has its own: the caller's,
 * or one we made for a dialled leg). */
struct sip_nta {
    nta_agent_t *agent;
    nta_leg_t *dflt;           /* every request comes here: NTA keeps no dialogs for us */
    msg_t *current;            /* the request being handled (its source address) */
    sip_leg **buckets;
    size_t nbuckets, count;
    char contact[160];         /* "<sip:HOST:PORT>" */
    unsigned t1x64_ms;
    unsigned refused_logged;   /* one log line per kind of refusal (bits) */
};

/* A leg's SIP state under NTA. */
struct sip_nta_leg {
    sip_dialog dlg;
    bool have_dlg;
    nta_incoming_t *irq;       /* incoming: the INVITE, until its ACK (or CANCEL, or refusal) */
    nta_outgoing_t *orq;       /* outgoing: our INVITE (kept T1x64 after a 2xx for its retransmissions) */
    const char *hop;           /* outgoing to a phone's flow: where its requests go (the fork's), or NULL */
    nta_outgoing_t *bye;       /* our BYE, until its final response */
    nta_outgoing_t *reinvite;  /* our re-INVITE (hold passed on), until its final response */
    loop_timer *give_up;       /* outgoing: 64*T1 after our CANCEL, the INVITE without a final response ends */
    bool bye_reason;           /* our BYE says why: the session timer expired (Reason 408) */
    loop_timer *linger;        /* drops ORQ after a 2xx */
    const char *key;           /* the Call-ID it is found by: the leg's, or OWN_KEY */
    char *own_key;             /* outgoing: the Call-ID we made */
    sip_leg *hnext;
    bool hashed, cancelled, auth_tried, st_retried;
    /* RFC 4028 session timer: the interval (0: none), whether we refresh
     * (else we expect the remote to), whether the remote takes UPDATE. */
    unsigned se;
    bool we_refresh, remote_timer, remote_update;
    loop_timer *st;
    nta_outgoing_t *refresh;   /* our UPDATE refresh, until its final response */
    char tag[24];
};

/* ---- legs by Call-ID ---- */

static size_t hash_key(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)(h & (n - 1));
}

static void table_grow(struct sip_nta *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 1024;
    sip_leg **b = cr_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++)
        for (sip_leg *l = t->buckets[i], *next; l; l = next) {
            next = l->nta->hnext;
            size_t h = hash_key(l->nta->key, n);
            l->nta->hnext = b[h];
            b[h] = l;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

static void table_add(struct sip_nta *t, sip_leg *leg)
{
    if (t->count >= t->nbuckets)
        table_grow(t);
    size_t h = hash_key(leg->nta->key, t->nbuckets);
    leg->nta->hnext = t->buckets[h];
    t->buckets[h] = leg;
    leg->nta->hashed = true;
    t->count++;
}

static void table_remove(struct sip_nta *t, sip_leg *leg)
{
    if (!leg->nta->hashed)
        return;
    for (sip_leg **p = &t->buckets[hash_key(leg->nta->key, t->nbuckets)]; *p; p = &(*p)->nta->hnext)
        if (*p == leg) {
            *p = leg->nta->hnext;
            t->count--;
            break;
        }
    leg->nta->hashed = false;
}

static sip_leg *table_find(struct sip_nta *t, const char *call_id)
{
    if (!t->nbuckets || !call_id)
        return NULL;
    for (sip_leg *l = t->buckets[hash_key(call_id, t->nbuckets)]; l; l = l->nta->hnext)
        if (strcmp(l->nta->key, call_id) == 0)
            return l;
    return NULL;
}

/* ---- helpers ---- */

/* Tags and Call-IDs: unguessable (arc4random), so a third party cannot
 * aim a BYE at a dialog of ours. */
static void random_hex(char *out, size_t n, int words)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < words && used + 9 <= n; i++)
        used += (size_t)snprintf(out + used, n - used, "%08x", (unsigned)arc4random());
}

static struct sip_nta_leg *nta_leg_state(sip_leg *leg)
{
    if (!leg->nta)
        leg->nta = cr_xcalloc(1, sizeof *leg->nta);
    return leg->nta;
}

/* Our Contact toward LEG's remote: over TLS the listener's
 * (sip_nta_tls.c), else the agent's. */
static const char *leg_contact(const sip_leg *leg)
{
    return leg->tls_contact ? leg->tls_contact : leg->d->nta->contact;
}

/* One log line per kind of thing core: nta does not carry. */
static void refuse_log(sip_driver *d, unsigned bit, const char *what)
{
    if (d->nta->refused_logged & bit)
        return;
    d->nta->refused_logged |= bit;
    sip_log(d, SIP_LOG_WARN, "settings.sip.core: nta does not carry %s yet: answered 501 (core: nua does)", what);
}

static void fail_leg(sip_leg *leg, int code)
{
    if (leg->state == LEG_ENDED)
        return;
    leg->state = LEG_ENDED;
    sip_leg_detach(leg);
    bool busy = code == 486 || code == 600;
    sip_leg_log_end(leg, code, busy ? "busy" : "failed", "callee");
    sip_raise_kind(leg, busy ? TEL_EV_BUSY : TEL_EV_FAILED, code, busy ? "busy" : "failed");
    sip_media_leg_gone(leg);
}

/* A request in LEG's dialog: METHOD with CSEQ (our next, or the INVITE's
 * for its ACK), CB for its responses (NULL: none wanted, e.g. ACK), SDP
 * its body (NULL: none; a re-INVITE also carries our Contact), EXTRA more
 * headers (NULL: none). */
static nta_outgoing_t *dialog_request_tl(sip_leg *leg, sip_method_t method, const char *name, uint32_t cseq,
                                         nta_response_f *cb, const char *sdp, const tagi_t *extra)
{
    struct sip_nta *t = leg->d->nta;
    const sip_dialog *dl = &leg->nta->dlg;
    msg_t *msg = nta_msg_create(t->agent, 0);
    sip_t *sip = sip_object(msg);
    su_home_t *home = msg_home(msg);
    url_t *ruri = url_make(home, dl->target);
    sip_request_t *rq = ruri ? sip_request_create(home, method, name, (url_string_t *)ruri, NULL) : NULL;
    sip_cseq_t *cs = sip_cseq_create(home, cseq, method, name);
    /* A re-INVITE or UPDATE of a dialog with a session timer refreshes it. */
    char se[48] = "";
    if (leg->nta->se && (method == sip_method_invite || method == sip_method_update))
        snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se,
                 leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
    if (!rq || !cs ||
        sip_add_tl(msg, sip, SIPTAG_REQUEST(rq), SIPTAG_FROM_STR(dl->local), SIPTAG_TO_STR(dl->remote),
                   TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED_STR("timer")),
                   TAG_IF(method == sip_method_bye && leg->nta->bye_reason,
                          SIPTAG_REASON_STR("SIP;cause=408;text=\"Session timer expired\"")),
                   SIPTAG_CALL_ID_STR(dl->call_id), SIPTAG_CSEQ(cs), TAG_IF(*dl->route, SIPTAG_ROUTE_STR(dl->route)),
                   SIPTAG_MAX_FORWARDS_STR("70"), TAG_IF(sdp, SIPTAG_CONTACT_STR(leg_contact(leg))),
                   TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")), TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                   TAG_NEXT(extra)) < 0) {
        msg_destroy(msg);
        return NULL;
    }
    return nta_outgoing_mcreate(t->agent, cb, leg, leg->nta->hop ? URL_STRING_MAKE(leg->nta->hop) : NULL, msg,
                                TAG_END());
}

static nta_outgoing_t *dialog_request(sip_leg *leg, sip_method_t method, const char *name, uint32_t cseq,
                                      nta_response_f *cb, const char *sdp)
{
    return dialog_request_tl(leg, method, name, cseq, cb, sdp, NULL);
}

nta_outgoing_t *sip_nta_request(sip_leg *leg, sip_method_t method, const char *name, nta_response_f *cb,
                                tag_type_t tag, tag_value_t value, ...)
{
    if (!leg->nta || !leg->nta->have_dlg)
        return NULL;
    ta_list ta;
    ta_start(ta, tag, value);
    tagi_t extra[] = {{SIPTAG_CONTACT_STR(leg->d->nta->contact)}, {TAG_NEXT(ta_args(ta))}};
    nta_outgoing_t *orq =
        dialog_request_tl(leg, method, name, sip_dialog_next_cseq(&leg->nta->dlg), cb, NULL, extra);
    (void)ta_end(ta);
    return orq;
}

/* The status of the response SIP to ORQ (NTA's own, 408/503, when it
 * made the final response itself: timeout, transport error). */
static int response_status(nta_outgoing_t *orq, const sip_t *sip)
{
    return sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
}

/* LEG's dialog is over (BYE sent and answered, or received) once no
 * request of ours waits for its final response: a re-INVITE still pending
 * gets it (a 487 to be ACKed) before the leg goes. */
static void dialog_over(sip_leg *leg)
{
    if (leg->state == LEG_ENDED && !leg->nta->bye && !leg->nta->reinvite && !leg->nta->refresh)
        sip_leg_sip_done(leg);
}

static int bye_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    sip_enter(d);
    nta_outgoing_destroy(orq);
    leg->nta->bye = NULL;
    leg->state = LEG_ENDED;
    dialog_over(leg);
    sip_leave(d);
    return 0;
}

static void send_bye(sip_leg *leg);

/* ---- RFC 4028 session timers (settings.sip.session_timer) ---- */

static void st_stop(sip_leg *leg)
{
    if (leg->nta->st)
        loop_timer_stop(leg->d->l, leg->nta->st);
    leg->nta->st = NULL;
}

static void st_cb(loop *l, void *arg);

/* (Re)arms LEG's session timer: our refresh at half the interval, or the
 * end of the session when the remote's refresh has not come by then
 * (RFC 4028 10: the interval less a third, at most 32 s). */
static void st_start(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    st_stop(leg);
    if (!nl->se || leg->state != LEG_UP)
        return;
    double at = nl->we_refresh ? nl->se / 2.0 : nl->se - fmin(32.0, nl->se / 3.0);
    nl->st = loop_timer_start(leg->d->l, at, st_cb, leg);
}

/* The session is over: no refresh came, or ours failed. */
static void st_expired(sip_leg *leg)
{
    sip_log(leg->d, SIP_LOG_INFO, "%s %s: session timer expired (%u s): BYE", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", leg->nta->se);
    sip_leg_ended_by_system(leg, 408, "session_timer");
    leg->nta->bye_reason = true;
    send_bye(leg);
}

static int refresh_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    sip_enter(d);
    nta_outgoing_destroy(orq);
    leg->nta->refresh = NULL;
    if (status < 300 || status == 491)
        st_start(leg);   /* refreshed (or glare: the other side's refresh will do) */
    else if (leg->state == LEG_UP)
        st_expired(leg);   /* RFC 4028 10: a refresh that fails ends the session */
    dialog_over(leg);
    sip_leave(d);
    return 0;
}

static void st_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    struct sip_nta_leg *nl = leg->nta;
    nl->st = NULL;
    sip_enter(leg->d);
    if (leg->state != LEG_UP) {
        /* over already */
    } else if (!nl->we_refresh) {
        st_expired(leg);
    } else if (nl->remote_update && !nl->refresh) {
        /* UPDATE without a body: no offer/answer, only the refresh */
        nl->refresh = dialog_request(leg, sip_method_update, "UPDATE", sip_dialog_next_cseq(&nl->dlg),
                                     refresh_response_cb, NULL);
        if (!nl->refresh)
            st_expired(leg);
    } else if (!leg->reinvite_busy && !nl->reinvite) {
        char sdp[768];
        sip_leg_sdp(leg, sdp, sizeof sdp, true);
        leg->reinvite_busy = true;   /* its answer re-arms the timer */
        if (sip_nta_reinvite(leg, sdp) < 0) {
            leg->reinvite_busy = false;
            st_expired(leg);
        }
    } else {
        st_start(leg);   /* a re-INVITE is under way: it refreshes */
    }
    sip_leave(leg->d);
}

/* The session timer an INVITE (we answer) asks for, with our settings:
 * 0, or 422 when its interval is below our Min-SE. */
static int st_uas(sip_leg *leg, const sip_t *sip)
{
    const cfg_tel_settings *st = &leg->d->cfg->settings;
    struct sip_nta_leg *nl = leg->nta;
    const sip_session_expires_t *x = sip->sip_session_expires;
    nl->remote_timer = sip_has_feature(sip->sip_supported, "timer") || sip_has_feature(sip->sip_require, "timer");
    nl->remote_update = sip->sip_allow && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
    if (x && x->x_delta < (unsigned long)st->session_min_se)
        return 422;
    if (x && x->x_delta > 0) {
        unsigned long se = x->x_delta;
        if (st->session_expires > 0 && se > (unsigned long)st->session_expires)
            se = (unsigned long)st->session_expires > (unsigned long)st->session_min_se ? (unsigned long)st->session_expires
                                                                                       : se;
        nl->se = se > 86400 ? 86400 : (unsigned)se;
        nl->we_refresh = x->x_refresher ? strcasecmp(x->x_refresher, "uas") == 0 : !nl->remote_timer;
    } else if (st->session_expires > 0 && nl->remote_timer) {
        nl->se = (unsigned)st->session_expires;
        nl->we_refresh = false;   /* the caller supports it: it refreshes (RFC 4028 9) */
    }
    return 0;
}

/* The 2xx to our INVITE says whether a session timer runs and who refreshes. */
static void st_uac(sip_leg *leg, const sip_t *sip)
{
    struct sip_nta_leg *nl = leg->nta;
    const sip_session_expires_t *x = sip->sip_session_expires;
    nl->remote_update = sip->sip_allow && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
    if (!x || x->x_delta == 0 || leg->d->cfg->settings.session_expires <= 0)
        return;
    nl->se = x->x_delta > 86400 ? 86400 : (unsigned)x->x_delta;
    nl->we_refresh = !x->x_refresher || strcasecmp(x->x_refresher, "uac") == 0;
}

static void send_bye(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl->have_dlg || nl->bye)
        return;
    st_stop(leg);
    nl->bye = dialog_request(leg, sip_method_bye, "BYE", sip_dialog_next_cseq(&nl->dlg), bye_response_cb, NULL);
    if (!nl->bye)
        sip_leg_sip_done(leg);
}

/* ---- incoming: the INVITE's ACK, CANCEL, or no ACK ---- */

static void drop_irq(struct sip_nta_leg *nl)
{
    if (nl->irq)
        nta_incoming_destroy(nl->irq);
    nl->irq = NULL;
}

static int invite_irq_cb(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    sip_enter(d);
    sip_method_t m = sip && sip->sip_request ? sip->sip_request->rq_method : sip_method_unknown;
    if (m == sip_method_ack) {
        if (sip->sip_payload && sip->sip_payload->pl_len && !leg->bypass)
            sip_leg_apply_sdp(leg, sip, NULL);
        drop_irq(nl);
    } else if (m == sip_method_cancel && nta_incoming_status(irq) < 200) {
        nta_incoming_treply(irq, 487, sip_status_phrase(487), TAG_END());
        drop_irq(nl);
        sip_leg_ended(leg, 487, "cancel");
        sip_leg_sip_done(leg);
    } else if (m == sip_method_cancel) {
        /* It crossed our 2xx: the INVITE has its final response and the
         * CANCEL changes nothing (RFC 3261 9.2); the ACK still comes here. */
    } else if (!sip) {
        /* Our 2xx was never ACKed (64*T1): the call is not up (RFC 3261 13.3.1.4). */
        drop_irq(nl);
        if (leg->state == LEG_UP) {
            sip_log(d, SIP_LOG_INFO, "call %s: no ACK for our 200: BYE", leg->call_id ? leg->call_id : "-");
            sip_leg_ended_by_system(leg, 408, "no_ack");
            send_bye(leg);
        }
    }
    sip_leave(d);
    return 0;
}

/* ---- incoming: a new call ---- */

static int new_call(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_refusal refusal;
    int code = sip_admit_call(d, sip, &refusal);
    if (code) {
        nta_incoming_treply(irq, code, sip_status_phrase(code), SIPTAG_RETRY_AFTER_STR(refusal.retry_after),
                            SIPTAG_HEADER_STR(refusal.load), TAG_END());
        return ANSWERED;
    }
    const struct sip_gw *gw = NULL;
    const cfg_user *u = NULL;
    char source[80];
    int who_is = sip_nta_identify(d, irq, sip, source, sizeof source, &gw, &u);
    if (who_is)
        return who_is;
    int unusable = sip_in_body_check(sip);
    if (unusable) {
        const sip_content_type_t *ct = sip->sip_content_type;   /* logged as sip_in.c does */
        sip_log(d, SIP_LOG_INFO, "call %s from %s: %d (Content-Type %s)", sip->sip_call_id->i_id, sip_gw_name(gw),
                unusable, ct && ct->c_type ? ct->c_type : "-");
        nta_incoming_treply(irq, unusable, sip_status_phrase(unusable),
                            TAG_IF(unusable == 415, SIPTAG_ACCEPT_STR("application/sdp")), TAG_END());
        return ANSWERED;
    }
    sip_leg *leg = sip_leg_new(d, false);
    struct sip_nta_leg *nl = nta_leg_state(leg);
    random_hex(nl->tag, sizeof nl->tag, 2);
    if (sip_dialog_uas(&nl->dlg, sip, nl->tag) != 0) {
        leg->released = leg->sip_done = true;
        leg->state = LEG_ENDED;
        sip_leg_maybe_free(leg);
        return 400;
    }
    nl->have_dlg = true;
    if (st_uas(leg, sip) == 422) {
        char min[16];
        snprintf(min, sizeof min, "%.0f", d->cfg->settings.session_min_se);
        nta_incoming_treply(irq, 422, sip_status_phrase(422), SIPTAG_MIN_SE_STR(min), TAG_END());
        leg->released = leg->sip_done = true;
        leg->state = LEG_ENDED;
        sip_leg_maybe_free(leg);
        return ANSWERED;
    }
    leg->tls_contact = sip_nta_tls_contact_in(d, sip);
    nta_incoming_tag(irq, nl->tag);
    nl->irq = irq;
    nta_incoming_bind(irq, invite_irq_cb, leg);
    leg->call_id = cr_xstrdup(sip->sip_call_id->i_id);
    nl->key = leg->call_id;
    table_add(d->nta, leg);

    sip_in_parties who;
    sip_in_parties_get(sip, gw && sip_gw_conf(gw)->trust_identity, &who);
    leg->rtp_reserved = true;
    d->rtp_reserved++;
    leg->caller = who.caller;
    leg->caller_name = who.caller_name;
    leg->callee = who.callee;
    leg->source = cr_xstrdup(source);
    leg->symmetric_rtp = gw ? sip_gw_conf(gw)->symmetric_rtp : u && u->symmetric_rtp;
    leg->srtp = sip_leg_srtp_policy(d, gw ? sip_gw_conf(gw)->srtp : u ? u->srtp : CFG_SRTP_INHERIT);

    bool offer = sip->sip_payload && sip->sip_payload->pl_len;
    int rc = offer ? sip_leg_apply_sdp(leg, sip, NULL) : sip_leg_media(leg) < 0 ? -2 : 0;
    if (rc < 0) {
        if (rc == -2)
            sip_report_refused(d, sip, 503, rtp_limit_reason(d->rtp_why));
        sip_nta_hangup(leg, rc == -2 ? 503 : 488);
        leg->released = true;
        sip_leg_maybe_free(leg);
        return 0;
    }
    sip_log(d, SIP_LOG_INFO, "call %s from %s to %s via %s", leg->call_id, leg->caller, leg->callee, leg->source);
    sip_in_headers hbuf;
    sip_in_collect_headers(sip, &hbuf);
    tel_call_info info = {
        .call_id = leg->call_id,
        .caller_number = leg->caller,
        .caller_name = leg->caller_name ? leg->caller_name : "",
        .called_number = leg->callee,
        .source = leg->source,
        .header_names = hbuf.names,
        .header_values = hbuf.values,
        .header_count = hbuf.count,
    };
    int reject = 0;
    d->invite = sip;
    bool taken = d->have_handler && d->h.incoming(d->h.eng, leg, &info, &reject);
    d->invite = NULL;
    if (!taken) {
        if (leg->state != LEG_ENDED)
            sip_nta_hangup(leg, reject >= 300 ? reject : d->have_handler ? 404 : 503);
        leg->released = true;
        sip_leg_maybe_free(leg);
    }
    return 0;
}

/* ---- every request ---- */

static int answer_options(sip_driver *d, nta_incoming_t *irq)
{
    char load[96];
    sip_load_header(d, load, sizeof load);
    int code = 0, retry = 0;
    const char *why = NULL;
    if (d->shutting_down || d->draining)
        code = sip_admit(d, &retry, &why);
    nta_incoming_treply(irq, code ? code : 200, sip_status_phrase(code ? code : 200), SIPTAG_ALLOW_STR(NTA_ALLOW),
                        SIPTAG_HEADER_STR(load), TAG_END());
    return ANSWERED;
}

static bool flood_over(sip_driver *d)
{
    struct sockaddr_in src;
    if (d->cfg->settings.flood_drop || !sip_request_source(d, &src) || !sip_flood_is_over(d->flood, src.sin_addr.s_addr))
        return false;
    d->flood_refused++;
    return true;
}

/* A re-INVITE or an UPDATE with an SDP offer from LEG's remote (hold,
 * unhold, a new address): our answer, the hold passed on to the peer,
 * hold/unhold raised (as sip_in.c does under NUA). The ACK of our 200 to
 * a re-INVITE is absorbed by the transaction. */
static int reinvite_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    if (leg->bypass) {
        int rc = sip_nta_bypass_offer(leg, irq, sip);   /* relayed to the peer (sip_nta_bypass.c) */
        if (rc == 0 || rc == ANSWERED)
            st_start(leg);   /* the remote's re-INVITE or UPDATE refreshes the session */
        return rc;
    }
    if (leg->state != LEG_UP)
        return 500;   /* before our 200 is ACKed (RFC 3261 14.2) */
    if (leg->reinvite_busy || leg->nta->reinvite)
        return 491;   /* glare: ours is pending (RFC 3261 14.2) */
    bool changed = false, offer = sip->sip_payload && sip->sip_payload->pl_len;
    if (offer)
        sip_leg_expect_offer(leg);
    int rc = offer ? sip_leg_apply_sdp(leg, sip, &changed) : 0;
    if (rc < 0)
        return rc == -2 ? 503 : 488;
    char sdp[768], se[48] = "";
    sip_leg_sdp(leg, sdp, sizeof sdp, !offer);
    if (leg->nta->se)
        snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
    nta_incoming_treply(irq, 200, sip_status_phrase(200), SIPTAG_CONTACT_STR(leg_contact(leg)),
                        TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_SUPPORTED_STR("timer")),
                        SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    st_start(leg);   /* the remote's re-INVITE refreshed the session */
    if (changed) {
        sip_log(d, SIP_LOG_DEBUG, "%s %s: %s by the %s", leg->outgoing ? "leg" : "call",
                leg->call_id ? leg->call_id : "-", leg->held ? "hold" : "unhold", leg->outgoing ? "callee" : "caller");
        if (leg->peer)
            sip_leg_push_mode(leg->peer, sip_leg_hold_mode(leg));
        sip_raise_kind(leg, leg->held ? TEL_EV_HOLD : TEL_EV_UNHOLD, 0, NULL);
    }
    return ANSWERED;
}

static int in_dialog(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_method_t m = sip->sip_request->rq_method;
    sip_leg *leg = table_find(d->nta, sip->sip_call_id->i_id);
    if (!leg || !leg->nta->have_dlg || !sip_dialog_matches(&leg->nta->dlg, sip))
        return m == sip_method_ack ? ANSWERED : 481;   /* a stray ACK is dropped */
    int order = sip_dialog_request_in(&leg->nta->dlg, sip);
    if (order)
        return order;
    switch (m) {
    case sip_method_ack:
        return ANSWERED;   /* the ACK of an INVITE transaction already gone: nothing to do */
    case sip_method_bye:
        nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        drop_irq(leg->nta);
        sip_leg_ended(leg, 200, "normal");
        dialog_over(leg);
        return ANSWERED;
    case sip_method_options:
        return answer_options(d, irq);
    case sip_method_update:
        /* An UPDATE with an SDP offer (RFC 3311: hold, unhold) is answered
         * as a re-INVITE is (sip_in_reinvite does both under NUA); no ACK
         * follows its 200. */
        if (sip->sip_payload && sip->sip_payload->pl_len)
            return reinvite_in(leg, irq, sip);
        if (leg->nta->se) {   /* a session refresh (RFC 4028 7.4) */
            char se[48];
            snprintf(se, sizeof se, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
            nta_incoming_treply(irq, 200, sip_status_phrase(200), SIPTAG_SESSION_EXPIRES_STR(se),
                                SIPTAG_SUPPORTED_STR("timer"), TAG_END());
            st_start(leg);
        } else {
            nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        }
        return ANSWERED;
    case sip_method_invite:
        return reinvite_in(leg, irq, sip);
    case sip_method_refer:
    case sip_method_notify:
        return sip_nta_refer_in(leg, irq, sip);   /* transfer (sip_nta_refer.c) */
    case sip_method_info:
        /* DTMF by INFO (application/dtmf-relay, application/dtmf), as under
         * NUA: answered 200 whatever it carries; a short body is not read. */
        nta_incoming_treply(irq, 200, sip_status_phrase(200), TAG_END());
        sip_in_info(leg, sip);
        return ANSWERED;
    case sip_method_message:
        return 405;
    case sip_method_subscribe:
        return 489;   /* subscriptions live in dialogs of their own (as under NUA) */   /* a MESSAGE inside a call: not taken (as under NUA) */
    default:
        refuse_log(d, 1u << 3, "this in-dialog request (UPDATE, REFER, NOTIFY...)");
        return 501;
    }
}

static int request_cb(sip_driver *d, nta_leg_t *nleg, nta_incoming_t *irq, const sip_t *sip)
{
    (void)nleg;
    if (!sip || !sip->sip_request || !sip->sip_call_id || !sip->sip_from || !sip->sip_to)
        return 400;
    sip_method_t m = sip->sip_request->rq_method;
    unsigned long promised = sip->sip_content_length ? sip->sip_content_length->l_length : 0;
    size_t got = sip->sip_payload ? sip->sip_payload->pl_len : 0;
    if (promised > got && m != sip_method_ack)
        return 400;
    sip_enter(d);
    d->nta->current = nta_incoming_getrequest(irq);
    int rc = sip_nta_uas_check(irq, sip);   /* 416, 420 (sip_nta_uas.c) */
    if (rc) {
        /* refused */
    } else if (m == sip_method_subscribe && !table_find(d->nta, sip->sip_call_id->i_id)) {
        /* message-summary (sip_nta_mwi.c); one in a call's dialog: in_dialog */
        rc = !sip->sip_to->a_tag && flood_over(d) ? 503 : sip_nta_subscribe(d, irq, sip);
    } else if (sip->sip_to->a_tag) {
        rc = in_dialog(d, irq, sip);
    } else if (m == sip_method_invite) {
        rc = flood_over(d) ? 503 : new_call(d, irq, sip);
    } else if (m == sip_method_options) {
        rc = flood_over(d) ? 503 : answer_options(d, irq);
    } else if (m == sip_method_register) {
        rc = flood_over(d) ? 503 : sip_nta_register(d, irq, sip);
    } else if (m == sip_method_message) {
        rc = flood_over(d) ? 503 : sip_nta_message(d, irq, sip);   /* sip_nta_msg.c */
    } else if (m == sip_method_ack) {
        rc = ANSWERED;   /* stray: dropped (an ACK is never answered) */
    } else if (m == sip_method_cancel || m == sip_method_bye) {
        rc = 481;
    } else {
        refuse_log(d, 1u << 4, "this request outside a call (REFER, NOTIFY...)");
        rc = 501;
    }
    msg_destroy(d->nta->current);
    d->nta->current = NULL;
    sip_leave(d);
    return rc;
}

/* ---- outgoing: our INVITE ---- */

static void linger_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    leg->nta->linger = NULL;
    if (leg->nta->orq)
        nta_outgoing_destroy(leg->nta->orq);
    leg->nta->orq = NULL;
}

static void send_ack(sip_leg *leg)
{
    nta_outgoing_t *ack = dialog_request(leg, sip_method_ack, "ACK", leg->nta->dlg.local_cseq, NULL, NULL);
    if (ack)
        nta_outgoing_destroy(ack);
}

/* Early media (18x with SDP): the caller hears it (as sip_out.c does). */
static void early_media(sip_leg *leg)
{
    sip_leg *from = leg->from;
    if (!from || from->state == LEG_ENDED || (from->peer && from->peer != leg))
        return;
    if (from->state != LEG_UP)
        sip_in_ringing(from, true);
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
    int rc = sip_dialog_uac(&nl->dlg, req ? sip_object(req) : NULL, sip);
    msg_destroy(req);
    if (rc < 0) {
        sip_log(leg->d, SIP_LOG_WARN, "dial %s: a 2xx that makes no dialog (no To tag or a bad Contact): failed",
                leg->callee ? leg->callee : "-");
        fail_leg(leg, 502);
        return;
    }
    nl->have_dlg = true;
    send_ack(leg);
    /* The 2xx may come again (our ACK lost): ACKed again while ORQ lives. */
    nl->linger = loop_timer_start(leg->d->l, nl->cancelled ? 0 : leg->d->nta->t1x64_ms / 1000.0, linger_cb, leg);
    if (leg->state == LEG_ENDED || nl->cancelled) {
        send_bye(leg);   /* answered after we gave up (CANCEL crossed the 200) */
        return;
    }
    bool sdp = sip->sip_payload && sip->sip_payload->pl_len;
    if (leg->bypass && sdp)
        sip_bypass_keep_sdp(leg, sip);
    if (leg->bypass ? !leg->sdp_body : sdp ? sip_leg_apply_sdp(leg, sip, NULL) < 0 : !leg->have_remote) {
        sip_log(leg->d, SIP_LOG_WARN, "dial %s: no usable media in the answer: BYE, failed 488",
                leg->callee ? leg->callee : "-");
        fail_leg(leg, 488);
        send_bye(leg);
        return;
    }
    leg->state = LEG_UP;
    leg->t_answer = loop_now(leg->d->l);
    st_uac(leg, sip);
    st_start(leg);
    if (leg->peer)
        sip_leg_update_relay(leg);
    char *name = sip_answer_display_name(sip);   /* agent_name */
    tel_event ev = {.kind = TEL_EV_ANSWER, .sip_code = sip->sip_status->st_status, .display_name = name};
    sip_raise(leg, &ev);
    free(name);
}

static int invite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip);

/* A copy of ORQ's INVITE to send again (CSeq + 1, no Via: NTA puts its
 * own, with a new branch), or NULL. */
static msg_t *invite_again(nta_outgoing_t *orq)
{
    msg_t *sent = nta_outgoing_getrequest(orq);
    msg_t *msg = sent ? msg_copy(sent) : NULL;
    msg_destroy(sent);
    sip_t *req = msg ? sip_object(msg) : NULL;
    if (!req || !req->sip_cseq || !req->sip_request) {
        msg_destroy(msg);
        return NULL;
    }
    while (req->sip_via)
        msg_header_remove(msg, (msg_pub_t *)req, (msg_header_t *)req->sip_via);
    msg_header_replace(msg, (msg_pub_t *)req, (msg_header_t *)req->sip_cseq,
                       (msg_header_t *)sip_cseq_create(msg_home(msg), req->sip_cseq->cs_seq + 1, sip_method_invite,
                                                       "INVITE"));
    return msg;
}

/* The gateway's 401/407 to our INVITE: the same INVITE again (CSeq + 1)
 * with digest credentials from sofia's auth client (auc_*), once. 0: sent
 * (the new transaction replaces ORQ), -1: the dial fails with STATUS. */
static int authenticate(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip, int status)
{
    struct sip_nta_leg *nl = leg->nta;
    if (nl->auth_tried || nl->cancelled || leg->state == LEG_ENDED || !leg->gw_user)
        return -1;
    nl->auth_tried = true;
    msg_t *msg = invite_again(orq);
    if (!msg)
        return -1;
    sip_t *req = sip_object(msg);
    su_home_t *home = msg_home(msg);
    auth_client_t *aucs = NULL;
    const msg_auth_t *ch = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    bool ok = ch && auc_challenge(&aucs, home, ch, status == 401 ? sip_authorization_class : sip_proxy_authorization_class) > 0 &&
              auc_all_credentials(&aucs, NULL, NULL, leg->gw_user, leg->gw_pass ? leg->gw_pass : "") > 0 &&
              auc_authorization(&aucs, msg, (msg_pub_t *)req, "INVITE", req->sip_request->rq_url, req->sip_payload) > 0;
    nta_outgoing_t *again = ok ? nta_outgoing_mcreate(leg->d->nta->agent, invite_response_cb, leg, NULL, msg, TAG_END()) : NULL;
    if (!again) {
        if (!ok)
            msg_destroy(msg);
        return -1;
    }
    nta_outgoing_destroy(orq);   /* its 401/407 is ACKed by the transaction */
    nl->orq = again;
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
    msg_t *msg = invite_again(orq);
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
    nl->orq = again;
    return 0;
}

static void give_up_cb(loop *l, void *arg);

/* The callee's early answer (18x SDP) has no media we can use (no
 * PCMU/PCMA, no IPv4 address): the dial fails 488 and the INVITE is
 * cancelled (as sip_out.c's fork_unusable does), not rung on without media.
 * Its final response (487, or a 2xx that crossed: ACK and BYE) ends it. */
static void early_unusable(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    sip_log(leg->d, SIP_LOG_WARN, "dial %s: no usable media in the answer: CANCEL, failed 488",
            leg->callee ? leg->callee : "-");
    fail_leg(leg, 488);
    nl->cancelled = true;
    nta_outgoing_tcancel(nl->orq, NULL, NULL, TAG_END());
    nl->give_up = loop_timer_start(leg->d->l, leg->d->nta->t1x64_ms / 1000.0, give_up_cb, leg);
}

static int invite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    int status = response_status(orq, sip);
    sip_enter(d);
    if (status >= 200 && nl->give_up) {   /* a final response after our CANCEL */
        loop_timer_stop(d->l, nl->give_up);
        nl->give_up = NULL;
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
        if (!nl->linger) {
            nta_outgoing_destroy(orq);
            nl->orq = NULL;
        }
        if (!nl->have_dlg) {
            fail_leg(leg, status);
            sip_leg_sip_done(leg);
        }
    }
    sip_leave(d);
    return 0;
}

static void send_reinvite_ack(sip_leg *leg, uint32_t cseq)
{
    nta_outgoing_t *ack = dialog_request(leg, sip_method_ack, "ACK", cseq, NULL, NULL);
    if (ack)
        nta_outgoing_destroy(ack);
}

static int reinvite_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    struct sip_nta_leg *nl = leg->nta;
    sip_enter(d);
    if (status < 300 && sip) {
        send_reinvite_ack(leg, nta_outgoing_cseq(orq));
        if (sip->sip_payload && sip->sip_payload->pl_len && !leg->bypass)
            sip_leg_apply_sdp(leg, sip, NULL);
    }
    /* Its 2xx may come again (our ACK lost): that finds no transaction
     * and is ACKed by stray_response_cb. */
    nta_outgoing_destroy(orq);
    nl->reinvite = NULL;
    if (status < 300)
        st_start(leg);   /* a re-INVITE refreshes the session */
    else if (nl->se && nl->we_refresh && status != 491 && leg->state == LEG_UP && !nl->st)
        st_expired(leg);   /* our refresh failed */
    if (leg->bypass)
        sip_nta_bypass_answered(leg, status, sip);   /* an offer relayed: its answer goes back */
    else
        sip_leg_reinvite_done(leg, status);   /* 491: tried again later (glare) */
    dialog_over(leg);
    sip_leave(d);
    return 0;
}

int sip_nta_reinvite(sip_leg *leg, const char *sdp)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl || !nl->have_dlg || nl->reinvite)
        return -1;
    nl->reinvite = dialog_request(leg, sip_method_invite, "INVITE", sip_dialog_next_cseq(&nl->dlg), reinvite_response_cb,
                                  sdp);
    return nl->reinvite ? 0 : -1;
}

int sip_nta_invite(sip_fork *f, const char *to, const char *from, const char *sdp)
{
    sip_leg *leg = f->leg;
    sip_driver *d = leg->d;
    struct sip_nta *t = d->nta;
    struct sip_nta_leg *nl = nta_leg_state(leg);
    /* A user's several contacts: one INVITE each, with the same Call-ID
     * and From tag, as a forking proxy sends them (RFC 3261 16.6): the
     * answer's To tag tells the dialogs apart. */
    if (!nl->own_key) {
        char cid[40], call_id[120];
        random_hex(nl->tag, sizeof nl->tag, 2);
        random_hex(cid, sizeof cid, 4);
        snprintf(call_id, sizeof call_id, "%s@%s", cid, d->sip_host);
        nl->key = nl->own_key = cr_xstrdup(call_id);
    }
    char from_tagged[800];
    snprintf(from_tagged, sizeof from_tagged, "%s;tag=%s", from, nl->tag);
    const cfg_tel_settings *st = &d->cfg->settings;
    char se[24] = "", min_se[24] = "";
    if (st->session_expires > 0) {
        snprintf(se, sizeof se, "%.0f", st->session_expires);
        snprintf(min_se, sizeof min_se, "%.0f", st->session_min_se);
    }
    free(leg->tls_contact);   /* our Contact over TLS (sip_nta_tls.c), or NULL */
    leg->tls_contact = sip_nta_tls_contact_out(d, f->uri);
    msg_t *msg = nta_msg_create(t->agent, 0);
    sip_t *sip = sip_object(msg);
    su_home_t *home = msg_home(msg);
    url_t *ruri = url_make(home, f->uri);
    sip_request_t *rq = ruri ? sip_request_create(home, sip_method_invite, "INVITE", (url_string_t *)ruri, NULL) : NULL;
    sip_cseq_t *cs = sip_cseq_create(home, 1, sip_method_invite, "INVITE");
    if (!rq || !cs ||
        sip_add_tl(msg, sip, SIPTAG_REQUEST(rq), SIPTAG_FROM_STR(from_tagged), SIPTAG_TO_STR(to),
                   SIPTAG_CALL_ID_STR(nl->key), SIPTAG_CSEQ(cs), SIPTAG_CONTACT_STR(leg_contact(leg)),
                   SIPTAG_MAX_FORWARDS_STR("70"), SIPTAG_ALLOW_STR(NTA_ALLOW),
                   TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)), TAG_IF(*se, SIPTAG_MIN_SE_STR(min_se)),
                   TAG_IF(*se, SIPTAG_SUPPORTED_STR("timer")),
                   SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END()) < 0) {
        msg_destroy(msg);
        return -1;
    }
    if (leg->fork_count > 1) {
        if (sip_nta_fork_send(f, msg, f->hop) < 0)
            return -1;
    } else {
        nl->hop = f->hop;
        nl->orq = nta_outgoing_mcreate(t->agent, invite_response_cb, leg, f->hop ? URL_STRING_MAKE(f->hop) : NULL, msg,
                                       TAG_END());
        if (!nl->orq)
            return -1;
    }
    /* "trying" comes with the first provisional response: never from
     * inside dial(), the engine has not stored the leg yet. */
    if (!nl->hashed)
        table_add(t, leg);
    return 0;
}

int sip_nta_invite_response(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    return invite_response_cb(leg, orq, sip);
}

void sip_nta_use_invite(sip_leg *leg, nta_outgoing_t *orq, const char *hop)
{
    leg->nta->orq = orq;
    leg->nta->hop = hop;
}


void sip_nta_dial_failed(sip_leg *leg, int status)
{
    fail_leg(leg, status);
    sip_leg_sip_done(leg);
}

/* ---- the driver's operations on a leg ---- */

int sip_nta_answer(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (leg->state == LEG_UP)
        return 0;
    if (leg->state == LEG_ENDED || !nl || !nl->irq)
        return -1;
    char own[768];
    const char *sdp = own;
    if (leg->bypass) {
        sdp = sip_bypass_peer_sdp(leg);
        if (!sdp) {
            sip_log(leg->d, SIP_LOG_WARN, "call %s: media: bypass answers with the callee's SDP: nothing to answer "
                    "with before a dialled leg answers", leg->call_id ? leg->call_id : "-");
            return -1;
        }
    } else {
        if (sip_leg_media(leg) < 0)
            return -1;
        sip_leg_sdp(leg, own, sizeof own, !leg->have_remote);
    }
    char se[48] = "";
    if (nl->se)
        snprintf(se, sizeof se, "%u;refresher=%s", nl->se, nl->we_refresh ? "uas" : "uac");
    nta_incoming_treply(nl->irq, 200, sip_status_phrase(200), SIPTAG_CONTACT_STR(leg_contact(leg)),
                        SIPTAG_ALLOW_STR(NTA_ALLOW), TAG_IF(*se, SIPTAG_SESSION_EXPIRES_STR(se)),
                        TAG_IF(*se && nl->remote_timer, SIPTAG_REQUIRE_STR("timer")),
                        TAG_IF(*se, SIPTAG_SUPPORTED_STR("timer")), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                        SIPTAG_PAYLOAD_STR(sdp), TAG_END());
    leg->state = LEG_UP;
    leg->t_answer = loop_now(leg->d->l);
    st_start(leg);
    return 0;
}

int sip_nta_ringing(sip_leg *leg, bool early_media)
{
    struct sip_nta_leg *nl = leg->nta;
    if (leg->state == LEG_UP || leg->state == LEG_ENDED || !nl || !nl->irq)
        return -1;
    const char *sdp = NULL;
    char own[768];
    if (early_media && leg->bypass) {
        sdp = sip_bypass_peer_sdp(leg);
    } else if (early_media && leg->have_remote && sip_leg_media(leg) == 0) {
        sip_leg_sdp(leg, own, sizeof own, false);
        sdp = own;
    }
    if (sdp) {
        if (leg->early_sent)
            return 0;
        nta_incoming_treply(nl->irq, 183, sip_status_phrase(183), SIPTAG_CONTACT_STR(leg_contact(leg)),
                            SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp), TAG_END());
        leg->early_sent = true;
    } else if (!leg->ringing_sent) {
        nta_incoming_treply(nl->irq, 180, sip_status_phrase(180), SIPTAG_CONTACT_STR(leg_contact(leg)), TAG_END());
        leg->ringing_sent = true;
    }
    leg->state = LEG_EARLY;
    return 0;
}

static void give_up_cb(loop *l, void *arg)
{
    (void)l;
    sip_leg *leg = arg;
    struct sip_nta_leg *nl = leg->nta;
    nl->give_up = NULL;
    if (!nl->orq || nl->have_dlg)
        return;
    sip_enter(leg->d);
    sip_log(leg->d, SIP_LOG_INFO, "leg %s: no final response 64*T1 after our CANCEL: INVITE given up",
            leg->call_id ? leg->call_id : "-");
    nta_outgoing_destroy(nl->orq);
    nl->orq = NULL;
    sip_driver *d = leg->d;
    sip_leg_sip_done(leg);   /* may free LEG */
    sip_leave(d);
}

bool sip_nta_dial_pending(const sip_leg *leg)
{
    return leg->nta && leg->nta->orq && !leg->nta->have_dlg && !leg->nta->cancelled &&
           leg->state != LEG_UP && leg->state != LEG_ENDED;
}

void sip_nta_dial_give_up(sip_leg *leg, int code)
{
    struct sip_nta_leg *nl = leg->nta;
    nta_outgoing_destroy(nl->orq);   /* no CANCEL: nothing reached the peer */
    nl->orq = NULL;
    fail_leg(leg, code);
    sip_leg_sip_done(leg);
}

int sip_nta_hangup(sip_leg *leg, int code)
{
    if (leg->state == LEG_ENDED)
        return 0;
    struct sip_nta_leg *nl = nta_leg_state(leg);
    bool up = leg->state == LEG_UP;
    leg->we_ended = true;
    leg->state = LEG_ENDED;
    if (leg->fail_timer) {
        loop_timer_stop(leg->d->l, leg->fail_timer);
        leg->fail_timer = NULL;
        leg->sip_done = true;
    }
    if (up) {
        send_bye(leg);
    } else if (!leg->outgoing) {
        if (code < 300 || code > 699)
            code = 480;
        if (nl->irq)
            nta_incoming_treply(nl->irq, code, sip_status_phrase(code), TAG_END());
        drop_irq(nl);
        sip_leg_sip_done(leg);
    } else if (leg->fork_count > 1 && !leg->win && !nl->cancelled) {
        nl->cancelled = true;
        sip_nta_forks_cancel(leg, code);   /* done when each fork has its final response */
    } else if (nl->orq && !nl->cancelled) {
        /* Its final response (487, or a 2xx that crossed: ACK and BYE) ends it. */
        nl->cancelled = true;
        nta_outgoing_tcancel(nl->orq, NULL, NULL,
                             TAG_IF(code == TEL_ANSWERED_ELSEWHERE,
                                    SIPTAG_REASON_STR("SIP;cause=200;text=\"Call completed elsewhere\"")),
                             TAG_END());
        /* No final response 64*T1 after the CANCEL: given up (RFC 3261
         * 9.1, as NUA does), not at NTA's timer C (3 min). */
        nl->give_up = loop_timer_start(leg->d->l, leg->d->nta->t1x64_ms / 1000.0, give_up_cb, leg);
    } else if (!nl->orq) {
        leg->sip_done = true;
    }
    sip_leg_detach(leg);
    sip_leg_log_end(leg, up ? 200 : leg->outgoing ? 487 : code, up ? "normal" : leg->outgoing ? "cancelled" : "rejected",
                    "us");
    sip_media_leg_gone(leg);
    sip_leg_maybe_free(leg);
    return 0;
}

void sip_nta_leg_free(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    if (!nl)
        return;
    if (leg->d->nta)
        table_remove(leg->d->nta, leg);
    if (nl->linger)
        loop_timer_stop(leg->d->l, nl->linger);
    drop_irq(nl);
    sip_nta_bypass_unpend(leg);
    if (nl->orq)
        nta_outgoing_destroy(nl->orq);
    if (nl->bye)
        nta_outgoing_destroy(nl->bye);
    if (nl->reinvite)
        nta_outgoing_destroy(nl->reinvite);
    if (nl->give_up)
        loop_timer_stop(leg->d->l, nl->give_up);
    if (nl->refresh)
        nta_outgoing_destroy(nl->refresh);
    if (nl->st)
        loop_timer_stop(leg->d->l, nl->st);
    sip_nta_forks_free(leg);
    sip_dialog_free(&nl->dlg);
    free(nl->own_key);
    free(nl);
    leg->nta = NULL;
}

/* ---- the agent ---- */

/* A response that finds no transaction of ours: a 2xx to one of our
 * (re-)INVITEs that comes again after its transaction is gone, because
 * our ACK was lost (RFC 3261 13.2.2.4): ACKed again while the dialog
 * lives. NTA drops the rest, and so do we. */
static int stray_response_cb(sip_driver *d, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
    (void)agent;
    int status = sip && sip->sip_status ? sip->sip_status->st_status : 0;
    if (status >= 200 && status < 300 && sip->sip_cseq && sip->sip_cseq->cs_method == sip_method_invite &&
        sip->sip_call_id && sip->sip_to && sip->sip_to->a_tag) {
        sip_enter(d);
        sip_leg *leg = table_find(d->nta, sip->sip_call_id->i_id);
        const sip_dialog *dl = leg ? &leg->nta->dlg : NULL;
        if (dl && leg->nta->have_dlg && !leg->sip_done && dl->remote_tag &&
            strcasecmp(sip->sip_to->a_tag, dl->remote_tag) == 0 && sip->sip_cseq->cs_seq <= dl->local_cseq) {
            sip_log(d, SIP_LOG_DEBUG, "%s %s: 2xx to INVITE %u again: ACK", leg->outgoing ? "leg" : "call",
                    leg->call_id ? leg->call_id : "-", (unsigned)sip->sip_cseq->cs_seq);
            send_reinvite_ack(leg, sip->sip_cseq->cs_seq);
        }
        sip_leave(d);
    }
    msg_destroy(msg);
    return 0;
}

msg_t *sip_nta_current_request(sip_driver *d) { return d->nta ? d->nta->current : NULL; }
nta_agent_t *sip_nta_agent(sip_driver *d) { return d->nta ? d->nta->agent : NULL; }

const char *sip_nta_contact(sip_driver *d) { return d->nta->contact; }

void sip_nta_session_expires(const sip_leg *leg, char *buf, size_t n)
{
    buf[0] = '\0';
    if (leg->nta && leg->nta->se)
        snprintf(buf, n, "%u;refresher=%s", leg->nta->se, leg->nta->we_refresh == leg->outgoing ? "uac" : "uas");
}

int sip_nta_start(sip_driver *d, const char *url, unsigned t1x64_ms, char *err, size_t errlen)
{
    struct sip_nta *t = cr_xcalloc(1, sizeof *t);
    d->nta = t;
    t->t1x64_ms = t1x64_ms;
    /* UA: our 2xx is retransmitted until its ACK; no automatic 487 (we
     * answer the INVITE a CANCEL ends); transactions linger T1x64, as
     * under NUA. */
    t->agent = nta_agent_create(d->root, URL_STRING_MAKE(url), stray_response_cb, d, NTATAG_UA(1), NTATAG_CANCEL_487(0),
                                NTATAG_SIP_T1X64(t1x64_ms), NTATAG_SERVER_RPORT(1), NTATAG_TAG_3261(1),
                                NTATAG_PASS_100(1), TPTAG_PONG2PING(1), TAG_END());
    if (!t->agent) {
        snprintf(err, errlen, "cannot listen for SIP on %s (address in use, or not an address of this host?)", url);
        return -1;
    }
    t->dflt = nta_leg_tcreate(t->agent, request_cb, d, NTATAG_NO_DIALOG(1), TAG_END());
    if (!t->dflt) {
        snprintf(err, errlen, "cannot set up the SIP agent");
        return -1;
    }
    snprintf(t->contact, sizeof t->contact, "<sip:%s:%d>", d->sip_host, d->sip_port);
    sip_log(d, SIP_LOG_INFO, "SIP core: nta (settings.sip.core)");
    return 0;
}

void sip_nta_stop(sip_driver *d)
{
    struct sip_nta *t = d->nta;
    if (!t)
        return;
    sip_nta_gwreg_free_all(d);   /* their transactions go before the agent */
    if (t->dflt)
        nta_leg_destroy(t->dflt);
    if (t->agent)
        nta_agent_destroy(t->agent);
    free(t->buckets);
    free(t);
    d->nta = NULL;
}

/* sip_nta_fork.c — a dial to a registered user with several contacts
 * (the forks sip_out.c builds): one INVITE
 * (nta_outgoing) per contact, all ring; the first 2xx wins and becomes the
 * leg's INVITE (sip_nta.c goes on from there: its dialog, ACK, the call);
 * the others get CANCEL with Reason "Call completed elsewhere" (RFC
 * 3326); a 2xx from another contact after that (or after we gave up) is
 * ACKed and ended with BYE, and the same 2xx again once its transaction
 * is gone (our ACK was lost) is ACKed again (sip_nta_fork_stray_2xx;
 * RFC 3261 13.2.2.4: every 2xx gets an ACK); the dial fails once every fork has, with the
 * best status (6xx, then busy, then the first). A contact registered as a
 * flow (TLS, RFC 5626 outbound) is reached over it (F->hop). A dial with
 * one contact is sip_nta.c's own INVITE, no fork. */
#define NTA_OUTGOING_MAGIC_T struct sip_fork

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#include "telephony/sip/sip_dialog.h"
#include "util/alloc.h"
#include "telephony/sip/sip_uri.h"

/* RFC 3326: why a fork is cancelled once another answered. */
#define ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

static int fork_response_cb(sip_fork *f, nta_outgoing_t *orq, const sip_t *sip);

int sip_nta_fork_send(sip_fork *f, msg_t *msg, const char *route)
{
    f->orq = nta_outgoing_mcreate(sip_nta_agent(f->leg->d), fork_response_cb, f,
                                  route ? URL_STRING_MAKE(route) : NULL, msg, TAG_END());
    return f->orq ? 0 : -1;
}

/* The BYE of a dialog we ended at once: nothing waits for its answer. */
static int bye_response_cb(sip_fork *f, nta_outgoing_t *orq, const sip_t *sip)
{
    (void)f;
    if (sip_nta_response_status(orq, sip) >= 200)
        nta_outgoing_destroy(orq);
    return 0;
}

/* METHOD in the dialog DL, to ROUTE (or its Request-URI). */
static nta_outgoing_t *dialog_send(sip_driver *d, const sip_dialog *dl, sip_method_t method, const char *name,
                                   uint32_t cseq, const char *route, nta_response_f *cb, const char *ack_branch)
{
    nta_agent_t *agent = sip_nta_agent(d);
    msg_t *msg = sip_nta_new_request(d, method, name, dl->target, cseq);
    if (!msg)
        return NULL;
    sip_t *sip = sip_object(msg);
    char from[SIP_DIALOG_MAX], to[SIP_DIALOG_MAX];
    sip_call_id_t call_id = sip_nta_call_id(dl->call_id);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(sip_dialog_from(dl, from)), SIPTAG_TO_STR(sip_dialog_to(dl, to)),
                   SIPTAG_CALL_ID(&call_id), TAG_IF(*dl->route, SIPTAG_ROUTE_STR(dl->route)),
                   SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0) {
        msg_destroy(msg);
        return NULL;
    }
    /* An ACK whose INVITE transaction is gone names its branch (sofia's
     * UA asserts on an ACK it finds no INVITE for), sent statelessly. */
    return nta_outgoing_mcreate(agent, cb, NULL, route ? URL_STRING_MAKE(route) : NULL, msg,
                                TAG_IF(ack_branch, NTATAG_ACK_BRANCH(ack_branch)), TAG_IF(ack_branch, NTATAG_STATELESS(1)),
                                TAG_END());
}

/* The dialog DL of a 2xx we do not want: ACKed (RFC 3261 13.2.2.4),
 * and with BYE ended (once: a 2xx again gets its ACK only). F: the fork it
 * came from (its flow; where its To tag is kept), or NULL. */
static void ack_dialog(sip_driver *d, sip_fork *f, sip_dialog *dl, bool bye, const char *ack_branch)
{
    const char *hop = f ? f->hop : NULL;
    nta_outgoing_t *ack = dialog_send(d, dl, sip_method_ack, "ACK", dl->local_cseq, hop, NULL, ack_branch);
    if (ack)
        nta_outgoing_destroy(ack);
    if (!bye)
        return;
    dialog_send(d, dl, sip_method_bye, "BYE", sip_dialog_next_cseq(dl), hop, bye_response_cb, NULL);
    if (f && dl->remote_tag && *dl->remote_tag) {
        free(f->bye_tag);
        f->bye_tag = cr_xstrdup(dl->remote_tag);   /* bounded: the dialog's text is at most SIP_DIALOG_MAX */
    }
}

/* A 2xx from a fork that lost, or after we gave up: its dialog is
 * confirmed with ACK and ended with BYE (RFC 3261 13.2.2.4, as NUA does). */
static void ack_and_bye(sip_fork *f, nta_outgoing_t *orq, const sip_t *sip)
{
    sip_driver *d = f->leg->d;
    msg_t *req = nta_outgoing_getrequest(orq);
    sip_dialog dl = {0};
    if (sip_dialog_uac(&dl, req ? sip_object(req) : NULL, sip) == 0) {
        sip_log(d, SIP_LOG_DEBUG, "dial %s: a 2xx from %s after the call was settled: ACK, BYE",
                f->leg->callee ? f->leg->callee : "-", f->uri);
        ack_dialog(d, f, &dl, true, NULL);
    }
    msg_destroy(req);
    sip_dialog_free(&dl);
}

bool sip_nta_fork_stray_2xx(sip_leg *leg, const sip_t *sip)
{
    struct sip_nta_leg *nl = leg->nta;
    const struct sip_leg_dial *dial = sip_dial_of(leg);
    const char *to_tag = sip->sip_to->a_tag;
    /* Ours only: the forks' From tag and CSeq (1), which only the
     * contacts we sent the INVITE to have seen; a 2xx without a Contact
     * gives no target to ACK. */
    if (!dial || !dial->forks || !nl || !sip->sip_from || !sip->sip_from->a_tag || strcmp(sip->sip_from->a_tag, nl->tag) != 0 ||
        sip->sip_cseq->cs_seq != 1 || !sip->sip_contact)
        return false;
    if (nl->have_dlg && nl->dlg.remote_tag && strcasecmp(to_tag, nl->dlg.remote_tag) == 0)
        return false;   /* the winner's: sip_nta.c's */
    /* The fork whose dialog this is: by the To tag we ended, else by its
     * Contact (the registered one, as the fork's URI). */
    sip_fork *f = dial->forks;
    while (f && strcmp(f->bye_tag ? f->bye_tag : "", to_tag) != 0)
        f = f->next;
    bool bye = f == NULL;
    char contact[512], clean[512];
    if (!f && url_e(contact, sizeof contact, sip->sip_contact->m_url) > 0 &&
        sip_uri_clean(clean, sizeof clean, contact))
        for (f = dial->forks; f && strcmp(f->uri, clean) != 0;)
            f = f->next;
    /* Our INVITE is gone: the dialog is made from the 2xx (its From and
     * CSeq are our INVITE's; its Contact the target). */
    sip_t req = *sip;
    sip_request_t rq;
    memset(&rq, 0, sizeof rq);
    rq.rq_url[0] = *sip->sip_contact->m_url;
    req.sip_request = &rq;
    sip_dialog dl = {0};
    if (sip_dialog_uac(&dl, &req, sip) == 0) {
        sip_log(leg->d, SIP_LOG_DEBUG, "dial %s: a 2xx again from %s after its transaction: ACK%s",
                leg->callee ? leg->callee : "-", f ? f->uri : "a contact", bye ? ", BYE" : "");
        char branch[40] = "z9hG4bK";   /* the ACK of a 2xx is a transaction of its own (RFC 3261 17.1.1.3) */
        sip_nta_random_hex(branch + 7, sizeof branch - 7, 2);
        ack_dialog(leg->d, f, &dl, bye, branch);
    }
    sip_dialog_free(&dl);
    return true;
}

static bool all_terminated(const sip_leg *leg)
{
    for (const sip_fork *f = sip_dial_of_const(leg)->forks; f; f = f->next)
        if (!f->terminated)
            return false;
    return true;
}

/* F is over (its final response, or given up): the leg is done, or has
 * failed, once every fork is, and none won. */
static void fork_over(sip_fork *f)
{
    sip_leg *leg = f->leg;
    if (f->orq)
        nta_outgoing_destroy(f->orq);
    f->orq = NULL;
    f->terminated = true;
    if (f->cancel_timer) {
        loop_timer_stop(leg->d->l, f->cancel_timer);
        f->cancel_timer = NULL;
    }
    const struct sip_leg_dial *dial = sip_dial_of(leg);
    if (dial->win || !all_terminated(leg))
        return;
    if (leg->state == LEG_ENDED)
        sip_leg_sip_done(leg);
    else
        sip_nta_dial_failed(leg, dial->best_status ? dial->best_status : 480);
}

static void cancel_expired_cb(loop *l, void *arg)
{
    (void)l;
    sip_fork *f = arg;
    sip_driver *d = f->leg->d;
    f->cancel_timer = NULL;
    sip_enter(d);
    sip_log(d, SIP_LOG_INFO, "dial %s: no final response from %s 64*T1 after our CANCEL: given up",
            f->leg->callee ? f->leg->callee : "-", f->uri);
    fork_over(f);
    sip_leave(d);
}

static void cancel_fork(sip_fork *f, const char *reason)
{
    sip_driver *d = f->leg->d;
    f->cancelled = true;
    if (!f->orq || f->terminated)
        return;
    nta_outgoing_tcancel(f->orq, NULL, NULL, TAG_IF(reason, SIPTAG_REASON_STR(reason)), TAG_END());
    /* No final response 64*T1 after the CANCEL: given up (RFC 3261 9.1). */
    if (!f->cancel_timer)
        f->cancel_timer = loop_timer_start(d->l, (d->opt.t1x64_ms ? d->opt.t1x64_ms : 8000) / 1000.0,
                                           cancel_expired_cb, f);
}

void sip_nta_forks_cancel(sip_leg *leg, int code)
{
    for (sip_fork *f = sip_dial_of(leg)->forks; f; f = f->next)
        cancel_fork(f, code == TEL_ANSWERED_ELSEWHERE ? ELSEWHERE : NULL);
    if (all_terminated(leg))
        leg->sip_done = true;
}

void sip_nta_forks_free(sip_leg *leg)
{
    const struct sip_leg_dial *dial = sip_dial_of(leg);
    for (sip_fork *f = dial ? dial->forks : NULL; f; f = f->next) {
        if (f->orq)
            nta_outgoing_destroy(f->orq);
        f->orq = NULL;
    }
}

static int fork_response_cb(sip_fork *f, nta_outgoing_t *orq, const sip_t *sip)
{
    sip_leg *leg = f->leg;
    struct sip_leg_dial *dial = sip_dial_of(leg);
    sip_driver *d = leg->d;
    int status = sip_nta_response_status(orq, sip);
    if (dial->win == f)   /* the winner's INVITE is the leg's now: its 2xx again, its ACK again */
        return sip_nta_invite_response(leg, orq, sip);
    sip_enter(d);
    if (status < 200) {
        if (!f->cancelled && !dial->win)
            sip_nta_invite_response(leg, orq, sip);   /* trying, ringing, early media: once per leg */
    } else if (status < 300 && sip) {
        if (dial->win || f->cancelled || leg->state == LEG_ENDED) {
            ack_and_bye(f, orq, sip);
            fork_over(f);
        } else {
            dial->win = f;
            f->orq = NULL;   /* the leg's INVITE now (sip_nta.c destroys it) */
            f->terminated = true;
            sip_nta_use_invite(leg, orq, f->hop);
            for (sip_fork *o = dial->forks; o; o = o->next)
                if (o != f)
                    cancel_fork(o, ELSEWHERE);
            sip_nta_invite_response(leg, orq, sip);   /* the dialog, ACK, the call is up */
        }
    } else {
        f->status = status;
        f->failed = true;
        if (!f->cancelled && !dial->win) {
            /* Best response over the forks: 6xx, then busy, then the first. */
            if (status >= 600 || (status == 486 && dial->best_status < 600) || dial->best_status == 0)
                dial->best_status = status;
        }
        fork_over(f);
    }
    sip_leave(d);
    return 0;
}

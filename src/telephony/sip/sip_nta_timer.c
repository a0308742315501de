/* sip_nta_timer.c — RFC 4028 session timers on the NTA core
 * (settings.sip.session_timer): negotiated in the INVITE and its 2xx
 * (sip_nta_st_uas, sip_nta_st_uac), our refresh at half the interval by
 * UPDATE when the remote allows it, else re-INVITE (bypassed: with the
 * SDP the remote last got, its peer's); the remote's awaited
 * until the interval less a third (at most 32 s), then BYE with Reason 408.
 * The leg's state is sip_nta_int.h's struct sip_nta_leg. */
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

/* ---- RFC 4028 session timers (settings.sip.session_timer) ---- */

void sip_nta_st_stop(sip_leg *leg)
{
    if (leg->nta->st)
        loop_timer_stop(leg->d->l, leg->nta->st);
    leg->nta->st = NULL;
}

static void st_cb(loop *l, void *arg);

/* (Re)arms LEG's session timer: our refresh at half the interval, or the
 * end of the session when the remote's refresh has not come by then
 * (RFC 4028 10: the interval less a third, at most 32 s). */
void sip_nta_st_start(sip_leg *leg)
{
    struct sip_nta_leg *nl = leg->nta;
    sip_nta_st_stop(leg);
    if (!nl->se || leg->state != LEG_UP)
        return;
    double at = nl->we_refresh ? nl->se / 2.0 : nl->se - fmin(32.0, nl->se / 3.0);
    nl->st = loop_timer_start(leg->d->l, at, st_cb, leg);
}

/* The session is over: no refresh came, or ours failed. */
void sip_nta_st_expired(sip_leg *leg)
{
    sip_log(leg->d, SIP_LOG_INFO, "%s %s: session timer expired (%u s): BYE", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", leg->nta->se);
    sip_leg_ended_by_system(leg, 408, "session_timer");
    leg->nta->bye_reason = true;
    sip_nta_send_bye(leg);
}

static int refresh_response_cb(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = sip_nta_response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = leg->d;
    sip_enter(d);
    nta_outgoing_destroy(orq);
    NTA_BUSY_PUT(leg->nta, refresh, NULL);
    if (status < 300 || status == 491)
        sip_nta_st_start(leg);   /* refreshed (or glare: the other side's refresh will do) */
    else if (leg->state == LEG_UP)
        sip_nta_st_expired(leg);   /* RFC 4028 10: a refresh that fails ends the session */
    sip_nta_dialog_over(leg);
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
        sip_nta_st_expired(leg);
    } else if ((nl->remote_update || (leg->bypass && !sip_bypass_peer_sdp(leg))) && !NTA_BUSY(nl, refresh)) {
        /* (Bypassed with no SDP kept to offer — none should be: UPDATE
         * anyway; refused, the refresh failed.) */
        /* UPDATE without a body: no offer/answer, only the refresh */
        nta_outgoing_t *refresh = sip_nta_dialog_request(leg, sip_method_update, "UPDATE", sip_dialog_next_cseq(&nl->dlg),
                                                         refresh_response_cb, NULL);
        NTA_BUSY_PUT(nl, refresh, refresh);
        if (!refresh)
            sip_nta_st_expired(leg);
    } else if (!leg->reinvite_busy && !NTA_BUSY(nl, reinvite) && !leg->reinvite_irq) {
        /* (Bypassed, the remote's own re-INVITE relayed and not yet
         * answered, or its 2xx not yet ACKed, is an INVITE transaction in
         * progress: no re-INVITE of ours may cross it (RFC 3261 14.1), and
         * it refreshes the session: the timer is re-armed below.)
         * Bypassed, the leg has no media of ours to offer: the SDP its
         * remote last got through us, its peer's, unchanged (same o=
         * version: no change, RFC 3264 8; sip_bypass_delivered keeps it).
         * Its answer: sip_nta_bypass_answered. */
        char sdp[768];
        const char *offer = sdp;
        if (leg->bypass)
            offer = sip_bypass_peer_sdp(leg);
        else
            sip_leg_sdp(leg, sdp, sizeof sdp, true);
        leg->reinvite_busy = true;   /* its answer re-arms the timer */
        if (sip_nta_reinvite(leg, offer) < 0) {
            leg->reinvite_busy = false;
            sip_nta_st_expired(leg);
        }
    } else {
        sip_nta_st_start(leg);   /* a re-INVITE is under way: it refreshes */
    }
    sip_leave(leg->d);
}

bool sip_nta_st_by_reinvite(const sip_leg *leg)
{
    const struct sip_nta_leg *nl = leg->nta;
    return nl && nl->se && nl->we_refresh && !nl->remote_update;
}

/* The session timer an INVITE (we answer) asks for, with our settings:
 * 0, or 422 when its interval is below our Min-SE. */
int sip_nta_st_uas(sip_leg *leg, const sip_t *sip)
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
void sip_nta_st_uac(sip_leg *leg, const sip_t *sip)
{
    struct sip_nta_leg *nl = leg->nta;
    const sip_session_expires_t *x = sip->sip_session_expires;
    nl->remote_update = sip->sip_allow && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE");
    if (!x || x->x_delta == 0 || leg->d->cfg->settings.session_expires <= 0)
        return;
    nl->se = x->x_delta > 86400 ? 86400 : (unsigned)x->x_delta;
    nl->we_refresh = !x->x_refresher || strcasecmp(x->x_refresher, "uac") == 0;
}

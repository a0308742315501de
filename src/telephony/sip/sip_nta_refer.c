/* sip_nta_refer.c — transfer (REFER, RFC 3515), as the NUA core did it:
 *  - out: the scenario's `transfer` sends REFER in the leg's dialog (the
 *    engine then ends the call with BYE, so nothing waits for its 202 or
 *    the transferee's NOTIFYs: the transaction is left to NTA);
 *  - in: a REFER from the remote (an agent's phone) is accepted (202), its
 *    implicit subscription ended at once with one NOTIFY (Event: refer;id=
 *    the REFER's CSeq, message/sipfrag "SIP/2.0 200 OK", Subscription-State
 *    terminated) — the engine carries the transfer out — and the transfer
 *    event raised with the target (the Refer-To user, else its URI);
 *  - a NOTIFY in a dialog of ours (the transferee's progress of our REFER)
 *    is taken (200); of another event package, 489 (RFC 6665 8.2.1). */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* Nobody waits for the response of a REFER or NOTIFY of ours: NTA keeps
 * the transaction (retransmissions) until its final response. */
static int ignore_response(sip_leg *leg, nta_outgoing_t *orq, const sip_t *sip)
{
    (void)leg;
    (void)orq;
    (void)sip;
    return 0;
}

static int send_and_forget(nta_outgoing_t *orq)
{
    if (!orq)
        return -1;
    nta_outgoing_destroy(orq);   /* the callback is NTA's own from now on: LEG may go */
    return 0;
}

int sip_nta_refer_out(sip_leg *leg, const char *refer_to)
{
    return send_and_forget(sip_nta_request(leg, sip_method_refer, "REFER", ignore_response,
                                           SIPTAG_REFER_TO_STR(refer_to), TAG_END()));
}

/* The transfer target of a REFER: the Refer-To user part (a number), else
 * the whole URI; false when it has neither, or a URI over 255 characters.
 * What the engine gets is the network's text: printable ASCII only. */
static bool refer_target(const sip_t *sip, char *out, size_t n)
{
    const url_t *u = sip->sip_refer_to ? sip->sip_refer_to->r_url : NULL;
    if (!u || n < 2)
        return false;
    char raw[256];
    if (u->url_user && *u->url_user) {
        snprintf(raw, sizeof raw, "%s", u->url_user);
    } else {
        /* url_e says how long the URI is; of one longer than RAW it skips
         * the parts that do not fit and ends RAW at its last byte: what
         * lies between is the stack's, not the network's */
        issize_t len = url_e(raw, sizeof raw, u);
        if (len <= 0 || (size_t)len >= sizeof raw)
            return false;
    }
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && w + 1 < n; p++)
        if (*p > 0x20 && *p < 0x7f)
            out[w++] = (char)*p;
    out[w] = '\0';
    return w > 0;
}

static int refer_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    sip_driver *d = leg->d;
    char target[256];
    if (leg->state != LEG_UP)
        return 403;   /* a transfer of a call not (or no longer) up */
    if (!refer_target(sip, target, sizeof target) || (sip->sip_refer_to && sip->sip_refer_to->r_next))
        return 400;   /* none, one longer than we keep, or several Refer-To (RFC 3515 2.4.1) */
    nta_incoming_treply(irq, 202, sip_status_phrase(202), NTA_CONTACT(leg, true), TAG_END());
    sip_log(d, SIP_LOG_INFO, "%s: transfer to %s requested", leg->call_id ? leg->call_id : "-", target);
    char event[40];
    snprintf(event, sizeof event, "refer;id=%u", (unsigned)sip->sip_cseq->cs_seq);
    if (send_and_forget(sip_nta_request(leg, sip_method_notify, "NOTIFY", ignore_response, SIPTAG_EVENT_STR(event),
                                        SIPTAG_SUBSCRIPTION_STATE_STR("terminated;reason=noresource"),
                                        SIPTAG_CONTENT_TYPE_STR("message/sipfrag"),
                                        SIPTAG_PAYLOAD_STR("SIP/2.0 200 OK\r\n"), TAG_END())) < 0)
        sip_log(d, SIP_LOG_WARN, "%s: the NOTIFY of the transfer could not be sent", leg->call_id ? leg->call_id : "-");
    tel_event ev = {.kind = TEL_EV_TRANSFER, .refer_to = target};
    sip_raise(leg, &ev);
    return SIP_NTA_ANSWERED;
}

int sip_nta_refer_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip)
{
    if (sip->sip_request->rq_method == sip_method_refer)
        return refer_in(leg, irq, sip);
    /* NOTIFY: only the refer package's (our REFER's progress) is ours. */
    const char *ev = sip->sip_event ? sip->sip_event->o_type : NULL;
    return ev && strcasecmp(ev, "refer") == 0 ? 200 : 489;
}

/* sip_nta_msg.c — MESSAGE (RFC 3428) on the agent: ours sent
 * as one non-INVITE client transaction per fork (a user's contact, a
 * gateway, a SIP URI), a gateway's 401/407 answered once with its
 * credentials (auc_*, as our INVITE is); one received outside a dialog
 * answered through its server transaction. What is sent, who may send
 * one and what it is answered are sip_msg.c's. */
#define NTA_OUTGOING_MAGIC_T struct sip_msg_fork

#include "telephony/sip/sip_msg.h"

#include <stdio.h>
#include <stdlib.h>

#include <sofia-sip/auth_client.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#define ANSWERED 500   /* sip_nta.c's: answered already, NTA sends nothing more */

static int response_cb(sip_msg_fork *f, nta_outgoing_t *orq, const sip_t *sip);

/* The gateway's 401/407 to F's MESSAGE (ORQ): the same MESSAGE again, CSeq
 * + 1, with digest credentials. 0: sent (it replaces ORQ), -1: STATUS is
 * F's final answer. */
static int authenticate(sip_msg_fork *f, nta_outgoing_t *orq, const sip_t *sip, int status)
{
    const char *user, *pass;
    if (!sip || !sip_msg_auth_wanted(f, &user, &pass))
        return -1;
    msg_t *msg = sip_nta_request_authorized(orq, sip, status, user, pass);
    /* nta_outgoing_mcreate takes MSG, also when it fails */
    nta_outgoing_t *again = msg ? nta_outgoing_mcreate(sip_nta_agent(f->d), response_cb, f, NULL, msg, TAG_END()) : NULL;
    if (!again)
        return -1;
    nta_outgoing_destroy(orq);
    f->orq = again;
    return 0;
}

static int response_cb(sip_msg_fork *f, nta_outgoing_t *orq, const sip_t *sip)
{
    /* NTA's own final status (408, 503) when no response came. */
    int status = sip_nta_response_status(orq, sip);
    if (status < 200 || f->done)
        return 0;
    sip_driver *d = f->d;
    sip_enter(d);
    if ((status == 401 || status == 407) && authenticate(f, orq, sip, status) == 0) {
        sip_leave(d);
        return 0;
    }
    sip_msg_fork_done(f, status);   /* may free F (and its transaction) */
    sip_leave(d);
    return 0;
}

int sip_nta_msg_send(sip_driver *d, sip_msg_fork *f, const char *to, const char *from, const char *text)
{
    nta_agent_t *agent = sip_nta_agent(d);
    char tag[24], call_id[120], from_tagged[800];
    sip_nta_random_hex(tag, sizeof tag, 2);
    sip_nta_new_call_id(d, call_id, sizeof call_id);
    snprintf(from_tagged, sizeof from_tagged, "%s;tag=%s", from, tag);
    msg_t *msg = sip_nta_new_request(d, sip_method_message, "MESSAGE", f->uri, 1);
    if (!msg)
        return -1;
    sip_t *sip = sip_object(msg);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(from_tagged), SIPTAG_TO_STR(to),
                   SIPTAG_CALL_ID_STR(call_id), SIPTAG_MAX_FORWARDS_STR("70"),
                   SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"), SIPTAG_PAYLOAD_STR(text), TAG_END()) < 0) {
        msg_destroy(msg);
        return -1;
    }
    f->orq = nta_outgoing_mcreate(agent, response_cb, f, NULL, msg, TAG_END());
    return f->orq ? 0 : -1;
}

void sip_nta_msg_drop(sip_msg_fork *f)
{
    if (f->orq)
        nta_outgoing_destroy(f->orq);
    f->orq = NULL;
}

int sip_nta_message(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    if (!sip_msg_accepting(d))
        return 503;
    const struct sip_gw *gw = NULL;
    const cfg_user *u = NULL;
    char source[80];
    int who_is = sip_nta_identify(d, irq, sip, source, sizeof source, &gw, &u);
    if (who_is)
        return who_is;   /* answered: a 407 challenge, 403; or a banned source */
    int code = sip_msg_deliver(d, sip, source, gw);
    nta_incoming_treply(irq, code, sip_status_phrase(code), TAG_IF(code == 415, SIPTAG_ACCEPT_STR("text/plain")),
                        TAG_END());
    return ANSWERED;
}

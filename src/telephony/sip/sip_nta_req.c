/* sip_nta_req.c — building the requests the NTA core sends outside a
 * leg's dialog record: a new request (request line and CSeq), tags and
 * Call-IDs, a request sent again with digest credentials after a 401/407
 * (an INVITE to a gateway, a MESSAGE), the status a response callback
 * reads, and the headers every call sends the same, parsed once. */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/random.h"

#include <sofia-sip/auth_client.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_tag.h>

void sip_nta_random_hex(char *out, size_t n, int words)
{
    /* 8 hex digits a word, as many words as fit with the NUL. */
    size_t fit = n > 0 ? (n - 1) / 8 : 0;
    size_t w = words > 0 ? (size_t)words : 0;
    cr_random_hex(out, 4 * (w < fit ? w : fit));
}

void sip_nta_random_token(char *out, size_t chars)
{
    /* Five bits a character, lower case: sofia (and other stacks) compare
     * tags ignoring case, so upper case would add no randomness. */
    static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
    unsigned char r[SIP_NTA_TOKEN_MAX];
    if (chars > sizeof r)
        chars = sizeof r;
    cr_random_bytes(r, chars);
    for (size_t i = 0; i < chars; i++)
        out[i] = digits[r[i] & 31];
    out[chars] = '\0';
}

void sip_nta_new_call_id(sip_driver *d, char *out, size_t n)
{
    /* TOKEN@HOST, cut to N: formatted by hand, this runs on every call. */
    char id[SIP_NTA_CALL_ID_CHARS + 1 + sizeof d->sip_host];
    sip_nta_random_token(id, SIP_NTA_CALL_ID_CHARS);
    id[SIP_NTA_CALL_ID_CHARS] = '@';
    size_t host = strnlen(d->sip_host, sizeof d->sip_host - 1);
    memcpy(id + SIP_NTA_CALL_ID_CHARS + 1, d->sip_host, host);
    size_t len = SIP_NTA_CALL_ID_CHARS + 1 + host;
    if (len > n - 1)
        len = n - 1;
    memcpy(out, id, len);
    out[len] = '\0';
}

bool sip_nta_hdrs_make(struct sip_nta *t)
{
    sip_nta_hdrs *h = &t->hdr;
    h->home = su_home_new(sizeof *h->home);
    if (!h->home)
        return false;
    h->max_forwards = sip_max_forwards_make(h->home, "70");
    h->allow = sip_allow_make(h->home, NTA_ALLOW);
    h->sdp_type = sip_content_type_make(h->home, "application/sdp");
    h->timer = sip_supported_make(h->home, "timer");
    h->require_timer = sip_require_make(h->home, "timer");
    h->contact = sip_contact_make(h->home, t->contact);
    return h->max_forwards && h->allow && h->sdp_type && h->timer && h->require_timer && h->contact;
}

void sip_nta_hdrs_free(struct sip_nta *t)
{
    if (t->hdr.home)
        su_home_unref(t->hdr.home);
    t->hdr = (sip_nta_hdrs){0};
}

msg_t *sip_nta_new_request(sip_driver *d, sip_method_t method, const char *name, const char *uri, uint32_t cseq)
{
    nta_agent_t *agent = sip_nta_agent(d);
    msg_t *msg = agent ? nta_msg_create(agent, 0) : NULL;
    if (!msg)
        return NULL;
    sip_t *sip = sip_object(msg);
    su_home_t *home = msg_home(msg);
    url_t *ruri = url_make(home, uri);
    sip_request_t *rq = ruri ? sip_request_create(home, method, name, (url_string_t *)ruri, NULL) : NULL;
    sip_cseq_t *cs = sip_cseq_create(home, cseq, method, name);
    if (!rq || !cs || sip_add_tl(msg, sip, SIPTAG_REQUEST(rq), SIPTAG_CSEQ(cs), TAG_END()) < 0) {
        msg_destroy(msg);
        return NULL;
    }
    return msg;
}

int sip_nta_response_status(nta_outgoing_t *orq, const sip_t *sip)
{
    return sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
}

msg_t *sip_nta_request_again(nta_outgoing_t *orq)
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
    const sip_cseq_t *cs = req->sip_cseq;
    msg_header_replace(msg, (msg_pub_t *)req, (msg_header_t *)req->sip_cseq,
                       (msg_header_t *)sip_cseq_create(msg_home(msg), cs->cs_seq + 1, cs->cs_method,
                                                       cs->cs_method_name));
    return msg;
}

msg_t *sip_nta_request_authorized(nta_outgoing_t *orq, const sip_t *sip, int status, const char *user,
                                  const char *pass)
{
    const msg_auth_t *ch = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    msg_t *msg = ch ? sip_nta_request_again(orq) : NULL;
    if (!msg)
        return NULL;
    sip_t *req = sip_object(msg);
    auth_client_t *aucs = NULL;
    if (auc_challenge(&aucs, msg_home(msg), ch,
                      status == 401 ? sip_authorization_class : sip_proxy_authorization_class) > 0 &&
        auc_all_credentials(&aucs, NULL, NULL, user, pass ? pass : "") > 0 &&
        auc_authorization(&aucs, msg, (msg_pub_t *)req, req->sip_request->rq_method_name, req->sip_request->rq_url,
                          req->sip_payload) > 0)
        return msg;
    msg_destroy(msg);
    return NULL;
}

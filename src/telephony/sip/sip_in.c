/* sip_in.c — incoming requests, the decisions sip_nta.c acts on: who is
 * calling (a gateway by source address, or a user who passed the digest
 * challenge) and the DTMF digit an INFO carries. */
#include <stdio.h>


#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_dtmf_body.h"

int sip_who_calls(sip_driver *d, const sip_t *sip, char *source, size_t n, const struct sip_gw **gw_out,
                  const cfg_user **user_out, char *challenge, size_t clen)
{
    struct sockaddr_in src = {0};
    bool have_src = sip_request_source(d, &src);
    const char *from_user = sip->sip_from && sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user : NULL;
    const cfg_user *u = from_user ? tel_config_user(d->cfg, from_user) : NULL;
    if (u && !u->password)
        u = NULL;
    /* Who calls: a gateway by its address and port; a user who answers
     * the digest challenge; a gateway by address alone (`match: ip`,
     * accept_any_source); else a user is challenged. Every request from a
     * user is: its source address is no credential (UDP is forged with one
     * packet); a nonce stays good for the requests of its dialog. */
    const struct sip_gw *gw = have_src ? sip_gw_by_source(d, &src, true) : NULL;
    if (!gw && have_src && sip_registrar_ignored(d->reg, &src))
        return -1;   /* banned: no digest work, no challenge */
    if (!gw && u && sip->sip_proxy_authorization) {
        int code = sip_registrar_auth_verdict(d->reg, sip, u, true, challenge, clen);
        if (code)
            return code;
        snprintf(source, n, "user:%s", u->number);
        *user_out = u;
    } else if (gw || (have_src && (gw = sip_gw_by_source(d, &src, false)))) {
        snprintf(source, n, "%s", sip_gw_name(gw));
        *gw_out = gw;
    } else if (u) {
        int code = sip_registrar_auth_verdict(d->reg, sip, u, true, challenge, clen);   /* the 407 challenge */
        return code ? code : 500;
    } else {
        sip_report_refused(d, sip, 403, "unknown_source");
        return 403;
    }
    return 0;
}

void sip_in_info(sip_leg *leg, const sip_t *sip)
{
    if (!sip || !sip->sip_payload || !sip->sip_content_type || !sip->sip_content_type->c_type)
        return;
    char digit = sip_dtmf_body_digit(sip->sip_content_type->c_type, sip->sip_payload->pl_data,
                                     sip->sip_payload->pl_len);
    if (digit)
        sip_leg_digit(leg, digit);
}

/* sip_nta_reg.c — the registrar's requests on the agent:
 * a REGISTER answered through its server transaction (nta_incoming), and
 * the digest check of any request from a user, and who sends a request
 * that starts something (a gateway, or a user who answers the challenge). What is answered is
 * sip_registrar.c's: digest (sip_auth.c), bindings
 * and expiry, RFC 5626 outbound, the refusals; only the sending is here.
 * The CRLF keep-alives of an outbound flow are answered by the transport
 * (TPTAG_PONG2PING on the agent, sip_nta.c). */
#include "telephony/sip/sip_int.h"

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

bool sip_nta_auth(sip_driver *d, nta_incoming_t *irq, const sip_t *sip, const cfg_user *u, bool proxy)
{
    char challenge[256];
    int code = sip_registrar_auth_verdict(d->reg, sip, u, proxy, challenge, sizeof challenge);
    if (code > 0)
        nta_incoming_treply(irq, code, sip_status_phrase(code),
                            TAG_IF(code == 401, SIPTAG_WWW_AUTHENTICATE_STR(challenge)),
                            TAG_IF(code == 407, SIPTAG_PROXY_AUTHENTICATE_STR(challenge)), TAG_END());
    return code == 0;
}

int sip_nta_register(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_reg_answer a;
    sip_registrar_register(d->reg, sip, &a);
    if (a.code <= 0)
        return 500;   /* a banned source: no challenge (as under NUA) */
    nta_incoming_treply(irq, a.code, sip_status_phrase(a.code),
                        TAG_IF(a.code == 401, SIPTAG_WWW_AUTHENTICATE_STR(a.challenge)),
                        TAG_IF(a.code == 200 && a.contact[0], SIPTAG_CONTACT_STR(a.contact)),
                        TAG_IF(a.code == 200 && a.outbound, SIPTAG_REQUIRE_STR("outbound")),
                        TAG_IF(a.code == 200 && a.outbound, SIPTAG_SUPPORTED_STR("outbound")), TAG_END());
    return 500;   /* answered: NTA sends nothing more */
}

int sip_nta_identify(sip_driver *d, nta_incoming_t *irq, const sip_t *sip, char *source, size_t n,
                     const struct sip_gw **gw, const cfg_user **user)
{
    char challenge[256];
    int code = sip_who_calls(d, sip, source, n, gw, user, challenge, sizeof challenge);
    if (code > 0)
        nta_incoming_treply(irq, code, sip_status_phrase(code),
                            TAG_IF(code == 407, SIPTAG_PROXY_AUTHENTICATE_STR(challenge)), TAG_END());
    return code ? 500 : 0;
}

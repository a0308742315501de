/* sip_nta_tls.c — SIP over TLS: the agent's tls:
 * listener (a sips: transport added to the agent with the certificate
 * directory, verification policy and date check sip_driver.c makes
 * from settings.sip.tls), and our Contact toward a peer we reach or are
 * reached by over TLS. sip_tls.c's reload (it interposes OpenSSL's
 * context) and its log of sofia's transport serve it unchanged. */
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_tls.h"
#include "util/alloc.h"

bool sip_nta_tls_listen(sip_driver *d, const char *url, const char *cert_dir, unsigned policy, char *err,
                        size_t errlen)
{
    nta_agent_t *agent = sip_nta_agent(d);
    if (agent && nta_agent_add_tport(agent, URL_STRING_MAKE(url), TPTAG_CERTIFICATE(cert_dir),
                                     TPTAG_TLS_VERIFY_POLICY(policy), TPTAG_TLS_VERIFY_DATE(1),
                                     TPTAG_PONG2PING(1), TAG_END()) == 0)
        return true;
    snprintf(err, errlen, "cannot listen for SIP over TLS on %s (address in use, or settings.sip.tls's certificate "
             "and key do not match)", url);
    return false;
}

/* URI is reached over TLS: sips:, or transport=tls. */
static bool uri_tls(const char *uri)
{
    return strncasecmp(uri, "sips:", 5) == 0 || strcasestr(uri, ";transport=tls") != NULL;
}

bool sip_nta_contact_for(sip_driver *d, const char *uri, char *out, size_t n)
{
    if (uri_tls(uri)) {   /* d->tls_contact: "<sip:HOST:PORT;transport=tls>" */
        const char *c = d->tls_contact;
        size_t len = strlen(c);
        if (len < 7 || len - 6 >= n)
            return false;
        snprintf(out, n, "%.*s", (int)(len - 6), c + 5);
        return true;
    }
    bool tcp = strcasestr(uri, ";transport=tcp") != NULL;
    return (size_t)snprintf(out, n, "%s:%d%s", d->sip_host, d->sip_port, tcp ? ";transport=tcp" : "") < n;
}

char *sip_nta_tls_contact_out(sip_driver *d, const char *uri)
{
    char at[120], contact[140];
    if (!uri_tls(uri) || !d->tls_contact[0] || !sip_nta_contact_for(d, uri, at, sizeof at))
        return NULL;
    /* A sips: Request-URI asks for a sips: Contact (RFC 3261 8.1.1.8). */
    if (strncasecmp(uri, "sips:", 5) == 0) {
        char *semi = strchr(at, ';');
        if (semi)
            *semi = '\0';
        snprintf(contact, sizeof contact, "<sips:%s>", at);
    } else {
        snprintf(contact, sizeof contact, "<sip:%s>", at);
    }
    return cr_xstrdup(contact);
}

char *sip_nta_tls_contact_in(sip_driver *d, const sip_t *sip)
{
    char contact[300];
    const sip_via_t *via = sip->sip_via;
    if (!via || !via->v_protocol || strcasecmp(via->v_protocol, "SIP/2.0/TLS") != 0 || !d->tls_contact[0])
        return NULL;
    /* A sip: peer: sip:...;transport=tls where it reached us (sip_tls.c);
     * a sips: one: our listener's as sips:. */
    if (sip_tls_answer_contact(sip, contact, sizeof contact))
        return cr_xstrdup(contact);
    return sip_nta_tls_contact_out(d, "sips:");
}

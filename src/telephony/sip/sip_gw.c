/* sip_gw.c — gateways: their addresses (an INVITE from one is "from the
 * gateway"), digest credentials, and the optional registration to them. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/url.h>

#include "telephony/sip/sip_int.h"
#include "util/alloc.h"

struct sip_gw {
    const cfg_gateway *conf;
    struct sockaddr_in addr;
    bool resolved, explicit_port;
    struct sip_nta_gwreg *nta_reg;   /* registration to the gateway (sip_nta_gwreg.c) */
};

static bool resolve(const char *host, struct in_addr *out)
{
    if (inet_pton(AF_INET, host, out) == 1)
        return true;
    struct addrinfo hints = {.ai_family = AF_INET}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return false;
    *out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return true;
}

void sip_gw_free(sip_driver *d)
{
    /* A registration belongs to the configuration it came from: it is
     * withdrawn (REGISTER with Expires: 0; it goes once answered). */
    for (size_t i = 0; i < d->gw_count; i++)
        sip_nta_gwreg_withdraw(d->gws[i].nta_reg);
    free(d->gws);
    d->gws = NULL;
    d->gw_count = 0;
}

void sip_gw_load(sip_driver *d)
{
    sip_gw_free(d);
    if (!d->cfg || d->cfg->gateway_count == 0)
        return;
    d->gws = cr_xcalloc(d->cfg->gateway_count, sizeof *d->gws);
    d->gw_count = d->cfg->gateway_count;
    for (size_t i = 0; i < d->gw_count; i++) {
        struct sip_gw *g = &d->gws[i];
        g->conf = &d->cfg->gateways[i];
        url_t *u = url_make(d->home, g->conf->uri);
        if (!u || !u->url_host) {
            sip_log(d, SIP_LOG_WARN, "gateway %s: bad uri %s", g->conf->name, g->conf->uri);
            continue;
        }
        g->addr.sin_family = AF_INET;
        g->explicit_port = u->url_port != NULL;
        g->addr.sin_port = htons((uint16_t)(u->url_port ? atoi(u->url_port) : 5060));
        g->resolved = resolve(u->url_host, &g->addr.sin_addr);
        if (!g->resolved)
            sip_log(d, SIP_LOG_WARN, "gateway %s: cannot resolve %s", g->conf->name, u->url_host);
        su_free(d->home, u);
    }
}

const struct sip_gw *sip_gw_by_source(sip_driver *d, const struct sockaddr_in *src, bool exact)
{
    for (size_t i = 0; i < d->gw_count; i++) {
        const struct sip_gw *g = &d->gws[i];
        if (!g->resolved || g->addr.sin_addr.s_addr != src->sin_addr.s_addr)
            continue;
        /* Any port of its address only when it says `match: ip`. */
        if (exact ? g->addr.sin_port == src->sin_port : g->conf->match_ip)
            return g;
    }
    if (exact)
        return NULL;
    for (size_t i = 0; i < d->gw_count; i++)
        if (d->gws[i].conf->accept_any_source)
            return &d->gws[i];
    return NULL;
}

bool sip_gw_is_source(sip_driver *d, const struct sockaddr_in *src)
{
    for (size_t i = 0; i < d->gw_count; i++) {
        const struct sip_gw *g = &d->gws[i];
        if (g->resolved && g->addr.sin_addr.s_addr == src->sin_addr.s_addr &&
            (g->addr.sin_port == src->sin_port || g->conf->match_ip))
            return true;
    }
    return false;
}

const struct sip_gw *sip_gw_by_name(sip_driver *d, const char *name)
{
    for (size_t i = 0; i < d->gw_count; i++)
        if (name && strcmp(d->gws[i].conf->name, name) == 0)
            return &d->gws[i];
    return NULL;
}

const char *sip_gw_name(const struct sip_gw *g) { return g->conf->name; }
const cfg_gateway *sip_gw_conf(const struct sip_gw *g) { return g->conf; }

void sip_gw_register_all(sip_driver *d)
{
    for (size_t i = 0; i < d->gw_count; i++) {
        struct sip_gw *g = &d->gws[i];
        if (!g->conf->register_ || !g->conf->auth_user || g->nta_reg)
            continue;
        if (!sip_nta_gwreg_start(d, g->conf, &g->nta_reg))
            sip_log(d, SIP_LOG_WARN, "gateway %s: cannot register: bad uri or user name", g->conf->name);
    }
}

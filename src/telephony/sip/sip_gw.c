/* sip_gw.c — gateways: their addresses (an INVITE from one is "from the
 * gateway"), digest credentials, and the optional registration to them. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

struct sip_gw {
    const cfg_gateway *conf;
    struct sockaddr_in addr;
    bool resolved, explicit_port;
    nua_handle_t *reg_nh;     /* registration to the gateway */
    struct sip_nta_gwreg *nta_reg;   /* the same under core: nta (sip_nta_gwreg.c) */
    sip_hctx hc;
    bool reg_auth_tried;
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
     * withdrawn (the stack sends REGISTER with Expires: 0 and lets the
     * handle go). */
    for (size_t i = 0; i < d->gw_count; i++)
        sip_nta_gwreg_withdraw(d->gws[i].nta_reg);
    for (size_t i = 0; i < d->gw_count; i++)
        if (d->gws[i].reg_nh && !d->nua_down) {
            /* Its events must not reach the array freed below. */
            nua_handle_bind(d->gws[i].reg_nh, NULL);
            nua_unregister(d->gws[i].reg_nh, TAG_END());
        }
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
        g->hc.kind = HC_GWREG;
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
        if (!g->conf->register_ || !g->conf->auth_user || g->reg_nh || g->nta_reg)
            continue;
        if (d->nta) {
            if (!sip_nta_gwreg_start(d, g->conf, &g->nta_reg))
                sip_log(d, SIP_LOG_WARN, "gateway %s: cannot register: bad uri or user name", g->conf->name);
            continue;
        }
        url_t *u = url_make(d->home, g->conf->uri);
        if (!u || !u->url_host)
            continue;
        char aor[256];
        bool aor_ok = sip_uri_user_at(aor, sizeof aor, g->conf->auth_user, u->url_host, 0);
        su_free(d->home, u);
        if (!aor_ok) {
            sip_log(d, SIP_LOG_WARN, "gateway %s: cannot register: bad user name", g->conf->name);
            continue;
        }
        g->reg_nh = nua_handle(d->nua, &g->hc, SIPTAG_TO_STR(aor), SIPTAG_FROM_STR(aor), TAG_END());
        g->reg_auth_tried = false;
        nua_register(g->reg_nh, NUTAG_REGISTRAR(g->conf->uri), NUTAG_M_USERNAME(g->conf->auth_user),
                     NUTAG_OUTBOUND("no-options-keepalive no-validate no-natify"),
                     SIPTAG_EXPIRES_STR("600"), TAG_END());
    }
}

static struct sip_gw *gw_by_reg(sip_driver *d, nua_handle_t *nh)
{
    for (size_t i = 0; i < d->gw_count; i++)
        if (d->gws[i].reg_nh == nh)
            return &d->gws[i];
    return NULL;
}

void sip_gw_register_response(sip_driver *d, nua_handle_t *nh, int status, const sip_t *sip)
{
    struct sip_gw *g = gw_by_reg(d, nh);
    if (!g)
        return;
    if ((status == 401 || status == 407) && !g->reg_auth_tried && sip) {
        const msg_auth_t *ch = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
        const char *realm = ch ? msg_params_find(ch->au_params, "realm=") : NULL;
        char auth[512];
        snprintf(auth, sizeof auth, "%s:%s:%s:%s", ch ? ch->au_scheme : "Digest",
                 realm ? realm : "\"\"", g->conf->auth_user,
                 g->conf->auth_password ? g->conf->auth_password : "");
        g->reg_auth_tried = true;
        nua_authenticate(nh, NUTAG_AUTH(auth), TAG_END());
        return;
    }
    if (status >= 200) {
        g->reg_auth_tried = false;
        sip_log(d, status < 300 ? SIP_LOG_INFO : SIP_LOG_WARN, "gateway %s: registration %d",
                g->conf->name, status);
    }
}


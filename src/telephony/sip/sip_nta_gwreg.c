/* sip_nta_gwreg.c — our registration to a gateway
 * (`gateways.*.register: true`; sip_gw.c starts it): REGISTER to the gateway's URI for its auth user (To and
 * From sip:USER@HOST, Contact sip:USER@us, Expires 600), the digest from
 * the gateway's credentials on a 401/407 (sofia's auth client, kept for
 * the refreshes, tried again once when a challenge comes again), a 423
 * tried again once with its Min-Expires, refreshed at half of what the
 * gateway granted (taken as at least MIN_GRANT_S and at most what we
 * asked: a registrar granting 0 or 1 s had us REGISTER every second, and
 * one granting more than 2^32 s had the number cut to a few), withdrawn (Expires: 0) when the configuration goes
 * (reload, shutdown). A registration that fails is tried again later
 * (RETRY_S), where NUA gave up: a gateway that was down at start is
 * registered to once it is back.
 *
 * One sip_nta_gwreg per registration, on the driver's list (d->nta_gwregs):
 * a withdrawn one stays there, unhooked from its gateway, until its
 * unREGISTER is answered, so shutdown can wait for it. */
#define NTA_OUTGOING_MAGIC_T struct sip_nta_gwreg

#include "telephony/sip/sip_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_client.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_tagarg.h>

#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

#define ASKED_EXPIRES 600
#define RETRY_S 30.0   /* after a failed registration */
/* The least grant we act on: a registrar's grant of less (0, which RFC
 * 3261 10.3 makes a removal, or a few seconds) is taken as this, so its
 * refresh comes every 30 s, not every second (a registrar that wants
 * a bound on the time says so with 423 Min-Expires, RFC 3261 10.3 step 7,
 * which we follow; 60 s is the least a PBX commonly takes). */
#define MIN_GRANT_S 60u

struct sip_nta_gwreg {
    sip_driver *d;
    struct sip_nta_gwreg *next;
    struct sip_nta_gwreg **owner;   /* its gateway's pointer to it, cleared when it goes or is withdrawn */
    su_home_t home[1];         /* the auth client's challenge and credentials */
    auth_client_t *auc;
    char *name, *uri, *user, *pass;   /* copies: the program may go first */
    char aor[256], contact[200], from_tag[24], call_id[112];
    uint32_t cseq;
    unsigned expires;          /* what we ask for (a 423 raises it) */
    nta_outgoing_t *orq;       /* the REGISTER under way */
    loop_timer *timer;         /* the refresh, or the retry after a failure */
    bool withdrawn;            /* unREGISTER sent (or to be): goes when answered */
    bool challenged, min_tried;   /* this round: a 401/407 answered, a 423 answered */
    bool clamp_logged;         /* a grant out of bounds was said once (not every refresh) */
};

static void reg_free(struct sip_nta_gwreg *r)
{
    sip_driver *d = r->d;
    if (r->owner)
        *r->owner = NULL;
    for (struct sip_nta_gwreg **p = &d->nta_gwregs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->orq)
        nta_outgoing_destroy(r->orq);
    if (r->timer)
        loop_timer_stop(d->l, r->timer);
    su_home_deinit(r->home);
    free(r->name);
    free(r->uri);
    free(r->user);
    free(r->pass);
    free(r);
}

static int reg_response_cb(struct sip_nta_gwreg *r, nta_outgoing_t *orq, const sip_t *sip);

/* REGISTER (EXPIRES 0: the unREGISTER) with the next CSeq, credentials
 * when the gateway has challenged us. */
static bool reg_send(struct sip_nta_gwreg *r, unsigned expires)
{
    nta_agent_t *agent = sip_nta_agent(r->d);
    if (!agent)
        return false;
    msg_t *msg = sip_nta_new_request(r->d, sip_method_register, "REGISTER", r->uri, ++r->cseq);
    if (!msg)
        return false;
    sip_t *sip = sip_object(msg);
    char from[300], exp[16];
    snprintf(from, sizeof from, "<%s>;tag=%s", r->aor, r->from_tag);
    snprintf(exp, sizeof exp, "%u", expires);
    bool ok = sip_add_tl(msg, sip, SIPTAG_FROM_STR(from), SIPTAG_TO_STR(r->aor),
                         SIPTAG_CALL_ID_STR(r->call_id), SIPTAG_CONTACT_STR(r->contact),
                         SIPTAG_EXPIRES_STR(exp), SIPTAG_MAX_FORWARDS_STR("70"),
                         SIPTAG_USER_AGENT_STR("callroute"), TAG_END()) == 0;
    if (ok && r->auc)
        ok = auc_authorization(&r->auc, msg, (msg_pub_t *)sip, "REGISTER", sip->sip_request->rq_url,
                               sip->sip_payload) >= 0;
    if (!ok) {
        msg_destroy(msg);
        return false;
    }
    /* nta_outgoing_mcreate takes MSG, also when it fails */
    r->orq = nta_outgoing_mcreate(agent, reg_response_cb, r, NULL, msg, TAG_END());
    return r->orq != NULL;
}

static void reg_timer_cb(loop *l, void *arg);

static void reg_later(struct sip_nta_gwreg *r, double seconds)
{
    if (r->timer)
        loop_timer_stop(r->d->l, r->timer);
    r->timer = loop_timer_start(r->d->l, seconds, reg_timer_cb, r);
}

/* A new round: REGISTER again (the refresh, or a retry). */
static void reg_round(struct sip_nta_gwreg *r)
{
    r->challenged = r->min_tried = false;
    if (!reg_send(r, r->expires)) {
        sip_log(r->d, SIP_LOG_WARN, "gateway %s: cannot send REGISTER: tried again in %.0f s", r->name, RETRY_S);
        reg_later(r, RETRY_S);
    }
}

static void reg_timer_cb(loop *l, void *arg)
{
    (void)l;
    struct sip_nta_gwreg *r = arg;
    r->timer = NULL;
    if (!r->orq && !r->withdrawn)
        reg_round(r);
}

/* E (a Contact's expires parameter: from the network) as a number of
 * seconds, UINT32_MAX for anything larger (not cut to its low bits); -1
 * when it is not digits. */
static long long expires_param(const char *e)
{
    if (!e || !*e || strspn(e, "0123456789") != strlen(e))
        return -1;
    unsigned long long v = 0;
    for (; *e && v <= UINT32_MAX; e++)
        v = v * 10 + (unsigned)(*e - '0');
    return v > UINT32_MAX ? (long long)UINT32_MAX : (long long)v;
}

/* What the gateway granted: the expires of our Contact in its 200, else
 * its Expires header, else what we asked for (RFC 3261 10.2.4); then held
 * between MIN_GRANT_S and what we asked for (a registrar may shorten the
 * time, not lengthen it: RFC 3261 10.3 step 7), said once if it was not. */
static unsigned granted(struct sip_nta_gwreg *r, const sip_t *sip)
{
    long long g = -1;
    for (const sip_contact_t *m = sip->sip_contact; m && g < 0; m = m->m_next)
        if (m->m_expires && m->m_url->url_user && r->user && strcmp(m->m_url->url_user, r->user) == 0)
            g = expires_param(m->m_expires);
    if (g < 0 && sip->sip_expires)
        g = sip->sip_expires->ex_delta;
    if (g < 0)
        g = r->expires;
    unsigned floor = r->expires < MIN_GRANT_S ? r->expires : MIN_GRANT_S;
    unsigned held = g < floor ? floor : g > r->expires ? r->expires : (unsigned)g;
    if (held != g && !r->clamp_logged) {
        r->clamp_logged = true;
        sip_log(r->d, SIP_LOG_WARN, "gateway %s: registrar granted %lld s: taken as %u s (between %u and the %u asked)",
                r->name, g, held, floor, r->expires);
    }
    return held;
}

/* The gateway's 401/407: credentials for its challenge, and the REGISTER
 * again, once a round (the same credentials twice is a wrong password). */
static bool reg_challenge(struct sip_nta_gwreg *r, const sip_t *sip, int status)
{
    if (r->challenged || !sip)
        return false;
    r->challenged = true;
    const msg_auth_t *ch = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    if (!ch || auc_challenge(&r->auc, r->home, ch,
                             status == 401 ? sip_authorization_class : sip_proxy_authorization_class) <= 0 ||
        auc_all_credentials(&r->auc, NULL, NULL, r->user, r->pass ? r->pass : "") <= 0)
        return false;
    return reg_send(r, r->withdrawn ? 0 : r->expires);
}

static int reg_response_cb(struct sip_nta_gwreg *r, nta_outgoing_t *orq, const sip_t *sip)
{
    int status = sip_nta_response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = r->d;
    nta_outgoing_destroy(orq);
    r->orq = NULL;
    if ((status == 401 || status == 407) && reg_challenge(r, sip, status))
        return 0;
    if (status == 423 && !r->withdrawn && !r->min_tried && sip && sip->sip_min_expires &&
        sip->sip_min_expires->me_delta > r->expires && sip->sip_min_expires->me_delta <= 86400) {
        r->min_tried = true;
        r->expires = (unsigned)sip->sip_min_expires->me_delta;
        if (reg_send(r, r->expires))
            return 0;
    }
    if (r->withdrawn) {
        sip_log(d, status < 300 ? SIP_LOG_INFO : SIP_LOG_WARN, "gateway %s: unregistered %d", r->name, status);
        reg_free(r);
        return 0;
    }
    sip_log(d, status < 300 ? SIP_LOG_INFO : SIP_LOG_WARN, "gateway %s: registration %d", r->name, status);
    if (status < 300) {
        unsigned g = sip ? granted(r, sip) : r->expires;
        /* At half of it (RFC 3261 10.2.4 lets us choose). */
        reg_later(r, g / 2.0);
    } else {
        reg_later(r, RETRY_S);
    }
    return 0;
}

bool sip_nta_gwreg_start(sip_driver *d, const cfg_gateway *gw, struct sip_nta_gwreg **out)
{
    url_t *u = url_make(d->home, gw->uri);
    if (!u || !u->url_host) {
        su_free(d->home, u);
        return false;
    }
    struct sip_nta_gwreg *r = cr_xcalloc(1, sizeof *r);
    r->d = d;
    su_home_init(r->home);
    bool ok = sip_uri_user_at(r->aor, sizeof r->aor, gw->auth_user, u->url_host, 0);
    su_free(d->home, u);
    /* Our Contact: the gateway's user at our address, on the transport
     * we reach it by (NUA's NUTAG_M_USERNAME). */
    char at[120];
    ok = ok && sip_nta_contact_for(d, gw->uri, at, sizeof at);
    /* A sips: registrar: a sips: Contact (RFC 3261 8.1.1.8), the scheme
     * saying TLS. */
    bool sips = strncasecmp(gw->uri, "sips:", 5) == 0;
    if (ok && sips && strchr(at, ';'))
        *strchr(at, ';') = '\0';
    ok = ok && (size_t)snprintf(r->contact, sizeof r->contact, "<%s:%s@%s>", sips ? "sips" : "sip", gw->auth_user, at) <
                   sizeof r->contact;
    if (!ok) {
        su_home_deinit(r->home);
        free(r);
        return false;
    }
    r->name = cr_xstrdup(gw->name);
    r->uri = cr_xstrdup(gw->uri);
    r->user = cr_xstrdup(gw->auth_user);
    r->pass = gw->auth_password ? cr_xstrdup(gw->auth_password) : NULL;
    r->expires = ASKED_EXPIRES;
    r->cseq = arc4random() % 10000;
    sip_nta_random_hex(r->from_tag, sizeof r->from_tag, 2);
    sip_nta_new_call_id(d, r->call_id, sizeof r->call_id);
    r->next = d->nta_gwregs;
    d->nta_gwregs = r;
    r->owner = out;
    *out = r;
    reg_round(r);
    return true;
}

void sip_nta_gwreg_withdraw(struct sip_nta_gwreg *r)
{
    if (!r || r->withdrawn)
        return;
    r->withdrawn = true;
    if (r->owner)
        *r->owner = NULL;
    r->owner = NULL;
    if (r->timer)
        loop_timer_stop(r->d->l, r->timer);
    r->timer = NULL;
    /* A REGISTER under way is given up: its Expires: 0 follows at once
     * (a later CSeq, so the gateway applies it last). */
    if (r->orq)
        nta_outgoing_destroy(r->orq);
    r->orq = NULL;
    r->challenged = false;
    if (!reg_send(r, 0))
        reg_free(r);
}

void sip_nta_gwreg_withdraw_all(sip_driver *d)
{
    for (struct sip_nta_gwreg *r = d->nta_gwregs, *next; r; r = next) {
        next = r->next;
        sip_nta_gwreg_withdraw(r);
    }
}

bool sip_nta_gwreg_pending(const sip_driver *d) { return d->nta_gwregs != NULL; }

void sip_nta_gwreg_free_all(sip_driver *d)
{
    while (d->nta_gwregs)
        reg_free(d->nta_gwregs);
}

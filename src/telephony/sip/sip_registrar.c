/* sip_registrar.c — the registrar for users[]: REGISTER with digest
 * authentication (sip_auth.c: qop=auth, expiring nonces, one use per
 * nonce-count; passwords from the scenario file), bindings with expiry,
 * several contacts per user. Also authenticates every INVITE from a user:
 * the address a request comes from is no credential (UDP is forged with one
 * packet). An unknown user is challenged like a known one, so the answers
 * do not tell which extensions exist; a source that keeps failing is
 * banned (ignored) for a while, with one log line fail2ban can match.
 * Phones reached over their own connection: every one registered over TLS,
 * and those that ask for RFC 5626 outbound (a flow over TCP or UDP too). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_auth.h"
#include "telephony/sip/sip_outbound.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

#define BUCKETS 256
#define MAX_EXPIRES 3600
#define REALM "callroute"
#define NONCE_LIFETIME 300   /* seconds; a phone re-registers with a fresh one */

typedef struct reg_contact {
    char *uri;
    struct sockaddr_in src;     /* where the REGISTER came from */
    /* The transport of the connection (flow) the phone is called back
     * over, at SRC: "tls" (every TLS registration), "tcp" or "udp" (RFC
     * 5626 outbound); "": its Contact is dialled. */
    char flow[4];
    sip_outbound_id ob;         /* outbound: the binding is this instance's reg-id (else reg_id 0) */
    double expires;
    struct reg_contact *next;
} reg_contact;

typedef struct reg_aor {
    char *user;
    reg_contact *contacts;
    struct reg_aor *next;
} reg_aor;

struct sip_registrar {
    sip_driver *d;
    sip_auth *auth;
    reg_aor *buckets[BUCKETS];
    const char **list;          /* sip_registrar_contacts() result */
    size_t list_cap;
};

static unsigned hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % BUCKETS;
}

static reg_aor *aor_find(sip_registrar *r, const char *user, bool create)
{
    unsigned b = hash(user);
    for (reg_aor *a = r->buckets[b]; a; a = a->next)
        if (strcmp(a->user, user) == 0)
            return a;
    if (!create)
        return NULL;
    reg_aor *a = cr_xcalloc(1, sizeof *a);
    a->user = cr_xstrdup(user);
    a->next = r->buckets[b];
    r->buckets[b] = a;
    return a;
}

static void contact_free(reg_contact *c)
{
    free(c->uri);
    free(c);
}

static void purge(sip_registrar *r, reg_aor *a)
{
    double now = loop_now(r->d->l);
    for (reg_contact **pc = &a->contacts; *pc;) {
        if ((*pc)->expires <= now) {
            reg_contact *c = *pc;
            *pc = c->next;
            sip_log(r->d, SIP_LOG_INFO, "user %s: contact %s expired", a->user, c->uri);
            contact_free(c);
        } else {
            pc = &(*pc)->next;
        }
    }
}

sip_registrar *sip_registrar_new(sip_driver *d)
{
    sip_registrar *r = cr_xcalloc(1, sizeof *r);
    r->d = d;
    return r;
}

void sip_registrar_free(sip_registrar *r)
{
    for (size_t b = 0; b < BUCKETS; b++)
        while (r->buckets[b]) {
            reg_aor *a = r->buckets[b];
            r->buckets[b] = a->next;
            while (a->contacts) {
                reg_contact *c = a->contacts;
                a->contacts = c->next;
                contact_free(c);
            }
            free(a->user);
            free(a);
        }
    sip_auth_free(r->auth);
    free(r->list);
    free(r);
}

/* Expired bindings are purged when their user is next looked at: counted
 * here by their expiry, not by what is still in the table. */
void sip_registrar_count(const sip_registrar *r, double now, size_t *users, size_t *contacts)
{
    *users = *contacts = 0;
    if (!r)
        return;
    for (size_t b = 0; b < BUCKETS; b++)
        for (const reg_aor *a = r->buckets[b]; a; a = a->next) {
            size_t n = 0;
            for (const reg_contact *c = a->contacts; c; c = c->next)
                n += c->expires > now;
            *contacts += n;
            *users += n > 0;
        }
}

static sip_auth_limits limits_of(const tel_config *p)
{
    const cfg_tel_settings *s = &p->settings;
    return (sip_auth_limits){.nonce_lifetime = NONCE_LIFETIME,
                             .max_failures = s->auth_fail_max > 0 ? (unsigned)s->auth_fail_max : 0,
                             .window = s->auth_fail_window,
                             .ban = s->auth_ban};
}

void sip_registrar_set_users(sip_registrar *r, const tel_config *p)
{
    /* Passwords are read from the program at each check; only the limits
     * change here. Nonces and bans outlive a reload. */
    sip_auth_limits lim = limits_of(p);
    if (r->auth) {
        sip_auth_set_limits(r->auth, &lim);
        return;
    }
    r->auth = sip_auth_new(REALM, &lim);
    if (!r->auth)
        sip_log(r->d, SIP_LOG_ERROR, "cannot set up digest authentication (no random secret)");
}

/* The Digest credentials for our realm among CRED (a phone may send
 * several, for other realms too). */
static const msg_auth_t *our_credentials(const msg_auth_t *cred)
{
    for (; cred; cred = cred->au_next) {
        const char *realm = msg_params_find(cred->au_params, "realm=");
        if (cred->au_scheme && strcasecmp(cred->au_scheme, "Digest") == 0 && realm &&
            auth_strcmp(realm, REALM) == 0)
            return cred;
    }
    return NULL;
}

bool sip_registrar_ignored(sip_registrar *r, const struct sockaddr_in *src)
{
    return r->auth && src && sip_auth_banned(r->auth, loop_now(r->d->l), src->sin_addr);
}

/* The digest verdict on the request being handled from U (NULL:
 * unknown): 0, good; -1, no answer (a banned source: no digest work, no
 * challenge); else the status to answer: 401 (or 407 with PROXY: an
 * INVITE's Proxy-Authorization) with CHALLENGE the WWW-/Proxy-Authenticate
 * value, or 500 (sip_nta_auth sends it). */
int sip_registrar_auth_verdict(sip_registrar *r, const sip_t *sip, const cfg_user *u, bool proxy, char *challenge,
                               size_t n)
{
    sip_driver *d = r->d;
    double now = loop_now(d->l);
    struct sockaddr_in src = {0};
    bool have_src = sip_request_source(d, &src);
    if (!r->auth)
        return 500;
    if (have_src && sip_auth_banned(r->auth, now, src.sin_addr))
        return -1;
    const msg_auth_t *cred = our_credentials(proxy ? sip->sip_proxy_authorization : sip->sip_authorization);
    char ruri[1024] = "";
    url_e(ruri, sizeof ruri, sip->sip_request->rq_url);
    const char *user = proxy ? sip->sip_from->a_url->url_user : sip->sip_to->a_url->url_user;
    sip_auth_result res = sip_auth_check(r->auth, now, cred ? cred->au_params : NULL,
                                         sip->sip_request->rq_method_name, ruri, user,
                                         u ? u->password : NULL);
    if (res == SIP_AUTH_OK)
        return 0;
    char ip[INET_ADDRSTRLEN] = "-";
    if (have_src)
        inet_ntop(AF_INET, &src.sin_addr, ip, sizeof ip);
    if (res == SIP_AUTH_FAILED) {
        sip_log(d, SIP_LOG_INFO, "callroute: auth failed for %s from %s", user ? user : "-", ip);
        /* One line per ban, in a fixed form for fail2ban's failregex; the
         * ban holds from the next request (this one is still answered). */
        if (have_src && sip_auth_failure(r->auth, now, src.sin_addr))
            sip_log(d, SIP_LOG_WARN, "callroute: auth ban %s for %.0fs after %d failures", ip,
                    d->cfg->settings.auth_ban, d->cfg->settings.auth_fail_max);
    }
    if (!sip_auth_challenge(r->auth, now, res == SIP_AUTH_STALE, challenge, n))
        return 500;
    return proxy ? 407 : 401;
}

static unsigned contact_expiry(const sip_t *sip, const sip_contact_t *m)
{
    unsigned long e = sip->sip_expires ? sip->sip_expires->ex_delta : MAX_EXPIRES;
    if (m && m->m_expires)
        e = strtoul(m->m_expires, NULL, 10);
    return e > MAX_EXPIRES ? MAX_EXPIRES : (unsigned)e;
}

void sip_registrar_register(sip_registrar *r, const sip_t *sip, sip_reg_answer *out)
{
    memset(out, 0, sizeof *out);
    if (!sip || !sip->sip_to || !sip->sip_to->a_url->url_user) {
        out->code = 400;
        return;
    }
    const char *user = sip->sip_to->a_url->url_user;
    const cfg_user *u = tel_config_user(r->d->cfg, user);
    if (u && !u->password)
        u = NULL;   /* no password: cannot register, answered like an unknown user */
    out->code = sip_registrar_auth_verdict(r, sip, u, false, out->challenge, sizeof out->challenge);
    if (out->code)
        return;   /* 401, 500, or -1: a banned source, not answered */
    struct sockaddr_in src = {0};
    sip_request_source(r->d, &src);
    /* NTA has checked that the top Via names the transport the request
     * came over ("Via check: invalid transport" otherwise). */
    const char *proto = sip->sip_via && sip->sip_via->v_protocol ? sip->sip_via->v_protocol : "";
    const char *transport = strcasecmp(proto, "SIP/2.0/TLS") == 0   ? "tls"
                            : strcasecmp(proto, "SIP/2.0/TCP") == 0 ? "tcp"
                            : strcasecmp(proto, "SIP/2.0/UDP") == 0 ? "udp"
                                                                      : "";
    /* RFC 5626 section 6: outbound applies when the phone supports it and
     * we are its first hop (one Via: a REGISTER relayed by a proxy, such
     * as Kamailio in front, came over the proxy's flow, not the phone's);
     * a REGISTER with more than one Contact carrying a reg-id is refused. */
    bool outbound = sip_has_feature(sip->sip_supported, "outbound") && transport[0] && !sip->sip_via->v_next;
    size_t with_reg_id = 0;
    for (const sip_contact_t *m = sip->sip_contact; outbound && m; m = m->m_next)
        with_reg_id += msg_params_find(m->m_params, "reg-id=") != NULL;
    if (with_reg_id > 1) {
        out->code = 400;
        return;
    }
    /* A binding keeps its URI in 512 bytes: a longer Contact is refused
     * whole, never bound cut short into a URI the phone did not give. */
    for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
        char probe[512];
        if (m->m_url->url_type != url_any) {
            issize_t len = url_e(probe, sizeof probe, m->m_url);
            if (len < 0 || (size_t)len >= sizeof probe) {
                sip_log(r->d, SIP_LOG_WARN, "user %s: REGISTER refused: a Contact longer than %zu characters", user,
                        sizeof probe - 1);
                out->code = 400;
                return;
            }
        }
    }
    bool flow_used = false;
    reg_aor *a = aor_find(r, user, true);
    if (!a) {
        out->code = 500;
        return;
    }
    double now = loop_now(r->d->l);
    purge(r, a);
    for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
        if (m->m_url->url_type == url_any) {   /* Contact: * (with Expires: 0) */
            while (a->contacts) {
                reg_contact *c = a->contacts;
                a->contacts = c->next;
                contact_free(c);
            }
            continue;
        }
        char uri[512];
        if (url_e(uri, sizeof uri, m->m_url) <= 0)
            continue;
        unsigned exp = contact_expiry(sip, m);
        sip_outbound_id ob = {.reg_id = 0};
        bool is_flow = outbound && sip_outbound_parse(msg_params_find(m->m_params, "+sip.instance="),
                                                      msg_params_find(m->m_params, "reg-id="), &ob);
        /* An outbound binding is the instance's reg-id, whatever its
         * Contact (RFC 5626 section 6: a new flow replaces the old one). */
        reg_contact **pc = &a->contacts;
        while (*pc && (is_flow ? (*pc)->ob.reg_id != ob.reg_id || strcmp((*pc)->ob.instance, ob.instance) != 0
                               : (*pc)->ob.reg_id != 0 || strcmp((*pc)->uri, uri) != 0))
            pc = &(*pc)->next;
        if (exp == 0) {
            if (*pc) {
                reg_contact *c = *pc;
                *pc = c->next;
                contact_free(c);
            }
            sip_log(r->d, SIP_LOG_INFO, "user %s: unregistered %s", user, uri);
            continue;
        }
        if (*pc && strcmp((*pc)->uri, uri) != 0) {   /* the same flow, a new Contact */
            free((*pc)->uri);
            (*pc)->uri = cr_xstrdup(uri);
        }
        if (!*pc) {
            reg_contact *c = cr_xcalloc(1, sizeof *c);
            c->uri = cr_xstrdup(uri);
            *pc = c;
            if (is_flow)
                sip_log(r->d, SIP_LOG_INFO, "user %s: registered %s for %us (outbound flow over %s, instance %s "
                        "reg-id %u)", user, uri, exp, transport, ob.instance, ob.reg_id);
            else
                sip_log(r->d, SIP_LOG_INFO, "user %s: registered %s for %us", user, uri, exp);
        }
        (*pc)->src = src;
        (*pc)->ob = ob;
        snprintf((*pc)->flow, sizeof (*pc)->flow, "%s", is_flow || strcmp(transport, "tls") == 0 ? transport : "");
        (*pc)->expires = now + exp;
        flow_used = flow_used || is_flow;
    }
    /* The 200 lists every binding with the time it has left. */
    char *list = out->contact;
    size_t used = 0;
    for (reg_contact *c = a->contacts; c; c = c->next) {
        /* One binding whole or none: a URI is < 512 bytes, an instance
         * < 101, so ONE always holds it. */
        char one[768];
        int k = snprintf(one, sizeof one, "%s<%s>;expires=%u", used ? ", " : "", c->uri,
                         (unsigned)(c->expires - now + 0.5));
        if (k > 0 && (size_t)k < sizeof one && c->ob.reg_id)   /* validated (sip_outbound_parse): URN, number */
            k += snprintf(one + k, sizeof one - (size_t)k, ";+sip.instance=\"<%s>\";reg-id=%u", c->ob.instance,
                          c->ob.reg_id);
        if (k <= 0 || (size_t)k >= sizeof one || used + (size_t)k >= sizeof out->contact)
            break;
        memcpy(list + used, one, (size_t)k + 1);
        used += (size_t)k;
    }
    /* Require: outbound tells the phone its flow is kept and used (RFC
     * 5626 section 6); it then keeps the connection alive with CRLF pings,
     * which sofia's transport answers (TPTAG_PONG2PING, sip_nta.c). */
    out->code = 200;
    out->outbound = flow_used;
}

/* C is an outbound flow of a phone that has another flow earlier in A. */
static bool same_instance_before(const reg_aor *a, const reg_contact *c)
{
    for (const reg_contact *e = a->contacts; c->ob.reg_id && e != c; e = e->next)
        if (e->ob.reg_id && strcmp(e->ob.instance, c->ob.instance) == 0)
            return true;
    return false;
}

const char *const *sip_registrar_contacts(sip_registrar *r, const char *user)
{
    reg_aor *a = aor_find(r, user, false);
    if (!a)
        return NULL;
    purge(r, a);
    size_t n = 0;
    for (reg_contact *c = a->contacts; c; c = c->next)
        n++;
    if (n == 0)
        return NULL;
    if (n + 1 > r->list_cap) {
        r->list = cr_xrealloc(r->list, (n + 1) * sizeof *r->list);
        r->list_cap = n + 1;
    }
    n = 0;
    for (reg_contact *c = a->contacts; c; c = c->next)
        if (!same_instance_before(a, c))   /* one phone with two flows rings once */
            r->list[n++] = c->uri;
    r->list[n] = NULL;
    return r->list;
}

bool sip_registrar_hop(sip_registrar *r, const char *user, const char *uri, char *hop, size_t n)
{
    reg_aor *a = aor_find(r, user, false);
    for (reg_contact *c = a ? a->contacts : NULL; c; c = c->next) {
        char clean[512];
        if (!c->flow[0] || c->src.sin_family != AF_INET || !sip_uri_clean(clean, sizeof clean, c->uri) ||
            strcmp(clean, uri) != 0)
            continue;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &c->src.sin_addr, ip, sizeof ip);
        /* The address the connection came from, not the Contact's: behind
         * NAT (or any client) that port is the connection's own, and NTA
         * sends over the open connection to it (RFC 5626's flow; over UDP,
         * the NAT binding the REGISTER came through). */
        snprintf(hop, n, "sip:%s:%u;transport=%s", ip, ntohs(c->src.sin_port), c->flow);
        return true;
    }
    return false;
}

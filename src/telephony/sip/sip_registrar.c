/* sip_registrar.c — the registrar for users[]: REGISTER with digest
 * authentication (sofia-sip's auth_module, passwords from the scenario
 * file), bindings with expiry, several contacts per user. Also challenges
 * INVITEs from users calling from an address they did not register. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/auth_module.h>
#include <sofia-sip/auth_plugin.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_hclasses.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_int.h"

#define BUCKETS 256
#define MAX_EXPIRES 3600
#define REALM "callroute"

typedef struct reg_contact {
    char *uri;
    struct sockaddr_in src;     /* where the REGISTER came from */
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
    auth_mod_t *am;
    reg_aor *buckets[BUCKETS];
    const char **list;          /* sip_registrar_contacts() result */
    size_t list_cap;
};

static const auth_challenger_t reg_challenger = {
    401, "Unauthorized", sip_www_authenticate_class, sip_authentication_info_class};
static const auth_challenger_t invite_challenger = {
    407, "Proxy Authentication Required", sip_proxy_authenticate_class,
    sip_proxy_authentication_info_class};

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
    reg_aor *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->user = strdup(user);
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
    sip_registrar *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
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
    if (r->am)
        auth_mod_unref(r->am);
    free(r->list);
    free(r);
}

void sip_registrar_set_users(sip_registrar *r, const scn_program *p)
{
    char key[33];
    snprintf(key, sizeof key, "%08lx%08lx", (unsigned long)random(), (unsigned long)random());
    auth_mod_t *am = auth_mod_create(r->d->root, AUTHTAG_METHOD("Digest"), AUTHTAG_REALM(REALM),
                                     AUTHTAG_FORBIDDEN(1), AUTHTAG_MASTER_KEY(key),
                                     AUTHTAG_NEXT_EXPIRES(0), TAG_END());
    if (!am) {
        sip_log(r->d, SIP_LOG_ERROR, "cannot create the digest authentication module");
        return;
    }
    for (size_t i = 0; i < p->user_count; i++) {
        const scn_user *u = &p->users[i];
        if (!u->number || !u->password)
            continue;
        auth_passwd_t *apw = auth_mod_addpass(am, u->number, REALM);
        if (apw)
            apw->apw_pass = su_strdup(am->am_home, u->password);
    }
    if (r->am)
        auth_mod_unref(r->am);
    r->am = am;
}

/* Runs the digest check; AS is filled, the caller answers. */
static void verify(sip_registrar *r, auth_status_t *as, const sip_t *sip, msg_auth_t *cred,
                   const auth_challenger_t *ach)
{
    as->as_method = sip->sip_request->rq_method_name;
    as->as_source = NULL;
    as->as_user_uri = sip->sip_from ? sip->sip_from->a_url : NULL;
    as->as_display = NULL;
    as->as_body = NULL;
    as->as_bodylen = 0;
    if (r->am)
        auth_mod_verify(r->am, as, cred, ach);
}

static void respond(sip_registrar *r, nua_handle_t *nh, int code, const char *phrase,
                    tag_type_t tag, tag_value_t value, ...)
{
    ta_list ta;
    ta_start(ta, tag, value);
    nua_respond(nh, code, phrase ? phrase : sip_status_phrase(code), NUTAG_WITH_THIS(r->d->nua),
                ta_tags(ta));
    (void)ta_end(ta);
}

/* Authenticated user for this request, or NULL when it was answered. */
static const char *check(sip_registrar *r, nua_handle_t *nh, const sip_t *sip, msg_auth_t *cred,
                         const auth_challenger_t *ach, const char *user, char *out, size_t n)
{
    auth_status_t *as = auth_status_new(NULL);
    if (!as) {
        respond(r, nh, 500, NULL, TAG_END());
        return NULL;
    }
    verify(r, as, sip, cred, ach);
    const char *ok = NULL;
    if (as->as_status != 0) {
        sip_log(r->d, SIP_LOG_DEBUG, "%s from %s: %d %s", as->as_method, user, as->as_status,
                as->as_phrase ? as->as_phrase : "");
        respond(r, nh, as->as_status, as->as_phrase,
                TAG_IF(as->as_response, SIPTAG_HEADER((sip_header_t *)as->as_response)), TAG_END());
    } else if (!as->as_user || strcmp(as->as_user, user) != 0) {
        respond(r, nh, 403, NULL, TAG_END());
    } else {
        snprintf(out, n, "%s", as->as_user);
        ok = out;
    }
    auth_status_unref(as);
    return ok;
}

static unsigned contact_expiry(const sip_t *sip, const sip_contact_t *m)
{
    unsigned long e = sip->sip_expires ? sip->sip_expires->ex_delta : MAX_EXPIRES;
    if (m && m->m_expires)
        e = strtoul(m->m_expires, NULL, 10);
    return e > MAX_EXPIRES ? MAX_EXPIRES : (unsigned)e;
}

void sip_registrar_request(sip_registrar *r, nua_handle_t *nh, const sip_t *sip)
{
    char who[128];
    const char *user = sip && sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user : NULL;
    const scn_user *u = user ? scn_program_user(r->d->prog, user) : NULL;
    if (!u || !u->password) {
        respond(r, nh, 404, NULL, TAG_END());
        nua_handle_destroy(nh);
        return;
    }
    if (!check(r, nh, sip, sip->sip_authorization, &reg_challenger, user, who, sizeof who)) {
        nua_handle_destroy(nh);
        return;
    }
    struct sockaddr_in src = {0};
    sip_request_source(r->d, &src);
    reg_aor *a = aor_find(r, user, true);
    if (!a) {
        respond(r, nh, 500, NULL, TAG_END());
        nua_handle_destroy(nh);
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
        reg_contact **pc = &a->contacts;
        while (*pc && strcmp((*pc)->uri, uri) != 0)
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
        if (!*pc) {
            reg_contact *c = calloc(1, sizeof *c);
            if (!c)
                continue;
            c->uri = strdup(uri);
            *pc = c;
            sip_log(r->d, SIP_LOG_INFO, "user %s: registered %s for %us", user, uri, exp);
        }
        (*pc)->src = src;
        (*pc)->expires = now + exp;
    }
    /* The 200 lists every binding with the time it has left. */
    char list[2048];
    size_t used = 0;
    list[0] = '\0';
    for (reg_contact *c = a->contacts; c && used < sizeof list - 64; c = c->next)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s<%s>;expires=%u",
                                 used ? ", " : "", c->uri, (unsigned)(c->expires - now + 0.5));
    respond(r, nh, 200, NULL, TAG_IF(used, SIPTAG_CONTACT_STR(list)), TAG_END());
    nua_handle_destroy(nh);
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
        const char **l = realloc(r->list, (n + 1) * sizeof *l);
        if (!l)
            return NULL;
        r->list = l;
        r->list_cap = n + 1;
    }
    n = 0;
    for (reg_contact *c = a->contacts; c; c = c->next)
        r->list[n++] = c->uri;
    r->list[n] = NULL;
    return r->list;
}

bool sip_registrar_from(sip_registrar *r, const char *user, const struct sockaddr_in *src)
{
    reg_aor *a = aor_find(r, user, false);
    if (!a)
        return false;
    purge(r, a);
    for (reg_contact *c = a->contacts; c; c = c->next)
        if (c->src.sin_addr.s_addr == src->sin_addr.s_addr && c->src.sin_port == src->sin_port)
            return true;
    return false;
}

bool sip_registrar_auth_invite(sip_registrar *r, nua_handle_t *nh, const sip_t *sip)
{
    char who[128];
    const char *user = sip->sip_from->a_url->url_user;
    return check(r, nh, sip, sip->sip_proxy_authorization, &invite_challenger, user, who, sizeof who) != NULL;
}

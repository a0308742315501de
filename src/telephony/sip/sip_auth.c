/* sip_auth.c — digest authentication (RFC 2617/3261 with qop=auth) as pure
 * checks: sofia-sip's auth_digest parses the credentials and computes the
 * expected response; this file decides which nonces are ours and still
 * good, which nonce-counts were used, and which sources to ban.
 *
 * A nonce is SERIAL TIME HMAC (hex): HMAC-MD5 under a secret drawn at
 * start binds it to this process and its issue time, so it needs no table
 * to be validated. The nonce-count table is a ring indexed by serial: a
 * nonce whose slot a newer one took is "stale" (the client re-authenticates
 * with a fresh nonce), so the memory is fixed however many challenges an
 * attacker asks for, and a used nonce-count never passes again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_md5.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_auth.h"
#include "util/alloc.h"

#define NC_RING 4096            /* live nonces whose counts are remembered */
#define BAN_BUCKETS 1024
#define BAN_MAX_ENTRIES 65536   /* past this, new sources are not tracked */
#define NONCE_LEN (16 + 8 + 32)

typedef struct nc_slot {
    uint64_t serial;
    uint32_t last_nc;           /* highest nonce-count accepted; 0: none yet */
} nc_slot;

typedef struct ban_entry {
    struct in_addr ip;
    unsigned failures;
    double window_start, banned_until;
    struct ban_entry *next;
} ban_entry;

struct sip_auth {
    char realm[64];
    sip_auth_limits lim;
    unsigned char secret[32];
    uint64_t next_serial;
    nc_slot ring[NC_RING];
    ban_entry *bans[BAN_BUCKETS];
    size_t ban_count;
};

sip_auth *sip_auth_new(const char *realm, const sip_auth_limits *lim)
{
    sip_auth *a = cr_xcalloc(1, sizeof *a);
    if (getrandom(a->secret, sizeof a->secret, 0) != (ssize_t)sizeof a->secret) {
        free(a);
        return NULL;
    }
    snprintf(a->realm, sizeof a->realm, "%s", realm);
    a->lim = *lim;
    a->next_serial = 1;
    return a;
}

void sip_auth_free(sip_auth *a)
{
    if (!a)
        return;
    for (size_t b = 0; b < BAN_BUCKETS; b++)
        while (a->bans[b]) {
            ban_entry *e = a->bans[b];
            a->bans[b] = e->next;
            free(e);
        }
    free(a);
}

void sip_auth_set_limits(sip_auth *a, const sip_auth_limits *lim) { a->lim = *lim; }

/* HMAC-MD5 (RFC 2104) of DATA under the secret, as 32 hex digits. */
static void nonce_mac(const sip_auth *a, const char *data, size_t len, char out[33])
{
    unsigned char k[64] = {0}, pad[64], inner[SU_MD5_DIGEST_SIZE];
    memcpy(k, a->secret, sizeof a->secret);
    su_md5_t md5;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    su_md5_init(&md5);
    su_md5_update(&md5, pad, sizeof pad);
    su_md5_update(&md5, data, len);
    su_md5_digest(&md5, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    su_md5_init(&md5);
    su_md5_update(&md5, pad, sizeof pad);
    su_md5_update(&md5, inner, sizeof inner);
    su_md5_hexdigest(&md5, out);
}

/* Equal strings, in a time that does not tell how much of them matched. */
static bool same(const char *x, const char *y, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

size_t sip_auth_challenge(sip_auth *a, double now, bool stale, char *buf, size_t size)
{
    uint64_t serial = a->next_serial++;
    nc_slot *slot = &a->ring[serial % NC_RING];
    slot->serial = serial;
    slot->last_nc = 0;
    char nonce[NONCE_LEN + 1];
    snprintf(nonce, sizeof nonce, "%016llx%08lx", (unsigned long long)serial,
             (unsigned long)(uint32_t)now);
    nonce_mac(a, nonce, 24, nonce + 24);
    int n = snprintf(buf, size, "Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", algorithm=MD5%s",
                     a->realm, nonce, stale ? ", stale=true" : "");
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* The slot of NONCE when it is one of ours: its MAC is right and it has
 * not expired (*STALE: ours but too old or forgotten). */
static nc_slot *nonce_slot(sip_auth *a, double now, const char *nonce, bool *stale)
{
    *stale = false;
    if (!nonce || strlen(nonce) != NONCE_LEN || strspn(nonce, "0123456789abcdef") != NONCE_LEN)
        return NULL;
    char mac[33];
    nonce_mac(a, nonce, 24, mac);
    if (!same(mac, nonce + 24, 32))
        return NULL;
    char part[17];
    memcpy(part, nonce, 16);
    part[16] = '\0';
    uint64_t serial = strtoull(part, NULL, 16);
    memcpy(part, nonce + 16, 8);
    part[8] = '\0';
    double issued = (double)strtoul(part, NULL, 16);
    nc_slot *slot = &a->ring[serial % NC_RING];
    if (now - issued > a->lim.nonce_lifetime || slot->serial != serial) {
        *stale = true;
        return NULL;
    }
    return slot;
}

/* The digest uri names the request's Request-URI (compared as URIs:
 * case of scheme and host, parameter order do not matter). */
static bool uri_matches(su_home_t *home, const char *digest_uri, const char *request_uri)
{
    if (!digest_uri || !request_uri)
        return false;
    char *x = su_strdup(home, digest_uri), *y = su_strdup(home, request_uri);
    url_t ux, uy;
    if (!x || !y || url_d(&ux, x) < 0 || url_d(&uy, y) < 0)
        return false;
    return url_cmp_all(&ux, &uy) == 0;
}

sip_auth_result sip_auth_check(sip_auth *a, double now, const char *const *params,
                               const char *method, const char *request_uri, const char *user,
                               const char *password)
{
    if (!params)
        return SIP_AUTH_MISSING;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    auth_response_t ar[1];
    memset(ar, 0, sizeof ar);
    ar->ar_size = sizeof ar;
    sip_auth_result res = SIP_AUTH_FAILED;
    if (auth_digest_response_get(home, ar, params) < 0 || !ar->ar_nonce || !ar->ar_response) {
        res = SIP_AUTH_MISSING;
        goto out;
    }
    /* Credentials for another realm are not an attempt on ours. */
    if (!ar->ar_realm || strcmp(ar->ar_realm, a->realm) != 0) {
        res = SIP_AUTH_MISSING;
        goto out;
    }
    bool stale;
    nc_slot *slot = nonce_slot(a, now, ar->ar_nonce, &stale);
    if (!slot) {
        res = stale ? SIP_AUTH_STALE : SIP_AUTH_FAILED;
        goto out;
    }
    /* Only qop=auth: the nonce-count is what makes a replay detectable. */
    if (!ar->ar_auth || ar->ar_auth_int || !ar->ar_md5 || ar->ar_md5sess || !ar->ar_cnonce ||
        !*ar->ar_cnonce || !ar->ar_nc || strlen(ar->ar_nc) != 8 ||
        strspn(ar->ar_nc, "0123456789abcdefABCDEF") != 8)
        goto out;
    uint32_t nc = (uint32_t)strtoul(ar->ar_nc, NULL, 16);
    if (!password || !user || !ar->ar_username || strcmp(ar->ar_username, user) != 0)
        goto out;
    if (!uri_matches(home, ar->ar_uri, request_uri))
        goto out;
    auth_hexmd5_t ha1, expected;
    if (auth_digest_ha1(ha1, user, a->realm, password) < 0 ||
        auth_digest_response(ar, expected, ha1, method, NULL, 0) < 0)
        goto out;
    if (strlen(ar->ar_response) != 32 || !same(expected, ar->ar_response, 32))
        goto out;
    if (nc <= slot->last_nc)
        goto out;   /* a replay of an Authorization already accepted */
    slot->last_nc = nc;
    res = SIP_AUTH_OK;
out:
    su_home_deinit(home);
    return res;
}

static ban_entry *ban_find(sip_auth *a, double now, struct in_addr src, bool create)
{
    unsigned b = (unsigned)((src.s_addr * 2654435761u) >> 22) % BAN_BUCKETS;
    for (ban_entry **pe = &a->bans[b]; *pe;) {
        ban_entry *e = *pe;
        if (e->ip.s_addr == src.s_addr)
            return e;
        /* Forget sources whose window and ban are over. */
        if (e->banned_until <= now && now - e->window_start > a->lim.window) {
            *pe = e->next;
            free(e);
            a->ban_count--;
            continue;
        }
        pe = &e->next;
    }
    if (!create || a->ban_count >= BAN_MAX_ENTRIES)
        return NULL;
    ban_entry *e = cr_xcalloc(1, sizeof *e);
    e->ip = src;
    e->window_start = now;
    e->next = a->bans[b];
    a->bans[b] = e;
    a->ban_count++;
    return e;
}

bool sip_auth_failure(sip_auth *a, double now, struct in_addr src)
{
    if (a->lim.max_failures == 0)
        return false;
    ban_entry *e = ban_find(a, now, src, true);
    if (!e || e->banned_until > now)
        return false;
    if (now - e->window_start > a->lim.window) {
        e->window_start = now;
        e->failures = 0;
    }
    if (++e->failures < a->lim.max_failures)
        return false;
    e->banned_until = now + a->lim.ban;
    e->failures = 0;
    e->window_start = e->banned_until;
    return true;
}

bool sip_auth_banned(sip_auth *a, double now, struct in_addr src)
{
    ban_entry *e = ban_find(a, now, src, false);
    return e && e->banned_until > now;
}

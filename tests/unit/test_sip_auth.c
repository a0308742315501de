/* test_sip_auth.c — digest checks apart from SIP: a good qop=auth answer
 * passes once; a replayed nonce-count, another Request-URI, a wrong
 * password, an unknown user, a forged or expired nonce and a missing qop
 * do not; failures from one address ban it for the ban time; the settings
 * and gateway keys that steer it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sofia-sip/auth_digest.h>
#include <arpa/inet.h>

#include "apps/registry.h"
#include "scenario/compile.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "telephony/sip/sip_auth.h"

static const sip_auth_limits lim = {.nonce_lifetime = 300, .max_failures = 3, .window = 60, .ban = 600};

/* The nonce of a challenge header. */
static void nonce_of(const char *challenge, char *out, size_t n)
{
    const char *p = strstr(challenge, "nonce=\"");
    assert_non_null(p);
    p += 7;
    size_t len = strcspn(p, "\"");
    assert_true(len < n);
    memcpy(out, p, len);
    out[len] = '\0';
}

/* A client's Authorization parameters for METHOD URI (qop=auth). */
typedef struct client_cred {
    char p[8][160];
    const char *params[9];
} client_cred;

static void answer(client_cred *c, const char *nonce, const char *user, const char *password,
                   const char *method, const char *uri, const char *nc, const char *qop)
{
    auth_response_t ar = {.ar_size = sizeof ar, .ar_username = user, .ar_realm = "callroute",
                          .ar_nonce = nonce, .ar_uri = uri, .ar_cnonce = "c0ffee", .ar_nc = nc,
                          .ar_qop = qop, .ar_md5 = 1, .ar_auth = qop != NULL};
    auth_hexmd5_t ha1, resp;
    auth_digest_ha1(ha1, user, "callroute", password);
    auth_digest_response(&ar, resp, ha1, method, NULL, 0);
    size_t i = 0;
    snprintf(c->p[i++], 160, "username=\"%s\"", user);
    snprintf(c->p[i++], 160, "realm=\"callroute\"");
    snprintf(c->p[i++], 160, "nonce=\"%s\"", nonce);
    snprintf(c->p[i++], 160, "uri=\"%s\"", uri);
    snprintf(c->p[i++], 160, "response=\"%s\"", resp);
    if (qop) {
        snprintf(c->p[i++], 160, "qop=%s", qop);
        snprintf(c->p[i++], 160, "nc=%s", nc);
        snprintf(c->p[i++], 160, "cnonce=\"c0ffee\"");
    }
    for (size_t k = 0; k < i; k++)
        c->params[k] = c->p[k];
    c->params[i] = NULL;
}

static sip_auth *fresh(char *nonce, size_t n, double now)
{
    sip_auth *a = sip_auth_new("callroute", &lim);
    assert_non_null(a);
    char ch[256];
    assert_true(sip_auth_challenge(a, now, false, ch, sizeof ch) > 0);
    assert_non_null(strstr(ch, "qop=\"auth\""));
    nonce_of(ch, nonce, n);
    return a;
}

static void test_good_once_then_replay(void **state)
{
    (void)state;
    char nonce[80];
    sip_auth *a = fresh(nonce, sizeof nonce, 100);
    client_cred c;
    answer(&c, nonce, "101", "secret", "REGISTER", "sip:127.0.0.1", "00000001", "auth");
    assert_int_equal(sip_auth_check(a, 101, c.params, "REGISTER", "sip:127.0.0.1", "101", "secret"), SIP_AUTH_OK);
    /* the same Authorization again (another port, another Call-ID: same header) */
    assert_int_equal(sip_auth_check(a, 102, c.params, "REGISTER", "sip:127.0.0.1", "101", "secret"), SIP_AUTH_FAILED);
    /* the next nonce-count is fine */
    answer(&c, nonce, "101", "secret", "REGISTER", "sip:127.0.0.1", "00000002", "auth");
    assert_int_equal(sip_auth_check(a, 103, c.params, "REGISTER", "sip:127.0.0.1", "101", "secret"), SIP_AUTH_OK);
    sip_auth_free(a);
}

static void test_refusals(void **state)
{
    (void)state;
    char nonce[80];
    sip_auth *a = fresh(nonce, sizeof nonce, 100);
    client_cred c;
    answer(&c, nonce, "101", "secret", "INVITE", "sip:200@127.0.0.1", "00000001", "auth");
    /* another Request-URI than the digest names */
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:900@127.0.0.1", "101", "secret"), SIP_AUTH_FAILED);
    /* wrong password, unknown user, other user */
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "101", "other"), SIP_AUTH_FAILED);
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "101", NULL), SIP_AUTH_FAILED);
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "102", "secret"), SIP_AUTH_FAILED);
    /* no qop (RFC 2069 style): no nonce-count to stop a replay */
    answer(&c, nonce, "101", "secret", "INVITE", "sip:200@127.0.0.1", NULL, NULL);
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "101", "secret"), SIP_AUTH_FAILED);
    /* expired: stale, to be challenged again */
    answer(&c, nonce, "101", "secret", "INVITE", "sip:200@127.0.0.1", "00000001", "auth");
    assert_int_equal(sip_auth_check(a, 100 + 301, c.params, "INVITE", "sip:200@127.0.0.1", "101", "secret"), SIP_AUTH_STALE);
    /* a nonce not made with our secret (another process's) */
    char other[80];
    sip_auth *b = fresh(other, sizeof other, 100);
    answer(&c, other, "101", "secret", "INVITE", "sip:200@127.0.0.1", "00000001", "auth");
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "101", "secret"), SIP_AUTH_FAILED);
    /* none at all */
    assert_int_equal(sip_auth_check(a, 101, NULL, "INVITE", "sip:200@127.0.0.1", "101", "secret"), SIP_AUTH_MISSING);
    /* the untouched good answer still passes */
    answer(&c, nonce, "101", "secret", "INVITE", "sip:200@127.0.0.1", "00000001", "auth");
    assert_int_equal(sip_auth_check(a, 101, c.params, "INVITE", "sip:200@127.0.0.1", "101", "secret"), SIP_AUTH_OK);
    sip_auth_free(b);
    sip_auth_free(a);
}

static void test_ban(void **state)
{
    (void)state;
    sip_auth *a = sip_auth_new("callroute", &lim);
    struct in_addr x, y;
    inet_pton(AF_INET, "192.0.2.1", &x);
    inet_pton(AF_INET, "192.0.2.2", &y);
    assert_false(sip_auth_failure(a, 10, x));
    assert_false(sip_auth_failure(a, 11, x));
    assert_false(sip_auth_banned(a, 11, x));
    assert_true(sip_auth_failure(a, 12, x));    /* the third within the window */
    assert_false(sip_auth_failure(a, 13, x));   /* once per ban */
    assert_true(sip_auth_banned(a, 13, x));
    assert_false(sip_auth_banned(a, 13, y));
    assert_true(sip_auth_banned(a, 611, x));
    assert_false(sip_auth_banned(a, 613, x));
    /* failures spread wider than the window do not add up */
    assert_false(sip_auth_failure(a, 100, y));
    assert_false(sip_auth_failure(a, 200, y));
    assert_false(sip_auth_failure(a, 300, y));
    assert_false(sip_auth_banned(a, 300, y));
    sip_auth_free(a);
}

static scn_program *load(const char *yaml, scn_diags *dg)
{
    scn_diags_init(dg);
    return scn_program_load_buffer("t.yaml", yaml, strlen(yaml), app_registry, dg);
}

static void test_settings(void **state)
{
    (void)state;
    scn_diags dg;
    scn_program *p = load("version: 1\nroutes: []\n", &dg);
    assert_non_null(p);
    assert_int_equal(p->settings.auth_fail_max, 10);
    assert_true(p->settings.auth_fail_window == 60 && p->settings.auth_ban == 600);
    scn_program_unref(p);
    scn_diags_free(&dg);
    p = load("version: 1\nsettings: { sip: { auth_failures: { max: 3, window: 2m, ban: 1h } } }\n"
             "gateways:\n  a: { uri: \"sip:192.0.2.1\" }\n"
             "  b: { uri: \"sip:192.0.2.2\", match: ip, trust_identity: true }\nroutes: []\n", &dg);
    assert_non_null(p);
    assert_int_equal(p->settings.auth_fail_max, 3);
    assert_true(p->settings.auth_fail_window == 120 && p->settings.auth_ban == 3600);
    const scn_gateway *a = scn_program_gateway(p, "a"), *b = scn_program_gateway(p, "b");
    assert_false(a->match_ip || a->trust_identity);
    assert_true(b->match_ip && b->trust_identity);
    scn_program_unref(p);
    scn_diags_free(&dg);
    p = load("version: 1\ngateways:\n  a: { uri: \"sip:192.0.2.1\", match: port }\nroutes: []\n", &dg);
    assert_null(p);
    scn_diags_free(&dg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_once_then_replay),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ban),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

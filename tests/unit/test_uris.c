/* test_uris.c — what callroute puts into the URIs and headers it sends
 * (issue 11, item 2): a gateway's number_pattern (default, custom, anchored
 * whatever the author wrote, an invalid one reported at its position), user
 * parts escaped so "1@evil.example" cannot re-target an INVITE, whole URIs
 * encoded again without ?headers, display names quoted with no CR/LF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "apps/registry.h"
#include "scenario/compile.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "telephony/sip/sip_uri.h"

static scn_diags diags;

static scn_program *load(const char *yaml)
{
    scn_diags_free(&diags);
    scn_diags_init(&diags);
    return scn_program_load_buffer("t.yaml", yaml, strlen(yaml), app_registry, &diags);
}

static const char *printed(void)
{
    static char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    scn_diags_print(&diags, f);
    fclose(f);
    return buf;
}

#define ROUTE "routes:\n  - { name: r, script: [ { app: answer } ] }\n"

/* ---- number_pattern ---- */

static void test_default_number_pattern(void **state)
{
    (void)state;
    scn_program *p = load("gateways:\n  gw: { uri: \"sip:192.0.2.1\" }\n" ROUTE);
    assert_non_null(p);
    const scn_gateway *g = scn_program_gateway(p, "gw");
    assert_string_equal(g->number_pattern, SCN_GATEWAY_NUMBER_PATTERN);
    assert_true(scn_gateway_number_ok(g, "5550001"));
    assert_true(scn_gateway_number_ok(g, "+74951234567"));
    assert_true(scn_gateway_number_ok(g, "*21#"));
    assert_false(scn_gateway_number_ok(g, "1@evil.example"));
    assert_false(scn_gateway_number_ok(g, "1;transport=tcp"));
    assert_false(scn_gateway_number_ok(g, "123\n"));   /* $ before a final newline */
    assert_false(scn_gateway_number_ok(g, ""));
    assert_false(scn_gateway_number_ok(g, "123456789012345678901234567890123"));   /* 33 */
    assert_false(scn_gateway_number_ok(g, "sip:1@x"));
    assert_false(scn_gateway_number_ok(g, NULL));
    assert_false(scn_gateway_number_ok(NULL, "1"));
    scn_program_unref(p);
}

static void test_custom_pattern_is_anchored(void **state)
{
    (void)state;
    /* Written without anchors: still the whole number must match. */
    scn_program *p = load("gateways:\n  gw: { uri: \"sip:192.0.2.1\", number_pattern: \"[0-9]+\" }\n" ROUTE);
    assert_non_null(p);
    const scn_gateway *g = scn_program_gateway(p, "gw");
    assert_string_equal(g->number_pattern, "[0-9]+");
    assert_true(scn_gateway_number_ok(g, "12"));
    assert_false(scn_gateway_number_ok(g, "1@evil.example"));
    assert_false(scn_gateway_number_ok(g, "x1"));
    assert_false(scn_gateway_number_ok(g, "+12"));
    scn_program_unref(p);
}

static void test_invalid_pattern_reported_at_its_position(void **state)
{
    (void)state;
    scn_program *p = load("gateways:\n  gw: { uri: \"sip:192.0.2.1\", number_pattern: \"^[0-9\" }\n" ROUTE);
    assert_null(p);
    const char *out = printed();
    /* The value's quote is at column 47; pcre2 stops at its end (offset 5). */
    assert_non_null(strstr(out, "t.yaml:2:53: error: invalid number_pattern"));
    assert_non_null(strstr(out, "invalid number_pattern"));
    assert_non_null(strstr(out, "gateways.gw.number_pattern"));
    p = load("gateways:\n  gw: { uri: \"sip:192.0.2.1\", number_pattern: [1] }\n" ROUTE);
    assert_null(p);
    assert_non_null(strstr(printed(), "number_pattern"));
}

/* ---- user parts ---- */

static void test_escape_user(void **state)
{
    (void)state;
    char out[128];
    assert_true(sip_uri_escape_user(out, sizeof out, "1@evil.example"));
    assert_string_equal(out, "1%40evil.example");
    assert_true(sip_uri_escape_user(out, sizeof out, "1;transport=tcp"));
    assert_string_equal(out, "1%3Btransport%3Dtcp");
    assert_true(sip_uri_escape_user(out, sizeof out, "+7495*12#"));
    assert_string_equal(out, "+7495*12%23");
    assert_true(sip_uri_escape_user(out, sizeof out, "a b\"<>\r\n?:"));
    assert_string_equal(out, "a%20b%22%3C%3E%0D%0A%3F%3A");
    assert_false(sip_uri_escape_user(out, sizeof out, ""));
    assert_string_equal(out, "");
    char tiny[4];
    assert_false(sip_uri_escape_user(tiny, sizeof tiny, "@@"));   /* %40%40 does not fit */
}

static void test_gateway_uri(void **state)
{
    (void)state;
    char out[256];
    assert_true(sip_uri_gateway(out, sizeof out, "sip:192.0.2.1:5070;transport=udp", "5550001"));
    assert_string_equal(out, "sip:5550001@192.0.2.1:5070;transport=udp");
    /* Whatever got past a careless pattern stays one user at the gateway. */
    assert_true(sip_uri_gateway(out, sizeof out, "sip:192.0.2.1", "1@evil.example"));
    assert_string_equal(out, "sip:1%40evil.example@192.0.2.1");
    assert_true(sip_uri_gateway(out, sizeof out, "sip:192.0.2.1", "1;transport=tcp"));
    assert_string_equal(out, "sip:1%3Btransport%3Dtcp@192.0.2.1");
    /* The gateway's own user and headers do not come along. */
    assert_true(sip_uri_gateway(out, sizeof out, "sips:acct:pw@gw.example?X=1", "42"));
    assert_string_equal(out, "sips:42@gw.example");
    assert_false(sip_uri_gateway(out, sizeof out, "tel:+1", "42"));
    assert_false(sip_uri_gateway(out, sizeof out, "sip:192.0.2.1", ""));
}

/* sip_uri_gateway as it was before it kept each gateway's split (sofia
 * parses the gateway URI, the user is put in, url_e encodes, the result is
 * read back): what the split must give, byte for byte. */
static bool ref_sip_type(const url_t *u)
{
    return u && (u->url_type == url_sip || u->url_type == url_sips) && u->url_host && *u->url_host &&
           !u->url_path && !u->url_fragment;
}

static bool ref_gateway(char *out, size_t n, const char *gw_uri, const char *number)
{
    char user[256];
    if (n)
        out[0] = '\0';
    if (!gw_uri || !sip_uri_escape_user(user, sizeof user, number))
        return false;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = url_make(home, gw_uri);
    bool ok = false;
    if (ref_sip_type(u)) {
        u->url_user = user;
        u->url_password = NULL;
        u->url_headers = NULL;
        issize_t len = url_e(out, (isize_t)n, u);
        ok = len > 0 && (size_t)len < n;
        if (ok) {
            out[len] = '\0';
            for (const unsigned char *p = (const unsigned char *)out; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || strchr("<>\"\\", *p))
                    ok = false;
        }
        if (ok) {
            su_home_t back_home[1] = {SU_HOME_INIT(back_home)};
            const url_t *back = url_make(back_home, out);
            ok = ref_sip_type(back) && !back->url_headers;
            su_home_deinit(back_home);
        }
    }
    su_home_deinit(home);
    if (!ok && n)
        out[0] = '\0';
    return ok;
}

/* The kept split gives what the old way gave: for gateway URIs of every
 * shape (more than the splits kept, so they are made again), numbers with
 * every byte value and the escapes, every buffer size around the result. */
static void test_gateway_uri_same_as_parsed(void **state)
{
    (void)state;
    static const char *const gws[] = {
        "sip:192.0.2.1:5070;transport=udp", "sip:192.0.2.1", "sips:acct:pw@gw.example?X=1", "tel:+1",
        "sip:[2001:db8::1]:5060;lr", "sip:gw.example;user=phone;x=%41", "sip:gw.example:5060?Subject=x",
        "sip:gw.example/path", "sip:gw.example#frag", "sip:", "sip:@h", "sip:h;a=\"b\"", "sip:h<x>",
        "SIP:GW.EXAMPLE:5060", "sip:u@h@i", "sip:h;transport=tcp;maddr=192.0.2.9", "http://h/", "sip:h\x01",
        "sip:h%20x", "sip:h:99999", "sip:h;p", "sips:[::1]"};
    static const char *const fixed[] = {"1000", "+15550001", "1@evil.example", "1;transport=tcp", "%41", "%",
                                        "%4", "a b", "*72#", "x'y(z)!~", "-_.", "\x7f", "\xc3\xa9", "1%0D%0A"};
    uint64_t x = 0x2545f4914f6cdd1du;
    unsigned same = 0;
    for (int round = 0; round < 3; round++)
        for (size_t g = 0; g < sizeof gws / sizeof gws[0]; g++)
            for (int k = 0; k < 300; k++) {
                char number[24];
                if (k < (int)(sizeof fixed / sizeof fixed[0])) {
                    snprintf(number, sizeof number, "%s", fixed[k]);
                } else {
                    size_t len = 1 + k % 12;
                    for (size_t i = 0; i < len; i++) {
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        /* mostly digits and URI characters, now and then any byte */
                        number[i] = (x & 7) ? "0123456789+*#%-_.!~'()@;:/?&=$,aZ"[(x >> 8) % 34]
                                            : (char)(1 + (x >> 8) % 255);
                    }
                    number[len] = '\0';
                }
                char want[128], got[128];
                bool w = ref_gateway(want, sizeof want, gws[g], number);
                bool r = sip_uri_gateway(got, sizeof got, gws[g], number);
                if (w != r || strcmp(want, got) != 0)
                    fail_msg("%s + %s: %d \"%s\" vs %d \"%s\"", gws[g], number, w, want, r, got);
                /* every buffer size around the result */
                size_t len = strlen(want);
                for (size_t n = len > 2 ? len - 2 : 1; w && n <= len + 1; n++) {
                    bool ws = ref_gateway(want, n, gws[g], number), rs = sip_uri_gateway(got, n, gws[g], number);
                    assert_int_equal(ws, rs);
                    assert_string_equal(want, got);
                }
                same += w;
            }
    assert_true(same > 5000);
}

static void test_user_at(void **state)
{
    (void)state;
    char out[256];
    assert_true(sip_uri_user_at(out, sizeof out, "101", "127.0.0.1", 0));
    assert_string_equal(out, "sip:101@127.0.0.1");
    assert_true(sip_uri_user_at(out, sizeof out, "200@evil.example", "127.0.0.1", 5060));
    assert_string_equal(out, "sip:200%40evil.example@127.0.0.1:5060");
    assert_false(sip_uri_user_at(out, sizeof out, "101", "bad host", 0));
    assert_false(sip_uri_user_at(out, sizeof out, NULL, "h", 0));
}

static void test_clean_uri(void **state)
{
    (void)state;
    char out[256];
    assert_true(sip_uri_clean(out, sizeof out, "sip:bob@example.com;transport=tcp"));
    assert_string_equal(out, "sip:bob@example.com;transport=tcp");
    /* ?headers would be copied into the request: dropped. */
    assert_true(sip_uri_clean(out, sizeof out, "sip:bob@example.com?Subject=x%0D%0AEvil:1"));
    assert_string_equal(out, "sip:bob@example.com");
    assert_true(sip_uri_clean(out, sizeof out, "sip:a%40b@example.com"));
    assert_string_equal(out, "sip:a%40b@example.com");
    assert_false(sip_uri_clean(out, sizeof out, "sip:bob@h\r\nX: y"));
    assert_false(sip_uri_clean(out, sizeof out, "sip:bob@h>, <sip:evil@x"));
    /* url_e would glue a path to the host: not a SIP URI. */
    assert_false(sip_uri_clean(out, sizeof out, "sip:bob@example.com/x%1D"));
    assert_true(sip_uri_clean(out, sizeof out, "sip:101@127.0.0.1:5062;ob?X-Evil=1"));
    assert_string_equal(out, "sip:101@127.0.0.1:5062;ob");
    assert_false(sip_uri_clean(out, sizeof out, "http://example.com"));
    assert_false(sip_uri_clean(out, sizeof out, "sip:"));
}

/* ---- name-addrs ---- */

static void test_name_addr(void **state)
{
    (void)state;
    char out[512];
    assert_true(sip_uri_name_addr(out, sizeof out, NULL, "sip:1@h"));
    assert_string_equal(out, "<sip:1@h>");
    assert_true(sip_uri_name_addr(out, sizeof out, "Carol Buyer", "sip:1@h"));
    assert_string_equal(out, "\"Carol Buyer\" <sip:1@h>");
    /* A quote ends no string, CR/LF split no header. */
    assert_true(sip_uri_name_addr(out, sizeof out, "Eve\" <sip:x@evil>\r\nX-Evil: 1\\", "sip:1@h"));
    assert_string_equal(out, "\"Eve\\\" <sip:x@evil>  X-Evil: 1\\\\\" <sip:1@h>");
    assert_null(strpbrk(out, "\r\n"));
    /* Only controls: no display name at all. */
    assert_true(sip_uri_name_addr(out, sizeof out, "\r\n\t", "sip:1@h"));
    assert_string_equal(out, "<sip:1@h>");
    /* A long name is cut, never inside a UTF-8 character. */
    char name[400];
    size_t j = 0;
    name[j++] = 'a';
    while (j + 2 < sizeof name) {
        name[j++] = (char)0xC3;
        name[j++] = (char)0xA9;   /* é */
    }
    name[j] = '\0';
    assert_true(sip_uri_name_addr(out, sizeof out, name, "sip:1@h"));
    const char *close = strstr(out, "\" <sip:1@h>");
    assert_non_null(close);
    assert_int_not_equal((unsigned char)close[-1], 0xC3);
    assert_false(sip_uri_name_addr(out, sizeof out, "x", "sip:1@h>\r\nX: y"));
    char small[12];
    assert_false(sip_uri_name_addr(small, sizeof small, "Carol", "sip:1@h"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_number_pattern),
        cmocka_unit_test(test_custom_pattern_is_anchored),
        cmocka_unit_test(test_invalid_pattern_reported_at_its_position),
        cmocka_unit_test(test_escape_user),
        cmocka_unit_test(test_gateway_uri),
        cmocka_unit_test(test_gateway_uri_same_as_parsed),
        cmocka_unit_test(test_user_at),
        cmocka_unit_test(test_clean_uri),
        cmocka_unit_test(test_name_addr),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scn_diags_free(&diags);
    return rc;
}

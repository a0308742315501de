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
        cmocka_unit_test(test_user_at),
        cmocka_unit_test(test_clean_uri),
        cmocka_unit_test(test_name_addr),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scn_diags_free(&diags);
    return rc;
}

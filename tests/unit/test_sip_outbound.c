/* test_sip_outbound.c — RFC 5626 Contact parameters (sip_outbound.c):
 * what a phone sends, and hostile values that must not reach our 200 OK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_outbound.h"

static void test_good(void **state)
{
    (void)state;
    sip_outbound_id id;
    assert_true(sip_outbound_parse("\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"", "1", &id));
    assert_string_equal(id.instance, "urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF");
    assert_int_equal(id.reg_id, 1);
    assert_true(sip_outbound_parse("\"<urn:gsma:imei:35-209900-176148-1>\"", "2147483647", &id));
    assert_int_equal(id.reg_id, 2147483647u);
}

static void test_not_outbound(void **state)
{
    (void)state;
    sip_outbound_id id;
    assert_false(sip_outbound_parse(NULL, "1", &id));                       /* reg-id alone */
    assert_false(sip_outbound_parse("\"<urn:uuid:1>\"", NULL, &id));        /* instance alone */
}

static void test_hostile(void **state)
{
    (void)state;
    sip_outbound_id id;
    const char *bad_instances[] = {
        "<urn:uuid:1>",                  /* not quoted */
        "\"urn:uuid:1\"",                /* no angle brackets */
        "\"<>\"",                        /* empty */
        "\"<urn:uuid:1>\r\nX: y\"",      /* header injection */
        "\"<urn:a\"b>\"",                /* a quote inside */
        "\"<urn:a b>\"",                 /* a space */
        "\"<urn:a>b>\"",                 /* a bracket inside */
        "\"",
    };
    for (size_t i = 0; i < sizeof bad_instances / sizeof bad_instances[0]; i++)
        assert_false(sip_outbound_parse(bad_instances[i], "1", &id));
    char longest[200];
    memset(longest, 'a', sizeof longest);
    memcpy(longest, "\"<", 2);
    memcpy(longest + sizeof longest - 3, ">\"", 3);   /* 195 characters of URN */
    assert_false(sip_outbound_parse(longest, "1", &id));
    const char *bad_ids[] = {"0", "", "-1", "1a", "2147483648", "99999999999", " 1", "1 "};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        assert_false(sip_outbound_parse("\"<urn:uuid:1>\"", bad_ids[i], &id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_not_outbound),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

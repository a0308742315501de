/* test_sip_flood.c — the per-source request limit (settings.sip.flood):
 * the token bucket, one "starts" verdict per episode, sources apart, a
 * table that does not grow under spoofed sources, and which datagrams
 * count. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_flood.h"

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

static void test_bucket(void **state)
{
    (void)state;
    sip_flood *f = sip_flood_new();
    uint32_t a = ip("192.0.2.1");
    /* a burst of 5 passes at once, the 6th is over (once "starts") */
    for (int i = 0; i < 5; i++)
        assert_int_equal(sip_flood_hit(f, a, 1000.0, 10, 5), SIP_FLOOD_OK);
    assert_false(sip_flood_is_over(f, a));
    assert_int_equal(sip_flood_hit(f, a, 1000.0, 10, 5), SIP_FLOOD_STARTS);
    assert_true(sip_flood_is_over(f, a));
    assert_int_equal(sip_flood_hit(f, a, 1000.0, 10, 5), SIP_FLOOD_OVER);
    /* 0.1 s at 10/s refills one request */
    assert_int_equal(sip_flood_hit(f, a, 1000.1, 10, 5), SIP_FLOOD_OK);
    assert_false(sip_flood_is_over(f, a));
    assert_int_equal(sip_flood_hit(f, a, 1000.1, 10, 5), SIP_FLOOD_STARTS);
    /* a long pause refills at most the burst */
    for (int i = 0; i < 5; i++)
        assert_int_equal(sip_flood_hit(f, a, 2000.0, 10, 5), SIP_FLOOD_OK);
    assert_int_equal(sip_flood_hit(f, a, 2000.0, 10, 5), SIP_FLOOD_STARTS);
    sip_flood_free(f);
}

static void test_sources_apart_and_off(void **state)
{
    (void)state;
    sip_flood *f = sip_flood_new();
    uint32_t a = ip("192.0.2.1"), b = ip("192.0.2.2");
    assert_int_equal(sip_flood_hit(f, a, 5.0, 1, 1), SIP_FLOOD_OK);
    assert_int_equal(sip_flood_hit(f, a, 5.0, 1, 1), SIP_FLOOD_STARTS);
    assert_int_equal(sip_flood_hit(f, b, 5.0, 1, 1), SIP_FLOOD_OK);
    assert_false(sip_flood_is_over(f, b));
    /* rate 0: no limit */
    for (int i = 0; i < 100; i++)
        assert_int_equal(sip_flood_hit(f, a, 5.0, 0, 1), SIP_FLOOD_OK);
    sip_flood_free(f);
}

static void test_spoofed_sources_bounded(void **state)
{
    (void)state;
    sip_flood *f = sip_flood_new();
    uint32_t victim = ip("198.51.100.7");
    assert_int_equal(sip_flood_hit(f, victim, 1.0, 1, 1), SIP_FLOOD_OK);
    assert_int_equal(sip_flood_hit(f, victim, 1.0, 1, 1), SIP_FLOOD_STARTS);
    /* a million one-packet sources: the table keeps its size (no
     * allocation here) and each new source gets its full burst */
    for (uint32_t i = 1; i <= 1000000; i++)
        assert_int_equal(sip_flood_hit(f, htonl(0x0a000000u + i), 2.0 + i * 1e-6, 1, 1), SIP_FLOOD_OK);
    sip_flood_free(f);
}

static void test_what_counts(void **state)
{
    (void)state;
    static const char *const counted[] = {"INVITE sip:1@x SIP/2.0\r\n", "REGISTER sip:x SIP/2.0\r\n",
                                          "OPTIONS sip:x SIP/2.0\r\n", "SUBSCRIBE sip:x SIP/2.0\r\n",
                                          /* a MESSAGE starts something: it runs a route */
                                          "MESSAGE sip:555@x SIP/2.0\r\n", "GARBAGE 123", NULL};
    static const char *const passed[] = {"ACK sip:1@x SIP/2.0\r\n", "BYE sip:1@x SIP/2.0\r\n",
                                         "CANCEL sip:1@x SIP/2.0\r\n", "SIP/2.0 200 OK\r\n",
                                         "INFO sip:1@x SIP/2.0\r\n", "\r\n\r\n", NULL};
    for (int i = 0; counted[i]; i++)
        assert_true(sip_flood_counts(counted[i], strlen(counted[i])));
    for (int i = 0; passed[i]; i++)
        assert_false(sip_flood_counts(passed[i], strlen(passed[i])));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_sources_apart_and_off),
        cmocka_unit_test(test_spoofed_sources_bounded),
        cmocka_unit_test(test_what_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

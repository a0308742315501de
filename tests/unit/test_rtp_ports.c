/* test_rtp_ports.c — the free ports of the RTP range (rtp_ports.c, pure):
 * every port handed out once and only from the range, random, the parity
 * asked for first and the other one after, exact exhaustion, ports put
 * back taken again, and ranges that make no sense refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/rtp_ports.h"

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

static void test_bad_ranges(void **state)
{
    (void)state;
    assert_null(rtp_ports_new(0, 10));
    assert_null(rtp_ports_new(10, 9));
    assert_null(rtp_ports_new(65000, 65536));
    rtp_ports *p = rtp_ports_new(65535, 65535);   /* one odd port */
    assert_non_null(p);
    assert_int_equal(rtp_ports_total(p), 1);
    assert_int_equal(rtp_ports_available_even(p), 0);
    assert_int_equal(rtp_ports_take(p, true, 7), 65535);   /* even wanted, odd is what there is */
    assert_int_equal(rtp_ports_take(p, true, 7), -1);
    rtp_ports_free(p);
}

/* Every port of the range once, then none: exhaustion is exact. */
static void test_whole_range_then_exhausted(void **state)
{
    (void)state;
    uint64_t x = 0x1234567;
    rtp_ports *p = rtp_ports_new(30001, 31000);   /* 500 odd, 500 even */
    assert_int_equal(rtp_ports_total(p), 1000);
    assert_int_equal(rtp_ports_available(p), 1000);
    assert_int_equal(rtp_ports_available_even(p), 500);
    static bool seen[1000];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 1000; i++) {
        int port = rtp_ports_take(p, true, rnd(&x));
        assert_true(port >= 30001 && port <= 31000);
        assert_false(seen[port - 30001]);
        seen[port - 30001] = true;
        assert_false(rtp_ports_is_free(p, port));
        /* even ports while there are any, odd ones after */
        assert_int_equal(port % 2, i < 500 ? 0 : 1);
        assert_int_equal(rtp_ports_available(p), (size_t)(999 - i));
    }
    assert_int_equal(rtp_ports_take(p, true, rnd(&x)), -1);
    assert_int_equal(rtp_ports_take(p, false, rnd(&x)), -1);
    /* one back: that one is taken next, whatever the random number */
    rtp_ports_put(p, 30500);
    assert_true(rtp_ports_is_free(p, 30500));
    assert_int_equal(rtp_ports_available(p), 1);
    assert_int_equal(rtp_ports_take(p, false, rnd(&x)), 30500);
    assert_int_equal(rtp_ports_take(p, false, rnd(&x)), -1);
    rtp_ports_free(p);
}

/* A muxing peer's session takes odd ports first: the even ones stay for
 * peers that may send RTCP to port + 1. */
static void test_odd_first_for_muxed(void **state)
{
    (void)state;
    uint64_t x = 99;
    rtp_ports *p = rtp_ports_new(40000, 40009);
    for (int i = 0; i < 5; i++)
        assert_int_equal(rtp_ports_take(p, false, rnd(&x)) % 2, 1);
    assert_int_equal(rtp_ports_available_even(p), 5);
    assert_int_equal(rtp_ports_take(p, false, rnd(&x)) % 2, 0);
    rtp_ports_free(p);
}

/* Putting back what is free or outside the range changes nothing. */
static void test_put_is_idempotent(void **state)
{
    (void)state;
    rtp_ports *p = rtp_ports_new(20000, 20003);
    rtp_ports_put(p, 20001);
    rtp_ports_put(p, 19999);
    rtp_ports_put(p, 20004);
    assert_int_equal(rtp_ports_available(p), 4);
    int a = rtp_ports_take(p, true, 0), b = rtp_ports_take(p, true, 0);
    assert_int_not_equal(a, b);
    rtp_ports_put(p, a);
    rtp_ports_put(p, a);
    assert_int_equal(rtp_ports_available(p), 3);
    assert_int_equal(rtp_ports_available_even(p), 1);
    rtp_ports_free(p);
}

/* Random: 200 ports of 15,000 even ones; sequential allocation gives 199
 * neighbours (2 apart), random ones about 200 * 2 / 15,000 = 0.03 (more
 * than 3: under 1e-6). Two generators' choices differ; the choices spread
 * over the range (each half gets 100 +- 50: p < 1e-12 otherwise). */
static void test_random(void **state)
{
    (void)state;
    uint64_t x = 0xdecafbad, y = 0xfeedface;
    rtp_ports *p = rtp_ports_new(30000, 59999), *q = rtp_ports_new(30000, 59999);
    int prev = -1, neighbours = 0, low = 0, differ = 0;
    for (int i = 0; i < 200; i++) {
        int a = rtp_ports_take(p, true, rnd(&x)), b = rtp_ports_take(q, true, rnd(&y));
        if (prev >= 0 && abs(a - prev) == 2)
            neighbours++;
        prev = a;
        low += a < 45000;
        differ += a != b;
    }
    assert_true(neighbours <= 3);
    assert_true(low >= 50 && low <= 150);
    assert_true(differ >= 190);
    rtp_ports_free(p);
    rtp_ports_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_whole_range_then_exhausted),
        cmocka_unit_test(test_odd_first_for_muxed),
        cmocka_unit_test(test_put_is_idempotent),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_rtp_stats.c — RFC 3550 receive statistics of one RTP stream
 * (src/telephony/sip/rtp_stats.c): packets expected and lost across gaps,
 * late packets, duplicates and the sequence number's wrap; a large jump
 * ignored until the next packet confirms the source restarted; another
 * SSRC starts another stream; the jitter estimate of A.8. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "telephony/sip/rtp_stats.h"

#define SSRC 0x11223344u

static void test_in_order_and_gaps(void **state)
{
    (void)state;
    rtp_rx_stats s;
    rtp_rx_reset(&s);
    assert_int_equal(rtp_rx_expected(&s), 0);
    for (uint16_t q = 1000; q < 1010; q++)
        if (q != 1003 && q != 1004 && q != 1007)
            assert_int_equal(rtp_rx_packet(&s, SSRC, q), RTP_RX_COUNTED);
    assert_int_equal(rtp_rx_expected(&s), 10);
    assert_int_equal(s.received, 7);
    assert_int_equal(rtp_rx_lost(&s), 3);
    /* 1004 arrives late: one fewer lost */
    assert_int_equal(rtp_rx_packet(&s, SSRC, 1004), RTP_RX_COUNTED);
    assert_int_equal(rtp_rx_lost(&s), 2);
    assert_int_equal(rtp_rx_expected(&s), 10);
    /* duplicates count as received (RFC 3550) but loss never goes below 0 */
    for (int i = 0; i < 5; i++)
        rtp_rx_packet(&s, SSRC, 1009);
    assert_int_equal(rtp_rx_lost(&s), 0);
}

static void test_wrap(void **state)
{
    (void)state;
    rtp_rx_stats s;
    rtp_rx_reset(&s);
    for (uint32_t q = 65530; q < 65536 + 6; q++)   /* 65530 .. 65535, 0 .. 5 */
        if (q != 65536 + 1)
            assert_int_equal(rtp_rx_packet(&s, SSRC, (uint16_t)q), RTP_RX_COUNTED);
    assert_int_equal(s.cycles, 1u << 16);
    assert_int_equal(rtp_rx_expected(&s), 12);
    assert_int_equal(rtp_rx_lost(&s), 1);
    /* a late packet from before the wrap changes nothing of the highest */
    assert_int_equal(rtp_rx_packet(&s, SSRC, 65534), RTP_RX_COUNTED);
    assert_int_equal(rtp_rx_expected(&s), 12);
}

static void test_restart_and_new_source(void **state)
{
    (void)state;
    rtp_rx_stats s;
    rtp_rx_reset(&s);
    for (uint16_t q = 10; q < 20; q++)
        rtp_rx_packet(&s, SSRC, q);
    /* a jump of 30000: not counted, unless the next one follows it */
    assert_int_equal(rtp_rx_packet(&s, SSRC, 30000), RTP_RX_IGNORED);
    assert_int_equal(rtp_rx_expected(&s), 10);
    assert_int_equal(rtp_rx_packet(&s, SSRC, 20), RTP_RX_COUNTED);   /* it was a stray */
    assert_int_equal(rtp_rx_packet(&s, SSRC, 40000), RTP_RX_IGNORED);
    assert_int_equal(rtp_rx_packet(&s, SSRC, 40001), RTP_RX_NEW_STREAM);
    assert_int_equal(rtp_rx_lost(&s), 0);   /* the old stream, as it ended */
    rtp_rx_reset(&s);
    assert_int_equal(rtp_rx_packet(&s, SSRC, 40001), RTP_RX_COUNTED);
    assert_int_equal(rtp_rx_expected(&s), 1);
    /* another SSRC (a re-INVITE moved the media) */
    assert_int_equal(rtp_rx_packet(&s, SSRC + 1, 5), RTP_RX_NEW_STREAM);
    /* a small step back is a late packet, not a jump */
    rtp_rx_reset(&s);
    rtp_rx_packet(&s, SSRC, 500);
    rtp_rx_packet(&s, SSRC, 600);
    assert_int_equal(rtp_rx_packet(&s, SSRC, 550), RTP_RX_COUNTED);
    assert_int_equal(rtp_rx_expected(&s), 101);
    assert_int_equal(rtp_rx_lost(&s), 98);
}

static void test_jitter(void **state)
{
    (void)state;
    rtp_rx_stats s;
    rtp_rx_reset(&s);
    assert_true(rtp_rx_jitter_seconds(&s, 8000) < 0);
    /* every 20 ms (160 units) exactly: no jitter, wherever the clocks start */
    uint32_t ts = 0xfffff000u, at = 0x7ffffff0u;
    for (int i = 0; i < 50; i++, ts += 160, at += 160) {
        rtp_rx_packet(&s, SSRC, (uint16_t)i);
        rtp_rx_timing(&s, ts, at);
    }
    assert_true(rtp_rx_jitter_seconds(&s, 8000) == 0);
    /* arrivals alternately 10 ms (80 units) late and on time: |D| = 80
     * each packet, so J converges to 80 units = 10 ms */
    for (int i = 50; i < 400; i++, ts += 160, at += 160) {
        rtp_rx_packet(&s, SSRC, (uint16_t)i);
        rtp_rx_timing(&s, ts, at + (i % 2 ? 80 : 0));
    }
    assert_true(fabs(rtp_rx_jitter_seconds(&s, 8000) - 0.010) < 0.0001);
    /* one packet 100 ms late (the one before was 10 ms late: D = 90 ms)
     * moves it by 1/16 of the difference, no more */
    double before = s.jitter;
    rtp_rx_timing(&s, ts, at + 800);
    assert_true(fabs(s.jitter - (before + (720 - before) / 16.0)) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_and_gaps),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_restart_and_new_source),
        cmocka_unit_test(test_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

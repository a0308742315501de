/* test_rtp_packet.c — the pure RTP parser (src/telephony/sip/rtp_packet.c):
 * the fixed header, CSRCs, header extensions and padding, and everything a
 * hostile packet can say about its own lengths; RFC 4733 event payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/rtp_packet.h"

static const uint8_t base[12] = {0x80, 0x80 | 101, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};

static void test_fixed_header(void **state)
{
    (void)state;
    uint8_t p[16];
    memcpy(p, base, 12);
    memcpy(p + 12, "abcd", 4);
    rtp_hdr h;
    assert_int_equal(rtp_hdr_decode(&h, p, sizeof p), RTP_PKT_OK);
    assert_int_equal(h.pt, 101);
    assert_true(h.marker);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.ts, 0xdeadbeef);
    assert_int_equal(h.ssrc, 0x01020304);
    assert_int_equal(h.cc, 0);
    assert_false(h.ext);
    assert_int_equal(h.hdr_len, 12);
    assert_int_equal(h.payload_len, 4);
    assert_int_equal(h.pad_len, 0);
    /* a header alone is a packet with an empty payload */
    assert_int_equal(rtp_hdr_decode(&h, p, 12), RTP_PKT_OK);
    assert_int_equal(h.payload_len, 0);
}

static void test_short_and_version(void **state)
{
    (void)state;
    uint8_t p[12];
    memcpy(p, base, 12);
    rtp_hdr h;
    assert_int_equal(rtp_hdr_decode(&h, p, 11), RTP_PKT_SHORT);
    assert_int_equal(rtp_hdr_decode(&h, NULL, 0), RTP_PKT_SHORT);
    p[0] = 0x40;   /* version 1 */
    assert_int_equal(rtp_hdr_decode(&h, p, 12), RTP_PKT_VERSION);
    p[0] = 0xc0;   /* version 3 */
    assert_int_equal(rtp_hdr_decode(&h, p, 12), RTP_PKT_VERSION);
}

static void test_csrcs(void **state)
{
    (void)state;
    uint8_t p[12 + 15 * 4 + 3];
    memset(p, 0, sizeof p);
    memcpy(p, base, 12);
    p[0] = 0x80 | 2;   /* two CSRCs */
    rtp_hdr h;
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 8 + 3), RTP_PKT_OK);
    assert_int_equal(h.cc, 2);
    assert_int_equal(h.hdr_len, 20);
    assert_int_equal(h.payload_len, 3);
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 7), RTP_PKT_SHORT);   /* the second CSRC is cut */
    p[0] = 0x80 | 15;  /* fifteen claimed, fourteen there */
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 14 * 4), RTP_PKT_SHORT);
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 15 * 4), RTP_PKT_OK);
}

static void test_extension(void **state)
{
    (void)state;
    uint8_t p[64];
    memset(p, 0, sizeof p);
    memcpy(p, base, 12);
    p[0] = 0x90;                    /* X bit */
    p[12] = 0xbe, p[13] = 0xde;     /* profile */
    p[14] = 0, p[15] = 2;           /* two words */
    rtp_hdr h;
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 4 + 8 + 5), RTP_PKT_OK);
    assert_true(h.ext);
    assert_int_equal(h.hdr_len, 24);
    assert_int_equal(h.payload_len, 5);
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 4 + 7), RTP_PKT_SHORT);   /* words cut */
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 3), RTP_PKT_SHORT);       /* no room for its header */
    p[14] = 0xff, p[15] = 0xff;     /* 65535 words: 256 KB claimed in a 64-byte packet */
    assert_int_equal(rtp_hdr_decode(&h, p, sizeof p), RTP_PKT_SHORT);
    /* CSRCs then an extension */
    memset(p, 0, sizeof p);
    memcpy(p, base, 12);
    p[0] = 0x91;
    p[16 + 3] = 1;
    assert_int_equal(rtp_hdr_decode(&h, p, 12 + 4 + 4 + 4 + 1), RTP_PKT_OK);
    assert_int_equal(h.hdr_len, 24);
    assert_int_equal(h.payload_len, 1);
}

static void test_padding(void **state)
{
    (void)state;
    uint8_t p[32];
    memset(p, 0, sizeof p);
    memcpy(p, base, 12);
    p[0] = 0xa0;                    /* P bit */
    p[31] = 4;                      /* 4 bytes of padding, this one included */
    rtp_hdr h;
    assert_int_equal(rtp_hdr_decode(&h, p, 32), RTP_PKT_OK);
    assert_int_equal(h.pad_len, 4);
    assert_int_equal(h.payload_len, 16);
    assert_int_equal(h.hdr_len + h.payload_len + h.pad_len, 32);
    p[31] = 20;                     /* exactly the whole payload */
    assert_int_equal(rtp_hdr_decode(&h, p, 32), RTP_PKT_OK);
    assert_int_equal(h.payload_len, 0);
    p[31] = 21;                     /* into the header */
    assert_int_equal(rtp_hdr_decode(&h, p, 32), RTP_PKT_PADDING);
    p[31] = 0;                      /* a count that does not count itself */
    assert_int_equal(rtp_hdr_decode(&h, p, 32), RTP_PKT_PADDING);
    p[11] = 1;                      /* a bare header whose padding byte is the SSRC's */
    assert_int_equal(rtp_hdr_decode(&h, p, 12), RTP_PKT_PADDING);
}

static void test_events(void **state)
{
    (void)state;
    const uint8_t five_end[4] = {5, 0x80 | 10, 0x03, 0x20};
    rtp_event e;
    assert_int_equal(rtp_event_decode(&e, five_end, 4), 0);
    assert_int_equal(e.event, 5);
    assert_true(e.end);
    assert_int_equal(e.volume, 10);
    assert_int_equal(e.duration, 800);
    assert_int_equal(rtp_event_digit(&e), '5');
    assert_int_equal(rtp_event_decode(&e, five_end, 3), -1);
    assert_int_equal(rtp_event_decode(&e, NULL, 4), -1);
    const char *keys = "0123456789*#ABCD";
    for (int i = 0; i < 16; i++) {
        uint8_t pl[4] = {(uint8_t)i, 0, 0, 0};
        rtp_event_decode(&e, pl, 4);
        assert_int_equal(rtp_event_digit(&e), keys[i]);
    }
    const uint8_t flash[4] = {16, 0, 0, 0};   /* hook flash: not a key */
    rtp_event_decode(&e, flash, 4);
    assert_int_equal(rtp_event_digit(&e), 0);
    const uint8_t big[4] = {255, 0x7f, 0xff, 0xff};
    rtp_event_decode(&e, big, 4);
    assert_int_equal(rtp_event_digit(&e), 0);
    assert_int_equal(e.volume, 63);
    assert_false(e.end);
}

/* RFC 5761 4: RTCP told from RTP by the second octet (packet types
 * 192-223), so a muxing peer's reports never pass for media. */
static void test_rtcp_demux(void **state)
{
    (void)state;
    uint8_t sr[28] = {0x80, 200, 0, 6};   /* sender report */
    assert_true(rtp_is_rtcp(sr, sizeof sr));
    uint8_t rr[8] = {0x81, 201, 0, 1};    /* receiver report, one block announced */
    assert_true(rtp_is_rtcp(rr, sizeof rr));
    sr[1] = 192;
    assert_true(rtp_is_rtcp(sr, sizeof sr));
    sr[1] = 223;
    assert_true(rtp_is_rtcp(sr, sizeof sr));
    /* RTP: PCMU with and without the marker, a telephone-event with it */
    uint8_t p[16] = {0x80, 0};
    assert_false(rtp_is_rtcp(p, sizeof p));
    p[1] = 0x80;
    assert_false(rtp_is_rtcp(p, sizeof p));
    assert_false(rtp_is_rtcp(base, sizeof base));
    sr[1] = 224;
    assert_false(rtp_is_rtcp(sr, sizeof sr));
    sr[1] = 191;
    assert_false(rtp_is_rtcp(sr, sizeof sr));
    /* not version 2, too short, nothing */
    sr[0] = 0x40, sr[1] = 200;
    assert_false(rtp_is_rtcp(sr, sizeof sr));
    assert_false(rtp_is_rtcp(rr, 1));
    assert_false(rtp_is_rtcp(NULL, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_header), cmocka_unit_test(test_short_and_version),
        cmocka_unit_test(test_csrcs),        cmocka_unit_test(test_extension),
        cmocka_unit_test(test_padding),      cmocka_unit_test(test_events),
        cmocka_unit_test(test_rtcp_demux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

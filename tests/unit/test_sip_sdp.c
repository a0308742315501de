/* test_sip_sdp.c — the SIP driver's SDP: reading offers and answers
 * (codecs, telephone-event, direction, the address), what counts as hold,
 * and our own SDP read back by the same parser. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "telephony/sip/sip_int.h"

static int parse(const char *sdp, sip_media_desc *m, char *err, size_t n)
{
    return sip_sdp_parse(sdp, strlen(sdp), m, err, n);
}

#define BASE "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"

static void test_offer(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 8 0 101\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n",
                           &m, err, sizeof err), 0);
    assert_int_equal(m.npt, 2);
    assert_int_equal(m.pts[0], 8);   /* the offerer's preference order is kept */
    assert_int_equal(m.pts[1], 0);
    assert_int_equal(m.te_pt, 101);
    assert_int_equal(ntohs(m.addr.sin_port), 4000);
    char ip[32];
    inet_ntop(AF_INET, &m.addr.sin_addr, ip, sizeof ip);
    assert_string_equal(ip, "10.0.0.5");
    assert_int_equal(m.mode, SDP_SENDRECV);
    assert_false(sip_sdp_is_hold(&m));
}

static void test_media_level_connection_and_dynamic_pt(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse("v=0\r\no=a 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
                           "m=audio 5000 RTP/AVP 96 0\r\nc=IN IP4 192.0.2.9\r\n"
                           "a=rtpmap:96 telephone-event/8000\r\n",
                           &m, err, sizeof err), 0);
    assert_int_equal(m.te_pt, 96);
    assert_int_equal(m.npt, 1);
    char ip[32];
    inet_ntop(AF_INET, &m.addr.sin_addr, ip, sizeof ip);
    assert_string_equal(ip, "192.0.2.9");
}

static void test_hold_forms(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", &m, err, sizeof err), 0);
    assert_int_equal(m.mode, SDP_SENDONLY);
    assert_true(sip_sdp_is_hold(&m));
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n", &m, err, sizeof err), 0);
    assert_true(sip_sdp_is_hold(&m));
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", &m, err, sizeof err), 0);
    assert_int_equal(m.mode, SDP_RECVONLY);
    assert_false(sip_sdp_is_hold(&m));
    /* RFC 2543 hold: the null address, whatever the direction says */
    assert_int_equal(parse("v=0\r\no=a 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                           "m=audio 4000 RTP/AVP 0\r\n", &m, err, sizeof err), 0);
    assert_true(m.null_addr);
    assert_true(sip_sdp_is_hold(&m));
}

static void test_unusable(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128] = "";
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "PCMU or PCMA"));
    assert_int_equal(parse(BASE "m=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", &m, err, sizeof err), -1);
    assert_int_equal(sip_sdp_parse("", 0, &m, err, sizeof err), -1);
    assert_int_equal(parse("this is not SDP", &m, err, sizeof err), -1);
}

/* Debian's sofia-sip allocates until memory runs out (a minute, ~20 GB) on
 * an m= format that starts with a non-token character: such bodies are
 * refused before it reads them (the alarm fails the test, rather than the
 * machine, if one gets through). Valid m= lines still parse. */
static void test_m_line_sofia_loop(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128] = "";
    static const char *const bad[] = {
        "m=audio 5000 FOO (\r\n", "m=image 5000 udptl t38 \"x\"\r\n", "m=audio 5000 RTP/AVP 0 <\r\n",
        "m=audio 5000 udp a /b\r\n", "m=audio 5000 ZTP/AVP\xa5\xa5 96 8\r\n", "  m=audio 1 X @\r\n",
        /* the port ends at the first non-digit for sofia: "0P" is port 0, proto P */
        "m=video 0P /RTAVP 60\r\n", "m=audio 49217TP /RTCP \tip4gl\r\n", "m=audio 5000/ RTP/AVP 0\r\n",
        "m=audio RTP/AVP 0\r\n", "m=audio 5000\r\n",
    };
    /* blanks after the proto: sofia skips spaces only, and loops on a tab
     * left for the formats; they are dropped before it reads the line */
    static const char *const trailing[] = {"m=audio 5000 RTP/Aiel\t\t\t\r\n", "m=audio 5000 X \t\r\n",
                                           "m=audio 5000 X\t \t\r\n"};
    alarm(5);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sdp[256];
        snprintf(sdp, sizeof sdp, BASE "%s", bad[i]);
        assert_int_equal(parse(sdp, &m, err, sizeof err), -1);
        assert_non_null(strstr(err, "m= line"));
    }
    for (size_t i = 0; i < sizeof trailing / sizeof trailing[0]; i++) {
        char sdp[256];
        snprintf(sdp, sizeof sdp, BASE "%s", trailing[i]);
        assert_int_equal(parse(sdp, &m, err, sizeof err), -1);   /* no usable audio, but an answer */
    }
    /* a NUL inside the body */
    static const char nul[] = BASE "m=audio 4000 RTP/AVP 0\r\n\0a=sendonly\r\n";
    assert_int_equal(sip_sdp_parse(nul, sizeof nul - 1, &m, err, sizeof err), -1);
    alarm(0);
    /* what RFC 4566 allows: tokens, '/' in port and proto, tabs */
    assert_int_equal(parse(BASE "m=audio 4000/2 RTP/AVP 0 8\r\n", &m, err, sizeof err), 0);
    assert_int_equal(parse(BASE "m=image 4002 udptl t38\r\nm=audio 4000 RTP/AVP 8\t0\r\n", &m, err, sizeof err), 0);
    assert_int_equal(m.pts[0], 8);
    assert_int_equal(parse(BASE "m=audio  4000 \tRTP/AVP   8 0 \r\n", &m, err, sizeof err), 0);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0 \t \r\na=sendonly \r\n", &m, err, sizeof err), 0);
    assert_int_equal(m.mode, SDP_SENDONLY);
}

/* Network input: a port that does not fit 16 bits (65536 used to wrap to
 * 0), a multicast or broadcast group, are refused, not sent to. */
static void test_refused_ports_and_groups(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128] = "";
    assert_int_equal(parse(BASE "m=audio 65536 RTP/AVP 0\r\n", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "port"));
    assert_int_equal(parse(BASE "m=audio 65537 RTP/AVP 0\r\n", &m, err, sizeof err), -1);
    assert_int_equal(parse(BASE "m=audio 4294967297 RTP/AVP 0\r\n", &m, err, sizeof err), -1);
    assert_int_equal(parse(BASE "m=audio 65535 RTP/AVP 0\r\n", &m, err, sizeof err), 0);
    assert_int_equal(ntohs(m.addr.sin_port), 65535);
    assert_int_equal(parse(BASE "m=audio 1 RTP/AVP 0\r\n", &m, err, sizeof err), 0);
    static const char *const groups[] = {"224.0.0.1", "239.255.255.250", "224.2.1.1/127",
                                         "255.255.255.255"};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        char sdp[256];
        snprintf(sdp, sizeof sdp,
                 "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                 "m=audio 4000 RTP/AVP 0\r\n", groups[i]);
        err[0] = 0;
        assert_int_equal(parse(sdp, &m, err, sizeof err), -1);
        assert_non_null(strstr(err, "multicast"));
    }
    /* at the media level too */
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 232.1.1.1\r\n", &m, err, sizeof err), -1);
}

static void test_build_reads_back(void **state)
{
    (void)state;
    char buf[512];
    int pts[] = {8, 0};
    size_t n = sip_sdp_build(buf, sizeof buf, "127.0.0.1", 12000, 42, 3, pts, 2, 101, SDP_SENDONLY, false, false, NULL);
    assert_true(n > 0 && n < sizeof buf);
    assert_non_null(strstr(buf, "o=callroute 42 3 IN IP4 127.0.0.1\r\n"));
    assert_non_null(strstr(buf, "m=audio 12000 RTP/AVP 8 0 101\r\n"));
    sip_media_desc m;
    char err[128];
    assert_int_equal(sip_sdp_parse(buf, n, &m, err, sizeof err), 0);
    assert_int_equal(m.npt, 2);
    assert_int_equal(m.pts[0], 8);
    assert_int_equal(m.te_pt, 101);
    assert_int_equal(m.mode, SDP_SENDONLY);
    assert_int_equal(ntohs(m.addr.sin_port), 12000);
    assert_false(m.rtcp_mux);
    assert_null(strstr(buf, "rtcp-mux"));
    /* no telephone-event, answer with one codec */
    n = sip_sdp_build(buf, sizeof buf, "10.1.1.1", 4002, 1, 1, pts + 1, 1, -1, SDP_RECVONLY, false, false, NULL);
    assert_null(strstr(buf, "telephone-event"));
    assert_non_null(strstr(buf, "a=recvonly\r\n"));
}

/* RFC 5761: a=rtcp-mux read from the audio stream we use (not another
 * one's), written in every offer of ours and in an answer only to an offer
 * that has it (RFC 8035). */
static void test_rtcp_mux(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse(BASE "m=audio 4001 RTP/AVP 0\r\na=rtcp-mux\r\na=sendrecv\r\n", &m, err, sizeof err), 0);
    assert_true(m.rtcp_mux);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n", &m, err, sizeof err), 0);
    assert_false(m.rtcp_mux);
    /* session level or on a stream we do not use: not ours */
    assert_int_equal(parse(BASE "a=rtcp-mux\r\nm=audio 4000 RTP/AVP 0\r\n", &m, err, sizeof err), 0);
    assert_false(m.rtcp_mux);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 18\r\na=rtcp-mux\r\n"
                                "m=audio 4002 RTP/AVP 8\r\n", &m, err, sizeof err), 0);
    assert_int_equal(ntohs(m.addr.sin_port), 4002);
    assert_false(m.rtcp_mux);

    /* what we write: offers always, answers as the offer */
    sip_media_desc muxed = {.rtcp_mux = true}, plain = {.rtcp_mux = false};
    assert_true(sip_sdp_rtcp_mux(true, NULL));
    assert_true(sip_sdp_rtcp_mux(true, &plain));
    assert_true(sip_sdp_rtcp_mux(false, &muxed));
    assert_false(sip_sdp_rtcp_mux(false, &plain));
    assert_false(sip_sdp_rtcp_mux(false, NULL));

    char buf[512];
    int pts[] = {0};
    size_t n = sip_sdp_build(buf, sizeof buf, "127.0.0.1", 12001, 1, 1, pts, 1, 101, SDP_SENDRECV, true, false, NULL);
    assert_non_null(strstr(buf, "m=audio 12001 RTP/AVP 0 101\r\n"));
    assert_non_null(strstr(buf, "\r\na=rtcp-mux\r\n"));
    assert_int_equal(sip_sdp_parse(buf, n, &m, err, sizeof err), 0);
    assert_true(m.rtcp_mux);
    assert_int_equal(ntohs(m.addr.sin_port), 12001);
}

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"   /* bytes 0..29 */

/* RTP/SAVP and a=crypto (RFC 4568): supported lines kept in offer order,
 * the rest skipped; our own SDP carries one and reads back the same. */
static void test_srtp_offer_and_build(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse(BASE "m=audio 4000 RTP/SAVP 0\r\n"
                                "a=crypto:1 AEAD_AES_256_GCM inline:" KEY "\r\n"
                                "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" KEY "|2^31\r\n"
                                "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:short\r\n"
                                "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" KEY "\r\n",
                           &m, err, sizeof err), 0);
    assert_true(m.savp);
    assert_int_equal(m.ncrypto, 2);
    assert_int_equal(m.crypto[0].tag, 2);
    assert_int_equal(m.crypto[0].suite, SDES_AES_CM_128_HMAC_SHA1_32);
    assert_int_equal(m.crypto[1].tag, 4);
    assert_int_equal(m.crypto[1].key[29], 29);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\n", &m, err, sizeof err), 0);
    assert_false(m.savp);
    assert_int_equal(m.ncrypto, 0);

    sdes_crypto ours;
    assert_int_equal(sdes_new_key(&ours, 7, SDES_AES_CM_128_HMAC_SHA1_80), 0);
    int pts[] = {0};
    char buf[1024];
    size_t n = sip_sdp_build(buf, sizeof buf, "127.0.0.1", 12000, 1, 1, pts, 1, 101, SDP_SENDRECV,
                             false, true, &ours);
    assert_non_null(strstr(buf, "m=audio 12000 RTP/SAVP 0 101\r\n"));
    assert_non_null(strstr(buf, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"));
    assert_int_equal(sip_sdp_parse(buf, n, &m, err, sizeof err), 0);
    assert_true(m.savp);
    assert_int_equal(m.ncrypto, 1);
    assert_memory_equal(&m.crypto[0], &ours, sizeof ours);
}

/* Found by fuzz_sdp: telephone-event mapped onto PCMU's static type 0
 * (every audio packet would be an event) is ignored; G.711 named twice is
 * one choice. */
static void test_te_on_audio_type_and_repeats(void **state)
{
    (void)state;
    sip_media_desc m;
    char err[128];
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0 8 0 101\r\n"
                                "a=rtpmap:0 telephone-event/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                                "a=rtpmap:8 PCMA/8000\r\n",
                           &m, err, sizeof err), 0);
    assert_int_equal(m.te_pt, -1);
    assert_int_equal(m.npt, 2);   /* PCMA once; PCMU (static 0) once */
    assert_int_not_equal(m.pts[0], m.pts[1]);
}

/* settings.media.srtp's offer/answer rules. */
static void test_srtp_policy(void **state)
{
    (void)state;
    sip_media_desc plain, best_effort, savp, savp_bare;
    char err[128];
    const sdes_crypto *k;
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\n", &plain, err, sizeof err), 0);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/AVP 0\r\n"
                                "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" KEY "\r\n",
                           &best_effort, err, sizeof err), 0);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/SAVP 0\r\n"
                                "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:" KEY "\r\n",
                           &savp, err, sizeof err), 0);
    assert_int_equal(parse(BASE "m=audio 4000 RTP/SAVP 0\r\n"
                                "a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:" KEY "|1:4\r\n",
                           &savp_bare, err, sizeof err), 0);   /* an MKI: nothing we can use */
    /* off: plain answers; crypto beside RTP/AVP ignored; SRTP-only refused */
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OFF, &plain, &k), SIP_SRTP_PLAIN);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OFF, &best_effort, &k), SIP_SRTP_PLAIN);
    assert_null(k);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OFF, &savp, &k), SIP_SRTP_REFUSE);
    /* optional: crypto when offered */
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OPTIONAL, &plain, &k), SIP_SRTP_PLAIN);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OPTIONAL, &best_effort, &k), SIP_SRTP_ON);
    assert_int_equal(k->tag, 3);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OPTIONAL, &savp, &k), SIP_SRTP_ON);
    assert_int_equal(k->suite, SDES_AES_CM_128_HMAC_SHA1_32);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_OPTIONAL, &savp_bare, &k), SIP_SRTP_REFUSE);
    /* required: nothing without crypto */
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_REQUIRED, &plain, &k), SIP_SRTP_REFUSE);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_REQUIRED, &best_effort, &k), SIP_SRTP_ON);
    assert_int_equal(sip_srtp_offer_use(CFG_SRTP_REQUIRED, &savp_bare, &k), SIP_SRTP_REFUSE);

    /* answers to our offer (tag 3, _80) */
    sdes_crypto ours = best_effort.crypto[0];
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_OPTIONAL, &ours, &best_effort, &k), SIP_SRTP_ON);
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_OPTIONAL, &ours, &plain, &k), SIP_SRTP_PLAIN);
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_REQUIRED, &ours, &plain, &k), SIP_SRTP_REFUSE);
    /* another tag or suite than we offered is no answer to it */
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_REQUIRED, &ours, &savp, &k), SIP_SRTP_REFUSE);
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_OFF, NULL, &savp, &k), SIP_SRTP_REFUSE);
    assert_int_equal(sip_srtp_answer_use(CFG_SRTP_OFF, NULL, &best_effort, &k), SIP_SRTP_PLAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_media_level_connection_and_dynamic_pt),
        cmocka_unit_test(test_hold_forms),
        cmocka_unit_test(test_unusable),
        cmocka_unit_test(test_m_line_sofia_loop),
        cmocka_unit_test(test_refused_ports_and_groups),
        cmocka_unit_test(test_build_reads_back),
        cmocka_unit_test(test_rtcp_mux),
        cmocka_unit_test(test_srtp_offer_and_build),
        cmocka_unit_test(test_srtp_policy),
        cmocka_unit_test(test_te_on_audio_type_and_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

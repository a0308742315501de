/* test_sip_rtp.c — the SIP driver's RTP module on real UDP sockets on
 * 127.0.0.1, driven by the su_root loop: the relay (as is, and PCMU→PCMA),
 * symmetric RTP, RFC 4733 events reported once, telephone-events kept
 * from a far side that does not take them, in-band DTMF (spandsp), and
 * our own G.711 stream. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <spandsp.h>

#include "telephony/sip/sip_int.h"

typedef struct owner {
    char digits[32];
    int ndigits;
    size_t samples;
} owner;

static void dtmf_cb(void *o, char d)
{
    owner *w = o;
    if (w->ndigits < 31)
        w->digits[w->ndigits++] = d;
}

static void audio_cb(void *o, const int16_t *pcm, size_t n)
{
    (void)pcm;
    ((owner *)o)->samples += n;
}

static const rtp_owner_ops ops = {.dtmf = dtmf_cb, .audio = audio_cb};

typedef struct fixture {
    loop *l;
    rtp_ctx *c;
    int phone_a, phone_b;          /* the two far ends */
    struct sockaddr_in addr_a, addr_b;
} fixture;

static int udp(struct sockaddr_in *bound)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof *bound;
    getsockname(fd, (struct sockaddr *)bound, &l);
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->l = sip_loop_new();
    f->c = rtp_ctx_new(f->l, "127.0.0.1", 41000 + (getpid() % 500) * 8, 41000 + (getpid() % 500) * 8 + 200);
    assert_non_null(f->c);
    f->phone_a = udp(&f->addr_a);
    f->phone_b = udp(&f->addr_b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close(f->phone_a);
    close(f->phone_b);
    rtp_ctx_free(f->c);
    loop_destroy(f->l);
    free(f);
    return 0;
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

/* Runs the loop for SECONDS (packets sent before are served). */
static void spin(fixture *f, double seconds)
{
    loop_timer_start(f->l, seconds, stop_cb, NULL);
    loop_run(f->l);
}

static void send_to(int fd, rtp_sess *s, const uint8_t *pkt, size_t n)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)rtp_local_port(s))};
    assert_int_equal(sendto(fd, pkt, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
}

static size_t rtp_pkt(uint8_t *p, int pt, uint16_t seq, uint32_t ts, const uint8_t *pl, size_t n)
{
    p[0] = 0x80;
    p[1] = (uint8_t)pt;
    p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24), p[5] = (uint8_t)(ts >> 16), p[6] = (uint8_t)(ts >> 8), p[7] = (uint8_t)ts;
    memset(p + 8, 0x11, 4);
    memcpy(p + 12, pl, n);
    return 12 + n;
}

static void test_relay_and_transcode(void **state)
{
    fixture *f = *state;
    owner oa = {0}, ob = {0};
    rtp_sess *a = rtp_open(f->c, &ops, &oa), *b = rtp_open(f->c, &ops, &ob);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(rtp_local_port(a) % 2, 0);
    rtp_set_remote(a, &f->addr_a, 0, 101);
    rtp_set_remote(b, &f->addr_b, 0, 101);
    rtp_set_relay(a, b);
    rtp_set_relay(b, a);

    uint8_t pl[160], pkt[200], got[300];
    for (int i = 0; i < 160; i++)
        pl[i] = linear_to_ulaw(i * 100 - 8000);
    size_t n = rtp_pkt(pkt, 0, 7, 1000, pl, 160);
    send_to(f->phone_a, a, pkt, n);
    spin(f, 0.05);
    assert_int_equal(recv(f->phone_b, got, sizeof got, 0), (ssize_t)n);
    assert_memory_equal(got, pkt, n);   /* same codec: relayed untouched */

    /* b's far end speaks PCMA: the payload is transcoded, the PT rewritten */
    rtp_set_remote(b, &f->addr_b, 8, -1);
    send_to(f->phone_a, a, pkt, n);
    spin(f, 0.05);
    assert_int_equal(recv(f->phone_b, got, sizeof got, 0), (ssize_t)n);
    assert_int_equal(got[1] & 0x7f, 8);
    for (int i = 0; i < 160; i++)
        assert_int_equal(got[12 + i], ulaw_to_alaw(pl[i]));

    /* and back the other way, from b's far end to a's */
    send_to(f->phone_b, b, got, n);
    spin(f, 0.05);
    uint8_t back[300];
    assert_int_equal(recv(f->phone_a, back, sizeof back, 0), (ssize_t)n);
    assert_int_equal(back[1] & 0x7f, 0);
    unsigned long rx, tx;
    rtp_counters(b, &rx, &tx);
    assert_int_equal(rx, 1);
    assert_int_equal(tx, 2);
    rtp_close(a);
    rtp_close(b);
}

static void test_rfc4733_once_and_not_relayed_without_te(void **state)
{
    fixture *f = *state;
    owner oa = {0}, ob = {0};
    rtp_sess *a = rtp_open(f->c, &ops, &oa), *b = rtp_open(f->c, &ops, &ob);
    rtp_set_remote(a, &f->addr_a, 0, 101);
    rtp_set_remote(b, &f->addr_b, 0, -1);   /* b's far end takes no telephone-events */
    rtp_set_relay(a, b);
    uint8_t pkt[64];
    /* digit 5: start, continuation, three end packets: one event */
    for (int i = 0; i < 5; i++) {
        uint8_t ev[4] = {5, (uint8_t)(i >= 2 ? 0x8a : 0x0a), 0, (uint8_t)(160 * (i + 1))};
        send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 101, (uint16_t)(10 + i), 5000, ev, 4));
    }
    /* then '#' (11) with a new timestamp */
    uint8_t ev2[4] = {11, 0x8a, 0, 160};
    send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 101, 20, 9000, ev2, 4));
    spin(f, 0.05);
    assert_int_equal(oa.ndigits, 2);
    assert_memory_equal(oa.digits, "5#", 2);
    uint8_t got[64];
    struct timeval tv = {.tv_usec = 50000};
    setsockopt(f->phone_b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_true(recv(f->phone_b, got, sizeof got, 0) < 0);   /* nothing relayed to b */
    rtp_close(a);
    rtp_close(b);
}

static void test_inband_dtmf_and_own_stream(void **state)
{
    fixture *f = *state;
    owner oa = {0};
    rtp_sess *a = rtp_open(f->c, &ops, &oa);
    rtp_set_remote(a, &f->addr_a, 0, -1);
    rtp_inband_dtmf(a, true);
    rtp_want_audio(a, true);
    /* the far phone sends the tones of "73" as PCMU (spandsp's generator) */
    dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
    dtmf_tx_put(tx, "73", 2);
    int16_t pcm[160];
    uint8_t pl[160], pkt[200];
    for (int k = 0; k < 30; k++) {
        int n = dtmf_tx(tx, pcm, 160);
        for (int i = n; i < 160; i++)
            pcm[i] = 0;
        for (int i = 0; i < 160; i++)
            pl[i] = linear_to_ulaw(pcm[i]);
        send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 0, (uint16_t)k, (uint32_t)(k * 160), pl, 160));
        spin(f, 0.002);
    }
    dtmf_tx_free(tx);
    spin(f, 0.05);
    assert_int_equal(oa.ndigits, 2);
    assert_memory_equal(oa.digits, "73", 2);
    assert_int_equal(oa.samples, 30 * 160);

    /* our own stream: PCMU, 160 bytes per packet, our timestamps */
    for (int i = 0; i < 160; i++)
        pcm[i] = (int16_t)(i * 50);
    rtp_send_pcm(a, pcm, 160);
    rtp_send_pcm(a, pcm, 160);
    uint8_t got[300], got2[300];
    assert_int_equal(recv(f->phone_a, got, sizeof got, 0), 172);
    assert_int_equal(recv(f->phone_a, got2, sizeof got2, 0), 172);
    assert_int_equal(got[1] & 0x7f, 0);
    assert_int_equal(got[12 + 10], linear_to_ulaw(500));
    uint32_t t1 = ntohl(*(uint32_t *)(got + 4)), t2 = ntohl(*(uint32_t *)(got2 + 4));
    assert_int_equal(t2 - t1, 160);
    rtp_close(a);
}

static void test_symmetric_rtp_latch_and_moves(void **state)
{
    fixture *f = *state;
    owner oa = {0}, ob = {0};
    rtp_sess *a = rtp_open(f->c, &ops, &oa), *b = rtp_open(f->c, &ops, &ob);
    /* b's SDP names a's phone's address, but the packets come from phone_b (NAT) */
    rtp_set_remote(b, &f->addr_a, 0, -1);
    rtp_set_remote(a, &f->addr_a, 0, -1);
    rtp_set_relay(a, b);
    uint8_t pl[160] = {0}, pkt[200], got[300];
    send_to(f->phone_b, b, pkt, rtp_pkt(pkt, 0, 1, 1, pl, 160));
    spin(f, 0.02);
    send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 0, 2, 161, pl, 160));
    spin(f, 0.05);
    assert_int_equal(recv(f->phone_b, got, sizeof got, 0), 172);   /* sent where b's packets come from */
    /* the same SDP again (a hold, a refresh) keeps the latch */
    rtp_set_remote(b, &f->addr_a, 0, -1);
    send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 0, 3, 321, pl, 160));
    spin(f, 0.05);
    assert_int_equal(recv(f->phone_b, got, sizeof got, 0), 172);
    /* a new address in the SDP (the media moved) wins over the latch */
    struct sockaddr_in addr_c;
    int phone_c = udp(&addr_c);
    rtp_set_remote(b, &addr_c, 0, -1);
    send_to(f->phone_a, a, pkt, rtp_pkt(pkt, 0, 4, 481, pl, 160));
    spin(f, 0.05);
    assert_int_equal(recv(phone_c, got, sizeof got, 0), 172);
    close(phone_c);
    rtp_close(a);
    rtp_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relay_and_transcode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc4733_once_and_not_relayed_without_te, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inband_dtmf_and_own_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symmetric_rtp_latch_and_moves, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

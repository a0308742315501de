/* test_sip_dtmf_body.c — the digit of a SIP INFO body
 * (src/telephony/sip/sip_dtmf_body.c): application/dtmf-relay and
 * application/dtmf as phones send them, and bodies a hostile or broken
 * peer sends (no digit, a digit that is none, bodies cut short, NULs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_dtmf_body.h"

static char relay(const char *body) { return sip_dtmf_body_digit("application/dtmf-relay", body, strlen(body)); }
static char plain(const char *body) { return sip_dtmf_body_digit("application/dtmf", body, strlen(body)); }

static void test_relay(void **state)
{
    (void)state;
    assert_int_equal(relay("Signal=5\r\nDuration=160\r\n"), '5');
    assert_int_equal(relay("Signal=*\r\nDuration=100\r\n"), '*');
    assert_int_equal(relay("Signal=#\r\n"), '#');
    assert_int_equal(relay("Signal=0"), '0');
    assert_int_equal(relay("signal=9\r\n"), '9');                  /* any case */
    assert_int_equal(relay("SIGNAL= 7\r\n"), '7');                 /* spaces after '=' (VegaStream) */
    assert_int_equal(relay("Duration=250\r\nSignal=3\r\n"), '3');  /* any order */
    assert_int_equal(relay("Signal=a\r\n"), 'A');                  /* A-D in any case */
    assert_int_equal(relay("Signal=D\r\n"), 'D');
    assert_int_equal(sip_dtmf_body_digit("Application/DTMF-Relay", "Signal=4", 8), '4');
    assert_int_equal(relay("Signal=\t6\r\n"), '6');
}

/* The RFC 4733 event number instead of the character, as some gateways
 * send it and Asterisk and FreeSWITCH read it: 10 is *, 11 #, 12-15 A-D. */
static void test_event_numbers(void **state)
{
    (void)state;
    assert_int_equal(relay("Signal=10\r\nDuration=160\r\n"), '*');
    assert_int_equal(relay("Signal=11\r\n"), '#');
    assert_int_equal(relay("Signal=12"), 'A');
    assert_int_equal(relay("Signal=15"), 'D');
    assert_int_equal(relay("Signal=05"), '5');
    assert_int_equal(relay("Signal=16\r\n"), 0);     /* flash: no digit */
    assert_int_equal(relay("Signal=17"), 0);
    assert_int_equal(relay("Signal=99"), 0);
    assert_int_equal(relay("Signal=100"), 0);
    assert_int_equal(relay("Signal=4294967307"), 0);  /* no wrap to 11 */
    assert_int_equal(plain("10"), '*');
    assert_int_equal(plain("11\r\n"), '#');
    assert_int_equal(plain(" 13"), 'B');
    assert_int_equal(plain("7\r\n"), '7');
    /* the number ends where the body does */
    assert_int_equal(sip_dtmf_body_digit("application/dtmf", "11", 1), '1');
    assert_int_equal(sip_dtmf_body_digit("application/dtmf-relay", "Signal=111", 9), '#');
}

static void test_plain(void **state)
{
    (void)state;
    assert_int_equal(plain("5"), '5');
    assert_int_equal(plain("#\r\n"), '#');
    assert_int_equal(plain("\r\n  *"), '*');
    assert_int_equal(plain("b"), 'B');
    assert_int_equal(sip_dtmf_body_digit("APPLICATION/DTMF", "8", 1), '8');
}

static void test_no_digit(void **state)
{
    (void)state;
    assert_int_equal(relay(""), 0);
    assert_int_equal(relay("Duration=160\r\n"), 0);
    assert_int_equal(relay("Signal="), 0);             /* cut short */
    assert_int_equal(relay("Signal=    "), 0);
    assert_int_equal(relay("Signal=E\r\n"), 0);        /* not a DTMF digit */
    assert_int_equal(relay("Signal=\r\n5"), 0);
    assert_int_equal(relay("Signal=%35"), 0);          /* no escapes in a body */
    assert_int_equal(plain(""), 0);
    assert_int_equal(plain(" \r\n"), 0);
    assert_int_equal(plain("x5"), 0);
    assert_int_equal(plain("\x01"), 0);
    /* other types, or none */
    assert_int_equal(sip_dtmf_body_digit("text/plain", "Signal=5", 8), 0);
    assert_int_equal(sip_dtmf_body_digit("application/dtmf-relayx", "Signal=5", 8), 0);
    assert_int_equal(sip_dtmf_body_digit("application/sdp", "5", 1), 0);
    assert_int_equal(sip_dtmf_body_digit(NULL, "5", 1), 0);
    assert_int_equal(sip_dtmf_body_digit("application/dtmf", NULL, 0), 0);
}

static void test_length_is_the_body(void **state)
{
    (void)state;
    /* LEN bounds the body: nothing past it is read (ASan checks: the
     * copies are exactly LEN bytes, not NUL-terminated) */
    static const char *const bodies[] = {"Signal=5", "Signal=", "Signa", "5", "Signal=  "};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        size_t n = strlen(bodies[i]);
        char *b = malloc(n ? n : 1);
        memcpy(b, bodies[i], n);
        (void)sip_dtmf_body_digit("application/dtmf-relay", b, n);
        (void)sip_dtmf_body_digit("application/dtmf", b, n);
        free(b);
    }
    assert_int_equal(sip_dtmf_body_digit("application/dtmf-relay", "Signal=5", 7), 0);
    assert_int_equal(sip_dtmf_body_digit("application/dtmf", "  5", 2), 0);
    /* a NUL inside the body is a byte like any other */
    assert_int_equal(sip_dtmf_body_digit("application/dtmf-relay", "X=1\0\r\nSignal=6", 15), '6');
    assert_int_equal(sip_dtmf_body_digit("application/dtmf", "\0" "5", 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_event_numbers),
        cmocka_unit_test(test_no_digit),
        cmocka_unit_test(test_length_is_the_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

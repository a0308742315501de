/* test_sip_peek.c — what a SIP datagram is from its first bytes
 * (src/telephony/sip/sip_peek.c), as the receive filter counts it for
 * GET /metrics: known methods, anything else as "other", status codes
 * 100-699 only, keep-alives not counted; never a read past the bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_peek.h"

/* The bytes of S copied to a buffer of exactly their size (ASan sees any
 * read past them). */
static sip_peek_kind peek(const char *s, sip_peek_method *m, int *code)
{
    size_t n = strlen(s);
    char *buf = malloc(n ? n : 1);
    memcpy(buf, s, n);
    *m = (sip_peek_method)-1;
    *code = -1;
    sip_peek_kind k = sip_peek(buf, n, m, code);
    free(buf);
    return k;
}

static void test_requests(void **state)
{
    (void)state;
    sip_peek_method m;
    int code;
    assert_int_equal(peek("INVITE sip:100@192.0.2.1 SIP/2.0\r\nVia: x\r\n\r\n", &m, &code), SIP_PEEK_REQUEST);
    assert_int_equal(m, SIP_PM_INVITE);
    assert_int_equal(peek("ACK sip:a SIP/2.0\r\n", &m, &code), SIP_PEEK_REQUEST);
    assert_int_equal(m, SIP_PM_ACK);
    assert_int_equal(peek("REGISTER sip:x SIP/2.0", &m, &code), SIP_PEEK_REQUEST);
    assert_int_equal(m, SIP_PM_REGISTER);
    assert_int_equal(peek("PUBLISH ", &m, &code), SIP_PEEK_REQUEST);
    assert_int_equal(m, SIP_PM_PUBLISH);
    for (int i = 0; i < SIP_PM_COUNT; i++)
        assert_non_null(sip_peek_method_names[i]);
    assert_string_equal(sip_peek_method_names[SIP_PM_INVITE], "INVITE");
    assert_string_equal(sip_peek_method_names[SIP_PM_OTHER], "other");
}

static void test_other(void **state)
{
    (void)state;
    sip_peek_method m;
    int code;
    /* methods are case-sensitive; a prefix or a method alone is not one */
    const char *others[] = {"invite sip:a SIP/2.0", "INVITEX sip:a SIP/2.0", "INVITE", "INVITE\tsip:a",
                            "FOO sip:a SIP/2.0",    "\x16\x03\x01 tls hello", "GET / HTTP/1.1",
                            "SIP/2.0 099 Low",      "SIP/2.0 700 High",      "SIP/2.0 2x0 No",
                            "SIP/2.0 2000 Long",    "SIP/3.0 200 OK",        "SIP/2.0 20",
                            "SIP/2.0200 OK"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_int_equal(peek(others[i], &m, &code), SIP_PEEK_REQUEST);
        assert_int_equal(m, SIP_PM_OTHER);
    }
}

static void test_responses(void **state)
{
    (void)state;
    sip_peek_method m;
    int code;
    assert_int_equal(peek("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n", &m, &code), SIP_PEEK_RESPONSE);
    assert_int_equal(code, 200);
    assert_int_equal(peek("SIP/2.0 100 Trying", &m, &code), SIP_PEEK_RESPONSE);
    assert_int_equal(code, 100);
    assert_int_equal(peek("SIP/2.0 699 \r\n", &m, &code), SIP_PEEK_RESPONSE);
    assert_int_equal(code, 699);
    assert_int_equal(peek("SIP/2.0 486", &m, &code), SIP_PEEK_RESPONSE);   /* no reason phrase */
    assert_int_equal(code, 486);
    assert_int_equal(peek("sip/2.0 180 Ringing", &m, &code), SIP_PEEK_RESPONSE);   /* version: any case */
    assert_int_equal(code, 180);
}

static void test_keepalives(void **state)
{
    (void)state;
    sip_peek_method m;
    int code;
    assert_int_equal(peek("", &m, &code), SIP_PEEK_NOTHING);
    assert_int_equal(peek("\r\n\r\n", &m, &code), SIP_PEEK_NOTHING);
    assert_int_equal(peek("\r\n", &m, &code), SIP_PEEK_NOTHING);
    assert_int_equal(peek(" \t", &m, &code), SIP_PEEK_NOTHING);
    assert_int_equal(m, (sip_peek_method)-1);   /* untouched */
    assert_int_equal(code, -1);
    unsigned char nul[4] = {0, 0, 0, 0};
    assert_int_equal(sip_peek(nul, sizeof nul, &m, &code), SIP_PEEK_REQUEST);
    assert_int_equal(m, SIP_PM_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_other),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_keepalives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

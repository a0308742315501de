/* test_sip_sdes.c — RFC 4568 a=crypto lines (sip_sdes.c): what we take,
 * what is unsupported (an MKI, several keys, session parameters, other
 * suites) and what is malformed (hostile SDP), and our own lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_sdes.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"   /* bytes 0..29 */

static sdes_result parse(const char *s, sdes_crypto *c) { return sdes_parse(s, strlen(s), c); }

static void test_supported(void **state)
{
    (void)state;
    sdes_crypto c;
    assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY, &c), SDES_OK);
    assert_int_equal(c.tag, 1);
    assert_int_equal(c.suite, SDES_AES_CM_128_HMAC_SHA1_80);
    for (int i = 0; i < SDES_KEY_LEN; i++)
        assert_int_equal(c.key[i], i);
    assert_int_equal(parse("123456789\tAES_CM_128_HMAC_SHA1_32  inline:" KEY "|2^31", &c), SDES_OK);
    assert_int_equal(c.tag, 123456789);
    assert_int_equal(c.suite, SDES_AES_CM_128_HMAC_SHA1_32);
    assert_int_equal(parse("2 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|1048576", &c), SDES_OK);
}

static void test_unsupported(void **state)
{
    (void)state;
    sdes_crypto c;
    assert_int_equal(parse("1 AEAD_AES_256_GCM inline:" KEY, &c), SDES_UNSUPPORTED);
    assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|2^20|1:4", &c), SDES_UNSUPPORTED);
    assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|1:4", &c), SDES_UNSUPPORTED);
    assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY ";inline:" KEY, &c), SDES_UNSUPPORTED);
    assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY " UNENCRYPTED_SRTP", &c), SDES_UNSUPPORTED);
}

static void test_malformed(void **state)
{
    (void)state;
    sdes_crypto c;
    const char *bad[] = {
        "",
        "AES_CM_128_HMAC_SHA1_80 inline:" KEY,               /* no tag */
        "0 AES_CM_128_HMAC_SHA1_80 inline:" KEY,             /* tag 0 */
        "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" KEY,    /* 10 digits */
        "1x AES_CM_128_HMAC_SHA1_80 inline:" KEY,
        "1 AES_CM_128_HMAC_SHA1_80",                         /* no key */
        "1 AES_CM_128_HMAC_SHA1_80 ",
        "1 AES_CM_128_HMAC_SHA1_80 uri:" KEY,                /* only inline exists */
        "1 AES_CM_128_HMAC_SHA1_80 inline:",
        "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka",   /* 27 bytes */
        "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "AAAA",     /* 33 bytes */
        "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx=d",
        "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx*d",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|",       /* empty lifetime */
        "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|2^",
        "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY "|x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(bad[i], &c), SDES_MALFORMED);
    /* not NUL-terminated: only N bytes are read */
    char buf[] = "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY;
    assert_int_equal(sdes_parse(buf, strlen(buf) - 1, &c), SDES_MALFORMED);
}

static void test_ours(void **state)
{
    (void)state;
    sdes_crypto a, b, back;
    assert_int_equal(sdes_new_key(&a, 1, SDES_AES_CM_128_HMAC_SHA1_80), 0);
    assert_int_equal(sdes_new_key(&b, 1, SDES_AES_CM_128_HMAC_SHA1_80), 0);
    assert_memory_not_equal(a.key, b.key, SDES_KEY_LEN);   /* random, 2^-240 to fail */
    char line[128];
    size_t n = sdes_format(line, sizeof line, &a);
    assert_int_equal(n, strlen("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\r\n") + 40);
    assert_int_equal(sdes_parse(line + 9, n - 11, &back), SDES_OK);
    assert_memory_equal(&back, &a, sizeof a);
    assert_int_equal(sdes_format(line, 20, &a), 0);   /* no room: nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

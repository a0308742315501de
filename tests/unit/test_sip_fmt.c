/* test_sip_fmt.c — sip_fmt_simple writes what libc's vsnprintf writes for
 * the formats it takes (sofia's request line, status line, CSeq, numbers,
 * and random mixes of literal text, %s, %u, %lu, %03u), at every buffer
 * size, and refuses every other format and a NULL string without writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "telephony/sip/sip_fmt.h"

static int ours(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = sip_fmt_simple(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static int libc(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Both at every size from 0 to past the result; the bytes after the
 * written ones untouched in both. */
#define SAME(fmt, ...)                                                                     \
    do {                                                                                   \
        char a[1100], b[1100];                                                             \
        int full = libc(NULL, 0, fmt, __VA_ARGS__);                                        \
        for (size_t size = 0; size <= (size_t)full + 2 && size <= sizeof a; size++) {      \
            memset(a, '#', sizeof a);                                                      \
            memset(b, '#', sizeof b);                                                      \
            int na = ours(a, size, fmt, __VA_ARGS__);                                      \
            int nb = libc(b, size, fmt, __VA_ARGS__);                                      \
            assert_int_equal(na, nb);                                                      \
            assert_memory_equal(a, b, sizeof a);                                           \
        }                                                                                  \
    } while (0)

static const char *const strings[] = {"", "a", "INVITE", "SIP/2.0", "sip:", "alice", "@", "127.0.0.1",
                                      ":", "5060", ";transport=udp", "Ringing", "%s%u", "\xff\x01 x"};

static void test_sofia_formats(void **state)
{
    (void)state;
    /* sofia's request line: "%s " URL_FORMAT_STRING " %s" CRLF */
    SAME("%s %s%s%s%s%s%s%s%s%s%s%s%s%s%s %s\r\n", "INVITE", "sip:", "", "", "", "+15551234567", "@", "",
         "127.0.0.1", ":", "5080", "", "", "", "", "SIP/2.0");
    for (unsigned st = 0; st < 1000; st += 7)
        SAME("%s %03u %s\r\n", "SIP/2.0", st, "Ringing");
    SAME("%u %s", 4294967295u, "BYE");
    SAME("%u %s", 0u, "ACK");
    SAME("%lu", 0ul);
    SAME("%lu", 18446744073709551615ul);
    SAME("%lu", 1800ul);
}

static void test_random_mixes(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    for (int i = 0; i < 20000; i++) {
        /* four conversions of random kinds between literal text */
        char fmt[64];
        size_t n = 0;
        int kind[4];
        for (int c = 0; c < 4; c++) {
            if (NEXT() % 2)
                fmt[n++] = "x: ;%"[NEXT() % 4];
            kind[c] = (int)(NEXT() % 4);
            const char *conv = (const char *[]){"%s", "%u", "%lu", "%03u"}[kind[c]];
            memcpy(fmt + n, conv, strlen(conv));
            n += strlen(conv);
        }
        fmt[n] = '\0';
        if (strstr(fmt, "%%") || strstr(fmt, "%x") || strstr(fmt, "% ") || strstr(fmt, "%:") || strstr(fmt, "%;"))
            continue;   /* a literal '%' is another conversion: refused below */
        /* the arguments: each slot read as its kind */
        uint64_t v[4];
        const char *s[4];
        for (int c = 0; c < 4; c++) {
            uint64_t shift = NEXT() % 64;
            v[c] = NEXT() >> shift;
            s[c] = strings[NEXT() % (sizeof strings / sizeof strings[0])];
        }
#define ARG(c) kind[c] == 0 ? (uintptr_t)s[c] : kind[c] == 2 ? (uintptr_t)v[c] : (uintptr_t)(unsigned)v[c]
        /* every kind passes in a 64-bit register slot: give each its own */
        char a[1100], b[1100];
        uintptr_t a0 = ARG(0), a1 = ARG(1), a2 = ARG(2), a3 = ARG(3);
        int full = libc(NULL, 0, fmt, a0, a1, a2, a3);
        for (size_t size = 0; size <= (size_t)full + 1; size++) {
            memset(a, '#', sizeof a);
            memset(b, '#', sizeof b);
            assert_int_equal(ours(a, size, fmt, a0, a1, a2, a3), libc(b, size, fmt, a0, a1, a2, a3));
            assert_memory_equal(a, b, sizeof a);
        }
    }
}

static void test_refused_untouched(void **state)
{
    (void)state;
    static const char *const other[] = {"%d", "%x", "%5u", "%lld", "%%", "%.3s", "%-s", "%c", "%p", "%zu", "%"};
    char buf[32];
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        memset(buf, '#', sizeof buf);
        assert_int_equal(ours(buf, sizeof buf, other[i], 1u), -1);
        assert_true(buf[0] == '#');
    }
    memset(buf, '#', sizeof buf);
    assert_int_equal(ours(buf, sizeof buf, "%u %s", 1u, (const char *)NULL), -1);
    assert_true(buf[0] == '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sofia_formats),
        cmocka_unit_test(test_random_mixes),
        cmocka_unit_test(test_refused_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_sip_numeric_ai.c — sip_numeric_addrinfo answers as glibc's
 * getaddrinfo does: for every numeric host, port and hints it takes, the
 * same single entry (flags, family, socket type, protocol, address bytes,
 * no canonical name), freed by libc's freeaddrinfo; everything else (names,
 * service names, other socket types and flags) is left to libc. sofia's
 * own case (tport_resolve: a numeric Via host, a port, SOCK_DGRAM/UDP) is
 * answered here. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "telephony/sip/sip_numeric_ai.h"

/* Compare ours with libc's for one input; returns 1 when ours answered. */
static int same_as_libc(const char *node, const char *service, const struct addrinfo *hints)
{
    struct addrinfo *ours = NULL;
    if (sip_numeric_addrinfo(node, service, hints, &ours) < 0)
        return 0;
    struct addrinfo *libc = NULL;
    int rc = getaddrinfo(node, service, hints, &libc);
    if (rc != 0)
        fail_msg("libc refused %s:%s (%s), ours answered", node, service ? service : "(null)", gai_strerror(rc));
    assert_non_null(libc);
    assert_null(libc->ai_next);
    assert_null(ours->ai_next);
    assert_null(ours->ai_canonname);
    assert_null(libc->ai_canonname);
    assert_int_equal(ours->ai_flags, libc->ai_flags);
    assert_int_equal(ours->ai_family, libc->ai_family);
    assert_int_equal(ours->ai_socktype, libc->ai_socktype);
    assert_int_equal(ours->ai_protocol, libc->ai_protocol);
    assert_int_equal(ours->ai_addrlen, libc->ai_addrlen);
    if (memcmp(ours->ai_addr, libc->ai_addr, libc->ai_addrlen) != 0)
        fail_msg("address of %s:%s differs", node, service ? service : "(null)");
    freeaddrinfo(libc);
    freeaddrinfo(ours);   /* libc's free: the block must be one allocation */
    return 1;
}

static const int socktypes[][2] = {
    {SOCK_DGRAM, 0}, {SOCK_DGRAM, IPPROTO_UDP}, {SOCK_STREAM, 0}, {SOCK_STREAM, IPPROTO_TCP},
    {SOCK_DGRAM, IPPROTO_TCP}, {SOCK_STREAM, IPPROTO_UDP}, {0, 0}, {SOCK_RAW, 0}, {SOCK_SEQPACKET, 0},
};
static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
static const int flag_sets[] = {0, AI_NUMERICHOST, AI_NUMERICSERV, AI_NUMERICHOST | AI_NUMERICSERV,
                                AI_CANONNAME, AI_ADDRCONFIG, AI_V4MAPPED | AI_ALL, AI_PASSIVE};

/* NODE and SERVICE under every hints combination; counts answers. */
static unsigned every_hints(const char *node, const char *service)
{
    unsigned answered = 0;
    for (size_t s = 0; s < sizeof socktypes / sizeof socktypes[0]; s++)
        for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
            for (size_t g = 0; g < sizeof flag_sets / sizeof flag_sets[0]; g++) {
                struct addrinfo h = {.ai_flags = flag_sets[g], .ai_family = families[f],
                                     .ai_socktype = socktypes[s][0], .ai_protocol = socktypes[s][1]};
                answered += (unsigned)same_as_libc(node, service, &h);
            }
    return answered;
}

static void test_sofia_case_answered(void **state)
{
    (void)state;
    /* tport_resolve's hints for UDP: the transport's socket type and protocol */
    struct addrinfo h = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP};
    assert_int_equal(same_as_libc("127.0.0.1", "5060", &h), 1);
    assert_int_equal(same_as_libc("::1", "5061", &h), 1);
    assert_int_equal(same_as_libc("2001:db8::7", "0", &h), 1);
    h.ai_socktype = SOCK_STREAM;
    h.ai_protocol = IPPROTO_TCP;
    assert_int_equal(same_as_libc("192.0.2.10", "5061", &h), 1);
}

static void test_left_to_libc(void **state)
{
    (void)state;
    struct addrinfo h = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP};
    struct addrinfo *res = NULL;
    static const char *const nodes[] = {"example.com", "localhost", "127.1", "0x7f.0.0.1", "010.0.0.1",
                                        "fe80::1%lo", "1.2.3.4 ", " 1.2.3.4", "[::1]", "", "1.2.3.4.5",
                                        "256.1.1.1", "::ffff:1.2.3.4x"};
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        assert_int_equal(sip_numeric_addrinfo(nodes[i], "5060", &h, &res), -1);
    static const char *const services[] = {"sip", "", "+5060", " 5060", "65536", "999999", "5060x", "-1"};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        assert_int_equal(sip_numeric_addrinfo("127.0.0.1", services[i], &h, &res), -1);
    assert_int_equal(sip_numeric_addrinfo(NULL, "5060", &h, &res), -1);
    assert_int_equal(sip_numeric_addrinfo("127.0.0.1", "5060", NULL, &res), -1);
    assert_null(res);
}

static void test_same_as_libc_fixed(void **state)
{
    (void)state;
    static const char *const nodes[] = {
        "127.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.1", "10.1.2.3", "1.2.3.4",
        "::", "::1", "2001:db8::1", "fe80::1", "::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::1.2.3.4",
        "2001:DB8:0:0:0:0:0:1", "ff02::1", "1:2:3:4:5:6:7:8",
        /* libc's alone (ours answers -1, and is not compared) */
        "127.1", "0x7f000001", "example.invalid", "fe80::1%1"};
    static const char *const services[] = {NULL, "0", "1", "5060", "05060", "65535", "65536", "sip", "00000"};
    unsigned answered = 0;
    for (size_t n = 0; n < sizeof nodes / sizeof nodes[0]; n++)
        for (size_t s = 0; s < sizeof services / sizeof services[0]; s++)
            answered += every_hints(nodes[n], services[s]);
    assert_true(answered > 1000);
}

/* Random addresses as inet_ntop prints them, random ports. */
static void test_same_as_libc_random(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    unsigned answered = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char node[INET6_ADDRSTRLEN], service[8];
        if (i % 2) {
            uint32_t a = (uint32_t)x;
            inet_ntop(AF_INET, &a, node, sizeof node);
        } else {
            unsigned char a[16];
            for (int b = 0; b < 16; b++)
                a[b] = (x >> ((b % 8) * 8)) & ((i / 2) % 3 ? 0xff : (b % 3 ? 0 : 0xff));
            inet_ntop(AF_INET6, a, node, sizeof node);
        }
        snprintf(service, sizeof service, "%u", (unsigned)(x >> 40) % 70000u);
        struct addrinfo h = {.ai_flags = (i & 4) ? AI_NUMERICHOST : 0,
                             .ai_socktype = (i & 8) ? SOCK_STREAM : SOCK_DGRAM,
                             .ai_protocol = (i & 16) ? 0 : ((i & 8) ? IPPROTO_TCP : IPPROTO_UDP)};
        answered += (unsigned)same_as_libc(node, service, &h);
    }
    assert_true(answered > 18000);
}

/* libc's own inet_ntop: the next definition after this program's, so the
 * comparison holds even when sip_guard.c's interposer is linked in. */
typedef const char *(*inet_ntop_fn)(int, const void *, char *, socklen_t);

/* sip_ntop4 against libc for ADDR at every buffer size: the same text,
 * the same NULL and errno when it does not fit, the buffer then untouched. */
static void ntop4_same_as_libc(inet_ntop_fn libc, const unsigned char addr[4])
{
    for (socklen_t size = 0; size <= 18; size++) {
        char ours[20], theirs[20];
        memset(ours, '#', sizeof ours);
        memset(theirs, '#', sizeof theirs);
        errno = 0;
        const char *o = sip_ntop4(addr, ours, size);
        int oerr = errno;
        errno = 0;
        const char *t = libc(AF_INET, addr, theirs, size);
        int terr = errno;
        assert_true((o == NULL) == (t == NULL));
        assert_memory_equal(ours, theirs, sizeof ours);
        if (o)
            assert_ptr_equal(o, ours);
        else
            assert_int_equal(oerr, terr);
    }
}

static void test_ntop4_same_as_libc(void **state)
{
    (void)state;
    inet_ntop_fn libc = (inet_ntop_fn)dlsym(RTLD_NEXT, "inet_ntop");
    assert_non_null(libc);
    /* every byte value in every position, the others fixed or random */
    uint64_t x = 0x2545f4914f6cdd1du;
    for (int pos = 0; pos < 4; pos++)
        for (unsigned v = 0; v < 256; v++) {
            unsigned char a[4] = {0, 0, 0, 0}, b[4] = {255, 255, 255, 255}, c[4];
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(c, &x, 4);
            a[pos] = b[pos] = c[pos] = (unsigned char)v;
            ntop4_same_as_libc(libc, a);
            ntop4_same_as_libc(libc, b);
            ntop4_same_as_libc(libc, c);
        }
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned char a[4];
        memcpy(a, &x, 4);
        ntop4_same_as_libc(libc, a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sofia_case_answered),
        cmocka_unit_test(test_left_to_libc),
        cmocka_unit_test(test_same_as_libc_fixed),
        cmocka_unit_test(test_same_as_libc_random),
        cmocka_unit_test(test_ntop4_same_as_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_sip_source.c — X-Callroute-Source values (src/telephony/sip/
 * sip_source.c): only IPV4:PORT is an address; anything else (names, IPv6,
 * a port out of range, trailing text) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "telephony/sip/sip_source.h"

static void test_good(void **state)
{
    (void)state;
    struct sockaddr_in a;
    assert_true(sip_source_parse("192.0.2.7:5060", &a));
    assert_int_equal(ntohs(a.sin_port), 5060);
    assert_int_equal(ntohl(a.sin_addr.s_addr), 0xC0000207u);
    assert_true(sip_source_parse("  127.0.0.1:1 \t", &a));
    assert_int_equal(ntohs(a.sin_port), 1);
    assert_true(sip_source_parse("10.1.2.3:65535", &a));
}

static void test_bad(void **state)
{
    (void)state;
    struct sockaddr_in a;
    const char *bad[] = {NULL, "", ":5060", "192.0.2.7", "192.0.2.7:", "192.0.2.7:0", "192.0.2.7:65536",
                         "192.0.2.7:123456", "192.0.2.7:50x0", "192.0.2.7:5060;x", "host.example:5060",
                         "[::1]:5060", "::1:5060", "192.0.2.256:5060", "192.0.2.7 :5060", "1.2.3.4:5:6",
                         "999999999999999999999:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sip_source_parse(bad[i], &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_good), cmocka_unit_test(test_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

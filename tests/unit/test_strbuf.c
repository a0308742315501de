/* test_strbuf.c — cr_strbuf_fit: a buffer that stops growing gives back
 * what doubling reserved (the admin API's trace of a bridged call), keeps
 * its text, and grows again when written to; cr_strbuf_put_int writes what
 * "%lld" does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/strbuf.h"

static void test_fit(void **state)
{
    (void)state;
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_fit(&b);                     /* empty: nothing to fit */
    assert_null(b.s);
    char chunk[70];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 10; i++)
        cr_strbuf_append(&b, chunk, sizeof chunk);
    assert_int_equal(b.len, 700);
    assert_int_equal(b.cap, 1024);         /* doubled from 64 */
    cr_strbuf_fit(&b);
    assert_int_equal(b.cap, 701);
    assert_int_equal(strlen(cr_strbuf_cstr(&b)), 700);
    assert_int_equal(b.s[699], 'x');
    cr_strbuf_putc(&b, 'y');               /* grows again */
    assert_int_equal(b.len, 701);
    assert_true(b.cap >= 702);
    assert_string_equal(b.s + 699, "xy");
    cr_strbuf_free(&b);
}

/* V appended after some text, and the same by snprintf's "%lld". */
static void check_int(long long v)
{
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_puts(&b, "p ");
    cr_strbuf_put_int(&b, v);
    char want[32];
    int n = snprintf(want, sizeof want, "p %lld", v);
    assert_int_equal(b.len, (size_t)n);
    assert_string_equal(cr_strbuf_cstr(&b), want);
    cr_strbuf_free(&b);
}

static void test_put_int_as_printf(void **state)
{
    (void)state;
    static const long long edges[] = {0, 1, -1, 9, 10, -10, 99, 100, INT_MAX, INT_MIN, (long long)INT_MAX + 1,
                                      LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, 1000000000000000000ll};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        check_int(edges[i]);
    for (long long v = -100000; v <= 100000; v++)
        check_int(v);
    /* every magnitude: random 64-bit values shifted down 0..63 bits */
    srandom(17);
    for (int i = 0; i < 200000; i++) {
        unsigned long long u = (unsigned long long)random() << 33 ^ (unsigned long long)random() << 2 ^
                               (unsigned long long)random();
        long long v = (long long)(u >> (i % 64));
        check_int(i & 1 || v == LLONG_MIN ? v : -v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_put_int_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

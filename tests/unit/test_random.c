/* test_random.c — util/random.c hands out the kernel's bytes a block at a
 * time: every draw different, hex digits only, no byte handed out twice
 * across a refill; the record id built from it is a version 4 UUID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "records/cdr.h"
#include "util/random.h"

static void test_hex(void **state)
{
    (void)state;
    char a[33], b[33];
    memset(a, 'x', sizeof a);
    cr_random_hex(a, 16);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    cr_random_hex(b, 16);
    assert_string_not_equal(a, b);
    char one[3];
    cr_random_hex(one, 1);
    assert_int_equal(strlen(one), 2);
    char none[1] = {'x'};
    cr_random_hex(none, 0);
    assert_int_equal(none[0], '\0');
}

/* Draws across several 256-byte refills: 64-bit words all distinct (a
 * block handed out twice would repeat them). */
static void test_across_refills(void **state)
{
    (void)state;
    enum { N = 1000 };
    static uint64_t w[N];
    for (size_t i = 0; i < N; i++) {
        if (i % 7 == 0)
            (void)cr_random_u32();   /* shift the alignment against the block */
        cr_random_bytes(&w[i], sizeof w[i]);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            assert_true(w[i] != w[j]);
    cr_random_reset();
    uint64_t after;
    cr_random_bytes(&after, sizeof after);
    for (size_t i = 0; i < N; i++)
        assert_true(after != w[i]);
}

static void test_hex_of(void **state)
{
    (void)state;
    const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9] = "";
    cr_hex(out, in, sizeof in);
    assert_string_equal(out, "000fa5ff");
}

static void test_record_id(void **state)
{
    (void)state;
    char a[40], b[40];
    rec_new_id(a);
    rec_new_id(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');                  /* version 4 */
    assert_non_null(strchr("89ab", a[19]));        /* RFC 4122 variant */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_across_refills),
        cmocka_unit_test(test_hex_of),
        cmocka_unit_test(test_record_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_strbuf.c — cr_strbuf_fit: a buffer that stops growing gives back
 * what doubling reserved (the admin API's trace of a bridged call), keeps
 * its text, and grows again when written to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

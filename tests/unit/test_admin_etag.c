/* test_admin_etag.c — the scenario's ETag, the If-Match a change carries
 * and revision numbers in paths (src/admin/admin_etag.c): a missing header
 * is 428's case, a stale one 409's, a malformed one 400's; tags compare
 * strongly and exactly. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "admin/admin_etag.h"

static void test_etag(void **state)
{
    (void)state;
    char buf[24];
    admin_etag(buf, sizeof buf, 7);
    assert_string_equal(buf, "\"7\"");
    admin_etag(buf, sizeof buf, LONG_MAX);
    assert_string_equal(buf, "\"9223372036854775807\"");
    /* what we send is what we take back */
    assert_int_equal(admin_check_if_match(buf, LONG_MAX), ADMIN_IF_MATCH_OK);
}

static void test_if_match(void **state)
{
    (void)state;
    assert_int_equal(admin_check_if_match(NULL, 3), ADMIN_IF_MATCH_MISSING);
    assert_int_equal(admin_check_if_match("", 3), ADMIN_IF_MATCH_MISSING);
    assert_int_equal(admin_check_if_match("  \t", 3), ADMIN_IF_MATCH_MISSING);
    assert_int_equal(admin_check_if_match("\"3\"", 3), ADMIN_IF_MATCH_OK);
    assert_int_equal(admin_check_if_match(" \"3\" ", 3), ADMIN_IF_MATCH_OK);
    assert_int_equal(admin_check_if_match("*", 3), ADMIN_IF_MATCH_OK);
    assert_int_equal(admin_check_if_match(" * ", 3), ADMIN_IF_MATCH_OK);
    assert_int_equal(admin_check_if_match("\"2\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"1\", \"2\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"1\", \"3\"", 3), ADMIN_IF_MATCH_OK);
    assert_int_equal(admin_check_if_match("\"1\",,\"3\",", 3), ADMIN_IF_MATCH_OK);
    /* strong comparison, exact text */
    assert_int_equal(admin_check_if_match("W/\"3\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"03\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"3 \"", 3), ADMIN_IF_MATCH_BAD);
    assert_int_equal(admin_check_if_match("\"+3\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"\"", 3), ADMIN_IF_MATCH_STALE);
    assert_int_equal(admin_check_if_match("\"-1\"", -1), ADMIN_IF_MATCH_OK);
    /* not If-Match values */
    static const char *const bad[] = {
        "3", "\"3", "3\"", "\"3\"x", "\"3\" \"4\"", "*, \"3\"", "**", ",", " , ,", "w/\"3\"",
        "W\"3\"", "'3'", "\"3\x7f\"", "\"a\"b\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (admin_check_if_match(bad[i], 3) != ADMIN_IF_MATCH_BAD)
            fail_msg("'%s' taken as If-Match", bad[i]);
    }
}

static void test_revision_numbers(void **state)
{
    (void)state;
    long n = 0;
    assert_true(admin_parse_revision("1", &n));
    assert_int_equal(n, 1);
    assert_true(admin_parse_revision("9223372036854775807", &n));
    assert_true(n == LONG_MAX);
    static const char *const bad[] = {
        NULL, "", "0", "01", "-1", "+1", " 1", "1 ", "1x", "x", "1/restore", "9223372036854775808",
        "99999999999999999999", "1.0", "0x10",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 42;
        if (admin_parse_revision(bad[i], &n))
            fail_msg("'%s' taken as a revision", bad[i] ? bad[i] : "(null)");
        assert_int_equal(n, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_if_match),
        cmocka_unit_test(test_revision_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

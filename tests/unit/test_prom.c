/* test_prom.c — the Prometheus text exposition (src/admin/prom.c) and the
 * fixed-bucket histogram it writes (src/util/histogram.c): label values
 * escaped as the format says (backslash, double quote, line feed) and made
 * UTF-8; HELP text; numbers; a histogram's buckets cumulative, with +Inf,
 * _sum and _count. tests/metrics/suite.sh parses a live server's output
 * with prometheus_client's parser. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/prom.h"
#include "util/histogram.h"

static char out[4096];

static const char *label(const char *s)
{
    cr_strbuf b = CR_STRBUF_INIT;
    prom_escape_label(&b, s);
    snprintf(out, sizeof out, "%s", cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return out;
}

static const char *value(double v)
{
    cr_strbuf b = CR_STRBUF_INIT;
    prom_value(&b, v);
    snprintf(out, sizeof out, "%s", cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return out;
}

static void test_label_escaping(void **state)
{
    (void)state;
    assert_string_equal(label("plain-route_1"), "plain-route_1");
    assert_string_equal(label("say \"hi\""), "say \\\"hi\\\"");
    assert_string_equal(label("C:\\path"), "C:\\\\path");
    assert_string_equal(label("two\nlines"), "two\\nlines");
    assert_string_equal(label("\\\"\n"), "\\\\\\\"\\n");
    assert_string_equal(label(""), "");
    assert_string_equal(label(NULL), "");
    /* UTF-8 passes as it is; other bytes become U+FFFD, one each */
    assert_string_equal(label("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e");
    assert_string_equal(label("a\xff" "b"), "a\xef\xbf\xbd" "b");
    assert_string_equal(label("\xc3"), "\xef\xbf\xbd");                 /* cut short */
    assert_string_equal(label("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong '/' */
    assert_string_equal(label("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");   /* a surrogate */
    /* tabs and carriage returns are allowed in a label value as they are */
    assert_string_equal(label("a\tb\rc"), "a\tb\rc");
}

static void test_help_and_family(void **state)
{
    (void)state;
    cr_strbuf b = CR_STRBUF_INIT;
    prom_family(&b, "x_total", "counter", "Calls \"ended\"\nby route \\ disposition.");
    assert_string_equal(cr_strbuf_cstr(&b), "# HELP x_total Calls \"ended\"\\nby route \\\\ disposition.\n"
                                            "# TYPE x_total counter\n");
    cr_strbuf_reset(&b);
    prom_sample(&b, "x_total", (prom_label[]){{"route", "a\"b"}, {"disposition", "NO ANSWER"}}, 2, 3);
    prom_sample(&b, "y", NULL, 0, 0.25);
    assert_string_equal(cr_strbuf_cstr(&b), "x_total{route=\"a\\\"b\",disposition=\"NO ANSWER\"} 3\ny 0.25\n");
    cr_strbuf_free(&b);
}

static void test_values(void **state)
{
    (void)state;
    assert_string_equal(value(0), "0");
    assert_string_equal(value(42), "42");
    assert_string_equal(value(-3), "-3");
    assert_string_equal(value(1796414191), "1796414191");
    assert_string_equal(value(0.1), "0.1");
    assert_string_equal(value(0.0005), "0.0005");
    assert_string_equal(value(2.5), "2.5");
    assert_string_equal(value(NAN), "NaN");
    assert_string_equal(value(INFINITY), "+Inf");
    assert_string_equal(value(-INFINITY), "-Inf");
    /* what %.15g cannot say exactly is written with 17 digits */
    double third = 1.0 / 3.0;
    const char *s = value(third);
    assert_true(strtod(s, NULL) == third);
    assert_true(strtod(value(0.1 + 0.2), NULL) == 0.1 + 0.2);
}

static const double bounds[] = {0.1, 0.5, 1};

static void test_histogram(void **state)
{
    (void)state;
    cr_histogram h;
    cr_hist_init(&h, bounds, 3);
    cr_hist_observe(&h, 0.05);
    cr_hist_observe(&h, 0.1);    /* on a bound: in that bucket (le) */
    cr_hist_observe(&h, 0.7);
    cr_hist_observe(&h, 5);      /* above all: only in +Inf */
    cr_hist_observe(&h, -1);     /* below all: the first */
    cr_hist_observe(&h, NAN);    /* no bucket, no sum */
    assert_int_equal(h.count, 5);
    assert_true(fabs(h.sum - 4.85) < 1e-12);
    assert_int_equal(cr_hist_cumulative(&h, 0), 3);
    assert_int_equal(cr_hist_cumulative(&h, 1), 3);
    assert_int_equal(cr_hist_cumulative(&h, 2), 4);
    assert_int_equal(cr_hist_cumulative(&h, 3), 5);
    cr_strbuf b = CR_STRBUF_INIT;
    prom_histogram(&b, "lat_seconds", (prom_label[]){{"service", "http"}}, 1, &h);
    assert_string_equal(cr_strbuf_cstr(&b), "lat_seconds_bucket{service=\"http\",le=\"0.1\"} 3\n"
                                            "lat_seconds_bucket{service=\"http\",le=\"0.5\"} 3\n"
                                            "lat_seconds_bucket{service=\"http\",le=\"1\"} 4\n"
                                            "lat_seconds_bucket{service=\"http\",le=\"+Inf\"} 5\n"
                                            "lat_seconds_sum{service=\"http\"} 4.85\n"
                                            "lat_seconds_count{service=\"http\"} 5\n");
    cr_strbuf_reset(&b);
    cr_histogram empty;
    cr_hist_init(&empty, bounds, 1);
    prom_histogram(&b, "e", NULL, 0, &empty);
    assert_string_equal(cr_strbuf_cstr(&b), "e_bucket{le=\"0.1\"} 0\ne_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n");
    cr_strbuf_free(&b);
}

static void test_histogram_bounds_capped(void **state)
{
    (void)state;
    static const double many[CR_HIST_MAX + 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    cr_histogram h;
    cr_hist_init(&h, many, CR_HIST_MAX + 4);
    assert_int_equal(h.n, CR_HIST_MAX);
    cr_hist_observe(&h, 19);   /* past the last kept bound: +Inf only */
    assert_int_equal(cr_hist_cumulative(&h, CR_HIST_MAX - 1), 0);
    assert_int_equal(cr_hist_cumulative(&h, CR_HIST_MAX), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_escaping),  cmocka_unit_test(test_help_and_family),
        cmocka_unit_test(test_values),          cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_bounds_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

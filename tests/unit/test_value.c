/* test_value.c — the run-time value helpers: kind names, truthiness,
 * numeric strings, text forms, loose equality, copies and error values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario/value.h"

#define STR(lit) cr_val_str(lit, sizeof lit - 1)

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(cr_val_kind_name(CR_VAL_NULL), "null");
    assert_string_equal(cr_val_kind_name(CR_VAL_BOOL), "bool");
    assert_string_equal(cr_val_kind_name(CR_VAL_NUM), "number");
    assert_string_equal(cr_val_kind_name(CR_VAL_STR), "string");
    assert_string_equal(cr_val_kind_name(CR_VAL_ERR), "error");
    assert_string_equal(cr_val_kind_name((cr_val_kind)99), "?");
}

static void test_truthy(void **state)
{
    (void)state;
    cr_arena a;
    cr_arena_init(&a, 0);
    struct { cr_value v; bool want; } cases[] = {
        {cr_val_null(), false},       {cr_val_bool(false), false}, {cr_val_bool(true), true},
        {cr_val_num(0), false},       {cr_val_num(-0.0), false},   {cr_val_num(0.1), true},
        {cr_val_num(-1), true},       {cr_val_num(NAN), false},    {STR(""), false},
        {STR("0"), true},             {STR("false"), true},        {STR(" "), true},
        {cr_val_err(&a, "x"), false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cr_val_truthy(cases[i].v) != cases[i].want)
            fail_msg("case %zu", i);
    cr_arena_free(&a);
}

static void test_as_number(void **state)
{
    (void)state;
    struct { const char *s; bool ok; double want; } cases[] = {
        {"42", true, 42},      {"-1.5", true, -1.5}, {"+5", true, 5},      {"1e3", true, 1000},
        {"007", true, 7},      {".5", true, 0.5},    {"5.", true, 5},      {"0", true, 0},
        {"", false, 0},        {" 42", false, 0},    {"42 ", false, 0},    {"abc", false, 0},
        {"0x10", false, 0},    {"inf", false, 0},    {"nan", false, 0},    {"1e", false, 0},
        {"-", false, 0},       {"1-2", false, 0},    {"1,5", false, 0},    {"e5", false, 0},
        {"4 2", false, 0},     {"١٢", false, 0},      {"1e999", false, 0},  {"-1e999", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double d = -999;
        bool ok = cr_val_as_number(cr_val_cstr(cases[i].s), &d);
        if (ok != cases[i].ok || (ok && d != cases[i].want))
            fail_msg("'%s': ok %d d %g", cases[i].s, ok, d);
    }
    double d;
    assert_true(cr_val_as_number(cr_val_num(2.5), &d));
    assert_true(d == 2.5);
    assert_false(cr_val_as_number(cr_val_bool(true), &d));
    assert_false(cr_val_as_number(cr_val_null(), &d));
    /* Longer than any number we accept. */
    char longnum[80];
    memset(longnum, '1', sizeof longnum - 1);
    longnum[sizeof longnum - 1] = '\0';
    assert_false(cr_val_as_number(cr_val_cstr(longnum), &d));
    /* Only LEN bytes count: "12" out of "123". */
    assert_true(cr_val_as_number(cr_val_str("123", 2), &d));
    assert_true(d == 12);
}

static void test_text(void **state)
{
    (void)state;
    cr_arena a;
    cr_arena_init(&a, 0);
    struct { cr_value v; const char *want; } cases[] = {
        {cr_val_num(3), "3"},
        {cr_val_num(2.5), "2.5"},
        {cr_val_num(-3), "-3"},
        {cr_val_num(-0.0), "0"},
        {cr_val_num(0.1), "0.1"},
        {cr_val_num(0.1 + 0.2), "0.3"},
        {cr_val_num(1.0 / 3), "0.333333333333333"},
        {cr_val_num(123456789012345), "123456789012345"},
        {cr_val_num(-999999999999999), "-999999999999999"},
        {cr_val_num(10), "10"},
        {cr_val_num(-1), "-1"},
        {cr_val_num(1e15), "1e+15"},
        {cr_val_num(-1.5e300), "-1.5e+300"},
        {cr_val_num(1e-7), "1e-07"},
        {cr_val_num(INFINITY), "inf"},
        {cr_val_bool(true), "true"},
        {cr_val_bool(false), "false"},
        {cr_val_null(), ""},
        {STR("text"), "text"},
        {cr_val_str(NULL, 0), ""},
        {cr_val_err(&a, "bad %d", 7), "bad 7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_strbuf b = CR_STRBUF_INIT;
        cr_val_to_text(cases[i].v, &b);
        if (strcmp(cr_strbuf_cstr(&b), cases[i].want) != 0)
            fail_msg("case %zu: '%s' want '%s'", i, cr_strbuf_cstr(&b), cases[i].want);
        cr_strbuf_free(&b);

        size_t len = 99;
        const char *s = cr_val_to_cstr(cases[i].v, &a, &len);
        assert_int_equal(len, strlen(cases[i].want));
        assert_memory_equal(s, cases[i].want, len);

        char buf[CR_VAL_TEXT_MAX];
        s = cr_val_text(cases[i].v, buf, &len);
        assert_int_equal(len, strlen(cases[i].want));
        assert_memory_equal(s, cases[i].want, len);
    }
    /* Strings are returned as they are, without copying. */
    const char *text = "abc";
    char buf[CR_VAL_TEXT_MAX];
    size_t len;
    assert_ptr_equal(cr_val_text(cr_val_str(text, 2), buf, &len), text);
    assert_int_equal(len, 2);
    assert_ptr_equal(cr_val_to_cstr(cr_val_cstr(text), &a, NULL), text);
    /* The longest number fits the buffer. */
    cr_val_text(cr_val_num(-1.23456789012345e-300), buf, &len);
    assert_string_equal(buf, "-1.23456789012345e-300");
    cr_arena_free(&a);
}

static void test_equal(void **state)
{
    (void)state;
    struct { cr_value a, b; bool want; } cases[] = {
        {cr_val_num(42), STR("42"), true},
        {STR("42"), cr_val_num(42), true},
        {STR("42"), STR("42.0"), false},
        {STR("042"), cr_val_num(42), true},
        {STR("abc"), STR("abc"), true},
        {STR("abc"), STR("abd"), false},
        {STR("abc"), STR("ab"), false},
        {STR(""), STR(""), true},
        {cr_val_str(NULL, 0), STR(""), true},
        {STR(""), cr_val_num(0), false},
        {STR("abc"), cr_val_num(0), false},
        {cr_val_null(), cr_val_null(), true},
        {cr_val_null(), STR(""), false},
        {cr_val_null(), cr_val_num(0), false},
        {cr_val_null(), cr_val_bool(false), false},
        {cr_val_bool(true), cr_val_bool(true), true},
        {cr_val_bool(true), cr_val_bool(false), false},
        {cr_val_bool(true), cr_val_num(1), false},
        {cr_val_bool(true), STR("true"), false},
        {cr_val_num(0.5), cr_val_num(0.5), true},
        {cr_val_num(NAN), cr_val_num(NAN), false},
        {STR("12345678901234567"), STR("12345678901234567"), true},
        {STR("12345678901234567"), STR("12345678901234568"), false}, /* not rounded */
        {STR("123456789012345"), STR("123456789012345.0"), false}, /* strings: text */
        {STR("0044"), STR("44"), false},
        {cr_val_num(1000), STR("0001000.000"), true},
        {STR("0001000.000"), STR("1000"), false},
        {cr_val_num(1e-18), STR("0.000000000000000001"), true},
        {cr_val_num(12345678901234567.0), STR("12345678901234567"), true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cr_val_equal(cases[i].a, cases[i].b) != cases[i].want)
            fail_msg("case %zu", i);
        if (cr_val_equal(cases[i].b, cases[i].a) != cases[i].want)
            fail_msg("case %zu reversed", i);
    }
}

static void test_copy_and_errors(void **state)
{
    (void)state;
    cr_arena a;
    cr_arena_init(&a, 0);
    char text[] = "mutable";
    cr_value v = cr_val_copy(cr_val_cstr(text), &a);
    text[0] = 'X';
    assert_int_equal(v.kind, CR_VAL_STR);
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.str, "mutable", 7);
    assert_int_equal(v.str[7], '\0');

    cr_value n = cr_val_copy(cr_val_num(3), &a);
    assert_int_equal(n.kind, CR_VAL_NUM);
    assert_true(n.num == 3);
    assert_int_equal(cr_val_copy(cr_val_null(), &a).kind, CR_VAL_NULL);

    cr_value e = cr_val_err(&a, "division by %s", "zero");
    assert_int_equal(e.kind, CR_VAL_ERR);
    assert_string_equal(e.str, "division by zero");
    assert_int_equal(e.len, 16);
    cr_value ec = cr_val_copy(e, &a);
    assert_int_equal(ec.kind, CR_VAL_ERR);
    assert_string_equal(ec.str, "division by zero");
    /* Without an arena the message is generic but still a string. */
    cr_value en = cr_val_err(NULL, "lost %d", 1);
    assert_int_equal(en.kind, CR_VAL_ERR);
    assert_string_equal(en.str, "error");
    /* Long messages are cut, not overflowed. */
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_value eb = cr_val_err(&a, "%s", big);
    assert_true(eb.len < 300);
    assert_int_equal(strlen(eb.str), eb.len);

    cr_value c = cr_val_cstr("abc");
    assert_int_equal(c.kind, CR_VAL_STR);
    assert_int_equal(c.len, 3);
    cr_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names), cmocka_unit_test(test_truthy),
        cmocka_unit_test(test_as_number),  cmocka_unit_test(test_text),
        cmocka_unit_test(test_equal),      cmocka_unit_test(test_copy_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_diag.c — diagnostics: printing, order, cap, JSON, suggestions, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "scenario/diag.h"

static char *print_all(scn_diags *d)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    scn_diags_print(d, f);
    fclose(f);
    return out;
}

static void test_print_format(void **state)
{
    (void)state;
    scn_diags d;
    scn_diags_init(&d);
    scn_node n = { .kind = SCN_NODE_SCALAR, .file = "a.yaml", .line = 7, .col = 9, .str = "" };
    scn_error(&d, &n, "routes[2].script[4].then[0]", "unknown application '%s'", "paly");
    scn_warning(&d, &n, "", "route is shadowed");
    scn_diag_at(&d, SCN_SEV_ERROR, "b.yaml", 0, 0, "", "cannot read b.yaml: %s", "No such file");
    assert_int_equal(d.errors, 2);
    assert_int_equal(d.warnings, 1);
    char *out = print_all(&d);
    assert_string_equal(out,
                        "a.yaml:7:9: error: unknown application 'paly' (at "
                        "routes[2].script[4].then[0])\n"
                        "a.yaml:7:9: warning: route is shadowed\n"
                        "b.yaml: error: cannot read b.yaml: No such file\n");
    free(out);
    scn_diags_free(&d);
}

static void test_print_sorted_stable(void **state)
{
    (void)state;
    scn_diags d;
    scn_diags_init(&d);
    scn_diag_at(&d, SCN_SEV_ERROR, "b.yaml", 1, 1, "", "b1");
    scn_diag_at(&d, SCN_SEV_ERROR, "a.yaml", 10, 2, "", "a10");
    scn_diag_at(&d, SCN_SEV_ERROR, "a.yaml", 2, 5, "", "a2-5");
    scn_diag_at(&d, SCN_SEV_WARNING, "a.yaml", 2, 3, "", "a2-3");
    scn_diag_at(&d, SCN_SEV_ERROR, "a.yaml", 2, 5, "", "a2-5 second");
    scn_diag_at(&d, SCN_SEV_ERROR, "a.yaml", 9, 1, "", "a9");
    char *out = print_all(&d);
    assert_string_equal(out, "a.yaml:2:3: warning: a2-3\n"
                             "a.yaml:2:5: error: a2-5\n"
                             "a.yaml:2:5: error: a2-5 second\n"
                             "a.yaml:9:1: error: a9\n"
                             "a.yaml:10:2: error: a10\n"
                             "b.yaml:1:1: error: b1\n");
    free(out);
    scn_diags_free(&d);
}

static void test_truncation(void **state)
{
    (void)state;
    scn_diags d;
    scn_diags_init(&d);
    for (int i = 0; i < SCN_MAX_ERRORS + 25; i++)
        scn_diag_at(&d, SCN_SEV_ERROR, "big.yaml", (unsigned)i + 1, 1, "", "error %d", i);
    assert_int_equal(d.errors, SCN_MAX_ERRORS);
    assert_int_equal(d.count, SCN_MAX_ERRORS);
    assert_true(d.truncated);
    char *out = print_all(&d);
    const char *last = out + strlen(out) - 1;
    while (last > out && last[-1] != '\n')
        last--;
    assert_string_equal(last, "big.yaml: note: too many errors; stopped after 50\n");
    assert_non_null(strstr(out, "big.yaml:50:1: error: error 49\n"));
    assert_null(strstr(out, "error 50\n"));
    free(out);
    scn_diags_free(&d);
}

static void test_json(void **state)
{
    (void)state;
    scn_diags d;
    scn_diags_init(&d);
    scn_diag_at(&d, SCN_SEV_WARNING, "x.yaml", 5, 3, "routes[0]", "say \"hi\"\n");
    scn_diag_at(&d, SCN_SEV_ERROR, "x.yaml", 2, 1, "", "bad");
    cr_strbuf b = CR_STRBUF_INIT;
    scn_diags_json(&d, &b);
    json_error_t err;
    json_t *j = json_loads(cr_strbuf_cstr(&b), 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "warnings")), 1);
    json_t *arr = json_object_get(j, "diagnostics");
    assert_int_equal(json_array_size(arr), 2);
    json_t *first = json_array_get(arr, 0);   /* sorted: line 2 first */
    assert_string_equal(json_string_value(json_object_get(first, "severity")), "error");
    assert_int_equal(json_integer_value(json_object_get(first, "line")), 2);
    json_t *second = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(second, "file")), "x.yaml");
    assert_int_equal(json_integer_value(json_object_get(second, "column")), 3);
    assert_string_equal(json_string_value(json_object_get(second, "message")), "say \"hi\"\n");
    assert_string_equal(json_string_value(json_object_get(second, "path")), "routes[0]");
    assert_string_equal(json_string_value(json_object_get(second, "severity")), "warning");
    json_decref(j);
    cr_strbuf_free(&b);
    scn_diags_free(&d);
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const apps[] = { "play", "pause", "set", "dial", "hangup", "answer",
                                        "record", "read_digits", NULL };
    static const char *const keys[] = { "conditions", "condition", "script", "priority", NULL };
    assert_string_equal(scn_suggest("paly", apps), "play");
    assert_string_equal(scn_suggest("hangpu", apps), "hangup");
    assert_string_equal(scn_suggest("read_digit", apps), "read_digits");
    assert_string_equal(scn_suggest("Answer", apps), "answer");
    assert_string_equal(scn_suggest("conditons", keys), "conditions");
    assert_string_equal(scn_suggest("prioriyt", keys), "priority");
    assert_null(scn_suggest("email", apps));      /* too far from everything */
    assert_null(scn_suggest("xyz", apps));
    assert_null(scn_suggest("", apps));
    /* Two candidates at the same distance: no guess. */
    static const char *const tie[] = { "cat", "car", NULL };
    assert_null(scn_suggest("caz", tie));
    /* len 3 -> at most 1 edit. */
    static const char *const one[] = { "set", NULL };
    assert_null(scn_suggest("sxx", one));
    assert_string_equal(scn_suggest("sxt", one), "set");
}

static void test_paths(void **state)
{
    (void)state;
    scn_path p = { .len = 0 };
    assert_string_equal(scn_path_str(&p), "");
    size_t a = scn_path_key(&p, "routes");
    assert_string_equal(scn_path_str(&p), "routes");
    size_t b = scn_path_index(&p, 2);
    assert_string_equal(scn_path_str(&p), "routes[2]");
    scn_path_key(&p, "script");
    scn_path_index(&p, 4);
    size_t c = scn_path_key(&p, "then");
    scn_path_index(&p, 0);
    assert_string_equal(scn_path_str(&p), "routes[2].script[4].then[0]");
    scn_path_pop(&p, c);
    assert_string_equal(scn_path_str(&p), "routes[2].script[4]");
    scn_path_pop(&p, b);
    assert_string_equal(scn_path_str(&p), "routes");
    scn_path_key(&p, "a.b");
    assert_string_equal(scn_path_str(&p), "routes[\"a.b\"]");
    scn_path_pop(&p, a);
    assert_string_equal(scn_path_str(&p), "");
    assert_int_equal(p.len, 0);
    scn_path_key(&p, "users");
    scn_path_key(&p, "101");
    assert_string_equal(scn_path_str(&p), "users.101");
}

static void test_path_truncation(void **state)
{
    (void)state;
    scn_path p = { .len = 0 };
    char key[300];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    size_t olds[20];
    for (int i = 0; i < 20; i++) {
        olds[i] = scn_path_key(&p, key);
        assert_true(p.len < sizeof p.buf);
        assert_int_equal(strlen(p.buf), p.len);
        scn_path_index(&p, 123456789);
        assert_true(p.len < sizeof p.buf);
    }
    for (int i = 19; i >= 0; i--) {
        scn_path_pop(&p, olds[i]);
        assert_int_equal(strlen(p.buf), p.len);
    }
    assert_string_equal(scn_path_str(&p), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_print_format), cmocka_unit_test(test_print_sorted_stable),
        cmocka_unit_test(test_truncation),   cmocka_unit_test(test_json),
        cmocka_unit_test(test_suggest),      cmocka_unit_test(test_paths),
        cmocka_unit_test(test_path_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

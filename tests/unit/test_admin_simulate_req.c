/* test_admin_simulate_req.c — POST /simulate's body (src/admin/
 * simulate_req.c): the options of `callroute simulate --json` and the
 * mocks taken from JSON; anything else refused with a message saying what
 * is wrong, never half taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin/simulate_req.h"

static bool parse(const char *body, admin_sim_req *r, char *err, size_t n)
{
    return admin_sim_req_parse(body, strlen(body), r, err, n);
}

static void test_full_request(void **state)
{
    (void)state;
    admin_sim_req r;
    char err[300];
    assert_true(parse("{\"scenario\":\"version: 1\\n\",\"from\":\"100\",\"to\":\"555\",\"source\":\"provider\","
                      "\"caller_name\":\"Ann\",\"at\":\"2026-11-26T10:00:00+03:00\",\"caller\":\"hold@12\","
                      "\"parties\":{\"101\":\"answer@4\",\"gw:out\":\"busy@1\"},"
                      "\"vars\":{\"tier\":\"gold\",\"n\":3,\"vip\":true},\"max_time\":600,"
                      "\"mocks\":{\"http\":[{\"url\":\"http://crm/*\",\"json\":{\"a\":1},\"status\":200}],"
                      "\"db\":[{\"query\":\"SELECT *\",\"rows\":[{\"tier\":\"gold\",\"n\":2,\"x\":null}]}]}}",
                      &r, err, sizeof err));
    assert_string_equal(r.scenario, "version: 1\n");
    assert_int_equal(r.scenario_len, 11);
    assert_string_equal(r.from, "100");
    assert_string_equal(r.to, "555");
    assert_string_equal(r.source, "provider");
    assert_string_equal(r.caller_name, "Ann");
    assert_string_equal(r.caller, "hold@12");
    assert_true(r.utc_offset_set);
    assert_int_equal(r.utc_offset, 3 * 3600);
    assert_true(r.at == 1795676400.0);   /* 2026-11-26T07:00:00Z */
    assert_true(r.max_time == 600);
    assert_int_equal(r.party_count, 2);
    assert_string_equal(r.party_targets[1], "gw:out");
    assert_string_equal(r.party_specs[1], "busy@1");
    assert_int_equal(r.var_count, 3);
    assert_string_equal(r.var_values[1], "3");
    assert_string_equal(r.var_values[2], "true");
    assert_int_equal(r.http_count, 1);
    assert_string_equal(r.http[0].body, "{\"a\":1}");
    assert_int_equal(r.http[0].status, 200);
    assert_int_equal(r.db_count, 1);
    assert_int_equal(r.db[0].rows, 1);
    assert_int_equal(r.db[0].ncols, 3);
    assert_string_equal(r.db[0].cols[1], "n");
    assert_string_equal(r.db[0].vals[1], "2");
    assert_null(r.db[0].vals[2]);
    admin_sim_req_free(&r);
}

static void test_defaults(void **state)
{
    (void)state;
    admin_sim_req r;
    char err[300];
    assert_true(parse("{\"from\":\"1\",\"to\":\"2\"}", &r, err, sizeof err));
    assert_null(r.scenario);
    assert_null(r.source);
    assert_true(r.at == 0);
    assert_true(r.max_time == ADMIN_SIM_MAX_TIME);
    admin_sim_req_free(&r);
    assert_true(parse("{\"from\":\"1\",\"to\":\"2\",\"at\":1700000000}", &r, err, sizeof err));
    assert_true(r.at == 1700000000.0);
    admin_sim_req_free(&r);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *body, *says;
    } cases[] = {
        {"", "not JSON"},
        {"[1]", "JSON object"},
        {"{\"from\":\"1\"}", "`from` and `to` are required"},
        {"{\"from\":1,\"to\":\"2\"}", "`from` must be a string"},
        {"{\"from\":\"1\",\"to\":\"2\",\"bogus\":1}", "unknown key `bogus`"},
        {"{\"from\":\"1\",\"from\":\"2\",\"to\":\"2\"}", "not JSON"},
        {"{\"from\":\"1\",\"to\":\"2\",\"max_time\":0}", "`max_time` must be a number"},
        {"{\"from\":\"1\",\"to\":\"2\",\"max_time\":86400}", "`max_time` must be a number"},
        {"{\"from\":\"1\",\"to\":\"2\",\"at\":\"yesterday\"}", "`at`"},
        {"{\"from\":\"1\",\"to\":\"2\",\"scenario\":5}", "`scenario` must be"},
        {"{\"from\":\"1\",\"to\":\"2\",\"parties\":[\"101=answer@1\"]}", "`parties` must be an object"},
        {"{\"from\":\"1\",\"to\":\"2\",\"parties\":{\"101\":5}}", "`parties`: each"},
        {"{\"from\":\"1\",\"to\":\"2\",\"vars\":{\"x\":[1]}}", "`vars`: each"},
        {"{\"from\":\"1\",\"to\":\"2\",\"mocks\":{\"http\":[{}]}}", "needs `url`"},
        {"{\"from\":\"1\",\"to\":\"2\",\"mocks\":{\"http\":[{\"url\":\"x\",\"body\":\"a\",\"json\":1}]}}", "not both"},
        {"{\"from\":\"1\",\"to\":\"2\",\"mocks\":{\"db\":[{\"query\":\"x\",\"rows\":[1]}]}}", "each row"},
        {"{\"from\":\"1\",\"to\":\"2\",\"mocks\":{\"smtp\":[]}}", "unknown key `smtp`"},
        {"{\"from\":\"1\",\"to\":\"2\",\"mocks\":{\"http\":[{\"url\":\"x\",\"status\":9}]}}", "`status`"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        admin_sim_req r;
        char err[300] = "";
        bool ok = parse(cases[i].body, &r, err, sizeof err);
        if (ok || !strstr(err, cases[i].says))
            fail_msg("%s: ok=%d, error '%s' lacks '%s'", cases[i].body, ok, err, cases[i].says);
        admin_sim_req_free(&r);
    }
}

static void test_too_many(void **state)
{
    (void)state;
    char body[8192] = "{\"from\":\"1\",\"to\":\"2\",\"vars\":{";
    for (int i = 0; i <= ADMIN_SIM_MAX_ITEMS; i++) {
        char item[32];
        snprintf(item, sizeof item, "%s\"v%d\":\"x\"", i ? "," : "", i);
        strcat(body, item);
    }
    strcat(body, "}}");
    admin_sim_req r;
    char err[300];
    assert_false(parse(body, &r, err, sizeof err));
    assert_non_null(strstr(err, "at most"));
    admin_sim_req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_request),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

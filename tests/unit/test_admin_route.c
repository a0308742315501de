/* test_admin_route.c — which admin API resource a request names
 * (src/admin/admin_route.c): the four resources, 404 for any other path
 * (near misses included), 405 for any method but GET and HEAD whatever the
 * path, and call ids taken whole, odd bytes and slashes included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "admin/admin_route.h"

static admin_resource route(const char *method, const char *url, const char **id)
{
    return admin_route(method, url, id);
}

static void test_resources(void **state)
{
    (void)state;
    const char *id = "x";
    assert_int_equal(route("GET", "/health", &id), ADMIN_R_HEALTH);
    assert_null(id);
    assert_int_equal(route("HEAD", "/health", &id), ADMIN_R_HEALTH);
    assert_int_equal(route("GET", "/refused", &id), ADMIN_R_REFUSED);
    assert_int_equal(route("GET", "/calls", &id), ADMIN_R_CALLS);
    assert_int_equal(route("GET", "/calls/", &id), ADMIN_R_CALLS);
    assert_null(id);
    const char *url = "/calls/abc@192.0.2.1";
    assert_int_equal(route("GET", url, &id), ADMIN_R_CALL);
    assert_ptr_equal(id, url + 7);
    assert_string_equal(id, "abc@192.0.2.1");
}

static void test_call_ids_whole(void **state)
{
    (void)state;
    const char *id;
    /* Call-IDs may hold '/', '.', '%', quotes: all of it is the id */
    assert_int_equal(route("GET", "/calls/a/b/../c", &id), ADMIN_R_CALL);
    assert_string_equal(id, "a/b/../c");
    assert_int_equal(route("GET", "/calls//", &id), ADMIN_R_CALL);
    assert_string_equal(id, "/");
    assert_int_equal(route("HEAD", "/calls/\"<x>\"%00", &id), ADMIN_R_CALL);
    assert_string_equal(id, "\"<x>\"%00");
}

static void test_not_found(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "", "/", "/health/", "/HEALTH", "/healthz", "//health", "/refused/x", "/call", "/callsx",
        "calls/1", "/calls%2F1", " /health", "/health?x=1", "/../health", "*",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        const char *id = "x";
        assert_int_equal(route("GET", urls[i], &id), ADMIN_R_NOT_FOUND);
        assert_null(id);
    }
    const char *id;
    assert_int_equal(route("GET", NULL, &id), ADMIN_R_NOT_FOUND);
}

static void test_not_allowed(void **state)
{
    (void)state;
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                          "CONNECT", "get", "Get", "GET ", "", "GETX", "HEADX"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        const char *id = "x";
        /* the method is judged first: a valid path does not make it 404 or 200 */
        assert_int_equal(route(methods[i], "/health", &id), ADMIN_R_NOT_ALLOWED);
        assert_int_equal(route(methods[i], "/calls/1", &id), ADMIN_R_NOT_ALLOWED);
        assert_null(id);
        assert_int_equal(route(methods[i], "/nothing", &id), ADMIN_R_NOT_ALLOWED);
    }
    const char *id;
    assert_int_equal(route(NULL, "/health", &id), ADMIN_R_NOT_ALLOWED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_call_ids_whole),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_not_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

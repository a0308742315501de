/* test_admin_route.c — which admin API resource a request names
 * (src/admin/admin_route.c): each resource, 404 for any other path (near
 * misses included), 405 with the methods the path takes for a known path
 * and another method, and path parameters (call ids) taken whole, odd
 * bytes and slashes included; the queue agent path's two parameters, one
 * segment each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin/admin_route.h"

/* The resource; the parameter copied into ID (or "" when there is none). */
static admin_resource route(const char *method, const char *url, char *id, size_t n)
{
    admin_match m = admin_route(method, url);
    if (m.param) {
        assert_true(m.param_len > 0 && m.param_len < n);
        memcpy(id, m.param, m.param_len);
        id[m.param_len] = '\0';
    } else {
        id[0] = '\0';
    }
    return m.res;
}

static void test_resources(void **state)
{
    (void)state;
    char id[128];
    assert_int_equal(route("GET", "/health", id, sizeof id), ADMIN_R_HEALTH);
    assert_string_equal(id, "");
    assert_int_equal(route("HEAD", "/health", id, sizeof id), ADMIN_R_HEALTH);
    assert_int_equal(route("GET", "/refused", id, sizeof id), ADMIN_R_REFUSED);
    assert_int_equal(route("GET", "/cdr", id, sizeof id), ADMIN_R_CDR);
    assert_int_equal(route("GET", "/metrics", id, sizeof id), ADMIN_R_METRICS);
    assert_int_equal(route("HEAD", "/metrics", id, sizeof id), ADMIN_R_METRICS);
    assert_int_equal(route("GET", "/metrics/", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/metrics", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("GET", "/calls", id, sizeof id), ADMIN_R_CALLS);
    assert_int_equal(route("GET", "/calls/", id, sizeof id), ADMIN_R_CALLS);
    assert_int_equal(route("GET", "/calls/abc@192.0.2.1", id, sizeof id), ADMIN_R_CALL);
    assert_string_equal(id, "abc@192.0.2.1");
    assert_int_equal(route("GET", "/events", id, sizeof id), ADMIN_R_EVENTS);
    assert_int_equal(route("POST", "/drain", id, sizeof id), ADMIN_R_DRAIN);
    assert_int_equal(route("GET", "/drain", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("GET", "/cluster", id, sizeof id), ADMIN_R_CLUSTER);
    assert_int_equal(route("GET", "/cluster/calls", id, sizeof id), ADMIN_R_CLUSTER_CALLS);
    assert_int_equal(route("GET", "/cluster/queues", id, sizeof id), ADMIN_R_CLUSTER_QUEUES);
    assert_int_equal(route("POST", "/cluster", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("GET", "/cluster/calls/x", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_string_equal(id, "");
}

/* POST /calls places a call beside GET /calls; the steering paths are POST
 * under /calls/ID/ beside GET /calls/ID. */
static void test_control(void **state)
{
    (void)state;
    char id[128];
    assert_int_equal(route("POST", "/calls", id, sizeof id), ADMIN_R_ORIGINATE);
    assert_string_equal(id, "");
    assert_int_equal(route("GET", "/calls", id, sizeof id), ADMIN_R_CALLS);
    assert_int_equal(route("POST", "/calls/abc@192.0.2.1/events", id, sizeof id), ADMIN_R_CALL_EVENT);
    assert_string_equal(id, "abc@192.0.2.1");
    assert_int_equal(route("POST", "/calls/x/hangup", id, sizeof id), ADMIN_R_CALL_HANGUP);
    assert_string_equal(id, "x");
    assert_int_equal(route("POST", "/calls/x/transfer", id, sizeof id), ADMIN_R_CALL_TRANSFER);
    assert_int_equal(route("POST", "/calls/x/vars", id, sizeof id), ADMIN_R_CALL_VARS);
    /* a Call-ID with '/' is whole up to the action's name */
    assert_int_equal(route("POST", "/calls/a/b/hangup", id, sizeof id), ADMIN_R_CALL_HANGUP);
    assert_string_equal(id, "a/b");
    assert_int_equal(route("POST", "/calls///events", id, sizeof id), ADMIN_R_CALL_EVENT);
    assert_string_equal(id, "/");
    /* a GET of the same path is the call whose id ends so */
    assert_int_equal(route("GET", "/calls/x/hangup", id, sizeof id), ADMIN_R_CALL);
    assert_string_equal(id, "x/hangup");
    /* no call id: not an action on a call */
    assert_int_equal(route("POST", "/calls/events", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("POST", "/calls//events", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    /* a POST to a call itself, or an unknown action, takes GET only */
    admin_match m = admin_route("POST", "/calls/x");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    m = admin_route("POST", "/calls/x/answer");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    m = admin_route("DELETE", "/calls");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET | ADMIN_M_POST);
    assert_string_equal(admin_allow_header(m.allow), "GET, HEAD, POST");
    m = admin_route("PUT", "/calls/x/vars");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET | ADMIN_M_POST);
    m = admin_route("POST", "/events");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    assert_int_equal(route("HEAD", "/events", id, sizeof id), ADMIN_R_EVENTS);
}

static void test_call_ids_whole(void **state)
{
    (void)state;
    char id[128];
    /* Call-IDs may hold '/', '.', '%', quotes: all of it is the id */
    assert_int_equal(route("GET", "/calls/a/b/../c", id, sizeof id), ADMIN_R_CALL);
    assert_string_equal(id, "a/b/../c");
    assert_int_equal(route("GET", "/calls//", id, sizeof id), ADMIN_R_CALL);
    assert_string_equal(id, "/");
    assert_int_equal(route("HEAD", "/calls/\"<x>\"%00", id, sizeof id), ADMIN_R_CALL);
    assert_string_equal(id, "\"<x>\"%00");
}

static void test_not_found(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "", "/", "/health/", "/HEALTH", "/healthz", "//health", "/refused/x", "/call", "/callsx",
        "calls/1", "/calls%2F1", " /health", "/health?x=1", "/../health", "*", "/cdr/", "/cdrs",
        "/events/", "/eventsx", "/event", "/EVENTS",
    };
    char id[128];
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        assert_int_equal(route("GET", urls[i], id, sizeof id), ADMIN_R_NOT_FOUND);
        assert_string_equal(id, "");
        /* an unknown path is 404 whatever the method */
        assert_int_equal(route("POST", urls[i], id, sizeof id), ADMIN_R_NOT_FOUND);
    }
    assert_int_equal(route("GET", NULL, id, sizeof id), ADMIN_R_NOT_FOUND);
}

static void test_scenario_and_revisions(void **state)
{
    (void)state;
    char id[128];
    assert_int_equal(route("GET", "/scenario", id, sizeof id), ADMIN_R_SCENARIO);
    assert_int_equal(route("HEAD", "/scenario", id, sizeof id), ADMIN_R_SCENARIO);
    assert_int_equal(route("PUT", "/scenario", id, sizeof id), ADMIN_R_SCENARIO_PUT);
    assert_string_equal(id, "");
    assert_int_equal(route("POST", "/scenario/validate", id, sizeof id), ADMIN_R_VALIDATE);
    assert_int_equal(route("POST", "/reload", id, sizeof id), ADMIN_R_RELOAD);
    assert_int_equal(route("GET", "/revisions", id, sizeof id), ADMIN_R_REVISIONS);
    assert_int_equal(route("GET", "/revisions/", id, sizeof id), ADMIN_R_REVISIONS);
    assert_int_equal(route("GET", "/revisions/12", id, sizeof id), ADMIN_R_REVISION);
    assert_string_equal(id, "12");
    assert_int_equal(route("POST", "/revisions/3/restore", id, sizeof id), ADMIN_R_RESTORE);
    assert_string_equal(id, "3");
    /* the number is whatever stands there: the handler checks it */
    assert_int_equal(route("POST", "/revisions/x/y/restore", id, sizeof id), ADMIN_R_RESTORE);
    assert_string_equal(id, "x/y");
    assert_int_equal(route("POST", "/revisions///restore", id, sizeof id), ADMIN_R_RESTORE);
    assert_string_equal(id, "/");
    /* no number at all: not a restore (the GET of revision "restore" is) */
    assert_int_equal(route("POST", "/revisions//restore", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("POST", "/revisions/restore", id, sizeof id), ADMIN_R_NOT_ALLOWED);

    admin_match m = admin_route("DELETE", "/scenario");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET | ADMIN_M_PUT);
    assert_string_equal(admin_allow_header(m.allow), "GET, HEAD, PUT");
    m = admin_route("POST", "/scenario");
    assert_int_equal(m.allow, ADMIN_M_GET | ADMIN_M_PUT);
    m = admin_route("GET", "/scenario/validate");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_POST);
    m = admin_route("GET", "/reload");
    assert_int_equal(m.allow, ADMIN_M_POST);
    m = admin_route("POST", "/revisions");
    assert_int_equal(m.allow, ADMIN_M_GET);
    /* a restore is POST only; GET of its path names revision "3/restore" */
    m = admin_route("PUT", "/revisions/3/restore");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET | ADMIN_M_POST);
    assert_int_equal(route("POST", "/revisions/3", id, sizeof id), ADMIN_R_NOT_ALLOWED);
    assert_int_equal(route("GET", "/scenario/", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("PUT", "/scenarios", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/reload/", id, sizeof id), ADMIN_R_NOT_FOUND);
}

static void test_editor_phone_and_simulate(void **state)
{
    (void)state;
    char id[128];
    /* /editor (the handler redirects to /editor/), /editor/ (index.html) */
    assert_int_equal(route("GET", "/editor", id, sizeof id), ADMIN_R_EDITOR);
    assert_string_equal(id, "");
    assert_int_equal(route("GET", "/editor/", id, sizeof id), ADMIN_R_EDITOR);
    assert_string_equal(id, "");
    assert_int_equal(route("HEAD", "/editor/", id, sizeof id), ADMIN_R_EDITOR);
    assert_int_equal(route("GET", "/editor/editor-ABC123.js", id, sizeof id), ADMIN_R_EDITOR);
    assert_string_equal(id, "editor-ABC123.js");
    /* whatever follows is the name, climbs included: the handler serves
     * only the files it knows by their exact names */
    assert_int_equal(route("GET", "/editor/../health", id, sizeof id), ADMIN_R_EDITOR);
    assert_string_equal(id, "../health");
    assert_int_equal(route("GET", "/editor//etc/passwd", id, sizeof id), ADMIN_R_EDITOR);
    assert_string_equal(id, "/etc/passwd");
    assert_int_equal(route("GET", "/editorx", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("GET", "/Editor/", id, sizeof id), ADMIN_R_NOT_FOUND);
    admin_match m = admin_route("POST", "/editor/index.html");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    m = admin_route("PUT", "/editor");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);

    /* the browser phone's page, the same way below /phone */
    assert_int_equal(route("GET", "/phone", id, sizeof id), ADMIN_R_PHONE);
    assert_string_equal(id, "");
    assert_int_equal(route("HEAD", "/phone/", id, sizeof id), ADMIN_R_PHONE);
    assert_string_equal(id, "");
    assert_int_equal(route("GET", "/phone/phone-XYZ789.js", id, sizeof id), ADMIN_R_PHONE);
    assert_string_equal(id, "phone-XYZ789.js");
    assert_int_equal(route("GET", "/phone/../editor/", id, sizeof id), ADMIN_R_PHONE);
    assert_string_equal(id, "../editor/");
    assert_int_equal(route("GET", "/phones", id, sizeof id), ADMIN_R_NOT_FOUND);
    m = admin_route("POST", "/phone/");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);

    assert_int_equal(route("POST", "/simulate", id, sizeof id), ADMIN_R_SIMULATE);
    assert_string_equal(id, "");
    m = admin_route("GET", "/simulate");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_POST);
    assert_int_equal(route("POST", "/simulate/", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/simulatex", id, sizeof id), ADMIN_R_NOT_FOUND);
}

/* POST /queues/NAME/agents/NUMBER: the queue and the agent, one path
 * segment each; GET /queues beside it. */
static void test_queues(void **state)
{
    (void)state;
    char id[128];
    assert_int_equal(route("GET", "/queues", id, sizeof id), ADMIN_R_QUEUES);
    assert_string_equal(id, "");
    assert_int_equal(route("HEAD", "/queues", id, sizeof id), ADMIN_R_QUEUES);
    admin_match m = admin_route("POST", "/queues/support/agents/101");
    assert_int_equal(m.res, ADMIN_R_QUEUE_AGENT);
    assert_int_equal(m.param_len, 7);
    assert_memory_equal(m.param, "support", 7);
    assert_int_equal(m.param2_len, 3);
    assert_memory_equal(m.param2, "101", 3);
    /* a single parameter path has no second one */
    m = admin_route("GET", "/calls/x");
    assert_null(m.param2);
    /* each part is one non-empty segment */
    static const char *const bad[] = {"/queues//agents/101", "/queues/support/agents/", "/queues/a/b/agents/101",
                                      "/queues/support/agents/1/2", "/queues/support/agent/101", "/queues/support",
                                      "/queues/support/agents", "/queues/agents/101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(route("POST", bad[i], id, sizeof id), ADMIN_R_NOT_FOUND);
    /* a write only: a GET of it is 405 with Allow: POST */
    m = admin_route("GET", "/queues/support/agents/101");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_POST);
    assert_null(m.param2);
    m = admin_route("POST", "/queues");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    assert_int_equal(route("GET", "/queues/", id, sizeof id), ADMIN_R_NOT_FOUND);
}

static void test_not_allowed(void **state)
{
    (void)state;
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                          "CONNECT", "get", "Get", "GET ", "", "GETX", "HEADX"};
    char id[128];
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        admin_match m = admin_route(methods[i], "/health");
        assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
        assert_int_equal(m.allow, ADMIN_M_GET);
        assert_null(m.param);
        assert_int_equal(route(methods[i], "/calls/1", id, sizeof id), ADMIN_R_NOT_ALLOWED);
        assert_string_equal(id, "");
    }
    assert_int_equal(admin_route(NULL, "/health").res, ADMIN_R_NOT_ALLOWED);
    assert_string_equal(admin_allow_header(ADMIN_M_GET), "GET, HEAD");
    assert_string_equal(admin_allow_header(ADMIN_M_GET | ADMIN_M_PUT), "GET, HEAD, PUT");
}

/* /conferences/ROOM/members/ID: two parts, neither holding '/' */
static void test_conferences(void **state)
{
    (void)state;
    char id[128];
    assert_int_equal(route("GET", "/conferences", id, sizeof id), ADMIN_R_CONFERENCES);
    assert_int_equal(route("GET", "/conferences/", id, sizeof id), ADMIN_R_CONFERENCES);
    admin_match m = admin_route("POST", "/conferences/sales/members/12");
    assert_int_equal(m.res, ADMIN_R_CONF_MEMBER);
    assert_int_equal(m.param_len, 5);
    assert_memory_equal(m.param, "sales", 5);
    assert_int_equal(m.param2_len, 2);
    assert_memory_equal(m.param2, "12", 2);
    m = admin_route("DELETE", "/conferences/a.b-c/members/3");
    assert_int_equal(m.res, ADMIN_R_CONF_KICK);
    assert_memory_equal(m.param, "a.b-c", 5);
    assert_memory_equal(m.param2, "3", 1);
    /* the other methods on a member: 405 with POST and DELETE */
    m = admin_route("GET", "/conferences/sales/members/1");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_POST | ADMIN_M_DELETE);
    assert_string_equal(admin_allow_header(m.allow), "POST, DELETE");
    m = admin_route("POST", "/conferences");
    assert_int_equal(m.res, ADMIN_R_NOT_ALLOWED);
    assert_int_equal(m.allow, ADMIN_M_GET);
    /* missing or extra parts, slashes inside them: not a member */
    assert_int_equal(route("POST", "/conferences//members/1", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/conferences/sales/members/", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/conferences/sales/members/1/x", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("POST", "/conferences/a/b/members/1", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("DELETE", "/conferences/sales/member/1", id, sizeof id), ADMIN_R_NOT_FOUND);
    assert_int_equal(route("DELETE", "/conferences/sales", id, sizeof id), ADMIN_R_NOT_FOUND);
    /* the one-part routes have no second part */
    m = admin_route("POST", "/calls/x/hangup");
    assert_null(m.param2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_call_ids_whole),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_scenario_and_revisions),
        cmocka_unit_test(test_editor_phone_and_simulate),
        cmocka_unit_test(test_queues),
        cmocka_unit_test(test_not_allowed),
        cmocka_unit_test(test_conferences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

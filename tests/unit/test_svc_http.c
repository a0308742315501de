/* test_svc_http.c — the services layer's HTTP client against a real local
 * HTTP server (tests/services/http_server.py): answers, what the server
 * received, a slow service delaying only its own requests, dropped
 * connections, errors, timeouts, cancel, connection reuse, and the mocks
 * of `callroute test` on the virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>

#include "services/svc.h"
#include "svc_testlib.h"

static pid_t server_pid;
static int port;

typedef struct result {
    volatile bool done;
    long status;
    char body[4096];
    char error[256];
    double at;
    int calls;
} result;

static void res_cb(void *arg, const svc_http_res *r)
{
    result *x = arg;
    x->calls++;
    x->done = true;
    x->status = r->status;
    snprintf(x->body, sizeof x->body, "%s", r->body);
    snprintf(x->error, sizeof x->error, "%s", r->error ? r->error : "");
    x->at = tl_mono();
}

static char *url(const char *path)
{
    static char buf[8][256];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 256, "http://127.0.0.1:%d%s", port, path);
    return b;
}

static svc_http *get(svc_ctx *c, const char *path, double timeout, result *r)
{
    svc_http_req req = {.method = "GET", .url = url(path), .timeout = timeout, .verify_tls = true};
    return svc_http_start(c, &req, res_cb, r);
}

static svc_ctx *ctx(loop *l)
{
    char err[256];
    svc_options o = {.mail = SVC_MAIL_CAPTURE};
    svc_ctx *c = svc_new(l, NULL, &o, err, sizeof err);
    assert_non_null(c);
    return c;
}

/* The server's log of requests, parsed. */
static json_t *server_log(svc_ctx *c, loop *l)
{
    result r = {0};
    get(c, "/__log", 5, &r);
    assert_true(tl_run_until(l, &r.done, 5));
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    port = tl_http_server(&server_pid);
    return port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tl_kill(server_pid);
    return 0;
}

static void test_json_answer(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r = {0};
    get(c, "/json?x=1", 5, &r);
    assert_int_equal(l->real_pending, 1);   /* a virtual clock would wait for it */
    assert_true(tl_run_until(l, &r.done, 5));
    assert_int_equal(l->real_pending, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error, "");
    assert_non_null(strstr(r.body, "\"extension\": \"101\""));
    svc_free(c);
    loop_destroy(l);
}

static void test_server_receives_headers_and_body(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r = {0};
    const char *hdrs[] = {"X-Caller: 79165551234", "Content-Type: application/json"};
    const char body[] = "{\"caller\":\"79165551234\"}";
    svc_http_req req = {.method = "POST", .url = url("/echo/a%20b?q=%2B7"), .headers = hdrs,
                        .header_count = 2, .body = body, .body_len = strlen(body), .timeout = 5};
    svc_http_start(c, &req, res_cb, &r);
    assert_true(tl_run_until(l, &r.done, 5));
    assert_int_equal(r.status, 200);

    json_t *log = server_log(c, l);
    json_t *last = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e) if (strncmp(json_string_value(json_object_get(e, "path")), "/echo", 5) == 0) last = e;
    assert_non_null(last);
    assert_string_equal(json_string_value(json_object_get(last, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(last, "path")), "/echo/a%20b?q=%2B7");
    assert_string_equal(json_string_value(json_object_get(last, "body")), body);
    json_t *h = json_object_get(last, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "X-Caller")), "79165551234");
    assert_string_equal(json_string_value(json_object_get(h, "Content-Type")), "application/json");
    assert_null(json_object_get(h, "Expect"));
    json_decref(log);
    svc_free(c);
    loop_destroy(l);
}

/* A slow service delays only the requests waiting for it. */
static void test_slow_service_delays_only_its_requests(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result slow = {0}, fast[5] = {{0}};
    double t0 = tl_mono();
    get(c, "/delay/1.0", 5, &slow);
    for (int i = 0; i < 5; i++)
        get(c, "/json", 5, &fast[i]);
    assert_true(tl_run_until(l, &slow.done, 5));
    for (int i = 0; i < 5; i++) {
        assert_true(fast[i].done);
        assert_int_equal(fast[i].status, 200);
        assert_true(fast[i].at - t0 < 0.8);
    }
    assert_int_equal(slow.status, 200);
    assert_true(slow.at - t0 >= 0.95);
    svc_free(c);
    loop_destroy(l);
}

static void test_failures(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result drop = {0}, e500 = {0}, invalid = {0}, refused = {0};
    get(c, "/drop", 5, &drop);
    get(c, "/status/500", 5, &e500);
    get(c, "/invalid", 5, &invalid);
    /* A dead service: nothing listens on port 1 on loopback. */
    svc_http_req req = {.method = "GET", .url = "http://127.0.0.1:1/x", .timeout = 5};
    svc_http_start(c, &req, res_cb, &refused);
    assert_true(tl_run_until(l, &refused.done, 5));
    assert_true(tl_run_until(l, &drop.done, 5));
    assert_true(tl_run_until(l, &e500.done, 5));
    assert_true(tl_run_until(l, &invalid.done, 5));
    assert_int_equal(drop.status, 0);
    assert_true(drop.error[0] != '\0');
    assert_int_equal(e500.status, 500);       /* an answer: the app decides it failed */
    assert_string_equal(e500.error, "");
    assert_string_equal(invalid.body, "{not json");
    assert_int_equal(refused.status, 0);
    assert_non_null(strstr(refused.error, "onnect"));
    assert_int_equal(l->real_pending, 0);
    /* /metrics: four requests ended; the two without an answer failed */
    const svc_request_stats *rs = svc_request_stats_of(c, SVC_K_HTTP);
    assert_int_equal(rs->seconds.count, 4);
    assert_int_equal(rs->failures, 2);
    svc_free(c);
    loop_destroy(l);
}

static void test_timeout_backstop(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r = {0};
    double t0 = tl_mono();
    get(c, "/delay/3", 0.3, &r);
    assert_true(tl_run_until(l, &r.done, 5));
    assert_string_equal(r.error, "timeout");
    assert_true(r.at - t0 < 1.5);
    /* counted with the 0.3 s it was given */
    const cr_histogram *h = &svc_request_stats_of(c, SVC_K_HTTP)->seconds;
    assert_int_equal(h->count, 1);
    assert_true(h->sum >= 0.29 && h->sum < 1.5);
    svc_free(c);
    loop_destroy(l);
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static void cancel_cb(loop *l, void *arg)
{
    (void)l;
    svc_http_cancel(arg);
}

static void test_cancel(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r = {0};
    svc_http *h = get(c, "/delay/0.5", 5, &r);
    loop_timer_start(l, 0.1, cancel_cb, h);
    loop_timer_start(l, 0.8, stop_cb, NULL);
    loop_run(l);
    assert_int_equal(r.calls, 0);             /* no callback after cancel */
    assert_int_equal(l->real_pending, 0);
    assert_int_equal(svc_request_stats_of(c, SVC_K_HTTP)->seconds.count, 0);   /* not counted */
    svc_free(c);
    loop_destroy(l);
}

static void test_connection_reuse(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    for (int i = 0; i < 3; i++) {
        result r = {0};
        get(c, "/json?reuse", 5, &r);
        assert_true(tl_run_until(l, &r.done, 5));
    }
    json_t *log = server_log(c, l);
    long ports[3];
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(log, i, e) if (strcmp(json_string_value(json_object_get(e, "path")), "/json?reuse") == 0 && n < 3)
        ports[n++] = (long)json_integer_value(json_object_get(e, "port"));
    assert_int_equal(n, 3);
    assert_int_equal(ports[0], ports[1]);     /* one connection for all three */
    assert_int_equal(ports[1], ports[2]);
    json_decref(log);
    svc_free(c);
    loop_destroy(l);
}

static void test_redirect_followed(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r = {0};
    get(c, "/redirect", 5, &r);
    assert_true(tl_run_until(l, &r.done, 5));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"query\": \"redirected=1\""));
    svc_free(c);
    loop_destroy(l);
}

/* Freed with requests still on the wire: no callback, nothing leaks. */
static void test_free_with_requests_in_flight(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    svc_ctx *c = ctx(l);
    result r[3] = {{0}};
    for (int i = 0; i < 3; i++)
        get(c, "/delay/1", 5, &r[i]);
    tl_run_for(l, 0.1);
    assert_int_equal(l->real_pending, 3);
    svc_free(c);
    assert_int_equal(l->real_pending, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r[i].calls, 0);
    loop_destroy(l);
}

static char unmatched[256];
static void unmatched_cb(void *arg, const char *what)
{
    (void)arg;
    snprintf(unmatched, sizeof unmatched, "%s", what);
}

static void test_mocks_on_virtual_clock(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(1000);
    svc_http_mock hm[] = {
        {.method = "GET", .url = "http://crm.local/lookup*", .body = "{\"agent\":\"101\"}"},
        {.url = "http://slow.local/*", .delay = 10, .status = 204},
    };
    svc_mocks mk = {.http = hm, .http_count = 2, .unmatched = unmatched_cb};
    svc_options o = {.mail = SVC_MAIL_CAPTURE, .mocks = &mk};
    char err[128];
    svc_ctx *c = svc_new(l, NULL, &o, err, sizeof err);
    result a = {0}, b = {0}, none = {0}, post = {0};
    svc_http_req r1 = {.method = "GET", .url = "http://crm.local/lookup?n=1"};
    svc_http_req r2 = {.method = "GET", .url = "http://slow.local/x"};
    svc_http_req r3 = {.method = "GET", .url = "http://other.local/"};
    svc_http_req r4 = {.method = "POST", .url = "http://crm.local/lookup"};
    svc_http_start(c, &r1, res_cb, &a);
    svc_http_start(c, &r2, res_cb, &b);
    svc_http_start(c, &r3, res_cb, &none);
    svc_http_start(c, &r4, res_cb, &post);
    double t0 = tl_mono();
    loop_run(l);
    assert_true(tl_mono() - t0 < 1);          /* ten virtual seconds, no real wait */
    assert_true(loop_now(l) >= 1010);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"agent\":\"101\"}");
    assert_int_equal(b.status, 204);
    assert_int_equal(none.status, 0);
    assert_string_equal(none.error, "no mock for http GET http://other.local/");
    assert_non_null(strstr(post.error, "no mock"));   /* method must match */
    assert_string_equal(unmatched, "http POST http://crm.local/lookup");
    svc_free(c);
    loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_answer),
        cmocka_unit_test(test_server_receives_headers_and_body),
        cmocka_unit_test(test_slow_service_delays_only_its_requests),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_timeout_backstop),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_connection_reuse),
        cmocka_unit_test(test_redirect_followed),
        cmocka_unit_test(test_free_with_requests_in_flight),
        cmocka_unit_test(test_mocks_on_virtual_clock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_trace_pack.c — packed trace records (engine/trace_pack.h) format
 * exactly as the records they were packed from: the admin API keeps its
 * traces packed and formats them when GET /calls/ID reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/trace_pack.h"

/* Every kind, with every field its formatters read; strings with quotes,
 * newlines and an embedded NUL in a value. */
static const eng_trace_var app_vars[] = {
    {"dial_status", {.kind = CR_VAL_STR, .str = "answered", .len = 8}},
    {"n", {.kind = CR_VAL_NUM, .num = 12.5}},
    {"inf", {.kind = CR_VAL_NUM, .num = 1e300 * 1e300}},
    {"ok", {.kind = CR_VAL_BOOL, .b = true}},
    {"none", {.kind = CR_VAL_NULL}},
    {"bin", {.kind = CR_VAL_STR, .str = "a\0b\"c", .len = 5}},
    {"err", {.kind = CR_VAL_ERR, .str = "bad \"thing\"", .len = 11}},
    {"nostr", {.kind = CR_VAL_STR, .str = NULL, .len = 0}},
};

static const eng_trace_rec records[] = {
    {.kind = ENG_TR_ROUTE, .t = 0, .route = "vip", .explain = "vip (priority 90): chosen\nother: not matched\n"},
    {.kind = ENG_TR_ROUTE, .t = 0.25, .route = NULL, .leg = "1000", .strand = 3, .strand_name = "main"},
    {.kind = ENG_TR_APP, .t = 1.5, .strand = 1, .strand_name = "main", .app = "dial", .path = "routes[0].script[0]",
     .id = "d1", .phase = "end", .status = "error", .error = "no \"answer\"", .vars = app_vars,
     .var_count = sizeof app_vars / sizeof app_vars[0]},
    {.kind = ENG_TR_EVENT, .t = 2, .event = "dtmf", .by = "caller", .leg = "l", .digit = "5", .sip_code = 183,
     .vars = app_vars, .var_count = 1},
    {.kind = ENG_TR_EMAIL, .t = 3, .to = "a@b", .cc = "c@d", .subject = "s\u00e9", .body = "line 1\nline 2\n"},
    {.kind = ENG_TR_HANGUP, .t = 4, .by = "caller", .cause = "normal", .sip_code = 200},
    {.kind = ENG_TR_LOG, .t = 5, .level = "warning", .message = "tab\there"},
    {.kind = ENG_TR_ERROR, .t = 5.001, .level = "error", .message = ""},
    {.kind = ENG_TR_ORIGINATE, .t = 0, .to = "1000", .gateway = "gw", .scenario = "s", .by = "admin",
     .parent = "p-1"},
    {.kind = ENG_TR_VARS, .t = 6, .by = "admin", .vars = app_vars + 1, .var_count = 2},
    {.kind = ENG_TR_MEET, .t = 7, .event = "conference", .phase = "start", .room = "r", .member = 4,
     .mode = "listen", .slot = "701", .peer = "x", .cause = "c"},
    {.kind = ENG_TR_CALL, .t = 8, .route = "vip", .by = "caller", .cause = "normal", .duration = 8.125},
};
#define NREC (sizeof records / sizeof records[0])

static void test_each_kind_formats_the_same(void **state)
{
    (void)state;
    cr_strbuf packed = CR_STRBUF_INIT;
    for (size_t i = 0; i < NREC; i++) {
        eng_trace_rec r = records[i];
        r.call_id = "call-1";
        size_t n = eng_trace_pack(&r, &packed);
        assert_true(n > 0);
    }
    size_t pos = 0, i = 0;
    eng_trace_unpacked u;
    while (eng_trace_unpack(packed.s, packed.len, &pos, "call-1", &u)) {
        assert_true(i < NREC);
        eng_trace_rec r = records[i];
        r.call_id = "call-1";
        cr_strbuf want = CR_STRBUF_INIT, got = CR_STRBUF_INIT;
        eng_trace_json(&r, &want);
        eng_trace_json(&u.rec, &got);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.s, want.s, want.len);
        cr_strbuf_reset(&want);
        cr_strbuf_reset(&got);
        eng_trace_text(&r, &want);
        eng_trace_text(&u.rec, &got);
        assert_string_equal(cr_strbuf_cstr(&got), cr_strbuf_cstr(&want));
        cr_strbuf_free(&want);
        cr_strbuf_free(&got);
        eng_trace_unpacked_free(&u);
        i++;
    }
    assert_int_equal(i, NREC);
    assert_int_equal(pos, packed.len);
    cr_strbuf_free(&packed);
}

/* Smaller than the JSON it stands for: the point is memory too. */
static void test_packed_is_smaller_than_json(void **state)
{
    (void)state;
    cr_strbuf packed = CR_STRBUF_INIT, json = CR_STRBUF_INIT;
    for (size_t i = 0; i < NREC; i++) {
        eng_trace_rec r = records[i];
        r.call_id = "call-1";
        eng_trace_pack(&r, &packed);
        eng_trace_json(&r, &json);
    }
    assert_true(packed.len < json.len);
    cr_strbuf_free(&packed);
    cr_strbuf_free(&json);
}

static void test_empty_buffer_has_no_record(void **state)
{
    (void)state;
    size_t pos = 0;
    eng_trace_unpacked u;
    assert_false(eng_trace_unpack(NULL, 0, &pos, "x", &u));
    assert_int_equal(pos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_formats_the_same),
        cmocka_unit_test(test_packed_is_smaller_than_json),
        cmocka_unit_test(test_empty_buffer_has_no_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

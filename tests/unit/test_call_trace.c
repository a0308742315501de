/* test_call_trace.c — the admin API's packed trace records
 * (admin/call_trace.h) format exactly as the records they were packed
 * from, JSON and text, byte for byte: every kind, hostile strings (quotes,
 * control characters, a NUL in a value, 100 KB values), times that cannot
 * be kept as milliseconds. And the shared strings (admin/strtab.h) are
 * shared, counted, and all gone when the records are. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/call_trace.h"
#include "admin/strtab.h"

static const eng_trace_var app_vars[] = {
    {"dial_status", {.kind = CR_VAL_STR, .str = "answered", .len = 8}},
    {"n", {.kind = CR_VAL_NUM, .num = 12.5}},
    {"inf", {.kind = CR_VAL_NUM, .num = 1e300 * 1e300}},
    {"nan", {.kind = CR_VAL_NUM, .num = NAN}},
    {"neg0", {.kind = CR_VAL_NUM, .num = -0.0}},
    {"zero", {.kind = CR_VAL_NUM, .num = 0}},
    {"ok", {.kind = CR_VAL_BOOL, .b = true}},
    {"no", {.kind = CR_VAL_BOOL, .b = false}},
    {"none", {.kind = CR_VAL_NULL}},
    {"bin", {.kind = CR_VAL_STR, .str = "a\0b\"c", .len = 5}},
    {"err", {.kind = CR_VAL_ERR, .str = "bad \"thing\"", .len = 11}},
    {"nostr", {.kind = CR_VAL_STR, .str = NULL, .len = 0}},
    {"empty", {.kind = CR_VAL_STR, .str = "", .len = 0}},
    {"ctl", {.kind = CR_VAL_STR, .str = "\x01\x1f\x7f\t\r\n\\/\"", .len = 9}},
    {"q\"uoted\n\x02name", {.kind = CR_VAL_STR, .str = "\xc3\xa9\xff\xfe", .len = 4}},
};
#define NVARS (sizeof app_vars / sizeof app_vars[0])

static char *long_value;   /* 100 KB of every byte but NUL */

/* Every kind with every field its formatters read; hostile strings. */
static eng_trace_rec records[64];
static size_t nrec;

static void add(eng_trace_rec r) { records[nrec++] = r; }

static void build(void)
{
    long_value = malloc(100 * 1024 + 1);
    for (size_t i = 0; i < 100 * 1024; i++)
        long_value[i] = (char)(1 + i % 255);
    long_value[100 * 1024] = '\0';
    nrec = 0;
    add((eng_trace_rec){.kind = ENG_TR_ROUTE, .t = 0, .route = "vip", .explain = "vip (priority 90): chosen\nother: no\n"});
    add((eng_trace_rec){.kind = ENG_TR_ROUTE, .t = 0.25, .route = NULL, .leg = "1000", .strand = 3, .strand_name = "main"});
    add((eng_trace_rec){.kind = ENG_TR_APP, .t = 1.5, .strand = 1, .strand_name = "main", .app = "dial",
                        .path = "routes[0].script[0]", .id = "d1", .phase = "end", .status = "error",
                        .error = "no \"answer\"\r\n\x01", .vars = app_vars, .var_count = NVARS});
    add((eng_trace_rec){.kind = ENG_TR_EVENT, .t = 2, .event = "dtmf", .by = "caller", .leg = "l", .digit = "5",
                        .sip_code = 183, .vars = app_vars, .var_count = 1});
    add((eng_trace_rec){.kind = ENG_TR_EVENT, .t = 2, .event = "odd", .sip_code = -7, .strand = 4000000000u,
                        .strand_name = ""});
    add((eng_trace_rec){.kind = ENG_TR_EMAIL, .t = 3, .to = "a@b", .cc = "c@d", .subject = "s\u00e9",
                        .body = "line 1\nline 2\n"});
    add((eng_trace_rec){.kind = ENG_TR_EMAIL, .t = 3, .to = "\"x\"@y", .subject = long_value, .body = long_value});
    add((eng_trace_rec){.kind = ENG_TR_HANGUP, .t = 4, .by = "caller", .cause = "normal", .sip_code = 200});
    add((eng_trace_rec){.kind = ENG_TR_LOG, .t = 5, .level = "warning", .message = "tab\there \"q\" \\ \x1b[31m"});
    add((eng_trace_rec){.kind = ENG_TR_ERROR, .t = 5.001, .level = "error", .message = ""});
    add((eng_trace_rec){.kind = ENG_TR_ORIGINATE, .t = 0, .to = "1000", .gateway = "gw", .scenario = "s",
                        .by = "admin", .parent = "p-1", .vars = app_vars + 1, .var_count = 3});
    add((eng_trace_rec){.kind = ENG_TR_VARS, .t = 6, .by = "admin", .vars = app_vars + 1, .var_count = 2});
    add((eng_trace_rec){.kind = ENG_TR_MEET, .t = 7, .event = "conference", .phase = "start", .room = "r",
                        .member = 4, .mode = "listen", .slot = "701", .peer = "x", .cause = "c"});
    add((eng_trace_rec){.kind = ENG_TR_CALL, .t = 8, .route = "vip", .by = "caller", .cause = "normal",
                        .duration = 8.125});
    add((eng_trace_rec){.kind = ENG_TR_CALL, .t = 8, .route = NULL, .duration = 0});
    /* Times: ties and near-ties of "%.3f", negative, -0, NaN, huge. */
    double times[] = {0.0005, 0.0015, 1.0005, 2.4994999, 0.1 + 0.2, 1e-9, -1e-9, -0.0, -3.25, NAN, INFINITY,
                      1e9, 1e15, 123456.789, 3599.9999};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        add((eng_trace_rec){.kind = ENG_TR_CALL, .t = times[i], .route = "r", .duration = times[i]});
}

static void assert_same_format(const eng_trace_rec *want_r, const eng_trace_rec *got_r)
{
    cr_strbuf want = CR_STRBUF_INIT, got = CR_STRBUF_INIT;
    eng_trace_json(want_r, &want);
    eng_trace_json(got_r, &got);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.s, want.s, want.len);
    cr_strbuf_reset(&want);
    cr_strbuf_reset(&got);
    eng_trace_text(want_r, &want);
    eng_trace_text(got_r, &got);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(cr_strbuf_cstr(&got), cr_strbuf_cstr(&want), want.len);
    cr_strbuf_free(&want);
    cr_strbuf_free(&got);
}

static void test_each_kind_formats_the_same(void **state)
{
    (void)state;
    build();
    strtab *tab = strtab_new();
    cr_strbuf packed = CR_STRBUF_INIT;
    for (size_t i = 0; i < nrec; i++) {
        records[i].call_id = "call-\"1\"";
        assert_true(call_trace_pack(&records[i], tab, &packed) > 0);
    }
    size_t pos = 0, i = 0;
    call_trace_rec u;
    while (call_trace_unpack((const uint8_t *)packed.s, packed.len, &pos, tab, "call-\"1\"", &u)) {
        assert_true(i < nrec);
        assert_same_format(&records[i], &u.rec);
        call_trace_rec_free(&u);
        i++;
    }
    assert_int_equal(i, nrec);
    assert_int_equal(pos, packed.len);
    /* Released, every string goes. */
    assert_true(strtab_count(tab) > 0);
    call_trace_release((const uint8_t *)packed.s, packed.len, tab);
    assert_int_equal(strtab_count(tab), 0);
    cr_strbuf_free(&packed);
    strtab_free(tab);
    free(long_value);
}

/* A thousand calls with the same records keep their strings once, and
 * each record is a few bytes; the bound counts the strings as if copied. */
static void test_strings_are_shared(void **state)
{
    (void)state;
    strtab *tab = strtab_new();
    eng_trace_rec r = {.kind = ENG_TR_EVENT, .t = 1, .strand = 1, .strand_name = "main", .event = "answer",
                       .leg = "gw:uas/1000", .sip_code = 200};
    cr_strbuf a = CR_STRBUF_INIT, b = CR_STRBUF_INIT;
    size_t kept = call_trace_pack(&r, tab, &a);
    size_t count = strtab_count(tab);
    call_trace_pack(&r, tab, &b);
    assert_int_equal(strtab_count(tab), count);
    assert_int_equal(a.len, b.len);
    assert_true(a.len <= 12);
    assert_int_equal(kept, a.len + strlen("main") + strlen("answer") + strlen("gw:uas/1000") + 3);
    /* One call's records released: the other's still read. */
    call_trace_release((const uint8_t *)a.s, a.len, tab);
    assert_int_equal(strtab_count(tab), count);
    size_t pos = 0;
    call_trace_rec u;
    assert_true(call_trace_unpack((const uint8_t *)b.s, b.len, &pos, tab, "c", &u));
    r.call_id = "c";
    assert_same_format(&r, &u.rec);
    call_trace_rec_free(&u);
    call_trace_release((const uint8_t *)b.s, b.len, tab);
    assert_int_equal(strtab_count(tab), 0);
    cr_strbuf_free(&a);
    cr_strbuf_free(&b);
    strtab_free(tab);
}

/* Numbers are reused, lengths kept, NULs inside kept; many strings rehash. */
static void test_strtab(void **state)
{
    (void)state;
    strtab *t = strtab_new();
    assert_int_equal(strtab_ref(t, NULL, 3), 0);
    assert_null(strtab_str(t, 0, NULL));
    uint32_t x = strtab_ref(t, "a\0b", 3), y = strtab_ref(t, "a", 1), z = strtab_ref(t, "a\0b", 3);
    assert_int_equal(x, z);
    assert_int_not_equal(x, y);
    size_t len;
    assert_memory_equal(strtab_str(t, x, &len), "a\0b", 4);
    assert_int_equal(len, 3);
    strtab_unref(t, x);
    assert_int_equal(strtab_count(t), 2);
    strtab_unref(t, x);
    assert_int_equal(strtab_count(t), 1);
    assert_int_equal(strtab_ref_cstr(t, "new"), x);   /* the freed number again */
    char buf[32];
    uint32_t ids[5000];
    for (size_t i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "s%zu", i);
        ids[i] = strtab_ref(t, buf, (size_t)n);
    }
    for (size_t i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "s%zu", i);
        assert_int_equal(strtab_ref(t, buf, (size_t)n), ids[i]);
        assert_string_equal(strtab_str(t, ids[i], NULL), buf);
        strtab_unref(t, ids[i]);
        strtab_unref(t, ids[i]);
    }
    assert_int_equal(strtab_count(t), 2);
    strtab_free(t);   /* with strings still referenced: all freed */
}

/* strtab finds a string by its pointer first (a cache): a pointer whose
 * bytes changed, a shorter length at it, or its number freed and given to
 * other bytes must still give the number of the bytes passed. */
static void test_strtab_same_pointer_other_bytes(void **state)
{
    (void)state;
    strtab *t = strtab_new();
    char buf[16] = "alpha";
    uint32_t a = strtab_ref(t, buf, 5);
    assert_int_equal(strtab_ref(t, buf, 5), a);   /* a hit: one more reference */
    memcpy(buf, "bravo", 5);
    uint32_t b = strtab_ref(t, buf, 5);
    assert_int_not_equal(a, b);
    assert_string_equal(strtab_str(t, b, NULL), "bravo");
    uint32_t br = strtab_ref(t, buf, 2);          /* "br": same pointer, shorter */
    assert_int_not_equal(br, b);
    assert_string_equal(strtab_str(t, br, NULL), "br");
    /* b's number freed, then given to other bytes; buf still says bravo. */
    strtab_unref(t, b);
    uint32_t c = strtab_ref_cstr(t, "charlie");
    assert_int_equal(c, b);
    uint32_t b2 = strtab_ref(t, buf, 5);
    assert_int_not_equal(b2, c);
    assert_string_equal(strtab_str(t, b2, NULL), "bravo");
    assert_string_equal(strtab_str(t, c, NULL), "charlie");
    /* a's number freed and not reused: the pointer's bytes are added anew. */
    memcpy(buf, "alpha", 5);
    strtab_unref(t, a);
    strtab_unref(t, a);
    uint32_t a2 = strtab_ref(t, buf, 5);
    assert_string_equal(strtab_str(t, a2, NULL), "alpha");
    assert_int_equal(strtab_ref(t, "alpha", 5), a2);   /* by bytes from another pointer */
    assert_int_equal(strtab_count(t), 4);               /* alpha, br, charlie, bravo */
    /* A C string at the pointer of a kept string with a NUL inside. */
    char nul[8] = {'x', '\0', 'y', '\0'};
    uint32_t xy = strtab_ref(t, nul, 3);
    size_t len = 9;
    uint32_t x = strtab_ref_cstr_len(t, nul, &len);
    assert_int_not_equal(x, xy);
    assert_int_equal(len, 1);
    assert_string_equal(strtab_str(t, x, NULL), "x");
    assert_int_equal(strtab_ref_cstr_len(t, nul, &len), x);   /* now a hit */
    assert_int_equal(len, 1);
    assert_int_equal(strtab_ref_cstr_len(t, NULL, &len), 0);
    assert_int_equal(len, 0);
    strtab_free(t);
}

static void test_empty_buffer_has_no_record(void **state)
{
    (void)state;
    strtab *t = strtab_new();
    size_t pos = 0;
    call_trace_rec u;
    assert_false(call_trace_unpack(NULL, 0, &pos, t, "x", &u));
    assert_int_equal(pos, 0);
    call_trace_release(NULL, 0, t);
    strtab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_formats_the_same),
        cmocka_unit_test(test_strings_are_shared),
        cmocka_unit_test(test_strtab),
        cmocka_unit_test(test_strtab_same_pointer_other_bytes),
        cmocka_unit_test(test_empty_buffer_has_no_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_route.c — route selection: priorities, ties, disabled routes, any vs
 * all, route types, the explanation; the regex prefixes the index uses; and
 * a property test: on randomised route tables and calls the index picks
 * exactly what a full scan picks, while evaluating far fewer routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "apps/registry.h"
#include "route/route.h"
#include "route/route_int.h"
#include "scenario/diag.h"

/* ---- harness ---- */

typedef struct {
    const char *names[8];
    const char *vals[8];
    size_t n;
} vars;

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    vars *v = ctx;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->names[i]) == len && memcmp(v->names[i], name, len) == 0) {
            *out = cr_val_cstr(v->vals[i]);
            return true;
        }
    return false;
}

static scn_program *load(const char *yaml)
{
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = scn_program_load_buffer("t.yaml", yaml, strlen(yaml), app_registry, &d);
    if (!p || d.errors) {
        scn_diags_print(&d, stderr);
        fail_msg("does not load:\n%s", yaml);
    }
    scn_diags_free(&d);
    return p;
}

typedef struct {
    vars v;
    cr_arena scratch;
    scn_env env;
} call;

static void call_init(call *c, const char *from, const char *to, const char *source, double now)
{
    memset(c, 0, sizeof *c);
    c->v.names[0] = "caller_number";
    c->v.vals[0] = from;
    c->v.names[1] = "called_number";
    c->v.vals[1] = to;
    c->v.names[2] = "source";
    c->v.vals[2] = source;
    c->v.n = 3;
    cr_arena_init(&c->scratch, 1024);
    c->env.lookup = lookup_cb;
    c->env.ctx = &c->v;
    c->env.scratch = &c->scratch;
    c->env.now = now;
}

static const char *pick(const scn_program *p, scn_route_type t, call *c)
{
    const scn_route *r = route_select(p, t, &c->env, NULL);
    const scn_route *lin = route_select_linear(p, t, &c->env);
    assert_ptr_equal(r, lin);
    return r ? r->name : "-";
}

#define HEAD "version: 1\ngateways: { gw1: { uri: 'sip:192.0.2.1' }, gw2: { uri: 'sip:192.0.2.2' } }\n" \
             "users: { '101': { name: A }, '102': { name: B } }\nroutes:\n"
#define S " script: [ { app: answer } ]"

/* ---- priorities, ties, disabled, types ---- */

static void test_priority_ties_disabled(void **state)
{
    (void)state;
    scn_program *p = load(HEAD
        "  - { name: low, priority: 10, conditions: [ { var: called_number, op: starts_with, value: '7' } ],"S" }\n"
        "  - { name: tie-a, priority: 50, conditions: [ { var: called_number, op: starts_with, value: '74' } ],"S" }\n"
        "  - { name: tie-b, priority: 50, conditions: [ { var: called_number, op: equals, value: '7495' } ],"S" }\n"
        "  - { name: off, priority: 99, enabled: false,"S" }\n"
        "  - { name: high, priority: 80, conditions: [ { var: caller_number, op: equals, value: '1' } ],"S" }\n");
    call c;
    call_init(&c, "2", "7495", "gw1", 0);
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "tie-a");   /* tie: earlier in file */
    c.v.vals[0] = "1";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "high");    /* priority beats order */
    c.v.vals[0] = "2";
    c.v.vals[1] = "7000";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "low");
    c.v.vals[1] = "8000";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "-");       /* disabled never runs */
    cr_arena_free(&c.scratch);
    scn_program_unref(p);
}

static void test_types_and_any_all(void **state)
{
    (void)state;
    scn_program *p = load(HEAD
        "  - { name: gw-any, match: any, conditions: [ { var: source, op: equals, value: gw2 },"
        " { var: caller_number, op: equals, value: '555' } ],"S" }\n"
        "  - { name: gw-all, match: all, conditions: [ { var: source, op: equals, value: gw1 },"
        " { var: caller_number, op: equals, value: '555' } ],"S" }\n"
        "  - { name: users, type: from_user, conditions: [ { var: called_number, op: pattern, value: '_1XX' } ],"S" }\n"
        "  - { name: dnd-101, type: to_user, conditions: [ { var: called_number, op: equals, value: '101' } ],"S" }\n"
        "  - { name: out, type: to_gateway, conditions: [ { var: called_number, op: pattern, value: '_8.' } ],"S" }\n");
    call c;
    call_init(&c, "555", "100", "gw1", 0);
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "gw-any");   /* any: 555 alone */
    c.v.vals[0] = "444";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "-");        /* all: needs both */
    c.v.vals[2] = "gw2";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_GATEWAY, &c), "gw-any");
    c.v.vals[2] = "user:101";
    c.v.vals[1] = "102";
    assert_string_equal(pick(p, SCN_ROUTE_FROM_USER, &c), "users");       /* types are separate */
    assert_string_equal(pick(p, SCN_ROUTE_TO_USER, &c), "-");
    c.v.vals[1] = "101";
    assert_string_equal(pick(p, SCN_ROUTE_TO_USER, &c), "dnd-101");
    c.v.vals[1] = "8123";
    assert_string_equal(pick(p, SCN_ROUTE_TO_GATEWAY, &c), "out");
    assert_string_equal(pick(p, SCN_ROUTE_FROM_USER, &c), "-");
    cr_arena_free(&c.scratch);
    scn_program_unref(p);
}

/* ---- explanation, line by line ---- */

static void test_explanation(void **state)
{
    (void)state;
    scn_program *p = load(HEAD
        "  - { name: off, priority: 99, enabled: false,"S" }\n"
        "  - { name: vip, priority: 90, conditions: [ { var: caller_number, op: in, value: ['1', '2'] } ],"S" }\n"
        "  - name: office\n    priority: 50\n    conditions:\n"
        "      - { var: called_number, op: pattern, value: _7495XXX }\n"
        "      - { schedule: { days: mon-fri, time: '09:00-18:00', tz: Europe/Moscow } }\n"
        "   "S"\n"
        "  - { name: any-moscow, priority: 50, conditions: [ { var: called_number, op: starts_with, value: '7495' } ],"S" }\n"
        "  - { name: fallback, priority: 0,"S" }\n"
        "  - { name: mine, type: from_user,"S" }\n");
    call c;
    call_init(&c, "3", "7495123", "gw1", 1795849200);   /* 2026-11-28 10:00 Moscow, a saturday */
    cr_strbuf out = CR_STRBUF_INIT;
    const scn_route *r = route_select(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &out);
    assert_non_null(r);
    assert_string_equal(r->name, "any-moscow");
    assert_string_equal(cr_strbuf_cstr(&out),
        "off (priority 99): disabled\n"
        "vip (priority 90): not matched: caller_number in ['1', '2'] (saw '3')\n"
        "office (priority 50): not matched: schedule days mon-fri (saw sat 2026-11-28 10:00 Europe/Moscow)\n"
        "any-moscow (priority 50): chosen\n"
        "fallback (priority 0): matched, but 'any-moscow' wins (higher priority)\n");
    cr_strbuf_reset(&out);
    route_explanation e;
    route_explain(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &e);
    route_explanation_json(&e, &out);
    assert_non_null(strstr(cr_strbuf_cstr(&out), "{\"route\":\"any-moscow\",\"type\":\"from_gateway\",\"routes\":["
                           "{\"name\":\"off\",\"priority\":99,\"enabled\":false,\"matched\":false,\"chosen\":false,"
                           "\"reason\":null,\"file\":\"t.yaml\",\"line\":"));
    route_explanation_free(&e);
    cr_strbuf_reset(&out);
    assert_null(route_select(p, SCN_ROUTE_TO_USER, &c.env, &out));
    assert_string_equal(cr_strbuf_cstr(&out), "no to_user routes\n");
    cr_strbuf_free(&out);
    cr_arena_free(&c.scratch);
    scn_program_unref(p);
}

/* Above 64 routes of a type, the explanation lists what the index looked
 * at and counts the rest. */
static void test_explanation_big_table(void **state)
{
    (void)state;
    cr_strbuf y = CR_STRBUF_INIT;
    cr_strbuf_puts(&y, HEAD);
    cr_strbuf_puts(&y, "  - { name: vip, priority: 90, conditions: [ { var: caller_number, op: in, value: ['1'] } ],"S" }\n");
    for (unsigned i = 0; i < 99; i++)
        cr_strbuf_printf(&y, "  - { name: r%u, priority: 50, conditions: [ { var: called_number, op: equals, "
                         "value: '%u' } ],"S" }\n", i, 1000 + i);
    cr_strbuf_puts(&y, "  - { name: night, priority: 10, conditions: [ { schedule: { time: '22:00-06:00', tz: UTC } } ],"S" }\n");
    cr_strbuf_puts(&y, "  - { name: off, priority: 99, enabled: false,"S" }\n");
    scn_program *p = load(cr_strbuf_cstr(&y));
    call c;
    call_init(&c, "2", "1050", "gw1", 1780000000);   /* 2026-05-28 20:26 UTC */
    cr_strbuf out = CR_STRBUF_INIT;
    assert_string_equal(route_select(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &out)->name, "r50");
    assert_string_equal(cr_strbuf_cstr(&out),
        "r50 (priority 50): chosen\n"
        "(101 other from_gateway routes not evaluated: ruled out by the index, ranked below 'r50', or "
        "disabled; `callroute route` lists every route)\n");
    cr_strbuf_reset(&out);
    c.v.vals[1] = "5";
    assert_null(route_select(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &out));
    assert_string_equal(cr_strbuf_cstr(&out),
        "night (priority 10): not matched: schedule time 22:00-06:00 (saw thu 2026-05-28 20:26 UTC)\n"
        "(101 other from_gateway routes not evaluated: ruled out by the index, or disabled; "
        "`callroute route` lists every route)\n");
    cr_strbuf_free(&out);
    cr_strbuf_free(&y);
    cr_arena_free(&c.scratch);
    scn_program_unref(p);
}

/* ---- regex prefixes ---- */

static void test_regex_prefix(void **state)
{
    (void)state;
    static const struct { const char *re; const char *prefix; } cases[] = {
        {"^7495", "7495"},
        {"^7495\\d{7}$", "7495"},
        {"^\\+7495", "+7495"},
        {"^\\+?7495", ""},
        {"^12?3", "1"},
        {"^12*3", "1"},
        {"^12+3", "12"},
        {"^12{2}", "1"},
        {"^(7495|7499)", NULL},   /* any | gives up */
        {"^(7495)", ""},
        {"^7495|^7499", NULL},
        {"7495", NULL},
        {"^74.5", "74"},
        {"^74[59]", "74"},
        {"^", ""},
        {"^\\d", ""},
        {"^ab\\.c", "ab.c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 99;
        const char *got = route_regex_prefix(cases[i].re, strlen(cases[i].re), &len, NULL);
        if (!cases[i].prefix) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_int_equal(len, strlen(cases[i].prefix));
        assert_memory_equal(got, cases[i].prefix, len);
    }
}

/* ---- the index against the full scan ---- */

static uint64_t rng_state;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void rnd_number(char *buf, unsigned maxlen)
{
    unsigned n = rnd(maxlen + 1);
    for (unsigned i = 0; i < n; i++)
        buf[i] = (char)('1' + rnd(3));
    buf[n] = '\0';
}

static const char *const vars3[] = {"called_number", "caller_number", "source"};

static void rnd_leaf(cr_strbuf *y)
{
    char a[8], b[8], pat[16];
    const char *var = vars3[rnd(2)];
    switch (rnd(12)) {
    case 0: rnd_number(a, 3); cr_strbuf_printf(y, "{var: %s, op: equals, value: '%s'}", var, a); break;
    case 1:
        rnd_number(a, 3);
        rnd_number(b, 3);
        cr_strbuf_printf(y, "{var: %s, op: in, value: ['%s', '%s']}", var, a, b);
        break;
    case 2: rnd_number(a, 2); cr_strbuf_printf(y, "{var: %s, op: starts_with, value: '%s'}", var, a); break;
    case 3: {
        static const char *const els[] = {"1", "2", "3", "X", "[1-2]", ".", "!", "Z"};
        unsigned n = 1 + rnd(4);
        strcpy(pat, "_");
        for (unsigned i = 0; i < n; i++)
            strcat(pat, els[rnd(8)]);
        cr_strbuf_printf(y, "{var: %s, op: pattern, value: '%s'}", var, pat);
        break;
    }
    case 4: {
        static const char *const res[] = {"^12", "^1?2", "3$", "^(1|2)3", "^\\\\d{2}$", "^21+3", "2"};
        cr_strbuf_printf(y, "{var: %s, op: matches, value: '%s'}", var, res[rnd(7)]);
        break;
    }
    case 5: cr_strbuf_printf(y, "{var: source, op: equals, value: gw%u}", 1 + rnd(2)); break;
    case 6: {
        unsigned h1 = rnd(24), h2 = (h1 + 1 + rnd(22)) % 24;
        cr_strbuf_printf(y, "{schedule: {time: '%02u:00-%02u:00', tz: UTC}}", h1, h2);
        break;
    }
    case 7: rnd_number(a, 2); cr_strbuf_printf(y, "{not: {var: %s, op: starts_with, value: '%s'}}", var, a); break;
    case 8:
        rnd_number(a, 3);
        rnd_number(b, 2);
        cr_strbuf_printf(y, "{match: any, conditions: [{var: %s, op: equals, value: '%s'}, "
                         "{var: called_number, op: starts_with, value: '%s'}]}", var, a, b);
        break;
    case 9: cr_strbuf_printf(y, "{expr: 'len(called_number) > %u'}", rnd(4)); break;
    case 10: rnd_number(a, 3); cr_strbuf_printf(y, "{var: %s, op: not_equals, value: '%s'}", var, a); break;
    default:
        rnd_number(a, 3);
        cr_strbuf_printf(y, "{var: %s, op: pattern, value: '%s'}", var, a[0] ? a : "1");
        break;
    }
}

static void test_index_equals_linear(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 25; seed++) {
        rng_state = 0x9E3779B97F4A7C15ull * seed;
        cr_strbuf y = CR_STRBUF_INIT;
        cr_strbuf_puts(&y, HEAD);
        unsigned nroutes = 1 + rnd(60);
        for (unsigned i = 0; i < nroutes; i++) {
            cr_strbuf_printf(&y, "  - { name: r%u, type: %s, priority: %u, enabled: %s, match: %s, "
                             "conditions: [", i, rnd(4) ? "from_gateway" : "from_user", rnd(4),
                             rnd(10) ? "true" : "false", rnd(3) ? "all" : "any");
            unsigned nc = rnd(4);
            for (unsigned k = 0; k < nc; k++) {
                if (k)
                    cr_strbuf_puts(&y, ", ");
                rnd_leaf(&y);
            }
            cr_strbuf_puts(&y, "],"S" }\n");
        }
        scn_program *p = load(cr_strbuf_cstr(&y));
        for (unsigned k = 0; k < 300; k++) {
            char from[8], to[8];
            rnd_number(from, 4);
            rnd_number(to, 4);
            call c;
            call_init(&c, from, to, rnd(2) ? "gw1" : "gw2", 1780000000.0 + rnd(86400));
            for (int t = 0; t < 2; t++) {
                const scn_route *a = route_select(p, (scn_route_type)t, &c.env, NULL);
                const scn_route *b = route_select_linear(p, (scn_route_type)t, &c.env);
                route_explanation e;
                route_explain(p, (scn_route_type)t, &c.env, &e);
                if (a != b || a != e.chosen) {
                    print_error("seed %u: from=%s to=%s: index %s, linear %s, explain %s\n%s", seed, from,
                                to, a ? a->name : "-", b ? b->name : "-",
                                e.chosen ? e.chosen->name : "-", cr_strbuf_cstr(&y));
                    fail();
                }
                route_explanation_free(&e);
            }
            cr_arena_free(&c.scratch);
        }
        scn_program_unref(p);
        cr_strbuf_free(&y);
    }
}

/* A big table of exact numbers and prefixes: the index evaluates a handful
 * of routes, not thousands. */
static void test_index_skips_most_routes(void **state)
{
    (void)state;
    cr_strbuf y = CR_STRBUF_INIT;
    cr_strbuf_puts(&y, HEAD);
    for (unsigned i = 0; i < 3000; i++) {
        switch (i % 3) {
        case 0:
            cr_strbuf_printf(&y, "  - { name: n%u, priority: %u, conditions: [ { var: called_number, op: equals, "
                             "value: '7495%07u' } ],"S" }\n", i, i % 100, i);
            break;
        case 1:
            cr_strbuf_printf(&y, "  - { name: n%u, priority: %u, conditions: [ { var: called_number, op: pattern, "
                             "value: '_8%04uXXXX' } ],"S" }\n", i, i % 100, i);
            break;
        default:
            cr_strbuf_printf(&y, "  - { name: n%u, priority: %u, conditions: [ { var: caller_number, op: matches, "
                             "value: '^\\+?9%04u' }, { var: caller_number, op: starts_with, value: '9%04u' } ],"S" }\n",
                             i, i % 100, i, i);
            break;
        }
    }
    cr_strbuf_puts(&y, "  - { name: night, priority: 1, conditions: [ { schedule: { time: '22:00-06:00', tz: UTC } } ],"S" }\n");
    scn_program *p = load(cr_strbuf_cstr(&y));
    route_prepare(p);
    route_prepare(p);   /* idempotent */
    call c;
    call_init(&c, "111", "74950001500", "gw1", 1780000000.0);
    size_t n;
    const scn_route *r = route_select_counted(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &n);
    assert_non_null(r);
    assert_string_equal(r->name, "n1500");
    assert_true(n <= 2);
    c.v.vals[1] = "800011234";
    r = route_select_counted(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &n);
    assert_string_equal(r->name, "n1");
    assert_true(n <= 2);
    c.v.vals[0] = "900029999";
    c.v.vals[1] = "0";
    r = route_select_counted(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &n);
    assert_string_equal(r->name, "n2");
    assert_true(n <= 3);
    c.v.vals[0] = "0";
    r = route_select_counted(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &n);
    assert_null(r);                     /* 20:26 UTC: not night */
    assert_true(n <= 1);
    c.env.now = 1780000000.0 + 2 * 3600;   /* 22:26 UTC */
    r = route_select_counted(p, SCN_ROUTE_FROM_GATEWAY, &c.env, &n);
    assert_string_equal(r->name, "night");
    assert_true(n <= 1);
    cr_arena_free(&c.scratch);
    scn_program_unref(p);
    cr_strbuf_free(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_ties_disabled),
        cmocka_unit_test(test_types_and_any_all),
        cmocka_unit_test(test_explanation),
        cmocka_unit_test(test_explanation_big_table),
        cmocka_unit_test(test_regex_prefix),
        cmocka_unit_test(test_index_equals_linear),
        cmocka_unit_test(test_index_skips_most_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

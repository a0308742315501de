/* test_cond.c — the condition language: every operator and dial pattern
 * with its edges, regex anchors, schedules at boundary minutes, across
 * midnight and across DST changes, groups, `not`, `expr`, the "why" text,
 * and compile errors with their position, path and suggestion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "scenario/compile.h"
#include "scenario/cond.h"
#include "scenario/diag.h"

/* ---- harness ---- */

typedef struct {
    const char *names[8];
    cr_value vals[8];
    size_t n;
} vars;

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    vars *v = ctx;
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->names[i]) == len && memcmp(v->names[i], name, len) == 0) {
            *out = v->vals[i];
            return true;
        }
    return false;
}

typedef struct {
    cr_arena arena, scratch;
    scn_diags diags;
    scn_compile_ctx cx;
    scn_cond *cond;
    vars v;
    scn_env env;
    cr_strbuf why;
} fixture;

/* Compiles YAML (one condition, or a map {list:, match:} standing for a
 * route's conditions + match). */
static scn_cond *compile(fixture *f, const char *yaml)
{
    memset(f, 0, sizeof *f);
    cr_arena_init(&f->arena, 4096);
    cr_arena_init(&f->scratch, 1024);
    scn_diags_init(&f->diags);
    f->cx.arena = &f->arena;
    f->cx.diags = &f->diags;
    scn_path_key(&f->cx.path, "if");
    scn_node *root = scn_load_buffer(&f->arena, "t.yaml", yaml, strlen(yaml), &f->diags);
    assert_non_null(root);
    const scn_node *list = root->kind == SCN_NODE_MAP ? scn_map_get(root, "list") : NULL;
    if (list)
        f->cond = scn_cond_compile(&f->cx, list, scn_map_get(root, "match"));
    else
        f->cond = scn_cond_compile(&f->cx, root, NULL);
    f->env.lookup = lookup_cb;
    f->env.ctx = &f->v;
    f->env.scratch = &f->scratch;
    f->env.now = 1764324000;   /* 2025-11-28 10:00 UTC, a friday */
    return f->cond;
}

static void set_var(fixture *f, const char *name, cr_value v)
{
    f->v.names[f->v.n] = name;
    f->v.vals[f->v.n++] = v;
}

static bool eval(fixture *f)
{
    cr_strbuf_reset(&f->why);
    return scn_cond_eval(f->cond, &f->env, &f->why);
}

static void done(fixture *f)
{
    scn_cond_release(f->cond);
    cr_strbuf_free(&f->why);
    scn_diags_free(&f->diags);
    cr_arena_free(&f->scratch);
    cr_arena_free(&f->arena);
}

static const char *first_diag(fixture *f)
{
    static char buf[600];
    assert_true(f->diags.count > 0);
    const scn_diag *d = &f->diags.items[0];
    snprintf(buf, sizeof buf, "%u:%u %s: %s (at %s)", d->line, d->col,
             d->sev == SCN_SEV_ERROR ? "error" : "warning", d->msg, d->path);
    return buf;
}

/* ---- operators ---- */

typedef struct {
    const char *cond;
    const char *x;        /* value of variable x; NULL: undefined */
    bool expect;
    const char *why;      /* expected explanation when false (NULL: not checked) */
} op_case;

static const op_case op_cases[] = {
    {"{var: x, op: equals, value: '100'}", "100", true, NULL},
    {"{var: x, op: equals, value: '100'}", "0100", false, "x equals '100' (saw '0100')"},
    {"{var: x, op: equals, value: '+7916'}", "7916", false, NULL},
    {"{var: x, op: equals, value: ''}", "", true, NULL},
    {"{var: x, op: equals, value: ''}", NULL, true, NULL},
    {"{var: x, op: equals, value: 'a'}", NULL, false, "x equals 'a' (saw nothing: undefined)"},
    {"{var: x, op: not_equals, value: '100'}", "101", true, NULL},
    {"{var: x, op: not_equals, value: '100'}", "100", false, "x not_equals '100' (saw '100')"},
    {"{var: x, op: starts_with, value: '7495'}", "74951234567", true, NULL},
    {"{var: x, op: starts_with, value: '7495'}", "7916", false, "x starts_with '7495' (saw '7916')"},
    {"{var: x, op: starts_with, value: '7495'}", "749", false, NULL},
    {"{var: x, op: starts_with, value: ''}", "", true, NULL},
    {"{var: x, op: ends_with, value: '99'}", "12399", true, NULL},
    {"{var: x, op: ends_with, value: '99'}", "9", false, NULL},
    {"{var: x, op: contains, value: '55'}", "1255123", true, NULL},
    {"{var: x, op: contains, value: '55'}", "5", false, "x contains '55' (saw '5')"},
    {"{var: x, op: contains, value: ''}", "", true, NULL},
    {"{var: x, op: matches, value: '^\\+?7916'}", "+79161234567", true, NULL},
    {"{var: x, op: matches, value: '^\\+?7916'}", "7916", true, NULL},
    {"{var: x, op: matches, value: '^\\+?7916'}", "87916", false, "x matches '^\\+?7916' (saw '87916')"},
    {"{var: x, op: matches, value: '916'}", "87916", true, NULL},          /* unanchored */
    {"{var: x, op: matches, value: '^1\\d{2}$'}", "101", true, NULL},
    {"{var: x, op: matches, value: '^1\\d{2}$'}", "1012", false, NULL},    /* $ anchors */
    {"{var: x, op: matches, value: '^$'}", "", true, NULL},
    {"{var: x, op: matches, value: '^$'}", NULL, true, NULL},
    {"{var: x, op: not_matches, value: '^8'}", "7916", true, NULL},
    {"{var: x, op: not_matches, value: '^8'}", "8916", false, NULL},
    {"{var: x, op: in, value: ['100', '101']}", "101", true, NULL},
    {"{var: x, op: in, value: ['100', '101']}", "102", false, "x in ['100', '101'] (saw '102')"},
    {"{var: x, op: in, value: ['', '1']}", NULL, true, NULL},
    {"{var: x, op: not_in, value: ['100', '101']}", "102", true, NULL},
    {"{var: x, op: not_in, value: ['100', '101']}", "100", false, NULL},
    {"{var: x, op: lt, value: 10}", "9.5", true, NULL},
    {"{var: x, op: lt, value: 10}", "10", false, "x lt 10 (saw '10')"},
    {"{var: x, op: le, value: 10}", "10", true, NULL},
    {"{var: x, op: gt, value: -1}", "0", true, NULL},
    {"{var: x, op: gt, value: 5}", "abc", false, "x gt 5 (saw 'abc', not a number)"},
    {"{var: x, op: gt, value: 5}", "", false, "x gt 5 (saw '', not a number)"},
    {"{var: x, op: ge, value: 5}", NULL, false, "x ge 5 (saw nothing: undefined)"},
    {"{var: x, op: ge, value: 5}", "5", true, NULL},
    {"{var: x, op: lt, value: '3'}", "2", true, NULL},
    {"{var: x, op: empty}", "", true, NULL},
    {"{var: x, op: empty}", NULL, true, NULL},
    {"{var: x, op: empty}", "Bob", false, "x empty (saw 'Bob')"},
    {"{var: x, op: not_empty}", "Bob", true, NULL},
    {"{var: x, op: not_empty}", "", false, "x not_empty (saw '')"},
    /* dial patterns */
    {"{var: x, op: pattern, value: _7495XXXXXXX}", "74951234567", true, NULL},
    {"{var: x, op: pattern, value: _7495XXXXXXX}", "7495123456", false,
     "x pattern '_7495XXXXXXX' (saw '7495123456')"},
    {"{var: x, op: pattern, value: _7495XXXXXXX}", "749512345678", false, NULL},
    {"{var: x, op: pattern, value: _7495XXXXXXX}", "7495123456a", false, NULL},
    {"{var: x, op: pattern, value: _NXX}", "200", true, NULL},
    {"{var: x, op: pattern, value: _NXX}", "100", false, NULL},
    {"{var: x, op: pattern, value: _ZX}", "10", true, NULL},
    {"{var: x, op: pattern, value: _ZX}", "01", false, NULL},
    {"{var: x, op: pattern, value: _nxx}", "299", true, NULL},
    {"{var: x, op: pattern, value: '_[1-5]X'}", "50", true, NULL},
    {"{var: x, op: pattern, value: '_[1-5]X'}", "60", false, NULL},
    {"{var: x, op: pattern, value: '_[135]'}", "3", true, NULL},
    {"{var: x, op: pattern, value: '_[135]'}", "2", false, NULL},
    {"{var: x, op: pattern, value: '_[1-57]'}", "7", true, NULL},
    {"{var: x, op: pattern, value: '_[1-57]'}", "6", false, NULL},
    {"{var: x, op: pattern, value: _8.}", "8", false, NULL},          /* . needs one */
    {"{var: x, op: pattern, value: _8.}", "81", true, NULL},
    {"{var: x, op: pattern, value: _8.}", "8123456", true, NULL},
    {"{var: x, op: pattern, value: _8!}", "8", true, NULL},           /* ! takes none */
    {"{var: x, op: pattern, value: _8!}", "8999", true, NULL},
    {"{var: x, op: pattern, value: _8!}", "9", false, NULL},
    {"{var: x, op: pattern, value: _9.1}", "9001", true, NULL},       /* . in the middle */
    {"{var: x, op: pattern, value: _9.1}", "91", false, NULL},
    {"{var: x, op: pattern, value: _9!1}", "91", true, NULL},
    {"{var: x, op: pattern, value: '_+7.'}", "+7916", true, NULL},    /* literal + */
    {"{var: x, op: pattern, value: '_*XX#'}", "*12#", true, NULL},
    {"{var: x, op: pattern, value: '7495'}", "7495", true, NULL},     /* no _: literal */
    {"{var: x, op: pattern, value: '7495'}", "74951", false, NULL},
    {"{var: x, op: pattern, value: _X.}", "", false, NULL},
    {"{var: x, op: pattern, value: _!}", "", true, NULL},
    /* groups, not, expr */
    {"[{var: x, op: starts_with, value: '1'}, {var: x, op: ends_with, value: '9'}]", "1009", true, NULL},
    {"[{var: x, op: starts_with, value: '1'}, {var: x, op: ends_with, value: '9'}]", "1008", false,
     "x ends_with '9' (saw '1008')"},
    {"{match: any, conditions: [{var: x, op: equals, value: '1'}, {var: x, op: equals, value: '2'}]}",
     "2", true, NULL},
    {"{match: any, conditions: [{var: x, op: equals, value: '1'}, {var: x, op: equals, value: '2'}]}",
     "3", false, "none of: x equals '1' (saw '3'); x equals '2' (saw '3')"},
    {"{match: all, conditions: []}", "3", true, NULL},
    {"[]", "3", true, NULL},
    {"{not: {var: x, op: starts_with, value: '7495'}}", "7916", true, NULL},
    {"{not: {var: x, op: starts_with, value: '7495'}}", "74951", false,
     "not (x starts_with '7495') held (saw '74951')"},
    {"{not: [{var: x, op: empty}]}", "", false, NULL},
    {"{not: {schedule: {days: fri, tz: UTC}}}", "", false,
     "not (schedule days fri tz UTC) held (saw fri 2025-11-28 10:00 UTC)"},
    {"{not: {schedule: {days: sat, tz: UTC}}}", "", true, NULL},
    {"{expr: \"x == 'abc'\"}", "abc", true, NULL},
    {"{expr: \"x == 'abc'\"}", "abd", false, "expr \"x == 'abc'\" was false"},
    {"\"len(x) > 2\"", "abc", true, NULL},
    {"\"len(x) > 2\"", "ab", false, "expr \"len(x) > 2\" was false"},
};

static void test_operators(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++) {
        const op_case *c = &op_cases[i];
        fixture f;
        if (!compile(&f, c->cond)) {
            print_error("case %zu: %s: %s\n", i, c->cond, first_diag(&f));
            fail();
        }
        if (c->x)
            set_var(&f, "x", cr_val_cstr(c->x));
        bool got = eval(&f);
        if (got != c->expect) {
            print_error("case %zu: %s with x=%s: got %d (%s)\n", i, c->cond, c->x ? c->x : "(undef)",
                        got, cr_strbuf_cstr(&f.why));
            fail();
        }
        if (!got && c->why)
            assert_string_equal(cr_strbuf_cstr(&f.why), c->why);
        if (got)   /* a holding condition leaves WHY empty */
            assert_int_equal(f.why.len, 0);
        /* The fast path agrees. */
        assert_int_equal(scn_cond_eval(f.cond, &f.env, NULL), c->expect);
        done(&f);
    }
}

/* A variable that holds a number compares numerically with equals/in; text
 * does not (phone numbers keep their leading zeros). */
static void test_numeric_variables(void **state)
{
    (void)state;
    fixture f;
    assert_non_null(compile(&f, "{var: n, op: equals, value: '3.0'}"));
    set_var(&f, "n", cr_val_num(3));
    assert_true(eval(&f));
    done(&f);
    assert_non_null(compile(&f, "{var: n, op: gt, value: 2}"));
    set_var(&f, "n", cr_val_num(3));
    assert_true(eval(&f));
    done(&f);
    assert_non_null(compile(&f, "{var: n, op: equals, value: 'true'}"));
    set_var(&f, "n", cr_val_bool(true));
    assert_true(eval(&f));
    done(&f);
    assert_non_null(compile(&f, "{var: sip.header.X-Account, op: equals, value: 'a1'}"));
    set_var(&f, "sip.header.X-Account", cr_val_cstr("a1"));
    assert_true(eval(&f));
    done(&f);
}

/* ---- dial patterns on their own ---- */

static void test_dialpat_prefix_and_errors(void **state)
{
    (void)state;
    cr_arena a;
    cr_arena_init(&a, 1024);
    scn_parse_error err;
    size_t len;
    scn_dialpat *p = scn_dialpat_compile(&a, "_7495XXX", 8, &err);
    assert_non_null(p);
    assert_memory_equal(scn_dialpat_prefix(p, &len), "7495", 4);
    assert_int_equal(len, 4);
    p = scn_dialpat_compile(&a, "_X.", 3, &err);
    scn_dialpat_prefix(p, &len);
    assert_int_equal(len, 0);
    p = scn_dialpat_compile(&a, "112", 3, &err);
    scn_dialpat_prefix(p, &len);
    assert_int_equal(len, 3);
    static const struct { const char *pat; size_t off; const char *msg; } bad[] = {
        {"_12[34", 3, "'[' without a closing ']'"},
        {"_1[]", 2, "empty set '[]'"},
        {"_[5-1]", 2, "range in [...] goes backwards"},
        {"_12]", 3, "']' without an opening '['"},
        {"_", 1, "empty dial pattern"},
        {"", 0, "empty dial pattern"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_null(scn_dialpat_compile(&a, bad[i].pat, strlen(bad[i].pat), &err));
        assert_int_equal(err.offset, bad[i].off);
        assert_string_equal(err.msg, bad[i].msg);
    }
    /* Many wildcards stay linear: this would take ages with backtracking. */
    const char *many = "_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!.2";
    p = scn_dialpat_compile(&a, many, strlen(many), &err);
    assert_non_null(p);
    assert_false(scn_dialpat_match(p, "1111111111111111111111111111111111111111111111111111111111", 58));
    assert_true(scn_dialpat_match(p, "11112", 5));
    cr_arena_free(&a);
}

/* ---- compile errors ---- */

typedef struct {
    const char *cond;
    const char *diag;   /* "line:col severity: message (at path)" */
} err_case;

static const err_case err_cases[] = {
    {"{var: x, op: startswith, value: '1'}",
     "1:14 error: unknown op 'startswith'; did you mean 'starts_with'? (at if.op)"},
    {"{var: x, op: equals}", "1:1 error: 'equals' needs a value (at if.value)"},
    {"{var: x, op: equals, value: ~}",
     "1:29 error: 'equals' needs a value (for an empty variable use op: empty) (at if.value)"},
    {"{var: x, op: equals, value: [a, b]}",
     "1:29 error: 'equals' takes a single value (for several, use op: in) (at if.value)"},
    {"{var: x, op: in, value: a}",
     "1:25 error: 'in' needs a non-empty list of values, e.g. ['100', '101'] (at if.value)"},
    {"{var: x, op: gt, value: abc}", "1:25 error: 'gt' needs a number, not 'abc' (at if.value)"},
    {"{var: x, op: empty, value: a}", "1:28 error: 'empty' takes no value (at if.value)"},
    {"{var: x, value: a}", "1:1 error: missing 'op' (equals, not_equals, starts_with, ends_with, "
     "contains, matches, not_matches, pattern, in, not_in, lt, le, gt, ge, empty, not_empty, not_contains, not_pattern, between, not_between) (at if.op)"},
    {"{var: 'a b', op: empty}",
     "1:7 error: 'var' must name a variable, e.g. caller_number or sip.header.X-Account (at if.var)"},
    {"{var: x, op: matches, value: 'ab(c'}",
     "1:35 error: invalid regex: missing closing parenthesis (at if.value)"},
    {"{var: x, op: pattern, value: '_12[34'}",
     "1:34 error: invalid dial pattern: '[' without a closing ']' (at if.value)"},
    {"{var: x, op: pattern, value: '7495XXX'}",
     "1:30 warning: dial pattern '7495XXX' has no leading '_' and is matched literally; did you "
     "mean '_7495XXX'? (at if.value)"},
    {"{vra: x, op: empty}", "1:2 error: unknown condition key 'vra'; did you mean 'var'? (at if)"},
    {"{}", "1:1 error: empty condition: expected var/op/value, schedule, expr, match/conditions, not or caller_group (at if)"},
    {"{var: x, op: empty, expr: 'true'}",
     "1:1 error: a condition has exactly one form: var/op/value, schedule, expr, match/conditions, "
     "not or caller_group (split it into a list) (at if)"},
    {"{match: some, conditions: []}",
     "1:9 error: match must be 'any' or 'all' (at if.match)"},
    {"{match: anny, conditions: []}",
     "1:9 error: match must be 'any' or 'all'; did you mean 'any'? (at if.match)"},
    {"{conditions: {var: x, op: empty}}",
     "1:14 error: a group needs 'conditions:' with a list of conditions (at if.conditions)"},
    {"[{var: x, op: empty}, {var: y, op: eq, value: 1}]",
     "1:36 error: unknown op 'eq' (expected equals, not_equals, starts_with, ends_with, contains, "
     "matches, not_matches, pattern, in, not_in, lt, le, gt, ge, empty, not_empty, not_contains, not_pattern, between, not_between) (at if[1].op)"},
    {"{schedule: {days: mon-fir}}",
     "1:19 error: unknown day 'fir'; did you mean 'fri'? (at if.schedule.days)"},
    {"{schedule: {days: 'mon-xyz'}}",
     "1:19 error: unknown day 'xyz' (expected mon, tue, wed, thu, fri, sat, sun) (at if.schedule.days)"},
    {"{schedule: {days: [mon, sundy]}}",
     "1:25 error: unknown day 'sundy'; did you mean 'sunday'? (at if.schedule.days[1])"},
    {"{schedule: {time: '9-18'}}",
     "1:19 error: invalid time range '9-18' (expected HH:MM-HH:MM, e.g. 09:00-18:00) (at if.schedule.time)"},
    {"{schedule: {time: '09:00-09:00'}}",
     "1:19 error: empty time range '09:00-09:00' (start equals end) (at if.schedule.time)"},
    {"{schedule: {time: '09:00-24:01'}}", NULL},
    {"{schedule: {dates: ['2026-02-30']}}",
     "1:21 error: invalid date '2026-02-30' (expected YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD, or MM-DD "
     "for every year) (at if.schedule.dates[0])"},
    {"{schedule: {dates: '2026-12-26..2026-12-24'}}",
     "1:20 error: date range '2026-12-26..2026-12-24' ends before it starts (at if.schedule.dates)"},
    {"{schedule: {tz: Europe/Mosow, days: mon}}",
     "1:17 error: unknown time zone 'Europe/Mosow' (not in /usr/share/zoneinfo) (at if.schedule.tz)"},
    {"{schedule: {tz: '../../etc/passwd', days: mon}}", NULL},
    {"{schedule: {tz: UTC}}", "1:12 error: schedule needs at least one of days, time, dates (at if.schedule)"},
    {"{schedule: {dayz: mon}}",
     "1:13 error: unknown schedule key 'dayz'; did you mean 'days'? (at if.schedule)"},
    {"{expr: 'x >'}", NULL},
    {"{expr: {var: x}}", "1:8 error: expr must be an expression string, e.g. \"hour() >= 9\" (at if.expr)"},
    {"{not: }", NULL},
};

static void test_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        fixture f;
        scn_cond *c = compile(&f, err_cases[i].cond);
        bool warning_only = err_cases[i].diag && strstr(err_cases[i].diag, " warning: ");
        if (warning_only)
            assert_non_null(c);
        else if (c) {
            print_error("case %zu: %s compiled\n", i, err_cases[i].cond);
            fail();
        }
        if (err_cases[i].diag) {
            const char *got = first_diag(&f);
            const char *want = err_cases[i].diag;
            if (strcmp(got, want) != 0) {
                print_error("case %zu: %s\n  got:  %s\n  want: %s\n", i, err_cases[i].cond, got, want);
                fail();
            }
        } else {
            assert_true(f.diags.errors > 0);
        }
        done(&f);
    }
}

/* ---- schedules ---- */

static double utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (double)timegm(&tm);
}

typedef struct {
    const char *sched;
    double at;          /* UTC */
    bool expect;
    const char *why;
} sched_case;

static void run_sched(const sched_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fixture f;
        char yaml[400];
        snprintf(yaml, sizeof yaml, "{schedule: %s}", cases[i].sched);
        if (!compile(&f, yaml)) {
            print_error("case %zu: %s: %s\n", i, yaml, first_diag(&f));
            fail();
        }
        f.env.now = cases[i].at;
        bool got = eval(&f);
        if (got != cases[i].expect) {
            time_t t = (time_t)cases[i].at;
            print_error("case %zu: %s at %s: got %d (%s)\n", i, yaml, ctime(&t), got,
                        cr_strbuf_cstr(&f.why));
            fail();
        }
        if (!got && cases[i].why)
            assert_string_equal(cr_strbuf_cstr(&f.why), cases[i].why);
        done(&f);
    }
}

static void test_schedule_boundaries(void **state)
{
    (void)state;
    static const char *const office = "{days: mon-fri, time: '09:00-18:00', tz: Europe/Moscow}";
    const sched_case cases[] = {
        /* Moscow is UTC+3 all year since 2014. 2026-11-27 is a friday. */
        {office, utc(2026, 11, 27, 5, 59, 59), false,
         "schedule time 09:00-18:00 (saw fri 2026-11-27 08:59 Europe/Moscow)"},
        {office, utc(2026, 11, 27, 6, 0, 0), true, NULL},
        {office, utc(2026, 11, 27, 14, 59, 59), true, NULL},
        {office, utc(2026, 11, 27, 15, 0, 0), false, NULL},      /* end is exclusive */
        {office, utc(2026, 11, 28, 7, 0, 0), false,
         "schedule days mon-fri (saw sat 2026-11-28 10:00 Europe/Moscow)"},
        {office, utc(2026, 11, 29, 20, 59, 0), false, NULL},     /* sun 23:59 */
        {office, utc(2026, 11, 29, 21, 0, 0), false, NULL},      /* mon 00:00, too early */
        {"{days: 'sat,sun', tz: UTC}", utc(2026, 11, 28, 0, 0, 0), true, NULL},
        {"{days: 'sat,sun', tz: UTC}", utc(2026, 11, 27, 23, 59, 59), false, NULL},
        {"{days: [fri, monday], tz: UTC}", utc(2026, 11, 30, 12, 0, 0), true, NULL},
        {"{days: fri-mon, tz: UTC}", utc(2026, 11, 29, 12, 0, 0), true, NULL},   /* wraps */
        {"{days: fri-mon, tz: UTC}", utc(2026, 12, 1, 12, 0, 0), false, NULL},   /* tue */
        /* Across midnight: 22:00-06:00. */
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 1, 21, 59, 0), false,
         "schedule time 22:00-06:00 (saw thu 2026-01-01 21:59 UTC)"},
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 1, 22, 0, 0), true, NULL},
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 1, 23, 59, 59), true, NULL},
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 2, 0, 0, 0), true, NULL},
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 2, 5, 59, 0), true, NULL},
        {"{time: '22:00-06:00', tz: UTC}", utc(2026, 1, 2, 6, 0, 0), false, NULL},
        {"{time: '00:00-24:00', tz: UTC}", utc(2026, 1, 2, 23, 59, 59), true, NULL},
        {"{time: ['08:00-12:00', '13:00-17:00'], tz: UTC}", utc(2026, 1, 2, 12, 30, 0), false, NULL},
        {"{time: '08:00-12:00,13:00-17:00', tz: UTC}", utc(2026, 1, 2, 13, 0, 0), true, NULL},
        /* Dates, ranges, yearly. */
        {"{dates: ['2026-12-31'], tz: Europe/Moscow}", utc(2026, 12, 30, 21, 0, 0), true, NULL},
        {"{dates: ['2026-12-31'], tz: Europe/Moscow}", utc(2026, 12, 30, 20, 59, 59), false,
         "schedule dates 2026-12-31 (saw wed 2026-12-30 23:59 Europe/Moscow)"},
        {"{dates: ['2026-12-24..2026-12-26'], tz: UTC}", utc(2026, 12, 23, 23, 59, 0), false, NULL},
        {"{dates: ['2026-12-24..2026-12-26'], tz: UTC}", utc(2026, 12, 24, 0, 0, 0), true, NULL},
        {"{dates: ['2026-12-24..2026-12-26'], tz: UTC}", utc(2026, 12, 26, 23, 59, 0), true, NULL},
        {"{dates: ['2026-12-24..2026-12-26'], tz: UTC}", utc(2026, 12, 27, 0, 0, 0), false, NULL},
        {"{dates: ['2026-12-31', '2027-01-01..2027-01-08'], tz: UTC}", utc(2027, 1, 5, 0, 0, 0), true, NULL},
        {"{dates: ['01-01'], tz: UTC}", utc(2031, 1, 1, 10, 0, 0), true, NULL},
        {"{dates: ['12-31..01-02'], tz: UTC}", utc(2030, 1, 2, 10, 0, 0), true, NULL},
        {"{dates: ['12-31..01-02'], tz: UTC}", utc(2030, 1, 3, 10, 0, 0), false, NULL},
        {"{dates: ['02-29'], tz: UTC}", utc(2028, 2, 29, 10, 0, 0), true, NULL},
        /* Every given field must hold. */
        {"{days: sat, time: '10:00-11:00', dates: ['2026-11-28'], tz: UTC}", utc(2026, 11, 28, 10, 30, 0), true, NULL},
        {"{days: sat, time: '10:00-11:00', dates: ['2026-11-28'], tz: UTC}", utc(2026, 11, 28, 11, 30, 0), false,
         "schedule time 10:00-11:00 (saw sat 2026-11-28 11:30 UTC)"},
    };
    run_sched(cases, sizeof cases / sizeof cases[0]);
}

/* Daylight saving: the zone's offset changes under a running process; the
 * cache must follow it both ways. */
static void test_schedule_dst(void **state)
{
    (void)state;
    static const char *const berlin = "{time: '02:30-03:30', tz: Europe/Berlin}";
    static const char *const ny = "{time: '09:00-17:00', tz: America/New_York}";
    static const char *const msk = "{time: '09:00-18:00', tz: Europe/Moscow}";
    const sched_case cases[] = {
        /* Berlin spring 2026: 2026-03-29 01:00 UTC, 02:00 CET -> 03:00 CEST. */
        {berlin, utc(2026, 3, 29, 0, 59, 59), false, "schedule time 02:30-03:30 (saw sun 2026-03-29 01:59 Europe/Berlin)"},
        {berlin, utc(2026, 3, 29, 1, 0, 0), true, NULL},            /* 03:00 CEST */
        {berlin, utc(2026, 3, 29, 1, 29, 59), true, NULL},
        {berlin, utc(2026, 3, 29, 1, 30, 0), false, NULL},           /* 03:30 CEST */
        {berlin, utc(2026, 3, 28, 1, 30, 0), true, NULL},            /* day before: 02:30 CET */
        /* Berlin autumn 2026: 2026-10-25 01:00 UTC, 03:00 CEST -> 02:00 CET. */
        {berlin, utc(2026, 10, 25, 0, 29, 59), false, NULL},         /* 02:29 CEST */
        {berlin, utc(2026, 10, 25, 0, 30, 0), true, NULL},           /* 02:30 CEST */
        {berlin, utc(2026, 10, 25, 1, 0, 0), false, NULL},           /* 02:00 CET */
        {berlin, utc(2026, 10, 25, 1, 30, 0), true, NULL},           /* 02:30 CET */
        {berlin, utc(2026, 10, 25, 2, 30, 0), false, NULL},          /* 03:30 CET */
        /* New York 2026: DST from 2026-03-08 07:00 UTC to 2026-11-01 06:00 UTC. */
        {ny, utc(2026, 3, 6, 13, 59, 0), false, NULL},               /* fri 08:59 EST */
        {ny, utc(2026, 3, 6, 14, 0, 0), true, NULL},                 /* 09:00 EST */
        {ny, utc(2026, 3, 9, 13, 0, 0), true, NULL},                 /* mon 09:00 EDT */
        {ny, utc(2026, 3, 9, 12, 59, 0), false, "schedule time 09:00-17:00 (saw mon 2026-03-09 08:59 America/New_York)"},
        {ny, utc(2026, 3, 9, 21, 0, 0), false, NULL},                /* 17:00 EDT */
        {ny, utc(2026, 11, 2, 14, 0, 0), true, NULL},                /* 09:00 EST again */
        {ny, utc(2026, 11, 2, 13, 30, 0), false, NULL},              /* 08:30 EST */
        {ny, utc(2026, 10, 30, 13, 30, 0), true, NULL},              /* 09:30 EDT */
        /* Moscow 2010: summer time ended 2010-10-31 at 03:00 MSD (+4) -> 02:00 MSK (+3). */
        {msk, utc(2010, 10, 29, 5, 0, 0), true, NULL},               /* 09:00 MSD */
        {msk, utc(2010, 10, 29, 4, 59, 0), false, NULL},
        {msk, utc(2010, 11, 1, 5, 59, 0), false, NULL},              /* 08:59 MSK */
        {msk, utc(2010, 11, 1, 6, 0, 0), true, NULL},                /* 09:00 MSK */
        /* Moscow 2011: +3 -> +4 for good on 2011-03-27. */
        {msk, utc(2011, 3, 25, 5, 59, 0), false, NULL},
        {msk, utc(2011, 3, 28, 5, 0, 0), true, NULL},
    };
    run_sched(cases, sizeof cases / sizeof cases[0]);
}

/* A schedule evaluated many times over a year in order and back again
 * agrees with localtime_r under that TZ at every probe. */
static void test_schedule_cache_agrees_with_libc(void **state)
{
    (void)state;
    static const char *const zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"};
    for (size_t z = 0; z < 4; z++) {
        fixture f;
        char yaml[200];
        snprintf(yaml, sizeof yaml, "{schedule: {time: '02:00-03:00', tz: %s}}", zones[z]);
        assert_non_null(compile(&f, yaml));
        char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        for (int dir = 0; dir < 2; dir++) {
            for (int k = 0; k < 2000; k++) {
                int kk = dir ? 1999 - k : k;
                time_t t = (time_t)utc(2026, 1, 1, 0, 0, 0) + (time_t)kk * 15731;  /* ~4.4 h steps */
                f.env.now = (double)t;
                bool got = scn_cond_eval(f.cond, &f.env, NULL);
                setenv("TZ", zones[z], 1);
                tzset();
                struct tm tm;
                localtime_r(&t, &tm);
                if (old)
                    setenv("TZ", old, 1);
                else
                    unsetenv("TZ");
                tzset();
                bool want = tm.tm_hour == 2;
                if (got != want) {
                    print_error("%s at %ld: got %d want %d\n", zones[z], (long)t, got, want);
                    fail();
                }
            }
        }
        free(old);
        done(&f);
    }
}

/* Without tz the schedule follows the process's local zone (TZ). */
static void test_schedule_local_zone(void **state)
{
    (void)state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    fixture f;
    assert_non_null(compile(&f, "{schedule: {time: '09:00-10:00'}}"));
    f.env.now = utc(2026, 5, 1, 0, 30, 0);   /* 09:30 in Tokyo */
    assert_true(eval(&f));
    setenv("TZ", "UTC", 1);
    tzset();
    assert_false(eval(&f));
    assert_string_equal(cr_strbuf_cstr(&f.why), "schedule time 09:00-10:00 (saw fri 2026-05-01 00:30 local time)");
    done(&f);
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
}

/* The sibling `match:` of a route's condition list. */
static void test_list_with_sibling_match(void **state)
{
    (void)state;
    fixture f;
    assert_non_null(compile(&f, "{match: any, list: [{var: x, op: equals, value: '1'}, "
                                "{var: x, op: equals, value: '2'}]}"));
    set_var(&f, "x", cr_val_cstr("2"));
    assert_true(eval(&f));
    done(&f);
    assert_non_null(compile(&f, "{match: all, list: [{var: x, op: equals, value: '1'}, "
                                "{var: x, op: equals, value: '2'}]}"));
    set_var(&f, "x", cr_val_cstr("2"));
    assert_false(eval(&f));
    assert_string_equal(cr_strbuf_cstr(&f.why), "x equals '1' (saw '2')");
    done(&f);
    assert_null(compile(&f, "{match: every, list: []}"));
    assert_string_equal(first_diag(&f), "1:9 error: match must be 'any' or 'all' (at if)");
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_numeric_variables),
        cmocka_unit_test(test_dialpat_prefix_and_errors),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_schedule_boundaries),
        cmocka_unit_test(test_schedule_dst),
        cmocka_unit_test(test_schedule_cache_agrees_with_libc),
        cmocka_unit_test(test_schedule_local_zone),
        cmocka_unit_test(test_list_with_sibling_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

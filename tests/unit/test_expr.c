/* test_expr.c — expressions: literals, variables, every operator and its
 * precedence, mixed-type comparisons, regexes, every function, error values
 * and their propagation, compile errors with their offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario/expr.h"

/* ---- a fixed set of call variables ---- */

typedef struct { const char *name; cr_value v; } test_var;

#define STR(lit) {CR_VAL_STR, false, 0, lit, sizeof lit - 1}

static const test_var vars[] = {
    {"s", STR("hello")},
    {"n", {CR_VAL_NUM, false, 42, NULL, 0}},
    {"ns", STR("42")},
    {"f", {CR_VAL_NUM, false, 2.5, NULL, 0}},
    {"t", {CR_VAL_BOOL, true, 0, NULL, 0}},
    {"z", {CR_VAL_NUM, false, 0, NULL, 0}},
    {"e", STR("")},
    {"nul", {CR_VAL_NULL, false, 0, NULL, 0}},
    {"neg", STR("-7")},
    {"big", STR("12345678901234567")},
    {"mixed", STR("MiXeD 1")},
    {"phone", STR("+44 (20) 7946-0958")},
    {"pat", STR("^h.l")},
    {"badpat", STR("a(b")},
    {"http.json.agent.name", STR("Alice")},
    {"sip.header.X-Foo", STR("bar")},
    {"loop_index", {CR_VAL_NUM, false, 3, NULL, 0}},
    {"bin", STR("a\0b")},
};

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    int *count = ctx;
    if (count)
        (*count)++;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
            *out = vars[i].v;
            return true;
        }
    return false;
}

typedef struct {
    cr_arena prog, scratch;
    scn_env env;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    cr_arena_init(&fx->prog, 0);
    cr_arena_init(&fx->scratch, 0);
    fx->env.lookup = lookup_cb;
    fx->env.scratch = &fx->scratch;
    fx->env.now = 1700000000.75; /* 2023-11-14 22:13:20 UTC, a Tuesday */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    cr_arena_free(&fx->prog);
    cr_arena_free(&fx->scratch);
    free(fx);
    return 0;
}

/* "kind:text" of a value, e.g. "number:42", "string:hello", "error:division by zero". */
static char *show(cr_value v)
{
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_printf(&b, "%s:", cr_val_kind_name(v.kind));
    cr_val_to_text(v, &b);
    char *s = strdup(cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return s;
}

static cr_value eval(fixture *fx, const char *src)
{
    scn_parse_error err;
    scn_expr *e = scn_expr_compile(&fx->prog, src, strlen(src), &err);
    if (!e)
        fail_msg("'%s' does not compile: %s at %zu", src, err.msg, err.offset);
    return scn_expr_eval(e, &fx->env);
}

typedef struct { const char *src, *want; } eval_case;

/* WANT is "kind:text"; an error matches when its message starts with the text. */
static void run_cases(fixture *fx, const eval_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = show(eval(fx, cases[i].src));
        bool ok = strncmp(cases[i].want, "error:", 6) == 0
                      ? strncmp(got, cases[i].want, strlen(cases[i].want)) == 0
                      : strcmp(got, cases[i].want) == 0;
        if (!ok)
            fail_msg("%s\n   want %s\n   got  %s", cases[i].src, cases[i].want, got);
        free(got);
    }
}

#define RUN(fx, cases) run_cases(fx, cases, sizeof cases / sizeof cases[0])

static void test_literals(void **state)
{
    static const eval_case cases[] = {
        {"42", "number:42"},
        {"1.5", "number:1.5"},
        {"2e3", "number:2000"},
        {"1.5E-1", "number:0.15"},
        {"007", "number:7"},
        {"-3", "number:-3"},
        {"'x'", "string:x"},
        {"\"x\"", "string:x"},
        {"''", "string:"},
        {"'it\\'s'", "string:it's"},
        {"\"say \\\"hi\\\"\"", "string:say \"hi\""},
        {"'a\\nb\\tc\\rd'", "string:a\nb\tc\rd"},
        {"'back\\\\slash'", "string:back\\slash"},
        {"'\\d+'", "string:\\d+"}, /* unknown escapes keep the backslash */
        {"\"it's\"", "string:it's"},
        {"true", "bool:true"},
        {"false", "bool:false"},
        {"null", "null:"},
        {"  ( 42 )  ", "number:42"},
    };
    RUN(*state, cases);
}

static void test_variables(void **state)
{
    static const eval_case cases[] = {
        {"s", "string:hello"},
        {"n", "number:42"},
        {"http.json.agent.name", "string:Alice"},
        {"loop_index + 1", "number:4"},
        {"undefined_thing", "null:"},
        {"http.json.agent.missing", "null:"},
        {"undefined_thing == null", "bool:true"},
        {"nul == null", "bool:true"},
        {"var('sip.header.X-Foo')", "string:bar"},
        {"var(\"http.json.agent.name\")", "string:Alice"},
        {"var('http.json' + '.agent.name')", "string:Alice"}, /* computed name */
        {"var(s)", "null:"},                                  /* no variable 'hello' */
        {"var(e)", "null:"},
        {"_x", "null:"},
        {"truex", "null:"}, /* keywords are whole words */
        {"not_a", "null:"},
        {"len(bin)", "number:3"}, /* NUL bytes are data */
    };
    RUN(*state, cases);
}

static void test_arithmetic(void **state)
{
    static const eval_case cases[] = {
        {"n + 1", "number:43"},
        {"ns + 1", "number:43"},
        {"ns + ns", "string:4242"},     /* two strings join */
        {"ns + 0", "number:42"},
        {"1.5 + 1.5", "number:3"},
        {"0.1 + 0.2", "number:0.3"},
        {"n - 50", "number:-8"},
        {"'5' * '4'", "number:20"},
        {"'10' / '4'", "number:2.5"},
        {"7 % 3", "number:1"},
        {"-7 % 3", "number:-1"},
        {"5.5 % 2", "number:1.5"},
        {"neg * 2", "number:-14"},
        {"-n", "number:-42"},
        {"-ns", "number:-42"},
        {"- -3", "number:3"},
        {"-(2 + 3)", "number:-5"},
        {"s + 1", "string:hello1"},
        {"s + ' ' + n", "string:hello 42"},
        {"1 + s", "string:1hello"},
        {"s + null", "string:hello"},
        {"s + undefined_thing", "string:hello"},
        {"s + t", "string:hellotrue"},
        {"s + f", "string:hello2.5"},
        {"e + e", "string:"},
        {"ns + e", "string:42"}, /* '' is not a number */
        {"null + 1", "error:cannot compute null + 1"},
        {"t + 1", "error:cannot compute true + 1"},
        {"null + null", "error:cannot compute null + null"},
        {"s - 1", "error:cannot compute 'hello' - 1"},
        {"s * 2", "error:cannot compute 'hello' * 2"},
        {"1 / s", "error:cannot compute 1 / 'hello'"},
        {"nul % 2", "error:cannot compute null % 2"},
        {"-s", "error:cannot negate 'hello'"},
        {"-t", "error:cannot negate true"},
        {"1e308 * 10", "error:number out of range"},
        {"'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' - 1", "error:cannot compute 'aaaaaaaaaaaaaaaaaaaaaaaa...' - 1"},
    };
    RUN(*state, cases);
}

static void test_division_by_zero(void **state)
{
    static const eval_case cases[] = {
        {"1 / 0", "error:division by zero"},
        {"1 % 0", "error:division by zero"},
        {"n / z", "error:division by zero"},
        {"n % z", "error:division by zero"},
        {"n / '0'", "error:division by zero"},
        {"0 / 0", "error:division by zero"},
        {"n / -0", "error:division by zero"},
        {"0 / 5", "number:0"},
    };
    RUN(*state, cases);
}

static void test_precedence(void **state)
{
    static const eval_case cases[] = {
        {"1 + 2 * 3", "number:7"},
        {"(1 + 2) * 3", "number:9"},
        {"10 - 2 - 3", "number:5"},     /* left associative */
        {"100 / 10 / 5", "number:2"},
        {"2 * 3 % 4", "number:2"},
        {"2 + 3 % 2", "number:3"},
        {"-2 * 3", "number:-6"},
        {"- 2 + 3", "number:1"},
        {"-n + 2", "number:-40"},
        {"1 + 2 == 3", "bool:true"},
        {"2 * 3 > 5", "bool:true"},
        {"'a' + 'b' == 'ab'", "bool:true"},
        {"not 1 == 2", "bool:true"},     /* not binds looser than == */
        {"not true and false", "bool:false"},
        {"not (true and false)", "bool:true"},
        {"true or false and false", "bool:true"},
        {"false and true or true", "bool:true"},
        {"false and (true or true)", "bool:false"},
        {"not not 1", "bool:true"},
        {"not n > 40 or s == 'hello'", "bool:true"},
        {"n > 40 and n < 50 and not s == 'x'", "bool:true"},
    };
    RUN(*state, cases);
}

static void test_logic(void **state)
{
    static const eval_case cases[] = {
        {"not 0", "bool:true"},
        {"not ''", "bool:true"},
        {"not 'x'", "bool:false"},
        {"not null", "bool:true"},
        {"not undefined_thing", "bool:true"},
        {"not e", "bool:true"},
        {"not n", "bool:false"},
        {"1 and 'x'", "bool:true"},   /* and/or yield bools, not operands */
        {"0 or ''", "bool:false"},
        {"s or 0", "bool:true"},
        {"n and null", "bool:false"},
        {"false and 1 / 0", "bool:false"}, /* short-circuit: never evaluated */
        {"true or 1 / 0", "bool:true"},
        {"false and int('x')", "bool:false"},
        {"true and 1 / 0", "error:division by zero"},
        {"false or 1 / 0", "error:division by zero"},
        {"1 / 0 or true", "error:division by zero"},
        {"1 / 0 and false", "error:division by zero"},
        {"not (1 / 0)", "error:division by zero"},
    };
    RUN(*state, cases);
}

static void test_equality(void **state)
{
    static const eval_case cases[] = {
        {"ns == n", "bool:true"},
        {"'42' == 42", "bool:true"},
        {"42 == '42'", "bool:true"},
        {"'042' == 42", "bool:true"},
        {"'42.0' == '42'", "bool:false"},  /* two strings: text */
        {"42.0 == '42'", "bool:true"},
        {"'1e1' == 10", "bool:true"},
        {"s == 'hello'", "bool:true"},
        {"s == 'Hello'", "bool:false"},
        {"s != 'Hello'", "bool:true"},
        {"s == 42", "bool:false"},
        {"null == null", "bool:true"},
        {"s == null", "bool:false"},
        {"null != e", "bool:true"},
        {"e == ''", "bool:true"},
        {"e == 0", "bool:false"},
        {"z == 0", "bool:true"},
        {"z == false", "bool:false"},   /* a bool equals only a bool */
        {"t == true", "bool:true"},
        {"t == 1", "bool:false"},
        {"'true' == true", "bool:false"},
        {"false == false", "bool:true"},
        {"true != false", "bool:true"},
        {"big == '12345678901234567'", "bool:true"},
        {"big == '12345678901234568'", "bool:false"}, /* beyond double precision: as text */
        {"f == 2.5", "bool:true"},
        {"f == '2.50'", "bool:true"},
    };
    RUN(*state, cases);
}

static void test_ordering(void **state)
{
    static const eval_case cases[] = {
        {"1 < 2", "bool:true"},
        {"2 < 1", "bool:false"},
        {"2 <= 2", "bool:true"},
        {"2 >= 2", "bool:true"},
        {"3 > 2", "bool:true"},
        {"2 > 2", "bool:false"},
        {"ns > 41.5", "bool:true"},
        {"'10' < '9'", "bool:false"},   /* numeric strings compare as numbers */
        {"'10' < 9", "bool:false"},
        {"neg < 0", "bool:true"},
        {"'abc' < 'abd'", "bool:true"},
        {"'ab' < 'abc'", "bool:true"},
        {"'b' > 'abc'", "bool:true"},
        {"'B' < 'a'", "bool:true"},     /* byte order */
        {"'' < 'a'", "bool:true"},
        {"s <= 'hello'", "bool:true"},
        {"s >= 'hello'", "bool:true"},
        {"1 < 'x'", "error:cannot compare 1 < 'x'"},
        {"'x' > 1", "error:cannot compare 'x' > 1"},
        {"null < 1", "error:cannot compare null < 1"},
        {"undefined_thing >= 0", "error:cannot compare null >= 0"},
        {"true < false", "error:cannot compare true < false"},
        {"t <= 1", "error:cannot compare true <= 1"},
    };
    RUN(*state, cases);
}

static void test_regex(void **state)
{
    static const eval_case cases[] = {
        {"s =~ 'ell'", "bool:true"},           /* unanchored */
        {"s =~ '^ell'", "bool:false"},
        {"s =~ '^h.*o$'", "bool:true"},
        {"s =~ '^hell$'", "bool:false"},
        {"s !~ '^x'", "bool:true"},
        {"s !~ 'h'", "bool:false"},
        {"n =~ '^\\d+$'", "bool:true"},        /* the text of a number */
        {"f =~ '^2\\.5$'", "bool:true"},
        {"phone =~ '^\\+44'", "bool:true"},
        {"phone =~ '^\\\\+44'", "bool:true"},  /* \\ is one backslash too */
        {"s =~ '(?i)HELLO'", "bool:true"},
        {"s =~ 'HELLO'", "bool:false"},
        {"undefined_thing =~ '^$'", "bool:true"},
        {"t =~ '^true$'", "bool:true"},
        {"s =~ pat", "bool:true"},             /* compiled at run time */
        {"s !~ pat", "bool:false"},
        {"s =~ '^' + 'h'", "bool:true"},
        {"s =~ badpat", "error:invalid regex 'a(b': missing closing parenthesis"},
        {"s !~ badpat", "error:invalid regex"},
        {"s =~ 1 / 0", "error:division by zero"},
        {"(1 / 0) =~ 'x'", "error:division by zero"},
        {"'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab' =~ '^(a+)+$'", "error:regex match failed"},
        {"'x' =~ 42", "bool:false"},
        {"'a42' =~ 42", "bool:true"},
        {"bin =~ 'a\\x00b'", "bool:true"},
    };
    RUN(*state, cases);
}

static void test_functions(void **state)
{
    static const eval_case cases[] = {
        {"len('hello')", "number:5"},
        {"len(s)", "number:5"},
        {"len(n)", "number:2"},
        {"len(f)", "number:3"},
        {"len(t)", "number:4"},
        {"len(null)", "number:0"},
        {"len('')", "number:0"},
        {"len('é')", "number:2"}, /* bytes */
        {"lower(mixed)", "string:mixed 1"},
        {"upper(mixed)", "string:MIXED 1"},
        {"upper('é-a')", "string:é-A"}, /* ASCII only */
        {"lower(null)", "string:"},
        {"upper(42)", "string:42"},
        {"substr('hello', 1)", "string:ello"},
        {"substr('hello', 1, 3)", "string:ell"},
        {"substr('hello', 0, 0)", "string:"},
        {"substr('hello', -2)", "string:hello"},
        {"substr('hello', 10)", "string:"},
        {"substr('hello', 2, 100)", "string:llo"},
        {"substr('hello', 1, -1)", "string:"},
        {"substr('hello', 1.9)", "string:ello"},
        {"substr('hello', '2', '2')", "string:ll"},
        {"substr(12345, 1, 2)", "string:23"},
        {"substr(null, 0, 3)", "string:"},
        {"substr('hello', 1e300, 1e300)", "string:"},
        {"substr('hello', 's')", "error:substr(): the start must be a number"},
        {"substr('hello', 1, null)", "error:substr(): the length must be a number"},
        {"digits(phone)", "string:442079460958"},
        {"digits('')", "string:"},
        {"digits('abc')", "string:"},
        {"digits(-12.5)", "string:125"},
        {"int(2.7)", "number:2"},
        {"int(-2.7)", "number:-2"},
        {"int('42')", "number:42"},
        {"int('4.9')", "number:4"},
        {"int(neg)", "number:-7"},
        {"int('abc')", "error:int(): 'abc' is not a number"},
        {"int('')", "error:int(): '' is not a number"},
        {"int(null)", "error:int(): null is not a number"},
        {"int(true)", "error:int(): bool is not a number"},
        {"int(ns) + 1", "number:43"},
        {"str(42)", "string:42"},
        {"str(2.5)", "string:2.5"},
        {"str(null)", "string:"},
        {"str(true)", "string:true"},
        {"str(s)", "string:hello"},
        {"str(-0)", "string:0"},
        {"contains('hello', 'll')", "bool:true"},
        {"contains('hello', 'lx')", "bool:false"},
        {"contains('hello', '')", "bool:true"},
        {"contains('', 'a')", "bool:false"},
        {"contains(n, 2)", "bool:true"},
        {"starts_with('hello', 'he')", "bool:true"},
        {"starts_with('he', 'hello')", "bool:false"},
        {"starts_with(phone, '+44')", "bool:true"},
        {"ends_with('hello', 'lo')", "bool:true"},
        {"ends_with('hello', 'he')", "bool:false"},
        {"ends_with(n, '2')", "bool:true"},
        {"ends_with('', '')", "bool:true"},
        {"len(1 / 0)", "error:division by zero"},
        {"substr(s, 1 / 0)", "error:division by zero"},
        {"contains(s, int('x'))", "error:int(): 'x' is not a number"},
        {"int('abc') + 1", "error:int()"},
        {"lower(upper(s)) == s", "bool:true"},
    };
    RUN(*state, cases);
}

static void test_clock(void **state)
{
    fixture *fx = *state;
    static const eval_case utc[] = {
        {"now()", "number:1700000000"},
        {"hour()", "number:22"},
        {"minute()", "number:13"},
        {"weekday()", "number:2"},
        {"date()", "string:2023-11-14"},
        {"hour() >= 9 and hour() < 23", "bool:true"},
    };
    RUN(fx, utc);

    fx->env.utc_offset = 2 * 3600; /* past local midnight: the next day */
    static const eval_case east[] = {
        {"now()", "number:1700000000"},
        {"hour()", "number:0"},
        {"minute()", "number:13"},
        {"weekday()", "number:3"},
        {"date()", "string:2023-11-15"},
    };
    RUN(fx, east);

    fx->env.utc_offset = -(22 * 3600 + 30 * 60); /* -22:30 */
    static const eval_case west[] = {
        {"hour()", "number:23"},
        {"minute()", "number:43"},
        {"date()", "string:2023-11-13"},
        {"weekday()", "number:1"},
    };
    RUN(fx, west);

    fx->env.utc_offset = 0;
    fx->env.now = 1709208000; /* 2024-02-29 12:00 UTC, a Thursday */
    static const eval_case leap[] = {
        {"date()", "string:2024-02-29"}, {"weekday()", "number:4"}, {"hour()", "number:12"},
    };
    RUN(fx, leap);

    fx->env.now = 951868800; /* 2000-03-01 00:00 */
    static const eval_case y2k[] = {{"date()", "string:2000-03-01"}, {"weekday()", "number:3"}};
    RUN(fx, y2k);

    fx->env.now = -1; /* 1969-12-31 23:59:59, a Wednesday */
    static const eval_case before[] = {
        {"date()", "string:1969-12-31"}, {"hour()", "number:23"},
        {"minute()", "number:59"}, {"weekday()", "number:3"}, {"now()", "number:-1"},
    };
    RUN(fx, before);

    fx->env.now = 0;
    static const eval_case epoch[] = {{"date()", "string:1970-01-01"}, {"weekday()", "number:4"}};
    RUN(fx, epoch);

    fx->env.now = 253402300799; /* the last second of year 9999, then year 10000 */
    static const eval_case far[] = {{"date()", "string:9999-12-31"}, {"date() + 1", "string:9999-12-311"}};
    RUN(fx, far);
    fx->env.now = 253402300800;
    static const eval_case farther[] = {{"date()", "string:10000-01-01"}};
    RUN(fx, farther);

    fx->env.now = 1e300; /* absurd clocks stay in range */
    char *got = show(eval(fx, "date()"));
    assert_non_null(strstr(got, "string:"));
    free(got);
}

typedef struct { const char *src; size_t offset; const char *msg; } error_case;

static void test_compile_errors(void **state)
{
    fixture *fx = *state;
    static const error_case cases[] = {
        {"", 0, "empty expression"},
        {"   ", 0, "empty expression"},
        {"1 +", 3, "expected a value, found end of expression"},
        {"(1 + 2", 6, "expected ')'"},
        {"1 + 2)", 5, "unmatched ')'"},
        {"(", 1, "expected a value"},
        {"1 2", 2, "expected an operator or the end, found '2'"},
        {"s s", 2, "found 's'"},
        {"'abc", 0, "unterminated string"},
        {"s == \"abc", 5, "unterminated string"},
        {"'abc\\'", 0, "unterminated string"},
        {"x = 1", 2, "use '=='"},
        {"a && b", 2, "use 'and'"},
        {"a || b", 2, "use 'or'"},
        {"!a", 0, "use 'not'"},
        {"x $ y", 2, "unexpected '$'"},
        {"x \x01", 2, "unexpected byte 0x01"},
        {"x \xc3\xa9", 2, "unexpected byte 0xc3"},
        {"lne(s)", 0, "unknown function 'lne' (did you mean 'len'?)"},
        {"length(s)", 0, "unknown function 'length' (did you mean 'len'?)"},
        {"substring(s, 1)", 0, "(did you mean 'substr'?)"},
        {"uper(s)", 0, "(did you mean 'upper'?)"},
        {"n + starts_wiht(s, 'a')", 4, "did you mean 'starts_with'?"},
        {"frobnicate(1)", 0, "unknown function 'frobnicate'"},
        {"a.b(1)", 0, "unknown function 'a.b'"},
        {"len()", 0, "len() takes 1 argument"},
        {"len(1, 2)", 0, "len() takes 1 argument"},
        {"1 + substr('a')", 4, "substr() takes 2 to 3 arguments"},
        {"substr('a', 1, 2, 3)", 0, "substr() takes 2 to 3 arguments"},
        {"now(1)", 0, "now() takes 0 arguments"},
        {"contains(s)", 0, "contains() takes 2 arguments"},
        {"x + len(1, 2, 3, 4, 5)", 4, "len() takes 1 argument"},
        {"len(1,)", 6, "expected a value"},
        {"len(1 2)", 6, "expected ',' or ')' in the arguments of len()"},
        {"len(", 4, "expected a value"},
        {"var('')", 4, "var() needs a variable name"},
        {"1 + var('a\\nb')", 8, "control character 0x0a in a variable name"},
        {"s =~ '('", 7, "invalid regex: missing closing parenthesis"},
        {"s =~ 'a)'", 7, "invalid regex: unmatched closing parenthesis"},
        {"s !~ '[a'", 8, "invalid regex: missing terminating ]"},
        {"s =~ '\\\\d('", 5, "invalid regex"}, /* escapes before the error: at the literal */
        {"s =~", 4, "expected a value"},
        {"1 < 2 < 3", 6, "comparisons cannot be chained"},
        {"1 == 2 != 3", 7, "comparisons cannot be chained"},
        {"1 < 2 == true", 6, "comparisons cannot be chained"},
        {"1.2.3", 3, "invalid number"},
        {"12abc", 2, "invalid number"},
        {"1.", 1, "invalid number"},
        {"1e999", 0, "number out of range"},
        {"a..b", 0, "invalid variable name 'a..b'"},
        {"a.", 0, "invalid variable name 'a.'"},
        {"s + .5", 4, "unexpected '.'"},
        {"not", 3, "expected a value"},
        {"1 + not 2", 4, "expected a value, found 'not'"},
        {"and", 0, "expected a value, found 'and'"},
        {"s == 'a' or", 11, "expected a value"},
        {"s == 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' 'b'", 43,
         "found ''b''"},
        {"s 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", 2,
         "found ''aaaaaaaaaaaaaaaaaaaaaaa...'"},
        {"-", 1, "expected a value"},
        {"()", 1, "expected a value, found ')'"},
        {",", 0, "expected a value, found ','"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scn_parse_error err = {0, "untouched"};
        scn_expr *e = scn_expr_compile(&fx->prog, cases[i].src, strlen(cases[i].src), &err);
        if (e)
            fail_msg("'%s' compiled", cases[i].src);
        if (err.offset != cases[i].offset || !strstr(err.msg, cases[i].msg))
            fail_msg("'%s'\n   want %zu: %s\n   got  %zu: %s", cases[i].src, cases[i].offset,
                     cases[i].msg, err.offset, err.msg);
    }
    /* A NULL error pointer is allowed. */
    assert_null(scn_expr_compile(&fx->prog, "1 +", 3, NULL));
}

/* Only LEN bytes are read: the source need not be NUL-terminated. */
static void test_length_bounded(void **state)
{
    fixture *fx = *state;
    const char *src = "n + 1 garbage";
    scn_expr *e = scn_expr_compile(&fx->prog, src, 5, NULL);
    assert_non_null(e);
    char *got = show(scn_expr_eval(e, &fx->env));
    assert_string_equal(got, "number:43");
    free(got);
    /* An unterminated string at the end of the slice. */
    scn_parse_error err;
    assert_null(scn_expr_compile(&fx->prog, "'abc'", 4, &err));
    assert_int_equal(err.offset, 0);
}

static char *repeat(const char *pre, int n, const char *mid, const char *post)
{
    cr_strbuf b = CR_STRBUF_INIT;
    for (int i = 0; i < n; i++)
        cr_strbuf_puts(&b, pre);
    cr_strbuf_puts(&b, mid);
    for (int i = 0; i < n; i++)
        cr_strbuf_puts(&b, post);
    char *s = strdup(cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
    return s;
}

/* Deep input is refused with an error instead of exhausting the stack. */
static void test_depth_limits(void **state)
{
    fixture *fx = *state;
    struct { const char *pre, *mid, *post; int ok, bad; } shapes[] = {
        {"(", "1", ")", 150, 100000},
        {"not ", "1", "", 150, 100000},
        {"-", "n", "", 150, 100000},
        {"", "1", " + 1", 150, 100000},
        {"len(", "1", ")", 150, 100000},
        {"", "1", " and 1", 150, 5000},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char *ok = repeat(shapes[i].pre, shapes[i].ok, shapes[i].mid, shapes[i].post);
        scn_parse_error err;
        scn_expr *e = scn_expr_compile(&fx->prog, ok, strlen(ok), &err);
        if (!e)
            fail_msg("shape %zu x%d: %s", i, shapes[i].ok, err.msg);
        assert_int_not_equal(scn_expr_eval(e, &fx->env).kind, CR_VAL_ERR);
        free(ok);
        char *bad = repeat(shapes[i].pre, shapes[i].bad, shapes[i].mid, shapes[i].post);
        assert_null(scn_expr_compile(&fx->prog, bad, strlen(bad), &err));
        assert_non_null(strstr(err.msg, "too deeply nested"));
        free(bad);
    }
}

static void balanced(cr_strbuf *b, int n)
{
    if (n == 1) {
        cr_strbuf_puts(b, "'abc'");
        return;
    }
    cr_strbuf_putc(b, '(');
    balanced(b, n / 2);
    cr_strbuf_puts(b, " + ");
    balanced(b, n / 2);
    cr_strbuf_putc(b, ')');
}

/* A long expression costs memory in proportion to its length. */
static void test_compile_memory(void **state)
{
    fixture *fx = *state;
    cr_strbuf b = CR_STRBUF_INIT;
    balanced(&b, 4096);
    assert_true(b.len > 30000);
    scn_expr *e = scn_expr_compile(&fx->prog, b.s, b.len, NULL);
    assert_non_null(e);
    if (fx->prog.used_total > 20 * b.len)
        fail_msg("%zu bytes for %zu of source", fx->prog.used_total, b.len);
    cr_value v = scn_expr_eval(e, &fx->env);
    assert_int_equal(v.kind, CR_VAL_STR);
    assert_int_equal(v.len, 3 * 4096);
    cr_strbuf_free(&b);
}

static void collect_cb(void *arg, const char *name)
{
    cr_strbuf *b = arg;
    cr_strbuf_puts(b, name);
    cr_strbuf_putc(b, ';');
}

static void test_vars(void **state)
{
    fixture *fx = *state;
    struct { const char *src, *want; } cases[] = {
        {"a + b.c == var('sip.header.X-Foo') and len(d) > 0 or not e", "a;b.c;sip.header.X-Foo;d;e;"},
        {"1 + 2", ""},
        {"var(x)", "x;"}, /* a computed name: only its inputs are known */
        {"s =~ pat", "s;pat;"},
        {"-x", "x;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scn_expr *e = scn_expr_compile(&fx->prog, cases[i].src, strlen(cases[i].src), NULL);
        assert_non_null(e);
        cr_strbuf b = CR_STRBUF_INIT;
        scn_expr_vars(e, collect_cb, &b);
        assert_string_equal(cr_strbuf_cstr(&b), cases[i].want);
        cr_strbuf_free(&b);
    }
}

/* Evaluation never touches the program's memory, and expressions without
 * new strings allocate nothing at all. */
static void test_allocation(void **state)
{
    fixture *fx = *state;
    const char *src = "(n + 1 > 5 and s =~ '^h' and len(s) == 5 and contains(s, 'ell')) "
                      "or substr(s, 1) == 'x'";
    scn_expr *e = scn_expr_compile(&fx->prog, src, strlen(src), NULL);
    assert_non_null(e);
    size_t prog_used = fx->prog.used_total;
    for (int i = 0; i < 1000; i++) {
        cr_value v = scn_expr_eval(e, &fx->env);
        assert_int_equal(v.kind, CR_VAL_BOOL);
        assert_true(v.b);
    }
    assert_int_equal(fx->prog.used_total, prog_used);
    assert_int_equal(fx->scratch.used_total, 0);
    /* Results that are new strings live in the scratch arena. */
    cr_value v = eval(fx, "upper(s) + '!'");
    assert_true(fx->scratch.used_total > 0);
    assert_int_equal(v.len, 6);
    assert_memory_equal(v.str, "HELLO!", 6);
}

/* Every lookup goes through env->lookup, once per reference. */
static void test_lookup_calls(void **state)
{
    fixture *fx = *state;
    int count = 0;
    fx->env.ctx = &count;
    eval(fx, "n + n + undefined_thing == 1 or false");
    assert_int_equal(count, 3);
    count = 0;
    eval(fx, "false and n");
    assert_int_equal(count, 0);
    fx->env.ctx = NULL;
    /* No lookup function at all: everything is undefined. */
    fx->env.lookup = NULL;
    char *got = show(eval(fx, "n == null"));
    assert_string_equal(got, "bool:true");
    free(got);
}

static void test_null_expr(void **state)
{
    fixture *fx = *state;
    assert_int_equal(scn_expr_eval(NULL, &fx->env).kind, CR_VAL_ERR);
    scn_expr_vars(NULL, collect_cb, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_literals),      T(test_variables),    T(test_arithmetic),
        T(test_division_by_zero), T(test_precedence), T(test_logic),
        T(test_equality),      T(test_ordering),     T(test_regex),
        T(test_functions),     T(test_clock),        T(test_compile_errors),
        T(test_length_bounded), T(test_depth_limits), T(test_compile_memory), T(test_vars),
        T(test_allocation),    T(test_lookup_calls), T(test_null_expr),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

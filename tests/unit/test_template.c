/* test_template.c — templates: literal fast path, braces, variables of every
 * kind, undefined variables, URL and header escaping, parse errors with their
 * offsets, variable listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario/template.h"

typedef struct { const char *name; cr_value v; } test_var;

#define STR(lit) {CR_VAL_STR, false, 0, lit, sizeof lit - 1}

static const test_var vars[] = {
    {"s", STR("hello")},
    {"n", {CR_VAL_NUM, false, 42, NULL, 0}},
    {"f", {CR_VAL_NUM, false, 2.5, NULL, 0}},
    {"t", {CR_VAL_BOOL, true, 0, NULL, 0}},
    {"nul", {CR_VAL_NULL, false, 0, NULL, 0}},
    {"name", STR("A b&c/\xc3\xa9?")},
    {"safe", STR("AZaz09-._~")},
    {"crlf", STR("a\r\nBcc: x@y\n")},
    {"braces", STR("{x}")},
    {"http.json.agent.name", STR("Alice")},
    {"sip.header.X-Foo", STR("bar")},
    {"bin", STR("a\0b")},
};

typedef struct {
    cr_arena prog, scratch;
    scn_env env;
    cr_strbuf undefined; /* names reported, ';'-separated */
} fixture;

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
            *out = vars[i].v;
            return true;
        }
    return false;
}

static void undefined_cb(void *ctx, const char *name, size_t len)
{
    fixture *fx = ctx;
    cr_strbuf_append(&fx->undefined, name, len);
    cr_strbuf_putc(&fx->undefined, ';');
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    cr_arena_init(&fx->prog, 0);
    cr_arena_init(&fx->scratch, 0);
    fx->env.lookup = lookup_cb;
    fx->env.undefined = undefined_cb;
    fx->env.ctx = fx;
    fx->env.scratch = &fx->scratch;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    cr_arena_free(&fx->prog);
    cr_arena_free(&fx->scratch);
    cr_strbuf_free(&fx->undefined);
    free(fx);
    return 0;
}

static scn_template *compile(fixture *fx, const char *src)
{
    scn_parse_error err;
    scn_template *t = scn_template_compile(&fx->prog, src, strlen(src), &err);
    if (!t)
        fail_msg("'%s' does not compile: %s at %zu", src, err.msg, err.offset);
    return t;
}

typedef struct { const char *src; scn_escape esc; const char *want, *undefined; } render_case;

/* Both renderers must agree with WANT and report the same undefined names. */
static void run_cases(fixture *fx, const render_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const render_case *c = &cases[i];
        scn_template *t = compile(fx, c->src);
        cr_strbuf out = CR_STRBUF_INIT;
        cr_strbuf_puts(&out, "<");
        cr_strbuf_reset(&fx->undefined);
        scn_template_render(t, &fx->env, c->esc, &out);
        if (strncmp(out.s, "<", 1) != 0 || strcmp(out.s + 1, c->want) != 0)
            fail_msg("render '%s' (esc %d)\n   want '%s'\n   got  '%s'", c->src, c->esc, c->want,
                     out.s + 1);
        const char *want_undef = c->undefined ? c->undefined : "";
        if (strcmp(cr_strbuf_cstr(&fx->undefined), want_undef) != 0)
            fail_msg("render '%s': undefined '%s', want '%s'", c->src,
                     cr_strbuf_cstr(&fx->undefined), want_undef);
        cr_strbuf_reset(&fx->undefined);
        const char *s = scn_template_render_cstr(t, &fx->env, c->esc);
        if (strcmp(s, c->want) != 0)
            fail_msg("render_cstr '%s'\n   want '%s'\n   got  '%s'", c->src, c->want, s);
        if (strcmp(cr_strbuf_cstr(&fx->undefined), want_undef) != 0)
            fail_msg("render_cstr '%s': undefined '%s'", c->src, cr_strbuf_cstr(&fx->undefined));
        assert_string_equal(scn_template_source(t), c->src);
        cr_strbuf_free(&out);
    }
}

#define RUN(fx, cases) run_cases(fx, cases, sizeof cases / sizeof cases[0])

static void test_render(void **state)
{
    static const render_case cases[] = {
        {"", SCN_ESC_NONE, "", NULL},
        {"plain text", SCN_ESC_NONE, "plain text", NULL},
        {"Hi {s}!", SCN_ESC_NONE, "Hi hello!", NULL},
        {"{s}", SCN_ESC_NONE, "hello", NULL},
        {"{ s }", SCN_ESC_NONE, "hello", NULL},
        {"{\ts\t}", SCN_ESC_NONE, "hello", NULL},
        {"{s}{s}", SCN_ESC_NONE, "hellohello", NULL},
        {"{n}/{f}/{t}/{nul}/", SCN_ESC_NONE, "42/2.5/true//", NULL},
        {"User {http.json.agent.name} on {sip.header.X-Foo}", SCN_ESC_NONE,
         "User Alice on bar", NULL},
        {"a {{b}} c", SCN_ESC_NONE, "a {b} c", NULL},
        {"{{}}", SCN_ESC_NONE, "{}", NULL},
        {"{{{s}}}", SCN_ESC_NONE, "{hello}", NULL},
        {"}}{{", SCN_ESC_NONE, "}{", NULL},
        {"{braces}", SCN_ESC_NONE, "{x}", NULL},      /* values are not re-parsed */
        {"[{missing}]", SCN_ESC_NONE, "[]", "missing;"},
        {"{a.b} {s} {a.b}", SCN_ESC_NONE, " hello ", "a.b;a.b;"},
        {"{nul}", SCN_ESC_NONE, "", NULL},             /* defined, null: not reported */
    };
    RUN(*state, cases);
}

static void test_binary_value(void **state)
{
    fixture *fx = *state;
    scn_template *t = compile(fx, "x{bin}y");
    cr_strbuf out = CR_STRBUF_INIT;
    scn_template_render(t, &fx->env, SCN_ESC_NONE, &out);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.s, "xa\0by", 5);
    cr_strbuf_reset(&out);
    scn_template_render(t, &fx->env, SCN_ESC_URL, &out);
    assert_string_equal(out.s, "xa%00by");
    cr_strbuf_free(&out);
}

static void test_escaping(void **state)
{
    static const render_case cases[] = {
        {"https://x/?q={name}&lit=a b", SCN_ESC_URL, "https://x/?q=A%20b%26c%2F%C3%A9%3F&lit=a b", NULL},
        {"{safe}", SCN_ESC_URL, "AZaz09-._~", NULL},
        {"{n}{f}{t}", SCN_ESC_URL, "422.5true", NULL},
        {"{crlf}", SCN_ESC_URL, "a%0D%0ABcc%3A%20x%40y%0A", NULL},
        {"{missing}?", SCN_ESC_URL, "?", "missing;"},
        {"{{ {name} }}", SCN_ESC_URL, "{ A%20b%26c%2F%C3%A9%3F }", NULL},
        {"Subject: {crlf}", SCN_ESC_HEADER, "Subject: aBcc: x@y", NULL},
        {"Line\r\n{s}", SCN_ESC_HEADER, "Line\r\nhello", NULL}, /* literal text is kept */
        {"{name}", SCN_ESC_HEADER, "A b&c/\xc3\xa9?", NULL},
        {"{crlf}", SCN_ESC_NONE, "a\r\nBcc: x@y\n", NULL},
    };
    RUN(*state, cases);
}

/* Templates with more parts than the renderer keeps on its stack. */
static void test_long(void **state)
{
    fixture *fx = *state;
    /* A template with 20 variable parts exercises the scratch-array path. */
    cr_strbuf src = CR_STRBUF_INIT, want = CR_STRBUF_INIT;
    for (int i = 0; i < 20; i++) {
        cr_strbuf_printf(&src, "<{s}|{name}>");
        cr_strbuf_puts(&want, "<hello|A%20b%26c%2F%C3%A9%3F>");
    }
    scn_template *t = compile(fx, cr_strbuf_cstr(&src));
    assert_string_equal(scn_template_render_cstr(t, &fx->env, SCN_ESC_URL), cr_strbuf_cstr(&want));
    cr_strbuf out = CR_STRBUF_INIT;
    scn_template_render(t, &fx->env, SCN_ESC_URL, &out);
    assert_string_equal(cr_strbuf_cstr(&out), cr_strbuf_cstr(&want));
    cr_strbuf_free(&out);
    cr_strbuf_free(&src);
    cr_strbuf_free(&want);
}

static bool big_lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    (void)name;
    (void)len;
    *out = cr_val_cstr(ctx);
    return true;
}

/* Values longer than the escaping slice. */
static void test_long_value(void **state)
{
    fixture *fx = *state;
    char big[1001];
    for (int i = 0; i < 1000; i++)
        big[i] = i % 2 ? '/' : 'a';
    big[1000] = '\0';
    scn_env env = {.lookup = big_lookup_cb, .ctx = big, .scratch = &fx->scratch};
    scn_template *t = compile(fx, "[{v}]");
    cr_strbuf want = CR_STRBUF_INIT;
    cr_strbuf_putc(&want, '[');
    for (int i = 0; i < 500; i++)
        cr_strbuf_puts(&want, "a%2F");
    cr_strbuf_putc(&want, ']');
    cr_strbuf out = CR_STRBUF_INIT;
    scn_template_render(t, &env, SCN_ESC_URL, &out);
    assert_string_equal(cr_strbuf_cstr(&out), cr_strbuf_cstr(&want));
    assert_string_equal(scn_template_render_cstr(t, &env, SCN_ESC_URL), cr_strbuf_cstr(&want));
    cr_strbuf_free(&out);
    cr_strbuf_free(&want);
}

static void test_literal_fast_path(void **state)
{
    fixture *fx = *state;
    const char *s;
    size_t len;
    scn_template *t = compile(fx, "no {{variables}} here");
    assert_true(scn_template_literal(t, &s, &len));
    assert_string_equal(s, "no {variables} here");
    assert_int_equal(len, 19);
    /* Rendering a literal returns the stored text and allocates nothing. */
    size_t used = fx->scratch.used_total;
    assert_ptr_equal(scn_template_render_cstr(t, &fx->env, SCN_ESC_URL), s);
    assert_int_equal(fx->scratch.used_total, used);
    assert_true(scn_template_literal(compile(fx, ""), &s, &len));
    assert_int_equal(len, 0);
    assert_true(scn_template_literal(t, NULL, NULL));

    scn_template *v = compile(fx, "x {s}");
    assert_false(scn_template_literal(v, &s, &len));
    /* Rendering never touches the program's memory. */
    used = fx->prog.used_total;
    for (int i = 0; i < 100; i++)
        scn_template_render_cstr(v, &fx->env, SCN_ESC_NONE);
    assert_int_equal(fx->prog.used_total, used);
}

typedef struct { const char *src; size_t offset; const char *msg; } error_case;

static void test_errors(void **state)
{
    fixture *fx = *state;
    static const error_case cases[] = {
        {"}", 0, "lone '}'"},
        {"a}b", 1, "lone '}'"},
        {"{{a}", 3, "lone '}'"},
        {"{a}}", 3, "lone '}'"},
        {"{", 0, "unclosed '{'"},
        {"ab{cd", 2, "unclosed '{'"},
        {"{a} {b", 4, "unclosed '{'"},
        {"{}", 0, "empty '{}'"},
        {"x{ }", 1, "empty '{}'"},
        {"{a b}", 3, "unexpected 'b' in variable name"},
        {"{a+b}", 2, "unexpected '+'"},
        {"{a{b}", 2, "unexpected '{'"},
        {"{1a}", 1, "must start with a letter or '_'"},
        {"{.a}", 1, "must start with a letter"},
        {"{-a}", 1, "must start with a letter"},
        {"{a..b}", 3, "misplaced '.'"},
        {"{a.}", 2, "misplaced '.'"},
        {"{ a. }", 3, "misplaced '.'"},
        {"x {\"k\": 1}", 3, "write '{{' for a literal brace"},
        {"{a\x01}", 2, "unexpected byte 0x01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scn_parse_error err = {0, "untouched"};
        scn_template *t = scn_template_compile(&fx->prog, cases[i].src, strlen(cases[i].src), &err);
        if (t)
            fail_msg("'%s' compiled", cases[i].src);
        if (err.offset != cases[i].offset || !strstr(err.msg, cases[i].msg))
            fail_msg("'%s'\n   want %zu: %s\n   got  %zu: %s", cases[i].src, cases[i].offset,
                     cases[i].msg, err.offset, err.msg);
    }
    assert_null(scn_template_compile(&fx->prog, "}", 1, NULL));
    /* Only LEN bytes are read. */
    scn_template *t = scn_template_compile(&fx->prog, "ok} more", 2, NULL);
    assert_non_null(t);
    assert_string_equal(scn_template_source(t), "ok");
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
    cr_strbuf b = CR_STRBUF_INIT;
    scn_template_vars(compile(fx, "{a} {{b}} { c.d } {sip.header.X-Foo}{a}"), collect_cb, &b);
    assert_string_equal(cr_strbuf_cstr(&b), "a;c.d;sip.header.X-Foo;a;");
    cr_strbuf_reset(&b);
    scn_template_vars(compile(fx, "none"), collect_cb, &b);
    assert_string_equal(cr_strbuf_cstr(&b), "");
    cr_strbuf_free(&b);
}

/* No env->undefined and no lookup: undefined renders empty, nothing breaks. */
static void test_minimal_env(void **state)
{
    fixture *fx = *state;
    scn_env env = {.scratch = &fx->scratch};
    scn_template *t = compile(fx, "[{x}]");
    assert_string_equal(scn_template_render_cstr(t, &env, SCN_ESC_NONE), "[]");
    cr_strbuf out = CR_STRBUF_INIT;
    scn_template_render(t, &env, SCN_ESC_URL, &out);
    assert_string_equal(cr_strbuf_cstr(&out), "[]");
    cr_strbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_render), T(test_binary_value), T(test_escaping), T(test_long),
        T(test_long_value), T(test_literal_fast_path), T(test_errors), T(test_vars),
        T(test_minimal_env),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

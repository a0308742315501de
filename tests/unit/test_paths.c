/* test_paths.c — file paths from templates (issue 11, item 1): the path
 * escape of rendered values (SCN_ESC_PATH), lexical normalisation, "below a
 * directory", resolution against a base, and confinement after symlinks in
 * a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>

#include <cmocka.h>

#include "scenario/template.h"
#include "util/path.h"

/* ---- the escape ---------------------------------------------------------- */

static void test_escape_value(void **state)
{
    (void)state;
    static const struct { const char *in; size_t len; const char *want; } cases[] = {
        {"plain-name_1.wav", 16, "plain-name_1.wav"},
        {"../../../tmp/evil", 17, "_._.._.._tmp_evil"},
        {"a/b\\c", 5, "a_b_c"},
        {".hidden", 7, "_hidden"},
        {"..", 2, "_."},
        {".", 1, "_"},
        {"a.b..c", 6, "a.b..c"},              /* only the value's first '.' */
        {"x\0../y", 6, "x_.._y"},             /* NUL cannot cut the path short */
        {"", 0, ""},
        {"+7 (916) 555", 12, "+7 (916) 555"},  /* nothing else changes */
        {"\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        size_t n = scn_escape_value(cases[i].in, cases[i].len, SCN_ESC_PATH, NULL);
        assert_int_equal(n, strlen(cases[i].want));
        assert_int_equal(scn_escape_value(cases[i].in, cases[i].len, SCN_ESC_PATH, out), n);
        out[n] = '\0';
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("escape '%s': want '%s', got '%s'", cases[i].in, cases[i].want, out);
    }
}

typedef struct { const char *name, *value; } pvar;

static const pvar pvars[] = {
    {"call_id", "../../../tmp/evil"},
    {"mailbox", "101"},
    {"dot", ".profile"},
    {"empty", ""},
    {"win", "..\\..\\boot.ini"},
};

static bool lookup(void *ctx, const char *name, size_t len, cr_value *out)
{
    if (ctx) {   /* one long value for every name */
        *out = cr_val_cstr(ctx);
        return true;
    }
    for (size_t i = 0; i < sizeof pvars / sizeof pvars[0]; i++)
        if (strlen(pvars[i].name) == len && memcmp(pvars[i].name, name, len) == 0) {
            *out = cr_val_cstr(pvars[i].value);
            return true;
        }
    return false;
}

/* Both renderers; the template's own '/' and '.' stay. */
static void expect_render(cr_arena *prog, const scn_env *env, const char *src, const char *want)
{
    scn_parse_error err;
    scn_template *t = scn_template_compile(prog, src, strlen(src), &err);
    assert_non_null(t);
    const char *s = scn_template_render_cstr(t, env, SCN_ESC_PATH);
    if (strcmp(s, want) != 0)
        fail_msg("render_cstr '%s': want '%s', got '%s'", src, want, s);
    cr_strbuf b = CR_STRBUF_INIT;
    scn_template_render(t, env, SCN_ESC_PATH, &b);
    if (strcmp(cr_strbuf_cstr(&b), want) != 0)
        fail_msg("render '%s': want '%s', got '%s'", src, want, cr_strbuf_cstr(&b));
    cr_strbuf_free(&b);
}

static void test_escape_in_templates(void **state)
{
    (void)state;
    cr_arena prog, scratch;
    cr_arena_init(&prog, 0);
    cr_arena_init(&scratch, 0);
    scn_env env = {.lookup = lookup, .scratch = &scratch};
    expect_render(&prog, &env, "recordings/{mailbox}-{call_id}.wav", "recordings/101-_._.._.._tmp_evil.wav");
    expect_render(&prog, &env, "{call_id}", "_._.._.._tmp_evil");
    expect_render(&prog, &env, "../shared/{dot}", "../shared/_profile");   /* literal text is the author's */
    expect_render(&prog, &env, "a/{empty}.{dot}", "a/._profile");
    expect_render(&prog, &env, "{win}.wav", "_._.._boot.ini.wav");

    /* A value longer than the escaping slice: only its first byte is "leading". */
    char big[301];
    for (int i = 0; i < 300; i++)
        big[i] = i % 3 == 2 ? '/' : '.';
    big[300] = '\0';
    char want[310];
    want[0] = '[';
    for (int i = 0; i < 300; i++)
        want[i + 1] = i == 0 ? '_' : big[i] == '/' ? '_' : '.';
    strcpy(want + 301, "]");
    scn_env benv = {.lookup = lookup, .ctx = big, .scratch = &scratch};
    expect_render(&prog, &benv, "[{v}]", want);
    cr_arena_free(&prog);
    cr_arena_free(&scratch);
}

/* ---- lexical ------------------------------------------------------------- */

static void test_normalize(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "."},           {".", "."},              {"./", "."},            {"a", "a"},
        {"a/", "a"},         {"a//b", "a/b"},         {"a/./b", "a/b"},       {"a/../b", "b"},
        {"a/..", "."},       {"../a", "../a"},        {"../../a/..", "../.."}, {"a/../../b", "../b"},
        {"/", "/"},          {"//", "/"},             {"/..", "/"},           {"/../a", "/a"},
        {"/a/b/../../..", "/"}, {"/a/./b//c/", "/a/b/c"}, {"sounds/x/../y.wav", "sounds/y.wav"},
        {"recordings/_._.._x", "recordings/_._.._x"},      {"a/..b/.c", "a/..b/.c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        assert_true(cr_path_normalize(cases[i][0], out, sizeof out));
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("normalize '%s': want '%s', got '%s'", cases[i][0], cases[i][1], out);
    }
    char small[4];
    assert_false(cr_path_normalize("abcd", small, sizeof small));
    assert_true(cr_path_normalize("abc", small, sizeof small));
    assert_false(cr_path_normalize("/abc", small, sizeof small));
}

static void test_below(void **state)
{
    (void)state;
    assert_true(cr_path_below("/a/b/c", "/a/b"));
    assert_true(cr_path_below("/a/b/c/d", "/a/b"));
    assert_false(cr_path_below("/a/b", "/a/b"));       /* the directory itself is no file in it */
    assert_false(cr_path_below("/a/bc", "/a/b"));
    assert_false(cr_path_below("/a", "/a/b"));
    assert_true(cr_path_below("/x", "/"));
    assert_false(cr_path_below("/", "/"));
    assert_true(cr_path_below("a", "."));
    assert_false(cr_path_below(".", "."));
    assert_false(cr_path_below("../a", "."));
    assert_false(cr_path_below("..", "."));
    assert_true(cr_path_below("..a", "."));
    assert_true(cr_path_below("sounds/x.wav", "sounds"));
    assert_false(cr_path_below("soundsx.wav", "sounds"));
}

static void test_resolve(void **state)
{
    (void)state;
    static const struct { const char *base, *name; cr_path_status st; const char *out; } cases[] = {
        {"sounds", "hello.wav", CR_PATH_OK, "sounds/hello.wav"},
        {"examples/sounds", "voicemail-greeting.wav", CR_PATH_OK, "examples/sounds/voicemail-greeting.wav"},
        {"sounds", "de/hello.wav", CR_PATH_OK, "sounds/de/hello.wav"},
        {"sounds", "x/../hello.wav", CR_PATH_OK, "sounds/hello.wav"},
        {"sounds", "../secret.wav", CR_PATH_OUTSIDE, NULL},
        {"sounds", "x/../../secret.wav", CR_PATH_OUTSIDE, NULL},
        {"sounds", ".", CR_PATH_OUTSIDE, NULL},
        {"sounds", "x/..", CR_PATH_OUTSIDE, NULL},
        {"sounds", "", CR_PATH_EMPTY, NULL},
        {"sounds", "/etc/passwd", CR_PATH_OUTSIDE, NULL},
        {"/srv/rec", "/srv/rec/a/b.wav", CR_PATH_OK, "/srv/rec/a/b.wav"},
        {"/srv/rec", "/srv/recx/b.wav", CR_PATH_OUTSIDE, NULL},
        {"/srv/rec", "/srv/rec/../b.wav", CR_PATH_OUTSIDE, NULL},
        {"/srv/rec/", "a.wav", CR_PATH_OK, "/srv/rec/a.wav"},
        {".", "a.wav", CR_PATH_OK, "a.wav"},
        {"./rec", "a.wav", CR_PATH_OK, "rec/a.wav"},
        {"../up/rec", "a.wav", CR_PATH_OK, "../up/rec/a.wav"},
        {"../up/rec", "../a.wav", CR_PATH_OUTSIDE, NULL},
        {"rec", "_._.._.._tmp_evil.wav", CR_PATH_OK, "rec/_._.._.._tmp_evil.wav"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX];
        cr_path_status st = cr_path_resolve(cases[i].base, cases[i].name, out, sizeof out);
        if (st != cases[i].st)
            fail_msg("resolve '%s' in '%s': status %d, want %d", cases[i].name, cases[i].base, st, cases[i].st);
        if (cases[i].out && strcmp(out, cases[i].out) != 0)
            fail_msg("resolve '%s' in '%s': want '%s', got '%s'", cases[i].name, cases[i].base, cases[i].out, out);
    }
    /* An absolute name below a relative base: compared from the working directory. */
    char cwd[PATH_MAX], name[PATH_MAX + 32], out[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(name, sizeof name, "%s/rec/a.wav", cwd);
    assert_int_equal(cr_path_resolve("rec", name, out, sizeof out), CR_PATH_OK);
    snprintf(name, sizeof name, "%s/other/a.wav", cwd);
    assert_int_equal(cr_path_resolve("rec", name, out, sizeof out), CR_PATH_OUTSIDE);
    /* Too long for OUT. */
    char small[8];
    assert_int_equal(cr_path_resolve("sounds", "hello.wav", small, sizeof small), CR_PATH_TOO_LONG);
    assert_string_not_equal(cr_path_status_text(CR_PATH_OUTSIDE), "?");
}

/* ---- on the file system -------------------------------------------------- */

typedef struct { char dir[PATH_MAX], cwd[PATH_MAX]; } fsfix;

static void touch(const char *dir, const char *rel)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
}

static void sub(const char *dir, const char *rel)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void link_(const char *dir, const char *target, const char *rel)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    assert_int_equal(symlink(target, p), 0);
}

/* DIR: base/ (hello.wav, in -> hello.wav, out -> ../secret.wav, up -> ..,
 * sub/, dangling -> ../nowhere.wav, loop -> loop), secret.wav,
 * linkbase -> base. The test runs inside DIR. */
static int fs_setup(void **state)
{
    fsfix *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/callroute-paths.XXXXXX");
    if (!mkdtemp(fx->dir) || !getcwd(fx->cwd, sizeof fx->cwd))
        return -1;
    /* mkdtemp may sit under a symlinked /tmp: use the physical name. */
    char real[PATH_MAX];
    if (!realpath(fx->dir, real))
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "%s", real);
    sub(fx->dir, "base");
    sub(fx->dir, "base/sub");
    touch(fx->dir, "base/hello.wav");
    touch(fx->dir, "secret.wav");
    link_(fx->dir, "hello.wav", "base/in");
    link_(fx->dir, "../secret.wav", "base/out");
    link_(fx->dir, "..", "base/up");
    link_(fx->dir, "../nowhere.wav", "base/dangling");
    link_(fx->dir, "loop", "base/loop");
    link_(fx->dir, "base", "linkbase");
    if (chdir(fx->dir) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int fs_teardown(void **state)
{
    fsfix *fx = *state;
    if (chdir(fx->cwd) != 0)
        return -1;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static void test_canonical(void **state)
{
    fsfix *fx = *state;
    char out[PATH_MAX], want[PATH_MAX + 64];
    assert_true(cr_path_canonical("base/hello.wav", out, sizeof out));
    snprintf(want, sizeof want, "%s/base/hello.wav", fx->dir);
    assert_string_equal(out, want);
    /* What does not exist yet is appended as written. */
    assert_true(cr_path_canonical("base/new/dir/x.wav", out, sizeof out));
    snprintf(want, sizeof want, "%s/base/new/dir/x.wav", fx->dir);
    assert_string_equal(out, want);
    /* Symlinks are followed. */
    assert_true(cr_path_canonical("base/out", out, sizeof out));
    snprintf(want, sizeof want, "%s/secret.wav", fx->dir);
    assert_string_equal(out, want);
    assert_true(cr_path_canonical("linkbase/up/secret.wav", out, sizeof out));
    assert_string_equal(out, want);
    assert_true(cr_path_canonical("/", out, sizeof out));
    assert_string_equal(out, "/");
    /* A dangling symlink and a loop do not resolve. */
    assert_false(cr_path_canonical("base/dangling", out, sizeof out));
    assert_false(cr_path_canonical("base/loop/x", out, sizeof out));
}

static void test_mkdirs(void **state)
{
    (void)state;   /* in the fixture's directory (the working directory) */
    struct stat st;
    assert_int_equal(cr_path_mkdirs("made/a/b", 0750), 0);
    assert_int_equal(stat("made/a/b", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(cr_path_mkdirs("made/a/b", 0750), 0);   /* there already */
    /* a file's parents, not the file */
    assert_int_equal(cr_path_mkparents("made/c/d/x.wav", 0755), 0);
    assert_int_equal(stat("made/c/d", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_not_equal(stat("made/c/d/x.wav", &st), 0);
    assert_int_equal(cr_path_mkparents("x.wav", 0755), 0);   /* no directory to make */
    /* a file in the way */
    assert_int_equal(cr_path_mkdirs("base/hello.wav/sub", 0750), -1);
}

static void test_confine(void **state)
{
    fsfix *fx = *state;
    char out[PATH_MAX], abs[PATH_MAX + 64];
    assert_int_equal(cr_path_confine("base", "hello.wav", out, sizeof out), CR_PATH_OK);
    assert_string_equal(out, "base/hello.wav");
    /* Directories a recording creates later. */
    assert_int_equal(cr_path_confine("base", "voicemail/101/x.wav", out, sizeof out), CR_PATH_OK);
    assert_string_equal(out, "base/voicemail/101/x.wav");
    assert_int_equal(cr_path_confine("base", "sub/x.wav", out, sizeof out), CR_PATH_OK);
    /* A symlink that stays inside is fine; one that leads out is outside. */
    assert_int_equal(cr_path_confine("base", "in", out, sizeof out), CR_PATH_OK);
    assert_int_equal(cr_path_confine("base", "out", out, sizeof out), CR_PATH_OUTSIDE);
    assert_int_equal(cr_path_confine("base", "up/secret.wav", out, sizeof out), CR_PATH_OUTSIDE);
    /* ... and back in again is inside: what counts is where the file is. */
    assert_int_equal(cr_path_confine("base", "up/base/hello.wav", out, sizeof out), CR_PATH_OK);
    assert_int_equal(cr_path_confine("base", "dangling", out, sizeof out), CR_PATH_UNRESOLVED);
    assert_int_equal(cr_path_confine("base", "loop/x.wav", out, sizeof out), CR_PATH_UNRESOLVED);
    assert_int_equal(cr_path_confine("base", "../secret.wav", out, sizeof out), CR_PATH_OUTSIDE);
    /* A base that is itself a symlink: its target is the directory. */
    assert_int_equal(cr_path_confine("linkbase", "hello.wav", out, sizeof out), CR_PATH_OK);
    assert_string_equal(out, "linkbase/hello.wav");
    /* Both ways: by its text the physical name is not below linkbase. */
    snprintf(abs, sizeof abs, "%s/base/hello.wav", fx->dir);
    assert_int_equal(cr_path_confine("linkbase", abs, out, sizeof out), CR_PATH_OUTSIDE);
    assert_int_equal(cr_path_confine("base", abs, out, sizeof out), CR_PATH_OK);
    snprintf(abs, sizeof abs, "%s/secret.wav", fx->dir);
    assert_int_equal(cr_path_confine("base", abs, out, sizeof out), CR_PATH_OUTSIDE);
    /* A base that does not exist yet (recordings before the first one). */
    assert_int_equal(cr_path_confine("recordings", "a/b.wav", out, sizeof out), CR_PATH_OK);
    assert_int_equal(cr_path_confine("recordings", "", out, sizeof out), CR_PATH_EMPTY);
    /* The escaped Call-ID of the issue stays one name below the base. */
    assert_int_equal(cr_path_confine("base", "_._.._.._tmp_evil.wav", out, sizeof out), CR_PATH_OK);
    assert_string_equal(out, "base/_._.._.._tmp_evil.wav");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_value),
        cmocka_unit_test(test_escape_in_templates),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_below),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test_setup_teardown(test_canonical, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_confine, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, fs_setup, fs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

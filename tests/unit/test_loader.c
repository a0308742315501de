/* test_loader.c — the YAML/JSON loader: positions, scalars, aliases,
 * includes, and every kind of bad input refused with a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario/diag.h"
#include "scenario/node.h"

static char tmpdir[256];

/* ---- helpers ---- */

static void write_file(const char *name, const char *text, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);   /* one level of sub-directory is enough here */
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void put(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

typedef struct loaded {
    cr_arena arena;
    scn_diags d;
    scn_node *root;
    bool unreadable;
    char *out;   /* printed diagnostics */
} loaded;

static void finish(loaded *l)
{
    size_t len = 0;
    FILE *f = open_memstream(&l->out, &len);
    scn_diags_print(&l->d, f);
    fclose(f);
}

static loaded *load_str(const char *text)
{
    loaded *l = calloc(1, sizeof *l);
    cr_arena_init(&l->arena, 0);
    scn_diags_init(&l->d);
    l->root = scn_load_buffer(&l->arena, "mem.yaml", text, strlen(text), &l->d);
    finish(l);
    return l;
}

static loaded *load_path(const char *name)
{
    loaded *l = calloc(1, sizeof *l);
    cr_arena_init(&l->arena, 0);
    scn_diags_init(&l->d);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    l->root = scn_load_file(&l->arena, path, &l->d, &l->unreadable);
    finish(l);
    return l;
}

static void done(loaded *l)
{
    free(l->out);
    scn_diags_free(&l->d);
    cr_arena_free(&l->arena);
    free(l);
}

/* The load failed with exactly one error at LINE:COL containing MSG. */
static void expect_error(loaded *l, unsigned line, unsigned col, const char *msg)
{
    if (l->root || l->d.errors != 1 || l->d.items[0].line != line ||
        l->d.items[0].col != col || !strstr(l->d.items[0].msg, msg))
        fail_msg("expected one error at %u:%u containing \"%s\", got:\n%s", line, col, msg,
                 l->out);
}

static const scn_node *at(const scn_node *n, const char *key)
{
    const scn_node *v = scn_map_get(n, key);
    if (!v)
        fail_msg("no key '%s'", key);
    return v;
}

static void expect_pos(const scn_node *n, unsigned line, unsigned col)
{
    if (n->line != line || n->col != col)
        fail_msg("node '%s' at %u:%u, expected %u:%u", n->str, n->line, n->col, line, col);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_loader.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- positions ---- */

static void test_yaml_positions(void **state)
{
    (void)state;
    loaded *l = load_str("version: 1\n"
                         "routes:\n"
                         "  - name: vip\n"
                         "    script:\n"
                         "      - app: play\n"
                         "        file: [a.wav, \"b.wav\"]\n");
    assert_non_null(l->root);
    assert_int_equal(l->root->kind, SCN_NODE_MAP);
    expect_pos(l->root, 1, 1);
    expect_pos(l->root->pairs[0].key, 1, 1);
    expect_pos(at(l->root, "version"), 1, 10);
    const scn_node *routes = at(l->root, "routes");
    assert_int_equal(routes->kind, SCN_NODE_SEQ);
    assert_int_equal(routes->count, 1);
    const scn_node *r0 = routes->items[0];
    expect_pos(r0, 3, 5);
    expect_pos(at(r0, "name"), 3, 11);
    const scn_node *act = at(r0, "script")->items[0];
    expect_pos(at(act, "app"), 5, 14);
    const scn_node *files = at(act, "file");
    expect_pos(files, 6, 15);
    expect_pos(files->items[0], 6, 16);
    expect_pos(files->items[1], 6, 23);
    assert_string_equal(files->items[1]->str, "b.wav");
    assert_true(files->items[1]->quoted);
    assert_false(files->items[0]->quoted);
    assert_true(l->root->file && strcmp(l->root->file, "mem.yaml") == 0);
    done(l);
}

static void test_json_positions(void **state)
{
    (void)state;
    loaded *l = load_str("{\n"
                         "  \"version\": 1,\n"
                         "  \"routes\": [\n"
                         "    {\"name\": \"a\", \"enabled\": true, \"priority\": 90}\n"
                         "  ]\n"
                         "}\n");
    assert_non_null(l->root);
    const scn_node *v = at(l->root, "version");
    expect_pos(v, 2, 14);
    double num;
    assert_true(scn_scalar_number(v, &num));
    assert_true(num == 1.0);
    const scn_node *r = at(l->root, "routes")->items[0];
    expect_pos(r, 4, 5);
    expect_pos(at(r, "name"), 4, 14);
    assert_true(at(r, "name")->quoted);
    bool b = false;
    assert_true(scn_scalar_bool(at(r, "enabled"), &b));
    assert_true(b);
    expect_pos(l->root->pairs[1].key, 3, 3);
    done(l);
}

/* JSON files indented with tabs are fine: tabs are only banned in YAML's
 * block indentation. */
static void test_json_with_tabs(void **state)
{
    (void)state;
    loaded *l = load_str("{\n\t\"a\": {\n\t\t\"b\": [1, 2]\n\t}\n}\n");
    assert_non_null(l->root);
    expect_pos(at(at(l->root, "a"), "b"), 3, 8);
    done(l);
}

/* ---- scalars ---- */

static void test_scalars(void **state)
{
    (void)state;
    loaded *l = load_str("t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: False\nf3: FALSE\n"
                         "qt: \"true\"\nyes: yes\nmixed: tRUE\n"
                         "n1: ~\nn2: null\nn3: Null\nn4: NULL\nn5:\nqn: 'null'\nqe: ''\n"
                         "i: 42\nneg: -7\nf: 2.5\ne: 1e3\ndot: .5\nplus: +3.\n"
                         "qnum: \"42\"\nhex: 0x10\ndur: 500ms\nver: 1.2.3\nund: 1_000\n"
                         "block: |\n  42\nstr: !!str 42\n");
    assert_non_null(l->root);
    bool b;
    const char *trues[] = { "t1", "t2", "t3" }, *falses[] = { "f1", "f2", "f3" };
    for (int i = 0; i < 3; i++) {
        b = false;
        assert_true(scn_scalar_bool(at(l->root, trues[i]), &b));
        assert_true(b);
        b = true;
        assert_true(scn_scalar_bool(at(l->root, falses[i]), &b));
        assert_false(b);
    }
    assert_false(scn_scalar_bool(at(l->root, "qt"), &b));
    assert_false(scn_scalar_bool(at(l->root, "yes"), &b));   /* YAML 1.2: a string */
    assert_false(scn_scalar_bool(at(l->root, "mixed"), &b));
    assert_true(scn_is_null(at(l->root, "n1")));
    assert_true(scn_is_null(at(l->root, "n2")));
    assert_true(scn_is_null(at(l->root, "n3")));
    assert_true(scn_is_null(at(l->root, "n4")));
    assert_true(scn_is_null(at(l->root, "n5")));
    assert_false(scn_is_null(at(l->root, "qn")));
    assert_false(scn_is_null(at(l->root, "qe")));
    assert_true(scn_is_null(NULL));
    assert_false(scn_is_null(l->root));
    double x;
    assert_true(scn_scalar_number(at(l->root, "i"), &x) && x == 42);
    assert_true(scn_scalar_number(at(l->root, "neg"), &x) && x == -7);
    assert_true(scn_scalar_number(at(l->root, "f"), &x) && x == 2.5);
    assert_true(scn_scalar_number(at(l->root, "e"), &x) && x == 1000);
    assert_true(scn_scalar_number(at(l->root, "dot"), &x) && x == 0.5);
    assert_true(scn_scalar_number(at(l->root, "plus"), &x) && x == 3);
    assert_false(scn_scalar_number(at(l->root, "qnum"), &x));
    assert_false(scn_scalar_number(at(l->root, "hex"), &x));
    assert_false(scn_scalar_number(at(l->root, "dur"), &x));
    assert_false(scn_scalar_number(at(l->root, "ver"), &x));
    assert_false(scn_scalar_number(at(l->root, "und"), &x));
    assert_false(scn_scalar_number(at(l->root, "n5"), &x));
    const scn_node *blk = at(l->root, "block");
    assert_string_equal(blk->str, "42\n");
    assert_true(blk->quoted);
    assert_false(scn_scalar_number(blk, &x));
    assert_true(at(l->root, "str")->quoted);
    assert_true(scn_scalar_is(at(l->root, "qnum"), "42"));
    assert_true(scn_scalar_is(at(l->root, "i"), "42"));
    assert_false(scn_scalar_is(at(l->root, "i"), "4"));
    assert_false(scn_scalar_is(l->root, "42"));
    assert_null(scn_map_get(l->root, "nope"));
    assert_null(scn_map_get(at(l->root, "i"), "x"));
    done(l);
}

static void test_escapes_and_multiline(void **state)
{
    (void)state;
    loaded *l = load_str("a: \"x\\ty\\u00e9\"\nb: 'it''s'\nc: >\n  one\n  two\n");
    assert_non_null(l->root);
    assert_string_equal(at(l->root, "a")->str, "x\ty\xc3\xa9");
    assert_string_equal(at(l->root, "b")->str, "it's");
    assert_string_equal(at(l->root, "c")->str, "one two\n");
    done(l);
}

/* ---- aliases ---- */

static void test_alias_shares_node(void **state)
{
    (void)state;
    loaded *l = load_str("common: &c\n  app: play\n  file: x.wav\n"
                         "a: *c\nb: [*c, *c]\nname: &n bob\nwho: *n\n");
    assert_non_null(l->root);
    const scn_node *c = at(l->root, "common");
    assert_ptr_equal(at(l->root, "a"), c);
    assert_ptr_equal(at(l->root, "b")->items[1], c);
    assert_string_equal(at(l->root, "who")->str, "bob");
    expect_pos(c, 1, 9);
    done(l);
}

static void test_alias_bomb(void **state)
{
    (void)state;
    /* "Billion laughs": 10^9 nodes if expanded. */
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'j'; c++)
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c,
                      c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loaded *l = load_str(buf);
    assert_null(l->root);
    assert_true(seconds_since(&t0) < 1.0);
    assert_int_equal(l->d.errors, 1);
    assert_non_null(strstr(l->d.items[0].msg, "aliases expand to more than"));
    done(l);
}

static void test_alias_errors(void **state)
{
    (void)state;
    loaded *l = load_str("a: 1\nb: *nope\n");
    expect_error(l, 2, 4, "unknown alias '*nope'");
    done(l);
    l = load_str("a: &x\n  - 1\n  - *x\n");
    expect_error(l, 3, 5, "inside the node it refers to");
    done(l);
    l = load_str("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n");
    expect_error(l, 3, 3, "merge keys ('<<') are not supported");
    done(l);
    l = load_str("? [a, b]\n: 1\n");
    expect_error(l, 1, 3, "a key must be a plain name");
    done(l);
}

/* ---- bad input ---- */

static void test_empty(void **state)
{
    (void)state;
    put("empty.yaml", "");
    loaded *l = load_path("empty.yaml");
    expect_error(l, 1, 1, "empty scenario file");
    assert_false(l->unreadable);
    done(l);
    l = load_str("# only a comment\n\n   \n");
    expect_error(l, 1, 1, "empty scenario file");
    done(l);
    l = load_str("---\n");
    expect_error(l, 1, 1, "empty scenario file");
    done(l);
}

static void test_unreadable(void **state)
{
    (void)state;
    loaded *l = load_path("does-not-exist.yaml");
    assert_null(l->root);
    assert_true(l->unreadable);
    assert_non_null(strstr(l->out, "does-not-exist.yaml: error: cannot read "));
    assert_non_null(strstr(l->out, "does-not-exist.yaml: No such file or directory"));
    done(l);
    put("dir/x.yaml", "a: 1\n");
    l = load_path("dir");
    assert_null(l->root);
    assert_true(l->unreadable);
    assert_non_null(strstr(l->out, "Is a directory"));
    done(l);
}

static void test_binary_junk(void **state)
{
    (void)state;
    unsigned char junk[4096];
    unsigned seed = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        seed = seed * 1103515245u + 12345u;
        junk[i] = (unsigned char)(seed >> 16);
    }
    write_file("junk.bin", (const char *)junk, sizeof junk);
    loaded *l = load_path("junk.bin");
    assert_null(l->root);
    assert_false(l->unreadable);
    assert_int_equal(l->d.errors, 1);
    assert_true(strstr(l->d.items[0].msg, "binary data") ||
                strstr(l->d.items[0].msg, "invalid UTF-8"));
    assert_true(l->d.items[0].line >= 1);
    done(l);
    /* ELF-like header: NUL at 1:5. */
    write_file("elf.bin", "\x7f" "ELF\0\0\0", 7);
    l = load_path("elf.bin");
    expect_error(l, 1, 1, "binary data: control character U+007F");
    done(l);
    write_file("nul.yaml", "a: b\nc: d\0e\n", 12);
    l = load_path("nul.yaml");
    expect_error(l, 2, 5, "binary data: control character U+0000");
    done(l);
}

static void test_non_utf8(void **state)
{
    (void)state;
    put("latin1.yaml", "name: caf\xe9\nb: 1\n");
    loaded *l = load_path("latin1.yaml");
    expect_error(l, 1, 10, "invalid UTF-8 byte 0xE9");
    done(l);
    /* Multi-byte characters before the bad byte count as one column each. */
    l = load_str("a: \xd0\xbf\xd1\x80\xc0\xaf\n");
    expect_error(l, 1, 6, "invalid UTF-8 byte 0xC0");
    done(l);
    l = load_str("a: \xd0\xbf\xd1\x80 ok\n");
    assert_non_null(l->root);
    done(l);
}

static void test_too_big(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/big.yaml", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static char line[1024];
    memset(line, ' ', sizeof line);
    memcpy(line, "# padding", 9);
    line[sizeof line - 1] = '\n';
    for (int i = 0; i < 50 * 1024; i++)   /* 50 MB */
        assert_int_equal(fwrite(line, 1, sizeof line, f), sizeof line);
    fclose(f);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loaded *l = load_path("big.yaml");
    double took = seconds_since(&t0);
    expect_error(l, 1, 1, "file is too large (52428800 bytes");
    assert_false(l->unreadable);
    assert_true(took < 0.1);   /* refused from its size, not read */
    done(l);
    unlink(path);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 10000;
    char *s = malloc(2 * depth + 10);
    /* Flow: [[[[...]]]] */
    for (size_t i = 0; i < depth; i++)
        s[i] = '[';
    for (size_t i = 0; i < depth; i++)
        s[depth + i] = ']';
    s[2 * depth] = '\0';
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loaded *l = load_str(s);
    expect_error(l, 1, SCN_MAX_DEPTH + 1, "nesting is deeper than 64 levels");
    done(l);
    /* Block: - - - - ... x */
    for (size_t i = 0; i < depth; i++) {
        s[2 * i] = '-';
        s[2 * i + 1] = ' ';
    }
    strcpy(s + 2 * depth, "x\n");
    l = load_str(s);
    expect_error(l, 1, 2 * SCN_MAX_DEPTH + 1, "nesting is deeper than 64 levels");
    done(l);
    /* Maps: {a: {a: {a: ... */
    char *m = malloc(4 * depth + 10);
    for (size_t i = 0; i < depth; i++)
        memcpy(m + 4 * i, "{a: ", 4);
    m[4 * depth] = '\0';
    l = load_str(m);
    expect_error(l, 1, 4 * SCN_MAX_DEPTH + 1, "nesting is deeper than 64 levels");
    done(l);
    assert_true(seconds_since(&t0) < 1.0);
    free(m);
    free(s);
    /* Exactly at the limit is fine. */
    char ok[2 * SCN_MAX_DEPTH + 2];
    memset(ok, '[', SCN_MAX_DEPTH);
    memset(ok + SCN_MAX_DEPTH, ']', SCN_MAX_DEPTH);
    ok[2 * SCN_MAX_DEPTH] = '\0';
    l = load_str(ok);
    assert_non_null(l->root);
    done(l);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    loaded *l = load_str("name: a\nroutes: []\nname: b\n");
    expect_error(l, 3, 1, "duplicate key 'name' (first defined at line 1)");
    done(l);
    l = load_str("routes:\n  - name: a\n  - name: b\n    script:\n      - app: x\n        app: y\n");
    expect_error(l, 6, 9, "duplicate key 'app' (first defined at line 5)");
    assert_string_equal(l->d.items[0].path, "routes[1].script[0].app");
    done(l);
    /* A big map takes the sorting path; every repeat is reported. */
    char *s = malloc(100 * 32);
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(s + n, "\"%d\": x\n", i % 60);
    l = load_str(s);
    assert_null(l->root);
    assert_int_equal(l->d.errors, 40);   /* every repeat of keys 0..39 */
    done(l);
    n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(s + n, "k%d: x\n", i == 77 ? 5 : i);
    l = load_str(s);
    expect_error(l, 78, 1, "duplicate key 'k5' (first defined at line 6)");
    done(l);
    free(s);
    l = load_str("{\"a\": 1, \"b\": 2, \"a\": 3}");
    expect_error(l, 1, 18, "duplicate key 'a' (first defined at line 1)");
    done(l);
}

static void test_tabs(void **state)
{
    (void)state;
    loaded *l = load_str("routes:\n\t- name: a\n");
    expect_error(l, 2, 1, "tabs are not allowed for indentation in YAML; use spaces");
    done(l);
    l = load_str("a:\n  b: 1\n  \tc: 2\n");
    expect_error(l, 3, 3, "tabs are not allowed for indentation in YAML; use spaces");
    done(l);
    /* In JSON, tabs are whitespace: a missing comma is reported as such. */
    l = load_str("{\n\t\"a\": 1\n\t\"b\": 2\n}\n");
    assert_null(l->root);
    assert_non_null(strstr(l->out, "expected ',' or '}' to continue the map started at line 1"));
    done(l);
}

static void test_syntax_messages(void **state)
{
    (void)state;
    loaded *l = load_str("a: \"open\nb: 1\n");
    assert_null(l->root);
    assert_non_null(strstr(l->out, "unterminated quoted string (started at line 1)"));
    done(l);
    l = load_str("a:\n  b: 1\n c: 2\n");
    assert_null(l->root);
    assert_non_null(strstr(l->out, "mem.yaml:3:2: error: bad indentation"));
    done(l);
    l = load_str("a: [1, 2\nb: 3\n");
    assert_null(l->root);
    assert_non_null(strstr(l->out, "expected ',' or ']'"));
    done(l);
    l = load_str("a: 1\n---\nb: 2\n");
    expect_error(l, 2, 1, "one YAML document");
    done(l);
    l = load_str("a: !custom 1\n");
    expect_error(l, 1, 4, "unsupported YAML tag '!custom'");
    done(l);
    l = load_str("a: \"x\\0y\"\n");
    expect_error(l, 1, 4, "NUL character");
    done(l);
}

/* ---- includes ---- */

static void test_include_merge(void **state)
{
    (void)state;
    put("main.yaml", "version: 1\n"
                     "include: [routes/*.yaml, extra.yaml]\n"
                     "users:\n  \"101\": {name: Alice}\n"
                     "routes:\n  - name: top\n");
    put("routes/b.yaml", "routes:\n  - name: b1\n  - name: b2\n"
                         "gateways:\n  gw: {uri: \"sip:x\"}\n");
    put("routes/a.yaml", "routes:\n  - name: a1\n"
                         "users:\n  \"102\": {name: Bob}\n"
                         "include: ../sub/c.yaml\n");
    put("sub/c.yaml", "routes: [{name: c1}]\nscenarios: {vm: {script: []}}\n");
    put("extra.yaml", "users: {\"103\": {name: Carol}}\n");
    loaded *l = load_path("main.yaml");
    if (!l->root)
        fail_msg("%s", l->out);
    assert_int_equal(l->d.count, 0);
    assert_null(scn_map_get(l->root, "include"));
    const scn_node *routes = at(l->root, "routes");
    const char *want[] = { "top", "a1", "c1", "b1", "b2" };
    assert_int_equal(routes->count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(at(routes->items[i], "name")->str, want[i]);
    /* Nodes keep their own file and position. */
    const scn_node *c1 = at(routes->items[2], "name");
    assert_non_null(strstr(c1->file, "sub/c.yaml"));
    expect_pos(c1, 1, 17);
    const scn_node *users = at(l->root, "users");
    assert_int_equal(users->count, 3);
    assert_non_null(scn_map_get(users, "101"));
    assert_non_null(strstr(at(users, "102")->file, "routes/a.yaml"));
    assert_non_null(scn_map_get(users, "103"));
    assert_non_null(scn_map_get(at(l->root, "gateways"), "gw"));
    assert_non_null(scn_map_get(at(l->root, "scenarios"), "vm"));
    assert_string_equal(at(l->root, "version")->str, "1");
    done(l);
}

static void test_include_single_string_and_empty_glob(void **state)
{
    (void)state;
    put("one.yaml", "include: parts/only.yaml\n");
    put("parts/only.yaml", "routes:\n  - name: only\n");
    loaded *l = load_path("one.yaml");
    assert_non_null(l->root);
    assert_int_equal(at(l->root, "routes")->count, 1);
    done(l);
    put("noglob.yaml", "include: [\"nothing/*.yaml\"]\nroutes: []\n");
    l = load_path("noglob.yaml");
    assert_non_null(l->root);
    assert_int_equal(l->d.warnings, 1);
    assert_non_null(strstr(l->out, "noglob.yaml:1:11: warning: include pattern "
                                   "'nothing/*.yaml' matches no file (at include[0])"));
    done(l);
    put("missing.yaml", "routes: []\ninclude:\n  - nope.yaml\n");
    l = load_path("missing.yaml");
    expect_error(l, 3, 5, "cannot read nope.yaml: No such file or directory");
    assert_false(l->unreadable);
    done(l);
}

static void test_include_cycle(void **state)
{
    (void)state;
    put("cyc_a.yaml", "include: cyc_b.yaml\nroutes: []\n");
    put("cyc_b.yaml", "routes: []\ninclude: [cyc_a.yaml]\n");
    loaded *l = load_path("cyc_a.yaml");
    expect_error(l, 2, 11, "include cycle: ");
    const char *m = l->d.items[0].msg;
    const char *a1 = strstr(m, "cyc_a.yaml -> ");
    assert_non_null(a1);
    const char *b = strstr(a1, "cyc_b.yaml -> ");
    assert_non_null(b);
    assert_non_null(strstr(b, "cyc_a.yaml"));
    assert_non_null(strstr(l->d.items[0].file, "cyc_b.yaml"));
    done(l);
    /* A file including itself. */
    put("self.yaml", "include: self.yaml\n");
    l = load_path("self.yaml");
    expect_error(l, 1, 10, "include cycle: ");
    done(l);
}

static void test_include_duplicates_and_forbidden(void **state)
{
    (void)state;
    put("d_main.yaml", "users:\n  \"101\": {name: A}\ninclude: d_more.yaml\n");
    put("d_more.yaml", "\ngroups: {}\nusers:\n  \"101\": {name: B}\n");
    loaded *l = load_path("d_main.yaml");
    expect_error(l, 4, 3, "user '101' is defined twice: first at ");
    assert_non_null(strstr(l->d.items[0].file, "d_more.yaml"));
    assert_non_null(strstr(l->d.items[0].msg, "d_main.yaml:2:3"));
    assert_string_equal(l->d.items[0].path, "users.101");
    done(l);
    put("s_main.yaml", "include: s_more.yaml\n");
    put("s_more.yaml", "settings: {}\nversion: 1\nroute: []\n");
    l = load_path("s_main.yaml");
    assert_null(l->root);
    assert_int_equal(l->d.errors, 3);
    assert_non_null(strstr(l->out, "s_more.yaml:1:1: error: 'settings' is allowed only in the "
                                   "top file"));
    assert_non_null(strstr(l->out, "s_more.yaml:2:1: error: 'version' is allowed only"));
    assert_non_null(strstr(l->out, "s_more.yaml:3:1: error: unknown key 'route' in an included "
                                   "file (did you mean 'routes'?)"));
    done(l);
    /* An error inside an included file points into that file. */
    put("e_main.yaml", "include: e_more.yaml\n");
    put("e_more.yaml", "routes:\n\t- name: x\n");
    l = load_path("e_main.yaml");
    expect_error(l, 2, 1, "tabs are not allowed");
    assert_non_null(strstr(l->d.items[0].file, "e_more.yaml"));
    done(l);
}

/* A file reached twice (not a cycle) is read once: no duplicate names. */
static void test_include_diamond(void **state)
{
    (void)state;
    put("dm_top.yaml", "include: [dm_b.yaml, dm_c.yaml, dm_*.yaml]\n");
    put("dm_b.yaml", "include: dm_d.yaml\nroutes: [{name: b}]\n");
    put("dm_c.yaml", "include: dm_d.yaml\nroutes: [{name: c}]\n");
    put("dm_d.yaml", "users: {\"200\": {name: D}}\nroutes: [{name: d}]\n");
    loaded *l = load_path("dm_top.yaml");
    if (!l->root)
        fail_msg("%s", l->out);
    const scn_node *routes = at(l->root, "routes");
    assert_int_equal(routes->count, 3);
    assert_string_equal(at(routes->items[0], "name")->str, "b");
    assert_string_equal(at(routes->items[1], "name")->str, "d");
    assert_string_equal(at(routes->items[2], "name")->str, "c");
    assert_int_equal(at(l->root, "users")->count, 1);
    done(l);
}

static void test_include_depth(void **state)
{
    (void)state;
    char name[64], text[128];
    for (int i = 0; i <= SCN_MAX_INCLUDE_DEPTH + 2; i++) {
        snprintf(name, sizeof name, "deep%d.yaml", i);
        snprintf(text, sizeof text, "include: deep%d.yaml\nroutes: []\n", i + 1);
        put(name, text);
    }
    loaded *l = load_path("deep0.yaml");
    assert_null(l->root);
    assert_int_equal(l->d.errors, 1);
    assert_non_null(strstr(l->d.items[0].msg, "nested more than 16 files deep"));
    done(l);
}

/* A text loaded as if it were a file (PUT /scenario validates so): its
 * includes resolve next to that file, a file it includes that includes it
 * is a cycle, and the file on disk is never read. */
static void test_text_as_file(void **state)
{
    (void)state;
    put("t/main.yaml", "routes: [{name: on-disk}]\n");
    put("t/parts/x.yaml", "routes: [{name: included}]\n");
    put("t/parts/back.yaml", "include: ../main.yaml\n");
    char path[512];
    snprintf(path, sizeof path, "%s/t/main.yaml", tmpdir);
    loaded *l = calloc(1, sizeof *l);
    cr_arena_init(&l->arena, 0);
    scn_diags_init(&l->d);
    const char *text = "version: 1\ninclude: parts/x.yaml\nroutes: [{name: new}]\n";
    l->root = scn_load_text(&l->arena, path, text, strlen(text), &l->d);
    finish(l);
    if (!l->root)
        fail_msg("%s", l->out);
    const scn_node *routes = at(l->root, "routes");
    assert_int_equal(routes->count, 2);
    assert_string_equal(at(routes->items[0], "name")->str, "new");
    assert_string_equal(at(routes->items[1], "name")->str, "included");
    assert_string_equal(at(routes->items[0], "name")->file, path);
    done(l);

    l = calloc(1, sizeof *l);
    cr_arena_init(&l->arena, 0);
    scn_diags_init(&l->d);
    text = "include: parts/back.yaml\nroutes: []\n";
    l->root = scn_load_text(&l->arena, path, text, strlen(text), &l->d);
    finish(l);
    expect_error(l, 1, 10, "include cycle: ");
    done(l);

    /* its errors name the file, with their line and column */
    l = calloc(1, sizeof *l);
    cr_arena_init(&l->arena, 0);
    scn_diags_init(&l->d);
    text = "routes:\n  - name: [unclosed\n";
    l->root = scn_load_text(&l->arena, path, text, strlen(text), &l->d);
    finish(l);
    assert_null(l->root);
    assert_string_equal(l->d.items[0].file, path);
    assert_int_equal(l->d.items[0].line, 3);
    done(l);

    /* the bytes of the file, as the loader reads them */
    scn_diags d;
    scn_diags_init(&d);
    size_t len = 0;
    bool unreadable = false;
    char *src = scn_read_source(path, &len, &d, &unreadable);
    assert_non_null(src);
    assert_string_equal(src, "routes: [{name: on-disk}]\n");
    assert_int_equal(len, strlen(src));
    free(src);
    snprintf(path, sizeof path, "%s/t/none.yaml", tmpdir);
    assert_null(scn_read_source(path, &len, &d, &unreadable));
    assert_true(unreadable);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].msg, "No such file"));
    scn_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_positions),
        cmocka_unit_test(test_json_positions),
        cmocka_unit_test(test_json_with_tabs),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_escapes_and_multiline),
        cmocka_unit_test(test_alias_shares_node),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_alias_errors),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_binary_junk),
        cmocka_unit_test(test_non_utf8),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_tabs),
        cmocka_unit_test(test_syntax_messages),
        cmocka_unit_test(test_include_merge),
        cmocka_unit_test(test_include_single_string_and_empty_glob),
        cmocka_unit_test(test_include_cycle),
        cmocka_unit_test(test_include_duplicates_and_forbidden),
        cmocka_unit_test(test_include_diamond),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_text_as_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

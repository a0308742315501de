/* test_admin_revisions.c — the scenario file's revisions
 * (src/admin/revisions.c): SHA-256, the names of kept sources and which of
 * them go (only ours, oldest first, the newest KEEP stay), a revision's
 * source kept in memory exactly as long as its program lives, the list
 * (the newest KEEP and whatever is still loaded), sources read back from
 * the directory and checked against their SHA-256, the file written
 * atomically (mode kept, a symlink followed), and a file edited by hand
 * noticed before it is overwritten. In a scratch directory. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/revisions.h"
#include "apps/registry.h"
#include "scenario/diag.h"

static void test_sha256(void **state)
{
    (void)state;
    char hex[65];
    admin_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    admin_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_file_names_and_pruning(void **state)
{
    (void)state;
    char name[256];
    /* 2025-01-02 03:04:05.678 UTC */
    assert_true(admin_revision_file_name(name, sizeof name, 1735787045.678, 3,
                                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                         "callroute.yaml"));
    assert_string_equal(name, "20250102T030405.678Z-r3-0123456789ab-callroute.yaml");
    assert_false(admin_revision_file_name(name, 20, 1735787045.678, 3, "0123456789abcdef", "x.yaml"));

    char *names[] = {
        "20250102T030405.678Z-r3-0123456789ab-callroute.yaml",
        "notes.txt",
        "20250101T000000.000Z-r1-aaaaaaaaaaaa-callroute.yaml",
        "20250101T000000.000Z-r1-aaaaaaaaaaaa-other.yaml",       /* another file's */
        "20250102T030405.678Z-r3-0123456789ab-callroute.yaml.bak",
        "20250101T120000.000Z-r2-bbbbbbbbbbbb-callroute.yaml",
        "2025010T120000.000Z-r2-bbbbbbbbbbbb-callroute.yaml",    /* not our shape */
        "20250101T120000.000Z-r-bbbbbbbbbbbb-callroute.yaml",
        "20250101T120000.000Z-r2-bbbbbbbbbbbg-callroute.yaml",
    };
    size_t n = sizeof names / sizeof names[0];
    assert_int_equal(admin_revisions_prune(names, n, "callroute.yaml", 1), 2);
    /* ours first, oldest first: the first two go */
    assert_string_equal(names[0], "20250101T000000.000Z-r1-aaaaaaaaaaaa-callroute.yaml");
    assert_string_equal(names[1], "20250101T120000.000Z-r2-bbbbbbbbbbbb-callroute.yaml");
    assert_string_equal(names[2], "20250102T030405.678Z-r3-0123456789ab-callroute.yaml");
    assert_int_equal(admin_revisions_prune(names, n, "callroute.yaml", 3), 0);
    assert_int_equal(admin_revisions_prune(names, n, "callroute.yaml", 0), 3);
    assert_int_equal(admin_revisions_prune(names, n, "other.yaml", 0), 1);
    assert_int_equal(admin_revisions_prune(names, n, "none.yaml", 0), 0);
}

/* ---- the store, in a scratch directory ---- */

static char dir[64], file[PATH_MAX], revdir[PATH_MAX];

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t files_in(const char *d)
{
    DIR *x = opendir(d);
    size_t n = 0;
    struct dirent *de;
    while (x && (de = readdir(x)))
        n += de->d_name[0] != '.';
    if (x)
        closedir(x);
    return n;
}

static const char *text_of(int i)
{
    static char buf[200];
    snprintf(buf, sizeof buf, "version: 1\nroutes:\n  - name: r%d\n    script: [ { app: hangup } ]\n", i);
    return buf;
}

static scn_program *compile(int i)
{
    scn_diags d;
    scn_diags_init(&d);
    const char *t = text_of(i);
    scn_program *p = scn_program_load_text(file, t, strlen(t), app_registry, &d);
    scn_diags_free(&d);
    assert_non_null(p);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cr-test-revisions.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/scenario.yaml", dir);
    snprintf(revdir, sizeof revdir, "%s/.callroute-revisions", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 20];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_store(void **state)
{
    (void)state;
    put(file, text_of(1), 0640);
    admin_revisions *rs = admin_revisions_new(file, NULL, 2);
    assert_string_equal(admin_revisions_dir(rs), revdir);
    char warn[300];
    scn_program *p[5];
    for (int i = 1; i <= 4; i++) {
        p[i] = compile(i);
        const char *t = text_of(i);
        assert_int_equal(admin_revisions_add(rs, p[i], t, strlen(t), warn, sizeof warn), i);
        assert_string_equal(warn, "");
        assert_int_equal(p[i]->revision, i);
    }
    /* the directory keeps the newest 2, only its owner reads it */
    assert_int_equal(files_in(revdir), 2);
    struct stat st;
    assert_int_equal(stat(revdir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* all 4 programs live: all listed, 1 and 2 no longer kept */
    for (int i = 1; i <= 4; i++) {
        const admin_revision *v = admin_revisions_find(rs, i);
        assert_non_null(v);
        assert_true(v->loaded);
        assert_int_equal(v->kept, i > 2);
    }
    assert_int_equal(admin_revisions_current(rs)->number, 4);
    size_t len;
    assert_string_equal(admin_revisions_current_source(rs, &len), text_of(4));
    char err[300];
    /* a loaded revision's source comes from memory, kept or not */
    char *src = admin_revisions_source(rs, 1, &len, err, sizeof err);
    assert_non_null(src);
    assert_string_equal(src, text_of(1));
    free(src);
    /* its program gone (its last call ended): 1 is forgotten (not among the newest 2) */
    scn_program_unref(p[1]);
    assert_null(admin_revisions_find(rs, 1));
    assert_null(admin_revisions_source(rs, 1, &len, err, sizeof err));
    /* 2 is loaded: listed, though not kept */
    assert_non_null(admin_revisions_find(rs, 2));
    scn_program_unref(p[2]);
    assert_null(admin_revisions_find(rs, 2));
    /* 3 unloaded but kept: its source from the directory */
    scn_program_unref(p[3]);
    const admin_revision *v3 = admin_revisions_find(rs, 3);
    assert_non_null(v3);
    assert_false(v3->loaded);
    assert_true(v3->kept);
    src = admin_revisions_source(rs, 3, &len, err, sizeof err);
    assert_non_null(src);
    assert_string_equal(src, text_of(3));
    free(src);
    /* the kept file changed on disk: refused */
    char kept[PATH_MAX + 300];
    assert_true(admin_revision_file_name(warn, sizeof warn, v3->loaded_at, 3, v3->sha256, "scenario.yaml"));
    snprintf(kept, sizeof kept, "%s/%s", revdir, warn);
    put(kept, "version: 1\n", 0600);
    assert_null(admin_revisions_source(rs, 3, &len, err, sizeof err));
    assert_non_null(strstr(err, "changed on disk"));
    assert_int_equal(admin_revisions_at(rs, 0)->number, 3);
    assert_int_equal(admin_revisions_at(rs, 1)->number, 4);
    assert_null(admin_revisions_at(rs, 2));
    /* programs that outlive the store do not tell it */
    admin_revisions_free(rs);
    scn_program_unref(p[4]);
}

static void test_write_file(void **state)
{
    (void)state;
    char real[PATH_MAX + 20];
    snprintf(real, sizeof real, "%s/real.yaml", dir);
    put(real, text_of(1), 0604);
    unlink(file);
    assert_int_equal(symlink(real, file), 0);
    admin_revisions *rs = admin_revisions_new(file, NULL, 0);
    scn_program *p = compile(1);
    admin_revisions_add(rs, p, text_of(1), strlen(text_of(1)), NULL, 0);
    char err[300];
    assert_true(admin_revisions_file_unchanged(rs, err, sizeof err));
    assert_true(admin_revisions_write_file(rs, text_of(2), strlen(text_of(2)), err, sizeof err));
    /* the link stays a link; the file it names has the text, and its mode */
    struct stat st;
    assert_int_equal(lstat(file, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(real, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0604);
    assert_string_equal(slurp(real), text_of(2));
    /* no temporary file left beside it */
    assert_int_equal(files_in(dir), 2);
    /* the file now differs from the running revision: noticed */
    assert_false(admin_revisions_file_unchanged(rs, err, sizeof err));
    assert_non_null(strstr(err, "changed on disk since revision 1"));
    /* a directory we cannot write: false, the file untouched */
    admin_revisions *bad = admin_revisions_new("/proc/nonexistent-dir/x.yaml", NULL, 0);
    assert_false(admin_revisions_write_file(bad, "x", 1, err, sizeof err));
    admin_revisions_free(bad);
    admin_revisions_free(rs);
    scn_program_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_file_names_and_pruning),
        cmocka_unit_test_setup_teardown(test_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

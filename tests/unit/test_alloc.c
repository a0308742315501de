/* test_alloc.c — the allocation policy (issue 11, item 15;
 * docs/decisions/allocation-policy.md): the cr_x* allocators never return
 * NULL, and an allocation that cannot be satisfied ends the process with
 * "callroute: out of memory (...)" on stderr and SIGABRT. The impossible
 * allocations run in a forked child whose stderr is a pipe. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/alloc.h"

/* Under ASan an impossible malloc is ASan's own fatal report unless it may
 * return NULL as libc's does; ASAN_OPTIONS from the environment still apply
 * on top of this. Unused without ASan. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* Kept out of the compiler's sight, so it cannot warn about or fold the
 * impossible sizes. */
static volatile size_t huge = SIZE_MAX;

static void test_strdup(void **state)
{
    (void)state;
    assert_null(cr_xstrdup(NULL));
    assert_null(cr_xstrndup(NULL, 3));
    char *s = cr_xstrdup("callroute");
    assert_string_equal(s, "callroute");
    free(s);
    s = cr_xstrndup("callroute", 4);
    assert_string_equal(s, "call");
    free(s);
    s = cr_xstrndup("ab", 10);
    assert_string_equal(s, "ab");
    free(s);
}

static void test_zero_and_growth(void **state)
{
    (void)state;
    /* Dirty the heap, so a calloc that did not zero would show it. */
    unsigned char *dirty = cr_xmalloc(4096);
    memset(dirty, 0xa5, 4096);
    free(dirty);
    unsigned char *z = cr_xcalloc(512, 8);
    for (size_t i = 0; i < 4096; i++)
        assert_int_equal(z[i], 0);
    free(z);

    /* Size 0 is a valid pointer, never NULL. */
    void *p = cr_xmalloc(0);
    assert_non_null(p);
    free(p);
    p = cr_xcalloc(0, 8);
    assert_non_null(p);
    free(p);
    p = cr_xcalloc(8, 0);
    assert_non_null(p);
    free(p);

    char *r = cr_xrealloc(NULL, 4);
    memcpy(r, "abc", 4);
    r = cr_xrealloc(r, 1 << 20);
    assert_string_equal(r, "abc");
    r = cr_xrealloc(r, 0);
    assert_non_null(r);
    free(r);
}

enum { DO_MALLOC, DO_CALLOC, DO_CALLOC_OVERFLOW, DO_REALLOC, DO_OOM };

/* Runs WHAT in a child: it must die of SIGABRT with MESSAGE on stderr. */
static void expect_abort(int what, const char *message)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        void *p = NULL;
        switch (what) {
        case DO_MALLOC: p = cr_xmalloc(huge); break;
        case DO_CALLOC: p = cr_xcalloc(1, huge); break;
        case DO_CALLOC_OVERFLOW: p = cr_xcalloc(huge / 2, 4); break;
        case DO_REALLOC: p = cr_xrealloc(cr_xmalloc(16), huge); break;
        case DO_OOM: cr_oom("a test");
        }
        /* Returned: the policy is broken. Say what came back. */
        fprintf(stderr, "returned %p\n", p);
        _exit(0);
    }
    close(fds[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT || !strstr(out, message))
        fail_msg("case %d: want SIGABRT and \"%s\"; status %#x, stderr: %s", what, message, st, out);
}

static void test_impossible_aborts(void **state)
{
    (void)state;
    char want[128];
    snprintf(want, sizeof want, "callroute: out of memory (malloc of %zu bytes)\n", (size_t)SIZE_MAX);
    expect_abort(DO_MALLOC, want);
    snprintf(want, sizeof want, "callroute: out of memory (calloc of %zu bytes)\n", (size_t)SIZE_MAX);
    expect_abort(DO_CALLOC, want);
    expect_abort(DO_CALLOC_OVERFLOW, want);   /* COUNT * SIZE overflows */
    snprintf(want, sizeof want, "callroute: out of memory (realloc of %zu bytes)\n", (size_t)SIZE_MAX);
    expect_abort(DO_REALLOC, want);
    expect_abort(DO_OOM, "callroute: out of memory (a test)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_zero_and_growth),
        cmocka_unit_test(test_impossible_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

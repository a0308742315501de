/* test_heap.c — `serve --heap-prefault` (src/util/heap.c): the size it
 * takes ("512M", "2G", ...; nothing else), and the prefault itself. Built
 * with the server's allocator (Makefile): with mimalloc the memory is
 * resident at once and mimalloc allocates from it (heap_prefault's own
 * probe); without it (ASan, libc's malloc) it is refused as "not in this
 * build", not half done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/heap.h"

#if __has_include(<mimalloc.h>)
#include <mimalloc.h>
#pragma weak mi_manage_os_memory
static bool have_mimalloc(void) { return mi_manage_os_memory != NULL; }
#else
static bool have_mimalloc(void) { return false; }
#endif

#define MIB ((size_t)1 << 20)

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t mib;
    } good[] = {{"64M", 64},    {"512M", 512},   {"512MB", 512},  {"1536MiB", 1536},
                {"2G", 2048},   {"3gb", 3072},   {"1GiB", 1024},  {"1024G", 1048576}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t bytes = 0;
        assert_true(heap_size_parse(good[i].text, &bytes));
        assert_int_equal(bytes, good[i].mib * MIB);
    }
    static const char *const bad[] = {"",     "G",   "63M", "0G",  "1.5G", "2",    "2T",    "2G ",
                                      " 2G", "-1G", "+2G", "2GG", "1025G", "2Gi", "99999999999999999999G",
                                      "18446744073709551616M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t bytes = 7;
        assert_false(heap_size_parse(bad[i], &bytes));
        assert_int_equal(bytes, 7);
    }
    size_t bytes;
    assert_false(heap_size_parse(NULL, &bytes));
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void test_prefault(void **state)
{
    (void)state;
    char what[160];
    long before = rss_kib();
    int rc = heap_prefault(100 * MIB, what, sizeof what);   /* rounded up to 128 MiB */
    if (!have_mimalloc()) {
        assert_int_equal(rc, -2);
        assert_non_null(strstr(what, "needs mimalloc"));
        return;
    }
    assert_int_equal(rc, 0);
    assert_non_null(strstr(what, "128 MiB prefaulted in "));
    /* resident now, not when the load comes */
    assert_true(rss_kib() - before >= 120 * 1024);
}

static void test_more_than_the_machine(void **state)
{
    (void)state;
    char what[160];
    int rc = heap_prefault((size_t)1 << 40, what, sizeof what);   /* 1 TiB */
    if (!have_mimalloc()) {
        assert_int_equal(rc, -2);
        return;
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(what, "not done: 1048576 MiB is more than the memory available (MemAvailable), "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_prefault),
        cmocka_unit_test(test_more_than_the_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

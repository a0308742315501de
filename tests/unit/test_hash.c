/* test_hash.c — util/hash.h is FNV-1a: the published test vectors (Fowler,
 * Noll, Vo: "FNV-1a" 32- and 64-bit, for "", "a" and "foobar"), the
 * byte-string and NUL-terminated forms agree, and a hash carried on byte by
 * byte equals the hash of the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/hash.h"

static const struct {
    const char *s;
    uint32_t h32;
    uint64_t h64;
} vectors[] = {
    {"", 0x811c9dc5u, 0xcbf29ce484222325ull},
    {"a", 0xe40c292cu, 0xaf63dc4c8601ec8cull},
    {"foobar", 0xbf9cf968u, 0x85944171f73967e8ull},
};

static void test_published_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *s = vectors[i].s;
        assert_int_equal(cr_fnv1a32(CR_FNV32_BASIS, s, strlen(s)), vectors[i].h32);
        assert_int_equal(cr_fnv1a32_str(CR_FNV32_BASIS, s), vectors[i].h32);
        assert_true(cr_fnv1a64(CR_FNV64_BASIS, s, strlen(s)) == vectors[i].h64);
        assert_true(cr_fnv1a64_str(CR_FNV64_BASIS, s) == vectors[i].h64);
    }
}

/* The route index hashes each prefix of a number by carrying one hash on. */
static void test_incremental(void **state)
{
    (void)state;
    const char *s = "foobar";
    uint64_t h = CR_FNV64_BASIS;
    for (size_t i = 0; s[i]; i++)
        h = cr_fnv1a64_byte(h, (unsigned char)s[i]);
    assert_true(h == 0x85944171f73967e8ull);
    uint32_t h32 = cr_fnv1a32(CR_FNV32_BASIS, "foo", 3);
    assert_int_equal(cr_fnv1a32_str(h32, "bar"), 0xbf9cf968u);
}

/* A byte string may hold NULs; the length form hashes past them. */
static void test_embedded_nul(void **state)
{
    (void)state;
    assert_true(cr_fnv1a64(CR_FNV64_BASIS, "a\0b", 3) != cr_fnv1a64_str(CR_FNV64_BASIS, "a\0b"));
    assert_true(cr_fnv1a64(CR_FNV64_BASIS, "a\0b", 1) == cr_fnv1a64_str(CR_FNV64_BASIS, "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_vectors),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_embedded_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

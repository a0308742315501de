/* test_call_index.c — the admin API's calls by Call-ID (admin/call_index.h):
 * with 100,000 calls a lookup walks about one node, not a chain of ~100
 * as the fixed 1,024 buckets it replaces did; same-key nodes come newest
 * first across resizes; the table shrinks back when the calls are gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/call_index.h"
#include "util/hash.h"

#define N 100000

typedef struct item {
    call_index_node node;
    char id[48];
} item;


static size_t longest_chain(const call_index *ix)
{
    size_t most = 0;
    for (size_t b = 0; b < ix->nbuckets; b++) {
        size_t len = 0;
        for (const call_index_node *n = ix->buckets[b]; n; n = n->next)
            len++;
        if (len > most)
            most = len;
    }
    return most;
}

/* The K items IT (ids set) indexed in 64 buckets: no chain of 16 (64 keys
 * at random in 64 buckets make one with a chance under 1e-12), each found;
 * IT freed. */
static void assert_spread(item *it, size_t k)
{
    call_index ix = CALL_INDEX_INIT;
    for (size_t i = 0; i < k; i++) {
        it[i].node.key = it[i].id;
        call_index_add(&ix, &it[i].node);
    }
    assert_int_equal(ix.nbuckets, 64);
    assert_true(longest_chain(&ix) < 16);
    for (size_t i = 0; i < k; i++)
        assert_ptr_equal(call_index_find(&ix, it[i].id), &it[i].node);
    call_index_free(&ix);
    free(it);
}

/* Call-IDs a caller picked to share one chain under plain FNV-1a (all in
 * bucket 0 of the first 64): the index hashes from a secret basis, so
 * they spread like any others. */
static void test_chosen_call_ids_spread(void **state)
{
    (void)state;
    enum { K = 64 };
    item *it = calloc(K, sizeof *it);
    size_t found = 0;
    for (unsigned long i = 0; found < K; i++) {
        snprintf(it[found].id, sizeof it[found].id, "chosen-%lu@attacker", i);
        if ((cr_fnv1a32_str(CR_FNV32_BASIS, it[found].id) & 63) == 0)
            found++;
    }
    /* unseeded, all 64 are one chain */
    assert_spread(it, K);
}

/* Call-IDs whose bytes all agree in their low four bits ("0", "@", "P",
 * "`", "p" are 0x30-0x70): under FNV-1a the low four bits of the hash
 * are then the same for every one of them whatever the basis, so a
 * secret basis alone left them in 4 of 64 buckets. Mixed (util/hash.h
 * cr_keyed_hash), they spread like any others. */
static void test_low_bit_twins_spread(void **state)
{
    (void)state;
    enum { K = 64 };
    static const char alphabet[] = "0@P`p";
    item *it = calloc(K, sizeof *it);
    for (size_t i = 0; i < K; i++) {
        size_t v = i;
        char *p = it[i].id;
        for (int d = 0; d < 6; d++, v /= 5)
            *p++ = alphabet[v % 5];
        strcpy(p, "@pp");
    }
    assert_spread(it, K);
}

static void test_grows_with_the_calls(void **state)
{
    (void)state;
    item *it = calloc(N, sizeof *it);
    call_index ix = CALL_INDEX_INIT;
    for (size_t i = 0; i < N; i++) {
        /* Call-IDs as sipp makes them: a counter, the pid, the host. */
        snprintf(it[i].id, sizeof it[i].id, "%zu-4242@127.0.0.1", i + 1);
        it[i].node.key = it[i].id;
        call_index_add(&ix, &it[i].node);
    }
    assert_int_equal(ix.count, N);
    /* About one node a bucket: at least as many buckets as calls. */
    assert_true(ix.nbuckets >= N);
    assert_true(ix.nbuckets <= 4 * (size_t)N);
    /* A lookup is O(1): no chain is long (a fixed 1,024-bucket table has
     * ~98 a chain here). */
    assert_true(longest_chain(&ix) <= 12);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(call_index_find(&ix, it[i].id), &it[i].node);
    assert_null(call_index_find(&ix, "no-such-call"));
    /* Gone again: the table shrinks back and still finds what is left. */
    for (size_t i = 0; i + 10 < N; i++)
        call_index_del(&ix, &it[i].node);
    assert_int_equal(ix.count, 10);
    assert_true(ix.nbuckets <= 128);
    for (size_t i = N - 10; i < N; i++)
        assert_ptr_equal(call_index_find(&ix, it[i].id), &it[i].node);
    for (size_t i = N - 10; i < N; i++)
        call_index_del(&ix, &it[i].node);
    assert_int_equal(ix.count, 0);
    call_index_free(&ix);
    free(it);
}

/* Two calls with one Call-ID (a forked INVITE, a hostile peer): found
 * newest first, before and after the table grows under them. */
static void test_same_id_newest_first(void **state)
{
    (void)state;
    call_index ix = CALL_INDEX_INIT;
    item twins[3];
    for (int i = 0; i < 3; i++) {
        snprintf(twins[i].id, sizeof twins[i].id, "same@host");
        twins[i].node.key = twins[i].id;
        call_index_add(&ix, &twins[i].node);
    }
    assert_ptr_equal(call_index_find(&ix, "same@host"), &twins[2].node);
    item *more = calloc(1000, sizeof *more);
    for (int i = 0; i < 1000; i++) {
        snprintf(more[i].id, sizeof more[i].id, "other-%d", i);
        more[i].node.key = more[i].id;
        call_index_add(&ix, &more[i].node);
    }
    assert_true(ix.nbuckets >= 1000);
    call_index_node *n = call_index_find(&ix, "same@host");
    assert_ptr_equal(n, &twins[2].node);
    n = call_index_next(n, "same@host");
    assert_ptr_equal(n, &twins[1].node);
    n = call_index_next(n, "same@host");
    assert_ptr_equal(n, &twins[0].node);
    assert_null(call_index_next(n, "same@host"));
    call_index_del(&ix, &twins[1].node);
    n = call_index_find(&ix, "same@host");
    assert_ptr_equal(call_index_next(n, "same@host"), &twins[0].node);
    call_index_free(&ix);
    free(more);
}

static void test_empty(void **state)
{
    (void)state;
    call_index ix = CALL_INDEX_INIT;
    assert_null(call_index_find(&ix, "x"));
    call_index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_call_ids_spread),
        cmocka_unit_test(test_low_bit_twins_spread),
        cmocka_unit_test(test_grows_with_the_calls),
        cmocka_unit_test(test_same_id_newest_first),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

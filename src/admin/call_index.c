/* call_index.c — a chained hash table by Call-ID that keeps about one
 * node a bucket (call_index.h). Resizing rehashes every node: O(n) once
 * per doubling, O(1) amortised per add or delete. */
#include <stdlib.h>
#include <string.h>

#include "admin/call_index.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/random.h"

#define MIN_BUCKETS 64

/* Call-IDs come from the network: hashed from a secret basis, so that a
 * caller cannot pick Call-IDs that share one chain. */
static unsigned hash_of(const call_index *ix, const char *s)
{
    return (unsigned)cr_keyed_hash_str(&ix->key, s);
}

static void resize(call_index *ix, size_t n)
{
    call_index_node **b = cr_xcalloc(n, sizeof *b);
    /* Bucket by bucket, appended in order: nodes with one key keep their
     * newest-first order in their new bucket. */
    call_index_node **tail = cr_xcalloc(n, sizeof *tail);
    for (size_t i = 0; i < ix->nbuckets; i++)
        for (call_index_node *x = ix->buckets[i], *next; x; x = next) {
            next = x->next;
            size_t k = x->hash & (n - 1);
            x->next = NULL;
            if (tail[k])
                tail[k]->next = x;
            else
                b[k] = x;
            tail[k] = x;
        }
    free(tail);
    free(ix->buckets);
    ix->buckets = b;
    ix->nbuckets = n;
}

void call_index_add(call_index *ix, call_index_node *n)
{
    if (!ix->nbuckets) {
        cr_random_hash_key(&ix->key);
        resize(ix, MIN_BUCKETS);
    }
    else if (ix->count >= ix->nbuckets)
        resize(ix, ix->nbuckets * 2);
    n->hash = hash_of(ix, n->key);
    call_index_node **head = &ix->buckets[n->hash & (ix->nbuckets - 1)];
    n->next = *head;
    *head = n;
    ix->count++;
}

void call_index_del(call_index *ix, call_index_node *n)
{
    for (call_index_node **p = &ix->buckets[n->hash & (ix->nbuckets - 1)]; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            ix->count--;
            break;
        }
    /* Back down after a crowd has gone, with room so that a count going
     * up and down around a size does not resize each time. */
    if (ix->nbuckets > MIN_BUCKETS && ix->count < ix->nbuckets / 8)
        resize(ix, ix->nbuckets / 2);
}

call_index_node *call_index_next(const call_index_node *n, const char *key)
{
    for (n = n->next; n; n = n->next)
        if (strcmp(n->key, key) == 0)
            return (call_index_node *)n;
    return NULL;
}

call_index_node *call_index_find(const call_index *ix, const char *key)
{
    if (!ix->nbuckets)
        return NULL;
    for (call_index_node *n = ix->buckets[hash_of(ix, key) & (ix->nbuckets - 1)]; n; n = n->next)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

void call_index_free(call_index *ix)
{
    free(ix->buckets);
    *ix = (call_index)CALL_INDEX_INIT;
}

/* call_index.h — the admin API's calls by Call-ID: a chained hash table
 * that grows (and shrinks) with the entries it holds, so that a lookup
 * costs the same with 100,000 held calls as with ten. The nodes are the
 * callers' (embedded in their entries); several may share a key (a forked
 * INVITE, or a hostile Call-ID) and are found newest first. */
#ifndef ADMIN_CALL_INDEX_H
#define ADMIN_CALL_INDEX_H

#include <stddef.h>

#include "util/hash.h"

typedef struct call_index_node {
    struct call_index_node *next;   /* in its bucket */
    const char *key;                /* the caller's, kept while indexed */
    unsigned hash;
} call_index_node;

typedef struct call_index {
    call_index_node **buckets;
    size_t nbuckets;                /* a power of two; 0 until the first add */
    size_t count;
    cr_hash_key key;                /* the hash's secret key, drawn at the first add */
} call_index;

#define CALL_INDEX_INIT {NULL, 0, 0, {0, 0}}

/* Adds N (N->key set) in front of the others with its key. */
void call_index_add(call_index *ix, call_index_node *n);
/* Removes N, which must be in IX. */
void call_index_del(call_index *ix, call_index_node *n);
/* The newest node with KEY, then the next older one after N; NULL: none. */
call_index_node *call_index_find(const call_index *ix, const char *key);
call_index_node *call_index_next(const call_index_node *n, const char *key);
/* The bucket array (not the nodes). */
void call_index_free(call_index *ix);

#endif

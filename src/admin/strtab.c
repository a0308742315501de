/* strtab.c — shared, counted strings by number (strtab.h).
 *
 * items[id] is the string numbered id; a chained hash table over the
 * numbers finds a string by its bytes. Freed numbers are kept on a stack
 * and reused first, so numbers stay small (the traces write them as
 * varints). The strings come from the network too (a dialled number, a
 * SIP reason): the hash is seeded at random, so a caller cannot choose
 * strings that share a bucket.
 *
 * Most strings a trace keeps come from the immutable program or are
 * literals (a route's name, an action's path, "start"): the same pointer
 * record after record. A small cache by pointer finds their numbers
 * without hashing (FNV-1a byte by byte was ~140 instructions a string, 29
 * strings a call). A hit is checked by content (the number still names a
 * string of those bytes), so a pointer freed and reused for other text, or
 * a number freed and given to another string, only misses. */
#include <stdlib.h>
#include <string.h>

#include "admin/strtab.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/random.h"

typedef struct item {
    uint32_t next;        /* the next number in its bucket; 0: none */
    uint32_t hash;
    uint32_t refs;
    uint32_t len;
    char s[];             /* LEN bytes and a NUL */
} item;

/* The pointer cache: PTR_SLOTS slots, direct-mapped by address. */
#define PTR_SLOTS 256
typedef struct ptr_slot {
    const char *s;
    uint32_t id;
} ptr_slot;

struct strtab {
    item **items;         /* by number; items[0] unused; NULL: a free number */
    uint32_t nitems;      /* numbers handed out so far (items' length) */
    uint32_t cap;
    uint32_t *free_ids;   /* freed numbers, reused last freed first */
    uint32_t nfree, free_cap;
    uint32_t *buckets;    /* first number in each bucket; a power of two */
    uint32_t nbuckets;
    uint32_t count;       /* strings held */
    cr_hash_key key;
    ptr_slot by_ptr[PTR_SLOTS];
};

#define MIN_BUCKETS 64

static uint32_t hash_of(const cr_hash_key *key, const char *s, size_t len)
{
    return (uint32_t)cr_keyed_hash(key, s, len);   /* with a secret key: util/hash.h */
}

strtab *strtab_new(void)
{
    strtab *t = cr_xcalloc(1, sizeof *t);
    cr_random_hash_key(&t->key);
    t->nitems = 1;   /* 0 is no string */
    return t;
}

void strtab_free(strtab *t)
{
    if (!t)
        return;
    for (uint32_t i = 1; i < t->nitems; i++)
        free(t->items[i]);
    free(t->items);
    free(t->free_ids);
    free(t->buckets);
    free(t);
}

static void rehash(strtab *t, uint32_t n)
{
    free(t->buckets);
    t->buckets = cr_xcalloc(n, sizeof *t->buckets);
    t->nbuckets = n;
    for (uint32_t id = 1; id < t->nitems; id++) {
        item *x = t->items[id];
        if (!x)
            continue;
        uint32_t *head = &t->buckets[x->hash & (n - 1)];
        x->next = *head;
        *head = id;
    }
}

static uint32_t new_id(strtab *t)
{
    if (t->nfree)
        return t->free_ids[--t->nfree];
    if (t->nitems >= t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->items = cr_xrealloc(t->items, t->cap * sizeof *t->items);
    }
    t->items[t->nitems] = NULL;
    return t->nitems++;
}

static ptr_slot *slot_of(strtab *t, const char *s)
{
    uintptr_t p = (uintptr_t)s;
    return &t->by_ptr[(p ^ (p >> 8) ^ (p >> 16)) & (PTR_SLOTS - 1)];
}

uint32_t strtab_ref(strtab *t, const char *s, size_t len)
{
    if (!s)
        return 0;
    if (len > UINT32_MAX - 1)
        len = UINT32_MAX - 1;
    ptr_slot *ps = slot_of(t, s);
    if (ps->s == s) {
        /* The same bytes under the same number: the one item with them. */
        item *x = t->items[ps->id];
        if (x && x->len == len && memcmp(x->s, s, len) == 0) {
            x->refs++;
            return ps->id;
        }
    }
    uint32_t h = hash_of(&t->key, s, len);
    if (t->nbuckets) {
        for (uint32_t id = t->buckets[h & (t->nbuckets - 1)]; id; id = t->items[id]->next) {
            item *x = t->items[id];
            if (x->hash == h && x->len == len && memcmp(x->s, s, len) == 0) {
                x->refs++;
                *ps = (ptr_slot){s, id};
                return id;
            }
        }
    }
    if (t->count >= t->nbuckets)
        rehash(t, t->nbuckets ? t->nbuckets * 2 : MIN_BUCKETS);
    item *x = cr_xmalloc(sizeof *x + len + 1);
    x->hash = h;
    x->refs = 1;
    x->len = (uint32_t)len;
    memcpy(x->s, s, len);
    x->s[len] = '\0';
    uint32_t id = new_id(t);
    t->items[id] = x;
    uint32_t *head = &t->buckets[h & (t->nbuckets - 1)];
    x->next = *head;
    *head = id;
    t->count++;
    *ps = (ptr_slot){s, id};
    return id;
}

uint32_t strtab_ref_cstr_len(strtab *t, const char *s, size_t *len)
{
    if (!s) {
        *len = 0;
        return 0;
    }
    /* A cache hit is checked byte by byte up to the kept string's NUL,
     * stopping at S's first difference or its NUL (never past it): the
     * bytes and the length at once, without a strlen first. */
    ptr_slot *ps = slot_of(t, s);
    item *x = ps->s == s ? t->items[ps->id] : NULL;
    if (x) {
        size_t i = 0;
        while (i < x->len && s[i] && s[i] == x->s[i])
            i++;
        if (i == x->len && s[i] == '\0') {
            x->refs++;
            *len = i;
            return ps->id;
        }
    }
    *len = strlen(s);
    return strtab_ref(t, s, *len);
}

uint32_t strtab_ref_cstr(strtab *t, const char *s)
{
    size_t len;
    return strtab_ref_cstr_len(t, s, &len);
}

void strtab_unref(strtab *t, uint32_t id)
{
    if (!id)
        return;
    item *x = t->items[id];
    if (--x->refs)
        return;
    for (uint32_t *p = &t->buckets[x->hash & (t->nbuckets - 1)]; *p; p = &t->items[*p]->next)
        if (*p == id) {
            *p = x->next;
            break;
        }
    free(x);
    t->items[id] = NULL;
    t->count--;
    if (t->nfree == t->free_cap) {
        t->free_cap = t->free_cap ? t->free_cap * 2 : 64;
        t->free_ids = cr_xrealloc(t->free_ids, t->free_cap * sizeof *t->free_ids);
    }
    t->free_ids[t->nfree++] = id;
}

const char *strtab_str(const strtab *t, uint32_t id, size_t *len)
{
    if (!id) {
        if (len)
            *len = 0;
        return NULL;
    }
    const item *x = t->items[id];
    if (len)
        *len = x->len;
    return x->s;
}

size_t strtab_count(const strtab *t) { return t->count; }

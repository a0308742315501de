/* hash.h — FNV-1a, the string hash of the in-memory tables (call index,
 * metrics, scenario maps, the route index, the SIP leg table, ...).
 *
 * One definition instead of a loop written out in each table. Inline: the
 * route index and the leg table hash on every call, and the incremental
 * step (cr_fnv1a64_byte) lets the route index hash every prefix of a
 * number in one pass. No value is stored or compared across runs. The
 * basis is an argument: CR_FNV*_BASIS for plain FNV-1a, or a basis mixed
 * with a seed or a tag by the caller. */
#ifndef UTIL_HASH_H
#define UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CR_FNV32_BASIS 2166136261u
#define CR_FNV32_PRIME 16777619u
#define CR_FNV64_BASIS 14695981039346656037ull
#define CR_FNV64_PRIME 1099511628211ull

/* The 32-bit hash of LEN bytes at P, from H. */
static inline uint32_t cr_fnv1a32(uint32_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * CR_FNV32_PRIME;
    return h;
}

/* The 32-bit hash of the NUL-terminated S, from H. */
static inline uint32_t cr_fnv1a32_str(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * CR_FNV32_PRIME;
    return h;
}

/* H carried on by one byte (or one small value: a tag, a separator). */
static inline uint64_t cr_fnv1a64_byte(uint64_t h, unsigned char c)
{
    return (h ^ c) * CR_FNV64_PRIME;
}

/* The 64-bit hash of LEN bytes at P, from H. */
static inline uint64_t cr_fnv1a64(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = cr_fnv1a64_byte(h, b[i]);
    return h;
}

/* The 64-bit hash of the NUL-terminated S, from H. */
static inline uint64_t cr_fnv1a64_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = cr_fnv1a64_byte(h, (unsigned char)*s);
    return h;
}

/* ---- tables keyed by what the network chooses ----
 *
 * Call-IDs and the strings of a call's trace are the caller's choice, and
 * the tables bucket by the hash's low bits. FNV-1a from a secret basis
 * alone does not hide those: the low k bits of its state depend only on
 * the low k bits of the basis and of each byte, so keys a caller made to
 * share a bucket under plain FNV-1a still bunch whatever the basis (one
 * test in six put 16 of 64 such Call-IDs in one chain). The 64-bit state
 * goes through a bijective finalizer (murmur3's fmix64) with a second
 * secret, so every bit of the bucket depends on every bit of the state. */
typedef struct cr_hash_key {
    uint64_t basis, mix;   /* drawn once per table: cr_random_hash_key (util/random.h) */
} cr_hash_key;

static inline uint64_t cr_hash_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t cr_keyed_hash(const cr_hash_key *k, const void *p, size_t len)
{
    return cr_hash_mix64(cr_fnv1a64(k->basis, p, len) ^ k->mix);
}

static inline uint64_t cr_keyed_hash_str(const cr_hash_key *k, const char *s)
{
    return cr_hash_mix64(cr_fnv1a64_str(k->basis, s) ^ k->mix);
}

#endif

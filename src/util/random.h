/* random.h — unpredictable bytes for tags, Call-IDs and record ids, from the
 * kernel's CSPRNG a block at a time.
 *
 * glibc 2.36's arc4random() and getrandom() are one system call each; a call
 * through the B2BUA drew nine of them (tags, Call-IDs, the record id). The
 * bytes here are the kernel's own, handed out from a 256-byte block refilled
 * by one getrandom(2): as unpredictable, a thirty-second of the system calls
 * (docs/decisions/sip-core.md, "CPU per call, cut"). One block per thread;
 * a forked child must call cr_random_reset() before drawing. */
#ifndef UTIL_RANDOM_H
#define UTIL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* N unpredictable bytes into OUT. */
void cr_random_bytes(void *out, size_t n);

/* One unpredictable 32-bit word. */
uint32_t cr_random_u32(void);

/* 2*N lower-case hex digits of N random bytes into OUT, NUL-terminated
 * (OUT holds 2*N+1). */
void cr_random_hex(char *out, size_t n);

/* N bytes of IN as 2*N lower-case hex digits into OUT (no NUL). */
void cr_hex(char *out, const unsigned char *in, size_t n);

struct cr_hash_key;
/* A secret key for util/hash.h's cr_keyed_hash: a table of the network's keys. */
void cr_random_hash_key(struct cr_hash_key *k);

/* Drop the unread bytes (after fork: the child must not repeat the parent's). */
void cr_random_reset(void);

#endif

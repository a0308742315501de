/* random.c — unpredictable bytes a block at a time (random.h says why). */
#include "util/random.h"
#include "util/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static _Thread_local unsigned char pool[256]; /* one per thread: no lock */
static _Thread_local size_t pool_left; /* unread bytes at the end of pool */

static void refill(void)
{
    size_t got = 0;
    while (got < sizeof pool) {
        ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            break;
    }
    if (got < sizeof pool) /* no getrandom (ENOSYS): glibc's fallback */
        arc4random_buf(pool + got, sizeof pool - got);
    pool_left = sizeof pool;
}

void cr_random_bytes(void *out, size_t n)
{
    unsigned char *o = out;
    while (n > 0) {
        if (pool_left == 0)
            refill();
        size_t take = n < pool_left ? n : pool_left;
        unsigned char *from = pool + sizeof pool - pool_left;
        memcpy(o, from, take);
        memset(from, 0, take); /* handed-out bytes are not kept */
        pool_left -= take;
        o += take;
        n -= take;
    }
}

uint32_t cr_random_u32(void)
{
    uint32_t w;
    cr_random_bytes(&w, sizeof w);
    return w;
}

void cr_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

void cr_random_hex(char *out, size_t n)
{
    unsigned char b[64];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof b ? n - done : sizeof b;
        cr_random_bytes(b, k);
        cr_hex(out + 2 * done, b, k);
        done += k;
    }
    out[2 * n] = '\0';
}

void cr_random_reset(void)
{
    memset(pool, 0, sizeof pool);
    pool_left = 0;
}

void cr_random_hash_key(cr_hash_key *k)
{
    cr_random_bytes(k, sizeof *k);
    k->basis ^= CR_FNV64_BASIS;
}

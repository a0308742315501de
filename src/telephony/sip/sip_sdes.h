/* sip_sdes.h — SDP security descriptions (RFC 4568, "SDES"): the
 * a=crypto lines that carry SRTP master keys in the SDP. Pure: parsing,
 * choosing and writing; libsrtp2 uses the keys in sip_rtp.c
 * (docs/decisions/srtp.md). */
#ifndef SIP_SDES_H
#define SIP_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The crypto suites we take (RFC 4568 6.2): AES counter mode with an
 * 80- or 32-bit HMAC-SHA1 tag; both have a 16-byte key and a 14-byte salt. */
typedef enum {
    SDES_NONE = 0,
    SDES_AES_CM_128_HMAC_SHA1_80,
    SDES_AES_CM_128_HMAC_SHA1_32,
} sdes_suite;

#define SDES_KEY_LEN 30   /* master key (16) + master salt (14) */

typedef struct sdes_crypto {
    unsigned tag;                  /* 1-999999999 */
    sdes_suite suite;
    uint8_t key[SDES_KEY_LEN];
} sdes_crypto;

typedef enum {
    SDES_OK = 0,
    SDES_MALFORMED = -1,    /* not RFC 4568's grammar, or a key that is not 30 bytes of base64 */
    SDES_UNSUPPORTED = -2,  /* well formed, but a suite, an MKI, several keys or a
                             * session parameter we do not implement */
} sdes_result;

/* VALUE (N bytes, not NUL-terminated: what follows "a=crypto:") into *OUT.
 * A lifetime is accepted and ignored (we never rekey: libsrtp2 stops a
 * stream at 2^48 packets, far past a call); an MKI, more than one key or
 * any session parameter makes the line unsupported. */
sdes_result sdes_parse(const char *value, size_t n, sdes_crypto *out);
const char *sdes_suite_name(sdes_suite s);
/* A fresh key for SUITE with TAG (from getrandom). 0, or -1 when the
 * kernel gave no randomness. */
int sdes_new_key(sdes_crypto *out, unsigned tag, sdes_suite suite);
/* "a=crypto:TAG SUITE inline:KEY\r\n" into BUF; its length (0: no room). */
size_t sdes_format(char *buf, size_t size, const sdes_crypto *c);

/* Base64 (RFC 4648, with padding): strict, no blanks. Bytes decoded into
 * OUT (at most MAX), or -1. */
int sdes_base64_decode(const char *in, size_t n, uint8_t *out, size_t max);

#endif

/* sip_srtp_ossl.c — libsrtp2's AES-128 counter mode and HMAC-SHA1 on
 * OpenSSL's libcrypto instead of NSS, put in with libsrtp2's own
 * srtp_replace_cipher_type / srtp_replace_auth_type (docs/decisions/srtp.md,
 * "SRTP cost per packet grew with the calls").
 *
 * Why: Debian builds libsrtp2 on NSS, whose PKCS#11 layer made each packet
 * open and close a session, build a cipher context, look keys and
 * sessions up in hash chains and walk their attribute lists: over 5 KB of
 * NSS state per key, touched on every packet, and a cost per packet that
 * grew with the calls until the cache gave out. Here a context is one
 * EVP_CIPHER_CTX (the AES key schedule, made once per key) and one
 * EVP_MAC_CTX, and a packet costs a counter set, an AES-CTR pass and an
 * HMAC, whatever the number of calls.
 *
 * Only glue: the AES and the HMAC are OpenSSL's, and what libsrtp2 builds
 * on them (key derivation, the IV of each packet, replay, rollover, tags)
 * stays libsrtp2's. libsrtp2 refuses a replacement that fails its own
 * known-answer tests of the type it replaces (and ours: RFC 3711 B.2 for
 * AES-CM, RFC 2202 for HMAC-SHA1); refused, the NSS types stay. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#include "telephony/sip/sip_srtp_ossl.h"
#include "util/alloc.h"

/* ---- AES-128-ICM (RFC 3711 4.1.1) ---- */

/* The counter of a packet is the salt (14 bytes, then 2 zero bytes for the
 * block counter) XOR the IV libsrtp2 gives (SSRC and packet index). */
typedef struct icm_state {
    EVP_CIPHER_CTX *ctx;
    uint8_t salt[16];
} icm_state;

static const srtp_cipher_type_t ossl_aes_icm_128;

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    (void)tag_len;
    if (key_len != SRTP_AES_128_KEY_LEN + SRTP_SALT_LEN)
        return srtp_err_status_bad_param;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return srtp_err_status_alloc_fail;
    icm_state *st = cr_xcalloc(1, sizeof *st);
    st->ctx = ctx;
    srtp_cipher_t *c = cr_xcalloc(1, sizeof *c);
    c->type = &ossl_aes_icm_128;
    c->state = st;
    c->key_len = key_len;
    c->algorithm = SRTP_AES_ICM_128;
    *cp = c;
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c)
{
    icm_state *st = c->state;
    if (st) {
        EVP_CIPHER_CTX_free(st->ctx);
        OPENSSL_cleanse(st, sizeof *st);
        free(st);
    }
    free(c);
    return srtp_err_status_ok;
}

/* KEY: the 16-byte AES key, then the 14-byte salt. */
static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
    icm_state *st = state;
    memcpy(st->salt, key + SRTP_AES_128_KEY_LEN, SRTP_SALT_LEN);
    st->salt[14] = st->salt[15] = 0;
    if (EVP_EncryptInit_ex(st->ctx, EVP_aes_128_ctr(), NULL, key, NULL) != 1)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    (void)dir;   /* counter mode: the same both ways */
    icm_state *st = state;
    uint8_t counter[16];
    for (int i = 0; i < 16; i++)
        counter[i] = st->salt[i] ^ iv[i];
    /* the key schedule stays; only the counter (and the stream position) is reset */
    if (EVP_EncryptInit_ex(st->ctx, NULL, NULL, NULL, counter) != 1)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* In place. The block counter is the low 16 bits: 2^16 blocks (1 MB) at
 * most, far beyond a packet; OpenSSL's 128-bit increment is the same below. */
static srtp_err_status_t icm_encrypt(void *state, uint8_t *buf, unsigned int *len)
{
    icm_state *st = state;
    int out = 0;
    if (*len > 16u * 65536u || EVP_EncryptUpdate(st->ctx, buf, &out, buf, (int)*len) != 1 || (unsigned)out != *len)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* RFC 3711 B.2: the session key and salt, index 0; over zeros the
 * ciphertext is the keystream (its first two blocks). */
static const uint8_t icm_kat_key[30] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static uint8_t icm_kat_idx[16];
static const uint8_t icm_kat_plain[32];
static const uint8_t icm_kat_cipher[32] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab};
static const srtp_cipher_test_case_t icm_kat = {
    .key_length_octets = 30,
    .key = icm_kat_key,
    .idx = icm_kat_idx,
    .plaintext_length_octets = 32,
    .plaintext = icm_kat_plain,
    .ciphertext_length_octets = 32,
    .ciphertext = icm_kat_cipher,
};

static const srtp_cipher_type_t ossl_aes_icm_128 = {
    .alloc = icm_alloc,
    .dealloc = icm_dealloc,
    .init = icm_init,
    .encrypt = icm_encrypt,
    .decrypt = icm_encrypt,
    .set_iv = icm_set_iv,
    .description = SRTP_OSSL_AES_ICM_DESCRIPTION,
    .test_data = &icm_kat,
    .id = SRTP_AES_ICM_128,
};

/* ---- HMAC-SHA1 (RFC 2104), the tag libsrtp2 truncates ---- */

static EVP_MAC *hmac_mac;   /* fetched once: OpenSSL's HMAC */

typedef struct hmac_state {
    EVP_MAC_CTX *ctx;
} hmac_state;

static const srtp_auth_type_t ossl_hmac_sha1;

static srtp_err_status_t hmac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len)
{
    if (out_len < 0 || out_len > 20 || key_len < 0 || key_len > 64)
        return srtp_err_status_bad_param;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_mac);
    if (!ctx)
        return srtp_err_status_alloc_fail;
    hmac_state *st = cr_xcalloc(1, sizeof *st);
    st->ctx = ctx;
    srtp_auth_t *a = cr_xcalloc(1, sizeof *a);
    a->type = &ossl_hmac_sha1;
    a->state = st;
    a->out_len = out_len;
    a->key_len = key_len;
    a->prefix_len = 0;
    *ap = a;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_pointer_t a)
{
    hmac_state *st = a->state;
    if (st) {
        EVP_MAC_CTX_free(st->ctx);
        free(st);
    }
    free(a);
    return srtp_err_status_ok;
}

/* The key, once per stream; the context is then ready for a message. */
static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len)
{
    hmac_state *st = state;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(st->ctx, key, (size_t)key_len, params) != 1)
        return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

/* A new message with the same key (OpenSSL keeps the keyed state). */
static srtp_err_status_t hmac_start(void *state)
{
    hmac_state *st = state;
    return EVP_MAC_init(st->ctx, NULL, 0, NULL) == 1 ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *buf, int n)
{
    hmac_state *st = state;
    if (n < 0 || EVP_MAC_update(st->ctx, buf, (size_t)n) != 1)
        return srtp_err_status_auth_fail;
    return srtp_err_status_ok;
}

/* BUF's N bytes are the end of the message; the first TAG_LEN bytes of
 * the HMAC into TAG. */
static srtp_err_status_t hmac_compute(void *state, const uint8_t *buf, int n, int tag_len, uint8_t *tag)
{
    hmac_state *st = state;
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (tag_len < 0 || tag_len > 20 || hmac_update(state, buf, n) != srtp_err_status_ok ||
        EVP_MAC_final(st->ctx, md, &len, sizeof md) != 1 || len < (size_t)tag_len)
        return srtp_err_status_auth_fail;
    memcpy(tag, md, (size_t)tag_len);
    OPENSSL_cleanse(md, sizeof md);
    return srtp_err_status_ok;
}

/* RFC 2202, test case 1. */
static const uint8_t hmac_kat_key[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                         0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t hmac_kat_data[8] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
static const uint8_t hmac_kat_tag[20] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                         0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
static const srtp_auth_test_case_t hmac_kat = {
    .key_length_octets = 20,
    .key = hmac_kat_key,
    .data_length_octets = 8,
    .data = hmac_kat_data,
    .tag_length_octets = 20,
    .tag = hmac_kat_tag,
};

static const srtp_auth_type_t ossl_hmac_sha1 = {
    .alloc = hmac_alloc,
    .dealloc = hmac_dealloc,
    .init = hmac_init,
    .compute = hmac_compute,
    .update = hmac_update,
    .start = hmac_start,
    .description = SRTP_OSSL_HMAC_DESCRIPTION,
    .test_data = &hmac_kat,
    .id = SRTP_HMAC_SHA1,
};

/* ---- putting them in ---- */

bool srtp_ossl_install(void)
{
    /* hmac_start re-keys nothing: it relies on EVP_MAC_init with no key
     * restarting HMAC with the kept one, which OpenSSL does from 3.0.3
     * (before, only the first tag of a stream would be right, and a one-
     * message self-test would not see it). Older: NSS's types stay. */
    if (OpenSSL_version_num() < 0x30000030L)
        return false;
    if (!hmac_mac)
        hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!hmac_mac)
        return false;
    /* Both or neither would be neater, but each is checked on its own
     * (known answers) and either alone is correct beside the other's NSS. */
    bool cipher = srtp_replace_cipher_type(&ossl_aes_icm_128, SRTP_AES_ICM_128) == srtp_err_status_ok;
    bool auth = srtp_replace_auth_type(&ossl_hmac_sha1, SRTP_HMAC_SHA1) == srtp_err_status_ok;
    return cipher && auth;
}

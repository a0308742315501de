/* sip_sdes.c — RFC 4568 a=crypto lines: read from hostile SDP, written
 * for ours. Everything the grammar allows that we do not implement (MKI,
 * several keys, session parameters such as UNENCRYPTED_SRTP or KDR) makes
 * the line unsupported rather than half-understood: a key used with the
 * wrong parameters is audio nobody can decode, and RFC 4568 6.3 says a
 * parameter not understood rejects the line. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "telephony/sip/sip_sdes.h"

static const struct {
    const char *name;
    sdes_suite suite;
} suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", SDES_AES_CM_128_HMAC_SHA1_80},
    {"AES_CM_128_HMAC_SHA1_32", SDES_AES_CM_128_HMAC_SHA1_32},
};

const char *sdes_suite_name(sdes_suite s)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].suite == s)
            return suites[i].name;
    return "none";
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int sdes_base64_decode(const char *in, size_t n, uint8_t *out, size_t max)
{
    if (n % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64_value(c)) < 0)
                return -1;   /* a character after '=', or outside the alphabet */
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t bytes = 3 - (size_t)pad;
        if (o + bytes > max)
            return -1;
        for (size_t k = 0; k < bytes; k++)
            out[o++] = (uint8_t)(w >> (16 - 8 * k));
    }
    return (int)o;
}

static size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            w |= in[i + 2];
        out[o++] = alpha[(w >> 18) & 63];
        out[o++] = alpha[(w >> 12) & 63];
        out[o++] = i + 1 < n ? alpha[(w >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? alpha[w & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static bool is_wsp(char c) { return c == ' ' || c == '\t'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* lifetime = ["2^"] 1*DIGIT (RFC 4568 9.2) */
static bool lifetime_ok(const char *s, size_t n)
{
    if (n > 2 && s[0] == '2' && s[1] == '^') {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

sdes_result sdes_parse(const char *v, size_t n, sdes_crypto *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    /* tag = 1*9DIGIT */
    unsigned long tag = 0;
    while (i < n && is_digit(v[i]) && i < 9)
        tag = tag * 10 + (unsigned long)(v[i++] - '0');
    if (i == 0 || (i < n && !is_wsp(v[i])) || tag == 0)
        return SDES_MALFORMED;
    out->tag = (unsigned)tag;
    while (i < n && is_wsp(v[i]))
        i++;
    /* crypto-suite = 1*(ALPHA / DIGIT / "_") */
    size_t s0 = i;
    while (i < n && !is_wsp(v[i]))
        i++;
    size_t slen = i - s0;
    if (slen == 0 || i == n)
        return SDES_MALFORMED;
    for (size_t k = 0; k < sizeof suites / sizeof suites[0]; k++)
        if (strlen(suites[k].name) == slen && memcmp(suites[k].name, v + s0, slen) == 0)
            out->suite = suites[k].suite;
    while (i < n && is_wsp(v[i]))
        i++;
    /* key-params: "inline:" key-salt ["|" lifetime] ["|" mki] */
    size_t k0 = i;
    while (i < n && !is_wsp(v[i]))
        i++;
    size_t kend = i;
    while (i < n && is_wsp(v[i]))
        i++;
    if (kend - k0 < 7 || memcmp(v + k0, "inline:", 7) != 0)
        return SDES_MALFORMED;
    const char *kp = v + k0 + 7;
    size_t kn = kend - k0 - 7;
    if (memchr(kp, ';', kn))
        return out->suite ? SDES_UNSUPPORTED : SDES_MALFORMED;   /* several keys */
    const char *bar = memchr(kp, '|', kn);
    size_t keylen = bar ? (size_t)(bar - kp) : kn;
    uint8_t key[SDES_KEY_LEN + 3];
    if (sdes_base64_decode(kp, keylen, key, sizeof key) != SDES_KEY_LEN)
        return SDES_MALFORMED;
    bool mki = false;
    while (bar) {
        const char *f = bar + 1, *end = kp + kn;
        bar = memchr(f, '|', (size_t)(end - f));
        size_t fl = (size_t)((bar ? bar : end) - f);
        if (memchr(f, ':', fl))
            mki = true;          /* mki-value ":" mki-length */
        else if (!lifetime_ok(f, fl))
            return SDES_MALFORMED;
    }
    memcpy(out->key, key, SDES_KEY_LEN);
    if (!out->suite || mki || i < n)   /* i < n: session parameters follow */
        return SDES_UNSUPPORTED;
    return SDES_OK;
}

int sdes_new_key(sdes_crypto *out, unsigned tag, sdes_suite suite)
{
    memset(out, 0, sizeof *out);
    out->tag = tag;
    out->suite = suite;
    size_t got = 0;
    while (got < SDES_KEY_LEN) {
        ssize_t r = getrandom(out->key + got, SDES_KEY_LEN - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

size_t sdes_format(char *buf, size_t size, const sdes_crypto *c)
{
    char key[SDES_KEY_LEN * 4 / 3 + 4];
    base64_encode(c->key, SDES_KEY_LEN, key);
    int n = snprintf(buf, size, "a=crypto:%u %s inline:%s\r\n", c->tag, sdes_suite_name(c->suite), key);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

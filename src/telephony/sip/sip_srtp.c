/* sip_srtp.c — SRTP for RTP sessions (docs/decisions/srtp.md): the libsrtp2
 * contexts made from the SDES keys (RFC 4568) the SDP exchanged, and the
 * protect/unprotect steps sip_rtp.c calls on its packet path. Apart from
 * sip_rtp.c because it is the one place that knows libsrtp2 and keys; the
 * sockets, the source check and the relay know only "seal this" and "open
 * this". */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nss.h>
#include <srtp2/srtp.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_rtp_sess.h"
#include "telephony/sip/sip_srtp_ossl.h"
#include "util/alloc.h"

/* A session's SRTP, made with its first keys (rtp_set_srtp): received
 * packets are decrypted (in) before anything reads them, sent ones
 * encrypted (out) last. The keys, to tell a new SDP's from the same. */
struct sess_srtp {
    srtp_t in, out;
    sdes_crypto tx_key, rx_key;
    uint32_t out_ssrc[SRTP_OUT_SSRCS];   /* network order; the streams OUT holds */
    unsigned out_n, out_next;
};

/* NSS under libsrtp2 (Debian builds libsrtp2 on NSS): each libsrtp2
 * cipher and HMAC calls NSS_InitContext with NSS_INIT_OPTIMIZESPACE, and
 * the first call sets up NSS's softoken for good; "optimizeSpace" gives it
 * 32 buckets for its PKCS#11 sessions and 32 for its session objects
 * (keys), instead of 1,024. An SRTP context holds 4 keys and ~7 sessions,
 * and every packet opens a session (AES-CTR) and looks its keys and
 * sessions up in those chains: at 1,000 calls they are hundreds long, and
 * the cost of a packet grew with the number of calls (perf: the softoken's
 * hash-chain walks; docs/decisions/srtp.md, "SRTP cost per packet grew
 * with the calls"). Initialised here first, without that flag, NSS keeps
 * our parameters (later NSS_InitContext calls only count references); the
 * context is never shut down: libsrtp2 needs NSS for the process's life. */
static NSSInitContext *nss_ctx;

#define NSS_FLAGS (NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB | NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT)

static bool on_openssl;   /* libsrtp2's AES-ICM and HMAC-SHA1 are sip_srtp_ossl.c's */

/* libsrtp2 wants one srtp_init per process, before the first context.
 * Then its AES-CM and HMAC-SHA1 are moved off NSS onto OpenSSL
 * (sip_srtp_ossl.c): even with NSS's tables sized, its per-key state and
 * per-packet PKCS#11 sessions made a packet cost ~2.5x more at 1,000 calls
 * than at 250. NSS stays set up as above for what libsrtp2 still asks of
 * it, and in case OpenSSL's types are refused. */
bool rtp_srtp_init(void)
{
    static bool srtp_ready;
    if (srtp_ready)
        return true;
    if (!nss_ctx)
        nss_ctx = NSS_InitContext("", "", "", "", NULL, NSS_FLAGS);   /* NULL: libsrtp2 sets NSS up its own way */
    srtp_ready = srtp_init() == srtp_err_status_ok;   /* once per process */
    if (srtp_ready)
        on_openssl = srtp_ossl_install();
    return srtp_ready;
}

const char *rtp_srtp_backend(void)
{
    return on_openssl ? "openssl" : "nss";
}

void sess_srtp_off(rtp_sess *s)
{
    struct sess_srtp *x = s->srtp;
    if (!x)
        return;
    if (x->in)
        srtp_dealloc(x->in);
    if (x->out)
        srtp_dealloc(x->out);
    free(x);
    s->srtp = NULL;
}

static srtp_t srtp_make(const sdes_crypto *k, srtp_ssrc_type_t type)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (k->suite == SDES_AES_CM_128_HMAC_SHA1_32)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
    else
        srtp_crypto_policy_set_rtp_default(&p.rtp);   /* AES_CM_128_HMAC_SHA1_80 */
    /* No SRTCP keys: we never protect or unprotect RTCP (SRTCP from a muxing
     * peer is discarded by its clear header, docs/decisions/srtp.md), and
     * RTCP keys would double what each context holds in NSS (2 more keys,
     * their PKCS#11 sessions and an HMAC context). Process SRTCP one day:
     * srtp_crypto_policy_set_rtcp_default here (80-bit tag, RFC 4568 6.2.2). */
    srtp_crypto_policy_set_null_cipher_hmac_null(&p.rtcp);
    p.ssrc.type = type;
    p.key = (unsigned char *)k->key;
    p.window_size = 128;
    srtp_t ctx = NULL;
    return srtp_create(&ctx, &p) == srtp_err_status_ok ? ctx : NULL;
}

/* The same key: suite and key bytes (not the tag, not the padding). */
static bool same_key(const sdes_crypto *a, const sdes_crypto *b)
{
    return a->suite == b->suite && memcmp(a->key, b->key, sizeof a->key) == 0;
}

int rtp_set_srtp(rtp_sess *s, const sdes_crypto *tx, const sdes_crypto *rx)
{
    if (!tx || !rx) {
        sess_srtp_off(s);
        return 0;
    }
    /* Each direction is rebuilt only when its own key changed (a re-INVITE
     * with the peer's new key keeps our outbound stream, whose rollover
     * counter must go on: a context started again with the same key would
     * encrypt with keystream already used). */
    if (!s->srtp)
        s->srtp = cr_xcalloc(1, sizeof *s->srtp);
    struct sess_srtp *x = s->srtp;
    if (!x->out || !same_key(tx, &x->tx_key)) {
        if (x->out)
            srtp_dealloc(x->out);
        x->out_n = x->out_next = 0;
        x->out = srtp_make(tx, ssrc_any_outbound);
        x->tx_key = *tx;
    }
    if (!x->in || !same_key(rx, &x->rx_key)) {
        if (x->in)
            srtp_dealloc(x->in);
        x->in = srtp_make(rx, ssrc_any_inbound);
        x->rx_key = *rx;
    }
    if (!x->out || !x->in) {
        sess_srtp_off(s);
        return -1;
    }
    return 0;
}

bool rtp_srtp(const rtp_sess *s) { return s->srtp != NULL; }
unsigned long rtp_srtp_failed(const rtp_sess *s) { return s->srtp_failed; }

/* PKT (*N bytes, room for SRTP_MAX_TRAILER_LEN more) encrypted in place
 * for S's peer when S is SRTP. false: not to be sent. */
bool sess_srtp_seal(rtp_sess *s, uint8_t *pkt, size_t *n)
{
    struct sess_srtp *x = s->srtp;
    if (!x)
        return true;
    uint32_t ssrc;
    memcpy(&ssrc, pkt + 8, 4);
    bool known = false;
    for (unsigned i = 0; i < x->out_n; i++)
        known = known || x->out_ssrc[i] == ssrc;
    if (!known) {
        if (x->out_n == SRTP_OUT_SSRCS) {   /* the oldest stream goes */
            srtp_remove_stream(x->out, x->out_ssrc[x->out_next]);
            x->out_ssrc[x->out_next] = ssrc;
            x->out_next = (x->out_next + 1) % SRTP_OUT_SSRCS;
        } else {
            x->out_ssrc[x->out_n++] = ssrc;
        }
    }
    int len = (int)*n;
    if (srtp_protect(x->out, pkt, &len) != srtp_err_status_ok)
        return false;
    *n = (size_t)len;
    return true;
}

/* PKT (*N bytes) from S's peer decrypted in place when S is SRTP.
 * false: it failed authentication, or replays. */
bool sess_srtp_open(rtp_sess *s, uint8_t *pkt, size_t *n)
{
    if (!s->srtp)
        return true;
    int len = (int)*n;
    if (srtp_unprotect(s->srtp->in, pkt, &len) != srtp_err_status_ok)
        return false;
    *n = (size_t)len;
    return true;
}

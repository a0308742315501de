/* rtpengine_ng.h — the few NG-protocol requests media_bench sends to
 * rtpengine to set up relayed calls: offer, answer, delete (bencoded
 * dictionaries over UDP, each prefixed by a cookie the reply repeats).
 *
 * Replies come from the network: every length is checked against the
 * datagram, nothing is trusted to be terminated, and a reply that does not
 * parse is an error, never a guess. Header-only (static functions): it is
 * used by bench/media_bench.c alone. */
#ifndef BENCH_RTPENGINE_NG_H
#define BENCH_RTPENGINE_NG_H

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NG_MAX 8192

typedef struct ng_client {
    int fd;
    struct sockaddr_in to;
    unsigned long cookie;
} ng_client;

/* ---- bencode: writing ---- */

typedef struct ng_buf {
    char b[NG_MAX];
    size_t n;
    bool full;
} ng_buf;

static void ng_raw(ng_buf *o, const char *s, size_t n)
{
    if (o->full || n > sizeof o->b - o->n) {
        o->full = true;
        return;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
}

static void ng_str(ng_buf *o, const char *s)
{
    char len[24];
    int k = snprintf(len, sizeof len, "%zu:", strlen(s));
    ng_raw(o, len, (size_t)k);
    ng_raw(o, s, strlen(s));
}

/* A dictionary of string values; KV: key, value, ..., NULL. bencode wants
 * the keys sorted: the callers list them in order. */
static void ng_dict(ng_buf *o, const char *const *kv)
{
    ng_raw(o, "d", 1);
    for (int i = 0; kv[i] && kv[i + 1]; i += 2) {
        ng_str(o, kv[i]);
        ng_str(o, kv[i + 1]);
    }
    ng_raw(o, "e", 1);
}

/* ---- bencode: reading ---- */

/* The end of the value at P (< END), or NULL if it is not well formed. */
static const char *ng_skip(const char *p, const char *end, int depth)
{
    if (p >= end || depth > 32)
        return NULL;
    if (*p == 'i') {
        const char *e = memchr(p, 'e', (size_t)(end - p));
        return e ? e + 1 : NULL;
    }
    if (*p == 'l' || *p == 'd') {
        p++;
        while (p < end && *p != 'e')
            if (!(p = ng_skip(p, end, depth + 1)))
                return NULL;
        return p < end ? p + 1 : NULL;
    }
    size_t len = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (len > NG_MAX)
            return NULL;
        len = len * 10 + (size_t)(*p++ - '0');
    }
    if (p >= end || *p != ':' || len > (size_t)(end - p - 1))
        return NULL;
    return p + 1 + len;
}

/* The string value of KEY in the top-level dictionary [P, END): its start
 * and length, or false. */
static bool ng_get(const char *p, const char *end, const char *key, const char **val, size_t *vlen)
{
    if (p >= end || *p != 'd')
        return false;
    p++;
    while (p < end && *p != 'e') {
        const char *k = p, *kend = ng_skip(p, end, 0);
        if (!kend || *k < '0' || *k > '9')
            return false;
        const char *colon = memchr(k, ':', (size_t)(kend - k));
        const char *v = kend, *vend = ng_skip(v, end, 0);
        if (!colon || !vend)
            return false;
        size_t klen = (size_t)(kend - colon - 1);
        if (klen == strlen(key) && memcmp(colon + 1, key, klen) == 0) {
            if (*v < '0' || *v > '9')
                return false;
            const char *vc = memchr(v, ':', (size_t)(vend - v));
            if (!vc)
                return false;
            *val = vc + 1;
            *vlen = (size_t)(vend - vc - 1);
            return true;
        }
        p = vend;
    }
    return false;
}

/* The port of the first "m=audio PORT " line of an SDP, or -1. */
static int ng_sdp_audio_port(const char *sdp, size_t n)
{
    static const char tag[] = "m=audio ";
    for (size_t i = 0; i + sizeof tag - 1 < n; i++) {
        if ((i == 0 || sdp[i - 1] == '\n') && memcmp(sdp + i, tag, sizeof tag - 1) == 0) {
            long port = 0;
            size_t j = i + sizeof tag - 1, digits = 0;
            for (; j < n && sdp[j] >= '0' && sdp[j] <= '9' && digits < 6; j++, digits++)
                port = port * 10 + (sdp[j] - '0');
            return digits && port > 0 && port < 65536 ? (int)port : -1;
        }
    }
    return -1;
}

/* ---- requests ---- */

static bool ng_open(ng_client *c, const char *hostport)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host)
        return false;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    long port = strtol(colon + 1, NULL, 10);
    memset(c, 0, sizeof *c);
    c->to.sin_family = AF_INET;
    c->to.sin_port = htons((uint16_t)port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &c->to.sin_addr) != 1)
        return false;
    c->fd = socket(AF_INET, SOCK_DGRAM, 0);
    return c->fd >= 0;
}

/* Sends the dictionary in MSG and waits for the reply with the same cookie
 * (2 s, three tries). The reply's dictionary goes to OUT (NG_MAX bytes);
 * returns its length, or -1. */
static int ng_call(ng_client *c, const ng_buf *msg, char *out)
{
    if (msg->full)
        return -1;
    char pkt[NG_MAX + 32], cookie[24], in[NG_MAX + 32];
    int cl = snprintf(cookie, sizeof cookie, "mb%lu ", ++c->cookie);
    memcpy(pkt, cookie, (size_t)cl);
    memcpy(pkt + cl, msg->b, msg->n);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (sendto(c->fd, pkt, (size_t)cl + msg->n, 0, (struct sockaddr *)&c->to, sizeof c->to) < 0)
            return -1;
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        while (poll(&pf, 1, 2000) > 0) {
            ssize_t n = recv(c->fd, in, sizeof in, 0);
            if (n < cl || memcmp(in, cookie, (size_t)cl) != 0)
                continue;   /* a late reply to an earlier try */
            if ((size_t)(n - cl) > NG_MAX)
                return -1;
            memcpy(out, in + cl, (size_t)(n - cl));
            return (int)(n - cl);
        }
    }
    return -1;
}

/* One side's SDP: PCMU from ADDR (the generator's socket), over PROTO
 * ("RTP/AVP", or "RTP/SAVP" with EXTRA = its a=crypto line; EXTRA may be ""). */
static void ng_sdp(char *sdp, size_t n, const struct sockaddr_in *addr, const char *proto, const char *extra)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof ip);
    snprintf(sdp, n,
             "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
             "m=audio %u %s 0\r\na=rtpmap:0 PCMU/8000\r\n%sa=sendrecv\r\n",
             ip, ip, ntohs(addr->sin_port), proto, extra);
}

/* offer (KIND "offer", no to-tag) or answer: the port rtpengine gives the
 * other side in its rewritten SDP, or -1 (WHY says what went wrong).
 * TRANSPORT (NULL: as offered): the offer's "transport-protocol", the
 * protocol rtpengine speaks toward the other side (RTP/AVP there with
 * RTP/SAVP here: it decrypts one side and encrypts the other). OUT (OUT_N
 * bytes, may be NULL): the rewritten SDP, NUL-terminated. */
static int ng_offer_answer_sdp(ng_client *c, const char *kind, const char *call_id, const char *sdp,
                               const char *transport, char *out, size_t out_n, const char **why)
{
    ng_buf m = {0};
    bool answer = strcmp(kind, "answer") == 0;
    /* bencode's keys in order; the optional ones last */
    const char *kv[14] = {"call-id", call_id, "command", kind, "from-tag", "a", "sdp", sdp};
    int k = 8;
    if (answer)
        kv[k++] = "to-tag", kv[k++] = "b";
    if (transport)
        kv[k++] = "transport-protocol", kv[k++] = transport;
    kv[k] = NULL;
    ng_dict(&m, kv);
    char r[NG_MAX];
    int n = ng_call(c, &m, r);
    const char *v;
    size_t vl;
    if (n < 0) {
        *why = "no reply";
        return -1;
    }
    if (!ng_get(r, r + n, "result", &v, &vl) || vl != 2 || memcmp(v, "ok", 2) != 0) {
        *why = "refused";
        return -1;
    }
    if (!ng_get(r, r + n, "sdp", &v, &vl)) {
        *why = "no SDP in the reply";
        return -1;
    }
    if (out) {
        if (vl >= out_n) {
            *why = "SDP too long";
            return -1;
        }
        memcpy(out, v, vl);
        out[vl] = 0;
    }
    int port = ng_sdp_audio_port(v, vl);
    if (port < 0)
        *why = "no audio port in the SDP";
    return port;
}

static bool ng_delete(ng_client *c, const char *call_id)
{
    ng_buf m = {0};
    const char *kv[] = {"call-id", call_id, "command", "delete", "from-tag", "a", NULL};
    ng_dict(&m, kv);
    char r[NG_MAX];
    const char *v;
    size_t vl;
    int n = ng_call(c, &m, r);
    return n >= 0 && ng_get(r, r + n, "result", &v, &vl) && vl == 2 && memcmp(v, "ok", 2) == 0;
}

#endif

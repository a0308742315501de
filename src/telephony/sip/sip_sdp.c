/* sip_sdp.c — SDP without NUA's offer/answer engine: media is anchored in
 * callroute, so each leg gets our own address and port; we read the
 * remote's with sofia-sip's SDP parser and write ours by hand (cheaper
 * than SOA, notes/sofia-sip.md; cheaper than snprintf, sip_sdp_build). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_string.h>

#include "telephony/sip/sip_int.h"
#include "util/alloc.h"

static const char *const mode_names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};


/* As snprintf(err, n, "%s", msg), without its cost: a parse sets the
 * error before it looks for a stream, on every call. */
static void set_err(char *err, size_t n, const char *msg)
{
    if (err && n) {
        size_t l = strnlen(msg, n - 1);
        memcpy(err, msg, l);
        err[l] = '\0';
    }
}

static sip_mode from_sdp_mode(unsigned m)
{
    switch (m) {
    case sdp_sendonly: return SDP_SENDONLY;
    case sdp_recvonly: return SDP_RECVONLY;
    case sdp_inactive: return SDP_INACTIVE;
    default: return SDP_SENDRECV;
    }
}

static bool sdp_token_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {   /* "-!#$%&'*+.^_`{|}~": a switch, not strchr per character */
    case '-': case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '.': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
        return true;
    default:
        return false;
    }
}

/* Debian 12's sofia-sip (1.12.11) loops on an m= line whose format list has
 * a format starting with a character outside token ("m=audio 1 X (", or
 * "m=audio 1X /Y": the port ends at the X, which becomes the proto): its
 * token() returns NULL without moving on, and parse_media allocates a list
 * item per turn until memory runs out: ~20 GB and a minute of the loop
 * thread per body. Fixed upstream in 2022 (freeswitch/sofia-sip a953f25),
 * not in Debian. So an m= line must be what RFC 4566 allows, read the way
 * sofia splits it: media token, port digits ["/" digits], proto of tokens
 * and '/', then format tokens, separated by spaces or tabs. A body with a
 * NUL (where sofia would silently cut it) is refused too. */
static size_t span_token(const char *s, size_t i, size_t e, bool slash)
{
    while (i < e && (sdp_token_char(s[i]) || (slash && s[i] == '/')))
        i++;
    return i;
}

static size_t span_blank(const char *s, size_t i, size_t e)
{
    while (i < e && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static size_t span_digits(const char *s, size_t i, size_t e)
{
    while (i < e && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* LINE[I..E) after "m=": true when it has the RFC 4566 shape. */
static bool media_line_ok(const char *s, size_t i, size_t e)
{
    size_t j = span_token(s, i, e, false);   /* media */
    if (j == i || (i = span_blank(s, j, e)) == j)
        return false;
    j = span_digits(s, i, e);                /* port ["/" number of ports] */
    if (j == i)
        return false;
    if (j < e && s[j] == '/') {
        i = j + 1;
        if ((j = span_digits(s, i, e)) == i)
            return false;
    }
    if ((i = span_blank(s, j, e)) == j)
        return false;
    if ((j = span_token(s, i, e, true)) == i)   /* proto */
        return false;
    while (j < e) {                          /* formats */
        if ((i = span_blank(s, j, e)) == j)
            return false;
        j = span_token(s, i, e, false);
        if (j == i && i < e)
            return false;
    }
    return true;
}

/* Where the line that starts at I ends: its first CR or LF, or LEN
 * (memchr, not a loop per byte). */
static size_t line_end(const char *s, size_t i, size_t len)
{
    const char *lf = memchr(s + i, '\n', len - i);
    size_t e = lf ? (size_t)(lf - s) : len;
    const char *cr = memchr(s + i, '\r', e - i);
    return cr ? (size_t)(cr - s) : e;
}

/* TEXT (LEN bytes) checked as sdp_media_lines_clean checks it: -1 when it
 * refuses it, 1 when an m= line ends with blanks (its cleaned copy
 * differs), 0 when the cleaned copy would be TEXT itself: the usual body,
 * parsed as it is, without the copy. */
static int sdp_media_lines_check(const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return -1;
    int trim = 0;
    for (size_t i = 0; i < len;) {
        size_t e = line_end(text, i, len);
        size_t k = span_blank(text, i, e), end = e;
        if (e - k >= 2 && text[k] == 'm' && text[k + 1] == '=') {
            while (end > k && (text[end - 1] == ' ' || text[end - 1] == '\t'))
                end--;
            if (!media_line_ok(text, k + 2, end))
                return -1;
            trim |= end < e;
        }
        i = e;
        while (i < len && (text[i] == '\r' || text[i] == '\n'))
            i++;
    }
    return trim;
}

/* TEXT as sofia may read it: a copy (LEN bytes, *OUTLEN after) with
 * blanks at the end of m= lines removed (after the proto sofia skips
 * spaces only: "RTP/X \t" or "RTP/X\t\t" leaves a tab for the format
 * loop), or NULL when an m= line is not RFC 4566's or TEXT has a NUL. */
static char *sdp_media_lines_clean(const char *text, size_t len, size_t *outlen)
{
    if (memchr(text, '\0', len))
        return NULL;
    char *out = cr_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\r' && text[e] != '\n')
            e++;
        size_t k = span_blank(text, i, e), end = e;
        if (e - k >= 2 && text[k] == 'm' && text[k + 1] == '=') {
            while (end > k && (text[end - 1] == ' ' || text[end - 1] == '\t'))
                end--;
            if (!media_line_ok(text, k + 2, end)) {
                free(out);
                return NULL;
            }
        }
        memcpy(out + n, text + i, end - i);
        n += end - i;
        size_t next = e;
        while (next < len && (text[next] == '\r' || text[next] == '\n'))
            next++;
        memcpy(out + n, text + e, next - e);   /* line ends as sent */
        n += next - e;
        i = next;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* TEXT (LEN > 0 bytes) parsed by sofia once cleaned
 * (sdp_media_lines_clean), or NULL when cleaning refuses it; sdp_session
 * of the parser says whether sofia read a session. */
static sdp_parser_t *sdp_parse_clean(const char *text, size_t len)
{
    int check = sdp_media_lines_check(text, len);
    if (check < 0)
        return NULL;
    if (check == 0)   /* nothing to clean: sdp_parse copies TEXT itself */
        return sdp_parse(NULL, text, (issize_t)len, sdp_f_c_missing);
    size_t clen;
    char *clean = sdp_media_lines_clean(text, len, &clen);
    if (!clean)
        return NULL;
    sdp_parser_t *p = sdp_parse(NULL, clean, (issize_t)clen, sdp_f_c_missing);
    free(clean);   /* sdp_parse works on its own copy */
    return p;
}

bool sip_sdp_well_formed(const char *text, size_t len)
{
    sdp_parser_t *p = text && len ? sdp_parse_clean(text, len) : NULL;
    bool ok = p && sdp_session(p) != NULL;
    sdp_parser_free(p);
    return ok;
}

int sip_sdp_parse(const char *text, size_t len, sip_media_desc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->te_pt = -1;
    out->addr.sin_family = AF_INET;
    if (!text || len == 0) {
        set_err(err, errlen, "no SDP");
        return -1;
    }
    sdp_parser_t *p = sdp_parse_clean(text, len);
    if (!p) {
        set_err(err, errlen, "m= line with characters outside RFC 4566 tokens, or a NUL");
        return -1;
    }
    sdp_session_t *s = sdp_session(p);
    if (!s) {
        set_err(err, errlen, sdp_parsing_error(p));
        sdp_parser_free(p);
        return -1;
    }
    int rc = -1;
    set_err(err, errlen, "no RTP/AVP audio stream with PCMU or PCMA");
    for (sdp_media_t *m = s->sdp_media; m; m = m->m_next) {
        if (m->m_type != sdp_media_audio || m->m_rejected ||
            (m->m_proto != sdp_proto_rtp && m->m_proto != sdp_proto_srtp))
            continue;
        for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
            if (rm->rm_rate != 8000 || !rm->rm_encoding)
                continue;
            if (su_casematch(rm->rm_encoding, "PCMU") || su_casematch(rm->rm_encoding, "PCMA")) {
                int pt = su_casematch(rm->rm_encoding, "PCMU") ? 0 : 8;
                bool seen = false;   /* each once: a list repeating them is the same offer */
                for (int i = 0; i < out->npt; i++)
                    seen = seen || out->pts[i] == pt;
                if (!seen && out->npt < (int)(sizeof out->pts / sizeof out->pts[0]))
                    out->pts[out->npt++] = pt;
            } else if (su_casematch(rm->rm_encoding, "telephone-event") && out->te_pt < 0 &&
                       rm->rm_pt != 0 && rm->rm_pt != 8) {
                /* not on G.711's static types: every audio packet would be
                 * taken for an event */
                out->te_pt = rm->rm_pt;
            }
        }
        if (out->npt == 0)
            continue;
        sdp_connection_t *c = sdp_media_connections(m);
        if (!c || !c->c_address || c->c_addrtype != sdp_addr_ip4 ||
            inet_pton(AF_INET, c->c_address, &out->addr.sin_addr) != 1) {
            set_err(err, errlen, "audio stream without an IPv4 address");
            out->npt = 0;
            break;
        }
        /* Where we would send RTP: one unicast host. A multicast or
         * broadcast group would make us spray a call's audio (or a flood
         * relayed through us) at a whole network. */
        uint32_t host = ntohl(out->addr.sin_addr.s_addr);
        if (IN_MULTICAST(host) || host == INADDR_BROADCAST || c->c_mcast) {
            set_err(err, errlen, "audio stream with a multicast or broadcast address");
            out->npt = 0;
            break;
        }
        /* m_port is an unsigned long from the text: 65536 must not wrap
         * to 0 (nor 65537 to 1) on the way into sin_port. Port 0 is a
         * rejected stream, skipped above. */
        if (m->m_port < 1 || m->m_port > 65535) {
            set_err(err, errlen, "audio port outside 1-65535");
            out->npt = 0;
            break;
        }
        out->null_addr = host == 0;
        out->addr.sin_port = htons((uint16_t)m->m_port);
        out->mode = from_sdp_mode(m->m_mode);
        out->rtcp_mux = sdp_attribute_find(m->m_attributes, "rtcp-mux") != NULL;
        out->savp = m->m_proto == sdp_proto_srtp;
        /* a=crypto lines (RFC 4568): the ones we support, in the offer's
         * order; malformed or unsupported ones are skipped (a peer may
         * offer suites we do not know beside ones we do). */
        for (sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
            if (!a->a_name || !su_casematch(a->a_name, "crypto") || !a->a_value ||
                out->ncrypto >= (int)(sizeof out->crypto / sizeof out->crypto[0]))
                continue;
            if (sdes_parse(a->a_value, strlen(a->a_value), &out->crypto[out->ncrypto]) == SDES_OK)
                out->ncrypto++;
        }
        rc = 0;
        break;
    }
    sdp_parser_free(p);
    return rc;
}

bool sip_sdp_is_hold(const sip_media_desc *m)
{
    return m->null_addr || m->mode == SDP_SENDONLY || m->mode == SDP_INACTIVE;
}

bool sip_sdp_rtcp_mux(bool offer, const sip_media_desc *remote)
{
    return offer || (remote && remote->rtcp_mux);
}

bool sip_sdp_rtcp_mux_kept(bool offer, const sip_remote_media *remote)
{
    return offer || (remote && remote->rtcp_mux);
}

void sip_remote_media_keep(sip_remote_media *out, const sip_media_desc *m)
{
    out->mode = m->mode;
    out->te_pt = m->te_pt;
    out->null_addr = m->null_addr;
    out->rtcp_mux = m->rtcp_mux;
}

/* An SDP body is built on every offer and answer (twice a call at least):
 * appended by hand, not by snprintf, which cost ~15,000 instructions a call
 * here (docs/decisions/sip-core.md, "CPU per call, cut"). Truncates like
 * snprintf: LEN counts what would have been written. */
typedef struct {
    char *buf;
    size_t size, len;
} sdp_out;

static void out_mem(sdp_out *o, const char *s, size_t n)
{
    if (o->size > 0 && o->len < o->size - 1) {
        size_t room = o->size - 1 - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
        o->buf[o->len + (n < room ? n : room)] = '\0';
    }
    o->len += n;
}

static void out_str(sdp_out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void out_num(sdp_out *o, unsigned long v)
{
    char d[24];
    size_t i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    out_mem(o, d + i, sizeof d - i);
}

/* An int as %d prints it. */
static void out_int(sdp_out *o, int v)
{
    if (v < 0) {
        out_mem(o, "-", 1);
        out_num(o, (unsigned long)-(long)v);
    } else {
        out_num(o, (unsigned long)v);
    }
}

size_t sip_sdp_build(char *buf, size_t size, const char *ip, int port, unsigned long sess,
                     unsigned ver, const int *pts, int npt, int te_pt, sip_mode mode, bool rtcp_mux,
                     bool savp, const sdes_crypto *crypto)
{
    char cline[128] = "";
    if (crypto && !sdes_format(cline, sizeof cline, crypto))
        return 0;
    sdp_out o = {buf, size, 0};
    if (size > 0)
        buf[0] = '\0';
    out_str(&o, "v=0\r\no=callroute ");
    out_num(&o, sess);
    out_mem(&o, " ", 1);
    out_num(&o, ver);
    out_str(&o, " IN IP4 ");
    out_str(&o, ip);
    out_str(&o, "\r\ns=callroute\r\nc=IN IP4 ");
    out_str(&o, ip);
    out_str(&o, "\r\nt=0 0\r\nm=audio ");
    out_int(&o, port);
    out_str(&o, savp ? " RTP/SAVP" : " RTP/AVP");
    for (int i = 0; i < npt; i++) {
        out_mem(&o, " ", 1);
        out_int(&o, pts[i]);
    }
    if (te_pt >= 0) {
        out_mem(&o, " ", 1);
        out_int(&o, te_pt);
    }
    out_str(&o, "\r\n");
    for (int i = 0; i < npt; i++) {
        out_str(&o, "a=rtpmap:");
        out_int(&o, pts[i]);
        out_str(&o, pts[i] == 0 ? " PCMU/8000\r\n" : " PCMA/8000\r\n");
    }
    if (te_pt >= 0) {
        out_str(&o, "a=rtpmap:");
        out_int(&o, te_pt);
        out_str(&o, " telephone-event/8000\r\na=fmtp:");
        out_int(&o, te_pt);
        out_str(&o, " 0-16\r\n");
    }
    out_str(&o, "a=ptime:20\r\n");
    if (rtcp_mux)
        out_str(&o, "a=rtcp-mux\r\n");
    out_str(&o, cline);
    out_str(&o, "a=");
    out_str(&o, mode_names[mode]);
    out_str(&o, "\r\n");
    return o.len >= size ? size - 1 : o.len;
}

sip_srtp_use sip_srtp_offer_use(cfg_srtp policy, const sip_media_desc *m, const sdes_crypto **chosen)
{
    *chosen = NULL;
    if (policy == CFG_SRTP_OPTIONAL || policy == CFG_SRTP_REQUIRED) {
        if (m->ncrypto > 0) {
            *chosen = &m->crypto[0];   /* the offerer's preference */
            return SIP_SRTP_ON;
        }
        return policy == CFG_SRTP_REQUIRED || m->savp ? SIP_SRTP_REFUSE : SIP_SRTP_PLAIN;
    }
    /* off: crypto offered beside plain RTP (RTP/AVP) is ignored; an
     * RTP/SAVP offer cannot be answered with plain RTP (RFC 4568 7.1.1). */
    return m->savp ? SIP_SRTP_REFUSE : SIP_SRTP_PLAIN;
}

sip_srtp_use sip_srtp_answer_use(cfg_srtp policy, const sdes_crypto *offered, const sip_media_desc *m,
                                 const sdes_crypto **chosen)
{
    *chosen = NULL;
    if (offered)
        for (int i = 0; i < m->ncrypto; i++)
            if (m->crypto[i].tag == offered->tag && m->crypto[i].suite == offered->suite) {
                *chosen = &m->crypto[i];
                return SIP_SRTP_ON;
            }
    if (m->savp || (offered && policy == CFG_SRTP_REQUIRED))
        return SIP_SRTP_REFUSE;
    return SIP_SRTP_PLAIN;
}

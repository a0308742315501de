/* sip_sdp.c — SDP without NUA's offer/answer engine: media is anchored in
 * callroute, so each leg gets our own address and port; we read the
 * remote's with sofia-sip's SDP parser and write ours with one snprintf
 * (cheaper than SOA, notes/sofia-sip.md). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_string.h>

#include "telephony/sip/sip_int.h"

static const char *const mode_names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};

const char *sip_mode_name(sip_mode m) { return mode_names[m]; }

static void set_err(char *err, size_t n, const char *msg)
{
    if (err && n)
        snprintf(err, n, "%s", msg);
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
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-!#$%&'*+.^_`{|}~", c));
}

/* Debian 12's sofia-sip (1.12.11) loops on an m= line whose format list has
 * a format starting with a character outside token ("m=audio 1 X (": its
 * token() returns NULL without moving on, and parse_media allocates a list
 * item per turn until memory runs out: ~20 GB and a minute of the loop
 * thread per body). Fixed upstream in 2022 (freeswitch/sofia-sip a953f25),
 * not in Debian. RFC 4566 allows only tokens there (media SP port SP proto
 * *(SP fmt), proto and port with '/'), so such a body is refused before
 * sofia reads it; so is a NUL, where sofia would silently cut the body. */
static bool sdp_media_lines_sane(const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return false;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\r' && text[e] != '\n')
            e++;
        size_t k = i;
        while (k < e && (text[k] == ' ' || text[k] == '\t'))
            k++;
        if (e - k >= 2 && text[k] == 'm' && text[k + 1] == '=') {
            int field = 0;
            bool in = false;
            for (k += 2; k < e; k++) {
                char c = text[k];
                if (c == ' ' || c == '\t') {
                    field += in;
                    in = false;
                } else if (sdp_token_char(c) || (c == '/' && field < 3)) {
                    in = true;
                } else {
                    return false;
                }
            }
        }
        i = e + 1;
    }
    return true;
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
    if (!sdp_media_lines_sane(text, len)) {
        set_err(err, errlen, "m= line with characters outside RFC 4566 tokens, or a NUL");
        return -1;
    }
    sdp_parser_t *p = sdp_parse(NULL, text, (issize_t)len, sdp_f_c_missing);
    sdp_session_t *s = sdp_session(p);
    if (!s) {
        set_err(err, errlen, sdp_parsing_error(p));
        sdp_parser_free(p);
        return -1;
    }
    int rc = -1;
    set_err(err, errlen, "no RTP/AVP audio stream with PCMU or PCMA");
    for (sdp_media_t *m = s->sdp_media; m; m = m->m_next) {
        if (m->m_type != sdp_media_audio || m->m_proto != sdp_proto_rtp || m->m_rejected)
            continue;
        for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
            if (rm->rm_rate != 8000 || !rm->rm_encoding)
                continue;
            if ((su_casematch(rm->rm_encoding, "PCMU") || su_casematch(rm->rm_encoding, "PCMA")) &&
                out->npt < (int)(sizeof out->pts / sizeof out->pts[0]))
                out->pts[out->npt++] = su_casematch(rm->rm_encoding, "PCMU") ? 0 : 8;
            else if (su_casematch(rm->rm_encoding, "telephone-event") && out->te_pt < 0)
                out->te_pt = rm->rm_pt;
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

size_t sip_sdp_build(char *buf, size_t size, const char *ip, int port, unsigned long sess,
                     unsigned ver, const int *pts, int npt, int te_pt, sip_mode mode)
{
    char fmts[64] = "", maps[256] = "";
    size_t fl = 0, ml = 0;
    for (int i = 0; i < npt; i++) {
        fl += (size_t)snprintf(fmts + fl, sizeof fmts - fl, " %d", pts[i]);
        ml += (size_t)snprintf(maps + ml, sizeof maps - ml, "a=rtpmap:%d %s/8000\r\n", pts[i],
                               pts[i] == 0 ? "PCMU" : "PCMA");
    }
    if (te_pt >= 0) {
        fl += (size_t)snprintf(fmts + fl, sizeof fmts - fl, " %d", te_pt);
        ml += (size_t)snprintf(maps + ml, sizeof maps - ml,
                               "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", te_pt, te_pt);
    }
    int n = snprintf(buf, size,
                     "v=0\r\n"
                     "o=callroute %lu %u IN IP4 %s\r\n"
                     "s=callroute\r\n"
                     "c=IN IP4 %s\r\n"
                     "t=0 0\r\n"
                     "m=audio %d RTP/AVP%s\r\n"
                     "%s"
                     "a=ptime:20\r\n"
                     "a=%s\r\n",
                     sess, ver, ip, ip, port, fmts, maps, mode_names[mode]);
    return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

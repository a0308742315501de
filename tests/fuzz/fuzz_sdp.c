/* fuzz_sdp.c — libFuzzer target for the SDP callroute reads from offers
 * and answers (src/telephony/sip/sip_sdp.c sip_sdp_parse, over sofia-sip's
 * SDP parser). Whatever the body: no crash or leak; when it is usable, the
 * result is one we can send RTP to (G.711 payload types in range, a unicast
 * IPv4 address, a port in 1-65535, a telephone-event type that fits RTP's 7
 * bits, a=crypto keys of a suite we implement) and our own SDP built from it
 * (with its first crypto line) reads back the same. The RFC 4568 line
 * parser is also fed the raw input on its own. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_int.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sdes_crypto one;
    sdes_result r = sdes_parse((const char *)data, size, &one);
    check(r == SDES_OK || r == SDES_MALFORMED || r == SDES_UNSUPPORTED);
    if (r == SDES_OK) {
        char line[128];
        size_t ln = sdes_format(line, sizeof line, &one);
        sdes_crypto again;   /* what we write reads back the same */
        check(ln > 12 && sdes_parse(line + 9, ln - 11, &again) == SDES_OK &&
              memcmp(&again, &one, sizeof one) == 0);
    }

    sip_media_desc m;
    char err[128];
    if (sip_sdp_parse((const char *)data, size, &m, err, sizeof err) < 0) {
        check(memchr(err, '\0', sizeof err) != NULL);
        return 0;
    }
    check(m.npt >= 1 && m.npt <= (int)(sizeof m.pts / sizeof m.pts[0]));
    for (int i = 0; i < m.npt; i++)
        check(m.pts[i] == 0 || m.pts[i] == 8);
    check(m.te_pt >= -1 && m.te_pt <= 127);
    check(ntohs(m.addr.sin_port) >= 1);
    uint32_t host = ntohl(m.addr.sin_addr.s_addr);
    check(!IN_MULTICAST(host) && host != INADDR_BROADCAST);
    check(m.null_addr == (host == 0));
    check(m.mode <= SDP_INACTIVE);
    check(m.ncrypto >= 0 && m.ncrypto <= 4);
    for (int i = 0; i < m.ncrypto; i++)
        check(m.crypto[i].tag >= 1 && (m.crypto[i].suite == SDES_AES_CM_128_HMAC_SHA1_80 ||
                                       m.crypto[i].suite == SDES_AES_CM_128_HMAC_SHA1_32));

    char ip[INET_ADDRSTRLEN], buf[1024];
    inet_ntop(AF_INET, &m.addr.sin_addr, ip, sizeof ip);
    size_t n = sip_sdp_build(buf, sizeof buf, ip, ntohs(m.addr.sin_port), 1, 1, m.pts, m.npt,
                             m.te_pt, m.mode, m.rtcp_mux, m.savp, m.ncrypto ? &m.crypto[0] : NULL);
    sip_media_desc back;
    check(n > 0 && sip_sdp_parse(buf, n, &back, err, sizeof err) == 0);
    check(back.npt == m.npt && memcmp(back.pts, m.pts, sizeof m.pts[0] * (size_t)m.npt) == 0);
    check(back.addr.sin_addr.s_addr == m.addr.sin_addr.s_addr && back.addr.sin_port == m.addr.sin_port);
    check(back.te_pt == m.te_pt && back.mode == m.mode && back.rtcp_mux == m.rtcp_mux);
    check(back.savp == m.savp && back.ncrypto == (m.ncrypto ? 1 : 0));
    check(!m.ncrypto || memcmp(&back.crypto[0], &m.crypto[0], sizeof m.crypto[0]) == 0);
    return 0;
}

/* rtp_packet.c — RTP header and RFC 4733 event parsing (rtp_packet.h).
 * Every length read from the packet is checked against what was received
 * before it is used: the CSRC count, the extension length and the padding
 * count all come from the network. */
#include "telephony/sip/rtp_packet.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

rtp_pkt_status rtp_hdr_decode(rtp_hdr *h, const uint8_t *buf, size_t n)
{
    if (!buf || n < RTP_HDR_MIN)
        return RTP_PKT_SHORT;
    if ((buf[0] >> 6) != 2)
        return RTP_PKT_VERSION;
    h->cc = buf[0] & 0x0f;
    h->marker = (buf[1] & 0x80) != 0;
    h->pt = buf[1] & 0x7f;
    h->seq = be16(buf + 2);
    h->ts = be32(buf + 4);
    h->ssrc = be32(buf + 8);
    size_t hl = RTP_HDR_MIN + 4u * h->cc;
    if (hl > n)
        return RTP_PKT_SHORT;
    h->ext = (buf[0] & 0x10) != 0;
    if (h->ext) {
        /* 16 bits "defined by profile", 16 bits length in 32-bit words */
        if (n - hl < 4)
            return RTP_PKT_SHORT;
        size_t words = be16(buf + hl + 2);
        hl += 4;
        if (words > (n - hl) / 4)
            return RTP_PKT_SHORT;
        hl += 4 * words;
    }
    h->hdr_len = hl;
    h->pad_len = 0;
    if (buf[0] & 0x20) {
        /* The last octet counts the padding, itself included. */
        size_t pad = buf[n - 1];
        if (pad == 0 || pad > n - hl)
            return RTP_PKT_PADDING;
        h->pad_len = pad;
    }
    h->payload_len = n - hl - h->pad_len;
    return RTP_PKT_OK;
}

bool rtp_is_rtcp(const uint8_t *buf, size_t n)
{
    return buf && n >= 2 && (buf[0] >> 6) == 2 && buf[1] >= 192 && buf[1] <= 223;
}

int rtp_event_decode(rtp_event *e, const uint8_t *payload, size_t len)
{
    if (!payload || len < 4)
        return -1;
    e->event = payload[0];
    e->end = (payload[1] & 0x80) != 0;
    e->volume = payload[1] & 0x3f;
    e->duration = be16(payload + 2);
    return 0;
}

char rtp_event_digit(const rtp_event *e)
{
    static const char keys[] = "0123456789*#ABCD";
    return e->event < 16 ? keys[e->event] : 0;
}

/* rtp_packet.h — RTP packets as they come off the wire, parsed without
 * acting on them (like libre's rtp_hdr_decode): the fixed header, CSRCs,
 * the header extension and padding (RFC 3550 5.1, 5.3.1), and the RFC 4733
 * telephone-event payload. Pure functions on a buffer: no socket, no
 * session, no allocation (tests/unit/test_rtp_packet.c, tests/fuzz/fuzz_rtp.c).
 * sip_rtp.c acts on what they return. */
#ifndef RTP_PACKET_H
#define RTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_MIN 12

typedef enum {
    RTP_PKT_OK = 0,
    RTP_PKT_SHORT = -1,      /* under 12 bytes, or CSRCs/extension past the end */
    RTP_PKT_VERSION = -2,    /* not version 2 */
    RTP_PKT_PADDING = -3,    /* padding count 0 or larger than the payload */
} rtp_pkt_status;

typedef struct rtp_hdr {
    uint8_t pt;              /* payload type, 0-127 */
    bool marker;
    uint8_t cc;              /* CSRC count */
    uint16_t seq;
    uint32_t ts, ssrc;
    bool ext;                /* a header extension was present (and skipped) */
    size_t hdr_len;          /* bytes before the payload: fixed + CSRCs + extension */
    size_t payload_len;      /* the payload, padding removed */
    size_t pad_len;          /* padding bytes at the end (0: none) */
} rtp_hdr;

/* Decodes the N bytes at BUF; RTP_PKT_OK with *H filled, or why not (then
 * *H is unspecified). On success hdr_len + payload_len + pad_len == N. */
rtp_pkt_status rtp_hdr_decode(rtp_hdr *h, const uint8_t *buf, size_t n);

/* The N bytes at BUF are an RTCP packet (RFC 5761 4: version 2 and a second
 * octet of 192-223, the RTCP packet types; as RTP that would be payload
 * types 64-95 with the marker set, which RFC 5761 keeps out of muxed
 * sessions and we never negotiate). */
bool rtp_is_rtcp(const uint8_t *buf, size_t n);

/* RFC 4733 2.3: a named event (0-15: the DTMF keys 0-9 * # A-D). */
typedef struct rtp_event {
    uint8_t event;
    bool end;
    uint8_t volume;          /* 0-63, -dBm0 */
    uint16_t duration;       /* timestamp units */
} rtp_event;

/* 0 with *E filled, -1 when LEN < 4. */
int rtp_event_decode(rtp_event *e, const uint8_t *payload, size_t len);

/* The key of a DTMF event ("0123456789*#ABCD"), or 0 for any other event. */
char rtp_event_digit(const rtp_event *e);

#endif

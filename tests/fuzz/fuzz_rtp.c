/* fuzz_rtp.c — libFuzzer target for the RTP packet parser
 * (src/telephony/sip/rtp_packet.c), the code every UDP datagram on an RTP
 * port reaches: whatever the bytes, a decoded header's lengths add up to
 * the packet and never point past it, and an event payload decodes only
 * when it is there. The packet is copied to a buffer of exactly its size,
 * so ASan sees any read beyond it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/rtp_packet.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *pkt = malloc(size ? size : 1);
    if (!pkt)
        return 0;
    if (size)
        memcpy(pkt, data, size);
    rtp_hdr h;
    if (rtp_hdr_decode(&h, pkt, size) == RTP_PKT_OK) {
        check(size >= RTP_HDR_MIN);
        check(h.hdr_len >= RTP_HDR_MIN + 4u * h.cc && h.hdr_len <= size);
        check(h.hdr_len + h.payload_len + h.pad_len == size);
        check(h.pt < 128);
        check(h.pad_len == 0 || h.pad_len == pkt[size - 1]);
        /* what sip_rtp.c does next: read the payload, maybe as an event */
        unsigned sum = 0;
        for (size_t i = 0; i < h.payload_len; i++)
            sum += pkt[h.hdr_len + i];
        (void)sum;
        rtp_event ev;
        int rc = rtp_event_decode(&ev, pkt + h.hdr_len, h.payload_len);
        check((rc == 0) == (h.payload_len >= 4));
        if (rc == 0) {
            char d = rtp_event_digit(&ev);
            check((d != 0) == (ev.event < 16));
            check(ev.volume < 64);
        }
    }
    free(pkt);
    return 0;
}

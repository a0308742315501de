/* rtp_stats.c — RFC 3550 receive statistics for one stream (rtp_stats.h):
 * update_seq of appendix A.1 (without its probation: a call's media is
 * trusted from its first packet, the source check is sip_rtp.c's) and the
 * jitter estimate of A.8. */
#include "telephony/sip/rtp_stats.h"

#include <string.h>

#define SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

void rtp_rx_reset(rtp_rx_stats *s) { memset(s, 0, sizeof *s); }

static void init_seq(rtp_rx_stats *s, uint32_t ssrc, uint16_t seq)
{
    rtp_rx_reset(s);
    s->started = true;
    s->ssrc = ssrc;
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1;   /* so seq == bad_seq is false */
}

rtp_rx_result rtp_rx_packet(rtp_rx_stats *s, uint32_t ssrc, uint16_t seq)
{
    if (!s->started) {
        init_seq(s, ssrc, seq);
        s->received = 1;
        return RTP_RX_COUNTED;
    }
    if (ssrc != s->ssrc)
        return RTP_RX_NEW_STREAM;
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta < MAX_DROPOUT) {
        /* in order, with a permissible gap */
        if (seq < s->max_seq)
            s->cycles += SEQ_MOD;
        s->max_seq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        /* a very large jump: two sequential packets say the source restarted */
        if (seq == s->bad_seq)
            return RTP_RX_NEW_STREAM;
        s->bad_seq = (seq + 1u) & (SEQ_MOD - 1);
        return RTP_RX_IGNORED;
    }
    /* else a duplicate or a late packet: counted, max_seq stays */
    s->received++;
    return RTP_RX_COUNTED;
}

void rtp_rx_timing(rtp_rx_stats *s, uint32_t ts, uint32_t arrival)
{
    uint32_t transit = arrival - ts;
    if (s->timed > 0) {
        /* The difference of two 32-bit transits, as a signed number:
         * right across the wrap of either clock. */
        int32_t d = (int32_t)(transit - s->transit);
        double ad = d < 0 ? -(double)d : (double)d;
        s->jitter += (ad - s->jitter) / 16.0;
    }
    s->transit = transit;
    s->timed++;
}

uint64_t rtp_rx_expected(const rtp_rx_stats *s)
{
    if (!s->started)
        return 0;
    return (uint64_t)s->cycles + s->max_seq - s->base_seq + 1;
}

uint64_t rtp_rx_lost(const rtp_rx_stats *s)
{
    uint64_t e = rtp_rx_expected(s);
    return e > s->received ? e - s->received : 0;
}

double rtp_rx_jitter_seconds(const rtp_rx_stats *s, unsigned clock_rate)
{
    if (s->timed < 2 || clock_rate == 0)
        return -1;
    return s->jitter / clock_rate;
}
